// Package changefeed turns Partner Center's activity log into a change feed
// that misses nothing and applies nothing twice: each read covers the time
// since the last checkpoint and an overlap before it (a record may show up
// in the log some time after its operationDate), and the records of the
// overlap already applied are known by their IDs, kept with the checkpoint.
//
// A caller reads the window Window gives, passes what it read to Advance,
// stores the new checkpoint, and only then applies the fresh records. A
// crash before the store reads the same window again; a crash after it loses
// only the wake-ups of the fresh records, which a restarted manager's first
// pass over every object stands in for.
package changefeed

import (
	"slices"
	"sort"
	"time"
)

// Record is one activity-log entry, reduced to what the feed needs.
type Record struct {
	// ID is the record's unique ID in the log.
	ID string
	// At is when the change happened (the record's operationDate).
	At time.Time

	// What the record concerns; the objects that refer to any of it are woken.
	// Customer is the customer's tenant ID.
	Customer string
	// Subscriptions are Partner Center subscription IDs.
	Subscriptions []string
	// Transfer and Order are a transfer's and an order's IDs.
	Transfer, Order string
	// Relationship is a GDAP relationship's ID.
	Relationship string
	// Quiet: nothing to wake (the record reports what the operator did
	// itself and learnt from the answer, or nothing it follows); it still
	// moves the checkpoint.
	Quiet bool
	// Change says what changed, for logs and metrics (such as the record's
	// operation type).
	Change string
	// By is who made the change: the user the record names, else its
	// application.
	By string
}

// Checkpoint is a feed's position.
type Checkpoint struct {
	// Through: every record dated before Through minus the overlap was
	// applied (or was never seen within the overlap).
	Through time.Time
	// Seen: the IDs of applied records dated at or after Through minus the
	// overlap, oldest first.
	Seen []string
}

// MaxSeen bounds the Seen a checkpoint keeps in an object's status
// (Bounded). The reader keeps its whole checkpoint in memory, so a busy log
// applies nothing twice while the reader lives; after a restart, records
// whose IDs the stored checkpoint dropped are applied once more (a
// wake-up, which is harmless), and counted.
const MaxSeen = 2000

// Bounded is c with at most max IDs, the newest, and how many it dropped.
func (c Checkpoint) Bounded(max int) (Checkpoint, int) {
	if len(c.Seen) <= max {
		return c, 0
	}
	dropped := len(c.Seen) - max
	return Checkpoint{Through: c.Through, Seen: slices.Clone(c.Seen[dropped:])}, dropped
}

// Window is the interval to read next: from the checkpoint less the overlap
// (or, for a feed that never read, lookback before now) up to now.
func (c Checkpoint) Window(now time.Time, overlap, lookback time.Duration) (from, to time.Time) {
	if c.Through.IsZero() {
		return now.Add(-lookback), now
	}
	from = c.Through.Add(-overlap)
	if from.After(now) {
		from = now // a clock that went back
	}
	return from, now
}

// Advance returns the records of read not applied before, oldest first, and
// the checkpoint once they are: through to, remembering the IDs of the
// records read that are dated within the overlap before to (every record
// the checkpoint remembered is read again: the next window starts at the
// overlap).
func (c Checkpoint) Advance(read []Record, to time.Time, overlap time.Duration) (fresh []Record, next Checkpoint) {
	seen := make(map[string]bool, len(c.Seen)+len(read))
	for _, id := range c.Seen {
		seen[id] = true
	}
	since := to.Add(-overlap)
	var keep []Record
	kept := map[string]bool{}
	for _, r := range read {
		if !r.At.Before(since) && !kept[r.ID] {
			kept[r.ID] = true
			keep = append(keep, r)
		}
		if !seen[r.ID] {
			seen[r.ID] = true
			fresh = append(fresh, r)
		}
	}
	byDate := func(rs []Record) {
		sort.SliceStable(rs, func(i, j int) bool { return rs[i].At.Before(rs[j].At) })
	}
	byDate(fresh)
	byDate(keep)
	ids := make([]string, len(keep))
	for i, r := range keep {
		ids[i] = r.ID
	}
	return fresh, Checkpoint{Through: to, Seen: ids}
}
