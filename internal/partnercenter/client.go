// Package partnercenter is a client for the subset of the Partner Center REST
// API the operator uses: the reseller relationship request link, customers,
// subscriptions, cart and checkout, and transfers. It authenticates with Entra
// ID (client credentials, and a refresh token for App+User calls), sends
// MS-RequestId, MS-CorrelationId and MS-Contract-Version on every call,
// retries briefly what is safe to retry, and limits its own request rate per
// partner tenant. It never waits out throttling: a call over the tenant's
// budget, or answered 429, returns at once with an *apiretry.ThrottledError
// saying when to call again (ThrottledFor). It knows nothing of Kubernetes.
//
// The shapes it sends and reads are held against the examples in Microsoft's
// Partner Center documentation, kept in testdata/ (see docs/partnercenter.md).
package partnercenter

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"
	"golang.org/x/oauth2"

	"github.com/partnerops/multichannel-operator/internal/apiretry"
	"github.com/partnerops/multichannel-operator/internal/entra"
)

// Header names Partner Center reads.
const (
	HeaderRequestID       = "MS-RequestId"
	HeaderCorrelationID   = "MS-CorrelationId"
	HeaderContractVersion = "MS-Contract-Version"
)

// ContractVersion is the API version every call names; the headers page
// marks MS-Contract-Version required, "generally api-version: v1".
const ContractVersion = "v1"

// Scope is the Partner Center API's OAuth2 scope.
const Scope = "https://api.partnercenter.microsoft.com/.default"

// UserScope is what the App+User refresh grant asks for: Partner Center
// on the signed-in user's behalf (user_impersonation, as Partner Center's
// PowerShell module's New-PartnerAccessToken documents) and a new refresh
// token with the access token (offline_access).
const UserScope = "https://api.partnercenter.microsoft.com/user_impersonation offline_access"

// DefaultRequestsPerMinute is Partner Center's documented limit on customer and
// subscription calls per partner tenant.
const DefaultRequestsPerMinute = 500

// Credentials are a partner application's credentials (entra.Credentials).
// RefreshToken is needed only for App+User calls (the reseller relationship
// request link).
type Credentials = entra.Credentials

// RetryPolicy bounds the retries within one call (apiretry.Policy): a
// couple of seconds of waiting at most, by default; the call's context
// bounds them too. Fields left zero take DefaultRetryPolicy's values.
type RetryPolicy = apiretry.Policy

// DefaultRetryPolicy sends a call at most four times, waiting at most two
// seconds in all between the attempts.
var DefaultRetryPolicy = apiretry.DefaultPolicy

// ThrottledError is the error of a call not sent (the tenant's request
// budget is spent: it wraps apiretry.ErrRateLimited) or throttled (429: it
// wraps the *Error): call again after After, with the same MS-RequestId.
type ThrottledError = apiretry.ThrottledError

// ThrottledFor reports whether err is a ThrottledError, and how long to wait.
func ThrottledFor(err error) (time.Duration, bool) { return apiretry.ThrottledFor(err) }

// TenantLimiters hold one request budget per partner tenant, shared by every
// client configured with them (Config.Limits).
type TenantLimiters = apiretry.TenantLimiters

// NewTenantLimiters returns budgets of requestsPerMinute per partner tenant;
// 0 or less means DefaultRequestsPerMinute.
func NewTenantLimiters(requestsPerMinute int) *TenantLimiters {
	if requestsPerMinute <= 0 {
		requestsPerMinute = DefaultRequestsPerMinute
	}
	return apiretry.NewTenantLimiters(requestsPerMinute)
}

