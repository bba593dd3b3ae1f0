package eligibility

import (
	"slices"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
)

// FuzzEvaluate builds inputs the CRD schema would accept from the fuzzer's
// choices and checks the invariants of the table on each.
func FuzzEvaluate(f *testing.F) {
	f.Add(uint8(0), uint8(0), uint8(0), uint8(0), uint8(0), uint8(0), uint8(0), uint8(0), int64(0), int64(0))
	f.Add(uint8(1), uint8(5), uint8(1), uint8(2), uint8(1), uint8(3), uint8(1), uint8(7), int64(3600), int64(-86400))
	f.Add(uint8(0), uint8(5), uint8(0), uint8(0), uint8(0), uint8(0), uint8(0), uint8(2), int64(1), int64(1))
	f.Add(uint8(0), uint8(5), uint8(0), uint8(2), uint8(1), uint8(1), uint8(0), uint8(255), int64(0), int64(0))
	f.Fuzz(func(t *testing.T, service, channelIdx, commerce, stateIdx, cloud, targetIdx, flags, providerIdx uint8, endOffset, nowOffset int64) {
		services := []v1alpha1.ServiceType{v1alpha1.ServiceLicenseBased, v1alpha1.ServiceUsageBased}
		channels := []v1alpha1.ChannelType{"Direct", "Advisor", "Open", "EnterpriseAgreement", "ThirdParty", "CSP", "Syndication"}
		states := []v1alpha1.SubscriptionState{"Active", "Suspended", "Cancelled", "Expired"}
		cspTypes := []v1alpha1.CSPType{"DirectBill", "IndirectProvider", "IndirectReseller", "None"}
		clouds := []v1alpha1.Cloud{"Public", "USGovernment"}
		countries := []string{"US", "DE"}

		in := input()
		spec := &in.Subscription.Spec
		spec.ServiceType = services[int(service)%len(services)]
		spec.Channel = v1alpha1.Channel{Type: channels[int(channelIdx)%len(channels)]}
		spec.Commerce = []v1alpha1.Commerce{"Legacy", "NewCommerce"}[int(commerce)%2]
		spec.State = states[int(stateIdx)%len(states)]
		base := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
		// The schema requires term.endDate for LicenseBased; UsageBased may have none.
		spec.Term = nil
		if spec.ServiceType == v1alpha1.ServiceLicenseBased || flags&1 != 0 {
			end := base.Add(time.Duration(endOffset%1e6) * time.Second)
			spec.Term = &v1alpha1.Term{EndDate: &metav1.Time{Time: end}}
		}
		in.Now = base.Add(time.Duration(nowOffset%1e6) * time.Second)
		in.Customer.Spec.Cloud = clouds[int(cloud)%2]
		in.Customer.Spec.Country = countries[int(cloud>>1)%2]
		in.Customer.Spec.CSPPartner = flags&2 != 0

		in.Target.Spec.CSPType = cspTypes[int(targetIdx)%len(cspTypes)]
		in.Target.Spec.Cloud = clouds[int(targetIdx>>2)%2]
		in.Target.Spec.Country = countries[int(targetIdx>>3)%2]
		if in.Target.Spec.CSPType == v1alpha1.CSPTypeIndirectReseller {
			in.Target.Spec.IndirectProviderRef = "tailspin"
			if flags&4 != 0 {
				in.TargetProvider = partner("tailspin", cspTypes[int(providerIdx)%len(cspTypes)])
			}
		}
		if spec.Channel.Type == v1alpha1.ChannelCSP {
			spec.Channel.PartnerRef = "fabrikam"
			if flags&8 != 0 {
				spec.Channel.PartnerRef = in.Target.Name
			}
			if flags&16 != 0 {
				in.ChannelPartner = partner(spec.Channel.PartnerRef, v1alpha1.CSPTypeDirectBill)
			}
		}
		if flags&32 != 0 {
			in.Target = nil
		}

		got := Evaluate(in)

		if !slices.Contains(documentedReasons, got.Reason) {
			t.Fatalf("reason %q is not a documented code", got.Reason)
		}
		if i := slices.IndexFunc(table, func(r rule) bool { return r.number == got.Rule }); i < 0 || table[i].reason != got.Reason {
			t.Fatalf("rule %q does not have reason %s", got.Rule, got.Reason)
		}
		if !got.Eligible && got.Path != v1alpha1.PathNone && got.Path != v1alpha1.PathWaitForTermEnd {
			t.Fatalf("ineligible with path %s", got.Path)
		}
		if got.Eligible && got.Path == v1alpha1.PathNone && got.Reason != v1alpha1.ReasonAlreadyManaged {
			t.Fatalf("eligible with path None and reason %s", got.Reason)
		}
		if got.Path == v1alpha1.PathWaitForTermEnd && (got.NotBefore == nil || !got.NotBefore.After(in.Now)) {
			t.Fatalf("WaitForTermEnd with notBefore %v at now %v", got.NotBefore, in.Now)
		}
		if got.Path != v1alpha1.PathWaitForTermEnd && got.NotBefore != nil {
			t.Fatalf("path %s with notBefore %v", got.Path, got.NotBefore)
		}
		if in.Target == nil && slices.Contains([]string{"4", "5", "6", "7", "8"}, got.Rule) {
			t.Fatalf("rule %s needs a target but decided without one", got.Rule)
		}
		if got.Message() == "" {
			t.Fatal("no message")
		}
		if again := Evaluate(in); again.Reason != got.Reason || again.Message() != got.Message() {
			t.Fatalf("not deterministic: %v then %v", got, again)
		}
	})
}
