package controllers_test

// The red team's attacks (docs/security.md, the threat model), each driven
// as the attacker would: with the role the project ships, through the API
// server and its admission policies, against the real manager and the
// simulator. Each test fails on a version that had the hole.

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
)

const agent = "sam@contoso.example" // holds only multichannel-sales-agent

// editAs changes a subscription's spec as user, retrying on conflicts.
func (h *harness) editAs(user, name string, edit func(*v1alpha1.CustomerSubscriptionSpec)) {
	h.t.Helper()
	c := h.as(user)
	if err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		sub := &v1alpha1.CustomerSubscription{}
		if err := c.Get(h.ctx, client.ObjectKey{Namespace: h.ns, Name: name}, sub); err != nil {
			return err
		}
		edit(&sub.Spec)
		return c.Update(h.ctx, sub)
	}); err != nil {
		h.t.Fatalf("%s editing %s: %v", user, name, err)
	}
}

// nothingMoreBought checks for a while that the simulator sells no more
// line items and creates no more transfers than it has.
func (h *harness) nothingMoreBought(what string, d time.Duration) {
	h.t.Helper()
	st := h.sim.Stats()
	items, transfers := st.ObjectsCreated["orderLineItem"], st.ObjectsCreated["transfer"]
	h.consistently(what, d, func() error {
		now := h.sim.Stats()
		if now.ObjectsCreated["orderLineItem"] != items || now.ObjectsCreated["transfer"] != transfers {
			return errf("line items %d -> %d, transfers %d -> %d", items, now.ObjectsCreated["orderLineItem"], transfers, now.ObjectsCreated["transfer"])
		}
		return nil
	})
}

func (h *harness) authorizedReason(name string) string {
	sub := &v1alpha1.CustomerSubscription{}
	if err := k8sClient.Get(h.ctx, client.ObjectKey{Namespace: h.ns, Name: name}, sub); err != nil {
		h.t.Fatal(err)
	}
	if c := condition(sub.Status.Conditions, v1alpha1.ConditionAuthorized); c != nil {
		return c.Reason
	}
	return ""
}

// Attack 1: a policy authorized an Azure plan, which was bought. The agent
// edits the finished subscription into a million licenses, then makes the
// path None: nothing is bought, for the license nor (second subscription)
// for a transfer.
func TestRedTeamRebuyThroughFinishedSubscription(t *testing.T) {
	h := start(t)
	contoso, fabrikam := h.contoso(), h.fabrikam()
	h.customer("woodgrove")
	h.policy(contoso.Name, func(p *v1alpha1.ApprovalPolicySpec) {
		p.Paths = []v1alpha1.ActingPath{v1alpha1.ActingPath(v1alpha1.PathNewAzureSubscription)}
	})
	h.customerAccepts(contosoTenant)
	h.grant(agent, "sales-agent")
	h.subscription("azure", azure("woodgrove", contoso.Name, v1alpha1.Channel{Type: v1alpha1.ChannelDirect}, v1alpha1.SourceCoexist))
	h.subscription("azure2", azure("woodgrove", contoso.Name, v1alpha1.Channel{Type: v1alpha1.ChannelDirect}, v1alpha1.SourceCoexist))
	h.waitPhase("azure", v1alpha1.PhaseCompleted)
	h.waitPhase("azure2", v1alpha1.PhaseCompleted)
	bought := h.sim.Stats().ObjectsCreated["orderLineItem"]

	h.editAs(agent, "azure", func(s *v1alpha1.CustomerSubscriptionSpec) {
		s.ServiceType, s.Offer = v1alpha1.ServiceLicenseBased, v1alpha1.Offer{ID: "CFQ7TTC0LCHC:0002", DisplayName: "Microsoft 365 E5"}
		s.Quantity, s.Azure, s.State = ptr(int32(1000000)), nil, v1alpha1.SubscriptionCancelled
		s.Term = &v1alpha1.Term{EndDate: date("2026-10-31T00:00:00Z")}
	})
	h.eventually("the million licenses wait for authorization", func() error {
		if r := h.authorizedReason("azure"); r != v1alpha1.ReasonAwaitingAuthorization {
			return errf("authorized reason %q", r)
		}
		return nil
	})
	h.editAs(agent, "azure", func(s *v1alpha1.CustomerSubscriptionSpec) { s.State = v1alpha1.SubscriptionExpired })
	h.editAs(agent, "azure2", func(s *v1alpha1.CustomerSubscriptionSpec) {
		s.Channel = v1alpha1.Channel{Type: v1alpha1.ChannelCSP, PartnerRef: fabrikam.Name}
	})
	h.eventually("the transfer waits for authorization", func() error {
		if r := h.authorizedReason("azure2"); r != v1alpha1.ReasonAwaitingAuthorization {
			return errf("authorized reason %q", r)
		}
		return nil
	})
	h.editAs(agent, "azure2", func(s *v1alpha1.CustomerSubscriptionSpec) { s.State = v1alpha1.SubscriptionSuspended })
	h.nothingMoreBought("nothing is bought or transferred without authorization", 3*time.Second)
	if n := h.sim.Stats().ObjectsCreated["orderLineItem"]; n != bought {
		t.Errorf("%d line items sold, want the %d Azure plans only", n, bought)
	}
}

