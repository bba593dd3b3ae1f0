package controllers_test

import (
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
)

func licenseFromEA(customer, target string) v1alpha1.CustomerSubscriptionSpec {
	return v1alpha1.CustomerSubscriptionSpec{
		CustomerRef: customer, SubscriptionID: "ea-7712-m365", Offer: v1alpha1.Offer{ID: "CFQ7TTC0LFLX:0001", DisplayName: "Microsoft 365 E3"},
		ServiceType: v1alpha1.ServiceLicenseBased, Quantity: ptr(int32(25)),
		Channel:           v1alpha1.Channel{Type: v1alpha1.ChannelEnterpriseAgreement},
		Term:              &v1alpha1.Term{EndDate: date("2028-12-31T00:00:00Z")},
		SupportPartnerRef: target,
	}
}

// TestResellerRelationshipApprovedInPartnerCenter: a license bought under an
// EA; the operator requests the relationship, the customer accepts in Partner
// Center, and the partner supports the subscription.
func TestResellerRelationshipApprovedInPartnerCenter(t *testing.T) {
	h := start(t)
	contoso := h.contoso()
	h.customer("woodgrove")
	h.subscription("m365", licenseFromEA("woodgrove", contoso.Name))

	sub := h.waitPhase("m365", v1alpha1.PhaseAwaitingApproval)
	if got := kstatus(t, sub); got != status.InProgressStatus {
		t.Errorf("awaiting approval: kstatus %s, want InProgress", got)
	}
	if e := sub.Status.Eligibility; e == nil || e.Path != v1alpha1.PathResellerRelationship || e.Reason != v1alpha1.ReasonMultichannelLicense || !e.Eligible {
		t.Errorf("eligibility = %+v", sub.Status.Eligibility)
	}
	rrName := "woodgrove-" + contoso.Name
	if sub.Status.RelationshipRef != rrName {
		t.Errorf("relationshipRef = %q, want %q", sub.Status.RelationshipRef, rrName)
	}
	rr := h.waitRelationship(rrName, v1alpha1.RelationshipRequested)
	if !strings.Contains(rr.Status.InvitationURL, "partnerId="+contosoTenant) || rr.Status.RequestedAt == nil {
		t.Errorf("requested relationship status = %+v", rr.Status)
	}
	if rr.Labels[v1alpha1.LabelCreatedBy] != v1alpha1.LabelCreatedByValue {
		t.Errorf("the operator's relationship is not labelled: %v", rr.Labels)
	}

	h.customerAccepts(contosoTenant)
	rr = h.waitRelationship(rrName, v1alpha1.RelationshipApproved)
	if a := rr.Status.Approval; a == nil || a.Source != v1alpha1.ApprovalFromPartnerCenter || a.Decision != v1alpha1.DecisionApproved {
		t.Errorf("approval = %+v", rr.Status.Approval)
	}
	sub = h.waitPhase("m365", v1alpha1.PhaseCompleted)
	if got := kstatus(t, sub); got != status.CurrentStatus {
		t.Errorf("completed: kstatus %s, want Current", got)
	}
	for _, typ := range []string{v1alpha1.ConditionEligible, v1alpha1.ConditionRelationshipApproved, v1alpha1.ConditionSwitched, v1alpha1.ConditionReady} {
		c := condition(sub.Status.Conditions, typ)
		if c == nil || c.Status != "True" || c.ObservedGeneration != sub.Generation {
			t.Errorf("condition %s = %+v", typ, c)
		}
	}
	if st := h.sim.Stats(); st.ObjectsCreated["order"] != 0 || st.ObjectsCreated["transfer"] != 0 {
		t.Errorf("the ResellerRelationship path bought or transferred something: %v", st.ObjectsCreated)
	}

	cust := &v1alpha1.Customer{}
	h.eventually("the customer lists the approved relationship", func() error {
		if err := k8sClient.Get(h.ctx, client.ObjectKey{Namespace: h.ns, Name: "woodgrove"}, cust); err != nil {
			return err
		}
		if len(cust.Status.Relationships) != 1 || cust.Status.Relationships[0].Phase != v1alpha1.RelationshipApproved {
			return errf("relationships = %+v", cust.Status.Relationships)
		}
		return nil
	})
}

