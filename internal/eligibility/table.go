package eligibility

import (
	"fmt"
	"strconv"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
)

// rule is one row of the decision table.
type rule struct {
	number      string // as docs/eligibility.md numbers it: "1" to "16", "9a", "13a"
	needsTarget bool   // skipped when no support partner is named
	when        func(facts) bool
	eligible    bool
	path        func(facts) v1alpha1.SwitchPath
	reason      v1alpha1.EligibilityReason
	message     func(facts) string
}

const (
	anyTarget  = false
	withTarget = true
)

// table is docs/eligibility.md's decision table, row by row. Read it side by
// side with the document.
var table = []rule{
	// #  when                                          target      eligible path                          reason
	{"1", anyTarget, all(stateIs(v1alpha1.SubscriptionExpired), facts.pastGracePeriod), false, always(v1alpha1.PathNone), v1alpha1.ReasonSubscriptionExpired, msgExpired},
	{"2", anyTarget, customerIsCSPPartner, false, always(v1alpha1.PathNone), v1alpha1.ReasonCustomerIsCSPPartner, msgCustomerIsCSPPartner},
	{"3", anyTarget, channelIs(v1alpha1.ChannelSyndication), false, always(v1alpha1.PathNone), v1alpha1.ReasonSyndicationChannel, msgSyndication},
	{"4", withTarget, targetCSPTypeIs(v1alpha1.CSPTypeNone), false, always(v1alpha1.PathNone), v1alpha1.ReasonTargetNotCSP, msgTargetNotCSP},
	{"5", withTarget, facts.resellerWithoutProvider, false, always(v1alpha1.PathNone), v1alpha1.ReasonResellerWithoutProvider, msgResellerWithoutProvider},
	{"6", withTarget, facts.cloudMismatch, false, always(v1alpha1.PathNone), v1alpha1.ReasonCloudMismatch, msgCloudMismatch},
	{"7", withTarget, facts.regionMismatch, false, always(v1alpha1.PathNone), v1alpha1.ReasonRegionMismatch, msgRegionMismatch},
	{"8", withTarget, all(facts.fromCSP, facts.targetIsChannelPartner), true, always(v1alpha1.PathNone), v1alpha1.ReasonAlreadyManaged, msgAlreadyManaged},
	{"9", anyTarget, stateIs(v1alpha1.SubscriptionCancelled), true, newSubscriptionPath, v1alpha1.ReasonSourceCancelled, msgSourceCancelled},
	{"9a", anyTarget, all(facts.license, stateIs(v1alpha1.SubscriptionExpired)), true, always(v1alpha1.PathNewLicenseSubscription), v1alpha1.ReasonSourceExpired, msgSourceExpired},
	{"10", anyTarget, all(facts.fromCSP, stateIs(v1alpha1.SubscriptionSuspended)), false, always(v1alpha1.PathNone), v1alpha1.ReasonSubscriptionSuspended, msgSuspended},
	{"11", anyTarget, all(facts.usage, facts.fromCSP), true, always(v1alpha1.PathPartnerSwitch), v1alpha1.ReasonAzurePartnerSwitch, msgAzurePartnerSwitch},
	{"12", anyTarget, all(facts.license, facts.fromCSP, facts.newCommerce), true, always(v1alpha1.PathPartnerSwitch), v1alpha1.ReasonNewCommerceTransfer, msgNewCommerceTransfer},
	{"13a", anyTarget, all(facts.license, facts.fromCSP, facts.termEnded, facts.autoRenews), false, always(v1alpha1.PathNone), v1alpha1.ReasonSourceRenews, msgSourceRenews},
	{"13", anyTarget, all(facts.license, facts.fromCSP, facts.termEnded), true, always(v1alpha1.PathNewLicenseSubscription), v1alpha1.ReasonSourceTermEnded, msgSourceTermEnded},
	{"14", anyTarget, all(facts.license, facts.fromCSP), false, always(v1alpha1.PathWaitForTermEnd), v1alpha1.ReasonLicenseTermActive, msgLicenseTermActive},
	{"15", anyTarget, facts.license, true, always(v1alpha1.PathResellerRelationship), v1alpha1.ReasonMultichannelLicense, msgMultichannelLicense},
	{"16", anyTarget, facts.usage, true, always(v1alpha1.PathNewAzureSubscription), v1alpha1.ReasonMultichannelAzure, msgMultichannelAzure},
}

