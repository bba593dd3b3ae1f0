package partnercenter_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/partnerops/multichannel-operator/internal/apiretry/apiretrytest"
	pc "github.com/partnerops/multichannel-operator/internal/partnercenter"
)

// The webhook registration calls against the examples of the Partner
// Center webhooks page (webhook-*.json; see testdata/SOURCES).

const docCallbackURL = "https://partner.example.com/webhooks/callback"

// documentedRequest is a documented request body with its
// {{YourCallbackUrl}} placeholder filled in.
func documentedRequest(t *testing.T, name string) map[string]any {
	t.Helper()
	return fields(t, []byte(strings.ReplaceAll(string(example(t, name)), "{{YourCallbackUrl}}", docCallbackURL)))
}

func webhookExamples(t *testing.T) map[string]reply {
	return map[string]reply{
		"GET /webhooks/v1/registration/events":                                                {200, example(t, "webhook-events.response.json")},
		"POST /webhooks/v1/registration":                                                      {200, example(t, "webhook-registration-create.response.json")},
		"GET /webhooks/v1/registration":                                                       {200, example(t, "webhook-registration-get.response.json")},
		"PUT /webhooks/v1/registration":                                                       {200, example(t, "webhook-registration-update.response.json")},
		"POST /webhooks/v1/registration/validationEvents":                                     {200, example(t, "webhook-validation-event-create.response.json")},
		"GET /webhooks/v1/registration/validationEvents/04af2aea-d413-42db-824e-f328001484d1": {200, example(t, "webhook-validation-event-get.response.json")},
	}
}

func TestContractWebhookRegistration(t *testing.T) {
	c, d := serveDocumented(t, webhookExamples(t))
	ctx := context.Background()
	events, err := c.WebhookEvents(ctx)
	if err != nil || !reflect.DeepEqual(events, []string{"subscription-updated", "test-created", "usagerecords-thresholdExceeded"}) {
		t.Errorf("WebhookEvents = %v, %v", events, err)
	}
	want := pc.WebhookRegistration{WebhookURL: docCallbackURL, WebhookEvents: []string{"subscription-updated", "test-created"}}
	created, err := c.CreateWebhookRegistration(ctx, want)
	if err != nil || created.SubscriberID != "e82cac64-dc67-4cd3-849b-78b6127dd57d" || created.WebhookURL != "{{YourCallbackUrl}}" ||
		!reflect.DeepEqual(created.WebhookEvents, want.WebhookEvents) {
		t.Errorf("CreateWebhookRegistration = %+v, %v", created, err)
	}
	sameFields(t, "registration", fields(t, d.request(t, http.MethodPost, "/webhooks/v1/registration").body),
		documentedRequest(t, "webhook-registration-create.request.json"))

	got, err := c.GetWebhookRegistration(ctx)
	if err != nil || got.SubscriberID != "" || got.WebhookURL != "{{YourCallbackUrl}}" || len(got.WebhookEvents) != 2 {
		t.Errorf("GetWebhookRegistration = %+v, %v", got, err)
	}
	if _, err := c.UpdateWebhookRegistration(ctx, want); err != nil {
		t.Fatal(err)
	}
	sameFields(t, "registration update", fields(t, d.request(t, http.MethodPut, "/webhooks/v1/registration").body),
		documentedRequest(t, "webhook-registration-update.request.json"))

	id, err := c.SendWebhookTestEvent(ctx)
	if err != nil || id != "04af2aea-d413-42db-824e-f328001484d1" {
		t.Fatalf("SendWebhookTestEvent = %q, %v", id, err)
	}
	if sent := d.request(t, http.MethodPost, "/webhooks/v1/registration/validationEvents"); len(sent.body) != 0 {
		t.Errorf("the test event request sent a body (documented: none): %s", sent.body)
	}
	ev, err := c.GetWebhookTestEvent(ctx, id)
	if err != nil || ev.Status != "completed" || ev.CallbackURL != "{{YourCallbackUrl}}" || len(ev.Results) != 1 || ev.Results[0].ResponseCode != "OK" {
		t.Errorf("GetWebhookTestEvent = %+v, %v", ev, err)
	}
	for _, s := range d.sent {
		if !strings.HasPrefix(s.header.Get("Authorization"), "Bearer ") {
			t.Errorf("%s %s without a bearer token", s.method, s.path)
		}
	}
}

// TestWebhookRegistrationChecks: the client refuses registrations Partner
// Center could not deliver to, before sending them.
func TestWebhookRegistrationChecks(t *testing.T) {
	c, d := serveDocumented(t, webhookExamples(t))
	for _, r := range []pc.WebhookRegistration{
		{WebhookURL: "http://partner.example.com/cb", WebhookEvents: []string{"test-created"}},
		{WebhookURL: "https://user:pw@partner.example.com/cb", WebhookEvents: []string{"test-created"}},
		{WebhookURL: "/cb", WebhookEvents: []string{"test-created"}},
		{WebhookURL: docCallbackURL},
		{WebhookURL: docCallbackURL, WebhookEvents: []string{"test-created", "test-created"}},
	} {
		if _, err := c.CreateWebhookRegistration(context.Background(), r); err == nil {
			t.Errorf("%+v was not refused", r)
		}
	}
	if len(d.sent) != 0 {
		t.Errorf("sent %d requests", len(d.sent))
	}
}

// TestEnsureWebhookRegistrationRace: a registration made between the read
// and the create (409) is read again and kept when it is the one wanted.
func TestEnsureWebhookRegistrationRace(t *testing.T) {
	var mu sync.Mutex
	var calls []string
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if apiretrytest.ServeEntra(w, r) {
			return
		}
		mu.Lock()
		calls = append(calls, r.Method)
		first := len(calls) == 1
		mu.Unlock()
		switch {
		case r.Method == http.MethodGet && first:
			w.WriteHeader(http.StatusNotFound)
		case r.Method == http.MethodPost:
			w.WriteHeader(http.StatusConflict)
		case r.Method == http.MethodGet:
			_, _ = w.Write([]byte(`{"WebhookUrl":"` + docCallbackURL + `","WebhookEvents":["test-created","subscription-updated"]}`))
		default:
			t.Errorf("unexpected %s", r.Method)
		}
	}))
	t.Cleanup(srv.Close)
	c, _ := newClient(t, srv.URL, contoso)
	got, err := c.EnsureWebhookRegistration(context.Background(), pc.WebhookRegistration{WebhookURL: docCallbackURL, WebhookEvents: []string{"subscription-updated", "test-created"}})
	if err != nil || got.WebhookURL != docCallbackURL || !reflect.DeepEqual(calls, []string{"GET", "POST", "GET"}) {
		t.Errorf("EnsureWebhookRegistration = %+v, %v after %v", got, err, calls)
	}
}
