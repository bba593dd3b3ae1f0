package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ChannelType is where a subscription was bought.
// +kubebuilder:validation:Enum=Direct;Advisor;Open;EnterpriseAgreement;ThirdParty;CSP;Syndication
// +kubebuilder:validation:MaxLength=32
type ChannelType string

const (
	// ChannelDirect: bought directly from Microsoft.
	ChannelDirect ChannelType = "Direct"
	// ChannelAdvisor: bought through the Advisor program.
	ChannelAdvisor ChannelType = "Advisor"
	// ChannelOpen: bought through the Open program.
	ChannelOpen ChannelType = "Open"
	// ChannelEnterpriseAgreement: bought through an Enterprise Agreement.
	ChannelEnterpriseAgreement ChannelType = "EnterpriseAgreement"
	// ChannelThirdParty: bought from a reseller in neither the CSP program nor Microsoft Syndication.
	ChannelThirdParty ChannelType = "ThirdParty"
	// ChannelCSP: bought from another CSP partner.
	ChannelCSP ChannelType = "CSP"
	// ChannelSyndication: bought from a Microsoft Syndication partner.
	ChannelSyndication ChannelType = "Syndication"
)

// ServiceType says whether a service is sold by seat or by consumption.
// +kubebuilder:validation:Enum=LicenseBased;UsageBased
// +kubebuilder:validation:MaxLength=32
type ServiceType string

const (
	// ServiceLicenseBased: seats, such as Microsoft 365 or Dynamics 365.
	ServiceLicenseBased ServiceType = "LicenseBased"
	// ServiceUsageBased: consumption, such as Azure.
	ServiceUsageBased ServiceType = "UsageBased"
)

// Commerce is the commerce platform a subscription was sold on.
// +kubebuilder:validation:Enum=Legacy;NewCommerce
type Commerce string

const (
	// CommerceLegacy: the classic platform.
	CommerceLegacy Commerce = "Legacy"
	// CommerceNewCommerce: new commerce, where license subscriptions may move
	// between CSP partners mid-term when both partners approve.
	CommerceNewCommerce Commerce = "NewCommerce"
)

// SubscriptionState is the state of a subscription in its source channel.
// +kubebuilder:validation:Enum=Active;Suspended;Cancelled;Expired
type SubscriptionState string

const (
	SubscriptionActive    SubscriptionState = "Active"
	SubscriptionSuspended SubscriptionState = "Suspended"
	SubscriptionCancelled SubscriptionState = "Cancelled"
	SubscriptionExpired   SubscriptionState = "Expired"
)

// SourceDisposition is what happens to an Azure subscription in its source
// channel once the partner's Azure plan exists.
// +kubebuilder:validation:Enum=Coexist;CancelServices;CancelSubscription
type SourceDisposition string

const (
	// SourceCoexist: Azure CSP coexists with the source channel; nothing is cancelled.
	SourceCoexist SourceDisposition = "Coexist"
	// SourceCancelServices: the services listed in azure.services are cancelled at the source.
	SourceCancelServices SourceDisposition = "CancelServices"
	// SourceCancelSubscription: the whole source subscription is cancelled.
	SourceCancelSubscription SourceDisposition = "CancelSubscription"
)

// SwitchPath is how a partner can take a subscription on.
// +kubebuilder:validation:Enum=None;ResellerRelationship;NewAzureSubscription;PartnerSwitch;NewLicenseSubscription;WaitForTermEnd
type SwitchPath string

const (
	// PathNone: nothing to do, either because the subscription is ineligible or already managed.
	PathNone SwitchPath = "None"
	// PathResellerRelationship: an approved reseller relationship is enough.
	PathResellerRelationship SwitchPath = "ResellerRelationship"
	// PathNewAzureSubscription: an Azure plan is created with the partner.
	PathNewAzureSubscription SwitchPath = "NewAzureSubscription"
	// PathPartnerSwitch: the subscription is transferred from its CSP partner.
	PathPartnerSwitch SwitchPath = "PartnerSwitch"
	// PathNewLicenseSubscription: the same offer and quantity is bought with the partner.
	PathNewLicenseSubscription SwitchPath = "NewLicenseSubscription"
	// PathWaitForTermEnd: nothing can happen before the source term ends.
	PathWaitForTermEnd SwitchPath = "WaitForTermEnd"
)

