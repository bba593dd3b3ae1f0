package partnercenter

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// The partner's activity log ("Get a record of Partner Center activity"):
// GET /v1/auditrecords?startDate=&endDate=&size=&filter=, newest first, a
// page at a time.
// Sources:
// https://learn.microsoft.com/partner-center/developer/get-a-record-of-partner-center-activity-by-user
// https://learn.microsoft.com/partner-center/developer/auditing-resources
// https://learn.microsoft.com/rest/api/partner-center/audit-operations/gets-audit-records

// Limits of the activity log.
const (
	// AuditMaxWindow is the longest window one query may cover: "a maximum
	// window of 30 days" (the REST reference of Gets Audit Records), the
	// window a query without dates defaults to.
	AuditMaxWindow = 30 * 24 * time.Hour
	// AuditRetention is how far back a window may start: "activity log data
	// availability is limited to the previous 90 days. Requests with a
	// start date greater than 90 days prior to the current date will
	// receive a bad request exception (error code: 400)".
	AuditRetention = 90 * 24 * time.Hour
	// AuditPageSize is the size the client asks for: the documented
	// response's self link shows size=500 for a request that named none.
	AuditPageSize = 500
	// AuditMaxPages bounds one window's reading (AuditPageSize records each).
	AuditMaxPages = 1000
)

// HeaderContinuationToken carries a page's continuation token to the next
// request, as the response's next link names it (the .NET SDK sends it so:
// GetAuditRecordsRequest's AdditionalHeaders.ContinuationToken).
const HeaderContinuationToken = "MS-ContinuationToken"

// AuditDateLayout is how the client writes startDate and endDate: "The
// start date in yyyy-mm-dd format" (the URI parameter table).
const AuditDateLayout = "2006-01-02"

// AuditRecord is one entry of the activity log: "a record of an operation
// performed by a partner user or application" (auditing-resources). The
// resource's values are JSON held in strings, as Partner Center sends them.
type AuditRecord struct {
	ID        string `json:"id,omitempty"`
	PartnerID string `json:"partnerId,omitempty"`
	// Participants are the partner tenants the record is shown to (the
	// throttling guidance's example; not in the resource table).
	Participants      []string `json:"participants,omitempty"`
	CustomerID        string   `json:"customerId,omitempty"`
	CustomerName      string   `json:"customerName,omitempty"`
	UserPrincipalName string   `json:"userPrincipalName,omitempty"`
	ApplicationID     string   `json:"applicationId,omitempty"`
	SessionID         string   `json:"sessionId,omitempty"`
	// ResourceType is one of the AuditResource* values (or one documented later).
	ResourceType     string `json:"resourceType"`
	ResourceOldValue string `json:"resourceOldValue,omitempty"`
	ResourceNewValue string `json:"resourceNewValue,omitempty"`
	// OperationType is one of the AuditOperation* values (or one documented later).
	OperationType         string    `json:"operationType"`
	OriginalCorrelationID string    `json:"originalCorrelationId,omitempty"`
	OperationDate         time.Time `json:"operationDate"`
	// OperationStatus is one of the AuditStatus* values.
	OperationStatus string          `json:"operationStatus,omitempty"`
	CustomizedData  []AuditKeyValue `json:"customizedData,omitempty"`
	Attributes      Attributes      `json:"attributes"`
}

