package sim

import (
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
)

// The catalog the simulator sells: a few new-commerce products with their
// real product, SKU and (where Microsoft published one) availability IDs.
// A SKU is bought through an availability, whose catalogItemId
// (productId:skuId:availabilityId) a cart line item names.
// Sources:
// https://learn.microsoft.com/partner-center/developer/product-resources (Sku, Availability, Term)
// https://learn.microsoft.com/partner-center/developer/get-a-list-of-availabilities-for-a-sku-by-customer
// https://learn.microsoft.com/partner-center/developer/get-a-sku-by-id

// Catalog items (productId:skuId:availabilityId) the simulator sells.
const (
	// AzurePlanCatalogItem is the Azure plan. Its availability
	// DZH318Z0BML6 is the one Microsoft's usage-records example and
	// PowerShell help (Add-PartnerCustomerCartLineItem, example 2) name.
	AzurePlanCatalogItem = "DZH318Z0BPS6:0001:DZH318Z0BML6"
	// BusinessBasicCatalogItem is Microsoft 365 Business Basic, as the
	// availabilities-by-customer page's new-commerce example names it.
	BusinessBasicCatalogItem = "CFQ7TTC0LH18:0001:CFQ7TTC0K971"
	// BusinessPremiumCatalogItem is Microsoft 365 Business Premium, as the
	// seat-limit error on the pricing-and-offers page names it.
	BusinessPremiumCatalogItem = "CFQ7TTC0LCHC:0002:CFQ7TTC0KFFN"
	// E3CatalogItem is Microsoft 365 E3 (CFQ7TTC0LFLX:0001, the April 2023
	// NCE repricing announcement). Its availability ID is invented.
	E3CatalogItem = "CFQ7TTC0LFLX:0001:CFQ7TTC0MM3B"
	// E5CatalogItem is Microsoft 365 E5, as the create-a-cart page's
	// new-commerce request names it.
	E5CatalogItem = "CFQ7TTC0LFLZ:0002:CFQ7TTC0K4TS"
	// Office365E5CatalogItem is Office 365 E5 without Audio Conferencing, as
	// the create-a-cart page's new-commerce response names it (2023).
	Office365E5CatalogItem = "CFQ7TTC0LF8S:0001:CFQ7TTC0VZW5"
	// TeamsPhoneVirtualUserCatalogItem is Microsoft Teams Phone Standard -
	// Virtual User (CFQ7TTC0LH0R:0001). Its availability ID is invented.
	TeamsPhoneVirtualUserCatalogItem = "CFQ7TTC0LH0R:0001:CFQ7TTC0J1FV"
)

// Seat limits per subscription (SKU maximumQuantity). The Business SKUs'
// 300 is documented (the Business Basic SKU example; "Max Seat Count: 300"
// for Business Premium); the enterprise SKUs' limit is invented.
const (
	BusinessMaxSeats   = 300
	EnterpriseMaxSeats = 10000
)

// Billing cycles as the SKU and cart resources write them.
const (
	cycleMonthly   = "monthly"
	cycleAnnual    = "annual"
	cycleTriennial = "triennial"
	cycleOneTime   = "one_time"
)

// catalogSKU is one SKU the simulator sells, with its one availability.
type catalogSKU struct {
	title, description string
	min, max           int
	cycles             []string
	prerequisites      []string
	// terms are the availability's terms; none for an item sold without
	// a term (the Azure plan).
	terms []termBody
	// usage: billed by usage (the Azure plan), not by seat.
	usage bool
	// product, sku and availability are the parts of the catalog item ID.
	product, sku, availability string
}

func (c *catalogSKU) catalogItemID() string { return c.product + ":" + c.sku + ":" + c.availability }
func (c *catalogSKU) productSKU() string    { return c.product + ":" + c.sku }

