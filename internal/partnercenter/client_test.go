package partnercenter_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	neturl "net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/partnerops/multichannel-operator/internal/apiretry"
	pc "github.com/partnerops/multichannel-operator/internal/partnercenter"
	"github.com/partnerops/multichannel-operator/internal/partnercenter/sim"
)

const (
	contoso   = "6f1bd5c1-0d3b-4c5e-9bb1-7f4f9d2b6a10" // the target partner
	fabrikam  = "0b4e8e3a-7c1d-4f0e-a0d2-3f9a1c6e5b21" // the source partner
	woodgrove = "2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e" // the customer
)

// azurePlanItem buys the Azure plan as the catalog sells it: its current
// availability, billed one_time, without a term.
func azurePlanItem() pc.CartLineItem {
	return pc.CartLineItem{CatalogItemID: sim.AzurePlanCatalogItem, Quantity: 1, BillingCycle: "one_time"}
}

// nce: a transfer of new-commerce license subscriptions; azureAndNCE adds
// Azure subscriptions, which needs the target's own Azure plan.
var (
	nce         = []string{pc.TransferProductOnlineServicesNCE}
	azureAndNCE = []string{pc.TransferProductAzureSubscription, pc.TransferProductOnlineServicesNCE}
)

var fastRetry = pc.RetryPolicy{MaxAttempts: 5, InitialInterval: 10 * time.Millisecond, MaxInterval: 50 * time.Millisecond}

// startSim serves a simulator on 127.0.0.1, optionally behind a middleware.
func startSim(t *testing.T, opts sim.Options, wrap ...func(http.Handler) http.Handler) (*sim.Server, *httptest.Server) {
	t.Helper()
	s, err := sim.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	var h http.Handler = s
	for _, w := range wrap {
		h = w(h)
	}
	srv := httptest.NewTLSServer(h)
	t.Cleanup(srv.Close)
	return s, srv
}

type clientOption func(*pc.Config)

func newClient(t *testing.T, url, tenant string, opts ...clientOption) (*pc.Client, *pc.Metrics) {
	t.Helper()
	m := pc.NewMetrics()
	cfg := pc.Config{
		Endpoint: url, AuthorityHost: url, TenantID: tenant,
		Credentials: pc.Credentials{ClientID: "app-" + tenant[:8], ClientSecret: "s3cret", RefreshToken: "refresh-" + tenant[:8]},
		Retry:       fastRetry, Metrics: m, RequestsPerMinute: 60000,
	}
	for _, o := range opts {
		o(&cfg)
	}
	c, err := pc.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c, m
}

