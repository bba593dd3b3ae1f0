package notify_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/partnerops/multichannel-operator/internal/notify"
	"github.com/partnerops/multichannel-operator/internal/notify/notifytest"
)

func TestSendDeliversOneCloudEvent(t *testing.T) {
	rcv := notifytest.NewReceiver(t, "s3cret")
	inv := invitation()
	id, err := (&notify.Webhook{URL: rcv.URL() + "/hook", Token: "s3cret"}).Send(context.Background(), inv)
	if err != nil || id != inv.ID {
		t.Fatalf("Send = %q, %v; want %q", id, err, inv.ID)
	}
	events := rcv.Events()
	if len(events) != 1 {
		t.Fatalf("%d events, want 1", len(events))
	}
	ev := events[0]
	if ev.ID != inv.ID || ev.Source != "/multichannel-operator/partners/fabrikam" || ev.Type != notify.EventTypeInvitation ||
		ev.Subject != "tenants/contoso" || !ev.Time.Equal(inv.Time) || ev.DataContentType != "application/json" {
		t.Errorf("attributes: id %q source %q type %q subject %q time %v datacontenttype %q", ev.ID, ev.Source, ev.Type, ev.Subject, ev.Time, ev.DataContentType)
	}
	// Binary content mode: the attributes are headers, the body is the data.
	if ev.Header.Get("Ce-Specversion") != "1.0" || ev.Header.Get("Ce-Id") != inv.ID || ev.Header.Get("Content-Type") != "application/json" {
		t.Errorf("not binary mode: %v", ev.Header)
	}

	expires := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	want := notify.Payload{
		Customer: notify.PayloadCustomer{Namespace: "tenants", Name: "contoso", DisplayName: "Contoso Ltd", TenantID: "6f1bd5c1-0d3b-4c5e-9bb1-7f4f9d2b6a10"},
		Partner:  notify.PayloadPartner{Name: "fabrikam", DisplayName: "Fabrikam Cloud"},
		Contacts: []notify.PayloadContact{
			{Name: "Ada", Email: "ada@contoso.com", Roles: []notify.Role{notify.RoleGlobalAdmin}},
			{Name: "Bob", Email: "bob@contoso.com", Roles: []notify.Role{notify.RoleBilling}},
		},
		Actions: []notify.PayloadAction{
			{Kind: notify.AcceptResellerRelationship, Object: "tenants/contoso-reseller", URL: resellerLink,
				Explanation: notify.AcceptResellerRelationship.Explanation("Fabrikam Cloud"), Roles: []notify.Role{notify.RoleGlobalAdmin}},
			{Kind: notify.ApproveAdminRelationship, Object: "tenants/contoso-gdap", URL: gdapLink, ExpiresAt: &expires,
				Explanation: notify.ApproveAdminRelationship.Explanation("Fabrikam Cloud"), Roles: []notify.Role{notify.RoleGlobalAdmin}},
			{Kind: notify.AcceptCustomerAgreement, Object: "tenants/contoso", URL: mcaLink,
				Explanation: notify.AcceptCustomerAgreement.Explanation("Fabrikam Cloud"), Roles: []notify.Role{notify.RoleGlobalAdmin, notify.RoleBilling}},
		},
	}
	if got, want := jsonOf(t, ev.Payload), jsonOf(t, want); got != want {
		t.Errorf("payload\n got %s\nwant %s", got, want)
	}
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestReminderEvent(t *testing.T) {
	rcv := notifytest.NewReceiver(t, "")
	inv := invitation()
	inv.Reminder = 2
	if _, err := (&notify.Webhook{URL: rcv.URL()}).Send(context.Background(), inv); err != nil {
		t.Fatal(err)
	}
	if ev := rcv.Events(); len(ev) != 1 || ev[0].Type != notify.EventTypeReminder || ev[0].Payload.Reminder != 2 {
		t.Errorf("events %+v, want one reminder.v1 with reminder 2", ev)
	}
}

// TestSendingAgainIsADuplicate: the receiver keeps a re-sent delivery once.
func TestSendingAgainIsADuplicate(t *testing.T) {
	rcv := notifytest.NewReceiver(t, "s3cret")
	w := &notify.Webhook{URL: rcv.URL(), Token: "s3cret"}
	for range 2 {
		if _, err := w.Send(context.Background(), invitation()); err != nil {
			t.Fatal(err)
		}
	}
	if rcv.Deliveries() != 2 || len(rcv.Events()) != 1 {
		t.Errorf("deliveries %d, events %d; want 2, 1", rcv.Deliveries(), len(rcv.Events()))
	}
}

func TestWrongTokenIsPermanent(t *testing.T) {
	rcv := notifytest.NewReceiver(t, "right")
	_, err := (&notify.Webhook{URL: rcv.URL(), Token: "wrong"}).Send(context.Background(), invitation())
	var se *notify.StatusError
	if !errors.As(err, &se) || se.StatusCode != http.StatusUnauthorized || notify.Retryable(err) {
		t.Fatalf("err %v: want a permanent 401", err)
	}
	if strings.Contains(err.Error(), "wrong") && !strings.Contains(err.Error(), "bearer token missing or wrong") {
		t.Errorf("the error shows the token: %v", err)
	}
	if len(rcv.Events()) != 0 {
		t.Error("an event with the wrong token was kept")
	}
}

func TestFailureIsRetryableThenDelivered(t *testing.T) {
	rcv := notifytest.NewReceiver(t, "s3cret")
	rcv.FailNext(1, http.StatusServiceUnavailable)
	w := &notify.Webhook{URL: rcv.URL(), Token: "s3cret"}
	_, err := w.Send(context.Background(), invitation())
	d, ok := notify.RetryAfter(err)
	if !notify.Retryable(err) || !ok || d != notifytest.RetryAfterSeconds*time.Second {
		t.Fatalf("err %v: retryable %v, retry after %v %v; want retryable after %ds", err, notify.Retryable(err), d, ok, notifytest.RetryAfterSeconds)
	}
	if _, err := w.Send(context.Background(), invitation()); err != nil {
		t.Fatalf("sending again: %v", err)
	}
	if rcv.Deliveries() != 2 || len(rcv.Events()) != 1 {
		t.Errorf("deliveries %d, events %d; want 2, 1", rcv.Deliveries(), len(rcv.Events()))
	}
}

func TestStatusClassification(t *testing.T) {
	body := strings.Repeat("x", 300) + "\r\n" + strings.Repeat("y", 2000)
	for status, retryable := range map[int]bool{
		400: false, 403: false, 404: false, 409: false, 422: false, 304: false,
		408: true, 429: true, 500: true, 502: true, 503: true,
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(status)
			_, _ = w.Write([]byte(body))
		}))
		_, err := (&notify.Webhook{URL: srv.URL}).Send(context.Background(), invitation())
		srv.Close()
		var se *notify.StatusError
		if !errors.As(err, &se) || se.StatusCode != status || notify.Retryable(err) != retryable {
			t.Errorf("HTTP %d: err %v, want a StatusError, retryable %v", status, err, retryable)
			continue
		}
		if status == http.StatusNotModified {
			continue // no body
		}
		if len(se.Body) > 512 || !strings.HasPrefix(se.Body, "xxx") || strings.ContainsAny(se.Body, "\r\n") || strings.Contains(se.Body, strings.Repeat("y", 300)) {
			t.Errorf("HTTP %d: body kept is %d bytes: %q", status, len(se.Body), se.Body)
		}
	}
}

