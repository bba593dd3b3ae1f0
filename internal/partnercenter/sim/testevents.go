package sim

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Test events ("Send a test event to validate your registration", "Verify
// that the event was delivered"): a registration that names test-created
// may ask for one, two a minute; each delivery attempt's result is kept
// seven days.

const (
	testEventsPerMinute = 2
	testEventLifetime   = 7 * 24 * time.Hour
	// testResultLayout is how the documented result writes dateTimeUtc
	// ("2017-12-08T21:39:48.2386997", no zone).
	testResultLayout = "2006-01-02T15:04:05.0000000"
)

// testEvent is a test event as the state keeps it.
type testEvent struct {
	testEventBody
	Created time.Time `json:"created"`
}

// testEventBody is the WebhookValidationEvent resource.
type testEventBody struct {
	CorrelationID string       `json:"correlationId"`
	PartnerID     string       `json:"partnerId"`
	Status        string       `json:"status"`
	CallbackURL   string       `json:"callbackUrl"`
	Results       []testResult `json:"results"`
}

// testResult is one delivery attempt's result.
type testResult struct {
	ResponseCode    string `json:"responseCode"`
	ResponseMessage string `json:"responseMessage"`
	SystemError     bool   `json:"systemError"`
	DateTimeUTC     string `json:"dateTimeUtc"`
}

// note records an attempt: the answer's status as its name ("OK"), and the
// event's status: pending until delivered (completed) or given up (failed).
func (te *testEvent) note(code int, err error, delivered, last bool, now time.Time) {
	res := testResult{ResponseCode: strings.ReplaceAll(http.StatusText(code), " ", ""), DateTimeUTC: now.Format(testResultLayout)}
	if err != nil {
		res.ResponseMessage = err.Error()
	}
	te.Results = append(te.Results, res)
	switch {
	case delivered:
		te.Status = "completed"
	case last:
		te.Status = "failed"
	}
}

func (s *Server) createValidationEvent(_ *http.Request, partner string) reply {
	reg := s.st.Webhooks[partner]
	if reg == nil || !slices.Contains(reg.WebhookEvents, eventTestCreated) {
		return fail(http.StatusBadRequest, codeInvalidProperty, "Register for the test-created event before asking for a test event.")
	}
	if wait := s.testEventWait(partner); wait > 0 {
		return fail(http.StatusTooManyRequests, 429, "Test events are limited to %d a minute: retry after %s.", testEventsPerMinute, wait.Round(time.Second))
	}
	s.pruneTestEvents()
	id, now := uuid.NewString(), s.now()
	s.st.TestEvents[id] = &testEvent{Created: now, testEventBody: testEventBody{CorrelationID: id, PartnerID: partner, Status: "pending",
		CallbackURL: reg.WebhookURL, Results: []testResult{}}}
	s.send(reg, eventBody{EventName: eventTestCreated, ResourceURI: reg.Base + "/webhooks/v1/registration/validationEvents/" + id,
		ResourceName: "test", ResourceChangeUTCDate: now.Format(eventDateLayout)}, id)
	return ok(map[string]string{"correlationId": id}, true)
}

// testEventWait is how long the partner must wait for its next test event
// (two a minute, on the wall clock), or 0; it counts the one asked for now.
func (s *Server) testEventWait(partner string) time.Duration {
	now := s.opts.Now()
	recent := slices.DeleteFunc(s.testEvents[partner], func(t time.Time) bool { return now.Sub(t) >= time.Minute })
	if len(recent) >= testEventsPerMinute {
		s.testEvents[partner] = recent
		return time.Minute - now.Sub(recent[0])
	}
	s.testEvents[partner] = append(recent, now)
	return 0
}

func (s *Server) getValidationEvent(r *http.Request, partner string) reply {
	te := s.st.TestEvents[r.PathValue("id")]
	if te == nil || te.PartnerID != partner || s.now().Sub(te.Created) > testEventLifetime {
		return fail(http.StatusNotFound, codeNotFound, "Test event %s was not found.", r.PathValue("id"))
	}
	return ok(te.testEventBody, false)
}

// pruneTestEvents forgets test events older than seven days. The caller holds s.mu.
func (s *Server) pruneTestEvents() {
	for id, te := range s.st.TestEvents {
		if s.now().Sub(te.Created) > testEventLifetime {
			delete(s.st.TestEvents, id)
		}
	}
}
