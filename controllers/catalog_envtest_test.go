package controllers_test

import (
	"context"
	"strings"
	"testing"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	"github.com/partnerops/multichannel-operator/internal/partnercenter/sim"
)

// TestOfferNotAvailable: a license whose term with another partner ended,
// under a legacy offer ID, cannot be bought new: the subscription is Stalled OfferNotAvailable,
// saying to name the new-commerce offer in spec.purchase.offerID, and
// nothing is sent. Once named, the purchase buys the availability the
// catalog sells the customer, recorded in status.operation.catalogItemID.
// A customer the catalog does not sell a SKU to gets the same reason.
func TestOfferNotAvailable(t *testing.T) {
	h := start(t, withSim(sim.Options{NotSoldTo: map[string][]string{woodgroveTenant: {"CFQ7TTC0LFLZ:0002"}}}))
	contoso, fabrikam := h.contoso(), h.fabrikam()
	h.woodgroveTrusts(contoso)
	legacy := newLicense("woodgrove", fabrikam.Name, contoso.Name, 10)
	legacy.Offer = v1alpha1.Offer{ID: "MS-O365-E3", DisplayName: "Office 365 E3 (legacy)"}
	h.subscription("legacy", legacy)
	e5 := newLicense("woodgrove", fabrikam.Name, contoso.Name, 10)
	e5.SubscriptionID, e5.Offer = "9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6f", v1alpha1.Offer{ID: "CFQ7TTC0LFLZ:0002", DisplayName: "Microsoft 365 E5"}
	h.subscription("e5", e5)

	for name, want := range map[string]string{"legacy": "is not a new-commerce product and SKU", "e5": "sells no availability of CFQ7TTC0LFLZ:0002"} {
		h.eventually(name+" is not sold", func() error {
			sub := h.read(name)
			c := condition(sub.Status.Conditions, v1alpha1.ConditionReady)
			if c == nil || c.Reason != v1alpha1.ReasonOfferNotAvailable || !strings.Contains(c.Message, want) || !strings.Contains(c.Message, "spec.purchase.offerID") {
				return errf("Ready %+v", c)
			}
			if sub.Status.Operation != nil || kstatus(t, sub) != "Failed" {
				return errf("operation %+v, kstatus %s", sub.Status.Operation, kstatus(t, sub))
			}
			return nil
		})
	}
	if n := h.sim.Stats().RequestsByRoute["CreateCart"]; n != 0 {
		t.Fatalf("%d carts for offers the catalog does not sell", n)
	}

	sub := h.read("legacy")
	sub.Spec.Purchase = &v1alpha1.Purchase{OfferID: "CFQ7TTC0LFLX:0001", TermDuration: v1alpha1.TermOneYear, BillingCycle: v1alpha1.BillingAnnual}
	if err := k8sClient.Update(context.Background(), sub); err != nil {
		t.Fatal(err)
	}
	sub = h.waitPhase("legacy", v1alpha1.PhaseCompleted)
	op := sub.Status.Operation
	if op == nil || !strings.HasPrefix(op.CatalogItemID, "CFQ7TTC0LFLX:0001:") || op.Terms.OfferID != "CFQ7TTC0LFLX:0001" || op.Terms.BillingCycle != "annual" {
		t.Errorf("operation %+v", op)
	}
}
