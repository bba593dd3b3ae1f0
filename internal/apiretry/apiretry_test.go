package apiretry_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cenkalti/backoff/v5"
	"golang.org/x/oauth2"

	"github.com/partnerops/multichannel-operator/internal/apiretry"
)

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		header string
		want   time.Duration
		ok     bool
	}{
		{"", 0, false},
		{"3", 3 * time.Second, true},
		{" 0 ", 0, true},
		{"-1", 0, false},
		{"soon", 0, false},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0, true},
	} {
		got, ok := apiretry.RetryAfter(tc.header, now)
		if got != tc.want || ok != tc.ok {
			t.Errorf("RetryAfter(%q) = %v, %v; want %v, %v", tc.header, got, ok, tc.want, tc.ok)
		}
	}
}

func TestAfterMakesBackoffWait(t *testing.T) {
	inner := errors.New("throttled")
	err := apiretry.After(inner, 2*time.Second)
	var ra *backoff.RetryAfterError
	if !errors.As(err, &ra) || ra.Duration != 2*time.Second || !errors.Is(err, inner) {
		t.Errorf("After: RetryAfterError %v, wraps inner %v", ra, errors.Is(err, inner))
	}
}

// TestTokenErrorDropsTheBody: the token service's body may echo the request
// (the client secret); the error keeps its status and code only.
func TestTokenErrorDropsTheBody(t *testing.T) {
	re := &oauth2.RetrieveError{Response: &http.Response{StatusCode: 401}, Body: []byte("client_secret=s3cret"),
		ErrorCode: "invalid_client", ErrorDescription: "bad secret"}
	err := apiretry.TokenError(re)
	if strings.Contains(err.Error(), "s3cret") || !strings.Contains(err.Error(), "HTTP 401 invalid_client: bad secret") {
		t.Errorf("TokenError = %q", err)
	}
	var got *oauth2.RetrieveError
	if !errors.As(err, &got) {
		t.Error("the RetrieveError is no longer reachable with errors.As")
	}
}

