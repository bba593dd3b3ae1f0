package partnercenter_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	pc "github.com/partnerops/multichannel-operator/internal/partnercenter"
	"github.com/partnerops/multichannel-operator/internal/partnercenter/sim"
)

// TestRefreshTokenRenewed: the refresh grant sends the scope Entra ID's
// v2.0 endpoint asks for, and hands each new refresh token to the caller,
// which must keep it: once renewed, the token the client was built with is
// refused (SingleUseRefreshTokens), and one unused for 90 days expires.
func TestRefreshTokenRenewed(t *testing.T) {
	ctx := context.Background()
	_, srv := startSim(t, sim.Options{SingleUseRefreshTokens: true})
	var mu sync.Mutex
	var renewed []string
	withToken := func(token string) *pc.Client {
		c, _ := newClient(t, srv.URL, contoso, func(cfg *pc.Config) {
			cfg.Credentials.RefreshToken = token
			cfg.OnRefreshTokenRenewed = func(tok string) { mu.Lock(); renewed = append(renewed, tok); mu.Unlock() }
		})
		return c
	}
	if err := withToken("signed-in").CheckUserCredentials(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	got := append([]string(nil), renewed...)
	mu.Unlock()
	if len(got) != 1 || got[0] == "signed-in" {
		t.Fatalf("renewed %v, want one new refresh token", got)
	}
	if err := withToken("signed-in").CheckUserCredentials(ctx); err == nil || !strings.Contains(err.Error(), "AADSTS70008") {
		t.Errorf("the replaced token: %v, want it refused", err)
	}
	if err := withToken(got[0]).CheckUserCredentials(ctx); err != nil {
		t.Errorf("the renewed token: %v", err)
	}

	// Unused for 90 days, a refresh token expires.
	_, idle := startSim(t, sim.Options{KeepRefreshTokens: true})
	c, _ := newClient(t, idle.URL, contoso, func(cfg *pc.Config) { cfg.Credentials.RefreshToken = "signed-in" })
	if err := c.CheckUserCredentials(ctx); err != nil {
		t.Fatal(err)
	}
	_ = simPost(t, idle.URL, "/sim/v1/clock/advance", map[string]string{"duration": "2161h"}).Body.Close()
	c, _ = newClient(t, idle.URL, contoso, func(cfg *pc.Config) { cfg.Credentials.RefreshToken = "signed-in" })
	if err := c.CheckUserCredentials(ctx); err == nil || !strings.Contains(err.Error(), "AADSTS700082") {
		t.Errorf("a refresh token unused for 90 days: %v, want it expired", err)
	}
}
