package subscription

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	"github.com/partnerops/multichannel-operator/controllers/internal/core"
)

// TestDecideAuthorization: the partner's gate as a table, without a
// cluster: which decision stands, which policy authorizes, and why not.
func TestDecideAuthorization(t *testing.T) {
	target := &v1alpha1.Partner{ObjectMeta: metav1.ObjectMeta{Name: "contoso"}}
	terms := &v1alpha1.Terms{Path: v1alpha1.PathPartnerSwitch, Customer: "woodgrove", CustomerTenantID: "c", Partner: "contoso", PartnerTenantID: "p", SubscriptionID: "s1"}
	other := terms.DeepCopy()
	other.SubscriptionID = "s2"
	trusts := func(name string, partners ...string) v1alpha1.ApprovalPolicy {
		return v1alpha1.ApprovalPolicy{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: v1alpha1.ApprovalPolicySpec{PartnerRefs: partners}}
	}
	decided := func(source v1alpha1.AuthorizationSource, d v1alpha1.AuthorizationDecision, by string, on *v1alpha1.Terms) *v1alpha1.Authorization {
		return &v1alpha1.Authorization{Source: source, Decision: d, By: by, Terms: on}
	}
	allow := func(*v1alpha1.ApprovalPolicy) (bool, string) { return true, "" }
	full := func(*v1alpha1.ApprovalPolicy) (bool, string) {
		return false, "has authorized 5 subscriptions for the customer, its limit"
	}
	for _, tc := range []struct {
		name     string
		path     v1alpha1.SwitchPath
		decision *v1alpha1.Authorization
		policies []v1alpha1.ApprovalPolicy
		reserve  func(*v1alpha1.ApprovalPolicy) (bool, string)
		status   metav1.ConditionStatus
		reason   string
		denied   bool
		recordBy string
		says     string
	}{
		{name: "a path that sends nothing", path: v1alpha1.PathResellerRelationship, status: metav1.ConditionTrue, reason: v1alpha1.ReasonAuthorizationNotRequired},
		{name: "a person denied these terms", decision: decided(v1alpha1.AuthorizationManual, v1alpha1.DecisionAuthorizationDenied, "ada", terms),
			policies: []v1alpha1.ApprovalPolicy{trusts("all", "contoso")}, status: metav1.ConditionFalse, reason: v1alpha1.ReasonAuthorizationDenied, denied: true, says: "ada denied"},
		{name: "a person denied other terms: a policy cannot lift it", decision: decided(v1alpha1.AuthorizationManual, v1alpha1.DecisionAuthorizationDenied, "ada", other),
			policies: []v1alpha1.ApprovalPolicy{trusts("all", "contoso")}, status: metav1.ConditionFalse, reason: v1alpha1.ReasonAwaitingAuthorization, says: "only a person decides"},
		{name: "a person authorized these terms", decision: decided(v1alpha1.AuthorizationManual, v1alpha1.DecisionAuthorized, "ada", terms),
			status: metav1.ConditionTrue, reason: v1alpha1.ReasonAuthorizedByPerson, says: "Authorized by ada"},
		{name: "a policy's authorization it still gives", decision: decided(v1alpha1.AuthorizationFromPolicy, v1alpha1.DecisionAuthorized, v1alpha1.PolicyAuthorizationBy("all"), terms),
			policies: []v1alpha1.ApprovalPolicy{trusts("all", "contoso")}, status: metav1.ConditionTrue, reason: v1alpha1.ReasonAuthorizedByPolicy},
		{name: "a policy narrowed since", decision: decided(v1alpha1.AuthorizationFromPolicy, v1alpha1.DecisionAuthorized, v1alpha1.PolicyAuthorizationBy("all"), terms),
			policies: []v1alpha1.ApprovalPolicy{trusts("all", "fabrikam")}, status: metav1.ConditionFalse, reason: v1alpha1.ReasonAwaitingAuthorization, says: "no longer does"},
		{name: "a policy deleted since", decision: decided(v1alpha1.AuthorizationFromPolicy, v1alpha1.DecisionAuthorized, v1alpha1.PolicyAuthorizationBy("all"), terms),
			status: metav1.ConditionFalse, reason: v1alpha1.ReasonAwaitingAuthorization, says: "no longer exists"},
		{name: "the first policy by name authorizes", policies: []v1alpha1.ApprovalPolicy{trusts("zz", "contoso"), trusts("aa", "contoso")}, reserve: allow,
			status: metav1.ConditionTrue, reason: v1alpha1.ReasonAuthorizedByPolicy, recordBy: v1alpha1.PolicyAuthorizationBy("aa")},
		{name: "a policy past its limit", policies: []v1alpha1.ApprovalPolicy{trusts("all", "contoso")}, reserve: full,
			status: metav1.ConditionFalse, reason: v1alpha1.ReasonAwaitingAuthorization, says: "all has authorized 5 subscriptions"},
		{name: "no policy for the partner", policies: []v1alpha1.ApprovalPolicy{trusts("other", "fabrikam")}, reserve: allow,
			status: metav1.ConditionFalse, reason: v1alpha1.ReasonAwaitingAuthorization, says: "kubectl multichannel approve sub -n ns"},
		{name: "a person authorized other terms: the policies decide", decision: decided(v1alpha1.AuthorizationManual, v1alpha1.DecisionAuthorized, "ada", other),
			policies: []v1alpha1.ApprovalPolicy{trusts("all", "contoso")}, reserve: allow, status: metav1.ConditionTrue, reason: v1alpha1.ReasonAuthorizedByPolicy,
			recordBy: v1alpha1.PolicyAuthorizationBy("all")},
		{name: "terms changed since a policy authorized", decision: decided(v1alpha1.AuthorizationFromPolicy, v1alpha1.DecisionAuthorized, v1alpha1.PolicyAuthorizationBy("all"), other),
			status: metav1.ConditionFalse, reason: v1alpha1.ReasonAwaitingAuthorization, says: "The terms changed since"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sub := &v1alpha1.CustomerSubscription{ObjectMeta: metav1.ObjectMeta{Name: "sub", Namespace: "ns"}}
			sub.Status.Authorization = tc.decision
			path := tc.path
			if path == "" {
				path = v1alpha1.PathPartnerSwitch
			}
			reserve := tc.reserve
			if reserve == nil {
				reserve = func(*v1alpha1.ApprovalPolicy) (bool, string) {
					t.Fatal("a policy's limits were counted")
					return false, ""
				}
			}
			in := authorizationInput{sub: sub, terms: terms, path: path, target: target, now: time.Now(), policies: tc.policies, reserve: reserve}
			// The policies are read unless the path sends nothing or a
			// person's decision speaks for these terms.
			wantRead := tc.reason != v1alpha1.ReasonAuthorizationNotRequired && tc.reason != v1alpha1.ReasonAuthorizedByPerson && !tc.denied &&
				!strings.Contains(tc.says, "only a person decides")
			if needsPolicies(in) != wantRead {
				t.Errorf("needsPolicies = %t, want %t", needsPolicies(in), wantRead)
			}
			v := decideAuthorization(in)
			if v.status != tc.status || v.reason != tc.reason || v.denied != tc.denied || !strings.Contains(v.message, tc.says) {
				t.Errorf("verdict %+v", v)
			}
			switch {
			case tc.recordBy == "" && v.record != nil:
				t.Errorf("recorded %+v", v.record)
			case tc.recordBy != "" && (v.record == nil || v.record.By != tc.recordBy || !core.SameTerms(v.record.Terms, terms)):
				t.Errorf("recorded %+v, want by %s", v.record, tc.recordBy)
			}
		})
	}
}
