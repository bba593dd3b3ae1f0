// Package v1alpha1 contains the multichannel.partnerops.io/v1alpha1 API: the
// kinds a CSP partner's platform team declares to take on the support of
// Microsoft subscriptions a customer bought through another channel.
//
// +kubebuilder:object:generate=true
// +groupName=multichannel.partnerops.io
package v1alpha1

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

var (
	// GroupVersion is the group and version of every kind in this package.
	GroupVersion = schema.GroupVersion{Group: "multichannel.partnerops.io", Version: "v1alpha1"}

	// SchemeBuilder registers the kinds of this package with a runtime.Scheme.
	SchemeBuilder = &scheme.Builder{GroupVersion: GroupVersion}

	// AddToScheme adds the kinds of this package to a runtime.Scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)
