package controllers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/rand"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/google/uuid"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	"github.com/partnerops/multichannel-operator/controllers"
	"github.com/partnerops/multichannel-operator/internal/apiretry/apiretrytest"
	"github.com/partnerops/multichannel-operator/internal/graph"
	"github.com/partnerops/multichannel-operator/internal/graph/graphsim"
	"github.com/partnerops/multichannel-operator/internal/install"
	pc "github.com/partnerops/multichannel-operator/internal/partnercenter"
	"github.com/partnerops/multichannel-operator/internal/partnercenter/sim"
	"github.com/partnerops/multichannel-operator/internal/pcwebhook"
)

const (
	contosoTenant   = "6f1bd5c1-0d3b-4c5e-9bb1-7f4f9d2b6a10"
	fabrikamTenant  = "0b4e8e3a-7c1d-4f0e-a0d2-3f9a1c6e5b21"
	woodgroveTenant = "2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e"
	timeout         = 30 * time.Second
)

var (
	testEnv   *envtest.Environment
	cfg       *rest.Config
	scheme    = runtime.NewScheme()
	k8sClient client.Client
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if os.Getenv("TEST_LOG") != "" {
		ctrl.SetLogger(zap.New(zap.UseDevMode(true)))
	}
	env := &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join("..", "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
	}
	// Service-account tokens signed with RSA, as Entra ID supports.
	saKeys, err := os.MkdirTemp("", "sa-keys-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = os.RemoveAll(saKeys) }()
	if err := apiretrytest.SignServiceAccountTokensWithRSA(env, saKeys); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	testEnv = env
	if cfg, err = env.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "starting envtest (run 'make test', which sets KUBEBUILDER_ASSETS): %v\n", err)
		return 1
	}
	defer func() { _ = env.Stop() }()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, v1alpha1.AddToScheme} {
		if err := add(scheme); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	if k8sClient, err = client.New(cfg, client.Options{Scheme: scheme}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	// The admission check on decisions and the seed's roles, as config/default installs them.
	objs, err := install.Objects()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	for _, o := range objs {
		if err := k8sClient.Create(context.Background(), o); err != nil {
			fmt.Fprintf(os.Stderr, "installing %s %s: %v\n", o.GetKind(), o.GetName(), err)
			return 1
		}
	}
	return m.Run()
}

// namePrefix is the prefix config/default gives every object's name.
const namePrefix = install.NamePrefix

// harness is one test's world: a namespace, a Partner Center simulator over
// HTTP, and a manager running every reconciler.
type harness struct {
	t      *testing.T
	ctx    context.Context
	ns     string
	sim    *sim.Server
	simURL string
	// graph is the Microsoft Graph simulator, on the same listener as sim.
	graph        *graphsim.Server
	clock        *clocktesting.FakePassiveClock
	statusWrite  statusWriteHook
	pollInterval time.Duration
	cartWindow   time.Duration
	limits       *pc.TenantLimiters
	// conflicts holds the status patches the API server refused as
	// conflicting: "type namespace/name patch".
	conflicts sync.Map
	// statusWrites counts the manager's status patches.
	statusWrites atomic.Int64
	stopManager  func()
	managerCfg   *rest.Config
	namespaces   []string
	tokenFile    string
	activityLog  time.Duration
	webhookAddr  string
	webhook      func(*harness, pcwebhook.Options) pcwebhook.Options
	logs         io.Writer
}

type harnessOption func(*harnessConfig)

type harnessConfig struct {
	pollInterval time.Duration
	cartWindow   time.Duration
	before       func(*harness)
	statusWrite  statusWriteHook
	logs         io.Writer
	sim          sim.Options
	graph        graphsim.Options
	middleware   func(http.Handler) http.Handler
	managerCfg   *rest.Config
	// namespaces the manager also watches besides the test's own.
	namespaces []string
	// tokenFile is the operator's service-account token for workload identity.
	tokenFile string
	// activityLog is Options.ActivityLogInterval; the fallback polls are then hourly.
	activityLog time.Duration
	// webhookAddr and webhook are Options.WebhookBindAddress and Options.Webhook.
	webhookAddr string
	webhook     func(*harness, pcwebhook.Options) pcwebhook.Options
}

// withActivityLog reads the partners' activity logs every interval, and
// lets objects poll only hourly while they are read.
func withActivityLog(interval time.Duration) harnessOption {
	return func(c *harnessConfig) { c.activityLog = interval }
}

// statusWriteHook runs before each of the manager's status patches; an
// error it returns is the patch's, and the patch is not sent.
type statusWriteHook func(ctx context.Context, obj client.Object, patch client.Patch) error

// beforeStatusWrite installs hook in the manager's client.
func beforeStatusWrite(hook statusWriteHook) harnessOption {
	return func(c *harnessConfig) { c.statusWrite = hook }
}

// withPollInterval sets the manager's poll interval (the tests' default is 100ms).
func withPollInterval(d time.Duration) harnessOption {
	return func(c *harnessConfig) { c.pollInterval = d }
}

// withCartWindow sets how long a cart takes purchases (the tests' default is 200ms).
func withCartWindow(d time.Duration) harnessOption {
	return func(c *harnessConfig) { c.cartWindow = d }
}

// asUser runs the manager with another identity's REST config.
func asUser(c *rest.Config) harnessOption { return func(hc *harnessConfig) { hc.managerCfg = c } }

// withNamespaces has the manager watch namespaces too (they must exist).
func withNamespaces(ns ...string) harnessOption {
	return func(c *harnessConfig) { c.namespaces = append(c.namespaces, ns...) }
}

func withSim(o sim.Options) harnessOption { return func(c *harnessConfig) { c.sim = o } }

// withWorkloadIdentityTokenFile gives the manager a service-account token
// for Partners with spec.partnerCenter.workloadIdentity.
func withWorkloadIdentityTokenFile(file string) harnessOption {
	return func(c *harnessConfig) { c.tokenFile = file }
}

func withGraphSim(o graphsim.Options) harnessOption { return func(c *harnessConfig) { c.graph = o } }

// beforeManager runs f once the namespace and simulator exist, before the manager starts.
func beforeManager(f func(*harness)) harnessOption { return func(c *harnessConfig) { c.before = f } }

// withLogs sends the manager's logs to w.
func withLogs(w io.Writer) harnessOption { return func(c *harnessConfig) { c.logs = w } }
func withMiddleware(m func(http.Handler) http.Handler) harnessOption {
	return func(c *harnessConfig) { c.middleware = m }
}

// start makes a harness and starts its manager.
func start(t *testing.T, opts ...harnessOption) *harness {
	t.Helper()
	var hc harnessConfig
	for _, o := range opts {
		o(&hc)
	}
	h := &harness{t: t, ctx: context.Background(), ns: "t-" + rand.String(6), managerCfg: cfg,
		clock: clocktesting.NewFakePassiveClock(time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC))}
	if err := k8sClient.Create(h.ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: h.ns}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = k8sClient.Delete(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: h.ns}})
	})

	// The simulator's URL is known before it starts: its webhooks name it.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if hc.sim.WebhookBaseURL == "" {
		hc.sim.WebhookBaseURL = "https://" + ln.Addr().String()
	}
	s, err := sim.New(hc.sim)
	if err != nil {
		t.Fatal(err)
	}
	g, err := graphsim.New(hc.graph)
	if err != nil {
		t.Fatal(err)
	}
	h.graph = g
	handler := graphsim.Compose(g, s)
	if hc.middleware != nil {
		handler = hc.middleware(handler)
	}
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: handler, ReadHeaderTimeout: time.Minute}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	h.sim, h.simURL = s, srv.URL
	if hc.managerCfg != nil {
		h.managerCfg = hc.managerCfg
	}

	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: h.ns, Name: "partner-center"},
		StringData: map[string]string{"clientID": "operator", "clientSecret": "s3cret", "refreshToken": "user-refresh-token"}}
	h.create(secret)
	if hc.before != nil {
		hc.before(h)
	}
	h.logs, h.statusWrite, h.pollInterval, h.cartWindow = hc.logs, hc.statusWrite, hc.pollInterval, hc.cartWindow
	h.namespaces, h.tokenFile, h.activityLog = hc.namespaces, hc.tokenFile, hc.activityLog
	h.webhookAddr, h.webhook = hc.webhookAddr, hc.webhook
	if h.cartWindow == 0 {
		h.cartWindow = 200 * time.Millisecond
	}
	// One budget per partner tenant, as main builds it; the tests' is large.
	h.limits = pc.NewTenantLimiters(60000)
	if h.pollInterval == 0 {
		h.pollInterval = 100 * time.Millisecond
	}
	h.startManager()
	return h
}

