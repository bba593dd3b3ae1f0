package controllers_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/util/retry"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	"github.com/partnerops/multichannel-operator/internal/partnercenter/sim"
)

// TestIneligibleReasonsShownAsIneligible: each reason of the table that makes
// a subscription ineligible shows as phase Ineligible, Stalled with that reason.
func TestIneligibleReasonsShownAsIneligible(t *testing.T) {
	h := start(t)
	contoso, fabrikam := h.contoso(), h.fabrikam()
	msp := h.partner("msp", "7a8b9c0d-1e2f-4a3b-9c4d-5e6f7a8b9c0d", v1alpha1.CSPTypeNone, false)
	direct := h.partner("direct", "1f2e3d4c-5b6a-4978-8695-a4b3c2d1e0f9", v1alpha1.CSPTypeDirectBill, false)
	reseller := h.partner("reseller", "3e5f7a9b-2c4d-4e6f-8a0b-1c2d3e4f5a6b", v1alpha1.CSPTypeIndirectReseller, false,
		func(p *v1alpha1.Partner) { p.Spec.IndirectProviderRef, p.Spec.PartnerID = direct.Name, "5357564" })
	gov := h.partner("gov", "4c5d6e7f-8a9b-4c0d-9e1f-2a3b4c5d6e7f", v1alpha1.CSPTypeDirectBill, false,
		func(p *v1alpha1.Partner) { p.Spec.Cloud = v1alpha1.CloudUSGovernment })
	german := h.partner("german", "5d6e7f8a-9b0c-4d1e-8f2a-3b4c5d6e7f8a", v1alpha1.CSPTypeDirectBill, false,
		func(p *v1alpha1.Partner) { p.Spec.Country = "DE" })
	h.customer("woodgrove")
	h.customer("margie", func(c *v1alpha1.Customer) { c.Spec.CSPPartner = true })

	cases := map[string]struct {
		spec   v1alpha1.CustomerSubscriptionSpec
		reason v1alpha1.EligibilityReason
	}{
		"expired":     {withState(licenseFromEA("woodgrove", contoso.Name), v1alpha1.SubscriptionExpired), v1alpha1.ReasonSubscriptionExpired},
		"csp-partner": {licenseFromEA("margie", contoso.Name), v1alpha1.ReasonCustomerIsCSPPartner},
		"syndication": {azure("woodgrove", contoso.Name, v1alpha1.Channel{Type: v1alpha1.ChannelSyndication}, ""), v1alpha1.ReasonSyndicationChannel},
		"not-csp":     {licenseFromEA("woodgrove", msp.Name), v1alpha1.ReasonTargetNotCSP},
		"reseller":    {licenseFromEA("woodgrove", reseller.Name), v1alpha1.ReasonResellerWithoutProvider},
		"cloud":       {licenseFromEA("woodgrove", gov.Name), v1alpha1.ReasonCloudMismatch},
		"region":      {licenseFromEA("woodgrove", german.Name), v1alpha1.ReasonRegionMismatch},
		"suspended":   {withState(licenseFromCSP("woodgrove", fabrikam.Name, contoso.Name, "2027-06-30T00:00:00Z"), v1alpha1.SubscriptionSuspended), v1alpha1.ReasonSubscriptionSuspended},
	}
	for name, tc := range cases {
		h.subscription(name, tc.spec)
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			sub := h.waitPhase(name, v1alpha1.PhaseIneligible)
			c := condition(sub.Status.Conditions, v1alpha1.ConditionStalled)
			if c == nil || c.Reason != string(tc.reason) || c.Message == "" {
				t.Errorf("stalled = %+v, want reason %s", c, tc.reason)
			}
			if e := condition(sub.Status.Conditions, v1alpha1.ConditionEligible); e == nil || e.Status != metav1.ConditionFalse || e.Reason != string(tc.reason) {
				t.Errorf("eligible = %+v", e)
			}
			if kstatus(t, sub) != status.FailedStatus {
				t.Errorf("kstatus %s, want Failed", kstatus(t, sub))
			}
		})
	}
	list := &v1alpha1.ResellerRelationshipList{}
	if err := k8sClient.List(h.ctx, list, client.InNamespace(h.ns)); err != nil || len(list.Items) != 0 {
		t.Errorf("ineligible subscriptions created %d relationships", len(list.Items))
	}
}

