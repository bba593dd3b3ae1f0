package controllers

import (
	"context"
	"fmt"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	pc "github.com/partnerops/multichannel-operator/internal/partnercenter"
)

// A new-commerce purchase can be cancelled with a refund within Partner
// Center's window (seven days after purchase): the operator records the
// window when the purchase completes (status.cancellableUntil), and a
// person with verb approve may ask for the cancellation within it
// (kubectl multichannel cancel writes status.cancellation; the admission
// check makes it theirs and final). The operator sends it once: the
// update is idempotent (a subscription already deleted is not sent again),
// and past the window it only looks whether an earlier send landed.

// recordCancellationWindow reads the bought subscription's cancellation
// window, once, when a license purchase completes.
func (r *CustomerSubscriptionReconciler) recordCancellationWindow(ctx context.Context, s *subscriptionScope) (*ctrl.Result, error) {
	if s.sub.Status.CancellableUntil != nil {
		return nil, nil
	}
	pcClient, res, err := r.targetClient(ctx, s)
	if pcClient == nil {
		return res, err
	}
	bought, err := pcClient.GetSubscription(ctx, s.customer.Spec.TenantID, s.sub.Status.TargetSubscriptionID)
	if err != nil {
		return r.partnerCenterFailed(s, "reading the cancellation window of subscription "+s.sub.Status.TargetSubscriptionID, err)
	}
	if until := bought.CancellationAllowedUntilDate; until != nil {
		t := metav1.NewTime(*until)
		s.sub.Status.CancellableUntil = &t
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
	// What the cancellation needs of the spec's references, read without
	// evaluating the spec again: it is about what was bought.
	s.customer = &v1alpha1.Customer{}
	if found, err := getReference(ctx, r.Client, s.conds, client.ObjectKey{Namespace: s.sub.Namespace, Name: s.sub.Spec.CustomerRef}, s.customer, "spec.customerRef", "cancellation"); !found {
		return done, err
	}
	if ref := s.sub.Spec.SupportPartnerRef; ref != "" {
		s.target = &v1alpha1.Partner{}
		if found, err := getReference(ctx, r.Client, s.conds, client.ObjectKey{Name: ref}, s.target, "spec.supportPartnerRef", "cancellation"); !found {
			return done, err
		}
	}
	if s.target == nil || s.sub.Status.TargetSubscriptionID == "" || c.SubscriptionID != s.sub.Status.TargetSubscriptionID {
		r.cancellationRefused(s, c, fmt.Sprintf("subscription %s is not what the operator bought for it (status.targetSubscriptionID is %q)", c.SubscriptionID, s.sub.Status.TargetSubscriptionID))
		return done, nil
	}
	if ok, err := mayActFor(ctx, r.Client, s.conds, s.target, s.customer, s.sub.Namespace); !ok {
		return done, err
	}
	pcClient, res, err := r.targetClient(ctx, s)
	if pcClient == nil {
		return res, err
	}
	customer := s.customer.Spec.TenantID
	var cancelled *pc.Subscription
	if until := s.sub.Status.CancellableUntil; until == nil || s.now.After(until.Time) {
		// Past the window nothing is sent: an earlier send may have landed
		// before a crash, and only that is recorded.
		got, err := pcClient.GetSubscription(ctx, customer, c.SubscriptionID)
		if err != nil {
			return r.partnerCenterFailed(s, "reading subscription "+c.SubscriptionID, err)
		}
		if got.Status != pc.SubscriptionDeleted {
			why := "Partner Center gave the purchase no cancellation window"
			if until != nil {
				why = fmt.Sprintf("its cancellation window closed %s, before the operator could send it, and Partner Center refuses a cancellation after it", formatTime(&until.Time))
			}
			r.cancellationRefused(s, c, why)
			return done, nil
		}
		cancelled = got
	} else {
		s.conds.progressing(v1alpha1.ReasonCancelling, fmt.Sprintf("Cancelling subscription %s in Partner Center, as %s asked.", c.SubscriptionID, c.By))
		cancelled, err = pcClient.CancelSubscription(ctx, customer, c.SubscriptionID)
		switch {
		case pc.IsRefused(err):
			r.cancellationRefused(s, c, "Partner Center refused it: "+description(err))
			return done, nil
		case err != nil:
			return r.partnerCenterFailed(s, "cancelling subscription "+c.SubscriptionID, err)
		}
	}
	now := metav1.NewTime(s.now)
	c.CompletedAt = &now
	c.Refund = truncate(describeRefund(cancelled.RefundOptions), 256)
	msg := fmt.Sprintf("Partner %s cancelled subscription %s (%s) for customer %s in Partner Center, as %s asked %s (%q); refund: %s.",
		s.target.Name, c.SubscriptionID, offerName(s.sub), s.customer.Name, c.By, formatTime(&c.At.Time), c.Reason, c.Refund)
	s.conds.set(v1alpha1.ConditionSwitched, metav1.ConditionTrue, v1alpha1.ReasonPurchaseCancelled, msg)
	s.conds.ready(v1alpha1.ReasonPurchaseCancelled, msg)
	s.event(nil, "Normal", v1alpha1.ReasonPurchaseCancelled, "CancelSubscription", "%s", msg)
	return done, nil
}

// cancellationRefused records why a cancellation was not made; the purchase stands.
func (r *CustomerSubscriptionReconciler) cancellationRefused(s *subscriptionScope, c *v1alpha1.Cancellation, why string) {
	c.Refusal = truncate(why, 1024)
	msg := fmt.Sprintf("The cancellation %s asked %s was not made: %s; the purchase stands.", c.By, formatTime(&c.At.Time), why)
	s.conds.ready(v1alpha1.ReasonCancellationRefused, msg)
	s.event(nil, "Warning", v1alpha1.ReasonCancellationRefused, "CancelSubscription", "%s", msg)
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