// Attack 2: a purchase nobody authorized is recorded in the cart of the
// customer's next authorized purchase. The cart sends only purchases whose
// own recorded terms are authorized.
func TestRedTeamRideAnotherPurchasesCart(t *testing.T) {
	h := start(t, withCartWindow(3*time.Second))
	contoso, fabrikam := h.contoso(), h.fabrikam()
	h.customer("woodgrove")
	h.policy(contoso.Name, func(p *v1alpha1.ApprovalPolicySpec) { p.MaxQuantity = ptr(int32(25)) })
	h.customerAccepts(contosoTenant)
	h.subscription("honest", newLicense("woodgrove", fabrikam.Name, contoso.Name, 10))
	var cart string
	h.eventually("the honest purchase records its cart", func() error {
		sub := &v1alpha1.CustomerSubscription{}
		if err := k8sClient.Get(h.ctx, client.ObjectKey{Namespace: h.ns, Name: "honest"}, sub); err != nil {
			return err
		}
		if op := sub.Status.Operation; op != nil && op.Cart != "" {
			cart = op.Cart
			return nil
		}
		return errf("operation %+v", sub.Status.Operation)
	})
	// The rider's record, as if the operator had written it: in the same
	// cart, with terms, without any authorization.
	rider := h.subscription("rider", newLicense("woodgrove", fabrikam.Name, contoso.Name, 1000))
	h.eventually("the rider waits for authorization", func() error {
		if r := h.authorizedReason("rider"); r != v1alpha1.ReasonAwaitingAuthorization {
			return errf("authorized reason %q", r)
		}
		return nil
	})
	if err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := k8sClient.Get(h.ctx, client.ObjectKeyFromObject(rider), rider); err != nil {
			return err
		}
		now := metav1.Now()
		rider.Status.Operation = &v1alpha1.Operation{ID: "0b0e5a55-1f3c-4f7e-8d2a-6c4b3a291e10", Type: v1alpha1.OperationCreateLicenseSubscription,
			Attempt: 1, StartedAt: &now, Cart: cart, Terms: rider.Status.Terms}
		return k8sClient.Status().Update(h.ctx, rider)
	}); err != nil {
		t.Fatal(err)
	}
	h.waitPhase("honest", v1alpha1.PhaseCompleted)
	h.nothingMoreBought("the rider is not bought", 2*time.Second)
	if n := h.sim.Stats().ObjectsCreated["orderLineItem"]; n != 1 {
		t.Errorf("%d line items sold, want 1 (the honest purchase)", n)
	}
	if r := h.authorizedReason("rider"); r != v1alpha1.ReasonAwaitingAuthorization {
		t.Errorf("the rider's authorization: %q", r)
	}
}