func withState(spec v1alpha1.CustomerSubscriptionSpec, state v1alpha1.SubscriptionState) v1alpha1.CustomerSubscriptionSpec {
	spec.State = state
	return spec
}

func TestEvaluatedWithoutSupportPartner(t *testing.T) {
	h := start(t)
	h.customer("woodgrove")
	spec := licenseFromEA("woodgrove", "")
	h.subscription("teams", spec)
	sub := h.waitPhase("teams", v1alpha1.PhaseEvaluated)
	c := condition(sub.Status.Conditions, v1alpha1.ConditionReady)
	if c == nil || c.Status != metav1.ConditionTrue || c.Reason != "NoSupportPartner" {
		t.Errorf("ready = %+v", c)
	}
	if sub.Status.Eligibility == nil || sub.Status.Eligibility.Path != v1alpha1.PathResellerRelationship {
		t.Errorf("eligibility = %+v", sub.Status.Eligibility)
	}
	if kstatus(t, sub) != status.CurrentStatus {
		t.Errorf("kstatus %s, want Current", kstatus(t, sub))
	}
}

func TestWaitsForMissingReferences(t *testing.T) {
	h := start(t)
	contoso := h.contoso()
	h.subscription("m365", licenseFromEA("woodgrove", contoso.Name))
	sub := &v1alpha1.CustomerSubscription{}
	h.eventually("the subscription says its customer is missing", func() error {
		if err := k8sClient.Get(h.ctx, client.ObjectKey{Namespace: h.ns, Name: "m365"}, sub); err != nil {
			return err
		}
		if c := condition(sub.Status.Conditions, v1alpha1.ConditionReconciling); c == nil || c.Reason != "CustomerNotFound" || !strings.Contains(c.Message, "woodgrove") {
			return errf("reconciling = %+v", c)
		}
		return nil
	})
	if kstatus(t, sub) != status.InProgressStatus {
		t.Errorf("kstatus %s, want InProgress", kstatus(t, sub))
	}
	// GitOps tools apply in any order: the customer arriving later unblocks it.
	h.customer("woodgrove")
	h.waitPhase("m365", v1alpha1.PhaseAwaitingApproval)
}

// TestRelationshipDeniedByHand: a global admin records that the customer
// declined (by phone); the denial is final even for a partner with credentials.
func TestRelationshipDeniedByHand(t *testing.T) {
	h := start(t)
	contoso := h.contoso()
	h.customer("woodgrove")
	h.grant("ana@contoso.example", "global-admin")
	h.subscription("m365", licenseFromEA("woodgrove", contoso.Name))
	rr := h.waitRelationship("woodgrove-"+contoso.Name, v1alpha1.RelationshipRequested)
	if err := recordDecision(t, h, rr, v1alpha1.ConditionDenied, "ana@contoso.example"); err != nil {
		t.Fatalf("a global admin's decision was refused: %v", err)
	}

	rr = h.waitRelationship(rr.Name, v1alpha1.RelationshipDenied)
	if a := rr.Status.Approval; kstatus(t, rr) != status.FailedStatus || a == nil || a.Decision != v1alpha1.DecisionDenied || a.By != "ana@contoso.example" {
		t.Errorf("relationship: kstatus %s, approval %+v", kstatus(t, rr), rr.Status.Approval)
	}
	sub := h.waitPhase("m365", v1alpha1.PhaseFailed)
	if c := condition(sub.Status.Conditions, v1alpha1.ConditionStalled); c == nil || c.Reason != "RelationshipDenied" {
		t.Errorf("stalled = %+v", c)
	}
	if kstatus(t, sub) != status.FailedStatus {
		t.Errorf("kstatus %s, want Failed", kstatus(t, sub))
	}
	// The customer accepting later in Partner Center does not undo a recorded denial.
	h.customerAccepts(contosoTenant)
	h.consistently("the recorded denial stands", 2*time.Second, func() error {
		if err := k8sClient.Get(h.ctx, client.ObjectKeyFromObject(rr), rr); err != nil {
			return err
		}
		if rr.Status.Phase != v1alpha1.RelationshipDenied {
			return errf("phase %s, conditions %v", rr.Status.Phase, rr.Status.Conditions)
		}
		return nil
	})
}

