package core

import (
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	ctrlevent "sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
)

// What a watched object's update must change to wake the objects that
// depend on it. Without these, every status write of a Customer, a policy
// or a Partner would wake everything that names it.

// SpecChanged: a Customer's or an ApprovalPolicy's dependants read only its spec.
var SpecChanged = builder.WithPredicates(predicate.GenerationChangedPredicate{})

// CustomerChanged: a Customer's dependants read its spec and whether it
// holds its tenant.
var CustomerChanged = builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{}, predicate.Funcs{
	UpdateFunc: func(e ctrlevent.UpdateEvent) bool {
		was, ok1 := e.ObjectOld.(*v1alpha1.Customer)
		now, ok2 := e.ObjectNew.(*v1alpha1.Customer)
		if !ok1 || !ok2 {
			return true
		}
		return claimStatus(was) != claimStatus(now) || agreementStatus(was) != agreementStatus(now)
	},
}))

// agreementStatus is a Customer's AgreementAccepted status and reason, which
// its subscriptions' purchases wait for.
func agreementStatus(c *v1alpha1.Customer) string {
	if cond := meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionAgreementAccepted); cond != nil {
		return string(cond.Status) + "/" + cond.Reason
	}
	return ""
}

// AwaitsAzurePlan: a subscription's Ready came to say it waits for its
// customer's Azure plan.
var AwaitsAzurePlan = builder.WithPredicates(predicate.Funcs{
	CreateFunc:  func(ctrlevent.CreateEvent) bool { return false },
	DeleteFunc:  func(ctrlevent.DeleteEvent) bool { return false },
	GenericFunc: func(ctrlevent.GenericEvent) bool { return false },
	UpdateFunc: func(e ctrlevent.UpdateEvent) bool {
		was, ok1 := e.ObjectOld.(*v1alpha1.CustomerSubscription)
		now, ok2 := e.ObjectNew.(*v1alpha1.CustomerSubscription)
		return ok1 && ok2 && ReadyReason(now.Status.Conditions) == v1alpha1.ReasonAwaitingAzurePlan && ReadyReason(was.Status.Conditions) != v1alpha1.ReasonAwaitingAzurePlan
	},
})

func ReadyReason(conds []metav1.Condition) string {
	if c := meta.FindStatusCondition(conds, v1alpha1.ConditionReady); c != nil {
		return c.Reason
	}
	return ""
}

// PartnerChanged: a Partner's dependants read its spec and whether it is
// Ready (its credentials work, which a Secret fixed meanwhile changes).
var PartnerChanged = builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{}, predicate.Funcs{
	UpdateFunc: func(e ctrlevent.UpdateEvent) bool {
		was, ok1 := e.ObjectOld.(*v1alpha1.Partner)
		now, ok2 := e.ObjectNew.(*v1alpha1.Partner)
		if !ok1 || !ok2 {
			return true
		}
		a := meta.FindStatusCondition(was.Status.Conditions, v1alpha1.ConditionReady)
		b := meta.FindStatusCondition(now.Status.Conditions, v1alpha1.ConditionReady)
		return (a == nil) != (b == nil) || (a != nil && (a.Status != b.Status || a.Reason != b.Reason || a.Message != b.Message))
	},
}))

// AuthorizationChanged: an ApprovalPolicy counts the subscriptions it
// authorized, so only a change of a subscription's authorization matters to it.
var AuthorizationChanged = builder.WithPredicates(predicate.Funcs{
	UpdateFunc: func(e ctrlevent.UpdateEvent) bool {
		was, ok1 := e.ObjectOld.(*v1alpha1.CustomerSubscription)
		now, ok2 := e.ObjectNew.(*v1alpha1.CustomerSubscription)
		return !ok1 || !ok2 || was.Generation != now.Generation || !equality.Semantic.DeepEqual(was.Status.Authorization, now.Status.Authorization)
	},
})

// claimStatus is the status of a Customer's TenantClaimed condition, or "".
func claimStatus(c *v1alpha1.Customer) metav1.ConditionStatus {
	if cond := meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionTenantClaimed); cond != nil {
		return cond.Status
	}
	return ""
}
