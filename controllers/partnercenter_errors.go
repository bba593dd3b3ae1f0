package controllers

import (
	"errors"
	"fmt"
	"strings"

	pc "github.com/partnerops/multichannel-operator/internal/partnercenter"
)

// refusal is how status.operation.refusal records a refused send.
func refusal(err error) string {
	return truncate(fmt.Sprintf("HTTP %d: %s", statusCode(err), description(err)), 1024)
}

// statusCode and description read a Partner Center error for a message.
func statusCode(err error) int {
	var pcErr *pc.Error
	if errors.As(err, &pcErr) {
		return pcErr.StatusCode
	}
	return 0
}

func description(err error) string {
	var pcErr *pc.Error
	if errors.As(err, &pcErr) && pcErr.Description != "" {
		return pcErr.Description
	}
	return err.Error()
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n-3] + "..."
	}
	return s
}

// orderRefused reports whether an order in status will never provision a
// line item that has no subscription yet: it was cancelled, failed, or
// rejected (in purchase-order review). Partner Center documents pending,
// completed and cancelled (and unknown, the enum's initializer). A
// completed order may not name its subscriptions yet (its documented
// example names none; checkout's page says subscription IDs "may not
// always be visible"), and neither may a partial success: those are read
// again, never taken as refused, since failing a purchase Partner Center
// did provision would let a retry buy it twice.
// Source: https://learn.microsoft.com/partner-center/developer/order-resources#orderstatus
func orderRefused(status string) bool {
	st := strings.ToLower(strings.TrimSpace(status))
	return st == "cancelled" || st == "canceled" || st == "failed" || strings.Contains(st, "rejected")
}
