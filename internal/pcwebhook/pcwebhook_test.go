package pcwebhook_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/partnerops/multichannel-operator/internal/pcwebhook"
)

// The documented callback: its headers as the page shows them ("Receiving
// events from Partner Center"), its body in testdata.
const (
	docCertURL   = "https://3psostorageacct.blob.core.windows.net/cert/pcnotifications-dispatch.microsoft.com.cer"
	docSignature = "VOhcjRqA4f7u/4R29ohEzwRZibZdzfgG5/w4fHUnu8FHauBEVch8m2+5OgjLZRL33CIQpmqr2t0FsGF0UdmCR2OdY7rrAh/6QUW+u+jRUCV1s62M76jbVpTTGShmrANxnl8gz4LsbY260LAsDHufd6ab4oejerx1Ey9sFC+xwVTa+J4qGgeyIepeu4YCM0oB2RFS9rRB2F1s1OeAAPEhG7olp8B00Jss3PQrpLGOoAr5+fnQp8GOK8IdKF1/abUIyyvHxEjL76l7DVQN58pIJg4YC+pLs8pi6sTKvOdSVyCnjf+uYQWwmmWujSHfyU37j2Fzz16PJyWH41K8ZXJJkw=="
)

func example(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// pki is a root and a signer issued by it, named as Partner Center's
// documented certificate is.
type pki struct {
	root       *x509.Certificate
	signer     *x509.Certificate
	signerKey  *rsa.PrivateKey
	rootKey    *rsa.PrivateKey
	rootPool   *x509.CertPool
	signerDER  []byte
	otherDER   map[string][]byte // further certificates, by URL path
	fetches    atomic.Int64
	mu         sync.Mutex
	unreadable bool
}

var (
	keysOnce sync.Once
	keys     [3]*rsa.PrivateKey
)

func testKeys(t *testing.T) [3]*rsa.PrivateKey {
	t.Helper()
	keysOnce.Do(func() {
		for i := range keys {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
			keys[i] = k
		}
	})
	return keys
}

func certificate(t *testing.T, subject pkix.Name, dns []string, key, parentKey *rsa.PrivateKey, parent *x509.Certificate, ca bool) *x509.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: subject, DNSNames: dns,
		NotBefore: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC),
		KeyUsage: x509.KeyUsageDigitalSignature, BasicConstraintsValid: true, IsCA: ca}
	if ca {
		tmpl.KeyUsage |= x509.KeyUsageCertSign
	}
	if parent == nil {
		parent = tmpl
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var microsoft = []string{pcwebhook.DefaultOrganization}

func newPKI(t *testing.T) *pki {
	t.Helper()
	k := testKeys(t)
	root := certificate(t, pkix.Name{CommonName: "Test Root", Organization: microsoft}, nil, k[0], k[0], nil, true)
	signer := certificate(t, pkix.Name{CommonName: pcwebhook.DefaultSubjectName, Organization: microsoft}, []string{pcwebhook.DefaultSubjectName}, k[1], k[0], root, false)
	p := &pki{root: root, rootKey: k[0], signer: signer, signerKey: k[1], rootPool: x509.NewCertPool(), signerDER: signer.Raw, otherDER: map[string][]byte{}}
	p.rootPool.AddCert(root)
	return p
}

// fetch serves the signer at the documented path, and other certificates
// at theirs.
func (p *pki) fetch(_ context.Context, u *url.URL) ([]byte, error) {
	p.fetches.Add(1)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.unreadable {
		return nil, errors.New("connection refused")
	}
	if der, ok := p.otherDER[u.Path]; ok {
		return der, nil
	}
	if u.Path == "/cert/pcnotifications-dispatch.microsoft.com.cer" {
		return p.signerDER, nil
	}
	return nil, pcwebhook.ErrNoCertificate
}

func sign(t *testing.T, key *rsa.PrivateKey, body []byte) string {
	t.Helper()
	digest := sha256.Sum256(body)
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(sig)
}

// docEventTime is just after the documented reseller event's date.
var docEventTime = time.Date(2023, 10, 18, 0, 27, 0, 0, time.UTC)

type harness struct {
	t        *testing.T
	pki      *pki
	rc       *pcwebhook.Receiver
	metrics  *pcwebhook.Metrics
	mu       sync.Mutex
	events   []pcwebhook.Event
	failNext bool
}

func newHarness(t *testing.T, mutate ...func(*pcwebhook.Options)) *harness {
	t.Helper()
	h := &harness{t: t, pki: newPKI(t), metrics: pcwebhook.NewMetrics()}
	opts := pcwebhook.Options{Roots: h.pki.rootPool, Fetcher: pcwebhook.FetcherFunc(h.pki.fetch), Metrics: h.metrics,
		Now: func() time.Time { return docEventTime }}
	for _, m := range mutate {
		m(&opts)
	}
	rc, err := pcwebhook.New(h.callback, opts)
	if err != nil {
		t.Fatal(err)
	}
	h.rc = rc
	return h
}

func (h *harness) callback(_ context.Context, e pcwebhook.Event) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.failNext {
		h.failNext = false
		return errors.New("the store is down")
	}
	h.events = append(h.events, e)
	return nil
}

