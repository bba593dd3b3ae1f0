package partnercenter_test

import (
	"context"
	"net/http"
	"net/url"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	pc "github.com/partnerops/multichannel-operator/internal/partnercenter"
	"github.com/partnerops/multichannel-operator/internal/partnercenter/sim"
)

// The simulator's activity log: every change recorded, read through the
// client, strict about queries, paged, persisted.

// readLog reads partner's activity log of the last day on the simulator's clock.
func readLog(t *testing.T, s *sim.Server, c *pc.Client) []pc.AuditRecord {
	t.Helper()
	now := s.Now()
	records, err := c.AuditRecords(context.Background(), now.Add(-24*time.Hour), now.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	return records
}

func changesOf(records []pc.AuditRecord) []pc.Change {
	var out []pc.Change
	for _, r := range records {
		out = append(out, r.Concerns().Change)
	}
	return out
}

// checkRecords: unique IDs, dates in order, an application named.
func checkRecords(t *testing.T, records []pc.AuditRecord) {
	t.Helper()
	ids := map[string]bool{}
	for i, r := range records {
		if r.ID == "" || ids[r.ID] || r.ApplicationID == "" || (i > 0 && !records[i-1].OperationDate.Before(r.OperationDate)) {
			t.Errorf("record %d: %+v (an ID seen before, no application, or out of order)", i, r)
		}
		ids[r.ID] = true
	}
}

func newTransfer(t *testing.T, c *pc.Client, key string) *pc.Transfer {
	t.Helper()
	tr, err := c.CreateTransfer(context.Background(), woodgrove, key, pc.Transfer{SourcePartnerTenantID: fabrikam, SourcePartnerName: "Fabrikam", TargetProductTypes: nce})
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func buy(t *testing.T, c *pc.Client, key string) pc.Order {
	t.Helper()
	orders, err := c.CreateOrder(context.Background(), woodgrove, key, []pc.CartLineItem{{CatalogItemID: sim.E3CatalogItem, Quantity: 5, BillingCycle: "monthly", TermDuration: "P1Y"}})
	if err != nil || len(orders) != 1 {
		t.Fatalf("CreateOrder = %v, %v", orders, err)
	}
	return orders[0]
}

func orderSubscription(t *testing.T, c *pc.Client, orderID string) string {
	t.Helper()
	o, err := c.GetOrder(context.Background(), woodgrove, orderID)
	if err != nil || len(o.LineItems) != 1 || o.LineItems[0].SubscriptionID == "" {
		t.Fatalf("GetOrder = %+v, %v", o, err)
	}
	return o.LineItems[0].SubscriptionID
}

// TestSimulatorAuditsEveryChange: the API's changes, the acting parties'
// and the clock's, and changes made outside the operator, each recorded
// once, in order, for the partners concerned.
func TestSimulatorAuditsEveryChange(t *testing.T) {
	ctx := context.Background()
	s, srv := startSim(t, sim.Options{ProvisioningDelay: time.Hour})
	c, _ := newClient(t, srv.URL, contoso)
	source, _ := newClient(t, srv.URL, fabrikam)
	accept(t, srv.URL, contoso, woodgrove)
	accept(t, srv.URL, fabrikam, woodgrove)
	own, theirs := buy(t, c, "op-own"), buy(t, source, "op-theirs")
	simPost(t, srv.URL, "/sim/v1/clock/advance", map[string]string{"duration": "2h"})
	sub := orderSubscription(t, c, own.ID)
	if _, err := c.UpdateSubscriptionStatus(ctx, woodgrove, sub, pc.SubscriptionSuspended); err != nil {
		t.Fatal(err)
	}
	if status, _ := sendAs(t, srv.URL, contoso, "refresh_token", "POST", "/v1/customers/"+woodgrove+"/agreements", nil, string(example(t, "confirm-agreement.request.json"))); status != http.StatusCreated {
		t.Fatalf("confirming the agreement: HTTP %d", status)
	}
	moved := newTransfer(t, c, "op-t1")
	simPost(t, srv.URL, "/sim/v1/transfers/"+moved.ID+"/accept", nil)
	cancelled := newTransfer(t, c, "op-t2")
	if _, err := c.CancelTransfer(ctx, woodgrove, cancelled.ID); err != nil {
		t.Fatal(err)
	}
	rejected := newTransfer(t, c, "op-t3")
	simPost(t, srv.URL, "/sim/v1/transfers/"+rejected.ID+"/reject", nil)
	// Outside the operator: a person changes the seats; a transfer is cancelled in the portal.
	if err := s.ChangeSubscription(sub, sim.SubscriptionChange{Quantity: 7, By: "alice@contoso.example"}); err != nil {
		t.Fatal(err)
	}
	if resp := simPost(t, srv.URL, "/sim/v1/transfers/"+newTransfer(t, c, "op-t4").ID+"/cancel", map[string]string{"by": "bob@contoso.example"}); resp.StatusCode != http.StatusOK {
		t.Fatalf("cancelling outside: HTTP %d", resp.StatusCode)
	}

	records := readLog(t, s, c)
	checkRecords(t, records)
	want := []pc.Change{pc.ChangeRelationshipAccepted, pc.ChangeOrderCreated, pc.ChangeOrderProvisioned, pc.ChangeSubscriptionSuspended,
		pc.ChangeAgreementCreated, pc.ChangeTransferCreated, pc.ChangeSubscriptionUpdated, pc.ChangeTransferCompleted,
		pc.ChangeTransferCreated, pc.ChangeTransferCancelled, pc.ChangeTransferCreated, pc.ChangeTransferRejected,
		pc.ChangeSubscriptionQuantity, pc.ChangeTransferCreated, pc.ChangeTransferCancelled}
	if got := changesOf(records); !reflect.DeepEqual(got, want) {
		t.Fatalf("contoso's log:\n%v\nwant\n%v", got, want)
	}
	checkConcerns(t, records, own.ID, sub, orderSubscription(t, source, theirs.ID), moved.ID)

	// Fabrikam sees its own purchase, the agreement and the transfers it is party to, not contoso's order.
	theirLog := changesOf(readLog(t, s, source))
	wantTheirs := []pc.Change{pc.ChangeRelationshipAccepted, pc.ChangeOrderCreated, pc.ChangeOrderProvisioned, pc.ChangeAgreementCreated,
		pc.ChangeTransferCreated, pc.ChangeSubscriptionUpdated, pc.ChangeTransferCompleted, pc.ChangeTransferCreated, pc.ChangeTransferCancelled,
		pc.ChangeTransferCreated, pc.ChangeTransferRejected, pc.ChangeTransferCreated, pc.ChangeTransferCancelled}
	if !reflect.DeepEqual(theirLog, wantTheirs) {
		t.Errorf("fabrikam's log:\n%v\nwant\n%v", theirLog, wantTheirs)
	}
}

// checkConcerns: the records name the objects they concern and who acted.
func checkConcerns(t *testing.T, records []pc.AuditRecord, orderID, sub, movedSub, transferID string) {
	t.Helper()
	byChange := func(ch pc.Change) pc.AuditRecord {
		for _, r := range records {
			if r.Concerns().Change == ch {
				return r
			}
		}
		t.Fatalf("no %s record", ch)
		return pc.AuditRecord{}
	}
	if c := byChange(pc.ChangeOrderProvisioned).Concerns(); c.OrderID != orderID || !reflect.DeepEqual(c.SubscriptionIDs, []string{sub}) || c.CustomerTenantID != woodgrove {
		t.Errorf("order provisioned: %+v", c)
	}
	if r := byChange(pc.ChangeOrderProvisioned); r.ApplicationID != "FulfillmentService" || r.OperationType != pc.AuditOperationUpdateOrder {
		t.Errorf("provisioning is recorded as Partner Center's own: %+v", r)
	}
	if r := byChange(pc.ChangeSubscriptionSuspended); r.ApplicationID != "app-"+contoso[:8] || r.OriginalCorrelationID == "" {
		t.Errorf("the operator's suspension names its application and call: %+v", r)
	}
	if r := byChange(pc.ChangeSubscriptionQuantity); r.UserPrincipalName != "alice@contoso.example" || r.ApplicationID != "Partner Center Native App" {
		t.Errorf("a change in the portal names the person: %+v", r)
	}
	if c := byChange(pc.ChangeTransferCompleted).Concerns(); c.TransferID != transferID || !reflect.DeepEqual(c.SubscriptionIDs, []string{movedSub}) {
		t.Errorf("transfer completed: %+v", c)
	}
	if c := byChange(pc.ChangeSubscriptionUpdated).Concerns(); !reflect.DeepEqual(c.SubscriptionIDs, []string{movedSub}) {
		t.Errorf("the moved subscription: %+v", c)
	}
}

// TestSimulatorAuditsTime: a transfer that expires and an order that is
// provisioned are recorded when the clock moves, before anyone reads them.
func TestSimulatorAuditsTime(t *testing.T) {
	s, srv := startSim(t, sim.Options{ProvisioningDelay: time.Hour})
	c, _ := newClient(t, srv.URL, contoso)
	accept(t, srv.URL, contoso, woodgrove)
	tr := newTransfer(t, c, "op-exp")
	buy(t, c, "op-buy")
	before := s.Stats().AuditRecords
	simPost(t, srv.URL, "/sim/v1/clock/advance", map[string]string{"duration": "721h"})
	if got := s.Stats().AuditRecords; got != before+2 {
		t.Fatalf("the clock's advance recorded %d records, want 2", got-before)
	}
	records := readLog(t, s, c)
	if got := changesOf(records); !reflect.DeepEqual(got, []pc.Change{pc.ChangeOrderProvisioned, pc.ChangeTransferExpired}) &&
		!reflect.DeepEqual(got, []pc.Change{pc.ChangeTransferExpired, pc.ChangeOrderProvisioned}) {
		t.Fatalf("after 30 days: %v", got)
	}
	for _, r := range records {
		if c := r.Concerns(); c.Change == pc.ChangeTransferExpired && (c.TransferID != tr.ID || c.Status != pc.TransferExpired) {
			t.Errorf("expired transfer: %+v", c)
		}
	}
}

// TestSimulatorAuditQueryRefusals: what Partner Center refuses, the simulator refuses.
func TestSimulatorAuditQueryRefusals(t *testing.T) {
	s, srv := startSim(t, sim.Options{})
	accept(t, srv.URL, contoso, woodgrove)
	today := s.Now().Format("2006-01-02")
	day := func(days int) string { return s.Now().AddDate(0, 0, days).Format("2006-01-02") }
	filter := func(f string) string { return "&filter=" + url.QueryEscape(f) }
	tests := []struct {
		name, query string
		status      int
	}{
		{"no startDate", "", 400},
		{"startDate not a date", "?startDate=yesterday", 400},
		{"endDate not a date", "?startDate=" + today + "&endDate=soon", 400},
		{"endDate before startDate", "?startDate=" + today + "&endDate=" + day(-1), 400},
		{"31 days", "?startDate=" + day(-31) + "&endDate=" + today, 400},
		{"91 days back", "?startDate=" + day(-91) + "&endDate=" + day(-90), 400},
		{"size 0", "?startDate=" + today + "&size=0", 400},
		{"size 501", "?startDate=" + today + "&size=501", 400},
		{"size not a number", "?startDate=" + today + "&size=ten", 400},
		{"an unknown parameter", "?startDate=" + today + "&seek=x", 400},
		{"startDate twice", "?startDate=" + today + "&startDate=" + today, 400},
		{"filter not JSON", "?startDate=" + today + filter("CustomerId eq x"), 400},
		{"filter on another field", "?startDate=" + today + filter(`{"Field":"OperationType","Value":"create_order","Operator":"equals"}`), 400},
		{"filter with another operator", "?startDate=" + today + filter(`{"Field":"CustomerId","Value":"`+woodgrove+`","Operator":"substring"}`), 400},
		{"filter with a further key", "?startDate=" + today + filter(`{"Field":"CustomerId","Value":"`+woodgrove+`","Operator":"equals","Extra":1}`), 400},
		{"filter on a customer that is not a GUID", "?startDate=" + today + filter(`{"Field":"CustomerId","Value":"woodgrove","Operator":"equals"}`), 400},
		{"filter on an undocumented resource type", "?startDate=" + today + filter(`{"Field":"ResourceType","Value":"Cart","Operator":"equals"}`), 400},
		{"30 days, 90 days back", "?startDate=" + day(-90) + "&endDate=" + day(-60), 200},
		{"the documented date and time", "?startDate=" + url.QueryEscape(s.Now().Format("1/2/2006 3:04:05 PM")), 200},
		{"a resource type as the SDK names it", "?startDate=" + today + filter(`{"Field":"ResourceType","Value":"PartnerCustomerRelationship","Operator":"equals"}`), 200},
		{"a company name", "?startDate=" + today + filter(`{"Field":"CompanyName","Value":"bri","Operator":"substring"}`), 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if status, body := send(t, srv.URL, contoso, "GET", "/v1/auditrecords"+tc.query, nil, ""); status != tc.status {
				t.Errorf("HTTP %d, want %d: %v", status, tc.status, body)
			}
		})
	}
	for _, token := range []string{"not-a-token", "eyJ9.eyJ9"} {
		if status, _ := send(t, srv.URL, contoso, "GET", "/v1/auditrecords?startDate="+today, map[string]string{"MS-ContinuationToken": token}, ""); status != 400 {
			t.Errorf("continuation token %q: HTTP %d, want 400", token, status)
		}
	}
}

// TestSimulatorAuditPages: pages follow each other through the next link
// and its continuation token, which holds only for its own query; the
// client reads every page.
func TestSimulatorAuditPages(t *testing.T) {
	s, srv := startSim(t, sim.Options{})
	c, _ := newClient(t, srv.URL, contoso)
	accept(t, srv.URL, contoso, woodgrove)
	sub := orderSubscription(t, c, buy(t, c, "op-buy").ID)
	for i := range 1100 {
		if err := s.ChangeSubscription(sub, sim.SubscriptionChange{Quantity: 5 + i%2 + 1}); err != nil {
			t.Fatal(err)
		}
	}
	reads := s.Stats().AuditReads
	records := readLog(t, s, c)
	checkRecords(t, records)
	if len(records) != 1103 || s.Stats().AuditReads-reads != 3 {
		t.Errorf("read %d records in %d pages, want 1103 in 3", len(records), s.Stats().AuditReads-reads)
	}
	// A window of the newest ten records is read in one page: the log is
	// newest first, and the first page already ends before the window.
	reads = s.Stats().AuditReads
	recent, err := c.AuditRecords(context.Background(), records[len(records)-10].OperationDate, s.Now().Add(time.Second))
	if err != nil || len(recent) != 10 || s.Stats().AuditReads-reads != 1 {
		t.Errorf("the newest ten: %d records in %d pages (%v), want 10 in 1", len(recent), s.Stats().AuditReads-reads, err)
	}

	query := "/v1/auditrecords?startDate=" + s.Now().Format("2006-01-02") + "&size=2"
	_, first := send(t, srv.URL, contoso, "GET", query, nil, "")
	token, _ := first["continuationToken"].(string)
	next, _ := first["links"].(map[string]any)["next"].(map[string]any)
	if token == "" || next == nil || !strings.HasPrefix(next["uri"].(string), "/auditrecords?") {
		t.Fatalf("the first page has no continuation: %v", first)
	}
	nextURI, _ := url.Parse(next["uri"].(string))
	status, second := send(t, srv.URL, contoso, "GET", "/v1"+nextURI.String(), map[string]string{"MS-ContinuationToken": token}, "")
	if a, b := idsOf(first), idsOf(second); status != 200 || len(a) != 2 || len(b) != 2 || a[1] == b[0] {
		t.Errorf("the second page: HTTP %d, %v after %v", status, idsOf(second), idsOf(first))
	}
	if status, _ := send(t, srv.URL, contoso, "GET", query+"&endDate="+s.Now().Format("2006-01-02"), map[string]string{"MS-ContinuationToken": token}, ""); status != 400 {
		t.Errorf("a token with another query: HTTP %d, want 400", status)
	}
}

func idsOf(page map[string]any) []string {
	var ids []string
	items, _ := page["items"].([]any)
	for _, it := range items {
		ids = append(ids, it.(map[string]any)["id"].(string))
	}
	return ids
}

// TestSimulatorAuditPersists: records survive a restart; with the clock
// standing still, every record still has its own ID and date.
func TestSimulatorAuditPersists(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sim.json")
	frozen := time.Now().UTC()
	opts := sim.Options{StatePath: path, Now: func() time.Time { return frozen }}
	s1, srv1 := startSim(t, opts)
	c1, _ := newClient(t, srv1.URL, contoso)
	accept(t, srv1.URL, contoso, woodgrove)
	sub := orderSubscription(t, c1, buy(t, c1, "op-buy").ID)
	before := readLog(t, s1, c1)
	srv1.Close()
	if err := s1.Close(); err != nil {
		t.Fatal(err)
	}

	s2, srv2 := startSim(t, opts)
	c2, _ := newClient(t, srv2.URL, contoso)
	if err := s2.ChangeSubscription(sub, sim.SubscriptionChange{Status: "suspended"}); err != nil {
		t.Fatal(err)
	}
	after := readLog(t, s2, c2)
	checkRecords(t, after)
	if len(after) != len(before)+1 || !reflect.DeepEqual(after[:len(before)], before) {
		t.Errorf("after a restart: %d records, %d before", len(after), len(before))
	}
	if last := after[len(after)-1]; last.Concerns().Change != pc.ChangeSubscriptionSuspended || last.ApplicationID != "FulfillmentService" {
		t.Errorf("a suspension by Microsoft: %+v", last)
	}
}

// TestSimulatorSpeaksTheDocumentedAuditShapes: the log's answer holds what
// the documented examples show, the continuation the REST reference adds,
// and resourceOldValue, which the AuditRecord table documents.
func TestSimulatorSpeaksTheDocumentedAuditShapes(t *testing.T) {
	s, srv := startSim(t, sim.Options{})
	c, _ := newClient(t, srv.URL, contoso)
	accept(t, srv.URL, contoso, woodgrove)
	buy(t, c, "op-buy")
	buy(t, c, "op-buy-2")
	page := get(t, srv.URL, contoso, "/v1/auditrecords?size=1&startDate="+s.Now().Format("2006-01-02"))
	checkShapes(t, []shapeCase{{"activity log", page, documentedKeys(t, "", []string{"continuationtoken", "items.resourceoldvalue"},
		"get-audit-records.response.json", "get-audit-records.by-day.response.json")}})
}
