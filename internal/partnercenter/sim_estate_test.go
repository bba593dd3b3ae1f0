package partnercenter_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	pc "github.com/partnerops/multichannel-operator/internal/partnercenter"
	"github.com/partnerops/multichannel-operator/internal/partnercenter/sim"
)

// estateOf is an estate of n customers of contoso: each with a license, the
// even ones with an Azure plan and two Azure subscriptions, the first with
// a transfer under way from fabrikam, asked for two days ago.
func estateOf(n int) sim.Estate {
	start := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, -6, 0)
	e := sim.Estate{PartnerTenantID: contoso}
	for i := range n {
		id := func(kind int) string { return fmt.Sprintf("%08x-0000-4000-8000-%012x", kind, i) }
		c := sim.EstateCustomer{TenantID: id(1), Domain: fmt.Sprintf("customer%d.onmicrosoft.com", i), CompanyName: fmt.Sprintf("Customer %d", i), Country: "US",
			Licenses: []sim.EstateLicense{{ID: id(2), OfferID: sim.E3CatalogItem, OfferName: "Microsoft 365 E3", Quantity: 10 + i,
				TermDuration: "P1Y", BillingCycle: "monthly", Start: start, End: start.AddDate(1, 0, 0), AutoRenew: true}}}
		if i%2 == 0 {
			c.AzurePlan = &sim.EstateAzurePlan{ID: id(3), Subscriptions: []sim.EstateAzureSubscription{{ID: id(4), FriendlyName: "Production"}, {ID: id(5), FriendlyName: "Development"}}}
		}
		if i == 0 {
			c.Transfers = []sim.EstateTransfer{{ID: id(6), SourcePartnerTenantID: fabrikam, SourcePartnerName: "Fabrikam", Created: time.Now().UTC().Add(-48 * time.Hour).Truncate(time.Second),
				LineItems: []sim.EstateTransferLine{{SubscriptionID: id(7), OfferID: sim.BusinessBasicCatalogItem, FriendlyName: "Microsoft 365 Business Basic", Quantity: 3, TermDuration: "P1Y", BillingCycle: "monthly"},
					{SubscriptionID: id(8), OfferID: sim.E3CatalogItem, FriendlyName: "Microsoft 365 E3", Quantity: 2, TermDuration: "P1Y", BillingCycle: "annual"}}}}
		}
		e.Customers = append(e.Customers, c)
	}
	return e
}

// TestSimulatorServesASeededEstate: an estate seeded as a Go value and one
// posted to /sim/v1/estate read back through the client as Partner Center
// shows them: customers page by page, each with its country, licenses, the
// Azure plan and its Azure subscriptions, and the transfer under way; the
// source partner sees the transfer too; seeding created nothing.
func TestSimulatorServesASeededEstate(t *testing.T) {
	s, srv := startSim(t, sim.Options{})
	e := estateOf(5)
	if err := s.SeedEstate(e); err != nil {
		t.Fatal(err)
	}
	if err := s.SeedEstate(e); err == nil {
		t.Error("the same estate was seeded twice")
	}
	other := sim.Estate{PartnerTenantID: fabrikam, Customers: []sim.EstateCustomer{{TenantID: woodgrove, Domain: "woodgrove.example", CompanyName: "Woodgrove", Country: "DE"}}}
	if resp := simPost(t, srv.URL, "/sim/v1/estate", other); resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /sim/v1/estate: HTTP %d", resp.StatusCode)
	}
	ctx := context.Background()
	c, _ := newClient(t, srv.URL, contoso)

	var ids []string
	pages := 0
	page, err := c.ListCustomers(ctx, 2)
	for ; err == nil; page, err = c.NextCustomers(ctx, page.Next) {
		pages++
		if len(page.Customers) > 2 {
			t.Errorf("a page of size 2 holds %d customers", len(page.Customers))
		}
		for _, cu := range page.Customers {
			ids = append(ids, cu.ID)
		}
		if page.Next == nil {
			break
		}
	}
	want := make([]string, 0, len(e.Customers))
	for _, cu := range e.Customers {
		want = append(want, cu.TenantID)
	}
	if err != nil || pages != 3 || !slices.Equal(ids, want) {
		t.Fatalf("%d pages of %v (%v), want 3 pages of contoso's %v", pages, ids, err, want)
	}

	cu, err := c.GetCustomer(ctx, want[0])
	if err != nil || cu.Country() != "US" || cu.CompanyProfile.Domain != "customer0.onmicrosoft.com" || cu.RelationshipToPartner != pc.RelationshipReseller {
		t.Errorf("GetCustomer = %+v, %v", cu, err)
	}
	subs, err := c.ListSubscriptions(ctx, want[0])
	if err != nil || len(subs) != 2 {
		t.Fatalf("ListSubscriptions = %+v, %v: want the license and the Azure plan", subs, err)
	}
	for _, sub := range subs {
		switch {
		case pc.IsAzurePlan(sub.OfferID):
			ents, err := c.AzureEntitlements(ctx, want[0], sub.ID)
			if err != nil || len(ents) != 2 || ents[0].FriendlyName != "Production" {
				t.Errorf("AzureEntitlements = %+v, %v", ents, err)
			}
		case sub.Quantity != 10 || sub.CommitmentEndDate == nil || !sub.AutoRenewEnabled || sub.BillingType != pc.BillingLicense:
			t.Errorf("license = %+v", sub)
		}
	}
	transfers, err := c.ListTransfers(ctx, want[0])
	if err != nil || len(transfers) != 1 || !transfers[0].Pending() || len(transfers[0].LineItems) != 2 || transfers[0].SourcePartnerTenantID != fabrikam ||
		transfers[0].TargetPartnerTenantID != contoso {
		t.Fatalf("ListTransfers = %+v, %v", transfers, err)
	}
	source, _ := newClient(t, srv.URL, fabrikam)
	if seen, err := source.ListTransfers(ctx, want[0]); err != nil || len(seen) != 1 {
		t.Errorf("the source partner's ListTransfers = %+v, %v", seen, err)
	}
	if none, err := c.ListTransfers(ctx, want[1]); err != nil || none == nil || len(none) != 0 {
		t.Errorf("a customer without transfers: %+v, %v (want an empty array)", none, err)
	}
	if created := s.Stats().ObjectsCreated; len(created) != 0 {
		t.Errorf("seeding created %v", created)
	}
}

