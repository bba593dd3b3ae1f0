package core

import (
	"errors"
	"fmt"
	"strings"

	pc "github.com/partnerops/multichannel-operator/internal/partnercenter"
)

// Refusal is how status.operation.refusal records a refused send.
func Refusal(err error) string {
	return Truncate(fmt.Sprintf("HTTP %d: %s", StatusCode(err), Description(err)), 1024)
}

// StatusCode and Description read a Partner Center error for a message.
func StatusCode(err error) int {
	var pcErr *pc.Error
	if errors.As(err, &pcErr) {
		return pcErr.StatusCode
	}
	return 0
}

func Description(err error) string {
	var pcErr *pc.Error
	if errors.As(err, &pcErr) && pcErr.Description != "" {
		return pcErr.Description
	}
	return err.Error()
}

func Truncate(s string, n int) string {
	if len(s) > n {
		return s[:n-3] + "..."
	}
	return s
}

// OrderRefused reports whether an order in status will never provision a
// line item that has no subscription yet: it was cancelled, failed, or
// rejected (in purchase-order review). Partner Center documents pending,
// completed and cancelled (and unknown, the enum's initializer). A
// completed order may not name its subscriptions yet (its documented
// example names none; checkout's page says subscription IDs "may not
// always be visible"), and neither may a partial success: those are read
// again, never taken as refused, since failing a purchase Partner Center
// did provision would let a retry buy it twice.
// Source: https://learn.microsoft.com/partner-center/developer/order-resources#orderstatus
func OrderRefused(status string) bool {
	st := strings.ToLower(strings.TrimSpace(status))
	return st == "cancelled" || st == "canceled" || st == "failed" || strings.Contains(st, "rejected")
}
