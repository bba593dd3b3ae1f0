package controllers

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/oauth2"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	"github.com/partnerops/multichannel-operator/controllers/internal/core"
	"github.com/partnerops/multichannel-operator/internal/graph"
	pc "github.com/partnerops/multichannel-operator/internal/partnercenter"
	"github.com/partnerops/multichannel-operator/internal/pass"
)

// Each kind's summarize derives its status from the facts a pass found;
// these tests feed it facts directly.

// checkReady fails t unless Ready has status want and reason, or is absent when want is "".
func checkReady(t *testing.T, conds []metav1.Condition, want metav1.ConditionStatus, reason string) {
	t.Helper()
	switch ready := meta.FindStatusCondition(conds, v1alpha1.ConditionReady); {
	case want == "" && ready != nil:
		t.Errorf("Ready = %+v, want none", ready)
	case want != "" && (ready == nil || ready.Status != want || ready.Reason != reason):
		t.Errorf("Ready = %+v, want %s %s", ready, want, reason)
	}
}

func TestPartnerVerdict(t *testing.T) {
	direct := &v1alpha1.Partner{}
	direct.Name = "contoso"
	reseller := &v1alpha1.Partner{Spec: v1alpha1.PartnerSpec{CSPType: v1alpha1.CSPTypeIndirectReseller, IndirectProviderRef: "fabrikam", PartnerID: "123"}}
	invalidGrant := &oauth2.RetrieveError{ErrorCode: "invalid_grant"}
	for _, tc := range []struct {
		name    string
		partner *v1alpha1.Partner
		f       partnerFacts
		ready   bool
		reason  string
		says    string
	}{
		{"unchecked decides nothing", direct, partnerFacts{}, false, "", ""},
		{"reference only", direct, partnerFacts{state: partnerReferenceOnly}, true, v1alpha1.ReasonReferenceOnly, "reference data"},
		{"a reseller without credentials", reseller, partnerFacts{state: partnerReferenceOnly}, true, v1alpha1.ReasonReferenceOnly, "indirect provider fabrikam"},
		{"a reseller whose provider cannot call", reseller, partnerFacts{state: partnerReferenceOnly, providerErr: errors.New("Partner fabrikam does not exist")}, true, v1alpha1.ReasonReferenceOnly, "nothing can be called for it"},
		{"credentials unusable", direct, partnerFacts{state: partnerCredentialsUnusable, credErr: &core.CredentialsError{Reason: v1alpha1.ReasonCredentialsNotFound}}, false, v1alpha1.ReasonCredentialsNotFound, ""},
		{"the token refused", direct, partnerFacts{state: partnerTokenObtained, tokenErr: errors.New("AADSTS7000215"), creds: "Secret s"}, false, v1alpha1.ReasonTokenFailed, "AADSTS7000215"},
		{"a reseller's token", reseller, partnerFacts{state: partnerTokenObtained}, true, v1alpha1.ReasonTokenObtained, "Microsoft Graph (GDAP) only"},
		{"the refresh token refused", direct, partnerFacts{state: partnerTokenObtained, userChecked: true, userErr: invalidGrant}, false, v1alpha1.ReasonRefreshTokenFailed, "kubectl multichannel login contoso"},
		{"no refresh token", direct, partnerFacts{state: partnerTokenObtained, userChecked: true, userErr: pc.ErrUserCredentialsRequired, creds: "Secret s", secret: "Secret s"}, true, v1alpha1.ReasonTokenObtained, "has no refreshToken"},
		{"both tokens", direct, partnerFacts{state: partnerTokenObtained, userChecked: true, creds: "Secret s"}, true, v1alpha1.ReasonTokenObtained, "every call"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := partnerVerdict(tc.partner, tc.f)
			if tc.reason == "" {
				if v.Decided() {
					t.Errorf("verdict %+v, want none", v)
				}
				return
			}
			if v.IsReady() != tc.ready || v.Reason != tc.reason || !strings.Contains(v.Message, tc.says) {
				t.Errorf("verdict %+v, want ready %v, reason %s, saying %q", v, tc.ready, tc.reason, tc.says)
			}
		})
	}
}

func gdapScopeOf(obj *v1alpha1.DelegatedAdminRelationship) *gdapScope {
	return &gdapScope{Pass: &pass.Pass[*v1alpha1.DelegatedAdminRelationship]{Obj: obj, Conds: pass.NewConditions(&obj.Status.Conditions, obj.Generation)}, obj: obj}
}

