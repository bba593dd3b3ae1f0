// Package v1alpha1 contains the multichannel.partnerops.io/v1alpha1 API: the
// kinds a CSP partner's platform team declares to take on the support of
// Microsoft subscriptions a customer bought through another channel.
//
// +kubebuilder:object:generate=true
// +groupName=multichannel.partnerops.io
package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var (
	// GroupVersion is the group and version of every kind in this package.
	GroupVersion = schema.GroupVersion{Group: "multichannel.partnerops.io", Version: "v1alpha1"}

	// SchemeBuilder registers the kinds of this package with a runtime.Scheme.
	SchemeBuilder = runtime.NewSchemeBuilder(addKnownTypes)

	// AddToScheme adds the kinds of this package to a runtime.Scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)

// addKnownTypes registers every kind of the group, and its list.
func addKnownTypes(s *runtime.Scheme) error {
	s.AddKnownTypes(GroupVersion,
		&Partner{}, &PartnerList{},
		&Customer{}, &CustomerList{},
		&CustomerSubscription{}, &CustomerSubscriptionList{},
		&ResellerRelationship{}, &ResellerRelationshipList{},
		&ApprovalPolicy{}, &ApprovalPolicyList{},
		&DelegatedAdminRelationship{}, &DelegatedAdminRelationshipList{},
	)
	metav1.AddToGroupVersion(s, GroupVersion)
	return nil
}
