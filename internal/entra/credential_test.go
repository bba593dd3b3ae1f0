package entra_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/partnerops/multichannel-operator/internal/entra"
	"github.com/partnerops/multichannel-operator/internal/partnercenter/sim"
)

// TestAppCredential: the credential AppTokens uses, handed to an SDK
// client, gets a token for Azure Resource Manager's scope with the
// application's secret, is refused with another, is not built for an
// incomplete configuration, and sends nothing to where a redirect points.
func TestAppCredential(t *testing.T) {
	authority := serve(t, sim.Options{Credentials: map[string]string{appID: "right"}})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	arm := policy.TokenRequestOptions{Scopes: []string{"https://management.azure.com/.default"}}

	cred, err := entra.AppCredential(config(authority, entra.Credentials{ClientSecret: "right"}))
	if err != nil {
		t.Fatal(err)
	}
	if tok, err := cred.GetToken(ctx, arm); err != nil || tok.Token == "" {
		t.Fatalf("token with the right secret: %v", err)
	}
	cred, _ = entra.AppCredential(config(authority, entra.Credentials{ClientSecret: "wrong"}))
	if _, err := cred.GetToken(ctx, arm); err == nil {
		t.Error("a wrong secret earned a token")
	}
	if _, err := entra.AppCredential(config(authority, entra.Credentials{})); err == nil {
		t.Error("a configuration without a credential was accepted")
	}

	var followed bool
	target := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { followed = true }))
	defer target.Close()
	redirecting := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer redirecting.Close()
	cred, _ = entra.AppCredential(config(redirecting.URL, entra.Credentials{ClientSecret: "right"}))
	if _, err := cred.GetToken(ctx, arm); err == nil || followed || !strings.Contains(err.Error(), "never sent to a redirect") {
		t.Errorf("redirect: %v, followed %t", err, followed)
	}
}
