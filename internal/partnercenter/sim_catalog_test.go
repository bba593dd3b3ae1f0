package partnercenter_test

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	pc "github.com/partnerops/multichannel-operator/internal/partnercenter"
	"github.com/partnerops/multichannel-operator/internal/partnercenter/sim"
)

// The simulator's catalog and purchase rules, through the client.

// productSKU splits a catalog item ID into its product and SKU.
func productSKU(catalogItem string) (string, string) {
	parts := strings.Split(catalogItem, ":")
	return parts[0], parts[1]
}

func TestCatalogSellsWhatMicrosoftDocuments(t *testing.T) {
	ctx := context.Background()
	teams, _ := productSKU(sim.TeamsPhoneVirtualUserCatalogItem)
	_, srv := startSim(t, sim.Options{NotSoldTo: map[string][]string{woodgrove: {teams + ":0001"}}})
	c, _ := newClient(t, srv.URL, contoso)
	if _, err := c.CustomerAvailabilities(ctx, woodgrove, "CFQ7TTC0LFLX", "0001"); !pc.IsNotFound(err) {
		t.Fatalf("availabilities for a customer without a relationship: %v, want 404", err)
	}
	accept(t, srv.URL, contoso, woodgrove)
	tests := []struct {
		item           string
		max            int
		sells, notSold [2]string // a term duration and billing cycle
	}{
		{sim.AzurePlanCatalogItem, 1, [2]string{"", "one_time"}, [2]string{"P1M", "monthly"}},
		{sim.BusinessBasicCatalogItem, sim.BusinessMaxSeats, [2]string{"P1Y", "annual"}, [2]string{"P3Y", "triennial"}},
		{sim.BusinessPremiumCatalogItem, sim.BusinessMaxSeats, [2]string{"P3Y", "triennial"}, [2]string{"", "monthly"}},
		{sim.E3CatalogItem, sim.EnterpriseMaxSeats, [2]string{"P1M", "monthly"}, [2]string{"P1M", "annual"}},
		{sim.E5CatalogItem, sim.EnterpriseMaxSeats, [2]string{"P1Y", "monthly"}, [2]string{"P3Y", "one_time"}},
		{sim.Office365E5CatalogItem, sim.EnterpriseMaxSeats, [2]string{"P3Y", "annual"}, [2]string{"P1M", "triennial"}},
	}
	for _, tc := range tests {
		product, skuID := productSKU(tc.item)
		av, err := c.CustomerAvailabilities(ctx, woodgrove, product, skuID)
		if err != nil || len(av) != 1 || av[0].CatalogItemID != tc.item || !av[0].IsPurchasable || av[0].SKU == nil ||
			!av[0].Sells(tc.sells[0], tc.sells[1]) || av[0].Sells(tc.notSold[0], tc.notSold[1]) {
			t.Errorf("%s: availabilities %+v, %v", tc.item, av, err)
		}
		sku, err := c.GetSKU(ctx, product, skuID, "US")
		if err != nil || sku.MinimumQuantity != 1 || sku.MaximumQuantity != tc.max {
			t.Errorf("%s: SKU %+v, %v", tc.item, sku, err)
		}
	}
	if av, err := c.CustomerAvailabilities(ctx, woodgrove, teams, "0001"); err != nil || len(av) != 0 {
		t.Errorf("a SKU not sold to the customer: %+v, %v; want no availability", av, err)
	}
	for _, tc := range []struct{ product, sku string }{{"CFQ7TTC0XXXX", "0001"}, {"CFQ7TTC0LFLX", "0009"}} {
		_, err := c.CustomerAvailabilities(ctx, woodgrove, tc.product, tc.sku)
		_, skuErr := c.GetSKU(ctx, tc.product, tc.sku, "US")
		want := map[string]int{"CFQ7TTC0XXXX": 400013, "CFQ7TTC0LFLX": 400018}[tc.product]
		if codeOf(err) != want || codeOf(skuErr) != want || !pc.IsNotFound(err) {
			t.Errorf("%s:%s: %v and %v, want 404 code %d", tc.product, tc.sku, err, skuErr, want)
		}
	}
	if _, err := c.GetSKU(ctx, "CFQ7TTC0LFLX", "0001", ""); statusOf(err) != http.StatusBadRequest {
		t.Errorf("a SKU without a country: %v, want 400", err)
	}
}

func codeOf(err error) int {
	var e *pc.Error
	if errors.As(err, &e) {
		return e.Code
	}
	return 0
}

