package controllers_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
)

// TestPollOncePerInterval: a relationship waiting for the customer asks
// Partner Center once per poll interval (an hour here), however many watch
// events wake it meanwhile.
func TestPollOncePerInterval(t *testing.T) {
	h := start(t, withPollInterval(time.Hour))
	contoso := h.contoso()
	h.customer("woodgrove")
	h.subscription("m365", licenseFromEA("woodgrove", contoso.Name))
	rr := h.waitRelationship("woodgrove-"+contoso.Name, v1alpha1.RelationshipRequested)
	getCustomer := func() int { return h.sim.Stats().RequestsByRoute["GetCustomer"] }
	h.eventually("the relationship asked Partner Center once", func() error {
		if n := getCustomer(); n != 1 {
			return errf("GetCustomer %d times", n)
		}
		return nil
	})

	for i := range 20 {
		patch := fmt.Sprintf(`{"metadata":{"annotations":{"example.com/wake":"%d"}}}`, i)
		if err := k8sClient.Patch(h.ctx, rr, client.RawPatch(types.MergePatchType, []byte(patch))); err != nil {
			t.Fatal(err)
		}
	}
	h.consistently("20 wake-ups ask Partner Center nothing more", 2*time.Second, func() error {
		if n := getCustomer(); n != 1 {
			return errf("GetCustomer %d times", n)
		}
		return nil
	})
}

// TestTransferSharedByCustomer: three Azure subscriptions a customer bought
// from the same CSP partner move in one transfer, asked for once and read
// once per poll interval for all of them; the request link is asked once.
func TestTransferSharedByCustomer(t *testing.T) {
	var logs syncBuffer
	h := start(t, withLogs(&logs))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the manager's logs:\n%s", logs.String())
		}
	})
	contoso, fabrikam := h.contoso(), h.fabrikam()
	h.woodgroveTrusts(contoso)
	names := []string{"azure-1", "azure-2", "azure-3"}
	for i, name := range names {
		spec := azure("woodgrove", contoso.Name, v1alpha1.Channel{Type: v1alpha1.ChannelCSP, PartnerRef: fabrikam.Name}, "")
		spec.SubscriptionID = fmt.Sprintf("4a1c9e2f-0b7d-4e3a-9c5f-2d8b6a1e7f3%d", i)
		h.subscription(name, spec)
	}
	var transferID string
	for _, name := range names {
		op := h.waitOperationSent(name).Status.Operation
		if transferID == "" {
			transferID = op.ExternalID
		}
		if op.ExternalID != transferID {
			t.Errorf("%s is in transfer %s, want %s: one transfer per customer and pair of partners", name, op.ExternalID, transferID)
		}
	}
	h.simPost("/sim/v1/transfers/"+transferID+"/accept", nil)
	for _, name := range names {
		h.waitPhase(name, v1alpha1.PhaseCompleted)
	}
	st := h.sim.Stats()
	if st.ObjectsCreated["transfer"] != 1 || st.RequestsByRoute["CreateTransfer"] != 1 {
		t.Errorf("%d transfers created in %d requests, want 1 in 1", st.ObjectsCreated["transfer"], st.RequestsByRoute["CreateTransfer"])
	}
}

// TestRequestLinkAskedOncePerPartner: the reseller request link is the
// partner's; relationships with several customers ask for it once.
func TestRequestLinkAskedOncePerPartner(t *testing.T) {
	h := start(t)
	contoso := h.contoso()
	tenants := []string{"0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", "1b2c3d4e-5f6a-4b7c-9d8e-0f1a2b3c4d5e", "2c3d4e5f-6a7b-4c8d-8e9f-1a2b3c4d5e6f"}
	for i, tenant := range tenants {
		name := fmt.Sprintf("customer-%d", i)
		h.customer(name, func(c *v1alpha1.Customer) { c.Spec.TenantID = tenant })
		h.subscription(name+"-m365", licenseFromEA(name, contoso.Name))
	}
	for i := range tenants {
		rr := h.waitRelationship(fmt.Sprintf("customer-%d-%s", i, contoso.Name), v1alpha1.RelationshipRequested)
		if rr.Status.InvitationURL == "" {
			t.Errorf("%s has no invitation URL", rr.Name)
		}
	}
	if n := h.sim.Stats().RequestsByRoute["GetRelationshipRequest"]; n != 1 {
		t.Errorf("the request link was asked %d times for three customers, want 1", n)
	}
}

