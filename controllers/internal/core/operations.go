package core

import (
	"fmt"
	"time"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
)

// NextAttempt is the attempt number of the next operation.
func NextAttempt(st v1alpha1.CustomerSubscriptionStatus) int32 {
	n := int32(1)
	for _, op := range st.PreviousOperations {
		n = max(n, max(op.Attempt, 1)+1)
	}
	return n
}

// PlanRequestKey names a subscription's request for the plan: its name and
// the attempt its next operation has, so that a retried attempt asks anew.
func PlanRequestKey(sub *v1alpha1.CustomerSubscription) string {
	return fmt.Sprintf("%s/%d", sub.Name, NextAttempt(sub.Status))
}

// Covers: the decision authorizes exactly terms t.
func Covers(a *v1alpha1.Authorization, t *v1alpha1.Terms) bool {
	return a != nil && a.Decision == v1alpha1.DecisionAuthorized && SameTerms(a.Terms, t)
}

// DecisionRecord is how an operation records the decision it relies on.
func DecisionRecord(a *v1alpha1.Authorization) string {
	if a == nil {
		return ""
	}
	at := ""
	if a.At != nil {
		at = " at " + a.At.UTC().Format(time.RFC3339)
	}
	return Truncate(fmt.Sprintf("%s (%s)%s", a.By, a.Source, at), 512)
}

// SameTerms: a and b name exactly the same terms; nil names none.
func SameTerms(a, b *v1alpha1.Terms) bool {
	return a != nil && b != nil && *a == *b
}
