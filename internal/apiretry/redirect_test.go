package apiretry_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/partnerops/multichannel-operator/internal/apiretry"
)

// TestNoRedirects: the copy refuses every redirect status, for a nil client
// and for a caller's client that would follow it, and keeps the caller's
// timeout and transport while leaving the caller's client as it was.
func TestNoRedirects(t *testing.T) {
	var foreign atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { foreign.Add(1) }))
	defer other.Close()
	var status atomic.Int32
	allowed := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/x?token=abc", int(status.Load()))
	}))
	defer allowed.Close()

	followed := 0
	own := &http.Client{Timeout: 7 * time.Second, Transport: http.DefaultTransport,
		CheckRedirect: func(*http.Request, []*http.Request) error { followed++; return nil }}
	for _, hc := range []*http.Client{nil, own} {
		c := apiretry.NoRedirects(hc, "token service")
		if hc != nil && (c == hc || c.Timeout != hc.Timeout || c.Transport != hc.Transport) {
			t.Errorf("the copy %+v is not the caller's client with redirects refused", c)
		}
		for _, s := range []int{301, 302, 303, 307, 308} {
			status.Store(int32(s))
			resp, err := c.Post(allowed.URL+"/tenant/oauth2/v2.0/token?q=1", "text/plain", strings.NewReader("client_secret=s"))
			if err == nil {
				_ = resp.Body.Close()
				t.Fatalf("%d: followed", s)
			}
			re, ok := apiretry.RedirectRefused(err)
			if !ok || re.StatusCode != s || re.From != allowed.URL+"/tenant/oauth2/v2.0/token" || re.To != other.URL+"/x" {
				t.Errorf("%d: %v (%+v)", s, err, re)
			}
			if msg := apiretry.TokenError(err).Error(); strings.Contains(msg, "token=abc") || strings.Contains(msg, "q=1") ||
				!strings.HasPrefix(msg, "token service "+allowed.URL) || !strings.HasSuffix(msg, "credentials are never sent to a redirect") {
				t.Errorf("%d: TokenError = %q", s, msg)
			}
		}
	}
	if foreign.Load() != 0 || followed != 0 {
		t.Errorf("the redirect's server got %d requests; the caller's CheckRedirect ran %d times", foreign.Load(), followed)
	}
	// The caller's own client still follows: it was not changed.
	status.Store(307)
	resp, err := own.Get(allowed.URL)
	if err != nil || followed != 1 || foreign.Load() != 1 {
		t.Errorf("the caller's client: %v, CheckRedirect ran %d times", err, followed)
	} else {
		_ = resp.Body.Close()
	}
}