// Attack 3: within the cart window after an authorized purchase was
// recorded, the agent moves the subscription to another customer: the API
// server refuses (what an operation records cannot change while it is in
// flight). The agent then changes what the spec asks for through a field
// that may change (the source's state): the recorded purchase, never sent,
// is abandoned, and nothing is bought. A Customer's tenant cannot change at
// all.
func TestRedTeamChangeTermsAfterAuthorization(t *testing.T) {
	h := start(t, withCartWindow(3*time.Second))
	contoso, fabrikam := h.contoso(), h.fabrikam()
	h.woodgroveTrusts(contoso)
	h.customer("northwind")
	h.grant(agent, "sales-agent")
	h.subscription("visio", newLicense("woodgrove", fabrikam.Name, contoso.Name, 10))
	h.eventually("the purchase records its cart", func() error {
		sub := &v1alpha1.CustomerSubscription{}
		if err := k8sClient.Get(h.ctx, client.ObjectKey{Namespace: h.ns, Name: "visio"}, sub); err != nil {
			return err
		}
		if op := sub.Status.Operation; op == nil || op.Cart == "" || sub.Status.Phase != v1alpha1.PhaseSwitching {
			return errf("phase %s, operation %+v", sub.Status.Phase, op)
		}
		return nil
	})
	sub := &v1alpha1.CustomerSubscription{}
	if err := k8sClient.Get(h.ctx, client.ObjectKey{Namespace: h.ns, Name: "visio"}, sub); err != nil {
		t.Fatal(err)
	}
	sub.Spec.CustomerRef = "northwind"
	if err := h.as(agent).Update(h.ctx, sub); err == nil || !strings.Contains(err.Error(), "cannot change while the subscription is Switching") {
		t.Errorf("moving a recorded purchase to another customer: %v; want a refusal", err)
	}
	h.editAs(agent, "visio", func(s *v1alpha1.CustomerSubscriptionSpec) { s.State = v1alpha1.SubscriptionExpired })
	h.eventually("the recorded purchase is abandoned", func() error {
		if len(h.events("CustomerSubscription", "visio", "OperationAbandoned")) == 0 {
			return errf("no OperationAbandoned event")
		}
		return nil
	})
	h.nothingMoreBought("nothing is bought", 4*time.Second)
	if n := h.sim.Stats().ObjectsCreated["orderLineItem"]; n != 0 {
		t.Errorf("%d line items sold, want none", n)
	}

	customer := &v1alpha1.Customer{}
	if err := k8sClient.Get(h.ctx, client.ObjectKey{Namespace: h.ns, Name: "woodgrove"}, customer); err != nil {
		t.Fatal(err)
	}
	customer.Spec.TenantID = fabrikamTenant
	if err := h.as(agent).Update(h.ctx, customer); err == nil || !strings.Contains(err.Error(), "tenantID cannot change") {
		t.Errorf("changing a Customer's tenant: %v; want a refusal", err)
	}
}

