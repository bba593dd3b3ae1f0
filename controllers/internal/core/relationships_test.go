package core

import (
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
			got := BestRelationship(tc.items, "contoso")
			switch {
			case tc.want == "" && got != nil:
				t.Errorf("got %s, want none", got.Name)
			case tc.want != "" && (got == nil || got.Name != tc.want):
				t.Errorf("got %v, want %s", got, tc.want)
			}
		})
	}
}
