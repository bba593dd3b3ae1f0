package partnercenter

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The JSON shapes of the Partner Center REST API subset the operator speaks,
// held against the examples in Microsoft's documentation (testdata/ keeps
// them; docs/partnercenter.md says where each comes from). Field names are
// camelCase, collections are items/totalCount, and every resource has
// attributes.objectType. Fields the operator never reads are left out: the
// decoder ignores them.

// Attributes is on every Partner Center resource.
type Attributes struct {
	ObjectType string `json:"objectType,omitempty"`
	// Etag is the version an update must name in If-Match.
	Etag string `json:"etag,omitempty"`
}

// Collection is a list response. A paged one links to its next page.
type Collection[T any] struct {
	TotalCount int            `json:"totalCount"`
	Items      []T            `json:"items"`
	Links      *ResourceLinks `json:"links,omitempty"`
	Attributes Attributes     `json:"attributes"`
}

// ResourceLinks are a resource's links (utility-resources: ResourceLinks):
// a paged collection's next page is Next.
type ResourceLinks struct {
	Self     *Link `json:"self,omitempty"`
	Next     *Link `json:"next,omitempty"`
	Previous *Link `json:"previous,omitempty"`
}

// Link is a URI, its method and the headers a request that follows it
// sends (utility-resources: Link), such as a next page's
// MS-ContinuationToken.
type Link struct {
	URI     string     `json:"uri"`
	Method  string     `json:"method,omitempty"`
	Headers []KeyValue `json:"headers,omitempty"`
}

// KeyValue is a link's header.
type KeyValue struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// RelationshipRequest is the link a customer's Global admin opens to accept a
// reseller relationship (GET /v1/customers/relationshiprequests).
type RelationshipRequest struct {
	URL        string     `json:"url"`
	Attributes Attributes `json:"attributes"`
}

// PartnerRelationship is an indirect reseller (or provider) that has a
// relationship with a customer: id is its tenant, mpnId its Partner ID.
type PartnerRelationship struct {
	ID               string     `json:"id"`
	Name             string     `json:"name,omitempty"`
	RelationshipType string     `json:"relationshipType,omitempty"`
	MPNID            string     `json:"mpnId,omitempty"`
	Attributes       Attributes `json:"attributes"`
}

// CompanyProfile describes a customer organisation.
type CompanyProfile struct {
	TenantID    string `json:"tenantId"`
	Domain      string `json:"domain,omitempty"`
	CompanyName string `json:"companyName,omitempty"`
	// Email is the customer's contact address; a new-commerce transfer sends
	// its notifications there (customerEmailId).
	Email string `json:"email,omitempty"`
	// Address is the organisation's address; a customer read by ID has
	// one, a customer in a list does not.
	Address *Address `json:"address,omitempty"`
}

// Address is a postal address (utility-resources: Address); the operator
// reads its country.
type Address struct {
	Country string `json:"country,omitempty"`
}

// BillingProfile is the customer's billing profile: its defaultAddress
// is where bills go.
type BillingProfile struct {
	DefaultAddress *Address `json:"defaultAddress,omitempty"`
}

// RelationshipToPartner values.
const (
	RelationshipReseller = "reseller"
	RelationshipNone     = "none"
)

// Customer is a customer as its partner sees it (GET /v1/customers/{id}).
type Customer struct {
	ID                    string          `json:"id"`
	CommerceID            string          `json:"commerceId,omitempty"`
	CompanyProfile        CompanyProfile  `json:"companyProfile"`
	BillingProfile        *BillingProfile `json:"billingProfile,omitempty"`
	RelationshipToPartner string          `json:"relationshipToPartner"`
	AllowDelegatedAccess  bool            `json:"allowDelegatedAccess"`
	Attributes            Attributes      `json:"attributes"`
}

// Country is the customer's country (ISO 3166-1 alpha-2, upper case) as
// its company profile's address gives it, else its billing address; "" when
// neither does (a customer read from a list).
func (c *Customer) Country() string {
	for _, a := range []*Address{c.CompanyProfile.Address, c.billingAddress()} {
		if a != nil && a.Country != "" {
			return strings.ToUpper(a.Country)
		}
	}
	return ""
}