func simPost(t *testing.T, url, path string, body any) *http.Response {
	t.Helper()
	data, _ := json.Marshal(body)
	resp, err := http.Post(url+path, "application/json", bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func accept(t *testing.T, url, partner, customer string) {
	t.Helper()
	if resp := simPost(t, url, "/sim/v1/relationships/accept", map[string]string{"partnerTenantId": partner, "customerTenantId": customer}); resp.StatusCode != 200 {
		t.Fatalf("accepting the relationship: HTTP %d", resp.StatusCode)
	}
}

// TestEveryOperation walks the operator's whole use of Partner Center.
func TestEveryOperation(t *testing.T) {
	ctx := context.Background()
	_, srv := startSim(t, sim.Options{})
	target, _ := newClient(t, srv.URL, contoso)
	source, _ := newClient(t, srv.URL, fabrikam)

	if err := target.CheckCredentials(ctx); err != nil {
		t.Fatal(err)
	}
	link, err := target.RelationshipRequest(ctx, pc.RelationshipRequestOptions{IndirectResellerID: "reseller-1"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(link.URL, "partnerId="+contoso) || !strings.Contains(link.URL, "indirectResellerId=reseller-1") || link.Attributes.ObjectType != "RelationshipRequest" {
		t.Errorf("request link = %+v", link)
	}

	if _, err := target.GetCustomer(ctx, woodgrove); !pc.IsNotFound(err) {
		t.Fatalf("before the customer accepts, GetCustomer = %v, want not found", err)
	}
	accept(t, srv.URL, contoso, woodgrove)
	cust, err := target.GetCustomer(ctx, woodgrove)
	if err != nil || cust.RelationshipToPartner != pc.RelationshipReseller || cust.CompanyProfile.TenantID != woodgrove {
		t.Fatalf("GetCustomer = %+v, %v", cust, err)
	}

	orders, err := target.CreateOrder(ctx, woodgrove, "op-1", []pc.CartLineItem{
		{CatalogItemID: sim.AzurePlanCatalogItem, FriendlyName: "Azure plan", Quantity: 1, BillingCycle: "one_time"},
		{CatalogItemID: sim.E3CatalogItem, FriendlyName: "Microsoft 365 E3", Quantity: 25, TermDuration: "P1Y", BillingCycle: "monthly"},
	})
	if err != nil {
		t.Fatal(err)
	}
	// The Azure plan and the license are different order groups: two orders.
	if len(orders) != 2 || len(orders[0].LineItems) != 1 || orders[0].LineItems[0].SubscriptionID == "" || orders[1].LineItems[0].SubscriptionID == "" {
		t.Fatalf("orders = %+v", orders)
	}
	subs, err := target.ListSubscriptions(ctx, woodgrove)
	if err != nil || len(subs) != 2 {
		t.Fatalf("ListSubscriptions = %v, %v", subs, err)
	}
	azure, err := target.GetSubscription(ctx, woodgrove, orders[0].LineItems[0].SubscriptionID)
	if err != nil || azure.BillingType != pc.BillingUsage || azure.Status != pc.SubscriptionActive {
		t.Fatalf("Azure plan subscription = %+v, %v", azure, err)
	}
	license, err := target.GetSubscription(ctx, woodgrove, orders[1].LineItems[0].SubscriptionID)
	if err != nil || license.BillingType != pc.BillingLicense || license.Quantity != 25 || license.CommitmentEndDate == nil || license.Attributes.Etag == "" {
		t.Fatalf("license subscription = %+v, %v", license, err)
	}
	suspended, err := target.UpdateSubscriptionStatus(ctx, woodgrove, license.ID, pc.SubscriptionSuspended)
	if err != nil || suspended.Status != pc.SubscriptionSuspended || suspended.Quantity != 25 || suspended.Attributes.Etag == license.Attributes.Etag {
		t.Fatalf("suspending: %+v, %v", suspended, err)
	}

	// Transfers: the target creates, the source accepts with the line items it
	// chooses; another is cancelled by the target, a third rejected by the source.
	accept(t, srv.URL, fabrikam, woodgrove)
	if _, err := source.CreateOrder(ctx, woodgrove, "src-1", []pc.CartLineItem{azurePlanItem()}); err != nil {
		t.Fatal(err)
	}
	tr, err := target.CreateTransfer(ctx, woodgrove, "op-2", pc.Transfer{SourcePartnerTenantID: fabrikam, SourcePartnerName: "Fabrikam", TargetProductTypes: azureAndNCE, TransferType: pc.PartnerTransferType})
	if err != nil || tr.Status != pc.TransferActive || tr.TransferType != pc.PartnerTransferType || tr.CustomerEmailID == "" ||
		tr.ExpirationTime == nil || tr.ExpirationTime.Sub(*tr.CreatedTime) != 30*24*time.Hour {
		t.Fatalf("CreateTransfer = %+v, %v", tr, err)
	}
	if got, err := target.GetTransfer(ctx, woodgrove, tr.ID); err != nil || got.Status != pc.TransferActive || !got.Pending() {
		t.Fatalf("GetTransfer = %+v, %v", got, err)
	}
	if _, err := target.AcceptTransfer(ctx, woodgrove, tr.ID); err == nil {
		t.Error("the target partner accepted its own transfer")
	}
	result, err := source.AcceptTransfer(ctx, woodgrove, tr.ID)
	if err != nil || len(result.Orders) != 1 || len(result.Orders[0].LineItems) != 1 || len(result.TransferErrors) != 0 {
		t.Fatalf("AcceptTransfer = %+v, %v", result, err)
	}
	moved := result.Orders[0].LineItems[0].SubscriptionID
	if got, err := target.GetSubscription(ctx, woodgrove, moved); err != nil || got.ID != moved {
		t.Fatalf("after the transfer the target does not own the subscription: %+v, %v", got, err)
	}
	if done, err := target.GetTransfer(ctx, woodgrove, tr.ID); err != nil || done.Status != pc.TransferCompleted || done.CompletedTime == nil || len(done.LineItems) != 1 {
		t.Fatalf("after acceptance GetTransfer = %+v, %v", done, err)
	}

	tr2, err := target.CreateTransfer(ctx, woodgrove, "op-3", pc.Transfer{SourcePartnerTenantID: fabrikam, SourcePartnerName: "Fabrikam", TargetProductTypes: nce})
	if err != nil {
		t.Fatal(err)
	}
	if c, err := target.CancelTransfer(ctx, woodgrove, tr2.ID); err != nil || c.Status != pc.TransferCancelled || c.Pending() {
		t.Fatalf("CancelTransfer = %+v, %v", c, err)
	}
	tr3, err := target.CreateTransfer(ctx, woodgrove, "op-4", pc.Transfer{SourcePartnerTenantID: fabrikam, SourcePartnerName: "Fabrikam", TargetProductTypes: nce})
	if err != nil {
		t.Fatal(err)
	}
	if r, err := source.RejectTransfer(ctx, woodgrove, tr3.ID); err != nil || r.Status != pc.TransferRejected {
		t.Fatalf("RejectTransfer = %+v, %v", r, err)
	}
}

func TestErrorsAreTyped(t *testing.T) {
	ctx := context.Background()
	_, srv := startSim(t, sim.Options{})
	c, _ := newClient(t, srv.URL, contoso)
	_, err := c.CreateOrder(ctx, woodgrove, "op", []pc.CartLineItem{{CatalogItemID: "X", Quantity: 1, BillingCycle: "monthly"}})
	var pcErr *pc.Error
	if !errors.As(err, &pcErr) || pcErr.StatusCode != http.StatusForbidden || pcErr.Code != pc.CodeNoCommerceRelationship || !pc.IsNoCommerceRelationship(err) || !strings.Contains(pcErr.Description, "commerce relationship") {
		t.Fatalf("buying without a relationship: %v", err)
	}
	if pcErr.Operation != "CreateCart" || !strings.Contains(err.Error(), "HTTP 403") {
		t.Errorf("error %q does not say what was done", err)
	}
}

func TestRelationshipRequestNeedsUserCredentials(t *testing.T) {
	ctx := context.Background()
	s, srv := startSim(t, sim.Options{})
	appOnly, _ := newClient(t, srv.URL, contoso, func(c *pc.Config) { c.Credentials.RefreshToken = "" })
	if _, err := appOnly.RelationshipRequest(ctx, pc.RelationshipRequestOptions{}); !errors.Is(err, pc.ErrUserCredentialsRequired) {
		t.Fatalf("without a refresh token: %v", err)
	}
	if n := s.Stats().RequestsByRoute["GetRelationshipRequest"]; n != 0 {
		t.Errorf("%d requests were sent without App+User credentials", n)
	}

	// The simulator itself refuses an application-only token on that route.
	tok := token(t, srv.URL, contoso, "client_credentials")
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/v1/customers/relationshiprequests", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("app-only token on the request link: HTTP %d, want 403", resp.StatusCode)
	}
}

func token(t *testing.T, url, tenant, grant string) string {
	t.Helper()
	form := "grant_type=" + grant + "&client_id=a&client_secret=b&refresh_token=r&scope=" + neturl.QueryEscape(pc.Scope)
	resp, err := http.Post(url+"/"+tenant+"/oauth2/v2.0/token", "application/x-www-form-urlencoded", strings.NewReader(form))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tr struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tr); err != nil || tr.AccessToken == "" {
		t.Fatalf("token: HTTP %d, %v", resp.StatusCode, err)
	}
	return tr.AccessToken
}

func TestAuthentication(t *testing.T) {
	ctx := context.Background()
	s, srv := startSim(t, sim.Options{Credentials: map[string]string{"operator": "right"}})
	wrong, _ := newClient(t, srv.URL, contoso, func(c *pc.Config) { c.Credentials = pc.Credentials{ClientID: "operator", ClientSecret: "wrong"} })
	err := wrong.CheckCredentials(ctx)
	if err == nil || !strings.Contains(err.Error(), "invalid_client") || strings.Contains(err.Error(), "wrong") {
		t.Errorf("refused credentials: %v (must name the refusal and not echo the secret)", err)
	}
	if _, err := wrong.GetCustomer(ctx, woodgrove); err == nil {
		t.Error("a call with refused credentials succeeded")
	}
	if n := s.Stats().RequestsByRoute["GetCustomer"]; n != 0 {
		t.Errorf("%d API requests were sent without a token", n)
	}
	right, _ := newClient(t, srv.URL, contoso, func(c *pc.Config) { c.Credentials = pc.Credentials{ClientID: "operator", ClientSecret: "right"} })
	if err := right.CheckCredentials(ctx); err != nil {
		t.Errorf("accepted credentials: %v", err)
	}

	for name, auth := range map[string]string{"no token": "", "forged token": "Bearer sim1.eyJ0aWQiOiJ4In0.AAAA"} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/v1/customers/"+woodgrove, nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s: HTTP %d, want 401", name, resp.StatusCode)
		}
	}
}

