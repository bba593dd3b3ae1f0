// Package graph is a client for the subset of Microsoft Graph a partner
// uses: for granular delegated admin privileges (GDAP), delegated admin
// relationships, their requests (lockForApproval, terminate) and access
// assignments, under /v1.0/tenantRelationships; for mail to customers'
// contacts, sendMail from a mailbox of the partner's tenant (application
// permission Mail.Send) and the mail found again in its Sent Items by an
// idempotency key (Mail.Read), under /v1.0/users (mail.go). It authenticates
// with the partner's application credentials against the same Entra ID token
// service as the Partner Center client, with Graph's token audience; retries
// briefly what is safe to retry; and limits its own request rate per partner
// tenant. It never waits out throttling: a call over the tenant's budget,
// answered 429, or answered 503 with a Retry-After longer than the retry
// policy waits, returns at once with an *apiretry.ThrottledError saying when
// to call again. It knows nothing of Kubernetes.
package graph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"golang.org/x/oauth2"

	"github.com/partnerops/multichannel-operator/internal/apiretry"
	"github.com/partnerops/multichannel-operator/internal/entra"
	pc "github.com/partnerops/multichannel-operator/internal/partnercenter"
)

// HeaderClientRequestID is the header Graph reads as the caller's request ID.
const HeaderClientRequestID = "client-request-id"

// Scopes of Microsoft Graph by host: the token's audience is Graph itself.
const (
	ScopePublic       = "https://graph.microsoft.com/.default"
	ScopeUSGovernment = "https://graph.microsoft.us/.default"
)

// DefaultRequestsPerMinute limits the client's own rate per partner tenant.
const DefaultRequestsPerMinute = 300

// Config configures a Client for one partner tenant.
type Config struct {
	// Endpoint is Graph's base URL, such as https://graph.microsoft.com; calls go below /v1.0.
	Endpoint string
	// AuthorityHost is Entra ID's base URL; tokens come from {AuthorityHost}/{TenantID}/oauth2/v2.0/token.
	AuthorityHost string
	// TenantID is the partner's tenant.
	TenantID    string
	Credentials pc.Credentials
	// Scope is the token's scope; empty: ScopeUSGovernment for graph.microsoft.us, else ScopePublic.
	Scope string
	// HTTPClient sends the requests; nil uses a client with a 30 second
	// timeout. The client copies it and never follows a redirect, whatever
	// its CheckRedirect says: credentials are never sent to a redirect.
	HTTPClient *http.Client
	// Limits, when set, hold the Graph request budget of each partner tenant,
	// shared by all clients built with them (make them with
	// pc.NewTenantLimiters(DefaultRequestsPerMinute), apart from Partner
	// Center's); RequestsPerMinute is then ignored.
	Limits *pc.TenantLimiters
	// RequestsPerMinute limits the rate of a client without Limits, which has
	// a budget of its own; 0 means DefaultRequestsPerMinute.
	RequestsPerMinute int
	// Retry bounds the retries within one call; fields left zero take pc.DefaultRetryPolicy's.
	Retry pc.RetryPolicy
	// Metrics records requests; nil uses DefaultMetrics.
	Metrics *Metrics
}

// Client calls Microsoft Graph on behalf of one partner tenant. It is safe
// for concurrent use; its token is cached until shortly before it expires.
type Client struct {
	endpoint *url.URL
	tenantID string
	tokens   oauth2.TokenSource
	sender   *apiretry.Sender
}

