package controllers_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/rand"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	"github.com/partnerops/multichannel-operator/internal/estate"
	"github.com/partnerops/multichannel-operator/internal/graph"
	estates "github.com/partnerops/multichannel-operator/internal/harness"
	pc "github.com/partnerops/multichannel-operator/internal/partnercenter"
)

// The tests of this file import an estate the operator never touched
// (kubectl multichannel import's reading, building and writing, against
// the simulators over HTTP), apply what it wrote, and run the manager on
// it: everything the partner holds must be found as it is, and nothing
// created.

const importedCustomers = 5

// imported is an estate seeded in the simulators and imported.
type imported struct {
	partner    *v1alpha1.Partner
	sample     estates.SampleEstate
	namespaces []string
	objects    []*unstructured.Unstructured
}

// importPrefix keeps this test's namespaces apart from other tests'.
func importPrefix() string { return "imp" + rand.String(5) + "-" }

func importedNamespaces(prefix string) []string {
	var out []string
	for i := range importedCustomers {
		out = append(out, fmt.Sprintf("%scustomer%d", prefix, i))
	}
	return out
}

// importEstate seeds a sample estate of partner contoso, imports it with
// the Partner Center client's default budget, and applies what the import
// wrote: the Namespaces first, then the Partners, then the rest.
func importEstate(h *harness, prefix string) *imported {
	h.t.Helper()
	im := &imported{namespaces: importedNamespaces(prefix)}
	im.partner = h.partner("contoso", contosoTenant, v1alpha1.CSPTypeDirectBill, true, func(p *v1alpha1.Partner) {
		p.Spec.NamespaceSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"multichannel.partnerops.io/imported-by": h.ns}}
	})
	im.sample = estates.NewEstate(estates.EstateOptions{Partner: contosoTenant, Customers: importedCustomers, Source: fabrikamTenant,
		SourceName: "Fabrikam " + prefix, Prefix: prefix, Now: time.Now()})
	if err := h.sim.SeedEstate(im.sample.PartnerCenter); err != nil {
		h.t.Fatal(err)
	}
	if err := h.graph.Seed(im.sample.GDAP...); err != nil {
		h.t.Fatal(err)
	}
	dir := h.t.TempDir()
	h.writeImport(im.partner, dir)
	im.objects = h.applyImport(dir)
	return im
}

// writeImport reads the estate through the partner's clients and writes it under dir.
func (h *harness) writeImport(partner *v1alpha1.Partner, dir string) {
	h.t.Helper()
	creds := pc.Credentials{ClientID: "operator", ClientSecret: "s3cret"}
	p, err := pc.New(pc.Config{Endpoint: h.simURL, AuthorityHost: h.simURL, TenantID: contosoTenant, Credentials: creds})
	if err != nil {
		h.t.Fatal(err)
	}
	g, err := graph.New(graph.Config{Endpoint: h.simURL, AuthorityHost: h.simURL, TenantID: contosoTenant, Credentials: creds})
	if err != nil {
		h.t.Fatal(err)
	}
	e, err := estate.Read(h.ctx, estate.Clients{PartnerCenter: p, Graph: g}, estate.Options{})
	if err != nil {
		h.t.Fatal(err)
	}
	m, err := estate.Build(e, estate.BuildOptions{Partner: partner, OperatorNamespace: h.ns})
	if err != nil {
		h.t.Fatal(err)
	}
	if len(m.Notes) > 0 {
		h.t.Fatalf("the import left out: %v", m.Notes)
	}
	if _, err := estate.Write(m, partner, estate.WriteOptions{Dir: dir}); err != nil {
		h.t.Fatal(err)
	}
}

