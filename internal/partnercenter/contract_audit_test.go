package partnercenter_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/partnerops/multichannel-operator/internal/apiretry"
	"github.com/partnerops/multichannel-operator/internal/apiretry/apiretrytest"
	pc "github.com/partnerops/multichannel-operator/internal/partnercenter"
)

// The activity log's documented examples: get-audit-records.response.json
// (the page's response, two records of June 2017) and
// get-audit-records.by-day.response.json (the throttling guidance's day of
// 2020-09-02, with record IDs). See testdata/SOURCES.

// clockAt makes the client's clock read now.
func clockAt(now time.Time) clientOption {
	return func(c *pc.Config) { c.Now = func() time.Time { return now } }
}

// docAuditQuery is the filter of the documented request example, decoded.
const docAuditFilter = `{"Field":"CustomerId","Value":"0c39d6d5-c70d-4c55-bc02-f620844f3fd1","Operator":"equals"}`

func TestContractAuditRecords(t *testing.T) {
	c, d := serveDocumented(t, map[string]reply{"GET /v1/auditrecords": {200, example(t, "get-audit-records.response.json")}},
		clockAt(time.Date(2017, 6, 27, 22, 19, 46, 0, time.UTC))) // the response's Date
	ctx := context.Background()
	from, to := time.Date(2017, 6, 1, 0, 0, 0, 0, time.UTC), time.Date(2017, 6, 28, 0, 0, 0, 0, time.UTC)
	records, err := c.AuditRecordsMatching(ctx, from, to, pc.FilterCustomerID("0c39d6d5-c70d-4c55-bc02-f620844f3fd1"))
	if err != nil || len(records) != 2 {
		t.Fatalf("AuditRecords = %+v, %v", records, err)
	}
	// Partner Center answers newest first; the client returns oldest first.
	lic, ord := records[0], records[1]
	if lic.OperationType != pc.AuditOperationUpdateCustomerUserLicenses || lic.ApplicationID != "Partner Center Native App" ||
		lic.Data("AddedLicenseSkuId") != "efccb6f7-5641-4e0e-bd10-b4976e1bf68e" || lic.Attributes.ObjectType != "AuditRecord" {
		t.Errorf("license record = %+v", lic)
	}
	if ord.ResourceType != pc.AuditResourceOrder || ord.OperationStatus != pc.AuditStatusSucceeded || ord.CustomerName != "Relecloud" ||
		!ord.OperationDate.Equal(time.Date(2017, 6, 15, 22, 56, 5, 58930800, time.UTC)) || ord.Data("PartnerOnRecord-0") != "" {
		t.Errorf("order record = %+v", ord)
	}
	want := pc.Concern{Change: pc.ChangeOrderCreated, CustomerTenantID: "0c39d6d5-c70d-4c55-bc02-f620844f3fd1",
		SubscriptionIDs: []string{"488745B5-2086-4912-802C-6ABB9F7C3638"}, OrderID: "d51a052e-043c-4a2a-aa37-2bb938cef6c1"}
	if got := ord.Concerns(); !reflect.DeepEqual(got, want) {
		t.Errorf("order Concerns = %+v, want %+v", got, want)
	}
	if got := lic.Concerns(); got.Change != pc.ChangeNone || got.CustomerTenantID != "0c39d6d5-c70d-4c55-bc02-f620844f3fd1" {
		t.Errorf("license Concerns = %+v", got)
	}

	sent := d.request(t, http.MethodGet, "/v1/auditrecords")
	q, _ := url.ParseQuery(sent.query)
	if q.Get("startDate") != "2017-06-01" || q.Get("endDate") != "2017-06-27" || q.Get("size") != "500" {
		t.Errorf("query = %v", q)
	}
	// The filter is the documented request's, field for field.
	sameFields(t, "filter", fields(t, []byte(q.Get("filter"))), fields(t, []byte(docAuditFilter)))
	if docQuery, _ := url.ParseQuery("filter=%7B%22Field%22:%22CustomerId%22,%22Value%22:%220c39d6d5-c70d-4c55-bc02-f620844f3fd1%22,%22Operator%22:%22equals%22%7D"); docQuery.Get("filter") != docAuditFilter {
		t.Errorf("the documented request's filter decodes to %s", docQuery.Get("filter"))
	}
}

