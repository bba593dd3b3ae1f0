package controllers

import (
	"context"

	"k8s.io/apimachinery/pkg/api/equality"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// patchStatus writes the status of obj as one merge patch against before, the
// snapshot taken when the pass began, and writes nothing when the status is
// unchanged. The patch carries resourceVersion, so a status someone else changed
// meanwhile (a person recording a decision) conflicts and the pass is retried
// instead of overwriting it.
func patchStatus[T client.Object](ctx context.Context, c client.Client, before, obj T) error {
	if equality.Semantic.DeepEqual(before, obj) {
		return nil
	}
	return c.Status().Patch(ctx, obj, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{}))
}

// phase is one step of a reconcile pass over a scope S. It returns a result
// when it decided how the pass ends, or nil to go on to the next phase.
type phase[S any] func(context.Context, S) (*ctrl.Result, error)

// done ends a pass without a requeue.
var done = &ctrl.Result{}

// runPhases runs phases in order until one decides or fails.
func runPhases[S any](ctx context.Context, s S, phases ...phase[S]) (ctrl.Result, error) {
	for _, p := range phases {
		res, err := p(ctx, s)
		if res != nil || err != nil {
			if res == nil {
				res = &ctrl.Result{}
			}
			return *res, err
		}
	}
	return ctrl.Result{}, nil
}
