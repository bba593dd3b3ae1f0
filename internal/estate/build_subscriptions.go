package estate

import (
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	pc "github.com/partnerops/multichannel-operator/internal/partnercenter"
)

// Annotations the import writes.
const (
	// AnnotationAzurePlan is the Partner Center subscription ID of the Azure
	// plan an Azure subscription is under.
	AnnotationAzurePlan = "multichannel.partnerops.io/azure-plan"
	// AnnotationTermEnd says where a term.endDate Partner Center does not
	// report came from.
	AnnotationTermEnd = "multichannel.partnerops.io/term-end"
	// AnnotationAssumed says what a reference-only Partner's spec assumes.
	AnnotationAssumed = "multichannel.partnerops.io/assumed"
)

// legacyAzureOffer is the offer of an Azure subscription sold before the
// Azure plan, billed by usage on its own.
const legacyAzureOffer = "MS-AZR-0145P"

// maxQuantity is the most licenses a CustomerSubscription holds.
const maxQuantity = 1000000

// subscriptions are the customer's subscriptions with the partner: one
// per license, and one per Azure subscription under its Azure plan, each
// bought from the partner and supported by it (AlreadyManaged).
func (b *builder) subscriptions(ns string, ce *CustomerEstate) []client.Object {
	var out []client.Object
	for i := range ce.Subscriptions {
		s := &ce.Subscriptions[i]
		switch {
		case pc.IsAzurePlan(s.OfferID):
			out = append(out, b.azurePlan(ns, s, ce.Entitlements[s.ID])...)
		case s.BillingType == pc.BillingLicense:
			out = appendIf(out, b.license(ns, s))
		case s.BillingType == pc.BillingUsage && strings.EqualFold(s.OfferID, legacyAzureOffer):
			out = appendIf(out, b.legacyAzure(ns, s))
		default:
			b.note("subscription %s of customer %s (%s, billed %q): neither a license nor Azure; not imported", s.ID, ns, s.OfferID, s.BillingType)
		}
	}
	return out
}

func appendIf(objs []client.Object, o *v1alpha1.CustomerSubscription) []client.Object {
	if o == nil {
		return objs
	}
	return append(objs, o)
}

// stateOf is the state a Partner Center status records; only active and
// suspended subscriptions are imported.
func stateOf(status string) (v1alpha1.SubscriptionState, bool) {
	switch status {
	case pc.SubscriptionActive:
		return v1alpha1.SubscriptionActive, true
	case pc.SubscriptionSuspended, pc.SubscriptionDisabled:
		return v1alpha1.SubscriptionSuspended, true
	}
	return "", false
}

// commerceOf: a new-commerce catalog item names product and SKU
// (CFQ7TTC0LFLX:0001:...); a legacy offer is one ID.
func commerceOf(offerID string) v1alpha1.Commerce {
	if strings.Contains(offerID, ":") {
		return v1alpha1.CommerceNewCommerce
	}
	return v1alpha1.CommerceLegacy
}

// owned is a spec the partner sold and supports: the decision table's
// AlreadyManaged.
func (b *builder) owned(ns, subscriptionID string, offer v1alpha1.Offer, service v1alpha1.ServiceType, state v1alpha1.SubscriptionState) v1alpha1.CustomerSubscriptionSpec {
	p := b.o.Partner.Name
	return v1alpha1.CustomerSubscriptionSpec{CustomerRef: ns, SubscriptionID: subscriptionID, Offer: offer, ServiceType: service,
		Commerce: commerceOf(offer.ID), Channel: v1alpha1.Channel{Type: v1alpha1.ChannelCSP, PartnerRef: p}, State: state, SupportPartnerRef: p}
}

func customerSubscription(ns, name string, spec v1alpha1.CustomerSubscriptionSpec) *v1alpha1.CustomerSubscription {
	return &v1alpha1.CustomerSubscription{TypeMeta: typeMeta("CustomerSubscription"), ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: spec}
}

func offerOf(id string, names ...string) v1alpha1.Offer {
	o := v1alpha1.Offer{ID: truncate(id, 256)}
	for _, n := range names {
		if n = strings.TrimSpace(n); n != "" {
			o.DisplayName = truncate(n, 256)
			break
		}
	}
	return o
}

// license is a license subscription: its quantity and term as Partner
// Center reports them (term.endDate is its commitmentEndDate).
func (b *builder) license(ns string, s *pc.Subscription) *v1alpha1.CustomerSubscription {
	state, ok := stateOf(s.Status)
	switch {
	case !ok:
		b.note("license %s of customer %s (%s) is %s; only active and suspended subscriptions are imported", s.ID, ns, s.OfferName, s.Status)
		return nil
	case s.CommitmentEndDate == nil:
		b.note("license %s of customer %s (%s) has no commitmentEndDate, which a license's term.endDate needs; not imported", s.ID, ns, s.OfferName)
		return nil
	case s.Quantity < 1 || s.Quantity > maxQuantity:
		b.note("license %s of customer %s (%s) has quantity %d; not imported", s.ID, ns, s.OfferName, s.Quantity)
		return nil
	case s.ID == "" || s.OfferID == "":
		b.note("a license of customer %s has no ID or offer ID; not imported", ns)
		return nil
	}
	offer := offerOf(s.OfferID, s.OfferName, s.FriendlyName)
	spec := b.owned(ns, s.ID, offer, v1alpha1.ServiceLicenseBased, state)
	spec.Quantity = ptr.To(int32(s.Quantity))
	spec.Term = &v1alpha1.Term{EndDate: metaTime(*s.CommitmentEndDate), AutoRenew: s.AutoRenewEnabled}
	if start := firstTime(s.EffectiveStartDate, s.CreationDate); start != nil && start.Before(*s.CommitmentEndDate) {
		spec.Term.StartDate = metaTime(*start)
	}
	b.m.Counts.Licenses++
	return customerSubscription(ns, subscriptionName(orElse(offer.DisplayName, offer.ID), s.ID), spec)
}

