package controllers

import (
	"testing"
	"time"

	"github.com/google/uuid"

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
