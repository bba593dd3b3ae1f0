package controllers_test

import (
	"bytes"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	"github.com/partnerops/multichannel-operator/controllers"
	pc "github.com/partnerops/multichannel-operator/internal/partnercenter"
	"github.com/partnerops/multichannel-operator/internal/pcwebhook"
)

// Partner Center's webhooks, received by the manager: the simulator signs
// each event as Partner Center does and sends it to the URL contoso
// registered (https, so through a TLS proxy in front of the manager's
// loopback listener), and the receiver trusts the simulator's certificate
// host and root only.

// webhookRig is the proxy, and the requests it passed on.
type webhookRig struct {
	addr  string
	proxy *httptest.Server
	mu    sync.Mutex
	sent  []capturedRequest
}

type capturedRequest struct {
	header http.Header
	body   []byte
}

func withWebhooks(rig *webhookRig) harnessOption {
	return func(c *harnessConfig) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			panic(err)
		}
		rig.addr = ln.Addr().String()
		_ = ln.Close() // the manager's receiver listens here
		rig.proxy = httptest.NewTLSServer(http.HandlerFunc(rig.forward))
		c.sim.WebhookClient = rig.proxy.Client()
		c.webhookAddr = rig.addr
		c.webhook = func(h *harness, o pcwebhook.Options) pcwebhook.Options {
			u, _ := url.Parse(h.simURL)
			root, err := h.sim.WebhookRoot()
			if err != nil {
				panic(err)
			}
			roots := x509.NewCertPool()
			roots.AddCert(root)
			o.CertificateHosts, o.Roots, o.Now = []string{u.Host}, roots, h.sim.Now
			o.Fetcher = pcwebhook.HTTPFetcher(rig.proxy.Client()) // trusts httptest's certificate, the simulator's too
			return o
		}
	}
}

// forward passes a request on to the receiver, keeping a copy.
func (rig *webhookRig) forward(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rig.mu.Lock()
	rig.sent = append(rig.sent, capturedRequest{r.Header.Clone(), body})
	rig.mu.Unlock()
	status, answer := rig.post(r.Header, body)
	w.WriteHeader(status)
	_, _ = io.WriteString(w, answer)
}

// post sends a request to the receiver as the proxy does.
func (rig *webhookRig) post(header http.Header, body []byte) (int, string) {
	req, _ := http.NewRequest(http.MethodPost, "http://"+rig.addr+controllers.WebhookPath, bytes.NewReader(body))
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return http.StatusBadGateway, err.Error()
	}
	defer func() { _ = resp.Body.Close() }()
	answer, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(answer)
}

func (rig *webhookRig) captured() []capturedRequest {
	rig.mu.Lock()
	defer rig.mu.Unlock()
	return append([]capturedRequest(nil), rig.sent...)
}

// webhookCount is the receiver's counter of one outcome.
func webhookCount(t *testing.T, outcome pcwebhook.Outcome) float64 {
	t.Helper()
	families, err := metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "multichannel_partnercenter_webhook_requests_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			if labelIs(m, "outcome", string(outcome)) {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

func labelIs(m *dto.Metric, name, value string) bool {
	for _, l := range m.GetLabel() {
		if l.GetName() == name && l.GetValue() == value {
			return true
		}
	}
	return false
}

// TestWebhookWakesRelationship: with the activity log read once an hour
// (so the relationship polls only hourly), the customer's acceptance
// reaches the relationship by Partner Center's signed webhook. A forged
// copy and a replayed one are refused, counted, and change nothing.
func TestWebhookWakesRelationship(t *testing.T) {
	rig := &webhookRig{}
	h := start(t, withActivityLog(time.Hour), withWebhooks(rig))
	defer rig.proxy.Close()
	contoso := h.contoso()
	if _, err := contosoClient(t, h).EnsureWebhookRegistration(h.ctx, pc.WebhookRegistration{
		WebhookURL: rig.proxy.URL + controllers.WebhookPath, WebhookEvents: pc.OperatorWebhookEvents}); err != nil {
		t.Fatal(err)
	}
	h.customer("woodgrove")
	h.create(&v1alpha1.ResellerRelationship{ObjectMeta: metav1.ObjectMeta{Namespace: h.ns, Name: "woodgrove-contoso"},
		Spec: v1alpha1.ResellerRelationshipSpec{PartnerRef: contoso.Name, CustomerRef: "woodgrove"}})
	h.waitRelationship("woodgrove-contoso", v1alpha1.RelationshipRequested)
	h.eventually("contoso's activity log was read", func() error {
		if h.partnerActivity(contoso.Name) == nil {
			return errf("not yet")
		}
		return nil
	})
	// Polling only hourly: the relationship asks Partner Center no more.
	h.waitQuiet()
	lookups := h.sim.Stats().RequestsByRoute["GetCustomer"]
	h.waitQuiet()
	if n := h.sim.Stats().RequestsByRoute["GetCustomer"]; n != lookups {
		t.Fatalf("the relationship polled %d times while the activity log was read", n-lookups)
	}
	verified, forged, replayed := webhookCount(t, pcwebhook.OutcomeVerified), webhookCount(t, pcwebhook.OutcomeForged), webhookCount(t, pcwebhook.OutcomeReplayed)

	h.customerAccepts(contosoTenant)
	h.waitRelationship("woodgrove-contoso", v1alpha1.RelationshipApproved)
	if n := webhookCount(t, pcwebhook.OutcomeVerified); n <= verified {
		t.Errorf("verified webhooks %v, want more than %v", n, verified)
	}

	var event capturedRequest
	for _, c := range rig.captured() {
		if strings.Contains(string(c.body), pc.EventResellerRelationshipAccepted) {
			event = c
		}
	}
	if event.body == nil {
		t.Fatal("no reseller-relationship-accepted-by-customer event reached the receiver")
	}
	tampered := bytes.Replace(event.body, []byte(woodgroveTenant), []byte("00000000-0000-4000-8000-000000000000"), 1)
	if status, answer := rig.post(event.header, tampered); status < 400 || !strings.Contains(answer, string(pcwebhook.OutcomeForged)) {
		t.Errorf("a forged event: HTTP %d %q", status, answer)
	}
	if status, answer := rig.post(event.header, event.body); status < 400 || !strings.Contains(answer, string(pcwebhook.OutcomeReplayed)) {
		t.Errorf("a replayed event: HTTP %d %q", status, answer)
	}
	if webhookCount(t, pcwebhook.OutcomeForged) != forged+1 || webhookCount(t, pcwebhook.OutcomeReplayed) != replayed+1 {
		t.Errorf("forged %v (was %v), replayed %v (was %v): want one more each", webhookCount(t, pcwebhook.OutcomeForged), forged,
			webhookCount(t, pcwebhook.OutcomeReplayed), replayed)
	}
}
