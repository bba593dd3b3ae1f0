package pass

import (
	"context"

	ctrl "sigs.k8s.io/controller-runtime"
)

// Phase is one step of a reconcile pass over a scope S. It returns a result
// when it decided how the pass ends, or nil to go on to the next phase.
type Phase[S any] func(context.Context, S) (*ctrl.Result, error)

// Done ends a pass without a requeue.
var Done = &ctrl.Result{}

// RunPhases runs phases in order until one decides or fails.
func RunPhases[S any](ctx context.Context, s S, phases ...Phase[S]) (ctrl.Result, error) {
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
