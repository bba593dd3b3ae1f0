// Package carts batches purchases: the purchases of one customer from one
// partner that are ready together share a cart, so that one cart and one
// checkout buy them all. It holds only the batching, in memory.
package carts

import (
	"errors"
	"sync"
	"time"

	"github.com/google/uuid"
	"golang.org/x/sync/singleflight"
	"k8s.io/apimachinery/pkg/types"

	pc "github.com/partnerops/multichannel-operator/internal/partnercenter"
)

// Carts batches purchases: the purchases of one customer from one partner
// that are ready together share a cart, so that one cart and one checkout
// buy them all.
//
// A batch is as exactly-once as a purchase alone. Each purchase records its
// cart's ID (status.operation.cart) before anything is sent, and the cart is
// sent with that ID as its MS-RequestId. Its line items are the purchases
// the cache shows with the cart recorded and nothing bought yet, so only
// what the API server holds is ever sent. A purchase whose record landed
// after its cart was sent finds no line item of its own in the checkout (each
// finds its own by friendly name): it bought nothing and records another
// cart. After a crash the first member to run sends the cart again under the
// same ID: Partner Center answers with the first cart and checkout if they
// were made, and otherwise buys for the members recorded by then. Nothing is
// bought twice, and nobody waits for a cart nobody will send.
//
// What lives here is only the batching: which cart is taking purchases, and
// each cart's answer once sent, so that its members read it without asking
// again.
type Carts struct {
	// window: how long a cart takes purchases after its first one.
	window time.Duration

	mu     sync.Mutex
	open   map[Group]string // the group's cart still taking purchases
	byID   map[string]*cart
	pruned time.Time
	calls  singleflight.Group
}

// Group is the purchases that may share a cart, those of one customer (in
// one namespace, where their names are unique) from one partner.
type Group struct{ Namespace, Customer, Target string }

type cart struct {
	group  Group
	opened time.Time
	joined map[types.UID]bool
	alone  bool               // takes no other purchase
	sealed bool               // sent or being sent: takes no other purchase
	sent   map[types.UID]bool // the purchases of the last send

	checkout *pc.Checkout // Partner Center's answer, once it gave one
	err      error        // the last send's error, shared for errShared
	errAt    time.Time
	// refused: Partner Center refused the cart (4xx): it is never sent again
	// by this process; the purchases sent in it fail, the others were not in it.
	refused bool
}

const (
	// maxCartItems bounds a cart's line items.
	maxCartItems = 50
	// cartGrace: how long a cart's sender waits, past the window, for the
	// records of purchases that joined it to reach the cache.
	cartGrace = 3 * time.Second
	// errShared: the members of a cart sent together take the same error for
	// this long (a throttled cart holds them all) instead of asking again.
	errShared = time.Second
	// cartKept: how long a cart's answer is kept for members yet to read it.
	cartKept = time.Hour
)

// New returns Carts whose carts take purchases for window after their first.
func New(window time.Duration) *Carts {
	return &Carts{window: window, open: map[Group]string{}, byID: map[string]*cart{}}
}

// Join returns the cart a purchase of group g records: the group's cart
// taking purchases, or a new one.
func (c *Carts) Join(g Group, uid types.UID) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.prune()
	if id, ok := c.open[g]; ok {
		if k := c.byID[id]; k != nil && !k.sealed && time.Since(k.opened) < c.window && len(k.joined) < maxCartItems {
			k.joined[uid] = true
			return id
		}
	}
	id := c.newCart(g, uid, false)
	c.open[g] = id
	return id
}

// Alone returns a new cart for one purchase only.
func (c *Carts) Alone(g Group, uid types.UID) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.newCart(g, uid, true)
}

func (c *Carts) newCart(g Group, uid types.UID, alone bool) string {
	id := uuid.NewString()
	c.byID[id] = &cart{group: g, opened: time.Now(), joined: map[types.UID]bool{uid: true}, alone: alone}
	return id
}

// Wait is how long cart id still takes purchases before it is sent; 0 for
// a cart this process does not know (recorded before a restart): it is sent
// at once.
func (c *Carts) Wait(id string) time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := c.byID[id]
	if k == nil || k.alone || k.sealed {
		return 0
	}
	return max(0, c.window-time.Since(k.opened))
}

// Unseen counts the purchases that joined cart id but are not among seen
// (their record has not reached the cache), while the grace lasts.
func (c *Carts) Unseen(id string, seen []types.UID) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := c.byID[id]
	if k == nil || time.Since(k.opened) > c.window+cartGrace {
		return 0
	}
	n := len(k.joined)
	for _, uid := range seen {
		if k.joined[uid] {
			n--
		}
	}
	return n
}

// Answered is cart id's checkout, if it was sent and answered.
func (c *Carts) Answered(id string) *pc.Checkout {
	c.mu.Lock()
	defer c.mu.Unlock()
	if k := c.byID[id]; k != nil {
		return k.checkout
	}
	return nil
}

// Refusal is Partner Center's refusal of cart id, if it refused it, and
// whether purchase uid was sent in it.
func (c *Carts) Refusal(id string, uid types.UID) (err error, sent bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if k := c.byID[id]; k != nil && k.refused {
		return k.err, k.sent[uid]
	}
	return nil, false
}

// Send sends cart id with the purchases members (their line items, items)
// through buy, once for concurrent members; an answer is kept for the
// members still to read it, a refusal for good, another error shared for a
// moment with the members sent.
func (c *Carts) Send(id string, g Group, members []types.UID, items []pc.CartLineItem, buy func([]pc.CartLineItem) (*pc.Checkout, error)) (*pc.Checkout, error) {
	v, err, _ := c.calls.Do(id, func() (any, error) {
		c.mu.Lock()
		k := c.byID[id]
		if k == nil {
			k = &cart{group: g, opened: time.Now(), joined: map[types.UID]bool{}}
			c.byID[id] = k
		}
		if k.checkout != nil {
			c.mu.Unlock()
			return k, nil
		}
		if k.refused || (k.err != nil && time.Since(k.errAt) < errShared) {
			c.mu.Unlock()
			return k, k.err
		}
		k.sealed = true
		if c.open[k.group] == id {
			delete(c.open, k.group)
		}
		k.sent = map[types.UID]bool{}
		for _, uid := range members {
			k.sent[uid] = true
		}
		c.mu.Unlock()

		co, err := buy(items)
		c.mu.Lock()
		defer c.mu.Unlock()
		switch {
		case errors.Is(err, pc.ErrNotInCart):
			// Only the sender was not in the cart made earlier: the others
			// find out for themselves.
			return &cart{checkout: co}, err
		case err != nil:
			k.err, k.errAt, k.refused = err, time.Now(), pc.IsRefused(err)
		default:
			k.checkout = co
		}
		return k, err
	})
	k := v.(*cart)
	c.mu.Lock()
	defer c.mu.Unlock()
	return k.checkout, err
}

// prune forgets carts past cartKept; c.mu is held.
func (c *Carts) prune() {
	if time.Since(c.pruned) < time.Minute {
		return
	}
	for id, k := range c.byID {
		if time.Since(k.opened) > cartKept {
			delete(c.byID, id)
			if c.open[k.group] == id {
				delete(c.open, k.group)
			}
		}
	}
	c.pruned = time.Now()
}