// Config configures a Client for one partner tenant.
type Config struct {
	// Endpoint is the API's base URL, such as https://api.partnercenter.microsoft.com.
	Endpoint string
	// AuthorityHost is Entra ID's base URL; tokens come from {AuthorityHost}/{TenantID}/oauth2/v2.0/token.
	AuthorityHost string
	// TenantID is the partner's tenant.
	TenantID    string
	Credentials Credentials
	// HTTPClient sends the requests; nil uses a client with a 30 second
	// timeout. The client copies it and never follows a redirect, whatever
	// its CheckRedirect says: credentials are never sent to a redirect.
	HTTPClient *http.Client
	// Limits, when set, hold the request budget of each partner tenant,
	// shared by all clients built with them: two Partners with one tenant, or
	// a client rebuilt after a secret rotation, spend one budget, as Partner
	// Center counts it. RequestsPerMinute is then ignored.
	Limits *TenantLimiters
	// RequestsPerMinute limits the rate of a client without Limits, which has
	// a budget of its own; 0 means DefaultRequestsPerMinute.
	RequestsPerMinute int
	// Retry bounds the retries within one call; fields left zero take DefaultRetryPolicy's.
	Retry RetryPolicy
	// Metrics records requests; nil uses DefaultMetrics.
	Metrics *Metrics
	// OnRefreshTokenRenewed, when set, is given each new refresh token the
	// token service returns, to store it: the client uses it from then on,
	// and the one it was built with may be refused or expire. It must not
	// log the token.
	OnRefreshTokenRenewed func(refreshToken string)
	// Now is the clock the activity log's input checks read (how far back
	// a window may start); nil is time.Now.
	Now func() time.Time
}

// Client calls Partner Center on behalf of one partner tenant. It is safe for
// concurrent use; tokens are cached until shortly before they expire.
type Client struct {
	endpoint *url.URL
	tenantID string
	app      oauth2.TokenSource // client credentials
	user     oauth2.TokenSource // App+User: refresh token; nil without one
	sender   *apiretry.Sender
	now      func() time.Time
	clientID string
}

// ClientID is the application the client calls as: the activity log names
// it as applicationId of what the client did.
func (c *Client) ClientID() string { return c.clientID }

// TenantID is the partner tenant the client calls for.
func (c *Client) TenantID() string { return c.tenantID }

