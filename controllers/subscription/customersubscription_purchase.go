package subscription

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	"github.com/partnerops/multichannel-operator/controllers/internal/core"
	"github.com/partnerops/multichannel-operator/internal/carts"
	pc "github.com/partnerops/multichannel-operator/internal/partnercenter"
	"github.com/partnerops/multichannel-operator/internal/pass"
	"github.com/partnerops/multichannel-operator/internal/policy"
)

// The NewLicenseSubscription path: a purchase is recorded into the
// customer's cart with the partner (the purchases ready together share one
// cart and one checkout), bought through it, and its order followed until
// Partner Center provisions the subscription. The send is buy; the follow
// is awaitOrder.

// cartGroupOf: the purchases a subscription's may share a cart with.
func cartGroupOf(s *subscriptionScope) carts.Group {
	return carts.Group{Namespace: s.sub.Namespace, Customer: s.customer.Spec.TenantID, Target: s.target.Spec.TenantID}
}

// purchaseName is the friendly name of the line item, and of the
// subscription it buys: it tells a cart's line items apart, and tells a
// partner in Partner Center which CustomerSubscription bought it.
func purchaseName(sub *v1alpha1.CustomerSubscription) string {
	return fmt.Sprintf("%s (%s)", offerName(sub), sub.Name)
}

// cartLineItem is what a subscription's recorded purchase buys, for
// partner: the catalog item and terms its operation recorded; an indirect
// reseller is named as the line item's partner of record.
func cartLineItem(sub *v1alpha1.CustomerSubscription, partner *v1alpha1.Partner) pc.CartLineItem {
	op := sub.Status.Operation
	return pc.CartLineItem{CatalogItemID: op.CatalogItemID, FriendlyName: purchaseName(sub), Quantity: int(op.Terms.Quantity),
		TermDuration: op.Terms.TermDuration, BillingCycle: op.Terms.BillingCycle, Participants: core.OnRecord(partner)}
}

// buy sends the cart op recorded, unless its answer is known, and takes
// this subscription's line item from the checkout. It returns a result when
// the pass must end here.
func (r *CustomerSubscriptionReconciler) buy(ctx context.Context, s *subscriptionScope, pcClient *pc.Client, op *v1alpha1.Operation) (*ctrl.Result, error) {
	id := op.Cart
	co := r.carts.Answered(id)
	if co == nil {
		if err, sent := r.carts.Refusal(id, s.sub.UID); err != nil {
			return r.refused(s, op, id, err, sent)
		}
		if wait := r.carts.Wait(id); wait > 0 {
			s.verdict = pass.Progressing(v1alpha1.ReasonSwitching, r.inCart(s, op)) // as recorded: no write while it waits
			return &ctrl.Result{RequeueAfter: wait}, nil
		}
		members, seen, err := r.cartMembers(ctx, s, op)
		if err != nil {
			return nil, err
		}
		uids := make([]types.UID, 0, len(members))
		items := make([]pc.CartLineItem, 0, len(members))
		ids := make([]string, 0, len(members))
		for _, m := range members {
			uids = append(uids, m.UID)
			items = append(items, cartLineItem(m, s.target)) // a cart's members share their partner (cartGroupOf)
			ids = append(ids, m.Status.Operation.ID)
		}
		if unseen := r.carts.Unseen(id, seen); unseen > 0 {
			s.verdict = pass.Progressing(v1alpha1.ReasonSwitching, r.inCart(s, op))
			return &ctrl.Result{RequeueAfter: 250 * time.Millisecond}, nil
		}
		own := purchaseName(s.sub)
		r.unsent.sending(ids...)
		co, err = r.carts.Send(id, cartGroupOf(s), uids, items, func(items []pc.CartLineItem) (*pc.Checkout, error) {
			return pcClient.Purchase(ctx, s.customer.Spec.TenantID, id, own, items)
		})
		switch {
		case errors.Is(err, pc.ErrNotInCart):
			return r.notInCart(ctx, s, op, id, co)
		case err != nil:
			if rerr, sent := r.carts.Refusal(id, s.sub.UID); rerr != nil {
				return r.refused(s, op, id, rerr, sent)
			}
			return r.operationFailed(s, op, fmt.Errorf("cart %s: %w", id, err))
		}
	}
	return r.takeFromCart(ctx, s, op, id, co)
}

