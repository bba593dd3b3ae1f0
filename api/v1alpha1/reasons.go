package v1alpha1

// Reasons of the operator's conditions, by the kind that reports them. They
// are public API: alerts, dashboards and scripts match on them.

// ReasonInvalidSelector: spec.partnerSelector cannot be parsed.
const ReasonInvalidSelector = "InvalidSelector"

// ReasonReconcileError: a pass failed before it decided anything (every
// kind); it is retried.
const ReasonReconcileError = "ReconcileError"

// ReasonPartnerCenterError: a Partner Center call failed and is retried.
const ReasonPartnerCenterError = "PartnerCenterError"

// ReasonValid: the object passed every check the operator makes.
const ReasonValid = "Valid"

// Reasons of a CustomerSubscription's conditions, besides the eligibility
// reasons (which the Eligible condition and an Ineligible Stalled carry).
const (
	ReasonNoSupportPartner = "NoSupportPartner"
	ReasonScheduled        = "Scheduled"
	// ReasonSourceRenewsSoon: scheduled for the end of a source term that
	// renews unless the source partner turns auto-renew off, in three weeks
	// or less.
	ReasonSourceRenewsSoon           = "SourceRenewsSoon"
	ReasonSwitching                  = "Switching"
	ReasonAwaitingTransfer           = "AwaitingTransferAcceptance"
	ReasonAwaitingSourceCancellation = "AwaitingSourceCancellation"
	ReasonCompleted                  = "Completed"
	ReasonTransferExpired            = "TransferExpired"
	ReasonTransferFailed             = "TransferFailed"
	// ReasonTransferNotAdoptable: spec.transferID names a transfer Partner
	// Center does not hold for this customer and these partners.
	ReasonTransferNotAdoptable  = "TransferNotAdoptable"
	ReasonPartnerCenterRejected = "PartnerCenterRejected"
	// ReasonOperationInDoubt: an operation that may have reached Partner
	// Center records terms the spec no longer asks for; a person decides.
	ReasonOperationInDoubt      = "OperationInDoubt"
	ReasonRelationshipNameTaken = "RelationshipNameTaken"
	// ReasonPurchaseCancelled: a person cancelled what the operator bought,
	// within Partner Center's cancellation window (kubectl multichannel cancel).
	ReasonPurchaseCancelled = "PurchaseCancelled"
	// ReasonCancelling: a cancellation was asked and is sent to Partner Center.
	ReasonCancelling = "Cancelling"
	// ReasonCancellationRefused: the cancellation window had closed, or
	// Partner Center refused the cancellation; the purchase stands.
	ReasonCancellationRefused = "CancellationRefused"
)

// ReasonRelationshipNotInPartnerCenter: an approved relationship Partner Center does not see yet.
const ReasonRelationshipNotInPartnerCenter = "RelationshipNotInPartnerCenter"

// ReasonAgreementRequired: Partner Center refused the purchase because the
// customer has not accepted the Microsoft Customer Agreement (403, code
// 13605); it is sent again once accepted.
const ReasonAgreementRequired = "AgreementRequired"

// ReasonAwaitingOrder: the order was placed and is pending; its subscription is not provisioned yet.
const ReasonAwaitingOrder = "AwaitingOrder"

// Reasons of a DelegatedAdminRelationship's conditions.
const (
	ReasonAwaitingCustomer      = "AwaitingCustomerApproval"
	ReasonActivating            = "Activating"
	ReasonAssigningAccess       = "AssigningAccess"
	ReasonAccessActive          = "AccessActive"
	ReasonAccessAssignmentError = "AccessAssignmentFailed"
	ReasonGraphError            = "GraphError"
	ReasonGraphRejected         = "GraphRejected"
	ReasonDisplayNameInUse      = "DisplayNameInUse"
	ReasonGDAPTerminated        = "RelationshipTerminated"
	ReasonGDAPTerminating       = "Terminating"
	ReasonNoCredentials         = "NoCredentials"
	// ReasonNotAvailableInCloud: GDAP is not offered in the customer's
	// cloud (Microsoft Cloud for US Government); nothing is sent.
	ReasonNotAvailableInCloud = "NotAvailableInCloud"
	ReasonExpiresWithin30Days = "ExpiresWithin30Days"
	ReasonExpiresWithin7Days  = "ExpiresWithin7Days"
)

