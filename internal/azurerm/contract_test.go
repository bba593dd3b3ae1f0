package azurerm_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/partnerops/multichannel-operator/internal/azurerm"
)

// The contract tests serve Microsoft's published examples (testdata/SOURCES)
// to the client over TLS, and compare the requests it sends with the
// published requests.

const partnerTenant = "6c7a0f2b-8d3e-4f51-9a26-1b0c4d5e6f70"

// TestContractCreateAlias: the PUT the client sends is the spec's
// Alias_Create example (method, path, api-version, the body's displayName,
// workload and billingScope, and nothing the example lacks), and both
// documented answers (200 and 201, Accepted with a subscriptionId) read as
// Accepted without a subscription ID yet.
func TestContractCreateAlias(t *testing.T) {
	ex := readExample(t, "alias-create.example.json")
	var alias, apiVersion string
	_ = json.Unmarshal(ex.Parameters["aliasName"], &alias)
	_ = json.Unmarshal(ex.Parameters["api-version"], &apiVersion)
	var body struct {
		Properties map[string]any `json:"properties"`
	}
	if err := json.Unmarshal(ex.Parameters["body"], &body); err != nil {
		t.Fatal(err)
	}
	want := body.Properties
	for _, status := range []int{http.StatusCreated, http.StatusOK} {
		answer := ex.Responses[strconv.Itoa(status)].Body
		rec := &recorder{answer: func(w http.ResponseWriter, _ *http.Request) { answerJSON(w, status, answer) }}
		cred := newCredential(partnerTenant, azurerm.DefaultAudience)
		c := serve(t, rec, cred)
		got, err := c.CreateSubscription(ctx(t), alias, want["displayName"].(string), want["billingScope"].(string))
		if err != nil {
			t.Fatalf("%d: %v", status, err)
		}
		if *got != (azurerm.Subscription{Alias: alias, ProvisioningState: azurerm.ProvisioningAccepted}) {
			t.Errorf("%d: %+v, want Accepted and no subscription ID before Succeeded", status, got)
		}
		reqs := rec.all()
		if len(reqs) != 1 {
			t.Fatalf("%d: %d requests, want the PUT once (no polling)", status, len(reqs))
		}
		r := reqs[0]
		if r.Method != http.MethodPut || r.Path != "/providers/Microsoft.Subscription/aliases/"+alias || r.APIVersion != apiVersion {
			t.Errorf("sent %s %s?api-version=%s", r.Method, r.Path, r.APIVersion)
		}
		if !strings.HasPrefix(r.Authorization, "Bearer ") {
			t.Errorf("Authorization %q", r.Authorization)
		}
		sent := properties(t, r.Body)
		for _, k := range []string{"displayName", "workload", "billingScope"} {
			if sent[k] != want[k] {
				t.Errorf("properties.%s = %v, documented %v", k, sent[k], want[k])
			}
		}
		for k := range sent {
			if _, ok := want[k]; !ok {
				t.Errorf("sent properties.%s, which the example lacks", k)
			}
		}
		if len(cred.scopes) == 0 || strings.Join(cred.scopes[0], " ") != "https://management.azure.com/.default" {
			t.Errorf("token scopes %v", cred.scopes)
		}
	}
}

// TestContractGetAlias: the GET is the documented sample request, and the
// documented answer (Accepted) reads as Accepted without an ID.
func TestContractGetAlias(t *testing.T) {
	answer := readFile(t, "alias-get.response.json")
	rec := &recorder{answer: func(w http.ResponseWriter, _ *http.Request) { answerJSON(w, http.StatusOK, answer) }}
	c := serve(t, rec, newCredential(partnerTenant, azurerm.DefaultAudience))
	got, err := c.GetSubscription(ctx(t), "aliasForNewSub")
	if err != nil || got.ProvisioningState != azurerm.ProvisioningAccepted || got.SubscriptionID != "" {
		t.Fatalf("%+v, %v", got, err)
	}
	r := rec.all()[0]
	if r.Method != http.MethodGet || r.Path != "/providers/Microsoft.Subscription/aliases/aliasForNewSub" || r.APIVersion != "2021-10-01" || len(r.Body) != 0 {
		t.Errorf("sent %s %s?api-version=%s with %q", r.Method, r.Path, r.APIVersion, r.Body)
	}
}

