package controllers

import (
	"context"

	ctrl "sigs.k8s.io/controller-runtime"
)

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
