package v1alpha1

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// RelationshipPhase is where a reseller relationship request stands.
// +kubebuilder:validation:Enum=Pending;Requested;Approved;Denied;Expired
type RelationshipPhase string

const (
	// RelationshipPending: the request link has not been obtained yet.
	RelationshipPending RelationshipPhase = "Pending"
	// RelationshipRequested: the link exists and waits for the customer.
	RelationshipRequested RelationshipPhase = "Requested"
	// RelationshipApproved: the customer approved; final.
	RelationshipApproved RelationshipPhase = "Approved"
	// RelationshipDenied: the customer declined; final.
	RelationshipDenied RelationshipPhase = "Denied"
	// RelationshipExpired: no decision within spec.expiresAfter; final.
	RelationshipExpired RelationshipPhase = "Expired"
)

// Condition types a person may write on a ResellerRelationship's status to
// record the customer's decision by hand, for a partner without Partner Center
// credentials. Each is write-once, at most one of them may be True, and the
// admission check requires verb approve and status.approval naming the writer.
const (
	ConditionApproved = "Approved"
	ConditionDenied   = "Denied"
)

// ApprovalSource is where an approval decision was observed.
// +kubebuilder:validation:Enum=PartnerCenter;Manual
type ApprovalSource string

const (
	// ApprovalFromPartnerCenter: the customer accepted the request link in Partner Center.
	ApprovalFromPartnerCenter ApprovalSource = "PartnerCenter"
	// ApprovalManual: a person recorded the decision as a condition.
	ApprovalManual ApprovalSource = "Manual"
)

// ApprovalDecision is the customer's answer to a reseller relationship request.
// +kubebuilder:validation:Enum=Approved;Denied
type ApprovalDecision string

const (
	DecisionApproved ApprovalDecision = "Approved"
	DecisionDenied   ApprovalDecision = "Denied"
)

// LabelCreatedBy marks objects the operator created itself, such as the
// ResellerRelationship a CustomerSubscription needs.
const (
	LabelCreatedBy      = "multichannel.partnerops.io/created-by"
	LabelCreatedByValue = "multichannel-operator"
)

// LabelShard assigns an object to the operator replica started with
// --shard=<value>; the objects of one customer share a shard.
const LabelShard = "multichannel.partnerops.io/shard"

// ResellerRelationshipSpec is a partner's request to act as reseller for a customer.
// The spec is immutable: a changed request is a new object.
// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec is immutable: a changed reseller relationship request is a new ResellerRelationship"
type ResellerRelationshipSpec struct {
	// partnerRef is the name of the Partner asking to become the customer's reseller.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	PartnerRef string `json:"partnerRef"`

	// customerRef is the name of the Customer, in the same namespace, that is asked.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	CustomerRef string `json:"customerRef"`

	// delegatedAdmin asks for delegated administration privileges (DAP) along
	// with the reseller relationship. Default false. Since October 2023 a
	// reseller relationship grants no admin rights outside the USGovernment
	// cloud: admin access to support a customer is a GDAP relationship
	// (DelegatedAdminRelationship). Must be true for USGovernment customers.
	// +optional
	// +kubebuilder:default=false
	DelegatedAdmin *bool `json:"delegatedAdmin,omitempty"`

	// expiresAfter is how long the request waits for the customer's decision
	// before it is Expired (a Go duration such as 720h, the default). Partner
	// Center documents no expiry for the request link, so the operator applies this one.
	// +optional
	// +kubebuilder:default="720h"
	ExpiresAfter *metav1.Duration `json:"expiresAfter,omitempty"`
}

// DefaultRequestExpiry is expiresAfter's default (the marker above says it
// to the API server; this says it to the code).
const DefaultRequestExpiry = 720 * time.Hour

// Approval records the customer's decision.
type Approval struct {
	// decision is Approved or Denied.
	// +required
	Decision ApprovalDecision `json:"decision"`

	// by says who recorded the decision: the customer tenant as seen in
	// Partner Center, or the user name of the person who recorded it by hand
	// (the admission check makes it the authenticated user).
	// +optional
	// +kubebuilder:validation:MaxLength=256
	By string `json:"by,omitempty"`

	// at is when the decision was observed.
	// +optional
	At *metav1.Time `json:"at,omitempty"`

	// source is where the decision was observed: PartnerCenter or Manual.
	// +required
	Source ApprovalSource `json:"source"`

	// tenantID is the customer tenant that decided. Consent counts only for
	// that tenant: a Customer whose tenant differs (recreated under the same
	// name) has not consented.
	// +optional
	// +kubebuilder:validation:Pattern=`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`
	// +kubebuilder:validation:MaxLength=36
	TenantID string `json:"tenantID,omitempty"`
}

