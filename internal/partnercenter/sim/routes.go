package sim

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// headerRequestID is Partner Center's idempotency key.
const headerRequestID = "MS-RequestId"

// headerCorrelationID ties a call to its records (originalCorrelationId).
const headerCorrelationID = "MS-CorrelationId"

func (s *Server) routes() {
	m := http.NewServeMux()
	m.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	m.HandleFunc("GET /sim/stats", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, http.StatusOK, s.Stats()) })
	m.HandleFunc("GET /{tenant}/v2.0/.well-known/openid-configuration", s.openIDConfiguration)
	m.HandleFunc("POST /{tenant}/oauth2/v2.0/token", s.token)
	m.HandleFunc("POST /{tenant}/oauth2/v2.0/devicecode", s.deviceCode)
	m.HandleFunc("GET /sim/v1/devicecodes", s.pendingDeviceCodes)
	m.HandleFunc("POST /sim/v1/devicecodes/{userCode}/approve", s.answerDeviceCode(true))
	m.HandleFunc("POST /sim/v1/devicecodes/{userCode}/deny", s.answerDeviceCode(false))

	// Acting parties.
	m.HandleFunc("POST /sim/v1/relationships/accept", s.decideRelationship(true))
	m.HandleFunc("POST /sim/v1/relationships/decline", s.decideRelationship(false))
	m.HandleFunc("POST /sim/v1/transfers/{id}/accept", s.answerTransfer(true))
	m.HandleFunc("POST /sim/v1/transfers/{id}/reject", s.answerTransfer(false))
	m.HandleFunc("POST /sim/v1/clock/advance", s.advanceClock)
	m.HandleFunc("POST /sim/v1/agreements/accept", s.acceptAgreement)
	// Changes made outside the operator: in Partner Center's portal, or by Microsoft.
	m.HandleFunc("POST /sim/v1/subscriptions/{id}/change", s.changeSubscriptionOutside)
	m.HandleFunc("POST /sim/v1/transfers/{id}/cancel", s.cancelTransferOutside)
	// The webhook signer's root and certificate.
	m.HandleFunc("GET /sim/v1/webhooks/root", s.webhookRoot)
	m.HandleFunc("GET "+webhookCertPath, s.webhookCertificate)
	m.HandleFunc("POST /sim/v1/estate", s.seedEstate)

	// The Partner Center REST subset.
	m.HandleFunc("GET /v1/customers", s.api("ListCustomers", app, s.listCustomers))
	m.HandleFunc("GET /v1/customers/relationshiprequests", s.api("GetRelationshipRequest", appUser, s.relationshipRequest))
	m.HandleFunc("GET /v1/customers/{customer}", s.api("GetCustomer", app, s.getCustomer))
	m.HandleFunc("GET /v1/customers/{customer}/relationships", s.api("GetCustomerRelationships", appUser, s.customerRelationships))
	m.HandleFunc("GET /v1/customers/{customer}/subscriptions", s.api("ListSubscriptions", app, s.listSubscriptions))
	m.HandleFunc("GET /v1/customers/{customer}/subscriptions/{id}", s.api("GetSubscription", app, s.getSubscription))
	m.HandleFunc("PATCH /v1/customers/{customer}/subscriptions/{id}", s.api("UpdateSubscription", app, s.updateSubscription))
	m.HandleFunc("POST /v1/customers/{customer}/carts", s.api("CreateCart", create, s.createCart))
	m.HandleFunc("POST /v1/customers/{customer}/carts/{id}/checkout", s.api("CheckoutCart", create, s.checkout))
	m.HandleFunc("GET /v1/customers/{customer}/orders/{id}", s.api("GetOrder", app, s.getOrder))
	m.HandleFunc("GET /v1/agreements", s.api("GetAgreementMetadata", appUser, s.agreementMetadata))
	m.HandleFunc("GET /v1/customers/{customer}/agreements", s.api("GetCustomerAgreements", appUser, s.customerAgreements))
	m.HandleFunc("POST /v1/customers/{customer}/agreements", s.api("ConfirmCustomerAgreement", appUserCreate, s.confirmAgreement))
	m.HandleFunc("GET /v1/customers/{customer}/transfers", s.api("ListTransfers", app, s.listTransfers))
	m.HandleFunc("POST /v1/customers/{customer}/transfers", s.api("CreateTransfer", create, s.createTransfer))
	m.HandleFunc("GET /v1/customers/{customer}/transfers/{id}", s.api("GetTransfer", app, s.getTransfer))
	m.HandleFunc("PATCH /v1/customers/{customer}/transfers/{id}", s.api("UpdateTransfer", app, s.updateTransfer))
	m.HandleFunc("POST /v1/customers/{customer}/transfers/{id}/accept", s.api("AcceptTransfer", create, s.acceptTransfer))
	m.HandleFunc("GET /v1/customers/{customer}/products/{product}/skus/{sku}/availabilities", s.api("GetCustomerAvailabilities", app, s.customerAvailabilities))
	m.HandleFunc("GET /v1/products/{product}/skus/{sku}", s.api("GetSku", app, s.getSKU))
	// The activity log, and one record by ID (also where events' AuditUri points).
	m.HandleFunc("GET /v1/auditrecords", s.api("GetAuditRecords", app, s.auditRecords))
	m.HandleFunc("GET /v1/auditrecords/{id}", s.api("GetAuditRecord", app, s.auditRecordByID))
	m.HandleFunc("GET /auditactivity/v1/auditrecords/{id}", s.api("GetAuditRecord", app, s.auditRecordByID))
	// Webhook registration.
	m.HandleFunc("GET /webhooks/v1/registration/events", s.api("GetWebhookEvents", app, s.webhookEvents))
	m.HandleFunc("GET /webhooks/v1/registration", s.api("GetWebhookRegistration", app, s.getWebhookRegistration))
	m.HandleFunc("POST /webhooks/v1/registration", s.api("CreateWebhookRegistration", app, s.putWebhookRegistration(false)))
	m.HandleFunc("PUT /webhooks/v1/registration", s.api("UpdateWebhookRegistration", app, s.putWebhookRegistration(true)))
	m.HandleFunc("DELETE /webhooks/v1/registration", s.api("DeleteWebhookRegistration", app, s.deleteWebhookRegistration))
	m.HandleFunc("POST /webhooks/v1/registration/validationEvents", s.api("CreateWebhookTestEvent", app, s.createValidationEvent))
	m.HandleFunc("GET /webhooks/v1/registration/validationEvents/{id}", s.api("GetWebhookTestEvent", app, s.getValidationEvent))
	// The syntax table spells the segment azureentitlements, the example azureEntitlements.
	for _, segment := range []string{"azureEntitlements", "azureentitlements"} {
		m.HandleFunc("GET /v1/customers/{customer}/subscriptions/{id}/"+segment, s.api("GetAzureEntitlements", app, s.azureEntitlements))
	}
	s.mux = m
}