// Attack 4: a relationship approved by one tenant does not consent for
// another. The Customer is deleted and declared again with another tenant
// under the same name; its purchase waits for that tenant's consent.
func TestRedTeamConsentBoundToTenant(t *testing.T) {
	h := start(t)
	contoso, fabrikam := h.contoso(), h.fabrikam()
	h.woodgroveTrusts(contoso)
	h.subscription("visio", newLicense("woodgrove", fabrikam.Name, contoso.Name, 10))
	h.waitRelationship("woodgrove-"+contoso.Name, v1alpha1.RelationshipApproved)
	h.waitPhase("visio", v1alpha1.PhaseCompleted)
	bought := h.sim.Stats().ObjectsCreated["orderLineItem"]

	if err := k8sClient.Delete(h.ctx, &v1alpha1.Customer{ObjectMeta: metav1.ObjectMeta{Namespace: h.ns, Name: "woodgrove"}}); err != nil {
		t.Fatal(err)
	}
	h.eventually("the customer is gone", func() error {
		err := k8sClient.Get(h.ctx, client.ObjectKey{Namespace: h.ns, Name: "woodgrove"}, &v1alpha1.Customer{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		return errf("still there: %v", err)
	})
	h.customer("woodgrove", func(c *v1alpha1.Customer) { c.Spec.TenantID = fabrikamTenant })
	h.subscription("visio-2", newLicense("woodgrove", fabrikam.Name, contoso.Name, 10))
	h.eventually("the new tenant's purchase waits for its consent", func() error {
		sub := h.waitPhase("visio-2", v1alpha1.PhaseAwaitingApproval)
		c := condition(sub.Status.Conditions, v1alpha1.ConditionRelationshipApproved)
		if c == nil || c.Status != metav1.ConditionFalse || !strings.Contains(c.Message, "consent counts only for the tenant that gave it") {
			return errf("relationshipApproved = %+v", c)
		}
		return nil
	})
	h.nothingMoreBought("nothing is bought for the other tenant", 2*time.Second)
	if n := h.sim.Stats().ObjectsCreated["orderLineItem"]; n != bought {
		t.Errorf("%d line items sold, want %d", n, bought)
	}
}

// Attack 5: an agent of namespace B declares a Customer with namespace A's
// tenant, and acts through a Partner that does not serve B.
func TestRedTeamAnotherNamespacesCustomer(t *testing.T) {
	other := "t-" + rand.String(6)
	if err := k8sClient.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: other}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = k8sClient.Delete(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: other}})
	})
	h := start(t, withNamespaces(other))
	contoso, fabrikam := h.contoso(), h.fabrikam()
	h.woodgroveTrusts(contoso)
	h.eventually("woodgrove holds its tenant", func() error {
		c := &v1alpha1.Customer{}
		if err := k8sClient.Get(h.ctx, client.ObjectKey{Namespace: h.ns, Name: "woodgrove"}, c); err != nil {
			return err
		}
		if cond := condition(c.Status.Conditions, v1alpha1.ConditionTenantClaimed); cond == nil || cond.Status != metav1.ConditionTrue {
			return errf("tenantClaimed = %+v", cond)
		}
		return nil
	})

	mk := func(obj client.Object) {
		t.Helper()
		if err := k8sClient.Create(h.ctx, obj); err != nil {
			t.Fatal(err)
		}
	}
	mk(&v1alpha1.Customer{ObjectMeta: metav1.ObjectMeta{Namespace: other, Name: "woodgrove"},
		Spec: v1alpha1.CustomerSpec{DisplayName: "woodgrove", TenantID: woodgroveTenant, Country: "US"}})
	mk(&v1alpha1.Customer{ObjectMeta: metav1.ObjectMeta{Namespace: other, Name: "northwind"},
		Spec: v1alpha1.CustomerSpec{DisplayName: "northwind", TenantID: fabrikamTenant, Country: "US"}})
	mk(&v1alpha1.ApprovalPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: other, Name: "trust"},
		Spec: v1alpha1.ApprovalPolicySpec{PartnerRefs: []string{contoso.Name}}})
	spec := newLicense("woodgrove", fabrikam.Name, contoso.Name, 10)
	mk(&v1alpha1.CustomerSubscription{ObjectMeta: metav1.ObjectMeta{Namespace: other, Name: "stolen"}, Spec: spec})
	spec.CustomerRef = "northwind"
	mk(&v1alpha1.CustomerSubscription{ObjectMeta: metav1.ObjectMeta{Namespace: other, Name: "borrowed"}, Spec: spec})

	stalled := func(name, reason, says string) {
		t.Helper()
		h.eventually(name+" is stalled with "+reason, func() error {
			sub := &v1alpha1.CustomerSubscription{}
			if err := k8sClient.Get(h.ctx, client.ObjectKey{Namespace: other, Name: name}, sub); err != nil {
				return err
			}
			c := condition(sub.Status.Conditions, v1alpha1.ConditionStalled)
			if c == nil || c.Reason != reason || !strings.Contains(c.Message, says) {
				return errf("stalled = %+v", c)
			}
			return nil
		})
	}
	stalled("stolen", v1alpha1.ReasonTenantClaimedElsewhere, "belongs to Customer "+h.ns+"/woodgrove")
	stalled("borrowed", v1alpha1.ReasonPartnerNotAllowed, "does not serve namespace "+other)
	h.nothingMoreBought("nothing is bought in namespace "+other, 2*time.Second)
	st := h.sim.Stats()
	if st.ObjectsCreated["orderLineItem"] != 0 || st.RequestsByRoute["GetRelationshipRequest"] > 1 {
		t.Errorf("line items %d, request links %d", st.ObjectsCreated["orderLineItem"], st.RequestsByRoute["GetRelationshipRequest"])
	}
	rrs := &v1alpha1.ResellerRelationshipList{}
	if err := k8sClient.List(h.ctx, rrs, client.InNamespace(other)); err != nil || len(rrs.Items) != 0 {
		t.Errorf("relationships requested in %s: %d (%v)", other, len(rrs.Items), err)
	}
}