// New returns a Client for cfg.
func New(cfg Config) (*Client, error) {
	endpoint, err := apiretry.CheckConfig("partner center", cfg.Endpoint, cfg.AuthorityHost, cfg.TenantID)
	if err != nil {
		return nil, err
	}
	sender, hc := apiretry.NewSender(apiretry.SenderConfig{Service: "partner center", HTTPClient: cfg.HTTPClient,
		Limits: cfg.Limits, TenantID: cfg.TenantID, RequestsPerMinute: cfg.RequestsPerMinute, DefaultRequestsPerMinute: DefaultRequestsPerMinute,
		Retry: cfg.Retry, Metrics: cfg.Metrics, DefaultMetrics: DefaultMetrics})
	// Token requests go through a copy of the same HTTP client, bounded by its timeout.
	tokens := entra.Config{AuthorityHost: cfg.AuthorityHost, TenantID: cfg.TenantID, Credentials: cfg.Credentials, HTTPClient: hc}
	app, err := entra.AppTokens(tokens, Scope)
	if err != nil {
		return nil, err
	}
	var user oauth2.TokenSource
	if cfg.Credentials.RefreshToken != "" {
		user = entra.UserTokens(tokens, UserScope, cfg.OnRefreshTokenRenewed)
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	return &Client{
		endpoint: endpoint, tenantID: cfg.TenantID, app: app, user: user, now: now, clientID: cfg.Credentials.ClientID,
		sender: sender,
	}, nil
}

// CheckCredentials obtains an application token, proving the credentials work.
func (c *Client) CheckCredentials(ctx context.Context) error {
	if _, err := c.app.Token(); err != nil {
		return fmt.Errorf("obtaining a token for tenant %s: %w", c.tenantID, apiretry.TokenError(err))
	}
	return nil
}

// CheckUserCredentials obtains an App+User token with the refresh token, so
// that a partner can tell whether App+User calls (the request link) are
// possible. It returns ErrUserCredentialsRequired without a refresh token.
func (c *Client) CheckUserCredentials(ctx context.Context) error {
	if c.user == nil {
		return ErrUserCredentialsRequired
	}
	if _, err := c.user.Token(); err != nil {
		return fmt.Errorf("obtaining an App+User token for tenant %s: %w", c.tenantID, apiretry.TokenError(err))
	}
	return nil
}

// Error is an error response from Partner Center, or an order group a
// checkout could not order (StatusCode is then the checkout's 2xx and
// OrderGroupID names the group).
type Error struct {
	Operation  string
	StatusCode int
	// Code is Partner Center's error code; CodeText holds a code sent as a
	// string that is not a number.
	Code        int
	CodeText    string
	Description string
	// Data are the details some errors carry, as sent (strings unquoted).
	Data []string
	// Source is the Partner Center component that answered.
	Source       string
	OrderGroupID string
	RequestID    string
	// CorrelationID is the MS-CorrelationId the call was sent with, which
	// Partner Center support asks for.
	CorrelationID string
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("partner center %s: HTTP %d", e.Operation, e.StatusCode)
	switch {
	case e.Code != 0:
		msg += fmt.Sprintf(", code %d", e.Code)
	case e.CodeText != "":
		msg += ", code " + e.CodeText
	}
	if e.OrderGroupID != "" {
		msg += ", order group " + e.OrderGroupID
	}
	if e.Description != "" {
		msg += ": " + e.Description
	}
	if len(e.Data) > 0 {
		msg += " (" + strings.Join(e.Data, "; ") + ")"
	}
	return msg
}

// IsNotFound reports whether err is Partner Center's 404.
func IsNotFound(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.StatusCode == http.StatusNotFound
}

// CodeNoCommerceRelationship is the documented error of a partner asking about
// a customer it has no relationship with: 403, "The partner ID {0} has no
// commerce relationship with the customer ID {1}."
const CodeNoCommerceRelationship = 20002

// CodeAgreementRequired is Partner Center's code (with 403) for a purchase
// for a customer whose acceptance of the Microsoft Customer Agreement it
// does not hold.
const CodeAgreementRequired = 13605

// IsAgreementRequired reports whether Partner Center refused a purchase
// because the customer has not accepted the Microsoft Customer Agreement.
func IsAgreementRequired(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.StatusCode == http.StatusForbidden && e.Code == CodeAgreementRequired
}

// CodeAvailabilityNotFound is Partner Center's code (with 404) for a cart
// line item whose availability is not current: "Partners that get this
// error should issue a new GET to ensure they have the current
// availability ID and retry" (get-an-availability-by-id).
const CodeAvailabilityNotFound = 400019

// IsAvailabilityNotFound reports whether Partner Center refused a catalog
// item ID whose availability is not (or no longer) current: the caller
// reads the availabilities again and buys with a current one.
func IsAvailabilityNotFound(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == CodeAvailabilityNotFound
}

// CodeSeatLimit is Partner Center's code for a purchase over a SKU's seat
// limit, pooled on the customer tenant: "The requested number of N seats
// exceeds the remaining limit of M seats allowed per subscription for the
// CatalogItemId - ...".
const CodeSeatLimit = 800088

// CodeSubscriptionLimit is the general error table's 403 "The desired
// number of subscriptions exceeded the maximum number of subscriptions
// allowed per customer". Partner Center documents no answer to a second
// Azure plan; the simulator answers this one.
const CodeSubscriptionLimit = 800066

// IsNoCommerceRelationship reports whether err is Partner Center's 403 with
// code 20002. Whether looking up a customer that has not accepted answers
// this or 404 is not documented, so callers waiting for a customer treat both
// as "not yet".
func IsNoCommerceRelationship(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.StatusCode == http.StatusForbidden && e.Code == CodeNoCommerceRelationship
}

// ErrCustomerNotVisible: a call that must read the customer first found it
// not visible to the partner (404, or 403 with code 20002): the customer has
// not accepted the partner's reseller request, or not yet.
var ErrCustomerNotVisible = errors.New("the customer is not visible to the partner: it has not accepted the reseller relationship (yet)")

// IsRefused reports whether Partner Center refused the request itself, so
// that sending it again cannot succeed: a 4xx other than 401 (the token),
// 403 (a relationship or role a person can still grant; not 800066, a
// subscription over the customer's limit) and 429 (throttling), or an
// order group checkout could not order. A customer not
// visible yet (ErrCustomerNotVisible) is not a refusal: it may accept later.
func IsRefused(err error) bool {
	var e *Error
	if !errors.As(err, &e) || errors.Is(err, ErrCustomerNotVisible) {
		return false
	}
	switch {
	case e.OrderGroupID != "":
		return true
	case e.StatusCode == http.StatusForbidden && e.Code == CodeSubscriptionLimit:
		return true // no person can grant a subscription over the limit
	case e.StatusCode == http.StatusUnauthorized, e.StatusCode == http.StatusForbidden, e.StatusCode == http.StatusTooManyRequests:
		return false
	}
	return e.StatusCode >= 400 && e.StatusCode < 500
}

// ErrUserCredentialsRequired: the call needs App+User credentials (a refresh token).
var ErrUserCredentialsRequired = errors.New("this call needs App+User credentials: add refreshToken to the partner's credentials Secret")

// call is one logical API call, which may be sent several times.
type call struct {
	op        string // operation name, for errors and metrics
	method    string
	base      string // the API's prefix; "" is /v1 (the webhook calls use /webhooks/v1)
	path      string // below base
	query     url.Values
	header    http.Header // further request headers, such as MS-ContinuationToken
	body      any
	requestID string // idempotency key; creates supply it, reads get a new one
	ifMatch   string // the ETag an update names
	user      bool   // App+User token
	// retryable: reads, and creates that carry a caller's request ID, may be sent again.
	retryable bool
	// follows: the call continues an operation whose first request was
	// sent; it waits briefly for the tenant's budget instead of returning.
	follows bool
}

type correlationKey struct{}

// WithCorrelationID names the object (such as a subscription's UID) that calls
// made with ctx are made for. Partner Center wants a fresh MS-CorrelationId
// for every call ("The value should be reset for every call"), so the ID
// is not sent: every call gets a fresh MS-CorrelationId, which its errors
// carry (Error.CorrelationID); a log line holding both ties the call to
// the object.
func WithCorrelationID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, correlationKey{}, id)
}