// applyImport creates every object the import wrote under dir, as kubectl
// apply -k would (Namespaces first), and deletes them when the test ends.
func (h *harness) applyImport(dir string) []*unstructured.Unstructured {
	h.t.Helper()
	var objs []*unstructured.Unstructured
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() == "kustomization.yaml" {
			return err
		}
		data, err := os.ReadFile(p)
		obj := &unstructured.Unstructured{}
		if err == nil {
			err = yaml.Unmarshal(data, &obj.Object)
		}
		objs = append(objs, obj)
		return err
	})
	if err != nil {
		h.t.Fatal(err)
	}
	rank := func(o *unstructured.Unstructured) int {
		if i := slices.Index([]string{"Namespace", "Partner"}, o.GetKind()); i >= 0 {
			return i
		}
		return 2
	}
	slices.SortStableFunc(objs, func(a, b *unstructured.Unstructured) int { return rank(a) - rank(b) })
	for _, o := range objs {
		if err := k8sClient.Create(h.ctx, o); err != nil {
			h.t.Fatalf("applying %s %s/%s: %v", o.GetKind(), o.GetNamespace(), o.GetName(), err)
		}
		if o.GetNamespace() == "" {
			h.t.Cleanup(func() { _ = k8sClient.Delete(h.ctx, o) })
		}
	}
	return objs
}

// creatingCalls counts every call at the simulators that creates or
// changes something: carts, checkouts, orders, transfers, subscription
// and agreement changes, Azure subscriptions, GDAP relationships, their
// requests and access assignments, mail.
func (h *harness) creatingCalls() map[string]int {
	out := map[string]int{}
	pcStats, gStats := h.sim.Stats(), h.graph.Stats()
	for _, r := range []string{"CreateCart", "CheckoutCart", "CreateTransfer", "UpdateTransfer", "AcceptTransfer", "UpdateSubscription", "ConfirmCustomerAgreement"} {
		if n := pcStats.RequestsByRoute[r]; n > 0 {
			out["partner center "+r] = n
		}
	}
	for k, n := range pcStats.ObjectsCreated {
		out["partner center created "+k] = n
	}
	if n := pcStats.ARM.AliasesCreated; n > 0 {
		out["azure subscriptions created"] = n
	}
	for _, r := range []string{"CreateRelationship", "UpdateRelationship", "DeleteRelationship", "CreateRelationshipRequest", "CreateAccessAssignment", "SendMail"} {
		if n := gStats.RequestsByRoute[r]; n > 0 {
			out["graph "+r] = n
		}
	}
	for k, n := range gStats.ObjectsCreated {
		out["graph created "+k] = n
	}
	return out
}

// TestImportAdoptsAnUntouchedEstate: an estate built without the operator,
// imported and applied: every license and Azure subscription is
// AlreadyManaged and Completed, every reseller relationship Approved as
// Partner Center shows it, every GDAP relationship adopted Active with its
// access assignments, and the subscriptions of the transfer under way
// follow it (adopted, with no authorization) without a transfer being
// created; all the
// while not one call that creates anything reaches the simulators.
func TestImportAdoptsAnUntouchedEstate(t *testing.T) {
	prefix := importPrefix()
	var im *imported
	h := start(t, withNamespaces(importedNamespaces(prefix)...), beforeManager(func(h *harness) { im = importEstate(h, prefix) }))
	if n := h.creatingCalls(); len(n) != 0 {
		t.Fatalf("the import itself created %v", n)
	}
	owned, following := 0, 0
	for _, o := range im.objects {
		key := client.ObjectKey{Namespace: o.GetNamespace(), Name: o.GetName()}
		switch o.GetKind() {
		case "CustomerSubscription":
			if transferID, _, _ := unstructured.NestedString(o.Object, "spec", "transferID"); transferID != "" {
				following++
				h.waitFollowingSubscription(key)
			} else {
				owned++
				h.waitAlreadyManaged(key)
			}
		case "DelegatedAdminRelationship":
			h.waitAdopted(key)
		case "ResellerRelationship":
			h.waitApproved(key)
		}
	}
	// 5 customers with 2 licenses, 3 with an Azure plan of 2 Azure
	// subscriptions, 1 with a transfer of 2 licenses.
	if owned != 2*importedCustomers+2*3 || following != 2 {
		t.Fatalf("%d subscriptions owned and %d following a transfer, want 16 and 2", owned, following)
	}
	h.consistently("nothing is created", 2*time.Second, func() error {
		if n := h.creatingCalls(); len(n) != 0 {
			return fmt.Errorf("calls that create: %v", n)
		}
		return nil
	})
}

