package core

import (
	"context"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlevent "sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/source"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	"github.com/partnerops/multichannel-operator/internal/changefeed"
	pc "github.com/partnerops/multichannel-operator/internal/partnercenter"
	"github.com/partnerops/multichannel-operator/internal/pollgate"
	"github.com/partnerops/multichannel-operator/internal/sharedcalls"
)

// Wakeups turns what Partner Center reports changed (a record of its
// activity log, or a webhook) into reconcile requests for exactly the
// objects that refer to it, lets them ask Partner Center at once (their poll
// gates released, the shared reads of the transfer or order forgotten), and
// remembers which partners' changes are reported, so that their objects
// poll only as a slow fallback.
type Wakeups struct {
	Subscriptions, Relationships, Customers, Admins chan ctrlevent.GenericEvent
	shared                                          *sharedcalls.Calls
	gates                                           []*pollgate.Gate

	mu sync.Mutex
	// reported: when each partner's changes were last read completely.
	reported map[string]time.Time
	// outside: the latest change made outside the operator to each woken
	// subscription, for its next pass to show (CustomerSubscription's
	// noteOutsideChange). It lives in memory: a restart loses what was not
	// shown yet, which stays in Partner Center's log.
	outside map[types.UID]changefeed.Record
}

// outsideChanges are the changes noteOutsideChange shows on a
// subscription: not SubscriptionUpdated, which a transfer's new owner is too.
var outsideChanges = map[string]bool{
	string(pc.ChangeSubscriptionSuspended): true, string(pc.ChangeSubscriptionCancelled): true,
	string(pc.ChangeSubscriptionReactivated): true, string(pc.ChangeSubscriptionQuantity): true,
}

// noteOutside keeps rec for uid's next pass to show.
func (w *Wakeups) noteOutside(uid types.UID, rec changefeed.Record) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.outside[uid] = rec
}

// TakeOutside returns and forgets the change to show on uid, if any.
func (w *Wakeups) TakeOutside(uid types.UID) (changefeed.Record, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	rec, ok := w.outside[uid]
	delete(w.outside, uid)
	return rec, ok
}

// wakeupBuffer is how many wake-ups may wait for a controller's queue.
const wakeupBuffer = 1024

func NewWakeups(shared *sharedcalls.Calls) *Wakeups {
	return &Wakeups{
		Subscriptions: make(chan ctrlevent.GenericEvent, wakeupBuffer),
		Relationships: make(chan ctrlevent.GenericEvent, wakeupBuffer),
		Customers:     make(chan ctrlevent.GenericEvent, wakeupBuffer),
		Admins:        make(chan ctrlevent.GenericEvent, wakeupBuffer),
		shared:        shared, reported: map[string]time.Time{}, outside: map[types.UID]changefeed.Record{},
	}
}

// Source is the channel source of one kind's wake-ups, for its controller.
func (w *Wakeups) Source(ch chan ctrlevent.GenericEvent) source.Source {
	return source.Channel(ch, &handler.EnqueueRequestForObject{})
}

// Gate registers a reconciler's poll gate, released for the objects woken.
func (w *Wakeups) Gate(g *pollgate.Gate) *pollgate.Gate {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.gates = append(w.gates, g)
	return g
}

// MarkReported records that partner's changes were read completely now.
func (w *Wakeups) MarkReported(partner string, at time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.reported[partner] = at
}

// forget: partner's changes are no longer read (its feed failed or
// stopped). It reports whether they were, so that the caller wakes the
// objects that wait on the slow fallback meanwhile.
func (w *Wakeups) forget(partner string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	_, was := w.reported[partner]
	delete(w.reported, partner)
	return was
}

// partnerObjects: the subscriptions and reseller relationships partner
// (or, for an indirect provider, its resellers) acts for, which poll on the
// fallback while its log is read.
func (w *Wakeups) partnerObjects(ctx context.Context, c client.Reader, partner string) []client.Object {
	partners := []string{partner}
	for _, p := range listed(ctx, c, &v1alpha1.PartnerList{}, client.MatchingFields{IndexProviderRef: partner}) {
		partners = append(partners, p.GetName())
	}
	var objs []client.Object
	for _, p := range partners {
		objs = append(objs, listed(ctx, c, &v1alpha1.CustomerSubscriptionList{}, client.MatchingFields{IndexSupportPartnerRef: p})...)
		objs = append(objs, listed(ctx, c, &v1alpha1.ResellerRelationshipList{}, client.MatchingFields{IndexPartnerRef: p})...)
	}
	return objs
}

