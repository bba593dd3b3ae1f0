package sim

import (
	"encoding/json"
	"time"
)

// The simulator's own JSON shapes, written from Microsoft's Partner Center
// documentation (the examples in ../testdata) and not shared with the
// client: a mistake in the client's types must show up as a refusal here,
// not be agreed with. They double as the state file's records.

type attributes struct {
	ObjectType string `json:"objectType,omitempty"`
	Etag       string `json:"etag,omitempty"`
}

type link struct {
	URI     string   `json:"uri"`
	Method  string   `json:"method"`
	Headers []header `json:"headers"`
}

// header is one of a link's headers: a key and value pair, such as a next
// page's MS-ContinuationToken.
type header struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

func self(uri string) map[string]link {
	return map[string]link{"self": {URI: uri, Method: "GET", Headers: []header{}}}
}

type relationshipRequestBody struct {
	URL        string     `json:"url"`
	Attributes attributes `json:"attributes"`
}

type companyProfile struct {
	TenantID    string     `json:"tenantId"`
	Domain      string     `json:"domain,omitempty"`
	CompanyName string     `json:"companyName,omitempty"`
	Address     *address   `json:"address,omitempty"`
	Email       string     `json:"email,omitempty"`
	Attributes  attributes `json:"attributes"`
}

// address is the company profile's address; the simulator keeps its country.
type address struct {
	Country string `json:"country"`
}

type customerBody struct {
	ID                    string          `json:"id"`
	CompanyProfile        companyProfile  `json:"companyProfile"`
	RelationshipToPartner string          `json:"relationshipToPartner"`
	AllowDelegatedAccess  bool            `json:"allowDelegatedAccess"`
	Links                 map[string]link `json:"links,omitempty"`
	Attributes            attributes      `json:"attributes"`
}

type subscription struct {
	ID                   string     `json:"id"`
	OfferID              string     `json:"offerId"`
	OfferName            string     `json:"offerName,omitempty"`
	FriendlyName         string     `json:"friendlyName,omitempty"`
	Quantity             int        `json:"quantity"`
	UnitType             string     `json:"unitType,omitempty"`
	ParentSubscriptionID string     `json:"parentSubscriptionId,omitempty"`
	CreationDate         *time.Time `json:"creationDate,omitempty"`
	EffectiveStartDate   *time.Time `json:"effectiveStartDate,omitempty"`
	CommitmentEndDate    *time.Time `json:"commitmentEndDate,omitempty"`
	Status               string     `json:"status"`
	AutoRenewEnabled     bool       `json:"autoRenewEnabled"`
	BillingType          string     `json:"billingType"`
	BillingCycle         string     `json:"billingCycle,omitempty"`
	TermDuration         string     `json:"termDuration,omitempty"`
	ContractType         string     `json:"contractType,omitempty"`
	PartnerID            string     `json:"partnerId,omitempty"`
	OrderID              string     `json:"orderId,omitempty"`
	// cancellationAllowedUntilDate and refundOptions: a new-commerce
	// subscription's cancellation window and the refund it brings.
	CancellationAllowedUntilDate *time.Time     `json:"cancellationAllowedUntilDate,omitempty"`
	RefundOptions                []refundOption `json:"refundOptions,omitempty"`
	Attributes                   attributes     `json:"attributes"`
}

type refundOption struct {
	Type      string     `json:"type"`
	ExpiresAt *time.Time `json:"expiresAt,omitempty"`
}

type participant struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

type collection[T any] struct {
	TotalCount int        `json:"totalCount"`
	Items      []T        `json:"items"`
	Attributes attributes `json:"attributes"`
}

// pagedCollection is a collection with its links: self, and next while
// more pages follow.
type pagedCollection[T any] struct {
	TotalCount int             `json:"totalCount"`
	Items      []T             `json:"items"`
	Links      map[string]link `json:"links"`
	Attributes attributes      `json:"attributes"`
}

type cartLineItem struct {
	ID                  int               `json:"id"`
	CatalogItemID       string            `json:"catalogItemId"`
	FriendlyName        string            `json:"friendlyName,omitempty"`
	Quantity            int               `json:"quantity"`
	CurrencyCode        string            `json:"currencyCode,omitempty"`
	BillingCycle        string            `json:"billingCycle"`
	TermDuration        string            `json:"termDuration,omitempty"`
	ProvisioningContext map[string]string `json:"provisioningContext,omitempty"`
	Participants        []participant     `json:"participants,omitempty"`
	OrderGroup          string            `json:"orderGroup,omitempty"`
}

