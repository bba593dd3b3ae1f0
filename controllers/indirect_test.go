package controllers_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	pc "github.com/partnerops/multichannel-operator/internal/partnercenter"
	"github.com/partnerops/multichannel-operator/internal/partnercenter/sim"
)

const (
	tailspinTenant  = "9d2c7f4e-1a3b-4c5d-8e6f-0a1b2c3d4e5f" // an indirect provider
	northwindTenant = "3e5f7a9b-2c4d-4e6f-8a0b-1c2d3e4f5a6b" // an indirect reseller that sells through it
	northwindID     = "5357564"                              // northwind's Partner ID
)

// TestIndirectResellerActsThroughItsProvider: what an indirect reseller
// declares is done with its indirect provider's credentials: the request
// link names the reseller (indirectResellerId), the purchase names it as
// partner of record, and Partner Center sees no call with the reseller's own
// credentials (the simulator answers those 403, as an indirect reseller has
// no API access).
func TestIndirectResellerActsThroughItsProvider(t *testing.T) {
	h := start(t, withSim(sim.Options{IndirectResellers: []string{northwindTenant}}))
	fabrikam := h.fabrikam()
	tailspin := h.partner("tailspin", tailspinTenant, v1alpha1.CSPTypeIndirectProvider, true)
	northwind := h.partner("northwind", northwindTenant, v1alpha1.CSPTypeIndirectReseller, true, func(p *v1alpha1.Partner) {
		p.Spec.IndirectProviderRef, p.Spec.PartnerID = tailspin.Name, northwindID
	})
	h.customer("woodgrove")
	h.policy(northwind.Name)
	// The customer accepts the provider's link, which names the reseller.
	h.simPost("/sim/v1/relationships/accept", map[string]string{"partnerTenantId": tailspinTenant, "customerTenantId": woodgroveTenant, "indirectResellerId": northwindTenant})
	spec := newLicense("woodgrove", fabrikam.Name, northwind.Name, 12)
	spec.Offer.ID = newCommerceOffer
	h.subscription("visio", spec)

	sub := h.waitPhase("visio", v1alpha1.PhaseCompleted)
	rr := &v1alpha1.ResellerRelationship{}
	if err := k8sClient.Get(h.ctx, client.ObjectKey{Namespace: h.ns, Name: sub.Status.RelationshipRef}, rr); err != nil {
		t.Fatal(err)
	}
	link, err := url.Parse(rr.Status.InvitationURL)
	if err != nil || link.Query().Get("indirectResellerId") != northwindTenant {
		t.Errorf("request link %q, want it to name the reseller's tenant as indirectResellerId", rr.Status.InvitationURL)
	}
	provider, err := pc.New(pc.Config{Endpoint: h.simURL, AuthorityHost: h.simURL, TenantID: tailspinTenant,
		Credentials: pc.Credentials{ClientID: "test", ClientSecret: "test"}})
	if err != nil {
		t.Fatal(err)
	}
	if rr.Status.Approval == nil || rr.Status.Approval.Source != v1alpha1.ApprovalFromPartnerCenter {
		t.Errorf("approval %+v, want the customer's, as Partner Center shows it", rr.Status.Approval)
	}
	bought, err := provider.GetSubscription(h.ctx, woodgroveTenant, sub.Status.TargetSubscriptionID)
	if err != nil {
		t.Fatalf("the provider does not hold the purchase: %v", err)
	}
	if bought.PartnerID != northwindID || bought.Quantity != 12 {
		t.Errorf("bought %+v, want 12 with partner of record %s", bought, northwindID)
	}
	stats := h.sim.Stats()
	if n := stats.Tenants[northwindTenant].Requests; n != 0 {
		t.Errorf("%d Partner Center calls with the reseller's own credentials, want none", n)
	}
	if n := stats.Tenants[tailspinTenant].Requests; n == 0 {
		t.Error("no call with the provider's credentials")
	}
	h.eventually("the reseller's Partner says whose credentials call for it", func() error {
		p := &v1alpha1.Partner{}
		if err := k8sClient.Get(h.ctx, client.ObjectKeyFromObject(northwind), p); err != nil {
			return err
		}
		if c := condition(p.Status.Conditions, v1alpha1.ConditionReady); c == nil || !strings.Contains(c.Message, "no Partner Center API access of its own") {
			return errf("Ready %+v", c)
		}
		return nil
	})
}

