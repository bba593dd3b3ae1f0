package controllers_test

import (
	"context"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	"github.com/partnerops/multichannel-operator/internal/decide"
	pc "github.com/partnerops/multichannel-operator/internal/partnercenter"
)

// newCommerceOffer is a new-commerce catalog item (product, SKU,
// availability): what Partner Center gives a cancellation window.
const newCommerceOffer = "CFQ7TTC0LCHC:0002"

// TestPurchaseCancelledWithinTheWindow: a new-commerce purchase records
// its cancellation window; a person with verb approve cancels it within,
// in their own name; the operator cancels it in Partner Center once and
// records the refund, with an Event. After the window the plugin refuses
// and says why, the admission check refuses a request dated after it, and
// the simulator (as Partner Center) refuses one the operator still sends.
func TestPurchaseCancelledWithinTheWindow(t *testing.T) {
	h := start(t)
	contoso, fabrikam := h.contoso(), h.fabrikam()
	h.woodgroveTrusts(contoso)
	const ana, sam = "ana@contoso.example", "sam@contoso.example"
	h.grant(ana, "global-admin")
	h.grant(sam, "sales-agent")
	for _, name := range []string{"visio", "project"} {
		spec := newLicense("woodgrove", fabrikam.Name, contoso.Name, 10)
		spec.Offer.ID = newCommerceOffer
		spec.SubscriptionID = "src-" + name
		h.subscription(name, spec)
	}
	visio := h.waitPhase("visio", v1alpha1.PhaseCompleted)
	until := visio.Status.CancellableUntil
	if p := h.waitPhase("project", v1alpha1.PhaseCompleted); p.Status.CancellableUntil == nil {
		t.Errorf("project's status.cancellableUntil is empty")
	}
	// The two purchases of one cart read their windows from one list of
	// the customer's subscriptions, not one read each.
	if st := h.sim.Stats(); st.RequestsByRoute["GetSubscription"] != 0 || st.RequestsByRoute["ListSubscriptions"] != 1 {
		t.Errorf("the windows were read with %d GetSubscription and %d ListSubscriptions; want one list",
			st.RequestsByRoute["GetSubscription"], st.RequestsByRoute["ListSubscriptions"])
	}
	pcClient := contosoClient(t, h)
	bought, err := pcClient.GetSubscription(h.ctx, woodgroveTenant, visio.Status.TargetSubscriptionID)
	if err != nil {
		t.Fatal(err)
	}
	if until == nil || bought.CancellationAllowedUntilDate == nil || !until.Time.Equal(bought.CancellationAllowedUntilDate.Truncate(time.Second)) {
		t.Fatalf("status.cancellableUntil = %v, Partner Center's cancellationAllowedUntilDate %v", until, bought.CancellationAllowedUntilDate)
	}
	if c := condition(visio.Status.Conditions, v1alpha1.ConditionReady); c == nil || !strings.Contains(c.Message, "kubectl multichannel cancel visio") {
		t.Errorf("Ready = %+v, want it to say until when and how to cancel", c)
	}

	key := client.ObjectKey{Namespace: h.ns, Name: "visio"}
	inWindow := until.Add(-time.Hour)
	// A sales agent may not; nobody may ask in another's name.
	if _, err := decide.RecordCancellation(h.ctx, h.as(sam), key, decide.Cancellation{User: sam, Reason: "mistake", Now: inWindow}); err == nil || !strings.Contains(err.Error(), "forbidden") {
		t.Errorf("a sales agent cancelling: %v, want it forbidden", err)
	}
	if _, err := decide.RecordCancellation(h.ctx, h.as(ana), key, decide.Cancellation{User: "boss@contoso.example", Reason: "mistake", Now: inWindow}); err == nil || !strings.Contains(err.Error(), "must be the user who cancels") {
		t.Errorf("cancelling in another's name: %v, want the admission check's refusal", err)
	}
	out, err := decide.RecordCancellation(h.ctx, h.as(ana), key, decide.Cancellation{User: ana, Reason: "quantity merged by mistake", Now: inWindow})
	if err != nil || !out.Written {
		t.Fatalf("ana cancelling within the window: %+v, %v", out, err)
	}
	h.eventually("the purchase is cancelled in Partner Center and the refund recorded", func() error {
		sub := h.read("visio")
		c := sub.Status.Cancellation
		if c == nil || c.CompletedAt == nil {
			return errf("cancellation %+v", c)
		}
		if !strings.HasPrefix(c.Refund, "Full (until ") || c.By != ana {
			return errf("cancellation %+v, want ana's, with a full refund", c)
		}
		if r := condition(sub.Status.Conditions, v1alpha1.ConditionReady); r == nil || r.Reason != v1alpha1.ReasonPurchaseCancelled {
			return errf("Ready %+v", r)
		}
		return nil
	})
	if got, err := pcClient.GetSubscription(h.ctx, woodgroveTenant, visio.Status.TargetSubscriptionID); err != nil || got.Status != pc.SubscriptionDeleted {
		t.Errorf("in Partner Center the subscription is %+v, %v; want deleted", got, err)
	}
	h.eventually("one PurchaseCancelled Event names who asked", func() error {
		if ev := h.events("CustomerSubscription", "visio", v1alpha1.ReasonPurchaseCancelled); len(ev) != 1 || !strings.Contains(ev[0].Note, ana) {
			return errf("events = %+v", ev)
		}
		return nil
	})
	h.consistently("the cancellation is sent once", time.Second, func() error {
		if n := h.sim.Stats().RequestsByRoute["UpdateSubscription"]; n != 1 {
			return errf("%d subscription updates sent", n)
		}
		return nil
	})
	if out, err := decide.RecordCancellation(h.ctx, h.as(ana), key, decide.Cancellation{User: ana, Reason: "again", Now: inWindow}); err != nil || out.Written {
		t.Errorf("asking again: %+v, %v; want nothing written and no error", out, err)
	}
	h.consistently("one PurchaseCancelled Event", 500*time.Millisecond, func() error {
		if ev := h.events("CustomerSubscription", "visio", v1alpha1.ReasonPurchaseCancelled); len(ev) != 1 {
			return errf("%d events", len(ev))
		}
		return nil
	})

	// After the window the plugin refuses and says why; nothing is written.
	project := h.waitPhase("project", v1alpha1.PhaseCompleted)
	pkey := client.ObjectKey{Namespace: h.ns, Name: "project"}
	late := project.Status.CancellableUntil.Add(time.Second)
	if _, err := decide.RecordCancellation(h.ctx, h.as(ana), pkey, decide.Cancellation{User: ana, Reason: "too late", Now: late}); err == nil || !strings.Contains(err.Error(), "cancellation window of subscription") {
		t.Errorf("cancelling after the window: %v, want a refusal that says the window closed", err)
	}
	// Written by hand with a date after the window, the admission check refuses it.
	fresh := h.read("project")
	fresh.Status.Cancellation = &v1alpha1.Cancellation{By: ana, At: metav1.NewTime(late), Reason: "too late", SubscriptionID: fresh.Status.TargetSubscriptionID}
	if err := h.as(ana).Status().Update(h.ctx, fresh); err == nil || !strings.Contains(err.Error(), "within the cancellation window") {
		t.Errorf("a request dated after the window: %v, want the admission check's refusal", err)
	}
	// Partner Center's clock is past the window, the operator's is not: it
	// sends the request, and Partner Center's refusal is recorded.
	h.simPost("/sim/v1/clock/advance", map[string]string{"duration": "169h"})
	if _, err := decide.RecordCancellation(h.ctx, h.as(ana), pkey, decide.Cancellation{User: ana, Reason: "bought twice", Now: project.Status.CancellableUntil.Add(-time.Minute)}); err != nil {
		t.Fatal(err)
	}
	h.eventually("Partner Center's refusal is recorded", func() error {
		sub := h.read("project")
		c := sub.Status.Cancellation
		if c == nil || c.Refusal == "" || c.CompletedAt != nil || !strings.Contains(c.Refusal, "can no longer be cancelled") {
			return errf("cancellation %+v", c)
		}
		if r := condition(sub.Status.Conditions, v1alpha1.ConditionReady); r == nil || r.Reason != v1alpha1.ReasonCancellationRefused {
			return errf("Ready %+v", r)
		}
		return nil
	})
	if got, _ := pcClient.GetSubscription(context.Background(), woodgroveTenant, project.Status.TargetSubscriptionID); got.Status != pc.SubscriptionActive {
		t.Errorf("the refused cancellation left the subscription %s", got.Status)
	}

	// A cancelled purchase stays so: a later spec change buys nothing again
	// and Ready keeps saying it was cancelled.
	if err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		sub := h.read("visio")
		sub.Spec.Quantity = ptr(int32(11))
		return k8sClient.Update(h.ctx, sub)
	}); err != nil {
		t.Fatal(err)
	}
	h.nothingMoreBought("nothing is bought again for the cancelled purchase", time.Second)
	sub := h.read("visio")
	if r := condition(sub.Status.Conditions, v1alpha1.ConditionReady); r == nil || r.Reason != v1alpha1.ReasonPurchaseCancelled {
		t.Errorf("after a spec change Ready is %+v, want PurchaseCancelled", r)
	}
	if sw := condition(sub.Status.Conditions, v1alpha1.ConditionSwitched); sw == nil || sw.Status != metav1.ConditionFalse {
		t.Errorf("Switched = %+v, want False for a cancelled purchase", sw)
	}
}