// TestThrottlingFreesTheWorkers: Partner Center throttles every call about
// two customers for an hour. Their relationships wait for that hour without
// holding a worker (the manager runs two per kind), so a third customer's
// subscription completes meanwhile, and the throttled ones ask no earlier
// than Retry-After allows.
func TestThrottlingFreesTheWorkers(t *testing.T) {
	throttledTenants := []string{"5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b", "6f7a8b9c-0d1e-4f2a-9b3c-4d5e6f7a8b9c"}
	const freeTenant = "7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d"
	var throttled atomic.Int32
	throttle := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			for _, tenant := range throttledTenants {
				if strings.HasPrefix(r.URL.Path, "/v1/customers/"+tenant) {
					throttled.Add(1)
					w.Header().Set("Retry-After", "3600")
					answerError(w, http.StatusTooManyRequests, 429, "Rate limit is exceeded.")
					return
				}
			}
			next.ServeHTTP(w, r)
		})
	}
	var logs syncBuffer
	h := start(t, withMiddleware(throttle), withLogs(&logs))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the manager's logs:\n%s", logs.String())
		}
	})
	contoso := h.contoso()
	for i, tenant := range append(throttledTenants, freeTenant) {
		name := fmt.Sprintf("customer-%d", i)
		h.customer(name, func(c *v1alpha1.Customer) { c.Spec.TenantID = tenant })
		h.simPost("/sim/v1/relationships/accept", map[string]string{"partnerTenantId": contosoTenant, "customerTenantId": tenant})
		h.subscription(name+"-m365", licenseFromEA(name, contoso.Name))
	}

	h.waitPhase("customer-2-m365", v1alpha1.PhaseCompleted)
	awaiting := func() error {
		for i := range throttledTenants {
			sub := &v1alpha1.CustomerSubscription{}
			if err := k8sClient.Get(h.ctx, client.ObjectKey{Namespace: h.ns, Name: fmt.Sprintf("customer-%d-m365", i)}, sub); err != nil {
				return err
			}
			if sub.Status.Phase != v1alpha1.PhaseAwaitingApproval || condition(sub.Status.Conditions, v1alpha1.ConditionStalled) != nil {
				return errf("%s is %s, conditions %v", sub.Name, sub.Status.Phase, sub.Status.Conditions)
			}
		}
		return nil
	}
	// The third customer may complete before the others' tenants are claimed.
	h.eventually("the throttled subscriptions await approval", awaiting)
	h.consistently("the throttled relationships wait for Retry-After", 2*time.Second, func() error {
		if n := throttled.Load(); n > int32(len(throttledTenants)) {
			return errf("%d throttled requests for %d relationships: asked again before Retry-After", n, len(throttledTenants))
		}
		return awaiting()
	})
	if throttled.Load() == 0 {
		t.Fatal("nothing was throttled; the test proves nothing")
	}
}

// TestNoJoiningAnsweredTransfer: the source partner accepts a transfer
// before the operator read it again (the poll interval is an hour here); a
// subscription declared then must not join it, since it carries nothing
// more: it asks for a transfer of its own.
func TestNoJoiningAnsweredTransfer(t *testing.T) {
	h := start(t, withPollInterval(time.Hour))
	contoso, fabrikam := h.contoso(), h.fabrikam()
	h.woodgroveTrusts(contoso)
	spec := azure("woodgrove", contoso.Name, v1alpha1.Channel{Type: v1alpha1.ChannelCSP, PartnerRef: fabrikam.Name}, "")
	h.subscription("azure-1", spec)
	first := h.waitOperationSent("azure-1").Status.Operation
	h.simPost("/sim/v1/transfers/"+first.ExternalID+"/accept", nil)

	spec.SubscriptionID = "4a1c9e2f-0b7d-4e3a-9c5f-2d8b6a1e7f99"
	h.subscription("azure-2", spec)
	second := h.waitOperationSent("azure-2").Status.Operation
	if second.ExternalID == first.ExternalID {
		t.Fatalf("azure-2 joined transfer %s, which the source partner had accepted", first.ExternalID)
	}
	if n := h.sim.Stats().ObjectsCreated["transfer"]; n != 2 {
		t.Errorf("%d transfers, want 2", n)
	}
}
