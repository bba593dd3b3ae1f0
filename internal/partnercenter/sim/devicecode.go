package sim

import (
	"crypto/rand"
	"crypto/subtle"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"
)

// The device authorization grant (RFC 8628) as Entra ID's v2.0 endpoint
// serves it: kubectl multichannel login asks for a code, a person signs in
// with it on any machine (here: POST /sim/v1/devicecodes/{userCode}/approve
// or /deny), and the client polls the token endpoint meanwhile.

// deviceCodeGrant is the device code grant's grant_type.
const deviceCodeGrant = "urn:ietf:params:oauth:grant-type:device_code"

type deviceCode struct {
	UserCode string    `json:"userCode"`
	Tenant   string    `json:"tenant"`
	ClientID string    `json:"clientId"`
	Scope    string    `json:"scope"`
	Expiry   time.Time `json:"expiry"`
	Interval int       `json:"interval"`
	LastPoll time.Time `json:"lastPoll,omitempty"`
	// Decision is "", "approved" or "denied".
	Decision string `json:"decision,omitempty"`
}

type deviceCodeResponse struct {
	DeviceCode      string `json:"device_code"`
	UserCode        string `json:"user_code"`
	VerificationURI string `json:"verification_uri"`
	ExpiresIn       int    `json:"expires_in"`
	Interval        int    `json:"interval"`
	Message         string `json:"message"`
}

// deviceCode is POST /{tenant}/oauth2/v2.0/devicecode.
func (s *Server) deviceCode(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusBadRequest, oauthError("invalid_request", err.Error()))
		return
	}
	id, scope := r.PostForm.Get("client_id"), r.PostForm.Get("scope")
	switch {
	case id == "":
		writeJSON(w, http.StatusBadRequest, oauthError("invalid_request", "AADSTS900144: The request body must contain the following parameter: 'client_id'."))
		return
	case scope == "":
		writeJSON(w, http.StatusBadRequest, oauthError("invalid_request", "AADSTS900144: The request body must contain the following parameter: 'scope'."))
		return
	}
	interval, lifetime := s.opts.DeviceCodeInterval, s.opts.DeviceCodeLifetime
	if interval <= 0 {
		interval = 5
	}
	if lifetime <= 0 {
		lifetime = 15 * time.Minute
	}
	code := deviceCode{UserCode: userCode(), Tenant: r.PathValue("tenant"), ClientID: id, Scope: scope,
		Expiry: s.opts.Now().Add(lifetime), Interval: interval}
	device := "dc-" + uuid.NewString()
	s.mu.Lock()
	s.st.DeviceCodes[device] = &code
	_ = s.save()
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, deviceCodeResponse{DeviceCode: device, UserCode: code.UserCode, VerificationURI: "https://microsoft.com/devicelogin",
		ExpiresIn: int(lifetime / time.Second), Interval: interval,
		Message: "To sign in, use a web browser to open the page https://microsoft.com/devicelogin and enter the code " + code.UserCode + " to authenticate."})
}

// userCode is a short code a person types: nine letters, as Entra ID gives.
func userCode() string {
	const letters = "ABCDEFGHJKLMNPQRSTUVWXYZ"
	b := make([]byte, 9)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = letters[int(b[i])%len(letters)]
	}
	return string(b)
}

// deviceCodeToken answers the token endpoint's device code grant, the
// client authenticated (its secret or assertion), as on every grant.
func (s *Server) deviceCodeToken(w http.ResponseWriter, r *http.Request, tenant, clientID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	device := r.PostForm.Get("device_code")
	code := s.st.DeviceCodes[device]
	now := s.opts.Now()
	switch {
	case code == nil || code.Tenant != tenant || code.ClientID != clientID:
		writeJSON(w, http.StatusBadRequest, oauthError("bad_verification_code", "AADSTS70019: the device code is not known."))
		return
	case now.After(code.Expiry):
		delete(s.st.DeviceCodes, device)
		_ = s.save()
		writeJSON(w, http.StatusBadRequest, oauthError("expired_token", "AADSTS70020: The provided value for the input parameter 'device_code' is not valid. This device code has expired."))
		return
	case code.Decision == "denied":
		delete(s.st.DeviceCodes, device)
		_ = s.save()
		writeJSON(w, http.StatusBadRequest, oauthError("authorization_declined", "AADSTS70016: The end user declined the authorization request."))
		return
	case !code.LastPoll.IsZero() && now.Sub(code.LastPoll) < time.Duration(code.Interval)*time.Second-100*time.Millisecond:
		code.LastPoll = now
		writeJSON(w, http.StatusBadRequest, oauthError("slow_down", "Polled before the interval passed: slow down."))
		return
	case code.Decision != "approved":
		code.LastPoll = now
		writeJSON(w, http.StatusBadRequest, oauthError("authorization_pending", "AADSTS70016: OAuth 2.0 device flow error. Authorization is pending. Continue polling."))
		return
	}
	delete(s.st.DeviceCodes, device)
	refresh := ""
	if strings.Contains(" "+code.Scope+" ", " offline_access ") { // a refresh token only when asked for
		refresh = "rt-" + uuid.NewString()
		s.st.RefreshTokens[refresh] = &refreshToken{Tenant: tenant, ClientID: clientID, LastUsed: s.now()}
	}
	_ = s.save()
	lifetime := s.opts.TokenLifetime
	writeJSON(w, http.StatusOK, tokenResponse{TokenType: "Bearer", ExpiresIn: int(lifetime / time.Second), Scope: code.Scope, RefreshToken: refresh,
		AccessToken: s.signToken(tokenClaims{Tenant: tenant, Audience: audienceOf(code.Scope), Grant: "refresh_token", Expiry: now.Add(lifetime).Unix(), ClientID: clientID})})
}

// pendingDeviceCodes lists the user codes waiting for a sign-in.
func (s *Server) pendingDeviceCodes(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	codes := []string{}
	for _, c := range s.st.DeviceCodes {
		if c.Decision == "" {
			codes = append(codes, c.UserCode)
		}
	}
	sort.Strings(codes)
	writeJSON(w, http.StatusOK, map[string][]string{"userCodes": codes})
}

// answerDeviceCode is the person signing in with a user code, or declining.
func (s *Server) answerDeviceCode(approve bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, c := range s.st.DeviceCodes {
			if strings.EqualFold(c.UserCode, r.PathValue("userCode")) && c.Decision == "" {
				c.Decision = map[bool]string{true: "approved", false: "denied"}[approve]
				if !s.persist(w) {
					return
				}
				writeJSON(w, http.StatusOK, c)
				return
			}
		}
		writeJSON(w, http.StatusNotFound, oauthError("invalid_request", "no device code waits with that user code"))
	}
}

// clientRefused checks a confidential client's credentials, as the other
// grants do: the reply says why when they are refused.
func (s *Server) clientRefused(id, secret string) (map[string]string, bool) {
	switch {
	case id == "" || secret == "":
		return oauthError("invalid_client", "client_id and client_secret are required"), false
	case len(s.opts.Credentials) > 0 && subtle.ConstantTimeCompare([]byte(s.opts.Credentials[id]), []byte(secret)) != 1:
		return oauthError("invalid_client", "the client credentials are not valid"), false
	}
	return nil, true
}