func statusOf(err error) int {
	var e *pc.Error
	if errors.As(err, &e) {
		return e.StatusCode
	}
	return 0
}

// TestCartsAsStrictAsPartnerCenter: each line item a cart cannot hold is
// refused with Partner Center's status and code.
func TestCartsAsStrictAsPartnerCenter(t *testing.T) {
	ctx := context.Background()
	_, srv := startSim(t, sim.Options{NotSoldTo: map[string][]string{woodgrove: {"CFQ7TTC0LFLZ:0002"}}})
	accept(t, srv.URL, contoso, woodgrove)
	c, _ := newClient(t, srv.URL, contoso)
	license := func(item string, quantity int, cycle, term string) pc.CartLineItem {
		return pc.CartLineItem{CatalogItemID: item, Quantity: quantity, BillingCycle: cycle, TermDuration: term}
	}
	tests := []struct {
		name         string
		item         pc.CartLineItem
		status, code int
	}{
		{"no availability", license("CFQ7TTC0LFLX:0001", 1, "monthly", "P1Y"), 404, 400019},
		{"an availability no longer current", license("CFQ7TTC0LFLX:0001:CFQ7TTC0K18P", 1, "monthly", "P1Y"), 404, 400019},
		{"a SKU not sold to the customer", license(sim.E5CatalogItem, 1, "monthly", "P1Y"), 404, 400019},
		{"a legacy offer", license("MS-AZR-0145P", 1, "monthly", ""), 400, 10001},
		{"a billing cycle the SKU does not support", license(sim.BusinessBasicCatalogItem, 1, "triennial", "P3Y"), 400, 3000},
		{"the Azure plan billed monthly", license(sim.AzurePlanCatalogItem, 1, "monthly", ""), 400, 3000},
		{"a license without a term", license(sim.E3CatalogItem, 1, "monthly", ""), 400, 3000},
		{"over the seat limit", license(sim.BusinessBasicCatalogItem, sim.BusinessMaxSeats+1, "monthly", "P1Y"), 400, 800088},
		{"two Azure plans on one line", license(sim.AzurePlanCatalogItem, 2, "one_time", ""), 400, 800088},
	}
	for i, tc := range tests {
		_, err := c.CreateOrder(ctx, woodgrove, "op-"+strconv.Itoa(i), []pc.CartLineItem{tc.item})
		if statusOf(err) != tc.status || codeOf(err) != tc.code {
			t.Errorf("%s: %v, want HTTP %d code %d", tc.name, err, tc.status, tc.code)
		}
	}
	_, err := c.CreateOrder(ctx, woodgrove, "op-a", []pc.CartLineItem{license("CFQ7TTC0LFLX:0001", 1, "monthly", "P1Y")})
	if !pc.IsAvailabilityNotFound(err) || !strings.HasPrefix(errorDescription(err), "Availability not found.") {
		t.Errorf("a catalog item without availability: %v", err)
	}
	// Billing cycles are read whatever their case, as the documented new-commerce cart sends "Monthly".
	if _, err := c.CreateOrder(ctx, woodgrove, "op-b", []pc.CartLineItem{license(sim.E3CatalogItem, 1, "Monthly", "P1M")}); err != nil {
		t.Errorf("billed \"Monthly\": %v", err)
	}
}

func errorDescription(err error) string {
	var e *pc.Error
	if errors.As(err, &e) {
		return e.Description
	}
	return ""
}

// TestSeatLimitPooledOnTheCustomer: the SKU's limit counts the seats the
// customer holds with every partner, in the documented words.
func TestSeatLimitPooledOnTheCustomer(t *testing.T) {
	ctx := context.Background()
	_, srv := startSim(t, sim.Options{})
	accept(t, srv.URL, contoso, woodgrove)
	accept(t, srv.URL, fabrikam, woodgrove)
	c, _ := newClient(t, srv.URL, contoso)
	f, _ := newClient(t, srv.URL, fabrikam)
	basic := func(n int) []pc.CartLineItem {
		return []pc.CartLineItem{{CatalogItemID: sim.BusinessBasicCatalogItem, Quantity: n, BillingCycle: "monthly", TermDuration: "P1Y"}}
	}
	if _, err := c.CreateOrder(ctx, woodgrove, "op-200", basic(200)); err != nil {
		t.Fatal(err)
	}
	_, err := f.CreateOrder(ctx, woodgrove, "op-101", basic(101))
	want := "The requested number of 101 seats exceeds the remaining limit of 100 seats allowed per subscription for the CatalogItemId - " + sim.BusinessBasicCatalogItem + "."
	if codeOf(err) != pc.CodeSeatLimit || errorDescription(err) != want || !pc.IsRefused(err) {
		t.Errorf("101 more seats: %v; want 800088 %q", err, want)
	}
	if _, err := f.CreateOrder(ctx, woodgrove, "op-100", basic(100)); err != nil {
		t.Errorf("the 100 seats that remain: %v", err)
	}
}