// routeKind says how a route is authorised and whether it creates something.
type routeKind int

const (
	app           routeKind = iota // any token
	appUser                        // a token from the refresh-token grant (App+User)
	create                         // any token; repeated MS-RequestId returns the first response
	appUserCreate                  // App+User, and a create
)

func (k routeKind) creates() bool   { return k == create || k == appUserCreate }
func (k routeKind) needsUser() bool { return k == appUser || k == appUserCreate }

// reply is what an API handler answers; mutated says the state changed.
type reply struct {
	status  int
	body    any
	mutated bool
}

func ok(body any, mutated bool) reply { return reply{http.StatusOK, body, mutated} }
func created(body any) reply          { return reply{http.StatusCreated, body, true} }
func fail(status, code int, format string, args ...any) reply {
	return reply{status, errorOf(code, fmt.Sprintf(format, args...)), false}
}

// errorOf is the documented error body.
func errorOf(code int, description string) errorBody {
	return errorBody{Code: code, Description: description, Data: []string{}, Source: "PartnerCenterSimulator"}
}

// api wraps a handler with what every API call goes through: latency, the
// counters, injected faults, authentication, idempotency and persistence.
func (s *Server) api(route string, kind routeKind, h func(r *http.Request, partner string) reply) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.opts.Latency > 0 {
			select {
			case <-time.After(s.opts.Latency):
			case <-r.Context().Done():
				return
			}
		}
		requestID := r.Header.Get(headerRequestID)
		if kind.creates() && s.opts.HoldCreates > 0 && requestID != "" && s.holdOnce(requestID) {
			// Committed after the hold even if the caller gave up: its
			// retry with the same MS-RequestId must find the object.
			time.Sleep(s.opts.HoldCreates)
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		s.st.Stats.RequestsByRoute[route]++
		early := false
		if until, ok := s.throttledUntil[requestID]; ok && requestID != "" {
			if time.Now().Before(until) {
				s.st.Stats.EarlyRetries++
				early = true
			}
			delete(s.throttledUntil, requestID)
		}
		s.countTenant(s.tenantOf(r.Header.Get("Authorization")), time.Now(), early)

		if chance(s.opts.ThrottleRate) {
			s.st.Stats.Throttled++
			retryAfter := (s.opts.RetryAfter + time.Second - 1) / time.Second * time.Second
			if requestID != "" && len(s.throttledUntil) < 100000 {
				s.throttledUntil[requestID] = time.Now().Add(retryAfter)
			}
			w.Header().Set("Retry-After", strconv.Itoa(int(retryAfter/time.Second)))
			writeJSON(w, http.StatusTooManyRequests, errorOf(429, "Too many requests: retry after the interval in Retry-After."))
			return
		}
		if chance(s.opts.ErrorRate) {
			s.st.Stats.ErrorsInjected++
			writeJSON(w, http.StatusServiceUnavailable, errorOf(503, "Service unavailable (injected by the simulator)."))
			return
		}

		claims, err := s.verifyToken(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
		if err == nil && !partnerCenterAudience(claims.Audience) {
			err = fmt.Errorf("the token is for %q, not Partner Center (%s)", claims.Audience, PartnerCenterAudience)
		}
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			writeJSON(w, http.StatusUnauthorized, errorOf(400, "Unauthorized: "+err.Error()))
			return
		}
		if slices.Contains(s.opts.IndirectResellers, claims.Tenant) {
			writeJSON(w, http.StatusForbidden, errorOf(codeNoAPIAccess, "Partner "+claims.Tenant+" is an indirect reseller and has no Partner Center API access: its indirect provider calls for it."))
			return
		}
		if kind.needsUser() && claims.Grant != "refresh_token" {
			writeJSON(w, http.StatusForbidden, errorOf(2032, "This operation supports App+User credentials only."))
			return
		}

		var key string
		if kind.creates() && requestID != "" {
			key = claims.Tenant + "|" + route + "|" + r.PathValue("customer") + "|" + requestID
			if prev, ok := s.st.Responses[key]; ok {
				s.st.Stats.DuplicatesSuppressed++
				_ = s.save()
				writeRaw(w, prev.Status, prev.Body)
				return
			}
		}

		s.actor = actor{app: claims.ClientID, correlationID: r.Header.Get(headerCorrelationID), base: baseURL(r)}
		rep := h(r, claims.Tenant)
		s.actor = actor{}
		body, err := json.Marshal(rep.body)
		if err != nil {
			writeJSON(w, http.StatusInternalServerError, errorOf(500, err.Error()))
			return
		}
		if key != "" && rep.status < 300 {
			s.st.Responses[key] = &storedResponse{Status: rep.status, Body: body}
		}
		if rep.mutated && !s.persist(w) {
			return
		}
		writeRaw(w, rep.status, body)
	}
}