// CorrelationIDFrom is the ID WithCorrelationID put in ctx, or "".
func CorrelationIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(correlationKey{}).(string)
	return id
}

func (c *Client) do(ctx context.Context, k call, out any) error {
	ts := c.app
	if k.user {
		if c.user == nil {
			return fmt.Errorf("partner center %s: %w", k.op, ErrUserCredentialsRequired)
		}
		ts = c.user
	}
	if k.requestID == "" {
		k.requestID = uuid.NewString()
	}
	// One call, one MS-CorrelationId; its retries are the same call and keep it.
	correlationID := uuid.NewString()
	u := *c.endpoint
	if k.base == "" {
		k.base = "/v1"
	}
	u.Path += k.base + k.path
	u.RawQuery = k.query.Encode()
	h := k.header.Clone()
	if h == nil {
		h = http.Header{}
	}
	h.Set(HeaderRequestID, k.requestID)
	h.Set(HeaderCorrelationID, correlationID)
	h.Set(HeaderContractVersion, ContractVersion)
	if k.ifMatch != "" {
		h.Set("If-Match", k.ifMatch)
	}
	return c.sender.Do(ctx, apiretry.Call{
		Op: k.op, Method: k.method, URL: u.String(), Body: k.body, Tokens: ts, Header: h,
		Retryable: k.retryable, Follows: k.follows,
		Error: func(status int, data []byte) error { return errorOf(k.op, status, k.requestID, correlationID, data) },
	}, out)
}

// errorOf is Partner Center's error answer, its documented body read when
// it has one.
func errorOf(op string, status int, requestID, correlationID string, data []byte) *Error {
	apiErr := &Error{Operation: op, StatusCode: status, RequestID: requestID, CorrelationID: correlationID}
	var eb ErrorBody
	if json.Unmarshal(data, &eb) == nil {
		apiErr.Code, apiErr.CodeText, apiErr.Description, apiErr.Source = eb.Code.Number, eb.Code.Text, eb.Description, eb.Source
		for _, d := range eb.Data {
			var s string
			if json.Unmarshal(d, &s) != nil {
				s = string(d)
			}
			apiErr.Data = append(apiErr.Data, s)
		}
	}
	return apiErr
}