// TestTokenCachedAndRefreshed: one token serves many calls until it nears
// expiry, then it is renewed. x/oauth2 renews a token 10s before it
// expires, so without waiting: a token of a minute is reused by every call,
// and one of 5 seconds is already near its expiry, so every call renews it.
func TestTokenCachedAndRefreshed(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		lifetime   time.Duration
		wantTokens int
	}{
		{time.Minute, 1},
		{5 * time.Second, 5},
	} {
		s, srv := startSim(t, sim.Options{TokenLifetime: tc.lifetime})
		accept(t, srv.URL, contoso, woodgrove)
		c, _ := newClient(t, srv.URL, contoso)
		for range 5 {
			if _, err := c.GetCustomer(ctx, woodgrove); err != nil {
				t.Fatal(err)
			}
		}
		if n := s.Stats().RequestsByRoute["Token"]; n != tc.wantTokens {
			t.Errorf("tokens of %v: 5 calls fetched %d tokens, want %d", tc.lifetime, n, tc.wantTokens)
		}
	}
}

// failFirst answers the first n API requests (not token requests) with status.
func failFirst(n int32, status int, header map[string]string) (func(http.Handler) http.Handler, *atomic.Int32) {
	seen := &atomic.Int32{}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasPrefix(r.URL.Path, "/v1/") && seen.Add(1) <= n {
				for k, v := range header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(status)
				_, _ = io.WriteString(w, `{"code":1,"description":"injected"}`)
				return
			}
			next.ServeHTTP(w, r)
		})
	}, seen
}

// TestThrottledCallReturnsAtOnce: a 429 is not waited out in the call (it
// would hold the caller's worker): it comes back at once as a ThrottledError
// with Retry-After's wait (or the policy's when there is none) around the
// Partner Center error, and the caller's next call succeeds.
func TestThrottledCallReturnsAtOnce(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		header map[string]string
		want   time.Duration
	}{
		{"with Retry-After", map[string]string{"Retry-After": "7"}, 7 * time.Second},
		// Short enough for the retry policy's MaxWait, and still not waited.
		{"with a short Retry-After", map[string]string{"Retry-After": "1"}, time.Second},
		{"without Retry-After", nil, pc.DefaultRetryPolicy.ThrottledWait},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mw, seen := failFirst(1, http.StatusTooManyRequests, tc.header)
			_, srv := startSim(t, sim.Options{}, mw)
			accept(t, srv.URL, contoso, woodgrove)
			c, m := newClient(t, srv.URL, contoso)

			_, err := c.GetCustomer(ctx, woodgrove)
			d, ok := pc.ThrottledFor(err)
			var pcErr *pc.Error
			if !ok || d != tc.want || !errors.As(err, &pcErr) || pcErr.StatusCode != http.StatusTooManyRequests || pc.IsRefused(err) {
				t.Fatalf("throttled call: %v (wait %v, throttled %v), want a ThrottledError of %v around the 429", err, d, ok, tc.want)
			}
			if seen.Load() != 1 || testutil.ToFloat64(m.Throttled("GetCustomer")) != 1 || testutil.ToFloat64(m.Retries("GetCustomer")) != 0 {
				t.Errorf("requests %d, throttled %v, retries %v; want 1, 1, 0", seen.Load(),
					testutil.ToFloat64(m.Throttled("GetCustomer")), testutil.ToFloat64(m.Retries("GetCustomer")))
			}
			if _, err := c.GetCustomer(ctx, woodgrove); err != nil || seen.Load() != 2 {
				t.Errorf("the caller's next call: %v after %d requests", err, seen.Load())
			}
		})
	}
}

