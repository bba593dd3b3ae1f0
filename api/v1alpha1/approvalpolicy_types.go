package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ApprovalPolicySpec is a customer's standing consent to reseller relationship
// requests from some partners.
// +kubebuilder:validation:XValidation:rule="has(self.partnerSelector) || (has(self.partnerRefs) && size(self.partnerRefs) > 0)",message="name the partners whose requests are approved: set partnerSelector, partnerRefs, or both"
type ApprovalPolicySpec struct {
	// partnerSelector selects, by label, the Partners whose requests are approved.
	// An empty selector ({}) matches every Partner.
	// +optional
	PartnerSelector *metav1.LabelSelector `json:"partnerSelector,omitempty"`

	// partnerRefs names Partners whose requests are approved, in addition to
	// those partnerSelector matches.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=253
	PartnerRefs []string `json:"partnerRefs,omitempty"`

	// allowDelegatedAdmin bounds what the policy approves: when false (the
	// default) only requests without delegated administration privileges
	// (delegatedAdmin: false) are approved; when true, those with them too.
	// +optional
	// +kubebuilder:default=false
	AllowDelegatedAdmin bool `json:"allowDelegatedAdmin,omitempty"`
}

// ApprovalPolicyStatus is what the operator last observed of the policy.
type ApprovalPolicyStatus struct {
	// observedGeneration is the spec generation this status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// matched is the number of ResellerRelationships in this namespace whose
	// partner the policy matches.
	// +optional
	Matched int32 `json:"matched,omitempty"`

	// conditions: Ready is True when the selector is valid.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=16
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// ApprovalPolicy is declarative consent that can live in Git: in a customer's
// namespace, reseller relationship requests from the partners it names are approved.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced,shortName=ap,categories=multichannel
// +kubebuilder:printcolumn:name="Delegated Admin",type=boolean,JSONPath=`.spec.allowDelegatedAdmin`
// +kubebuilder:printcolumn:name="Matched",type=integer,JSONPath=`.status.matched`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type ApprovalPolicy struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec names the partners whose requests are approved.
	// +required
	Spec ApprovalPolicySpec `json:"spec"`

	// status is what the operator last observed.
	// +optional
	Status ApprovalPolicyStatus `json:"status,omitempty"`
}

// ApprovalPolicyList is a list of ApprovalPolicies.
// +kubebuilder:object:root=true
type ApprovalPolicyList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ApprovalPolicy `json:"items"`
}