// licenseTerms are the terms a license availability sells, those whose
// billing cycle the SKU supports. The descriptions and the P1Y Annual term
// ID are the documented Business Basic example's; the other term IDs are
// invented. Source: get-a-list-of-availabilities-for-a-sku-by-customer.
func licenseTerms(cycles []string) []termBody {
	all := []termBody{
		{ID: "p1mmonthly01", Duration: "P1M", Description: "One-Month commitment for monthly billing", BillingCycle: "Monthly"},
		{ID: "p1ymonthly01", Duration: "P1Y", Description: "One-Year commitment for monthly/yearly billing", BillingCycle: "Monthly"},
		{ID: "5aeco6mffyxo", Duration: "P1Y", Description: "One-Year commitment for monthly/yearly billing", BillingCycle: "Annual"},
		{ID: "p3ymonthly01", Duration: "P3Y", Description: "Three-Year commitment for monthly/yearly/triennial billing", BillingCycle: "Monthly"},
		{ID: "p3yannual001", Duration: "P3Y", Description: "Three-Year commitment for monthly/yearly/triennial billing", BillingCycle: "Annual"},
		{ID: "p3ytriennial", Duration: "P3Y", Description: "Three-Year commitment for monthly/yearly/triennial billing", BillingCycle: "Triennial"},
	}
	var sold []termBody
	for _, t := range all {
		if slices.Contains(cycles, canonicalCycle(t.BillingCycle)) {
			sold = append(sold, t)
		}
	}
	return sold
}

// license is a seat-based new-commerce SKU. purchasePrerequisites are the
// documented Business Basic SKU's.
func license(catalogItem, title string, max int, cycles ...string) *catalogSKU {
	parts := strings.Split(catalogItem, ":")
	return &catalogSKU{product: parts[0], sku: parts[1], availability: parts[2], title: title, description: title,
		min: 1, max: max, cycles: cycles, prerequisites: []string{"MicrosoftCloudAgreement"}, terms: licenseTerms(cycles)}
}

// defaultCatalog is what the simulator sells. The Azure plan is the
// documented SKU (min = max = 1, one_time, MicrosoftCustomerAgreement);
// Business Basic bills annual and monthly, as its documented SKU does; the
// others bill triennial too, so that their P3Y Triennial term is sold.
func defaultCatalog() []*catalogSKU {
	all := []string{cycleAnnual, cycleMonthly, cycleTriennial}
	return []*catalogSKU{
		{product: "DZH318Z0BPS6", sku: "0001", availability: "DZH318Z0BML6", title: "Microsoft Azure plan",
			description: "Microsoft Azure plan (MS-AZR-0017G)", min: 1, max: 1, cycles: []string{cycleOneTime},
			prerequisites: []string{"MicrosoftCustomerAgreement"}, usage: true},
		license(BusinessBasicCatalogItem, "Microsoft 365 Business Basic", BusinessMaxSeats, cycleAnnual, cycleMonthly),
		license(BusinessPremiumCatalogItem, "Microsoft 365 Business Premium", BusinessMaxSeats, all...),
		license(E3CatalogItem, "Microsoft 365 E3", EnterpriseMaxSeats, all...),
		license(E5CatalogItem, "Microsoft 365 E5", EnterpriseMaxSeats, all...),
		license(Office365E5CatalogItem, "Office 365 E5 without Audio Conferencing", EnterpriseMaxSeats, all...),
		license(TeamsPhoneVirtualUserCatalogItem, "Microsoft Teams Phone Standard - Virtual User", EnterpriseMaxSeats, all...),
	}
}

// canonicalCycle is a billing cycle in the cart's wire form, whatever its
// case: the new-commerce cart example sends "Monthly", the SDK's enum is
// OneTime, the wire form one_time.
func canonicalCycle(c string) string {
	switch strings.ToLower(strings.ReplaceAll(c, "_", "")) {
	case "onetime":
		return cycleOneTime
	case "monthly", "annual", "triennial", "none":
		return strings.ToLower(c)
	}
	return ""
}

// skuOf finds a product's SKU (case-insensitive IDs); product is false when
// the catalog has no such product at all.
func (s *Server) skuOf(productID, skuID string) (sku *catalogSKU, product bool) {
	for _, c := range s.catalog {
		if strings.EqualFold(c.product, productID) {
			product = true
			if strings.EqualFold(c.sku, skuID) {
				return c, true
			}
		}
	}
	return nil, product
}