// TestContractAuditRecordsOfADay: the throttling guidance's request
// (startDate=endDate=2020-09-02) is what the client sends for that day;
// its answer's records and what they concern.
func TestContractAuditRecordsOfADay(t *testing.T) {
	c, d := serveDocumented(t, map[string]reply{"GET /v1/auditrecords": {200, example(t, "get-audit-records.by-day.response.json")}},
		clockAt(time.Date(2020, 9, 3, 8, 0, 0, 0, time.UTC)))
	day := time.Date(2020, 9, 2, 0, 0, 0, 0, time.UTC)
	records, err := c.AuditRecords(context.Background(), day, day.Add(24*time.Hour))
	if err != nil || len(records) != 3 {
		t.Fatalf("AuditRecords = %+v, %v", records, err)
	}
	q, _ := url.ParseQuery(d.request(t, http.MethodGet, "/v1/auditrecords").query)
	if q.Get("startDate") != "2020-09-02" || q.Get("endDate") != "2020-09-02" || q.Has("filter") {
		t.Errorf("query = %v, documented startDate=2020-09-02&endDate=2020-09-02", q)
	}
	add, order, lic := records[0], records[1], records[2]
	if add.ID != "9daaeb1c-4195-4db5-9f1d-509eb70c8c2d_86bddccf-9a53-40c6-907c-08067a3f8da7_86bddccf-9a53-40c6-907c-08067a3f8da7_addcustomer_637346648528069005" ||
		!reflect.DeepEqual(add.Participants, []string{"9daaeb1c-4195-4db5-9f1d-509eb70c8c2d"}) || add.OriginalCorrelationID != "7550d9ea-e64a-416f-e49b-3670c516cf69" {
		t.Errorf("add_customer record = %+v", add)
	}
	if got := add.Concerns(); got.Change != pc.ChangeCustomerAdded || got.CustomerTenantID != "86bddccf-9a53-40c6-907c-08067a3f8da7" {
		t.Errorf("add_customer Concerns = %+v", got)
	}
	want := pc.Concern{Change: pc.ChangeOrderCreated, CustomerTenantID: "86bddccf-9a53-40c6-907c-08067a3f8da7",
		SubscriptionIDs: []string{"f428d44a-d08b-348b-579e-ce92a6362c7b"}, OrderID: "Ia80ZLkXp6eWOqpp35pBQJLhqv9IiGVZ1", Status: pc.OrderPending}
	if got := order.Concerns(); !reflect.DeepEqual(got, want) {
		t.Errorf("create_order Concerns = %+v, want %+v", got, want)
	}
	if lic.ApplicationID != "FulfillmentService" || lic.Concerns().Change != pc.ChangeNone {
		t.Errorf("license record = %+v", lic)
	}
}

