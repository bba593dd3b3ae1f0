package controllers

import (
	"errors"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	"github.com/partnerops/multichannel-operator/internal/apiretry"
	"github.com/partnerops/multichannel-operator/internal/pass"
)

// TestThrottledAgreementCallChangesNothing: a throttled agreement call
// leaves AgreementAccepted as the last call left it (the customer's
// subscriptions quote its message, so a new message would rewrite each of
// them) and reads again when the wait is over; a first call that is
// throttled says what it waits for, and a failure says why.
func TestThrottledAgreementCallChangesNothing(t *testing.T) {
	r := &CustomerReconciler{opts: Options{PollInterval: time.Minute}}
	partner := &v1alpha1.Partner{}
	partner.Name = "contoso"
	throttled := &apiretry.ThrottledError{Op: "GetCustomerAgreements", After: 3 * time.Second, Err: apiretry.ErrRateLimited}
	scope := func(conds []metav1.Condition) (*agreementScope, *v1alpha1.Customer) {
		c := &v1alpha1.Customer{}
		c.Name, c.Generation = "woodgrove", 2
		c.Status.Conditions = conds
		return &agreementScope{customer: c}, c
	}
	// summarize writes the step's gate as the Customer's summarize does.
	summarize := func(a *agreementScope, c *v1alpha1.Customer) {
		pass.NewConditions(&c.Status.Conditions, c.Generation).SetFrom(v1alpha1.ConditionAgreementAccepted, a.gate)
	}
	held := metav1.Condition{Type: v1alpha1.ConditionAgreementAccepted, Status: metav1.ConditionFalse, Reason: v1alpha1.ReasonAgreementMissing, Message: "Partner Center holds no acceptance", ObservedGeneration: 2}

	a, c := scope([]metav1.Condition{held})
	wait, err := r.agreementCallFailed(a, partner, "reading customer woodgrove's agreements", throttled)
	summarize(a, c)
	if err != nil || wait != 3*time.Second {
		t.Errorf("throttled: wait %v, %v; want the Retry-After", wait, err)
	}
	if got := meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionAgreementAccepted); got == nil || got.Message != held.Message || got.Status != held.Status {
		t.Errorf("throttled: AgreementAccepted = %+v, want it unchanged", got)
	}

	a, c = scope(nil)
	_, _ = r.agreementCallFailed(a, partner, "reading customer woodgrove's agreements", throttled)
	summarize(a, c)
	first := meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionAgreementAccepted)
	if first == nil || first.Status != metav1.ConditionUnknown || !strings.Contains(first.Message, "request budget") {
		t.Errorf("throttled first call: AgreementAccepted = %+v, want Unknown saying it waits for the budget", first)
	}

	// A condition of an earlier generation (the spec changed) is not kept.
	old := held
	old.ObservedGeneration = 1
	a, c = scope([]metav1.Condition{old})
	_, _ = r.agreementCallFailed(a, partner, "reading customer woodgrove's agreements", throttled)
	summarize(a, c)
	if got := meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionAgreementAccepted); got == nil || got.Message == held.Message || got.Status != metav1.ConditionUnknown {
		t.Errorf("throttled after a spec change: AgreementAccepted = %+v, want a new Unknown", got)
	}

	a, c = scope([]metav1.Condition{held})
	wait, _ = r.agreementCallFailed(a, partner, "reading customer woodgrove's agreements", errors.New("HTTP 500"))
	summarize(a, c)
	if wait < time.Minute || wait > 2*time.Minute {
		t.Errorf("failed: wait %v, want the poll interval", wait)
	}
	if got := meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionAgreementAccepted); got == nil || got.Status != metav1.ConditionUnknown {
		t.Errorf("failed: AgreementAccepted = %+v, want Unknown saying why", got)
	}
}
