package pcwebhook

import (
	"crypto/sha256"
	"sync"
	"time"
)

// replayCache remembers the events taken, by the SHA-256 of their body,
// while their ResourceChangeUtcDate is within the freshness window: an
// older one is refused by its date, so it need not be remembered. An event
// is claimed while its callback runs (a duplicate then is refused too) and
// forgotten when the callback fails, so that Partner Center's next attempt
// is taken.
type replayCache struct {
	max int

	mu   sync.Mutex
	seen map[[sha256.Size]byte]time.Time // the event's date
}

// claim reports whether the event is new, and then holds it.
func (c *replayCache) claim(key [sha256.Size]byte, at, oldest time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seen == nil {
		c.seen = map[[sha256.Size]byte]time.Time{}
	}
	if _, ok := c.seen[key]; ok {
		return false
	}
	if len(c.seen) >= c.max {
		c.prune(oldest)
	}
	c.seen[key] = at
	return true
}

// release forgets an event whose callback failed.
func (c *replayCache) release(key [sha256.Size]byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.seen, key)
}

// prune forgets the events older than oldest; when that frees nothing,
// the oldest event (the next to fall out of the window) is forgotten. The
// caller holds c.mu.
func (c *replayCache) prune(oldest time.Time) {
	var first [sha256.Size]byte
	var firstAt time.Time
	for k, at := range c.seen {
		if at.Before(oldest) {
			delete(c.seen, k)
		} else if firstAt.IsZero() || at.Before(firstAt) {
			first, firstAt = k, at
		}
	}
	if len(c.seen) >= c.max {
		delete(c.seen, first)
	}
}