func TestGDAPSummary(t *testing.T) {
	expiresSoon := metav1.Condition{Type: v1alpha1.ConditionExpiresSoon, Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonExpiresWithin30Days}
	for _, tc := range []struct {
		name        string
		was         v1alpha1.GDAPPhase
		graphStatus string
		facts       func(*gdapScope)
		phase       v1alpha1.GDAPPhase
		ready       metav1.ConditionStatus
		reason      string
		expiresSoon bool
	}{
		{"new", "", "", func(*gdapScope) {}, v1alpha1.GDAPPending, "", "", true},
		{"created in Graph", v1alpha1.GDAPPending, graph.StatusCreated, func(s *gdapScope) { s.observed = true }, v1alpha1.GDAPPending, "", "", true},
		{"awaiting the customer", v1alpha1.GDAPPending, graph.StatusApprovalPending, func(s *gdapScope) {
			s.observed, s.waiting = true, pass.Progressing(v1alpha1.ReasonAwaitingCustomer, "waits.")
		}, v1alpha1.GDAPApprovalPending, metav1.ConditionFalse, v1alpha1.ReasonAwaitingCustomer, true},
		{"active", v1alpha1.GDAPApprovalPending, graph.StatusActive, func(s *gdapScope) {
			s.observed, s.warned, s.active = true, true, "holds its roles."
		}, v1alpha1.GDAPActive, metav1.ConditionTrue, v1alpha1.ReasonAccessActive, false},
		{"active, its end near", v1alpha1.GDAPActive, graph.StatusActive, func(s *gdapScope) {
			s.observed, s.warned, s.active = true, true, "holds its roles."
			s.expiresSoon = pass.Open(v1alpha1.ReasonExpiresWithin7Days, "ends soon.")
		}, v1alpha1.GDAPExpiring, metav1.ConditionTrue, v1alpha1.ReasonAccessActive, true},
		{"a failure", v1alpha1.GDAPPending, "", func(s *gdapScope) { s.fail(v1alpha1.ReasonGraphRejected, "refused.") },
			v1alpha1.GDAPFailed, metav1.ConditionFalse, v1alpha1.ReasonGraphRejected, true},
		{"a failure retried after a spec change", v1alpha1.GDAPFailed, "", func(s *gdapScope) { s.retrying = true }, v1alpha1.GDAPPending, "", "", true},
		{"a failure retried, Graph terminating it", v1alpha1.GDAPFailed, graph.StatusTerminating, func(s *gdapScope) {
			s.retrying, s.observed, s.waiting = true, true, pass.Progressing(v1alpha1.ReasonGDAPTerminating, "terminating.")
		}, v1alpha1.GDAPPending, metav1.ConditionFalse, v1alpha1.ReasonGDAPTerminating, true},
		{"gone from Graph", v1alpha1.GDAPActive, "", func(s *gdapScope) { s.gone = true }, v1alpha1.GDAPTerminated, metav1.ConditionFalse, v1alpha1.ReasonGDAPTerminated, false},
		{"expired", v1alpha1.GDAPExpiring, graph.StatusExpired, func(s *gdapScope) { s.observed = true }, v1alpha1.GDAPExpired, metav1.ConditionFalse, v1alpha1.ReasonRelationshipExpired, false},
		{"being terminated keeps the phase", v1alpha1.GDAPActive, graph.StatusTerminating, func(s *gdapScope) {
			s.observed, s.waiting = true, pass.Progressing(v1alpha1.ReasonGDAPTerminating, "terminating.")
		}, v1alpha1.GDAPActive, metav1.ConditionFalse, v1alpha1.ReasonGDAPTerminating, true},
		{"a blocker outweighs access", v1alpha1.GDAPActive, graph.StatusActive, func(s *gdapScope) {
			s.observed, s.blocker = true, pass.Stalled(v1alpha1.ReasonAccessAssignmentError, "no group.")
		}, v1alpha1.GDAPActive, metav1.ConditionFalse, v1alpha1.ReasonAccessAssignmentError, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obj := &v1alpha1.DelegatedAdminRelationship{}
			obj.Status.Phase, obj.Status.GraphStatus = tc.was, tc.graphStatus
			obj.Status.Conditions = []metav1.Condition{expiresSoon}
			s := gdapScopeOf(obj)
			tc.facts(s)
			s.Conds.Apply(summarizeGDAP(s), nil)
			if obj.Status.Phase != tc.phase {
				t.Errorf("phase = %s, want %s", obj.Status.Phase, tc.phase)
			}
			checkReady(t, obj.Status.Conditions, tc.ready, tc.reason)
			if got := meta.FindStatusCondition(obj.Status.Conditions, v1alpha1.ConditionExpiresSoon) != nil; got != tc.expiresSoon {
				t.Errorf("ExpiresSoon present %v, want %v", got, tc.expiresSoon)
			}
		})
	}
}

