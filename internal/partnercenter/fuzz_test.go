package partnercenter_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/partnerops/multichannel-operator/internal/apiretry/apiretrytest"
	pc "github.com/partnerops/multichannel-operator/internal/partnercenter"
	"github.com/partnerops/multichannel-operator/internal/partnercenter/sim"
)

// FuzzClientDecoders: whatever Partner Center answers (any status, any body),
// every read the operator makes returns a value or an error, never a panic,
// and a non-2xx answer is a typed *pc.Error.
func FuzzClientDecoders(f *testing.F) {
	f.Add(uint8(0), 200, []byte(`{"id":"t","status":"Active","transferType":3}`))
	f.Add(uint8(1), 200, []byte(`{"companyProfile":{"tenantId":"x"},"relationshipToPartner":"reseller"}`))
	f.Add(uint8(2), 200, []byte(`{"totalCount":1,"items":[{"id":"s","quantity":"x"}]}`))
	f.Add(uint8(3), 403, []byte(`{"code":"20002","description":"no commerce relationship","data":[1,"a"]}`))
	f.Add(uint8(4), 200, []byte(`{"id":"o","lineItems":[{"subscriptionId":null}],"status":"pending"}`))
	f.Add(uint8(5), 200, []byte(`{"link":{"uri":"https://x"}}`))
	f.Add(uint8(0), 500, []byte(`not json`))
	f.Add(uint8(3), 200, []byte(`{"id":"s","status":"deleted","cancellationAllowedUntilDate":"2026-12-10T09:00:00Z","refundOptions":[{"type":"Full","expiresAt":"2026-12-10T09:00:00Z"}]}`))
	f.Add(uint8(3), 200, []byte(`{"id":"s","cancellationAllowedUntilDate":"not a date","refundOptions":[{"type":1}]}`))
	f.Add(uint8(4), 200, []byte(`{"id":"o","lineItems":[{"subscriptionId":"s","partnerIdOnRecord":5357564}],"status":"completed"}`))
	var status atomic.Int64
	var body atomic.Value
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if apiretrytest.ServeEntra(w, r) {
			return
		}
		w.WriteHeader(int(status.Load()))
		_, _ = w.Write(body.Load().([]byte))
	}))
	defer srv.Close()
	c, err := pc.New(pc.Config{Endpoint: srv.URL, AuthorityHost: srv.URL, TenantID: contoso,
		Credentials: pc.Credentials{ClientID: "a", ClientSecret: "b", RefreshToken: "c"},
		Retry:       pc.RetryPolicy{MaxAttempts: 1}, RequestsPerMinute: 1 << 30})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, op uint8, code int, data []byte) {
		if code < 200 || code > 599 || code == http.StatusTooManyRequests {
			return
		}
		status.Store(int64(code))
		body.Store(data)
		ctx := context.Background()
		var callErr error
		switch op % 6 {
		case 0:
			_, callErr = c.GetTransfer(ctx, woodgrove, "t")
		case 1:
			_, callErr = c.GetCustomer(ctx, woodgrove)
		case 2:
			_, callErr = c.ListSubscriptions(ctx, woodgrove)
		case 3:
			_, callErr = c.GetSubscription(ctx, woodgrove, "s")
		case 4:
			_, callErr = c.GetOrder(ctx, woodgrove, "o")
		case 5:
			_, callErr = c.RelationshipRequest(ctx, pc.RelationshipRequestOptions{})
		}
		var apiErr *pc.Error
		if code >= 300 && (callErr == nil || !errors.As(callErr, &apiErr) || apiErr.StatusCode != code) {
			t.Fatalf("HTTP %d answered %v, want a *pc.Error with that status", code, callErr)
		}
	})
}