// Attack 6: a person denied a purchase a policy covered; the agent changes
// a word of the spec that buys nothing different. The denial stands.
func TestRedTeamDenialStands(t *testing.T) {
	h := start(t)
	contoso, fabrikam := h.contoso(), h.fabrikam()
	h.customer("woodgrove")
	h.policy(contoso.Name)
	h.grant(agent, "sales-agent")
	h.grant("ana@contoso.example", "global-admin")
	h.subscription("visio", newLicense("woodgrove", fabrikam.Name, contoso.Name, 10))
	h.eventually("the policy authorizes while the customer has not consented", func() error {
		if r := h.authorizedReason("visio"); r != v1alpha1.ReasonAuthorizedByPolicy {
			return errf("authorized reason %q", r)
		}
		return nil
	})
	if err := authorizeAs(t, h, "visio", "ana@contoso.example", v1alpha1.DecisionAuthorizationDenied, "ana@contoso.example"); err != nil {
		t.Fatal(err)
	}
	h.waitPhase("visio", v1alpha1.PhaseFailed)
	h.editAs(agent, "visio", func(s *v1alpha1.CustomerSubscriptionSpec) { s.Offer.DisplayName = "Visio, really" })
	h.customerAccepts(contosoTenant)
	h.nothingMoreBought("the denied purchase is not bought", 3*time.Second)
	sub := h.waitPhase("visio", v1alpha1.PhaseFailed)
	if c := condition(sub.Status.Conditions, v1alpha1.ConditionStalled); c == nil || c.Reason != v1alpha1.ReasonAuthorizationDenied {
		t.Errorf("stalled = %+v", c)
	}
	if n := h.sim.Stats().ObjectsCreated["orderLineItem"]; n != 0 {
		t.Errorf("%d line items sold, want none", n)
	}
}

// Attack 7: a person approved one transfer; it failed; the agent's retry
// annotation does not spend that approval again.
func TestRedTeamRetryNeedsDecision(t *testing.T) {
	h := start(t)
	contoso, fabrikam := h.contoso(), h.fabrikam()
	h.customer("woodgrove")
	h.customerAccepts(contosoTenant)
	h.grant(agent, "sales-agent")
	h.grant("ana@contoso.example", "global-admin")
	h.subscription("azure-csp", azure("woodgrove", contoso.Name, v1alpha1.Channel{Type: v1alpha1.ChannelCSP, PartnerRef: fabrikam.Name}, ""))
	h.eventually("the transfer waits for a person", func() error {
		if r := h.authorizedReason("azure-csp"); r != v1alpha1.ReasonAwaitingAuthorization {
			return errf("authorized reason %q", r)
		}
		return nil
	})
	if err := authorizeAs(t, h, "azure-csp", "ana@contoso.example", v1alpha1.DecisionAuthorized, "ana@contoso.example"); err != nil {
		t.Fatal(err)
	}
	first := h.waitOperationSent("azure-csp").Status.Operation
	h.simPost("/sim/v1/transfers/"+first.ExternalID+"/reject", nil)
	h.waitPhase("azure-csp", v1alpha1.PhaseFailed)

	c := h.as(agent)
	if err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		sub := &v1alpha1.CustomerSubscription{}
		if err := c.Get(h.ctx, client.ObjectKey{Namespace: h.ns, Name: "azure-csp"}, sub); err != nil {
			return err
		}
		sub.Annotations = map[string]string{v1alpha1.AnnotationRetry: "again"}
		return c.Update(h.ctx, sub)
	}); err != nil {
		t.Fatal(err)
	}
	h.eventually("the next attempt waits for a decision", func() error {
		sub := &v1alpha1.CustomerSubscription{}
		if err := k8sClient.Get(h.ctx, client.ObjectKey{Namespace: h.ns, Name: "azure-csp"}, sub); err != nil {
			return err
		}
		if sub.Status.RetryRequest != "again" || h.authorizedReason("azure-csp") != v1alpha1.ReasonAwaitingAuthorization {
			return errf("retryRequest %q, authorized %q", sub.Status.RetryRequest, h.authorizedReason("azure-csp"))
		}
		if prev := sub.Status.PreviousOperations; len(prev) != 1 || !strings.Contains(prev[0].AuthorizedBy, "ana@contoso.example (Manual)") {
			return errf("previousOperations = %+v", prev)
		}
		return nil
	})
	h.nothingMoreBought("no second transfer without a decision", 2*time.Second)
	if n := h.sim.Stats().ObjectsCreated["transfer"]; n != 1 {
		t.Errorf("%d transfers, want 1", n)
	}
}

