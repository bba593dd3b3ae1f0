package armsim

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Refusal is an answer CreateUnderPlan gives to refuse a creation: ARM's
// status, error code and message.
type Refusal struct {
	Status  int
	Code    string
	Message string
}

func (r *Refusal) Error() string { return fmt.Sprintf("%d %s: %s", r.Status, r.Code, r.Message) }

// NoAzurePlan is the refusal of a customer who holds no Azure plan with the
// partner: ARM's "Not a valid subscription creation scope"
// (InvalidSubCreationScope, 400), as it answers a billing scope it cannot
// create subscriptions under.
func NoAzurePlan(customer string) *Refusal {
	return &Refusal{Status: http.StatusBadRequest, Code: codeInvalidScope,
		Message: "Not a valid subscription creation scope: customer '" + customer + "' has no Azure plan under this billing account."}
}

const (
	codeInvalidScope = "InvalidSubCreationScope"
	// codeBadRequest is the simulator's code for a body that breaks the
	// spec's rules; Microsoft documents no code for these.
	codeBadRequest = "BadRequest"
	// maxDisplayName is the simulator's limit on a subscription's display
	// name. The 2021-10-01 spec sets none; Azure's portal allows 64.
	maxDisplayName = 64
)

// listBillingAccounts answers GET /providers/Microsoft.Billing/billingAccounts.
func (s *Server) listBillingAccounts(w http.ResponseWriter, r *http.Request, tenant string) {
	var accounts []BillingAccount
	if s.opts.BillingAccounts != nil {
		accounts = s.opts.BillingAccounts(tenant)
	}
	for i := range accounts {
		if accounts[i].ID == "" {
			accounts[i].ID = "/providers/Microsoft.Billing/billingAccounts/" + accounts[i].Name
		}
		if accounts[i].Type == "" {
			accounts[i].Type = "Microsoft.Billing/billingAccounts"
		}
	}
	skip, err := strconv.Atoi(r.URL.Query().Get("$skiptoken"))
	if r.URL.Query().Has("$skiptoken") && (err != nil || skip < 0 || skip > len(accounts)) {
		writeError(w, http.StatusBadRequest, "InvalidSkipToken", "The $skiptoken is not one this list issued.")
		return
	}
	list := billingAccountList{Value: accounts[skip:]}
	if size := s.opts.BillingAccountsPageSize; size > 0 && len(list.Value) > size {
		list.Value = list.Value[:size]
		q := url.Values{"api-version": {r.URL.Query().Get("api-version")}, "$skiptoken": {strconv.Itoa(skip + size)}}
		list.NextLink = "https://" + r.Host + r.URL.Path + "?" + q.Encode()
	}
	if list.Value == nil {
		list.Value = []BillingAccount{}
	}
	writeJSON(w, http.StatusOK, list)
}

// getAlias answers GET /providers/Microsoft.Subscription/aliases/{name}:
// each read brings a new alias closer to Succeeded.
func (s *Server) getAlias(w http.ResponseWriter, tenant, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.aliases[aliasKey(tenant, name)]
	if !ok {
		writeError(w, http.StatusNotFound, "NotFound", "Alias '"+name+"' was not found.")
		return
	}
	a.Reads++
	writeJSON(w, http.StatusOK, s.responseOf(a))
}