func azure(customer, target string, channel v1alpha1.Channel, disposition v1alpha1.SourceDisposition) v1alpha1.CustomerSubscriptionSpec {
	return v1alpha1.CustomerSubscriptionSpec{
		CustomerRef: customer, SubscriptionID: "4a1c9e2f-0b7d-4e3a-9c5f-2d8b6a1e7f30", Offer: v1alpha1.Offer{ID: "MS-AZR-0003P", DisplayName: "Azure"},
		ServiceType: v1alpha1.ServiceUsageBased, Channel: channel,
		Azure: &v1alpha1.AzureSource{SourceDisposition: disposition}, SupportPartnerRef: target,
	}
}

func licenseFromCSP(customer, source, target, endDate string) v1alpha1.CustomerSubscriptionSpec {
	return v1alpha1.CustomerSubscriptionSpec{
		CustomerRef: customer, SubscriptionID: "9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d", Offer: v1alpha1.Offer{ID: "CFQ7TTC0LCHC:0002", DisplayName: "Microsoft 365 Business Premium"},
		ServiceType: v1alpha1.ServiceLicenseBased, Quantity: ptr(int32(30)),
		Channel: v1alpha1.Channel{Type: v1alpha1.ChannelCSP, PartnerRef: source},
		Term:    &v1alpha1.Term{EndDate: date(endDate)}, SupportPartnerRef: target,
	}
}

// TestNewAzureSubscriptionCoexist: Azure bought directly; the partner creates
// an Azure plan that coexists with it. Approved by an ApprovalPolicy.
func TestNewAzureSubscriptionCoexist(t *testing.T) {
	h := start(t)
	contoso := h.contoso()
	h.woodgroveTrusts(contoso)
	h.subscription("azure", azure("woodgrove", contoso.Name, v1alpha1.Channel{Type: v1alpha1.ChannelDirect}, v1alpha1.SourceCoexist))

	sub := h.waitPhase("azure", v1alpha1.PhaseCompleted)
	if kstatus(t, sub) != status.CurrentStatus {
		t.Errorf("kstatus %s, want Current", kstatus(t, sub))
	}
	op := sub.Status.Operation
	if op == nil || op.Type != v1alpha1.OperationCreateAzurePlan || op.ID == "" || op.ExternalID == "" || op.StartedAt == nil || op.CompletedAt == nil {
		t.Fatalf("operation = %+v", op)
	}
	st := h.sim.Stats()
	if st.ObjectsCreated["order"] != 1 || st.ObjectsCreated["subscription"] != 1 {
		t.Errorf("created %v, want one order and one subscription", st.ObjectsCreated)
	}
	if sub.Status.TargetSubscriptionID == "" {
		t.Error("no targetSubscriptionID")
	}
	// The customer's consent came from Partner Center, the partner's authority from its policy.
	rr := h.waitRelationship(sub.Status.RelationshipRef, v1alpha1.RelationshipApproved)
	if a := rr.Status.Approval; a == nil || a.Source != v1alpha1.ApprovalFromPartnerCenter || !strings.Contains(a.By, woodgroveTenant) {
		t.Errorf("approval = %+v", rr.Status.Approval)
	}
	if a := sub.Status.Authorization; a == nil || a.Source != v1alpha1.AuthorizationFromPolicy || a.By != "ApprovalPolicy trust-"+contoso.Name ||
		a.Decision != v1alpha1.DecisionAuthorized || a.Generation != sub.Generation || a.At == nil {
		t.Errorf("authorization = %+v", sub.Status.Authorization)
	}
	if c := condition(sub.Status.Conditions, v1alpha1.ConditionAuthorized); c == nil || c.Status != "True" || c.Reason != v1alpha1.ReasonAuthorizedByPolicy {
		t.Errorf("authorized = %+v", c)
	}
}

// TestNewAzureSubscriptionCancelSubscription: after the Azure plan is created
// the operator waits until the source is recorded as cancelled.
func TestNewAzureSubscriptionCancelSubscription(t *testing.T) {
	h := start(t)
	contoso := h.contoso()
	h.woodgroveTrusts(contoso)
	h.subscription("azure-ea", azure("woodgrove", contoso.Name, v1alpha1.Channel{Type: v1alpha1.ChannelEnterpriseAgreement}, v1alpha1.SourceCancelSubscription))

	var sub *v1alpha1.CustomerSubscription
	h.eventually("the Azure plan exists and the source awaits cancellation", func() error {
		sub = h.waitPhase("azure-ea", v1alpha1.PhaseSwitching)
		if c := condition(sub.Status.Conditions, v1alpha1.ConditionReconciling); c == nil || c.Reason != "AwaitingSourceCancellation" {
			return errf("reconciling = %+v", c)
		}
		return nil
	})
	if kstatus(t, sub) != status.InProgressStatus || sub.Status.TargetSubscriptionID == "" {
		t.Errorf("kstatus %s, targetSubscriptionID %q", kstatus(t, sub), sub.Status.TargetSubscriptionID)
	}

	sub.Spec.State = v1alpha1.SubscriptionCancelled
	if err := k8sClient.Update(h.ctx, sub); err != nil {
		t.Fatal(err)
	}
	sub = h.waitPhase("azure-ea", v1alpha1.PhaseCompleted)
	if sub.Status.Eligibility.Reason != v1alpha1.ReasonSourceCancelled {
		t.Errorf("after cancellation the reason is %s", sub.Status.Eligibility.Reason)
	}
	if n := h.sim.Stats().ObjectsCreated["order"]; n != 1 {
		t.Errorf("%d orders, want 1: the plan was bought again", n)
	}
}

