// Package armsim simulates the subset of Azure Resource Manager (ARM) the
// operator uses to create Azure subscriptions under a customer's Azure
// plan: listing the partner's billing accounts
// (GET /providers/Microsoft.Billing/billingAccounts, api-version
// 2020-05-01) and creating and reading subscription aliases
// (PUT and GET /providers/Microsoft.Subscription/aliases/{aliasName},
// api-version 2021-10-01). It is as strict as ARM where Microsoft documents
// ARM's behaviour: the api-version is required and must be a supported one,
// every call needs a bearer token for ARM's audience, a billing scope must
// name a Microsoft Partner Agreement customer, a repeated PUT of an alias
// creates nothing, and a creation is Accepted before it Succeeded.
//
// Its state (aliases and counters) lives in memory; State and Restore let a
// caller keep it in a file. Sources are named in the tests of
// internal/azurerm (testdata/SOURCES).
package armsim

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

// The api-versions the simulator serves on each route.
var (
	aliasAPIVersions   = []string{"2021-10-01"}
	billingAPIVersions = []string{"2020-05-01"}
)

// ARMAudiences are the token audiences ARM accepts, as its
// InvalidAuthenticationTokenAudience message lists them.
var ARMAudiences = []string{
	"https://management.core.windows.net/", "https://management.core.windows.net",
	"https://management.azure.com/", "https://management.azure.com",
}

// Options configure a simulator.
type Options struct {
	// VerifyToken checks a bearer token (the text after "Bearer ") and
	// returns its claims: tid (the caller's tenant), aud and, optionally,
	// exp. nil decodes a JWT's payload without checking its signature,
	// which only tests should rely on.
	VerifyToken func(raw string) (claims map[string]any, err error)
	// Audiences the tokens must be for; default ARMAudiences.
	Audiences []string
	// BillingAccounts returns the billing accounts a tenant's tokens see.
	// nil: none. A PUT calls it with the simulator's lock held: it must not
	// call the simulator.
	BillingAccounts func(tenantID string) []BillingAccount
	// BillingAccountsPageSize, when positive, lists the billing accounts in
	// pages of that size linked by nextLink.
	BillingAccountsPageSize int
	// CreateUnderPlan creates the Azure subscription under the customer's
	// Azure plan with the partner (tenantID) and returns its ID. It is
	// called once per alias, with the simulator's lock held: it must not
	// call the simulator. An error refuses the PUT: a *Refusal as it says,
	// any other error as 400 InvalidSubCreationScope with its text. nil
	// creates a subscription with a new ID for any customer.
	CreateUnderPlan func(tenantID, billingAccount, customer, displayName string) (subscriptionID string, err error)
	// ProvisioningPolls is the number of reads of a new alias (GET, or a
	// repeated PUT) after which it is Succeeded: the reads before answer
	// Accepted. Default 1: the first read after the creating PUT answers
	// Succeeded.
	ProvisioningPolls int
	// Now is the clock of createdTime and token expiry; default time.Now.
	Now func() time.Time
}

// Server is the simulator; it is an http.Handler.
type Server struct {
	opts Options

	mu      sync.Mutex
	aliases map[string]*Alias // by aliasKey
	stats   Stats
}

// Alias is a subscription alias the simulator knows.
type Alias struct {
	Tenant         string    `json:"tenant"`
	Name           string    `json:"name"`
	DisplayName    string    `json:"displayName"`
	Workload       string    `json:"workload"`
	BillingScope   string    `json:"billingScope"`
	BillingAccount string    `json:"billingAccount"`
	Customer       string    `json:"customer"`
	SubscriptionID string    `json:"subscriptionId"`
	Reads          int       `json:"reads"`
	CreatedTime    time.Time `json:"createdTime"`
}

// Stats are the simulator's counters.
type Stats struct {
	RequestsByRoute map[string]int `json:"requestsByRoute"`
	// AliasesCreated counts PUTs that created an alias (and called
	// CreateUnderPlan).
	AliasesCreated int `json:"aliasesCreated"`
	// RepeatedPuts counts PUTs of an alias that existed: duplicates
	// suppressed, nothing created.
	RepeatedPuts int `json:"repeatedPuts"`
	// Unauthorized counts requests answered 401.
	Unauthorized int `json:"unauthorized"`
}

// State is everything the simulator keeps, for a caller to persist.
type State struct {
	Aliases []Alias `json:"aliases"`
	Stats   Stats   `json:"stats"`
}

