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

	// agreement is the partner's confirmation that the customer accepted the
	// Microsoft Customer Agreement, which Partner Center must hold before
	// anything is bought for the customer. When Partner Center holds no
	// acceptance, the operator posts this confirmation once, through a
	// partner with an approved reseller relationship and App+User
	// credentials. Not used for USGovernment customers.
	// +optional
	Agreement *AgreementConfirmation `json:"agreement,omitempty"`

	// contacts are the customer's people the operator sends what the
	// customer must do (accept the reseller request, approve the GDAP
	// relationship, accept the Microsoft Customer Agreement), and reminders,
	// through the Partner's spec.delivery channel. One message goes to each
	// group of contacts whose roles can do the same things.
	// +optional
	// +listType=map
	// +listMapKey=email
	// +kubebuilder:validation:MaxItems=8
	Contacts []CustomerContact `json:"contacts,omitempty"`
}

// AgreementConfirmation records who at the customer accepted the Microsoft
// Customer Agreement, and when.
type AgreementConfirmation struct {
	// contact is the customer's person who accepted the agreement.
	// +required
	Contact AgreementContact `json:"contact"`

	// dateAgreed is when they accepted it (RFC 3339, such as
	// 2026-11-30T00:00:00Z). It cannot be in the future.
	// +required
	DateAgreed metav1.Time `json:"dateAgreed"`
}

// AgreementContact is the customer's person who accepted the Microsoft
// Customer Agreement, as Partner Center records them.
type AgreementContact struct {
	// firstName is the person's first name.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	FirstName string `json:"firstName"`

	// lastName is the person's last name.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	LastName string `json:"lastName"`

	// email is the person's email address.
	// +required
	// +kubebuilder:validation:MaxLength=254
	// +kubebuilder:validation:Pattern=`^[^@\s]+@[^@\s]+\.[^@\s]+$`
	Email string `json:"email"`

	// phoneNumber is the person's phone number, digits with an optional
	// leading + and spaces, dashes or parentheses.
	// +optional
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:Pattern=`^\+?[0-9][0-9 ()-]{3,31}$`
	PhoneNumber string `json:"phoneNumber,omitempty"`
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

	// agreement is what the operator read of the customer's acceptance of
	// the Microsoft Customer Agreement in Partner Center, and the partner's
	// confirmation it posted, if it did.
	// +optional
	Agreement *CustomerAgreementStatus `json:"agreement,omitempty"`

	// invitations has one entry per partner that asks, or asked, the
	// customer for something: what it asks now, what the operator delivered
	// to the contacts about it, and what the customer accepted.
	// +optional
	// +listType=map
	// +listMapKey=partner
	// +kubebuilder:validation:MaxItems=16
	Invitations []CustomerInvitation `json:"invitations,omitempty"`

	// conditions: Ready is True when the customer is valid;
	// AgreementAccepted says whether Partner Center holds the customer's
	// acceptance of the Microsoft Customer Agreement; Invited whether the
	// contacts were told what the customer must do.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=16
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// CustomerAgreementStatus is the customer's acceptance of the Microsoft
// Customer Agreement as Partner Center holds it, and the confirmation the
// operator posted for it. The confirmation is recorded before it is sent:
// a confirmation is sent under one request ID, at most once for a spec
// generation.
type CustomerAgreementStatus struct {
	// partner is the Partner through which the operator read or confirmed
	// the agreement.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	Partner string `json:"partner,omitempty"`

	// dateAgreed is when the customer accepted the agreement, as Partner
	// Center holds it.
	// +optional
	DateAgreed *metav1.Time `json:"dateAgreed,omitempty"`

	// contactEmail is the email of the customer's person who accepted it,
	// as Partner Center holds it.
	// +optional
	// +kubebuilder:validation:MaxLength=254
	ContactEmail string `json:"contactEmail,omitempty"`

	// requestID is the MS-RequestId of the partner's confirmation, recorded
	// before it is sent.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	RequestID string `json:"requestID,omitempty"`

	// generation is the spec generation whose spec.agreement the
	// confirmation sends.
	// +optional
	Generation int64 `json:"generation,omitempty"`

	// recordedAt is when the confirmation was recorded, before it was sent.
	// +optional
	RecordedAt *metav1.Time `json:"recordedAt,omitempty"`

	// confirmedAt is when Partner Center accepted the confirmation.
	// +optional
	ConfirmedAt *metav1.Time `json:"confirmedAt,omitempty"`

	// refusal is Partner Center's answer when it refused the confirmation;
	// it is not sent again until spec.agreement changes.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Refusal string `json:"refusal,omitempty"`
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
// +kubebuilder:printcolumn:name="Agreement",type=string,JSONPath=`.status.conditions[?(@.type=="AgreementAccepted")].reason`,description="Whether Partner Center holds the customer's acceptance of the Microsoft Customer Agreement"
// +kubebuilder:printcolumn:name="Invited",type=string,JSONPath=`.status.conditions[?(@.type=="Invited")].reason`,description="Whether the customer's contacts were told what the customer must do"
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