func (h *harness) taken() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.events)
}

// request is a signed POST as Partner Center sends one.
func (h *harness) request(body []byte) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/webhooks/callback", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Authorization", "Signature "+sign(h.t, h.pki.signerKey, body))
	r.Header.Set("X-MS-Certificate-Url", docCertURL)
	r.Header.Set("X-MS-Signature-Algorithm", "rsa-sha256")
	return r
}

func (h *harness) serve(r *http.Request) int {
	w := httptest.NewRecorder()
	h.rc.ServeHTTP(w, r)
	return w.Code
}

func TestVerifiedEvent(t *testing.T) {
	h := newHarness(t)
	body := example(t, "webhook-event.reseller-relationship-accepted-by-customer.json")
	if code := h.serve(h.request(body)); code != http.StatusOK {
		t.Fatalf("HTTP %d, counts %+v", code, h.rc.Counts())
	}
	if h.taken() != 1 {
		t.Fatalf("the callback took %d events", h.taken())
	}
	e := h.events[0]
	if e.EventName != "reseller-relationship-accepted-by-customer" || e.CustomerID() != "4b2a6e33-8791-4386-bd2b-0d55baf25039" ||
		e.AuditID() != "60d5c4bb-f78a-4200-a002-953d7cc1f5f8_4b2a6e33-8791-4386-bd2b-0d55baf25039_resellerrelationshipacceptedbycustomer_638331855840159088" ||
		!e.ResourceChangeUTCDate.Equal(time.Date(2023, 10, 18, 0, 26, 24, 15908800, time.UTC)) {
		t.Errorf("event = %+v", e)
	}
	if c := h.rc.Counts(); c != (pcwebhook.Counts{Verified: 1}) {
		t.Errorf("counts = %+v", c)
	}
	if got := testutil.ToFloat64(h.metrics.Requests(pcwebhook.OutcomeVerified)); got != 1 {
		t.Errorf("verified metric = %v", got)
	}
	// x-ms-signature instead of Authorization (SignatureTokenToMsSignatureHeader).
	other := bytes.Replace(body, []byte("00:26:24"), []byte("00:26:25"), 1)
	r := h.request(other)
	r.Header.Set("X-MS-Signature", r.Header.Get("Authorization"))
	r.Header.Set("Authorization", "Bearer something-else")
	if code := h.serve(r); code != http.StatusOK || h.taken() != 2 {
		t.Errorf("x-ms-signature: HTTP %d, %d taken", code, h.taken())
	}
}

