package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	"github.com/partnerops/multichannel-operator/internal/decide"
)

// TestDevBringsSamplesToTheirPhases runs make dev's program: every sample
// reaches the phase its comment documents, and cancelling (Ctrl-C) stops
// every process it started.
// delivered says whether a delivery of partner's invitation reached its channel.
func delivered(c *v1alpha1.Customer, partner string) bool {
	for _, inv := range c.Status.Invitations {
		for _, d := range inv.Deliveries {
			if inv.Partner == partner && d.Result == v1alpha1.DeliveryDelivered && len(d.MessageIDs) > 0 {
				return true
			}
		}
	}
	return false
}

func TestDevBringsSamplesToTheirPhases(t *testing.T) {
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		t.Fatal("KUBEBUILDER_ASSETS is not set: run 'make test'")
	}
	dir := t.TempDir()
	o := options{
		dir: dir, crds: filepath.Join("..", "..", "config", "crd", "bases"), samples: filepath.Join("..", "..", "config", "samples"),
		simAddr: "127.0.0.1:0", autoApprove: 4 * time.Second, pollInterval: 200 * time.Millisecond, namespace: "default",
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	start := time.Now()
	go func() { stopped <- run(ctx, o) }()
	defer cancel()

	c := devClient(t, filepath.Join(dir, "kubeconfig"), stopped)
	want := map[string]v1alpha1.SubscriptionPhase{
		"woodgrove-m365-ea": "Completed", "woodgrove-azure-direct": "Completed", "woodgrove-azure-ea": "AwaitingApproval",
		"woodgrove-azure-fabrikam": "Completed", "woodgrove-d365-fabrikam": "Completed", "woodgrove-visio-fabrikam": "Completed",
		"woodgrove-project-cancelled": "Completed", "woodgrove-m365-fabrikam": "Scheduled", "woodgrove-teams-open": "Evaluated",
		"margie-travel-m365": "Ineligible", "woodgrove-exchange-syndication": "Ineligible", "woodgrove-azure-litware": "Ineligible",
		"woodgrove-m365-msp": "Ineligible", "woodgrove-powerbi-expired": "Ineligible",
	}
	var last map[string]v1alpha1.SubscriptionPhase
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(200 * time.Millisecond) {
		list := &v1alpha1.CustomerSubscriptionList{}
		if err := c.List(ctx, list); err == nil {
			last = map[string]v1alpha1.SubscriptionPhase{}
			for _, s := range list.Items {
				last[s.Name] = s.Status.Phase
			}
			if equal(last, want) {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 2 minutes the samples are %v, want %v", last, want)
		}
	}
	t.Logf("every sample reached its documented phase %v after make dev started", time.Since(start).Round(time.Second))

	// The sample GDAP relationship: the simulated customer approves it, Graph
	// activates it, and both security groups get their roles.
	gdapKey := client.ObjectKey{Namespace: o.namespace, Name: "woodgrove-contoso-support"}
	gdap := &v1alpha1.DelegatedAdminRelationship{}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(200 * time.Millisecond) {
		err := c.Get(ctx, gdapKey, gdap)
		ready := meta.IsStatusConditionTrue(gdap.Status.Conditions, v1alpha1.ConditionReady)
		if err == nil && gdap.Status.Phase == v1alpha1.GDAPActive && ready && len(gdap.Status.AccessAssignments) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the sample GDAP relationship is %q (%v), want Active and Ready: %v", gdap.Status.Phase, err, gdap.Status.Conditions)
		}
	}
	if !strings.HasPrefix(gdap.Status.InvitationURL, "https://admin.microsoft.com/") || gdap.Status.EndsAt == nil {
		t.Errorf("invitationURL %q, endsAt %v", gdap.Status.InvitationURL, gdap.Status.EndsAt)
	}

	// Contoso told Woodgrove's contacts what to do: an invitation went out
	// through the simulated mailbox, and its evidence is in status.
	custKey := client.ObjectKey{Namespace: o.namespace, Name: "woodgrove"}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(200 * time.Millisecond) {
		cust := &v1alpha1.Customer{}
		if err := c.Get(ctx, custKey, cust); err == nil && delivered(cust, "contoso-csp") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no invitation delivered to woodgrove's contacts: %+v", cust.Status.Invitations)
		}
	}

	// The README's flow: a person authorizes the source cancellation the
	// policy does not allow, then records it; the subscription completes.
	user, err := decide.WhoAmI(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	key := client.ObjectKey{Namespace: o.namespace, Name: "woodgrove-azure-ea"}
	if err := decide.CheckAllowed(ctx, c, decide.Subscription, key.Namespace, key.Name, user); err != nil {
		t.Fatal(err)
	}
	if _, err := decide.Record(ctx, c, decide.Subscription, key, decide.Decision{Approve: true, User: user, Reason: "EA cancellation agreed", Now: time.Now()}); err != nil {
		t.Fatal(err)
	}
	// The Azure plan is bought, and the subscription asks for the source's cancellation.
	waitFor(t, c, key, "Ready reason "+v1alpha1.ReasonAwaitingSourceCancellation, func(sub *v1alpha1.CustomerSubscription) bool {
		ready := meta.FindStatusCondition(sub.Status.Conditions, v1alpha1.ConditionReady)
		return sub.Status.Phase == v1alpha1.PhaseSwitching && ready != nil && ready.Reason == v1alpha1.ReasonAwaitingSourceCancellation
	})
	sub := &v1alpha1.CustomerSubscription{}
	if err := c.Get(ctx, key, sub); err != nil {
		t.Fatal(err)
	}
	if a := sub.Status.Authorization; a == nil || a.By != user || a.Source != v1alpha1.AuthorizationManual {
		t.Errorf("authorization = %+v, want by %s", sub.Status.Authorization, user)
	}
	before := sub.DeepCopy()
	sub.Spec.State = v1alpha1.SubscriptionCancelled
	if err := c.Patch(ctx, sub, client.MergeFrom(before)); err != nil { // as kubectl patch: the operator writes status meanwhile
		t.Fatal(err)
	}
	waitPhase(t, c, key, v1alpha1.PhaseCompleted)

	// etcd runs with its data under dir: the check below can see it.
	if running := processesUsing(dir); len(running) == 0 {
		t.Fatal("no process names the state directory while make dev runs: the check for leftovers would see nothing")
	}
	cancel()
	select {
	case err := <-stopped:
		if err != nil {
			t.Fatalf("make dev stopped with %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("make dev did not stop within a minute of Ctrl-C")
	}
	if left := processesUsing(dir); len(left) > 0 {
		t.Errorf("processes still running after Ctrl-C: %v", left)
	}
	for _, f := range []string{"kubeconfig", "env", "partnercenter.json", "graph.json", "etcd"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("%s was not kept for the next run: %v", f, err)
		}
	}
}

func devClient(t *testing.T, kubeconfig string, stopped <-chan error) client.Client {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		select {
		case err := <-stopped:
			t.Fatalf("make dev stopped early: %v", err)
		default:
		}
		cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
		if err != nil {
			continue
		}
		scheme := runtime.NewScheme()
		if err := v1alpha1.AddToScheme(scheme); err != nil {
			t.Fatal(err)
		}
		if err := clientgoscheme.AddToScheme(scheme); err != nil {
			t.Fatal(err)
		}
		if c, err := client.New(cfg, client.Options{Scheme: scheme}); err == nil {
			return c
		}
	}
	t.Fatal("no kubeconfig within a minute")
	return nil
}

