package controllers_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	eventsv1 "k8s.io/api/events/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
)

// holdFirst lets the first request whose path ends with suffix reach the
// simulator, which processes it, and then withholds the answer until the
// caller gives up: a manager that stops while its call is in flight.
func holdFirst(suffix string, held *atomic.Bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, suffix) && held.CompareAndSwap(false, true) {
				next.ServeHTTP(httptest.NewRecorder(), r) // processed, answer lost
				<-r.Context().Done()
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// TestExactlyOnceAcrossManagerRestart stops the manager after the operation
// was recorded in status and while its call is in flight, starts a new one,
// and finds exactly one object created in Partner Center.
func TestExactlyOnceAcrossManagerRestart(t *testing.T) {
	for _, tc := range []struct {
		name   string
		suffix string
		kind   string
		spec   func(customer, target, source string) v1alpha1.CustomerSubscriptionSpec
	}{
		{"order", "/checkout", "order", func(c, tgt, src string) v1alpha1.CustomerSubscriptionSpec {
			return newLicense(c, src, tgt, 10)
		}},
		{"transfer", "/transfers", "transfer", func(c, tgt, src string) v1alpha1.CustomerSubscriptionSpec {
			return azure(c, tgt, v1alpha1.Channel{Type: v1alpha1.ChannelCSP, PartnerRef: src}, "")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			held := &atomic.Bool{}
			h := start(t, withMiddleware(holdFirst(tc.suffix, held)))
			contoso, fabrikam := h.contoso(), h.fabrikam()
			h.customer("woodgrove")
			h.policy(contoso.Name)
			h.customerAccepts(contosoTenant)
			h.subscription("azure", tc.spec("woodgrove", contoso.Name, fabrikam.Name))

			h.eventually("the call reached Partner Center and its answer is held", func() error {
				if !held.Load() || h.sim.Stats().ObjectsCreated[tc.kind] != 1 {
					return errf("held %v, created %v", held.Load(), h.sim.Stats().ObjectsCreated)
				}
				return nil
			})
			sub := &v1alpha1.CustomerSubscription{}
			if err := k8sClient.Get(h.ctx, client.ObjectKey{Namespace: h.ns, Name: "azure"}, sub); err != nil {
				t.Fatal(err)
			}
			op := sub.Status.Operation
			if op == nil || op.ID == "" || op.ExternalID != "" {
				t.Fatalf("before the restart the operation should be recorded and unconfirmed: %+v", op)
			}

			h.stopManager()
			h.startManager()

			if tc.kind == "transfer" {
				sub = h.waitOperationSent("azure")
				h.simPost("/sim/v1/transfers/"+sub.Status.Operation.ExternalID+"/accept", nil)
			}
			sub = h.waitPhase("azure", v1alpha1.PhaseCompleted)
			st := h.sim.Stats()
			if st.ObjectsCreated[tc.kind] != 1 || st.DuplicatesSuppressed < 1 {
				t.Errorf("created %v with %d duplicates suppressed; want one %s and a suppressed duplicate", st.ObjectsCreated, st.DuplicatesSuppressed, tc.kind)
			}
			if sub.Status.Operation.ID != op.ID {
				t.Errorf("the new manager used operation %s, the first %s", sub.Status.Operation.ID, op.ID)
			}
		})
	}
}

// TestNoWritesOnResync: a new manager reconciling objects that are done
// writes no status at all.
func TestNoWritesOnResync(t *testing.T) {
	h := start(t)
	contoso, fabrikam := h.contoso(), h.fabrikam()
	h.woodgroveTrusts(contoso)
	h.subscription("azure", azure("woodgrove", contoso.Name, v1alpha1.Channel{Type: v1alpha1.ChannelDirect}, ""))
	h.subscription("m365", licenseFromEA("woodgrove", contoso.Name))
	h.subscription("switch", azure("woodgrove", contoso.Name, v1alpha1.Channel{Type: v1alpha1.ChannelCSP, PartnerRef: fabrikam.Name}, ""))
	h.subscription("expired", withState(licenseFromEA("woodgrove", contoso.Name), v1alpha1.SubscriptionExpired))
	h.subscription("evaluated", licenseFromEA("woodgrove", ""))
	sw := h.waitOperationSent("switch")
	h.simPost("/sim/v1/transfers/"+sw.Status.Operation.ExternalID+"/accept", nil)
	for name, phase := range map[string]v1alpha1.SubscriptionPhase{"azure": v1alpha1.PhaseCompleted, "m365": v1alpha1.PhaseCompleted,
		"switch": v1alpha1.PhaseCompleted, "expired": v1alpha1.PhaseIneligible, "evaluated": v1alpha1.PhaseEvaluated} {
		h.waitPhase(name, phase)
	}
	h.waitQuiet()
	if h.statusWrites.Load() == 0 {
		t.Fatal("the first manager wrote no status: the counter does not count")
	}
	calls := h.sim.Stats().RequestsByRoute

	h.stopManager()
	h.statusWrites.Store(0)
	before := reconciles(t)
	h.startManager()
	// The new manager lists every object and reconciles each at least once.
	h.eventually("the new manager reconciled every object", func() error {
		after := reconciles(t)
		for controller, objects := range map[string]float64{"customersubscription": 5, "resellerrelationship": 1,
			"partner": 2, "customer": 1, "approvalpolicy": 1} {
			if after[controller]-before[controller] < objects {
				return errf("%s reconciled %v times, want at least %v", controller, after[controller]-before[controller], objects)
			}
		}
		return nil
	})
	h.waitQuiet()
	if n := h.statusWrites.Load(); n != 0 {
		t.Errorf("resyncing finished objects wrote status %d times, want 0", n)
	}
	after := h.sim.Stats().RequestsByRoute
	for _, route := range []string{"CreateCart", "CheckoutCart", "CreateTransfer"} {
		if after[route] != calls[route] {
			t.Errorf("the resync called %s again (%d → %d)", route, calls[route], after[route])
		}
	}
}

// TestEventsAndMetrics: every phase change is an Event; the gauge counts
// subscriptions by phase and path.
func TestEventsAndMetrics(t *testing.T) {
	h := start(t)
	contoso := h.contoso()
	h.customer("woodgrove")
	h.subscription("m365", licenseFromEA("woodgrove", contoso.Name))
	h.waitPhase("m365", v1alpha1.PhaseAwaitingApproval)
	h.customerAccepts(contosoTenant)
	h.waitPhase("m365", v1alpha1.PhaseCompleted)

	h.eventually("events name each phase", func() error {
		list := &eventsv1.EventList{}
		if err := k8sClient.List(h.ctx, list, client.InNamespace(h.ns)); err != nil {
			return err
		}
		reasons := map[string]string{}
		for _, e := range list.Items {
			if e.Regarding.Name == "m365" {
				reasons[e.Reason] = e.Note
			}
		}
		for _, want := range []string{"AwaitingApproval", "Completed", "RelationshipRequested"} {
			if reasons[want] == "" {
				return errf("no %s event with a note; events: %v", want, reasons)
			}
		}
		return nil
	})

	families, err := metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, f := range families {
		if f.GetName() != "multichannel_subscriptions" {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["phase"] == "Completed" && labels["path"] == "ResellerRelationship" && m.GetGauge().GetValue() == 1 {
				found = true
			}
		}
	}
	if !found {
		t.Error("multichannel_subscriptions{phase=Completed,path=ResellerRelationship} is not 1")
	}
}

// reconciles reads controller-runtime's reconcile counters, by controller.
func reconciles(t *testing.T) map[string]float64 {
	t.Helper()
	families, err := metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range families {
		if f.GetName() != "controller_runtime_reconcile_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "controller" {
					out[l.GetValue()] += m.GetCounter().GetValue()
				}
			}
		}
	}
	return out
}

