package graph_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/partnerops/multichannel-operator/internal/apiretry"
	"github.com/partnerops/multichannel-operator/internal/graph"
	"github.com/partnerops/multichannel-operator/internal/graph/graphsim"
	pc "github.com/partnerops/multichannel-operator/internal/partnercenter"
	"github.com/partnerops/multichannel-operator/internal/partnercenter/sim"
)

const (
	partnerTenant  = "6f1bd5c1-0d3b-4c5e-9bb1-7f4f9d2b6a10"
	customerTenant = "2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e"
	group          = "8a1f3c9e-2b4d-4e6f-8a0b-1c2d3e4f5a6b"
	helpdesk       = "729827e3-9c14-49f7-bb1b-9608f156bbb8"
)

var fastRetry = pc.RetryPolicy{MaxAttempts: 3, InitialInterval: 10 * time.Millisecond, MaxInterval: 50 * time.Millisecond}

// world is the Partner Center simulator (for tokens) and the Graph simulator on one listener.
type world struct {
	url    string
	graph  *graphsim.Server
	scopes []string
	mu     sync.Mutex
}

func newWorld(t *testing.T, o graphsim.Options, middleware func(http.Handler) http.Handler) *world {
	t.Helper()
	p, err := sim.New(sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	g, err := graphsim.New(o)
	if err != nil {
		t.Fatal(err)
	}
	w := &world{graph: g}
	h := graphsim.Compose(g, p)
	if middleware != nil {
		h = middleware(h)
	}
	srv := httptest.NewTLSServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/oauth2/v2.0/token") {
			_ = r.ParseForm()
			w.mu.Lock()
			w.scopes = append(w.scopes, r.PostForm.Get("scope"))
			w.mu.Unlock()
		}
		h.ServeHTTP(rw, r)
	}))
	t.Cleanup(srv.Close)
	w.url = srv.URL
	return w
}

