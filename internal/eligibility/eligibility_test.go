package eligibility

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
)

var (
	now     = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	termEnd = time.Date(2027, 6, 30, 0, 0, 0, 0, time.UTC)
	// graceEnd: an expired license's users keep access for 30 days.
	graceEnd = termEnd.Add(30 * 24 * time.Hour)
)

// documentedRules are docs/eligibility.md's rules and reasons, in order.
var documentedRules = []struct {
	number string
	reason v1alpha1.EligibilityReason
}{
	{"1", "SubscriptionExpired"}, {"2", "CustomerIsCSPPartner"}, {"3", "SyndicationChannel"}, {"4", "TargetNotCSP"},
	{"5", "ResellerWithoutProvider"}, {"6", "CloudMismatch"}, {"7", "RegionMismatch"}, {"8", "AlreadyManaged"},
	{"9", "SourceCancelled"}, {"9a", "SourceExpired"}, {"10", "SubscriptionSuspended"}, {"11", "AzurePartnerSwitch"},
	{"12", "NewCommerceTransfer"}, {"13a", "SourceRenews"}, {"13", "SourceTermEnded"}, {"14", "LicenseTermActive"},
	{"15", "MultichannelLicense"}, {"16", "MultichannelAzure"},
}

// documentedReasons are the reasons of documentedRules.
var documentedReasons = func() []v1alpha1.EligibilityReason {
	var out []v1alpha1.EligibilityReason
	for _, r := range documentedRules {
		out = append(out, r.reason)
	}
	return out
}()

func partner(name string, t v1alpha1.CSPType, mutate ...func(*v1alpha1.Partner)) *v1alpha1.Partner {
	p := &v1alpha1.Partner{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: v1alpha1.PartnerSpec{CSPType: t, Cloud: v1alpha1.CloudPublic, Country: "US", TenantID: name + "-tenant"}}
	for _, m := range mutate {
		m(p)
	}
	return p
}

// input is a license bought under an EA by a US public-cloud customer, with
// contoso (a direct-bill US partner) as target: rule 15. Each case changes it.
func input(mutate ...func(*Input)) Input {
	in := Input{
		Subscription: &v1alpha1.CustomerSubscription{
			ObjectMeta: metav1.ObjectMeta{Name: "m365", Namespace: "woodgrove"},
			Spec: v1alpha1.CustomerSubscriptionSpec{
				CustomerRef: "woodgrove", SubscriptionID: "s1", Offer: v1alpha1.Offer{ID: "o"},
				ServiceType: v1alpha1.ServiceLicenseBased, Commerce: v1alpha1.CommerceLegacy,
				Channel: v1alpha1.Channel{Type: v1alpha1.ChannelEnterpriseAgreement},
				Term:    &v1alpha1.Term{EndDate: &metav1.Time{Time: termEnd}},
				State:   v1alpha1.SubscriptionActive, SupportPartnerRef: "contoso",
			},
		},
		Customer: &v1alpha1.Customer{ObjectMeta: metav1.ObjectMeta{Name: "woodgrove"},
			Spec: v1alpha1.CustomerSpec{Cloud: v1alpha1.CloudPublic, Country: "US"}},
		Target: partner("contoso", v1alpha1.CSPTypeDirectBill),
		Now:    now,
	}
	for _, m := range mutate {
		m(&in)
	}
	return in
}