// Tokens are signed with the state's key, so they stay valid across
// restarts. Audience is the resource the token request's scope named.
type tokenClaims struct {
	Tenant   string `json:"tid"`
	Audience string `json:"aud"`
	Grant    string `json:"grant"`
	Expiry   int64  `json:"exp"`
	// ClientID is the application the token was issued to (Entra ID's
	// azp); the activity log names it as the record's applicationId.
	ClientID string `json:"azp,omitempty"`
}

// PartnerCenterAudience is the audience of Partner Center's tokens: the
// resource of its scope https://api.partnercenter.microsoft.com/.default.
const PartnerCenterAudience = "https://api.partnercenter.microsoft.com"

// graphAppID is the audience Entra ID gives a token whose scopes name no
// resource (openid, offline_access, or Graph's bare scopes): Microsoft Graph.
const graphAppID = "00000003-0000-0000-c000-000000000000"

// audienceOf is the resource a token request's scopes name, which Entra ID
// makes the token's aud: the scope without its last segment
// (https://management.azure.com/.default → https://management.azure.com).
// A request names one resource; the OpenID scopes name none.
// Source: https://learn.microsoft.com/entra/identity-platform/scopes-oidc
// (The /.default scope) and .../access-token-claims-reference (aud).
func audienceOf(scope string) string {
	for _, sc := range strings.Fields(scope) {
		switch strings.ToLower(sc) {
		case "openid", "profile", "email", "offline_access":
			continue
		}
		if i := strings.LastIndex(sc, "/"); i > 0 && strings.Contains(sc, "://") {
			return sc[:i]
		}
		return graphAppID
	}
	return graphAppID
}