// soldTo reports whether the catalog sells the SKU to the customer
// (Options.NotSoldTo).
func (s *Server) soldTo(customer string, c *catalogSKU) bool {
	for tenant, items := range s.opts.NotSoldTo {
		if strings.EqualFold(tenant, customer) && slices.ContainsFunc(items, func(i string) bool { return strings.EqualFold(i, c.productSKU()) }) {
			return false
		}
	}
	return true
}

// availabilityFor is the SKU whose current availability catalogItemID
// names, if the catalog sells it to the customer.
func (s *Server) availabilityFor(customer, catalogItemID string) *catalogSKU {
	parts := strings.Split(catalogItemID, ":")
	if len(parts) != 3 {
		return nil
	}
	c, _ := s.skuOf(parts[0], parts[1])
	if c == nil || !strings.EqualFold(c.availability, parts[2]) || !s.soldTo(customer, c) {
		return nil
	}
	return c
}

// sells reports whether the availability is sold with termDuration billed
// cycle (canonical): an item without terms only without a term.
func (c *catalogSKU) sells(termDuration, cycle string) bool {
	if len(c.terms) == 0 {
		return termDuration == ""
	}
	return slices.ContainsFunc(c.terms, func(t termBody) bool {
		return t.Duration == termDuration && canonicalCycle(t.BillingCycle) == cycle
	})
}

// soldTerms lists what the availability sells, for a refusal.
func (c *catalogSKU) soldTerms() string {
	if len(c.terms) == 0 {
		return "no term, billed " + strings.Join(c.cycles, " or ")
	}
	var s []string
	for _, t := range c.terms {
		s = append(s, t.Duration+" "+t.BillingCycle)
	}
	return strings.Join(s, ", ")
}

// Catalog error codes (get-a-sku-by-id and get-an-availability-by-id).
const (
	codeProductNotFound      = 400013
	codeSKUNotFound          = 400018
	codeAvailabilityNotFound = 400019
)

// catalogSKUOf is the SKU a catalog route names, or its 404.
func (s *Server) catalogSKUOf(r *http.Request, productMessage string) (*catalogSKU, reply) {
	c, product := s.skuOf(r.PathValue("product"), r.PathValue("sku"))
	switch {
	case !product:
		return nil, fail(http.StatusNotFound, codeProductNotFound, "%s", productMessage)
	case c == nil:
		return nil, fail(http.StatusNotFound, codeSKUNotFound, "Sku was not found.")
	}
	return c, reply{}
}

// customerAvailabilities is "Get a list of availabilities for a SKU (by
// customer)": the SKU's availabilities the catalog sells the customer, none
// for a SKU Options.NotSoldTo withholds. Its error table names 400013, "The
// parent product was not found."; 400018 for the SKU is get-a-sku-by-id's.
func (s *Server) customerAvailabilities(r *http.Request, partner string) reply {
	customer := r.PathValue("customer")
	rel, mutated := s.relationshipOf(partner, customer)
	if rel == "" {
		return customerNotFound(customer)
	}
	c, errReply := s.catalogSKUOf(r, "The parent product was not found.")
	if c == nil {
		return errReply
	}
	items := []availabilityBody{}
	if s.soldTo(customer, c) {
		items = append(items, c.availabilityBody("US"))
	}
	return ok(collection[availabilityBody]{TotalCount: len(items), Items: items, Attributes: attributes{ObjectType: "Collection"}}, mutated)
}

// getSKU is "Get a SKU by ID": country-code is required; 400013 "Product
// was not found." and 400018 "Sku was not found." are its documented errors.
func (s *Server) getSKU(r *http.Request, _ string) reply {
	country := r.URL.Query().Get("country")
	if len(country) != 2 || strings.Trim(strings.ToUpper(country), "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
		return fail(http.StatusBadRequest, codeInvalidProperty, "country is required: a two-letter country/region code, such as US.")
	}
	c, errReply := s.catalogSKUOf(r, "Product was not found.")
	if c == nil {
		return errReply
	}
	return ok(c.skuBody(country), false)
}