// Attack 8: a policy capped at 25 licenses per subscription, and 50 per
// customer and offer in total, is asked for four subscriptions of 25.
func TestRedTeamCapsCannotBeSplit(t *testing.T) {
	h := start(t)
	contoso, fabrikam := h.contoso(), h.fabrikam()
	h.customer("woodgrove")
	h.policy(contoso.Name, func(p *v1alpha1.ApprovalPolicySpec) {
		p.MaxQuantity, p.MaxQuantityPerCustomer = ptr(int32(25)), ptr(int32(50))
	})
	h.customerAccepts(contosoTenant)
	names := []string{"split-1", "split-2", "split-3", "split-4"}
	for _, n := range names {
		h.subscription(n, newLicense("woodgrove", fabrikam.Name, contoso.Name, 25))
	}
	h.eventually("two are bought and two wait", func() error {
		completed, waiting := 0, 0
		for _, n := range names {
			sub := &v1alpha1.CustomerSubscription{}
			if err := k8sClient.Get(h.ctx, client.ObjectKey{Namespace: h.ns, Name: n}, sub); err != nil {
				return err
			}
			switch {
			case sub.Status.Phase == v1alpha1.PhaseCompleted:
				completed++
			case sub.Status.Phase == v1alpha1.PhaseAwaitingApproval && h.authorizedReason(n) == v1alpha1.ReasonAwaitingAuthorization:
				c := condition(sub.Status.Conditions, v1alpha1.ConditionAuthorized)
				if !strings.Contains(c.Message, "allows at most 50 licenses of CFQ7TTC0LCHC:0002 per customer in total, and 75 would be authorized") {
					return errf("%s: %s", n, c.Message)
				}
				waiting++
			}
		}
		if completed != 2 || waiting != 2 {
			return errf("%d completed, %d waiting", completed, waiting)
		}
		return nil
	})
	// What was bought stays counted when the agent shrinks a finished
	// subscription's spec afterwards.
	for _, n := range names {
		if sub := h.read(n); sub.Status.Phase == v1alpha1.PhaseCompleted {
			h.grant(agent, "sales-agent")
			h.editAs(agent, n, func(s *v1alpha1.CustomerSubscriptionSpec) { s.Quantity = ptr(int32(1)) })
			break
		}
	}
	h.nothingMoreBought("no more than the total", 3*time.Second)
	if n := h.sim.Stats().ObjectsCreated["orderLineItem"]; n != 2 {
		t.Errorf("%d line items sold, want 2", n)
	}
}

// read reads a subscription as it is now.
func (h *harness) read(name string) *v1alpha1.CustomerSubscription {
	h.t.Helper()
	sub := &v1alpha1.CustomerSubscription{}
	if err := k8sClient.Get(h.ctx, client.ObjectKey{Namespace: h.ns, Name: name}, sub); err != nil {
		h.t.Fatal(err)
	}
	return sub
}
