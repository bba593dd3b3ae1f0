package sim

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// GET /v1/auditrecords, as strict as documented: startDate required (the
// REST reference; the older page calls it optional), a window of at most
// 30 days starting at most 90 days back (400 otherwise, "Requests with a
// start date greater than 90 days prior to the current date will receive
// a bad request exception"), the documented filter forms only, and a page
// size of 1 to 500. Records come newest first, a page at a time; the next
// page is asked for with the continuation token the answer's next link
// names in MS-ContinuationToken, for the same query.
// Sources:
// https://learn.microsoft.com/partner-center/developer/get-a-record-of-partner-center-activity-by-user
// https://learn.microsoft.com/rest/api/partner-center/audit-operations/gets-audit-records

const (
	auditMaxWindow   = 30 * 24 * time.Hour
	auditDefaultSize = 500 // the documented self link's size for a request without one
	headerContinue   = "MS-ContinuationToken"
)

// auditQueryKeys are the parameters the simulator takes; any other is refused.
var auditQueryKeys = map[string]bool{"startDate": true, "endDate": true, "size": true, "filter": true}

// auditQuery is a parsed query: [start, end), the page size, the filter,
// and the continuation's position (records before after, in ticks).
type auditQuery struct {
	start, end time.Time
	size       int
	filter     *auditFilter
	after      int64
	raw        url.Values
}

type auditFilter struct{ field, value string }

// auditLink is a collection's link; its headers are key and value pairs.
type auditLink struct {
	URI     string          `json:"uri"`
	Method  string          `json:"method"`
	Headers []auditKeyValue `json:"headers"`
}

type auditCollection struct {
	TotalCount        int                  `json:"totalCount"`
	Items             []auditRecord        `json:"items"`
	ContinuationToken string               `json:"continuationToken,omitempty"`
	Links             map[string]auditLink `json:"links"`
	Attributes        attributes           `json:"attributes"`
}

func (s *Server) auditRecords(r *http.Request, partner string) reply {
	mutated := s.applyDue()
	q, refusal := s.parseAuditQuery(r)
	if refusal != "" {
		rep := fail(http.StatusBadRequest, codeInvalidProperty, "%s", refusal)
		rep.mutated = mutated
		return rep
	}
	s.st.Stats.AuditReads++
	items, next := s.auditPage(partner, q)
	self := "/auditrecords?" + q.raw.Encode()
	out := auditCollection{TotalCount: len(items), Items: items, Attributes: attributes{ObjectType: "Collection"},
		Links: map[string]auditLink{"self": {URI: self, Method: http.MethodGet, Headers: []auditKeyValue{}}}}
	if next != 0 {
		out.ContinuationToken = s.continuation(next, q.raw)
		out.Links["next"] = auditLink{URI: self, Method: http.MethodGet, Headers: []auditKeyValue{kv(headerContinue, out.ContinuationToken)}}
	}
	return ok(out, mutated)
}

// auditPage is a page of the records the partner may see that the query
// matches, newest first, and the position of the next page (0: none).
func (s *Server) auditPage(partner string, q auditQuery) ([]auditRecord, int64) {
	items := []auditRecord{}
	for i := len(s.st.AuditRecords) - 1; i >= 0; i-- {
		rec := &s.st.AuditRecords[i]
		ticks := ticksOf(rec.OperationDate)
		if (q.after != 0 && ticks >= q.after) || rec.OperationDate.Before(q.start) || !rec.OperationDate.Before(q.end) ||
			!rec.visibleTo(partner) || !q.filter.matches(rec) {
			continue
		}
		if len(items) == q.size {
			return items, ticksOf(items[len(items)-1].OperationDate)
		}
		items = append(items, *rec)
	}
	return items, 0
}

// parseAuditQuery reads the query and the continuation, or says why
// Partner Center refuses them.
func (s *Server) parseAuditQuery(r *http.Request) (auditQuery, string) {
	raw := r.URL.Query()
	for k, v := range raw {
		if !auditQueryKeys[k] || len(v) != 1 {
			return auditQuery{}, fmt.Sprintf("%q is not a parameter of the activity log (startDate, endDate, size, filter), or is given twice.", k)
		}
	}
	q, refusal := s.auditWindow(raw.Get("startDate"), raw.Get("endDate"))
	if refusal != "" {
		return q, refusal
	}
	q.raw = raw
	if q.size, refusal = auditSize(raw.Get("size")); refusal != "" {
		return q, refusal
	}
	if raw.Has("filter") {
		if q.filter, refusal = parseAuditFilter(raw.Get("filter")); refusal != "" {
			return q, refusal
		}
	}
	if token := r.Header.Get(headerContinue); token != "" {
		if q.after, refusal = s.readContinuation(token, raw); refusal != "" {
			return q, refusal
		}
	}
	return q, ""
}

