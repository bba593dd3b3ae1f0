package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ActingPath is a switch path on which the operator acts in Partner Center
// (buys or transfers), and so needs the partner's authorization.
// +kubebuilder:validation:Enum=NewAzureSubscription;PartnerSwitch;NewLicenseSubscription
type ActingPath string

// ApprovalPolicySpec is the partner's standing authorization: which
// subscriptions in this namespace the operator may act on (buy, transfer,
// cancel the source) without a person approving each one. It never stands in
// for the customer: only the customer accepts a reseller relationship, in
// Partner Center.
// +kubebuilder:validation:XValidation:rule="has(self.partnerSelector) || (has(self.partnerRefs) && size(self.partnerRefs) > 0)",message="name the support partners the policy covers: set partnerSelector, partnerRefs, or both"
type ApprovalPolicySpec struct {
	// partnerSelector selects, by label, the support Partners
	// (CustomerSubscription spec.supportPartnerRef) whose subscriptions the
	// policy authorizes. An empty selector ({}) matches every Partner.
	// +optional
	PartnerSelector *metav1.LabelSelector `json:"partnerSelector,omitempty"`

	// partnerRefs names support Partners whose subscriptions the policy
	// authorizes, in addition to those partnerSelector matches.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=253
	PartnerRefs []string `json:"partnerRefs,omitempty"`

	// paths limits the policy to these switch paths: NewAzureSubscription,
	// PartnerSwitch or NewLicenseSubscription. Absent: every path that buys or
	// transfers. (The ResellerRelationship path buys nothing and needs no
	// authorization.)
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=3
	Paths []ActingPath `json:"paths,omitempty"`

	// offers limits the policy to subscriptions whose spec.offer.id is listed.
	// Absent: any offer.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=256
	// +kubebuilder:validation:items:MaxLength=256
	Offers []string `json:"offers,omitempty"`

	// maxQuantity is the largest LicenseBased quantity the policy authorizes; a
	// subscription with more licenses needs a person's approval. Absent: no limit.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1000000
	MaxQuantity *int32 `json:"maxQuantity,omitempty"`

	// maxQuantityPerCustomer is the most licenses of one offer the policy
	// authorizes for one customer in total, across all its subscriptions in
	// the namespace: a limit that splitting a purchase into several
	// subscriptions cannot get around. What it authorized before counts, and
	// so does what those authorizations bought after their spec changed; a
	// deleted subscription no longer counts. Absent: no total.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1000000
	MaxQuantityPerCustomer *int32 `json:"maxQuantityPerCustomer,omitempty"`

	// maxSubscriptionsPerCustomer is the most subscriptions of one customer
	// the policy authorizes in total. Absent: no limit.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=10000
	MaxSubscriptionsPerCustomer *int32 `json:"maxSubscriptionsPerCustomer,omitempty"`

	// allowSourceCancellation lets the policy authorize UsageBased subscriptions
	// whose azure.sourceDisposition is CancelServices or CancelSubscription.
	// Default false: those need a person's approval.
	// +optional
	// +kubebuilder:default=false
	AllowSourceCancellation bool `json:"allowSourceCancellation,omitempty"`
}

// ApprovalPolicyStatus is what the operator last observed of the policy.
type ApprovalPolicyStatus struct {
	// observedGeneration is the spec generation this status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// matched is the number of CustomerSubscriptions in this namespace whose
	// current authorization this policy gave. It is counted again at most
	// every 2 seconds, once for the authorizations made meanwhile.
	// +optional
	Matched int32 `json:"matched,omitempty"`

	// conditions: Ready is True when the selector is valid.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=16
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// ApprovalPolicy is the partner's standing authorization, reviewed in Git like
// any manifest: the operator may buy, transfer or cancel the source for the
// subscriptions in this namespace that it matches, without a person approving
// each one. It never approves anything on the customer's behalf.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced,shortName=ap,categories=multichannel
// +kubebuilder:printcolumn:name="Max Quantity",type=integer,JSONPath=`.spec.maxQuantity`
// +kubebuilder:printcolumn:name="Source Cancellation",type=boolean,JSONPath=`.spec.allowSourceCancellation`
// +kubebuilder:printcolumn:name="Matched",type=integer,JSONPath=`.status.matched`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type ApprovalPolicy struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec says which subscriptions the policy authorizes.
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
