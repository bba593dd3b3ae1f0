package controllers

import (
	"github.com/google/uuid"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
)

func rel(name, partner string, phase v1alpha1.RelationshipPhase, age time.Duration) v1alpha1.ResellerRelationship {
	return v1alpha1.ResellerRelationship{
		ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(-age))},
		Spec:       v1alpha1.ResellerRelationshipSpec{PartnerRef: partner, CustomerRef: "woodgrove"},
		Status:     v1alpha1.ResellerRelationshipStatus{Phase: phase},
	}
}

func TestBestRelationship(t *testing.T) {
	cases := []struct {
		name  string
		items []v1alpha1.ResellerRelationship
		want  string
	}{
		{"none", nil, ""},
		{"other partners only", []v1alpha1.ResellerRelationship{rel("a", "fabrikam", v1alpha1.RelationshipApproved, 0)}, ""},
		{"approved beats waiting", []v1alpha1.ResellerRelationship{
			rel("waiting", "contoso", v1alpha1.RelationshipRequested, 0), rel("approved", "contoso", v1alpha1.RelationshipApproved, time.Hour)}, "approved"},
		{"waiting beats denied", []v1alpha1.ResellerRelationship{
			rel("denied", "contoso", v1alpha1.RelationshipDenied, 0), rel("new", "contoso", "", time.Hour)}, "new"},
		{"newest of the same rank", []v1alpha1.ResellerRelationship{
			rel("old", "contoso", v1alpha1.RelationshipExpired, 2*time.Hour), rel("newer", "contoso", v1alpha1.RelationshipDenied, time.Hour)}, "newer"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := bestRelationship(tc.items, "contoso")
			switch {
			case tc.want == "" && got != nil:
				t.Errorf("got %s, want none", got.Name)
			case tc.want != "" && (got == nil || got.Name != tc.want):
				t.Errorf("got %v, want %s", got, tc.want)
			}
		})
	}
}

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
			if got := policyCoversPartner(&v1alpha1.ApprovalPolicy{Spec: tc.spec}, partner); got != tc.want {
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
			got, refusal := policyAuthorizes(&v1alpha1.ApprovalPolicy{Spec: tc.spec}, tc.sub, partner, tc.path)
			if got != tc.want || refusal != tc.refusal {
				t.Errorf("got %v %q, want %v %q", got, refusal, tc.want, tc.refusal)
			}
		})
	}
}

func TestOperationIDIsDeterministic(t *testing.T) {
	a := &v1alpha1.CustomerSubscription{ObjectMeta: metav1.ObjectMeta{UID: "uid-1"}}
	b := &v1alpha1.CustomerSubscription{ObjectMeta: metav1.ObjectMeta{UID: "uid-2"}}
	transfer := v1alpha1.OperationCreateTransfer
	if operationID(a, transfer, 1) != operationID(a.DeepCopy(), transfer, 1) {
		t.Error("the same subscription, type and attempt gave two IDs")
	}
	if operationID(a, transfer, 1) == operationID(b, transfer, 1) ||
		operationID(a, transfer, 1) == operationID(a, v1alpha1.OperationCreateAzurePlan, 1) ||
		operationID(a, transfer, 1) == operationID(a, transfer, 2) {
		t.Error("different subscriptions, types or attempts share an ID")
	}
	// The first attempt keeps the ID earlier versions derived (UID and type
	// only), so an operation recorded before an upgrade resumes as itself.
	if operationID(a, transfer, 1) != uuid.NewSHA1(operationNamespace, []byte("uid-1/CreateTransfer")).String() ||
		operationID(a, transfer, 0) != operationID(a, transfer, 1) {
		t.Error("attempt 1 changed its ID derivation")
	}
}

func TestNextAttempt(t *testing.T) {
	for _, tc := range []struct {
		previous []int32
		want     int32
	}{
		{nil, 1}, {[]int32{0}, 2}, {[]int32{1}, 2}, {[]int32{1, 2, 3}, 4}, {[]int32{4, 5}, 6},
	} {
		st := v1alpha1.CustomerSubscriptionStatus{}
		for _, a := range tc.previous {
			st.PreviousOperations = append(st.PreviousOperations, v1alpha1.Operation{Attempt: a})
		}
		if got := nextAttempt(st); got != tc.want {
			t.Errorf("after attempts %v: next %d, want %d", tc.previous, got, tc.want)
		}
	}
}
