package partnercenter

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/uuid"
)

// RelationshipRequestOptions are the optional parameters of the request link.
type RelationshipRequestOptions struct {
	// IndirectResellerID: an indirect provider asks on behalf of this reseller.
	IndirectResellerID string
	// IndirectCSPID: an indirect reseller names its indirect provider.
	IndirectCSPID string
}

// RelationshipRequest gets the link the customer's Global admin opens to accept
// the partner as reseller. It needs App+User credentials.
func (c *Client) RelationshipRequest(ctx context.Context, opts RelationshipRequestOptions) (*RelationshipRequest, error) {
	q := url.Values{}
	if opts.IndirectResellerID != "" {
		q.Set("indirectResellerId", opts.IndirectResellerID)
	}
	if opts.IndirectCSPID != "" {
		q.Set("indirectCloudSolutionProviderId", opts.IndirectCSPID)
	}
	out := &RelationshipRequest{}
	err := c.do(ctx, call{op: "GetRelationshipRequest", method: http.MethodGet, path: "/customers/relationshiprequests",
		query: q, user: true, retryable: true}, out)
	return out, err
}

// GetCustomer gets a customer of the partner. A customer that has not accepted
// a relationship with the partner is not found.
func (c *Client) GetCustomer(ctx context.Context, customerTenantID string) (*Customer, error) {
	out := &Customer{}
	err := c.do(ctx, call{op: "GetCustomer", method: http.MethodGet, path: "/customers/" + url.PathEscape(customerTenantID), retryable: true}, out)
	return out, err
}

// CustomerRelationships lists the indirect resellers that have a
// relationship with the customer, as the indirect provider sees them
// ("Get indirect resellers of a customer"). It needs App+User credentials.
func (c *Client) CustomerRelationships(ctx context.Context, customerID string) ([]PartnerRelationship, error) {
	out := &Collection[PartnerRelationship]{}
	err := c.do(ctx, call{op: "GetCustomerRelationships", method: http.MethodGet, path: "/customers/" + url.PathEscape(customerID) + "/relationships",
		user: true, retryable: true}, out)
	return out.Items, err
}

// ListSubscriptions lists a customer's subscriptions with the partner.
func (c *Client) ListSubscriptions(ctx context.Context, customerID string) ([]Subscription, error) {
	out := &Collection[Subscription]{}
	err := c.do(ctx, call{op: "ListSubscriptions", method: http.MethodGet, path: "/customers/" + url.PathEscape(customerID) + "/subscriptions", retryable: true}, out)
	return out.Items, err
}

// GetSubscription gets one of a customer's subscriptions with the partner.
func (c *Client) GetSubscription(ctx context.Context, customerID, subscriptionID string) (*Subscription, error) {
	out := &Subscription{}
	err := c.do(ctx, call{op: "GetSubscription", method: http.MethodGet, path: subscriptionPath(customerID, subscriptionID), retryable: true}, out)
	return out, err
}

// UpdateSubscriptionStatus sets a subscription's status, such as suspended or
// deleted (cancelled). Partner Center takes the full subscription with its
// ETag in If-Match, so the subscription is read first; when another update
// came in between (412), it is read and sent again. Setting a status is
// idempotent, so the call is retried.
func (c *Client) UpdateSubscriptionStatus(ctx context.Context, customerID, subscriptionID, status string) (*Subscription, error) {
	const attempts = 3
	var err error
	for range attempts {
		// Read twice over: typed, for the ETag and the status, and whole, so
		// that every field Partner Center sent goes back (the documented
		// request is "a full Subscription resource"), not only those this
		// client knows.
		var whole map[string]any
		if err = c.do(ctx, call{op: "GetSubscription", method: http.MethodGet, path: subscriptionPath(customerID, subscriptionID), retryable: true}, &whole); err != nil {
			return nil, err
		}
		sub := &Subscription{}
		if raw, mErr := json.Marshal(whole); mErr != nil || json.Unmarshal(raw, sub) != nil {
			return nil, fmt.Errorf("partner center UpdateSubscription: subscription %s could not be read back as a subscription", subscriptionID)
		}
		if sub.Attributes.Etag == "" {
			return nil, fmt.Errorf("partner center UpdateSubscription: subscription %s came without an ETag, which an update must name", subscriptionID)
		}
		if sub.Status == status {
			return sub, nil // already so (an earlier call's update landed): nothing to send
		}
		setField(whole, "status", status)
		out := &Subscription{}
		err = c.do(ctx, call{op: "UpdateSubscription", method: http.MethodPatch, path: subscriptionPath(customerID, subscriptionID),
			body: whole, ifMatch: sub.Attributes.Etag, retryable: true}, out)
		var e *Error
		if errors.As(err, &e) && e.StatusCode == http.StatusPreconditionFailed {
			continue
		}
		if err != nil {
			return nil, err
		}
		return out, nil
	}
	return nil, err
}