// New returns a Client for cfg.
func New(cfg Config) (*Client, error) {
	endpoint, err := apiretry.CheckConfig("graph", cfg.Endpoint, cfg.AuthorityHost, cfg.TenantID)
	if err != nil {
		return nil, err
	}
	scope := cfg.Scope
	if scope == "" {
		scope = ScopePublic
		if strings.EqualFold(endpoint.Hostname(), "graph.microsoft.us") {
			scope = ScopeUSGovernment
		}
	}
	sender, hc := apiretry.NewSender(apiretry.SenderConfig{Service: "microsoft graph", HTTPClient: cfg.HTTPClient,
		Limits: cfg.Limits, TenantID: cfg.TenantID, RequestsPerMinute: cfg.RequestsPerMinute, DefaultRequestsPerMinute: DefaultRequestsPerMinute,
		Retry: cfg.Retry, Metrics: cfg.Metrics, DefaultMetrics: DefaultMetrics})
	tokens, err := entra.AppTokens(entra.Config{AuthorityHost: cfg.AuthorityHost, TenantID: cfg.TenantID,
		Credentials: cfg.Credentials, HTTPClient: hc}, scope)
	if err != nil {
		return nil, err
	}
	return &Client{
		endpoint: endpoint, tenantID: cfg.TenantID, tokens: tokens, sender: sender,
	}, nil
}

// Error is an error response from Microsoft Graph.
type Error struct {
	Operation  string
	StatusCode int
	Code       string
	Message    string
	RequestID  string
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("microsoft graph %s: HTTP %d", e.Operation, e.StatusCode)
	if e.Code != "" {
		msg += " " + e.Code
	}
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}

// IsNotFound reports whether err is Graph's 404.
func IsNotFound(err error) bool { return hasStatus(err, http.StatusNotFound) }

// IsConflict reports whether err is Graph's 409 (such as a display name in use).
func IsConflict(err error) bool { return hasStatus(err, http.StatusConflict) }

// IsRejected reports whether Graph refused the request as sent (400, 403 or
// 409): sending it again will not help.
func IsRejected(err error) bool {
	var e *Error
	return errors.As(err, &e) && (e.StatusCode == http.StatusBadRequest || e.StatusCode == http.StatusForbidden || e.StatusCode == http.StatusConflict)
}

func hasStatus(err error, status int) bool {
	var e *Error
	return errors.As(err, &e) && e.StatusCode == status
}

// CheckCredentials obtains a Graph token, proving the credentials work for Graph.
func (c *Client) CheckCredentials(ctx context.Context) error {
	if _, err := c.tokens.Token(); err != nil {
		return fmt.Errorf("obtaining a Microsoft Graph token for tenant %s: %w", c.tenantID, apiretry.TokenError(err))
	}
	return nil
}

const relationships = "/tenantRelationships/delegatedAdminRelationships"

// CreateRelationship creates a relationship in status created. Graph has no
// idempotency key for it: a create whose answer was lost is found again by
// its display name (FindRelationship), which is unique per partner, so the
// client never sends it again; after a 429 (not processed: a ThrottledError)
// the caller does.
func (c *Client) CreateRelationship(ctx context.Context, r Relationship) (*Relationship, error) {
	out := &Relationship{}
	err := c.do(ctx, call{op: "CreateRelationship", method: http.MethodPost, path: relationships, body: r}, out)
	return out, err
}

// GetRelationship reads one relationship.
func (c *Client) GetRelationship(ctx context.Context, id string) (*Relationship, error) {
	out := &Relationship{}
	err := c.do(ctx, call{op: "GetRelationship", method: http.MethodGet, path: relationships + "/" + url.PathEscape(id), retryable: true}, out)
	return out, err
}

// FindRelationship returns the partner's relationship named displayName, or
// nil; it reads every page Graph answers.
func (c *Client) FindRelationship(ctx context.Context, displayName string) (*Relationship, error) {
	q := url.Values{"$filter": {"displayName eq '" + quote(displayName) + "'"}}
	k := call{op: "ListRelationships", method: http.MethodGet, path: relationships, query: q, retryable: true}
	for range maxPages {
		var out list[Relationship]
		if err := c.do(ctx, k, &out); err != nil {
			return nil, err
		}
		for i := range out.Value {
			if out.Value[i].DisplayName == displayName {
				return &out.Value[i], nil
			}
		}
		if out.NextLink == "" {
			return nil, nil
		}
		var err error
		if k, err = c.follow(k.op, relationships, out.NextLink); err != nil {
			return nil, err
		}
	}
	return nil, errTooManyPages(k.op)
}