func (w *world) client(t *testing.T, opts ...func(*graph.Config)) *graph.Client {
	t.Helper()
	cfg := graph.Config{Endpoint: w.url, AuthorityHost: w.url, TenantID: partnerTenant,
		Credentials: pc.Credentials{ClientID: "app", ClientSecret: "secret"}, Retry: fastRetry, RequestsPerMinute: 60000}
	for _, o := range opts {
		o(&cfg)
	}
	c, err := graph.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func relationship(name string) graph.Relationship {
	return graph.Relationship{DisplayName: name, Duration: "P90D", Customer: &graph.CustomerParticipant{TenantID: customerTenant},
		AccessDetails: graph.NewAccessDetails([]string{helpdesk})}
}

// TestRelationshipLifecycle walks a relationship from created to an active
// access assignment, and its termination.
func TestRelationshipLifecycle(t *testing.T) {
	w := newWorld(t, graphsim.Options{}, nil)
	c := w.client(t)
	ctx := context.Background()

	rel, err := c.CreateRelationship(ctx, relationship("Support"))
	if err != nil || rel.Status != graph.StatusCreated || rel.ID == "" {
		t.Fatalf("create: %+v, %v", rel, err)
	}
	if len(w.scopes) != 1 || resourceScope(w.scopes[0]) != graph.ScopePublic {
		t.Errorf("token scopes %v, want one for %s", w.scopes, graph.ScopePublic)
	}
	if _, err := c.CreateRelationship(ctx, relationship("Support")); !graph.IsConflict(err) {
		t.Errorf("a second relationship of the same name: %v, want a conflict", err)
	}
	found, err := c.FindRelationship(ctx, "Support")
	if err != nil || found == nil || found.ID != rel.ID {
		t.Fatalf("find: %+v, %v", found, err)
	}
	if none, err := c.FindRelationship(ctx, "Other's"); err != nil || none != nil {
		t.Errorf("find an unknown name: %+v, %v", none, err)
	}
	updated, err := c.UpdateRelationship(ctx, rel.ID, found.ETag, graph.RelationshipUpdate{Duration: "P180D"})
	if err != nil || updated.Duration != "P180D" {
		t.Fatalf("update while created: %+v, %v", updated, err)
	}
	if _, err := c.UpdateRelationship(ctx, rel.ID, `W/"stale"`, graph.RelationshipUpdate{Duration: "P30D"}); err == nil {
		t.Error("an update with a stale etag was accepted")
	}
	if _, err := c.Request(ctx, rel.ID, graph.ActionLockForApproval); err != nil {
		t.Fatal(err)
	}
	got, _ := c.GetRelationship(ctx, rel.ID)
	if got.Status != graph.StatusApprovalPending {
		t.Fatalf("after lockForApproval: %s", got.Status)
	}
	if _, err := c.UpdateRelationship(ctx, rel.ID, got.ETag, graph.RelationshipUpdate{Duration: "P30D"}); !graph.IsRejected(err) {
		t.Errorf("an update after locking: %v, want it rejected", err)
	}
	if err := w.graph.Approve(rel.ID); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{graph.StatusActivating, graph.StatusActive} {
		if got, _ = c.GetRelationship(ctx, rel.ID); got.Status != want {
			t.Fatalf("status %s, want %s", got.Status, want)
		}
	}
	if got.EndDateTime == nil || got.EndDateTime.Sub(*got.ActivatedDateTime) != 180*24*time.Hour {
		t.Errorf("activated %v, ends %v", got.ActivatedDateTime, got.EndDateTime)
	}
	a, err := c.CreateAccessAssignment(ctx, rel.ID, graph.AccessAssignment{
		AccessContainer: &graph.AccessContainer{ID: group, Type: graph.ContainerSecurityGroup}, AccessDetails: graph.NewAccessDetails([]string{helpdesk})})
	if err != nil || a.Status != graph.AssignmentPending {
		t.Fatalf("assign: %+v, %v", a, err)
	}
	if _, err := c.CreateAccessAssignment(ctx, rel.ID, graph.AccessAssignment{
		AccessContainer: &graph.AccessContainer{ID: group, Type: graph.ContainerSecurityGroup}, AccessDetails: graph.NewAccessDetails([]string{helpdesk})}); !graph.IsConflict(err) {
		t.Errorf("a second assignment for the group: %v, want a conflict", err)
	}
	list, err := c.ListAccessAssignments(ctx, rel.ID)
	if err != nil || len(list) != 1 || list[0].Status != graph.AssignmentActive {
		t.Errorf("assignments %+v, %v", list, err)
	}
	if _, err := c.Request(ctx, rel.ID, graph.ActionTerminate); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{graph.StatusTerminating, graph.StatusTerminated} {
		if got, _ = c.GetRelationship(ctx, rel.ID); got.Status != want {
			t.Fatalf("status %s, want %s", got.Status, want)
		}
	}
	if n := testutil.ToFloat64(graph.DefaultMetrics.Requests("CreateRelationship", "201")); n < 1 {
		t.Errorf("metrics counted %v created relationships", n)
	}
	st := w.graph.Stats()
	if st.ObjectsCreated["relationship"] != 1 || st.DuplicatesRefused != 2 || st.ObjectsCreated["request:terminate"] != 1 {
		t.Errorf("stats %+v", st)
	}
}

// TestExpiryAndApprovalWindow moves the simulator's clock past the end of an
// active relationship and past the 90 days a locked one waits.
func TestExpiryAndApprovalWindow(t *testing.T) {
	w := newWorld(t, graphsim.Options{AutoApproveAfter: time.Hour}, nil)
	c := w.client(t)
	ctx := context.Background()
	active, _ := c.CreateRelationship(ctx, relationship("Active"))
	waiting, _ := c.CreateRelationship(ctx, relationship("Waiting"))
	_, _ = c.Request(ctx, active.ID, graph.ActionLockForApproval)
	_ = w.graph.Advance(2 * time.Hour) // the customer approves automatically after an hour
	_, _ = c.GetRelationship(ctx, active.ID)
	_, _ = c.GetRelationship(ctx, active.ID)
	if got, _ := c.GetRelationship(ctx, active.ID); got.Status != graph.StatusActive {
		t.Fatalf("auto-approved relationship is %s", got.Status)
	}
	_, _ = c.Request(ctx, waiting.ID, graph.ActionLockForApproval)
	if err := w.graph.Approve("no-such-id"); err == nil {
		t.Error("approving an unknown relationship succeeded")
	}
	_ = w.graph.Advance(91 * 24 * time.Hour)
	if got, _ := c.GetRelationship(ctx, active.ID); got.Status != graph.StatusExpired {
		t.Errorf("past its end: %s, want expired", got.Status)
	}
	// The waiting one was auto-approved before 90 days passed: the simulator
	// approves on the first read after the delay.
	if got, _ := c.GetRelationship(ctx, waiting.ID); got.Status != graph.StatusApproved {
		t.Errorf("waiting relationship: %s", got.Status)
	}
}

// TestThrottlingReturnsRetryAfter: a 429 is not waited out in the call: it
// returns at once with Retry-After's wait around Graph's error, and the
// caller's next call (even a create: nothing was processed) succeeds.
func TestThrottlingReturnsRetryAfter(t *testing.T) {
	var throttled atomic.Bool
	var sent atomic.Int32
	w := newWorld(t, graphsim.Options{}, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			if !strings.HasPrefix(r.URL.Path, "/v1.0/") {
				next.ServeHTTP(rw, r)
				return
			}
			sent.Add(1)
			if throttled.CompareAndSwap(false, true) {
				rw.Header().Set("Retry-After", "1") // short enough to wait for, and still not waited
				rw.WriteHeader(http.StatusTooManyRequests)
				return
			}
			next.ServeHTTP(rw, r)
		})
	})
	m := graph.NewMetrics()
	c := w.client(t, func(cfg *graph.Config) { cfg.Metrics = m })
	_, err := c.CreateRelationship(context.Background(), relationship("Throttled"))
	var gErr *graph.Error
	if d, ok := apiretry.ThrottledFor(err); !ok || d != time.Second || !errors.As(err, &gErr) || gErr.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("throttled create: %v, want a ThrottledError of 1s around the 429", err)
	}
	if sent.Load() != 1 || w.graph.Stats().ObjectsCreated["relationship"] != 0 ||
		testutil.ToFloat64(m.Throttled("CreateRelationship")) != 1 || testutil.ToFloat64(m.Retries("CreateRelationship")) != 0 {
		t.Fatalf("after the 429: %d requests, %d created, throttled %v, retries %v; want 1, 0, 1, 0", sent.Load(),
			w.graph.Stats().ObjectsCreated["relationship"], testutil.ToFloat64(m.Throttled("CreateRelationship")), testutil.ToFloat64(m.Retries("CreateRelationship")))
	}
	if _, err := c.CreateRelationship(context.Background(), relationship("Throttled")); err != nil {
		t.Fatalf("the caller's next call: %v", err)
	}
	if n := w.graph.Stats().ObjectsCreated["relationship"]; n != 1 {
		t.Errorf("%d relationships created", n)
	}
}