// TestIndirectResellerWithoutItsProvider: a reseller whose provider does not
// exist sends nothing and says why.
func TestIndirectResellerWithoutItsProvider(t *testing.T) {
	h := start(t, withSim(sim.Options{IndirectResellers: []string{northwindTenant}}))
	northwind := h.partner("northwind", northwindTenant, v1alpha1.CSPTypeIndirectReseller, true, func(p *v1alpha1.Partner) {
		p.Spec.IndirectProviderRef, p.Spec.PartnerID = "ghost", northwindID
	})
	h.customer("woodgrove")
	rr := &v1alpha1.ResellerRelationship{}
	rr.Namespace, rr.Name = h.ns, "woodgrove-northwind"
	rr.Spec = v1alpha1.ResellerRelationshipSpec{PartnerRef: northwind.Name, CustomerRef: "woodgrove"}
	h.create(rr)
	h.eventually("the relationship says the provider is missing", func() error {
		got := &v1alpha1.ResellerRelationship{}
		if err := k8sClient.Get(h.ctx, client.ObjectKeyFromObject(rr), got); err != nil {
			return err
		}
		if c := condition(got.Status.Conditions, v1alpha1.ConditionReady); c == nil || !strings.Contains(c.Message, "its indirect provider ghost (spec.indirectProviderRef) does not exist") {
			return errf("Ready %+v", c)
		}
		return nil
	})
	if n := h.sim.Stats().Tenants[northwindTenant].Requests; n != 0 {
		t.Errorf("%d calls with the reseller's own credentials", n)
	}
}

// TestIndirectResellerNeedsTheCustomersOwnConsent: the provider seeing the
// customer (it serves it already) is not the customer's consent to the
// reseller; the reseller's relationship is approved once the customer
// accepts the link that names it. A decision recorded by hand does not
// replace it, as the provider's credentials can observe it.
func TestIndirectResellerNeedsTheCustomersOwnConsent(t *testing.T) {
	h := start(t, withSim(sim.Options{IndirectResellers: []string{northwindTenant}}))
	tailspin := h.partner("tailspin", tailspinTenant, v1alpha1.CSPTypeIndirectProvider, true)
	northwind := h.partner("northwind", northwindTenant, v1alpha1.CSPTypeIndirectReseller, false, func(p *v1alpha1.Partner) {
		p.Spec.IndirectProviderRef, p.Spec.PartnerID = tailspin.Name, northwindID
	})
	h.customer("woodgrove")
	h.customerAccepts(tailspinTenant) // the provider's own relationship, with no reseller
	rr := &v1alpha1.ResellerRelationship{}
	rr.Namespace, rr.Name = h.ns, "woodgrove-northwind"
	rr.Spec = v1alpha1.ResellerRelationshipSpec{PartnerRef: northwind.Name, CustomerRef: "woodgrove"}
	h.create(rr)
	h.eventually("the relationship waits for the customer's consent to the reseller", func() error {
		got := &v1alpha1.ResellerRelationship{}
		if err := k8sClient.Get(h.ctx, client.ObjectKeyFromObject(rr), got); err != nil {
			return err
		}
		if c := condition(got.Status.Conditions, v1alpha1.ConditionReady); got.Status.Phase != v1alpha1.RelationshipRequested || c == nil ||
			!strings.Contains(c.Message, "sees the customer, but not yet with") {
			return errf("phase %s, Ready %+v", got.Status.Phase, c)
		}
		return nil
	})
	h.consistently("it is not approved by the provider's own relationship", 500*time.Millisecond, func() error {
		got := &v1alpha1.ResellerRelationship{}
		if err := k8sClient.Get(h.ctx, client.ObjectKeyFromObject(rr), got); err != nil {
			return err
		}
		if got.Status.Phase == v1alpha1.RelationshipApproved {
			return errf("approved: %+v", got.Status.Approval)
		}
		return nil
	})
	h.simPost("/sim/v1/relationships/accept", map[string]string{"partnerTenantId": tailspinTenant, "customerTenantId": woodgroveTenant, "indirectResellerId": northwindTenant})
	h.waitRelationship(rr.Name, v1alpha1.RelationshipApproved)
}
