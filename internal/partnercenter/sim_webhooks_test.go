package partnercenter_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"testing"

	pc "github.com/partnerops/multichannel-operator/internal/partnercenter"
	"github.com/partnerops/multichannel-operator/internal/partnercenter/sim"
)

// The simulator's webhook registration, as strict as documented.

// localReceiver is a receiver on 127.0.0.1 that takes every event, so
// that the simulator's deliveries go nowhere else.
func localReceiver(t *testing.T) string {
	t.Helper()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	t.Cleanup(srv.Close)
	return srv.URL + "/webhooks/partnercenter"
}

func TestSimulatorWebhookRegistration(t *testing.T) {
	_, srv := startSim(t, sim.Options{})
	receiverURL := localReceiver(t)
	const reg = "/webhooks/v1/registration"
	good := `{"WebhookUrl":"` + receiverURL + `","WebhookEvents":["subscription-updated","test-created"]}`
	steps := []struct {
		name, method, path, body string
		status                   int
	}{
		{"view before any", "GET", reg, "", 404},
		{"update before any", "PUT", reg, good, 404},
		{"delete before any", "DELETE", reg, "", 404},
		{"an http URL", "POST", reg, `{"WebhookUrl":"http://operator.example.com/cb","WebhookEvents":["test-created"]}`, 400},
		{"a relative URL", "POST", reg, `{"WebhookUrl":"/cb","WebhookEvents":["test-created"]}`, 400},
		{"no URL", "POST", reg, `{"WebhookEvents":["test-created"]}`, 400},
		{"no events", "POST", reg, `{"WebhookUrl":"` + receiverURL + `","WebhookEvents":[]}`, 400},
		{"an event Partner Center does not send", "POST", reg, `{"WebhookUrl":"` + receiverURL + `","WebhookEvents":["order-created"]}`, 400},
		{"an event twice", "POST", reg, `{"WebhookUrl":"` + receiverURL + `","WebhookEvents":["test-created","test-created"]}`, 400},
		{"a property the registration does not have", "POST", reg, `{"WebhookUrl":"` + receiverURL + `","WebhookEvents":["test-created"],"Secret":"x"}`, 400},
		{"a test event before registering", "POST", reg + "/validationEvents", "", 400},
		{"register", "POST", reg, good, 200},
		{"register again", "POST", reg, good, 409},
		{"update", "PUT", reg, `{"WebhookUrl":"` + receiverURL + `","WebhookEvents":["subscription-updated"]}`, 200},
		{"a test event without test-created", "POST", reg + "/validationEvents", "", 400},
		{"update back", "PUT", reg, good, 200},
		{"a test event", "POST", reg + "/validationEvents", "", 200},
		{"a second in the minute", "POST", reg + "/validationEvents", "", 200},
		{"a third in the minute", "POST", reg + "/validationEvents", "", 429},
		{"a test event that is not", "GET", reg + "/validationEvents/04af2aea-d413-42db-824e-f328001484d1", "", 404},
		{"delete", "DELETE", reg, "", 204},
		{"view after the delete", "GET", reg, "", 404},
	}
	for _, st := range steps {
		if status, body := send(t, srv.URL, contoso, st.method, st.path, nil, st.body); status != st.status {
			t.Errorf("%s: HTTP %d, want %d: %v", st.name, status, st.status, body)
		}
	}
}

// TestSimulatorSpeaksTheDocumentedWebhookShapes: the registration's
// answers hold what the documented examples show.
func TestSimulatorSpeaksTheDocumentedWebhookShapes(t *testing.T) {
	_, srv := startSim(t, sim.Options{})
	receiverURL := localReceiver(t)
	good := `{"WebhookUrl":"` + receiverURL + `","WebhookEvents":["subscription-updated","test-created"]}`
	_, created := send(t, srv.URL, contoso, "POST", "/webhooks/v1/registration", nil, good)
	_, updated := send(t, srv.URL, contoso, "PUT", "/webhooks/v1/registration", nil, good)
	_, test := send(t, srv.URL, contoso, "POST", "/webhooks/v1/registration/validationEvents", nil, "")
	checkShapes(t, []shapeCase{
		{"registration created", created, documentedKeys(t, "", nil, "webhook-registration-create.response.json")},
		{"registration updated", updated, documentedKeys(t, "", nil, "webhook-registration-update.response.json")},
		{"registration", get(t, srv.URL, contoso, "/webhooks/v1/registration"), documentedKeys(t, "", nil, "webhook-registration-get.response.json")},
		{"test event", test, documentedKeys(t, "", nil, "webhook-validation-event-create.response.json")},
		{"test event's state", get(t, srv.URL, contoso, "/webhooks/v1/registration/validationEvents/"+test["correlationId"].(string)),
			documentedKeys(t, "", nil, "webhook-validation-event-get.response.json")},
	})
	if created["SubscriberId"] == "" || created["SubscriberId"] != updated["SubscriberId"] {
		t.Errorf("SubscriberId %v, then %v", created["SubscriberId"], updated["SubscriberId"])
	}
}

// TestEnsureWebhookRegistration: created when missing, left alone when the
// same (events in any order), updated when it differs.
func TestEnsureWebhookRegistration(t *testing.T) {
	ctx := context.Background()
	s, srv := startSim(t, sim.Options{})
	receiverURL := localReceiver(t)
	c, _ := newClient(t, srv.URL, contoso)
	events, err := c.WebhookEvents(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range pc.OperatorWebhookEvents {
		if !slices.Contains(events, e) {
			t.Errorf("the operator registers %q, which Partner Center does not list", e)
		}
	}
	want := pc.WebhookRegistration{WebhookURL: receiverURL, WebhookEvents: pc.OperatorWebhookEvents}
	got, err := c.EnsureWebhookRegistration(ctx, want)
	if err != nil || got.SubscriberID == "" || !reflect.DeepEqual(got.WebhookEvents, want.WebhookEvents) {
		t.Fatalf("EnsureWebhookRegistration = %+v, %v", got, err)
	}
	reversed := pc.WebhookRegistration{WebhookURL: receiverURL}
	for i := len(want.WebhookEvents) - 1; i >= 0; i-- {
		reversed.WebhookEvents = append(reversed.WebhookEvents, want.WebhookEvents[i])
	}
	if _, err := c.EnsureWebhookRegistration(ctx, reversed); err != nil {
		t.Fatal(err)
	}
	routes := s.Stats().RequestsByRoute
	if routes["CreateWebhookRegistration"] != 1 || routes["UpdateWebhookRegistration"] != 0 {
		t.Errorf("routes %v: one create, no update for the same registration", routes)
	}
	if _, err := c.EnsureWebhookRegistration(ctx, pc.WebhookRegistration{WebhookURL: receiverURL, WebhookEvents: []string{pc.EventSubscriptionUpdated}}); err != nil {
		t.Fatal(err)
	}
	if got, err := c.GetWebhookRegistration(ctx); err != nil || !reflect.DeepEqual(got.WebhookEvents, []string{pc.EventSubscriptionUpdated}) ||
		s.Stats().RequestsByRoute["UpdateWebhookRegistration"] != 1 {
		t.Errorf("after a change: %+v, %v", got, err)
	}
	if err := c.DeleteWebhookRegistration(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetWebhookRegistration(ctx); !pc.IsNotFound(err) {
		t.Errorf("after the delete: %v", err)
	}
}
