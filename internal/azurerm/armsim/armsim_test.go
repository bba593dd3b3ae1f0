package armsim_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/partnerops/multichannel-operator/internal/azurerm/armsim"
)

// These tests speak raw HTTP to the simulator, as ARM's documented
// requests are written, so that its strictness is checked without the
// client.

const (
	partner  = "6c7a0f2b-8d3e-4f51-9a26-1b0c4d5e6f70"
	account  = "aaaa0a0a-bb1b-cc2c-dd3d-eeeeee4e4e4e:0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d_2019-05-31"
	customer = "2281f543-0b1c-4d2e-8f3a-4b5c6d7e8f90"
	aliases  = "/providers/Microsoft.Subscription/aliases/"
	arm      = "https://management.azure.com/"
)

var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func token(claims map[string]any) string {
	payload, _ := json.Marshal(claims)
	enc := base64.RawURLEncoding.EncodeToString
	return "Bearer " + enc([]byte(`{"alg":"none"}`)) + "." + enc(payload) + ".x"
}

var partnerToken = token(map[string]any{"tid": partner, "aud": arm, "exp": now.Add(time.Hour).Unix()})

func newSim(opts armsim.Options) *armsim.Server {
	opts.Now = func() time.Time { return now }
	if opts.BillingAccounts == nil {
		opts.BillingAccounts = func(tenant string) []armsim.BillingAccount {
			mca := armsim.PartnerAgreement("mca-1", "Contoso MCA")
			mca.Properties.AgreementType = "MicrosoftCustomerAgreement"
			return []armsim.BillingAccount{armsim.PartnerAgreement(account, "Contoso"), mca}
		}
	}
	return armsim.New(opts)
}

// call sends a request to h and returns the status and ARM's error code
// (or the whole body when it is no error).
func call(t *testing.T, h http.Handler, method, target, auth, body string) (int, string, map[string]any) {
	t.Helper()
	r := httptest.NewRequest(method, "https://management.azure.com"+target, strings.NewReader(body))
	if auth != "" {
		r.Header.Set("Authorization", auth)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	data, _ := io.ReadAll(w.Result().Body)
	var out map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatalf("%s %s: body %q is not JSON", method, target, data)
	}
	if e, ok := out["error"].(map[string]any); ok {
		return w.Code, e["code"].(string), out
	}
	return w.Code, "", out
}

func put(displayName, workload, scope string) string {
	b, _ := json.Marshal(map[string]any{"properties": map[string]any{"displayName": displayName, "workload": workload, "billingScope": scope}})
	return string(b)
}

var scope = "/providers/Microsoft.Billing/billingAccounts/" + account + "/customers/" + customer

// TestAPIVersionAndToken: the api-version is checked before the token (as
// ARM answers a browser), then the token: missing, not a JWT, expired, for
// another audience or without a tenant.
func TestAPIVersionAndToken(t *testing.T) {
	s := newSim(armsim.Options{})
	for _, tc := range []struct {
		name, target, auth string
		status             int
		code               string
	}{
		{"no api-version", aliases + "a1", "", 400, "MissingApiVersionParameter"},
		{"billing api-version on aliases", aliases + "a1?api-version=2020-05-01", partnerToken, 400, "InvalidApiVersionParameter"},
		{"alias api-version on billing", "/providers/Microsoft.Billing/billingAccounts?api-version=2021-10-01", partnerToken, 400, "InvalidApiVersionParameter"},
		{"no token", aliases + "a1?api-version=2021-10-01", "", 401, "AuthenticationFailed"},
		{"basic auth", aliases + "a1?api-version=2021-10-01", "Basic dXNlcjpwYXNz", 401, "AuthenticationFailed"},
		{"not a JWT", aliases + "a1?api-version=2021-10-01", "Bearer sim1.abc.def.ghi", 401, "InvalidAuthenticationToken"},
		{"expired", aliases + "a1?api-version=2021-10-01", token(map[string]any{"tid": partner, "aud": arm, "exp": now.Unix()}), 401, "ExpiredAuthenticationToken"},
		{"Partner Center's audience", aliases + "a1?api-version=2021-10-01", token(map[string]any{"tid": partner, "aud": "https://api.partnercenter.microsoft.com"}), 401, "InvalidAuthenticationTokenAudience"},
		{"no tenant", aliases + "a1?api-version=2021-10-01", token(map[string]any{"aud": "https://management.azure.com"}), 401, "InvalidAuthenticationToken"},
		{"ARM's audience without its slash", aliases + "a1?api-version=2021-10-01", token(map[string]any{"tid": partner, "aud": "https://management.azure.com"}), 404, "NotFound"},
	} {
		status, code, _ := call(t, s, http.MethodGet, tc.target, tc.auth, "")
		if status != tc.status || code != tc.code {
			t.Errorf("%s: %d %s, want %d %s", tc.name, status, code, tc.status, tc.code)
		}
	}
	if st := s.Stats(); st.Unauthorized != 6 {
		t.Errorf("unauthorized %d, want 6", st.Unauthorized)
	}
}