// Mutations, named for the facts of the table.
func state(s v1alpha1.SubscriptionState) func(*Input) {
	return func(in *Input) { in.Subscription.Spec.State = s }
}
func usageBased(in *Input) {
	in.Subscription.Spec.ServiceType = v1alpha1.ServiceUsageBased
	in.Subscription.Spec.Term = nil
}
func channel(c v1alpha1.ChannelType) func(*Input) {
	return func(in *Input) { in.Subscription.Spec.Channel = v1alpha1.Channel{Type: c} }
}
func boughtFromCSP(in *Input) {
	in.Subscription.Spec.Channel = v1alpha1.Channel{Type: v1alpha1.ChannelCSP, PartnerRef: "fabrikam"}
	in.ChannelPartner = partner("fabrikam", v1alpha1.CSPTypeDirectBill)
}
func boughtFromTarget(in *Input) {
	in.Subscription.Spec.Channel = v1alpha1.Channel{Type: v1alpha1.ChannelCSP, PartnerRef: "contoso"}
	in.ChannelPartner = in.Target
}
func newCommerce(in *Input)   { in.Subscription.Spec.Commerce = v1alpha1.CommerceNewCommerce }
func autoRenew(in *Input)     { in.Subscription.Spec.Term.AutoRenew = true }
func customerIsCSP(in *Input) { in.Customer.Spec.CSPPartner = true }
func noTarget(in *Input)      { in.Target = nil }
func targetType(t v1alpha1.CSPType) func(*Input) {
	return func(in *Input) { in.Target.Spec.CSPType = t }
}
func resellerVia(provider *v1alpha1.Partner) func(*Input) {
	return func(in *Input) {
		in.Target.Spec.CSPType = v1alpha1.CSPTypeIndirectReseller
		in.Target.Spec.IndirectProviderRef = "tailspin"
		in.TargetProvider = provider
	}
}
func targetCloud(c v1alpha1.Cloud) func(*Input) { return func(in *Input) { in.Target.Spec.Cloud = c } }
func targetCountry(c string) func(*Input)       { return func(in *Input) { in.Target.Spec.Country = c } }
func at(t time.Time) func(*Input)               { return func(in *Input) { in.Now = t } }

