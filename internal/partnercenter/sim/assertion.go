package sim

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // x5t is the certificate's SHA-1 thumbprint, as Entra ID defines it
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/golang-jwt/jwt/v5"
)

// clientAssertionType is RFC 7523's client assertion type, the only one
// Entra ID accepts.
const clientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// FederatedCredential is an application's federated identity credential:
// Entra ID accepts, as the application's client assertion, a token from
// Issuer about Subject for one of Audiences, signed by one of the issuer's
// Keys (which Entra ID reads from the issuer's OIDC discovery document).
// Source: https://learn.microsoft.com/graph/api/resources/federatedidentitycredential
type FederatedCredential struct {
	Issuer    string
	Subject   string
	Audiences []string // Microsoft asks for api://AzureADTokenExchange
	Keys      []crypto.PublicKey
}

// openIDConfiguration is a tenant's OIDC discovery document, as Entra ID
// serves it at /{tenant}/v2.0/.well-known/openid-configuration (the fields
// MSAL reads and a few more), naming this server's own endpoints.
func (s *Server) openIDConfiguration(w http.ResponseWriter, r *http.Request) {
	base := baseURL(r) + "/" + url.PathEscape(r.PathValue("tenant"))
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                base + "/v2.0",
		"authorization_endpoint":                base + "/oauth2/v2.0/authorize",
		"token_endpoint":                        base + "/oauth2/v2.0/token",
		"device_authorization_endpoint":         base + "/oauth2/v2.0/devicecode",
		"jwks_uri":                              base + "/discovery/v2.0/keys",
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		"response_types_supported":              []string{"code", "id_token", "code id_token", "id_token token"},
		"subject_types_supported":               []string{"pairwise"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
	})
}

// baseURL is the scheme and host the request came to.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// authRefusal is why the token endpoint does not know the client: the
// status and OAuth error it answers.
type authRefusal struct {
	status int
	reply  map[string]string
}

// authenticateClient checks the application's credential on a token
// request: a client secret, or a client assertion (a JWT signed by a
// registered certificate, or a federated token). It returns the client ID.
func (s *Server) authenticateClient(r *http.Request) (string, *authRefusal) {
	id, secret := r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	if u, p, ok := r.BasicAuth(); ok {
		id, secret = u, p
	}
	assertion, kind := r.PostForm.Get("client_assertion"), r.PostForm.Get("client_assertion_type")
	switch {
	case id == "":
		return "", &authRefusal{http.StatusBadRequest, oauthError("invalid_request", "AADSTS900144: The request body must contain the following parameter: 'client_id'.")}
	case assertion == "" && kind == "":
		if reply, ok := s.clientRefused(id, secret); !ok {
			return "", &authRefusal{http.StatusUnauthorized, reply}
		}
		return id, nil
	case secret != "":
		return "", &authRefusal{http.StatusBadRequest, oauthError("invalid_request", "a client secret and a client assertion were both sent; send one credential")}
	case kind != clientAssertionType:
		return "", &authRefusal{http.StatusBadRequest, oauthError("invalid_request", "client_assertion_type must be "+clientAssertionType)}
	case assertion == "":
		return "", &authRefusal{http.StatusBadRequest, oauthError("invalid_request", "AADSTS900144: The request body must contain the following parameter: 'client_assertion'.")}
	}
	unverified, _, err := jwt.NewParser().ParseUnverified(assertion, jwt.MapClaims{})
	if err != nil {
		return "", &authRefusal{http.StatusBadRequest, oauthError("invalid_request", "AADSTS50027: JWT token is invalid or malformed.")}
	}
	iss, _ := unverified.Claims.GetIssuer()
	sub, _ := unverified.Claims.GetSubject()
	if iss == id && sub == id {
		return id, s.checkCertificateAssertion(r, id, assertion, unverified.Header)
	}
	return id, s.checkFederatedAssertion(id, assertion, iss, sub)
}

// checkCertificateAssertion: the JWT Microsoft documents for certificate
// credentials, signed by the key of a certificate registered with the
// application (found by its x5t#S256 or x5t thumbprint), for this token
// endpoint, within its validity.
// Source: https://learn.microsoft.com/entra/identity-platform/certificate-credentials
func (s *Server) checkCertificateAssertion(r *http.Request, id, assertion string, header map[string]any) *authRefusal {
	var cert *x509.Certificate
	for _, c := range s.opts.Certificates[id] {
		s256, s1 := sha256.Sum256(c.Raw), sha1.Sum(c.Raw) //nolint:gosec // see the import
		if thumbprintIs(header["x5t#S256"], s256[:]) || thumbprintIs(header["x5t"], s1[:]) {
			cert = c
		}
	}
	if cert == nil {
		return &authRefusal{http.StatusUnauthorized, oauthError("invalid_client", fmt.Sprintf(
			"AADSTS700027: The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Thumbprint of key used by client: '%v', application: '%s']", header["x5t#S256"], id))}
	}
	if now := s.opts.Now(); cert.NotAfter.Before(now) || cert.NotBefore.After(now) {
		return &authRefusal{http.StatusUnauthorized, oauthError("invalid_client", "AADSTS700027: Client assertion failed signature validation: the certificate is outside its validity period.")}
	}
	tokenURL := baseURL(r) + r.URL.Path
	claims := jwt.RegisteredClaims{}
	_, err := jwt.ParseWithClaims(assertion, &claims, func(*jwt.Token) (any, error) { return cert.PublicKey, nil },
		jwt.WithValidMethods([]string{"PS256", "RS256"}), jwt.WithAudience(tokenURL), jwt.WithIssuer(id), jwt.WithSubject(id),
		jwt.WithExpirationRequired(), jwt.WithTimeFunc(s.opts.Now))
	if err == nil && claims.ID == "" {
		// Microsoft's assertion format lists a jti, "a unique identifier".
		return &authRefusal{http.StatusUnauthorized, oauthError("invalid_client", "the client assertion has no jti claim")}
	}
	return assertionRefusal(err, "")
}