type cart struct {
	ID                    string          `json:"id,omitempty"`
	CreationTimestamp     *time.Time      `json:"creationTimestamp,omitempty"`
	LastModifiedTimestamp *time.Time      `json:"lastModifiedTimestamp,omitempty"`
	ExpirationTimestamp   *time.Time      `json:"expirationTimestamp,omitempty"`
	Status                string          `json:"status,omitempty"`
	LineItems             []cartLineItem  `json:"lineItems"`
	Links                 map[string]link `json:"links,omitempty"`
	Attributes            attributes      `json:"attributes"`
}

type orderLineItem struct {
	LineItemNumber  int    `json:"lineItemNumber"`
	OfferID         string `json:"offerId"`
	SubscriptionID  string `json:"subscriptionId,omitempty"`
	TermDuration    string `json:"termDuration,omitempty"`
	TransactionType string `json:"transactionType,omitempty"`
	FriendlyName    string `json:"friendlyName,omitempty"`
	Quantity        int    `json:"quantity"`
	// partnerIdOnRecord: the indirect reseller the order was bought for.
	PartnerIDOnRecord string `json:"partnerIdOnRecord,omitempty"`
}

type order struct {
	ID                  string          `json:"id"`
	AlternateID         string          `json:"alternateId,omitempty"`
	ReferenceCustomerID string          `json:"referenceCustomerId"`
	BillingCycle        string          `json:"billingCycle,omitempty"`
	CurrencyCode        string          `json:"currencyCode,omitempty"`
	LineItems           []orderLineItem `json:"lineItems"`
	CreationDate        *time.Time      `json:"creationDate,omitempty"`
	Status              string          `json:"status"`
	TransactionType     string          `json:"transactionType,omitempty"`
	Links               map[string]link `json:"links,omitempty"`
	Attributes          attributes      `json:"attributes"`
}

type orderError struct {
	OrderGroupID string `json:"orderGroupId"`
	Code         int    `json:"code"`
	Description  string `json:"description"`
}

type cartCheckoutResult struct {
	Orders      []order      `json:"orders"`
	OrderErrors []orderError `json:"orderErrors,omitempty"`
	Attributes  attributes   `json:"attributes"`
}

type transferLineItem struct {
	ID                int                `json:"id"`
	SubscriptionID    string             `json:"subscriptionId"`
	OfferID           string             `json:"offerId,omitempty"`
	BillingCycle      string             `json:"billingCycle,omitempty"`
	TermDuration      string             `json:"termDuration,omitempty"`
	FriendlyName      string             `json:"friendlyName,omitempty"`
	Quantity          int                `json:"quantity,omitempty"`
	PartnerIDOnRecord string             `json:"partnerIdOnRecord,omitempty"`
	AddonItems        []transferLineItem `json:"addonItems"`
	TransferError     string             `json:"transferError,omitempty"`
	Status            string             `json:"status,omitempty"`
}

type transfer struct {
	ID                    string     `json:"id"`
	Status                string     `json:"status"`
	TransferType          int        `json:"transferType"`
	CustomerEmailID       string     `json:"customerEmailId"`
	CreatedTime           *time.Time `json:"createdTime,omitempty"`
	LastModifiedTime      *time.Time `json:"lastModifiedTime,omitempty"`
	CompletedTime         *time.Time `json:"completedTime,omitempty"`
	ExpirationTime        *time.Time `json:"expirationTime,omitempty"`
	CustomerName          string     `json:"customerName,omitempty"`
	CustomerTenantID      string     `json:"customerTenantId"`
	PartnerTenantID       string     `json:"partnertenantid,omitempty"`
	SourcePartnerName     string     `json:"sourcePartnerName"`
	SourcePartnerTenantID string     `json:"sourcePartnerTenantId"`
	TargetPartnerName     string     `json:"targetPartnerName,omitempty"`
	TargetPartnerTenantID string     `json:"targetPartnerTenantId"`
	// TargetProductTypes: the kinds of subscription the transfer may carry.
	TargetProductTypes []string           `json:"targetProductTypes,omitempty"`
	LineItems          []transferLineItem `json:"lineItems"`
	Links              map[string]link    `json:"links,omitempty"`
	Attributes         attributes         `json:"attributes"`
}

type transferError struct {
	TransferGroupID string             `json:"transferGroupId"`
	Code            int                `json:"code"`
	Description     string             `json:"description"`
	LineItems       []transferLineItem `json:"lineItems,omitempty"`
}