func TestRelationshipExpired(t *testing.T) {
	h := start(t)
	contoso := h.contoso()
	h.customer("woodgrove")
	// A relationship declared in Git with a short expiry is used, not created anew.
	h.create(&v1alpha1.ResellerRelationship{ObjectMeta: metav1.ObjectMeta{Namespace: h.ns, Name: "woodgrove-request"},
		Spec: v1alpha1.ResellerRelationshipSpec{PartnerRef: contoso.Name, CustomerRef: "woodgrove", ExpiresAfter: &metav1.Duration{Duration: time.Hour}}})
	h.subscription("m365", licenseFromEA("woodgrove", contoso.Name))
	h.waitRelationship("woodgrove-request", v1alpha1.RelationshipRequested)
	sub := h.waitPhase("m365", v1alpha1.PhaseAwaitingApproval)
	if sub.Status.RelationshipRef != "woodgrove-request" {
		t.Errorf("relationshipRef = %q, want the declared woodgrove-request", sub.Status.RelationshipRef)
	}

	h.clock.SetTime(h.clock.Now().Add(61 * time.Minute))
	rr := h.waitRelationship("woodgrove-request", v1alpha1.RelationshipExpired)
	if c := condition(rr.Status.Conditions, v1alpha1.ConditionStalled); c == nil || c.Reason != "RelationshipExpired" {
		t.Errorf("stalled = %+v", c)
	}
	sub = h.waitPhase("m365", v1alpha1.PhaseFailed)
	if c := condition(sub.Status.Conditions, v1alpha1.ConditionStalled); c == nil || c.Reason != "RelationshipExpired" || kstatus(t, sub) != status.FailedStatus {
		t.Errorf("stalled = %+v, kstatus %s", c, kstatus(t, sub))
	}
}

func TestApprovalPolicyInvalidSelector(t *testing.T) {
	h := start(t)
	h.create(&v1alpha1.ApprovalPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: h.ns, Name: "broken"},
		Spec: v1alpha1.ApprovalPolicySpec{PartnerSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
			{Key: "tier", Operator: "Around", Values: []string{"gold"}}}}}})
	policy := &v1alpha1.ApprovalPolicy{}
	h.eventually("the policy reports its selector", func() error {
		if err := k8sClient.Get(h.ctx, client.ObjectKey{Namespace: h.ns, Name: "broken"}, policy); err != nil {
			return err
		}
		if c := condition(policy.Status.Conditions, v1alpha1.ConditionStalled); c == nil || c.Reason != "InvalidSelector" {
			return errf("conditions = %v", policy.Status.Conditions)
		}
		return nil
	})
}

func TestUSGovernmentRequiresDelegatedAdmin(t *testing.T) {
	h := start(t)
	contoso := h.contoso(func(p *v1alpha1.Partner) { p.Spec.Cloud = v1alpha1.CloudUSGovernment })
	h.customer("agency", func(c *v1alpha1.Customer) { c.Spec.Cloud = v1alpha1.CloudUSGovernment })
	h.create(&v1alpha1.ResellerRelationship{ObjectMeta: metav1.ObjectMeta{Namespace: h.ns, Name: "no-dap"},
		Spec: v1alpha1.ResellerRelationshipSpec{PartnerRef: contoso.Name, CustomerRef: "agency", DelegatedAdmin: ptr(false)}})
	rr := &v1alpha1.ResellerRelationship{}
	h.eventually("the request is stalled", func() error {
		if err := k8sClient.Get(h.ctx, client.ObjectKey{Namespace: h.ns, Name: "no-dap"}, rr); err != nil {
			return err
		}
		if c := condition(rr.Status.Conditions, v1alpha1.ConditionStalled); c == nil || c.Reason != "DelegatedAdminRequired" {
			return errf("conditions = %v", rr.Status.Conditions)
		}
		return nil
	})
	if rr.Status.InvitationURL != "" || h.sim.Stats().RequestsByRoute["GetRelationshipRequest"] != 0 {
		t.Error("a request was sent to Partner Center")
	}
}