func metaTime(t time.Time) *metav1.Time {
	mt := metav1.NewTime(t.UTC().Truncate(time.Second))
	return &mt
}

func firstTime(ts ...*time.Time) *time.Time {
	for _, t := range ts {
		if t != nil && !t.IsZero() {
			return t
		}
	}
	return nil
}

func orElse(s, other string) string {
	if strings.TrimSpace(s) != "" {
		return s
	}
	return other
}

// azurePlan is one CustomerSubscription per Azure subscription under an
// active Azure plan; the plan itself is the ResellerRelationship's to find.
func (b *builder) azurePlan(ns string, plan *pc.Subscription, ents []pc.AzureEntitlement) []client.Object {
	if plan.Status != pc.SubscriptionActive {
		b.note("Azure plan %s of customer %s is %s; its Azure subscriptions are not imported", plan.ID, ns, plan.Status)
		return nil
	}
	b.m.Counts.AzurePlans++
	var out []client.Object
	for _, e := range ents {
		state, ok := stateOf(strings.ToLower(e.Status))
		if !ok || e.ID == "" {
			b.note("Azure subscription %q (%s) of customer %s is %q; only active and suspended ones are imported", e.ID, e.FriendlyName, ns, e.Status)
			continue
		}
		spec := b.owned(ns, e.ID, offerOf(plan.OfferID, plan.OfferName, "Azure plan"), v1alpha1.ServiceUsageBased, state)
		spec.Commerce = v1alpha1.CommerceNewCommerce // the Azure plan is new commerce
		o := customerSubscription(ns, subscriptionName(orElse(e.FriendlyName, "azure"), e.ID), spec)
		o.Annotations = map[string]string{AnnotationAzurePlan: plan.ID}
		out = append(out, o)
		b.m.Counts.AzureSubscriptions++
	}
	return out
}

// legacyAzure is an Azure subscription sold on its own (MS-AZR-0145P).
func (b *builder) legacyAzure(ns string, s *pc.Subscription) *v1alpha1.CustomerSubscription {
	state, ok := stateOf(s.Status)
	if !ok || s.ID == "" {
		b.note("Azure subscription %s of customer %s is %s; only active and suspended ones are imported", s.ID, ns, s.Status)
		return nil
	}
	b.m.Counts.AzureSubscriptions++
	offer := offerOf(s.OfferID, s.OfferName, s.FriendlyName)
	return customerSubscription(ns, subscriptionName(orElse(offer.DisplayName, "azure"), s.ID), b.owned(ns, s.ID, offer, v1alpha1.ServiceUsageBased, state))
}

// transfers are one CustomerSubscription per line item of each transfer
// under way that the partner asked of another CSP partner: bought from
// that partner (a reference-only Partner), supported by this one, and
// following the transfer (spec.transferID) rather than creating one.
func (b *builder) transfers(ns string, ce *CustomerEstate) []client.Object {
	ts := slices.Clone(ce.Transfers)
	slices.SortFunc(ts, newestFirst)
	var out []client.Object
	moved := map[string]string{} // subscription ID -> transfer, the newest first
	for i := range ts {
		t := &ts[i]
		if !b.followable(ns, t) {
			continue
		}
		source, ok := b.sourcePartner(t)
		if !ok {
			continue
		}
		b.m.Counts.Transfers++
		for _, li := range t.LineItems {
			key := strings.ToLower(li.SubscriptionID)
			if other, dup := moved[key]; dup {
				b.note("subscription %s of customer %s is in transfers %s and %s, both under way: imported with the newer, %s", li.SubscriptionID, ns, other, t.ID, other)
				continue
			}
			moved[key] = t.ID
			out = appendIf(out, b.transferLine(ns, t, li, source))
		}
	}
	return out
}

func newestFirst(a, c pc.Transfer) int {
	at, ct := firstTime(a.CreatedTime), firstTime(c.CreatedTime)
	switch {
	case at != nil && ct != nil && !at.Equal(*ct):
		return c.CreatedTime.Compare(*a.CreatedTime)
	case (at == nil) != (ct == nil):
		if at == nil {
			return 1
		}
		return -1
	}
	return strings.Compare(a.ID, c.ID)
}

// followable: a transfer under way, to this partner, with line items and
// an ID spec.transferID takes; why not is a note (a finished one says
// nothing: it is history).
func (b *builder) followable(ns string, t *pc.Transfer) bool {
	switch {
	case !t.Pending():
		return false
	case !strings.EqualFold(t.TargetPartnerTenantID, b.o.Partner.Spec.TenantID):
		b.note("transfer %s of customer %s moves subscriptions from the partner to %s (%s); only transfers to the partner are imported",
			t.ID, ns, orElse(t.TargetPartnerName, "another partner"), t.TargetPartnerTenantID)
	case !tenantID.MatchString(t.ID):
		b.note("transfer %q of customer %s: its ID is not one spec.transferID takes; not imported", t.ID, ns)
	case len(t.LineItems) == 0:
		b.note("transfer %s of customer %s from %s has no line items yet (in new commerce the source partner names them when it accepts); nothing to import until it does", t.ID, ns, t.SourcePartnerName)
	default:
		return true
	}
	return false
}
