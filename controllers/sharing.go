package controllers

import (
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	pc "github.com/partnerops/multichannel-operator/internal/partnercenter"
)

// shared holds what many objects have in common in Partner Center, so that
// they share the calls too:
//   - one transfer per customer, source partner and target partner: a
//     new-commerce transfer carries whatever the source partner accepts, so
//     every subscription moving between the same two partners for one
//     customer joins the transfer under way instead of asking for another;
//   - one read of a transfer per poll interval, whichever subscription asks;
//   - one reseller request link per partner (and indirect provider): the link
//     is the partner's, not the customer's.
//
// It lives in memory. After a restart, subscriptions that recorded a
// transfer follow it as before; the first new one asks for a new transfer,
// which the others then join.
type shared struct {
	mu        sync.Mutex
	creating  map[transferGroup]*sync.Mutex
	active    map[transferGroup]string // transfer ID under way
	transfers map[string]transferRead  // by transfer ID
	links     map[string]*pc.RelationshipRequest
	pruned    time.Time
	// calls makes concurrent askers of the same thing wait for one call.
	calls singleflight.Group
}

// transferGroup: the tenant IDs of the customer and the two partners.
type transferGroup struct{ customer, source, target string }

type transferRead struct {
	transfer *pc.Transfer
	at       time.Time
}

func newShared() *shared {
	return &shared{creating: map[transferGroup]*sync.Mutex{}, active: map[transferGroup]string{},
		transfers: map[string]transferRead{}, links: map[string]*pc.RelationshipRequest{}}
}

// lockGroup serializes asking for a transfer within a group, so that
// subscriptions ready together make one request; it returns the unlock.
func (s *shared) lockGroup(g transferGroup) func() {
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

// activeTransfer is the group's transfer under way, if one is known.
func (s *shared) activeTransfer(g transferGroup) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.active[g]
	return id, ok
}

// transferStarted records the group's new transfer.
func (s *shared) transferStarted(g transferGroup, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.active[g] = id
}

// readTransfer returns the transfer as last read, when that was within
// interval; otherwise it reads it with get (once for concurrent askers). A
// transfer that ended is no longer joined.
func (s *shared) readTransfer(g transferGroup, id string, interval time.Duration, get func() (*pc.Transfer, error)) (*pc.Transfer, error) {
	if r, ok := s.lastRead(id); ok && time.Since(r.at) < interval {
		return r.transfer, nil
	}
	v, err, _ := s.calls.Do("transfer/"+id, func() (any, error) {
		if r, ok := s.lastRead(id); ok && time.Since(r.at) < interval {
			return r.transfer, nil
		}
		t, err := get()
		if err != nil {
			return nil, err
		}
		now := time.Now()
		s.mu.Lock()
		defer s.mu.Unlock()
		s.transfers[id] = transferRead{transfer: t, at: now}
		if t.Status != pc.TransferActive && t.Status != pc.TransferInProgress && s.active[g] == id {
			delete(s.active, g)
		}
		if now.Sub(s.pruned) > interval {
			for k, r := range s.transfers {
				if now.Sub(r.at) > 2*interval {
					delete(s.transfers, k)
				}
			}
			s.pruned = now
		}
		return t, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*pc.Transfer), nil
}

func (s *shared) lastRead(id string) (transferRead, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.transfers[id]
	return r, ok
}

// link returns the partner's reseller request link, asking get once per key.
func (s *shared) link(key string, get func() (*pc.RelationshipRequest, error)) (*pc.RelationshipRequest, error) {
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
