package entra

import (
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
)

// ClientAssertionType is the form value of a JWT client assertion (RFC 7523).
const ClientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// FederatedTokenAudience is the audience Entra ID accepts in a federated
// token (a federated identity credential's audiences).
const FederatedTokenAudience = "api://AzureADTokenExchange"

// Authenticate adds the application's credential to a token request's
// form, for a grant azidentity does not make (the refresh grant, the
// device code grant): the client secret, or a client assertion, as
// azidentity would.
func (c Credentials) Authenticate(form url.Values, tokenURL string) error {
	switch c.Kind() {
	case KindClientSecret:
		form.Set("client_secret", c.ClientSecret)
		return nil
	case KindWorkloadIdentity:
		token := []byte(c.FederatedToken)
		if c.FederatedTokenFile != "" {
			var err error
			if token, err = os.ReadFile(c.FederatedTokenFile); err != nil {
				return fmt.Errorf("reading the workload identity's token: %w", err)
			}
		}
		form.Set("client_assertion_type", ClientAssertionType)
		form.Set("client_assertion", strings.TrimSpace(string(token)))
		return nil
	case KindClientCertificate:
		assertion, err := c.certificateAssertion(tokenURL, time.Now())
		if err != nil {
			return err
		}
		form.Set("client_assertion_type", ClientAssertionType)
		form.Set("client_assertion", assertion)
		return nil
	}
	return c.Validate()
}

// certificateAssertion is the JWT Microsoft's identity platform documents
// for certificate credentials: PS256, the certificate's SHA-256 thumbprint
// in x5t#S256, aud the token endpoint, iss and sub the client ID, a unique
// jti, valid for ten minutes.
// Source: https://learn.microsoft.com/entra/identity-platform/certificate-credentials
func (c Credentials) certificateAssertion(tokenURL string, now time.Time) (string, error) {
	certs, key, err := c.certificate()
	if err != nil {
		return "", err
	}
	rsaKey := key.(*rsa.PrivateKey) // certificate() returns RSA keys only
	thumb := sha256.Sum256(certs[0].Raw)
	tok := jwt.NewWithClaims(jwt.SigningMethodPS256, jwt.RegisteredClaims{
		Audience: jwt.ClaimStrings{tokenURL}, Issuer: c.ClientID, Subject: c.ClientID, ID: uuid.NewString(),
		IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(10 * time.Minute)),
	})
	tok.Header["x5t#S256"] = base64.RawURLEncoding.EncodeToString(thumb[:])
	return tok.SignedString(rsaKey)
}