func TestEvaluate(t *testing.T) {
	cases := []struct {
		name      string
		in        Input
		rule      string
		eligible  bool
		path      v1alpha1.SwitchPath
		reason    v1alpha1.EligibilityReason
		notBefore *time.Time
	}{
		// One case per rule.
		{"1 expired past the grace period", input(state(v1alpha1.SubscriptionExpired), at(graceEnd.Add(24*time.Hour))), "1", false, "None", "SubscriptionExpired", nil},
		{"1 expired Azure", input(usageBased, state(v1alpha1.SubscriptionExpired)), "1", false, "None", "SubscriptionExpired", nil},
		{"9a expired license within the grace period", input(state(v1alpha1.SubscriptionExpired), at(termEnd.Add(24*time.Hour))), "9a", true, "NewLicenseSubscription", "SourceExpired", nil},
		{"13a CSP license renewing at term end", input(boughtFromCSP, autoRenew, at(termEnd)), "13a", false, "None", "SourceRenews", nil},
		{"2 customer is a CSP partner", input(customerIsCSP), "2", false, "None", "CustomerIsCSPPartner", nil},
		{"3 bought through syndication", input(channel(v1alpha1.ChannelSyndication)), "3", false, "None", "SyndicationChannel", nil},
		{"4 target outside CSP", input(targetType(v1alpha1.CSPTypeNone)), "4", false, "None", "TargetNotCSP", nil},
		{"5 reseller with no provider found", input(resellerVia(nil)), "5", false, "None", "ResellerWithoutProvider", nil},
		{"5 reseller whose provider is direct bill", input(resellerVia(partner("tailspin", v1alpha1.CSPTypeDirectBill))), "5", false, "None", "ResellerWithoutProvider", nil},
		{"6 target in another cloud", input(targetCloud(v1alpha1.CloudUSGovernment)), "6", false, "None", "CloudMismatch", nil},
		{"7 target in another country", input(targetCountry("DE")), "7", false, "None", "RegionMismatch", nil},
		{"8 bought from the target", input(boughtFromTarget), "8", true, "None", "AlreadyManaged", nil},
		{"9 license cancelled at source", input(boughtFromCSP, state(v1alpha1.SubscriptionCancelled)), "9", true, "NewLicenseSubscription", "SourceCancelled", nil},
		{"9 azure cancelled at source", input(usageBased, state(v1alpha1.SubscriptionCancelled)), "9", true, "NewAzureSubscription", "SourceCancelled", nil},
		{"10 suspended with a CSP partner", input(boughtFromCSP, state(v1alpha1.SubscriptionSuspended)), "10", false, "None", "SubscriptionSuspended", nil},
		{"11 azure from a CSP partner", input(usageBased, boughtFromCSP), "11", true, "PartnerSwitch", "AzurePartnerSwitch", nil},
		{"12 new-commerce license from a CSP partner", input(boughtFromCSP, newCommerce), "12", true, "PartnerSwitch", "NewCommerceTransfer", nil},
		{"13 legacy license from a CSP partner, term ended", input(boughtFromCSP, at(termEnd.Add(24*time.Hour))), "13", true, "NewLicenseSubscription", "SourceTermEnded", nil},
		{"14 legacy license from a CSP partner, term running", input(boughtFromCSP), "14", false, "WaitForTermEnd", "LicenseTermActive", &termEnd},
		{"15 license from an EA", input(), "15", true, "ResellerRelationship", "MultichannelLicense", nil},
		{"15 license bought direct", input(channel(v1alpha1.ChannelDirect)), "15", true, "ResellerRelationship", "MultichannelLicense", nil},
		{"15 license from a third party", input(channel(v1alpha1.ChannelThirdParty)), "15", true, "ResellerRelationship", "MultichannelLicense", nil},
		{"15 license from Advisor", input(channel(v1alpha1.ChannelAdvisor)), "15", true, "ResellerRelationship", "MultichannelLicense", nil},
		{"15 license from Open", input(channel(v1alpha1.ChannelOpen)), "15", true, "ResellerRelationship", "MultichannelLicense", nil},
		{"16 azure bought direct", input(usageBased, channel(v1alpha1.ChannelDirect)), "16", true, "NewAzureSubscription", "MultichannelAzure", nil},
		{"16 azure from an EA", input(usageBased), "16", true, "NewAzureSubscription", "MultichannelAzure", nil},

		// Ties: a case matching two rules gets the earlier one.
		{"1 before 2: expired, customer is CSP", input(state(v1alpha1.SubscriptionExpired), customerIsCSP, at(graceEnd)), "1", false, "None", "SubscriptionExpired", nil},
		{"2 before 3: customer is CSP, syndication", input(customerIsCSP, channel(v1alpha1.ChannelSyndication)), "2", false, "None", "CustomerIsCSPPartner", nil},
		{"3 before 4: syndication, target not CSP", input(channel(v1alpha1.ChannelSyndication), targetType(v1alpha1.CSPTypeNone)), "3", false, "None", "SyndicationChannel", nil},
		{"4 before 6: not CSP, other cloud", input(targetType(v1alpha1.CSPTypeNone), targetCloud(v1alpha1.CloudUSGovernment)), "4", false, "None", "TargetNotCSP", nil},
		{"5 before 6: reseller without provider, other cloud", input(resellerVia(nil), targetCloud(v1alpha1.CloudUSGovernment)), "5", false, "None", "ResellerWithoutProvider", nil},
		{"6 before 7: other cloud and country", input(targetCloud(v1alpha1.CloudUSGovernment), targetCountry("DE")), "6", false, "None", "CloudMismatch", nil},
		{"7 before 8: bought from target, other country", input(boughtFromTarget, targetCountry("DE")), "7", false, "None", "RegionMismatch", nil},
		{"8 before 9: bought from target, cancelled", input(boughtFromTarget, state(v1alpha1.SubscriptionCancelled)), "8", true, "None", "AlreadyManaged", nil},
		{"8 before 10: bought from target, suspended", input(boughtFromTarget, state(v1alpha1.SubscriptionSuspended)), "8", true, "None", "AlreadyManaged", nil},
		{"9 before 10: cancelled is not suspended", input(boughtFromCSP, usageBased, state(v1alpha1.SubscriptionCancelled)), "9", true, "NewAzureSubscription", "SourceCancelled", nil},
		{"10 before 11: suspended azure from CSP", input(usageBased, boughtFromCSP, state(v1alpha1.SubscriptionSuspended)), "10", false, "None", "SubscriptionSuspended", nil},
		{"10 before 12: suspended new-commerce license", input(boughtFromCSP, newCommerce, state(v1alpha1.SubscriptionSuspended)), "10", false, "None", "SubscriptionSuspended", nil},
		{"12 before 13: new commerce, term ended", input(boughtFromCSP, newCommerce, at(termEnd.Add(time.Hour))), "12", true, "PartnerSwitch", "NewCommerceTransfer", nil},
		{"13 before 14: legacy license, term ended", input(boughtFromCSP, at(termEnd)), "13", true, "NewLicenseSubscription", "SourceTermEnded", nil},

		// A suspended subscription from another channel is not held back by rule 10.
		{"suspended EA license falls to 15", input(state(v1alpha1.SubscriptionSuspended)), "15", true, "ResellerRelationship", "MultichannelLicense", nil},

		// Boundaries of the term.
		{"now == term.endDate: ended", input(boughtFromCSP, at(termEnd)), "13", true, "NewLicenseSubscription", "SourceTermEnded", nil},
		{"one nanosecond before term.endDate: running", input(boughtFromCSP, at(termEnd.Add(-time.Nanosecond))), "14", false, "WaitForTermEnd", "LicenseTermActive", &termEnd},

		// No target: rules 4-8 are skipped; the answer is a generic CSP partner's.
		{"no target: a not-CSP target would not matter", input(noTarget), "15", true, "ResellerRelationship", "MultichannelLicense", nil},
		{"no target: expired still decides", input(noTarget, state(v1alpha1.SubscriptionExpired), at(graceEnd)), "1", false, "None", "SubscriptionExpired", nil},
		{"no target: customer is CSP still decides", input(noTarget, customerIsCSP), "2", false, "None", "CustomerIsCSPPartner", nil},
		{"no target: CSP azure switches", input(noTarget, usageBased, boughtFromCSP), "11", true, "PartnerSwitch", "AzurePartnerSwitch", nil},
		{"no target: CSP license waits", input(noTarget, boughtFromCSP), "14", false, "WaitForTermEnd", "LicenseTermActive", &termEnd},

		// Reseller with a proper provider goes on to the later rules.
		{"reseller with an indirect provider", input(resellerVia(partner("tailspin", v1alpha1.CSPTypeIndirectProvider))), "15", true, "ResellerRelationship", "MultichannelLicense", nil},
		// Country codes compare without case; the empty cloud is Public.
		{"empty clouds are Public", input(func(in *Input) { in.Customer.Spec.Cloud = ""; in.Target.Spec.Cloud = "" }), "15", true, "ResellerRelationship", "MultichannelLicense", nil},
		// The channel partner is recognised by tenant ID too.
		{"channel partner with the target's tenant", input(boughtFromCSP, func(in *Input) { in.ChannelPartner.Spec.TenantID = "contoso-tenant" }), "8", true, "None", "AlreadyManaged", nil},
		// Without the channel Partner object, the reference names it.
		{"channel partner known by reference only", input(boughtFromTarget, func(in *Input) { in.ChannelPartner = nil }), "8", true, "None", "AlreadyManaged", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := Evaluate(tc.in)
			if got.Rule != tc.rule || got.Eligible != tc.eligible || got.Path != tc.path || got.Reason != tc.reason {
				t.Errorf("got rule %s %v %s %s, want rule %s %v %s %s (%s)",
					got.Rule, got.Eligible, got.Path, got.Reason, tc.rule, tc.eligible, tc.path, tc.reason, got.Message())
			}
			switch {
			case tc.notBefore == nil && got.NotBefore != nil:
				t.Errorf("notBefore = %v, want none", got.NotBefore)
			case tc.notBefore != nil && (got.NotBefore == nil || !got.NotBefore.Equal(*tc.notBefore)):
				t.Errorf("notBefore = %v, want %v", got.NotBefore, tc.notBefore)
			}
			assertMessage(t, got)
		})
	}
}