// TestPartnerSwitchAccepted: Azure from another CSP partner is transferred;
// the customer accepts in Partner Center, a global admin authorizes the
// transfer by hand, and the source partner accepts.
func TestPartnerSwitchAccepted(t *testing.T) {
	h := start(t)
	contoso, fabrikam := h.contoso(), h.fabrikam()
	h.customer("woodgrove")
	h.grant("jane@contoso.example", "global-admin")
	h.subscription("azure-csp", azure("woodgrove", contoso.Name, v1alpha1.Channel{Type: v1alpha1.ChannelCSP, PartnerRef: fabrikam.Name}, ""))

	rrName := "woodgrove-" + contoso.Name
	h.waitRelationship(rrName, v1alpha1.RelationshipRequested)
	h.customerAccepts(contosoTenant)
	h.waitRelationship(rrName, v1alpha1.RelationshipApproved)
	h.eventually("the subscription waits for the partner's authorization only", func() error {
		sub := h.waitPhase("azure-csp", v1alpha1.PhaseAwaitingApproval)
		if c := condition(sub.Status.Conditions, v1alpha1.ConditionReconciling); c == nil || c.Reason != v1alpha1.ReasonAwaitingAuthorization {
			return errf("reconciling = %+v", c)
		}
		return nil
	})
	if err := authorizeAs(t, h, "azure-csp", "jane@contoso.example", v1alpha1.DecisionAuthorized, "jane@contoso.example"); err != nil {
		t.Fatalf("a global admin's authorization was refused: %v", err)
	}

	h.waitOperationSent("azure-csp")
	sub := h.waitPhase("azure-csp", v1alpha1.PhaseSwitching)
	if kstatus(t, sub) != status.InProgressStatus {
		t.Errorf("awaiting the transfer: kstatus %s", kstatus(t, sub))
	}
	h.simPost("/sim/v1/transfers/"+sub.Status.Operation.ExternalID+"/accept", nil)
	sub = h.waitPhase("azure-csp", v1alpha1.PhaseCompleted)
	if sub.Status.TargetSubscriptionID != sub.Spec.SubscriptionID || sub.Status.Operation.CompletedAt == nil {
		t.Errorf("status = %+v", sub.Status)
	}
	if n := h.sim.Stats().ObjectsCreated["transfer"]; n != 1 {
		t.Errorf("%d transfers, want 1", n)
	}
}

// TestPartnerSwitchExpired: the source partner never answers; 30 days later
// the transfer has expired and the subscription has failed.
func TestPartnerSwitchExpired(t *testing.T) {
	h := start(t)
	contoso, fabrikam := h.contoso(), h.fabrikam()
	h.woodgroveTrusts(contoso)
	spec := licenseFromCSP("woodgrove", fabrikam.Name, contoso.Name, "2027-06-30T00:00:00Z")
	spec.Commerce = v1alpha1.CommerceNewCommerce
	h.subscription("nce", spec)

	h.waitOperationSent("nce")
	h.waitPhase("nce", v1alpha1.PhaseSwitching)
	h.simPost("/sim/v1/clock/advance", map[string]string{"duration": "720h"})
	sub := h.waitPhase("nce", v1alpha1.PhaseFailed)
	if c := condition(sub.Status.Conditions, v1alpha1.ConditionStalled); c == nil || c.Reason != "TransferExpired" {
		t.Errorf("stalled = %+v", c)
	}
	if kstatus(t, sub) != status.FailedStatus {
		t.Errorf("kstatus %s, want Failed", kstatus(t, sub))
	}
}