// TestVerifyToken: a caller's VerifyToken decides, and its refusal is
// ARM's InvalidAuthenticationToken.
func TestVerifyToken(t *testing.T) {
	s := newSim(armsim.Options{VerifyToken: func(raw string) (map[string]any, error) {
		if raw != "good" {
			return nil, errors.New("bad signature")
		}
		return map[string]any{"tid": partner, "aud": arm, "exp": json.Number("4102444800")}, nil
	}})
	target := "/providers/Microsoft.Billing/billingAccounts?api-version=2020-05-01"
	if status, code, _ := call(t, s, http.MethodGet, target, "Bearer good", ""); status != 200 {
		t.Errorf("verified token: %d %s", status, code)
	}
	if status, code, _ := call(t, s, http.MethodGet, target, partnerToken, ""); status != 401 || code != "InvalidAuthenticationToken" {
		t.Errorf("unverified JWT: %d %s", status, code)
	}
}

// TestPutValidation: the body's rules, the billing scope's form, and the
// billing account's owner and agreement.
func TestPutValidation(t *testing.T) {
	s := newSim(armsim.Options{})
	long := strings.Repeat("x", 65)
	for _, tc := range []struct {
		name, body string
		status     int
		code       string
	}{
		{"not JSON", "{", 400, "InvalidRequestContent"},
		{"no properties", `{}`, 400, "BadRequest"},
		{"no workload", put("Contoso", "", scope), 400, "BadRequest"},
		{"unknown workload", put("Contoso", "Staging", scope), 400, "BadRequest"},
		{"no display name", put(" ", "Production", scope), 400, "BadRequest"},
		{"display name too long", put(long, "Production", scope), 400, "BadRequest"},
		{"no billing scope", put("Contoso", "Production", ""), 400, "BadRequest"},
		{"invoice section scope", put("Contoso", "Production", "/providers/Microsoft.Billing/billingAccounts/"+account+"/billingProfiles/P/invoiceSections/S"), 400, "InvalidSubCreationScope"},
		{"customer not a GUID", put("Contoso", "Production", "/providers/Microsoft.Billing/billingAccounts/"+account+"/customers/contoso"), 400, "InvalidSubCreationScope"},
		{"another partner's account", put("Contoso", "Production", "/providers/Microsoft.Billing/billingAccounts/other/customers/"+customer), 403, "Forbidden"},
		{"an MCA account", put("Contoso", "Production", "/providers/Microsoft.Billing/billingAccounts/mca-1/customers/"+customer), 400, "InvalidSubCreationScope"},
		{"an existing subscription", `{"properties":{"subscriptionId":"e2283d0f-acad-4904-b803-627dd74cc072"}}`, 400, "BadRequest"},
	} {
		status, code, _ := call(t, s, http.MethodPut, aliases+"a1?api-version=2021-10-01", partnerToken, tc.body)
		if status != tc.status || code != tc.code {
			t.Errorf("%s: %d %s, want %d %s", tc.name, status, code, tc.status, tc.code)
		}
	}
	if st := s.Stats(); st.AliasesCreated != 0 {
		t.Errorf("%d aliases created by refused PUTs", st.AliasesCreated)
	}
}

// TestAliasLifecycle: the MPA article's body (capitalised keys, the short
// and long scope forms alike) is Accepted with 201 and no subscription ID;
// a GET (any case of the path) is Succeeded with it; a repeated PUT is 200
// and calls CreateUnderPlan no more; the alias is the partner's alone.
func TestAliasLifecycle(t *testing.T) {
	calls := 0
	s := newSim(armsim.Options{CreateUnderPlan: func(tenant, acct, cust, name string) (string, error) {
		calls++
		if tenant != partner || acct != account || cust != customer || name != "Dev Team subscription" {
			t.Errorf("CreateUnderPlan(%s, %s, %s, %s)", tenant, acct, cust, name)
		}
		return "cccc2c2c-dd3d-ee4e-ff5f-aaaaaa6a6a6a", nil
	}})
	body := `{"properties":{"billingScope":"` + scope + `","DisplayName":"Dev Team subscription","Workload":"Production"}}`
	status, _, out := call(t, s, http.MethodPut, aliases+"sampleAlias?api-version=2021-10-01", partnerToken, body)
	props, _ := out["properties"].(map[string]any)
	if status != 201 || props["provisioningState"] != "Accepted" || props["subscriptionId"] != nil || out["name"] != "sampleAlias" {
		t.Fatalf("PUT: %d %v", status, out)
	}
	status, _, out = call(t, s, http.MethodGet, "/providers/microsoft.subscription/ALIASES/SampleAlias?api-version=2021-10-01", partnerToken, "")
	props, _ = out["properties"].(map[string]any)
	if status != 200 || props["provisioningState"] != "Succeeded" || props["subscriptionId"] != "cccc2c2c-dd3d-ee4e-ff5f-aaaaaa6a6a6a" {
		t.Fatalf("GET: %d %v", status, out)
	}
	short := strings.Replace(body, "/providers/Microsoft.Billing", "", 1)
	if status, code, _ := call(t, s, http.MethodPut, aliases+"sampleAlias?api-version=2021-10-01", partnerToken, short); status != 200 || code != "" {
		t.Errorf("repeated PUT with the spec's short scope: %d %s", status, code)
	}
	other := token(map[string]any{"tid": "99999999-8d3e-4f51-9a26-1b0c4d5e6f70", "aud": arm})
	if status, code, _ := call(t, s, http.MethodGet, aliases+"sampleAlias?api-version=2021-10-01", other, ""); status != 404 {
		t.Errorf("another tenant's GET: %d %s", status, code)
	}
	if st := s.Stats(); calls != 1 || st.AliasesCreated != 1 || st.RepeatedPuts != 1 || st.RequestsByRoute["CreateAlias"] != 2 {
		t.Errorf("CreateUnderPlan called %d times, stats %+v", calls, st)
	}
}

