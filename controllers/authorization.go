package controllers

import (
	"context"
	"fmt"
	"sort"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	"github.com/partnerops/multichannel-operator/internal/policy"
)

// The partner's own gate (docs/workflow.md, Approval): before anything is
// bought, transferred or the source cancelled, an ApprovalPolicy or a person
// with verb approve authorizes the subscription, bound to the terms it would
// send (terms.go).

// authorize is the subscription's authorization phase: it keeps a decision
// that names the current terms, records a matching policy's authorization
// for them, or reports that a person must decide. A person's denial stands:
// for its terms it stops the subscription, and for any other terms only a
// person decides after it. It ends the pass only on a denial; whether the
// gate is open is left in the Authorized condition for awaitApproval.
func (r *CustomerSubscriptionReconciler) authorize(ctx context.Context, s *subscriptionScope) (*ctrl.Result, error) {
	sub := s.sub
	if !policy.NeedsAuthorization(s.result.Path) {
		s.conds.set(v1alpha1.ConditionAuthorized, metav1.ConditionTrue, v1alpha1.ReasonAuthorizationNotRequired,
			fmt.Sprintf("The %s path buys and transfers nothing, so it needs only the customer's consent.", s.result.Path))
		return nil, nil
	}
	if confirmed(sub.Status.Operation) {
		// Sent under an authorization already checked: what Partner Center
		// created is followed to its end whatever the spec says now.
		return nil, nil
	}
	approve := fmt.Sprintf("kubectl multichannel approve %s -n %s", sub.Name, sub.Namespace)
	a := sub.Status.Authorization
	if a != nil && a.Source == v1alpha1.AuthorizationManual {
		switch {
		case a.Decision == v1alpha1.DecisionAuthorizationDenied && (a.Terms == nil || sameTerms(a.Terms, s.terms)):
			msg := fmt.Sprintf("%s denied the operator's authority to send %s%s; a person with verb approve may lift it: %s.", a.By, describeTerms(s.terms), because(a.Reason), approve)
			s.conds.set(v1alpha1.ConditionAuthorized, metav1.ConditionFalse, v1alpha1.ReasonAuthorizationDenied, msg)
			sub.Status.Phase = v1alpha1.PhaseFailed
			s.conds.stalled(v1alpha1.ReasonAuthorizationDenied, msg)
			return done, nil
		case a.Decision == v1alpha1.DecisionAuthorizationDenied:
			s.conds.set(v1alpha1.ConditionAuthorized, metav1.ConditionFalse, v1alpha1.ReasonAwaitingAuthorization, fmt.Sprintf(
				"%s denied %s; the spec now asks for %s, and after a person's denial only a person decides: %s.", a.By, describeTerms(a.Terms), describeTerms(s.terms), approve))
			return nil, nil
		case covers(a, s.terms):
			s.conds.set(v1alpha1.ConditionAuthorized, metav1.ConditionTrue, v1alpha1.ReasonAuthorizedByPerson,
				fmt.Sprintf("Authorized by %s: %s%s.", a.By, describeTerms(a.Terms), because(a.Reason)))
			return nil, nil
		}
	}

	policies := &v1alpha1.ApprovalPolicyList{}
	if err := r.List(ctx, policies, client.InNamespace(sub.Namespace)); err != nil {
		return nil, fmt.Errorf("listing ApprovalPolicies in %s: %w", sub.Namespace, err)
	}
	sort.Slice(policies.Items, func(i, j int) bool { return policies.Items[i].Name < policies.Items[j].Name })
	if a != nil && a.Source == v1alpha1.AuthorizationFromPolicy && covers(a, s.terms) {
		// A policy's authorization stands only while the policy still gives
		// it: a policy deleted or narrowed before anything was sent no longer
		// authorizes, and a person may then decide. (Its totals were counted
		// when it was given.)
		for i := range policies.Items {
			p := &policies.Items[i]
			if v1alpha1.PolicyAuthorizationBy(p.Name) != a.By {
				continue
			}
			if ok, why := policy.Authorizes(p, sub, s.target, s.result.Path); !ok {
				s.conds.set(v1alpha1.ConditionAuthorized, metav1.ConditionFalse, v1alpha1.ReasonAwaitingAuthorization, fmt.Sprintf(
					"ApprovalPolicy %s authorized %s but no longer does (it %s); a person with verb approve can decide: %s.", p.Name, describeTerms(a.Terms), why, approve))
				return nil, nil
			}
			s.conds.set(v1alpha1.ConditionAuthorized, metav1.ConditionTrue, v1alpha1.ReasonAuthorizedByPolicy,
				fmt.Sprintf("Authorized by %s: %s.", a.By, describeTerms(a.Terms)))
			return nil, nil
		}
		s.conds.set(v1alpha1.ConditionAuthorized, metav1.ConditionFalse, v1alpha1.ReasonAwaitingAuthorization, fmt.Sprintf(
			"%s authorized %s but the policy no longer exists; a person with verb approve can decide: %s.", a.By, describeTerms(a.Terms), approve))
		return nil, nil
	}
	var refusals []string
	for i := range policies.Items {
		p := &policies.Items[i]
		ok, why := policy.Authorizes(p, sub, s.target, s.result.Path)
		if ok {
			ok, why = r.totals.reserve(ctx, r.Client, p, sub, s.terms)
		}
		if !ok {
			refusals = append(refusals, fmt.Sprintf("%s %s", p.Name, why))
			continue
		}
		now := metav1.NewTime(s.now)
		sub.Status.Authorization = &v1alpha1.Authorization{
			Decision: v1alpha1.DecisionAuthorized, By: v1alpha1.PolicyAuthorizationBy(p.Name), At: &now,
			Source: v1alpha1.AuthorizationFromPolicy, Generation: sub.Generation, Terms: s.terms.DeepCopy(),
			Reason: fmt.Sprintf("The policy covers partner %s, path %s and offer %s.", s.target.Name, s.result.Path, sub.Spec.Offer.ID),
		}
		s.conds.set(v1alpha1.ConditionAuthorized, metav1.ConditionTrue, v1alpha1.ReasonAuthorizedByPolicy,
			fmt.Sprintf("Authorized by ApprovalPolicy %s: %s.", p.Name, describeTerms(s.terms)))
		log.FromContext(ctx).Info("subscription authorized by policy", "policy", p.Name, "terms", describeTerms(s.terms))
		return nil, nil
	}
	msg := fmt.Sprintf("No ApprovalPolicy in namespace %s authorizes %s", sub.Namespace, describeTerms(s.terms))
	if len(refusals) > maxRefusalsShown {
		refusals = append(refusals[:maxRefusalsShown], fmt.Sprintf("and %d more", len(refusals)-maxRefusalsShown))
	}
	if len(refusals) > 0 {
		msg += " (" + strings.Join(refusals, "; ") + ")"
	}
	if a != nil {
		msg = fmt.Sprintf("The terms changed since %s decided on %s. %s", a.By, describeTerms(a.Terms), msg)
	}
	msg += "; a person with verb approve can decide: " + approve + "."
	s.conds.set(v1alpha1.ConditionAuthorized, metav1.ConditionFalse, v1alpha1.ReasonAwaitingAuthorization, msg)
	return nil, nil
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
