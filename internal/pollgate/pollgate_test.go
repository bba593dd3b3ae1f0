package pollgate

import (
	"errors"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"

	"github.com/partnerops/multichannel-operator/internal/apiretry"
)

// TestPollGate: an object may poll once per interval, however often it asks;
// another object is not held back by it.
func TestPollGate(t *testing.T) {
	g := New(time.Hour)
	if d := g.Wait("a"); d != 0 {
		t.Fatalf("the first poll waits %v", d)
	}
	for range 10 {
		if d := g.Wait("a"); d <= 59*time.Minute || d > time.Hour {
			t.Fatalf("a second poll within the interval waits %v, want about an hour", d)
		}
	}
	if d := g.Wait("b"); d != 0 {
		t.Fatalf("another object waits %v", d)
	}
	g.last["a"] = time.Now().Add(-time.Hour - time.Second)
	if d := g.Wait("a"); d != 0 {
		t.Fatalf("after the interval the poll waits %v", d)
	}
}

// TestPollGateFallbackAndRelease: an object polled with a long fallback
// interval waits that long, a short one does not stretch it, and a release
// (the activity log saw its change) lets it poll at once, but not a
// throttled object.
func TestPollGateFallbackAndRelease(t *testing.T) {
	g := New(time.Minute)
	if d := g.WaitWithin("a", 6*time.Hour); d != 0 {
		t.Fatalf("the first poll waits %v", d)
	}
	if d := g.WaitWithin("a", 6*time.Hour); d < 5*time.Hour {
		t.Fatalf("within the fallback interval the poll waits %v", d)
	}
	g.lastPrune = time.Time{}
	g.last["b"] = time.Now().Add(-3 * time.Minute)
	_ = g.Wait("c") // prunes: a is kept (within twice the longest interval)
	if d := g.WaitWithin("a", 6*time.Hour); d == 0 {
		t.Fatal("pruning forgot an object polled with the fallback interval")
	}
	g.Release("a")
	if d := g.WaitWithin("a", 6*time.Hour); d != 0 {
		t.Fatalf("after a release the poll waits %v", d)
	}
	g.Hold("a", time.Hour)
	g.Release("a")
	if d := g.HeldFor("a"); d <= 0 {
		t.Fatal("a release ended a throttled object's hold")
	}
}

// TestFailedPollIsNoPoll: a poll that failed (throttled or not) does not
// keep the object from polling on its next pass, after any hold.
func TestFailedPollIsNoPoll(t *testing.T) {
	g := New(time.Minute)
	for _, err := range []error{errors.New("503"), &apiretry.ThrottledError{Op: "GetCustomer", After: time.Millisecond}} {
		if d := g.WaitWithin("a", 6*time.Hour); d != 0 {
			t.Fatalf("the first poll waits %v", d)
		}
		g.Throttled("a", err)
		g.held = map[types.UID]time.Time{} // the hold has passed
		if d := g.WaitWithin("a", 6*time.Hour); d != 0 {
			t.Errorf("after a failed poll (%v) the next waits %v", err, d)
		}
		g.Release("a")
	}
}