// auditWindow reads startDate and endDate: a date (yyyy-mm-dd, a whole
// day), a date and time (RFC 3339), or the date and time the documented
// request sends ("6/1/2017 12:00:00 AM", taken as UTC). Without endDate
// the window is "the max window or ... today, whichever is less".
func (s *Server) auditWindow(startRaw, endRaw string) (auditQuery, string) {
	if startRaw == "" {
		return auditQuery{}, "startDate is required."
	}
	start, _, ok := parseAuditDate(startRaw)
	if !ok {
		return auditQuery{}, fmt.Sprintf("startDate %q is not a date (yyyy-mm-dd) or a date and time.", startRaw)
	}
	today := utcDay(s.now())
	last := minTime(utcDay(start).Add(auditMaxWindow), today)
	end := maxTime(last.Add(24*time.Hour), start) // a start after today: an empty window
	if endRaw != "" {
		t, dateOnly, ok := parseAuditDate(endRaw)
		if !ok {
			return auditQuery{}, fmt.Sprintf("endDate %q is not a date (yyyy-mm-dd) or a date and time.", endRaw)
		}
		last, end = utcDay(t), t.Add(time.Nanosecond)
		if dateOnly {
			end = t.Add(24 * time.Hour)
		}
		if last.Before(utcDay(start)) || end.Before(start) {
			return auditQuery{}, "endDate is before startDate."
		}
	}
	switch {
	case last.Sub(utcDay(start)) > auditMaxWindow:
		return auditQuery{}, "The window from startDate to endDate is longer than the maximum of 30 days."
	case utcDay(start).Before(today.Add(-auditRetention)):
		return auditQuery{}, "startDate is more than 90 days before the current date: activity log data is available for the previous 90 days."
	}
	return auditQuery{start: start, end: end}, ""
}

func parseAuditDate(v string) (time.Time, bool, bool) {
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t, true, true
	}
	for _, layout := range []string{time.RFC3339Nano, "1/2/2006 3:04:05 PM"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), false, true
		}
	}
	return time.Time{}, false, false
}

func utcDay(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func auditSize(v string) (int, string) {
	if v == "" {
		return auditDefaultSize, ""
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > auditDefaultSize {
		return 0, fmt.Sprintf("size %q is not a page size from 1 to %d.", v, auditDefaultSize)
	}
	return n, ""
}

// parseAuditFilter reads the documented filter, {"Field","Value","Operator"}
// and nothing else: CompanyName with substring, CustomerId (a GUID) or
// ResourceType (a documented type) with equals.
func parseAuditFilter(raw string) (*auditFilter, string) {
	var f struct {
		Field    *string `json:"Field"`
		Value    *string `json:"Value"`
		Operator *string `json:"Operator"`
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil || f.Field == nil || f.Value == nil || f.Operator == nil || *f.Value == "" {
		return nil, fmt.Sprintf(`filter %q is not {"Field":...,"Value":...,"Operator":...}.`, raw)
	}
	field, value, op := *f.Field, *f.Value, strings.ToLower(*f.Operator)
	_, guidErr := uuid.Parse(value)
	switch {
	case field == "CompanyName" && op == "substring":
	case field == "CustomerId" && op == "equals" && guidErr == nil:
	case field == "ResourceType" && op == "equals" && auditResourceTypes[normalType(value)]:
	default:
		return nil, fmt.Sprintf("filter %q is not a supported filter: CompanyName with substring, CustomerId (a GUID) or ResourceType (a resource type) with equals.", raw)
	}
	return &auditFilter{field: field, value: value}, ""
}

// normalType compares resource types as the documentation names them
// (Subscription, CustomerUser) and as records carry them (customer_user).
func normalType(t string) string { return strings.ToLower(strings.ReplaceAll(t, "_", "")) }

// auditResourceTypes are the documented resource types, normalised.
var auditResourceTypes = func() map[string]bool {
	m := map[string]bool{}
	for _, t := range strings.Fields(`customer customer_user order subscription license third_party_add_on mpn_association
		transfer application application_credential partner_user partner_relationship partner_customer_dap customer_directory_role
		referral software_key software_download_link spending_limit invoice agreement partner_customer_relationship
		self_serve_policy granular_admin_relationship granular_admin_access_assignment credit software_page device policy`) {
		m[normalType(t)] = true
	}
	return m
}()

// matches: "The case of the value is ignored."
func (f *auditFilter) matches(rec *auditRecord) bool {
	switch {
	case f == nil:
		return true
	case f.field == "CompanyName":
		return strings.Contains(strings.ToLower(rec.CustomerName), strings.ToLower(f.value))
	case f.field == "CustomerId":
		return strings.EqualFold(rec.CustomerID, f.value)
	}
	return normalType(rec.ResourceType) == normalType(f.value)
}

// continuation is the token of the page after position: the position and
// the query it belongs to, signed with the state's key.
func (s *Server) continuation(position int64, q url.Values) string {
	payload := strconv.FormatInt(position, 10) + "." + queryPrint(q)
	return base64.RawURLEncoding.EncodeToString([]byte(payload)) + "." + base64.RawURLEncoding.EncodeToString(s.mac(payload))
}

// readContinuation is the position a token names, or why it is refused: not
// the simulator's, or of another query.
func (s *Server) readContinuation(token string, q url.Values) (int64, string) {
	p, sig, _ := strings.Cut(token, ".")
	payload, err1 := base64.RawURLEncoding.DecodeString(p)
	mac, err2 := base64.RawURLEncoding.DecodeString(sig)
	if err1 != nil || err2 != nil || !hmac.Equal(mac, s.mac(string(payload))) {
		return 0, "MS-ContinuationToken is not a continuation token of the activity log."
	}
	pos, print, _ := strings.Cut(string(payload), ".")
	n, err := strconv.ParseInt(pos, 10, 64)
	if err != nil || print != queryPrint(q) {
		return 0, "MS-ContinuationToken belongs to another query: ask for the next page with the query of the page it came with."
	}
	return n, ""
}

func queryPrint(q url.Values) string {
	sum := sha256.Sum256([]byte(q.Encode()))
	return hex.EncodeToString(sum[:8])
}