// refused: Partner Center refused cart id. It fails the purchases sent in
// it, as a refused purchase alone would: Partner Center may still hold the
// cart, so none of them may be bought in another while one could send this
// one again. A purchase not sent in it was asked for nothing, and records
// another cart.
func (r *CustomerSubscriptionReconciler) refused(s *subscriptionScope, op *v1alpha1.Operation, id string, err error, sent bool) (*ctrl.Result, error) {
	if !sent {
		return r.rejoin(s, op, id)
	}
	return r.operationFailed(s, op, fmt.Errorf("cart %s: %w", id, err))
}

// rejoin: cart id was sent without this purchase, so nothing was bought for
// it there; it records another cart.
func (r *CustomerSubscriptionReconciler) rejoin(s *subscriptionScope, op *v1alpha1.Operation, id string) (*ctrl.Result, error) {
	op.Cart = r.carts.Join(cartGroupOf(s), s.sub.UID)
	s.lock = true
	s.verdict = pass.Progressing(v1alpha1.ReasonSwitching, fmt.Sprintf(
		"Cart %s was sent before this purchase was recorded in it, so nothing was bought for it there; it is recorded in cart %s and bought next.", id, op.Cart))
	return pass.Done, nil
}

// notInCart: Partner Center's cart under request id has no line item of
// this purchase's name. Taken as "not in it" only when every line item of
// the cart is recognisably another purchase of this namespace: were the
// names changed on the way, each purchase would find itself in no cart and
// buy again.
func (r *CustomerSubscriptionReconciler) notInCart(ctx context.Context, s *subscriptionScope, op *v1alpha1.Operation, id string, co *pc.Checkout) (*ctrl.Result, error) {
	for _, li := range co.Cart.LineItems {
		name := li.FriendlyName
		open := strings.LastIndex(name, " (")
		other := &v1alpha1.CustomerSubscription{}
		if open < 0 || !strings.HasSuffix(name, ")") ||
			r.Get(ctx, client.ObjectKey{Namespace: s.sub.Namespace, Name: name[open+2 : len(name)-1]}, other) != nil ||
			other.UID == s.sub.UID || purchaseName(other) != name {
			return nil, fmt.Errorf("CustomerSubscription %s/%s: cart request %s (Partner Center cart %s) has no line item %q, and its line item %q is no other purchase's: "+
				"the operator cannot tell whether it bought this one, and buys nothing until it can", s.sub.Namespace, s.sub.Name, id, co.Cart.ID, purchaseName(s.sub), name)
		}
	}
	return r.rejoin(s, op, id)
}

// inCart says where a recorded purchase is until its cart is sent; the same
// words while it waits, so that waiting writes nothing.
func (r *CustomerSubscriptionReconciler) inCart(s *subscriptionScope, op *v1alpha1.Operation) string {
	return fmt.Sprintf("Recorded operation %s (%s) in cart %s, which takes customer %s's purchases from partner %s recorded within %s of its first; Partner Center is called next.",
		op.ID, op.Type, op.Cart, s.customer.Name, s.target.Name, r.opts.CartWindow)
}

