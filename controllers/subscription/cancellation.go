package subscription

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	"github.com/partnerops/multichannel-operator/controllers/internal/core"
	pc "github.com/partnerops/multichannel-operator/internal/partnercenter"
	"github.com/partnerops/multichannel-operator/internal/pass"
	"github.com/partnerops/multichannel-operator/internal/sharedcalls"
)

// A new-commerce purchase can be cancelled with a refund within Partner
// Center's window (seven days after purchase): the operator records the
// window when the purchase completes (status.cancellableUntil), and a
// person with verb approve may ask for the cancellation within it
// (kubectl multichannel cancel writes status.cancellation; the admission
// check makes it theirs and final). The operator sends it once: the
// update is idempotent (a subscription already deleted is not sent again),
// and past the window, by its own clock, it only looks whether an earlier
// send landed. It acts with the partner that bought (the operation's
// terms), whatever the spec names since.

// cancellationWindow is how long after purchase Partner Center allows a
// new-commerce cancellation; past it the window is no longer read.
const cancellationWindow = 7 * 24 * time.Hour

// confirmGrace: past the window, how long the operator keeps trying to
// read whether an earlier send landed before it records a refusal.
const confirmGrace = 24 * time.Hour

// unreadWindows are the purchases whose window this process could not read
// when they completed; it is read again on their next passes, while it can
// still be open.
type unreadWindows struct {
	mu  sync.Mutex
	ids map[types.UID]struct{}
}

func (u *unreadWindows) set(uid types.UID, unread bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.ids == nil {
		u.ids = map[types.UID]struct{}{}
	}
	if unread {
		u.ids[uid] = struct{}{}
	} else {
		delete(u.ids, uid)
	}
}

func (u *unreadWindows) has(uid types.UID) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	_, ok := u.ids[uid]
	return ok
}

// recordCancellationWindow reads the bought subscription's cancellation
// window when a license purchase completes. It never holds the purchase
// back: a window it cannot read now is read again on a later pass.
func (r *CustomerSubscriptionReconciler) recordCancellationWindow(ctx context.Context, s *subscriptionScope) {
	if s.sub.Status.CancellableUntil != nil {
		return
	}
	pcClient, _, err := r.clients.CallerClient(ctx, r.Client, s.target)
	var bought *pc.Subscription
	if err == nil {
		bought, err = r.boughtSubscription(ctx, pcClient, s)
	}
	if err != nil {
		log.FromContext(ctx).Info("the purchase's cancellation window could not be read; it is read again", "subscription", s.sub.Status.TargetSubscriptionID, "error", err.Error())
		r.windows.set(s.sub.UID, true)
		return
	}
	r.windows.set(s.sub.UID, false)
	if until := bought.CancellationAllowedUntilDate; until != nil {
		t := metav1.NewTime(*until)
		s.sub.Status.CancellableUntil = &t
	}
}

// boughtSubscription reads the subscription a purchase bought. A cart's
// purchases complete together: the customer's subscription list, read once
// per poll interval for all of them, serves them; one the list does not
// hold yet is read alone.
func (r *CustomerSubscriptionReconciler) boughtSubscription(ctx context.Context, pcClient *pc.Client, s *subscriptionScope) (*pc.Subscription, error) {
	customer, id := s.customer.Spec.TenantID, s.sub.Status.TargetSubscriptionID
	list, err := sharedcalls.ReadSubscriptions(r.shared, pcClient.TenantID(), customer, r.opts.Poll(), func() (*[]pc.Subscription, error) {
		l, err := pcClient.ListSubscriptions(ctx, customer)
		return &l, err
	})
	if err != nil {
		return nil, err
	}
	for i := range *list {
		if strings.EqualFold((*list)[i].ID, id) {
			bought := (*list)[i] // a copy: the list is shared
			return &bought, nil
		}
	}
	return pcClient.GetSubscription(ctx, customer, id)
}

