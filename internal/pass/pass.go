// Package pass is the shape every reconciler's pass runs: Begin snapshots the
// object; the steps (Phases, run in order by RunPhases, or called in order)
// record what they found in their kind's scope; the kind's summarize derives
// the status (its phase, its step conditions and a Summary) from those facts
// in one place; and Finish writes Ready, Reconciling and Stalled from the
// Summary, writes the status once if it changed, and only then emits the
// queued Events.
// It knows the conditions every kind keeps (api/v1alpha1), nothing of any
// one kind.
package pass

import (
	"context"
	"errors"
	"fmt"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
)

// Pass is one reconcile pass over Obj, as every reconciler runs it: the
// phases decide (they record facts in their kind's scope and queue events);
// the kind's summarize derives the status from the facts; Finish then writes
// Ready, Reconciling and Stalled from its Summary, writes the status once if
// it changed, and only after that write succeeded emits the events and logs
// what was decided. A pass whose write fails emits nothing: the next pass
// decides again.
type Pass[T client.Object] struct {
	client   client.Client
	recorder recorder.EventRecorder
	log      logr.Logger
	kind     string
	// Before is the snapshot the status patch is computed against.
	Before T
	Obj    T
	Conds  Conditions
	events []event
	// observed is the object's status.observedGeneration, which Finish
	// sets, and only Finish: a pass that ended without an error judged
	// the spec it read.
	observed *int64
}

type event struct {
	related                            runtime.Object
	eventType, reason, action, message string
}

// Begin snapshots obj; the pass's Conds edits the conditions at list,
// stamped with obj's generation; observed is obj's
// status.observedGeneration.
func Begin[T client.Object](ctx context.Context, c client.Client, rec recorder.EventRecorder, kind string, obj T, list *[]metav1.Condition, observed *int64) *Pass[T] {
	return &Pass[T]{
		client: c, recorder: rec, kind: kind, log: log.FromContext(ctx),
		Before: obj.DeepCopyObject().(T), Obj: obj, observed: observed,
		Conds: NewConditions(list, obj.GetGeneration()),
	}
}

// Event queues an Event about the object; related is another object it concerns, or nil.
func (p *Pass[T]) Event(related runtime.Object, eventType, reason, action, format string, args ...any) {
	p.events = append(p.events, event{related: related, eventType: eventType, reason: reason, action: action, message: fmt.Sprintf(format, args...)})
}

// PhaseChanged queues the Event every phase change gets: the new phase as
// reason, subject and the message of the verdict Finish writes for sum (its
// gates applied) as what happened and why.
func (p *Pass[T]) PhaseChanged(from, to string, warning bool, subject string, sum Summary) {
	if from == to || to == "" || to == string(v1alpha1.PhasePending) {
		return
	}
	eventType := corev1.EventTypeNormal
	if warning {
		eventType = corev1.EventTypeWarning
	}
	msg := subject
	if v := p.Conds.settle(sum, nil); v.Decided() {
		if msg != "" {
			msg += ": "
		}
		msg += v.Message
	}
	if msg == "" {
		msg = to
	}
	p.Event(nil, eventType, to, "Reconcile", "%s", msg)
}

// EventOnReadyChange queues an Event when v changes Ready's reason or status.
func (p *Pass[T]) EventOnReadyChange(v Verdict, eventType, action string) {
	if !v.Decided() {
		return
	}
	if was := p.Conds.Find(v1alpha1.ConditionReady); was != nil && was.Reason == v.Reason && was.Status == v.readyStatus() {
		return
	}
	p.Event(nil, eventType, v.Reason, action, "%s", v.Message)
}

// Finish writes Ready, Reconciling and Stalled from sum (Ready held back by
// any of sum.Gates that is not True), sets observedGeneration when the pass
// ended without an error, writes the status and emits the events. A pass
// that failed before deciding anything says so in Reconciling. locked
// makes the write carry resourceVersion: a pass that changed a status field
// a person also writes (a decision) must not overwrite one written since it
// read the object; other writes merge, so that metadata written meanwhile
// (by Argo CD or Flux) does not make them conflict.
func (p *Pass[T]) Finish(ctx context.Context, res ctrl.Result, err error, locked bool, sum Summary) error {
	if err == nil {
		*p.observed = p.Obj.GetGeneration()
	}
	p.Conds.Apply(sum, err)
	if equality.Semantic.DeepEqual(p.Before, p.Obj) {
		return err
	}
	opts := []client.MergeFromOption{}
	if locked {
		opts = append(opts, client.MergeFromWithOptimisticLock{})
	}
	if werr := p.client.Status().Patch(ctx, p.Obj, client.MergeFromWithOptions(p.Before, opts...)); werr != nil {
		return errors.Join(err, fmt.Errorf("writing %s %s status: %w", p.kind, client.ObjectKeyFromObject(p.Obj), werr))
	}
	for _, e := range p.events {
		p.recorder.Eventf(p.Obj, e.related, e.eventType, e.reason, e.action, "%s", e.message)
		p.log.Info(e.message, "event", e.reason, "type", e.eventType)
	}
	if ready := meta.FindStatusCondition(*p.Conds.list, v1alpha1.ConditionReady); ready != nil {
		p.log.V(1).Info("status written", "ready", ready.Status, "reason", ready.Reason, "requeueAfter", res.RequeueAfter)
	}
	return err
}