// takeFromCart records what the checkout of cart id bought for this
// subscription.
func (r *CustomerSubscriptionReconciler) takeFromCart(ctx context.Context, s *subscriptionScope, op *v1alpha1.Operation, id string, co *pc.Checkout) (*ctrl.Result, error) {
	name := purchaseName(s.sub)
	if order, li := co.Ordered(name); li != nil {
		op.ExternalID = order.ID
		if li.SubscriptionID != "" { // a pending order has none yet: awaitOrder follows it
			op.CompletedAt = timePtr(order.CreationDate, s.now)
			s.sub.Status.TargetSubscriptionID = li.SubscriptionID
		}
		return nil, nil
	}
	if co.CartLineItem(name) == nil {
		// Its record reached the API server after the cart was sent.
		return r.notInCart(ctx, s, op, id, co)
	}
	if e, inGroup := co.OrderError(name); e != nil {
		// The checkout answered, and answers the same for good: nothing of
		// the order group was bought.
		if inGroup > 1 {
			return r.buyAlone(s, op, id, inGroup, fmt.Sprintf("code %d: %s", e.Code, e.Description))
		}
		now := metav1.NewTime(s.now)
		op.CompletedAt = &now
		op.Refusal = core.Truncate(fmt.Sprintf("order error %d: %s", e.Code, e.Description), 1024)
		r.fail(s, v1alpha1.ReasonPartnerCenterRejected, fmt.Sprintf("Partner Center did not order %s in cart request %s (Partner Center cart %s): %s (code %d).",
			name, id, co.Cart.ID, e.Description, e.Code))
		return pass.Done, nil
	}
	return nil, fmt.Errorf("CustomerSubscription %s/%s: the checkout of cart request %s (Partner Center cart %s) holds line item %q but neither ordered it nor gave an order error for it",
		s.sub.Namespace, s.sub.Name, id, co.Cart.ID, name)
}

// buyAlone: Partner Center's checkout could not order an order group of
// several line items, and bought nothing of it. Which line item was at fault
// is not known, so the purchase records a cart of its own: the line item at
// fault then fails alone with Partner Center's reason, the others are
// bought. The checkout's answer is final (a repeated request ID gets it
// again), so the group is never bought in the first cart too.
func (r *CustomerSubscriptionReconciler) buyAlone(s *subscriptionScope, op *v1alpha1.Operation, id string, items int, reason string) (*ctrl.Result, error) {
	op.Cart = r.carts.Alone(cartGroupOf(s), s.sub.UID)
	s.lock = true
	s.Event(nil, corev1.EventTypeNormal, "BuyingAlone", "CallPartnerCenter",
		"Partner Center could not order %d line items of cart %s together (%s) and bought none of them; operation %s is bought alone in cart %s, so that only a line item at fault fails.",
		items, id, reason, op.ID, op.Cart)
	s.verdict = pass.Progressing(v1alpha1.ReasonSwitching, fmt.Sprintf("Partner Center could not order cart %s's %d line items together; this purchase is bought alone in cart %s next.", id, items, op.Cart))
	return pass.Done, nil
}

// cartMembers: the purchases to send in op's cart: those the cache shows
// with the cart recorded, not yet bought, refused or being deleted, each
// sendable on its own (an Authorized decision names the terms it recorded,
// its current spec asks for them, and they are for this cart's customer and
// partner), and this one; by name, so a send is the same whoever makes it.
// seen also lists the purchases that recorded the cart but are not sent in
// it: they are not waited for.
func (r *CustomerSubscriptionReconciler) cartMembers(ctx context.Context, s *subscriptionScope, op *v1alpha1.Operation) (members []*v1alpha1.CustomerSubscription, seen []types.UID, err error) {
	members = []*v1alpha1.CustomerSubscription{s.sub}
	seen = []types.UID{s.sub.UID}
	if op.Cart == "" {
		return members, seen, nil
	}
	list := &v1alpha1.CustomerSubscriptionList{}
	if err := r.List(ctx, list, client.InNamespace(s.sub.Namespace), client.MatchingFields{core.IndexCart: op.Cart}); err != nil {
		return nil, nil, fmt.Errorf("listing the purchases of cart %s: %w", op.Cart, err)
	}
	for i := range list.Items {
		m := &list.Items[i]
		o := m.Status.Operation
		if m.UID == s.sub.UID || o == nil || o.Cart != op.Cart {
			continue
		}
		seen = append(seen, m.UID)
		if o.ExternalID != "" || o.CompletedAt != nil || o.Refusal != "" || !m.DeletionTimestamp.IsZero() || operationPath[o.Type] == v1alpha1.PathPartnerSwitch {
			continue
		}
		why := sendable(m, o)
		if why == "" && m.Status.Authorization.Source == v1alpha1.AuthorizationFromPolicy {
			why = r.policyWithdrawn(ctx, m)
		}
		if why != "" || o.Terms.CustomerTenantID != op.Terms.CustomerTenantID || o.Terms.PartnerTenantID != op.Terms.PartnerTenantID {
			if why == "" {
				why = "its terms are for another customer or partner"
			}
			log.FromContext(ctx).Info("purchase not sent in the cart it recorded", "cart", op.Cart, "subscription", m.Name, "why", why)
			continue
		}
		members = append(members, m)
	}
	sort.Slice(members, func(i, j int) bool { return members[i].Name < members[j].Name })
	return members, seen, nil
}