// readCancellationWindowAgain: a completed purchase whose window could not
// be read is read again while the window may still be open.
func (r *CustomerSubscriptionReconciler) readCancellationWindowAgain(ctx context.Context, s *subscriptionScope) (*ctrl.Result, error) {
	st := s.sub.Status
	op := st.Operation
	if !r.windows.has(s.sub.UID) || st.Phase != v1alpha1.PhaseCompleted || st.CancellableUntil != nil || op == nil || op.CompletedAt == nil {
		return nil, nil
	}
	if s.now.After(op.CompletedAt.Add(cancellationWindow)) {
		r.windows.set(s.sub.UID, false) // closed by now, whatever it was
		return nil, nil
	}
	if res, err := r.boughtReferences(ctx, s); res != nil || err != nil {
		return res, err
	}
	r.recordCancellationWindow(ctx, s)
	if r.windows.has(s.sub.UID) {
		return &ctrl.Result{RequeueAfter: r.opts.Poll()}, nil
	}
	return pass.Done, nil
}

// boughtReferences reads the customer and the partner that bought
// (status.operation.terms), without evaluating the spec again: what was
// bought is what is cancelled.
func (r *CustomerSubscriptionReconciler) boughtReferences(ctx context.Context, s *subscriptionScope) (*ctrl.Result, error) {
	s.customer = &v1alpha1.Customer{}
	if found, err := core.GetReference(ctx, r.Client, &s.verdict, client.ObjectKey{Namespace: s.sub.Namespace, Name: s.sub.Spec.CustomerRef}, s.customer, "spec.customerRef", "cancellation"); !found {
		return pass.Done, err
	}
	partner := s.sub.Spec.SupportPartnerRef
	field := "spec.supportPartnerRef"
	if op := s.sub.Status.Operation; op != nil && op.Terms != nil && op.Terms.Partner != "" {
		partner, field = op.Terms.Partner, "status.operation.terms.partner"
	}
	if partner == "" {
		return pass.Done, nil
	}
	s.target = &v1alpha1.Partner{}
	if found, err := core.GetReference(ctx, r.Client, &s.verdict, client.ObjectKey{Name: partner}, s.target, field, "cancellation"); !found {
		return pass.Done, err
	}
	return nil, nil
}

// pendingCancellation: a person asked for a cancellation that has no outcome yet.
func pendingCancellation(st v1alpha1.CustomerSubscriptionStatus) *v1alpha1.Cancellation {
	c := st.Cancellation
	if c == nil || c.CompletedAt != nil || c.Refusal != "" {
		return nil
	}
	return c
}

