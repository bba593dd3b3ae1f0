package subscription

import (
	"fmt"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// agreementGate: a purchase (and an Azure transfer) needs the customer's
// acceptance of the Microsoft Customer Agreement; until the Customer's
// AgreementAccepted is True, it waits with what to record.
func agreementGate(s *subscriptionScope) (open bool, msg string) {
	if !needsAgreement(s) {
		return true, ""
	}
	cond := meta.FindStatusCondition(s.customer.Status.Conditions, v1alpha1.ConditionAgreementAccepted)
	if cond != nil && cond.Status == metav1.ConditionTrue {
		return true, ""
	}
	msg = fmt.Sprintf("customer %s's acceptance of the Microsoft Customer Agreement, which Partner Center must hold before partner %s buys for it", s.customer.Name, s.target.Name)
	if cond != nil && cond.Message != "" {
		msg += " (Customer " + s.customer.Name + " says: " + cond.Message + ")"
	}
	return false, msg
}

// needsAgreement: the path buys or transfers, for a customer outside the
// US Government cloud. Microsoft documents the agreement before a purchase
// and before an Azure transfer ("The customer signs a Microsoft Customer
// Agreement"); a license transfer is held to it too, as the simulator
// holds it, rather than be refused with 13605.
func needsAgreement(s *subscriptionScope) bool {
	if s.customer.Spec.Cloud == v1alpha1.CloudUSGovernment {
		return false
	}
	switch s.result.Path {
	case v1alpha1.PathNewAzureSubscription, v1alpha1.PathNewLicenseSubscription, v1alpha1.PathPartnerSwitch:
		return true
	}
	return false
}