func (c *Customer) billingAddress() *Address {
	if c.BillingProfile == nil {
		return nil
	}
	return c.BillingProfile.DefaultAddress
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

// Subscription is a customer's subscription with the calling partner. An
// update sends it back whole, so it keeps the fields Partner Center's
// examples show (an update must not blank what the client did not read).
type Subscription struct {
	ID                   string     `json:"id"`
	OfferID              string     `json:"offerId,omitempty"`
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
	// CancellationAllowedUntilDate is the last moment the partner may cancel
	// the subscription for its term (a new-commerce purchase: seven days
	// after purchase or renewal); absent when it cannot be cancelled.
	CancellationAllowedUntilDate *time.Time `json:"cancellationAllowedUntilDate,omitempty"`
	// RefundOptions are the refunds a cancellation would bring, each until
	// its expiresAt.
	RefundOptions []RefundOption `json:"refundOptions,omitempty"`
	Attributes    Attributes     `json:"attributes"`
}

// RefundOption is a refund a cancellation brings: its type (Full or
// Partial) and until when.
type RefundOption struct {
	Type      string     `json:"type"`
	ExpiresAt *time.Time `json:"expiresAt,omitempty"`
}

// Billing cycles a cart line item names.
const (
	BillingCycleMonthly   = "monthly"
	BillingCycleAnnual    = "annual"
	BillingCycleTriennial = "triennial"
)

// Term durations a cart line item names (ISO 8601).
const (
	TermDurationOneMonth   = "P1M"
	TermDurationOneYear    = "P1Y"
	TermDurationThreeYears = "P3Y"
)

// CartLineItem is one thing to buy. billingCycle is required.
type CartLineItem struct {
	ID            int    `json:"id"`
	CatalogItemID string `json:"catalogItemId"`
	FriendlyName  string `json:"friendlyName,omitempty"`
	Quantity      int    `json:"quantity"`
	BillingCycle  string `json:"billingCycle"`
	TermDuration  string `json:"termDuration,omitempty"`
	// Participants name the partners on record of the purchase by their
	// Partner ID: ParticipantTransactionReseller is the indirect reseller an
	// indirect provider buys for.
	Participants []Participant `json:"participants,omitempty"`
	// OrderGroup: Partner Center groups line items into orders; checkout
	// answers one order per group.
	OrderGroup string `json:"orderGroup,omitempty"`
	// Error is set on a line item Partner Center could not take.
	Error *CartError `json:"error,omitempty"`
}

// Participant is a key and value pair of a cart line item's participants.
type Participant struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// ParticipantTransactionReseller is the participant key of the indirect
// reseller on record of a purchase an indirect provider makes.
const ParticipantTransactionReseller = "transaction_reseller"

// CartError is the error of one cart line item (not of a checkout).
type CartError struct {
	ErrorCode   int    `json:"errorCode"`
	Description string `json:"errorDescription"`
}

// Cart holds line items until checkout.
type Cart struct {
	ID                string         `json:"id,omitempty"`
	CreationTimestamp *time.Time     `json:"creationTimestamp,omitempty"`
	LineItems         []CartLineItem `json:"lineItems"`
	Status            string         `json:"status,omitempty"`
	Attributes        Attributes     `json:"attributes"`
}

// OrderLineItem is a bought line item. SubscriptionID is empty until the
// subscription is provisioned, which happens asynchronously.
type OrderLineItem struct {
	LineItemNumber int    `json:"lineItemNumber"`
	OfferID        string `json:"offerId"`
	SubscriptionID string `json:"subscriptionId,omitempty"`
	TermDuration   string `json:"termDuration,omitempty"`
	FriendlyName   string `json:"friendlyName,omitempty"`
	Quantity       int    `json:"quantity"`
	// PartnerIDOnRecord is the Partner ID of the indirect reseller on
	// record, when an indirect provider bought for one.
	PartnerIDOnRecord string `json:"partnerIdOnRecord,omitempty"`
}

// Order statuses.
const (
	OrderPending   = "pending"
	OrderCompleted = "completed"
	OrderCancelled = "cancelled"
)

// Order is one order group of a checkout.
type Order struct {
	ID                  string          `json:"id"`
	AlternateID         string          `json:"alternateId,omitempty"`
	ReferenceCustomerID string          `json:"referenceCustomerId"`
	BillingCycle        string          `json:"billingCycle,omitempty"`
	CurrencyCode        string          `json:"currencyCode,omitempty"`
	LineItems           []OrderLineItem `json:"lineItems"`
	Status              string          `json:"status"`
	CreationDate        *time.Time      `json:"creationDate,omitempty"`
	Attributes          Attributes      `json:"attributes"`
}

// OrderError is an order group checkout could not order.
type OrderError struct {
	OrderGroupID string `json:"orderGroupId"`
	Code         int    `json:"code"`
	Description  string `json:"description"`
}

// CartCheckoutResult is what checkout returns: one order per order group,
// and an error for each group that could not be ordered.
type CartCheckoutResult struct {
	Orders      []Order      `json:"orders"`
	OrderErrors []OrderError `json:"orderErrors,omitempty"`
	Attributes  Attributes   `json:"attributes"`
}

// Checkout is what Purchase bought: the cart as Partner Center took it, and
// its checkout's orders and order errors.
type Checkout struct {
	Cart   Cart
	Result CartCheckoutResult
}

// CartLineItem is the cart's line item named friendlyName, if any.
func (co *Checkout) CartLineItem(friendlyName string) *CartLineItem {
	for i := range co.Cart.LineItems {
		if co.Cart.LineItems[i].FriendlyName == friendlyName {
			return &co.Cart.LineItems[i]
		}
	}
	return nil
}

// Ordered is the order and order line item that bought the cart's line item
// named friendlyName, if an order holds it.
func (co *Checkout) Ordered(friendlyName string) (*Order, *OrderLineItem) {
	for i := range co.Result.Orders {
		if li := co.Result.Orders[i].LineItemNamed(friendlyName); li != nil {
			return &co.Result.Orders[i], li
		}
	}
	return nil, nil
}

// OrderError is the error of the order group the cart's line item named
// friendlyName is in, if that group could not be ordered, and how many of
// the cart's line items are in the group.
func (co *Checkout) OrderError(friendlyName string) (*OrderError, int) {
	li := co.CartLineItem(friendlyName)
	if li == nil {
		return nil, 0
	}
	for i := range co.Result.OrderErrors {
		if e := &co.Result.OrderErrors[i]; e.OrderGroupID == li.OrderGroup {
			n := 0
			for _, other := range co.Cart.LineItems {
				if other.OrderGroup == li.OrderGroup {
					n++
				}
			}
			return e, n
		}
	}
	return nil, 0
}

// LineItemNamed is the order's line item named friendlyName, if any.
func (o *Order) LineItemNamed(friendlyName string) *OrderLineItem {
	for i := range o.LineItems {
		if o.LineItems[i].FriendlyName == friendlyName {
			return &o.LineItems[i]
		}
	}
	return nil
}

// OrderedSubscription finds the subscription an order of a one-item cart
// created: the order holding the first line item, and that line item's
// subscription ID, empty while the order is pending.
func OrderedSubscription(orders []Order) (orderID, subscriptionID string) {
	for _, o := range orders {
		for _, li := range o.LineItems {
			return o.ID, li.SubscriptionID
		}
	}
	return "", ""
}

// TransferType is the kind of a transfer, a JSON number.
type TransferType int

// Transfer types. The documentation disagrees on their names: the
// TransferEntity resource page says "3 resolves to ModernAzure and 5 resolves
// to NewCommerce" and that partner-to-partner new-commerce transfers "can use
// either but should standardize on 5"; the page of the create call itself
// says "3 represents New Commerce and should be used for Azure plan and new
// license-based subscriptions", and its example sends 3.
const (
	TransferTypeModernAzure TransferType = 3
	TransferTypeNewCommerce TransferType = 5
)

// PartnerTransferType is what the operator sends for every partner-to-partner
// transfer, Azure plan or license-based: 3, the one value both pages accept
// for that transfer and the one the create call's example sends.
const PartnerTransferType = TransferTypeModernAzure

// UnmarshalJSON reads the documented number; the resource table types the
// field as a string, so a numeric string is read too rather than failing a
// response that confirms a transfer already made.
func (t *TransferType) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		b = []byte(s)
	}
	n, err := strconv.Atoi(string(b))
	if err != nil {
		return fmt.Errorf("transferType %s is not a number", b)
	}
	*t = TransferType(n)
	return nil
}