// waitQuiet waits until the manager has written no status for 3 seconds.
func (h *harness) waitQuiet() {
	h.t.Helper()
	last := h.statusWrites.Load()
	quietSince := time.Now()
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if n := h.statusWrites.Load(); n != last {
			last, quietSince = n, time.Now()
		} else if time.Since(quietSince) >= 3*time.Second { // past an ApprovalPolicy's 2 s recount delay
			return
		}
	}
	h.t.Fatal("the manager kept writing status")
}

// TestOperationInDoubtIsNeitherSentNorAbandoned: a purchase recorded by a
// manager that stopped before anything could tell whether it was sent, whose
// spec then stops asking for it, is neither sent (nobody asks for it any
// more) nor abandoned (another operation could buy twice): it waits for a
// person. Restoring the spec finishes it, exactly once.
func TestOperationInDoubtIsNeitherSentNorAbandoned(t *testing.T) {
	h := start(t, withCartWindow(time.Hour)) // recorded, never sent by this manager
	contoso, fabrikam := h.contoso(), h.fabrikam()
	h.woodgroveTrusts(contoso)
	h.subscription("visio", newLicense("woodgrove", fabrikam.Name, contoso.Name, 10))
	h.eventually("the purchase is recorded", func() error {
		sub := &v1alpha1.CustomerSubscription{}
		if err := k8sClient.Get(h.ctx, client.ObjectKey{Namespace: h.ns, Name: "visio"}, sub); err != nil {
			return err
		}
		if op := sub.Status.Operation; op == nil || op.Cart == "" {
			return errf("operation %+v", op)
		}
		return nil
	})
	h.stopManager()
	h.setState("visio", v1alpha1.SubscriptionExpired)
	h.cartWindow = 100 * time.Millisecond
	h.startManager() // knows nothing of what the first one sent
	h.eventually("the operation in doubt waits for a person", func() error {
		sub := &v1alpha1.CustomerSubscription{}
		if err := k8sClient.Get(h.ctx, client.ObjectKey{Namespace: h.ns, Name: "visio"}, sub); err != nil {
			return err
		}
		c := condition(sub.Status.Conditions, v1alpha1.ConditionStalled)
		if c == nil || c.Reason != v1alpha1.ReasonOperationInDoubt || !strings.Contains(c.Message, sub.Status.Operation.ID) || sub.Status.Operation.CompletedAt != nil {
			return errf("stalled = %+v, operation %+v", c, sub.Status.Operation)
		}
		return nil
	})
	h.nothingMoreBought("nothing is sent while in doubt", 2*time.Second)
	h.setState("visio", v1alpha1.SubscriptionActive)
	sub := h.waitPhase("visio", v1alpha1.PhaseCompleted)
	if n := h.sim.Stats().ObjectsCreated["orderLineItem"]; n != 1 || len(sub.Status.PreviousOperations) != 0 {
		t.Errorf("%d line items sold, previous operations %+v; want 1 and none", n, sub.Status.PreviousOperations)
	}
}