func (h *harness) startManager() { h.startShardManager("", nil) }

// startShardManager starts a manager of one shard ("" for all objects); when
// wrote is not nil, it records the namespace/name of every object whose
// status that manager wrote.
func (h *harness) startShardManager(shard string, wrote *sync.Map) {
	h.t.Helper()
	byObject, err := controllers.ShardCache(shard)
	if err != nil {
		h.t.Fatal(err)
	}
	logger := ctrl.Log
	if h.logs != nil {
		logger = zap.New(zap.WriteTo(h.logs), zap.UseDevMode(true))
	}
	watched := map[string]cache.Config{h.ns: {}}
	for _, ns := range h.namespaces {
		watched[ns] = cache.Config{}
	}
	mgr, err := ctrl.NewManager(h.managerCfg, ctrl.Options{
		Logger:                 logger,
		Scheme:                 scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Cache: cache.Options{
			DefaultNamespaces: watched,
			DefaultTransform:  cache.TransformStripManagedFields(),
			ByObject:          byObject,
		},
		NewClient: func(config *rest.Config, options client.Options) (client.Client, error) {
			c, err := client.NewWithWatch(config, options)
			if err != nil {
				return nil, err
			}
			return interceptor.NewClient(c, interceptor.Funcs{
				SubResourcePatch: func(ctx context.Context, c client.Client, sub string, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
					if h.statusWrite != nil {
						if err := h.statusWrite(ctx, obj, patch); err != nil {
							return err
						}
					}
					h.statusWrites.Add(1)
					if wrote != nil {
						wrote.Store(obj.GetNamespace()+"/"+obj.GetName(), true)
					}
					err := c.SubResource(sub).Patch(ctx, obj, patch, opts...)
					if apierrors.IsConflict(err) {
						data, _ := patch.Data(obj)
						h.conflicts.Store(fmt.Sprintf("%T %s/%s %s", obj, obj.GetNamespace(), obj.GetName(), data), true)
					}
					return err
				},
			}), nil
		},
	})
	if err != nil {
		h.t.Fatal(err)
	}
	err = controllers.SetupWithManager(mgr, controllers.Options{
		OperatorNamespace:         h.ns,
		AllowedOrigins:            controllers.Origins{h.simURL},
		DeliveryRetry:             200 * time.Millisecond,
		WorkloadIdentityTokenFile: h.tokenFile,
		MaxConcurrentReconciles:   2,
		PollInterval:              h.pollInterval,
		ActivityLogInterval:       h.activityLog,
		WebhookBindAddress:        h.webhookAddr,
		Webhook: func(o pcwebhook.Options) pcwebhook.Options {
			if h.webhook != nil {
				return h.webhook(h, o)
			}
			return o
		},
		FallbackPollInterval: time.Hour,
		CartWindow:           h.cartWindow,
		MaxRequeue:           200 * time.Millisecond,
		CredentialsRefresh:   time.Hour,
		Clock:                h.clock,
		SkipNameValidation:   true,
		PanicsCrash:          true,
		PartnerCenter: func(c pc.Config) pc.Config {
			c.Retry = pc.RetryPolicy{MaxAttempts: 3, InitialInterval: 10 * time.Millisecond, MaxInterval: 50 * time.Millisecond}
			c.Limits = h.limits
			return c
		},
		Graph: func(c graph.Config) graph.Config {
			c.Retry = pc.RetryPolicy{MaxAttempts: 3, InitialInterval: 10 * time.Millisecond, MaxInterval: 50 * time.Millisecond}
			c.Limits = h.limits
			return c
		},
	})
	if err != nil {
		h.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		if err := mgr.Start(ctx); err != nil {
			h.t.Errorf("manager: %v", err)
		}
	}()
	stop := func() {
		cancel()
		<-stopped
	}
	h.stopManager = stop
	h.t.Cleanup(stop) // this manager's own stop, whichever starts later
}