// TestThrottledCreateResentWithItsRequestID: a throttled create was not
// processed; the caller's next call sends the same MS-RequestId and creates
// one transfer.
func TestThrottledCreateResentWithItsRequestID(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	var requestIDs []string
	mw, _ := failFirst(1, http.StatusTooManyRequests, map[string]string{"Retry-After": "3"})
	record := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, "/transfers") {
				mu.Lock()
				requestIDs = append(requestIDs, r.Header.Get(pc.HeaderRequestID))
				mu.Unlock()
			}
			next.ServeHTTP(w, r)
		})
	}
	s, srv := startSim(t, sim.Options{}, mw, record)
	accept(t, srv.URL, contoso, woodgrove)
	c, m := newClient(t, srv.URL, contoso)
	tr := pc.Transfer{SourcePartnerTenantID: fabrikam, SourcePartnerName: "Fabrikam", TargetProductTypes: nce, CustomerEmailID: "admin@woodgrove.example"}

	_, err := c.CreateTransfer(ctx, woodgrove, "op-throttled", tr)
	if d, ok := pc.ThrottledFor(err); !ok || d != 3*time.Second {
		t.Fatalf("throttled create: %v, want a ThrottledError of 3s", err)
	}
	if n := s.Stats().ObjectsCreated["transfer"]; n != 0 || testutil.ToFloat64(m.Retries("CreateTransfer")) != 0 {
		t.Fatalf("a throttled create was processed or retried in the call: %d transfers", n)
	}
	if _, err := c.CreateTransfer(ctx, woodgrove, "op-throttled", tr); err != nil {
		t.Fatalf("the caller's next attempt: %v", err)
	}
	if len(requestIDs) != 2 || requestIDs[0] != "op-throttled" || requestIDs[1] != "op-throttled" {
		t.Errorf("MS-RequestIds sent: %q, want op-throttled twice", requestIDs)
	}
	if n := s.Stats().ObjectsCreated["transfer"]; n != 1 {
		t.Errorf("%d transfers created, want 1", n)
	}
}

func TestServerErrorsRetried(t *testing.T) {
	ctx := context.Background()
	mw, seen := failFirst(2, http.StatusServiceUnavailable, nil)
	_, srv := startSim(t, sim.Options{}, mw)
	accept(t, srv.URL, contoso, woodgrove)
	c, m := newClient(t, srv.URL, contoso)
	if _, err := c.GetCustomer(ctx, woodgrove); err != nil {
		t.Fatal(err)
	}
	if seen.Load() != 3 || testutil.ToFloat64(m.Requests("GetCustomer", "503")) != 2 || testutil.ToFloat64(m.Requests("GetCustomer", "200")) != 1 {
		t.Errorf("sent %d requests; want two 503s then a 200", seen.Load())
	}

	// Past the policy's attempts, the last error comes back.
	mw, _ = failFirst(100, http.StatusInternalServerError, nil)
	_, srv = startSim(t, sim.Options{}, mw)
	c, _ = newClient(t, srv.URL, contoso)
	_, err := c.GetCustomer(ctx, woodgrove)
	var pcErr *pc.Error
	if !errors.As(err, &pcErr) || pcErr.StatusCode != 500 {
		t.Errorf("after %d attempts: %v", fastRetry.MaxAttempts, err)
	}
}

func TestClientErrorsNotRetried(t *testing.T) {
	ctx := context.Background()
	s, srv := startSim(t, sim.Options{})
	accept(t, srv.URL, contoso, woodgrove)
	c, m := newClient(t, srv.URL, contoso)
	_, err := c.GetSubscription(ctx, woodgrove, "no-such-subscription")
	if !pc.IsNotFound(err) {
		t.Fatalf("want not found, got %v", err)
	}
	if n := s.Stats().RequestsByRoute["GetSubscription"]; n != 1 || testutil.ToFloat64(m.Retries("GetSubscription")) != 0 {
		t.Errorf("a 404 was sent %d times", n)
	}
}

// TestServerErrorRetriesBounded: retries of server errors wait at most the
// policy's MaxWait in all, however many attempts it allows; a Retry-After
// longer than that is returned to the caller, not waited.
func TestServerErrorRetriesBounded(t *testing.T) {
	ctx := context.Background()
	mw, seen := failFirst(100000, http.StatusInternalServerError, nil)
	_, srv := startSim(t, sim.Options{}, mw)
	// Waits of about 1ms fit in 20ms some 40 times at most, not 1000.
	c, m := newClient(t, srv.URL, contoso, func(cfg *pc.Config) {
		cfg.Retry = pc.RetryPolicy{MaxAttempts: 1000, InitialInterval: time.Millisecond, MaxInterval: time.Millisecond, MaxWait: 20 * time.Millisecond}
	})
	_, err := c.GetCustomer(ctx, woodgrove)
	var pcErr *pc.Error
	if !errors.As(err, &pcErr) || pcErr.StatusCode != http.StatusInternalServerError {
		t.Fatalf("GetCustomer: %v, want the 500", err)
	}
	if _, ok := pc.ThrottledFor(err); ok {
		t.Errorf("a 500 without Retry-After became throttling: %v", err)
	}
	if n := seen.Load(); n < 2 || n > 60 || testutil.ToFloat64(m.Retries("GetCustomer")) != float64(n-1) {
		t.Errorf("sent %d times, %v counted as retries; want between 2 and 60 within MaxWait", n, testutil.ToFloat64(m.Retries("GetCustomer")))
	}

	mw, seen = failFirst(100000, http.StatusServiceUnavailable, map[string]string{"Retry-After": "30"})
	_, srv = startSim(t, sim.Options{}, mw)
	c, _ = newClient(t, srv.URL, contoso)
	_, err = c.GetCustomer(ctx, woodgrove)
	if d, ok := pc.ThrottledFor(err); !ok || d != 30*time.Second || !errors.As(err, &pcErr) || pcErr.StatusCode != http.StatusServiceUnavailable || seen.Load() != 1 {
		t.Errorf("a 503 asking for 30s: %v after %d requests, want a ThrottledError of 30s after one", err, seen.Load())
	}
}