// TestNothingBoughtBeforeCustomerAccepts: a policy authorizes the purchase,
// but only the customer approves the relationship: until Partner Center shows
// it, the subscription waits, nothing is bought, and the link was requested.
func TestNothingBoughtBeforeCustomerAccepts(t *testing.T) {
	h := start(t)
	contoso := h.contoso()
	h.customer("woodgrove")
	h.policy(contoso.Name)
	h.subscription("azure", azure("woodgrove", contoso.Name, v1alpha1.Channel{Type: v1alpha1.ChannelDirect}, ""))
	rr := h.waitRelationship("woodgrove-"+contoso.Name, v1alpha1.RelationshipRequested)
	if rr.Status.InvitationURL == "" {
		t.Error("the request link was not asked for")
	}
	sub := &v1alpha1.CustomerSubscription{}
	h.eventually("the subscription waits for the customer, authorized", func() error {
		sub = h.waitPhase("azure", v1alpha1.PhaseAwaitingApproval)
		authorized := condition(sub.Status.Conditions, v1alpha1.ConditionAuthorized)
		consent := condition(sub.Status.Conditions, v1alpha1.ConditionRelationshipApproved)
		reconciling := condition(sub.Status.Conditions, v1alpha1.ConditionReconciling)
		if authorized == nil || authorized.Status != "True" || consent == nil || consent.Status != "False" ||
			reconciling == nil || !strings.Contains(reconciling.Message, rr.Status.InvitationURL) {
			return errf("authorized %+v, consent %+v, reconciling %+v", authorized, consent, reconciling)
		}
		return nil
	})
	if kstatus(t, sub) != status.InProgressStatus {
		t.Errorf("kstatus %s, want InProgress", kstatus(t, sub))
	}
	if st := h.sim.Stats(); st.ObjectsCreated["order"] != 0 || st.RequestsByRoute["CreateCart"] != 0 {
		t.Errorf("bought before the customer accepted: %v, %v", st.ObjectsCreated, st.RequestsByRoute)
	}
	h.customerAccepts(contosoTenant)
	h.waitPhase("azure", v1alpha1.PhaseCompleted)
	if n := h.sim.Stats().ObjectsCreated["order"]; n != 1 {
		t.Errorf("%d orders, want 1", n)
	}
}

func TestPartnerReadiness(t *testing.T) {
	h := start(t, withSim(sim.Options{Credentials: map[string]string{"operator": "s3cret"}}))
	h.create(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: h.ns, Name: "wrong"},
		StringData: map[string]string{"clientID": "operator", "clientSecret": "not-it"}})
	h.create(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: h.ns, Name: "app-only"},
		StringData: map[string]string{"clientID": "operator", "clientSecret": "s3cret"}})
	cases := []struct {
		partner *v1alpha1.Partner
		ready   metav1.ConditionStatus
		reason  string
		kstatus status.Status
		// appUser is the AppUserCalls condition's reason, "" when it must be absent.
		appUser string
	}{
		{h.contoso(), metav1.ConditionTrue, "TokenObtained", status.CurrentStatus, v1alpha1.ReasonUserTokenObtained},
		{h.partner("app-only", "6a7b8c9d-0e1f-4a3b-9c4d-5e6f7a8b9c0d", v1alpha1.CSPTypeDirectBill, true,
			func(p *v1alpha1.Partner) { p.Spec.PartnerCenter.CredentialsSecretRef.Name = "app-only" }),
			metav1.ConditionTrue, "TokenObtained", status.CurrentStatus, v1alpha1.ReasonNoRefreshToken},
		{h.fabrikam(), metav1.ConditionTrue, "ReferenceOnly", status.CurrentStatus, ""},
		{h.partner("no-secret", "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d", v1alpha1.CSPTypeDirectBill, true,
			func(p *v1alpha1.Partner) { p.Spec.PartnerCenter.CredentialsSecretRef.Name = "missing" }),
			metav1.ConditionFalse, "CredentialsNotFound", status.FailedStatus, ""},
		{h.partner("refused", "2a3b4c5d-6e7f-4a8b-9c0d-1e2f3a4b5c6d", v1alpha1.CSPTypeDirectBill, true,
			func(p *v1alpha1.Partner) { p.Spec.PartnerCenter.CredentialsSecretRef.Name = "wrong" }),
			metav1.ConditionFalse, "TokenFailed", status.FailedStatus, ""},
	}
	for _, tc := range cases {
		p := &v1alpha1.Partner{}
		h.eventually("Partner "+tc.partner.Name+" is "+tc.reason, func() error {
			if err := k8sClient.Get(h.ctx, client.ObjectKeyFromObject(tc.partner), p); err != nil {
				return err
			}
			c := condition(p.Status.Conditions, v1alpha1.ConditionReady)
			if c == nil || c.Status != tc.ready || c.Reason != tc.reason {
				return errf("ready = %+v", c)
			}
			appUser := condition(p.Status.Conditions, v1alpha1.ConditionAppUserCalls)
			switch {
			case tc.appUser == "" && appUser != nil:
				return errf("AppUserCalls = %+v, want none", appUser)
			case tc.appUser != "" && (appUser == nil || appUser.Reason != tc.appUser || (appUser.Status == "True") != (tc.appUser == v1alpha1.ReasonUserTokenObtained)):
				return errf("AppUserCalls = %+v, want reason %s", appUser, tc.appUser)
			}
			return nil
		})
		if got := kstatus(t, p); got != tc.kstatus {
			t.Errorf("Partner %s: kstatus %s, want %s", p.Name, got, tc.kstatus)
		}
		if c := condition(p.Status.Conditions, v1alpha1.ConditionReady); strings.Contains(c.Message, "s3cret") || strings.Contains(c.Message, "not-it") {
			t.Errorf("Partner %s: a secret leaked into the condition: %s", p.Name, c.Message)
		}
	}
}

