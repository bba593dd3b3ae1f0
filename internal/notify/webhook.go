package notify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/cloudevents/sdk-go/v2/binding"
	"github.com/cloudevents/sdk-go/v2/event"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"

	"github.com/partnerops/multichannel-operator/internal/apiretry"
)

// CloudEvent types of the webhook's events.
const (
	EventTypeInvitation = "io.partnerops.multichannel.invitation.v1"
	EventTypeReminder   = "io.partnerops.multichannel.reminder.v1"
)

// UserAgent is the webhook requests' User-Agent.
const UserAgent = "multichannel-operator"

// maxErrorBody is how much of a refusal's body an error keeps.
const maxErrorBody = 512

// EventType is the CloudEvent type of a delivery: the invitation's for
// reminder 0, else the reminder's.
func EventType(reminder int) string {
	if reminder > 0 {
		return EventTypeReminder
	}
	return EventTypeInvitation
}

// EventSource is the CloudEvent source of a partner's deliveries, a URI
// reference: /multichannel-operator/partners/<partner>. With the event's id
// (the delivery ID) it identifies a delivery.
func EventSource(partner string) string {
	return "/multichannel-operator/partners/" + url.PathEscape(partner)
}

// Payload is the data of a webhook's CloudEvent (datacontenttype
// application/json):
//
//	{
//	  "customer": {"namespace": "tenants", "name": "contoso", "displayName": "Contoso Ltd", "tenantID": "<guid>"},
//	  "partner":  {"name": "fabrikam", "displayName": "Fabrikam"},
//	  "reminder": 0,
//	  "contacts": [{"name": "Ada", "email": "ada@contoso.com", "roles": ["GlobalAdmin"]}],
//	  "actions":  [{"kind": "ApproveAdminRelationship", "object": "tenants/contoso-fabrikam",
//	                "url": "https://admin.microsoft.com/...", "expiresAt": "2026-03-01T00:00:00Z",
//	                "explanation": "Approve the admin relationship: ...", "roles": ["GlobalAdmin"]}]
//	}
//
// reminder is 0 for the invitation, n for the n-th reminder. contacts are
// those who can act on at least one of the actions (a Technical-only
// contact is left out), sorted by email; an action's roles say who can act
// on it. expiresAt is absent when the request does not expire. Every url
// passed CheckLink.
type Payload struct {
	Customer PayloadCustomer  `json:"customer"`
	Partner  PayloadPartner   `json:"partner"`
	Reminder int              `json:"reminder"`
	Contacts []PayloadContact `json:"contacts"`
	Actions  []PayloadAction  `json:"actions"`
}

// PayloadCustomer is the customer in a Payload.
type PayloadCustomer struct {
	Namespace   string `json:"namespace"`
	Name        string `json:"name"`
	DisplayName string `json:"displayName"`
	TenantID    string `json:"tenantID"`
}

// PayloadPartner is the partner in a Payload.
type PayloadPartner struct {
	Name        string `json:"name"`
	DisplayName string `json:"displayName"`
}

// PayloadContact is a contact in a Payload.
type PayloadContact struct {
	Name  string `json:"name"`
	Email string `json:"email"`
	Roles []Role `json:"roles"`
}

// PayloadAction is an action in a Payload.
type PayloadAction struct {
	Kind        ActionKind `json:"kind"`
	Object      string     `json:"object"`
	URL         string     `json:"url"`
	ExpiresAt   *time.Time `json:"expiresAt,omitempty"`
	Explanation string     `json:"explanation"`
	Roles       []Role     `json:"roles"`
}

