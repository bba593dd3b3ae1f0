// Package notifytest holds a webhook receiver for the tests of what sends
// notify's CloudEvents.
package notifytest

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/binding"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"

	"github.com/partnerops/multichannel-operator/internal/notify"
)

// RetryAfterSeconds is the Retry-After a receiver told to fail (FailNext)
// sends with 429 and 503.
const RetryAfterSeconds = 2

// Event is a CloudEvent as the receiver got it.
type Event struct {
	ID, Source, Type, Subject string
	Time                      time.Time
	DataContentType           string
	// Header is the request's header (ce-* attributes in binary mode).
	Header http.Header
	// Payload is the event's data, decoded strictly: a field notify.Payload
	// does not have is refused.
	Payload notify.Payload
}

// Receiver is a webhook on 127.0.0.1 that parses CloudEvents with the
// CloudEvents SDK's HTTP binding (binary or structured mode), checks the
// bearer token, and keeps each event once: one whose source and id it has
// seen is a duplicate, answered 200 and not kept again.
type Receiver struct {
	srv   *httptest.Server
	token string

	mu         sync.Mutex
	events     []Event
	seen       map[string]bool
	deliveries int
	failLeft   int
	failStatus int
}

// NewReceiver starts a Receiver, closed when t ends. token, if not empty,
// must come as Authorization: Bearer; a request without it is answered 401.
func NewReceiver(t testing.TB, token string) *Receiver {
	t.Helper()
	r := &Receiver{token: token, seen: map[string]bool{}}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve)) // binds 127.0.0.1
	t.Cleanup(r.srv.Close)
	return r
}

// URL is where the receiver listens.
func (r *Receiver) URL() string { return r.srv.URL }

// Events returns the distinct events received, in arrival order.
func (r *Receiver) Events() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event(nil), r.events...)
}

// Deliveries is how many POSTs arrived, duplicates and failures included.
func (r *Receiver) Deliveries() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.deliveries
}

// FailNext makes the next n requests fail with status, before they are
// read; 429 and 503 come with Retry-After: RetryAfterSeconds.
func (r *Receiver) FailNext(n int, status int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failLeft, r.failStatus = n, status
}

func (r *Receiver) serve(w http.ResponseWriter, req *http.Request) {
	if status, fail := r.count(); fail {
		if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
			w.Header().Set("Retry-After", fmt.Sprint(RetryAfterSeconds))
		}
		http.Error(w, "receiver told to fail", status)
		return
	}
	if req.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	if r.token != "" && subtle.ConstantTimeCompare([]byte(req.Header.Get("Authorization")), []byte("Bearer "+r.token)) != 1 {
		http.Error(w, "bearer token missing or wrong", http.StatusUnauthorized)
		return
	}
	ev, err := parse(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.keep(ev)
	w.WriteHeader(http.StatusOK)
}

// count counts a delivery, and says whether it is to fail, with what status.
func (r *Receiver) count() (int, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.deliveries++
	if r.failLeft > 0 {
		r.failLeft--
		return r.failStatus, true
	}
	return 0, false
}

// keep keeps ev unless its source and id were seen.
func (r *Receiver) keep(ev Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	key := ev.Source + "\x00" + ev.ID
	if r.seen[key] {
		return
	}
	r.seen[key] = true
	r.events = append(r.events, ev)
}

// parse reads a CloudEvent from req with the SDK, and its notify.Payload.
func parse(req *http.Request) (Event, error) {
	e, err := binding.ToEvent(req.Context(), cehttp.NewMessageFromHttpRequest(req))
	if err != nil {
		return Event{}, fmt.Errorf("not a CloudEvent: %w", err)
	}
	if err := e.Validate(); err != nil {
		return Event{}, fmt.Errorf("not a valid CloudEvent: %w", err)
	}
	ev := Event{ID: e.ID(), Source: e.Source(), Type: e.Type(), Subject: e.Subject(), Time: e.Time(),
		DataContentType: e.DataContentType(), Header: req.Header.Clone()}
	dec := json.NewDecoder(bytes.NewReader(e.Data()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ev.Payload); err != nil {
		return Event{}, fmt.Errorf("data is not a notify.Payload: %w", err)
	}
	return ev, nil
}
