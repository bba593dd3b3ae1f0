package graphsim

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/partnerops/multichannel-operator/internal/graph"
)

// token makes a bearer token shaped like the Partner Center simulator's.
func token(tenant string, exp time.Time) string {
	payload, _ := json.Marshal(map[string]any{"tid": tenant, "grant": "client_credentials", "exp": exp.Unix()})
	return "sim1." + base64.RawURLEncoding.EncodeToString(payload) + ".sig"
}

func call(t *testing.T, h http.Handler, method, path, tok, requestID string, body any) *httptest.ResponseRecorder {
	t.Helper()
	data, _ := json.Marshal(body)
	r := httptest.NewRequest(method, path, bytes.NewReader(data))
	if tok != "" {
		r.Header.Set("Authorization", "Bearer "+tok)
	}
	if requestID != "" {
		r.Header.Set(graph.HeaderClientRequestID, requestID)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// TestSimulatorRoutes: authentication, idempotency by client-request-id, the
// customer's approval and the clock over HTTP, and the counters.
func TestSimulatorRoutes(t *testing.T) {
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	tok := token("partner", time.Now().Add(time.Hour))
	rel := graph.Relationship{DisplayName: "Support", Duration: "P2Y", Customer: &graph.CustomerParticipant{TenantID: "customer"},
		AccessDetails: graph.NewAccessDetails([]string{"729827e3-9c14-49f7-bb1b-9608f156bbb8"})}

	if w := call(t, s, "POST", base, "", "", rel); w.Code != http.StatusUnauthorized {
		t.Errorf("without a token: %d", w.Code)
	}
	if w := call(t, s, "POST", base, token("partner", time.Now().Add(-time.Minute)), "", rel); w.Code != http.StatusUnauthorized {
		t.Errorf("with an expired token: %d", w.Code)
	}
	first := call(t, s, "POST", base, tok, "req-1", rel)
	again := call(t, s, "POST", base, tok, "req-1", rel)
	if first.Code != http.StatusCreated || again.Code != http.StatusCreated || first.Body.String() != again.Body.String() {
		t.Fatalf("create %d, repeated %d: %s / %s", first.Code, again.Code, first.Body, again.Body)
	}
	if w := call(t, s, "POST", base, token("another-partner", time.Now().Add(time.Hour)), "", rel); w.Code != http.StatusCreated {
		t.Errorf("another partner's relationship of the same name: %d", w.Code)
	}
	var created graph.Relationship
	_ = json.Unmarshal(first.Body.Bytes(), &created)
	if w := call(t, s, "GET", base+"/"+created.ID, token("another-partner", time.Now().Add(time.Hour)), "", nil); w.Code != http.StatusNotFound {
		t.Errorf("another partner reads it: %d", w.Code)
	}
	if w := call(t, s, "POST", "/sim/graph/v1/relationships/"+created.ID+"/approve", "", "", nil); w.Code != http.StatusConflict {
		t.Errorf("approving a relationship not locked: %d", w.Code)
	}
	call(t, s, "POST", base+"/"+created.ID+"/requests", tok, "", graph.RelationshipRequest{Action: graph.ActionLockForApproval})
	if w := call(t, s, "POST", "/sim/graph/v1/relationships/"+created.ID+"/approve", "", "", nil); w.Code != http.StatusOK {
		t.Fatalf("approve: %d %s", w.Code, w.Body)
	}
	for range 2 {
		call(t, s, "GET", base+"/"+created.ID, tok, "", nil)
	}
	if w := call(t, s, "POST", "/sim/graph/v1/clock/advance", "", "", map[string]string{"duration": "17520h"}); w.Code != http.StatusOK {
		t.Fatalf("advance: %d", w.Code)
	}
	var got graph.Relationship
	_ = json.Unmarshal(call(t, s, "GET", base+"/"+created.ID, tok, "", nil).Body.Bytes(), &got)
	if got.Status != graph.StatusExpired {
		t.Errorf("after two years: %s", got.Status)
	}
	var st Stats
	_ = json.Unmarshal(call(t, s, "GET", "/sim/graph/v1/stats", "", "", nil).Body.Bytes(), &st)
	if st.DuplicatesSuppressed != 1 || st.ObjectsCreated["relationship"] != 2 || st.RequestsByRoute["CreateRelationship"] != 5 {
		t.Errorf("stats %+v", st)
	}
}

// TestThrottleSaysWhenToRetry: injected throttling answers 429 with Retry-After.
func TestThrottleSaysWhenToRetry(t *testing.T) {
	s, _ := New(Options{ThrottleRate: 1, RetryAfter: 2 * time.Second})
	w := call(t, s, "GET", base, token("partner", time.Now().Add(time.Hour)), "", nil)
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != "2" {
		t.Errorf("%d, Retry-After %q", w.Code, w.Header().Get("Retry-After"))
	}
	if s.Stats().Throttled != 1 {
		t.Errorf("stats %+v", s.Stats())
	}
}

// TestUnsetDatesAnswerAsGraphDoes: a relationship not yet active answers
// "activatedDateTime": "" and "endDateTime": "", as Graph's documented
// create and get responses do, and such an answer reads back.
func TestUnsetDatesAnswerAsGraphDoes(t *testing.T) {
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	tok := token("partner", time.Now().Add(time.Hour))
	w := call(t, s, "POST", base, tok, "req-1", map[string]any{"displayName": "Support", "duration": "P730D",
		"customer": map[string]any{"tenantId": "customer"}, "accessDetails": map[string]any{"unifiedRoles": []any{map[string]any{"roleDefinitionId": "729827e3-9c14-49f7-bb1b-9608f156bbb8"}}}})
	var raw map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &raw); err != nil || w.Code != http.StatusCreated {
		t.Fatalf("create: %d %s", w.Code, w.Body)
	}
	if raw["activatedDateTime"] != "" || raw["endDateTime"] != "" || raw["createdDateTime"] == "" {
		t.Errorf("dates %v / %v / %v: want the unset ones as \"\", as Graph answers", raw["activatedDateTime"], raw["endDateTime"], raw["createdDateTime"])
	}
	var back graph.Relationship // as the client reads it
	if err := json.Unmarshal(w.Body.Bytes(), &back); err != nil || back.ActivatedDateTime != nil || back.CreatedDateTime == nil {
		t.Errorf("read back: %+v, %v", back, err)
	}
}
