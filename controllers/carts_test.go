package controllers_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	"github.com/partnerops/multichannel-operator/internal/partnercenter/sim"
)

// endedLicenses declares customer woodgrove, who accepted contoso (with a
// policy), and two license purchases from contoso, ready together: licenses
// bought from fabrikam whose terms ended, so contoso buys them anew.
func endedLicenses(h *harness, first, second string) *v1alpha1.Partner {
	contoso, fabrikam := h.contoso(), h.fabrikam()
	h.woodgroveTrusts(contoso)
	a := licenseFromCSP("woodgrove", fabrikam.Name, contoso.Name, "2025-06-30T00:00:00Z")
	b := licenseFromCSP("woodgrove", fabrikam.Name, contoso.Name, "2025-06-30T00:00:00Z")
	b.SubscriptionID, b.Offer = "9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6e", v1alpha1.Offer{ID: "CFQ7TTC0LFLZ:0002", DisplayName: "Microsoft 365 E5"}
	h.subscription(first, a)
	h.subscription(second, b)
	return contoso
}

// cartPurchases declares three license purchases of customer woodgrove
// from contoso, ready together. (An Azure subscription is not bought in a
// cart: its customer's one Azure plan is, by the ResellerRelationship.)
func cartPurchases(h *harness) []string {
	contoso := endedLicenses(h, "m365-e3", "m365-e5")
	c := licenseFromCSP("woodgrove", "", contoso.Name, "2025-06-30T00:00:00Z")
	c.Channel.PartnerRef = h.ns + "-fabrikam"
	c.SubscriptionID, c.Offer = "9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c70", v1alpha1.Offer{ID: "CFQ7TTC0LH18:0001", DisplayName: "Microsoft 365 Business Basic"}
	h.subscription("basic", c)
	return []string{"m365-e3", "m365-e5", "basic"}
}

// TestCartSharedByCustomer: three purchases of one customer from one
// partner, ready together, are bought with one cart and one checkout; each
// recorded the cart before it was sent and takes its own subscription.
func TestCartSharedByCustomer(t *testing.T) {
	h := start(t, withCartWindow(5*time.Second))
	names := cartPurchases(h)
	carts, bought := map[string]bool{}, map[string]string{}
	for _, name := range names {
		sub := h.waitPhase(name, v1alpha1.PhaseCompleted)
		carts[sub.Status.Operation.Cart] = true
		if other, dup := bought[sub.Status.TargetSubscriptionID]; dup || sub.Status.TargetSubscriptionID == "" {
			t.Errorf("%s took subscription %q, as %s did", name, sub.Status.TargetSubscriptionID, other)
		}
		bought[sub.Status.TargetSubscriptionID] = name
		got, err := contosoClient(t, h).GetSubscription(h.ctx, woodgroveTenant, sub.Status.TargetSubscriptionID)
		if err != nil {
			t.Fatal(err)
		}
		if want := sub.Spec.Offer.DisplayName + " (" + name + ")"; got.FriendlyName != want {
			t.Errorf("%s's subscription in Partner Center is named %q, want %q", name, got.FriendlyName, want)
		}
	}
	if len(carts) != 1 {
		t.Errorf("the purchases recorded carts %v, want one", carts)
	}
	st := h.sim.Stats()
	if st.RequestsByRoute["CreateCart"] != 1 || st.RequestsByRoute["CheckoutCart"] != 1 || st.ObjectsCreated["cart"] != 1 {
		t.Errorf("%d carts created in %d requests, %d checkouts, want 1, 1, 1", st.ObjectsCreated["cart"], st.RequestsByRoute["CreateCart"], st.RequestsByRoute["CheckoutCart"])
	}
	if n := st.ObjectsCreated["subscription"]; n != len(names) {
		t.Errorf("Partner Center created %d subscriptions for %d purchases", n, len(names))
	}
}

