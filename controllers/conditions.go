package controllers

import (
	"errors"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	ctrl "sigs.k8s.io/controller-runtime"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	pc "github.com/partnerops/multichannel-operator/internal/partnercenter"
)

// conditions edits one object's conditions for one pass, stamping each with
// the generation the pass looked at. A condition whose status does not change
// keeps its lastTransitionTime, so an unchanged pass writes nothing.
type conditions struct {
	list       *[]metav1.Condition
	generation int64
	// outcome is what the pass decided, which summarize turns into Ready,
	// Reconciling and Stalled.
	outcome *outcome
}

func (c conditions) set(typ string, status metav1.ConditionStatus, reason, message string) {
	meta.SetStatusCondition(c.list, metav1.Condition{
		Type: typ, Status: status, Reason: reason, Message: message, ObservedGeneration: c.generation,
	})
}

func (c conditions) remove(typ string) { meta.RemoveStatusCondition(c.list, typ) }

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
func (o *outcome) readyStatus() metav1.ConditionStatus { return boolStatus(o.state == outcomeReady) }

// ready: the object is in its desired state.
func (c conditions) ready(reason, message string) {
	*c.outcome = outcome{outcomeReady, reason, message}
}

// progressing: the operator, or another party it waits on, is still working.
func (c conditions) progressing(reason, message string) {
	*c.outcome = outcome{outcomeProgressing, reason, message}
}

// stalled: no progress is possible without a person.
func (c conditions) stalled(reason, message string) {
	*c.outcome = outcome{outcomeStalled, reason, message}
}

// summarize derives Ready, Reconciling and Stalled from the pass's outcome,
// or from its error when it decided nothing. A pass that decided nothing and
// failed nothing leaves them as they are.
func (c conditions) summarize(err error) {
	o := *c.outcome
	if o.state == unsummarized && err != nil {
		o = outcome{outcomeProgressing, v1alpha1.ReasonReconcileError, fmt.Sprintf("%v; retrying.", err)}
	}
	switch o.state {
	case outcomeReady:
		c.remove(v1alpha1.ConditionReconciling)
		c.remove(v1alpha1.ConditionStalled)
		c.set(v1alpha1.ConditionReady, metav1.ConditionTrue, o.reason, o.message)
	case outcomeProgressing:
		c.remove(v1alpha1.ConditionStalled)
		c.set(v1alpha1.ConditionReconciling, metav1.ConditionTrue, o.reason, o.message)
		c.set(v1alpha1.ConditionReady, metav1.ConditionFalse, o.reason, o.message)
	case outcomeStalled:
		c.remove(v1alpha1.ConditionReconciling)
		c.set(v1alpha1.ConditionStalled, metav1.ConditionTrue, o.reason, o.message)
		c.set(v1alpha1.ConditionReady, metav1.ConditionFalse, o.reason, o.message)
	}
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

// retryPartnerCenter reports a failed Partner Center call on object and
// returns the error, so that the pass is retried with backoff. A call that
// needs App+User credentials the partner lacks cannot succeed by retrying:
// that stalls until a person adds a refresh token.
func retryPartnerCenter(conds conditions, object, doing string, err error) (*ctrl.Result, error) {
	if errors.Is(err, pc.ErrUserCredentialsRequired) {
		// Nothing was sent: the operator cannot make the call at all.
		conds.stalled(v1alpha1.ReasonPartnerNotReady, fmt.Sprintf(
			"Stopped %s: it is an App+User call, and the partner has no %s (in the Secret spec.partnerCenter.credentialsSecretRef names; kubectl multichannel login writes one). The Secret's change resumes this at once.",
			doing, v1alpha1.SecretKeyRefreshToken))
		return done, nil
	}
	conds.progressing(v1alpha1.ReasonPartnerCenterError, fmt.Sprintf("Partner Center failed while %s: %v; retrying.", doing, err))
	return nil, fmt.Errorf("%s for %s: %w", doing, object, err)
}