// TestForgedRequests: each is refused 401, counted forged, and reaches no callback.
func TestForgedRequests(t *testing.T) {
	body := example(t, "webhook-event.reseller-relationship-accepted-by-customer.json")
	tests := []struct {
		name    string
		mutate  func(h *harness, r *http.Request)
		fetches bool
	}{
		{"signature of another body", func(h *harness, r *http.Request) {
			r.Header.Set("Authorization", "Signature "+sign(t, h.pki.signerKey, []byte(`{"EventName":"test-created"}`)))
		}, true},
		{"signed with another key", func(h *harness, r *http.Request) {
			r.Header.Set("Authorization", "Signature "+sign(t, h.pki.rootKey, body))
		}, true},
		{"certificate on another host", func(h *harness, r *http.Request) {
			r.Header.Set("X-MS-Certificate-Url", "https://attacker.example.com/cert/pcnotifications-dispatch.microsoft.com.cer")
		}, false},
		{"certificate host as a suffix", func(h *harness, r *http.Request) {
			r.Header.Set("X-MS-Certificate-Url", "https://3psostorageacct.blob.core.windows.net.attacker.example/cert/x.cer")
		}, false},
		{"certificate URL over http", func(h *harness, r *http.Request) {
			r.Header.Set("X-MS-Certificate-Url", "http://3psostorageacct.blob.core.windows.net/cert/pcnotifications-dispatch.microsoft.com.cer")
		}, false},
		{"certificate URL with credentials", func(h *harness, r *http.Request) {
			r.Header.Set("X-MS-Certificate-Url", "https://user:pw@3psostorageacct.blob.core.windows.net/cert/pcnotifications-dispatch.microsoft.com.cer")
		}, false},
		{"certificate for another name", func(h *harness, r *http.Request) {
			h.servesSigner(t, "/cert/other.cer", pkix.Name{CommonName: "other.microsoft.com", Organization: microsoft}, h.pki.root, h.pki.rootKey)
			r.Header.Set("X-MS-Certificate-Url", "https://3psostorageacct.blob.core.windows.net/cert/other.cer")
		}, true},
		{"certificate of another organization", func(h *harness, r *http.Request) {
			h.servesSigner(t, "/cert/org.cer", pkix.Name{CommonName: pcwebhook.DefaultSubjectName, Organization: []string{"Contoso"}}, h.pki.root, h.pki.rootKey)
			r.Header.Set("X-MS-Certificate-Url", "https://3psostorageacct.blob.core.windows.net/cert/org.cer")
		}, true},
		{"certificate from an untrusted root", func(h *harness, r *http.Request) {
			k := testKeys(t)
			self := certificate(t, pkix.Name{CommonName: "Self", Organization: microsoft}, nil, k[2], k[2], nil, true)
			h.servesSigner(t, "/cert/self.cer", pkix.Name{CommonName: pcwebhook.DefaultSubjectName, Organization: microsoft}, self, k[2])
			r.Header.Set("X-MS-Certificate-Url", "https://3psostorageacct.blob.core.windows.net/cert/self.cer")
		}, true},
		{"no certificate at the URL", func(h *harness, r *http.Request) {
			r.Header.Set("X-MS-Certificate-Url", "https://3psostorageacct.blob.core.windows.net/cert/missing.cer")
		}, true},
		{"SHA-1", func(h *harness, r *http.Request) { r.Header.Set("X-MS-Signature-Algorithm", "rsa-sha1") }, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			r := h.request(body)
			tc.mutate(h, r)
			if code := h.serve(r); code != http.StatusUnauthorized {
				t.Errorf("HTTP %d, want 401", code)
			}
			if c := h.rc.Counts(); h.taken() != 0 || c != (pcwebhook.Counts{Forged: 1}) {
				t.Errorf("taken %d, counts %+v", h.taken(), c)
			}
			if fetched := h.pki.fetches.Load() > 0; fetched != tc.fetches {
				t.Errorf("fetched a certificate: %v, want %v", fetched, tc.fetches)
			}
		})
	}
}

// servesSigner makes the fetcher serve, at path, a signer named subject
// (its DNS name the common name) issued by parent.
func (h *harness) servesSigner(t *testing.T, path string, subject pkix.Name, parent *x509.Certificate, parentKey *rsa.PrivateKey) {
	c := certificate(t, subject, []string{subject.CommonName}, h.pki.signerKey, parentKey, parent, false)
	h.pki.mu.Lock()
	defer h.pki.mu.Unlock()
	h.pki.otherDER[path] = c.Raw
}

// TestDocumentedCallback: the documented request, headers and body as
// printed, is read (not malformed) and refused as forged: its signature is
// not the test certificate's.
func TestDocumentedCallback(t *testing.T) {
	h := newHarness(t, func(o *pcwebhook.Options) {
		o.Now = func() time.Time { return time.Date(2017, 11, 16, 16, 20, 0, 0, time.UTC) }
	})
	body := example(t, "webhook-callback.test-created.json")
	r := httptest.NewRequest(http.MethodPost, "/webhooks/callback", bytes.NewReader(body))
	r.Header.Set("Authorization", "Signature "+docSignature)
	r.Header.Set("X-MS-Certificate-Url", docCertURL)
	r.Header.Set("X-MS-Signature-Algorithm", "rsa-sha256")
	if code := h.serve(r); code != http.StatusUnauthorized || h.rc.Counts() != (pcwebhook.Counts{Forged: 1}) {
		t.Errorf("HTTP %d, counts %+v", code, h.rc.Counts())
	}
	e, err := pcwebhook.ParseEvent(body)
	if err != nil || e.EventName != "test-created" || e.ResourceName != "test" || e.AuditURI != "" {
		t.Errorf("ParseEvent = %+v, %v", e, err)
	}
}

