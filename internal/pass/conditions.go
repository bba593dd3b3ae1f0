package pass

import (
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Conditions edits one object's conditions for one pass, stamping each with
// the generation the pass looked at. A condition whose status does not change
// keeps its lastTransitionTime, so an unchanged pass writes nothing. Only a
// kind's summarize and Finish write conditions; the phases record facts.
type Conditions struct {
	list       *[]metav1.Condition
	generation int64
}

// NewConditions edits the conditions at list, stamping them with generation.
func NewConditions(list *[]metav1.Condition, generation int64) Conditions {
	return Conditions{list: list, generation: generation}
}

// Set sets the condition typ, stamped with the pass's generation.
func (c Conditions) Set(typ string, status metav1.ConditionStatus, reason, message string) {
	meta.SetStatusCondition(c.list, metav1.Condition{
		Type: typ, Status: status, Reason: reason, Message: message, ObservedGeneration: c.generation,
	})
}

// SetFrom sets the condition a Gate describes; a zero Gate leaves it as it is.
func (c Conditions) SetFrom(typ string, g Gate) {
	if g.Known() {
		c.Set(typ, g.Status(), g.Reason, g.Message)
	}
}

// Remove removes the condition typ.
func (c Conditions) Remove(typ string) { meta.RemoveStatusCondition(c.list, typ) }

// Find is the condition typ, or nil.
func (c Conditions) Find(typ string) *metav1.Condition { return meta.FindStatusCondition(*c.list, typ) }

// BoolStatus is True for true and False for false.
func BoolStatus(b bool) metav1.ConditionStatus {
	if b {
		return metav1.ConditionTrue
	}
	return metav1.ConditionFalse
}