// TestLongRetryAfterOnServerErrorReturned: a read answered 503 with a
// Retry-After longer than the policy waits is returned as throttling.
func TestLongRetryAfterOnServerErrorReturned(t *testing.T) {
	var sent atomic.Int32
	w := newWorld(t, graphsim.Options{}, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			if strings.HasPrefix(r.URL.Path, "/v1.0/") {
				sent.Add(1)
				rw.Header().Set("Retry-After", "120")
				rw.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			next.ServeHTTP(rw, r)
		})
	})
	_, err := w.client(t).GetRelationship(context.Background(), "x")
	if d, ok := apiretry.ThrottledFor(err); !ok || d != 2*time.Minute || sent.Load() != 1 || graph.IsNotFound(err) {
		t.Errorf("a 503 asking for two minutes: %v after %d requests", err, sent.Load())
	}
}

// TestTenantBudget: a call over the tenant's budget is not sent and returns
// at once; clients sharing a registry share the tenant's budget.
func TestTenantBudget(t *testing.T) {
	w := newWorld(t, graphsim.Options{}, nil)
	limits := pc.NewTenantLimiters(1)
	m := graph.NewMetrics()
	shared := func(cfg *graph.Config) { cfg.Limits = limits; cfg.Metrics = m }
	ctx := context.Background()
	if _, err := w.client(t, shared).FindRelationship(ctx, "Any"); err != nil {
		t.Fatal(err)
	}
	_, err := w.client(t, shared).FindRelationship(ctx, "Any")
	if d, ok := apiretry.ThrottledFor(err); !ok || !errors.Is(err, apiretry.ErrRateLimited) || d <= 30*time.Second || d > time.Minute {
		t.Fatalf("a second client of the tenant over its budget: %v", err)
	}
	if n := w.graph.Stats().RequestsByRoute["ListRelationships"]; n != 1 || testutil.ToFloat64(m.RateLimited("ListRelationships")) != 1 {
		t.Errorf("%d requests sent, %v rate limited; want 1, 1", n, testutil.ToFloat64(m.RateLimited("ListRelationships")))
	}
}