// waitAlreadyManaged: a subscription the partner sold and supports.
func (h *harness) waitAlreadyManaged(key client.ObjectKey) {
	h.t.Helper()
	h.eventually("CustomerSubscription "+key.String()+" is AlreadyManaged and Completed", func() error {
		sub := &v1alpha1.CustomerSubscription{}
		if err := k8sClient.Get(h.ctx, key, sub); err != nil {
			return err
		}
		e, ready := sub.Status.Eligibility, condition(sub.Status.Conditions, v1alpha1.ConditionReady)
		if e == nil || e.Reason != v1alpha1.ReasonAlreadyManaged || e.Path != v1alpha1.PathNone || sub.Status.Phase != v1alpha1.PhaseCompleted ||
			ready == nil || ready.Status != metav1.ConditionTrue || sub.Status.Operation != nil {
			return fmt.Errorf("phase %q, eligibility %+v, operation %+v, conditions %v", sub.Status.Phase, e, sub.Status.Operation, sub.Status.Conditions)
		}
		return nil
	})
}

// waitFollowingSubscription: a subscription of a transfer under way waits,
// on the partner-switch path, for the partner's authority, having sent nothing.
func (h *harness) waitFollowingSubscription(key client.ObjectKey) {
	h.t.Helper()
	h.eventually("CustomerSubscription "+key.String()+" follows the transfer under way", func() error {
		sub := &v1alpha1.CustomerSubscription{}
		if err := k8sClient.Get(h.ctx, key, sub); err != nil {
			return err
		}
		e, op, waiting := sub.Status.Eligibility, sub.Status.Operation, condition(sub.Status.Conditions, v1alpha1.ConditionReconciling)
		if e == nil || e.Path != v1alpha1.PathPartnerSwitch || sub.Status.Phase != v1alpha1.PhaseSwitching || op == nil || !op.Adopted ||
			!strings.EqualFold(op.ExternalID, sub.Spec.TransferID) || sub.Status.Authorization != nil || waiting == nil || waiting.Reason != v1alpha1.ReasonAwaitingTransfer {
			return fmt.Errorf("phase %q, eligibility %+v, operation %+v, conditions %v", sub.Status.Phase, e, op, sub.Status.Conditions)
		}
		return nil
	})
}

// waitAdopted: the GDAP relationship Graph holds, found by its display
// name, Active, each access assignment found active.
func (h *harness) waitAdopted(key client.ObjectKey) {
	h.t.Helper()
	h.eventually("DelegatedAdminRelationship "+key.String()+" is adopted Active", func() error {
		dar := &v1alpha1.DelegatedAdminRelationship{}
		if err := k8sClient.Get(h.ctx, key, dar); err != nil {
			return err
		}
		if dar.Status.Phase != v1alpha1.GDAPActive || dar.Status.RelationshipID == "" || len(dar.Status.AccessAssignments) != len(dar.Spec.AccessAssignments) {
			return fmt.Errorf("phase %q, relationship %q, assignments %+v, conditions %v", dar.Status.Phase, dar.Status.RelationshipID, dar.Status.AccessAssignments, dar.Status.Conditions)
		}
		for _, a := range dar.Status.AccessAssignments {
			if a.Status != graph.AssignmentActive || a.ID == "" {
				return fmt.Errorf("assignment %+v", a)
			}
		}
		return nil
	})
}