// skuBody is the SKU resource, shaped as the documented SKU examples.
func (c *catalogSKU) skuBody(country string) skuBody {
	q := "?country=" + url.QueryEscape(country)
	base := "/products/" + c.product + "/skus/" + c.sku
	attrs := map[string]any{"isMicrosoftProduct": true}
	if !c.usage {
		attrs["isAddon"], attrs["prerequisiteSkus"] = false, []string{}
	}
	return skuBody{ID: c.sku, ProductID: c.product, Title: c.title, Description: c.description,
		MinimumQuantity: c.min, MaximumQuantity: c.max, SupportedBillingCycles: slices.Clone(c.cycles),
		PurchasePrerequisites: slices.Clone(c.prerequisites), InventoryVariables: []string{}, ProvisioningVariables: []string{},
		Actions: []string{"Refund"}, DynamicAttributes: attrs,
		Links: map[string]link{"availabilities": {URI: base + "/availabilities" + q, Method: "GET", Headers: []header{}},
			"self": {URI: base + q, Method: "GET", Headers: []header{}}}}
}

// availabilityBody is the Availability resource, shaped as the documented
// new-commerce example, with the SKU it sells (the resource's sku).
func (c *catalogSKU) availabilityBody(country string) availabilityBody {
	sku := c.skuBody(country)
	return availabilityBody{ID: c.availability, ProductID: c.product, SKUID: c.sku, CatalogItemID: c.catalogItemID(),
		DefaultCurrency: currency{Code: "USD", Symbol: "$"}, Segment: "commercial", Country: country,
		IsPurchasable: true, IsRenewable: !c.usage, Terms: slices.Clone(c.terms), SKU: &sku,
		Links: self("/products/" + c.product + "/skus/" + c.sku + "/availabilities/" + c.availability + "?country=" + url.QueryEscape(country))}
}

// seatsHeld are the seats of the SKU the customer holds with any partner,
// or has on order: Partner Center pools the limits on the customer tenant
// (pricing-and-offers). The caller holds s.mu.
func (s *Server) seatsHeld(customer string, c *catalogSKU) int {
	n := 0
	for _, h := range s.holdings(customer) {
		if sameProductSKU(h.offerID, c.productSKU()) {
			n += h.quantity
		}
	}
	return n
}

// sameProductSKU reports whether an offer ID names productSKU (with any availability).
func sameProductSKU(offerID, productSKU string) bool {
	parts := strings.Split(offerID, ":")
	return len(parts) >= 2 && strings.EqualFold(parts[0]+":"+parts[1], productSKU)
}

// holding is a subscription the customer holds, or a line item of an order
// still pending.
type holding struct {
	owner, reseller, offerID, subscriptionID, status string
	quantity                                         int
}

// heldStatuses are the subscription statuses that hold seats or a plan.
var heldStatuses = map[string]bool{"active": true, "suspended": true, "pending": true}

// holdings lists what the customer holds with any partner: subscriptions
// not deleted (nor expired or disabled), and the line items of pending
// orders, in a stable order. The caller holds s.mu.
func (s *Server) holdings(customer string) []holding {
	var out []holding
	for _, o := range s.st.Subscriptions {
		if strings.EqualFold(o.Customer, customer) && heldStatuses[o.Subscription.Status] {
			out = append(out, holding{owner: o.Owner, reseller: o.Subscription.PartnerID, offerID: o.Subscription.OfferID,
				subscriptionID: o.Subscription.ID, status: o.Subscription.Status, quantity: o.Subscription.Quantity})
		}
	}
	for _, o := range s.st.Orders {
		if strings.EqualFold(o.Customer, customer) && o.Order.Status == "pending" {
			for _, li := range o.Items {
				out = append(out, holding{owner: o.Partner, reseller: transactionReseller(li), offerID: li.CatalogItemID,
					status: "pending", quantity: li.Quantity})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].subscriptionID < out[j].subscriptionID })
	return out
}