// setField sets key in m under the spelling m already uses (Partner
// Center's examples send both camelCase and PascalCase keys).
func setField(m map[string]any, key string, value any) {
	for k := range m {
		if strings.EqualFold(k, key) {
			m[k] = value
			return
		}
	}
	m[key] = value
}

// CancelSubscription cancels a subscription: its status becomes deleted,
// sent as UpdateSubscriptionStatus does. A new-commerce subscription can
// be cancelled only until its CancellationAllowedUntilDate; after it,
// Partner Center refuses. A subscription already deleted is returned as
// it is, so a repeated call cancels nothing twice.
func (c *Client) CancelSubscription(ctx context.Context, customerID, subscriptionID string) (*Subscription, error) {
	return c.UpdateSubscriptionStatus(ctx, customerID, subscriptionID, SubscriptionDeleted)
}

func subscriptionPath(customerID, subscriptionID string) string {
	return "/customers/" + url.PathEscape(customerID) + "/subscriptions/" + url.PathEscape(subscriptionID)
}

// requestNamespace derives the request IDs of the steps of one operation.
var requestNamespace = uuid.MustParse("3c1e4f0a-5b7d-4e29-9f60-8a2d6c4b1e77")

// StepRequestID is the request ID of one step of the operation requestID:
// deterministic, so a resumed operation repeats each step with the same key.
func StepRequestID(requestID, step string) string {
	return uuid.NewSHA1(requestNamespace, []byte(requestID+"/"+step)).String()
}

// Purchase buys a cart of line items exactly once: it creates the cart and
// checks it out, each call with a request ID derived from requestID (the
// MS-RequestId idempotency key), so a retry with the same requestID, even
// after a crash, gets the first call's cart and checkout instead of buying
// again, whatever items it carries. Line items that could not be ordered are
// in the result's OrderErrors (by order group), not an error: the rest of
// the cart may have been bought.
//
// own, unless empty, is the friendly name of the caller's line item: when the
// cart Partner Center holds under requestID (made by an earlier call) has no
// line item of that name, Purchase checks nothing out and returns the cart
// with ErrNotInCart, so that a caller who was not in the cart never checks
// out what others put in it.
func (c *Client) Purchase(ctx context.Context, customerID, requestID, own string, items []CartLineItem) (*Checkout, error) {
	if requestID == "" {
		return nil, errors.New("partner center Purchase: a request ID is required")
	}
	if len(items) == 0 {
		return nil, errors.New("partner center Purchase: nothing to buy")
	}
	for i := range items {
		items[i].ID = i
		if items[i].CatalogItemID == "" || items[i].Quantity < 1 || items[i].BillingCycle == "" {
			return nil, fmt.Errorf("partner center Purchase: line item %d needs catalogItemId, a quantity and billingCycle", i)
		}
	}
	co := &Checkout{}
	base := "/customers/" + url.PathEscape(customerID) + "/carts"
	// The request is the documented cart body: its line items and the
	// partner's attestation of the partners on record they name (the
	// partner itself, or the indirect reseller in participants), which
	// Partner Center requires.
	body := struct {
		AttestationAccepted bool           `json:"PartnerOnRecordAttestationAccepted"`
		LineItems           []CartLineItem `json:"lineItems"`
	}{true, items}
	if err := c.do(ctx, call{op: "CreateCart", method: http.MethodPost, path: base, body: body,
		requestID: StepRequestID(requestID, "cart"), retryable: true}, &co.Cart); err != nil {
		return nil, err
	}
	if own != "" && co.CartLineItem(own) == nil {
		return co, ErrNotInCart
	}
	if err := c.do(ctx, call{op: "CheckoutCart", method: http.MethodPost, path: base + "/" + url.PathEscape(co.Cart.ID) + "/checkout",
		requestID: StepRequestID(requestID, "checkout"), retryable: true, follows: true}, &co.Result); err != nil {
		return nil, err
	}
	if len(co.Result.Orders) == 0 && len(co.Result.OrderErrors) == 0 {
		return nil, fmt.Errorf("partner center CheckoutCart: cart %s produced no order", co.Cart.ID)
	}
	return co, nil
}

