// Package sim is a Partner Center simulator: an http.Handler speaking the
// subset of the Partner Center REST API the operator uses, with an Entra ID
// style token endpoint, endpoints to act as the customer and as a source
// partner, a clock that can be moved forward, fault injection and counters.
// Its state can live in a file so that it outlives a restart. It stands in for
// Partner Center in make dev, the tests and the benchmarks.
package sim

import (
	crand "crypto/rand"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/partnerops/multichannel-operator/internal/azurerm/armsim"
)

// Options configure a simulator.
type Options struct {
	// StatePath is the file the state lives in; empty keeps it in memory.
	StatePath string
	// AutoApproveAfter, when positive, makes customers accept a partner's
	// reseller request, and source partners accept transfers, this long after
	// the request. The request link names no customer, so a customer the partner
	// asks about after requesting a link counts as having accepted once the delay passed.
	AutoApproveAfter time.Duration
	// SkipRelationshipCheck lets purchases and transfers through without the
	// customer having accepted the partner's reseller request. By default they
	// fail with 403, as Partner Center refuses them; only tests of something
	// else should turn the check off.
	SkipRelationshipCheck bool
	// ThrottleRate is the share of API requests answered 429 with Retry-After.
	ThrottleRate float64
	// RetryAfter is the Retry-After of throttled responses; default 1s.
	RetryAfter time.Duration
	// ErrorRate is the share of API requests answered 503.
	ErrorRate float64
	// Latency is added to every API request.
	Latency time.Duration
	// HoldCreates holds the first attempt of each create (by MS-RequestId)
	// this long before it is processed, whether or not the caller is still
	// waiting: a response that never comes, although the create happens.
	HoldCreates time.Duration
	// ProvisioningDelay keeps a checkout's orders pending, their line items
	// without subscription IDs, this long on the simulator's clock, as
	// Partner Center provisions subscriptions asynchronously. Zero completes
	// orders at checkout.
	ProvisioningDelay time.Duration
	// RefuseAtCheckout: catalog item IDs Partner Center will not sell, with
	// the reason. A checkout answers an orderError for each order group that
	// holds one, and orders nothing of that group; the cart's other order
	// groups are ordered.
	RefuseAtCheckout map[string]string
	// UnprovisionedAtDue: catalog item IDs Partner Center accepts at
	// checkout but does not provision, with the order status it then ends
	// in (such as cancelled, or po review rejected): when the order is due
	// its line items for them get no subscription, and the order ends in
	// that status, or in "partial success" when it provisioned others.
	UnprovisionedAtDue map[string]string
	// HideSubscriptionIDs: a due order is completed and its subscriptions
	// exist, but its line items do not name them, as Partner Center's
	// documented completed order does not.
	HideSubscriptionIDs bool
	// CustomersWithoutAgreement are customer tenants whose acceptance of
	// the Microsoft Customer Agreement Partner Center does not hold: a cart
	// for them is refused 403, code 13605, until /sim/v1/agreements/accept.
	CustomersWithoutAgreement []string
	// IndirectResellers are partner tenants enrolled as indirect resellers:
	// they have no Partner Center API access of their own (their indirect
	// provider calls for them), so every API call with their token is
	// answered 403.
	IndirectResellers []string
	// Credentials, when not empty, are the only client ID → secret pairs the
	// token endpoint accepts; empty accepts any non-empty pair.
	Credentials map[string]string
	// Certificates: each application's registered certificates (client ID →
	// certificates). The token endpoint accepts a client assertion signed by
	// one of their keys; an application has none unless listed.
	Certificates map[string][]*x509.Certificate
	// FederatedCredentials: each application's federated identity
	// credentials (client ID → credentials). The token endpoint accepts a
	// token matching one as the application's client assertion; an
	// application has none unless listed.
	FederatedCredentials map[string][]FederatedCredential
	// TokenLifetime is how long issued tokens last; default 1h.
	TokenLifetime time.Duration
	// SingleUseRefreshTokens: a refresh token redeemed once is refused after.
	// Stricter than Entra ID, which does not revoke a token it replaced
	// (each lives its 90 days): it proves that whoever renews keeps and uses
	// the newest.
	SingleUseRefreshTokens bool
	// KeepRefreshTokens: the refresh-token grant answers no new refresh
	// token, so the one held keeps ageing.
	KeepRefreshTokens bool
	// DeviceCodeInterval is the polling interval a device code asks for, in
	// seconds; default 5, as Entra ID answers.
	DeviceCodeInterval int
	// DeviceCodeLifetime is how long a device code may be used; default 15 minutes.
	DeviceCodeLifetime time.Duration
	// NotSoldTo: customer tenant → the products and SKUs ("productId:skuId",
	// such as "CFQ7TTC0LFLX:0001") the catalog does not sell that customer:
	// their availabilities list is empty, and a cart naming one is refused
	// (404, 400019), as for an availability that is not current.
	NotSoldTo map[string][]string
	// ARMProvisioningPolls is armsim's ProvisioningPolls: the reads of a new
	// subscription alias that answer Accepted before it Succeeded; default 1.
	ARMProvisioningPolls int
	// Now is the wall clock; default time.Now. The simulator's own clock is
	// Now plus what /sim/v1/clock/advance added.
	Now func() time.Time
	// WebhookClient sends webhook events; nil is a client with a 10 second
	// timeout over http.DefaultTransport, following no redirect.
	WebhookClient *http.Client
	// WebhookBaseURL is the simulator's own URL as receivers reach it, for
	// the certificate URL (x-ms-certificate-url) and the events' URIs;
	// empty takes it from the registration's request (its Host).
	WebhookBaseURL string
	// WebhookAttempts is how often an event is sent before it is given up;
	// default 10, as Partner Center documents.
	WebhookAttempts int
	// WebhookRetryInterval is the wait before the second attempt, doubled
	// for each further one (at most a minute); default 1s.
	WebhookRetryInterval time.Duration
}