// TestEveryRuleCovered guards against a rule being added without a case above.
func TestEveryRuleCovered(t *testing.T) {
	if len(table) != len(documentedRules) {
		t.Fatalf("the table has %d rules, docs/eligibility.md has %d", len(table), len(documentedRules))
	}
	for i, r := range table {
		if d := documentedRules[i]; r.number != d.number || r.reason != d.reason {
			t.Errorf("rule at index %d is %s (%s), docs/eligibility.md says %s (%s)", i, r.number, r.reason, d.number, d.reason)
		}
	}
}

func TestMessages(t *testing.T) {
	cases := []struct {
		name string
		in   Input
		want []string
	}{
		{"region names both countries", input(targetCountry("DE")), []string{"contoso", "DE", "woodgrove", "US"}},
		{"term wait names the date", input(boughtFromCSP), []string{"fabrikam", "2027-06-30"}},
		{"provider of the wrong type is named", input(resellerVia(partner("tailspin", v1alpha1.CSPTypeDirectBill))), []string{"tailspin", "DirectBill"}},
		{"missing provider is named", input(resellerVia(nil)), []string{"tailspin", "not a known Partner"}},
		{"no target speaks of a CSP partner", input(noTarget), []string{"a CSP partner", "Enterprise Agreement"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			msg := Evaluate(tc.in).Message()
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q does not mention %q", msg, w)
				}
			}
		})
	}
}