// ErrNotInCart: the cart Partner Center holds under a request ID has no line
// item of the caller's (Purchase).
var ErrNotInCart = errors.New("partner center: the cart made under this request ID has no line item of the caller's")

// CreateOrder buys items (Purchase) and returns the orders; an order group
// that could not be ordered is an error.
func (c *Client) CreateOrder(ctx context.Context, customerID, requestID string, items []CartLineItem) ([]Order, error) {
	co, err := c.Purchase(ctx, customerID, requestID, "", items)
	if err != nil {
		return nil, err
	}
	if len(co.Result.OrderErrors) > 0 {
		e := co.Result.OrderErrors[0]
		return co.Result.Orders, &Error{Operation: "CheckoutCart", StatusCode: http.StatusOK, Code: e.Code, Description: e.Description,
			OrderGroupID: e.OrderGroupID, RequestID: StepRequestID(requestID, "checkout")}
	}
	return co.Result.Orders, nil
}

// GetOrder gets an order, to see a pending order's subscriptions once they
// are provisioned.
func (c *Client) GetOrder(ctx context.Context, customerID, orderID string) (*Order, error) {
	out := &Order{}
	err := c.do(ctx, call{op: "GetOrder", method: http.MethodGet, path: "/customers/" + url.PathEscape(customerID) + "/orders/" + url.PathEscape(orderID), retryable: true}, out)
	return out, err
}

// transferRequest is the documented body of a new-commerce transfer request:
// the target partner names the source partner and the customer's contact;
// the source partner adds the line items when it accepts.
type transferRequest struct {
	SourcePartnerTenantID string `json:"sourcePartnerTenantId"`
	SourcePartnerName     string `json:"sourcePartnerName"`
	CustomerEmailID       string `json:"customerEmailId"`
	CustomerName          string `json:"customerName,omitempty"`
	TargetPartnerTenantID string `json:"targetPartnerTenantId,omitempty"`
	// PartnerOnRecord: the indirect reseller (Partner ID) an indirect
	// provider takes the subscriptions on for.
	PartnerOnRecord string `json:"partnerOnRecord,omitempty"`
	// TargetProductTypes: the kinds of subscription the transfer may carry.
	TargetProductTypes []string     `json:"targetProductTypes,omitempty"`
	TransferType       TransferType `json:"transferType"`
}

// CreateTransfer asks the source partner to transfer the customer's
// subscriptions to this partner (a new-commerce transfer). t needs
// SourcePartnerTenantID and SourcePartnerName; TransferType 0 sends
// PartnerTransferType; an empty CustomerEmailID is filled from the customer's
// company profile (the operator has no other source for it).
// t.TargetProductTypes are sent as given (TransferProductTypeOf names the
// one a subscription needs); the documentation reads none as all types.
// t.LineItems are not sent: the source partner chooses them. requestID is
// the idempotency key.
func (c *Client) CreateTransfer(ctx context.Context, customerID, requestID string, t Transfer) (*Transfer, error) {
	if requestID == "" {
		return nil, errors.New("partner center CreateTransfer: a request ID is required")
	}
	if t.SourcePartnerTenantID == "" || t.SourcePartnerName == "" {
		return nil, errors.New("partner center CreateTransfer: the source partner's tenant ID and name are required")
	}
	body := transferRequest{SourcePartnerTenantID: t.SourcePartnerTenantID, SourcePartnerName: t.SourcePartnerName,
		CustomerEmailID: t.CustomerEmailID, CustomerName: t.CustomerName, TargetPartnerTenantID: t.TargetPartnerTenantID,
		PartnerOnRecord: t.PartnerOnRecord, TargetProductTypes: t.TargetProductTypes, TransferType: t.TransferType}
	if body.TransferType == 0 {
		body.TransferType = PartnerTransferType
	}
	looked := false // the customer was read first: the create continues the operation
	if body.CustomerEmailID == "" {
		looked = true
		cust, err := c.GetCustomer(ctx, customerID)
		if IsNotFound(err) || IsNoCommerceRelationship(err) {
			return nil, fmt.Errorf("partner center CreateTransfer: reading the customer's contact address: %w: %w", ErrCustomerNotVisible, err)
		}
		if err != nil {
			return nil, fmt.Errorf("partner center CreateTransfer: reading the customer's contact address: %w", err)
		}
		if body.CustomerEmailID = cust.CompanyProfile.Email; body.CustomerEmailID == "" {
			return nil, fmt.Errorf("partner center CreateTransfer: customer %s has no email in its company profile, and a transfer needs customerEmailId", customerID)
		}
		if body.CustomerName == "" {
			body.CustomerName = cust.CompanyProfile.CompanyName
		}
	}
	out := &Transfer{}
	err := c.do(ctx, call{op: "CreateTransfer", method: http.MethodPost, path: transfersPath(customerID), body: body,
		requestID: requestID, retryable: true, follows: looked}, out)
	return out, err
}

