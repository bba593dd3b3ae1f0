package controllers

import (
	"context"

	"k8s.io/apimachinery/pkg/api/equality"
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
