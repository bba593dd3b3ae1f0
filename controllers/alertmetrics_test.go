package controllers

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
)

func TestAlertMetrics(t *testing.T) {
	requested := metav1.NewTime(time.Unix(1_790_000_000, 0))
	created := metav1.NewTime(time.Unix(1_791_000_000, 0))
	started := metav1.NewTime(time.Unix(1_792_000_000, 0))
	rel := func(name string, phase v1alpha1.RelationshipPhase, at *metav1.Time) *v1alpha1.ResellerRelationship {
		return &v1alpha1.ResellerRelationship{
			ObjectMeta: metav1.ObjectMeta{Namespace: "woodgrove", Name: name},
			Spec:       v1alpha1.ResellerRelationshipSpec{PartnerRef: "contoso-csp", CustomerRef: "woodgrove"},
			Status:     v1alpha1.ResellerRelationshipStatus{Phase: phase, RequestedAt: at},
		}
	}
	sub := func(name string, phase v1alpha1.SubscriptionPhase, op *v1alpha1.Operation) *v1alpha1.CustomerSubscription {
		return &v1alpha1.CustomerSubscription{
			ObjectMeta: metav1.ObjectMeta{Namespace: "woodgrove", Name: name},
			Spec:       v1alpha1.CustomerSubscriptionSpec{CustomerRef: "woodgrove", SupportPartnerRef: "contoso-csp"},
			Status:     v1alpha1.CustomerSubscriptionStatus{Phase: phase, Operation: op},
		}
	}
	ends := metav1.NewTime(time.Unix(1_795_000_000, 0))
	waiting := func(name string, autoRenew bool, reason v1alpha1.EligibilityReason, notBefore, notAfter *metav1.Time, phase v1alpha1.SubscriptionPhase) *v1alpha1.CustomerSubscription {
		s := sub(name, phase, nil)
		s.Spec.Term = &v1alpha1.Term{AutoRenew: autoRenew}
		s.Status.Eligibility = &v1alpha1.Eligibility{Reason: reason, NotBefore: notBefore, NotAfter: notAfter}
		return s
	}
	gdap := func(name string, phase v1alpha1.GDAPPhase, autoExtend string) *v1alpha1.DelegatedAdminRelationship {
		return &v1alpha1.DelegatedAdminRelationship{
			ObjectMeta: metav1.ObjectMeta{Namespace: "woodgrove", Name: name},
			Spec:       v1alpha1.DelegatedAdminRelationshipSpec{PartnerRef: "contoso-csp", CustomerRef: "woodgrove", AutoExtendDuration: autoExtend},
			Status:     v1alpha1.DelegatedAdminRelationshipStatus{Phase: phase, EndsAt: &ends},
		}
	}
	objs := []client.Object{
		gdap("support-ends", v1alpha1.GDAPActive, "PT0S"),
		gdap("support-extends", v1alpha1.GDAPActive, "P180D"),
		gdap("support-waits", v1alpha1.GDAPApprovalPending, ""),
		rel("waiting", v1alpha1.RelationshipRequested, &requested),
		rel("approved", v1alpha1.RelationshipApproved, &requested),
		rel("not-yet-requested", v1alpha1.RelationshipPending, nil),
		sub("transfer-created", v1alpha1.PhaseSwitching, &v1alpha1.Operation{ID: "a", Type: v1alpha1.OperationCreateTransfer, StartedAt: &started, CompletedAt: &created}),
		sub("transfer-recorded", v1alpha1.PhaseSwitching, &v1alpha1.Operation{ID: "b", Type: v1alpha1.OperationCreateTransfer, StartedAt: &started}),
		sub("azure-plan", v1alpha1.PhaseSwitching, &v1alpha1.Operation{ID: "c", Type: v1alpha1.OperationCreateAzurePlan, StartedAt: &started}),
		sub("transfer-accepted", v1alpha1.PhaseCompleted, &v1alpha1.Operation{ID: "d", Type: v1alpha1.OperationCreateTransfer, StartedAt: &started, CompletedAt: &created}),
		waiting("renews", true, v1alpha1.ReasonLicenseTermActive, &ends, nil, v1alpha1.PhaseScheduled),
		waiting("ends", false, v1alpha1.ReasonLicenseTermActive, &ends, nil, v1alpha1.PhaseScheduled),
		waiting("expired", false, v1alpha1.ReasonSourceExpired, nil, &requested, v1alpha1.PhaseAwaitingApproval),
		waiting("expired-bought", false, v1alpha1.ReasonSourceExpired, nil, &requested, v1alpha1.PhaseCompleted),
	}
	scheme := runtime.NewScheme()
	if err := v1alpha1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	c := &alertCollector{}
	var reader client.Reader = fake.NewClientBuilder().WithScheme(scheme).WithObjects(objs...).Build()
	c.cache.Store(&reader)

	// 1791000000 + 30 days = 1793592000; 1792000000 + 30 days = 1794592000.
	want := `
# HELP multichannel_reseller_relationship_requested_timestamp_seconds When a ResellerRelationship still waiting for the customer's decision (phase Requested) was requested, in Unix seconds.
# TYPE multichannel_reseller_relationship_requested_timestamp_seconds gauge
multichannel_reseller_relationship_requested_timestamp_seconds{customer="woodgrove",name="waiting",namespace="woodgrove",partner="contoso-csp"} 1.79e+09
# HELP multichannel_transfer_expiry_timestamp_seconds When the pending transfer of a Switching CustomerSubscription expires unless the source partner accepts it (30 days after it was created), in Unix seconds.
# TYPE multichannel_transfer_expiry_timestamp_seconds gauge
multichannel_transfer_expiry_timestamp_seconds{customer="woodgrove",name="transfer-created",namespace="woodgrove",partner="contoso-csp"} 1.793592e+09
multichannel_transfer_expiry_timestamp_seconds{customer="woodgrove",name="transfer-recorded",namespace="woodgrove",partner="contoso-csp"} 1.794592e+09
# HELP multichannel_gdap_relationship_end_timestamp_seconds When an Active or Expiring DelegatedAdminRelationship that will not auto-extend ends, in Unix seconds.
# TYPE multichannel_gdap_relationship_end_timestamp_seconds gauge
multichannel_gdap_relationship_end_timestamp_seconds{customer="woodgrove",name="support-ends",namespace="woodgrove",partner="contoso-csp"} 1.795e+09
# HELP multichannel_source_access_end_timestamp_seconds When the users of an expired license not yet bought anew lose access (30 days after it expired), in Unix seconds.
# TYPE multichannel_source_access_end_timestamp_seconds gauge
multichannel_source_access_end_timestamp_seconds{customer="woodgrove",name="expired",namespace="woodgrove",partner="contoso-csp"} 1.79e+09
# HELP multichannel_source_renewal_timestamp_seconds When the source term of a license with another CSP partner that auto-renews ends, and renews unless the source partner turns auto-renew off, in Unix seconds.
# TYPE multichannel_source_renewal_timestamp_seconds gauge
multichannel_source_renewal_timestamp_seconds{customer="woodgrove",name="renews",namespace="woodgrove",partner="contoso-csp"} 1.795e+09
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want)); err != nil {
		t.Error(err)
	}

	// Before the cache is set, a scrape reports nothing rather than failing.
	if n := testutil.CollectAndCount(&alertCollector{}); n != 0 {
		t.Errorf("%d series without a cache", n)
	}
}
