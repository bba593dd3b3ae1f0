package armsim

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// authenticate checks the request's bearer token as ARM does and returns
// the caller's tenant (the token's tid); otherwise it answers 401 with
// ARM's error code and message.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (string, bool) {
	tenant, code, message := s.tenantOf(r.Header.Get("Authorization"))
	if code == "" {
		return tenant, true
	}
	s.mu.Lock()
	s.stats.Unauthorized++
	s.mu.Unlock()
	w.Header().Set("WWW-Authenticate", `Bearer authorization_uri="https://login.microsoftonline.com/common", error="invalid_token", error_description="`+message+`"`)
	writeError(w, http.StatusUnauthorized, code, message)
	return "", false
}

// tenantOf returns the tenant of an Authorization header, or ARM's error
// code and message for it.
func (s *Server) tenantOf(header string) (tenant, code, message string) {
	if header == "" {
		return "", "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing."
	}
	raw, ok := strings.CutPrefix(header, "Bearer ")
	if !ok || raw == "" {
		return "", "AuthenticationFailed", "Authentication failed. The 'Authorization' header is provided in an invalid format."
	}
	verify := s.opts.VerifyToken
	if verify == nil {
		verify = decodeJWT
	}
	claims, err := verify(raw)
	if err != nil {
		return "", "InvalidAuthenticationToken", "The access token is invalid."
	}
	if exp, ok := seconds(claims["exp"]); ok && s.opts.Now().Unix() >= exp {
		return "", "ExpiredAuthenticationToken", fmt.Sprintf("The access token expiry UTC time '%s' is earlier than current UTC time '%s'.",
			time.Unix(exp, 0).UTC().Format("1/2/2006 3:04:05 PM"), s.opts.Now().UTC().Format("1/2/2006 3:04:05 PM"))
	}
	if aud := audience(claims["aud"]); !slices.Contains(s.opts.Audiences, aud) {
		return "", "InvalidAuthenticationTokenAudience", "The access token has been obtained for wrong audience or resource '" + aud +
			"'. It should exactly match with one of the allowed audiences '" + strings.Join(s.opts.Audiences, "','") + "'."
	}
	tenant, _ = claims["tid"].(string)
	if tenant == "" {
		return "", "InvalidAuthenticationToken", "The access token is invalid."
	}
	return tenant, "", ""
}

// seconds reads a NumericDate claim, as encoding/json or a caller's
// VerifyToken may give it.
func seconds(v any) (int64, bool) {
	switch n := v.(type) {
	case float64:
		return int64(n), true
	case int64:
		return n, true
	case int:
		return int64(n), true
	case json.Number:
		i, err := n.Int64()
		return i, err == nil
	}
	return 0, false
}

// audience is a token's aud: a string, or the first of a list.
func audience(aud any) string {
	switch a := aud.(type) {
	case string:
		return a
	case []any:
		if len(a) > 0 {
			s, _ := a[0].(string)
			return s
		}
	}
	return ""
}

// decodeJWT returns a JWT's claims without checking its signature.
func decodeJWT(raw string) (map[string]any, error) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return nil, errors.New("not a JWT")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, err
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		return nil, err
	}
	return claims, nil
}