func TestCheckConfig(t *testing.T) {
	for _, tc := range []struct {
		name, endpoint, authority, tenant string
		wantErr                           string
	}{
		{"valid", "https://api.partnercenter.microsoft.com/", "https://login.microsoftonline.com", "t 1", ""},
		{"relative endpoint", "api.partnercenter.microsoft.com", "https://login.microsoftonline.com", "t", "endpoint"},
		{"relative authority", "https://x", "login", "t", "authority host"},
		{"no tenant", "https://x", "https://y", "", "tenant ID"},
	} {
		u, err := apiretry.CheckConfig("partner center", tc.endpoint, tc.authority, tc.tenant)
		switch {
		case tc.wantErr == "" && (err != nil || u.String() != "https://api.partnercenter.microsoft.com"):
			t.Errorf("%s: %v, %v", tc.name, u, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%s: err %v, want one about %s", tc.name, err, tc.wantErr)
		}
	}
}

func TestThrottledFor(t *testing.T) {
	inner := errors.New("HTTP 429")
	err := fmt.Errorf("reading the customer: %w", &apiretry.ThrottledError{Op: "GetCustomer", After: 7 * time.Second, Err: inner})
	if d, ok := apiretry.ThrottledFor(err); !ok || d != 7*time.Second || !errors.Is(err, inner) {
		t.Errorf("ThrottledFor = %v, %v; wraps the answer: %v", d, ok, errors.Is(err, inner))
	}
	if !strings.Contains(err.Error(), "HTTP 429") || !strings.Contains(err.Error(), "7s") {
		t.Errorf("message %q does not say what was answered and how long to wait", err)
	}
	if d, ok := apiretry.ThrottledFor(inner); ok || d != 0 {
		t.Errorf("ThrottledFor(another error) = %v, %v", d, ok)
	}
}

// TestAdmitSpendsNothingWhenItRefuses: a call refused by the budget gives its
// reservation back, so the next request is free as soon as it says.
func TestAdmitSpendsNothingWhenItRefuses(t *testing.T) {
	l := apiretry.NewLimiter(1) // one a minute, burst one
	if err := apiretry.Admit(l, "svc", "Get"); err != nil {
		t.Fatalf("the first request: %v", err)
	}
	for range 3 {
		err := apiretry.Admit(l, "svc", "Get")
		d, ok := apiretry.ThrottledFor(err)
		if !ok || !errors.Is(err, apiretry.ErrRateLimited) || d <= 30*time.Second || d > time.Minute {
			t.Fatalf("over the budget: %v (after %v), want ErrRateLimited, about a minute", err, d)
		}
	}
	// Three refusals spent nothing: not a token below the one the first call took.
	if tokens := l.Tokens(); tokens < -0.5 {
		t.Errorf("the refused calls spent the budget: %v tokens", tokens)
	}
}

func TestTenantLimiters(t *testing.T) {
	limits := apiretry.NewTenantLimiters(1)
	a := limits.For("6F1BD5C1-0D3B-4C5E-9BB1-7F4F9D2B6A10")
	if b := limits.For("6f1bd5c1-0d3b-4c5e-9bb1-7f4f9d2b6a10"); a != b {
		t.Error("one tenant written in two cases has two budgets")
	}
	if c := limits.For("0b4e8e3a-7c1d-4f0e-a0d2-3f9a1c6e5b21"); c == a {
		t.Error("two tenants share a budget")
	}
	if limits.RequestsPerMinute() != 1 || a.Burst() != 1 {
		t.Errorf("budget %d a minute, burst %d", limits.RequestsPerMinute(), a.Burst())
	}
}

func TestRetry(t *testing.T) {
	failed := errors.New("HTTP 503")
	tight := apiretry.Policy{MaxAttempts: 1000, InitialInterval: time.Millisecond, MaxInterval: time.Millisecond, MaxWait: 20 * time.Millisecond}
	for _, tc := range []struct {
		name         string
		policy       apiretry.Policy
		answers      []error // the last repeats
		wantAttempts func(int) bool
		wantErr      func(error) bool
	}{
		{"success after failures", tight, []error{failed, failed, nil},
			func(n int) bool { return n == 3 }, func(err error) bool { return err == nil }},
		{"attempts spent", apiretry.Policy{MaxAttempts: 3, InitialInterval: time.Millisecond}, []error{failed},
			func(n int) bool { return n == 3 }, func(err error) bool { return errors.Is(err, failed) }},
		// 1000 attempts allowed, but waits of about 1ms fit 20ms only some 40 times.
		{"waiting bounded by MaxWait", tight, []error{failed},
			func(n int) bool { return n >= 2 && n <= 60 }, func(err error) bool { return errors.Is(err, failed) }},
		{"permanent not retried", tight, []error{backoff.Permanent(failed)},
			func(n int) bool { return n == 1 }, func(err error) bool { return errors.Is(err, failed) }},
		{"a short Retry-After is waited", tight, []error{apiretry.After(failed, time.Millisecond), nil},
			func(n int) bool { return n == 2 }, func(err error) bool { return err == nil }},
		{"a long Retry-After is returned", tight, []error{apiretry.After(failed, time.Minute)},
			func(n int) bool { return n == 1 }, func(err error) bool {
				d, ok := apiretry.ThrottledFor(err)
				return ok && d == time.Minute && errors.Is(err, failed)
			}},
		{"a throttled answer is returned at once", tight, []error{apiretry.Policy{}.Throttled("Get", failed, 0, false)},
			func(n int) bool { return n == 1 }, func(err error) bool {
				d, ok := apiretry.ThrottledFor(err)
				return ok && d == apiretry.DefaultPolicy.ThrottledWait && errors.Is(err, failed)
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			attempts, retried := 0, 0
			err := apiretry.Retry(context.Background(), tc.policy, "Get", func() { retried++ }, func() error {
				attempts++
				return tc.answers[min(attempts, len(tc.answers))-1]
			})
			if !tc.wantAttempts(attempts) || !tc.wantErr(err) || retried != attempts-1 {
				t.Errorf("%d attempts (%d counted as retries), error %v", attempts, retried, err)
			}
		})
	}
}

func TestRetryStopsWithTheContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	failed := errors.New("HTTP 503")
	attempts := 0
	err := apiretry.Retry(ctx, apiretry.Policy{MaxAttempts: 10, InitialInterval: time.Hour, MaxInterval: time.Hour, MaxWait: 10 * time.Hour},
		"Get", func() {}, func() error {
			attempts++
			cancel()
			return failed
		})
	if attempts != 1 || !errors.Is(err, failed) || !errors.Is(err, context.Canceled) {
		t.Errorf("%d attempts, %v", attempts, err)
	}
}

func TestThrottledWait(t *testing.T) {
	p := apiretry.Policy{ThrottledWait: 42 * time.Second}
	for _, tc := range []struct {
		retryAfter time.Duration
		has        bool
		want       time.Duration
	}{
		{5 * time.Second, true, 5 * time.Second},
		{0, true, apiretry.MinThrottledWait}, // Retry-After: 0 still requeues
		{0, false, 42 * time.Second},
	} {
		err := p.Throttled("Get", errors.New("HTTP 429"), tc.retryAfter, tc.has)
		var perm *backoff.PermanentError
		if d, ok := apiretry.ThrottledFor(err); !ok || d != tc.want || !errors.As(err, &perm) {
			t.Errorf("Retry-After %v (%v): %v, %v; want %v, not retried", tc.retryAfter, tc.has, d, ok, tc.want)
		}
	}
}