func assertMessage(t *testing.T, r Result) {
	t.Helper()
	if r.Message() == "" || !strings.HasSuffix(r.Message(), ".") || strings.Count(r.Message(), ". ") > 0 {
		t.Errorf("message %q is not one sentence", r.Message())
	}
}

func BenchmarkEvaluate(b *testing.B) {
	inputs := []Input{
		input(),                    // rule 15: walks most of the table
		input(boughtFromCSP),       // rule 14, with a date in the message
		input(usageBased),          // rule 16: the last rule
		input(targetCountry("DE")), // rule 7
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		_ = Evaluate(inputs[i%len(inputs)])
	}
}

// TestEvaluateAllocatesNothing: deciding allocates nothing (the controllers
// evaluate every subscription on every pass); the message is written only
// when asked for.
func TestEvaluateAllocatesNothing(t *testing.T) {
	inputs := []Input{input(), input(boughtFromCSP), input(usageBased), input(targetCountry("DE"))}
	for _, in := range inputs {
		if n := testing.AllocsPerRun(100, func() { _ = Evaluate(in) }); n != 0 {
			t.Errorf("Evaluate allocates %.0f times for rule %s", n, Evaluate(in).Rule)
		}
	}
}

// BenchmarkEvaluateWithMessage: deciding and writing the message, as a pass
// that records it in status does.
func BenchmarkEvaluateWithMessage(b *testing.B) {
	inputs := []Input{input(), input(boughtFromCSP), input(usageBased), input(targetCountry("DE"))}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		_ = Evaluate(inputs[i%len(inputs)]).Message()
	}
}

