package partnercenter_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	neturl "net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/partnerops/multichannel-operator/internal/azurerm"
	"github.com/partnerops/multichannel-operator/internal/entra"
	"github.com/partnerops/multichannel-operator/internal/graph/graphsim"
	pc "github.com/partnerops/multichannel-operator/internal/partnercenter"
	"github.com/partnerops/multichannel-operator/internal/partnercenter/sim"
)

// Azure Resource Manager on the simulator's server: one listener serves
// Partner Center, Graph and ARM, with the simulator's tokens, as the
// harness composes them.

// composed serves the simulator and a Graph simulator as the harness does.
func composed(t *testing.T, opts sim.Options) (*sim.Server, string) {
	t.Helper()
	s, err := sim.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	g, err := graphsim.New(graphsim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(graphsim.Compose(g, s))
	t.Cleanup(srv.Close)
	return s, srv.URL
}

// armClient is the operator's ARM client with the simulator's tokens for ARM.
func armClient(t *testing.T, url, tenant string) *azurerm.Client {
	t.Helper()
	cred, err := entra.AppCredential(entra.Config{AuthorityHost: url, TenantID: tenant,
		Credentials: entra.Credentials{ClientID: "app-" + tenant[:8], ClientSecret: "s3cret"}})
	if err != nil {
		t.Fatal(err)
	}
	c, err := azurerm.New(azurerm.Config{Endpoint: url, Credential: cred})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestAzureSubscriptionsUnderThePlan: the partner's billing account, an
// Azure subscription created under the customer's plan (and listed among
// its entitlements), once per alias, and refused without a plan.
func TestAzureSubscriptionsUnderThePlan(t *testing.T) {
	ctx := context.Background()
	s, url := composed(t, sim.Options{})
	accept(t, url, contoso, woodgrove)
	const tailspin = "5d6e7f80-9a1b-4c2d-8e3f-4a5b6c7d8e9f" // a customer without an Azure plan
	accept(t, url, contoso, tailspin)
	c, _ := newClient(t, url, contoso)
	orders, err := c.CreateOrder(ctx, woodgrove, "plan", []pc.CartLineItem{azurePlanItem()})
	if err != nil {
		t.Fatal(err)
	}
	arm := armClient(t, url, contoso)
	scope, err := arm.PartnerBillingScope(ctx, woodgrove)
	if err != nil || !strings.Contains(scope, "/billingAccounts/"+sim.BillingAccountName(contoso)+"/customers/"+woodgrove) {
		t.Fatalf("PartnerBillingScope = %q, %v", scope, err)
	}
	if _, err := arm.CreateSubscription(ctx, "dev-alias", "Dev", scope); err != nil {
		t.Fatal(err)
	}
	sub, err := arm.CreateSubscription(ctx, "dev-alias", "Dev", scope) // a repeated PUT
	if err != nil || sub.ProvisioningState != "Succeeded" || sub.SubscriptionID == "" {
		t.Fatalf("the alias, read again = %+v, %v", sub, err)
	}
	ents, err := c.AzureEntitlements(ctx, woodgrove, orders[0].LineItems[0].SubscriptionID)
	if err != nil || len(ents) != 2 || ents[1].ID != sub.SubscriptionID || ents[1].FriendlyName != "Dev" {
		t.Errorf("entitlements after the alias = %+v, %v", ents, err)
	}
	noPlan := strings.Replace(scope, woodgrove, tailspin, 1)
	if _, err := arm.CreateSubscription(ctx, "other-alias", "Dev", noPlan); !azurerm.IsRefused(err) {
		t.Errorf("a customer without an Azure plan: %v, want refused", err)
	}
	if st := s.Stats().ARM; st.AliasesCreated != 1 || st.RepeatedPuts != 1 {
		t.Errorf("ARM stats = %+v, want one alias created and one repeated PUT", st)
	}
}

// tokenFor asks the simulator's token endpoint for an application token for scope.
func tokenFor(t *testing.T, url, tenant, scope string) string {
	t.Helper()
	form := neturl.Values{"grant_type": {"client_credentials"}, "client_id": {"a"}, "client_secret": {"b"}, "scope": {scope}}
	resp, err := http.PostForm(url+"/"+tenant+"/oauth2/v2.0/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tr struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tr); err != nil || tr.AccessToken == "" {
		t.Fatalf("token for %s: HTTP %d, %v", scope, resp.StatusCode, err)
	}
	return tr.AccessToken
}

func statusWith(t *testing.T, url, path, token string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestTokensAreForOneResource: a token's audience is the resource its scope
// named; Partner Center takes only its own, ARM only its own.
func TestTokensAreForOneResource(t *testing.T) {
	s, url := composed(t, sim.Options{})
	accept(t, url, contoso, woodgrove)
	armToken := tokenFor(t, url, contoso, "https://management.azure.com/.default")
	pcToken := tokenFor(t, url, contoso, pc.Scope)
	claims, err := s.VerifyToken(armToken)
	if err != nil || claims["aud"] != "https://management.azure.com" || claims["tid"] != contoso || claims["exp"] == nil {
		t.Fatalf("VerifyToken = %v, %v", claims, err)
	}
	customer, accounts := "/v1/customers/"+woodgrove, "/providers/Microsoft.Billing/billingAccounts?api-version=2020-05-01"
	for _, tc := range []struct {
		path, token string
		status      int
	}{
		{customer, pcToken, 200},
		{customer, armToken, 401},
		{customer, tokenFor(t, url, contoso, "https://graph.microsoft.com/.default"), 401},
		{accounts, armToken, 200},
		{accounts, pcToken, 401},
	} {
		if got := statusWith(t, url, tc.path, tc.token); got != tc.status {
			t.Errorf("GET %s: HTTP %d, want %d", tc.path, got, tc.status)
		}
	}
}

// TestARMStateOutlivesTheProcess: ARM's aliases and counters live in the
// simulator's state file.
func TestARMStateOutlivesTheProcess(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sim.json")
	s1, url1 := composed(t, sim.Options{StatePath: path})
	accept(t, url1, contoso, woodgrove)
	c, _ := newClient(t, url1, contoso)
	if _, err := c.CreateOrder(ctx, woodgrove, "plan", []pc.CartLineItem{azurePlanItem()}); err != nil {
		t.Fatal(err)
	}
	arm := armClient(t, url1, contoso)
	scope, err := arm.PartnerBillingScope(ctx, woodgrove)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := arm.CreateSubscription(ctx, "kept-alias", "Kept", scope); err != nil {
		t.Fatal(err)
	}
	if err := s1.Close(); err != nil {
		t.Fatal(err)
	}
	s2, url2 := composed(t, sim.Options{StatePath: path})
	sub, err := armClient(t, url2, contoso).GetSubscription(ctx, "kept-alias")
	if err != nil || sub.SubscriptionID == "" {
		t.Fatalf("the alias after a restart = %+v, %v", sub, err)
	}
	if st := s2.Stats().ARM; st.AliasesCreated != 1 {
		t.Errorf("ARM stats after a restart = %+v, want the alias counted", st)
	}
}
