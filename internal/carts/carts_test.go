package carts

import (
	"fmt"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"
)

// TestJoin: purchases of one group ready within the window share a cart, up
// to its limit; another group, a purchase alone, or one after the window
// gets a cart of its own.
func TestJoin(t *testing.T) {
	c := New(time.Hour)
	g := Group{Namespace: "n", Customer: "c", Target: "p"}
	first := c.Join(g, "a")
	if c.Join(g, "b") != first {
		t.Error("a second purchase within the window has another cart")
	}
	if c.Join(Group{Namespace: "n", Customer: "other", Target: "p"}, "x") == first {
		t.Error("another customer's purchase joined the cart")
	}
	if alone := c.Alone(g, "c"); alone == first || c.Join(g, "d") != first {
		t.Error("a purchase alone shares a cart, or takes the group's open cart")
	}
	full := New(time.Hour)
	id := full.Join(g, "0")
	for i := 1; i < maxCartItems; i++ {
		if full.Join(g, types.UID(fmt.Sprint(i))) != id {
			t.Fatalf("purchase %d has another cart before the limit", i)
		}
	}
	if full.Join(g, "over") == id {
		t.Errorf("a cart took more than %d purchases", maxCartItems)
	}
	short := New(time.Nanosecond)
	id = short.Join(g, "a")
	time.Sleep(time.Millisecond)
	if short.Join(g, "b") == id {
		t.Error("a purchase after the window joined the cart")
	}
}