// TestCancellationPastTheOperatorsWindowSendsNothing: when the operator's
// own clock is past the window, it sends nothing and says why.
func TestCancellationPastTheOperatorsWindowSendsNothing(t *testing.T) {
	h := start(t)
	contoso, fabrikam := h.contoso(), h.fabrikam()
	h.woodgroveTrusts(contoso)
	const ana = "ana@contoso.example"
	h.grant(ana, "global-admin")
	spec := newLicense("woodgrove", fabrikam.Name, contoso.Name, 10)
	spec.Offer.ID = newCommerceOffer
	h.subscription("visio", spec)
	until := h.waitPhase("visio", v1alpha1.PhaseCompleted).Status.CancellableUntil.Time
	h.clock.SetTime(until.Add(time.Minute))
	sub := h.read("visio")
	sub.Status.Cancellation = &v1alpha1.Cancellation{By: ana, At: metav1.NewTime(until.Add(-time.Minute)), Reason: "late", SubscriptionID: sub.Status.TargetSubscriptionID}
	if err := h.as(ana).Status().Update(h.ctx, sub); err != nil {
		t.Fatal(err)
	}
	h.eventually("the refusal is recorded", func() error {
		c := h.read("visio").Status.Cancellation
		if c == nil || !strings.Contains(c.Refusal, "window closed") {
			return errf("cancellation %+v", c)
		}
		return nil
	})
	if n := h.sim.Stats().RequestsByRoute["UpdateSubscription"]; n != 0 {
		t.Errorf("%d updates sent after the window", n)
	}
}