type transferSubmitResult struct {
	Orders         []order         `json:"orders"`
	TransferErrors []transferError `json:"transferErrors"`
}

// errorBody is the documented error response; data is an array, empty when
// there is nothing to add.
type errorBody struct {
	Code        int      `json:"code"`
	Description string   `json:"description"`
	Data        []string `json:"data"`
	Source      string   `json:"source"`
}

type tokenResponse struct {
	TokenType    string `json:"token_type"`
	AccessToken  string `json:"access_token"`
	ExpiresIn    int    `json:"expires_in"`
	RefreshToken string `json:"refresh_token,omitempty"`
	Scope        string `json:"scope,omitempty"`
}

// Requests, decoded strictly: a field of the wrong JSON type fails to decode
// and is refused, as the service's typed model refuses it.

type cartRequest struct {
	// AttestationAccepted is documented as required (create-a-cart, 2022).
	AttestationAccepted *bool          `json:"PartnerOnRecordAttestationAccepted"`
	LineItems           []cartLineItem `json:"lineItems"`
}

type transferRequest struct {
	SourcePartnerTenantID string `json:"sourcePartnerTenantId"`
	SourcePartnerName     string `json:"sourcePartnerName"`
	CustomerEmailID       string `json:"customerEmailId"`
	CustomerName          string `json:"customerName"`
	TargetPartnerTenantID string `json:"targetPartnerTenantId"`
	TargetPartnerEmailID  string `json:"targetPartnerEmailId"`
	// PartnerOnRecord: the indirect reseller (Partner ID) the target, an
	// indirect provider, takes the subscriptions on for.
	PartnerOnRecord string `json:"partnerOnRecord"`
	// TargetProductTypes: AzureSubscription, AzureReservation,
	// AzureSavingsPlan, OnlineServicesNCE.
	TargetProductTypes []string `json:"targetProductTypes"`
	// TransferType is a pointer so that a missing one is told from a wrong one.
	TransferType *int            `json:"transferType"`
	LineItems    json.RawMessage `json:"lineItems"`
}

type transferPatch struct {
	ID     string `json:"id"`
	Status string `json:"status"`
}

type acceptRequest struct {
	LineItems []transferLineItem `json:"lineItems"`
}

type partnerRelationship struct {
	ID               string     `json:"id"`
	Name             string     `json:"name"`
	RelationshipType string     `json:"relationshipType"`
	MPNID            string     `json:"mpnId,omitempty"`
	Attributes       attributes `json:"attributes"`
}

// Catalog resources (product-resources), shaped as the documented SKU and
// availability examples.

type skuBody struct {
	ID                     string          `json:"id"`
	ProductID              string          `json:"productId"`
	Title                  string          `json:"title"`
	Description            string          `json:"description"`
	MinimumQuantity        int             `json:"minimumQuantity"`
	MaximumQuantity        int             `json:"maximumQuantity"`
	IsTrial                bool            `json:"isTrial"`
	SupportedBillingCycles []string        `json:"supportedBillingCycles"`
	PurchasePrerequisites  []string        `json:"purchasePrerequisites"`
	InventoryVariables     []string        `json:"inventoryVariables"`
	ProvisioningVariables  []string        `json:"provisioningVariables"`
	Actions                []string        `json:"actions"`
	DynamicAttributes      map[string]any  `json:"dynamicAttributes"`
	Links                  map[string]link `json:"links"`
}

// termBody is a Term: the table documents duration and description; the
// new-commerce example adds id and billingCycle ("Annual").
type termBody struct {
	ID           string `json:"id,omitempty"`
	Duration     string `json:"duration"`
	Description  string `json:"description"`
	BillingCycle string `json:"billingCycle,omitempty"`
}

type currency struct {
	Code   string `json:"code"`
	Symbol string `json:"symbol"`
}

type availabilityBody struct {
	ID              string     `json:"id"`
	ProductID       string     `json:"productId"`
	SKUID           string     `json:"skuId"`
	CatalogItemID   string     `json:"catalogItemId"`
	DefaultCurrency currency   `json:"defaultCurrency"`
	Segment         string     `json:"segment"`
	Country         string     `json:"country"`
	IsPurchasable   bool       `json:"isPurchasable"`
	IsRenewable     bool       `json:"isRenewable"`
	Terms           []termBody `json:"terms,omitempty"`
	// SKU is the Availability table's sku, "The SKU this availability corresponds to."
	SKU   *skuBody        `json:"sku,omitempty"`
	Links map[string]link `json:"links"`
}