func TestRedirectNotFollowed(t *testing.T) {
	rcv := notifytest.NewReceiver(t, "s3cret")
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, rcv.URL(), http.StatusTemporaryRedirect)
	}))
	defer redirector.Close()
	// Even a client told to follow redirects does not.
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return nil }}
	_, err := (&notify.Webhook{URL: redirector.URL, Token: "s3cret", HTTP: hc}).Send(context.Background(), invitation())
	if err == nil || notify.Retryable(err) || !strings.Contains(err.Error(), "307") {
		t.Errorf("err %v: want a permanent error about the 307", err)
	}
	if rcv.Deliveries() != 0 {
		t.Errorf("the redirect was followed: the receiver got %d requests", rcv.Deliveries())
	}
}

// refuseAll is a transport that fails the test if a request is sent.
type refuseAll struct{ t *testing.T }

func (r refuseAll) RoundTrip(req *http.Request) (*http.Response, error) {
	r.t.Errorf("a request was sent to %s", req.URL)
	return nil, errors.New("refused")
}

func TestWebhookURLChecked(t *testing.T) {
	for url, want := range map[string]string{
		"http://hooks.example.com/x":          "not https",
		"ftp://127.0.0.1/x":                   "not https",
		"https://user:pw@hooks.example.com/x": "user info",
		"hooks.example.com/x":                 "not an absolute URL",
		"":                                    "not an absolute URL",
	} {
		_, err := (&notify.Webhook{URL: url, HTTP: &http.Client{Transport: refuseAll{t}}}).Send(context.Background(), invitation())
		if err == nil || !strings.Contains(err.Error(), want) || notify.Retryable(err) || strings.Contains(err.Error(), "pw") {
			t.Errorf("URL %q: err %v, want a permanent error saying %q", url, err, want)
		}
	}
}

func TestBadLinkNotSent(t *testing.T) {
	rcv := notifytest.NewReceiver(t, "")
	inv := invitation()
	inv.Actions[2].URL = "https://evil.example.com/agreement"
	_, err := (&notify.Webhook{URL: rcv.URL()}).Send(context.Background(), inv)
	if !errors.Is(err, notify.ErrLinkRefused) || notify.Retryable(err) || rcv.Deliveries() != 0 {
		t.Errorf("err %v, %d deliveries; want ErrLinkRefused and nothing sent", err, rcv.Deliveries())
	}
}

func TestInvitationChecked(t *testing.T) {
	for name, change := range map[string]func(*notify.Invitation){
		"no ID":      func(i *notify.Invitation) { i.ID = "" },
		"no partner": func(i *notify.Invitation) { i.PartnerName = "" },
		"no time":    func(i *notify.Invitation) { i.Time = time.Time{} },
		"no actions": func(i *notify.Invitation) { i.Actions = nil },
	} {
		inv := invitation()
		change(&inv)
		_, err := (&notify.Webhook{URL: "https://hooks.example.com/x", HTTP: &http.Client{Transport: refuseAll{t}}}).Send(context.Background(), inv)
		if err == nil || notify.Retryable(err) {
			t.Errorf("%s: err %v, want a permanent error", name, err)
		}
	}
}

// TestNoAnswerIsRetryable: a webhook that does not answer may answer later;
// the error never shows the URL's query, which may hold a secret.
func TestNoAnswerIsRetryable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	_, err = (&notify.Webhook{URL: "http://" + addr + "/hook?key=topsecret"}).Send(context.Background(), invitation())
	if err == nil || !notify.Retryable(err) || strings.Contains(err.Error(), "topsecret") {
		t.Errorf("err %v: want a retryable error without the query", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = (&notify.Webhook{URL: "http://" + addr + "/hook"}).Send(ctx, invitation())
	if err == nil || notify.Retryable(err) {
		t.Errorf("canceled: err %v, want a permanent error", err)
	}
}