// GetTransfer gets a transfer.
// Its status is given the documented spelling whatever its case: Partner
// Center's pages and examples spell the same statuses differently
// ("Completed", "completed"), and a transfer that completed must never be
// taken for one that did not.
func (c *Client) GetTransfer(ctx context.Context, customerID, transferID string) (*Transfer, error) {
	out := &Transfer{}
	err := c.do(ctx, call{op: "GetTransfer", method: http.MethodGet, path: transferPath(customerID, transferID), retryable: true}, out)
	out.Status = CanonicalTransferStatus(out.Status)
	return out, err
}

// CanonicalTransferStatus is status in its documented spelling, compared
// without regard to case; a status nobody documented is returned as it is.
func CanonicalTransferStatus(status string) string {
	for _, known := range []string{TransferActive, TransferInProgress, TransferCompleted, TransferExpired, TransferFailed, TransferRejected, TransferCancelled} {
		if strings.EqualFold(status, known) {
			return known
		}
	}
	return status
}

// CancelTransfer withdraws a pending transfer this partner created (target
// side): the transfer, read first, is sent back with status Cancel.
func (c *Client) CancelTransfer(ctx context.Context, customerID, transferID string) (*Transfer, error) {
	t, err := c.GetTransfer(ctx, customerID, transferID)
	if err != nil {
		return nil, err
	}
	t.Status = TransferCancelled
	out := &Transfer{}
	err = c.do(ctx, call{op: "CancelTransfer", method: http.MethodPatch, path: transferPath(customerID, transferID),
		body: t, retryable: true}, out)
	return out, err
}

// RejectTransfer refuses a transfer away from this partner (source side), as
// documented: {"id", "status": "reject"}; Partner Center answers status Reject.
func (c *Client) RejectTransfer(ctx context.Context, customerID, transferID string) (*Transfer, error) {
	out := &Transfer{}
	err := c.do(ctx, call{op: "RejectTransfer", method: http.MethodPatch, path: transferPath(customerID, transferID),
		body: map[string]string{"id": transferID, "status": "reject"}, retryable: true}, out)
	return out, err
}

// AcceptTransfer accepts a transfer away from this partner (source side):
// POST .../transfers/{id}/accept, answering the orders the target partner
// gets and an error for each group that could not be ordered. Retries keep
// the call's MS-RequestId, which is what makes them safe.
func (c *Client) AcceptTransfer(ctx context.Context, customerID, transferID string) (*TransferSubmitResult, error) {
	out := &TransferSubmitResult{}
	err := c.do(ctx, call{op: "AcceptTransfer", method: http.MethodPost, path: transferPath(customerID, transferID) + "/accept", retryable: true}, out)
	return out, err
}

func transfersPath(customerID string) string {
	return "/customers/" + url.PathEscape(customerID) + "/transfers"
}

func transferPath(customerID, transferID string) string {
	return transfersPath(customerID) + "/" + url.PathEscape(transferID)
}
