package partnercenter

import "time"

// The JSON shapes of the Partner Center REST API subset the operator speaks.
// Field names follow the public documentation: camelCase, collections as
// items/totalCount, and attributes.objectType on every resource.

// Attributes is on every Partner Center resource.
type Attributes struct {
	ObjectType string `json:"objectType,omitempty"`
	Etag       string `json:"etag,omitempty"`
}

// Collection is a list response.
type Collection[T any] struct {
	TotalCount int        `json:"totalCount"`
	Items      []T        `json:"items"`
	Attributes Attributes `json:"attributes"`
}

// RelationshipRequest is the link a customer's Global admin opens to accept a
// reseller relationship (GET /v1/customers/relationshiprequests).
type RelationshipRequest struct {
	URL        string     `json:"url"`
	Attributes Attributes `json:"attributes"`
}

// CompanyProfile describes a customer organisation.
type CompanyProfile struct {
	TenantID    string `json:"tenantId"`
	Domain      string `json:"domain,omitempty"`
	CompanyName string `json:"companyName,omitempty"`
}

// RelationshipToPartner values.
const (
	RelationshipReseller = "reseller"
	RelationshipNone     = "none"
)

// Customer is a customer as its partner sees it (GET /v1/customers/{id}).
type Customer struct {
	ID                    string         `json:"id"`
	CompanyProfile        CompanyProfile `json:"companyProfile"`
	RelationshipToPartner string         `json:"relationshipToPartner"`
	AllowDelegatedAccess  bool           `json:"allowDelegatedAccess"`
	Attributes            Attributes     `json:"attributes"`
}

// Subscription statuses.
const (
	SubscriptionActive    = "active"
	SubscriptionSuspended = "suspended"
	SubscriptionDeleted   = "deleted"
	SubscriptionExpired   = "expired"
	SubscriptionPending   = "pending"
	SubscriptionDisabled  = "disabled"
)

// Billing types.
const (
	BillingLicense = "license"
	BillingUsage   = "usage"
)

// Subscription is a customer's subscription with the calling partner.
type Subscription struct {
	ID                 string     `json:"id"`
	OfferID            string     `json:"offerId"`
	OfferName          string     `json:"offerName,omitempty"`
	FriendlyName       string     `json:"friendlyName,omitempty"`
	Quantity           int        `json:"quantity"`
	UnitType           string     `json:"unitType,omitempty"`
	CreationDate       *time.Time `json:"creationDate,omitempty"`
	EffectiveStartDate *time.Time `json:"effectiveStartDate,omitempty"`
	CommitmentEndDate  *time.Time `json:"commitmentEndDate,omitempty"`
	Status             string     `json:"status"`
	AutoRenewEnabled   bool       `json:"autoRenewEnabled"`
	BillingType        string     `json:"billingType"`
	BillingCycle       string     `json:"billingCycle,omitempty"`
	TermDuration       string     `json:"termDuration,omitempty"`
	OrderID            string     `json:"orderId,omitempty"`
	Attributes         Attributes `json:"attributes"`
}

// CartLineItem is one thing to buy.
type CartLineItem struct {
	ID            int    `json:"id"`
	CatalogItemID string `json:"catalogItemId"`
	FriendlyName  string `json:"friendlyName,omitempty"`
	Quantity      int    `json:"quantity"`
	BillingCycle  string `json:"billingCycle,omitempty"`
	TermDuration  string `json:"termDuration,omitempty"`
}

// Cart holds line items until checkout.
type Cart struct {
	ID                string         `json:"id,omitempty"`
	CreationTimestamp *time.Time     `json:"creationTimestamp,omitempty"`
	LineItems         []CartLineItem `json:"lineItems"`
	Status            string         `json:"status,omitempty"`
	Attributes        Attributes     `json:"attributes"`
}

// OrderLineItem is a bought line item and the subscription it created.
type OrderLineItem struct {
	LineItemNumber int    `json:"lineItemNumber"`
	OfferID        string `json:"offerId"`
	SubscriptionID string `json:"subscriptionId"`
	FriendlyName   string `json:"friendlyName,omitempty"`
	Quantity       int    `json:"quantity"`
}

// Order is the result of a checkout.
type Order struct {
	ID                  string          `json:"id"`
	ReferenceCustomerID string          `json:"referenceCustomerId"`
	LineItems           []OrderLineItem `json:"lineItems"`
	Status              string          `json:"status"`
	CreationDate        *time.Time      `json:"creationDate,omitempty"`
	Attributes          Attributes      `json:"attributes"`
}

// CartError is a line item checkout refused.
type CartError struct {
	LineItemID  int    `json:"lineItemId"`
	ErrorCode   int    `json:"errorCode"`
	Description string `json:"errorDescription"`
}

// CartCheckoutResult is what checkout returns.
type CartCheckoutResult struct {
	Orders      []Order     `json:"orders"`
	OrderErrors []CartError `json:"orderErrors,omitempty"`
	Attributes  Attributes  `json:"attributes"`
}

// Transfer statuses. Partner Center documents Active and Completed, shows
// InProgress in examples, and its UI shows expired and failed transfers.
const (
	TransferActive     = "Active"
	TransferInProgress = "InProgress"
	TransferCompleted  = "Completed"
	TransferExpired    = "Expired"
	TransferFailed     = "Failed"
	TransferCancelled  = "Cancelled"
)

// TransferLineItem is a subscription to transfer.
type TransferLineItem struct {
	ID             int    `json:"id"`
	SubscriptionID string `json:"subscriptionId"`
	Quantity       int    `json:"quantity,omitempty"`
	BillingCycle   string `json:"billingCycle,omitempty"`
	TermDuration   string `json:"termDuration,omitempty"`
	FriendlyName   string `json:"friendlyName,omitempty"`
}

// Transfer moves subscriptions from a source partner to a target partner;
// the source partner must accept it within 30 days.
type Transfer struct {
	ID                    string             `json:"id,omitempty"`
	Status                string             `json:"status,omitempty"`
	TransferType          string             `json:"transferType,omitempty"`
	CustomerTenantID      string             `json:"customerTenantId,omitempty"`
	CustomerName          string             `json:"customerName,omitempty"`
	CustomerEmailID       string             `json:"customerEmailId,omitempty"`
	SourcePartnerTenantID string             `json:"sourcePartnerTenantId"`
	SourcePartnerName     string             `json:"sourcePartnerName,omitempty"`
	TargetPartnerTenantID string             `json:"targetPartnerTenantId,omitempty"`
	TargetPartnerEmailID  string             `json:"targetPartnerEmailId,omitempty"`
	CreatedTime           *time.Time         `json:"createdTime,omitempty"`
	LastModifiedTime      *time.Time         `json:"lastModifiedTime,omitempty"`
	CompletedTime         *time.Time         `json:"completedTime,omitempty"`
	ExpirationTime        *time.Time         `json:"expirationTime,omitempty"`
	LineItems             []TransferLineItem `json:"lineItems"`
	Attributes            Attributes         `json:"attributes"`
}

// ErrorBody is Partner Center's error response.
type ErrorBody struct {
	Code        int    `json:"code"`
	Description string `json:"description"`
	Source      string `json:"source,omitempty"`
}

// TokenResponse is the Entra ID token endpoint's answer.
type TokenResponse struct {
	TokenType    string `json:"token_type"`
	AccessToken  string `json:"access_token"`
	ExpiresIn    int    `json:"expires_in"`
	RefreshToken string `json:"refresh_token,omitempty"`
	Scope        string `json:"scope,omitempty"`
}
