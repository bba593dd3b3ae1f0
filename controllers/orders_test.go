package controllers

import "testing"

// TestOrderFinal: only a pending order (or one whose status is not known
// yet) may still provision a line item; every other status, documented or
// not, ends the wait, whatever its case.
func TestOrderFinal(t *testing.T) {
	for status, final := range map[string]bool{
		"pending": false, "Pending": false, "po review pending": false, "unknown": false, "": false,
		"completed": true, "cancelled": true, "Canceled": true, "partial success": true, "po review rejected": true, "failed": true,
	} {
		if got := orderFinal(status); got != final {
			t.Errorf("orderFinal(%q) = %t, want %t", status, got, final)
		}
	}
}
