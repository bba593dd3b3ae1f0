package estate_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/partnerops/multichannel-operator/internal/apiretry/apiretrytest"
	"github.com/partnerops/multichannel-operator/internal/estate"
	"github.com/partnerops/multichannel-operator/internal/graph"
	"github.com/partnerops/multichannel-operator/internal/graph/graphsim"
	"github.com/partnerops/multichannel-operator/internal/harness"
	pc "github.com/partnerops/multichannel-operator/internal/partnercenter"
	"github.com/partnerops/multichannel-operator/internal/partnercenter/sim"
)

func init() { apiretrytest.TrustTestServers() }

const contoso, fabrikam = "6f1bd5c1-0d3b-4c5e-9bb1-7f4f9d2b6a10", "0b4e8e3a-7c1d-4f0e-a0d2-3f9a1c6e5b21"

// serve starts the simulators holding a sample estate of n customers and
// returns the partner's clients, with the budget given.
func serve(t *testing.T, n int, o sim.Options, perMinute int, wrap ...func(http.Handler) http.Handler) (estate.Clients, *sim.Server, harness.SampleEstate) {
	t.Helper()
	s, err := sim.New(o)
	if err != nil {
		t.Fatal(err)
	}
	g, err := graphsim.New(graphsim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e := harness.NewEstate(harness.EstateOptions{Partner: contoso, Customers: n, Source: fabrikam, SourceName: "Fabrikam", Now: time.Now()})
	if err := s.SeedEstate(e.PartnerCenter); err != nil {
		t.Fatal(err)
	}
	if err := g.Seed(e.GDAP...); err != nil {
		t.Fatal(err)
	}
	h := graphsim.Compose(g, s)
	for _, w := range wrap {
		h = w(h)
	}
	srv := httptest.NewTLSServer(h)
	t.Cleanup(srv.Close)
	creds := pc.Credentials{ClientID: "operator", ClientSecret: "s3cret"}
	p, err := pc.New(pc.Config{Endpoint: srv.URL, AuthorityHost: srv.URL, TenantID: contoso, Credentials: creds, RequestsPerMinute: perMinute})
	if err != nil {
		t.Fatal(err)
	}
	gc, err := graph.New(graph.Config{Endpoint: srv.URL, AuthorityHost: srv.URL, TenantID: contoso, Credentials: creds, RequestsPerMinute: 60000})
	if err != nil {
		t.Fatal(err)
	}
	return estate.Clients{PartnerCenter: p, Graph: gc}, s, e
}

// TestReadWaitsForTheBudgetAndThrottling: with a budget smaller than the
// calls the read needs, and Partner Center answering 429 now and then,
// the read waits and reads the same estate as a read with neither.
func TestReadWaitsForTheBudgetAndThrottling(t *testing.T) {
	ctx := context.Background()
	plain, _, _ := serve(t, 6, sim.Options{}, 60000)
	want, err := estate.Read(ctx, plain, estate.Options{PageSize: 4})
	if err != nil || len(want.Customers) != 6 || want.Waits != 0 {
		t.Fatalf("unthrottled: %d customers, %d waits, %v", len(want.Customers), want.Waits, err)
	}
	tight, s, _ := serve(t, 6, sim.Options{ThrottleRate: 0.1}, 300) // a burst of 5, then one call every 200 ms
	got, err := estate.Read(ctx, tight, estate.Options{PageSize: 4})
	if err != nil {
		t.Fatal(err)
	}
	if got.Waits == 0 || got.Waits < int64(s.Stats().Throttled) {
		t.Errorf("%d waits for %d calls over a budget of 5 and %d throttled", got.Waits, s.Stats().Tenants[contoso].Requests, s.Stats().Throttled)
	}
	for i := range want.Customers {
		a, b := want.Customers[i], got.Customers[i]
		if a.Customer.ID != b.Customer.ID || len(a.Subscriptions) != len(b.Subscriptions) || !reflect.DeepEqual(a.Entitlements, b.Entitlements) ||
			len(a.Transfers) != len(b.Transfers) || len(a.GDAP) != len(b.GDAP) {
			t.Errorf("customer %d read %+v, want %+v", i, b, a)
		}
	}
}

// TestReadCustomersByTenant: --customer by tenant ID reads those customers
// without the list; one the partner does not have is an error naming it.
func TestReadCustomersByTenant(t *testing.T) {
	ctx := context.Background()
	c, s, e := serve(t, 3, sim.Options{}, 60000)
	got, err := estate.Read(ctx, c, estate.Options{Customers: []string{e.PartnerCenter.Customers[2].TenantID}})
	if err != nil || len(got.Customers) != 1 || got.Customers[0].Customer.ID != e.PartnerCenter.Customers[2].TenantID || s.Stats().RequestsByRoute["ListCustomers"] != 0 {
		t.Errorf("by tenant ID: %+v, %v; the list was read %d times", got, err, s.Stats().RequestsByRoute["ListCustomers"])
	}
	const stranger = "9d8c7b6a-0000-4000-8000-000000000009"
	if _, err := estate.Read(ctx, c, estate.Options{Customers: []string{stranger}}); err == nil || !strings.Contains(err.Error(), stranger) {
		t.Errorf("a tenant the partner does not have: %v", err)
	}
}

// TestReadErrorsNameWhatFailed: a call refused while reading a customer
// fails the read naming the customer and the call; one refused while
// reading Graph names the GDAP relationships; either stops the other.
func TestReadErrorsNameWhatFailed(t *testing.T) {
	refuse := func(suffix string) func(http.Handler) http.Handler {
		return func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if strings.HasSuffix(r.URL.Path, suffix) {
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(http.StatusForbidden)
					_, _ = w.Write([]byte(`{"code": 2032, "description": "Access denied", "error": {"code": "accessDenied", "message": "Access denied"}}`))
					return
				}
				next.ServeHTTP(w, r)
			})
		}
	}
	ctx := context.Background()
	second := harness.EstateID(harness.EstateOptions{Partner: contoso}, "customer", 1)
	c, _, _ := serve(t, 3, sim.Options{}, 60000, refuse("/customers/"+second+"/subscriptions"))
	if _, err := estate.Read(ctx, c, estate.Options{}); err == nil || !strings.Contains(err.Error(), "customer "+second+": listing its subscriptions") {
		t.Errorf("a refused subscription list: %v", err)
	}
	g, _, _ := serve(t, 3, sim.Options{}, 60000, refuse("/delegatedAdminRelationships"))
	if _, err := estate.Read(ctx, g, estate.Options{}); err == nil || !strings.Contains(err.Error(), "listing the partner's GDAP relationships") || !strings.Contains(err.Error(), "403") {
		t.Errorf("a refused relationship list: %v", err)
	}
}