// TestRetriesBoundedByContext: a cancelled context ends the retries at once.
func TestRetriesBoundedByContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var sent atomic.Int32
	cancelOnFirst := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasPrefix(r.URL.Path, "/v1/") {
				sent.Add(1)
				cancel()
				w.WriteHeader(http.StatusInternalServerError)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
	_, srv := startSim(t, sim.Options{}, cancelOnFirst)
	c, _ := newClient(t, srv.URL, contoso, func(cfg *pc.Config) {
		cfg.Retry = pc.RetryPolicy{MaxAttempts: 10, InitialInterval: time.Hour, MaxInterval: time.Hour, MaxWait: 10 * time.Hour}
	})
	_, err := c.GetCustomer(ctx, woodgrove)
	if !errors.Is(err, context.Canceled) || sent.Load() != 1 {
		t.Errorf("after the context was cancelled: %v, %d requests; want context.Canceled after one", err, sent.Load())
	}
}

// dropFirstResponse lets the first request whose path ends with suffix reach
// the server, then loses its response, as a broken connection would.
type dropFirstResponse struct {
	suffix  string
	dropped atomic.Bool
}

func (d *dropFirstResponse) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err == nil && strings.HasSuffix(r.URL.Path, d.suffix) && d.dropped.CompareAndSwap(false, true) {
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return nil, errors.New("connection reset by peer (injected after the server answered)")
	}
	return resp, err
}

func TestLostResponseCreatesExactlyOnce(t *testing.T) {
	ctx := context.Background()
	for _, step := range []string{"/carts", "/checkout", "/transfers"} {
		t.Run(step, func(t *testing.T) {
			s, srv := startSim(t, sim.Options{})
			accept(t, srv.URL, contoso, woodgrove)
			drop := &dropFirstResponse{suffix: step}
			c, m := newClient(t, srv.URL, contoso, func(cfg *pc.Config) { cfg.HTTPClient = &http.Client{Transport: drop} })

			var first, again string
			if step == "/transfers" {
				tr := pc.Transfer{SourcePartnerTenantID: fabrikam, SourcePartnerName: "Fabrikam", TargetProductTypes: nce, LineItems: []pc.TransferLineItem{{SubscriptionID: "s1"}}}
				a, err := c.CreateTransfer(ctx, woodgrove, "op-lost", tr)
				if err != nil {
					t.Fatal(err)
				}
				b, err := c.CreateTransfer(ctx, woodgrove, "op-lost", tr) // a resumed operation
				if err != nil {
					t.Fatal(err)
				}
				first, again = a.ID, b.ID
			} else {
				items := []pc.CartLineItem{azurePlanItem()}
				a, err := c.CreateOrder(ctx, woodgrove, "op-lost", items)
				if err != nil {
					t.Fatal(err)
				}
				b, err := c.CreateOrder(ctx, woodgrove, "op-lost", items)
				if err != nil {
					t.Fatal(err)
				}
				first, again = a[0].ID, b[0].ID
			}
			if !drop.dropped.Load() {
				t.Fatal("no response was lost: the test did not exercise the retry")
			}
			if first != again {
				t.Errorf("the resumed operation got %s, the first %s", again, first)
			}
			st := s.Stats()
			created := st.ObjectsCreated["transfer"]
			if step != "/transfers" {
				created = st.ObjectsCreated["order"]
				if st.ObjectsCreated["cart"] != 1 || st.ObjectsCreated["subscription"] != 1 {
					t.Errorf("created %d carts and %d subscriptions, want 1 and 1", st.ObjectsCreated["cart"], st.ObjectsCreated["subscription"])
				}
			}
			if created != 1 || st.DuplicatesSuppressed < 2 {
				t.Errorf("created %d, duplicates suppressed %d; want 1 and at least 2", created, st.DuplicatesSuppressed)
			}
			var retries float64
			for _, op := range []string{"CreateCart", "CheckoutCart", "CreateTransfer"} {
				retries += testutil.ToFloat64(m.Retries(op))
			}
			if retries != 1 {
				t.Errorf("%v retries, want 1", retries)
			}
		})
	}
}

func TestStateSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sim.json")
	s1, srv1 := startSim(t, sim.Options{StatePath: path})
	accept(t, srv1.URL, contoso, woodgrove)
	c1, _ := newClient(t, srv1.URL, contoso)
	order, err := c1.CreateOrder(ctx, woodgrove, "op-restart", []pc.CartLineItem{azurePlanItem()})
	if err != nil {
		t.Fatal(err)
	}
	tok := token(t, srv1.URL, contoso, "client_credentials")
	srv1.Close()
	if err := s1.Close(); err != nil {
		t.Fatal(err)
	}

	s2, srv2 := startSim(t, sim.Options{StatePath: path})
	c2, _ := newClient(t, srv2.URL, contoso)
	subs, err := c2.ListSubscriptions(ctx, woodgrove)
	if err != nil || len(subs) != 1 || subs[0].ID != order[0].LineItems[0].SubscriptionID {
		t.Fatalf("after a restart: %v, %v", subs, err)
	}
	again, err := c2.CreateOrder(ctx, woodgrove, "op-restart", []pc.CartLineItem{azurePlanItem()})
	if err != nil || again[0].ID != order[0].ID {
		t.Errorf("the idempotency record did not survive: %v, %v", again, err)
	}
	if got := s2.Stats().ObjectsCreated["order"]; got != 1 {
		t.Errorf("orders created = %d, want 1", got)
	}
	// A token issued before the restart is still good.
	req, _ := http.NewRequest(http.MethodGet, srv2.URL+"/v1/customers/"+woodgrove, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("a token from before the restart: HTTP %d", resp.StatusCode)
	}
}