// waitApproved: the customer's acceptance as Partner Center shows it.
func (h *harness) waitApproved(key client.ObjectKey) {
	h.t.Helper()
	h.eventually("ResellerRelationship "+key.String()+" is Approved", func() error {
		rr := &v1alpha1.ResellerRelationship{}
		if err := k8sClient.Get(h.ctx, key, rr); err != nil {
			return err
		}
		if rr.Status.Phase != v1alpha1.RelationshipApproved || rr.Status.Approval == nil || rr.Status.Approval.Source != v1alpha1.ApprovalFromPartnerCenter {
			return fmt.Errorf("phase %q, approval %+v, conditions %v", rr.Status.Phase, rr.Status.Approval, rr.Status.Conditions)
		}
		return nil
	})
}

// TestImportFollowsTheTransferUnderWay: once the source partner accepts
// the transfer the import found, the subscriptions that follow it
// complete, and no transfer was ever created. Following a transfer sends
// nothing, so no ApprovalPolicy or person authorizes it.
func TestImportFollowsTheTransferUnderWay(t *testing.T) {
	prefix := importPrefix()
	var im *imported
	h := start(t, withNamespaces(importedNamespaces(prefix)...), beforeManager(func(h *harness) { im = importEstate(h, prefix) }))
	ns := im.namespaces[0]
	transfer := im.sample.PartnerCenter.Customers[0].Transfers[0]
	h.simPost("/sim/v1/transfers/"+transfer.ID+"/accept", map[string]any{})
	for _, li := range transfer.LineItems {
		var name string
		for _, o := range im.objects {
			if id, _, _ := unstructured.NestedString(o.Object, "spec", "subscriptionID"); id == li.SubscriptionID {
				name = o.GetName()
			}
		}
		key := client.ObjectKey{Namespace: ns, Name: name}
		h.eventually("CustomerSubscription "+key.String()+" completes with the transfer it followed", func() error {
			sub := &v1alpha1.CustomerSubscription{}
			if err := k8sClient.Get(h.ctx, key, sub); err != nil {
				return err
			}
			if sub.Status.Phase != v1alpha1.PhaseCompleted || sub.Status.Operation == nil || !strings.EqualFold(sub.Status.Operation.ExternalID, transfer.ID) {
				return fmt.Errorf("phase %q, operation %+v", sub.Status.Phase, sub.Status.Operation)
			}
			return nil
		})
	}
	if n := h.sim.Stats().RequestsByRoute["CreateTransfer"]; n != 0 {
		t.Errorf("%d transfers created for subscriptions a transfer under way already moves", n)
	}
}

// TestAcceptedRelationshipSeenWithoutRefreshToken: a partner with
// App-only credentials (no kubectl multichannel login yet) cannot ask for
// a request link, but a customer that accepted long ago (an imported
// estate) is seen with the App-only lookup: the relationship is Approved,
// not stalled.
func TestAcceptedRelationshipSeenWithoutRefreshToken(t *testing.T) {
	h := start(t)
	h.create(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: h.ns, Name: "app-only"},
		StringData: map[string]string{"clientID": "operator", "clientSecret": "s3cret"}})
	contoso := h.contoso(func(p *v1alpha1.Partner) { p.Spec.PartnerCenter.CredentialsSecretRef.Name = "app-only" })
	h.customer("woodgrove")
	h.customerAccepts(contosoTenant)
	h.create(&v1alpha1.ResellerRelationship{ObjectMeta: metav1.ObjectMeta{Namespace: h.ns, Name: "woodgrove-contoso"},
		Spec: v1alpha1.ResellerRelationshipSpec{PartnerRef: contoso.Name, CustomerRef: "woodgrove"}})
	h.waitApproved(client.ObjectKey{Namespace: h.ns, Name: "woodgrove-contoso"})
	if n := h.sim.Stats().RequestsByRoute["GetRelationshipRequest"]; n != 0 {
		t.Errorf("%d request links asked for without App+User credentials", n)
	}
}
