package apiretry_test

import (
	"errors"
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
		name, endpoint, authority, tenant, id, secret string
		wantErr                                       string
	}{
		{"valid", "https://api.partnercenter.microsoft.com/", "https://login.microsoftonline.com", "t 1", "a", "b", ""},
		{"relative endpoint", "api.partnercenter.microsoft.com", "https://login.microsoftonline.com", "t", "a", "b", "endpoint"},
		{"relative authority", "https://x", "login", "t", "a", "b", "authority host"},
		{"no tenant", "https://x", "https://y", "", "a", "b", "tenant ID"},
		{"no secret", "https://x", "https://y", "t", "a", "", "client secret"},
	} {
		u, tokenURL, err := apiretry.CheckConfig("partner center", tc.endpoint, tc.authority, tc.tenant, tc.id, tc.secret)
		switch {
		case tc.wantErr == "" && (err != nil || u.String() != "https://api.partnercenter.microsoft.com" ||
			tokenURL != "https://login.microsoftonline.com/t%201/oauth2/v2.0/token"):
			t.Errorf("%s: %v, %q, %v", tc.name, u, tokenURL, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%s: err %v, want one about %s", tc.name, err, tc.wantErr)
		}
	}
}