// Conditions the table is written with.

func stateIs(s v1alpha1.SubscriptionState) func(facts) bool {
	return func(f facts) bool { return f.state() == s }
}

func channelIs(c v1alpha1.ChannelType) func(facts) bool {
	return func(f facts) bool { return f.channel() == c }
}

func targetCSPTypeIs(t v1alpha1.CSPType) func(facts) bool {
	return func(f facts) bool { return f.target.Spec.CSPType == t }
}

func customerIsCSPPartner(f facts) bool { return f.customer.Spec.CSPPartner }

func all(conds ...func(facts) bool) func(facts) bool {
	return func(f facts) bool {
		for _, c := range conds {
			if !c(f) {
				return false
			}
		}
		return true
	}
}

// Paths.

func always(p v1alpha1.SwitchPath) func(facts) v1alpha1.SwitchPath {
	return func(facts) v1alpha1.SwitchPath { return p }
}

// newSubscriptionPath: with the source cancelled, the partner sells a new subscription of the same kind.
func newSubscriptionPath(f facts) v1alpha1.SwitchPath {
	if f.usage() {
		return v1alpha1.PathNewAzureSubscription
	}
	return v1alpha1.PathNewLicenseSubscription
}

// Messages: one sentence a person can act on, naming what is blocked and what would unblock it.

func msgExpired(f facts) string {
	if f.license() && f.termEnd != nil && f.in.Now.Before(*f.termEnd) {
		return fmt.Sprintf("The license is recorded as Expired but its term ends on %s, so when its users lose access cannot be told; record the date it expired as term.endDate, and it can be bought anew within 30 days of it.", day(f))
	}
	if f.license() && f.termEnd != nil {
		return fmt.Sprintf("The license expired on %s and its users' access ended %d days later, on %s, so there is nothing left to take over; record the customer's current subscription, or buy anew with state Cancelled.",
			day(f), graceDays, f.graceEnd().UTC().Format("2006-01-02"))
	}
	return "The subscription has expired, so there is nothing left to support; record the customer's current subscription instead."
}

func msgSourceExpired(f facts) string {
	return fmt.Sprintf("The license expired on %s; its users keep access until %s, so %s can sell the customer the same licenses before then without loss.",
		day(f), f.graceEnd().UTC().Format("2006-01-02"), targetName(f))
}

func msgSourceRenews(f facts) string {
	return fmt.Sprintf("The term with %s ended on %s with auto-renew on, so the source renewed (as new commerce since 2024) and buying anew would pay twice for the same seats; record the renewed term and commerce NewCommerce to transfer it, or have %s turn auto-renew off and cancel it.",
		channelPartnerName(f), day(f), channelPartnerName(f))
}

func msgCustomerIsCSPPartner(f facts) string {
	return fmt.Sprintf("Customer %s is itself a CSP partner, and a CSP partner cannot resell online services to another CSP partner; it must buy from Microsoft directly.", name(f.customer.Name, "the customer"))
}

func msgSyndication(f facts) string {
	return "Subscriptions bought from a Microsoft Syndication partner cannot move to a CSP partner through multichannel support; the customer must buy anew from the CSP partner."
}

func msgTargetNotCSP(f facts) string {
	return fmt.Sprintf("Partner %s is not in the CSP program (cspType None); name a CSP partner in supportPartnerRef.", f.target.Name)
}

func msgResellerWithoutProvider(f facts) string {
	ref := f.target.Spec.IndirectProviderRef
	switch {
	case ref == "":
		return fmt.Sprintf("Indirect reseller %s names no indirect provider; set its indirectProviderRef to a Partner with cspType IndirectProvider.", f.target.Name)
	case f.in.TargetProvider == nil:
		return fmt.Sprintf("Indirect reseller %s names indirect provider %s, which is not a known Partner; create it with cspType IndirectProvider.", f.target.Name, ref)
	default:
		return fmt.Sprintf("Indirect reseller %s names %s as its indirect provider, but %s has cspType %s, not IndirectProvider.", f.target.Name, ref, ref, f.in.TargetProvider.Spec.CSPType)
	}
}