// ResellerRelationshipStatus is what the operator last observed of the request.
// +kubebuilder:validation:XValidation:rule="!has(self.conditions) || !(self.conditions.exists(c, c.type == 'Approved' && c.status == 'True') && self.conditions.exists(c, c.type == 'Denied' && c.status == 'True'))",message="the Approved and Denied conditions are mutually exclusive: a request is either approved or denied"
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.conditions) || oldSelf.conditions.all(o, !(o.type in ['Approved', 'Denied']) || o.status != 'True' || (has(self.conditions) && self.conditions.exists(c, c.type == o.type && c.status == 'True')))",message="the Approved and Denied conditions are write-once: a recorded decision cannot be changed or removed"
type ResellerRelationshipStatus struct {
	// observedGeneration is the spec generation this status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// phase is where the request stands: Pending, Requested, Approved, Denied or Expired.
	// +optional
	Phase RelationshipPhase `json:"phase,omitempty"`

	// invitationURL is the link the customer's Global admin opens to accept the request.
	// +optional
	// +kubebuilder:validation:MaxLength=4096
	InvitationURL string `json:"invitationURL,omitempty"`

	// requestedAt is when the request link was obtained; expiresAfter counts from here.
	// +optional
	RequestedAt *metav1.Time `json:"requestedAt,omitempty"`

	// approval is the customer's decision, once there is one.
	// +optional
	Approval *Approval `json:"approval,omitempty"`

	// azurePlanSubscriptionID is the Partner Center subscription ID of the
	// one Azure plan this partner holds for this customer: found in
	// Partner Center, or bought once for the first subscription that needed
	// it. Every Azure subscription the partner creates for the customer is
	// created under it.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	AzurePlanSubscriptionID string `json:"azurePlanSubscriptionID,omitempty"`

	// azurePlan records how the Azure plan was found or bought: the
	// purchase is recorded here before it is sent, and sent once.
	// +optional
	AzurePlan *AzurePlanStatus `json:"azurePlan,omitempty"`

	// conditions: Ready, Reconciling, Stalled, and Approved or Denied, which a
	// person may write to record the customer's decision by hand (write-once,
	// mutually exclusive).
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=16
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// AzurePlanSource says how the operator came to know a customer's Azure plan.
// +kubebuilder:validation:Enum=Found;Bought
type AzurePlanSource string

const (
	// AzurePlanFound: Partner Center already listed the plan among the
	// customer's subscriptions with the partner.
	AzurePlanFound AzurePlanSource = "Found"
	// AzurePlanBought: the operator bought the plan.
	AzurePlanBought AzurePlanSource = "Bought"
)

// AzurePlanStatus records the customer's Azure plan with the partner, and
// the purchase that made it, if the operator made one.
type AzurePlanStatus struct {
	// source is Found or Bought.
	// +optional
	Source AzurePlanSource `json:"source,omitempty"`

	// operationID is the purchase's MS-RequestId, recorded before it is sent.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	OperationID string `json:"operationID,omitempty"`

	// attempt counts the purchases recorded: a refused purchase is followed
	// by another, with a new operationID, only for a new request.
	// +optional
	Attempt int32 `json:"attempt,omitempty"`

	// requestedBy is the CustomerSubscription whose authorized switch
	// needed the plan, and its attempt ("name/attempt").
	// +optional
	// +kubebuilder:validation:MaxLength=300
	RequestedBy string `json:"requestedBy,omitempty"`

	// authorizedBy is the decision of that subscription the purchase
	// relies on: who, how and when.
	// +optional
	// +kubebuilder:validation:MaxLength=512
	AuthorizedBy string `json:"authorizedBy,omitempty"`

	// catalogItemID is the availability bought
	// (DZH318Z0BPS6:0001:availabilityId).
	// +optional
	// +kubebuilder:validation:MaxLength=64
	CatalogItemID string `json:"catalogItemID,omitempty"`

	// orderID is the order Partner Center created for the purchase.
	// +optional
	// +kubebuilder:validation:MaxLength=128
	OrderID string `json:"orderID,omitempty"`

	// firstSubscriptionID is the Azure subscription the plan provisioned
	// with it, which the requesting CustomerSubscription takes.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	FirstSubscriptionID string `json:"firstSubscriptionID,omitempty"`

	// recordedAt is when the purchase was recorded, before it was sent.
	// +optional
	RecordedAt *metav1.Time `json:"recordedAt,omitempty"`

	// completedAt is when the plan was found, or bought and its first Azure
	// subscription known, or the purchase refused.
	// +optional
	CompletedAt *metav1.Time `json:"completedAt,omitempty"`

	// refusal is Partner Center's answer when it refused the purchase.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Refusal string `json:"refusal,omitempty"`
}

// ResellerRelationship is a partner's request to become a customer's reseller,
// which only the customer can approve.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced,shortName=rr,categories=multichannel
// +kubebuilder:printcolumn:name="Partner",type=string,JSONPath=`.spec.partnerRef`
// +kubebuilder:printcolumn:name="Customer",type=string,JSONPath=`.spec.customerRef`
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Approved By",type=string,JSONPath=`.status.approval.source`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Invitation",type=string,JSONPath=`.status.invitationURL`,priority=1
// +kubebuilder:printcolumn:name="Azure Plan",type=string,JSONPath=`.status.azurePlanSubscriptionID`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type ResellerRelationship struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the request; immutable once created.
	// +required
	Spec ResellerRelationshipSpec `json:"spec"`

	// status is what the operator last observed.
	// +optional
	Status ResellerRelationshipStatus `json:"status,omitempty"`
}

// ResellerRelationshipList is a list of ResellerRelationships.
// +kubebuilder:object:root=true
type ResellerRelationshipList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ResellerRelationship `json:"items"`
}
