package controllers

import (
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
)

// conditions edits one object's conditions for one pass, stamping each with
// the generation the pass looked at. A condition whose status does not change
// keeps its lastTransitionTime, so an unchanged pass writes nothing.
type conditions struct {
	list       *[]metav1.Condition
	generation int64
}

func (c conditions) set(typ string, status metav1.ConditionStatus, reason, message string) {
	meta.SetStatusCondition(c.list, metav1.Condition{
		Type: typ, Status: status, Reason: reason, Message: message, ObservedGeneration: c.generation,
	})
}

func (c conditions) remove(typ string) { meta.RemoveStatusCondition(c.list, typ) }

// The three summaries every kind keeps, following kstatus: Reconciling and
// Stalled are present only while abnormal, and Ready says whether the object
// is where it should be.

// ready: the object is in its desired state.
func (c conditions) ready(reason, message string) {
	c.remove(v1alpha1.ConditionReconciling)
	c.remove(v1alpha1.ConditionStalled)
	c.set(v1alpha1.ConditionReady, metav1.ConditionTrue, reason, message)
}

// progressing: the operator, or another party it waits on, is still working.
func (c conditions) progressing(reason, message string) {
	c.remove(v1alpha1.ConditionStalled)
	c.set(v1alpha1.ConditionReconciling, metav1.ConditionTrue, reason, message)
	c.set(v1alpha1.ConditionReady, metav1.ConditionFalse, reason, message)
}

// stalled: no progress is possible without a person.
func (c conditions) stalled(reason, message string) {
	c.remove(v1alpha1.ConditionReconciling)
	c.set(v1alpha1.ConditionStalled, metav1.ConditionTrue, reason, message)
	c.set(v1alpha1.ConditionReady, metav1.ConditionFalse, reason, message)
}

func boolStatus(b bool) metav1.ConditionStatus {
	if b {
		return metav1.ConditionTrue
	}
	return metav1.ConditionFalse
}

func timePtr(t *time.Time, otherwise time.Time) *metav1.Time {
	if t != nil {
		mt := metav1.NewTime(*t)
		return &mt
	}
	mt := metav1.NewTime(otherwise)
	return &mt
}

func formatTime(t *time.Time) string {
	if t == nil {
		return "at an unknown time"
	}
	return "at " + t.UTC().Format(time.RFC3339)
}
