package pcwebhook

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// Fetcher downloads the certificate an event names in X-MS-Certificate-Url.
// The Receiver calls it only for an https URL on an allowed host
// (Options.CertificateHosts), and caches what it returns.
type Fetcher interface {
	Fetch(ctx context.Context, u *url.URL) ([]byte, error)
}

// FetcherFunc is a Fetcher.
type FetcherFunc func(ctx context.Context, u *url.URL) ([]byte, error)

// Fetch calls f.
func (f FetcherFunc) Fetch(ctx context.Context, u *url.URL) ([]byte, error) { return f(ctx, u) }

// maxCertificateBytes bounds a downloaded certificate file (a certificate
// and its chain is a few kilobytes).
const maxCertificateBytes = 64 << 10

// ErrNoCertificate: the certificate URL answered, but with no certificate
// (a 4xx): the URL names nothing Partner Center signs with.
var ErrNoCertificate = errors.New("the certificate URL names no certificate")

// HTTPFetcher downloads with client (nil: a client with a 10 second
// timeout and the system's roots), following no redirect and reading at
// most 64 KiB of an https answer.
func HTTPFetcher(client *http.Client) Fetcher {
	c := &http.Client{Timeout: 10 * time.Second}
	if client != nil {
		copied := *client
		c = &copied
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return FetcherFunc(func(ctx context.Context, u *url.URL) ([]byte, error) { return fetch(ctx, c, u) })
}

func fetch(ctx context.Context, c *http.Client, u *url.URL) ([]byte, error) {
	if u.Scheme != "https" {
		return nil, fmt.Errorf("%w: %s is not https", ErrNoCertificate, u.Redacted())
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	switch {
	case resp.StatusCode >= 300 && resp.StatusCode < 500:
		return nil, fmt.Errorf("%w: %s answered HTTP %d", ErrNoCertificate, u.Redacted(), resp.StatusCode)
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("%s answered HTTP %d", u.Redacted(), resp.StatusCode)
	}
	return io.ReadAll(io.LimitReader(resp.Body, maxCertificateBytes))
}

// parseCertificates reads a certificate file: DER (a .cer, as Partner
// Center's documented URL names) or PEM, the first certificate the signer,
// any others its intermediates.
func parseCertificates(data []byte) ([]*x509.Certificate, error) {
	if !strings.Contains(string(data), "-----BEGIN") {
		return x509.ParseCertificates(data)
	}
	var certs []*x509.Certificate
	for block, rest := pem.Decode(data); block != nil; block, rest = pem.Decode(rest) {
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, err
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, errors.New("no PEM certificate")
	}
	return certs, nil
}

// certEntry is a certificate URL's outcome, kept until until: the verified
// signer, or why there is none.
type certEntry struct {
	leaf  *x509.Certificate
	err   error
	until time.Time
}

// certCache fetches, verifies and keeps the certificates of a few URLs.
type certCache struct {
	fetcher Fetcher
	verify  func(certs []*x509.Certificate, now time.Time) error
	ttl     time.Duration

	mu      sync.Mutex
	entries map[string]certEntry
	group   singleflight.Group
}

// How long outcomes are kept: a verified certificate for the cache's TTL
// (at most until it expires); one that failed verification for a minute;
// a URL that could not be reached for ten seconds.
const (
	refusedTTL     = time.Minute
	unavailableTTL = 10 * time.Second
	maxCertEntries = 64
)

// errUnavailable wraps a failure to download the certificate that may pass.
type errUnavailable struct{ err error }

func (e errUnavailable) Error() string {
	return "the certificate could not be downloaded: " + e.err.Error()
}
func (e errUnavailable) Unwrap() error { return e.err }

// get is the verified signer of u, fetched once for concurrent callers.
func (c *certCache) get(ctx context.Context, u *url.URL, now time.Time) (*x509.Certificate, error) {
	key := u.String()
	c.mu.Lock()
	e, ok := c.entries[key]
	c.mu.Unlock()
	if ok && now.Before(e.until) {
		return e.leaf, e.err
	}
	v, _, _ := c.group.Do(key, func() (any, error) { return c.load(ctx, u, now), nil })
	e = v.(certEntry)
	return e.leaf, e.err
}

func (c *certCache) load(ctx context.Context, u *url.URL, now time.Time) certEntry {
	e := c.fetchAndVerify(ctx, u, now)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = map[string]certEntry{}
	}
	for k, old := range c.entries {
		if !now.Before(old.until) || len(c.entries) >= maxCertEntries {
			delete(c.entries, k)
		}
	}
	c.entries[u.String()] = e
	return e
}

func (c *certCache) fetchAndVerify(ctx context.Context, u *url.URL, now time.Time) certEntry {
	data, err := c.fetcher.Fetch(ctx, u)
	if err != nil && !errors.Is(err, ErrNoCertificate) {
		return certEntry{err: errUnavailable{err}, until: now.Add(unavailableTTL)}
	}
	var certs []*x509.Certificate
	if err == nil {
		certs, err = parseCertificates(data)
	}
	if err == nil {
		err = c.verify(certs, now)
	}
	if err != nil {
		return certEntry{err: err, until: now.Add(refusedTTL)}
	}
	return certEntry{leaf: certs[0], until: minTime(now.Add(c.ttl), certs[0].NotAfter)}
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// hostAllowed reports whether u may be fetched: https, no credentials, and
// a host (with its port, when it names one other than 443) listed in hosts.
func hostAllowed(u *url.URL, hosts []string) bool {
	if u.Scheme != "https" || u.User != nil || u.Host == "" {
		return false
	}
	host := strings.ToLower(u.Host)
	if u.Port() == "443" {
		host = strings.ToLower(u.Hostname())
	}
	return slices.ContainsFunc(hosts, func(h string) bool { return strings.EqualFold(h, host) })
}
