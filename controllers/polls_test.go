package controllers

import (
	"testing"
	"time"
)

// TestPollGate: an object may poll once per interval, however often it asks;
// another object is not held back by it.
func TestPollGate(t *testing.T) {
	g := newPollGate(time.Hour)
	if d := g.wait("a"); d != 0 {
		t.Fatalf("the first poll waits %v", d)
	}
	for range 10 {
		if d := g.wait("a"); d <= 59*time.Minute || d > time.Hour {
			t.Fatalf("a second poll within the interval waits %v, want about an hour", d)
		}
	}
	if d := g.wait("b"); d != 0 {
		t.Fatalf("another object waits %v", d)
	}
	g.last["a"] = time.Now().Add(-time.Hour - time.Second)
	if d := g.wait("a"); d != 0 {
		t.Fatalf("after the interval the poll waits %v", d)
	}
}

// TestPollJitter: requeues spread over [interval, 1.1 interval).
func TestPollJitter(t *testing.T) {
	o := Options{PollInterval: time.Minute}
	seen := map[time.Duration]bool{}
	for range 100 {
		d := o.poll()
		if d < time.Minute || d >= 66*time.Second {
			t.Fatalf("poll() = %v, want within [1m, 1m6s)", d)
		}
		seen[d] = true
	}
	if len(seen) < 50 {
		t.Errorf("100 polls gave %d distinct delays: no jitter", len(seen))
	}
}
