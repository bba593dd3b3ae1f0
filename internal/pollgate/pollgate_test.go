package pollgate

import (
	"testing"
	"time"
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
