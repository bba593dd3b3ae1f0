package subscription

import (
	"fmt"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	"github.com/partnerops/multichannel-operator/internal/pass"
)

// summarized runs summarize over a scope holding sub and the facts set, and
// applies the summary as Finish does.
func summarized(sub *v1alpha1.CustomerSubscription, facts func(*subscriptionScope)) (*subscriptionScope, pass.Verdict) {
	s := &subscriptionScope{Pass: &pass.Pass[*v1alpha1.CustomerSubscription]{Obj: sub, Conds: pass.NewConditions(&sub.Status.Conditions, sub.Generation)}, sub: sub}
	facts(s)
	v := s.Conds.Apply(summarize(s), nil)
	return s, v
}

func TestSubscriptionPhase(t *testing.T) {
	now := metav1.Now()
	inFlight := &v1alpha1.Operation{ID: "op-1", Type: v1alpha1.OperationCreateTransfer}
	ended := &v1alpha1.Operation{ID: "op-1", Type: v1alpha1.OperationCreateTransfer, CompletedAt: &now}
	for _, tc := range []struct {
		name  string
		was   v1alpha1.SubscriptionPhase
		op    *v1alpha1.Operation
		facts func(*subscriptionScope)
		want  v1alpha1.SubscriptionPhase
	}{
		{"a new subscription", "", nil, func(*subscriptionScope) {}, v1alpha1.PhasePending},
		{"a pass that reached no step keeps the phase", v1alpha1.PhaseAwaitingApproval, nil, func(s *subscriptionScope) {
			s.verdict = pass.Progressing(v1alpha1.ReasonCustomerNotFound, "waits")
		}, v1alpha1.PhaseAwaitingApproval},
		{"evaluated only", "", nil, func(s *subscriptionScope) { s.step = stepEvaluated }, v1alpha1.PhaseEvaluated},
		{"ineligible", v1alpha1.PhaseAwaitingApproval, nil, func(s *subscriptionScope) { s.step = stepIneligible }, v1alpha1.PhaseIneligible},
		{"scheduled", "", nil, func(s *subscriptionScope) { s.step = stepScheduled }, v1alpha1.PhaseScheduled},
		{"at the gates", v1alpha1.PhasePending, nil, func(s *subscriptionScope) { s.step = stepApproval }, v1alpha1.PhaseAwaitingApproval},
		{"waiting for the Azure plan", v1alpha1.PhaseAwaitingApproval, nil, func(s *subscriptionScope) { s.step = stepSwitch }, v1alpha1.PhaseSwitching},
		{"an operation in flight", v1alpha1.PhaseAwaitingApproval, inFlight, func(*subscriptionScope) {}, v1alpha1.PhaseSwitching},
		{"an operation in flight outlasts a gate's refusal", v1alpha1.PhaseSwitching, inFlight, func(s *subscriptionScope) {
			s.end = refused(v1alpha1.ReasonAuthorizationDenied, "denied")
		}, v1alpha1.PhaseSwitching},
		{"completed", v1alpha1.PhaseSwitching, ended, func(s *subscriptionScope) { s.end = &ending{kind: endCompleted, reason: v1alpha1.ReasonCompleted} }, v1alpha1.PhaseCompleted},
		{"failed", v1alpha1.PhaseSwitching, ended, func(s *subscriptionScope) { s.end = &ending{kind: endFailed, reason: v1alpha1.ReasonTransferFailed} }, v1alpha1.PhaseFailed},
		{"denied at a gate", v1alpha1.PhaseAwaitingApproval, nil, func(s *subscriptionScope) { s.end = refused(v1alpha1.ReasonRelationshipDenied, "denied") }, v1alpha1.PhaseFailed},
		{"a refused cancellation keeps the phase", v1alpha1.PhaseFailed, ended, func(s *subscriptionScope) {
			s.end = &ending{kind: endCancellationRefused, reason: v1alpha1.ReasonCancellationRefused}
		}, v1alpha1.PhaseFailed},
		{"cancelled", v1alpha1.PhaseCompleted, ended, func(s *subscriptionScope) {
			s.end = &ending{kind: endCancelled, reason: v1alpha1.ReasonPurchaseCancelled}
		}, v1alpha1.PhaseCompleted},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sub := &v1alpha1.CustomerSubscription{}
			sub.Status.Phase, sub.Status.Operation = tc.was, tc.op
			if s, _ := summarized(sub, tc.facts); s.sub.Status.Phase != tc.want {
				t.Errorf("phase = %s, want %s", s.sub.Status.Phase, tc.want)
			}
		})
	}
}