// TestSimulatorRefusesBadPages: a customer list request the simulator does
// not take (no or a bad size, an unknown parameter, a next page without or
// with someone else's continuation token) is refused 400 with the
// documented 800002 "Invalid request input"; the transfer list takes no
// query parameter.
func TestSimulatorRefusesBadPages(t *testing.T) {
	s, srv := startSim(t, sim.Options{})
	if err := s.SeedEstate(estateOf(3)); err != nil {
		t.Fatal(err)
	}
	c, _ := newClient(t, srv.URL, contoso)
	first, err := c.ListCustomers(context.Background(), 2)
	if err != nil || first.Next == nil {
		t.Fatalf("first page = %+v, %v", first, err)
	}
	tok := map[string]string{pc.HeaderContinuationToken: first.Next.Headers[0].Value}
	forged := map[string]string{pc.HeaderContinuationToken: first.Next.Headers[0].Value[:10] + "x" + first.Next.Headers[0].Value[11:]}
	for _, tc := range []struct {
		name, partner, path string
		header              map[string]string
		status              int
	}{
		{"the documented request", contoso, "/v1/customers?size=40", nil, 200},
		{"the next page as the link names it", contoso, "/v1/customers?size=2&seekOperation=Next", tok, 200},
		{"no size", contoso, "/v1/customers", nil, 400},
		{"size 0", contoso, "/v1/customers?size=0", nil, 400},
		{"a size past the simulator's limit", contoso, fmt.Sprintf("/v1/customers?size=%d", sim.MaxCustomerPageSize+1), nil, 400},
		{"a size that is not a number", contoso, "/v1/customers?size=all", nil, 400},
		{"size twice", contoso, "/v1/customers?size=2&size=3", nil, 400},
		{"an unknown parameter", contoso, "/v1/customers?size=2&offset=2", nil, 400},
		{"seekOperation=Next without the token", contoso, "/v1/customers?size=2&seekOperation=Next", nil, 400},
		{"the token without seekOperation", contoso, "/v1/customers?size=2", tok, 400},
		{"a seekOperation other than Next", contoso, "/v1/customers?size=2&seekOperation=Previous", tok, 400},
		{"a forged token", contoso, "/v1/customers?size=2&seekOperation=Next", forged, 400},
		{"the token with another page size", contoso, "/v1/customers?size=3&seekOperation=Next", tok, 400},
		{"another partner's token", fabrikam, "/v1/customers?size=2&seekOperation=Next", tok, 400},
		{"a query on the transfer list", contoso, "/v1/customers/" + estateOf(1).Customers[0].TenantID + "/transfers?size=1", nil, 400},
	} {
		status, body := send(t, srv.URL, tc.partner, http.MethodGet, tc.path, tc.header, "")
		if status != tc.status || (status == 400 && body["code"] != float64(800002)) {
			t.Errorf("%s: HTTP %d %v, want %d (800002 when refused)", tc.name, status, body, tc.status)
		}
	}
}
