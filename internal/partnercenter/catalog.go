package partnercenter

import (
	"context"
	"net/http"
	"net/url"
	"strings"
)

// The catalog as Partner Center sells it: a product has SKUs, and a SKU is
// bought through one of its availabilities, whose catalogItemId
// (productId:skuId:availabilityId) a cart line item names. Availability
// IDs change over time, so they are read at purchase time.
// Sources:
// https://learn.microsoft.com/partner-center/developer/product-resources
// https://learn.microsoft.com/partner-center/developer/get-a-list-of-availabilities-for-a-sku-by-customer
// https://learn.microsoft.com/partner-center/developer/get-a-sku-by-id
// https://learn.microsoft.com/partner-center/developer/purchase-catalog-items

// SKU is a purchasable shape of a product.
type SKU struct {
	ID                     string   `json:"id"`
	ProductID              string   `json:"productId"`
	Title                  string   `json:"title,omitempty"`
	Description            string   `json:"description,omitempty"`
	MinimumQuantity        int      `json:"minimumQuantity"`
	MaximumQuantity        int      `json:"maximumQuantity"`
	IsTrial                bool     `json:"isTrial"`
	SupportedBillingCycles []string `json:"supportedBillingCycles,omitempty"`
	PurchasePrerequisites  []string `json:"purchasePrerequisites,omitempty"`
}

// AvailabilityTerm is a term an availability is sold with: its duration
// (P1M, P1Y, P3Y) and billing cycle ("Monthly", "Annual", ...).
type AvailabilityTerm struct {
	ID           string `json:"id,omitempty"`
	Duration     string `json:"duration"`
	Description  string `json:"description,omitempty"`
	BillingCycle string `json:"billingCycle,omitempty"`
}

// Availability is a configuration in which a SKU is sold to the customer.
type Availability struct {
	ID            string             `json:"id"`
	ProductID     string             `json:"productId"`
	SKUID         string             `json:"skuId"`
	CatalogItemID string             `json:"catalogItemId"`
	Segment       string             `json:"segment,omitempty"`
	Country       string             `json:"country,omitempty"`
	IsPurchasable bool               `json:"isPurchasable"`
	Terms         []AvailabilityTerm `json:"terms,omitempty"`
	SKU           *SKU               `json:"sku,omitempty"`
}

// Sells reports whether the availability is sold with termDuration (empty:
// without a term) billed billingCycle; cycles compare without case or
// underscores ("OneTime" is "one_time").
func (a Availability) Sells(termDuration, billingCycle string) bool {
	if len(a.Terms) == 0 {
		return termDuration == ""
	}
	for _, t := range a.Terms {
		if strings.EqualFold(t.Duration, termDuration) && (t.BillingCycle == "" || SameBillingCycle(t.BillingCycle, billingCycle)) {
			return true
		}
	}
	return false
}

// SameBillingCycle compares billing cycles as Partner Center writes them in
// different places: "Monthly", "monthly", "OneTime", "one_time".
func SameBillingCycle(a, b string) bool {
	norm := func(s string) string { return strings.ToLower(strings.ReplaceAll(s, "_", "")) }
	return norm(a) == norm(b)
}

// CustomerAvailabilities lists the availabilities of a product's SKU that
// Partner Center sells to the customer ("Get a list of availabilities for
// a SKU (by customer)"). A product or SKU it does not know is a 404.
func (c *Client) CustomerAvailabilities(ctx context.Context, customerID, productID, skuID string) ([]Availability, error) {
	out := &Collection[Availability]{}
	err := c.do(ctx, call{op: "GetCustomerAvailabilities", method: http.MethodGet,
		path:      "/customers/" + url.PathEscape(customerID) + "/products/" + url.PathEscape(productID) + "/skus/" + url.PathEscape(skuID) + "/availabilities",
		retryable: true}, out)
	return out.Items, err
}

// GetSKU reads a SKU as sold in country ("Get a SKU by ID"): its quantity
// limits and supported billing cycles.
func (c *Client) GetSKU(ctx context.Context, productID, skuID, country string) (*SKU, error) {
	out := &SKU{}
	err := c.do(ctx, call{op: "GetSku", method: http.MethodGet, path: "/products/" + url.PathEscape(productID) + "/skus/" + url.PathEscape(skuID),
		query: url.Values{"country": {country}}, retryable: true}, out)
	return out, err
}

// AzureEntitlement is an Azure subscription under an Azure plan.
type AzureEntitlement struct {
	ID             string `json:"id"`
	FriendlyName   string `json:"friendlyName,omitempty"`
	Status         string `json:"status,omitempty"`
	SubscriptionID string `json:"subscriptionId,omitempty"`
}

// AzureEntitlements lists the Azure subscriptions under the customer's
// Azure plan planID ("Get a list of Azure entitlements for a
// subscription"); each entitlement's id is an Azure subscription ID.
// Source: https://learn.microsoft.com/partner-center/developer/get-a-list-of-azure-entitlements-for-subscription
func (c *Client) AzureEntitlements(ctx context.Context, customerID, planID string) ([]AzureEntitlement, error) {
	out := &Collection[AzureEntitlement]{}
	err := c.do(ctx, call{op: "GetAzureEntitlements", method: http.MethodGet,
		path: subscriptionPath(customerID, planID) + "/azureEntitlements", retryable: true}, out)
	return out.Items, err
}

// AzurePlanProduct and AzurePlanSKU name the Azure plan in the catalog; the
// availability (the third part of its catalog item ID) changes over time.
const (
	AzurePlanProduct = "DZH318Z0BPS6"
	AzurePlanSKU     = "0001"
)

// IsAzurePlan reports whether a subscription's offer ID is the Azure plan's
// (DZH318Z0BPS6:0001, with any availability).
func IsAzurePlan(offerID string) bool {
	return strings.HasPrefix(strings.ToUpper(offerID), AzurePlanProduct+":"+AzurePlanSKU)
}