func waitPhase(t *testing.T, c client.Client, key client.ObjectKey, phase v1alpha1.SubscriptionPhase) {
	t.Helper()
	waitFor(t, c, key, string(phase), func(sub *v1alpha1.CustomerSubscription) bool { return sub.Status.Phase == phase })
}

// waitFor waits up to a minute for the subscription's status, observed for
// its generation, to satisfy ok.
func waitFor(t *testing.T, c client.Client, key client.ObjectKey, want string, ok func(*v1alpha1.CustomerSubscription) bool) {
	t.Helper()
	sub := &v1alpha1.CustomerSubscription{}
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if err := c.Get(context.Background(), key, sub); err == nil && sub.Status.ObservedGeneration == sub.Generation && ok(sub) {
			return
		}
	}
	t.Fatalf("%s is %s, want %s: %v", key, sub.Status.Phase, want, sub.Status.Conditions)
}

func equal(a, b map[string]v1alpha1.SubscriptionPhase) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range b {
		if a[k] != v {
			return false
		}
	}
	return true
}

// processesUsing lists the processes whose command line names dir.
func processesUsing(dir string) []string {
	entries, _ := os.ReadDir("/proc")
	var found []string
	for _, e := range entries {
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		if cmd := strings.ReplaceAll(string(cmdline), "\x00", " "); strings.Contains(cmd, dir) {
			found = append(found, e.Name()+": "+cmd)
		}
	}
	return found
}
