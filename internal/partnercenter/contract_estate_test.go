package partnercenter_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"

	"github.com/partnerops/multichannel-operator/internal/apiretry/apiretrytest"
	pc "github.com/partnerops/multichannel-operator/internal/partnercenter"
)

// TestContractListCustomers: the client reads the documented customer list,
// and follows a next link as the paged examples give it: the link's URI
// below /v1 with the MS-ContinuationToken header it names, until a page
// has no next link.
// Sources: list-customers.next-link.response.json, list-customers.response.json (see testdata/SOURCES).
func TestContractListCustomers(t *testing.T) {
	var mu sync.Mutex
	var sent []*http.Request
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if apiretrytest.ServeEntra(w, r) {
			return
		}
		mu.Lock()
		sent = append(sent, r.Clone(context.Background()))
		mu.Unlock()
		page := "list-customers.next-link.response.json"
		if r.Header.Get(pc.HeaderContinuationToken) != "" {
			page = "list-customers.response.json"
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(example(t, page))
	}))
	t.Cleanup(srv.Close)
	c, _ := newClient(t, srv.URL, contoso)
	ctx := context.Background()

	first, err := c.ListCustomers(ctx, 40)
	if err != nil || len(first.Customers) != 2 || first.Next == nil {
		t.Fatalf("first page = %+v, %v", first, err)
	}
	if cu := first.Customers[0]; cu.ID != "b44bb1fb-c595-45b0-9e09-d657365580bf" || cu.CompanyProfile.Domain != "domain" ||
		cu.CompanyProfile.CompanyName != "companyName" || cu.RelationshipToPartner != pc.RelationshipReseller || cu.Country() != "" {
		t.Errorf("first customer = %+v (a listed customer has no address)", cu)
	}
	last, err := c.NextCustomers(ctx, first.Next)
	if err != nil || len(last.Customers) != 2 || last.Next != nil {
		t.Fatalf("last page = %+v, %v", last, err)
	}
	if len(sent) != 2 {
		t.Fatalf("%d requests, want 2", len(sent))
	}
	if q := sent[0].URL.Query(); sent[0].URL.Path != "/v1/customers" || len(q) != 1 || q.Get("size") != "40" || sent[0].Header.Get(pc.HeaderContinuationToken) != "" {
		t.Errorf("first request %s ?%s, documented GET /v1/customers?size=40", sent[0].URL.Path, sent[0].URL.RawQuery)
	}
	want := url.Values{"size": {"40"}, "seekOperation": {"Next"}}
	if q := sent[1].URL.Query(); sent[1].URL.Path != "/v1/customers" || q.Encode() != want.Encode() || sent[1].Header.Get(pc.HeaderContinuationToken) != "AQAAAA==" {
		t.Errorf("next request %s ?%s with token %q, want the link's URI below /v1 with its header", sent[1].URL.Path, sent[1].URL.RawQuery, sent[1].Header.Get(pc.HeaderContinuationToken))
	}
}

// TestNextLinksStayInTheAPI: a next link to another origin, another
// resource or another method is not followed, and nothing is sent.
func TestNextLinksStayInTheAPI(t *testing.T) {
	c, d := serveDocumented(t, map[string]reply{})
	for _, l := range []*pc.Link{
		nil,
		{URI: "https://elsewhere.example/v1/customers?size=40"},
		{URI: "//elsewhere.example/customers"},
		{URI: "/customers/" + docCustomer + "/subscriptions"},
		{URI: "/customers?size=40", Method: http.MethodPost},
	} {
		if _, err := c.NextCustomers(context.Background(), l); err == nil {
			t.Errorf("link %+v was followed", l)
		}
	}
	if len(d.sent) != 0 {
		t.Errorf("sent %d requests", len(d.sent))
	}
	if _, err := c.ListCustomers(context.Background(), 0); err == nil {
		t.Error("a page size of 0 was sent")
	}
}