// TestNewLicenseSubscriptionAfterTermEnd: a legacy license whose term with
// another CSP partner ended is bought again with the same offer and quantity.
func TestNewLicenseSubscriptionAfterTermEnd(t *testing.T) {
	h := start(t)
	contoso, fabrikam := h.contoso(), h.fabrikam()
	h.woodgroveTrusts(contoso)
	h.subscription("visio", licenseFromCSP("woodgrove", fabrikam.Name, contoso.Name, "2025-06-30T00:00:00Z"))

	sub := h.waitPhase("visio", v1alpha1.PhaseCompleted)
	assertLicenseBought(t, h, sub, v1alpha1.ReasonSourceTermEnded, "P1Y", "monthly") // spec.purchase's defaults
}

// TestNewLicenseSubscriptionAfterCancellation: the source was cancelled.
func TestNewLicenseSubscriptionAfterCancellation(t *testing.T) {
	h := start(t)
	contoso, fabrikam := h.contoso(), h.fabrikam()
	h.woodgroveTrusts(contoso)
	spec := licenseFromCSP("woodgrove", fabrikam.Name, contoso.Name, "2027-06-30T00:00:00Z")
	spec.State = v1alpha1.SubscriptionCancelled
	spec.Purchase = &v1alpha1.Purchase{TermDuration: v1alpha1.TermThreeYears, BillingCycle: v1alpha1.BillingTriennial}
	h.subscription("project", spec)

	sub := h.waitPhase("project", v1alpha1.PhaseCompleted)
	assertLicenseBought(t, h, sub, v1alpha1.ReasonSourceCancelled, "P3Y", "triennial")
}

func assertLicenseBought(t *testing.T, h *harness, sub *v1alpha1.CustomerSubscription, reason v1alpha1.EligibilityReason, term, cycle string) {
	t.Helper()
	if sub.Status.Eligibility.Path != v1alpha1.PathNewLicenseSubscription || sub.Status.Eligibility.Reason != reason {
		t.Errorf("eligibility = %+v", sub.Status.Eligibility)
	}
	op := sub.Status.Operation
	if op == nil || op.Type != v1alpha1.OperationCreateLicenseSubscription {
		t.Fatalf("operation = %+v", op)
	}
	pcClient := contosoClient(t, h)
	bought, err := pcClient.GetSubscription(h.ctx, woodgroveTenant, sub.Status.TargetSubscriptionID)
	if err != nil {
		t.Fatal(err)
	}
	// The availability the catalog sells for the spec's product and SKU, as recorded.
	if bought.OfferID != op.CatalogItemID || !strings.HasPrefix(op.CatalogItemID, sub.Spec.Offer.ID+":") || bought.Quantity != int(*sub.Spec.Quantity) || bought.BillingType != "license" {
		t.Errorf("bought %+v, want %d of %s (recorded %s)", bought, *sub.Spec.Quantity, sub.Spec.Offer.ID, op.CatalogItemID)
	}
	if bought.TermDuration != term || bought.BillingCycle != cycle {
		t.Errorf("bought a %s term billed %s, want %s billed %s", bought.TermDuration, bought.BillingCycle, term, cycle)
	}
}

// TestWaitForTermEndThenCompleted: a legacy license still in its term is
// scheduled, and completed once the clock passes its notBefore.
func TestWaitForTermEndThenCompleted(t *testing.T) {
	h := start(t)
	contoso, fabrikam := h.contoso(), h.fabrikam()
	h.woodgroveTrusts(contoso)
	end := h.clock.Now().Add(48 * time.Hour).UTC().Format(time.RFC3339)
	h.subscription("m365", licenseFromCSP("woodgrove", fabrikam.Name, contoso.Name, end))

	sub := h.waitPhase("m365", v1alpha1.PhaseScheduled)
	if e := sub.Status.Eligibility; e.Path != v1alpha1.PathWaitForTermEnd || e.NotBefore == nil || e.NotBefore.UTC().Format(time.RFC3339) != end {
		t.Errorf("eligibility = %+v", e)
	}
	if kstatus(t, sub) != status.InProgressStatus {
		t.Errorf("scheduled: kstatus %s, want InProgress", kstatus(t, sub))
	}
	if n := h.sim.Stats().ObjectsCreated["order"]; n != 0 {
		t.Fatalf("bought before the term ended: %d orders", n)
	}

	h.clock.SetTime(h.clock.Now().Add(49 * time.Hour))
	sub = h.waitPhase("m365", v1alpha1.PhaseCompleted)
	if sub.Status.Eligibility.Reason != v1alpha1.ReasonSourceTermEnded || h.sim.Stats().ObjectsCreated["order"] != 1 {
		t.Errorf("after the term: %+v, %v", sub.Status.Eligibility, h.sim.Stats().ObjectsCreated)
	}
}
