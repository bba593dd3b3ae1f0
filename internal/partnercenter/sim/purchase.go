package sim

import (
	"fmt"
	"net/http"
	"strings"
)

// Purchases as strict as Partner Center: a cart line item names a current
// availability the catalog sells the customer, billed and termed as that
// availability sells it, within the SKU's seat limit; and a customer holds
// one Azure plan per partner (and partner of record).

// Purchase error codes.
const (
	// codeCatalogItemNotValid is CartErrorCode CatalogItemIdIsNotValid
	// (cart-resources); that Partner Center answers a legacy offer ID in a
	// new cart with it, as HTTP 400, is the simulator's inference.
	codeCatalogItemNotValid = 10001
	// codeQuantityNotAllowed: "The requested quantity for line item {0} is
	// not within the allowed quantity for this offer." (error-codes, 400).
	codeQuantityNotAllowed = 900275
	// codeSeatLimit: "The requested number of {0} seats exceeds the
	// remaining limit of {1} seats allowed per subscription for the
	// CatalogItemId - {2}." (pricing-and-offers; error-codes 800088).
	codeSeatLimit = 800088
	// codeSubscriptionLimit: "The desired number of subscriptions exceeded
	// the maximum number of subscriptions allowed per customer"
	// (error-codes, 403). Partner Center documents no answer to a second
	// Azure plan: answering this one is the simulator's inference.
	codeSubscriptionLimit = 800066
)

// azurePlanProductSKU is the Azure plan's product and SKU: its offer IDs
// carry any availability (research: match on the prefix).
const azurePlanProductSKU = azurePlanProduct + ":0001"

// isAzurePlan reports whether an offer ID is the Azure plan's.
func isAzurePlan(offerID string) bool { return sameProductSKU(offerID, azurePlanProductSKU) }

// cartRefusal checks a cart's line items against the catalog and the Azure
// plan rule; it returns the refusal and true when Partner Center refuses
// the cart. The caller holds s.mu.
func (s *Server) cartRefusal(partner, customer string, items []cartLineItem) (reply, bool) {
	seats := map[string]int{} // seats earlier line items of the cart take, by product:sku
	for _, li := range items {
		if rep, refused := s.lineItemRefusal(customer, li, seats); refused {
			return rep, true
		}
	}
	if reason := s.azurePlanRefusal(partner, customer, items); reason != "" {
		s.st.Stats.AzurePlansRefused++
		return fail(http.StatusForbidden, codeSubscriptionLimit, "%s", reason), true
	}
	return reply{}, false
}

// lineItemRefusal checks one line item: a new-commerce catalog item ID
// (create-a-cart: legacy offers are not sold in new carts), a current
// availability the catalog sells the customer (400019, get-an-availability-by-id:
// "Availability not found"), a billing cycle the SKU supports
// (Sku.supportedBillingCycles), a term and billing cycle the availability
// sells (Availability.terms), and a quantity within the SKU's limits,
// pooled on the customer tenant (pricing-and-offers).
func (s *Server) lineItemRefusal(customer string, li cartLineItem, seats map[string]int) (reply, bool) {
	id := li.CatalogItemID
	if !newCommerce(id) {
		return fail(http.StatusBadRequest, codeCatalogItemNotValid,
			"Line item %d: %s is a legacy offer ID; a cart buys new-commerce catalog items (productId:skuId:availabilityId).", li.ID, id), true
	}
	c := s.availabilityFor(customer, id)
	if c == nil {
		return fail(http.StatusNotFound, codeAvailabilityNotFound,
			"Availability not found. Line item %d: %s is not a current availability the catalog sells this customer; get the SKU's availabilities again and use a current catalogItemId.", li.ID, id), true
	}
	cycle := canonicalCycle(li.BillingCycle)
	switch {
	case !containsFold(c.cycles, cycle):
		return fail(http.StatusBadRequest, codeInvalidProperty, "Line item %d: %s is not billed %s; its SKU supports %s.",
			li.ID, id, li.BillingCycle, strings.Join(c.cycles, ", ")), true
	case !c.sells(li.TermDuration, cycle):
		return fail(http.StatusBadRequest, codeInvalidProperty, "Line item %d: %s is not sold with termDuration %q billed %s; it sells %s.",
			li.ID, id, li.TermDuration, li.BillingCycle, c.soldTerms()), true
	case li.Quantity < c.min:
		return fail(http.StatusBadRequest, codeQuantityNotAllowed, "The requested quantity for line item %d is not within the allowed quantity for this offer.", li.ID), true
	}
	if msg := s.seatLimitRefusal(customer, c, li, seats); msg != "" {
		return fail(http.StatusBadRequest, codeSeatLimit, "%s", msg), true
	}
	return reply{}, false
}