// putAlias answers PUT /providers/Microsoft.Subscription/aliases/{name}:
// it creates the subscription the first time (201 Accepted) and answers an
// existing alias's state after (200), unless the PUT names another billing
// scope (409; another display name or workload is ignored, as the alias
// names the creation request, not the subscription). The answers carry no
// Location, Azure-AsyncOperation or Retry-After header: the 2021-10-01 spec
// declares none for Alias_Create (it does for acceptOwnership), and the
// MPA article polls with a GET of the alias itself.
func (s *Server) putAlias(w http.ResponseWriter, r *http.Request, tenant, name string) {
	props, refusal := decodePut(r, name)
	if refusal != nil {
		writeError(w, refusal.Status, refusal.Code, refusal.Message)
		return
	}
	account, customer, refusal := parseScope(props.BillingScope)
	if refusal != nil {
		writeError(w, refusal.Status, refusal.Code, refusal.Message)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if a, ok := s.aliases[aliasKey(tenant, name)]; ok {
		s.repeatPut(w, a, account, customer)
		return
	}
	a, refusal := s.create(tenant, name, account, customer, props)
	if refusal != nil {
		writeError(w, refusal.Status, refusal.Code, refusal.Message)
		return
	}
	writeJSON(w, http.StatusCreated, s.responseOf(a))
}

// repeatPut answers a PUT of an existing alias: its state, as a read, or
// 409 when the PUT names another billing scope. The caller holds s.mu.
func (s *Server) repeatPut(w http.ResponseWriter, a *Alias, account, customer string) {
	if !strings.EqualFold(a.BillingAccount, account) || !strings.EqualFold(a.Customer, customer) {
		writeError(w, http.StatusConflict, "Conflict", "Alias '"+a.Name+"' already exists with billing scope '"+a.BillingScope+
			"': an alias names one subscription creation request, and its billing scope cannot change.")
		return
	}
	s.stats.RepeatedPuts++
	a.Reads++
	writeJSON(w, http.StatusOK, s.responseOf(a))
}

// create checks the billing account against the caller's and has
// CreateUnderPlan create the subscription. The caller holds s.mu.
func (s *Server) create(tenant, name, account, customer string, props *putAliasProperties) (*Alias, *Refusal) {
	if refusal := s.checkAccount(tenant, account); refusal != nil {
		return nil, refusal
	}
	id, err := s.opts.CreateUnderPlan(tenant, account, customer, props.DisplayName)
	if err != nil {
		var refusal *Refusal
		if errors.As(err, &refusal) {
			return nil, refusal
		}
		return nil, &Refusal{Status: http.StatusBadRequest, Code: codeInvalidScope, Message: "Not a valid subscription creation scope: " + err.Error()}
	}
	a := &Alias{Tenant: tenant, Name: name, DisplayName: props.DisplayName, Workload: canonicalWorkload(props.Workload),
		BillingScope: props.BillingScope, BillingAccount: account, Customer: customer, SubscriptionID: id,
		CreatedTime: s.opts.Now().UTC()}
	s.aliases[aliasKey(tenant, name)] = a
	s.stats.AliasesCreated++
	return a, nil
}

// checkAccount refuses a billing account the caller does not see (403) or
// that is not a Microsoft Partner Agreement (400).
func (s *Server) checkAccount(tenant, account string) *Refusal {
	var accounts []BillingAccount
	if s.opts.BillingAccounts != nil {
		accounts = s.opts.BillingAccounts(tenant)
	}
	for _, a := range accounts {
		if !strings.EqualFold(a.Name, account) {
			continue
		}
		if !strings.EqualFold(a.Properties.AgreementType, AgreementMPA) {
			return &Refusal{Status: http.StatusBadRequest, Code: codeInvalidScope,
				Message: "Not a valid subscription creation scope: billing account '" + account + "' is a " + a.Properties.AgreementType + ", not a Microsoft Partner Agreement."}
		}
		return nil
	}
	return &Refusal{Status: http.StatusForbidden, Code: "Forbidden",
		Message: "You do not have sufficient permissions on the specified billing account '" + account + "' to create an Azure subscription."}
}

// responseOf is the alias as ARM answers it. While Accepted it names no
// subscription: Microsoft's examples do name one, but the MPA article's
// Accepted answer names another ID than its Succeeded one, so a client
// must not rely on it. The caller holds s.mu.
func (s *Server) responseOf(a *Alias) aliasResponse {
	p := aliasProperties{DisplayName: a.DisplayName, ProvisioningState: "Accepted", BillingScope: a.BillingScope,
		Workload: a.Workload, CreatedTime: a.CreatedTime.Format(time.RFC3339)}
	if a.Reads >= s.opts.ProvisioningPolls {
		p.ProvisioningState, p.SubscriptionID = "Succeeded", a.SubscriptionID
	}
	return aliasResponse{ID: "/providers/Microsoft.Subscription/aliases/" + a.Name, Name: a.Name, Type: "Microsoft.Subscription/aliases", Properties: p}
}

// decodePut reads and checks an Alias_Create body.
func decodePut(r *http.Request, name string) (*putAliasProperties, *Refusal) {
	if strings.ContainsAny(name, `<>%&:\?/#*`) || name == "" {
		return nil, &Refusal{Status: http.StatusBadRequest, Code: "InvalidResourceName", Message: "The alias name '" + name + "' is not valid."}
	}
	var body putAliasRequest
	if err := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20)).Decode(&body); err != nil {
		return nil, &Refusal{Status: http.StatusBadRequest, Code: "InvalidRequestContent",
			Message: "The request content was invalid and could not be deserialized: '" + err.Error() + "'."}
	}
	p := body.Properties
	switch {
	case p == nil:
		return nil, badRequest("The request body must have properties.")
	case p.SubscriptionID != nil && *p.SubscriptionID != "":
		return nil, badRequest("The simulator creates new subscriptions only: properties.subscriptionId is not supported.")
	case p.BillingScope == "":
		return nil, badRequest("properties.billingScope is required to create a subscription.")
	case canonicalWorkload(p.Workload) == "":
		return nil, badRequest("properties.workload must be Production or DevTest, not '" + p.Workload + "'.")
	case strings.TrimSpace(p.DisplayName) == "":
		return nil, badRequest("properties.displayName is required to create a subscription.")
	case utf8.RuneCountInString(p.DisplayName) > maxDisplayName:
		return nil, badRequest(fmt.Sprintf("properties.displayName must be at most %d characters.", maxDisplayName))
	}
	return p, nil
}

func badRequest(message string) *Refusal {
	return &Refusal{Status: http.StatusBadRequest, Code: codeBadRequest, Message: message}
}

// canonicalWorkload is the spec's spelling of a workload ("" if none).
func canonicalWorkload(w string) string {
	for _, ok := range []string{"Production", "DevTest"} {
		if strings.EqualFold(w, ok) {
			return ok
		}
	}
	return ""
}

// parseScope reads a partner-led billing scope: the MPA article's
// /providers/Microsoft.Billing/billingAccounts/{account}/customers/{customer}
// or the spec's shorter /billingAccounts/{account}/customers/{customer}.
// The customer is a tenant ID (a GUID).
func parseScope(scope string) (account, customer string, refusal *Refusal) {
	rest := scope
	if len(rest) >= len("/providers/Microsoft.Billing") && strings.EqualFold(rest[:len("/providers/Microsoft.Billing")], "/providers/Microsoft.Billing") {
		rest = rest[len("/providers/Microsoft.Billing"):]
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 5 || parts[0] != "" || !strings.EqualFold(parts[1], "billingAccounts") || parts[2] == "" ||
		!strings.EqualFold(parts[3], "customers") || uuid.Validate(parts[4]) != nil || len(parts[4]) != 36 {
		return "", "", &Refusal{Status: http.StatusBadRequest, Code: codeInvalidScope,
			Message: "Not a valid subscription creation scope: '" + scope + "' is not a Microsoft Partner Agreement customer's billing scope."}
	}
	return parts[2], strings.ToLower(parts[4]), nil
}