// TestAuditRecordsWindow: the documented limits are checked before
// anything is sent, and records outside the window are dropped.
func TestAuditRecordsWindow(t *testing.T) {
	now := time.Date(2020, 9, 3, 8, 0, 0, 0, time.UTC)
	c, d := serveDocumented(t, map[string]reply{"GET /v1/auditrecords": {200, example(t, "get-audit-records.by-day.response.json")}}, clockAt(now))
	ctx := context.Background()
	refused := []struct{ name, from, to string }{
		{"empty", "2020-09-02T10:00:00Z", "2020-09-02T10:00:00Z"},
		{"backwards", "2020-09-02T10:00:00Z", "2020-09-01T10:00:00Z"},
		{"31 days", "2020-08-01T00:00:00Z", "2020-09-01T00:00:01Z"},
		{"91 days back", "2020-06-03T23:00:00Z", "2020-06-05T00:00:00Z"},
	}
	for _, tc := range refused {
		from, _ := time.Parse(time.RFC3339, tc.from)
		to, _ := time.Parse(time.RFC3339, tc.to)
		if _, err := c.AuditRecords(ctx, from, to); err == nil {
			t.Errorf("%s: AuditRecords(%s, %s) was not refused", tc.name, tc.from, tc.to)
		}
	}
	for _, f := range []pc.AuditFilter{{Field: "CustomerId", Value: "x", Operator: "substring"}, {Field: "OperationType", Value: "x", Operator: "equals"}, pc.FilterCompanyName("")} {
		if _, err := c.AuditRecordsMatching(ctx, now.Add(-time.Hour), now, f); err == nil {
			t.Errorf("filter %+v was not refused", f)
		}
	}
	if len(d.sent) != 0 {
		t.Fatalf("the client sent %d requests for windows and filters it refuses", len(d.sent))
	}
	// 30 days, 90 days back: taken.
	if _, err := c.AuditRecords(ctx, time.Date(2020, 6, 5, 0, 0, 0, 0, time.UTC), time.Date(2020, 7, 6, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Errorf("30 days from 90 days back: %v", err)
	}
	// The records of 17:40 to just after the create_order at 17:58:10.9268372: that one only.
	records, err := c.AuditRecords(ctx, time.Date(2020, 9, 2, 17, 40, 0, 0, time.UTC), time.Date(2020, 9, 2, 17, 58, 10, 926837201, time.UTC))
	if err != nil || len(records) != 1 || records[0].OperationType != pc.AuditOperationCreateOrder {
		t.Errorf("records of 17:40 to 17:58:10.926837201 = %+v, %v", records, err)
	}
}

// pagedAuditServer serves the activity log as pages of one record each:
// pages maps a continuation token ("" for the first page) to the next
// one's ("" on the last). Each request is shown to seen first.
func pagedAuditServer(t *testing.T, pages map[string]string, seen func(*http.Request)) *httptest.Server {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if apiretrytest.ServeEntra(w, r) {
			return
		}
		seen(r)
		token := r.Header.Get(pc.HeaderContinuationToken)
		page := map[string]any{"totalCount": 1, "items": []any{map[string]any{"id": "r-" + token, "resourceType": "order",
			"operationType": "create_order", "operationDate": "2020-09-02T10:00:00Z", "operationStatus": "succeeded"}}}
		if next := pages[token]; next != "" {
			page["continuationToken"] = next
			page["links"] = map[string]any{"next": map[string]any{"uri": "/auditrecords?startDate=2020-09-02&endDate=2020-09-02&size=500&seek=" + next,
				"method": "GET", "headers": []any{map[string]string{"key": "MS-ContinuationToken", "value": next}}}}
		}
		_ = json.NewEncoder(w).Encode(page)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestAuditRecordsPages: the client follows each page's next link with the
// MS-ContinuationToken it names, as the .NET SDK's enumerator does, and
// refuses a link elsewhere.
func TestAuditRecordsPages(t *testing.T) {
	var mu sync.Mutex
	var got []*http.Request
	pages := map[string]string{"": "t1", "t1": "t2", "t2": ""}
	srv := pagedAuditServer(t, pages, func(r *http.Request) {
		mu.Lock()
		got = append(got, r.Clone(context.Background()))
		mu.Unlock()
	})
	c, _ := newClient(t, srv.URL, contoso, clockAt(time.Date(2020, 9, 3, 0, 0, 0, 0, time.UTC)))
	day := time.Date(2020, 9, 2, 0, 0, 0, 0, time.UTC)
	records, err := c.AuditRecords(context.Background(), day, day.Add(24*time.Hour))
	if err != nil || len(records) != 3 || len(got) != 3 {
		t.Fatalf("AuditRecords = %d records, %v, after %d requests", len(records), err, len(got))
	}
	if got[0].Header.Get(pc.HeaderContinuationToken) != "" || got[2].Header.Get(pc.HeaderContinuationToken) != "t2" ||
		got[2].URL.Query().Get("seek") != "t2" || got[2].URL.Path != "/v1/auditrecords" {
		t.Errorf("the third request: %s %v", got[2].URL, got[2].Header)
	}

	redirect := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if apiretrytest.ServeEntra(w, r) {
			return
		}
		_, _ = w.Write([]byte(`{"totalCount":0,"items":[],"continuationToken":"t1","links":{"next":{"uri":"https://elsewhere.example/auditrecords","headers":[]}}}`))
	}))
	t.Cleanup(redirect.Close)
	c, _ = newClient(t, redirect.URL, contoso, clockAt(time.Date(2020, 9, 3, 0, 0, 0, 0, time.UTC)))
	if _, err := c.AuditRecords(context.Background(), day, day.Add(time.Hour)); err == nil || !strings.Contains(err.Error(), "not the activity log") {
		t.Errorf("a next link elsewhere: %v", err)
	}
}

// TestAuditRecordsPagesWithinBudget: with a budget of one request a second
// and a burst of one, the first page spends the budget; the next pages wait
// for it (within MaxWait) instead of failing the read, which would send the
// first page again on the next read.
func TestAuditRecordsPagesWithinBudget(t *testing.T) {
	var mu sync.Mutex
	sent := 0
	srv := pagedAuditServer(t, map[string]string{"": "t1", "t1": "t2", "t2": ""}, func(*http.Request) {
		mu.Lock()
		sent++
		mu.Unlock()
	})
	c, m := newClient(t, srv.URL, contoso, clockAt(time.Date(2020, 9, 3, 0, 0, 0, 0, time.UTC)), func(cfg *pc.Config) {
		cfg.RequestsPerMinute = 60
		cfg.Retry.MaxWait = 5 * time.Second
	})
	day := time.Date(2020, 9, 2, 0, 0, 0, 0, time.UTC)
	records, err := c.AuditRecords(context.Background(), day, day.Add(24*time.Hour))
	if err != nil || len(records) != 3 || sent != 3 {
		t.Fatalf("AuditRecords over a budget of one request a second = %d records, %v, after %d requests; want 3 pages read", len(records), err, sent)
	}
	if n := testutil.ToFloat64(m.RateLimited("GetAuditRecords")); n != 0 {
		t.Errorf("a page was refused by the budget %v times", n)
	}
	// A new read over the budget still returns at once.
	if _, err := c.AuditRecords(context.Background(), day, day.Add(24*time.Hour)); !errors.Is(err, apiretry.ErrRateLimited) {
		t.Errorf("a new read over the budget: %v, want ErrRateLimited", err)
	}
}