// TransferLifetime is how long a source partner has to accept a transfer.
const TransferLifetime = 30 * 24 * time.Hour

// Server is the simulator. It is an http.Handler.
type Server struct {
	opts Options
	mux  *http.ServeMux
	// catalog is what the simulator sells (catalog.go).
	catalog []*catalogSKU
	// arm is Azure Resource Manager, served at /providers/ (azure.go).
	arm *armsim.Server

	mu sync.Mutex
	st *state
	// throttledUntil: when each throttled MS-RequestId may be sent again
	// (Retry-After); a retry before then is counted as EarlyRetries.
	throttledUntil map[string]time.Time
	// held: the MS-RequestIds of creates held once already.
	held map[string]bool
	// windows: each tenant's requests in the last minute (Stats.Tenants).
	windows map[string]*minuteWindow
	// actor is who makes the change the handler running makes (the API
	// caller, a person, Microsoft), for the activity log.
	actor actor
	// testEvents: each partner's test events in the last minute (two a minute).
	testEvents map[string][]time.Time
	// stop ends the webhook deliveries' retries (Close).
	stop     chan struct{}
	stopOnce sync.Once
}

// New returns a simulator, loading its state from opts.StatePath when the file exists.
func New(opts Options) (*Server, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.RetryAfter <= 0 {
		opts.RetryAfter = time.Second
	}
	if opts.TokenLifetime <= 0 {
		opts.TokenLifetime = time.Hour
	}
	if opts.WebhookAttempts <= 0 {
		opts.WebhookAttempts = 10
	}
	if opts.WebhookRetryInterval <= 0 {
		opts.WebhookRetryInterval = time.Second
	}
	s := &Server{opts: opts, st: newState(), throttledUntil: map[string]time.Time{}, held: map[string]bool{},
		windows: map[string]*minuteWindow{}, testEvents: map[string][]time.Time{}, stop: make(chan struct{})}
	if opts.StatePath != "" {
		data, err := os.ReadFile(opts.StatePath)
		switch {
		case err == nil:
			if err := json.Unmarshal(data, s.st); err != nil {
				return nil, fmt.Errorf("reading simulator state %s: %w", opts.StatePath, err)
			}
			s.st.init()
		case errors.Is(err, os.ErrNotExist):
		default:
			return nil, fmt.Errorf("reading simulator state: %w", err)
		}
	}
	if len(s.st.Key) == 0 {
		s.st.Key = make([]byte, 32)
		if _, err := crand.Read(s.st.Key); err != nil {
			return nil, err
		}
	}
	s.catalog = defaultCatalog()
	s.arm = s.newARM()
	if s.st.ARM != nil {
		s.arm.Restore(*s.st.ARM)
	}
	s.routes()
	return s, nil
}