// TestCreateNotResentAfterServerError: Graph may have created the relationship
// before failing, so the client leaves finding it to the caller.
func TestCreateNotResentAfterServerError(t *testing.T) {
	var creates atomic.Int32
	w := newWorld(t, graphsim.Options{}, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/delegatedAdminRelationships") {
				creates.Add(1)
				next.ServeHTTP(httptest.NewRecorder(), r) // processed, answer lost
				rw.WriteHeader(http.StatusBadGateway)
				return
			}
			next.ServeHTTP(rw, r)
		})
	})
	c := w.client(t)
	if _, err := c.CreateRelationship(context.Background(), relationship("Lost")); err == nil {
		t.Fatal("no error")
	}
	if creates.Load() != 1 {
		t.Errorf("the create was sent %d times", creates.Load())
	}
	if found, err := c.FindRelationship(context.Background(), "Lost"); err != nil || found == nil {
		t.Errorf("the relationship is not found by its name: %v", err)
	}
}

// TestInjectedFaults: the simulator's throttling and errors reach the client as typed errors.
func TestInjectedFaults(t *testing.T) {
	w := newWorld(t, graphsim.Options{ErrorRate: 1}, nil)
	c := w.client(t)
	_, err := c.GetRelationship(context.Background(), "x")
	if err == nil || !strings.Contains(err.Error(), "HTTP 503") {
		t.Fatalf("err %v, want the injected 503", err)
	}
	if st := w.graph.Stats(); st.ErrorsInjected != int(fastRetry.MaxAttempts) {
		t.Errorf("errors injected %d, want one per attempt (%d)", st.ErrorsInjected, fastRetry.MaxAttempts)
	}
}

// TestStateOutlivesRestart: a new simulator on the same file knows the relationships.
func TestStateOutlivesRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "graph.json")
	w := newWorld(t, graphsim.Options{StatePath: path}, nil)
	rel, err := w.client(t).CreateRelationship(context.Background(), relationship("Kept"))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.graph.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := graphsim.New(graphsim.Options{StatePath: path})
	if err != nil {
		t.Fatal(err)
	}
	rels := again.Relationships(partnerTenant)
	if len(rels) != 1 || rels[0].ID != rel.ID || again.Stats().ObjectsCreated["relationship"] != 1 {
		t.Errorf("after a restart: %+v, stats %+v", rels, again.Stats())
	}
}

// TestScopeByCloud: the token's audience follows Graph's host.
func TestScopeByCloud(t *testing.T) {
	w := newWorld(t, graphsim.Options{}, nil)
	c, err := graph.New(graph.Config{Endpoint: w.url, AuthorityHost: w.url, TenantID: partnerTenant, Scope: graph.ScopeUSGovernment,
		Credentials: pc.Credentials{ClientID: "app", ClientSecret: "secret"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.CheckCredentials(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(w.scopes) != 1 || resourceScope(w.scopes[0]) != graph.ScopeUSGovernment {
		t.Errorf("scopes %v", w.scopes)
	}
}

// resourceScope is a token request's scope without the OpenID Connect
// scopes MSAL adds to every request (openid, offline_access, profile).
func resourceScope(scope string) string {
	var rest []string
	for _, s := range strings.Fields(scope) {
		if s != "openid" && s != "offline_access" && s != "profile" {
			rest = append(rest, s)
		}
	}
	return strings.Join(rest, " ")
}