// TestOneAzurePlanPerCustomerAndPartner: a partner holds one Azure plan
// per customer (an indirect provider one per partner of record); a second
// is refused in the cart, or at checkout when another cart bought one since.
func TestOneAzurePlanPerCustomerAndPartner(t *testing.T) {
	ctx := context.Background()
	s, srv := startSim(t, sim.Options{})
	accept(t, srv.URL, contoso, woodgrove)
	accept(t, srv.URL, fabrikam, woodgrove)
	c, _ := newClient(t, srv.URL, contoso)
	f, _ := newClient(t, srv.URL, fabrikam)
	if _, err := c.CreateOrder(ctx, woodgrove, "plan-1", []pc.CartLineItem{azurePlanItem()}); err != nil {
		t.Fatal(err)
	}
	_, err := c.CreateOrder(ctx, woodgrove, "plan-2", []pc.CartLineItem{azurePlanItem()})
	if statusOf(err) != http.StatusForbidden || codeOf(err) != pc.CodeSubscriptionLimit || !pc.IsRefused(err) {
		t.Errorf("a second Azure plan: %v, want 403 800066, refused", err)
	}
	if _, err := f.CreateOrder(ctx, woodgrove, "plan-f", []pc.CartLineItem{azurePlanItem()}); err != nil {
		t.Errorf("another partner's plan: %v", err)
	}
	forReseller := azurePlanItem()
	forReseller.Participants = []pc.Participant{{Key: pc.ParticipantTransactionReseller, Value: "517285"}}
	if _, err := c.CreateOrder(ctx, woodgrove, "plan-r1", []pc.CartLineItem{forReseller}); err != nil {
		t.Errorf("a plan for an indirect reseller: %v", err)
	}
	if _, err := c.CreateOrder(ctx, woodgrove, "plan-r2", []pc.CartLineItem{forReseller}); codeOf(err) != pc.CodeSubscriptionLimit {
		t.Errorf("a second plan for the same reseller: %v, want 800066", err)
	}
	bought := s.Stats().AzurePlansBought
	if bought[contoso+"|"+woodgrove] != 2 || bought[fabrikam+"|"+woodgrove] != 1 {
		t.Errorf("AzurePlansBought = %v; want 2 for contoso (itself and one reseller), 1 for fabrikam", bought)
	}
}

// TestSecondAzurePlanAtCheckout: two carts made before either checkout;
// the second checkout answers an order error, and while the first plan is
// still being provisioned, a new cart is refused.
func TestSecondAzurePlanAtCheckout(t *testing.T) {
	s, srv := startSim(t, sim.Options{ProvisioningDelay: time.Hour})
	accept(t, srv.URL, contoso, woodgrove)
	carts := "/v1/customers/" + woodgrove + "/carts"
	plan := cartOf(strconv.Quote(sim.AzurePlanCatalogItem), 1, "one_time", "")
	_, first := send(t, srv.URL, contoso, "POST", carts, nil, plan)
	_, second := send(t, srv.URL, contoso, "POST", carts, nil, plan)
	if st, _ := send(t, srv.URL, contoso, "POST", carts+"/"+first["id"].(string)+"/checkout", nil, ""); st != http.StatusCreated {
		t.Fatalf("first checkout: HTTP %d", st)
	}
	_, result := send(t, srv.URL, contoso, "POST", carts+"/"+second["id"].(string)+"/checkout", nil, "")
	errs, _ := result["orderErrors"].([]any)
	if orders, _ := result["orders"].([]any); len(orders) != 0 || len(errs) != 1 || errs[0].(map[string]any)["code"] != float64(pc.CodeSubscriptionLimit) {
		t.Errorf("second checkout = %v; want one order error 800066", result)
	}
	if st, body := send(t, srv.URL, contoso, "POST", carts, nil, plan); st != http.StatusForbidden {
		t.Errorf("a cart while the first plan is pending: HTTP %d %v, want 403", st, body)
	}
	if n := s.Stats().AzurePlansBought[contoso+"|"+woodgrove]; n != 1 {
		t.Errorf("AzurePlansBought = %d, want 1", n)
	}
}

