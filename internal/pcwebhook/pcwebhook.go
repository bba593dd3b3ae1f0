// Package pcwebhook receives Partner Center's webhook events. Its Receiver
// is an http.Handler that verifies each request as Partner Center
// documents its signing ("How to authenticate the callback"): the
// signature header, the certificate named by x-ms-certificate-url (fetched
// only from allowed hosts and cached), the certificate's chain and
// organization, RSA with SHA-256 over the body. It refuses replays and
// stale events, limits the body's size, and hands each verified, fresh,
// new event to a callback. docs/webhooks.md says what is documented and
// what the Receiver adds.
// Source: https://learn.microsoft.com/partner-center/developer/partner-center-webhooks
package pcwebhook

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-logr/logr"
)

// Production defaults: what Partner Center's documentation names.
const (
	// DefaultCertificateHost is the host of the documented certificate URL,
	// https://3psostorageacct.blob.core.windows.net/cert/pcnotifications-dispatch.microsoft.com.cer.
	DefaultCertificateHost = "3psostorageacct.blob.core.windows.net"
	// DefaultOrganization is the organization the documented sample
	// requires of the certificate's issuer ("O=Microsoft Corporation").
	DefaultOrganization = "Microsoft Corporation"
	// DefaultSubjectName is the name of the certificate the documented URL
	// names (pcnotifications-dispatch.microsoft.com.cer).
	DefaultSubjectName = "pcnotifications-dispatch.microsoft.com"
)

// Limits the Receiver adds to the documentation.
const (
	// DefaultMaxBodyBytes: the documented events are a few hundred bytes.
	DefaultMaxBodyBytes = 64 << 10
	// DefaultMaxAge: an event is taken until this long after its
	// ResourceChangeUtcDate. Partner Center documents "a delay of up to 48
	// hours" before a subscription-updated event, and retries a delivery
	// up to 10 times.
	DefaultMaxAge = 72 * time.Hour
	// DefaultMaxSkew: an event dated this far ahead of the Receiver's
	// clock is still taken.
	DefaultMaxSkew = 5 * time.Minute
	// DefaultReplayEntries bounds the events remembered.
	DefaultReplayEntries = 100000
	// DefaultCertificateTTL: a verified certificate is downloaded again
	// after this long (or when it expires).
	DefaultCertificateTTL = 24 * time.Hour
)

// Callback takes a verified event. An error answers Partner Center 500, so
// that it sends the event again, and the event is not remembered.
type Callback func(ctx context.Context, e Event) error

// Options configure a Receiver. The zero value is Partner Center's
// production: its certificate host, the system's roots, its organization
// and certificate name. Tests against the simulator name the simulator's
// host and root, and nothing else changes.
type Options struct {
	// CertificateHosts are the hosts x-ms-certificate-url may name
	// ("host", or "host:port" for a port other than 443); default
	// DefaultCertificateHost. No other URL is ever fetched.
	CertificateHosts []string
	// Roots are the trusted roots; nil is the system's.
	Roots *x509.CertPool
	// Intermediates are intermediate certificates to build the chain with,
	// besides those the certificate file holds.
	Intermediates []*x509.Certificate
	// Organization is required of the certificate's subject and issuer;
	// default DefaultOrganization.
	Organization string
	// SubjectName must be the certificate's common name or one of its DNS
	// names; default DefaultSubjectName.
	SubjectName string
	// Fetcher downloads certificates; nil is HTTPFetcher(nil).
	Fetcher Fetcher
	// CertificateTTL: default DefaultCertificateTTL.
	CertificateTTL time.Duration
	// MaxBodyBytes: default DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// MaxAge and MaxSkew bound an event's ResourceChangeUtcDate against
	// Now: defaults DefaultMaxAge and DefaultMaxSkew.
	MaxAge, MaxSkew time.Duration
	// ReplayEntries bounds the events remembered; default DefaultReplayEntries.
	ReplayEntries int
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// Metrics, when set, count the outcomes; Counts counts them always.
	Metrics *Metrics
	// Log receives a line per refused request (V(1)); the zero Logger discards.
	Log logr.Logger
}