// ServeHTTP serves the simulator's routes, and Azure Resource Manager's
// under /providers/ (its paths are case-insensitive, as ARM's are).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(strings.ToLower(r.URL.Path), "/providers/") {
		s.serveARM(w, r)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// Stats returns a copy of the counters, Azure Resource Manager's included.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.st.Stats.clone()
	c.ARM = s.arm.Stats()
	return c
}

// Close writes the state (counters included) to its file, and ends the
// retries of webhook deliveries.
func (s *Server) Close() error {
	s.stopOnce.Do(func() { close(s.stop) })
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.save()
}

// now is the simulator's clock.
func (s *Server) now() time.Time { return s.opts.Now().Add(s.st.ClockOffset).UTC() }

// Now is the simulator's clock: the wall clock plus what
// /sim/v1/clock/advance added. Records and events are dated by it.
func (s *Server) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now()
}

// save writes the state atomically: a reader never sees a half-written file.
// The caller holds s.mu.
func (s *Server) save() error {
	if s.opts.StatePath == "" {
		return nil
	}
	arm := s.arm.State()
	s.st.ARM, s.st.Stats.ARM = &arm, arm.Stats
	data, err := json.MarshalIndent(s.st, "", "  ")
	if err != nil {
		return err
	}
	dir := filepath.Dir(s.opts.StatePath)
	tmp, err := os.CreateTemp(dir, ".partnercenter-sim-*")
	if err != nil {
		return fmt.Errorf("writing simulator state: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("writing simulator state: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), s.opts.StatePath)
}

// state is everything the simulator knows; it is what the state file holds.
type state struct {
	Key         []byte        `json:"key"`
	ClockOffset time.Duration `json:"clockOffset"`
	// DeviceCodes waiting for a person's sign-in, by device code.
	DeviceCodes map[string]*deviceCode `json:"deviceCodes,omitempty"`
	// RefreshTokens the token endpoint issued or was shown, by token: a
	// refresh token inactive for 90 days on the simulator's clock expires
	// (AADSTS700082), and with SingleUseRefreshTokens a redeemed one is refused.
	RefreshTokens map[string]*refreshToken `json:"refreshTokens,omitempty"`
	// LinkRequests: when each partner tenant first asked for its request link.
	LinkRequests map[string]time.Time `json:"linkRequests"`
	// LinkResellers: the indirect resellers each provider asked links for.
	LinkResellers map[string][]string `json:"linkResellers,omitempty"`
	// Agreements: customers whose Microsoft Customer Agreement acceptance
	// was recorded (after starting without one).
	Agreements map[string]bool `json:"agreements,omitempty"`
	// AgreementRecords: the partners' confirmations of each customer's
	// acceptance, by customer tenant.
	AgreementRecords map[string][]agreement `json:"agreementRecords,omitempty"`
	// TransferPartnerOnRecord: the partnerOnRecord a transfer was created
	// with, by transfer ID; its line items name it when they move.
	TransferPartnerOnRecord map[string]string `json:"transferPartnerOnRecord,omitempty"`
	// Relationships by partner|customer tenant: a customer's decision.
	Relationships map[string]*relationship      `json:"relationships"`
	Customers     map[string]*companyProfile    `json:"customers"`
	Subscriptions map[string]*ownedSubscription `json:"subscriptions"`
	Carts         map[string]*cartRecord        `json:"carts"`
	Orders        map[string]*orderRecord       `json:"orders"`
	Transfers     map[string]*transfer          `json:"transfers"`
	// Entitlements: the Azure subscriptions under each Azure plan, by the
	// plan's subscription ID.
	Entitlements map[string][]azureEntitlement `json:"entitlements,omitempty"`
	// AuditRecords are the activity log, oldest first, kept 90 days on the
	// simulator's clock; AuditTicks is the last record's time in ticks,
	// which each record's exceeds (unique IDs and dates).
	AuditRecords []auditRecord `json:"auditRecords,omitempty"`
	AuditTicks   int64         `json:"auditTicks,omitempty"`
	// Webhooks: each partner's webhook registration, by partner tenant.
	Webhooks map[string]*webhookRegistration `json:"webhooks,omitempty"`
	// WebhookSigner is the key and certificates events are signed with.
	WebhookSigner *webhookSigner `json:"webhookSigner,omitempty"`
	// TestEvents: the test events (validationEvents) by correlation ID.
	TestEvents map[string]*testEvent `json:"testEvents,omitempty"`
	// ARM is Azure Resource Manager's state (armsim), as of the last save.
	ARM       *armsim.State              `json:"arm,omitempty"`
	Responses map[string]*storedResponse `json:"responses"` // idempotency: partner|route|MS-RequestId
	Stats     Stats                      `json:"stats"`
}

