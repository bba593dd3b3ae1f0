package subscription

import (
	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	"github.com/partnerops/multichannel-operator/internal/pass"
)

// A pass's phases record what they found in the scope (the step reached,
// the gates, the verdict, the end); summarize alone turns that into the
// status: status.phase, the step conditions, and the Summary Finish writes
// Ready, Reconciling and Stalled from.

// step is how far along the workflow a pass found the subscription; the
// phase follows from it.
type step int

const (
	stepKept       step = iota // the pass ended before a step that names a phase
	stepEvaluated              // no support partner: only evaluated
	stepIneligible             // the decision table allows no path
	stepScheduled              // waiting for the source's term to end
	stepApproval               // waiting at the gates
	stepSwitch                 // the switch step waits on another party (the Azure plan, the source's cancellation)
)

// stepPhase is the phase each step shows.
var stepPhase = map[step]v1alpha1.SubscriptionPhase{
	stepEvaluated:  v1alpha1.PhaseEvaluated,
	stepIneligible: v1alpha1.PhaseIneligible,
	stepScheduled:  v1alpha1.PhaseScheduled,
	stepApproval:   v1alpha1.PhaseAwaitingApproval,
	stepSwitch:     v1alpha1.PhaseSwitching,
}

type endKind int

const (
	endCompleted           endKind = iota + 1 // the switch step succeeded
	endFailed                                 // the switch step ended without success
	endRefused                                // a gate refused for good (a denial, an expired request)
	endCancelled                              // the purchase was cancelled in Partner Center
	endCancellationRefused                    // a cancellation was refused; the purchase stands
)

// ending is how a pass ended the subscription's path, with Ready's reason
// and message.
type ending struct {
	kind            endKind
	reason, message string
}

// refused ends the subscription as Failed at a gate: the switch step never ran.
func refused(reason, message string) *ending {
	return &ending{kind: endRefused, reason: reason, message: message}
}

// failed: the pass ended the subscription as Failed.
func (e *ending) failed() bool { return e != nil && (e.kind == endFailed || e.kind == endRefused) }

// verdict is what the end means for Ready.
func (e *ending) verdict() pass.Verdict {
	if e.failed() {
		return pass.Stalled(e.reason, e.message)
	}
	return pass.Ready(e.reason, e.message)
}

// switched is the Switched condition the end gives, unknown when it leaves
// the condition as it is.
func (e *ending) switched() pass.Gate {
	switch e.kind {
	case endCompleted:
		return pass.Open(e.reason, e.message)
	case endFailed, endCancelled:
		return pass.Closed(e.reason, e.message)
	}
	return pass.Gate{}
}

// summarize derives the subscription's status from what the pass found.
func summarize(s *subscriptionScope) pass.Summary {
	st := &s.sub.Status
	st.Phase = subscriptionPhase(s)
	c := s.Conds
	c.SetFrom(v1alpha1.ConditionEligible, s.eligible)
	switch s.step {
	case stepEvaluated, stepIneligible:
		// The request, approval and switch steps describe a path there
		// no longer is.
		c.Remove(v1alpha1.ConditionRelationshipApproved)
		c.Remove(v1alpha1.ConditionAuthorized)
		c.Remove(v1alpha1.ConditionSwitched)
	}
	if s.ungated && s.end != nil {
		// The path ended without the request and approval steps (the
		// support partner already has it, or a transfer made in Partner
		// Center completed): what an earlier pass said of them is moot.
		c.Remove(v1alpha1.ConditionRelationshipApproved)
		c.Remove(v1alpha1.ConditionAuthorized)
	}
	c.SetFrom(v1alpha1.ConditionRelationshipApproved, s.consent)
	c.SetFrom(v1alpha1.ConditionAuthorized, s.authorization)
	if s.retired {
		c.Remove(v1alpha1.ConditionSwitched)
	}
	sum := pass.Summary{Verdict: s.verdict, Gates: subscriptionGates}
	if s.step == stepEvaluated {
		sum.Verdict = pass.Ready(v1alpha1.ReasonNoSupportPartner, "No support partner is named (spec.supportPartnerRef), so eligibility is reported for a generic CSP partner and nothing is driven.")
	}
	if s.end != nil {
		c.SetFrom(v1alpha1.ConditionSwitched, s.end.switched())
		sum.Verdict = s.end.verdict()
		if s.end.kind == endCancelled {
			// Cancelled as asked: Ready, though nothing is switched any more.
			sum.Gates = subscriptionGates[:2]
		}
	}
	return sum
}

// subscriptionGates are the steps Ready stands on: the customer's consent,
// the partner's authority and the switch.
var subscriptionGates = []string{v1alpha1.ConditionRelationshipApproved, v1alpha1.ConditionAuthorized, v1alpha1.ConditionSwitched}

// subscriptionPhase: Switching while an operation has not ended (it may
// have been sent, so the spec it was sent with stays frozen by the CEL rule
// until it ends, whatever a gate says now); else Completed or Failed when
// the pass ended the path (a cancellation, made or refused, keeps the
// phase); else the phase of the step the pass stopped at; else the phase
// the subscription had (Pending at first).
func subscriptionPhase(s *subscriptionScope) v1alpha1.SubscriptionPhase {
	st := s.sub.Status
	switch {
	case st.Operation != nil && st.Operation.CompletedAt == nil:
		return v1alpha1.PhaseSwitching
	case s.end.failed():
		return v1alpha1.PhaseFailed
	case s.end != nil && s.end.kind == endCompleted:
		return v1alpha1.PhaseCompleted
	}
	if phase, ok := stepPhase[s.step]; ok {
		return phase
	}
	if st.Phase == "" {
		return v1alpha1.PhasePending
	}
	return st.Phase
}