// partnerCenterAudience reports whether a token is for Partner Center. A
// token without aud was issued by a simulator that did not record
// audiences yet (a state file from before): it is taken, as every token
// then was a Partner Center token; every token issued now has one.
func partnerCenterAudience(aud string) bool {
	return aud == "" || strings.TrimSuffix(aud, "/") == PartnerCenterAudience
}

func (s *Server) signToken(c tokenClaims) string {
	payload, _ := json.Marshal(c)
	p := base64.RawURLEncoding.EncodeToString(payload)
	return "sim1." + p + "." + base64.RawURLEncoding.EncodeToString(s.mac(p))
}

func (s *Server) mac(p string) []byte {
	h := hmac.New(sha256.New, s.st.Key)
	h.Write([]byte(p))
	return h.Sum(nil)
}

// verifyToken checks a token's signature and expiry.
func (s *Server) verifyToken(tok string) (tokenClaims, error) {
	c, err := s.parseToken(tok)
	// Tokens expire on the wall clock: moving the simulator's clock does not expire them.
	if err == nil && s.opts.Now().Unix() >= c.Expiry {
		return c, fmt.Errorf("the token has expired")
	}
	return c, err
}

// parseToken checks a token's signature and reads its claims; it reads
// only the immutable key, so it needs no lock.
func (s *Server) parseToken(tok string) (tokenClaims, error) {
	var c tokenClaims
	parts := strings.Split(tok, ".")
	if len(parts) != 3 || parts[0] != "sim1" {
		return c, fmt.Errorf("no bearer token")
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || !hmac.Equal(sig, s.mac(parts[1])) {
		return c, fmt.Errorf("the token's signature is not valid")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil || json.Unmarshal(payload, &c) != nil {
		return c, fmt.Errorf("the token is malformed")
	}
	return c, nil
}

// token is Entra ID's v2.0 token endpoint for the client-credentials and
// refresh-token grants.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	tenant := r.PathValue("tenant")
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusBadRequest, oauthError("invalid_request", err.Error()))
		return
	}
	grant := r.PostForm.Get("grant_type")
	s.mu.Lock()
	s.st.Stats.RequestsByRoute["Token"]++
	s.mu.Unlock()
	if grant != "client_credentials" && grant != "refresh_token" && grant != deviceCodeGrant {
		writeJSON(w, http.StatusBadRequest, oauthError("unsupported_grant_type", "grant_type must be client_credentials, refresh_token or "+deviceCodeGrant))
		return
	}
	id, refused := s.authenticateClient(r)
	switch {
	case refused != nil:
		writeJSON(w, refused.status, refused.reply)
		return
	case grant == deviceCodeGrant:
		s.deviceCodeToken(w, r, tenant, id)
		return
	case grant == "refresh_token" && r.PostForm.Get("refresh_token") == "":
		writeJSON(w, http.StatusBadRequest, oauthError("invalid_grant", "refresh_token is required"))
		return
	case r.PostForm.Get("scope") == "":
		// The v2.0 endpoint asks for the scope on both grants.
		writeJSON(w, http.StatusBadRequest, oauthError("invalid_request", "AADSTS900144: The request body must contain the following parameter: 'scope'."))
		return
	}
	lifetime := s.opts.TokenLifetime
	s.mu.Lock()
	defer s.mu.Unlock()
	resp := tokenResponse{TokenType: "Bearer", ExpiresIn: int(lifetime / time.Second), Scope: r.PostForm.Get("scope")}
	if grant == "refresh_token" {
		renewed, refusal := s.redeem(tenant, id, r.PostForm.Get("refresh_token"))
		if refusal != "" {
			writeJSON(w, http.StatusBadRequest, oauthError("invalid_grant", refusal))
			return
		}
		resp.RefreshToken = renewed
		_ = s.save()
	}
	resp.AccessToken = s.signToken(tokenClaims{Tenant: tenant, Audience: audienceOf(resp.Scope), Grant: grant, Expiry: s.opts.Now().Add(lifetime).Unix(), ClientID: id})
	writeJSON(w, http.StatusOK, resp)
}