// TestFallbackToIneligibleDropsStaleConditions: a Completed subscription
// whose source is later recorded Expired is Ineligible, and no longer says
// it was switched or approved.
func TestFallbackToIneligibleDropsStaleConditions(t *testing.T) {
	h := start(t)
	contoso := h.contoso()
	h.customer("woodgrove")
	h.customerAccepts(contosoTenant)
	h.subscription("m365", licenseFromEA("woodgrove", contoso.Name))
	sub := h.waitPhase("m365", v1alpha1.PhaseCompleted)
	if condition(sub.Status.Conditions, v1alpha1.ConditionSwitched) == nil {
		t.Fatal("no Switched condition while Completed: the check below would prove nothing")
	}
	if err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := k8sClient.Get(h.ctx, client.ObjectKeyFromObject(sub), sub); err != nil {
			return err
		}
		sub.Spec.State = v1alpha1.SubscriptionExpired
		return k8sClient.Update(h.ctx, sub)
	}); err != nil {
		t.Fatal(err)
	}
	sub = h.waitPhase("m365", v1alpha1.PhaseIneligible)
	for _, typ := range []string{v1alpha1.ConditionSwitched, v1alpha1.ConditionRelationshipApproved, v1alpha1.ConditionAuthorized} {
		if c := condition(sub.Status.Conditions, typ); c != nil {
			t.Errorf("Ineligible still carries %s: %+v", typ, c)
		}
	}
}

// TestCustomerListsAtMost256Relationships: the 257th partner does not make
// the Customer's status patch fail; the list keeps the approved first.
func TestCustomerListsAtMost256Relationships(t *testing.T) {
	h := start(t)
	h.customer("woodgrove")
	for i := range 257 {
		h.create(&v1alpha1.ResellerRelationship{ObjectMeta: metav1.ObjectMeta{Namespace: h.ns, Name: fmt.Sprintf("rr-%03d", i)},
			Spec: v1alpha1.ResellerRelationshipSpec{PartnerRef: fmt.Sprintf("partner-%03d", i), CustomerRef: "woodgrove"}})
	}
	cust := &v1alpha1.Customer{}
	h.eventually("the customer lists 256 of 257 relationships", func() error {
		if err := k8sClient.Get(h.ctx, client.ObjectKey{Namespace: h.ns, Name: "woodgrove"}, cust); err != nil {
			return err
		}
		c := condition(cust.Status.Conditions, v1alpha1.ConditionReady)
		if len(cust.Status.Relationships) != 256 || c == nil || !strings.Contains(c.Message, "257 reseller relationships; status.relationships lists 256") {
			return errf("%d listed, ready %+v", len(cust.Status.Relationships), c)
		}
		return nil
	})
}