// EligibilityReason is the stable code of the eligibility rule that decided.
// +kubebuilder:validation:Enum=SubscriptionExpired;CustomerIsCSPPartner;SyndicationChannel;TargetNotCSP;ResellerWithoutProvider;CloudMismatch;RegionMismatch;AlreadyManaged;SourceCancelled;SourceExpired;SubscriptionSuspended;AzurePartnerSwitch;NewCommerceTransfer;SourceRenews;SourceTermEnded;LicenseTermActive;MultichannelLicense;MultichannelAzure
type EligibilityReason string

// The reasons of the decision table, in rule order.
const (
	ReasonSubscriptionExpired     EligibilityReason = "SubscriptionExpired"
	ReasonCustomerIsCSPPartner    EligibilityReason = "CustomerIsCSPPartner"
	ReasonSyndicationChannel      EligibilityReason = "SyndicationChannel"
	ReasonTargetNotCSP            EligibilityReason = "TargetNotCSP"
	ReasonResellerWithoutProvider EligibilityReason = "ResellerWithoutProvider"
	ReasonCloudMismatch           EligibilityReason = "CloudMismatch"
	ReasonRegionMismatch          EligibilityReason = "RegionMismatch"
	ReasonAlreadyManaged          EligibilityReason = "AlreadyManaged"
	ReasonSourceCancelled         EligibilityReason = "SourceCancelled"
	ReasonSourceExpired           EligibilityReason = "SourceExpired"
	ReasonSubscriptionSuspended   EligibilityReason = "SubscriptionSuspended"
	ReasonAzurePartnerSwitch      EligibilityReason = "AzurePartnerSwitch"
	ReasonNewCommerceTransfer     EligibilityReason = "NewCommerceTransfer"
	ReasonSourceRenews            EligibilityReason = "SourceRenews"
	ReasonSourceTermEnded         EligibilityReason = "SourceTermEnded"
	ReasonLicenseTermActive       EligibilityReason = "LicenseTermActive"
	ReasonMultichannelLicense     EligibilityReason = "MultichannelLicense"
	ReasonMultichannelAzure       EligibilityReason = "MultichannelAzure"
)

// SubscriptionPhase is where a subscription is in the request, approval and switch workflow.
// +kubebuilder:validation:Enum=Pending;Evaluated;Ineligible;Scheduled;AwaitingApproval;Switching;Completed;Failed
// +kubebuilder:validation:MaxLength=32
type SubscriptionPhase string

const (
	// PhasePending: not evaluated yet.
	PhasePending SubscriptionPhase = "Pending"
	// PhaseEvaluated: no support partner is named; eligibility is reported only.
	PhaseEvaluated SubscriptionPhase = "Evaluated"
	// PhaseIneligible: the support partner cannot take the subscription on.
	PhaseIneligible SubscriptionPhase = "Ineligible"
	// PhaseScheduled: waiting until status.eligibility.notBefore.
	PhaseScheduled SubscriptionPhase = "Scheduled"
	// PhaseAwaitingApproval: waiting for the customer to approve the reseller relationship.
	PhaseAwaitingApproval SubscriptionPhase = "AwaitingApproval"
	// PhaseSwitching: the switch step is under way in Partner Center.
	PhaseSwitching SubscriptionPhase = "Switching"
	// PhaseCompleted: the support partner manages and supports the subscription.
	PhaseCompleted SubscriptionPhase = "Completed"
	// PhaseFailed: a terminal error; see the Stalled condition.
	PhaseFailed SubscriptionPhase = "Failed"
)

// Condition types of a CustomerSubscription, besides Ready, Reconciling and Stalled.
const (
	ConditionEligible = "Eligible"
	// ConditionRelationshipApproved is the customer's gate: True once the
	// customer accepted the support partner as reseller.
	ConditionRelationshipApproved = "RelationshipApproved"
	// ConditionAuthorized is the partner's own gate: True once an
	// ApprovalPolicy or a person with verb approve authorized the current
	// generation of the spec.
	ConditionAuthorized = "Authorized"
	ConditionSwitched   = "Switched"
)

// Reasons of a CustomerSubscription's Authorized condition, and of Ready and
// Stalled while authorization blocks it.
const (
	// ReasonAuthorizationNotRequired: the path buys and transfers nothing.
	ReasonAuthorizationNotRequired = "NotRequired"
	// ReasonAuthorizedByPolicy: an ApprovalPolicy in the namespace matched.
	ReasonAuthorizedByPolicy = "AuthorizedByPolicy"
	// ReasonAuthorizedByPerson: a person with verb approve authorized it.
	ReasonAuthorizedByPerson = "AuthorizedByPerson"
	// ReasonAwaitingAuthorization: no policy matches and nobody decided yet.
	ReasonAwaitingAuthorization = "AwaitingAuthorization"
	// ReasonAuthorizationDenied: a person denied it; the subscription stops.
	ReasonAuthorizationDenied = "AuthorizationDenied"
)

