package partnercenter_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	pc "github.com/partnerops/multichannel-operator/internal/partnercenter"
	"github.com/partnerops/multichannel-operator/internal/partnercenter/sim"
)

// TestCancellationWindow: a new-commerce purchase shows when it can be
// cancelled until (seven days, learn.microsoft.com/partner-center/developer/
// cancel-an-azure-marketplace-subscription) and the refund that brings; it
// is cancelled within the window, once, and refused after it.
func TestCancellationWindow(t *testing.T) {
	ctx := context.Background()
	_, srv := startSim(t, sim.Options{})
	accept(t, srv.URL, contoso, woodgrove)
	c, _ := newClient(t, srv.URL, contoso)
	buy := func(requestID string) *pc.Subscription {
		t.Helper()
		orders, err := c.CreateOrder(ctx, woodgrove, requestID, []pc.CartLineItem{{CatalogItemID: sim.E3CatalogItem, Quantity: 3, BillingCycle: "monthly", TermDuration: "P1Y"}})
		if err != nil {
			t.Fatal(err)
		}
		sub, err := c.GetSubscription(ctx, woodgrove, orders[0].LineItems[0].SubscriptionID)
		if err != nil {
			t.Fatal(err)
		}
		return sub
	}

	first := buy("op-1")
	until := first.CancellationAllowedUntilDate
	if until == nil || first.CreationDate == nil || until.Sub(*first.CreationDate) != 168*time.Hour {
		t.Fatalf("cancellationAllowedUntilDate = %v for a purchase created %v, want 168 hours later", until, first.CreationDate)
	}
	if len(first.RefundOptions) != 1 || first.RefundOptions[0].Type != "Full" || first.RefundOptions[0].ExpiresAt == nil || !first.RefundOptions[0].ExpiresAt.Equal(*until) {
		t.Errorf("refundOptions = %+v, want a full refund until %v", first.RefundOptions, until)
	}
	cancelled, err := c.CancelSubscription(ctx, woodgrove, first.ID)
	if err != nil || cancelled.Status != pc.SubscriptionDeleted {
		t.Fatalf("CancelSubscription within the window = %+v, %v", cancelled, err)
	}
	again, err := c.CancelSubscription(ctx, woodgrove, first.ID)
	if err != nil || again.Status != pc.SubscriptionDeleted || again.Attributes.Etag != cancelled.Attributes.Etag {
		t.Errorf("a second CancelSubscription = %+v, %v; want the cancelled subscription, unchanged", again, err)
	}

	second := buy("op-2")
	simPost(t, srv.URL, "/sim/v1/clock/advance", map[string]string{"duration": "168h1s"})
	_, err = c.CancelSubscription(ctx, woodgrove, second.ID)
	var e *pc.Error
	if !errors.As(err, &e) || e.StatusCode != http.StatusBadRequest || !pc.IsRefused(err) {
		t.Fatalf("CancelSubscription after the window = %v, want a 400 refusal", err)
	}
	if got, _ := c.GetSubscription(ctx, woodgrove, second.ID); got.Status != pc.SubscriptionActive {
		t.Errorf("after the refused cancellation the subscription is %s", got.Status)
	}
}

// TestIndirectResellerHasNoAPIAccess: Partner Center answers an indirect
// reseller's own calls 403; its indirect provider calls for it, naming it
// as the partner on record of a purchase.
func TestIndirectResellerHasNoAPIAccess(t *testing.T) {
	ctx := context.Background()
	const reseller = "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a"
	_, srv := startSim(t, sim.Options{IndirectResellers: []string{reseller}})
	accept(t, srv.URL, contoso, woodgrove)
	own, _ := newClient(t, srv.URL, reseller)
	var e *pc.Error
	if _, err := own.ListSubscriptions(ctx, woodgrove); !errors.As(err, &e) || e.StatusCode != http.StatusForbidden {
		t.Fatalf("the reseller's own call = %v, want 403", err)
	}
	provider, _ := newClient(t, srv.URL, contoso)
	orders, err := provider.CreateOrder(ctx, woodgrove, "op-1", []pc.CartLineItem{{CatalogItemID: sim.E3CatalogItem, Quantity: 2,
		BillingCycle: "monthly", TermDuration: "P1Y", Participants: []pc.Participant{{Key: pc.ParticipantTransactionReseller, Value: "5357564"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if li := orders[0].LineItems[0]; li.PartnerIDOnRecord != "5357564" {
		t.Errorf("order line item = %+v, want partner on record 5357564", li)
	}
	sub, err := provider.GetSubscription(ctx, woodgrove, orders[0].LineItems[0].SubscriptionID)
	if err != nil || sub.PartnerID != "5357564" {
		t.Errorf("subscription = %+v, %v; want partnerId 5357564", sub, err)
	}
}
