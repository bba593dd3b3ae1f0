package subscription

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	"github.com/partnerops/multichannel-operator/controllers/internal/core"
	"github.com/partnerops/multichannel-operator/internal/pass"
	"github.com/partnerops/multichannel-operator/internal/policy"
)

// The partner's own gate (docs/workflow.md, Approval): before anything is
// bought, transferred or the source cancelled, an ApprovalPolicy or a person
// with verb approve authorizes the subscription, bound to the terms it would
// send (terms.go).

// authorize is the subscription's authorization phase: it keeps a decision
// that names the current terms, records a matching policy's authorization
// for them, or reports that a person must decide (decideAuthorization says
// which). A person's denial stands: for its terms it stops the
// subscription, and for any other terms only a person decides after it. It
// ends the pass only on a denial; whether the gate is open is left in
// s.authorization for awaitApproval.
func (r *CustomerSubscriptionReconciler) authorize(ctx context.Context, s *subscriptionScope) (*ctrl.Result, error) {
	if confirmed(s.sub.Status.Operation) && policy.NeedsAuthorization(s.result.Path) {
		// Sent under an authorization already checked: what Partner Center
		// created is followed to its end whatever the spec says now.
		return nil, nil
	}
	in := authorizationInput{sub: s.sub, terms: s.terms, path: s.result.Path, target: s.target, now: s.now,
		reserve: func(p *v1alpha1.ApprovalPolicy) (bool, string) {
			return r.totals.reserve(ctx, r.Client, p, s.sub, s.terms)
		}}
	if needsPolicies(in) {
		policies := &v1alpha1.ApprovalPolicyList{}
		if err := r.List(ctx, policies, client.InNamespace(s.sub.Namespace)); err != nil {
			return nil, fmt.Errorf("listing ApprovalPolicies in %s: %w", s.sub.Namespace, err)
		}
		in.policies = policies.Items
	}
	v := decideAuthorization(in)
	s.authorization = pass.GateOf(v.status, v.reason, v.message)
	if v.record != nil {
		s.sub.Status.Authorization = v.record
		name, _ := v1alpha1.AuthorizingPolicy(v.record)
		log.FromContext(ctx).Info("subscription authorized by policy", "policy", name, "terms", describeTerms(s.terms))
	}
	if v.denied {
		s.end = refused(v1alpha1.ReasonAuthorizationDenied, v.message)
		return pass.Done, nil
	}
	return nil, nil
}

// authorizationInput is what the partner's gate decides on.
type authorizationInput struct {
	sub      *v1alpha1.CustomerSubscription
	terms    *v1alpha1.Terms
	path     v1alpha1.SwitchPath
	target   *v1alpha1.Partner
	now      time.Time
	policies []v1alpha1.ApprovalPolicy
	// reserve counts the terms against a policy's per-customer limits,
	// once the policy allows them otherwise.
	reserve func(*v1alpha1.ApprovalPolicy) (bool, string)
}

// authorizationVerdict is what the gate says: the Authorized condition,
// whether a person denied exactly these terms (the subscription fails), and
// a policy's new authorization to record.
type authorizationVerdict struct {
	status  metav1.ConditionStatus
	reason  string
	message string
	denied  bool
	record  *v1alpha1.Authorization
}

func open(reason, message string) authorizationVerdict {
	return authorizationVerdict{status: metav1.ConditionTrue, reason: reason, message: message}
}

func closed(reason, message string) authorizationVerdict {
	return authorizationVerdict{status: metav1.ConditionFalse, reason: reason, message: message}
}

// needsPolicies says whether the decision reads the namespace's policies:
// not for a path that sends nothing, nor when a person's decision speaks
// for these terms.
func needsPolicies(in authorizationInput) bool {
	if !policy.NeedsAuthorization(in.path) {
		return false
	}
	if a := in.sub.Status.Authorization; a != nil && a.Source == v1alpha1.AuthorizationManual {
		_, decided := personsDecision(a, in.terms, "")
		return !decided
	}
	return true
}

