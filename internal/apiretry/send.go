package apiretry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/cenkalti/backoff/v5"
	"golang.org/x/oauth2"
	"golang.org/x/time/rate"
)

// Sender is the one call path of the Microsoft API clients (Partner
// Center, Microsoft Graph): a token, the tenant's request budget, the
// request, the answer's status and Retry-After, classified for Retry. Each
// client supplies only its own headers and error body.
type Sender struct {
	Service string       // the API as errors name it, such as "partner center"
	HTTP    *http.Client // never follows a redirect (NoRedirects)
	Limiter *rate.Limiter
	Retry   Policy
	Metrics *Metrics
}

// Call is one call: every attempt sends the same request.
type Call struct {
	Op     string // operation name, for errors and metrics
	Method string
	URL    string
	Body   any // encoded as JSON; nil sends none
	Tokens oauth2.TokenSource
	// Header holds the client's own headers (request and correlation IDs,
	// If-Match); Authorization, Accept and Content-Type are the Sender's.
	Header http.Header
	// Retryable: reads, and creates that carry a request ID, may be sent
	// again after a 5xx or a network error.
	Retryable bool
	// Follows: the call continues an operation already sent; it waits
	// briefly for the tenant's budget instead of returning at once.
	Follows bool
	// Error makes the client's error of an answer that is not 2xx.
	Error func(status int, body []byte) error
}

// Do sends c, again within the Sender's retry policy while that can help,
// and decodes a 2xx answer's JSON into out (nil: the answer is dropped).
func (s *Sender) Do(ctx context.Context, c Call, out any) error {
	var body []byte
	if c.Body != nil {
		var err error
		if body, err = json.Marshal(c.Body); err != nil {
			return fmt.Errorf("%s %s: encoding the request: %w", s.Service, c.Op, err)
		}
	}
	return Retry(ctx, s.Retry, c.Op, func() { s.Metrics.Retries(c.Op).Inc() }, func() error {
		return s.send(ctx, c, body, out)
	})
}

// send sends one attempt and classifies its outcome for the retry loop.
func (s *Sender) send(ctx context.Context, c Call, body []byte, out any) error {
	tok, err := c.Tokens.Token()
	if err != nil {
		err = fmt.Errorf("%s %s: obtaining a token: %w", s.Service, c.Op, TokenError(err))
		if _, ok := RedirectRefused(err); ok {
			return backoff.Permanent(err) // the redirect would come again
		}
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.Response != nil && re.Response.StatusCode < 500 {
			return backoff.Permanent(err) // refused credentials do not get better
		}
		return err
	}
	// The tenant's budget is checked last, so that only a request about to
	// be sent spends it; when it is spent the caller calls again later.
	admit := func() error { return Admit(s.Limiter, s.Service, c.Op) }
	if c.Follows {
		admit = func() error { return AdmitWithin(ctx, s.Limiter, s.Service, c.Op, s.Retry.MaxWait) }
	}
	if err := admit(); err != nil {
		s.Metrics.RateLimited(c.Op).Inc()
		return backoff.Permanent(err)
	}

	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, c.Method, c.URL, rd)
	if err != nil {
		return backoff.Permanent(err)
	}
	for k, v := range c.Header {
		req.Header[k] = v
	}
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}

	resp, err := s.HTTP.Do(req)
	if err != nil {
		s.Metrics.Requests(c.Op, "error").Inc()
		if re, ok := RedirectRefused(err); ok {
			return backoff.Permanent(fmt.Errorf("%s %s: %w", s.Service, c.Op, re))
		}
		err = fmt.Errorf("%s %s: %w", s.Service, c.Op, err)
		if !c.Retryable || ctx.Err() != nil {
			return backoff.Permanent(err)
		}
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	s.Metrics.Requests(c.Op, strconv.Itoa(resp.StatusCode)).Inc()
	if err != nil {
		err = fmt.Errorf("%s %s: reading the response: %w", s.Service, c.Op, err)
		if !c.Retryable {
			return backoff.Permanent(err)
		}
		return err
	}

	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		if out == nil || len(data) == 0 {
			return nil
		}
		if err := json.Unmarshal(data, out); err != nil {
			return backoff.Permanent(fmt.Errorf("%s %s: decoding the response: %w", s.Service, c.Op, err))
		}
		return nil
	}

	apiErr := c.Error(resp.StatusCode, data)
	after, hasAfter := RetryAfter(resp.Header.Get("Retry-After"), time.Now())
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		s.Metrics.Throttled(c.Op).Inc()
		// Not processed: the caller sends it again, with the same request
		// ID, after Retry-After. Waiting here would hold the caller's worker.
		return s.Retry.Throttled(c.Op, apiErr, after, hasAfter)
	case resp.StatusCode >= 500 && c.Retryable:
		if hasAfter { // waited here if short, else returned as throttling
			return After(apiErr, after)
		}
		return apiErr
	default:
		return backoff.Permanent(apiErr)
	}
}

// SenderConfig is what a client's Sender is made of.
type SenderConfig struct {
	Service string // the API as errors name it
	// HTTPClient is the caller's client, nil for one with a 30 s timeout.
	HTTPClient *http.Client
	// Limits, when set, hold each tenant's budget (shared by every client
	// built with them); otherwise the client has a budget of its own of
	// RequestsPerMinute, or DefaultRequestsPerMinute when that is 0.
	Limits                                      *TenantLimiters
	TenantID                                    string
	RequestsPerMinute, DefaultRequestsPerMinute int
	Retry                                       Policy // zero fields take DefaultPolicy's
	Metrics, DefaultMetrics                     *Metrics
}

// NewSender is the Sender for c, and the HTTP client the caller's token
// requests go through (c.HTTPClient or the default, which the token source
// copies).
// Every request carries credentials, so none follows a redirect, not even
// with the caller's client (NoRedirects copies it).
func NewSender(c SenderConfig) (*Sender, *http.Client) {
	hc := c.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	metrics := c.Metrics
	if metrics == nil {
		metrics = c.DefaultMetrics
	}
	return &Sender{
		Service: c.Service, HTTP: NoRedirects(hc, c.Service),
		Limiter: Limiter(c.Limits, c.TenantID, c.RequestsPerMinute, c.DefaultRequestsPerMinute),
		Retry:   c.Retry.WithDefaults(), Metrics: metrics,
	}, hc
}
