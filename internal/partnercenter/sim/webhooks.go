package sim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Partner Center's webhooks: one registration per partner (its URL and
// events), the events Partner Center supports, and test events. Every
// change that raises an event is POSTed to the registered URL, signed as
// Partner Center signs (webhooksign.go), asynchronously, up to
// Options.WebhookAttempts times.
// Sources:
// https://learn.microsoft.com/partner-center/developer/partner-center-webhooks
// https://learn.microsoft.com/partner-center/developer/partner-center-webhook-events

// webhookEventNames are the events the webhooks page lists (2023).
var webhookEventNames = []string{
	"azure-fraud-event-detected", "dap-admin-relationship-approved", "reseller-relationship-accepted-by-customer",
	"dap-admin-relationship-terminated", "dap-admin-relationship-terminated-by-microsoft",
	"granular-admin-access-assignment-activated", "granular-admin-access-assignment-created",
	"granular-admin-access-assignment-deleted", "granular-admin-access-assignment-updated",
	"granular-admin-relationship-activated", "granular-admin-relationship-approved",
	"granular-admin-relationship-expired", "granular-admin-relationship-terminated", "invoice-ready",
	"new-commerce-migration-completed", "new-commerce-migration-created", "new-commerce-migration-failed",
	"new-commerce-migration-schedule-failed", "referral-created", "referral-updated", "related-referral-created",
	"related-referral-updated", "subscription-updated", "test-created", "usagerecords-thresholdExceeded",
}

// The events the simulator raises.
const (
	eventRelationshipAccepted = "reseller-relationship-accepted-by-customer"
	eventSubscriptionUpdated  = "subscription-updated"
	eventTestCreated          = "test-created"
)

// webhookRegistration is a partner's registration as the simulator keeps it.
type webhookRegistration struct {
	SubscriberID                      string    `json:"subscriberId"`
	WebhookURL                        string    `json:"webhookUrl"`
	WebhookEvents                     []string  `json:"webhookEvents"`
	SignatureTokenToMsSignatureHeader bool      `json:"signatureTokenToMsSignatureHeader,omitempty"`
	LastModified                      time.Time `json:"lastModifiedTimestamp"`
	// Base is the simulator's URL as the registration reached it: the
	// events' URIs and the certificate's URL start with it.
	Base string `json:"base"`
}

// registrationRequest is the documented body (PascalCase in the examples)
// with the REST specification's further properties; any other is refused.
type registrationRequest struct {
	SubscriberID                      string            `json:"SubscriberId"`
	WebhookURL                        *string           `json:"WebhookUrl"`
	WebhookEvents                     []string          `json:"WebhookEvents"`
	SignatureTokenToMsSignatureHeader bool              `json:"SignatureTokenToMsSignatureHeader"`
	Properties                        map[string]string `json:"properties"`
	LastModifiedTimestamp             *time.Time        `json:"lastModifiedTimestamp"`
}

// registrationBody is the answer: create and update answer SubscriberId,
// the documented view does not.
type registrationBody struct {
	SubscriberID                      string   `json:"SubscriberId,omitempty"`
	WebhookURL                        string   `json:"WebhookUrl"`
	WebhookEvents                     []string `json:"WebhookEvents"`
	SignatureTokenToMsSignatureHeader bool     `json:"SignatureTokenToMsSignatureHeader,omitempty"`
}

func (reg *webhookRegistration) body(withID bool) registrationBody {
	b := registrationBody{WebhookURL: reg.WebhookURL, WebhookEvents: reg.WebhookEvents, SignatureTokenToMsSignatureHeader: reg.SignatureTokenToMsSignatureHeader}
	if withID {
		b.SubscriberID = reg.SubscriberID
	}
	return b
}

func (s *Server) webhookEvents(*http.Request, string) reply { return ok(webhookEventNames, false) }

func (s *Server) getWebhookRegistration(_ *http.Request, partner string) reply {
	reg := s.st.Webhooks[partner]
	if reg == nil {
		return fail(http.StatusNotFound, codeNotFound, "Partner %s has no webhook registration.", partner)
	}
	return ok(reg.body(false), false)
}

// putWebhookRegistration is POST (create: refused when one exists, 409,
// "Registration already exists, use the PUT method to update a
// registration") and PUT (update: refused when none exists).
func (s *Server) putWebhookRegistration(update bool) func(*http.Request, string) reply {
	return func(r *http.Request, partner string) reply {
		have := s.st.Webhooks[partner]
		switch {
		case update && have == nil:
			return fail(http.StatusNotFound, codeNotFound, "Partner %s has no webhook registration to update: create one with POST.", partner)
		case !update && have != nil:
			return fail(http.StatusConflict, codeInvalidProperty, "Registration already exists, use the PUT method to update a registration.")
		}
		reg, refusal := readRegistration(r)
		if refusal != "" {
			return fail(http.StatusBadRequest, codeInvalidProperty, "%s", refusal)
		}
		reg.SubscriberID, reg.LastModified, reg.Base = uuid.NewString(), s.now(), s.baseURL()
		if have != nil {
			reg.SubscriberID = have.SubscriberID
		}
		s.st.Webhooks[partner] = reg
		return ok(reg.body(true), true)
	}
}

func (s *Server) deleteWebhookRegistration(_ *http.Request, partner string) reply {
	if s.st.Webhooks[partner] == nil {
		return fail(http.StatusNotFound, codeNotFound, "Partner %s has no webhook registration.", partner)
	}
	delete(s.st.Webhooks, partner)
	return reply{status: http.StatusNoContent, mutated: true}
}