// Receiver is the webhook endpoint: an http.Handler for Partner Center's
// POSTs.
type Receiver struct {
	callback Callback
	opts     Options
	certs    *certCache
	replays  *replayCache
	counts   counts
}

// New returns a Receiver that calls cb with each verified event.
func New(cb Callback, opts Options) (*Receiver, error) {
	if cb == nil {
		return nil, errors.New("pcwebhook: a callback is required")
	}
	opts, err := withDefaults(opts)
	if err != nil {
		return nil, err
	}
	rules := certificateRules{roots: opts.Roots, intermediates: opts.Intermediates, organization: opts.Organization, subjectName: opts.SubjectName}
	return &Receiver{callback: cb, opts: opts, replays: &replayCache{max: opts.ReplayEntries},
		certs: &certCache{fetcher: opts.Fetcher, verify: rules.verify, ttl: opts.CertificateTTL}}, nil
}

func withDefaults(o Options) (Options, error) {
	if len(o.CertificateHosts) == 0 {
		o.CertificateHosts = []string{DefaultCertificateHost}
	}
	if o.Roots == nil {
		roots, err := x509.SystemCertPool()
		if err != nil {
			return o, fmt.Errorf("pcwebhook: the system's roots: %w", err)
		}
		o.Roots = roots
	}
	o.Organization = orDefault(o.Organization, DefaultOrganization)
	o.SubjectName = orDefault(o.SubjectName, DefaultSubjectName)
	if o.Fetcher == nil {
		o.Fetcher = HTTPFetcher(nil)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	o.CertificateTTL = positive(o.CertificateTTL, DefaultCertificateTTL)
	o.MaxAge, o.MaxSkew = positive(o.MaxAge, DefaultMaxAge), positive(o.MaxSkew, DefaultMaxSkew)
	o.MaxBodyBytes = positive(o.MaxBodyBytes, DefaultMaxBodyBytes)
	o.ReplayEntries = positive(o.ReplayEntries, DefaultReplayEntries)
	return o, nil
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func positive[T time.Duration | int64 | int](v, d T) T {
	if v <= 0 {
		return d
	}
	return v
}

// Counts are the requests by outcome so far.
func (rc *Receiver) Counts() Counts { return rc.counts.snapshot() }

// refusal is a request not taken: its outcome, the status answered and why.
type refusal struct {
	outcome Outcome
	status  int
	reason  string
}

func refuse(o Outcome, status int, format string, args ...any) *refusal {
	return &refusal{outcome: o, status: status, reason: fmt.Sprintf(format, args...)}
}

// ServeHTTP verifies the request and, when it holds, calls the callback.
func (rc *Receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e, key, ref := rc.verified(w, r)
	if ref == nil {
		ref = rc.take(r.Context(), e, key)
	}
	outcome, status := OutcomeVerified, http.StatusOK
	if ref != nil {
		outcome, status = ref.outcome, ref.status
		rc.opts.Log.V(1).Info("refused a Partner Center webhook request", "outcome", outcome, "reason", ref.reason, "remote", r.RemoteAddr)
	}
	rc.counts.add(outcome)
	if rc.opts.Metrics != nil {
		rc.opts.Metrics.Requests(outcome).Inc()
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, string(outcome)+"\n")
}

// verified checks the request in the documented order (headers, the
// certificate, the signature over the body) and then the event's shape
// and freshness. It returns the event and its replay key.
func (rc *Receiver) verified(w http.ResponseWriter, r *http.Request) (Event, [sha256.Size]byte, *refusal) {
	var key [sha256.Size]byte
	body, sig, certURL, ref := rc.readRequest(w, r)
	if ref != nil {
		return Event{}, key, ref
	}
	now := rc.opts.Now()
	if ref := rc.checkSignature(r.Context(), certURL, body, sig, now); ref != nil {
		return Event{}, key, ref
	}
	e, err := ParseEvent(body)
	if err != nil {
		return Event{}, key, refuse(OutcomeMalformed, http.StatusBadRequest, "%v", err)
	}
	if at := e.ResourceChangeUTCDate; at.Before(now.Add(-rc.opts.MaxAge)) || at.After(now.Add(rc.opts.MaxSkew)) {
		return Event{}, key, refuse(OutcomeReplayed, http.StatusConflict, "the event's date %s is outside the window [-%s, +%s]", at, rc.opts.MaxAge, rc.opts.MaxSkew)
	}
	return e, sha256.Sum256(body), nil
}

// readRequest reads what a signed request must carry: POST, the signature,
// the algorithm, an allowed certificate URL, a body within the limit.
func (rc *Receiver) readRequest(w http.ResponseWriter, r *http.Request) ([]byte, []byte, *url.URL, *refusal) {
	if r.Method != http.MethodPost {
		return nil, nil, nil, refuse(OutcomeMalformed, http.StatusMethodNotAllowed, "method %s", r.Method)
	}
	sig, err := signatureOf(r.Header)
	if err != nil {
		return nil, nil, nil, refuse(OutcomeMalformed, http.StatusBadRequest, "%v", err)
	}
	alg, raw := r.Header.Get(HeaderSignatureAlgorithm), r.Header.Get(HeaderCertificateURL)
	if alg == "" || raw == "" {
		return nil, nil, nil, refuse(OutcomeMalformed, http.StatusBadRequest, "%v: x-ms-signature-algorithm and x-ms-certificate-url", errMissing)
	}
	if !strings.EqualFold(alg, AlgorithmRSASHA256) {
		return nil, nil, nil, refuse(OutcomeForged, http.StatusUnauthorized, "signature algorithm %q is not %s", alg, AlgorithmRSASHA256)
	}
	u, err := url.Parse(raw)
	if err != nil || !hostAllowed(u, rc.opts.CertificateHosts) {
		return nil, nil, nil, refuse(OutcomeForged, http.StatusUnauthorized, "certificate URL %q is not on an allowed host", raw)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, rc.opts.MaxBodyBytes))
	if err != nil {
		return nil, nil, nil, refuse(OutcomeMalformed, http.StatusRequestEntityTooLarge, "the body: %v", err)
	}
	return body, sig, u, nil
}

// checkSignature verifies body's signature with the certificate at u.
func (rc *Receiver) checkSignature(ctx context.Context, u *url.URL, body, sig []byte, now time.Time) *refusal {
	cert, err := rc.certs.get(ctx, u, now)
	var unavailable errUnavailable
	switch {
	case errors.As(err, &unavailable):
		return refuse(OutcomeUnavailable, http.StatusServiceUnavailable, "%v", err)
	case err != nil:
		return refuse(OutcomeForged, http.StatusUnauthorized, "the certificate at %s: %v", u.Redacted(), err)
	}
	if err := verifySignature(cert, body, sig); err != nil {
		return refuse(OutcomeForged, http.StatusUnauthorized, "%v", err)
	}
	return nil
}

// take hands a new event to the callback, once.
func (rc *Receiver) take(ctx context.Context, e Event, key [sha256.Size]byte) *refusal {
	if !rc.replays.claim(key, e.ResourceChangeUTCDate, rc.opts.Now().Add(-rc.opts.MaxAge)) {
		return refuse(OutcomeReplayed, http.StatusConflict, "event %s of %s was received before", e.EventName, e.ResourceChangeUTCDate)
	}
	if err := rc.callback(ctx, e); err != nil {
		rc.replays.release(key)
		return refuse(OutcomeFailed, http.StatusInternalServerError, "the callback: %v", err)
	}
	return nil
}