// TestAzurePlanComesWithAnAzureSubscription: the plan is a usage-billed
// subscription whose first Azure subscription is its entitlement; the
// customer's subscriptions list the plan, not the Azure subscriptions.
func TestAzurePlanComesWithAnAzureSubscription(t *testing.T) {
	ctx := context.Background()
	_, srv := startSim(t, sim.Options{})
	accept(t, srv.URL, contoso, woodgrove)
	accept(t, srv.URL, fabrikam, woodgrove)
	c, _ := newClient(t, srv.URL, contoso)
	orders, err := c.CreateOrder(ctx, woodgrove, "plan", []pc.CartLineItem{azurePlanItem(),
		{CatalogItemID: sim.E3CatalogItem, Quantity: 3, BillingCycle: "annual", TermDuration: "P1Y"}})
	if err != nil {
		t.Fatal(err)
	}
	planID, licenseID := orders[0].LineItems[0].SubscriptionID, orders[1].LineItems[0].SubscriptionID
	plan, err := c.GetSubscription(ctx, woodgrove, planID)
	if err != nil || plan.OfferID != sim.AzurePlanCatalogItem || plan.BillingType != pc.BillingUsage || plan.Status != pc.SubscriptionActive || !pc.IsAzurePlan(plan.OfferID) {
		t.Fatalf("the plan = %+v, %v", plan, err)
	}
	ents, err := c.AzureEntitlements(ctx, woodgrove, planID)
	if err != nil || len(ents) != 1 || ents[0].FriendlyName != "Microsoft Azure" || ents[0].Status != "active" ||
		ents[0].SubscriptionID != planID || ents[0].ID == planID || ents[0].ID == "" {
		t.Errorf("AzureEntitlements = %+v, %v", ents, err)
	}
	if subs, err := c.ListSubscriptions(ctx, woodgrove); err != nil || len(subs) != 2 {
		t.Errorf("ListSubscriptions = %+v, %v; want the plan and the license", subs, err)
	}
	if _, err := c.AzureEntitlements(ctx, woodgrove, licenseID); !pc.IsNotFound(err) {
		t.Errorf("entitlements of a license: %v, want 404", err)
	}
	f, _ := newClient(t, srv.URL, fabrikam)
	if _, err := f.AzureEntitlements(ctx, woodgrove, planID); !pc.IsNotFound(err) {
		t.Errorf("entitlements of another partner's plan: %v, want 404", err)
	}
}

// TestAzureTransferNeedsTheTargetsPlan: a transfer of Azure subscriptions
// needs an Azure plan of the target partner and the customer's Microsoft
// Customer Agreement; targetProductTypes is required and checked.
func TestAzureTransferNeedsTheTargetsPlan(t *testing.T) {
	ctx := context.Background()
	const unsigned = "7c8d9e0f-1a2b-4c3d-8e4f-5a6b7c8d9e0f"
	_, srv := startSim(t, sim.Options{CustomersWithoutAgreement: []string{unsigned}})
	accept(t, srv.URL, contoso, woodgrove)
	accept(t, srv.URL, contoso, unsigned)
	c, _ := newClient(t, srv.URL, contoso)
	azure := []string{pc.TransferProductAzureSubscription}
	transfer := func(customer, requestID string, types []string) error {
		_, err := c.CreateTransfer(ctx, customer, requestID, pc.Transfer{SourcePartnerTenantID: fabrikam, SourcePartnerName: "Fabrikam", TargetProductTypes: types})
		return err
	}
	if err := transfer(woodgrove, "t-1", nil); statusOf(err) != http.StatusBadRequest {
		t.Errorf("without targetProductTypes: %v, want 400", err)
	}
	if err := transfer(woodgrove, "t-2", []string{"Azure"}); statusOf(err) != http.StatusBadRequest {
		t.Errorf("targetProductTypes Azure: %v, want 400", err)
	}
	if err := transfer(woodgrove, "t-3", azure); codeOf(err) != 900133 {
		t.Errorf("Azure without the target's plan: %v, want 400 900133", err)
	}
	if err := transfer(unsigned, "t-4", nce); !pc.IsAgreementRequired(err) {
		t.Errorf("a customer without the Microsoft Customer Agreement: %v, want 403 13605", err)
	}
	if _, err := c.CreateOrder(ctx, woodgrove, "plan", []pc.CartLineItem{azurePlanItem()}); err != nil {
		t.Fatal(err)
	}
	if err := transfer(woodgrove, "t-5", azure); err != nil {
		t.Errorf("Azure with the target's plan: %v", err)
	}
}
