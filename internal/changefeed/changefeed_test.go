package changefeed

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

var t0 = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

func rec(id string, minutes int) Record {
	return Record{ID: id, At: t0.Add(time.Duration(minutes) * time.Minute)}
}

func ids(rs []Record) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.ID
	}
	return out
}

func TestWindow(t *testing.T) {
	now := t0.Add(time.Hour)
	if from, to := (Checkpoint{}).Window(now, 10*time.Minute, 24*time.Hour); !from.Equal(now.Add(-24*time.Hour)) || !to.Equal(now) {
		t.Errorf("first window %s..%s", from, to)
	}
	c := Checkpoint{Through: t0.Add(30 * time.Minute)}
	if from, _ := c.Window(now, 10*time.Minute, 24*time.Hour); !from.Equal(t0.Add(20 * time.Minute)) {
		t.Errorf("from %s, want the checkpoint less the overlap", from)
	}
	if from, _ := c.Window(t0, 10*time.Minute, 24*time.Hour); !from.Equal(t0) {
		t.Errorf("a clock behind the checkpoint: from %s", from)
	}
}

// TestAdvanceOverlap: a record read again in the overlap is not fresh; a
// late record (dated inside the overlap, shown only now) is; the
// checkpoint remembers exactly the IDs dated within the overlap.
func TestAdvanceOverlap(t *testing.T) {
	overlap := 10 * time.Minute
	first := []Record{rec("a", 1), rec("b", 25), rec("c", 28)}
	fresh, c := Checkpoint{}.Advance(first, t0.Add(30*time.Minute), overlap)
	if got := ids(fresh); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Fatalf("first fresh %v", got)
	}
	if !slices.Equal(c.Seen, []string{"b", "c"}) { // oldest first
		t.Fatalf("seen %v, want the records dated within 10m of the checkpoint", c.Seen)
	}
	// The next window starts at 20m: b and c again, a late d dated 26m, e new.
	second := []Record{rec("b", 25), rec("d", 26), rec("c", 28), rec("e", 35)}
	fresh, c = c.Advance(second, t0.Add(40*time.Minute), overlap)
	if got := ids(fresh); !slices.Equal(got, []string{"d", "e"}) {
		t.Errorf("second fresh %v, want d and e", got)
	}
	if !slices.Equal(c.Seen, []string{"e"}) || !c.Through.Equal(t0.Add(40*time.Minute)) {
		t.Errorf("checkpoint %+v", c)
	}
}

// TestAdvanceAcrossCrash: a reader that crashed before storing the
// checkpoint reads the same window again and applies each record once
// across both lives; one that crashed after storing it applies none again.
func TestAdvanceAcrossCrash(t *testing.T) {
	overlap := 5 * time.Minute
	log := []Record{rec("x", -2), rec("y", 1), rec("z", 2)}
	// readAt reads the log as Partner Center would: the window, as of now.
	readAt := func(c Checkpoint, now time.Time) []Record {
		from, to := c.Window(now, overlap, time.Hour)
		var out []Record
		for _, r := range log {
			if !r.At.Before(from) && !r.At.After(to) {
				out = append(out, r)
			}
		}
		return out
	}
	stored := Checkpoint{Through: t0.Add(-3 * time.Minute)}
	applied := map[string]int{}
	apply := func(rs []Record) {
		for _, r := range rs {
			applied[r.ID]++
		}
	}
	// The first life reads and crashes before storing: nothing applied.
	_, _ = stored.Advance(readAt(stored, t0.Add(3*time.Minute)), t0.Add(3*time.Minute), overlap)
	// The second stores, then applies; w is logged meanwhile.
	fresh, next := stored.Advance(readAt(stored, t0.Add(4*time.Minute)), t0.Add(4*time.Minute), overlap)
	stored = next
	apply(fresh)
	log = append(log, rec("w", 4))
	// It crashes after applying; the third reads from the stored checkpoint.
	fresh, _ = stored.Advance(readAt(stored, t0.Add(6*time.Minute)), t0.Add(6*time.Minute), overlap)
	apply(fresh)
	want := map[string]int{"x": 1, "y": 1, "z": 1, "w": 1}
	if fmt.Sprint(applied) != fmt.Sprint(want) {
		t.Errorf("applied %v, want each once", applied)
	}
}

func TestAdvanceBounded(t *testing.T) {
	var read []Record
	for i := range MaxSeen + 10 {
		read = append(read, Record{ID: fmt.Sprintf("r%05d", i), At: t0.Add(time.Duration(i) * time.Millisecond)})
	}
	// The whole checkpoint remembers every record: read again, none is fresh.
	_, c := Checkpoint{}.Advance(read, t0.Add(time.Minute), time.Hour)
	if fresh, _ := c.Advance(read, t0.Add(2*time.Minute), time.Hour); len(fresh) != 0 || len(c.Seen) != MaxSeen+10 {
		t.Errorf("%d fresh of %d records read again, %d seen", len(fresh), len(read), len(c.Seen))
	}
	// The stored one keeps the newest MaxSeen.
	b, dropped := c.Bounded(MaxSeen)
	if len(b.Seen) != MaxSeen || dropped != 10 || slices.Contains(b.Seen, "r00000") || !slices.Contains(b.Seen, read[len(read)-1].ID) {
		t.Errorf("bounded: %d seen, dropped %d: want the newest %d", len(b.Seen), dropped, MaxSeen)
	}
	if fresh, _ := b.Advance(read, t0.Add(2*time.Minute), time.Hour); len(fresh) != 10 {
		t.Errorf("after a restart from the bounded checkpoint %d records are applied again, want the 10 dropped", len(fresh))
	}
}
