// Package eligibility decides whether a CSP partner can take on a customer's
// subscription bought elsewhere, by which path, and why not: the multichannel
// decision table of docs/eligibility.md. It reads no clock and calls nothing;
// the controllers and the kubectl plugin both call Evaluate, so every rule
// exists once.
package eligibility

import (
	"strings"
	"time"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
)

// Input is what one evaluation looks at.
type Input struct {
	// Subscription is evaluated; required.
	Subscription *v1alpha1.CustomerSubscription
	// Customer owns the subscription; required.
	Customer *v1alpha1.Customer
	// ChannelPartner is the Partner the subscription was bought from (CSP
	// channel); nil when the channel has no partner or it is unknown.
	ChannelPartner *v1alpha1.Partner
	// Target is the support partner; nil evaluates for a generic CSP partner,
	// and the rules that need a target are skipped.
	Target *v1alpha1.Partner
	// TargetProvider is the Target's indirect provider (its indirectProviderRef);
	// nil when there is none or it was not found.
	TargetProvider *v1alpha1.Partner
	// Now is the time of evaluation.
	Now time.Time
}

// Result is the decision.
type Result struct {
	// Rule is the number of the rule that decided, as docs/eligibility.md
	// numbers it ("1" to "16", "9a", "13a"); "" when none did.
	Rule     string
	Eligible bool
	Path     v1alpha1.SwitchPath
	Reason   v1alpha1.EligibilityReason
	// NotBefore is the term's end date for WaitForTermEnd; it points into
	// the input's subscription.
	NotBefore *time.Time
	// NotAfter is the path's deadline (SourceExpired: the end of the grace
	// period); the zero time when there is none.
	NotAfter time.Time

	// The message is written when asked for (Message), so that deciding
	// allocates nothing.
	facts   facts
	message func(facts) string
}

// Message is the decision as one sentence a person can act on: what is
// blocked, and what would unblock it.
func (r Result) Message() string {
	if r.message == nil {
		return ""
	}
	return r.message(r.facts)
}

// Evaluate applies the decision table to in: rules in order, the first match decides.
func Evaluate(in Input) Result {
	f := newFacts(in)
	for i := range table {
		r := &table[i]
		if r.needsTarget && f.target == nil {
			continue
		}
		if !r.when(f) {
			continue
		}
		res := Result{Rule: r.number, Eligible: r.eligible, Path: r.path(f), Reason: r.reason, facts: f, message: r.message}
		if res.Path == v1alpha1.PathWaitForTermEnd {
			res.NotBefore = f.termEnd
		}
		if res.Reason == v1alpha1.ReasonSourceExpired {
			res.NotAfter = f.graceEnd()
		}
		return res
	}
	// Rules 15 and 16 cover every subscription the earlier rules leave, unless
	// the input is outside the schema (an unknown service type).
	return Result{Eligible: false, Path: v1alpha1.PathNone, Reason: "", facts: f, message: msgUnknownServiceType}
}

func msgUnknownServiceType(f facts) string {
	return "The subscription has an unknown serviceType " + quote(string(f.sub.ServiceType)) + "; set LicenseBased or UsageBased."
}

// facts are the values the rules look at, read once from the input.
type facts struct {
	in       Input
	sub      *v1alpha1.CustomerSubscriptionSpec
	customer *v1alpha1.Customer
	target   *v1alpha1.Partner
	termEnd  *time.Time
}

// Stand-ins for an input without a subscription or customer; never written.
var (
	noSpec     v1alpha1.CustomerSubscriptionSpec
	noCustomer v1alpha1.Customer
)

// newFacts reads the input; facts are passed by value, and point only into
// the input, so that evaluating allocates nothing.
func newFacts(in Input) facts {
	f := facts{in: in, target: in.Target, customer: in.Customer, sub: &noSpec}
	if in.Subscription != nil {
		f.sub = &in.Subscription.Spec
	}
	if f.customer == nil {
		f.customer = &noCustomer
	}
	if f.sub.Term != nil && f.sub.Term.EndDate != nil {
		f.termEnd = &f.sub.Term.EndDate.Time
	}
	return f
}

func (f facts) state() v1alpha1.SubscriptionState {
	if f.sub.State == "" {
		return v1alpha1.SubscriptionActive
	}
	return f.sub.State
}

func (f facts) license() bool { return f.sub.ServiceType == v1alpha1.ServiceLicenseBased }
func (f facts) usage() bool   { return f.sub.ServiceType == v1alpha1.ServiceUsageBased }
func (f facts) channel() v1alpha1.ChannelType {
	return f.sub.Channel.Type
}
func (f facts) fromCSP() bool { return f.channel() == v1alpha1.ChannelCSP }

func (f facts) newCommerce() bool { return f.sub.Commerce == v1alpha1.CommerceNewCommerce }

// graceDays is how long an expired license's users keep access: Microsoft
// keeps an expired subscription's data and access for 30 days
// (docs/eligibility.md, rule 9a).
const graceDays = 30

// graceEnd is when an expired license's users lose access.
func (f facts) graceEnd() time.Time {
	if f.termEnd == nil {
		return time.Time{}
	}
	return f.termEnd.Add(graceDays * 24 * time.Hour)
}

// pastGracePeriod: an expired subscription with nothing left to take over:
// Azure, or a license whose grace period has ended (or that has no term end,
// or is recorded expired before its term's end, which cannot be: then its
// term.endDate is not the date it expired, and no deadline can be told).
func (f facts) pastGracePeriod() bool {
	return !f.license() || f.termEnd == nil || !f.in.Now.Before(f.graceEnd()) || f.in.Now.Before(*f.termEnd)
}

// autoRenews: the source term renews at its end.
func (f facts) autoRenews() bool { return f.sub.Term != nil && f.sub.Term.AutoRenew }

// termEnded is true once now has reached the term's end date.
func (f facts) termEnded() bool { return f.termEnd != nil && !f.in.Now.Before(*f.termEnd) }

// targetIsChannelPartner: the subscription was bought from the support partner itself.
func (f facts) targetIsChannelPartner() bool {
	if f.target == nil {
		return false
	}
	if f.in.ChannelPartner != nil {
		return f.in.ChannelPartner.Name == f.target.Name ||
			(f.target.Spec.TenantID != "" && strings.EqualFold(f.in.ChannelPartner.Spec.TenantID, f.target.Spec.TenantID))
	}
	return f.sub.Channel.PartnerRef != "" && f.sub.Channel.PartnerRef == f.target.Name
}

// resellerWithoutProvider: an indirect reseller whose provider is not an indirect provider.
func (f facts) resellerWithoutProvider() bool {
	return f.target.Spec.CSPType == v1alpha1.CSPTypeIndirectReseller &&
		(f.in.TargetProvider == nil || f.in.TargetProvider.Spec.CSPType != v1alpha1.CSPTypeIndirectProvider)
}

func cloudOf(c v1alpha1.Cloud) v1alpha1.Cloud {
	if c == "" {
		return v1alpha1.CloudPublic
	}
	return c
}

func (f facts) cloudMismatch() bool {
	return cloudOf(f.target.Spec.Cloud) != cloudOf(f.customer.Spec.Cloud)
}

func (f facts) regionMismatch() bool {
	return !sellsTo(f.target.Spec.Country, f.customer.Spec.Country)
}
