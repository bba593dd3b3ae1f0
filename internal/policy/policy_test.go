package policy_test

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	"github.com/partnerops/multichannel-operator/internal/policy"
)

func TestPolicyCoversPartner(t *testing.T) {
	partner := &v1alpha1.Partner{ObjectMeta: metav1.ObjectMeta{Name: "contoso", Labels: map[string]string{"tier": "gold"}}}
	cases := []struct {
		name string
		spec v1alpha1.ApprovalPolicySpec
		want bool
	}{
		{"named", v1alpha1.ApprovalPolicySpec{PartnerRefs: []string{"fabrikam", "contoso"}}, true},
		{"not named", v1alpha1.ApprovalPolicySpec{PartnerRefs: []string{"fabrikam"}}, false},
		{"selected by label", v1alpha1.ApprovalPolicySpec{PartnerSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"tier": "gold"}}}, true},
		{"other label", v1alpha1.ApprovalPolicySpec{PartnerSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"tier": "silver"}}}, false},
		{"empty selector selects all", v1alpha1.ApprovalPolicySpec{PartnerSelector: &metav1.LabelSelector{}}, true},
		{"invalid selector selects none", v1alpha1.ApprovalPolicySpec{PartnerSelector: &metav1.LabelSelector{
			MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "tier", Operator: "Around"}}}}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := policy.CoversPartner(&v1alpha1.ApprovalPolicy{Spec: tc.spec}, partner); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestPolicyAuthorizes(t *testing.T) {
	partner := &v1alpha1.Partner{ObjectMeta: metav1.ObjectMeta{Name: "contoso"}}
	license := func(offer string, qty int32) *v1alpha1.CustomerSubscription {
		return &v1alpha1.CustomerSubscription{Spec: v1alpha1.CustomerSubscriptionSpec{ServiceType: v1alpha1.ServiceLicenseBased,
			Offer: v1alpha1.Offer{ID: offer}, Quantity: &qty}}
	}
	azure := func(d v1alpha1.SourceDisposition) *v1alpha1.CustomerSubscription {
		return &v1alpha1.CustomerSubscription{Spec: v1alpha1.CustomerSubscriptionSpec{ServiceType: v1alpha1.ServiceUsageBased,
			Offer: v1alpha1.Offer{ID: "azure"}, Azure: &v1alpha1.AzureSource{SourceDisposition: d}}}
	}
	max := func(n int32) *int32 { return &n }
	cases := []struct {
		name    string
		spec    v1alpha1.ApprovalPolicySpec
		sub     *v1alpha1.CustomerSubscription
		path    v1alpha1.SwitchPath
		want    bool
		refusal string
	}{
		{"partner named, no other limits", v1alpha1.ApprovalPolicySpec{PartnerRefs: []string{"contoso"}}, license("m365", 500), v1alpha1.PathNewLicenseSubscription, true, ""},
		{"another partner", v1alpha1.ApprovalPolicySpec{PartnerRefs: []string{"fabrikam"}}, license("m365", 5), v1alpha1.PathNewLicenseSubscription, false, "does not cover partner contoso"},
		{"path listed", v1alpha1.ApprovalPolicySpec{PartnerRefs: []string{"contoso"}, Paths: []v1alpha1.ActingPath{v1alpha1.ActingPath(v1alpha1.PathPartnerSwitch)}}, license("m365", 5), v1alpha1.PathPartnerSwitch, true, ""},
		{"path not listed", v1alpha1.ApprovalPolicySpec{PartnerRefs: []string{"contoso"}, Paths: []v1alpha1.ActingPath{v1alpha1.ActingPath(v1alpha1.PathPartnerSwitch)}}, license("m365", 5), v1alpha1.PathNewLicenseSubscription, false, "does not cover path NewLicenseSubscription"},
		{"offer listed", v1alpha1.ApprovalPolicySpec{PartnerRefs: []string{"contoso"}, Offers: []string{"m365"}}, license("m365", 5), v1alpha1.PathNewLicenseSubscription, true, ""},
		{"offer not listed", v1alpha1.ApprovalPolicySpec{PartnerRefs: []string{"contoso"}, Offers: []string{"d365"}}, license("m365", 5), v1alpha1.PathNewLicenseSubscription, false, "does not cover offer m365"},
		{"quantity at the limit", v1alpha1.ApprovalPolicySpec{PartnerRefs: []string{"contoso"}, MaxQuantity: max(25)}, license("m365", 25), v1alpha1.PathNewLicenseSubscription, true, ""},
		{"quantity over the limit", v1alpha1.ApprovalPolicySpec{PartnerRefs: []string{"contoso"}, MaxQuantity: max(25)}, license("m365", 26), v1alpha1.PathNewLicenseSubscription, false, "allows at most 25 licenses, the subscription has 26"},
		{"max quantity ignores Azure", v1alpha1.ApprovalPolicySpec{PartnerRefs: []string{"contoso"}, MaxQuantity: max(1)}, azure(v1alpha1.SourceCoexist), v1alpha1.PathNewAzureSubscription, true, ""},
		{"coexist needs no cancellation right", v1alpha1.ApprovalPolicySpec{PartnerRefs: []string{"contoso"}}, azure(v1alpha1.SourceCoexist), v1alpha1.PathNewAzureSubscription, true, ""},
		{"cancel subscription without the right", v1alpha1.ApprovalPolicySpec{PartnerRefs: []string{"contoso"}}, azure(v1alpha1.SourceCancelSubscription), v1alpha1.PathNewAzureSubscription, false, "does not allow source cancellation (CancelSubscription)"},
		{"cancel services without the right", v1alpha1.ApprovalPolicySpec{PartnerRefs: []string{"contoso"}}, azure(v1alpha1.SourceCancelServices), v1alpha1.PathNewAzureSubscription, false, "does not allow source cancellation (CancelServices)"},
		{"cancel subscription with the right", v1alpha1.ApprovalPolicySpec{PartnerRefs: []string{"contoso"}, AllowSourceCancellation: true}, azure(v1alpha1.SourceCancelSubscription), v1alpha1.PathNewAzureSubscription, true, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, refusal := policy.Authorizes(&v1alpha1.ApprovalPolicy{Spec: tc.spec}, tc.sub, partner, tc.path)
			if got != tc.want || refusal != tc.refusal {
				t.Errorf("got %v %q, want %v %q", got, refusal, tc.want, tc.refusal)
			}
		})
	}
}
