// Package apiretry holds what the Partner Center and Microsoft Graph clients
// share: checking their configuration, reading Retry-After, making the retry
// loop (cenkalti/backoff) wait that long, reporting a refused token without
// the token service's response body, refusing redirects (NoRedirects), and
// their metrics.
package apiretry

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v5"
	"golang.org/x/oauth2"
)

// RetryAfter reads a Retry-After header: seconds, or an HTTP date.
func RetryAfter(v string, now time.Time) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(0, t.Sub(now)), true
	}
	return 0, false
}

// After wraps err so that the backoff retry loop waits d before the next
// attempt; errors.As still finds what err wraps.
func After(err error, d time.Duration) error { return &waitError{err: err, after: d} }

type waitError struct {
	err   error
	after time.Duration
}

func (w *waitError) Error() string { return w.err.Error() }
func (w *waitError) Unwrap() error { return w.err }
func (w *waitError) As(target any) bool {
	if ra, ok := target.(**backoff.RetryAfterError); ok {
		*ra = &backoff.RetryAfterError{Duration: w.after}
		return true
	}
	return false
}

// TokenError keeps the token service's status and error code and drops its
// response body, which may echo request parameters (the client secret). A
// redirect refused (NoRedirects) is returned as the *RedirectError alone.
func TokenError(err error) error {
	if re, ok := RedirectRefused(err); ok {
		return re
	}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		code := 0
		if re.Response != nil {
			code = re.Response.StatusCode
		}
		msg := re.ErrorCode
		if re.ErrorDescription != "" {
			msg += ": " + re.ErrorDescription
		}
		return fmt.Errorf("token service answered HTTP %d %s: %w", code, msg, &tokenRefused{re})
	}
	return err
}

// tokenRefused prints nothing of the response, yet unwraps to it.
type tokenRefused struct{ re *oauth2.RetrieveError }

func (t *tokenRefused) Error() string { return "credentials refused" }
func (t *tokenRefused) Unwrap() error { return t.re }

// TokenErrorCode is the OAuth error code the token service answered
// (invalid_grant, invalid_client, ...), or "" when err is not its answer
// (a network error, a timeout).
func TokenErrorCode(err error) string {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		return re.ErrorCode
	}
	return ""
}
