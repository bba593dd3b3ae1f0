// Package sharedcalls lets the objects that have something in common in
// Partner Center share the calls too: one transfer per customer, pair of
// partners and kind of product; one read of a transfer or an order per
// poll interval, whichever subscription asks; one reseller request link per
// partner. It lives in memory.
package sharedcalls

import (
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
	"k8s.io/apimachinery/pkg/types"

	pc "github.com/partnerops/multichannel-operator/internal/partnercenter"
)

// Calls holds what many objects have in common in Partner Center, so that
// they share the calls too:
//   - one transfer per customer, pair of partners and kind of product: a
//     new-commerce transfer carries whatever the source partner accepts, so
//     every subscription moving between the same two partners for one
//     customer joins the transfer under way instead of asking for another;
//   - one read of a transfer or an order per poll interval, whichever
//     subscription asks;
//   - one reseller request link per partner (and indirect provider): the link
//     is the partner's, not the customer's.
//
// It lives in memory. After a restart, subscriptions that recorded a
// transfer follow it as before; the first new one asks for a new transfer,
// which the others then join.
type Calls struct {
	mu       sync.Mutex
	creating map[TransferGroup]*sync.Mutex
	active   map[TransferGroup]string          // transfer ID under way
	pending  map[TransferGroup]pendingTransfer // a member recorded the group's transfer, not yet sent
	reads    map[string]timedRead              // transfers and orders, by kind and ID
	links    map[string]*pc.RelationshipRequest
	pruned   time.Time
	// calls makes concurrent askers of the same thing wait for one call.
	calls singleflight.Group
}

// TransferGroup is what one transfer may carry: the tenant IDs of the
// customer and the two partners, and the kind of product.
type TransferGroup struct{ Customer, Source, Target, ProductType string }

// pendingTransfer: when a member recorded the group's new transfer, and which.
type pendingTransfer struct {
	at time.Time
	by types.UID
}

type timedRead struct {
	value any
	at    time.Time
}

// New returns empty shared calls.
func New() *Calls {
	return &Calls{creating: map[TransferGroup]*sync.Mutex{}, active: map[TransferGroup]string{}, pending: map[TransferGroup]pendingTransfer{},
		reads: map[string]timedRead{}, links: map[string]*pc.RelationshipRequest{}}
}

// LockGroup serializes asking for a transfer within a group, so that
// subscriptions ready together make one request; it returns the unlock.
func (s *Calls) LockGroup(g TransferGroup) func() {
	s.mu.Lock()
	m, ok := s.creating[g]
	if !ok {
		m = &sync.Mutex{}
		s.creating[g] = m
	}
	s.mu.Unlock()
	m.Lock()
	return m.Unlock
}

// ActiveTransfer is the group's transfer under way, if one is known.
func (s *Calls) ActiveTransfer(g TransferGroup) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.active[g]
	return id, ok
}

// PendingFor: how long ago another member of the group than uid recorded a
// transfer it has not sent yet, if one did within maxPending: the others
// wait to join it rather than ask for their own. The member itself does not
// wait for its own: its record may not have been written, and it records again.
func (s *Calls) PendingFor(g TransferGroup, uid types.UID) (time.Duration, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.pending[g]
	if !ok || time.Since(p.at) > maxPending {
		delete(s.pending, g)
		return 0, false
	}
	return time.Since(p.at), p.by != uid
}

// maxPending: how long others wait for a member's transfer to be created
// before asking for their own (its sender may have crashed or failed).
const maxPending = 30 * time.Second

// TransferRecorded: member uid recorded the group's new transfer.
func (s *Calls) TransferRecorded(g TransferGroup, uid types.UID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pending[g] = pendingTransfer{at: time.Now(), by: uid}
}

// TransferStarted records the group's new transfer.
func (s *Calls) TransferStarted(g TransferGroup, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.active[g] = id
	delete(s.pending, g)
}

// TransferFailed forgets that the group's transfer was being asked for:
// the others ask for their own.
func (s *Calls) TransferFailed(g TransferGroup) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.pending, g)
}

// Joinable: a transfer others may still join: the source partner has not
// answered and it has not expired.
func Joinable(t *pc.Transfer, now time.Time) bool {
	return t.Pending() && (t.ExpirationTime == nil || now.Before(*t.ExpirationTime))
}

// ReadTransfer returns the transfer as last read, when that was within
// interval; otherwise it reads it with get (once for concurrent askers). A
// transfer that ended is no longer joined.
func (s *Calls) ReadTransfer(g TransferGroup, id string, now time.Time, interval time.Duration, get func() (*pc.Transfer, error)) (*pc.Transfer, error) {
	return readShared(s, "transfer/"+id, interval, get, func(t *pc.Transfer) {
		switch {
		case !Joinable(t, now) && s.active[g] == id:
			delete(s.active, g)
		case Joinable(t, now) && s.active[g] == "":
			s.active[g] = id // after a restart: the transfer under way is known again
		}
	})
}

// ReadOrder returns the order as last read, when that was within interval;
// otherwise it reads it with get (once for concurrent askers): the members
// of a cart share its orders.
func (s *Calls) ReadOrder(id string, interval time.Duration, get func() (*pc.Order, error)) (*pc.Order, error) {
	return readShared(s, "order/"+id, interval, get, func(*pc.Order) {})
}

// Forget drops what was last read of a transfer and an order (either ID
// may be empty): the activity log says it changed, so the next asker reads it.
func (s *Calls) Forget(transferID, orderID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.reads, "transfer/"+transferID)
	delete(s.reads, "order/"+orderID)
}

// ReadCatalog returns what get last read for key, when that was within
// interval; otherwise it reads it (once for concurrent askers). The
// catalog's answers (a customer's availabilities of a SKU, the SKU) change
// rarely, and a purchase throttled between two catalog reads must not read
// the first again on every pass.
func ReadCatalog[T any](s *Calls, key string, interval time.Duration, get func() (*T, error)) (*T, error) {
	return readShared(s, "catalog/"+key, interval, get, func(*T) {})
}

// readShared returns what key last read, when that was within interval;
// otherwise it reads it with get, once for concurrent askers, and calls
// seen with what it read, s.mu held.
func readShared[T any](s *Calls, key string, interval time.Duration, get func() (*T, error), seen func(*T)) (*T, error) {
	if v, ok := s.lastRead(key, interval); ok {
		return v.(*T), nil
	}
	v, err, _ := s.calls.Do(key, func() (any, error) {
		if v, ok := s.lastRead(key, interval); ok {
			return v, nil
		}
		v, err := get()
		if err != nil {
			return nil, err
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		s.reads[key] = timedRead{value: v, at: time.Now()}
		seen(v)
		if time.Since(s.pruned) > interval {
			for k, r := range s.reads {
				if time.Since(r.at) > 2*interval {
					delete(s.reads, k)
				}
			}
			s.pruned = time.Now()
		}
		return v, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*T), nil
}

// lastRead is what key last read, if that was within interval.
func (s *Calls) lastRead(key string, interval time.Duration) (any, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.reads[key]
	return r.value, ok && time.Since(r.at) < interval
}

// Link returns the partner's reseller request link, asking get once per key.
func (s *Calls) Link(key string, get func() (*pc.RelationshipRequest, error)) (*pc.RelationshipRequest, error) {
	v, err, _ := s.calls.Do("link/"+key, func() (any, error) {
		s.mu.Lock()
		l, ok := s.links[key]
		s.mu.Unlock()
		if ok {
			return l, nil
		}
		l, err := get()
		if err != nil {
			return nil, err
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		s.links[key] = l
		return l, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*pc.RelationshipRequest), nil
}
