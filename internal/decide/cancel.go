package decide

import (
	"context"
	"fmt"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
)

// Cancellation is one person's request to cancel what the operator bought.
type Cancellation struct {
	// User is who asks, as the API server authenticates them (WhoAmI).
	User string
	// Reason says why, in the person's words; required.
	Reason string
	Now    time.Time
}

// RecordCancellation asks the operator to cancel the subscription it bought
// for the CustomerSubscription at key, within Partner Center's cancellation
// window (status.cancellableUntil): it writes status.cancellation, which
// the admission check makes the user's own and final. It refuses, saying
// why, when nothing cancellable was bought, the window has closed, or a
// cancellation was asked already; asking again what the same user asked is
// no error and writes nothing.
func RecordCancellation(ctx context.Context, c client.Client, key client.ObjectKey, req Cancellation) (Outcome, error) {
	if strings.TrimSpace(req.Reason) == "" {
		return Outcome{}, fmt.Errorf("cancel needs --reason: say why, for the record")
	}
	var out Outcome
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		sub := &v1alpha1.CustomerSubscription{}
		if err := c.Get(ctx, key, sub); err != nil {
			return fmt.Errorf("reading CustomerSubscription %s: %w", key, err)
		}
		st := sub.Status
		out = Outcome{What: fmt.Sprintf("subscription %s, %d x %s, bought by partner %s", orNone(st.TargetSubscriptionID), quantityOf(sub), sub.Spec.Offer.ID, sub.Spec.SupportPartnerRef)}
		if prev := st.Cancellation; prev != nil {
			if prev.By == req.User && prev.SubscriptionID == st.TargetSubscriptionID {
				return nil // asked already: the operator answers in status
			}
			return fmt.Errorf("CustomerSubscription %s: %s already asked to cancel subscription %s at %s; a cancellation is final",
				key, prev.By, prev.SubscriptionID, prev.At.UTC().Format(time.RFC3339))
		}
		until := st.CancellableUntil
		switch {
		case st.Phase != v1alpha1.PhaseCompleted || st.TargetSubscriptionID == "":
			return fmt.Errorf("CustomerSubscription %s is %s: the operator has bought nothing to cancel yet (to stop a purchase before it is made, deny it: kubectl multichannel deny)",
				key, orNone(string(st.Phase)))
		case until == nil:
			return fmt.Errorf("CustomerSubscription %s: Partner Center gave subscription %s no cancellation window (status.cancellableUntil is empty): only new-commerce purchases can be cancelled, within 7 days",
				key, st.TargetSubscriptionID)
		case req.Now.After(until.Time):
			return fmt.Errorf("CustomerSubscription %s: the cancellation window of subscription %s closed at %s (%s ago); Partner Center refuses a cancellation after it, and the whole term is owed",
				key, st.TargetSubscriptionID, until.UTC().Format(time.RFC3339), req.Now.Sub(until.Time).Round(time.Minute))
		}
		sub.Status.Cancellation = &v1alpha1.Cancellation{By: req.User, At: metav1.NewTime(req.Now), Reason: req.Reason, SubscriptionID: st.TargetSubscriptionID}
		if err := c.Status().Update(ctx, sub); err != nil {
			return fmt.Errorf("recording the cancellation on CustomerSubscription %s: %w", key, err)
		}
		out.Written = true
		return nil
	})
	return out, err
}

func quantityOf(sub *v1alpha1.CustomerSubscription) int32 {
	if sub.Spec.Quantity != nil {
		return *sub.Spec.Quantity
	}
	return 1
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