// TestContractMPAAlias: the MPA article's PUT body (a partner-led billing
// scope) is what the client sends, its keys compared as ARM reads them
// (case-insensitively: the article writes DisplayName and Workload), its
// Accepted answer names no subscription yet, and its GET answer gives the
// Succeeded subscription's ID.
func TestContractMPAAlias(t *testing.T) {
	put, get := readFile(t, "mpa-alias-put.response.json"), readFile(t, "mpa-alias-get.response.json")
	rec := &recorder{answer: func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut {
			answerJSON(w, http.StatusCreated, put)
			return
		}
		answerJSON(w, http.StatusOK, get)
	}}
	c := serve(t, rec, newCredential(partnerTenant, azurerm.DefaultAudience))
	want := map[string]any{}
	for k, v := range properties(t, readFile(t, "mpa-alias-put.request.json")) {
		want[strings.ToLower(k)] = v
	}
	created, err := c.CreateSubscription(ctx(t), "sampleAlias", want["displayname"].(string), want["billingscope"].(string))
	if err != nil || created.ProvisioningState != azurerm.ProvisioningAccepted || created.SubscriptionID != "" {
		t.Fatalf("PUT: %+v, %v", created, err)
	}
	sent := properties(t, rec.all()[0].Body)
	if len(sent) != len(want) {
		t.Errorf("sent %v, documented %v", sent, want)
	}
	for k, v := range sent {
		if want[strings.ToLower(k)] != v {
			t.Errorf("properties.%s = %v, documented %v", k, v, want[strings.ToLower(k)])
		}
	}
	done, err := c.GetSubscription(ctx(t), "sampleAlias")
	if err != nil || *done != (azurerm.Subscription{Alias: "sampleAlias", SubscriptionID: "cccc2c2c-dd3d-ee4e-ff5f-aaaaaa6a6a6a", ProvisioningState: azurerm.ProvisioningSucceeded}) {
		t.Fatalf("GET: %+v, %v", done, err)
	}
}

// TestContractBillingAccounts: the list request is the MPA article's (GET,
// the billingAccounts path, api-version 2020-05-01), its MPA account makes
// the customer's billing scope, and the spec's example, which lists only
// Microsoft Customer Agreement accounts, is ErrNoPartnerAgreement.
func TestContractBillingAccounts(t *testing.T) {
	const customer = "2281f543-0b1c-4d2e-8f3a-4b5c6d7e8f90"
	mpa := readFile(t, "mpa-billing-accounts.response.json")
	rec := &recorder{answer: func(w http.ResponseWriter, _ *http.Request) { answerJSON(w, http.StatusOK, mpa) }}
	c := serve(t, rec, newCredential(partnerTenant, azurerm.DefaultAudience))
	scope, err := c.PartnerBillingScope(ctx(t), customer)
	want := "/providers/Microsoft.Billing/billingAccounts/aaaa0a0a-bb1b-cc2c-dd3d-eeeeee4e4e4e:xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx_xxxx-xx-xx/customers/" + customer
	if err != nil || scope != want {
		t.Fatalf("scope %q, %v; want %q", scope, err, want)
	}
	r := rec.all()[0]
	if r.Method != http.MethodGet || !strings.EqualFold(strings.TrimSuffix(r.Path, "/"), "/providers/Microsoft.Billing/billingAccounts") || r.APIVersion != "2020-05-01" {
		t.Errorf("sent %s %s?api-version=%s", r.Method, r.Path, r.APIVersion)
	}

	mca := readExample(t, "billing-accounts-list.example.json").Responses["200"].Body
	c = serve(t, &recorder{answer: func(w http.ResponseWriter, _ *http.Request) { answerJSON(w, http.StatusOK, mca) }},
		newCredential(partnerTenant, azurerm.DefaultAudience))
	if _, err := c.PartnerBillingScope(ctx(t), customer); !errors.Is(err, azurerm.ErrNoPartnerAgreement) || !strings.Contains(err.Error(), "MicrosoftCustomerAgreement") {
		t.Errorf("only MCA accounts: %v, want ErrNoPartnerAgreement naming what it sees", err)
	}
}

// TestContractError: ARM's error body is read into *Error (status, code,
// message); a 401 is refused and is no ErrAliasNotFound, a 404 is.
func TestContractError(t *testing.T) {
	body := readFile(t, "arm-error.response.json")
	status := http.StatusUnauthorized
	c := serve(t, &recorder{answer: func(w http.ResponseWriter, _ *http.Request) { answerJSON(w, status, body) }},
		newCredential(partnerTenant, azurerm.DefaultAudience))
	_, err := c.GetSubscription(ctx(t), "sampleAlias")
	var e *azurerm.Error
	if !errors.As(err, &e) || e.StatusCode != 401 || e.Code != "InvalidAuthenticationTokenAudience" ||
		!strings.HasPrefix(e.Message, "The access token has been obtained for wrong audience") {
		t.Fatalf("%#v", err)
	}
	if !azurerm.IsRefused(err) || errors.Is(err, azurerm.ErrAliasNotFound) {
		t.Errorf("401: refused %t, not found %t", azurerm.IsRefused(err), errors.Is(err, azurerm.ErrAliasNotFound))
	}
	status, body = http.StatusNotFound, []byte(`{"error":{"code":"NotFound","message":"Alias not found."}}`)
	if _, err := c.GetSubscription(ctx(t), "sampleAlias"); !errors.Is(err, azurerm.ErrAliasNotFound) || !errors.As(err, &e) || e.Code != "NotFound" {
		t.Errorf("404: %v", err)
	}
}