// payloadOf is inv's Payload.
func payloadOf(inv Invitation) Payload {
	p := Payload{
		Customer: PayloadCustomer{Namespace: inv.CustomerNamespace, Name: inv.CustomerName,
			DisplayName: inv.CustomerDisplayName, TenantID: inv.CustomerTenantID},
		Partner:  PayloadPartner{Name: inv.PartnerName, DisplayName: inv.PartnerDisplayName},
		Reminder: inv.Reminder,
		Contacts: []PayloadContact{},
	}
	for _, c := range mergeContacts(inv.Contacts) {
		for _, a := range inv.Actions {
			if canAct(c, a.Kind) {
				p.Contacts = append(p.Contacts, PayloadContact(c))
				break
			}
		}
	}
	for _, a := range inv.Actions {
		pa := PayloadAction{Kind: a.Kind, Object: a.Object, URL: a.URL,
			Explanation: a.Kind.Explanation(inv.partner()), Roles: a.Kind.Roles()}
		if a.ExpiresAt != nil {
			t := a.ExpiresAt.UTC()
			pa.ExpiresAt = &t
		}
		p.Actions = append(p.Actions, pa)
	}
	return p
}

// newEvent is inv's CloudEvent, once inv and its links are checked.
func newEvent(inv Invitation) (event.Event, error) {
	switch {
	case inv.ID == "":
		return event.Event{}, errors.New("the invitation has no delivery ID: record the delivery before sending it")
	case inv.PartnerName == "" || inv.CustomerNamespace == "" || inv.CustomerName == "":
		return event.Event{}, fmt.Errorf("delivery %s names no partner or no customer", inv.ID)
	case inv.Time.IsZero():
		return event.Event{}, fmt.Errorf("delivery %s has no time: use the time it was recorded", inv.ID)
	case len(inv.Actions) == 0:
		return event.Event{}, fmt.Errorf("delivery %s asks for nothing", inv.ID)
	}
	for _, a := range inv.Actions {
		if err := CheckLink(a.Kind, a.URL); err != nil {
			return event.Event{}, fmt.Errorf("delivery %s, action %s: %w", inv.ID, a.Object, err)
		}
	}
	e := event.New(event.CloudEventsVersionV1)
	e.SetID(inv.ID)
	e.SetSource(EventSource(inv.PartnerName))
	e.SetType(EventType(inv.Reminder))
	e.SetSubject(inv.CustomerNamespace + "/" + inv.CustomerName)
	e.SetTime(inv.Time.UTC())
	if err := e.SetData(event.ApplicationJSON, payloadOf(inv)); err != nil {
		return event.Event{}, fmt.Errorf("delivery %s: encoding the payload: %w", inv.ID, err)
	}
	if err := e.Validate(); err != nil {
		return event.Event{}, fmt.Errorf("delivery %s: not a valid CloudEvent: %w", inv.ID, err)
	}
	return e, nil
}

// Webhook posts deliveries as CloudEvents (HTTP binding, binary content
// mode) to a partner's ticketing, CRM or chat system.
type Webhook struct {
	// URL is where the events are posted: https, or http to a loopback
	// host (tests). It may hold a secret in its query: errors never show it.
	URL string
	// Token, if set, is sent as Authorization: Bearer.
	Token string
	// HTTP sends the requests; nil uses a client with a 30 second timeout.
	// Redirects are never followed, whatever its CheckRedirect says: the
	// token would travel with them.
	HTTP *http.Client
}

// Send posts inv as one CloudEvent whose id is inv.ID (the idempotency key:
// a receiver drops an event whose source and id it has seen) and returns
// that id once the receiver answers 2xx. Send inv again, with the same ID
// and Time, after any error. Every link must pass CheckLink, or nothing is
// sent. An answer other than 2xx is a *StatusError; Retryable tells
// whether sending again may succeed, RetryAfter when the receiver asked.
func (w *Webhook) Send(ctx context.Context, inv Invitation) (eventID string, err error) {
	target, err := checkWebhookURL(w.URL)
	if err != nil {
		return "", err
	}
	ev, err := newEvent(inv)
	if err != nil {
		return "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target.String(), nil)
	if err != nil {
		return "", fmt.Errorf("delivery %s: %w", inv.ID, err)
	}
	if err := cehttp.WriteRequest(ctx, binding.ToMessage(&ev), req); err != nil {
		return "", fmt.Errorf("delivery %s: encoding the CloudEvent: %w", inv.ID, err)
	}
	req.Header.Set("User-Agent", UserAgent)
	if w.Token != "" {
		req.Header.Set("Authorization", "Bearer "+w.Token)
	}
	resp, err := w.client().Do(req)
	if err != nil {
		return "", sendError(inv.ID, target, err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return ev.ID(), nil
	}
	se := &StatusError{URL: redact(target), DeliveryID: inv.ID, StatusCode: resp.StatusCode, Body: printable(string(body))}
	se.RetryAfter, se.HasRetryAfter = apiretry.RetryAfter(resp.Header.Get("Retry-After"), time.Now())
	return "", se
}

func (w *Webhook) client() *http.Client {
	hc := w.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	return apiretry.NoRedirects(hc, "webhook")
}

// checkWebhookURL accepts an absolute https URL without user info, or an
// http one to a loopback host.
func checkWebhookURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return nil, errors.New("webhook URL is not an absolute URL")
	}
	if u.User != nil {
		return nil, fmt.Errorf("webhook URL %s carries user info: put the credential in the token", redact(u))
	}
	switch u.Scheme {
	case "https":
		return u, nil
	case "http":
		if loopback(u.Hostname()) {
			return u, nil
		}
	}
	return nil, fmt.Errorf("webhook URL %s is not https (http is allowed to 127.0.0.1 and localhost only, for tests)", redact(u))
}