// quote escapes a string for an OData literal: a quote is written twice.
func quote(s string) string { return strings.ReplaceAll(s, "'", "''") }

// MaxPageSize is the largest page ($top) the relationship and access
// assignment lists take: "$top supports up to 300 objects".
const MaxPageSize = 300

// ListRelationships reads the first page of the partner's relationships,
// MaxPageSize of them, only customerTenantID's when it is not empty ($filter
// on customer/tenantId); NextRelationships reads the pages after it. A page
// may hold reseller relationships of an indirect provider's resellers
// (ODataType ODataResellerRelationship).
// Source: https://learn.microsoft.com/graph/api/tenantrelationship-list-delegatedadminrelationships
func (c *Client) ListRelationships(ctx context.Context, customerTenantID string) (*RelationshipPage, error) {
	q := url.Values{"$top": {strconv.Itoa(MaxPageSize)}}
	if customerTenantID != "" {
		q.Set("$filter", "customer/tenantId eq '"+quote(customerTenantID)+"'")
	}
	return c.relationshipPage(ctx, call{op: "ListRelationships", method: http.MethodGet, path: relationships, query: q, retryable: true})
}

// NextRelationships reads the page an @odata.nextLink names: the whole URL,
// as Graph's paging asks ("You should include the entire URL"), only on the
// client's own endpoint.
// Source: https://learn.microsoft.com/graph/paging
func (c *Client) NextRelationships(ctx context.Context, nextLink string) (*RelationshipPage, error) {
	k, err := c.follow("ListRelationships", relationships, nextLink)
	if err != nil {
		return nil, err
	}
	return c.relationshipPage(ctx, k)
}

func (c *Client) relationshipPage(ctx context.Context, k call) (*RelationshipPage, error) {
	var out list[Relationship]
	if err := c.do(ctx, k, &out); err != nil {
		return nil, err
	}
	return &RelationshipPage{Relationships: out.Value, NextLink: out.NextLink}, nil
}

// maxPages bounds the pages one list reads: a service that answered
// next links forever would hold the caller.
const maxPages = 10000

func errTooManyPages(op string) error {
	return fmt.Errorf("microsoft graph %s: more than %d pages; stopped reading", op, maxPages)
}

// follow is the call an @odata.nextLink makes: the link's URL, which must
// be on the client's endpoint and below path there; credentials go nowhere else.
func (c *Client) follow(op, path, nextLink string) (call, error) {
	u, err := url.Parse(nextLink)
	if err != nil || !strings.EqualFold(u.Scheme, c.endpoint.Scheme) || !strings.EqualFold(u.Host, c.endpoint.Host) || u.User != nil ||
		u.EscapedPath() != c.endpoint.EscapedPath()+"/v1.0"+path {
		return call{}, fmt.Errorf("microsoft graph %s: the next link %q is not a page of %s on %s; it is not followed", op, redactQuery(nextLink), path, c.endpoint.Host)
	}
	return call{op: op, method: http.MethodGet, path: path, rawQuery: u.RawQuery, retryable: true}, nil
}

// redactQuery is a URL without its query (a skip token says nothing useful).
func redactQuery(raw string) string {
	before, _, _ := strings.Cut(raw, "?")
	return before
}

// UpdateRelationship patches a relationship: any field while it is created,
// autoExtendDuration also while active. etag is the relationship's @odata.etag.
func (c *Client) UpdateRelationship(ctx context.Context, id, etag string, u RelationshipUpdate) (*Relationship, error) {
	out := &Relationship{}
	err := c.do(ctx, call{op: "UpdateRelationship", method: http.MethodPatch, path: relationships + "/" + url.PathEscape(id),
		body: u, ifMatch: etag, retryable: true}, out)
	return out, err
}

// DeleteRelationship deletes a relationship that was never locked for approval.
func (c *Client) DeleteRelationship(ctx context.Context, id, etag string) error {
	return c.do(ctx, call{op: "DeleteRelationship", method: http.MethodDelete, path: relationships + "/" + url.PathEscape(id),
		ifMatch: etag, retryable: true}, nil)
}