func TestReplays(t *testing.T) {
	body := example(t, "webhook-event.reseller-relationship-accepted-by-customer.json")
	h := newHarness(t)
	first := h.request(body)
	again := h.request(body) // the same event, signed again
	if code := h.serve(first); code != http.StatusOK {
		t.Fatalf("first: HTTP %d", code)
	}
	if code := h.serve(again); code != http.StatusConflict {
		t.Errorf("replay: HTTP %d, want 409", code)
	}
	if h.taken() != 1 || h.rc.Counts() != (pcwebhook.Counts{Verified: 1, Replayed: 1}) {
		t.Errorf("taken %d, counts %+v", h.taken(), h.rc.Counts())
	}

	for _, tc := range []struct {
		name string
		now  time.Time
	}{
		{"older than the window", docEventTime.Add(pcwebhook.DefaultMaxAge + time.Hour)},
		{"dated in the future", docEventTime.Add(-time.Hour)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, func(o *pcwebhook.Options) { o.Now = func() time.Time { return tc.now } })
			if code := h.serve(h.request(body)); code != http.StatusConflict || h.taken() != 0 || h.rc.Counts() != (pcwebhook.Counts{Replayed: 1}) {
				t.Errorf("HTTP %d, taken %d, counts %+v", code, h.taken(), h.rc.Counts())
			}
		})
	}
}

// TestFailedCallbackIsTakenAgain: a failed callback answers 500 and the
// event is not remembered, so Partner Center's next attempt is taken.
func TestFailedCallbackIsTakenAgain(t *testing.T) {
	body := example(t, "webhook-event.reseller-relationship-accepted-by-customer.json")
	h := newHarness(t)
	h.failNext = true
	if code := h.serve(h.request(body)); code != http.StatusInternalServerError {
		t.Fatalf("HTTP %d, want 500", code)
	}
	if code := h.serve(h.request(body)); code != http.StatusOK || h.taken() != 1 {
		t.Fatalf("the second attempt: HTTP %d, taken %d", code, h.taken())
	}
	if c := h.rc.Counts(); c != (pcwebhook.Counts{Verified: 1, Failed: 1}) {
		t.Errorf("counts %+v", c)
	}
}

func TestMalformedRequests(t *testing.T) {
	body := example(t, "webhook-event.reseller-relationship-accepted-by-customer.json")
	tests := []struct {
		name   string
		req    func(h *harness) *http.Request
		status int
	}{
		{"GET", func(h *harness) *http.Request {
			r := h.request(body)
			r.Method = http.MethodGet
			return r
		}, http.StatusMethodNotAllowed},
		{"no signature", func(h *harness) *http.Request {
			r := h.request(body)
			r.Header.Del("Authorization")
			return r
		}, http.StatusBadRequest},
		{"a Bearer token", func(h *harness) *http.Request {
			r := h.request(body)
			r.Header.Set("Authorization", "Bearer eyJ0e")
			return r
		}, http.StatusBadRequest},
		{"signature not base64", func(h *harness) *http.Request {
			r := h.request(body)
			r.Header.Set("Authorization", "Signature ***")
			return r
		}, http.StatusBadRequest},
		{"no certificate URL", func(h *harness) *http.Request {
			r := h.request(body)
			r.Header.Del("X-MS-Certificate-Url")
			return r
		}, http.StatusBadRequest},
		{"no algorithm", func(h *harness) *http.Request {
			r := h.request(body)
			r.Header.Del("X-MS-Signature-Algorithm")
			return r
		}, http.StatusBadRequest},
		{"too large", func(h *harness) *http.Request {
			return h.request(bytes.Repeat([]byte(" "), pcwebhook.DefaultMaxBodyBytes+1))
		}, http.StatusRequestEntityTooLarge},
		{"signed, not an event", func(h *harness) *http.Request { return h.request([]byte(`["subscription-updated"]`)) }, http.StatusBadRequest},
		{"signed, no EventName", func(h *harness) *http.Request {
			return h.request([]byte(`{"ResourceChangeUtcDate": "2023-10-18T00:26:24Z"}`))
		}, http.StatusBadRequest},
		{"signed, no date", func(h *harness) *http.Request { return h.request([]byte(`{"EventName": "test-created"}`)) }, http.StatusBadRequest},
		{"signed, not UTF-8", func(h *harness) *http.Request {
			return h.request([]byte("{\"EventName\": \"test-\xff\", \"ResourceChangeUtcDate\": \"2023-10-18T00:26:24Z\"}"))
		}, http.StatusBadRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			if code := h.serve(tc.req(h)); code != tc.status {
				t.Errorf("HTTP %d, want %d", code, tc.status)
			}
			if c := h.rc.Counts(); h.taken() != 0 || c != (pcwebhook.Counts{Malformed: 1}) {
				t.Errorf("taken %d, counts %+v", h.taken(), c)
			}
		})
	}
}