// refreshToken is what the token endpoint knows of a refresh token.
// LastUsed is when it was issued (or first seen): it lives 90 days from then.
type refreshToken struct {
	Tenant   string    `json:"tenant"`
	ClientID string    `json:"clientId"`
	LastUsed time.Time `json:"lastUsed"`
	Redeemed bool      `json:"redeemed,omitempty"`
}

// RefreshTokenInactivity is how long a refresh token may go unused: Entra
// ID documents 90 days.
const RefreshTokenInactivity = 90 * 24 * time.Hour

type relationship struct {
	Partner  string    `json:"partner"`
	Customer string    `json:"customer"`
	Accepted bool      `json:"accepted"`
	At       time.Time `json:"at"`
	Source   string    `json:"source"` // "customer" or "auto"
	// IndirectResellers: the indirect resellers (tenants) the customer
	// accepted with the partner, an indirect provider, through links that
	// named them (indirectResellerId).
	IndirectResellers []string `json:"indirectResellers,omitempty"`
}

type ownedSubscription struct {
	Owner        string       `json:"owner"` // partner tenant
	Customer     string       `json:"customer"`
	Subscription subscription `json:"subscription"`
}

type cartRecord struct {
	Partner  string   `json:"partner"`
	Customer string   `json:"customer"`
	Cart     cart     `json:"cart"`
	OrderIDs []string `json:"orderIds,omitempty"`
}

// orderRecord is an order and, while it is pending, the cart line items it
// will provision once ReadyAt has passed.
type orderRecord struct {
	Partner  string         `json:"partner"`
	Customer string         `json:"customer"`
	Order    order          `json:"order"`
	ReadyAt  time.Time      `json:"readyAt"`
	Items    []cartLineItem `json:"items,omitempty"`
}

type storedResponse struct {
	Status int             `json:"status"`
	Body   json.RawMessage `json:"body"`
}