// Transfer statuses. Partner Center documents Active and Completed; its
// examples show InProgress; a rejected transfer answers Reject and a
// cancelled one is set to Cancel. Its UI shows expired and failed transfers.
// Any other status is not one the operator can wait on: see Transfer.Pending.
const (
	TransferActive     = "Active"
	TransferInProgress = "InProgress"
	TransferCompleted  = "Completed"
	TransferExpired    = "Expired"
	TransferFailed     = "Failed"
	TransferRejected   = "Reject"
	// TransferCancelled is the status the target partner sets to cancel.
	TransferCancelled = "Cancel"
)

// TransferLineItem is a subscription in a transfer. In a new-commerce
// transfer the source partner adds them when it accepts.
type TransferLineItem struct {
	ID                int                `json:"id"`
	SubscriptionID    string             `json:"subscriptionId"`
	Quantity          int                `json:"quantity,omitempty"`
	BillingCycle      string             `json:"billingCycle,omitempty"`
	TermDuration      string             `json:"termDuration,omitempty"`
	FriendlyName      string             `json:"friendlyName,omitempty"`
	OfferID           string             `json:"offerId,omitempty"`
	PartnerIDOnRecord string             `json:"partnerIdOnRecord,omitempty"`
	AddonItems        []TransferLineItem `json:"addonItems,omitempty"`
	TransferError     string             `json:"transferError,omitempty"`
	Status            string             `json:"status,omitempty"`
}