// readRegistration decodes and checks a registration: an absolute https
// URL without credentials, and at least one supported event, each once.
func readRegistration(r *http.Request) (*webhookRegistration, string) {
	var req registrationRequest
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<16))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return nil, "The request body is not a webhook registration: " + err.Error()
	}
	if req.WebhookURL == nil {
		return nil, "WebhookUrl is required."
	}
	u, err := url.Parse(*req.WebhookURL)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.Fragment != "" {
		return nil, fmt.Sprintf("WebhookUrl %q is not an absolute https URL.", *req.WebhookURL)
	}
	if len(req.WebhookEvents) == 0 {
		return nil, "WebhookEvents is required: at least one event."
	}
	reg := &webhookRegistration{WebhookURL: *req.WebhookURL, SignatureTokenToMsSignatureHeader: req.SignatureTokenToMsSignatureHeader}
	for _, e := range req.WebhookEvents {
		i := slices.IndexFunc(webhookEventNames, func(n string) bool { return strings.EqualFold(n, e) })
		if i < 0 || slices.Contains(reg.WebhookEvents, webhookEventNames[i]) {
			return nil, fmt.Sprintf("WebhookEvents: %q is not a supported event (GET /webhooks/v1/registration/events), or is named twice.", e)
		}
		reg.WebhookEvents = append(reg.WebhookEvents, webhookEventNames[i])
	}
	return reg, ""
}

// baseURL is the simulator's URL as receivers reach it: the option, or
// the running request's. The caller holds s.mu.
func (s *Server) baseURL() string {
	if s.opts.WebhookBaseURL != "" {
		return strings.TrimSuffix(s.opts.WebhookBaseURL, "/")
	}
	return s.actor.base
}

// webhookEvent is an event a change raises: its name, the resource's path
// below the simulator's URL, and the resource's name.
type webhookEvent struct {
	name, path, resourceName string
}

// eventBody is the documented event model, PascalCase as the examples;
// AuditUri is null when the event has no record.
type eventBody struct {
	EventName             string  `json:"EventName"`
	ResourceURI           string  `json:"ResourceUri"`
	ResourceName          string  `json:"ResourceName"`
	AuditURI              *string `json:"AuditUri"`
	ResourceChangeUTCDate string  `json:"ResourceChangeUtcDate"`
}

// eventDateLayout is how the documented events write ResourceChangeUtcDate
// ("2017-11-16T16:19:06.3520276+00:00").
const eventDateLayout = "2006-01-02T15:04:05.0000000-07:00"

// raise sends rec's event to the partners it concerns that registered for
// it. The caller holds s.mu.
func (s *Server) raise(rec auditRecord, c change) {
	for _, partner := range rec.Participants {
		reg := s.st.Webhooks[partner]
		if reg == nil || !slices.Contains(reg.WebhookEvents, c.event.name) {
			continue
		}
		audit := reg.Base + "/auditactivity/v1/auditrecords/" + rec.ID
		s.send(reg, eventBody{EventName: c.event.name, ResourceURI: reg.Base + c.event.path, ResourceName: c.event.resourceName,
			AuditURI: &audit, ResourceChangeUTCDate: rec.OperationDate.Format(eventDateLayout)}, "")
	}
}

// send signs body and delivers it to reg's URL in the background. The
// caller holds s.mu.
func (s *Server) send(reg *webhookRegistration, body eventBody, testEvent string) {
	data, _ := json.Marshal(body)
	header, err := s.signedHeader(reg, data)
	if err != nil {
		s.st.Stats.WebhooksFailed++ // no key to sign with: nothing can be sent
		return
	}
	go s.deliver(delivery{url: reg.WebhookURL, body: data, header: header, testEvent: testEvent})
}

// delivery is one event on its way.
type delivery struct {
	url       string
	body      []byte
	header    http.Header
	testEvent string // the test event's correlation ID, if it is one
}

// deliver POSTs d until it is answered 2xx, at most WebhookAttempts times,
// waiting WebhookRetryInterval, then twice as long each time (a minute at
// most), and stops when the simulator closes.
func (s *Server) deliver(d delivery) {
	wait := s.opts.WebhookRetryInterval
	for attempt := 1; ; attempt++ {
		code, err := s.post(d)
		last := attempt == s.opts.WebhookAttempts
		delivered := err == nil && code >= 200 && code < 300
		s.noteAttempt(d, code, err, delivered, last)
		if delivered || last {
			return
		}
		select {
		case <-s.stop:
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, time.Minute)
	}
}

func (s *Server) post(d delivery) (int, error) {
	req, err := http.NewRequest(http.MethodPost, d.url, bytes.NewReader(d.body))
	if err != nil {
		return 0, err
	}
	req.Header = d.header.Clone()
	resp, err := s.webhookClient().Do(req)
	if err != nil {
		return 0, err
	}
	_ = resp.Body.Close()
	return resp.StatusCode, nil
}

func (s *Server) webhookClient() *http.Client {
	c := &http.Client{Timeout: 10 * time.Second}
	if s.opts.WebhookClient != nil {
		copied := *s.opts.WebhookClient
		c = &copied
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return c
}

// noteAttempt counts an attempt and, for a test event, records its result.
func (s *Server) noteAttempt(d delivery, code int, err error, delivered, last bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.Stats.WebhooksSent++
	if delivered {
		s.st.Stats.WebhooksDelivered++
	} else {
		s.st.Stats.WebhooksFailed++
	}
	if te := s.st.TestEvents[d.testEvent]; te != nil {
		te.note(code, err, delivered, last, s.now())
		_ = s.save()
	}
}
