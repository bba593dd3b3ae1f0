package controllers_test

import (
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
)

// Microsoft's rules of today (docs/eligibility.md), as the operator drives
// them. The tests' clock reads 2026-11-24.

// TestRenewingSourceNeverBoughtOver: a legacy license with another CSP
// partner whose term ended with auto-renew on renewed at the source: buying
// it anew would pay twice, so nothing is bought.
func TestRenewingSourceNeverBoughtOver(t *testing.T) {
	h := start(t)
	contoso, fabrikam := h.contoso(), h.fabrikam()
	h.woodgroveTrusts(contoso)
	spec := newLicense("woodgrove", fabrikam.Name, contoso.Name, 10)
	spec.Term.AutoRenew = true
	h.subscription("renews", spec)
	sub := h.waitPhase("renews", v1alpha1.PhaseIneligible)
	if e := sub.Status.Eligibility; e == nil || e.Reason != v1alpha1.ReasonSourceRenews || !strings.Contains(e.Message, "auto-renew on") {
		t.Errorf("eligibility = %+v", e)
	}
	h.nothingMoreBought("nothing is bought over a renewing source", 2*time.Second)
	if n := h.sim.Stats().RequestsByRoute["CreateCart"]; n != 0 {
		t.Errorf("%d carts", n)
	}
}

// TestExpiredLicenseBoughtBeforeItsDeadline: an expired license's users keep
// access for 30 days; within them the partner buys it anew, and the
// deadline is in status.eligibility.notAfter. Past them nothing is bought.
func TestExpiredLicenseBoughtBeforeItsDeadline(t *testing.T) {
	h := start(t)
	contoso, fabrikam := h.contoso(), h.fabrikam()
	h.woodgroveTrusts(contoso)
	recent := newLicense("woodgrove", fabrikam.Name, contoso.Name, 10)
	recent.State, recent.Term.EndDate = v1alpha1.SubscriptionExpired, date("2026-11-10T00:00:00Z")
	h.subscription("recent", recent)
	old := newLicense("woodgrove", fabrikam.Name, contoso.Name, 10)
	old.State, old.Term.EndDate = v1alpha1.SubscriptionExpired, date("2026-10-24T00:00:00Z") // 31 days before
	h.subscription("old", old)

	sub := h.waitPhase("recent", v1alpha1.PhaseCompleted)
	if e := sub.Status.Eligibility; e == nil || e.Reason != v1alpha1.ReasonSourceExpired || e.NotAfter == nil || !e.NotAfter.Equal(date("2026-12-10T00:00:00Z")) {
		t.Errorf("eligibility = %+v", e)
	}
	sub = h.waitPhase("old", v1alpha1.PhaseIneligible)
	if e := sub.Status.Eligibility; e == nil || e.Reason != v1alpha1.ReasonSubscriptionExpired || !strings.Contains(e.Message, "access ended 30 days later") {
		t.Errorf("eligibility = %+v", e)
	}
	if n := h.sim.Stats().ObjectsCreated["orderLineItem"]; n != 1 {
		t.Errorf("%d line items sold, want 1", n)
	}
}

// TestUSGovernmentGDAPRefused: GDAP is not available in Partner Center for
// Microsoft Cloud for US Government: nothing is sent to Graph.
func TestUSGovernmentGDAPRefused(t *testing.T) {
	h := start(t)
	contoso := h.contoso(func(p *v1alpha1.Partner) { p.Spec.Cloud = v1alpha1.CloudUSGovernment })
	h.customer("woodgrove", func(c *v1alpha1.Customer) { c.Spec.Cloud = v1alpha1.CloudUSGovernment })
	h.gdap("helpdesk", contoso.Name)
	h.waitGDAP("helpdesk", v1alpha1.GDAPFailed, func(g *v1alpha1.DelegatedAdminRelationship) error {
		if c := condition(g.Status.Conditions, v1alpha1.ConditionStalled); c == nil || c.Reason != v1alpha1.ReasonNotAvailableInCloud ||
			!strings.Contains(c.Message, "delegatedAdmin: true") {
			return errf("stalled = %+v", c)
		}
		return nil
	})
	time.Sleep(time.Second)
	if n := len(h.graph.Stats().RequestsByRoute); n != 0 {
		t.Errorf("Graph got %v", h.graph.Stats().RequestsByRoute)
	}
}