// TestExpiryAndRenewalBoundaries: an expired license is bought within the
// 30 days its users keep access, with that deadline, and not after; a
// license with another CSP partner that auto-renews is never bought over at
// its term's end, and the wait before it says it will renew.
func TestExpiryAndRenewalBoundaries(t *testing.T) {
	expired := state(v1alpha1.SubscriptionExpired)
	for _, tc := range []struct {
		name     string
		in       Input
		rule     string
		notAfter time.Time
		says     string
	}{
		{"the expiry day", input(expired, at(termEnd)), "9a", graceEnd, "users keep access until 2027-07-30"},
		{"the 30th day after expiry", input(expired, at(termEnd.Add(29*24*time.Hour))), "9a", graceEnd, "before then without loss"},
		{"the last second of the grace period", input(expired, at(graceEnd.Add(-time.Second))), "9a", graceEnd, ""},
		{"the grace period's end", input(expired, at(graceEnd)), "1", time.Time{}, "access ended 30 days later, on 2027-07-30"},
		{"the 31st day after expiry", input(expired, at(graceEnd.Add(24*time.Hour))), "1", time.Time{}, "nothing left to take over"},
		{"recorded expired before its term's end", input(expired, at(termEnd.Add(-time.Second))), "1", time.Time{}, "record the date it expired as term.endDate"},
		{"auto-renew, at term end", input(boughtFromCSP, autoRenew, at(termEnd)), "13a", time.Time{}, "the source renewed"},
		{"auto-renew, after term end", input(boughtFromCSP, autoRenew, at(termEnd.Add(48*time.Hour))), "13a", time.Time{}, "record the renewed term and commerce NewCommerce"},
		{"auto-renew, before term end", input(boughtFromCSP, autoRenew, at(termEnd.Add(-time.Nanosecond))), "14", time.Time{}, "the source renews then unless fabrikam turns auto-renew off"},
		{"no auto-renew, at term end", input(boughtFromCSP, at(termEnd)), "13", time.Time{}, "can sell the customer the same licenses"},
		{"no auto-renew, before term end", input(boughtFromCSP, at(termEnd.Add(-time.Nanosecond))), "14", time.Time{}, "wait until the term with fabrikam ends"},
		{"a renewing new-commerce license transfers", input(boughtFromCSP, autoRenew, newCommerce, at(termEnd)), "12", time.Time{}, "move mid-term"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Evaluate(tc.in)
			if got.Rule != tc.rule || !got.NotAfter.Equal(tc.notAfter) || !strings.Contains(got.Message(), tc.says) {
				t.Errorf("rule %s, notAfter %v, message %q; want rule %s, notAfter %v, a message saying %q", got.Rule, got.NotAfter, got.Message(), tc.rule, tc.notAfter, tc.says)
			}
		})
	}
}

// TestMarketBoundaries: rule 7 by CSP market (docs/eligibility.md): a
// partner sells to every country of its market and to no other, each way.
func TestMarketBoundaries(t *testing.T) {
	customerIn := func(c string) func(*Input) { return func(in *Input) { in.Customer.Spec.Country = c } }
	for _, tc := range []struct {
		partner, customer string
		sells             bool
	}{
		{"US", "UM", true}, // the US and its minor outlying islands
		{"UM", "US", true},
		{"US", "CA", false}, // Canada is its own market
		{"CA", "US", false},
		{"DE", "FR", true}, // Europe
		{"GB", "CH", true},
		{"BR", "AR", false}, // Brazil sells only to Brazil
		{"AR", "BR", false},
		{"KE", "NG", true},  // Africa
		{"KE", "ZA", false}, // South Africa is in the Middle East, Central and Eastern Europe market
		{"AU", "NZ", false},
		{"XX", "XX", true}, // a country the table does not list sells to itself only
		{"XX", "US", false},
	} {
		t.Run(tc.partner+" to "+tc.customer, func(t *testing.T) {
			got := Evaluate(input(targetCountry(tc.partner), customerIn(tc.customer)))
			if sells := got.Reason != v1alpha1.ReasonRegionMismatch; sells != tc.sells {
				t.Errorf("rule %s %s (%s); want selling %v", got.Rule, got.Reason, got.Message(), tc.sells)
			}
			if !tc.sells && !strings.Contains(got.Message(), "CSP market") {
				t.Errorf("message %q does not name the market", got.Message())
			}
		})
	}
}
