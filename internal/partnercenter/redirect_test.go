package partnercenter_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/partnerops/multichannel-operator/internal/apiretry"
	"github.com/partnerops/multichannel-operator/internal/apiretry/apiretrytest"
	pc "github.com/partnerops/multichannel-operator/internal/partnercenter"
	"github.com/partnerops/multichannel-operator/internal/partnercenter/sim"
)

// TestCredentialsNeverFollowARedirect: the token service (both grants) or
// Partner Center answering 307 or 308 towards another server gets the call
// refused with an error naming both URLs; the other server gets nothing
// (no client secret, refresh token or bearer token), the redirect is not
// retried, and the error holds no secret. A caller's own HTTP client that
// would follow redirects changes nothing.
func TestCredentialsNeverFollowARedirect(t *testing.T) {
	tokenPath := "/" + contoso + "/oauth2/v2.0/token"
	for _, tc := range []struct {
		name string
		// redirects reports whether the allowed server redirects r.
		redirects func(r *http.Request) bool
		call      func(ctx context.Context, c *pc.Client) error
		service   string // who redirected, as the error names it
		path      string // what was asked
	}{
		{
			name: "client-credentials token",
			redirects: func(r *http.Request) bool {
				return r.URL.Path == tokenPath && r.PostForm.Get("grant_type") == "client_credentials"
			},
			call:    func(ctx context.Context, c *pc.Client) error { _, err := c.GetCustomer(ctx, woodgrove); return err },
			service: "token service", path: tokenPath,
		},
		{
			name:      "client-credentials token, CheckCredentials",
			redirects: func(r *http.Request) bool { return r.URL.Path == tokenPath },
			call:      func(ctx context.Context, c *pc.Client) error { return c.CheckCredentials(ctx) },
			service:   "token service", path: tokenPath,
		},
		{
			name: "refresh-token token (App+User)",
			redirects: func(r *http.Request) bool {
				return r.URL.Path == tokenPath && r.PostForm.Get("grant_type") == "refresh_token"
			},
			call: func(ctx context.Context, c *pc.Client) error {
				_, err := c.RelationshipRequest(ctx, pc.RelationshipRequestOptions{})
				return err
			},
			service: "token service", path: tokenPath,
		},
		{
			name:      "API read with the bearer token",
			redirects: func(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/v1/") },
			call:      func(ctx context.Context, c *pc.Client) error { _, err := c.GetCustomer(ctx, woodgrove); return err },
			service:   "partner center", path: "/v1/customers/" + woodgrove,
		},
		{
			name:      "API create with the bearer token and a body",
			redirects: func(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/v1/") },
			call: func(ctx context.Context, c *pc.Client) error {
				_, err := c.CreateOrder(ctx, woodgrove, "op-redirect", []pc.CartLineItem{azurePlanItem()})
				return err
			},
			service: "partner center", path: "/v1/customers/" + woodgrove + "/carts",
		},
	} {
		for _, status := range []int{http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
			for _, own := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/%d/own client %t", tc.name, status, own), func(t *testing.T) {
					foreign := apiretrytest.StartForeign(t)
					var redirected atomic.Int32
					_, srv := startSim(t, sim.Options{}, func(next http.Handler) http.Handler {
						return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
							_ = r.ParseForm() // the simulator reads the parsed form again
							if tc.redirects(r) {
								redirected.Add(1)
								w.Header().Set("Location", foreign.URL+"/collect?from=redirect")
								w.WriteHeader(status)
								return
							}
							next.ServeHTTP(w, r)
						})
					})
					accept(t, srv.URL, contoso, woodgrove)
					var opts []clientOption
					if own { // a client that would follow every redirect
						opts = append(opts, func(c *pc.Config) {
							c.HTTPClient = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return nil }}
						})
					}
					c, _ := newClient(t, srv.URL, contoso, opts...)

					err := tc.call(context.Background(), c)
					if got := foreign.Received(); len(got) != 0 {
						t.Errorf("the redirect's server received %d requests: %q", len(got), got)
					}
					if err == nil {
						t.Fatal("the call succeeded through the redirect")
					}
					t.Logf("refused: %v", err)
					want := fmt.Sprintf("%s %s%s answered %d redirecting to %s/collect: credentials are never sent to a redirect",
						tc.service, srv.URL, tc.path, status, foreign.URL)
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error %q\ndoes not say %q", err, want)
					}
					if _, ok := apiretry.RedirectRefused(err); !ok {
						t.Errorf("error %v is not an *apiretry.RedirectError", err)
					}
					for _, secret := range []string{"s3cret", "refresh-" + contoso[:8], "from=redirect", "sim1."} {
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
