package pcwebhook

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Event is a Partner Center event, as the event model documents it:
// "EventName: The name of the event. In the form {resource}-{action}",
// "ResourceUri: The URI of the resource that changed", ResourceName,
// "AuditUri: Optional. The URI of the Audit record", and
// "ResourceChangeUtcDate: The date and time, in UTC format, when the
// resource change occurred". Some events carry no ResourceUri (the DAP
// events) or ResourceName (azure-fraud-event-detected).
// Source: https://learn.microsoft.com/partner-center/developer/partner-center-webhooks
// ("Event model") and .../partner-center-webhook-events.
type Event struct {
	EventName             string
	ResourceURI           string
	ResourceName          string
	AuditURI              string
	ResourceChangeUTCDate time.Time
}

// wireEvent is the body Partner Center POSTs; the examples spell the keys
// in PascalCase, the REST specification in camelCase, and either is read.
type wireEvent struct {
	EventName             string  `json:"EventName"`
	ResourceURI           *string `json:"ResourceUri"`
	ResourceName          *string `json:"ResourceName"`
	AuditURI              *string `json:"AuditUri"`
	ResourceChangeUTCDate string  `json:"ResourceChangeUtcDate"`
}

// changeDateLayouts: the examples write seven fractional digits and an
// offset ("2017-11-16T16:19:06.3520276+00:00"); a date without a zone is
// taken as UTC, as the property's name says.
var changeDateLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999"}

// ParseEvent reads an event body: a JSON object in UTF-8 with an
// EventName and a ResourceChangeUtcDate.
func ParseEvent(body []byte) (Event, error) {
	if !utf8.Valid(body) {
		return Event{}, errors.New("the event is not UTF-8")
	}
	var w wireEvent
	if err := json.Unmarshal(body, &w); err != nil {
		return Event{}, fmt.Errorf("the event is not a JSON object: %w", err)
	}
	if strings.TrimSpace(w.EventName) == "" {
		return Event{}, errors.New("the event has no EventName")
	}
	e := Event{EventName: w.EventName, ResourceURI: deref(w.ResourceURI), ResourceName: deref(w.ResourceName), AuditURI: deref(w.AuditURI)}
	for _, layout := range changeDateLayouts {
		if t, err := time.Parse(layout, w.ResourceChangeUTCDate); err == nil {
			e.ResourceChangeUTCDate = t.UTC()
			return e, nil
		}
	}
	return Event{}, fmt.Errorf("the event's ResourceChangeUtcDate %q is not a date and time", w.ResourceChangeUTCDate)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// CustomerID is the customer tenant the event's ResourceUri names
// (.../customers/{id}...), or "" when it names none.
func (e Event) CustomerID() string { return guidAfter(e.ResourceURI, "customers") }

// SubscriptionID is the subscription the event's ResourceUri names
// (.../subscriptions/{id}), or "".
func (e Event) SubscriptionID() string { return guidAfter(e.ResourceURI, "subscriptions") }

// AdminRelationshipID is the GDAP relationship the event's ResourceUri
// names (.../delegatedAdminRelationships/{id}: two GUIDs joined by '-',
// not one), or "".
func (e Event) AdminRelationshipID() string {
	id := segmentAfter(e.ResourceURI, "delegatedAdminRelationships")
	if !auditIDChars(id) {
		return ""
	}
	return id
}

// AuditID is the audit record the event's AuditUri names
// (.../auditrecords/{id}), or "": the ID to read it by
// (partnercenter.Client.GetAuditRecord). The URI itself is never fetched.
func (e Event) AuditID() string {
	u, err := url.Parse(e.AuditURI)
	if err != nil {
		return ""
	}
	segs := strings.Split(strings.Trim(u.Path, "/"), "/")
	if n := len(segs); n >= 2 && strings.EqualFold(segs[n-2], "auditrecords") && auditIDChars(segs[n-1]) {
		return segs[n-1]
	}
	return ""
}

// auditIDChars: the documented audit IDs join GUIDs, a resource ID, an
// operation and ticks with underscores: letters, digits, '-' and '_'.
func auditIDChars(s string) bool {
	return s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") == ""
}

// guidAfter is the GUID that follows the path segment name in uri, or "".
func guidAfter(uri, name string) string {
	id := segmentAfter(uri, name)
	if _, err := uuid.Parse(id); err != nil {
		return ""
	}
	return id
}

// segmentAfter is the path segment that follows the segment name in uri
// (compared without case), or "".
func segmentAfter(uri, name string) string {
	u, err := url.Parse(uri)
	if err != nil {
		return ""
	}
	segs := strings.Split(strings.Trim(u.Path, "/"), "/")
	for i := 0; i+1 < len(segs); i++ {
		if strings.EqualFold(segs[i], name) {
			return segs[i+1]
		}
	}
	return ""
}