// seatLimitRefusal is the documented 800088 message when the line item
// takes more seats than remain, or "". seats counts what the same cart (or
// checkout) took before it, and is updated. The Azure plan is not billed
// by seat: its limit is its SKU's maximum per line item.
func (s *Server) seatLimitRefusal(customer string, c *catalogSKU, li cartLineItem, seats map[string]int) string {
	remaining := c.max
	if !c.usage {
		remaining -= s.seatsHeld(customer, c) + seats[c.productSKU()]
		seats[c.productSKU()] += li.Quantity
	}
	if li.Quantity <= remaining {
		return ""
	}
	return fmt.Sprintf("The requested number of %d seats exceeds the remaining limit of %d seats allowed per subscription for the CatalogItemId - %s.",
		li.Quantity, max(remaining, 0), li.CatalogItemID)
}

// azurePlanRefusal says why the partner cannot buy the Azure plans among
// items, or "": one plan per customer in direct CSP, one per reseller for
// an indirect provider (azure-plan-transition: "One plan per customer in
// Direct CSP scenarios - One plan per reseller"), the partner of record
// being the line item's transaction_reseller. A plan on order counts.
// The caller holds s.mu.
func (s *Server) azurePlanRefusal(partner, customer string, items []cartLineItem) string {
	inCart := map[string]bool{}
	for _, li := range items {
		if !isAzurePlan(li.CatalogItemID) {
			continue
		}
		reseller := transactionReseller(li)
		held := s.azurePlanHeld(partner, customer, reseller)
		if held == nil && !inCart[reseller] {
			inCart[reseller] = true
			continue
		}
		what := "the cart buys two"
		if held != nil {
			what = "it holds Azure plan " + held.subscriptionID + " (" + held.status + ")"
		}
		return fmt.Sprintf("The desired number of subscriptions exceeded the maximum number of subscriptions allowed per customer: partner %s may hold one Azure plan for customer %s%s, and %s.",
			partner, customer, ofRecord(reseller), what)
	}
	return ""
}

func ofRecord(reseller string) string {
	if reseller == "" {
		return ""
	}
	return " with partner of record " + reseller
}

// azurePlanHeld is the Azure plan the partner holds, or has on order, for
// the customer with the partner of record reseller ("" bought directly).
// The caller holds s.mu.
func (s *Server) azurePlanHeld(partner, customer, reseller string) *holding {
	for _, h := range s.holdings(customer) {
		if h.owner == partner && h.reseller == reseller && isAzurePlan(h.offerID) {
			return &h
		}
	}
	return nil
}

