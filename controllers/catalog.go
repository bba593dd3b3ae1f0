package controllers

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	pc "github.com/partnerops/multichannel-operator/internal/partnercenter"
	"github.com/partnerops/multichannel-operator/internal/pass"
	"github.com/partnerops/multichannel-operator/internal/sharedcalls"
)

// Buying by availability: Partner Center sells a product's SKU through an
// availability, whose catalogItemId (productId:skuId:availabilityId) a
// cart names, and whose IDs change over time. When a purchase is
// recorded, the operator reads the availabilities the catalog sells the
// customer for the SKU, takes one sold with the term and billing cycle
// asked for, checks the quantity against the SKU's limits, and records its
// catalogItemId with the operation: what the cart sends.

// newCommerceOffer is a catalog product and SKU, with an availability or not.
var newCommerceOffer = regexp.MustCompile(`^([A-Z0-9]{12}):([0-9A-Z]{4})(?::([A-Z0-9]{12}))?$`)

// offerToBuy is the product and SKU a NewLicenseSubscription buys:
// spec.purchase.offerID, else the source's offer.
func offerToBuy(sub *v1alpha1.CustomerSubscription) string {
	if p := sub.Spec.Purchase; p != nil && p.OfferID != "" {
		return p.OfferID
	}
	return sub.Spec.Offer.ID
}

// catalogChoice is what the catalog sells for a purchase, or why not.
type catalogChoice struct {
	catalogItemID string
	// notSold says why the catalog does not sell it; empty when it does.
	notSold string
}

// chooseAvailability picks the availability that sells offer (product:sku,
// or product:sku:availability) with termDuration and billingCycle, within
// quantity. sku may be nil when the caller has not read it.
func chooseAvailability(offer, termDuration, billingCycle string, quantity int, list []pc.Availability, sku *pc.SKU) catalogChoice {
	m := newCommerceOffer.FindStringSubmatch(offer)
	if m == nil {
		return catalogChoice{notSold: fmt.Sprintf("%q is not a new-commerce product and SKU (productId:skuId, such as CFQ7TTC0LFLX:0001)", offer)}
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
			return catalogChoice{notSold: fmt.Sprintf("the catalog sells %s in quantities of %d to %d, not %d", offer, sku.MinimumQuantity, sku.MaximumQuantity, quantity)}
		}
		return catalogChoice{catalogItemID: a.CatalogItemID}
	}
	want := "without a term, billed " + billingCycle
	if termDuration != "" {
		want = fmt.Sprintf("with term %s billed %s", termDuration, billingCycle)
	}
	if len(sold) == 0 {
		return catalogChoice{notSold: fmt.Sprintf("the catalog sells no availability of %s to the customer", offer)}
	}
	return catalogChoice{notSold: fmt.Sprintf("the catalog does not sell %s %s to the customer; it sells %s", offer, want, strings.Join(sold, "; "))}
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

// catalogFreshness is how long a catalog answer serves every purchase that
// asks the same: the customers' purchases of one offer, and a purchase's
// passes after it was throttled.
const catalogFreshness = 10 * time.Minute

// resolveAvailability reads the catalog for the license purchase the
// subscription asks for and returns the catalog item to record, or ends
// the pass: Stalled OfferNotAvailable when the catalog does not sell it.
func (r *CustomerSubscriptionReconciler) resolveAvailability(ctx context.Context, s *subscriptionScope) (string, *ctrl.Result, error) {
	pcClient, res, err := r.targetClient(ctx, s)
	if pcClient == nil {
		return "", res, err
	}
	offer := offerToBuy(s.sub)
	term, cycle := purchaseTerms(s.sub)
	m := newCommerceOffer.FindStringSubmatch(offer)
	var list []pc.Availability
	var sku *pc.SKU
	if m != nil {
		var got *[]pc.Availability
		got, err = sharedcalls.ReadCatalog(r.shared, "availabilities/"+s.customer.Spec.TenantID+"/"+m[1]+"/"+m[2], catalogFreshness, func() (*[]pc.Availability, error) {
			l, err := pcClient.CustomerAvailabilities(ctx, s.customer.Spec.TenantID, m[1], m[2])
			return &l, err
		})
		if err == nil {
			list = *got
			sku, err = sharedcalls.ReadCatalog(r.shared, "sku/"+m[1]+"/"+m[2]+"/"+s.customer.Spec.Country, catalogFreshness, func() (*pc.SKU, error) {
				return pcClient.GetSKU(ctx, m[1], m[2], s.customer.Spec.Country)
			})
		}
		if err != nil && !pc.IsNotFound(err) {
			res, err := r.partnerCenterFailed(s, "reading the catalog's availabilities of "+offer, err)
			return "", res, err
		}
	}
	choice := chooseAvailability(offer, term, cycle, int(quantity(s.sub)), list, sku)
	if choice.notSold != "" {
		what := "spec.offer.id"
		if p := s.sub.Spec.Purchase; p != nil && p.OfferID != "" {
			what = "spec.purchase.offerID"
		}
		s.conds.Stalled(v1alpha1.ReasonOfferNotAvailable, fmt.Sprintf(
			"Partner %s cannot buy %s (%s) for customer %s: %s. Name a product and SKU the catalog sells in spec.purchase.offerID, or a term and billing cycle it sells in spec.purchase; nothing was bought.",
			s.target.Name, offer, what, s.customer.Name, choice.notSold))
		return "", pass.Done, nil
	}
	return choice.catalogItemID, nil, nil
}
