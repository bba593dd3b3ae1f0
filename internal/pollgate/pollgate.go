// Package pollgate keeps objects that wait on another party (a customer's
// acceptance, an order, a transfer) from asking Partner Center or Graph more
// than once per poll interval, however many watch events wake them, and
// holds an object that was throttled for as long as the service asked. It
// keeps real (monotonic) time and lives in memory: a restarted manager asks
// once more.
package pollgate

import (
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"

	pc "github.com/partnerops/multichannel-operator/internal/partnercenter"
)

// Gate remembers when each object last asked, and which are held after
// being throttled. It is safe for concurrent use.
type Gate struct {
	interval time.Duration

	mu        sync.Mutex
	last      map[types.UID]time.Time
	held      map[types.UID]time.Time // throttled: ask nothing before
	longest   time.Duration           // the longest interval asked for
	lastPrune time.Time
}

// New returns a Gate that lets each object ask once per interval.
func New(interval time.Duration) *Gate {
	return &Gate{interval: interval, last: map[types.UID]time.Time{}, held: map[types.UID]time.Time{}}
}

// Hold keeps the object from asking Partner Center anything for d: it was
// throttled, and Retry-After said how long to wait. Events that wake it
// meanwhile do not make it ask earlier.
func (g *Gate) Hold(uid types.UID, d time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := time.Now()
	g.held[uid] = now.Add(d)
	for k, t := range g.held { // objects deleted while held are forgotten
		if now.After(t) {
			delete(g.held, k)
		}
	}
}

// HeldFor is how long the object must still wait after being throttled.
func (g *Gate) HeldFor(uid types.UID) time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	until, ok := g.held[uid]
	if !ok {
		return 0
	}
	if d := time.Until(until); d > 0 {
		return d
	}
	delete(g.held, uid)
	return 0
}

// Wait returns how long the object must wait before it may poll; zero means
// it may poll now, and that poll is recorded.
func (g *Gate) Wait(uid types.UID) time.Duration { return g.WaitWithin(uid, g.interval) }

// WaitWithin is Wait with an interval of its own, such as the slow fallback
// of an object whose changes the activity log reports.
func (g *Gate) WaitWithin(uid types.UID, interval time.Duration) time.Duration {
	now := time.Now()
	g.mu.Lock()
	defer g.mu.Unlock()
	if last, ok := g.last[uid]; ok {
		if d := interval - now.Sub(last); d > 0 {
			return d
		}
	}
	g.last[uid] = now
	g.longest = max(g.longest, interval)
	if now.Sub(g.lastPrune) > g.interval {
		// Objects that stopped polling (completed, deleted) are forgotten.
		for k, t := range g.last {
			if now.Sub(t) > 2*g.longest {
				delete(g.last, k)
			}
		}
		for k, t := range g.held {
			if now.After(t) {
				delete(g.held, k)
			}
		}
		g.lastPrune = now
	}
	return 0
}

// Release lets the object poll at once: what it waits on changed, as the
// activity log or a webhook said. A throttled object stays held.
func (g *Gate) Release(uid types.UID) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.last, uid)
}

// minThrottledHold is the least a throttled object waits.
const minThrottledHold = time.Second

// Throttled: Partner Center or Graph asked to wait (a 429 with Retry-After),
// or the partner tenant's own request budget is spent. Nothing was
// processed, so the object is held for that wait (whatever wakes it
// meanwhile asks nothing), requeued after it, and frees its worker for others;
// its status says nothing new, since being throttled is neither progress nor
// a failure. A create asked again sends the same MS-RequestId. Nil when err
// is no throttling.
func (g *Gate) Throttled(uid types.UID, err error) *ctrl.Result {
	if err != nil {
		// A poll that failed asked nothing: the next pass may poll, not
		// wait out the interval (hours, on the activity log's fallback).
		g.Release(uid)
	}
	d, ok := pc.ThrottledFor(err)
	if !ok {
		return nil
	}
	// A pass makes a few calls. Woken as soon as one request fits the
	// budget again, it would spend that one and be throttled on the next,
	// forever; a second refills the budget for a whole pass (5 requests at
	// Graph's 300 a minute, 8 at Partner Center's 500).
	d = max(d, minThrottledHold)
	g.Hold(uid, d)
	return &ctrl.Result{RequeueAfter: d}
}