// thumbprintIs reports whether a JWT header's thumbprint is sum. Microsoft
// documents base64url; MSAL for Go, which Entra ID accepts, sends standard
// base64 with padding: either is taken.
func thumbprintIs(header any, sum []byte) bool {
	h, _ := header.(string)
	if h == "" {
		return false
	}
	for _, enc := range []*base64.Encoding{base64.RawURLEncoding, base64.URLEncoding, base64.StdEncoding, base64.RawStdEncoding} {
		if got, err := enc.DecodeString(h); err == nil && subtle.ConstantTimeCompare(got, sum) == 1 {
			return true
		}
	}
	return false
}

// checkFederatedAssertion: a token from a federated identity credential's
// issuer, for its subject and one of its audiences, signed by the
// issuer's key with RS256, within its validity. Microsoft supports RS256
// only ("other algorithms may work, but haven't been tested"): the
// simulator refuses the others.
// Source: https://learn.microsoft.com/entra/workload-id/workload-identity-federation-considerations
// (Supported signing algorithms and issuers)
func (s *Server) checkFederatedAssertion(id, assertion, iss, sub string) *authRefusal {
	for _, fc := range s.opts.FederatedCredentials[id] {
		if fc.Issuer == "" || fc.Subject == "" || fc.Issuer != iss || fc.Subject != sub {
			continue
		}
		// A credential without audiences or keys verifies nothing: it
		// matches no token.
		last := jwt.ErrTokenUnverifiable
		for _, aud := range fc.Audiences {
			for _, key := range fc.Keys {
				_, last = jwt.Parse(assertion, func(*jwt.Token) (any, error) { return key, nil },
					jwt.WithValidMethods([]string{"RS256"}), jwt.WithAudience(aud), jwt.WithIssuer(iss),
					jwt.WithExpirationRequired(), jwt.WithTimeFunc(s.opts.Now))
				if last == nil {
					return nil
				}
			}
		}
		if errors.Is(last, jwt.ErrTokenInvalidAudience) {
			break // reported as no matching record, as Entra ID does
		}
		return assertionRefusal(last, iss)
	}
	aud := ""
	if t, _, err := jwt.NewParser().ParseUnverified(assertion, jwt.MapClaims{}); err == nil {
		if a, err := t.Claims.GetAudience(); err == nil {
			aud = strings.Join(a, ",")
		}
	}
	// Source: https://azure.github.io/azure-workload-identity/docs/troubleshooting.html (AADSTS70021)
	return &authRefusal{http.StatusBadRequest, oauthError("invalid_request", fmt.Sprintf(
		"AADSTS70021: No matching federated identity record found for presented assertion. Assertion Issuer: '%s'. Assertion Subject: '%s'. Assertion Audience: '%s'.", iss, sub, aud))}
}

// assertionRefusal says why a client assertion failed jwt's checks.
func assertionRefusal(err error, issuer string) *authRefusal {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, jwt.ErrTokenExpired), errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return &authRefusal{http.StatusBadRequest, oauthError("invalid_client", "AADSTS700024: Client assertion is not within its valid time range.")}
	case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrTokenUnverifiable):
		if issuer != "" {
			return &authRefusal{http.StatusUnauthorized, oauthError("invalid_client", "AADSTS700027: Client assertion failed signature validation: no key of issuer "+issuer+" signed it.")}
		}
		return &authRefusal{http.StatusUnauthorized, oauthError("invalid_client", "AADSTS700027: Client assertion failed signature validation.")}
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return &authRefusal{http.StatusUnauthorized, oauthError("invalid_client", "the client assertion's aud claim must be this tenant's token endpoint")}
	}
	return &authRefusal{http.StatusUnauthorized, oauthError("invalid_client", "the client assertion is not valid: "+err.Error())}
}

// ParseJWKS reads a JSON Web Key Set (the keys an OIDC issuer publishes at
// its jwks_uri; Kubernetes signs service-account tokens with RSA), for
// FederatedCredential.Keys.
func ParseJWKS(data []byte) ([]crypto.PublicKey, error) {
	var set struct {
		Keys []struct {
			Kty, N, E string
		} `json:"keys"`
	}
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, fmt.Errorf("reading a JWKS: %w", err)
	}
	var keys []crypto.PublicKey
	b := func(s string) *big.Int {
		v, _ := base64.RawURLEncoding.DecodeString(s)
		return new(big.Int).SetBytes(v)
	}
	for _, k := range set.Keys {
		if k.Kty == "RSA" {
			keys = append(keys, &rsa.PublicKey{N: b(k.N), E: int(b(k.E).Int64())})
		}
	}
	if len(keys) == 0 {
		return nil, errors.New("the JWKS holds no RSA key")
	}
	return slices.Clip(keys), nil
}
