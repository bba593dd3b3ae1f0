package pcwebhook_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/partnerops/multichannel-operator/internal/apiretry/apiretrytest"
	pc "github.com/partnerops/multichannel-operator/internal/partnercenter"
	"github.com/partnerops/multichannel-operator/internal/partnercenter/sim"
	"github.com/partnerops/multichannel-operator/internal/pcwebhook"
)

// The simulator's events, signed as Partner Center signs them, verified by
// a Receiver that trusts the simulator's root and host and nothing else.

func init() { apiretrytest.TrustTestServers() }

const (
	contoso   = "6f1bd5c1-0d3b-4c5e-9bb1-7f4f9d2b6a10"
	woodgrove = "2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e"
)

// patience bounds a wait for something the simulator sends in the
// background; reaching it fails the test rather than hanging it.
const patience = 30 * time.Second

// simEnv is a simulator, a client of it, and a receiver of its events.
type simEnv struct {
	t       *testing.T
	sim     *sim.Server
	simURL  string
	client  *pc.Client
	rc      *pcwebhook.Receiver
	url     string // the receiver's URL
	events  chan pcwebhook.Event
	served  chan capturedRequest
	mu      sync.Mutex
	failing int // callbacks to fail before taking events
}

type capturedRequest struct {
	header http.Header
	body   []byte
}

func newSimEnv(t *testing.T, simOpts sim.Options, mutate ...func(*pcwebhook.Options)) *simEnv {
	t.Helper()
	s, err := sim.New(simOpts)
	if err != nil {
		t.Fatal(err)
	}
	simSrv := httptest.NewTLSServer(s)
	t.Cleanup(func() { _ = s.Close(); simSrv.Close() })
	root, err := s.WebhookRoot()
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(root)
	u, _ := url.Parse(simSrv.URL)
	e := &simEnv{t: t, sim: s, simURL: simSrv.URL, events: make(chan pcwebhook.Event, 64), served: make(chan capturedRequest, 64)}
	opts := pcwebhook.Options{CertificateHosts: []string{u.Host}, Roots: roots, Now: s.Now}
	for _, m := range mutate {
		m(&opts)
	}
	if e.rc, err = pcwebhook.New(e.callback, opts); err != nil {
		t.Fatal(err)
	}
	recv := httptest.NewTLSServer(http.HandlerFunc(e.serve))
	t.Cleanup(recv.Close)
	e.url = recv.URL + "/webhooks/partnercenter"
	e.client, err = pc.New(pc.Config{Endpoint: simSrv.URL, AuthorityHost: simSrv.URL, TenantID: contoso,
		Credentials: pc.Credentials{ClientID: "app", ClientSecret: "s3cret"}, RequestsPerMinute: 60000})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// serve hands the request to the receiver and tells the test it was served.
func (e *simEnv) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	e.rc.ServeHTTP(w, r)
	e.served <- capturedRequest{header: r.Header.Clone(), body: body}
}

func (e *simEnv) callback(_ context.Context, ev pcwebhook.Event) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.failing > 0 {
		e.failing--
		return io.ErrUnexpectedEOF
	}
	e.events <- ev
	return nil
}

func (e *simEnv) register(r pc.WebhookRegistration) {
	e.t.Helper()
	if r.WebhookURL == "" {
		r.WebhookURL = e.url
	}
	if len(r.WebhookEvents) == 0 {
		r.WebhookEvents = pc.OperatorWebhookEvents
	}
	if _, err := e.client.EnsureWebhookRegistration(context.Background(), r); err != nil {
		e.t.Fatal(err)
	}
}

func (e *simEnv) next() pcwebhook.Event {
	e.t.Helper()
	select {
	case ev := <-e.events:
		return ev
	case <-time.After(patience):
		e.t.Fatalf("no event came; counts %+v", e.rc.Counts())
		return pcwebhook.Event{}
	}
}

func (e *simEnv) nextServed() capturedRequest {
	e.t.Helper()
	select {
	case r := <-e.served:
		return r
	case <-time.After(patience):
		e.t.Fatalf("no request came; counts %+v", e.rc.Counts())
		return capturedRequest{}
	}
}

func (e *simEnv) post(path string, body any) {
	e.t.Helper()
	data, _ := json.Marshal(body)
	resp, err := http.Post(e.simURL+path, "application/json", bytes.NewReader(data))
	if err != nil {
		e.t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("POST %s: HTTP %d", path, resp.StatusCode)
	}
}