// AuditKeyValue is one entry of an audit record's customizedData; a value
// sent as null reads as "".
type AuditKeyValue struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Data is the customizedData value of key (compared without regard to
// case), or "".
func (r AuditRecord) Data(key string) string {
	for _, kv := range r.CustomizedData {
		if strings.EqualFold(kv.Key, key) {
			return kv.Value
		}
	}
	return ""
}

// AuditFilter is the documented filter of a query: CompanyName with
// substring, CustomerId or ResourceType with equals. Its JSON is the
// filter parameter's value.
type AuditFilter struct {
	Field    string `json:"Field"`
	Value    string `json:"Value"`
	Operator string `json:"Operator"`
}

// FilterCustomerID keeps the records of one customer.
func FilterCustomerID(customerTenantID string) AuditFilter {
	return AuditFilter{Field: "CustomerId", Value: customerTenantID, Operator: "equals"}
}

// FilterCompanyName keeps the records of customers whose name contains s,
// without regard to case.
func FilterCompanyName(s string) AuditFilter {
	return AuditFilter{Field: "CompanyName", Value: s, Operator: "substring"}
}

// FilterResourceType keeps the records of one resource type, such as
// AuditResourceSubscription.
func FilterResourceType(resourceType string) AuditFilter {
	return AuditFilter{Field: "ResourceType", Value: resourceType, Operator: "equals"}
}

// auditPage is one page of the answer: the documented collection, with the
// continuation the REST reference's PagedResourceCollection adds.
type auditPage struct {
	TotalCount        int           `json:"totalCount"`
	Items             []AuditRecord `json:"items"`
	ContinuationToken string        `json:"continuationToken,omitempty"`
	Links             struct {
		Next *pageLink `json:"next,omitempty"`
	} `json:"links"`
}

type pageLink struct {
	URI     string          `json:"uri"`
	Method  string          `json:"method,omitempty"`
	Headers []AuditKeyValue `json:"headers,omitempty"`
}

// AuditRecords reads the activity log of [from, to) completely, every
// page, and returns its records oldest first. Partner Center takes whole
// days, so the client asks for the days the window touches and keeps the
// records within it. The window may span at most AuditMaxWindow and start
// at most AuditRetention ago, as Partner Center documents; the client
// refuses others before sending anything.
func (c *Client) AuditRecords(ctx context.Context, from, to time.Time) ([]AuditRecord, error) {
	return c.readAudit(ctx, from, to, nil)
}

// AuditRecordsMatching is AuditRecords with the documented filter f.
func (c *Client) AuditRecordsMatching(ctx context.Context, from, to time.Time, f AuditFilter) ([]AuditRecord, error) {
	if err := checkAuditFilter(f); err != nil {
		return nil, err
	}
	return c.readAudit(ctx, from, to, &f)
}

// GetAuditRecord gets one record by its ID ("Gets Audit Record by Id",
// GET /v1/auditrecords/{id}): the ID an event's AuditUri ends with.
func (c *Client) GetAuditRecord(ctx context.Context, id string) (*AuditRecord, error) {
	if id == "" || strings.ContainsAny(id, "/?#") {
		return nil, fmt.Errorf("partner center GetAuditRecord: %q is not an audit record ID", id)
	}
	out := &AuditRecord{}
	err := c.do(ctx, call{op: "GetAuditRecord", method: http.MethodGet, path: "/auditrecords/" + url.PathEscape(id), retryable: true}, out)
	return out, err
}

func (c *Client) readAudit(ctx context.Context, from, to time.Time, f *AuditFilter) ([]AuditRecord, error) {
	q, err := auditQuery(from, to, c.now(), f)
	if err != nil {
		return nil, err
	}
	var all []AuditRecord
	header := http.Header{}
	seen := map[string]bool{}
	for i := range AuditMaxPages {
		page := &auditPage{}
		// A page after the first continues the read: it waits for the
		// tenant's budget rather than fail, which would spend the pages
		// already read again on the next read (all or nothing).
		if err := c.do(ctx, call{op: "GetAuditRecords", method: http.MethodGet, path: "/auditrecords", query: q, header: header, retryable: true, follows: i > 0}, page); err != nil {
			return nil, err
		}
		all = append(all, page.Items...)
		next, token, err := nextAuditPage(page, q)
		if err != nil {
			return nil, err
		}
		if token == "" || pastWindow(page.Items, from) {
			return keepWindow(all, from, to), nil
		}
		if seen[token] {
			return nil, errors.New("partner center GetAuditRecords: the same continuation token came twice")
		}
		seen[token] = true
		q, header = next, http.Header{HeaderContinuationToken: {token}}
	}
	return nil, fmt.Errorf("partner center GetAuditRecords: more than %d pages in one window", AuditMaxPages)
}

// auditQuery is the first page's query for [from, to), or why the client
// refuses the window.
func auditQuery(from, to, now time.Time, f *AuditFilter) (url.Values, error) {
	if from.IsZero() || to.IsZero() || !from.Before(to) {
		return nil, fmt.Errorf("partner center GetAuditRecords: the window [%s, %s) is empty", from, to)
	}
	start, end := day(from), day(to.Add(-time.Nanosecond))
	if end.Sub(start) > AuditMaxWindow {
		return nil, fmt.Errorf("partner center GetAuditRecords: %s to %s spans more than the documented 30 days", start.Format(AuditDateLayout), end.Format(AuditDateLayout))
	}
	if start.Before(day(now).Add(-AuditRetention)) {
		return nil, fmt.Errorf("partner center GetAuditRecords: %s is more than the documented 90 days ago", start.Format(AuditDateLayout))
	}
	q := url.Values{"startDate": {start.Format(AuditDateLayout)}, "endDate": {end.Format(AuditDateLayout)}, "size": {fmt.Sprint(AuditPageSize)}}
	if f != nil {
		q.Set("filter", f.encode())
	}
	return q, nil
}

func day(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// nextAuditPage is the query and continuation token of the page after
// page: its next link (a path below /v1 and the MS-ContinuationToken it
// names, as the SDK's enumerator follows it), else its continuationToken
// with the same query; no token is the last page. A next link elsewhere is
// refused: the client sends its token only to the activity log.
func nextAuditPage(page *auditPage, q url.Values) (url.Values, string, error) {
	next := page.Links.Next
	if next == nil {
		return q, page.ContinuationToken, nil
	}
	u, err := url.Parse(next.URI)
	if err != nil || u.IsAbs() || u.Host != "" || !strings.EqualFold(strings.TrimPrefix(u.Path, "/v1"), "/auditrecords") {
		return nil, "", fmt.Errorf("partner center GetAuditRecords: the next page's link %q is not the activity log", next.URI)
	}
	token := page.ContinuationToken
	for _, h := range next.Headers {
		if strings.EqualFold(h.Key, HeaderContinuationToken) {
			token = h.Value
		}
	}
	if token == "" {
		return nil, "", errors.New("partner center GetAuditRecords: the next page's link carries no continuation token")
	}
	return u.Query(), token, nil
}

// keepWindow is the records of [from, to), each once, oldest first.
// pastWindow: the log is newest first (both of the documented responses
// are), so a page that is in that order and ends before from is the last
// one the window needs: a window of minutes costs one call, not the pages
// of the whole days Partner Center's dates name. A page out of that order
// proves nothing, and reading goes on.
func pastWindow(items []AuditRecord, from time.Time) bool {
	if len(items) == 0 || !items[len(items)-1].OperationDate.Before(from) {
		return false
	}
	for i := 1; i < len(items); i++ {
		if items[i].OperationDate.After(items[i-1].OperationDate) {
			return false
		}
	}
	return true
}

func keepWindow(records []AuditRecord, from, to time.Time) []AuditRecord {
	out := make([]AuditRecord, 0, len(records))
	ids := map[string]bool{}
	for _, r := range records {
		if r.OperationDate.Before(from) || !r.OperationDate.Before(to) || (r.ID != "" && ids[r.ID]) {
			continue
		}
		ids[r.ID] = true
		out = append(out, r)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].OperationDate.Before(out[j].OperationDate) })
	return out
}

// checkAuditFilter refuses a filter the documentation does not show.
func checkAuditFilter(f AuditFilter) error {
	ok := f.Value != "" && ((f.Field == "CompanyName" && f.Operator == "substring") ||
		((f.Field == "CustomerId" || f.Field == "ResourceType") && f.Operator == "equals"))
	if !ok {
		return fmt.Errorf("partner center GetAuditRecords: filter %+v is not one documented (CompanyName substring, CustomerId or ResourceType equals)", f)
	}
	return nil
}

// encode is the filter as the documented JSON, {"Field":..,"Value":..,"Operator":..}.
func (f AuditFilter) encode() string {
	data, _ := json.Marshal(f) // three strings: cannot fail
	return string(data)
}