// TestReadyNeverContradictsAStep runs summarize over every combination of
// the facts a pass records and the step conditions an earlier pass left,
// and checks that Ready is True only while every step condition Ready
// stands on is True (a cancelled purchase stands without Switched).
func TestReadyNeverContradictsAStep(t *testing.T) {
	gates := []pass.Gate{{}, pass.Open("Open", "open."), pass.Closed("Closed", "closed.")}
	before := []metav1.ConditionStatus{"", metav1.ConditionTrue, metav1.ConditionFalse}
	ends := []*ending{nil,
		{kind: endCompleted, reason: v1alpha1.ReasonCompleted}, {kind: endFailed, reason: v1alpha1.ReasonTransferFailed},
		refused(v1alpha1.ReasonAuthorizationDenied, "denied"), {kind: endCancelled, reason: v1alpha1.ReasonPurchaseCancelled},
		{kind: endCancellationRefused, reason: v1alpha1.ReasonCancellationRefused}}
	verdicts := []pass.Verdict{{}, pass.Ready(v1alpha1.ReasonNoSupportPartner, "no partner."), pass.Progressing(v1alpha1.ReasonSwitching, "switching."), pass.Stalled(v1alpha1.ReasonOfferNotAvailable, "no offer.")}
	steps := []step{stepKept, stepEvaluated, stepIneligible, stepScheduled, stepApproval, stepSwitch}
	cases := 0
	for _, st := range steps {
		for _, end := range ends {
			for _, v := range verdicts {
				for _, consent := range gates {
					for _, authz := range gates {
						for _, was := range before {
							for _, retired := range []bool{false, true} {
								for _, ungated := range []bool{false, true} {
									sub := &v1alpha1.CustomerSubscription{}
									sub.Generation = 2
									if was != "" {
										for _, typ := range subscriptionGates {
											meta.SetStatusCondition(&sub.Status.Conditions, metav1.Condition{Type: typ, Status: was, Reason: "Before"})
										}
									}
									s, got := summarized(sub, func(s *subscriptionScope) {
										s.step, s.end, s.verdict, s.consent, s.authorization, s.retired, s.ungated = st, end, v, consent, authz, retired, ungated
									})
									cases++
									name := fmt.Sprintf("step %d, end %+v, verdict %+v, consent %+v, authorization %+v, before %q, retired %v, ungated %v", st, end, v, consent, authz, was, retired, ungated)
									ready := meta.FindStatusCondition(s.sub.Status.Conditions, v1alpha1.ConditionReady)
									if got.IsReady() != (ready != nil && ready.Status == metav1.ConditionTrue) {
										t.Fatalf("%s: the verdict %+v is not what Ready says: %+v", name, got, ready)
									}
									if !got.IsReady() {
										continue
									}
									for _, typ := range subscriptionGates {
										if typ == v1alpha1.ConditionSwitched && end != nil && end.kind == endCancelled {
											continue
										}
										if c := meta.FindStatusCondition(s.sub.Status.Conditions, typ); c != nil && c.Status != metav1.ConditionTrue {
											t.Fatalf("%s: Ready is True while %s is %s", name, typ, c.Status)
										}
									}
									if end != nil && end.failed() {
										t.Fatalf("%s: Ready is True for a failed subscription", name)
									}
								}
							}
						}
					}
				}
			}
		}
	}
	t.Logf("%d combinations", cases)
}

// TestGateConditionsFollowThePath: the step conditions a pass found are
// written; a subscription only evaluated, or ineligible, has no request,
// approval or switch step; a retired attempt's Switched goes.
func TestGateConditionsFollowThePath(t *testing.T) {
	old := func() *v1alpha1.CustomerSubscription {
		sub := &v1alpha1.CustomerSubscription{}
		for _, typ := range subscriptionGates {
			meta.SetStatusCondition(&sub.Status.Conditions, metav1.Condition{Type: typ, Status: metav1.ConditionFalse, Reason: "Before"})
		}
		return sub
	}
	s, _ := summarized(old(), func(s *subscriptionScope) { s.step = stepIneligible })
	for _, typ := range subscriptionGates {
		if c := meta.FindStatusCondition(s.sub.Status.Conditions, typ); c != nil {
			t.Errorf("ineligible: %s kept: %+v", typ, c)
		}
	}
	s, v := summarized(old(), func(s *subscriptionScope) {
		s.ungated, s.end = true, &ending{kind: endCompleted, reason: v1alpha1.ReasonCompleted, message: "already managed, or adopted."}
	})
	if !v.IsReady() || s.sub.Status.Phase != v1alpha1.PhaseCompleted {
		t.Errorf("already managed: verdict %+v, phase %s; want Ready and Completed, whatever the gates said before", v, s.sub.Status.Phase)
	}
	s, v = summarized(old(), func(s *subscriptionScope) { s.step = stepEvaluated })
	if !v.IsReady() || v.Reason != v1alpha1.ReasonNoSupportPartner || meta.FindStatusCondition(s.sub.Status.Conditions, v1alpha1.ConditionSwitched) != nil {
		t.Errorf("evaluated only: verdict %+v, conditions %+v", v, s.sub.Status.Conditions)
	}
	s, _ = summarized(old(), func(s *subscriptionScope) {
		s.consent, s.authorization = pass.Open("Approved", "approved."), pass.Closed(v1alpha1.ReasonAwaitingAuthorization, "a person decides.")
		s.retired = true
	})
	if c := meta.FindStatusCondition(s.sub.Status.Conditions, v1alpha1.ConditionRelationshipApproved); c == nil || c.Status != metav1.ConditionTrue {
		t.Errorf("RelationshipApproved = %+v", c)
	}
	if c := meta.FindStatusCondition(s.sub.Status.Conditions, v1alpha1.ConditionAuthorized); c == nil || c.Reason != v1alpha1.ReasonAwaitingAuthorization {
		t.Errorf("Authorized = %+v", c)
	}
	if c := meta.FindStatusCondition(s.sub.Status.Conditions, v1alpha1.ConditionSwitched); c != nil {
		t.Errorf("retired: Switched kept: %+v", c)
	}
	s, _ = summarized(old(), func(s *subscriptionScope) {
		s.end = &ending{kind: endCompleted, reason: v1alpha1.ReasonCompleted, message: "done."}
	})
	if c := meta.FindStatusCondition(s.sub.Status.Conditions, v1alpha1.ConditionSwitched); c == nil || c.Status != metav1.ConditionTrue || c.Message != "done." {
		t.Errorf("completed: Switched = %+v", c)
	}
}
