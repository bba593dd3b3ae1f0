package estate

import (
	"fmt"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	pc "github.com/partnerops/multichannel-operator/internal/partnercenter"
)

// sourcePartner names the Partner a transfer's subscriptions were bought
// from: a Partner the cluster holds for that tenant, else a reference-only
// Partner written once for it.
func (b *builder) sourcePartner(t *pc.Transfer) (string, bool) {
	tenant := strings.ToLower(t.SourcePartnerTenantID) // the key; the Partner keeps Partner Center's spelling
	if !tenantID.MatchString(tenant) {
		b.note("transfer %s: its source partner's tenant %q is not a tenant ID; not imported", t.ID, t.SourcePartnerTenantID)
		return "", false
	}
	if name, ok := b.sources[tenant]; ok {
		return name, true
	}
	for _, k := range b.o.KnownPartners {
		if strings.EqualFold(k.Spec.TenantID, tenant) {
			b.sources[tenant] = k.Name
			return k.Name, true
		}
	}
	p := b.referencePartner(t, t.SourcePartnerTenantID)
	for _, k := range b.o.KnownPartners {
		if k.Name == p.Name {
			b.note("transfer %s: Partner %s exists for another tenant than the source partner's %s; not imported", t.ID, p.Name, tenant)
			return "", false
		}
	}
	b.sources[tenant] = p.Name
	b.m.Partners = append(b.m.Partners, p)
	return p.Name, true
}

// referencePartner is the reference-only Partner of a source partner:
// its name and tenant as the transfer reports them, no credentials, no
// namespace that may act through it. Partner Center does not report
// another partner's CSP type or country; DirectBill and the importing
// partner's country are assumed, and an annotation says so.
func (b *builder) referencePartner(t *pc.Transfer, tenant string) *v1alpha1.Partner {
	name := orElse(strings.TrimSpace(t.SourcePartnerName), "CSP partner "+tenant)
	return &v1alpha1.Partner{TypeMeta: typeMeta("Partner"),
		ObjectMeta: metav1.ObjectMeta{Name: partnerName(name, tenant), Annotations: map[string]string{AnnotationAssumed: fmt.Sprintf(
			"Reference data for the transfers under way from this partner. Partner Center does not report another partner's CSP type or country: %s and %s are assumed; correct them if they differ.",
			v1alpha1.CSPTypeDirectBill, b.o.Partner.Spec.Country)}},
		Spec: v1alpha1.PartnerSpec{DisplayName: truncate(name, 256), TenantID: tenant, CSPType: v1alpha1.CSPTypeDirectBill,
			Cloud: cloudOf(b.o.Partner), Country: b.o.Partner.Spec.Country}}
}

// transferLine is a subscription a transfer under way moves to the
// partner. A license's term.endDate, which the target partner cannot read
// (the subscription is still the source partner's), is bounded from above:
// the transfer's creation plus the line item's termDuration.
func (b *builder) transferLine(ns string, t *pc.Transfer, li pc.TransferLineItem, source string) *v1alpha1.CustomerSubscription {
	if li.SubscriptionID == "" || li.OfferID == "" {
		b.note("transfer %s of customer %s: a line item without a subscription or offer ID; not imported", t.ID, ns)
		return nil
	}
	p := b.o.Partner.Name
	offer := offerOf(li.OfferID, li.FriendlyName)
	spec := v1alpha1.CustomerSubscriptionSpec{CustomerRef: ns, SubscriptionID: li.SubscriptionID, Offer: offer, ServiceType: v1alpha1.ServiceUsageBased,
		Commerce: commerceOf(li.OfferID), Channel: v1alpha1.Channel{Type: v1alpha1.ChannelCSP, PartnerRef: source},
		State: v1alpha1.SubscriptionActive, SupportPartnerRef: p, TransferID: t.ID}
	o := customerSubscription(ns, subscriptionName(orElse(offer.DisplayName, offer.ID), li.SubscriptionID), spec)
	if !pc.IsAzurePlan(li.OfferID) && !strings.EqualFold(li.OfferID, legacyAzureOffer) {
		if !b.licenseTerms(o, t, li) {
			return nil
		}
	}
	b.m.Counts.TransferLineItems++
	return o
}

// licenseTerms makes o a license: its quantity, and its term's end bounded
// by the transfer's creation plus the line item's term (P1Y when none is
// given), with an annotation saying so.
func (b *builder) licenseTerms(o *v1alpha1.CustomerSubscription, t *pc.Transfer, li pc.TransferLineItem) bool {
	if li.Quantity < 1 || li.Quantity > maxQuantity || t.CreatedTime == nil {
		b.note("transfer %s of customer %s: line item %s has quantity %d or the transfer no creation time; not imported", t.ID, o.Namespace, li.SubscriptionID, li.Quantity)
		return false
	}
	term, assumed := li.TermDuration, ""
	if term == "" {
		term, assumed = pc.TermDurationOneYear, " (none is given: P1Y assumed)"
	}
	end, ok := addTerm(*t.CreatedTime, term)
	if !ok {
		b.note("transfer %s of customer %s: line item %s has termDuration %q; not imported", t.ID, o.Namespace, li.SubscriptionID, term)
		return false
	}
	o.Spec.ServiceType, o.Spec.Quantity = v1alpha1.ServiceLicenseBased, ptr.To(int32(li.Quantity))
	o.Spec.Term = &v1alpha1.Term{EndDate: metaTime(end)}
	o.Annotations = map[string]string{AnnotationTermEnd: fmt.Sprintf(
		"At the latest: transfer %s was created %s and the line item's term is %s%s. The source partner's term is not visible to the target partner in Partner Center.",
		t.ID, t.CreatedTime.UTC().Format(time.RFC3339), term, assumed)}
	return true
}

// addTerm is start plus an ISO 8601 term of months or years (P1M, P1Y, P3Y).
func addTerm(start time.Time, term string) (time.Time, bool) {
	var n int
	var unit byte
	if _, err := fmt.Sscanf(term, "P%d%c", &n, &unit); err != nil || n < 1 || fmt.Sprintf("P%d%c", n, unit) != term {
		return time.Time{}, false
	}
	switch unit {
	case 'M':
		return start.AddDate(0, n, 0), true
	case 'Y':
		return start.AddDate(n, 0, 0), true
	}
	return time.Time{}, false
}
