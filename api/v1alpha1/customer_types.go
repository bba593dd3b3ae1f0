package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// CustomerSpec describes a customer organisation.
type CustomerSpec struct {
	// displayName is the customer's name as people know it.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	DisplayName string `json:"displayName"`

	// tenantID is the customer's Entra ID tenant, a GUID. It cannot change:
	// consent and authorizations are the tenant's, so another tenant is
	// another Customer. A tenant belongs to one namespace: the first Customer
	// to claim it holds it (condition TenantClaimed).
	// +required
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="tenantID cannot change: consent and authorizations belong to the tenant; declare another Customer for another tenant"
	// +kubebuilder:validation:MaxLength=36
	// +kubebuilder:validation:Pattern=`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`
	TenantID string `json:"tenantID"`

	// domain is the customer's primary domain, such as contoso.onmicrosoft.com.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^([a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?\.)+[a-zA-Z]{2,}$`
	Domain string `json:"domain,omitempty"`

	// cloud is the Microsoft cloud the customer's tenant lives in: Public
	// (default) or USGovernment.
	// +optional
	// +kubebuilder:default=Public
	Cloud Cloud `json:"cloud,omitempty"`

	// country is the customer's country as an ISO 3166-1 alpha-2 code, such as US or DE.
	// +required
	// +kubebuilder:validation:MaxLength=2
	// +kubebuilder:validation:Pattern=`^[A-Z]{2}$`
	Country string `json:"country"`

	// cspPartner is true when the customer organisation is itself a CSP partner.
	// A CSP partner cannot resell online services to another CSP partner, so none
	// of its subscriptions is eligible.
	// +optional
	// +kubebuilder:default=false
	CSPPartner bool `json:"cspPartner,omitempty"`
}

// CustomerRelationship summarises one partner's reseller relationship with the customer.
type CustomerRelationship struct {
	// partner is the name of the Partner.
	// +required
	// +kubebuilder:validation:MaxLength=253
	Partner string `json:"partner"`

	// name is the name of the ResellerRelationship.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name,omitempty"`

	// phase is the relationship's phase.
	// +optional
	Phase RelationshipPhase `json:"phase,omitempty"`
}

// CustomerAdminAccess summarises one partner's active GDAP access to the customer's tenant.
type CustomerAdminAccess struct {
	// partner is the name of the Partner.
	// +required
	// +kubebuilder:validation:MaxLength=253
	Partner string `json:"partner"`

	// roles are the Microsoft Entra roles the partner holds through its active
	// DelegatedAdminRelationships, as spec.roles names them.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=64
	Roles []string `json:"roles,omitempty"`

	// endsAt is when the last of those relationships ends.
	// +optional
	EndsAt *metav1.Time `json:"endsAt,omitempty"`
}

// CustomerStatus is what the operator last observed of a Customer.
type CustomerStatus struct {
	// observedGeneration is the spec generation this status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// relationships has one entry per partner with a ResellerRelationship to
	// this customer, with that relationship's phase.
	// +optional
	// +listType=map
	// +listMapKey=partner
	// +kubebuilder:validation:MaxItems=256
	Relationships []CustomerRelationship `json:"relationships,omitempty"`

	// adminAccess has one entry per partner with an active
	// DelegatedAdminRelationship (GDAP) to this customer, with its roles.
	// +optional
	// +listType=map
	// +listMapKey=partner
	// +kubebuilder:validation:MaxItems=256
	AdminAccess []CustomerAdminAccess `json:"adminAccess,omitempty"`

	// conditions: Ready is True when the customer is valid.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=16
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// Customer is an organisation that owns Microsoft subscriptions a partner may
// manage and support.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced,shortName=cust,categories=multichannel
// +kubebuilder:printcolumn:name="Display Name",type=string,JSONPath=`.spec.displayName`
// +kubebuilder:printcolumn:name="Domain",type=string,JSONPath=`.spec.domain`,priority=1
// +kubebuilder:printcolumn:name="Cloud",type=string,JSONPath=`.spec.cloud`
// +kubebuilder:printcolumn:name="Country",type=string,JSONPath=`.spec.country`
// +kubebuilder:printcolumn:name="Admin Access",type=string,JSONPath=`.status.adminAccess[*].partner`,description="Partners with active GDAP admin access to the customer's tenant"
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Customer struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec describes the customer organisation.
	// +required
	Spec CustomerSpec `json:"spec"`

	// status is what the operator last observed.
	// +optional
	Status CustomerStatus `json:"status,omitempty"`
}

// CustomerList is a list of Customers.
// +kubebuilder:object:root=true
type CustomerList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Customer `json:"items"`
}