// TestContractListTransfers: the documented answer, a JSON array of
// transfers, reads as the customer's transfers with their line items; a
// status the documentation spells differently keeps its spelling and is
// not pending.
// Source: list-transfers.response.json (see testdata/SOURCES).
func TestContractListTransfers(t *testing.T) {
	const customer = "b67f0b00-f9e8-4c57-bcb5-0b8b95c6ccf0"
	c, d := serveDocumented(t, map[string]reply{
		"GET /v1/customers/" + customer + "/transfers": {200, example(t, "list-transfers.response.json")},
	})
	got, err := c.ListTransfers(context.Background(), customer)
	if err != nil || len(got) != 9 {
		t.Fatalf("ListTransfers = %d transfers, %v", len(got), err)
	}
	first := got[0]
	if first.ID != "ab724652-3442-4912-8615-61525bb9903d" || first.Status != pc.TransferRejected || first.Pending() ||
		first.SourcePartnerTenantID != "7c8db11f-1e5e-4472-8386-f0b627d1f3e1" || first.TargetPartnerTenantID != "3a9a35ce-d5be-4814-ab58-4451c36fe157" ||
		first.SourcePartnerName != "Test_Test_09092019GBL" || first.CustomerTenantID != customer || first.CreatedTime == nil || len(first.LineItems) != 2 {
		t.Errorf("first transfer = %+v", first)
	}
	if li := first.LineItems[1]; li.SubscriptionID != "1151B8CE-125C-49D7-8C48-E62FC9101B77" || li.Quantity != 20 || li.BillingCycle != "monthly" ||
		li.OfferID != "13D32E13-A1B0-400D-96C0-4EAAA14DCED5" || li.PartnerIDOnRecord != "5139005" {
		t.Errorf("line item = %+v", li)
	}
	for _, tr := range got {
		if tr.Pending() {
			t.Errorf("transfer %s (%s) read as pending", tr.ID, tr.Status)
		}
	}
	if got[3].Status != "PartiallyComplete" || got[3].LineItems[0].TransferError == "" {
		t.Errorf("a partially complete transfer = %+v", got[3])
	}
	if s := d.request(t, http.MethodGet, "/v1/customers/"+customer+"/transfers"); s.query != "" || len(s.body) != 0 {
		t.Errorf("sent ?%s with %q: the documented request has neither", s.query, s.body)
	}
}

// TestListTransfersReadsACollection: a collection of transfers reads as
// well as the documented array, statuses in their documented spelling.
func TestListTransfersReadsACollection(t *testing.T) {
	c, _ := serveDocumented(t, map[string]reply{
		"GET /v1/customers/" + docCustomer + "/transfers": {200, []byte(`{"totalCount": 1, "items": [{"id": "t", "status": "active", "sourcePartnerTenantId": "s"}]}`)},
	})
	got, err := c.ListTransfers(context.Background(), docCustomer)
	if err != nil || len(got) != 1 || got[0].Status != pc.TransferActive || !got[0].Pending() {
		t.Fatalf("ListTransfers = %+v, %v", got, err)
	}
}

// TestContractCustomerCountry: a customer read by ID has its country in
// its company profile's address (and its billing address), as the
// documented example shows.
// Source: get-customer.response.json (see testdata/SOURCES).
func TestContractCustomerCountry(t *testing.T) {
	c, _ := serveDocumented(t, map[string]reply{"GET /v1/customers/" + docCustomer: {200, example(t, "get-customer.response.json")}})
	cu, err := c.GetCustomer(context.Background(), docCustomer)
	if err != nil || cu.Country() != "US" || cu.BillingProfile == nil || cu.BillingProfile.DefaultAddress.Country != "US" {
		t.Fatalf("GetCustomer = %+v, %v: want country US", cu, err)
	}
	billingOnly := pc.Customer{BillingProfile: &pc.BillingProfile{DefaultAddress: &pc.Address{Country: "de"}}}
	if got := billingOnly.Country(); got != "DE" {
		t.Errorf("a billing address alone gives %q, want DE", got)
	}
}
