package apiretry

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cenkalti/backoff/v5"
)

// Policy says how one call is retried inside the caller, which is a
// reconciler's worker: only briefly. A server error or a lost response of a
// call that is safe to send again is retried with exponential backoff while
// the waits add up to at most MaxWait; past that the error is returned and
// the caller tries again later. Throttling (429, the tenant's own budget) is
// never waited out here: it is returned at once as a *ThrottledError.
// Fields left zero take DefaultPolicy's values; the call's context bounds
// the waits too.
type Policy struct {
	// MaxAttempts bounds how often one call is sent.
	MaxAttempts uint
	// InitialInterval is the first wait between attempts; later waits grow
	// exponentially (with jitter) up to MaxInterval.
	InitialInterval time.Duration
	MaxInterval     time.Duration
	// MaxWait bounds the total time one call waits between its attempts. A
	// wait the server asks for (Retry-After on a 5xx) that does not fit is
	// not waited: the call returns a *ThrottledError with it.
	MaxWait time.Duration
	// ThrottledWait is how long a 429 without a Retry-After asks the caller to wait.
	ThrottledWait time.Duration
}

// DefaultPolicy sends a call at most four times, waiting at most two seconds
// in all between the attempts; a 429 without Retry-After asks for ten seconds.
var DefaultPolicy = Policy{MaxAttempts: 4, InitialInterval: 200 * time.Millisecond, MaxInterval: time.Second,
	MaxWait: 2 * time.Second, ThrottledWait: 10 * time.Second}

// WithDefaults fills the fields left zero from DefaultPolicy.
func (p Policy) WithDefaults() Policy {
	if p.MaxAttempts == 0 {
		p.MaxAttempts = DefaultPolicy.MaxAttempts
	}
	if p.InitialInterval <= 0 {
		p.InitialInterval = DefaultPolicy.InitialInterval
	}
	if p.MaxInterval <= 0 {
		p.MaxInterval = max(DefaultPolicy.MaxInterval, p.InitialInterval)
	}
	if p.MaxWait <= 0 {
		p.MaxWait = DefaultPolicy.MaxWait
	}
	if p.ThrottledWait <= 0 {
		p.ThrottledWait = DefaultPolicy.ThrottledWait
	}
	return p
}

// Throttled is the error of a throttled response: err (the service's typed
// error) to be sent again after retryAfter, the response's Retry-After when
// it had one (ok), else the policy's ThrottledWait; never less than
// MinThrottledWait. The retry loop returns it at once.
func (p Policy) Throttled(op string, err error, retryAfter time.Duration, ok bool) error {
	if !ok {
		retryAfter = p.WithDefaults().ThrottledWait
	}
	return backoff.Permanent(&ThrottledError{Op: op, After: max(retryAfter, MinThrottledWait), Err: err})
}

// Retry makes one call: it runs attempt until attempt succeeds, returns an
// error marked backoff.Permanent (returned unwrapped), or the policy's
// attempts or waiting time are spent (the last error is returned). An error
// made with After asks for its own wait; when that wait does not fit the
// policy, the call returns a *ThrottledError with it. retried runs before
// each attempt after the first (a metric).
func Retry(ctx context.Context, p Policy, op string, retried func(), attempt func() error) error {
	p = p.WithDefaults()
	exp := backoff.NewExponentialBackOff()
	exp.InitialInterval, exp.MaxInterval = p.InitialInterval, p.MaxInterval
	exp.Reset()
	var waited time.Duration
	for n := uint(1); ; n++ {
		err := attempt()
		if err == nil {
			return nil
		}
		var permanent *backoff.PermanentError
		if errors.As(err, &permanent) {
			return permanent.Unwrap()
		}
		next := exp.NextBackOff()
		var asked *backoff.RetryAfterError
		serverAsked := errors.As(err, &asked)
		if serverAsked {
			next = asked.Duration
		}
		if n >= p.MaxAttempts || next == backoff.Stop || waited+next > p.MaxWait {
			if serverAsked {
				return &ThrottledError{Op: op, After: max(asked.Duration, MinThrottledWait), Err: err}
			}
			return err
		}
		timer := time.NewTimer(next)
		select {
		case <-ctx.Done():
			timer.Stop()
			return fmt.Errorf("%w; not retried: %w", err, context.Cause(ctx))
		case <-timer.C:
		}
		waited += next
		retried()
	}
}
