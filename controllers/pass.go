package controllers

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

// pass is one reconcile pass over obj, as every reconciler runs it: the
// phases decide (they edit obj's status, record the outcome in conds and
// queue events); finish then derives Ready, Reconciling and Stalled from the
// outcome, writes the status once if it changed, and only after that write
// succeeded emits the events and logs what was decided. A pass whose write
// fails emits nothing: the next pass decides again.
type pass[T client.Object] struct {
	client   client.Client
	recorder recorder.EventRecorder
	log      logr.Logger
	kind     string
	before   T // the snapshot the status patch is computed against
	obj      T
	conds    conditions
	events   []event
	// observed is the object's status.observedGeneration, which finish
	// sets, and only finish: a pass that ended without an error judged
	// the spec it read.
	observed *int64
}

type event struct {
	related                            runtime.Object
	eventType, reason, action, message string
}

// beginPass snapshots obj; conds edits the conditions at list, stamped with
// generation; observed is obj's status.observedGeneration.
func beginPass[T client.Object](ctx context.Context, c client.Client, rec recorder.EventRecorder, kind string, obj T, list *[]metav1.Condition, observed *int64) *pass[T] {
	return &pass[T]{
		client: c, recorder: rec, kind: kind, log: log.FromContext(ctx),
		before: obj.DeepCopyObject().(T), obj: obj, observed: observed,
		conds: conditions{list: list, generation: obj.GetGeneration(), outcome: &outcome{}},
	}
}

// event queues an Event about the object; related is another object it concerns, or nil.
func (p *pass[T]) event(related runtime.Object, eventType, reason, action, format string, args ...any) {
	p.events = append(p.events, event{related: related, eventType: eventType, reason: reason, action: action, message: fmt.Sprintf(format, args...)})
}

// phaseChanged queues the Event every phase change gets: the new phase as
// reason, subject and the Ready message as what happened and why.
func (p *pass[T]) phaseChanged(from, to string, warning bool, subject string) {
	if from == to || to == "" || to == string(v1alpha1.PhasePending) {
		return
	}
	eventType := corev1.EventTypeNormal
	if warning {
		eventType = corev1.EventTypeWarning
	}
	msg := subject
	if o := p.conds.outcome; o.state != unsummarized {
		if msg != "" {
			msg += ": "
		}
		msg += o.message
	}
	if msg == "" {
		msg = to
	}
	p.event(nil, eventType, to, "Reconcile", "%s", msg)
}

// finish summarizes the pass, sets observedGeneration when the pass ended
// without an error, writes the status and emits the events. A
// pass that failed before deciding anything says so in Reconciling. locked
// makes the write carry resourceVersion: a pass that changed a status field
// a person also writes (a decision) must not overwrite one written since it
// read the object; other writes merge, so that metadata written meanwhile
// (by Argo CD or Flux) does not make them conflict.
func (p *pass[T]) finish(ctx context.Context, res ctrl.Result, err error, locked bool) error {
	if err == nil {
		*p.observed = p.obj.GetGeneration()
	}
	p.conds.summarize(err)
	if equality.Semantic.DeepEqual(p.before, p.obj) {
		return err
	}
	opts := []client.MergeFromOption{}
	if locked {
		opts = append(opts, client.MergeFromWithOptimisticLock{})
	}
	if werr := p.client.Status().Patch(ctx, p.obj, client.MergeFromWithOptions(p.before, opts...)); werr != nil {
		return errors.Join(err, fmt.Errorf("writing %s %s status: %w", p.kind, client.ObjectKeyFromObject(p.obj), werr))
	}
	for _, e := range p.events {
		p.recorder.Eventf(p.obj, e.related, e.eventType, e.reason, e.action, "%s", e.message)
		p.log.Info(e.message, "event", e.reason, "type", e.eventType)
	}
	if ready := meta.FindStatusCondition(*p.conds.list, v1alpha1.ConditionReady); ready != nil {
		p.log.V(1).Info("status written", "ready", ready.Status, "reason", ready.Reason, "requeueAfter", res.RequeueAfter)
	}
	return err
}