func TestRelationshipSummary(t *testing.T) {
	for _, tc := range []struct {
		name   string
		was    v1alpha1.RelationshipPhase
		url    string
		facts  func(*relationshipScope)
		phase  v1alpha1.RelationshipPhase
		ready  metav1.ConditionStatus
		reason string
	}{
		{"new", "", "", func(*relationshipScope) {}, v1alpha1.RelationshipPending, "", ""},
		{"the link asked for", v1alpha1.RelationshipPending, "https://admin.microsoft.com/x", func(s *relationshipScope) {
			s.waiting = pass.Progressing(v1alpha1.ReasonAwaitingApproval, "waits.")
		}, v1alpha1.RelationshipRequested, metav1.ConditionFalse, v1alpha1.ReasonAwaitingApproval},
		{"a blocker outweighs waiting", v1alpha1.RelationshipRequested, "https://admin.microsoft.com/x", func(s *relationshipScope) {
			s.waiting = pass.Progressing(v1alpha1.ReasonAwaitingApproval, "waits.")
			s.blocker = pass.Stalled(v1alpha1.ReasonPartnerNotReady, "no refresh token.")
		}, v1alpha1.RelationshipRequested, metav1.ConditionFalse, v1alpha1.ReasonPartnerNotReady},
		{"expired in this pass", v1alpha1.RelationshipRequested, "https://admin.microsoft.com/x", func(s *relationshipScope) {
			s.waiting = pass.Progressing(v1alpha1.ReasonAwaitingApproval, "waits.")
			s.decision = v1alpha1.RelationshipExpired
		}, v1alpha1.RelationshipExpired, metav1.ConditionFalse, v1alpha1.ReasonRelationshipExpired},
		{"approved in this pass", v1alpha1.RelationshipRequested, "https://admin.microsoft.com/x", func(s *relationshipScope) {
			s.decision = v1alpha1.RelationshipApproved
			s.approved = pass.Open(v1alpha1.ReasonApprovedInPartnerCenter, "Approved.")
		}, v1alpha1.RelationshipApproved, metav1.ConditionTrue, v1alpha1.ReasonRelationshipApproved},
		{"expired while waiting", v1alpha1.RelationshipExpired, "https://admin.microsoft.com/x", func(s *relationshipScope) {
			s.waiting = pass.Progressing(v1alpha1.ReasonAwaitingApproval, "waits.")
		}, v1alpha1.RelationshipExpired, metav1.ConditionFalse, v1alpha1.ReasonRelationshipExpired},
		{"approved", v1alpha1.RelationshipApproved, "https://admin.microsoft.com/x", func(s *relationshipScope) {
			s.approved = pass.Open(v1alpha1.ReasonApprovedInPartnerCenter, "Approved.")
		}, v1alpha1.RelationshipApproved, metav1.ConditionTrue, v1alpha1.ReasonRelationshipApproved},
		{"denied", v1alpha1.RelationshipDenied, "", func(*relationshipScope) {}, v1alpha1.RelationshipDenied, metav1.ConditionFalse, v1alpha1.ReasonRelationshipDenied},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rr := &v1alpha1.ResellerRelationship{}
			rr.Status.Phase, rr.Status.InvitationURL = tc.was, tc.url
			s := &relationshipScope{Pass: &pass.Pass[*v1alpha1.ResellerRelationship]{Obj: rr, Conds: pass.NewConditions(&rr.Status.Conditions, 1)}, rr: rr}
			tc.facts(s)
			s.Conds.Apply(summarizeRelationship(s), nil)
			if rr.Status.Phase != tc.phase {
				t.Errorf("phase = %s, want %s", rr.Status.Phase, tc.phase)
			}
			checkReady(t, rr.Status.Conditions, tc.ready, tc.reason)
			if s.approved.Known() && meta.FindStatusCondition(rr.Status.Conditions, v1alpha1.ConditionApproved) == nil {
				t.Error("Approved was not written")
			}
		})
	}
}