func (h *harness) create(obj client.Object) {
	h.t.Helper()
	if err := k8sClient.Create(h.ctx, obj); err != nil {
		h.t.Fatalf("creating %T %s: %v", obj, obj.GetName(), err)
	}
}

// partner creates a cluster-scoped Partner named for this test; with
// credentials it talks to the simulator.
func (h *harness) partner(name, tenant string, cspType v1alpha1.CSPType, withCredentials bool, mutate ...func(*v1alpha1.Partner)) *v1alpha1.Partner {
	h.t.Helper()
	p := &v1alpha1.Partner{ObjectMeta: metav1.ObjectMeta{Name: h.ns + "-" + name},
		Spec: v1alpha1.PartnerSpec{DisplayName: name, TenantID: tenant, CSPType: cspType, Country: "US",
			NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{corev1.LabelMetadataName: h.ns}}}}
	if withCredentials {
		p.Spec.PartnerCenter = &v1alpha1.PartnerCenterConnection{Endpoint: h.simURL, AuthorityHost: h.simURL, GraphEndpoint: h.simURL, ResourceManagerEndpoint: h.simURL,
			CredentialsSecretRef: &v1alpha1.SecretReference{Namespace: h.ns, Name: "partner-center"}}
	}
	for _, m := range mutate {
		m(p)
	}
	h.create(p)
	h.t.Cleanup(func() { _ = k8sClient.Delete(context.Background(), p) })
	return p
}

