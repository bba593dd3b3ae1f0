package core

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	pc "github.com/partnerops/multichannel-operator/internal/partnercenter"
)

// NewCommerceOffer is a catalog product and SKU, with an availability or not.
var NewCommerceOffer = regexp.MustCompile(`^([A-Z0-9]{12}):([0-9A-Z]{4})(?::([A-Z0-9]{12}))?$`)

// CatalogChoice is what the catalog sells for a purchase, or why not.
type CatalogChoice struct {
	CatalogItemID string
	// NotSold says why the catalog does not sell it; empty when it does.
	NotSold string
}

// ChooseAvailability picks the availability that sells offer (product:sku,
// or product:sku:availability) with termDuration and billingCycle, within
// quantity. sku may be nil when the caller has not read it.
func ChooseAvailability(offer, termDuration, billingCycle string, quantity int, list []pc.Availability, sku *pc.SKU) CatalogChoice {
	m := NewCommerceOffer.FindStringSubmatch(offer)
	if m == nil {
		return CatalogChoice{NotSold: fmt.Sprintf("%q is not a new-commerce product and SKU (productId:skuId, such as CFQ7TTC0LFLX:0001)", offer)}
	}
	var sold []string
	for _, a := range list {
		if !a.IsPurchasable || (m[3] != "" && !strings.EqualFold(a.ID, m[3])) {
			continue
		}
		// An Azure plan is bought without a term: no plan availability with
		// terms is documented, so one with terms sells it when a term is
		// billed so.
		if !a.Sells(termDuration, billingCycle) && (termDuration != "" || !sellsBilled(a, billingCycle)) {
			sold = append(sold, describeAvailability(a))
			continue
		}
		if sku != nil && sku.MaximumQuantity > 0 && (quantity > sku.MaximumQuantity || quantity < sku.MinimumQuantity) {
			return CatalogChoice{NotSold: fmt.Sprintf("the catalog sells %s in quantities of %d to %d, not %d", offer, sku.MinimumQuantity, sku.MaximumQuantity, quantity)}
		}
		return CatalogChoice{CatalogItemID: a.CatalogItemID}
	}
	want := "without a term, billed " + billingCycle
	if termDuration != "" {
		want = fmt.Sprintf("with term %s billed %s", termDuration, billingCycle)
	}
	if len(sold) == 0 {
		return CatalogChoice{NotSold: fmt.Sprintf("the catalog sells no availability of %s to the customer", offer)}
	}
	return CatalogChoice{NotSold: fmt.Sprintf("the catalog does not sell %s %s to the customer; it sells %s", offer, want, strings.Join(sold, "; "))}
}

// sellsBilled: a term of the availability is billed billingCycle.
func sellsBilled(a pc.Availability, billingCycle string) bool {
	for _, t := range a.Terms {
		if pc.SameBillingCycle(t.BillingCycle, billingCycle) {
			return true
		}
	}
	return false
}

// describeAvailability lists an availability's terms: "CFQ7TTC0LH18:0001:CFQ7TTC0K971 (P1M Monthly, P1Y Annual)".
func describeAvailability(a pc.Availability) string {
	var terms []string
	for _, t := range a.Terms {
		terms = append(terms, strings.TrimSpace(t.Duration+" "+t.BillingCycle))
	}
	if len(terms) == 0 {
		return a.CatalogItemID
	}
	return a.CatalogItemID + " (" + strings.Join(terms, ", ") + ")"
}

// CatalogFreshness is how long a catalog answer serves every purchase that
// asks the same: the customers' purchases of one offer, and a purchase's
// passes after it was throttled.
const CatalogFreshness = 10 * time.Minute

// AvailabilitiesKey names a customer's availabilities of a product's SKU,
// as the partner tenant that reads them sees them, among the shared
// catalog reads.
func AvailabilitiesKey(partnerTenant, customerTenant, product, sku string) string {
	return "availabilities/" + strings.ToLower(partnerTenant) + "/" + strings.ToLower(customerTenant) + "/" + product + "/" + sku
}