// decideAuthorization is the partner's gate, pure but for in.reserve (which
// counts the terms against a policy's per-customer limits): a path that sends
// nothing needs none; a person's decision on these terms stands; a
// policy's earlier authorization stands while the policy still gives it;
// otherwise the first policy (by name) that authorizes the terms, within
// its limits, authorizes them now; otherwise a person must decide.
func decideAuthorization(in authorizationInput) authorizationVerdict {
	if !policy.NeedsAuthorization(in.path) {
		return open(v1alpha1.ReasonAuthorizationNotRequired, fmt.Sprintf("The %s path buys and transfers nothing, so it needs only the customer's consent.", in.path))
	}
	approve := fmt.Sprintf("kubectl multichannel approve %s -n %s", in.sub.Name, in.sub.Namespace)
	a := in.sub.Status.Authorization
	policies := slices.Clone(in.policies)
	sort.Slice(policies, func(i, j int) bool { return policies[i].Name < policies[j].Name })
	switch {
	case a != nil && a.Source == v1alpha1.AuthorizationManual:
		if v, ok := personsDecision(a, in.terms, approve); ok {
			return v
		}
	case a != nil && a.Source == v1alpha1.AuthorizationFromPolicy && core.Covers(a, in.terms):
		return policyStillGives(in, a, policies, approve)
	}
	var refusals []string
	for i := range policies {
		p := &policies[i]
		ok, why := policy.Authorizes(p, in.sub, in.target, in.path)
		if ok {
			ok, why = in.reserve(p)
		}
		if !ok {
			refusals = append(refusals, fmt.Sprintf("%s %s", p.Name, why))
			continue
		}
		now := metav1.NewTime(in.now)
		v := open(v1alpha1.ReasonAuthorizedByPolicy, fmt.Sprintf("Authorized by ApprovalPolicy %s: %s.", p.Name, describeTerms(in.terms)))
		v.record = &v1alpha1.Authorization{
			Decision: v1alpha1.DecisionAuthorized, By: v1alpha1.PolicyAuthorizationBy(p.Name), At: &now,
			Source: v1alpha1.AuthorizationFromPolicy, Generation: in.sub.Generation, Terms: in.terms.DeepCopy(),
			Reason: fmt.Sprintf("The policy covers partner %s, path %s and offer %s.", in.target.Name, in.path, in.sub.Spec.Offer.ID),
		}
		return v
	}
	return closed(v1alpha1.ReasonAwaitingAuthorization, noPolicyAuthorizes(in, a, refusals, approve))
}

// personsDecision: a person's denial of these terms stops the
// subscription; of other terms it leaves the decision to a person; an
// authorization that covers the terms stands. ok is false when the
// decision says nothing of these terms.
func personsDecision(a *v1alpha1.Authorization, terms *v1alpha1.Terms, approve string) (authorizationVerdict, bool) {
	switch {
	case a.Decision == v1alpha1.DecisionAuthorizationDenied && (a.Terms == nil || core.SameTerms(a.Terms, terms)):
		v := closed(v1alpha1.ReasonAuthorizationDenied, fmt.Sprintf("%s denied the operator's authority to send %s%s; a person with verb approve may lift it: %s.",
			a.By, describeTerms(terms), because(a.Reason), approve))
		v.denied = true
		return v, true
	case a.Decision == v1alpha1.DecisionAuthorizationDenied:
		return closed(v1alpha1.ReasonAwaitingAuthorization, fmt.Sprintf(
			"%s denied %s; the spec now asks for %s, and after a person's denial only a person decides: %s.", a.By, describeTerms(a.Terms), describeTerms(terms), approve)), true
	case core.Covers(a, terms):
		return open(v1alpha1.ReasonAuthorizedByPerson, fmt.Sprintf("Authorized by %s: %s%s.", a.By, describeTerms(a.Terms), because(a.Reason))), true
	}
	return authorizationVerdict{}, false
}

// policyStillGives: a policy's authorization stands only while the policy
// still gives it: a policy deleted or narrowed before anything was sent no
// longer authorizes, and a person may then decide. (Its totals were counted
// when it was given.)
func policyStillGives(in authorizationInput, a *v1alpha1.Authorization, policies []v1alpha1.ApprovalPolicy, approve string) authorizationVerdict {
	for i := range policies {
		p := &policies[i]
		if v1alpha1.PolicyAuthorizationBy(p.Name) != a.By {
			continue
		}
		if ok, why := policy.Authorizes(p, in.sub, in.target, in.path); !ok {
			return closed(v1alpha1.ReasonAwaitingAuthorization, fmt.Sprintf(
				"ApprovalPolicy %s authorized %s but no longer does (it %s); a person with verb approve can decide: %s.", p.Name, describeTerms(a.Terms), why, approve))
		}
		return open(v1alpha1.ReasonAuthorizedByPolicy, fmt.Sprintf("Authorized by %s: %s.", a.By, describeTerms(a.Terms)))
	}
	return closed(v1alpha1.ReasonAwaitingAuthorization, fmt.Sprintf(
		"%s authorized %s but the policy no longer exists; a person with verb approve can decide: %s.", a.By, describeTerms(a.Terms), approve))
}

// noPolicyAuthorizes says why no policy authorizes the terms, and who can.
func noPolicyAuthorizes(in authorizationInput, a *v1alpha1.Authorization, refusals []string, approve string) string {
	msg := fmt.Sprintf("No ApprovalPolicy in namespace %s authorizes %s", in.sub.Namespace, describeTerms(in.terms))
	if len(refusals) > maxRefusalsShown {
		refusals = append(refusals[:maxRefusalsShown], fmt.Sprintf("and %d more", len(refusals)-maxRefusalsShown))
	}
	if len(refusals) > 0 {
		msg += " (" + strings.Join(refusals, "; ") + ")"
	}
	if a != nil {
		msg = fmt.Sprintf("The terms changed since %s decided on %s. %s", a.By, describeTerms(a.Terms), msg)
	}
	return msg + "; a person with verb approve can decide: " + approve + "."
}

// maxRefusalsShown bounds the policies a message explains, so that a
// namespace with many policies keeps its condition message short.
const maxRefusalsShown = 5

func because(reason string) string {
	if reason == "" {
		return ""
	}
	return " (" + reason + ")"
}