// Reasons of a ResellerRelationship's conditions.
const (
	ReasonAwaitingApproval        = "AwaitingApproval"
	ReasonAwaitingManualApproval  = "AwaitingManualApproval"
	ReasonRelationshipApproved    = "RelationshipApproved"
	ReasonRelationshipDenied      = "RelationshipDenied"
	ReasonRelationshipExpired     = "RelationshipExpired"
	ReasonDelegatedAdminRequired  = "DelegatedAdminRequired"
	ReasonPartnerNotFound         = "PartnerNotFound"
	ReasonCustomerNotFound        = "CustomerNotFound"
	ReasonPartnerNotReady         = "PartnerNotReady"
	ReasonApprovedInPartnerCenter = "ApprovedInPartnerCenter"
	// ReasonManualApprovalNotUsed: a person recorded Approved for a partner
	// with credentials, whose customer's consent only Partner Center shows.
	ReasonManualApprovalNotUsed = "ManualApprovalNotUsed"
	// ReasonDecisionWithoutRecord: an Approved or Denied condition without a
	// status.approval naming who recorded it; it is not used.
	ReasonDecisionWithoutRecord = "DecisionWithoutRecord"
)

// Who may act for whom (docs/security.md, the threat model).
const (
	// ConditionTenantClaimed (Customer): whether this Customer holds its
	// tenant. A tenant belongs to one namespace: the first Customer to claim
	// it holds it until it is deleted.
	ConditionTenantClaimed = "TenantClaimed"
	// ReasonTenantClaimed: this Customer holds its tenant.
	ReasonTenantClaimed = "Claimed"
	// ReasonTenantClaimedElsewhere: another Customer, named in the message,
	// holds the tenant; nothing is done for this one.
	ReasonTenantClaimedElsewhere = "TenantClaimedElsewhere"
	// ReasonAwaitingTenantClaim: the operator has not yet claimed the
	// customer's tenant for it.
	ReasonAwaitingTenantClaim = "AwaitingTenantClaim"
	// ReasonPartnerNotAllowed: the Partner's spec.namespaceSelector does not
	// select the object's namespace, so nothing is done through it there.
	ReasonPartnerNotAllowed = "PartnerNotAllowed"
)

// The Microsoft Customer Agreement (Customer condition AgreementAccepted).
// Partner Center must hold the customer's acceptance before anything is
// bought for the customer (docs/partnercenter.md).
const (
	// ConditionAgreementAccepted (Customer): whether Partner Center holds the
	// customer's acceptance of the Microsoft Customer Agreement. Purchases
	// for the customer wait until it is True.
	ConditionAgreementAccepted = "AgreementAccepted"
	// ReasonAgreementAccepted: Partner Center holds the customer's acceptance.
	ReasonAgreementAccepted = "Accepted"
	// ReasonAgreementConfirmed: the operator posted the partner's
	// confirmation from spec.agreement, and Partner Center accepted it.
	ReasonAgreementConfirmed = "Confirmed"
	// ReasonAgreementMissing: Partner Center holds no acceptance, and the
	// message says what to record (or why the confirmation was not posted).
	ReasonAgreementMissing = "AgreementMissing"
	// ReasonAgreementNotApplicable: the customer is in the US Government
	// cloud, where the agreement calls do not apply.
	ReasonAgreementNotApplicable = "NotApplicable"
	// ReasonAwaitingAgreement (CustomerSubscription): a purchase waits for
	// the customer's AgreementAccepted.
	ReasonAwaitingAgreement = "AwaitingAgreement"
)

// ReasonOfferNotAvailable: Partner Center's catalog does not sell what the
// subscription would buy to the customer (the product and SKU, with the
// term and billing cycle, within the SKU's quantity limits), or it is a
// legacy offer; the message says what the catalog sells instead.
const ReasonOfferNotAvailable = "OfferNotAvailable"

// The customer's one Azure plan with a partner (ResellerRelationship
// condition AzurePlan), and the Azure subscriptions created under it.
const (
	// ConditionAzurePlan (ResellerRelationship): whether the partner's
	// Azure plan for the customer is known (found or bought). It appears
	// once a subscription needs the plan; Ready stays about the
	// relationship itself.
	ConditionAzurePlan = "AzurePlan"
	// ReasonAzurePlanFound: Partner Center listed the plan.
	ReasonAzurePlanFound = "Found"
	// ReasonAzurePlanBought: the operator bought the plan.
	ReasonAzurePlanBought = "Bought"
	// ReasonBuyingAzurePlan: the purchase is recorded, sent or provisioning.
	ReasonBuyingAzurePlan = "Buying"
	// ReasonAzurePlanRefused: Partner Center refused the purchase.
	ReasonAzurePlanRefused = "Refused"
	// ReasonAwaitingAzurePlan (CustomerSubscription): the subscription
	// waits for its customer's Azure plan with the partner, which its
	// ResellerRelationship finds or buys.
	ReasonAwaitingAzurePlan = "AwaitingAzurePlan"
	// ReasonAzureSubscriptionFailed (CustomerSubscription): Azure Resource
	// Manager refused, or failed to provision, the Azure subscription.
	ReasonAzureSubscriptionFailed = "AzureSubscriptionFailed"
)