// cancelPurchase sends the cancellation a person asked for, once.
func (r *CustomerSubscriptionReconciler) cancelPurchase(ctx context.Context, s *subscriptionScope) (*ctrl.Result, error) {
	c := pendingCancellation(s.sub.Status)
	if c == nil {
		return nil, nil
	}
	s.lock = true // the outcome is written over what this pass read, or not at all
	st := s.sub.Status
	if op := st.Operation; op == nil || op.Type != v1alpha1.OperationCreateLicenseSubscription || op.CompletedAt == nil ||
		st.TargetSubscriptionID == "" || c.SubscriptionID != st.TargetSubscriptionID {
		r.cancellationRefused(s, c, fmt.Sprintf("subscription %s is not a license purchase the operator completed for it (status.targetSubscriptionID is %q)", c.SubscriptionID, st.TargetSubscriptionID))
		return pass.Done, nil
	}
	if res, err := r.boughtReferences(ctx, s); res != nil || err != nil {
		return res, err
	}
	if ok, err := core.MayActFor(ctx, r.Client, &s.verdict, s.target, s.customer, s.sub.Namespace); !ok {
		return pass.Done, err
	}
	pcClient, caller, err := r.clients.CallerClient(ctx, r.Client, s.target)
	if ok, err := core.Usable(err, &s.verdict, caller, "Partner Center", func() {
		s.verdict = pass.Stalled(v1alpha1.ReasonPartnerNotReady, fmt.Sprintf("%s has no Partner Center credentials, so the cancellation %s asked cannot be sent.", core.Capitalize(core.ActingFor(caller, s.target)), c.By))
	}); !ok {
		return pass.Done, err
	}
	customer := s.customer.Spec.TenantID
	var cancelled *pc.Subscription
	if until := st.CancellableUntil; until == nil || s.now.After(until.Time) {
		// Past the window nothing is sent: an earlier send may have landed
		// before a crash, and only that is recorded.
		got, err := pcClient.GetSubscription(ctx, customer, c.SubscriptionID)
		if err != nil && (until == nil || s.now.Before(until.Add(confirmGrace))) {
			return r.partnerCenterFailed(s, "reading subscription "+c.SubscriptionID, err)
		}
		if err != nil || got.Status != pc.SubscriptionDeleted {
			why := "Partner Center gave the purchase no cancellation window"
			if until != nil {
				why = fmt.Sprintf("its cancellation window closed %s, before the operator could send it, and Partner Center refuses a cancellation after it", core.FormatTime(&until.Time))
			}
			r.cancellationRefused(s, c, why)
			return pass.Done, nil
		}
		cancelled = got
	} else {
		s.verdict = pass.Progressing(v1alpha1.ReasonCancelling, fmt.Sprintf("Cancelling subscription %s in Partner Center, as %s asked.", c.SubscriptionID, c.By))
		cancelled, err = pcClient.CancelSubscription(ctx, customer, c.SubscriptionID)
		var pcErr *pc.Error
		switch {
		case errors.As(err, &pcErr) && (pcErr.StatusCode == http.StatusPreconditionFailed || pcErr.StatusCode == http.StatusConflict):
			return r.partnerCenterFailed(s, "cancelling subscription "+c.SubscriptionID+" (it changed while being read)", err)
		case pc.IsRefused(err):
			r.cancellationRefused(s, c, "Partner Center refused it: "+core.Description(err))
			return pass.Done, nil
		case err != nil:
			return r.partnerCenterFailed(s, "cancelling subscription "+c.SubscriptionID, err)
		}
	}
	now := metav1.NewTime(s.now)
	c.CompletedAt = &now
	c.Refund = core.Truncate(describeRefund(cancelled.RefundOptions), 256)
	msg := fmt.Sprintf("%s cancelled subscription %s (%s) for customer %s in Partner Center, as %s asked %s (%q); refund: %s.",
		core.Capitalize(core.ActingFor(caller, s.target)), c.SubscriptionID, offerName(s.sub), s.customer.Name, c.By, core.FormatTime(&c.At.Time), c.Reason, c.Refund)
	s.end = &ending{kind: endCancelled, reason: v1alpha1.ReasonPurchaseCancelled, message: msg}
	s.Event(nil, corev1.EventTypeNormal, v1alpha1.ReasonPurchaseCancelled, "CancelSubscription", "%s", msg)
	return pass.Done, nil
}

// cancellationRefused records why a cancellation was not made; the purchase stands.
func (r *CustomerSubscriptionReconciler) cancellationRefused(s *subscriptionScope, c *v1alpha1.Cancellation, why string) {
	c.Refusal = core.Truncate(why, 1024)
	msg := fmt.Sprintf("The cancellation %s asked %s was not made: %s; the purchase stands.", c.By, core.FormatTime(&c.At.Time), why)
	s.end = &ending{kind: endCancellationRefused, reason: v1alpha1.ReasonCancellationRefused, message: msg}
	s.Event(nil, corev1.EventTypeWarning, v1alpha1.ReasonCancellationRefused, "CancelSubscription", "%s", msg)
}

// describeRefund says what Partner Center will refund, as it reports it.
func describeRefund(opts []pc.RefundOption) string {
	if len(opts) == 0 {
		return "none reported by Partner Center"
	}
	parts := make([]string, 0, len(opts))
	for _, o := range opts {
		if o.ExpiresAt != nil {
			parts = append(parts, fmt.Sprintf("%s (until %s)", o.Type, o.ExpiresAt.UTC().Format(time.RFC3339)))
		} else {
			parts = append(parts, o.Type)
		}
	}
	return strings.Join(parts, ", ")
}
