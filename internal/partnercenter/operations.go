package partnercenter

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

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
// deleted (cancelled). Setting a status is idempotent, so it is retried.
func (c *Client) UpdateSubscriptionStatus(ctx context.Context, customerID, subscriptionID, status string) (*Subscription, error) {
	out := &Subscription{}
	err := c.do(ctx, call{op: "UpdateSubscription", method: http.MethodPatch, path: subscriptionPath(customerID, subscriptionID),
		body: map[string]string{"status": status}, retryable: true}, out)
	return out, err
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

// CreateOrder buys items for a customer through a cart and its checkout, and
// returns the order with the new subscriptions' IDs. requestID is the
// operation's idempotency key: repeating CreateOrder with the same requestID
// (after a crash or a lost response) returns the first order and buys nothing more.
func (c *Client) CreateOrder(ctx context.Context, customerID, requestID string, items []CartLineItem) (*Order, error) {
	if requestID == "" {
		return nil, errors.New("partner center CreateOrder: a request ID is required")
	}
	for i := range items {
		items[i].ID = i
	}
	cart := &Cart{}
	base := "/customers/" + url.PathEscape(customerID) + "/carts"
	if err := c.do(ctx, call{op: "CreateCart", method: http.MethodPost, path: base, body: Cart{LineItems: items},
		requestID: StepRequestID(requestID, "cart"), retryable: true}, cart); err != nil {
		return nil, err
	}
	result := &CartCheckoutResult{}
	if err := c.do(ctx, call{op: "CheckoutCart", method: http.MethodPost, path: base + "/" + url.PathEscape(cart.ID) + "/checkout",
		requestID: StepRequestID(requestID, "checkout"), retryable: true}, result); err != nil {
		return nil, err
	}
	if len(result.OrderErrors) > 0 {
		e := result.OrderErrors[0]
		return nil, &Error{Operation: "CheckoutCart", StatusCode: http.StatusOK, Code: e.ErrorCode, Description: e.Description}
	}
	if len(result.Orders) == 0 {
		return nil, fmt.Errorf("partner center CheckoutCart: cart %s produced no order", cart.ID)
	}
	return &result.Orders[0], nil
}

// CreateTransfer asks the source partner to transfer subscriptions to this
// partner. requestID is the idempotency key.
func (c *Client) CreateTransfer(ctx context.Context, customerID, requestID string, t Transfer) (*Transfer, error) {
	if requestID == "" {
		return nil, errors.New("partner center CreateTransfer: a request ID is required")
	}
	out := &Transfer{}
	err := c.do(ctx, call{op: "CreateTransfer", method: http.MethodPost, path: transfersPath(customerID), body: t,
		requestID: requestID, retryable: true}, out)
	return out, err
}

// GetTransfer gets a transfer.
func (c *Client) GetTransfer(ctx context.Context, customerID, transferID string) (*Transfer, error) {
	out := &Transfer{}
	err := c.do(ctx, call{op: "GetTransfer", method: http.MethodGet, path: transfersPath(customerID) + "/" + url.PathEscape(transferID), retryable: true}, out)
	return out, err
}

// CancelTransfer withdraws a transfer this partner created (target side).
func (c *Client) CancelTransfer(ctx context.Context, customerID, transferID string) (*Transfer, error) {
	return c.updateTransfer(ctx, "CancelTransfer", customerID, transferID, TransferCancelled)
}

// AcceptTransfer accepts a transfer away from this partner (source side).
func (c *Client) AcceptTransfer(ctx context.Context, customerID, transferID string) (*Transfer, error) {
	return c.updateTransfer(ctx, "AcceptTransfer", customerID, transferID, TransferCompleted)
}

func (c *Client) updateTransfer(ctx context.Context, op, customerID, transferID, status string) (*Transfer, error) {
	out := &Transfer{}
	err := c.do(ctx, call{op: op, method: http.MethodPatch, path: transfersPath(customerID) + "/" + url.PathEscape(transferID),
		body: map[string]string{"id": transferID, "status": status}, retryable: true}, out)
	return out, err
}

func transfersPath(customerID string) string {
	return "/customers/" + url.PathEscape(customerID) + "/transfers"
}