func msgCloudMismatch(f facts) string {
	return fmt.Sprintf("Partner %s is in the %s cloud but customer %s is in %s; name a partner in the customer's cloud.",
		f.target.Name, cloudOf(f.target.Spec.Cloud), name(f.customer.Name, "the customer"), cloudOf(f.customer.Spec.Cloud))
}

func msgRegionMismatch(f facts) string {
	return fmt.Sprintf("Partner %s is in %s, CSP market %s, which does not sell to customer %s's country %s (market %s); name a partner in the customer's market.",
		f.target.Name, f.target.Spec.Country, name(Market(f.target.Spec.Country), "unknown"), name(f.customer.Name, "the customer"),
		f.customer.Spec.Country, name(Market(f.customer.Spec.Country), "unknown"))
}

func msgAlreadyManaged(f facts) string {
	return fmt.Sprintf("Partner %s sold this subscription and already manages it; nothing to do.", f.target.Name)
}

func msgSourceCancelled(f facts) string {
	if f.usage() {
		return fmt.Sprintf("The source subscription is cancelled, so %s can create a new Azure subscription for the customer.", targetName(f))
	}
	return fmt.Sprintf("The source subscription is cancelled, so %s can sell the customer a new license subscription.", targetName(f))
}

func msgSuspended(f facts) string {
	return fmt.Sprintf("The subscription is suspended with CSP partner %s and only active subscriptions can be transferred or waited out; reactivate it, or cancel it and set state Cancelled.", channelPartnerName(f))
}

func msgAzurePartnerSwitch(f facts) string {
	return fmt.Sprintf("Azure bought from CSP partner %s can be switched to %s; %s must accept the transfer within 30 days.", channelPartnerName(f), targetName(f), channelPartnerName(f))
}

func msgNewCommerceTransfer(f facts) string {
	return fmt.Sprintf("A new-commerce license can move mid-term from %s to %s once both partners approve the transfer.", channelPartnerName(f), targetName(f))
}

func msgSourceTermEnded(f facts) string {
	return fmt.Sprintf("The term with %s ended on %s, so %s can sell the customer the same licenses.", channelPartnerName(f), day(f), targetName(f))
}

func msgLicenseTermActive(f facts) string {
	if f.termEnd == nil {
		return fmt.Sprintf("A license subscription cannot move between CSP partners mid-term and the term with %s has no end date; set term.endDate, or cancel it and set state Cancelled.", channelPartnerName(f))
	}
	if f.autoRenews() {
		return fmt.Sprintf("A license subscription cannot move between CSP partners mid-term, and the term with %s ends on %s with auto-renew on: the source renews then unless %s turns auto-renew off before, so have it turned off, or cancel it and set state Cancelled.", channelPartnerName(f), day(f), channelPartnerName(f))
	}
	return fmt.Sprintf("A license subscription cannot move between CSP partners mid-term; wait until the term with %s ends on %s, or cancel it and set state Cancelled.", channelPartnerName(f), day(f))
}

func msgMultichannelLicense(f facts) string {
	return fmt.Sprintf("A license subscription bought through %s can be supported by %s once the customer approves a reseller relationship.", channelName(f.channel()), targetName(f))
}

func msgMultichannelAzure(f facts) string {
	return fmt.Sprintf("Azure bought through %s can coexist with a new Azure subscription created with %s.", channelName(f.channel()), targetName(f))
}

func targetName(f facts) string {
	if f.target == nil {
		return "a CSP partner"
	}
	return f.target.Name
}

func channelPartnerName(f facts) string {
	if f.in.ChannelPartner != nil {
		return f.in.ChannelPartner.Name
	}
	return name(f.sub.Channel.PartnerRef, "the source partner")
}

func channelName(c v1alpha1.ChannelType) string {
	switch c {
	case v1alpha1.ChannelDirect:
		return "Microsoft directly"
	case v1alpha1.ChannelEnterpriseAgreement:
		return "an Enterprise Agreement"
	case v1alpha1.ChannelThirdParty:
		return "a third-party reseller"
	case "":
		return "another channel"
	default:
		return "the " + string(c) + " program"
	}
}

func day(f facts) string { return f.termEnd.UTC().Format("2006-01-02") }

func name(n, otherwise string) string {
	if n == "" {
		return otherwise
	}
	return n
}

func quote(s string) string { return strconv.Quote(s) }
