package azurerm_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/partnerops/multichannel-operator/internal/azurerm"
)

// credential hands out an unsigned JWT with its claims, and records the
// scopes it was asked for.
type credential struct {
	claims map[string]any

	mu     sync.Mutex
	scopes [][]string
}

func newCredential(tenant, audience string) *credential {
	return &credential{claims: map[string]any{"tid": tenant, "aud": audience, "exp": time.Now().Add(time.Hour).Unix()}}
}

func (c *credential) GetToken(_ context.Context, opts policy.TokenRequestOptions) (azcore.AccessToken, error) {
	c.mu.Lock()
	c.scopes = append(c.scopes, opts.Scopes)
	c.mu.Unlock()
	return azcore.AccessToken{Token: jwtOf(c.claims), ExpiresOn: time.Now().Add(time.Hour)}, nil
}

func jwtOf(claims map[string]any) string {
	payload, _ := json.Marshal(claims)
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + enc(payload) + "." + enc([]byte("unsigned"))
}

// recorded is a request a test server received.
type recorded struct {
	Method, Path, APIVersion, Authorization string
	Body                                    []byte
}

// recorder serves answer and records every request.
type recorder struct {
	mu       sync.Mutex
	requests []recorded
	answer   func(w http.ResponseWriter, r *http.Request)
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rec.mu.Lock()
	rec.requests = append(rec.requests, recorded{r.Method, r.URL.Path, r.URL.Query().Get("api-version"), r.Header.Get("Authorization"), body})
	rec.mu.Unlock()
	rec.answer(w, r)
}

func (rec *recorder) all() []recorded {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]recorded(nil), rec.requests...)
}

// serve starts a TLS server and a client for it with cred.
func serve(t *testing.T, h http.Handler, cred azcore.TokenCredential) *azurerm.Client {
	t.Helper()
	srv := httptest.NewTLSServer(h)
	t.Cleanup(srv.Close)
	c, err := azurerm.New(azurerm.Config{Endpoint: srv.URL, Credential: cred})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// answerJSON answers status with body.
func answerJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// example is a spec example file: its parameters and its answers by status.
type example struct {
	Parameters map[string]json.RawMessage `json:"parameters"`
	Responses  map[string]struct {
		Body json.RawMessage `json:"body"`
	} `json:"responses"`
}

func readExample(t *testing.T, name string) example {
	t.Helper()
	var e example
	if err := json.Unmarshal(readFile(t, name), &e); err != nil {
		t.Fatal(err)
	}
	return e
}

// properties returns the "properties" object of a request body, its keys as
// written.
func properties(t *testing.T, body []byte) map[string]any {
	t.Helper()
	var b map[string]map[string]any
	if err := json.Unmarshal(body, &b); err != nil {
		t.Fatalf("request body %s: %v", body, err)
	}
	return b["properties"]
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}