func TestTransferExpiresAfter30Days(t *testing.T) {
	ctx := context.Background()
	_, srv := startSim(t, sim.Options{})
	accept(t, srv.URL, contoso, woodgrove)
	c, _ := newClient(t, srv.URL, contoso)
	tr, err := c.CreateTransfer(ctx, woodgrove, "op-exp", pc.Transfer{SourcePartnerTenantID: fabrikam, SourcePartnerName: "Fabrikam", TargetProductTypes: nce, LineItems: []pc.TransferLineItem{{SubscriptionID: "s"}}})
	if err != nil {
		t.Fatal(err)
	}
	simPost(t, srv.URL, "/sim/v1/clock/advance", map[string]string{"duration": "719h"})
	if got, _ := c.GetTransfer(ctx, woodgrove, tr.ID); got.Status != pc.TransferActive {
		t.Fatalf("after 29 days 23 hours: %s, want Active", got.Status)
	}
	simPost(t, srv.URL, "/sim/v1/clock/advance", map[string]string{"duration": "1h"})
	if got, _ := c.GetTransfer(ctx, woodgrove, tr.ID); got.Status != pc.TransferExpired {
		t.Fatalf("after 30 days: %s, want Expired", got.Status)
	}
	if resp := simPost(t, srv.URL, "/sim/v1/transfers/"+tr.ID+"/accept", nil); resp.StatusCode != http.StatusConflict {
		t.Errorf("accepting an expired transfer: HTTP %d, want 409", resp.StatusCode)
	}
}

func TestSourcePartnerRejects(t *testing.T) {
	ctx := context.Background()
	_, srv := startSim(t, sim.Options{})
	accept(t, srv.URL, contoso, woodgrove)
	c, _ := newClient(t, srv.URL, contoso)
	tr, _ := c.CreateTransfer(ctx, woodgrove, "op-rej", pc.Transfer{SourcePartnerTenantID: fabrikam, SourcePartnerName: "Fabrikam", TargetProductTypes: nce, LineItems: []pc.TransferLineItem{{SubscriptionID: "s"}}})
	if resp := simPost(t, srv.URL, "/sim/v1/transfers/"+tr.ID+"/reject", nil); resp.StatusCode != 200 {
		t.Fatalf("reject: HTTP %d", resp.StatusCode)
	}
	if got, _ := c.GetTransfer(ctx, woodgrove, tr.ID); got.Status != pc.TransferRejected || got.Pending() {
		t.Errorf("rejected transfer is %s, want Reject", got.Status)
	}
}

func TestAutoApproval(t *testing.T) {
	ctx := context.Background()
	_, srv := startSim(t, sim.Options{AutoApproveAfter: time.Hour})
	c, _ := newClient(t, srv.URL, contoso)
	if _, err := c.GetCustomer(ctx, woodgrove); !pc.IsNotFound(err) {
		t.Fatalf("before any request link: %v", err)
	}
	if _, err := c.RelationshipRequest(ctx, pc.RelationshipRequestOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetCustomer(ctx, woodgrove); !pc.IsNotFound(err) {
		t.Fatalf("right after the request: %v", err)
	}
	simPost(t, srv.URL, "/sim/v1/clock/advance", map[string]string{"duration": "1h"})
	cust, err := c.GetCustomer(ctx, woodgrove)
	if err != nil || cust.RelationshipToPartner != pc.RelationshipReseller {
		t.Fatalf("an hour after the request: %+v, %v", cust, err)
	}
	// A customer who declined is not approved by the delay.
	simPost(t, srv.URL, "/sim/v1/relationships/decline", map[string]string{"partnerTenantId": contoso, "customerTenantId": "declined-customer"})
	if _, err := c.GetCustomer(ctx, "declined-customer"); !pc.IsNotFound(err) {
		t.Errorf("a declined customer is visible: %v", err)
	}

	tr, err := c.CreateTransfer(ctx, woodgrove, "op-auto", pc.Transfer{SourcePartnerTenantID: fabrikam, SourcePartnerName: "Fabrikam", TargetProductTypes: nce, LineItems: []pc.TransferLineItem{{SubscriptionID: "s"}}})
	if err != nil {
		t.Fatal(err)
	}
	simPost(t, srv.URL, "/sim/v1/clock/advance", map[string]string{"duration": "1h"})
	if got, _ := c.GetTransfer(ctx, woodgrove, tr.ID); got.Status != pc.TransferCompleted {
		t.Errorf("an hour after creation the transfer is %s, want Completed", got.Status)
	}
}

func TestSimulatorFaultsAndStats(t *testing.T) {
	s, srv := startSim(t, sim.Options{ThrottleRate: 1, RetryAfter: 2 * time.Second})
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/v1/customers/"+woodgrove, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "2" {
		t.Errorf("throttle-rate 1: HTTP %d Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}

	_, srvErr := startSim(t, sim.Options{ErrorRate: 1})
	resp, err = http.Get(srvErr.URL + "/v1/customers/" + woodgrove)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("error-rate 1: HTTP %d", resp.StatusCode)
	}

	resp, err = http.Get(srv.URL + "/sim/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st sim.Stats
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	if st.Throttled != 1 || st.RequestsByRoute["GetCustomer"] != 1 || s.Stats().Throttled != 1 {
		t.Errorf("stats = %+v", st)
	}
	if resp, _ := http.Get(srv.URL + "/healthz"); resp == nil || resp.StatusCode != 200 {
		t.Error("healthz")
	}
}

// TestLatency: with an hour of latency, no answer comes within the caller's
// patience (the simulator lets go when the caller does).
func TestLatency(t *testing.T) {
	_, srv := startSim(t, sim.Options{Latency: time.Hour})
	impatient := &http.Client{Timeout: 100 * time.Millisecond}
	resp, err := impatient.Get(srv.URL + "/v1/customers/" + woodgrove)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("answered HTTP %d despite an hour of latency", resp.StatusCode)
	}
	var ne interface{ Timeout() bool }
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("want a timeout, got %v", err)
	}
}