// AuthorizationDecision is the partner's answer to whether the operator may act.
// +kubebuilder:validation:Enum=Authorized;Denied
type AuthorizationDecision string

const (
	DecisionAuthorized          AuthorizationDecision = "Authorized"
	DecisionAuthorizationDenied AuthorizationDecision = "Denied"
)

// AuthorizationSource is who gave an authorization decision.
// +kubebuilder:validation:Enum=Policy;Manual
type AuthorizationSource string

const (
	// AuthorizationFromPolicy: an ApprovalPolicy matched; the operator recorded it.
	AuthorizationFromPolicy AuthorizationSource = "Policy"
	// AuthorizationManual: a person with verb approve decided.
	AuthorizationManual AuthorizationSource = "Manual"
)

// Authorization is the partner's own decision that the operator may buy,
// transfer or cancel the source on exactly the terms it names. A person's
// decision passes an admission check: the user needs verb approve on the
// subscription, by must be that user, its terms must be the ones
// status.terms shows, and a decision is final for its terms (a person may
// lift a person's denial).
type Authorization struct {
	// decision is Authorized or Denied.
	// +required
	Decision AuthorizationDecision `json:"decision"`

	// by is who decided: the user name the API server authenticated (for a
	// person), or "ApprovalPolicy <name>" (for a policy).
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=320
	By string `json:"by"`

	// at is when the decision was made.
	// +optional
	At *metav1.Time `json:"at,omitempty"`

	// source is Policy or Manual (a person).
	// +required
	Source AuthorizationSource `json:"source"`

	// generation is the metadata.generation of the spec the decision was
	// made on. It records what was looked at; what the decision covers is
	// terms.
	// +required
	// +kubebuilder:validation:Minimum=1
	Generation int64 `json:"generation"`

	// terms are what the decision authorizes (or refuses): the operator sends
	// a purchase or transfer only on terms an Authorized decision names, and
	// a change of what is bought asks again, while recording a fact about
	// the source does not. A person's decision copies status.terms.
	// +optional
	Terms *Terms `json:"terms,omitempty"`

	// reason says why, in the approver's words, or which policy rule matched.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Reason string `json:"reason,omitempty"`
}

// Terms are exactly what an operation sends to Partner Center: for whom,
// through which partner, and what is bought or transferred. An authorization
// binds to them and an operation records them before anything is sent.
type Terms struct {
	// path is the switch path the operation takes.
	// +required
	Path SwitchPath `json:"path"`

	// customer is the name of the Customer, in the subscription's namespace.
	// +required
	// +kubebuilder:validation:MaxLength=253
	Customer string `json:"customer"`

	// customerTenantID is the customer's Microsoft Entra tenant the
	// operation acts in.
	// +required
	// +kubebuilder:validation:MaxLength=36
	CustomerTenantID string `json:"customerTenantID"`

	// partner is the name of the support Partner that buys or asks for the transfer.
	// +required
	// +kubebuilder:validation:MaxLength=253
	Partner string `json:"partner"`

	// partnerTenantID is that partner's tenant, whose credentials and
	// request budget the operation uses.
	// +required
	// +kubebuilder:validation:MaxLength=36
	PartnerTenantID string `json:"partnerTenantID"`

	// sourcePartnerTenantID is the tenant of the CSP partner a transfer moves
	// the subscription from.
	// +optional
	// +kubebuilder:validation:MaxLength=36
	SourcePartnerTenantID string `json:"sourcePartnerTenantID,omitempty"`

	// subscriptionID is the source subscription a transfer moves.
	// +optional
	// +kubebuilder:validation:MaxLength=128
	SubscriptionID string `json:"subscriptionID,omitempty"`

	// offerID is what is bought or transferred, as sent to Partner Center.
	// +required
	// +kubebuilder:validation:MaxLength=256
	OfferID string `json:"offerID"`

	// quantity is how many licenses are bought or transferred (1 for Azure).
	// +required
	// +kubebuilder:validation:Minimum=1
	Quantity int32 `json:"quantity"`

	// termDuration is the term bought, in Partner Center's words (P1M, P1Y, P3Y).
	// +optional
	// +kubebuilder:validation:MaxLength=8
	TermDuration string `json:"termDuration,omitempty"`

	// billingCycle is the billing cycle bought, in Partner Center's words.
	// +optional
	// +kubebuilder:validation:MaxLength=32
	BillingCycle string `json:"billingCycle,omitempty"`

	// sourceDisposition is what happens to an Azure source subscription.
	// +optional
	SourceDisposition SourceDisposition `json:"sourceDisposition,omitempty"`

	// azurePlanIfNone is true when the customer's Azure plan with the
	// partner is bought first if the partner holds none (an Azure transfer
	// needs it); a decision on these terms authorizes that purchase too.
	// +optional
	AzurePlanIfNone bool `json:"azurePlanIfNone,omitempty"`
}

