package partnercenter

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// Partner Center's webhook registration: one registration per partner
// tenant, naming the URL Partner Center POSTs events to and the events.
// Source: https://learn.microsoft.com/partner-center/developer/partner-center-webhooks
// (kvamseek/partner-center@85eb3c4 developer/partner-center-webhooks.md);
// the REST reference's Webhooks specification adds
// SignatureTokenToMsSignatureHeader and the 409 of a second registration.

// webhooksBase is where the webhook calls live: /webhooks/v1/registration.
const webhooksBase = "/webhooks/v1"

// Webhook events the operator follows (partner-center-webhook-events).
const (
	EventResellerRelationshipAccepted = "reseller-relationship-accepted-by-customer"
	EventSubscriptionUpdated          = "subscription-updated"
	EventGDAPRelationshipApproved     = "granular-admin-relationship-approved"
	EventGDAPRelationshipActivated    = "granular-admin-relationship-activated"
	EventGDAPRelationshipTerminated   = "granular-admin-relationship-terminated"
	EventGDAPRelationshipExpired      = "granular-admin-relationship-expired"
	// EventTestCreated is the test event; a registration must name it for
	// SendWebhookTestEvent.
	EventTestCreated = "test-created"
)

// OperatorWebhookEvents are the events the operator registers: a
// customer's acceptance of the reseller relationship, a subscription's
// commerce changes, the GDAP relationship's life, and the test event.
// Partner Center has no event for orders or transfers: the activity log
// reports those.
var OperatorWebhookEvents = []string{EventResellerRelationshipAccepted, EventSubscriptionUpdated,
	EventGDAPRelationshipApproved, EventGDAPRelationshipActivated, EventGDAPRelationshipTerminated, EventGDAPRelationshipExpired,
	EventTestCreated}

// WebhookRegistration is a partner's registration, PascalCase as the
// examples send it.
type WebhookRegistration struct {
	// SubscriberID is Partner Center's; a create or update answers it.
	SubscriberID  string   `json:"SubscriberId,omitempty"`
	WebhookURL    string   `json:"WebhookUrl"`
	WebhookEvents []string `json:"WebhookEvents"`
	// SignatureTokenToMsSignatureHeader moves the signature from the
	// Authorization header to x-ms-signature.
	SignatureTokenToMsSignatureHeader bool `json:"SignatureTokenToMsSignatureHeader,omitempty"`
}

// registrationRequest is what a create or update sends: the documented
// body, and SignatureTokenToMsSignatureHeader only when it is set.
type registrationRequest struct {
	WebhookURL                        string   `json:"WebhookUrl"`
	WebhookEvents                     []string `json:"WebhookEvents"`
	SignatureTokenToMsSignatureHeader bool     `json:"SignatureTokenToMsSignatureHeader,omitempty"`
}

// WebhookEvents lists the events Partner Center supports (GET
// /webhooks/v1/registration/events).
func (c *Client) WebhookEvents(ctx context.Context) ([]string, error) {
	var out []string
	err := c.do(ctx, call{op: "GetWebhookEvents", method: http.MethodGet, base: webhooksBase, path: "/registration/events", retryable: true}, &out)
	return out, err
}

// GetWebhookRegistration gets the partner's registration; without one,
// Partner Center answers 404 (IsNotFound).
func (c *Client) GetWebhookRegistration(ctx context.Context) (*WebhookRegistration, error) {
	out := &WebhookRegistration{}
	err := c.do(ctx, call{op: "GetWebhookRegistration", method: http.MethodGet, base: webhooksBase, path: "/registration", retryable: true}, out)
	return out, err
}

// CreateWebhookRegistration registers the partner for events (POST); a
// partner already registered is answered 409 (use Update).
func (c *Client) CreateWebhookRegistration(ctx context.Context, r WebhookRegistration) (*WebhookRegistration, error) {
	return c.sendRegistration(ctx, "CreateWebhookRegistration", http.MethodPost, r)
}

// UpdateWebhookRegistration replaces the partner's registration (PUT).
func (c *Client) UpdateWebhookRegistration(ctx context.Context, r WebhookRegistration) (*WebhookRegistration, error) {
	return c.sendRegistration(ctx, "UpdateWebhookRegistration", http.MethodPut, r)
}

// DeleteWebhookRegistration removes the partner's registration: DELETE
// /webhooks/v1/registration. The pages and the REST specification kept
// here document GET, POST and PUT only; the call is the REST convention's,
// for a partner that stops following events, and nothing else depends on it.
func (c *Client) DeleteWebhookRegistration(ctx context.Context) error {
	return c.do(ctx, call{op: "DeleteWebhookRegistration", method: http.MethodDelete, base: webhooksBase, path: "/registration", retryable: true}, nil)
}

