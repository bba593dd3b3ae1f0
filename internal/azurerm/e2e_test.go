package azurerm_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/partnerops/multichannel-operator/internal/apiretry"
	"github.com/partnerops/multichannel-operator/internal/azurerm"
	"github.com/partnerops/multichannel-operator/internal/azurerm/armsim"
)

// The end-to-end tests run the client against the simulator over HTTPS on
// 127.0.0.1.

const (
	billingAccount = "aaaa0a0a-bb1b-cc2c-dd3d-eeeeee4e4e4e:0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d_2019-05-31"
	withPlan       = "2281f543-0b1c-4d2e-8f3a-4b5c6d7e8f90"
	withoutPlan    = "3392a654-1c2d-4e3f-9a4b-5c6d7e8f9a01"
)

// plans stands in for Partner Center: the customers holding an Azure plan
// with the partner, and the subscriptions created under them.
type plans struct {
	mu      sync.Mutex
	calls   int
	created []string
}

func (p *plans) createUnderPlan(tenant, account, customer, displayName string) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls++
	if tenant != partnerTenant || customer != withPlan {
		return "", armsim.NoAzurePlan(customer)
	}
	id := "5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b"
	p.created = append(p.created, id)
	return id, nil
}

func (p *plans) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls
}

func partnerAccounts(tenant string) []armsim.BillingAccount {
	if tenant != partnerTenant {
		return nil
	}
	return []armsim.BillingAccount{armsim.PartnerAgreement(billingAccount, "Contoso")}
}

func simulate(t *testing.T, opts armsim.Options) (*armsim.Server, *plans, string) {
	t.Helper()
	p := &plans{}
	if opts.CreateUnderPlan == nil {
		opts.CreateUnderPlan = p.createUnderPlan
	}
	if opts.BillingAccounts == nil {
		opts.BillingAccounts = partnerAccounts
	}
	s := armsim.New(opts)
	srv := httptest.NewTLSServer(s)
	t.Cleanup(srv.Close)
	return s, p, srv.URL
}