// AnnotationRetry set to a new value on a Failed subscription starts the
// next attempt of its switch step, as a spec change does.
const AnnotationRetry = "multichannel.partnerops.io/retry"

// OperationType is the kind of Partner Center operation a subscription's switch step runs.
// +kubebuilder:validation:Enum=CreateAzurePlan;CreateAzureSubscription;CreateLicenseSubscription;CreateTransfer
type OperationType string

const (
	// OperationCreateAzurePlan: the subscription took the Azure
	// subscription its customer's Azure plan came with, bought for it.
	OperationCreateAzurePlan OperationType = "CreateAzurePlan"
	// OperationCreateAzureSubscription: an Azure subscription created under
	// the customer's Azure plan through Azure Resource Manager; the
	// operation's ID is the subscription alias.
	OperationCreateAzureSubscription   OperationType = "CreateAzureSubscription"
	OperationCreateLicenseSubscription OperationType = "CreateLicenseSubscription"
	OperationCreateTransfer            OperationType = "CreateTransfer"
)

// Offer identifies what was bought.
type Offer struct {
	// id is the offer's identifier in the source channel or Partner Center catalog,
	// such as a product/SKU ID.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	ID string `json:"id"`

	// displayName is the offer's name as people know it, such as "Microsoft 365 E3".
	// +optional
	// +kubebuilder:validation:MaxLength=256
	DisplayName string `json:"displayName,omitempty"`
}

// Channel says where a subscription was bought.
// +kubebuilder:validation:XValidation:rule="self.type == 'CSP' ? has(self.partnerRef) : !has(self.partnerRef)",message="partnerRef names the CSP partner the subscription was bought from: it is required when type is CSP and not allowed for any other channel",fieldPath=".partnerRef"
type Channel struct {
	// type is where the subscription was bought: Direct (from Microsoft),
	// Advisor, Open, EnterpriseAgreement, ThirdParty (a reseller in neither the
	// CSP program nor Microsoft Syndication), CSP (another CSP partner), or
	// Syndication (a Microsoft Syndication partner).
	// +required
	Type ChannelType `json:"type"`

	// partnerRef is the name of the Partner the subscription was bought from.
	// Required exactly when type is CSP.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	PartnerRef string `json:"partnerRef,omitempty"`

	// agreementNumber is the agreement the subscription was bought under, such as
	// an Enterprise Agreement enrollment number.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	AgreementNumber string `json:"agreementNumber,omitempty"`
}

// Term is a subscription's commitment term.
// +kubebuilder:validation:XValidation:rule="!has(self.startDate) || !has(self.endDate) || self.endDate > self.startDate",message="endDate must be after startDate",fieldPath=".endDate"
type Term struct {
	// startDate is when the term began (RFC 3339, such as 2026-01-01T00:00:00Z).
	// +optional
	StartDate *metav1.Time `json:"startDate,omitempty"`

	// endDate is when the term ends (RFC 3339). Required for LicenseBased
	// subscriptions: a license bought from another CSP partner cannot move before it.
	// +optional
	EndDate *metav1.Time `json:"endDate,omitempty"`

	// autoRenew is true when the term renews by itself at endDate.
	// +optional
	AutoRenew bool `json:"autoRenew,omitempty"`
}

// TermDuration is the commitment term of what a partner buys (ISO 8601).
// +kubebuilder:validation:Enum=P1M;P1Y;P3Y
type TermDuration string

const (
	TermOneMonth   TermDuration = "P1M"
	TermOneYear    TermDuration = "P1Y"
	TermThreeYears TermDuration = "P3Y"
)

// BillingCycle is how often what a partner buys is billed.
// +kubebuilder:validation:Enum=Monthly;Annual;Triennial
type BillingCycle string

const (
	BillingMonthly   BillingCycle = "Monthly"
	BillingAnnual    BillingCycle = "Annual"
	BillingTriennial BillingCycle = "Triennial"
)