// contoso is our partner (with credentials); fabrikam the CSP partner customers bought from.
// woodgroveTrusts declares customer woodgrove, an ApprovalPolicy for
// partner p, and woodgrove's acceptance of p as reseller in Partner Center:
// what a subscription needs before p may buy or transfer it.
func (h *harness) woodgroveTrusts(p *v1alpha1.Partner) {
	h.customer("woodgrove")
	h.policy(p.Name)
	h.customerAccepts(p.Spec.TenantID)
}

func (h *harness) contoso(mutate ...func(*v1alpha1.Partner)) *v1alpha1.Partner {
	return h.partner("contoso", contosoTenant, v1alpha1.CSPTypeDirectBill, true, mutate...)
}

func (h *harness) fabrikam() *v1alpha1.Partner {
	return h.partner("fabrikam", fabrikamTenant, v1alpha1.CSPTypeDirectBill, false)
}

func (h *harness) customer(name string, mutate ...func(*v1alpha1.Customer)) *v1alpha1.Customer {
	h.t.Helper()
	tenant := woodgroveTenant // a tenant belongs to one Customer: the others get their own
	if name != "woodgrove" {
		tenant = uuid.NewSHA1(uuid.NameSpaceOID, []byte("customer/"+name)).String()
	}
	c := &v1alpha1.Customer{ObjectMeta: metav1.ObjectMeta{Namespace: h.ns, Name: name},
		Spec: v1alpha1.CustomerSpec{DisplayName: name, TenantID: tenant, Country: "US"}}
	for _, m := range mutate {
		m(c)
	}
	h.create(c)
	return c
}

// policy declares the partner's standing authorization for partner in this
// test's namespace, by default for every path, offer and quantity, and source
// cancellation.
func (h *harness) policy(partner string, mutate ...func(*v1alpha1.ApprovalPolicySpec)) {
	h.t.Helper()
	p := &v1alpha1.ApprovalPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: h.ns, Name: "trust-" + partner},
		Spec: v1alpha1.ApprovalPolicySpec{PartnerRefs: []string{partner}, AllowSourceCancellation: true}}
	for _, m := range mutate {
		m(&p.Spec)
	}
	h.create(p)
}

func (h *harness) subscription(name string, spec v1alpha1.CustomerSubscriptionSpec) *v1alpha1.CustomerSubscription {
	h.t.Helper()
	s := &v1alpha1.CustomerSubscription{ObjectMeta: metav1.ObjectMeta{Namespace: h.ns, Name: name}, Spec: spec}
	h.create(s)
	return s
}

// eventually polls check until it returns nil or the timeout passes.
func (h *harness) eventually(what string, check func() error) {
	h.t.Helper()
	deadline := time.Now().Add(timeout)
	var err error
	for time.Now().Before(deadline) {
		if err = check(); err == nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	h.t.Fatalf("%s: still not so after %v: %v", what, timeout, err)
}

// consistently checks that check stays nil for the whole of d: a negative
// assertion, given the manager several passes (the tests poll every 200ms)
// to break it.
func (h *harness) consistently(what string, d time.Duration, check func() error) {
	h.t.Helper()
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if err := check(); err != nil {
			h.t.Fatalf("%s: broken within %v: %v", what, d, err)
		}
	}
}

