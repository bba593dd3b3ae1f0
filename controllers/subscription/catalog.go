package subscription

import (
	"context"
	"fmt"

	ctrl "sigs.k8s.io/controller-runtime"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	"github.com/partnerops/multichannel-operator/controllers/internal/core"
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

// offerToBuy is the product and SKU a NewLicenseSubscription buys:
// spec.purchase.offerID, else the source's offer.
func offerToBuy(sub *v1alpha1.CustomerSubscription) string {
	if p := sub.Spec.Purchase; p != nil && p.OfferID != "" {
		return p.OfferID
	}
	return sub.Spec.Offer.ID
}

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
	m := core.NewCommerceOffer.FindStringSubmatch(offer)
	var list []pc.Availability
	var sku *pc.SKU
	if m != nil {
		var got *[]pc.Availability
		got, err = sharedcalls.ReadCatalog(r.shared, core.AvailabilitiesKey(pcClient.TenantID(), s.customer.Spec.TenantID, m[1], m[2]), core.CatalogFreshness, func() (*[]pc.Availability, error) {
			l, err := pcClient.CustomerAvailabilities(ctx, s.customer.Spec.TenantID, m[1], m[2])
			return &l, err
		})
		if err == nil {
			list = *got
			sku, err = sharedcalls.ReadCatalog(r.shared, "sku/"+m[1]+"/"+m[2]+"/"+s.customer.Spec.Country, core.CatalogFreshness, func() (*pc.SKU, error) {
				return pcClient.GetSKU(ctx, m[1], m[2], s.customer.Spec.Country)
			})
		}
		if err != nil && !pc.IsNotFound(err) {
			res, err := r.partnerCenterFailed(s, "reading the catalog's availabilities of "+offer, err)
			return "", res, err
		}
	}
	choice := core.ChooseAvailability(offer, term, cycle, int(quantity(s.sub)), list, sku)
	if choice.NotSold != "" {
		what := "spec.offer.id"
		if p := s.sub.Spec.Purchase; p != nil && p.OfferID != "" {
			what = "spec.purchase.offerID"
		}
		s.verdict = pass.Stalled(v1alpha1.ReasonOfferNotAvailable, fmt.Sprintf(
			"Partner %s cannot buy %s (%s) for customer %s: %s. Name a product and SKU the catalog sells in spec.purchase.offerID, or a term and billing cycle it sells in spec.purchase; nothing was bought.",
			s.target.Name, offer, what, s.customer.Name, choice.NotSold))
		return "", pass.Done, nil
	}
	return choice.CatalogItemID, nil, nil
}