// Request asks for action (lockForApproval, terminate) on a relationship.
// Only its effect on the relationship's status tells whether a lost answer
// was processed, so the client never sends it again; after a 429 (a
// ThrottledError) the caller may.
func (c *Client) Request(ctx context.Context, id, action string) (*RelationshipRequest, error) {
	out := &RelationshipRequest{}
	err := c.do(ctx, call{op: "CreateRelationshipRequest", method: http.MethodPost, path: relationships + "/" + url.PathEscape(id) + "/requests",
		body: RelationshipRequest{Action: action}}, out)
	return out, err
}

// ListAccessAssignments lists a relationship's access assignments, every
// page Graph answers.
// Source: https://learn.microsoft.com/graph/api/delegatedadminrelationship-list-accessassignments
func (c *Client) ListAccessAssignments(ctx context.Context, relationshipID string) ([]AccessAssignment, error) {
	path := relationships + "/" + url.PathEscape(relationshipID) + "/accessAssignments"
	k := call{op: "ListAccessAssignments", method: http.MethodGet, path: path, retryable: true}
	var all []AccessAssignment
	for range maxPages {
		var out list[AccessAssignment]
		if err := c.do(ctx, k, &out); err != nil {
			return nil, err
		}
		all = append(all, out.Value...)
		if out.NextLink == "" {
			return all, nil
		}
		var err error
		if k, err = c.follow(k.op, path, out.NextLink); err != nil {
			return nil, err
		}
	}
	return nil, errTooManyPages(k.op)
}

// CreateAccessAssignment gives a security group roles of an active
// relationship. Graph refuses a second assignment for the same group, so a
// lost answer is found again with ListAccessAssignments.
func (c *Client) CreateAccessAssignment(ctx context.Context, relationshipID string, a AccessAssignment) (*AccessAssignment, error) {
	out := &AccessAssignment{}
	err := c.do(ctx, call{op: "CreateAccessAssignment", method: http.MethodPost,
		path: relationships + "/" + url.PathEscape(relationshipID) + "/accessAssignments", body: a}, out)
	return out, err
}

// call is one logical API call, which may be sent several times.
type call struct {
	op        string
	method    string
	path      string // below /v1.0, escaped
	query     url.Values
	rawQuery  string // sent as it is, instead of query: a next link's
	body      any
	ifMatch   string
	retryable bool // may be sent again after a 5xx or a network error
}

func (c *Client) do(ctx context.Context, k call, out any) error {
	// Every attempt of one call carries the same client-request-id, so that
	// Graph's logs (and the simulator's duplicate counter) tie them together.
	requestID := uuid.NewString()
	// k.path is escaped (url.PathEscape of each segment): RawPath keeps it
	// so, and a segment such as o'brien@contoso.com is not escaped twice.
	u := *c.endpoint
	escaped := u.EscapedPath() + "/v1.0" + k.path
	path, err := url.PathUnescape(escaped)
	if err != nil {
		return fmt.Errorf("microsoft graph %s: the path %s: %w", k.op, escaped, err)
	}
	u.Path, u.RawPath = path, escaped
	u.RawQuery = k.query.Encode()
	if k.rawQuery != "" {
		u.RawQuery = k.rawQuery
	}
	h := http.Header{}
	h.Set(HeaderClientRequestID, requestID)
	h.Set("return-client-request-id", "true")
	if k.ifMatch != "" {
		h.Set("If-Match", k.ifMatch)
	}
	return c.sender.Do(ctx, apiretry.Call{
		Op: k.op, Method: k.method, URL: u.String(), Body: k.body, Tokens: c.tokens, Header: h, Retryable: k.retryable,
		Error: func(status int, data []byte) error {
			apiErr := &Error{Operation: k.op, StatusCode: status, RequestID: requestID}
			var eb ErrorBody
			if json.Unmarshal(data, &eb) == nil {
				apiErr.Code, apiErr.Message = eb.Error.Code, eb.Error.Message
			}
			return apiErr
		},
	}, out)
}
