package core

import (
	"testing"
)

// TestOrderRefused: only an order Partner Center refused ends the wait for
// a line item without a subscription, whatever the case of its status; a
// completed order or a partial success may still name it later.
func TestOrderRefused(t *testing.T) {
	for status, refused := range map[string]bool{
		"pending": false, "Pending": false, "po review pending": false, "unknown": false, "": false,
		"completed": false, "partial success": false,
		"cancelled": true, "Canceled": true, "po review rejected": true, "failed": true,
	} {
		if got := OrderRefused(status); got != refused {
			t.Errorf("orderRefused(%q) = %t, want %t", status, got, refused)
		}
	}
}