// Unreport forgets partner's reads and, when they were reported, wakes the
// objects that poll on the fallback, so that they poll at the usual
// interval again at once.
func (w *Wakeups) Unreport(ctx context.Context, c client.Reader, partner string) {
	if !w.forget(partner) {
		return
	}
	for _, o := range w.partnerObjects(ctx, c, partner) {
		w.send(ctx, o)
	}
}

// reportedRecently: partner's changes were read completely within stale.
func (w *Wakeups) reportedRecently(partner string, now time.Time, stale time.Duration) bool {
	if w == nil {
		return false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	at, ok := w.reported[partner]
	return ok && now.Sub(at) < stale
}

// Wake wakes the objects rec concerns and returns how many. A record that
// names subscriptions, a transfer or an order wakes the subscriptions that
// refer to them; one that names only a customer wakes the customer, its
// reseller relationships and its subscriptions.
func (w *Wakeups) Wake(ctx context.Context, c client.Reader, rec changefeed.Record) int {
	if rec.Quiet {
		return 0
	}
	w.shared.Forget(rec.Transfer, rec.Order)
	var objs []client.Object
	for _, key := range append(append([]string{}, rec.Subscriptions...), rec.Transfer, rec.Order) {
		if key != "" {
			objs = append(objs, listed(ctx, c, &v1alpha1.CustomerSubscriptionList{}, client.MatchingFields{indexActivityKeys: key})...)
		}
	}
	// A change to a subscription the operator manages shows on it, and
	// on nothing else of the customer.
	if outsideChanges[rec.Change] {
		for _, o := range objs {
			w.noteOutside(o.GetUID(), rec)
		}
	}
	if rec.Relationship != "" {
		objs = append(objs, listed(ctx, c, &v1alpha1.DelegatedAdminRelationshipList{}, client.MatchingFields{indexRelationshipID: rec.Relationship})...)
	}
	if len(objs) == 0 && rec.Customer != "" {
		objs = w.customerObjects(ctx, c, rec.Customer)
	}
	for _, o := range objs {
		for _, g := range w.gates {
			g.Release(o.GetUID())
		}
		w.send(ctx, o)
	}
	return len(objs)
}

// customerObjects: the Customers of tenant, with their reseller
// relationships and subscriptions.
func (w *Wakeups) customerObjects(ctx context.Context, c client.Reader, tenant string) []client.Object {
	customers := listed(ctx, c, &v1alpha1.CustomerList{}, client.MatchingFields{indexTenantID: tenant})
	objs := customers
	for _, cust := range customers {
		in := client.InNamespace(cust.GetNamespace())
		ref := client.MatchingFields{IndexCustomerRef: cust.GetName()}
		objs = append(objs, listed(ctx, c, &v1alpha1.ResellerRelationshipList{}, in, ref)...)
		objs = append(objs, listed(ctx, c, &v1alpha1.CustomerSubscriptionList{}, in, ref)...)
	}
	return objs
}

// send queues o's wake-up on its kind's channel, unless ctx ends first.
func (w *Wakeups) send(ctx context.Context, o client.Object) {
	var ch chan ctrlevent.GenericEvent
	switch o.(type) {
	case *v1alpha1.CustomerSubscription:
		ch = w.Subscriptions
	case *v1alpha1.ResellerRelationship:
		ch = w.Relationships
	case *v1alpha1.Customer:
		ch = w.Customers
	case *v1alpha1.DelegatedAdminRelationship:
		ch = w.Admins
	default:
		return
	}
	select {
	case ch <- ctrlevent.GenericEvent{Object: o}:
	case <-ctx.Done():
	}
}

// listed lists the objects of list matching opts from the cache.
func listed(ctx context.Context, c client.Reader, list client.ObjectList, opts ...client.ListOption) []client.Object {
	if err := c.List(ctx, list, opts...); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "listing objects to wake")
		return nil
	}
	var objs []client.Object
	_ = meta.EachListItem(list, func(o runtime.Object) error {
		if obj, ok := o.(client.Object); ok {
			objs = append(objs, obj)
		}
		return nil
	})
	return objs
}