func client(t *testing.T, endpoint, audience string) *azurerm.Client {
	t.Helper()
	c, err := azurerm.New(azurerm.Config{Endpoint: endpoint, Credential: newCredential(partnerTenant, audience)})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestCreateSubscription: the partner's MPA account makes the billing
// scope; the PUT is Accepted without an ID, the next read Succeeded with
// the subscription CreateUnderPlan made; a repeated PUT of the alias gives
// the same subscription without a second creation.
func TestCreateSubscription(t *testing.T) {
	sim, p, url := simulate(t, armsim.Options{})
	c := client(t, url, azurerm.DefaultAudience)
	scope, err := c.PartnerBillingScope(ctx(t), withPlan)
	if err != nil || scope != "/providers/Microsoft.Billing/billingAccounts/"+billingAccount+"/customers/"+withPlan {
		t.Fatalf("scope %q, %v", scope, err)
	}
	created, err := c.CreateSubscription(ctx(t), "op-0001", "Contoso production", scope)
	if err != nil || *created != (azurerm.Subscription{Alias: "op-0001", ProvisioningState: azurerm.ProvisioningAccepted}) {
		t.Fatalf("create: %+v, %v", created, err)
	}
	done, err := c.GetSubscription(ctx(t), "op-0001")
	if err != nil || done.ProvisioningState != azurerm.ProvisioningSucceeded || done.SubscriptionID != p.created[0] {
		t.Fatalf("get: %+v, %v; want Succeeded with %v", done, err, p.created)
	}
	again, err := c.CreateSubscription(ctx(t), "op-0001", "Contoso production", scope)
	if err != nil || *again != *done {
		t.Fatalf("repeated create: %+v, %v; want %+v", again, err, done)
	}
	if st := sim.Stats(); p.count() != 1 || st.AliasesCreated != 1 || st.RepeatedPuts != 1 {
		t.Errorf("CreateUnderPlan called %d times, stats %+v; want one creation, one repeat", p.count(), st)
	}
}

// TestProvisioningPolls: an alias stays Accepted for the reads the
// simulator is told, then Succeeded.
func TestProvisioningPolls(t *testing.T) {
	_, _, url := simulate(t, armsim.Options{ProvisioningPolls: 3})
	c := client(t, url, azurerm.DefaultAudience)
	scope := "/providers/Microsoft.Billing/billingAccounts/" + billingAccount + "/customers/" + withPlan
	if _, err := c.CreateSubscription(ctx(t), "op-0002", "Contoso dev", scope); err != nil {
		t.Fatal(err)
	}
	var states []string
	for range 3 {
		s, err := c.GetSubscription(ctx(t), "op-0002")
		if err != nil {
			t.Fatal(err)
		}
		states = append(states, s.ProvisioningState+"/"+s.SubscriptionID)
	}
	if states[0] != "Accepted/" || states[1] != "Accepted/" || !strings.HasPrefix(states[2], "Succeeded/5e6f") {
		t.Errorf("states %v", states)
	}
}

// TestRefusals: a customer without an Azure plan, another billing scope
// for an existing alias and an unknown alias are ARM's answers with ARM's
// words; a token for another audience is 401 and creates nothing.
func TestRefusals(t *testing.T) {
	sim, p, url := simulate(t, armsim.Options{})
	c := client(t, url, azurerm.DefaultAudience)
	scope := func(customer string) string {
		return "/providers/Microsoft.Billing/billingAccounts/" + billingAccount + "/customers/" + customer
	}
	var e *azurerm.Error
	_, err := c.CreateSubscription(ctx(t), "op-0003", "Fabrikam", scope(withoutPlan))
	if !azurerm.IsRefused(err) || !errors.As(err, &e) || e.StatusCode != 400 || e.Code != "InvalidSubCreationScope" ||
		!strings.HasPrefix(e.Message, "Not a valid subscription creation scope") {
		t.Errorf("no Azure plan: %v", err)
	}
	if _, err := c.CreateSubscription(ctx(t), "op-0004", "Contoso", scope(withPlan)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateSubscription(ctx(t), "op-0004", "Contoso", scope(withoutPlan)); !azurerm.IsRefused(err) || !errors.As(err, &e) || e.StatusCode != 409 {
		t.Errorf("the alias again with another billing scope: %v", err)
	}
	if _, err := c.GetSubscription(ctx(t), "op-never"); !errors.Is(err, azurerm.ErrAliasNotFound) {
		t.Errorf("unknown alias: %v", err)
	}

	other := client(t, url, "https://api.partnercenter.microsoft.com")
	_, err = other.CreateSubscription(ctx(t), "op-0005", "Contoso", scope(withPlan))
	if !azurerm.IsRefused(err) || !errors.As(err, &e) || e.StatusCode != 401 || e.Code != "InvalidAuthenticationTokenAudience" {
		t.Errorf("wrong audience: %v", err)
	}
	if st := sim.Stats(); st.AliasesCreated != 1 || p.count() != 2 {
		t.Errorf("stats %+v, CreateUnderPlan called %d times; want 1 alias, 2 calls (one refused)", st, p.count())
	}
}

// TestBillingScopeRefusals: no MPA account (the list paged by nextLink) is
// ErrNoPartnerAgreement; a customer ID that is no GUID is refused before
// any request.
func TestBillingScopeRefusals(t *testing.T) {
	accounts := func(string) []armsim.BillingAccount {
		a := armsim.PartnerAgreement("mca-1", "Contoso MCA")
		a.Properties.AgreementType = "MicrosoftCustomerAgreement"
		b := a
		b.Name = "mca-2"
		return []armsim.BillingAccount{a, b}
	}
	_, _, url := simulate(t, armsim.Options{BillingAccounts: accounts, BillingAccountsPageSize: 1})
	c := client(t, url, azurerm.DefaultAudience)
	_, err := c.PartnerBillingScope(ctx(t), withPlan)
	if !errors.Is(err, azurerm.ErrNoPartnerAgreement) || !strings.Contains(err.Error(), "mca-2") {
		t.Errorf("MCA accounts over two pages: %v", err)
	}
	if _, err := c.PartnerBillingScope(ctx(t), "contoso.onmicrosoft.com"); err == nil || !strings.Contains(err.Error(), "GUID") {
		t.Errorf("a domain as the customer: %v", err)
	}

	paged := func(string) []armsim.BillingAccount {
		return append(accounts(""), armsim.PartnerAgreement(billingAccount, "Contoso"))
	}
	_, _, url = simulate(t, armsim.Options{BillingAccounts: paged, BillingAccountsPageSize: 1})
	if scope, err := client(t, url, azurerm.DefaultAudience).PartnerBillingScope(ctx(t), withPlan); err != nil || !strings.Contains(scope, billingAccount) {
		t.Errorf("the MPA account on the third page: %q, %v", scope, err)
	}
}

// TestEndpointRefused: an http endpoint is refused before anything is
// sent, and so is one with a path.
func TestEndpointRefused(t *testing.T) {
	for _, endpoint := range []string{"http://127.0.0.1:1", "https://management.azure.com/subscriptions"} {
		_, err := azurerm.New(azurerm.Config{Endpoint: endpoint, Credential: newCredential(partnerTenant, azurerm.DefaultAudience)})
		if err == nil || !strings.Contains(err.Error(), endpoint) {
			t.Errorf("%s: %v", endpoint, err)
		}
	}
	if _, err := azurerm.New(azurerm.Config{}); err == nil {
		t.Error("no credential was accepted")
	}
}

// TestNoRedirectNoRetry: a redirect is refused, once, carrying no token
// further; a 503 is sent again MaxRetries times after Retry-After, then
// fails as an *Error worth another try later.
func TestNoRedirectNoRetry(t *testing.T) {
	var followed bool
	target := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { followed = true }))
	defer target.Close()
	rec := &recorder{answer: func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}}
	c := serve(t, rec, newCredential(partnerTenant, azurerm.DefaultAudience))
	_, err := c.GetSubscription(ctx(t), "op-0006")
	if _, ok := apiretry.RedirectRefused(err); !ok || followed || len(rec.all()) != 1 {
		t.Errorf("redirect: %v, followed %t, %d requests", err, followed, len(rec.all()))
	}

	rec = &recorder{answer: func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("retry-after-ms", "1")
		answerJSON(w, http.StatusServiceUnavailable, []byte(`{"error":{"code":"ServiceUnavailable","message":"Try again."}}`))
	}}
	c = serve(t, rec, newCredential(partnerTenant, azurerm.DefaultAudience))
	_, err = c.GetSubscription(ctx(t), "op-0006")
	var e *azurerm.Error
	if !errors.As(err, &e) || e.StatusCode != 503 || azurerm.IsRefused(err) || len(rec.all()) != azurerm.MaxRetries+1 {
		t.Errorf("503: %v, %d requests; want %d", err, len(rec.all()), azurerm.MaxRetries+1)
	}

	// Throttled: returned at once, not waited out inside the call.
	rec = &recorder{answer: func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", "1")
		answerJSON(w, http.StatusTooManyRequests, []byte(`{"error":{"code":"TooManyRequests","message":"Slow down."}}`))
	}}
	c = serve(t, rec, newCredential(partnerTenant, azurerm.DefaultAudience))
	start := time.Now()
	_, err = c.GetSubscription(ctx(t), "op-0006")
	if !errors.As(err, &e) || e.StatusCode != 429 || azurerm.IsRefused(err) || len(rec.all()) != 1 {
		t.Errorf("429: %v, %d requests after %v; want one, returned at once", err, len(rec.all()), time.Since(start))
	}
	if after, ok := apiretry.ThrottledFor(err); !ok || after != time.Second {
		t.Errorf("429 with Retry-After 1: throttled for %v (%t), want 1s", after, ok)
	}
}