// waitPhase waits for a subscription to reach phase, and returns it.
func (h *harness) waitPhase(name string, phase v1alpha1.SubscriptionPhase) *v1alpha1.CustomerSubscription {
	h.t.Helper()
	sub := &v1alpha1.CustomerSubscription{}
	h.eventually(fmt.Sprintf("CustomerSubscription %s is %s", name, phase), func() error {
		if err := k8sClient.Get(h.ctx, client.ObjectKey{Namespace: h.ns, Name: name}, sub); err != nil {
			return err
		}
		if sub.Status.Phase != phase || sub.Status.ObservedGeneration != sub.Generation {
			return fmt.Errorf("phase %q (observed generation %d of %d), conditions %v", sub.Status.Phase, sub.Status.ObservedGeneration, sub.Generation, sub.Status.Conditions)
		}
		return nil
	})
	return sub
}

func (h *harness) waitRelationship(name string, phase v1alpha1.RelationshipPhase) *v1alpha1.ResellerRelationship {
	h.t.Helper()
	rr := &v1alpha1.ResellerRelationship{}
	h.eventually(fmt.Sprintf("ResellerRelationship %s is %s", name, phase), func() error {
		if err := k8sClient.Get(h.ctx, client.ObjectKey{Namespace: h.ns, Name: name}, rr); err != nil {
			return err
		}
		if rr.Status.Phase != phase {
			return fmt.Errorf("phase %q, conditions %v", rr.Status.Phase, rr.Status.Conditions)
		}
		return nil
	})
	return rr
}

// simPost acts as a party in the simulator.
func (h *harness) simPost(path string, body any) {
	h.t.Helper()
	data, _ := json.Marshal(body)
	resp, err := http.Post(h.simURL+path, "application/json", bytes.NewReader(data))
	if err != nil {
		h.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		h.t.Fatalf("POST %s: HTTP %d", path, resp.StatusCode)
	}
}

func (h *harness) customerAccepts(partnerTenant string) {
	h.simPost("/sim/v1/relationships/accept", map[string]string{"partnerTenantId": partnerTenant, "customerTenantId": woodgroveTenant})
}

// kstatus computes what GitOps tools (Flux, Argo CD, kpt) read from obj.
func kstatus(t *testing.T, obj client.Object) status.Status {
	t.Helper()
	gvk, err := apiutil.GVKForObject(obj, scheme)
	if err != nil {
		t.Fatal(err)
	}
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{Object: m}
	u.SetGroupVersionKind(gvk)
	res, err := status.Compute(u)
	if err != nil {
		t.Fatal(err)
	}
	return res.Status
}

func condition(conds []metav1.Condition, typ string) *metav1.Condition {
	for i := range conds {
		if conds[i].Type == typ {
			return &conds[i]
		}
	}
	return nil
}

func ptr[T any](v T) *T { return &v }

func date(s string) *metav1.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return &metav1.Time{Time: t}
}

func errf(format string, args ...any) error { return fmt.Errorf(format, args...) }

// recordDecision writes a person's Approved or Denied condition on a
// relationship as user, with status.approval naming them, as kubectl
// multichannel approve does. It returns the API server's answer to the last try.
func recordDecision(t *testing.T, h *harness, rr *v1alpha1.ResellerRelationship, typ, user string) error {
	t.Helper()
	return recordDecisionFor(t, h, rr, typ, user, woodgroveTenant)
}

