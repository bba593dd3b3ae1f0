package controllers

import (
	"fmt"
	"time"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
)

// nextAttempt is the attempt number of the next operation.
func nextAttempt(st v1alpha1.CustomerSubscriptionStatus) int32 {
	n := int32(1)
	for _, op := range st.PreviousOperations {
		n = max(n, max(op.Attempt, 1)+1)
	}
	return n
}

// planRequestKey names a subscription's request for the plan: its name and
// the attempt its next operation has, so that a retried attempt asks anew.
func planRequestKey(sub *v1alpha1.CustomerSubscription) string {
	return fmt.Sprintf("%s/%d", sub.Name, nextAttempt(sub.Status))
}

// covers: the decision authorizes exactly terms t.
func covers(a *v1alpha1.Authorization, t *v1alpha1.Terms) bool {
	return a != nil && a.Decision == v1alpha1.DecisionAuthorized && sameTerms(a.Terms, t)
}

// decisionRecord is how an operation records the decision it relies on.
func decisionRecord(a *v1alpha1.Authorization) string {
	if a == nil {
		return ""
	}
	at := ""
	if a.At != nil {
		at = " at " + a.At.UTC().Format(time.RFC3339)
	}
	return truncate(fmt.Sprintf("%s (%s)%s", a.By, a.Source, at), 512)
}

// sameTerms: a and b name exactly the same terms; nil names none.
func sameTerms(a, b *v1alpha1.Terms) bool {
	return a != nil && b != nil && *a == *b
}