func (c *Client) sendRegistration(ctx context.Context, op, method string, r WebhookRegistration) (*WebhookRegistration, error) {
	if err := CheckWebhookRegistration(r); err != nil {
		return nil, fmt.Errorf("partner center %s: %w", op, err)
	}
	body := registrationRequest{WebhookURL: r.WebhookURL, WebhookEvents: r.WebhookEvents, SignatureTokenToMsSignatureHeader: r.SignatureTokenToMsSignatureHeader}
	out := &WebhookRegistration{}
	// A PUT is idempotent; a repeated POST is answered 409, which
	// EnsureWebhookRegistration reads as "registered".
	err := c.do(ctx, call{op: op, method: method, base: webhooksBase, path: "/registration", body: body, retryable: method == http.MethodPut}, out)
	return out, err
}

// CheckWebhookRegistration refuses a registration Partner Center could not
// deliver to: the URL must be an absolute https URL without credentials,
// and name at least one event, each once.
func CheckWebhookRegistration(r WebhookRegistration) error {
	u, err := url.Parse(r.WebhookURL)
	switch {
	case err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.Fragment != "":
		return fmt.Errorf("the webhook URL %q is not an absolute https URL without credentials", r.WebhookURL)
	case len(r.WebhookEvents) == 0:
		return errors.New("a webhook registration names at least one event")
	}
	for i, e := range r.WebhookEvents {
		if strings.TrimSpace(e) == "" || slices.Contains(r.WebhookEvents[:i], e) {
			return fmt.Errorf("webhook event %q is empty or named twice", e)
		}
	}
	return nil
}

// EnsureWebhookRegistration makes the partner's registration want: created
// when there is none, updated when it differs (URL, events in any order, or
// the signature header), left alone otherwise. It returns the registration
// Partner Center holds.
func (c *Client) EnsureWebhookRegistration(ctx context.Context, want WebhookRegistration) (*WebhookRegistration, error) {
	have, err := c.GetWebhookRegistration(ctx)
	if IsNotFound(err) {
		var created *WebhookRegistration
		if created, err = c.CreateWebhookRegistration(ctx, want); !isConflict(err) {
			return created, err
		}
		have, err = c.GetWebhookRegistration(ctx) // registered meanwhile
	}
	if err != nil {
		return nil, err
	}
	if sameRegistration(*have, want) {
		return have, nil
	}
	return c.UpdateWebhookRegistration(ctx, want)
}

func isConflict(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.StatusCode == http.StatusConflict
}

func sameRegistration(a, b WebhookRegistration) bool {
	ea, eb := slices.Clone(a.WebhookEvents), slices.Clone(b.WebhookEvents)
	slices.Sort(ea)
	slices.Sort(eb)
	return a.WebhookURL == b.WebhookURL && slices.Equal(ea, eb) && a.SignatureTokenToMsSignatureHeader == b.SignatureTokenToMsSignatureHeader
}

// WebhookTestEvent is the state of a test event ("Verify that the event
// was delivered"): each delivery attempt's result.
type WebhookTestEvent struct {
	CorrelationID string `json:"correlationId"`
	PartnerID     string `json:"partnerId"`
	Status        string `json:"status"`
	CallbackURL   string `json:"callbackUrl"`
	Results       []struct {
		ResponseCode    string `json:"responseCode"`
		ResponseMessage string `json:"responseMessage"`
		SystemError     bool   `json:"systemError"`
		DateTimeUTC     string `json:"dateTimeUtc"`
	} `json:"results"`
}

// SendWebhookTestEvent asks Partner Center to send a test-created event to
// the registered URL (POST /webhooks/v1/registration/validationEvents);
// the registration must name test-created, and Partner Center takes two a
// minute. It returns the event's correlation ID.
// The page's example answers {"correlationId": ...}, the REST
// specification a string: both are read.
func (c *Client) SendWebhookTestEvent(ctx context.Context) (string, error) {
	var raw json.RawMessage
	if err := c.do(ctx, call{op: "CreateWebhookTestEvent", method: http.MethodPost, base: webhooksBase, path: "/registration/validationEvents"}, &raw); err != nil {
		return "", err
	}
	var out struct {
		CorrelationID string `json:"correlationId"`
	}
	if json.Unmarshal(raw, &out) != nil {
		_ = json.Unmarshal(raw, &out.CorrelationID)
	}
	if out.CorrelationID == "" {
		return "", fmt.Errorf("partner center CreateWebhookTestEvent: the answer %s names no correlation ID", raw)
	}
	return out.CorrelationID, nil
}

// GetWebhookTestEvent gets a test event's delivery attempts.
func (c *Client) GetWebhookTestEvent(ctx context.Context, correlationID string) (*WebhookTestEvent, error) {
	out := &WebhookTestEvent{}
	err := c.do(ctx, call{op: "GetWebhookTestEvent", method: http.MethodGet, base: webhooksBase,
		path: "/registration/validationEvents/" + url.PathEscape(correlationID), retryable: true}, out)
	return out, err
}