// TestSimulatorEventsAreVerified: the customer's acceptance and a change
// made outside the operator reach the callback, verified, with the IDs of
// what changed and of the audit record that tells more.
func TestSimulatorEventsAreVerified(t *testing.T) {
	ctx := context.Background()
	e := newSimEnv(t, sim.Options{})
	e.register(pc.WebhookRegistration{})
	e.post("/sim/v1/relationships/accept", map[string]string{"partnerTenantId": contoso, "customerTenantId": woodgrove})
	accepted := e.next()
	if accepted.EventName != pc.EventResellerRelationshipAccepted || accepted.CustomerID() != woodgrove || accepted.ResourceName != "Customer" {
		t.Fatalf("event = %+v", accepted)
	}
	rec, err := e.client.GetAuditRecord(ctx, accepted.AuditID())
	if err != nil || rec.Concerns().Change != pc.ChangeRelationshipAccepted || !rec.OperationDate.Equal(accepted.ResourceChangeUTCDate) {
		t.Fatalf("the event's audit record: %+v, %v", rec, err)
	}

	orders, err := e.client.CreateOrder(ctx, woodgrove, "op-buy", []pc.CartLineItem{{CatalogItemID: sim.E3CatalogItem, Quantity: 5, BillingCycle: "monthly", TermDuration: "P1Y"}})
	if err != nil {
		t.Fatal(err)
	}
	sub := orders[0].LineItems[0].SubscriptionID
	if err := e.sim.ChangeSubscription(sub, sim.SubscriptionChange{Status: "suspended", By: "alice@contoso.example"}); err != nil {
		t.Fatal(err)
	}
	updated := e.next()
	if updated.EventName != pc.EventSubscriptionUpdated || updated.CustomerID() != woodgrove || updated.SubscriptionID() != sub {
		t.Fatalf("event = %+v", updated)
	}
	if rec, err := e.client.GetAuditRecord(ctx, updated.AuditID()); err != nil || rec.Concerns().Change != pc.ChangeSubscriptionSuspended || rec.UserPrincipalName != "alice@contoso.example" {
		t.Fatalf("the drift's audit record: %+v, %v", rec, err)
	}
	e.nextServed()
	e.nextServed()
	if c := e.rc.Counts(); c != (pcwebhook.Counts{Verified: 2}) {
		t.Errorf("counts = %+v", c)
	}
}

// TestSimulatorTestEventAndReplay: a test event through x-ms-signature is
// verified and its delivery recorded; the same request sent again is
// refused as a replay, and changes nothing.
func TestSimulatorTestEventAndReplay(t *testing.T) {
	ctx := context.Background()
	e := newSimEnv(t, sim.Options{})
	e.register(pc.WebhookRegistration{SignatureTokenToMsSignatureHeader: true})
	id, err := e.client.SendWebhookTestEvent(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ev := e.next()
	delivered := e.nextServed()
	if ev.EventName != pc.EventTestCreated || ev.ResourceName != "test" || ev.AuditURI != "" || delivered.header.Get("X-MS-Signature") == "" || delivered.header.Get("Authorization") != "" {
		t.Fatalf("test event %+v, headers %v", ev, delivered.header)
	}
	waitTestEvent(t, e.client, id, "completed")

	replay := httptest.NewRequest(http.MethodPost, "/webhooks/partnercenter", bytes.NewReader(delivered.body))
	replay.Header = delivered.header.Clone()
	w := httptest.NewRecorder()
	e.rc.ServeHTTP(w, replay)
	if w.Code != http.StatusConflict || len(e.events) != 0 || e.rc.Counts() != (pcwebhook.Counts{Verified: 1, Replayed: 1}) {
		t.Errorf("replay: HTTP %d, %d events, counts %+v", w.Code, len(e.events), e.rc.Counts())
	}
}

// waitTestEvent waits until the simulator has recorded the test event's
// outcome (its delivery is answered before the simulator notes it).
func waitTestEvent(t *testing.T, c *pc.Client, id, want string) {
	t.Helper()
	deadline := time.Now().Add(patience)
	for {
		te, err := c.GetWebhookTestEvent(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if te.Status != "pending" {
			if te.Status != want || len(te.Results) == 0 {
				t.Fatalf("test event = %+v, want %s", te, want)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the test event is still pending: %+v", te)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestSimulatorRetriesAFailedDelivery: a callback that fails answers 500,
// and the simulator sends the event again, which is then taken.
func TestSimulatorRetriesAFailedDelivery(t *testing.T) {
	e := newSimEnv(t, sim.Options{WebhookRetryInterval: 10 * time.Millisecond})
	e.failing = 1
	e.register(pc.WebhookRegistration{})
	e.post("/sim/v1/relationships/accept", map[string]string{"partnerTenantId": contoso, "customerTenantId": woodgrove})
	if ev := e.next(); ev.EventName != pc.EventResellerRelationshipAccepted {
		t.Fatalf("event = %+v", ev)
	}
	e.nextServed() // each attempt is counted once it is answered
	e.nextServed()
	if c := e.rc.Counts(); c != (pcwebhook.Counts{Verified: 1, Failed: 1}) {
		t.Errorf("counts = %+v", c)
	}
}

// TestProductionDefaultsRefuseTheSimulator: a Receiver with Partner
// Center's defaults (its certificate host, the system's roots) takes
// nothing the simulator signs, and the simulator's attempts fail.
func TestProductionDefaultsRefuseTheSimulator(t *testing.T) {
	e := newSimEnv(t, sim.Options{WebhookAttempts: 2, WebhookRetryInterval: 10 * time.Millisecond}, func(o *pcwebhook.Options) {
		o.CertificateHosts, o.Roots = nil, nil
	})
	e.register(pc.WebhookRegistration{})
	id, err := e.client.SendWebhookTestEvent(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	e.nextServed()
	e.nextServed()
	waitTestEvent(t, e.client, id, "failed")
	if c := e.rc.Counts(); c != (pcwebhook.Counts{Forged: 2}) || len(e.events) != 0 {
		t.Errorf("counts = %+v, %d events taken", c, len(e.events))
	}
	if st := e.sim.Stats(); st.WebhooksSent != 2 || st.WebhooksFailed != 2 || st.WebhooksDelivered != 0 {
		t.Errorf("simulator stats: sent %d, failed %d, delivered %d", st.WebhooksSent, st.WebhooksFailed, st.WebhooksDelivered)
	}
}
