package graph_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/partnerops/multichannel-operator/internal/apiretry"
	"github.com/partnerops/multichannel-operator/internal/apiretry/apiretrytest"
	"github.com/partnerops/multichannel-operator/internal/graph"
	"github.com/partnerops/multichannel-operator/internal/graph/graphsim"
)

// TestCredentialsNeverFollowARedirect: the token service or Graph
// answering 307 or 308 towards another server gets the call refused with an
// error naming both URLs; the other server gets nothing (no client secret,
// no bearer token), the redirect is not retried, and the error holds no
// secret. A caller's own HTTP client that would follow redirects changes
// nothing.
func TestCredentialsNeverFollowARedirect(t *testing.T) {
	tokenPath := "/" + partnerTenant + "/oauth2/v2.0/token"
	const relationships = "/v1.0/tenantRelationships/delegatedAdminRelationships"
	for _, tc := range []struct {
		name      string
		redirects func(r *http.Request) bool // the allowed server redirects r
		call      func(ctx context.Context, c *graph.Client) error
		service   string // who redirected, as the error names it
		path      string // what was asked
	}{
		{
			name:      "token",
			redirects: func(r *http.Request) bool { return r.URL.Path == tokenPath },
			call:      func(ctx context.Context, c *graph.Client) error { _, err := c.GetRelationship(ctx, "r1"); return err },
			service:   "token service", path: tokenPath,
		},
		{
			name:      "token, CheckCredentials",
			redirects: func(r *http.Request) bool { return r.URL.Path == tokenPath },
			call:      func(ctx context.Context, c *graph.Client) error { return c.CheckCredentials(ctx) },
			service:   "token service", path: tokenPath,
		},
		{
			name:      "API read with the bearer token",
			redirects: func(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/v1.0/") },
			call:      func(ctx context.Context, c *graph.Client) error { _, err := c.GetRelationship(ctx, "r1"); return err },
			service:   "microsoft graph", path: relationships + "/r1",
		},
		{
			name:      "API create with the bearer token and a body",
			redirects: func(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/v1.0/") },
			call: func(ctx context.Context, c *graph.Client) error {
				_, err := c.CreateRelationship(ctx, relationship("Redirected"))
				return err
			},
			service: "microsoft graph", path: relationships,
		},
	} {
		for _, status := range []int{http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
			for _, own := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/%d/own client %t", tc.name, status, own), func(t *testing.T) {
					f := apiretrytest.StartForeign(t)
					foreign := f.URL
					var redirected atomic.Int32
					w := newWorld(t, graphsim.Options{}, func(next http.Handler) http.Handler {
						return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
							if tc.redirects(r) {
								redirected.Add(1)
								rw.Header().Set("Location", foreign+"/collect?from=redirect")
								rw.WriteHeader(status)
								return
							}
							next.ServeHTTP(rw, r)
						})
					})
					c := w.client(t, func(cfg *graph.Config) {
						cfg.Credentials.ClientSecret = "gr4ph-s3cret"
						if own { // a client that would follow every redirect
							cfg.HTTPClient = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return nil }}
						}
					})

					err := tc.call(context.Background(), c)
					if got := f.Received(); len(got) != 0 {
						t.Errorf("the redirect's server received %d requests: %q", len(got), got)
					}
					if err == nil {
						t.Fatal("the call succeeded through the redirect")
					}
					t.Logf("refused: %v", err)
					want := fmt.Sprintf("%s %s%s answered %d redirecting to %s/collect: credentials are never sent to a redirect",
						tc.service, w.url, tc.path, status, foreign)
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error %q\ndoes not say %q", err, want)
					}
					if _, ok := apiretry.RedirectRefused(err); !ok {
						t.Errorf("error %v is not an *apiretry.RedirectError", err)
					}
					for _, secret := range []string{"gr4ph-s3cret", "from=redirect", "sim1."} {
						if strings.Contains(err.Error(), secret) {
							t.Errorf("error %q holds %q", err, secret)
						}
					}
					if n := redirected.Load(); n != 1 {
						t.Errorf("the redirecting request was sent %d times, want once (not retried)", n)
					}
				})
			}
		}
	}
}