// checkoutRefusal is why an order group cannot be ordered at checkout, as
// an orderError code and description, or 0: the catalog items
// Options.RefuseAtCheckout names, and the rules a cart was checked for,
// again, as carts made before another checkout may break them since.
// The caller holds s.mu.
func (s *Server) checkoutRefusal(partner, customer string, items []cartLineItem) (int, string) {
	for _, li := range items {
		if reason, ok := s.opts.RefuseAtCheckout[li.CatalogItemID]; ok {
			return codeOrderRefused, fmt.Sprintf("Line item %d (%s): %s", li.ID, li.CatalogItemID, reason)
		}
	}
	seats := map[string]int{}
	for _, li := range items {
		if c := s.availabilityFor(customer, li.CatalogItemID); c != nil {
			if msg := s.seatLimitRefusal(customer, c, li, seats); msg != "" {
				return codeSeatLimit, msg
			}
		}
	}
	if reason := s.azurePlanRefusal(partner, customer, items); reason != "" {
		s.st.Stats.AzurePlansRefused++
		return codeSubscriptionLimit, reason
	}
	return 0, ""
}

func containsFold(list []string, v string) bool {
	for _, x := range list {
		if strings.EqualFold(x, v) {
			return true
		}
	}
	return false
}

// Transfer product types: the values create-a-transfer (new commerce)
// documents for targetProductTypes.
const (
	productAzureSubscription = "AzureSubscription"
	productAzureReservation  = "AzureReservation"
	productAzureSavingsPlan  = "AzureSavingsPlan"
	productOnlineServicesNCE = "OnlineServicesNCE"
)

var transferProductTypes = map[string]bool{productAzureSubscription: true, productAzureReservation: true,
	productAzureSavingsPlan: true, productOnlineServicesNCE: true}

// Transfer error codes from the general error-code table. That 900133
// ("can't be initiated as customer hasn't purchased Azure plan") and
// 900132 ("the Azure plan isn't active") are the answers to a target
// partner without an (active) plan of its own is the simulator's inference.
const (
	codeTransferPlanNotActive = 900132
	codeTransferNoPlan        = 900133
)

// transferRefusal checks what a new-commerce transfer needs beyond its
// shape: targetProductTypes, required by the simulator (the page says null
// means all types) and limited to the documented values; the customer's
// acceptance of the Microsoft Customer Agreement (403 13605, as a purchase);
// and, for Azure subscriptions, an active Azure plan of the target partner
// (and partner of record) for the customer (transfer-azure-subscriptions-
// under-azure-plan: "The future CSP partner establishes a relationship with
// the customer and purchases an Azure plan before the transition starts").
// The caller holds s.mu.
func (s *Server) transferRefusal(partner, customer string, req transferRequest) (reply, bool) {
	if len(req.TargetProductTypes) == 0 {
		return fail(http.StatusBadRequest, codeInvalidProperty, "targetProductTypes is required: AzureSubscription, AzureReservation, AzureSavingsPlan or OnlineServicesNCE."), true
	}
	for _, t := range req.TargetProductTypes {
		if !transferProductTypes[t] {
			return fail(http.StatusBadRequest, codeInvalidProperty, "targetProductTypes %q is not AzureSubscription, AzureReservation, AzureSavingsPlan or OnlineServicesNCE.", t), true
		}
	}
	if !s.hasAgreement(customer) {
		return fail(http.StatusForbidden, codeAgreementRequired, "Customer %s has not accepted the Microsoft Customer Agreement: a transfer to partner %s needs the customer's acceptance of the latest agreement.", customer, partner), true
	}
	if !containsFold(req.TargetProductTypes, productAzureSubscription) {
		return reply{}, false
	}
	switch plan := s.azurePlanHeld(partner, customer, req.PartnerOnRecord); {
	case plan == nil:
		return fail(http.StatusBadRequest, codeTransferNoPlan, "This transfer request can't be initiated as customer hasn't purchased Azure plan: for an Azure transfer the incoming partner %s must first buy an Azure plan for customer %s%s.",
			partner, customer, ofRecord(req.PartnerOnRecord)), true
	case plan.status != "active":
		return fail(http.StatusBadRequest, codeTransferPlanNotActive, "This transfer request can't be initiated as the Azure plan isn't active, please enable the Azure plan: Azure plan %s of partner %s is %s.",
			plan.subscriptionID, partner, plan.status), true
	}
	return reply{}, false
}