// TestRateLimitNeverWaits: a call over the client's budget is not sent and
// not waited for: it returns at once with how long until the budget has a
// request again.
func TestRateLimitNeverWaits(t *testing.T) {
	ctx := context.Background()
	s, srv := startSim(t, sim.Options{})
	accept(t, srv.URL, contoso, woodgrove)
	// One request a minute, with a burst of one.
	c, m := newClient(t, srv.URL, contoso, func(cfg *pc.Config) { cfg.RequestsPerMinute = 1 })
	if _, err := c.GetCustomer(ctx, woodgrove); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		_, err := c.GetCustomer(ctx, woodgrove)
		d, ok := pc.ThrottledFor(err)
		if !ok || !errors.Is(err, apiretry.ErrRateLimited) || d <= 30*time.Second || d > time.Minute {
			t.Fatalf("over the budget: %v (wait %v), want ErrRateLimited for about a minute", err, d)
		}
	}
	if n := s.Stats().RequestsByRoute["GetCustomer"]; n != 1 {
		t.Errorf("%d requests sent, want 1: calls over the budget are not sent", n)
	}
	if testutil.ToFloat64(m.RateLimited("GetCustomer")) != 3 || testutil.ToFloat64(m.Throttled("GetCustomer")) != 0 {
		t.Errorf("rate limited %v, throttled %v; want 3, 0", testutil.ToFloat64(m.RateLimited("GetCustomer")), testutil.ToFloat64(m.Throttled("GetCustomer")))
	}
}

// TestTenantLimitsShared: clients built with one registry for one tenant
// (two Partners with the same tenant, a client rebuilt after a secret
// rotation) spend one budget; another tenant has its own; a client without
// the registry has its own.
func TestTenantLimitsShared(t *testing.T) {
	ctx := context.Background()
	s, srv := startSim(t, sim.Options{})
	accept(t, srv.URL, contoso, woodgrove)
	accept(t, srv.URL, fabrikam, woodgrove)
	limits := pc.NewTenantLimiters(1) // one request a minute per tenant
	shared := func(cfg *pc.Config) { cfg.Limits = limits }

	first, _ := newClient(t, srv.URL, contoso, shared)
	if _, err := first.GetCustomer(ctx, woodgrove); err != nil {
		t.Fatal(err)
	}
	rotated, _ := newClient(t, srv.URL, contoso, shared, func(cfg *pc.Config) {
		cfg.Credentials.ClientSecret = "rotated"
		cfg.TenantID = strings.ToUpper(contoso)
	})
	if _, err := rotated.GetCustomer(ctx, woodgrove); !errors.Is(err, apiretry.ErrRateLimited) {
		t.Errorf("a second client for the tenant: %v, want the shared budget spent", err)
	}
	other, _ := newClient(t, srv.URL, fabrikam, shared)
	if _, err := other.GetCustomer(ctx, woodgrove); err != nil {
		t.Errorf("a client for another tenant: %v", err)
	}
	private, _ := newClient(t, srv.URL, contoso, func(cfg *pc.Config) { cfg.RequestsPerMinute = 1 })
	if _, err := private.GetCustomer(ctx, woodgrove); err != nil {
		t.Errorf("a client without the registry: %v", err)
	}
	if n := s.Stats().RequestsByRoute["GetCustomer"]; n != 3 {
		t.Errorf("%d requests sent, want 3", n)
	}
}

// TestRequestHeaders: every call carries MS-RequestId, MS-Contract-Version
// and its own MS-CorrelationId; the steps of one order carry the request IDs
// derived from its request ID.
func TestRequestHeaders(t *testing.T) {
	type seen struct{ path, requestID, correlationID, contract string }
	var mu sync.Mutex
	var calls []seen
	record := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasPrefix(r.URL.Path, "/v1/") {
				mu.Lock()
				calls = append(calls, seen{r.URL.Path, r.Header.Get(pc.HeaderRequestID), r.Header.Get(pc.HeaderCorrelationID), r.Header.Get(pc.HeaderContractVersion)})
				mu.Unlock()
			}
			next.ServeHTTP(w, r)
		})
	}
	_, srv := startSim(t, sim.Options{SkipRelationshipCheck: true}, record)
	c, _ := newClient(t, srv.URL, contoso)
	ctx := pc.WithCorrelationID(context.Background(), "subscription-uid-1")
	if _, err := c.CreateOrder(ctx, woodgrove, "op-9", []pc.CartLineItem{azurePlanItem()}); err != nil {
		t.Fatal(err)
	}
	_, _ = c.GetCustomer(ctx, woodgrove)

	if len(calls) != 3 {
		t.Fatalf("calls = %+v", calls)
	}
	wantIDs := []string{pc.StepRequestID("op-9", "cart"), pc.StepRequestID("op-9", "checkout")}
	for i, call := range calls[:2] {
		if call.requestID != wantIDs[i] {
			t.Errorf("%s: MS-RequestId %q, want %q", call.path, call.requestID, wantIDs[i])
		}
	}
	if wantIDs[0] == wantIDs[1] {
		t.Error("cart and checkout share a request ID")
	}
	correlations := map[string]bool{}
	for _, call := range calls {
		if call.contract != pc.ContractVersion || call.correlationID == "" || call.correlationID == "subscription-uid-1" || call.requestID == "" {
			t.Errorf("%+v: want MS-Contract-Version v1 and fresh IDs", call)
		}
		correlations[call.correlationID] = true
	}
	if len(correlations) != len(calls) {
		t.Errorf("calls share an MS-CorrelationId: %+v", calls)
	}
}

// TestCustomerKnownThroughSubscriptionsOnly: a partner that bought for a
// customer without a recorded relationship (possible only with the check
// off) sees it, with relationship "none".
func TestCustomerKnownThroughSubscriptionsOnly(t *testing.T) {
	ctx := context.Background()
	_, srv := startSim(t, sim.Options{SkipRelationshipCheck: true})
	c, _ := newClient(t, srv.URL, contoso)
	if _, err := c.CreateOrder(ctx, woodgrove, "op-1", []pc.CartLineItem{{CatalogItemID: sim.E3CatalogItem, Quantity: 3, BillingCycle: "monthly", TermDuration: "P1Y"}}); err != nil {
		t.Fatal(err)
	}
	cust, err := c.GetCustomer(ctx, woodgrove)
	if err != nil || cust.RelationshipToPartner != pc.RelationshipNone || cust.CompanyProfile.TenantID != woodgrove {
		t.Fatalf("GetCustomer = %+v, %v", cust, err)
	}
}