// FuzzSimulatorRequests: whatever a client sends to the calls that buy and
// transfer, the simulator answers a 2xx or a 4xx with Partner Center's error
// body, never a 5xx or a panic.
func FuzzSimulatorRequests(f *testing.F) {
	f.Add(uint8(0), []byte(`{"lineItems":[{"id":0,"catalogItemId":"CFQ7TTC0LFLX:0001","quantity":1,"billingCycle":"monthly","termDuration":"P1Y"}]}`))
	f.Add(uint8(1), []byte(`{"sourcePartnerTenantId":"x","sourcePartnerName":"F","customerEmailId":"a@b","transferType":3}`))
	f.Add(uint8(2), []byte(`{"status":"Cancel"}`))
	f.Add(uint8(3), []byte(`{"id":"s","status":"suspended","quantity":-1}`))
	f.Add(uint8(0), []byte(`{"lineItems":[]}`))
	f.Add(uint8(1), []byte(`{"transferType":"3"}`))
	f.Add(uint8(0), []byte(`{"PartnerOnRecordAttestationAccepted":true,"lineItems":[{"id":0,"catalogItemId":"CFQ7TTC0LFLX:0001:CFQ7TTC0K18P","quantity":2,"billingCycle":"monthly","termDuration":"P1Y","participants":[{"key":"transaction_reseller","value":"5357564"}]}]}`))
	f.Add(uint8(0), []byte(`{"PartnerOnRecordAttestationAccepted":"yes","lineItems":[{"participants":[{"key":1},null]}]}`))
	f.Add(uint8(3), []byte(`{"id":"unknown","status":"deleted","quantity":1,"billingType":"license"}`))
	// The catalog's items and the Azure plan rule.
	f.Add(uint8(0), []byte(`{"PartnerOnRecordAttestationAccepted":true,"lineItems":[{"id":0,"catalogItemId":"`+sim.E3CatalogItem+`","quantity":2,"billingCycle":"Monthly","termDuration":"P1M"}]}`))
	f.Add(uint8(0), []byte(`{"PartnerOnRecordAttestationAccepted":true,"lineItems":[{"id":0,"catalogItemId":"`+sim.AzurePlanCatalogItem+`","quantity":1,"billingCycle":"one_time"},{"id":1,"catalogItemId":"`+sim.AzurePlanCatalogItem+`","quantity":1,"billingCycle":"OneTime"}]}`))
	f.Add(uint8(1), []byte(`{"sourcePartnerTenantId":"x","sourcePartnerName":"F","customerEmailId":"a@b","transferType":3,"targetProductTypes":["AzureSubscription","OnlineServicesNCE"]}`))
	s, err := sim.New(sim.Options{SkipRelationshipCheck: true})
	if err != nil {
		f.Fatal(err)
	}
	token := simToken(f, s)
	routes := []struct{ method, path string }{
		{http.MethodPost, "/v1/customers/" + woodgrove + "/carts"},
		{http.MethodPost, "/v1/customers/" + woodgrove + "/transfers"},
		{http.MethodPatch, "/v1/customers/" + woodgrove + "/transfers/unknown"},
		{http.MethodPatch, "/v1/customers/" + woodgrove + "/subscriptions/unknown"},
	}
	f.Fuzz(func(t *testing.T, route uint8, data []byte) {
		rt := routes[int(route)%len(routes)]
		req := httptest.NewRequest(rt.method, rt.path, bytes.NewReader(data))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(pc.HeaderRequestID, "fuzz")
		req.Header.Set("If-Match", "*")
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %s with %q: HTTP %d %s", rt.method, rt.path, data, rec.Code, rec.Body.String())
		}
		if rec.Code >= 400 {
			var eb struct {
				Code        any    `json:"code"`
				Description string `json:"description"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &eb); err != nil || eb.Description == "" {
				t.Fatalf("HTTP %d without Partner Center's error body: %s", rec.Code, rec.Body.String())
			}
		}
	})
}

// simToken obtains an application token from the simulator's token endpoint.
func simToken(f *testing.F, s *sim.Server) string {
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {"fuzz"}, "client_secret": {"fuzz"},
		"scope": {pc.Scope}}
	req := httptest.NewRequest(http.MethodPost, "/"+contoso+"/oauth2/v2.0/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &tok); err != nil || tok.AccessToken == "" {
		f.Fatalf("no token: %d %s", rec.Code, rec.Body.String())
	}
	return tok.AccessToken
}