func TestCustomerSummary(t *testing.T) {
	claimed := pass.Open(v1alpha1.ReasonTenantClaimed, "Tenant t belongs to this Customer.")
	for _, tc := range []struct {
		name    string
		f       customerFacts
		invited metav1.ConditionStatus
		ready   metav1.ConditionStatus
		reason  string
	}{
		{"failed before the claim", customerFacts{}, metav1.ConditionTrue, "", ""},
		{"claimed elsewhere", customerFacts{claim: pass.Closed(v1alpha1.ReasonTenantClaimedElsewhere, "Tenant t belongs to Customer other/c.")}, metav1.ConditionTrue, metav1.ConditionFalse, v1alpha1.ReasonTenantClaimedElsewhere},
		{"valid", customerFacts{claim: claimed, listed: true, complete: true, relationships: []v1alpha1.ResellerRelationship{approvedWith("contoso")}}, metav1.ConditionTrue, metav1.ConditionTrue, v1alpha1.ReasonValid},
		{"valid, without invitations", customerFacts{claim: claimed, listed: true, complete: true, invitations: &invitationScope{summarized: true}}, "", metav1.ConditionTrue, v1alpha1.ReasonValid},
		{"a delivery failed", customerFacts{claim: claimed, listed: true, complete: true, relationships: []v1alpha1.ResellerRelationship{approvedWith("contoso")}, invitations: &invitationScope{summarized: true,
			invited: pass.Closed(v1alpha1.ReasonDeliveryFailed, "refused."), stalled: "refused."}}, metav1.ConditionFalse, metav1.ConditionFalse, v1alpha1.ReasonDeliveryFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &v1alpha1.Customer{}
			c.Status.Conditions = []metav1.Condition{{Type: v1alpha1.ConditionInvited, Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonDelivered}}
			if tc.f.invitations == nil {
				tc.f.invitations = &invitationScope{}
			}
			tc.f.agreement = &agreementScope{}
			conds := pass.NewConditions(&c.Status.Conditions, 1)
			conds.Apply(summarizeCustomer(conds, c, tc.f), nil)
			checkReady(t, c.Status.Conditions, tc.ready, tc.reason)
			invited := meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionInvited)
			if (invited == nil) != (tc.invited == "") || (invited != nil && invited.Status != tc.invited) {
				t.Errorf("Invited = %+v, want %q", invited, tc.invited)
			}
			if claim := meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionTenantClaimed); tc.f.claim.Known() && (claim == nil || claim.Status != tc.f.claim.Status()) {
				t.Errorf("TenantClaimed = %+v, want %s", claim, tc.f.claim.Status())
			}
			if len(tc.f.relationships) > 0 && c.Status.Relationships == nil {
				t.Error("status.relationships was not derived from the relationships listed")
			}
		})
	}
}

func approvedWith(partner string) v1alpha1.ResellerRelationship {
	rr := v1alpha1.ResellerRelationship{Spec: v1alpha1.ResellerRelationshipSpec{PartnerRef: partner, CustomerRef: "woodgrove"}}
	rr.Name, rr.Status.Phase = "woodgrove-"+partner, v1alpha1.RelationshipApproved
	return rr
}

// TestAgreementAsTheStepFoundIt: the invitation step reads AgreementAccepted
// as the agreement step of the same pass found it, not as an earlier pass
// left it.
func TestAgreementAsTheStepFoundIt(t *testing.T) {
	c := &v1alpha1.Customer{}
	c.Status.Conditions = []metav1.Condition{{Type: v1alpha1.ConditionAgreementAccepted, Status: metav1.ConditionUnknown, Reason: v1alpha1.ReasonAgreementMissing}}
	c.Status.Agreement = &v1alpha1.CustomerAgreementStatus{Partner: "contoso"}
	a := &agreementScope{customer: c}
	if got := a.condition(); got == nil || got.Status != metav1.ConditionUnknown {
		t.Errorf("a step that left the condition: %+v, want the stored one", got)
	}
	if _, asked := agreementAsked(c, a.condition()); asked {
		t.Error("asked for the agreement while Partner Center was not read")
	}
	a.gate = pass.Closed(v1alpha1.ReasonAgreementMissing, "Partner Center holds no acceptance.")
	if partner, asked := agreementAsked(c, a.condition()); !asked || partner != "contoso" {
		t.Errorf("asked %v through %q, want the customer asked through contoso in the pass that found none", asked, partner)
	}
}

func TestPolicySummary(t *testing.T) {
	policy := &v1alpha1.ApprovalPolicy{}
	policy.Status.Matched = 4
	if sum := summarizePolicy(policy, policyFacts{selectorErr: errors.New("bad")}); !sum.Verdict.IsStalled() || sum.Verdict.Reason != v1alpha1.ReasonInvalidSelector || policy.Status.Matched != 0 {
		t.Errorf("invalid selector: %+v, matched %d", sum.Verdict, policy.Status.Matched)
	}
	three := int32(3)
	if sum := summarizePolicy(policy, policyFacts{matched: &three}); !sum.Verdict.IsReady() || policy.Status.Matched != 3 || !strings.Contains(sum.Verdict.Message, "3 subscription(s)") {
		t.Errorf("counted: %+v, matched %d", sum.Verdict, policy.Status.Matched)
	}
	if sum := summarizePolicy(policy, policyFacts{}); sum.Verdict.Decided() || policy.Status.Matched != 3 {
		t.Errorf("a failed pass: %+v, matched %d", sum.Verdict, policy.Status.Matched)
	}
}