func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// sendError is the error of a request that got no answer (or a redirect).
func sendError(id string, target *url.URL, err error) error {
	if re, ok := apiretry.RedirectRefused(err); ok {
		return fmt.Errorf("delivery %s: %w", id, re)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // its message repeats the URL, with its query
	}
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("delivery %s to webhook %s: %w", id, redact(target), err)
	}
	return &transportError{id: id, url: redact(target), err: err}
}

// transportError is a request that got no answer: sending it again may help.
type transportError struct {
	id, url string
	err     error
}

func (e *transportError) Error() string {
	return fmt.Sprintf("delivery %s to webhook %s: no answer: %v", e.id, e.url, e.err)
}

func (e *transportError) Unwrap() error { return e.err }

// StatusError is a webhook's answer other than 2xx.
type StatusError struct {
	// URL is the webhook's, without its query, fragment or user info.
	URL        string
	DeliveryID string
	StatusCode int
	// Body is the answer's first 512 bytes, control characters replaced.
	Body string
	// RetryAfter is how long the receiver asked to wait, when HasRetryAfter.
	RetryAfter    time.Duration
	HasRetryAfter bool
}

func (e *StatusError) Error() string {
	msg := fmt.Sprintf("delivery %s to webhook %s: answered HTTP %d", e.DeliveryID, e.URL, e.StatusCode)
	if e.HasRetryAfter {
		msg += fmt.Sprintf(" (retry after %s)", e.RetryAfter)
	}
	if e.Body != "" {
		msg += ": " + e.Body
	}
	return msg
}

// Retryable reports whether sending again may succeed: 408, 429 and 5xx.
func (e *StatusError) Retryable() bool {
	return e.StatusCode == http.StatusRequestTimeout || e.StatusCode == http.StatusTooManyRequests || e.StatusCode >= 500
}

// Retryable reports whether err, from Send, may go away if the same
// delivery is sent again: no answer (a network error, a timeout), or an
// answer of 408, 429 or 5xx. Any other answer, a redirect, a refused link
// or URL, or a canceled context is permanent.
func Retryable(err error) bool {
	var se *StatusError
	if errors.As(err, &se) {
		return se.Retryable()
	}
	var te *transportError
	return errors.As(err, &te)
}

// RetryAfter returns how long the webhook asked to wait (its Retry-After)
// before the delivery is sent again, if it did.
func RetryAfter(err error) (time.Duration, bool) {
	var se *StatusError
	if errors.As(err, &se) && se.HasRetryAfter {
		return se.RetryAfter, true
	}
	return 0, false
}

// redact drops what a URL may carry besides where it points.
func redact(u *url.URL) string {
	c := *u
	c.User, c.RawQuery, c.ForceQuery, c.Fragment, c.RawFragment = nil, "", false, "", ""
	return c.String()
}

// printable replaces control characters and invalid UTF-8 with spaces.
func printable(s string) string {
	s = strings.ToValidUTF8(s, " ")
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s))
}
