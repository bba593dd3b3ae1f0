package core

import (
	"testing"
	"time"
)

// TestPollJitter: requeues spread over [interval, 1.1 interval).
func TestPollJitter(t *testing.T) {
	o := Options{PollInterval: time.Minute}
	seen := map[time.Duration]bool{}
	for range 100 {
		d := o.Poll()
		if d < time.Minute || d >= 66*time.Second {
			t.Fatalf("Poll() = %v, want within [1m, 1m6s)", d)
		}
		seen[d] = true
	}
	if len(seen) < 50 {
		t.Errorf("100 polls gave %d distinct delays: no jitter", len(seen))
	}
}
