package pass

import (
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
)

// The three summaries every kind keeps, following kstatus: Reconciling and
// Stalled are present only while abnormal, and Ready says whether the object
// is where it should be. A pass's phases record facts in their kind's scope;
// the kind's summarize derives one Verdict and the step conditions (Gates)
// from them, and Finish writes Ready, Reconciling and Stalled from that
// Summary, so that Ready never says True while a step it stands on is not.

type verdictState int

const (
	undecided verdictState = iota
	verdictReady
	verdictProgressing
	verdictStalled
)

// Verdict is what a pass concluded about its object: in its desired state,
// still being worked on, or stuck until a person acts; with the reason and
// message Ready carries. The zero Verdict decides nothing: Ready, Reconciling
// and Stalled stay as they are (or, when the pass failed, Reconciling says
// why).
type Verdict struct {
	state           verdictState
	Reason, Message string
}

// Ready: the object is in its desired state.
func Ready(reason, message string) Verdict { return Verdict{verdictReady, reason, message} }

// Progressing: the operator, or another party it waits on, is still working.
func Progressing(reason, message string) Verdict {
	return Verdict{verdictProgressing, reason, message}
}

// Stalled: no progress is possible without a person.
func Stalled(reason, message string) Verdict { return Verdict{verdictStalled, reason, message} }

// Decided: the verdict says something.
func (v Verdict) Decided() bool { return v.state != undecided }

// IsReady: the object is in its desired state.
func (v Verdict) IsReady() bool { return v.state == verdictReady }

// IsStalled: only a person can move the object on.
func (v Verdict) IsStalled() bool { return v.state == verdictStalled }

// Reworded is v with reword's message when v is Progressing, else v.
func (v Verdict) Reworded(reword func(message string) string) Verdict {
	if v.state == verdictProgressing {
		v.Message = reword(v.Message)
	}
	return v
}

// readyStatus is the status of Ready the verdict gives.
func (v Verdict) readyStatus() metav1.ConditionStatus { return BoolStatus(v.state == verdictReady) }

// Gate is a step condition as a fact: whether the step is passed (True),
// not passed (False) or cannot be told (Unknown), and why. The zero Gate is
// unknown to the pass: it did not reach the step.
type Gate struct {
	status          metav1.ConditionStatus
	Reason, Message string
}

// Open: the step is passed.
func Open(reason, message string) Gate { return Gate{metav1.ConditionTrue, reason, message} }

// Closed: the step is not passed.
func Closed(reason, message string) Gate { return Gate{metav1.ConditionFalse, reason, message} }

// GateOf is the gate with status.
func GateOf(status metav1.ConditionStatus, reason, message string) Gate {
	return Gate{status, reason, message}
}

// Known: the pass reached the step.
func (g Gate) Known() bool { return g.status != "" }

// IsOpen: the step is passed.
func (g Gate) IsOpen() bool { return g.status == metav1.ConditionTrue }

// Status is the step condition's status.
func (g Gate) Status() metav1.ConditionStatus { return g.status }

// Summary is what a kind's summarize derived from a pass's facts.
type Summary struct {
	Verdict Verdict
	// Gates are the step conditions Ready stands on. While one is present
	// and not True, Ready is not True either: a Ready verdict gives way to
	// Progressing with that step's reason and message.
	Gates []string
}

// settle is the verdict Finish writes: the summary's, held back by the
// first gate that is not True, or, for a pass that decided nothing and
// failed, Progressing with the error.
func (c Conditions) settle(sum Summary, err error) Verdict {
	v := sum.Verdict
	if !v.Decided() && err != nil {
		return Progressing(v1alpha1.ReasonReconcileError, fmt.Sprintf("%v; retrying.", err))
	}
	if v.IsReady() {
		for _, typ := range sum.Gates {
			if g := c.Find(typ); g != nil && g.Status != metav1.ConditionTrue {
				return Progressing(g.Reason, g.Message)
			}
		}
	}
	return v
}

// Apply writes Ready, Reconciling and Stalled from sum, as Finish does for
// a pass that ended with err, and returns the verdict written.
func (c Conditions) Apply(sum Summary, err error) Verdict {
	v := c.settle(sum, err)
	c.write(v)
	return v
}

// write sets Ready, Reconciling and Stalled from v; an undecided v leaves them.
func (c Conditions) write(v Verdict) {
	switch v.state {
	case verdictReady:
		c.Remove(v1alpha1.ConditionReconciling)
		c.Remove(v1alpha1.ConditionStalled)
		c.Set(v1alpha1.ConditionReady, metav1.ConditionTrue, v.Reason, v.Message)
	case verdictProgressing:
		c.Remove(v1alpha1.ConditionStalled)
		c.Set(v1alpha1.ConditionReconciling, metav1.ConditionTrue, v.Reason, v.Message)
		c.Set(v1alpha1.ConditionReady, metav1.ConditionFalse, v.Reason, v.Message)
	case verdictStalled:
		c.Remove(v1alpha1.ConditionReconciling)
		c.Set(v1alpha1.ConditionStalled, metav1.ConditionTrue, v.Reason, v.Message)
		c.Set(v1alpha1.ConditionReady, metav1.ConditionFalse, v.Reason, v.Message)
	}
}