// New returns a simulator with an empty state.
func New(opts Options) *Server {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.ProvisioningPolls <= 0 {
		opts.ProvisioningPolls = 1
	}
	if len(opts.Audiences) == 0 {
		opts.Audiences = ARMAudiences
	}
	if opts.CreateUnderPlan == nil {
		opts.CreateUnderPlan = func(string, string, string, string) (string, error) { return uuid.NewString(), nil }
	}
	s := &Server{opts: opts}
	s.Restore(State{})
	return s
}

// State returns a copy of the state, its aliases in a stable order.
func (s *Server) State() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := State{Aliases: make([]Alias, 0, len(s.aliases)), Stats: s.statsLocked()}
	for _, a := range s.aliases {
		st.Aliases = append(st.Aliases, *a)
	}
	slices.SortFunc(st.Aliases, func(a, b Alias) int { return strings.Compare(aliasKey(a.Tenant, a.Name), aliasKey(b.Tenant, b.Name)) })
	return st
}

// Restore replaces the state with st (State's, perhaps read from a file).
func (s *Server) Restore(st State) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.aliases = map[string]*Alias{}
	for _, a := range st.Aliases {
		s.aliases[aliasKey(a.Tenant, a.Name)] = &a
	}
	s.stats = st.Stats
	s.stats.RequestsByRoute = map[string]int{}
	for k, v := range st.Stats.RequestsByRoute {
		s.stats.RequestsByRoute[k] = v
	}
}

// Stats returns a copy of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.statsLocked()
}

func (s *Server) statsLocked() Stats {
	c := s.stats
	c.RequestsByRoute = map[string]int{}
	for k, v := range s.stats.RequestsByRoute {
		c.RequestsByRoute[k] = v
	}
	return c
}

// aliasKey names an alias: aliases are tenant-level resources, and ARM's
// resource names are case-insensitive.
func aliasKey(tenant, name string) string {
	return strings.ToLower(tenant) + "/" + strings.ToLower(name)
}

const (
	aliasesPrefix   = "/providers/microsoft.subscription/aliases/"
	billingAccounts = "/providers/microsoft.billing/billingaccounts"
)

// ServeHTTP routes as ARM does: paths are case-insensitive, the api-version
// is checked before the token, and the token before the request itself.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := strings.ToLower(r.URL.Path)
	switch {
	case strings.TrimSuffix(path, "/") == billingAccounts:
		s.route(w, r, "ListBillingAccounts", billingAPIVersions, http.MethodGet, s.listBillingAccounts)
	case strings.HasPrefix(path, aliasesPrefix) && !strings.Contains(strings.TrimSuffix(path[len(aliasesPrefix):], "/"), "/"):
		name := strings.TrimSuffix(r.URL.Path[len(aliasesPrefix):], "/")
		if r.Method == http.MethodPut {
			s.route(w, r, "CreateAlias", aliasAPIVersions, http.MethodPut, func(w http.ResponseWriter, r *http.Request, tenant string) {
				s.putAlias(w, r, tenant, name)
			})
			return
		}
		s.route(w, r, "GetAlias", aliasAPIVersions, http.MethodGet, func(w http.ResponseWriter, r *http.Request, tenant string) {
			s.getAlias(w, tenant, name)
		})
	default:
		writeError(w, http.StatusNotFound, "NotFound", "The simulator serves no resource at '"+r.URL.Path+"'.")
	}
}

// route checks the method, the api-version and the token, counts the
// request and calls h with the caller's tenant.
func (s *Server) route(w http.ResponseWriter, r *http.Request, name string, versions []string, method string,
	h func(w http.ResponseWriter, r *http.Request, tenant string)) {
	s.count(name)
	if r.Method != method {
		writeError(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "The simulator does not serve "+r.Method+" on '"+r.URL.Path+"'.")
		return
	}
	if !checkAPIVersion(w, r, versions) {
		return
	}
	tenant, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	h(w, r, tenant)
}

func (s *Server) count(route string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.RequestsByRoute[route]++
}

// checkAPIVersion answers ARM's 400 when the api-version is missing or not
// one the route serves.
func checkAPIVersion(w http.ResponseWriter, r *http.Request, versions []string) bool {
	v := r.URL.Query().Get("api-version")
	if v == "" {
		writeError(w, http.StatusBadRequest, "MissingApiVersionParameter", "The api-version query parameter (?api-version=) is required for all requests.")
		return false
	}
	for _, ok := range versions {
		if v == ok {
			return true
		}
	}
	writeError(w, http.StatusBadRequest, "InvalidApiVersionParameter",
		"The api-version '"+v+"' is invalid. The supported versions are '"+strings.Join(versions, ",")+"'.")
	return false
}

func writeError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, errorResponse{Error: errorDetail{Code: code, Message: message}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("x-ms-request-id", uuid.NewString())
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