// TestSourceCancelledMidPurchaseAsksNothing: a person authorized an Azure
// plan whose source is to be cancelled; once the plan exists, recording the
// source as cancelled (as the subscription asks) completes it under the same
// decision: a fact about the source changes nothing that is bought.
func TestSourceCancelledMidPurchaseAsksNothing(t *testing.T) {
	h := start(t)
	contoso := h.contoso()
	h.customer("woodgrove")
	h.customerAccepts(contosoTenant)
	h.grant("ana@contoso.example", "global-admin")
	h.subscription("azure", azure("woodgrove", contoso.Name, v1alpha1.Channel{Type: v1alpha1.ChannelDirect}, v1alpha1.SourceCancelSubscription))
	h.eventually("the purchase waits for a person", func() error {
		if r := h.authorizedReason("azure"); r != v1alpha1.ReasonAwaitingAuthorization {
			return errf("authorized reason %q", r)
		}
		return nil
	})
	if err := authorizeAs(t, h, "azure", "ana@contoso.example", v1alpha1.DecisionAuthorized, "ana@contoso.example"); err != nil {
		t.Fatal(err)
	}
	h.eventually("the plan exists and the source is to be cancelled", func() error {
		sub := h.read("azure")
		if c := condition(sub.Status.Conditions, v1alpha1.ConditionReady); c == nil || c.Reason != v1alpha1.ReasonAwaitingSourceCancellation {
			return errf("ready = %+v", c)
		}
		return nil
	})
	if err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		sub := &v1alpha1.CustomerSubscription{}
		if err := k8sClient.Get(h.ctx, client.ObjectKey{Namespace: h.ns, Name: "azure"}, sub); err != nil {
			return err
		}
		sub.Spec.State = v1alpha1.SubscriptionCancelled
		return k8sClient.Update(h.ctx, sub)
	}); err != nil {
		t.Fatal(err)
	}
	sub := h.waitPhase("azure", v1alpha1.PhaseCompleted)
	if a := sub.Status.Authorization; a == nil || a.By != "ana@contoso.example" || a.Generation != 1 {
		t.Errorf("authorization = %+v; want ana's decision on generation 1, unchanged", a)
	}
	if n := h.sim.Stats().ObjectsCreated["orderLineItem"]; n != 1 {
		t.Errorf("%d line items sold, want 1", n)
	}
}

// TestRenewalWarnedWeeksAhead: a license with another CSP partner that
// auto-renews, waiting for its term's end, warns three weeks before (one
// Warning Event, reason SourceRenewsSoon); one further away only waits.
func TestRenewalWarnedWeeksAhead(t *testing.T) {
	h := start(t)
	contoso, fabrikam := h.contoso(), h.fabrikam()
	h.woodgroveTrusts(contoso)
	soon := licenseFromCSP("woodgrove", fabrikam.Name, contoso.Name, "2026-12-04T00:00:00Z") // the clock reads 2026-11-24
	soon.Term.AutoRenew = true
	h.subscription("soon", soon)
	later := licenseFromCSP("woodgrove", fabrikam.Name, contoso.Name, "2027-01-04T00:00:00Z")
	later.Term.AutoRenew = true
	h.subscription("later", later)
	for name, reason := range map[string]string{"soon": v1alpha1.ReasonSourceRenewsSoon, "later": v1alpha1.ReasonScheduled} {
		h.eventually(name+" is scheduled with "+reason, func() error {
			sub := h.waitPhase(name, v1alpha1.PhaseScheduled)
			if c := condition(sub.Status.Conditions, v1alpha1.ConditionReady); c == nil || c.Reason != reason || !strings.Contains(c.Message, "auto-renew") {
				return errf("ready = %+v", c)
			}
			return nil
		})
	}
	h.waitQuiet()
	if n := len(h.events("CustomerSubscription", "soon", v1alpha1.ReasonSourceRenewsSoon)); n != 1 {
		t.Errorf("%d SourceRenewsSoon events for soon, want 1", n)
	}
	if n := len(h.events("CustomerSubscription", "later", v1alpha1.ReasonSourceRenewsSoon)); n != 0 {
		t.Errorf("%d SourceRenewsSoon events for later, want none", n)
	}
}