// recordDecisionFor is recordDecision naming tenant as the one that decided.
func recordDecisionFor(t *testing.T, h *harness, rr *v1alpha1.ResellerRelationship, typ, user, tenant string) error {
	t.Helper()
	c := h.as(user)
	var err error
	for range 20 { // retried on conflicts with the operator's own writes
		fresh := &v1alpha1.ResellerRelationship{}
		if err = c.Get(h.ctx, client.ObjectKeyFromObject(rr), fresh); err != nil {
			return err
		}
		now := metav1.Now()
		meta.SetStatusCondition(&fresh.Status.Conditions, metav1.Condition{Type: typ, Status: metav1.ConditionTrue,
			Reason: "RecordedByHand", Message: "The customer answered by phone.", LastTransitionTime: now})
		fresh.Status.Approval = &v1alpha1.Approval{Decision: v1alpha1.ApprovalDecision(typ), By: user, At: &now, Source: v1alpha1.ApprovalManual, TenantID: tenant}
		if err = c.Status().Update(h.ctx, fresh); !apierrors.IsConflict(err) {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
	return err
}

// authorizeAs writes a person's decision on the terms a subscription shows
// for its current generation as user, as kubectl multichannel approve does.
func authorizeAs(t *testing.T, h *harness, name, user string, decision v1alpha1.AuthorizationDecision, by string) error {
	t.Helper()
	c := h.as(user)
	var err error
	for range 20 {
		sub := &v1alpha1.CustomerSubscription{}
		if err = c.Get(h.ctx, client.ObjectKey{Namespace: h.ns, Name: name}, sub); err != nil {
			return err
		}
		now := metav1.Now()
		if sub.Status.Terms == nil || sub.Status.ObservedGeneration != sub.Generation {
			err = errf("CustomerSubscription %s shows no terms for generation %d yet", name, sub.Generation)
			time.Sleep(50 * time.Millisecond)
			continue
		}
		sub.Status.Authorization = &v1alpha1.Authorization{Decision: decision, By: by, At: &now,
			Source: v1alpha1.AuthorizationManual, Generation: sub.Generation, Reason: "checked with the customer", Terms: sub.Status.Terms}
		if err = c.Status().Update(h.ctx, sub); !apierrors.IsConflict(err) {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
	return err
}

// as returns a client that impersonates user.
func (h *harness) as(user string) client.Client {
	h.t.Helper()
	c := rest.CopyConfig(cfg)
	c.Impersonate = rest.ImpersonationConfig{UserName: user}
	cl, err := client.New(c, client.Options{Scheme: scheme})
	if err != nil {
		h.t.Fatal(err)
	}
	return cl
}

// grant binds one of the seed's ClusterRoles (without its prefix) to user.
func (h *harness) grant(user, role string) {
	h.t.Helper()
	b := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: h.ns + "-" + role + "-" + rand.String(4)},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: namePrefix + role},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}}}
	h.create(b)
	h.t.Cleanup(func() { _ = k8sClient.Delete(context.Background(), b) })
	cr := &rbacv1.ClusterRole{}
	if err := k8sClient.Get(h.ctx, client.ObjectKey{Name: namePrefix + role}, cr); err != nil {
		h.t.Fatal(err)
	}
	for _, rule := range cr.Rules {
		if len(rule.Resources) > 0 && len(rule.ResourceNames) == 0 {
			h.waitAllowed(user, rule)
			break
		}
	}
}

// waitAllowed waits until the API server's authorizer grants user the
// first verb of rule on its first resource in the test's namespace: a new
// binding takes a moment to reach the authorizer's cache.
func (h *harness) waitAllowed(user string, rule rbacv1.PolicyRule) {
	h.t.Helper()
	resource, sub, _ := strings.Cut(rule.Resources[0], "/")
	attrs := &authorizationv1.ResourceAttributes{Namespace: h.ns, Verb: rule.Verbs[0], Resource: resource, Subresource: sub}
	if len(rule.APIGroups) > 0 {
		attrs.Group = rule.APIGroups[0]
	}
	h.eventually(user+" may "+attrs.Verb+" "+rule.Resources[0], func() error {
		sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{User: user, ResourceAttributes: attrs}}
		if err := k8sClient.Create(h.ctx, sar); err != nil {
			return err
		}
		if !sar.Status.Allowed {
			return errf("not yet: %s", sar.Status.Reason)
		}
		return nil
	})
}

// contosoClient calls the simulator as contoso.
func contosoClient(t *testing.T, h *harness) *pc.Client {
	t.Helper()
	c, err := pc.New(pc.Config{Endpoint: h.simURL, AuthorityHost: h.simURL, TenantID: contosoTenant,
		Credentials: pc.Credentials{ClientID: "test", ClientSecret: "test"}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// waitOperationSent waits until Partner Center confirmed the subscription's
// operation (status.operation.externalID is set), and returns the subscription.
func (h *harness) waitOperationSent(name string) *v1alpha1.CustomerSubscription {
	h.t.Helper()
	sub := &v1alpha1.CustomerSubscription{}
	h.eventually("CustomerSubscription "+name+"'s operation reached Partner Center", func() error {
		if err := k8sClient.Get(h.ctx, client.ObjectKey{Namespace: h.ns, Name: name}, sub); err != nil {
			return err
		}
		if sub.Status.Operation == nil || sub.Status.Operation.ExternalID == "" {
			return errf("phase %s, operation %+v", sub.Status.Phase, sub.Status.Operation)
		}
		return nil
	})
	return sub
}
