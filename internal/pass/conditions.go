package pass

import (
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
)

// Conditions edits one object's conditions for one pass, stamping each with
// the generation the pass looked at. A condition whose status does not change
// keeps its lastTransitionTime, so an unchanged pass writes nothing.
type Conditions struct {
	list       *[]metav1.Condition
	generation int64
	// outcome is what the pass decided, which summarize turns into Ready,
	// Reconciling and Stalled.
	outcome *outcome
}

// NewConditions edits the conditions at list for a step run outside a
// pass (such as a unit test of one step), stamping them with generation.
func NewConditions(list *[]metav1.Condition, generation int64) Conditions {
	return Conditions{list: list, generation: generation, outcome: &outcome{}}
}

// Set sets the condition typ, stamped with the pass's generation.
func (c Conditions) Set(typ string, status metav1.ConditionStatus, reason, message string) {
	meta.SetStatusCondition(c.list, metav1.Condition{
		Type: typ, Status: status, Reason: reason, Message: message, ObservedGeneration: c.generation,
	})
}

// Remove removes the condition typ.
func (c Conditions) Remove(typ string) { meta.RemoveStatusCondition(c.list, typ) }

// The three summaries every kind keeps, following kstatus: Reconciling and
// Stalled are present only while abnormal, and Ready says whether the object
// is where it should be. Phases only say which outcome they decided; the
// last one said wins, and summarize writes it.

type outcomeState int

const (
	unsummarized outcomeState = iota
	outcomeReady
	outcomeProgressing
	outcomeStalled
)

type outcome struct {
	state           outcomeState
	reason, message string
}

// readyStatus is the status of Ready the outcome gives.
func (o *outcome) readyStatus() metav1.ConditionStatus { return BoolStatus(o.state == outcomeReady) }

// Ready: the object is in its desired state.
func (c Conditions) Ready(reason, message string) {
	*c.outcome = outcome{outcomeReady, reason, message}
}

// Progressing: the operator, or another party it waits on, is still working.
func (c Conditions) Progressing(reason, message string) {
	*c.outcome = outcome{outcomeProgressing, reason, message}
}

// Stalled: no progress is possible without a person.
func (c Conditions) Stalled(reason, message string) {
	*c.outcome = outcome{outcomeStalled, reason, message}
}

// Message is the message of the outcome decided so far, "" while none is.
func (c Conditions) Message() string { return c.outcome.message }

// RewordProgressing replaces the message of a Progressing outcome with
// reword's; any other outcome stays as it is.
func (c Conditions) RewordProgressing(reword func(message string) string) {
	if c.outcome.state == outcomeProgressing {
		c.outcome.message = reword(c.outcome.message)
	}
}

// summarize derives Ready, Reconciling and Stalled from the pass's outcome,
// or from its error when it decided nothing. A pass that decided nothing and
// failed nothing leaves them as they are.
func (c Conditions) summarize(err error) {
	o := *c.outcome
	if o.state == unsummarized && err != nil {
		o = outcome{outcomeProgressing, v1alpha1.ReasonReconcileError, fmt.Sprintf("%v; retrying.", err)}
	}
	switch o.state {
	case outcomeReady:
		c.Remove(v1alpha1.ConditionReconciling)
		c.Remove(v1alpha1.ConditionStalled)
		c.Set(v1alpha1.ConditionReady, metav1.ConditionTrue, o.reason, o.message)
	case outcomeProgressing:
		c.Remove(v1alpha1.ConditionStalled)
		c.Set(v1alpha1.ConditionReconciling, metav1.ConditionTrue, o.reason, o.message)
		c.Set(v1alpha1.ConditionReady, metav1.ConditionFalse, o.reason, o.message)
	case outcomeStalled:
		c.Remove(v1alpha1.ConditionReconciling)
		c.Set(v1alpha1.ConditionStalled, metav1.ConditionTrue, o.reason, o.message)
		c.Set(v1alpha1.ConditionReady, metav1.ConditionFalse, o.reason, o.message)
	}
}

// BoolStatus is True for true and False for false.
func BoolStatus(b bool) metav1.ConditionStatus {
	if b {
		return metav1.ConditionTrue
	}
	return metav1.ConditionFalse
}
