package apiretry

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// ThrottledError says that a call was not made, or not processed, and when to
// make it again: the tenant's own request budget was spent (Err wraps
// ErrRateLimited), or the service answered 429 (or 5xx with a Retry-After
// longer than the retry loop waits). Neither waits inside the caller: a
// reconciler requeues the object after After instead, so that one throttled
// partner does not hold a worker. A throttled request was not processed, so
// the next attempt sends the same request ID.
type ThrottledError struct {
	// Op is the operation, such as GetCustomer.
	Op string
	// After is how long to wait before the next attempt; always positive.
	After time.Duration
	// Err is what the service answered (its typed error), or ErrRateLimited.
	Err error
}

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("%v (throttled: try again in %v)", e.Err, e.After)
}

func (e *ThrottledError) Unwrap() error { return e.Err }

// ThrottledFor reports whether err is, or wraps, a *ThrottledError, and how
// long to wait before calling again.
func ThrottledFor(err error) (time.Duration, bool) {
	var t *ThrottledError
	if !errors.As(err, &t) {
		return 0, false
	}
	return t.After, true
}

// ErrRateLimited: the call was not sent, because the partner tenant's own
// request budget (the client's rate limiter) had no request left.
var ErrRateLimited = errors.New("the partner tenant's request budget is spent for now; the request was not sent")

// MinThrottledWait is the least a ThrottledError asks to wait, so that a
// Retry-After of 0 does not become an immediate (or, for a reconciler's
// RequeueAfter, no) retry.
const MinThrottledWait = time.Second

// Admit takes one request from l if one is free now. Otherwise it returns a
// *ThrottledError wrapping ErrRateLimited with the time until one is free,
// and gives the reservation back, so that a call not sent spends nothing.
// service and op name the call in the error.
func Admit(l *rate.Limiter, service, op string) error {
	r := l.Reserve()
	if !r.OK() { // a limiter without burst never admits
		return &ThrottledError{Op: op, After: time.Minute, Err: fmt.Errorf("%s %s: %w", service, op, ErrRateLimited)}
	}
	if d := r.Delay(); d > 0 {
		r.Cancel()
		return &ThrottledError{Op: op, After: d, Err: fmt.Errorf("%s %s: %w", service, op, ErrRateLimited)}
	}
	return nil
}

// AdmitWithin is Admit for a request that continues an operation whose
// first request was already sent (a cart's checkout, a transfer after the
// customer's contact was read): it waits for the budget up to maxWait
// rather than return, because an operation throttled half-way would spend
// its first request again on every try and, when many objects compete for a
// budget, never finish. A longer wait is returned as a ThrottledError.
func AdmitWithin(ctx context.Context, l *rate.Limiter, service, op string, maxWait time.Duration) error {
	r := l.Reserve()
	if !r.OK() {
		return &ThrottledError{Op: op, After: time.Minute, Err: fmt.Errorf("%s %s: %w", service, op, ErrRateLimited)}
	}
	d := r.Delay()
	if d == 0 {
		return nil
	}
	if d > maxWait {
		r.Cancel()
		return &ThrottledError{Op: op, After: d, Err: fmt.Errorf("%s %s: %w", service, op, ErrRateLimited)}
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		r.Cancel()
		return fmt.Errorf("%s %s: waiting for the request budget: %w", service, op, ctx.Err())
	}
}

// Limiter is the tenant's limiter from limits, shared with every client of
// that tenant; without limits, a private one of requestsPerMinute
// (defaultRequestsPerMinute when that is not positive).
func Limiter(limits *TenantLimiters, tenantID string, requestsPerMinute, defaultRequestsPerMinute int) *rate.Limiter {
	if limits != nil {
		return limits.For(tenantID)
	}
	if requestsPerMinute <= 0 {
		requestsPerMinute = defaultRequestsPerMinute
	}
	return NewLimiter(requestsPerMinute)
}

// NewLimiter is the limiter of a budget of requestsPerMinute (at least 1),
// with a burst of one second's worth (at least one request).
func NewLimiter(requestsPerMinute int) *rate.Limiter {
	requestsPerMinute = max(1, requestsPerMinute)
	return rate.NewLimiter(rate.Limit(float64(requestsPerMinute)/60), max(1, requestsPerMinute/60))
}

// TenantLimiters hold one request budget per partner tenant, shared by every
// client built with them: two Partners with one tenant, or a client rebuilt
// after a secret rotation, spend one budget, as the service counts it.
type TenantLimiters struct {
	requestsPerMinute int

	mu       sync.Mutex
	byTenant map[string]*rate.Limiter
}

// NewTenantLimiters returns budgets of requestsPerMinute per tenant (at least 1).
func NewTenantLimiters(requestsPerMinute int) *TenantLimiters {
	return &TenantLimiters{requestsPerMinute: max(1, requestsPerMinute), byTenant: map[string]*rate.Limiter{}}
}

// RequestsPerMinute is each tenant's budget.
func (t *TenantLimiters) RequestsPerMinute() int { return t.requestsPerMinute }

// For returns the tenant's limiter, made on first use. Tenant IDs are GUIDs,
// compared without regard to case.
func (t *TenantLimiters) For(tenantID string) *rate.Limiter {
	key := strings.ToLower(strings.TrimSpace(tenantID))
	t.mu.Lock()
	defer t.mu.Unlock()
	l, ok := t.byTenant[key]
	if !ok {
		l = NewLimiter(t.requestsPerMinute)
		t.byTenant[key] = l
	}
	return l
}