// TestResponseThatNeverComes: the simulator holds the first attempt of each
// create past the client's timeout, then commits it; the client's retry with
// the same MS-RequestId finds what was (or is being) created, so one order
// exists, and the late commits are suppressed as duplicates.
func TestResponseThatNeverComes(t *testing.T) {
	s, srv := startSim(t, sim.Options{SkipRelationshipCheck: true, HoldCreates: 400 * time.Millisecond})
	c, _ := newClient(t, srv.URL, contoso, func(cfg *pc.Config) {
		cfg.HTTPClient = &http.Client{Timeout: 150 * time.Millisecond}
		cfg.Retry = pc.RetryPolicy{MaxAttempts: 10, InitialInterval: 50 * time.Millisecond, MaxInterval: 200 * time.Millisecond}
	})
	orders, err := c.CreateOrder(context.Background(), woodgrove, "op-held", []pc.CartLineItem{
		{CatalogItemID: sim.E3CatalogItem, Quantity: 2, BillingCycle: pc.BillingCycleMonthly, TermDuration: "P1Y"}})
	if err != nil {
		t.Fatalf("CreateOrder through held responses: %v", err)
	}
	if len(orders) != 1 {
		t.Fatalf("orders = %+v", orders)
	}
	// Closing the server waits for its outstanding requests: the held
	// creates commit (or are suppressed) before it returns.
	srv.Close()
	st := s.Stats()
	if st.CreatesHeld < 2 || st.DuplicatesSuppressed < 2 {
		t.Fatalf("the held creates did not commit: %+v", st)
	}
	if st.ObjectsCreated["order"] != 1 || st.ObjectsCreated["cart"] > 1 {
		t.Errorf("created %v, want one cart and one order", st.ObjectsCreated)
	}
}

// TestSimulatorCountsEarlyRetries: a retry of a throttled call before its
// Retry-After is counted; the client's own retries never are.
func TestSimulatorCountsEarlyRetries(t *testing.T) {
	s, srv := startSim(t, sim.Options{ThrottleRate: 1, RetryAfter: 2 * time.Second})
	c, _ := newClient(t, srv.URL, contoso, func(cfg *pc.Config) { cfg.Retry = pc.RetryPolicy{MaxAttempts: 1} })
	if _, err := c.GetCustomer(context.Background(), woodgrove); err == nil {
		t.Fatal("a throttled call succeeded")
	}
	// An impatient client: the same MS-RequestId again at once.
	tok := obtainToken(t, srv.URL, contoso)
	for range 2 {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/v1/customers/"+woodgrove, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set(pc.HeaderRequestID, "impatient")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if n := s.Stats().EarlyRetries; n != 1 {
		t.Errorf("EarlyRetries = %d, want 1 (the impatient second request only)", n)
	}
}

// obtainToken asks the simulator's token endpoint for an application token.
func obtainToken(t *testing.T, url, tenant string) string {
	t.Helper()
	form := "grant_type=client_credentials&client_id=a&client_secret=b&scope=" + pc.Scope
	resp, err := http.Post(url+"/"+tenant+"/oauth2/v2.0/token", "application/x-www-form-urlencoded", strings.NewReader(form))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("no token: %v", err)
	}
	return tok.AccessToken
}

// TestOperationFinishesWithinBudget: an order is a cart and its checkout.
// With a budget of one request a second and a burst of one, the cart spends
// the budget; the checkout waits for it (within MaxWait) instead of failing
// half-way, which would spend the cart's request again on every try.
func TestOperationFinishesWithinBudget(t *testing.T) {
	ctx := context.Background()
	s, srv := startSim(t, sim.Options{})
	accept(t, srv.URL, contoso, woodgrove)
	c, m := newClient(t, srv.URL, contoso, func(cfg *pc.Config) {
		cfg.RequestsPerMinute = 60
		cfg.Retry.MaxWait = 5 * time.Second
	})
	orders, err := c.CreateOrder(ctx, woodgrove, "op-within-budget", []pc.CartLineItem{{CatalogItemID: sim.E3CatalogItem, Quantity: 1, BillingCycle: pc.BillingCycleMonthly, TermDuration: pc.TermDurationOneYear}})
	if err != nil {
		t.Fatalf("an order over a budget of one request a second: %v", err)
	}
	if len(orders) != 1 || s.Stats().RequestsByRoute["CreateCart"] != 1 || s.Stats().RequestsByRoute["CheckoutCart"] != 1 {
		t.Errorf("orders %d, requests %v; want one order from one cart and one checkout", len(orders), s.Stats().RequestsByRoute)
	}
	if n := testutil.ToFloat64(m.RateLimited("CheckoutCart")); n != 0 {
		t.Errorf("the checkout was rate limited %v times", n)
	}
	// A first request over the budget still returns at once.
	if _, err := c.GetCustomer(ctx, woodgrove); !errors.Is(err, apiretry.ErrRateLimited) {
		t.Errorf("a new call over the budget: %v, want ErrRateLimited", err)
	}
}

// TestTransferStatusesWhateverTheirCase: a status is read in its documented
// spelling however Partner Center cases it.
func TestTransferStatusesWhateverTheirCase(t *testing.T) {
	for in, want := range map[string]string{"completed": pc.TransferCompleted, "COMPLETED": pc.TransferCompleted, "Completed": pc.TransferCompleted,
		"inprogress": pc.TransferInProgress, "active": pc.TransferActive, "reject": pc.TransferRejected, "Something": "Something"} {
		if got := pc.CanonicalTransferStatus(in); got != want {
			t.Errorf("%q read as %q, want %q", in, got, want)
		}
	}
}