// Stats are the simulator's counters (GET /sim/stats).
type Stats struct {
	RequestsByRoute      map[string]int `json:"requestsByRoute"`
	ObjectsCreated       map[string]int `json:"objectsCreated"`
	DuplicatesSuppressed int            `json:"duplicatesSuppressed"`
	Throttled            int            `json:"throttled"`
	ErrorsInjected       int            `json:"errorsInjected"`
	// EarlyRetries counts requests repeated (same MS-RequestId) before the
	// Retry-After of their 429 had passed.
	EarlyRetries int `json:"earlyRetries"`
	// CreatesHeld counts creates held past the caller's patience (HoldCreates).
	CreatesHeld int `json:"createsHeld"`
	// Tenants are the counters of each partner tenant (by tenant ID) that
	// sent API requests: requests, the peak per minute and early retries.
	// Requests without a valid token count under "unknown".
	Tenants map[string]TenantStats `json:"tenants,omitempty"`
	// AzurePlansBought counts the Azure plans ordered at checkout, keyed
	// "partner|customer" (tenant IDs): one plan per customer and partner
	// (per partner of record for an indirect provider).
	AzurePlansBought map[string]int `json:"azurePlansBought,omitempty"`
	// AzurePlansRefused counts purchases of a second Azure plan for a
	// customer and partner the simulator refused (800066): each is an
	// attempt to buy a plan twice.
	AzurePlansRefused int `json:"azurePlansRefused,omitempty"`
	// AuditReads counts the pages of the activity log answered.
	AuditReads int `json:"auditReads,omitempty"`
	// AuditRecords counts the records written to the activity log.
	AuditRecords int `json:"auditRecords,omitempty"`
	// WebhooksSent counts webhook delivery attempts; WebhooksDelivered
	// those answered 2xx, WebhooksFailed the others (no answer included).
	WebhooksSent      int `json:"webhooksSent,omitempty"`
	WebhooksDelivered int `json:"webhooksDelivered,omitempty"`
	WebhooksFailed    int `json:"webhooksFailed,omitempty"`
	// ARM are Azure Resource Manager's counters: aliases created, repeated
	// PUTs, requests by route.
	ARM armsim.Stats `json:"arm"`
}

func (s Stats) clone() Stats {
	c := s
	c.RequestsByRoute = map[string]int{}
	for k, v := range s.RequestsByRoute {
		c.RequestsByRoute[k] = v
	}
	c.ObjectsCreated = map[string]int{}
	for k, v := range s.ObjectsCreated {
		c.ObjectsCreated[k] = v
	}
	if s.Tenants != nil {
		c.Tenants = map[string]TenantStats{}
		for k, v := range s.Tenants {
			c.Tenants[k] = v
		}
	}
	c.AzurePlansBought = maps.Clone(s.AzurePlansBought)
	return c
}

func newState() *state {
	st := &state{}
	st.init()
	return st
}

// init makes every map of a loaded or new state usable.
func (st *state) init() {
	if st.DeviceCodes == nil {
		st.DeviceCodes = map[string]*deviceCode{}
	}
	if st.RefreshTokens == nil {
		st.RefreshTokens = map[string]*refreshToken{}
	}
	if st.LinkResellers == nil {
		st.LinkResellers = map[string][]string{}
	}
	if st.LinkRequests == nil {
		st.LinkRequests = map[string]time.Time{}
	}
	if st.Agreements == nil {
		st.Agreements = map[string]bool{}
	}
	if st.AgreementRecords == nil {
		st.AgreementRecords = map[string][]agreement{}
	}
	if st.TransferPartnerOnRecord == nil {
		st.TransferPartnerOnRecord = map[string]string{}
	}
	if st.Relationships == nil {
		st.Relationships = map[string]*relationship{}
	}
	if st.Customers == nil {
		st.Customers = map[string]*companyProfile{}
	}
	if st.Subscriptions == nil {
		st.Subscriptions = map[string]*ownedSubscription{}
	}
	if st.Carts == nil {
		st.Carts = map[string]*cartRecord{}
	}
	if st.Orders == nil {
		st.Orders = map[string]*orderRecord{}
	}
	if st.Transfers == nil {
		st.Transfers = map[string]*transfer{}
	}
	if st.Responses == nil {
		st.Responses = map[string]*storedResponse{}
	}
	if st.Entitlements == nil {
		st.Entitlements = map[string][]azureEntitlement{}
	}
	if st.Webhooks == nil {
		st.Webhooks = map[string]*webhookRegistration{}
	}
	if st.TestEvents == nil {
		st.TestEvents = map[string]*testEvent{}
	}
	if st.Stats.RequestsByRoute == nil {
		st.Stats.RequestsByRoute = map[string]int{}
	}
	if st.Stats.ObjectsCreated == nil {
		st.Stats.ObjectsCreated = map[string]int{}
	}
}

// chance is true with probability p.
func chance(p float64) bool { return p > 0 && rand.Float64() < p }