// Purchase says what the support partner buys on the NewLicenseSubscription
// path. Partner Center bills a P1M term monthly, a P1Y term monthly or
// annually, and a P3Y term monthly, annually or triennially.
// +kubebuilder:validation:XValidation:rule="self.billingCycle != 'Triennial' || self.termDuration == 'P3Y'",message="billingCycle Triennial needs termDuration P3Y",fieldPath=".billingCycle"
// +kubebuilder:validation:XValidation:rule="self.billingCycle != 'Annual' || self.termDuration != 'P1M'",message="a P1M term is billed Monthly, not Annual",fieldPath=".billingCycle"
type Purchase struct {
	// offerID is the new-commerce product and SKU to buy, as Partner
	// Center's catalog lists them ("CFQ7TTC0LFLX:0001", productId:skuId),
	// when the source's offer (spec.offer.id) is a legacy offer or one the
	// catalog no longer sells. Absent: spec.offer.id is bought. The
	// operator buys the availability the catalog sells the customer for
	// this SKU, term and billing cycle.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:Pattern=`^[A-Z0-9]{12}:[0-9A-Z]{4}$`
	OfferID string `json:"offerID,omitempty"`

	// termDuration is the commitment term bought: P1M, P1Y (default) or P3Y.
	// +optional
	// +kubebuilder:default=P1Y
	TermDuration TermDuration `json:"termDuration,omitempty"`

	// billingCycle is how the purchase is billed: Monthly (default), Annual
	// or Triennial.
	// +optional
	// +kubebuilder:default=Monthly
	BillingCycle BillingCycle `json:"billingCycle,omitempty"`
}

// AzureSource says what happens to a usage-based subscription at its source.
// +kubebuilder:validation:XValidation:rule="self.sourceDisposition == 'CancelServices' ? has(self.services) && size(self.services) > 0 : !has(self.services)",message="services lists what is cancelled at the source: it is required when sourceDisposition is CancelServices and not allowed otherwise",fieldPath=".services"
type AzureSource struct {
	// sourceDisposition is what happens at the source once the partner's Azure
	// plan exists: Coexist (default: Azure CSP coexists with other channels),
	// CancelServices (the services listed in services are cancelled), or
	// CancelSubscription (the whole source subscription is cancelled). Cancelling
	// an EA or direct subscription happens outside Partner Center: the operator
	// waits until spec.state is Cancelled.
	// +optional
	// +kubebuilder:default=Coexist
	SourceDisposition SourceDisposition `json:"sourceDisposition,omitempty"`

	// services names the Azure services cancelled at the source. Required exactly
	// when sourceDisposition is CancelServices.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=256
	Services []string `json:"services,omitempty"`
}