// policyWithdrawn says why the policy that authorized m no longer gives that
// authorization, or "" while it still does: a policy deleted or narrowed
// since m's last pass must not buy m in another's cart.
func (r *CustomerSubscriptionReconciler) policyWithdrawn(ctx context.Context, m *v1alpha1.CustomerSubscription) string {
	a := m.Status.Authorization
	name, _ := v1alpha1.AuthorizingPolicy(a)
	p := &v1alpha1.ApprovalPolicy{}
	if err := r.Get(ctx, client.ObjectKey{Namespace: m.Namespace, Name: name}, p); err != nil {
		return "its policy cannot be read (" + err.Error() + ")"
	}
	target := &v1alpha1.Partner{}
	if err := r.Get(ctx, client.ObjectKey{Name: a.Terms.Partner}, target); err != nil {
		return "its partner cannot be read (" + err.Error() + ")"
	}
	if ok, why := policy.Authorizes(p, m, target, a.Terms.Path); !ok {
		return "its policy no longer authorizes it (it " + why + ")"
	}
	return ""
}

// awaitOrder: a pending order has no subscription ID yet; the subscription
// stays Switching, polling the order, until Partner Center provisions it.
func (r *CustomerSubscriptionReconciler) awaitOrder(ctx context.Context, s *subscriptionScope, op *v1alpha1.Operation) (*ctrl.Result, error) {
	if s.sub.Status.TargetSubscriptionID != "" {
		return nil, nil
	}
	pcClient, res, err := r.targetClient(ctx, s)
	if pcClient == nil {
		return res, err
	}
	interval := r.opts.FollowInterval(r.wake, s.target)
	if wait := r.polls.WaitWithin(s.sub.UID, interval); wait > 0 {
		return &ctrl.Result{RequeueAfter: wait}, nil // asked within the interval
	}
	// The members of a cart share its orders; one read per interval serves them all.
	order, err := r.shared.ReadOrder(op.ExternalID, interval, func() (*pc.Order, error) {
		return pcClient.GetOrder(ctx, s.customer.Spec.TenantID, op.ExternalID)
	})
	if err != nil {
		return r.partnerCenterFailed(s, "following order "+op.ExternalID, err)
	}
	li := order.LineItemNamed(purchaseName(s.sub))
	if li == nil {
		return nil, fmt.Errorf("CustomerSubscription %s/%s: order %s has no line item %q", s.sub.Namespace, s.sub.Name, order.ID, purchaseName(s.sub))
	}
	if li.SubscriptionID != "" {
		s.sub.Status.TargetSubscriptionID = li.SubscriptionID
		op.CompletedAt = timePtr(order.CreationDate, s.now)
		return nil, nil
	}
	if core.OrderRefused(order.Status) {
		// Refused without a subscription for this line item: waiting cannot help.
		op.CompletedAt = timePtr(nil, s.now)
		r.fail(s, v1alpha1.ReasonPartnerCenterRejected, fmt.Sprintf("Order %s is %q without a subscription for %s; nothing was provisioned for it.", order.ID, order.Status, li.FriendlyName))
		return pass.Done, nil
	}
	msg := fmt.Sprintf("Order %s is %s: Partner Center has not provisioned the subscription yet.", order.ID, order.Status)
	if st := strings.ToLower(order.Status); st != "pending" && st != "" {
		msg = fmt.Sprintf("Order %s is %s but names no subscription for %s yet; the operator reads it again. Before a retry, check in Partner Center whether it was provisioned: a retry buys again.", order.ID, order.Status, li.FriendlyName)
	}
	s.verdict = pass.Progressing(v1alpha1.ReasonAwaitingOrder, msg)
	return &ctrl.Result{RequeueAfter: r.opts.Follow(r.wake, s.target)}, nil
}