// redeem takes a refresh token and returns the one to use next (a new one,
// or the same with KeepRefreshTokens), or why it is refused. A token the
// endpoint never saw is taken as issued by a sign-in now. The caller holds s.mu.
func (s *Server) redeem(tenant, clientID, token string) (string, string) {
	now := s.now()
	rt := s.st.RefreshTokens[token]
	switch {
	case rt == nil:
		rt = &refreshToken{Tenant: tenant, ClientID: clientID, LastUsed: now}
		s.st.RefreshTokens[token] = rt
	case rt.ClientID != clientID:
		// Bound to the user and the client, not to a tenant or resource.
		return "", "AADSTS9002313: Invalid request: the refresh token was issued to another client."
	case rt.Redeemed:
		return "", "AADSTS70008: The provided refresh token has expired or been revoked: it was replaced by a newer one. Sign in again."
	case now.Sub(rt.LastUsed) > RefreshTokenInactivity:
		// Each refresh token lives 90 days from its issue: one used on and
		// on without being replaced expires all the same.
		return "", fmt.Sprintf("AADSTS700082: The refresh token has expired due to inactivity. The token was issued on %s and was inactive for 90.00:00:00.", rt.LastUsed.UTC().Format(time.RFC3339))
	}
	if s.opts.KeepRefreshTokens {
		return token, ""
	}
	if s.opts.SingleUseRefreshTokens {
		rt.Redeemed = true
	}
	renewed := "rt-" + uuid.NewString()
	s.st.RefreshTokens[renewed] = &refreshToken{Tenant: tenant, ClientID: clientID, LastUsed: now}
	return renewed, ""
}

func oauthError(code, desc string) map[string]string {
	return map[string]string{"error": code, "error_description": desc}
}

// persist writes the state after a change; when it cannot, it answers 500
// and returns false. The caller holds s.mu.
func (s *Server) persist(w http.ResponseWriter) bool {
	if err := s.save(); err != nil {
		writeJSON(w, http.StatusInternalServerError, errorOf(500, "saving the simulator's state: "+err.Error()))
		return false
	}
	return true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, _ := json.Marshal(v)
	writeRaw(w, status, body)
}

func writeRaw(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func decode(r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20))
	return dec.Decode(v)
}

// holdOnce says whether this create is the first attempt of its request ID,
// the one HoldCreates holds.
func (s *Server) holdOnce(requestID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.held[requestID] {
		return false
	}
	s.held[requestID] = true
	s.st.Stats.CreatesHeld++
	return true
}