// CustomerSubscriptionSpec describes a subscription a customer owns.
// +kubebuilder:validation:XValidation:rule="self.serviceType != 'LicenseBased' || (has(self.term) && has(self.term.endDate))",message="term.endDate is required for LicenseBased subscriptions",fieldPath=".term"
// +kubebuilder:validation:XValidation:rule="self.serviceType == 'LicenseBased' ? has(self.quantity) : !has(self.quantity)",message="quantity is the number of licenses: it is required for LicenseBased subscriptions and not allowed for UsageBased ones",fieldPath=".quantity"
// +kubebuilder:validation:XValidation:rule="self.serviceType == 'UsageBased' || !has(self.azure)",message="azure applies only to UsageBased subscriptions",fieldPath=".azure"
// +kubebuilder:validation:XValidation:rule="!has(self.transferID) || self.channel.type == 'CSP'",message="transferID names a transfer from another CSP partner: channel.type must be CSP",fieldPath=".transferID"
type CustomerSubscriptionSpec struct {
	// customerRef is the name of the Customer, in the same namespace, that owns the subscription.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	CustomerRef string `json:"customerRef"`

	// subscriptionID is the subscription's identifier in its source channel.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	SubscriptionID string `json:"subscriptionID"`

	// offer is what was bought.
	// +required
	Offer Offer `json:"offer"`

	// serviceType is LicenseBased (seats: Microsoft 365, Dynamics 365) or
	// UsageBased (Azure).
	// +required
	ServiceType ServiceType `json:"serviceType"`

	// quantity is the number of licenses: required for LicenseBased, not allowed
	// for UsageBased. A new license subscription is bought with this quantity.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1000000
	Quantity *int32 `json:"quantity,omitempty"`

	// commerce is the platform the subscription was sold on: Legacy (default) or
	// NewCommerce, where license subscriptions may move between CSP partners
	// mid-term when both partners approve.
	// +optional
	// +kubebuilder:default=Legacy
	Commerce Commerce `json:"commerce,omitempty"`

	// channel is where the subscription was bought.
	// +required
	Channel Channel `json:"channel"`

	// term is the subscription's commitment term. endDate is required for LicenseBased.
	// +optional
	Term *Term `json:"term,omitempty"`

	// state is the subscription's state in its source channel: Active (default),
	// Suspended, Cancelled or Expired. Set it to Cancelled once the source
	// subscription is cancelled; the operator cannot see outside Partner Center.
	// +optional
	// +kubebuilder:default=Active
	State SubscriptionState `json:"state,omitempty"`

	// supportPartnerRef is the name of the Partner that should manage and support
	// the subscription. When absent the operator only evaluates eligibility for a
	// generic CSP partner and changes nothing.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	SupportPartnerRef string `json:"supportPartnerRef,omitempty"`

	// azure says what happens at the source of a UsageBased subscription. UsageBased only.
	// +optional
	Azure *AzureSource `json:"azure,omitempty"`

	// purchase says what the support partner buys on the NewLicenseSubscription
	// path: termDuration (default P1Y) and billingCycle (default Monthly).
	// Absent, those defaults apply. Ignored on the other paths: a transfer
	// keeps the subscription's own term, an Azure plan has none.
	// +optional
	Purchase *Purchase `json:"purchase,omitempty"`

	// transferID names a transfer already under way in Partner Center, created
	// outside the operator (in Partner Center's UI, or before the operator
	// managed this subscription), that moves this subscription to the support
	// partner. On the TransferSubscription path the operator follows that
	// transfer instead of creating one: it sends nothing, and shows the
	// transfer's progress as if it had sent it. kubectl multichannel import
	// writes it. Only for subscriptions bought from a CSP partner.
	// +optional
	// +kubebuilder:validation:Pattern=`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`
	TransferID string `json:"transferID,omitempty"`
}

// Eligibility is the result of the multichannel decision table for a subscription.
type Eligibility struct {
	// eligible is true when the support partner can take the subscription on now.
	// +required
	Eligible bool `json:"eligible"`

	// path is how the support partner takes the subscription on.
	// +required
	Path SwitchPath `json:"path"`

	// reason is the stable code of the rule that decided.
	// +required
	Reason EligibilityReason `json:"reason"`

	// message says, in one sentence, what is blocked and what would unblock it.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Message string `json:"message,omitempty"`

	// notBefore is the earliest time the path can proceed (WaitForTermEnd).
	// +optional
	NotBefore *metav1.Time `json:"notBefore,omitempty"`

	// notAfter is the deadline of the path: for an expired license
	// (SourceExpired), the end of the 30 days its users keep access, after
	// which nothing can be bought without loss.
	// +optional
	NotAfter *metav1.Time `json:"notAfter,omitempty"`
}

// Operation records a Partner Center call that creates something, written
// before the call so that it happens exactly once across crashes and retries.
type Operation struct {
	// id is the operation's deterministic identifier, sent as the MS-RequestId
	// header (Partner Center's idempotency key).
	// +required
	// +kubebuilder:validation:MaxLength=64
	ID string `json:"id"`

	// type is what the operation creates.
	// +required
	Type OperationType `json:"type"`

	// attempt counts the tries of the switch step: 1 for the first; a spec
	// change or the multichannel.partnerops.io/retry annotation after a failure
	// starts the next, with a new id.
	// +optional
	// +kubebuilder:validation:Minimum=1
	Attempt int32 `json:"attempt,omitempty"`

	// startedAt is when the operation was first recorded.
	// +optional
	StartedAt *metav1.Time `json:"startedAt,omitempty"`

	// completedAt is when the operation ended: Partner Center completed it,
	// refused it, or (with no externalID) the operator abandoned it, having
	// created nothing, because the subscription's path changed.
	// +optional
	CompletedAt *metav1.Time `json:"completedAt,omitempty"`

	// cart identifies the cart a purchase is bought in: the MS-RequestIds of
	// its creation and its checkout are derived from it (name-based UUIDs of
	// "<cart>/cart" and "<cart>/checkout"). The purchases of one customer from one partner that
	// are ready together share a cart, so one cart and one checkout buy them
	// all; each recorded the cart before it was sent, and finds its own line
	// item in the checkout by its friendly name, "<offer> (<subscription
	// name>)". A purchase recorded after its cart was sent is not in it,
	// bought nothing, and records another cart. Empty for every operation
	// but a license purchase.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	Cart string `json:"cart,omitempty"`

	// catalogItemID is the catalog availability a purchase buys
	// (productId:skuId:availabilityId), read from Partner Center's catalog
	// for the customer when the operation is recorded.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	CatalogItemID string `json:"catalogItemID,omitempty"`

	// externalID is what Partner Center created: an order or transfer ID.
	// +optional
	// +kubebuilder:validation:MaxLength=128
	ExternalID string `json:"externalID,omitempty"`

	// terms are what the operation sends, recorded with it before anything
	// is sent. It is sent only while an Authorized decision names these
	// terms and the spec still asks for them; otherwise it is abandoned
	// unsent.
	// +optional
	Terms *Terms `json:"terms,omitempty"`

	// authorizedBy is the decision the operation relies on: who, how and
	// when ("ana@contoso.example (Manual) at 2026-11-24T12:00:00Z").
	// +optional
	// +kubebuilder:validation:MaxLength=512
	AuthorizedBy string `json:"authorizedBy,omitempty"`

	// refusal is Partner Center's answer when it refused the operation's last
	// send, such as "HTTP 403: ...": nothing was created. An operation without
	// externalID or refusal may have created something (its answer was lost),
	// so it is sent again with the same id before anything else happens.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Refusal string `json:"refusal,omitempty"`

	// adopted says the operation was created outside the operator (the transfer
	// spec.transferID names); the operator sent nothing and follows it.
	// +optional
	Adopted bool `json:"adopted,omitempty"`
}