// TestCertificateCache: a certificate is fetched once for many events; a
// refused one is not fetched again at once; an unreachable one answers 503.
func TestCertificateCache(t *testing.T) {
	h := newHarness(t)
	for i := range 3 {
		body := []byte(`{"EventName":"test-created","ResourceUri":"x","ResourceName":"test","AuditUri":null,"ResourceChangeUtcDate":"2023-10-18T00:26:2` + string(rune('0'+i)) + `Z"}`)
		if code := h.serve(h.request(body)); code != http.StatusOK {
			t.Fatalf("event %d: HTTP %d", i, code)
		}
	}
	if n := h.pki.fetches.Load(); n != 1 {
		t.Errorf("fetched %d times for 3 events", n)
	}

	h = newHarness(t)
	h.pki.unreadable = true
	body := example(t, "webhook-event.reseller-relationship-accepted-by-customer.json")
	if code := h.serve(h.request(body)); code != http.StatusServiceUnavailable || h.rc.Counts() != (pcwebhook.Counts{Unavailable: 1}) {
		t.Errorf("unreachable certificate: HTTP %d, counts %+v", code, h.rc.Counts())
	}
	for range 2 {
		r := h.request(body)
		r.Header.Set("X-MS-Certificate-Url", "https://3psostorageacct.blob.core.windows.net/cert/missing.cer")
		h.pki.unreadable = false
		h.serve(r)
	}
	if n := h.pki.fetches.Load(); n != 2 {
		t.Errorf("fetched %d times; a refused URL is fetched once a minute", n)
	}
}

func TestHTTPFetcher(t *testing.T) {
	der := newPKI(t).signerDER
	mux := http.NewServeMux()
	mux.HandleFunc("/cert/ok.cer", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(der) })
	mux.HandleFunc("/cert/moved.cer", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://attacker.example.com/x.cer", http.StatusFound)
	})
	srv := httptest.NewTLSServer(mux)
	t.Cleanup(srv.Close)
	f := pcwebhook.HTTPFetcher(srv.Client())
	ctx := context.Background()
	u, _ := url.Parse(srv.URL + "/cert/ok.cer")
	if got, err := f.Fetch(ctx, u); err != nil || !bytes.Equal(got, der) {
		t.Errorf("Fetch = %d bytes, %v", len(got), err)
	}
	for _, path := range []string{"/cert/moved.cer", "/cert/missing.cer"} {
		u, _ := url.Parse(srv.URL + path)
		if _, err := f.Fetch(ctx, u); !errors.Is(err, pcwebhook.ErrNoCertificate) {
			t.Errorf("%s: %v, want ErrNoCertificate (no redirect followed)", path, err)
		}
	}
	plain, _ := url.Parse(strings.Replace(srv.URL, "https:", "http:", 1) + "/cert/ok.cer")
	if _, err := f.Fetch(ctx, plain); !errors.Is(err, pcwebhook.ErrNoCertificate) {
		t.Errorf("http: %v", err)
	}
}

func TestParseDocumentedEvents(t *testing.T) {
	e, err := pcwebhook.ParseEvent(example(t, "webhook-event.subscription-updated.json"))
	if err != nil || e.EventName != "subscription-updated" || e.ResourceName != "subscription" {
		t.Fatalf("ParseEvent = %+v, %v", e, err)
	}
	// The example's URIs hold placeholders ({{CustomerId}}), which are not IDs.
	if e.CustomerID() != "" || e.SubscriptionID() != "" || e.AuditID() != "" {
		t.Errorf("IDs: %q %q %q", e.CustomerID(), e.SubscriptionID(), e.AuditID())
	}
	e.ResourceURI = "https://api.partnercenter.microsoft.com/webhooks/v1/customers/4b2a6e33-8791-4386-bd2b-0d55baf25039/subscriptions/6e7aa601-629e-461b-8933-0898c3cc3c7c"
	if e.CustomerID() != "4b2a6e33-8791-4386-bd2b-0d55baf25039" || e.SubscriptionID() != "6e7aa601-629e-461b-8933-0898c3cc3c7c" {
		t.Errorf("IDs of a real URI: %q %q", e.CustomerID(), e.SubscriptionID())
	}
}