// TestCreateUnderPlanRefusals: a *Refusal is answered as it says, another
// error as InvalidSubCreationScope, and neither creates the alias.
func TestCreateUnderPlanRefusals(t *testing.T) {
	var refusal error = &armsim.Refusal{Status: 403, Code: "RequestDisallowedByPolicy", Message: "Denied."}
	s := newSim(armsim.Options{CreateUnderPlan: func(string, string, string, string) (string, error) { return "", refusal }})
	target := aliases + "a2?api-version=2021-10-01"
	if status, code, _ := call(t, s, http.MethodPut, target, partnerToken, put("Contoso", "DevTest", scope)); status != 403 || code != "RequestDisallowedByPolicy" {
		t.Errorf("a Refusal: %d %s", status, code)
	}
	refusal = errors.New("the customer's Azure plan is suspended")
	status, code, out := call(t, s, http.MethodPut, target, partnerToken, put("Contoso", "DevTest", scope))
	if status != 400 || code != "InvalidSubCreationScope" || !strings.Contains(out["error"].(map[string]any)["message"].(string), "suspended") {
		t.Errorf("an error: %d %v", status, out)
	}
	if status, _, _ := call(t, s, http.MethodGet, target, partnerToken, ""); status != 404 {
		t.Errorf("a refused alias exists: %d", status)
	}
}

// TestStateRestore: the state survives JSON and a new simulator: the alias
// is found, Succeeded, and a repeated PUT creates nothing.
func TestStateRestore(t *testing.T) {
	s := newSim(armsim.Options{ProvisioningPolls: 2})
	if status, code, _ := call(t, s, http.MethodPut, aliases+"a3?api-version=2021-10-01", partnerToken, put("Contoso", "Production", scope)); status != 201 {
		t.Fatalf("PUT: %d %s", status, code)
	}
	data, err := json.Marshal(s.State())
	if err != nil {
		t.Fatal(err)
	}
	var st armsim.State
	if err := json.Unmarshal(data, &st); err != nil {
		t.Fatal(err)
	}
	restored := newSim(armsim.Options{ProvisioningPolls: 2, CreateUnderPlan: func(string, string, string, string) (string, error) {
		t.Error("CreateUnderPlan called for a restored alias")
		return "", errors.New("no")
	}})
	restored.Restore(st)
	_, _, first := call(t, restored, http.MethodGet, aliases+"a3?api-version=2021-10-01", partnerToken, "")
	_, _, second := call(t, restored, http.MethodPut, aliases+"a3?api-version=2021-10-01", partnerToken, put("Contoso", "Production", scope))
	p1, _ := first["properties"].(map[string]any)
	p2, _ := second["properties"].(map[string]any)
	if p1["provisioningState"] != "Accepted" || p2["provisioningState"] != "Succeeded" || p2["subscriptionId"] != st.Aliases[0].SubscriptionID {
		t.Errorf("restored: %v then %v", first, second)
	}
	if got := restored.Stats(); got.AliasesCreated != 1 || got.RepeatedPuts != 1 {
		t.Errorf("restored stats %+v", got)
	}
}

// TestBillingAccountPages: the list answers every account over nextLinks
// on the request's host, in any case of the path, with ID and type filled.
func TestBillingAccountPages(t *testing.T) {
	s := newSim(armsim.Options{BillingAccountsPageSize: 1})
	var names []string
	target := "/providers/Microsoft.Billing/billingaccounts/?api-version=2020-05-01"
	for range 3 {
		status, code, out := call(t, s, http.MethodGet, target, partnerToken, "")
		if status != 200 {
			t.Fatalf("%s: %d %s", target, status, code)
		}
		for _, v := range out["value"].([]any) {
			a := v.(map[string]any)
			if a["type"] != "Microsoft.Billing/billingAccounts" || a["id"] != "/providers/Microsoft.Billing/billingAccounts/"+a["name"].(string) {
				t.Errorf("account %v", a)
			}
			names = append(names, a["name"].(string))
		}
		next, _ := out["nextLink"].(string)
		if next == "" {
			break
		}
		target = strings.TrimPrefix(next, "https://management.azure.com")
	}
	if strings.Join(names, ",") != account+",mca-1" {
		t.Errorf("listed %v", names)
	}
}