// OutsideChange is a change made in Partner Center outside the operator.
type OutsideChange struct {
	// change is what changed, as the activity log reports it: such as
	// SubscriptionSuspended, SubscriptionCancelled, SubscriptionQuantity.
	// +required
	// +kubebuilder:validation:MaxLength=64
	Change string `json:"change"`

	// at is when Partner Center made it.
	// +required
	At metav1.Time `json:"at"`

	// by is who made it: the user the record names, else its application.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	By string `json:"by,omitempty"`
}

// CustomerSubscriptionStatus is what the operator last decided and observed.
type CustomerSubscriptionStatus struct {
	// observedGeneration is the spec generation this status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// phase is where the subscription is in the request, approval and switch workflow.
	// +optional
	Phase SubscriptionPhase `json:"phase,omitempty"`

	// eligibility is the result of the decision table.
	// +optional
	Eligibility *Eligibility `json:"eligibility,omitempty"`

	// relationshipRef is the name of the ResellerRelationship this subscription waits on.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	RelationshipRef string `json:"relationshipRef,omitempty"`

	// terms are what the operator would send for the current spec on a path
	// that buys or transfers: what a decision authorizes. kubectl
	// multichannel approve copies them into authorization.terms.
	// +optional
	Terms *Terms `json:"terms,omitempty"`

	// authorization is the partner's own decision that the operator may act
	// (buy, transfer, cancel the source) on the terms it names.
	// +optional
	Authorization *Authorization `json:"authorization,omitempty"`

	// operation is the Partner Center operation of the switch step.
	// +optional
	Operation *Operation `json:"operation,omitempty"`

	// previousOperations are the operations of earlier, failed attempts,
	// newest last (at most 5).
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=5
	PreviousOperations []Operation `json:"previousOperations,omitempty"`

	// lastOutsideChange is the latest change to the subscription in Partner
	// Center that the operator did not make, as the partner's activity log
	// reported it (such as a suspension or a quantity changed in Partner
	// Center's UI); an Event ChangedInPartnerCenter says the same.
	// +optional
	LastOutsideChange *OutsideChange `json:"lastOutsideChange,omitempty"`

	// retryRequest is the value of the multichannel.partnerops.io/retry
	// annotation the current attempt answered.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	RetryRequest string `json:"retryRequest,omitempty"`

	// targetSubscriptionID is the subscription's ID with the support partner.
	// +optional
	// +kubebuilder:validation:MaxLength=128
	TargetSubscriptionID string `json:"targetSubscriptionID,omitempty"`

	// cancellableUntil is the end of Partner Center's cancellation window of
	// the new-commerce subscription the operator bought (its
	// cancellationAllowedUntilDate: seven days after purchase). Until then
	// a person with verb approve may cancel it with a refund: kubectl
	// multichannel cancel. Absent when Partner Center allows no cancellation.
	// +optional
	CancellableUntil *metav1.Time `json:"cancellableUntil,omitempty"`

	// cancellation is a person's request to cancel the purchase within its
	// window (by, at, reason, subscriptionID, written by kubectl
	// multichannel cancel) and what came of it (completedAt and refund, or
	// refusal, written by the operator). It is final.
	// +optional
	Cancellation *Cancellation `json:"cancellation,omitempty"`

	// conditions: Eligible, RelationshipApproved, Authorized, Switched, Ready, and the kstatus
	// pair Reconciling and Stalled (present only while abnormal).
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=16
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// Cancellation is a person's cancellation of what the operator bought,
// within Partner Center's cancellation window, and its outcome.
type Cancellation struct {
	// by is the user who asked, as the API server authenticated them.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	By string `json:"by"`

	// at is when they asked.
	// +required
	At metav1.Time `json:"at"`

	// reason says why, in their words.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	Reason string `json:"reason"`

	// subscriptionID is the Partner Center subscription to cancel: the
	// status.targetSubscriptionID the person saw.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	SubscriptionID string `json:"subscriptionID"`

	// completedAt is when Partner Center cancelled it.
	// +optional
	CompletedAt *metav1.Time `json:"completedAt,omitempty"`

	// refund is the refund Partner Center reported with the cancellation,
	// such as "Full (until 2026-12-10T09:00:00Z)".
	// +optional
	// +kubebuilder:validation:MaxLength=256
	Refund string `json:"refund,omitempty"`

	// refusal says why it was not cancelled: the window had closed, or
	// Partner Center's words.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Refusal string `json:"refusal,omitempty"`
}

// CustomerSubscription is a Microsoft subscription a customer owns, bought in
// some channel, and the partner that should manage and support it.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced,shortName=csub,categories=multichannel
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.status) || !has(oldSelf.status.phase) || oldSelf.status.phase != 'Switching' || (has(self.spec.supportPartnerRef) == has(oldSelf.spec.supportPartnerRef) && (!has(self.spec.supportPartnerRef) || self.spec.supportPartnerRef == oldSelf.spec.supportPartnerRef) && self.spec.channel == oldSelf.spec.channel && self.spec.serviceType == oldSelf.spec.serviceType && self.spec.offer == oldSelf.spec.offer && has(self.spec.purchase) == has(oldSelf.spec.purchase) && (!has(self.spec.purchase) || self.spec.purchase == oldSelf.spec.purchase) && has(self.spec.quantity) == has(oldSelf.spec.quantity) && (!has(self.spec.quantity) || self.spec.quantity == oldSelf.spec.quantity) && self.spec.customerRef == oldSelf.spec.customerRef && self.spec.subscriptionID == oldSelf.spec.subscriptionID && has(self.spec.azure) == has(oldSelf.spec.azure) && (!has(self.spec.azure) || self.spec.azure == oldSelf.spec.azure))",message="spec.supportPartnerRef, customerRef, subscriptionID, channel, serviceType, offer, quantity, purchase and azure cannot change while the subscription is Switching: the operation in status.operation is in flight with Partner Center and is followed with these values. Change them once it has ended (Completed or Failed): that starts the next attempt. To abandon it, delete the subscription (what Partner Center created stays) and declare a new one.",fieldPath=".spec"
// +kubebuilder:printcolumn:name="Customer",type=string,JSONPath=`.spec.customerRef`
// +kubebuilder:printcolumn:name="Channel",type=string,JSONPath=`.spec.channel.type`
// +kubebuilder:printcolumn:name="Type",type=string,JSONPath=`.spec.serviceType`,priority=1
// +kubebuilder:printcolumn:name="Target",type=string,JSONPath=`.spec.supportPartnerRef`
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Path",type=string,JSONPath=`.status.eligibility.path`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.eligibility.reason`
// +kubebuilder:printcolumn:name="Authorized",type=string,JSONPath=`.status.conditions[?(@.type=="Authorized")].status`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Authorized By",type=string,JSONPath=`.status.authorization.by`,priority=1
// +kubebuilder:printcolumn:name="Cancellable Until",type=string,JSONPath=`.status.cancellableUntil`,priority=1
// +kubebuilder:printcolumn:name="Message",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].message`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type CustomerSubscription struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec describes the subscription and who should support it.
	// +required
	Spec CustomerSubscriptionSpec `json:"spec"`

	// status is what the operator last decided and observed.
	// +optional
	Status CustomerSubscriptionStatus `json:"status,omitempty"`
}

// CustomerSubscriptionList is a list of CustomerSubscriptions.
// +kubebuilder:object:root=true
type CustomerSubscriptionList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []CustomerSubscription `json:"items"`
}