// TestCartLineItemRefused: Partner Center refuses one line item of a shared
// cart (its whole order group fails). The purchases of that group are then
// bought alone: the one at fault fails with Partner Center's reason, the
// other is bought, and nothing is bought twice.
func TestCartLineItemRefused(t *testing.T) {
	const reason = "This offer is not available in the customer's country."
	h := start(t, withCartWindow(5*time.Second), withSim(sim.Options{RefuseAtCheckout: map[string]string{sim.E5CatalogItem: reason}}))
	cartPurchases(h)
	failed := h.waitPhase("m365-e5", v1alpha1.PhaseFailed)
	ready := condition(failed.Status.Conditions, v1alpha1.ConditionReady)
	if ready == nil || ready.Reason != v1alpha1.ReasonPartnerCenterRejected || !strings.Contains(ready.Message, reason) {
		t.Errorf("m365-e5 Ready = %+v, want reason %s naming %q", ready, v1alpha1.ReasonPartnerCenterRejected, reason)
	}
	for _, name := range []string{"m365-e3", "basic"} {
		h.waitPhase(name, v1alpha1.PhaseCompleted)
	}
	h.eventually("m365-e3 was bought alone after the refusal", func() error {
		if ev := h.events("CustomerSubscription", "m365-e3", "BuyingAlone"); len(ev) != 1 {
			return errf("BuyingAlone events %+v", ev)
		}
		return nil
	})
	if n := h.sim.Stats().ObjectsCreated["subscription"]; n != 2 {
		t.Errorf("Partner Center created %d subscriptions, want 2 (m365-e3 and basic)", n)
	}
}

// TestCartMemberRecordedLate: a purchase joins a cart, but its record reaches
// the API server only after the cart was sent without it. Whether Partner
// Center bought the cart or refused it, the late purchase finds nothing of
// its own there: it neither takes the other's line item nor fails with the
// other's refusal, and is bought in a cart of its own.
func TestCartMemberRecordedLate(t *testing.T) {
	for _, refused := range []bool{false, true} {
		t.Run(map[bool]string{false: "answered", true: "refused"}[refused], func(t *testing.T) { testCartMemberRecordedLate(t, refused) })
	}
}

func testCartMemberRecordedLate(t *testing.T, refuseFirstCart bool) {
	const window = 2 * time.Second
	var mu sync.Mutex
	var lateCart string
	delayed := false
	var carts atomic.Int32
	refuse := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/carts") && carts.Add(1) == 1 && refuseFirstCart {
				answerError(w, http.StatusBadRequest, 3000, "Line item 0: the offer is not available for this customer.")
				return
			}
			next.ServeHTTP(w, r)
		})
	}
	h := start(t, withCartWindow(window), withMiddleware(refuse), beforeStatusWrite(func(ctx context.Context, obj client.Object, _ client.Patch) error {
		sub, ok := obj.(*v1alpha1.CustomerSubscription)
		if !ok || sub.Name != "late" || sub.Status.Operation == nil || sub.Status.Operation.Cart == "" {
			return nil
		}
		mu.Lock()
		first := !delayed
		delayed = true
		if first {
			lateCart = sub.Status.Operation.Cart
		}
		mu.Unlock()
		if first {
			// Past the window and the sender's grace for joiners' records.
			select {
			case <-time.After(window + 4*time.Second):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return nil
	}))
	endedLicenses(h, "early", "late")

	want, bought := v1alpha1.PhaseCompleted, 2
	if refuseFirstCart {
		want, bought = v1alpha1.PhaseFailed, 1
	}
	first := h.waitPhase("early", want)
	second := h.waitPhase("late", v1alpha1.PhaseCompleted)
	mu.Lock()
	defer mu.Unlock()
	if lateCart != first.Status.Operation.Cart {
		t.Fatalf("late first recorded cart %q, early was sent in %q: the test did not make late join early's cart", lateCart, first.Status.Operation.Cart)
	}
	if second.Status.Operation.Cart == lateCart {
		t.Errorf("late was bought in cart %s, which was sent without it", lateCart)
	}
	if !refuseFirstCart && first.Status.TargetSubscriptionID == second.Status.TargetSubscriptionID {
		t.Errorf("both took subscription %s", first.Status.TargetSubscriptionID)
	}
	if n := h.sim.Stats().ObjectsCreated["orderLineItem"]; n != bought {
		t.Errorf("Partner Center sold %d subscriptions, want %d", n, bought)
	}
}
