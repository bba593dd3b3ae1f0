package controllers

import (
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
)

// pollGate remembers when each object last asked Partner Center about what
// another party must do (a customer's acceptance, an order, a transfer), so
// that however many watch events wake the object it asks at most once per
// poll interval. It keeps real (monotonic) time, whatever Options.Clock
// says, and lives in memory: a restarted manager asks once more.
type pollGate struct {
	interval time.Duration

	mu        sync.Mutex
	last      map[types.UID]time.Time
	lastPrune time.Time
}

func newPollGate(interval time.Duration) *pollGate {
	return &pollGate{interval: interval, last: map[types.UID]time.Time{}}
}

// wait returns how long the object must wait before it may poll; zero means
// it may poll now, and that poll is recorded.
func (g *pollGate) wait(uid types.UID) time.Duration {
	now := time.Now()
	g.mu.Lock()
	defer g.mu.Unlock()
	if last, ok := g.last[uid]; ok {
		if d := g.interval - now.Sub(last); d > 0 {
			return d
		}
	}
	g.last[uid] = now
	if now.Sub(g.lastPrune) > g.interval {
		// Objects that stopped polling (completed, deleted) are forgotten.
		for k, t := range g.last {
			if now.Sub(t) > 2*g.interval {
				delete(g.last, k)
			}
		}
		g.lastPrune = now
	}
	return 0
}

// poll is when an object that waits on another party asks again: the poll
// interval with up to 10% jitter, so that objects created together do not
// ask Partner Center together forever.
func (o Options) poll() time.Duration { return wait.Jitter(o.PollInterval, 0.1) }