// Transfer moves subscriptions from a source partner to a target partner;
// the source partner must accept it within 30 days. A new-commerce create
// needs sourcePartnerTenantId, sourcePartnerName, customerEmailId and
// transferType.
type Transfer struct {
	ID                    string       `json:"id,omitempty"`
	Status                string       `json:"status,omitempty"`
	TransferType          TransferType `json:"transferType,omitempty"`
	CustomerTenantID      string       `json:"customerTenantId,omitempty"`
	CustomerName          string       `json:"customerName,omitempty"`
	CustomerEmailID       string       `json:"customerEmailId,omitempty"`
	SourcePartnerTenantID string       `json:"sourcePartnerTenantId"`
	SourcePartnerName     string       `json:"sourcePartnerName,omitempty"`
	TargetPartnerTenantID string       `json:"targetPartnerTenantId,omitempty"`
	TargetPartnerName     string       `json:"targetPartnerName,omitempty"`
	// PartnerOnRecord is sent when the transfer is created: the indirect
	// reseller (Partner ID) an indirect provider takes the subscriptions on for.
	PartnerOnRecord string `json:"partnerOnRecord,omitempty"`
	// TargetProductTypes are the kinds of subscription the transfer may
	// carry (TransferProduct*), sent when it is created.
	TargetProductTypes []string           `json:"targetProductTypes,omitempty"`
	CreatedTime        *time.Time         `json:"createdTime,omitempty"`
	LastModifiedTime   *time.Time         `json:"lastModifiedTime,omitempty"`
	CompletedTime      *time.Time         `json:"completedTime,omitempty"`
	ExpirationTime     *time.Time         `json:"expirationTime,omitempty"`
	LineItems          []TransferLineItem `json:"lineItems,omitempty"`
	Attributes         Attributes         `json:"attributes"`
}

// Transfer product types: the values of targetProductTypes, "the
// subscription types that can be submitted for the transfer" (create a
// transfer for new commerce).
const (
	TransferProductAzureSubscription = "AzureSubscription"
	TransferProductAzureReservation  = "AzureReservation"
	TransferProductAzureSavingsPlan  = "AzureSavingsPlan"
	TransferProductOnlineServicesNCE = "OnlineServicesNCE"
)

// TransferProductTypeOf is the targetProductTypes value that carries a
// subscription of offerID: AzureSubscription for an Azure plan's,
// OnlineServicesNCE for a new-commerce license's, "" for anything else.
func TransferProductTypeOf(offerID string) string {
	switch {
	case IsAzurePlan(offerID):
		return TransferProductAzureSubscription
	case strings.Contains(offerID, ":"):
		return TransferProductOnlineServicesNCE
	}
	return ""
}

// Pending reports whether the transfer may still complete: it is Active or
// InProgress. Any other status, documented or not, is final.
func (t *Transfer) Pending() bool {
	return t.Status == TransferActive || t.Status == TransferInProgress
}

// TransferError is a transfer group accepting could not order.
type TransferError struct {
	TransferGroupID string             `json:"transferGroupId"`
	Code            int                `json:"code"`
	Description     string             `json:"description"`
	LineItems       []TransferLineItem `json:"lineItems,omitempty"`
}

// TransferSubmitResult is what accepting a transfer returns.
type TransferSubmitResult struct {
	Orders         []Order         `json:"orders"`
	TransferErrors []TransferError `json:"transferErrors,omitempty"`
}

// ErrorBody is Partner Center's error response: {code, description, data[],
// source}. The schema table types code as a string, the examples send a
// number: Code reads both.
type ErrorBody struct {
	Code        ErrorCode         `json:"code"`
	Description string            `json:"description"`
	Data        []json.RawMessage `json:"data,omitempty"`
	Source      string            `json:"source,omitempty"`
}

// ErrorCode is an error body's code: a number, or a string (numeric or not).
type ErrorCode struct {
	Number int
	// Text is a code sent as a string that is not a number.
	Text string
}

// UnmarshalJSON reads a number or a string.
func (c *ErrorCode) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		return nil
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		if n, err := strconv.Atoi(s); err == nil {
			c.Number = n
		} else {
			c.Text = s
		}
		return nil
	default:
		return json.Unmarshal(b, &c.Number)
	}
}

// MarshalJSON writes the number, or the text when there is no number.
func (c ErrorCode) MarshalJSON() ([]byte, error) {
	if c.Number == 0 && c.Text != "" {
		return json.Marshal(c.Text)
	}
	return json.Marshal(c.Number)
}
