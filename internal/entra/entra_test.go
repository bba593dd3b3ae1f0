package entra_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/oauth2"

	"github.com/partnerops/multichannel-operator/internal/apiretry"
	"github.com/partnerops/multichannel-operator/internal/apiretry/apiretrytest"
	"github.com/partnerops/multichannel-operator/internal/entra"
	"github.com/partnerops/multichannel-operator/internal/partnercenter/sim"
)

func init() { apiretrytest.TrustTestServers() }

const (
	tenant  = "4d0e2ac3-0000-4000-8000-000000000001"
	appID   = "97e0a5b7-d745-40b6-94fe-5f77d35c6e05"
	scope   = "https://api.partnercenter.microsoft.com/.default"
	issuer  = "https://oidc.cluster.example"
	subject = "system:serviceaccount:multichannel-system:multichannel-operator"
)

func certificate(t *testing.T, notAfter time.Time) ([]byte, *x509.Certificate) {
	return apiretrytest.Certificate(t, notAfter)
}

func serve(t *testing.T, opts sim.Options) string {
	t.Helper()
	s, err := sim.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(s)
	t.Cleanup(srv.Close)
	return srv.URL
}

func config(authority string, c entra.Credentials) entra.Config {
	c.ClientID = appID
	return entra.Config{AuthorityHost: authority, TenantID: tenant, Credentials: c}
}

// oauthCode is the OAuth error code of a refused token request, "" if none.
func oauthCode(err error) string {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		return re.ErrorCode + " " + re.ErrorDescription
	}
	return ""
}

// TestCertificateCredential: a certificate registered with the application
// earns app-only tokens (azidentity signs the assertion) and App+User tokens
// (the refresh grant signs its own); another certificate, or one expired,
// is refused with Entra ID's code, and the PEM appears in no error.
func TestCertificateCredential(t *testing.T) {
	registered, cert := certificate(t, time.Now().Add(24*time.Hour))
	other, _ := certificate(t, time.Now().Add(24*time.Hour))
	authority := serve(t, sim.Options{Certificates: map[string][]*x509.Certificate{appID: {cert}}})

	app, err := entra.AppTokens(config(authority, entra.Credentials{ClientCertificate: registered}), scope)
	if err != nil {
		t.Fatal(err)
	}
	if tok, err := app.Token(); err != nil || tok.AccessToken == "" {
		t.Fatalf("app-only token with the registered certificate: %v", err)
	}
	var renewed []string
	user := entra.UserTokens(config(authority, entra.Credentials{ClientCertificate: registered, RefreshToken: "signed-in"}),
		"https://api.partnercenter.microsoft.com/user_impersonation offline_access", func(rt string) { renewed = append(renewed, rt) })
	if _, err := user.Token(); err != nil || len(renewed) != 1 {
		t.Fatalf("App+User token with a certificate assertion: %v, renewed %d", err, len(renewed))
	}

	app, err = entra.AppTokens(config(authority, entra.Credentials{ClientCertificate: other}), scope)
	if err != nil {
		t.Fatal(err)
	}
	_, err = app.Token()
	if code := oauthCode(err); !strings.HasPrefix(code, "invalid_client AADSTS700027") {
		t.Errorf("an unregistered certificate: %v (%q), want invalid_client AADSTS700027", err, code)
	}
	if strings.Contains(apiretry.TokenError(err).Error(), "PRIVATE KEY") {
		t.Error("the error quotes the key")
	}
	user = entra.UserTokens(config(authority, entra.Credentials{ClientCertificate: other, RefreshToken: "signed-in"}), scope, nil)
	if _, err := user.Token(); !strings.HasPrefix(oauthCode(err), "invalid_client AADSTS700027") {
		t.Errorf("refresh grant with an unregistered certificate: %v", err)
	}

	// A chain that lists another certificate first: the key's own is the one used.
	caFirst := append(append([]byte{}, other[:strings.Index(string(other), "-----BEGIN PRIVATE KEY")]...), registered...)
	user = entra.UserTokens(config(authority, entra.Credentials{ClientCertificate: caFirst, RefreshToken: "signed-in"}), scope, nil)
	if _, err := user.Token(); err != nil {
		t.Errorf("refresh grant with the key's certificate second in the PEM: %v", err)
	}

	// A registered certificate past its end is refused.
	expired, old := certificate(t, time.Now().Add(-time.Minute))
	authority = serve(t, sim.Options{Certificates: map[string][]*x509.Certificate{appID: {old}}})
	app, _ = entra.AppTokens(config(authority, entra.Credentials{ClientCertificate: expired}), scope)
	if _, err := app.Token(); !strings.HasPrefix(oauthCode(err), "invalid_client AADSTS700027") {
		t.Errorf("an expired certificate: %v", err)
	}
}

// federatedToken writes a service-account-like token signed by key to a file.
func federatedToken(t *testing.T, key *rsa.PrivateKey, claims jwt.RegisteredClaims) string {
	return tokenFile(t, jwt.SigningMethodRS256, key, claims)
}

// ecToken writes a token signed with ES256 by a key of its own.
func ecToken(t *testing.T, claims jwt.RegisteredClaims) string {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return tokenFile(t, jwt.SigningMethodES256, key, claims)
}

func tokenFile(t *testing.T, method jwt.SigningMethod, key any, claims jwt.RegisteredClaims) string {
	t.Helper()
	tok, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(file, []byte(tok), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

// TestWorkloadIdentityCredential: a token from the cluster's issuer for the
// operator's service account, with Entra ID's audience, is exchanged for
// app-only tokens and authenticates the refresh grant; one for another
// subject or audience finds no federated credential (AADSTS70021), one
// expired is out of its time range (AADSTS700024), and one signed by
// another key fails its signature (AADSTS700027).
func TestWorkloadIdentityCredential(t *testing.T) {
	issuerKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	otherKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	authority := serve(t, sim.Options{FederatedCredentials: map[string][]sim.FederatedCredential{appID: {{
		Issuer: issuer, Subject: subject, Audiences: []string{entra.FederatedTokenAudience}, Keys: []crypto.PublicKey{&issuerKey.PublicKey}}}}})
	claims := func(sub, aud string, exp time.Time) jwt.RegisteredClaims {
		return jwt.RegisteredClaims{Issuer: issuer, Subject: sub, Audience: jwt.ClaimStrings{aud},
			IssuedAt: jwt.NewNumericDate(time.Now()), ExpiresAt: jwt.NewNumericDate(exp)}
	}
	hour := time.Now().Add(time.Hour)
	good := federatedToken(t, issuerKey, claims(subject, entra.FederatedTokenAudience, hour))

	app, err := entra.AppTokens(config(authority, entra.Credentials{FederatedTokenFile: good}), scope)
	if err != nil {
		t.Fatal(err)
	}
	if tok, err := app.Token(); err != nil || tok.AccessToken == "" {
		t.Fatalf("app-only token for the service account's token: %v", err)
	}
	user := entra.UserTokens(config(authority, entra.Credentials{FederatedTokenFile: good, RefreshToken: "signed-in"}), scope, nil)
	if _, err := user.Token(); err != nil {
		t.Fatalf("refresh grant with the federated token as assertion: %v", err)
	}

	for _, tc := range []struct {
		name, file, want string
	}{
		{"another service account", federatedToken(t, issuerKey, claims("system:serviceaccount:default:default", entra.FederatedTokenAudience, hour)), "invalid_request AADSTS70021"},
		{"another audience", federatedToken(t, issuerKey, claims(subject, "https://kubernetes.default.svc", hour)), "invalid_request AADSTS70021"},
		{"expired", federatedToken(t, issuerKey, claims(subject, entra.FederatedTokenAudience, time.Now().Add(-time.Minute))), "invalid_client AADSTS700024"},
		{"signed by another key", federatedToken(t, otherKey, claims(subject, entra.FederatedTokenAudience, hour)), "invalid_client AADSTS700027"},
		{"signed with ES256 (Entra ID supports RS256)", ecToken(t, claims(subject, entra.FederatedTokenAudience, hour)), "invalid_client AADSTS700027"},
	} {
		app, err := entra.AppTokens(config(authority, entra.Credentials{FederatedTokenFile: tc.file}), scope)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := app.Token(); !strings.HasPrefix(oauthCode(err), tc.want) {
			t.Errorf("%s: %v (%q), want %s", tc.name, err, oauthCode(err), tc.want)
		}
	}

	// A federated credential without keys or audiences verifies nothing, so accepts nothing.
	bare := serve(t, sim.Options{FederatedCredentials: map[string][]sim.FederatedCredential{appID: {{Issuer: issuer, Subject: subject}}}})
	app, _ = entra.AppTokens(config(bare, entra.Credentials{FederatedTokenFile: good}), scope)
	if _, err := app.Token(); !strings.HasPrefix(oauthCode(err), "invalid_client AADSTS700027") {
		t.Errorf("a federated credential without keys: %v, want it refused", err)
	}

	// Without the file there is no token.
	app, _ = entra.AppTokens(config(authority, entra.Credentials{FederatedTokenFile: filepath.Join(t.TempDir(), "missing")}), scope)
	if _, err := app.Token(); err == nil {
		t.Error("a token without the service account's token")
	}
}

// mismatched is one certificate with another's key.
func mismatched(t *testing.T) []byte {
	a, _ := certificate(t, time.Now().Add(time.Hour))
	b, _ := certificate(t, time.Now().Add(time.Hour))
	keyAt := strings.Index(string(b), "-----BEGIN PRIVATE KEY")
	return append(a[:strings.Index(string(a), "-----BEGIN PRIVATE KEY")], b[keyAt:]...)
}

// ecCertificate is a self-signed certificate with its ECDSA key, as PEM.
func ecCertificate(t *testing.T) []byte {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalPKCS8PrivateKey(key)
	return append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})...)
}

// TestValidate: what each kind of credential needs, and which one is used.
func TestValidate(t *testing.T) {
	pemData, _ := certificate(t, time.Now().Add(time.Hour))
	for _, tc := range []struct {
		name  string
		c     entra.Credentials
		kind  entra.Kind
		error string
	}{
		{"secret", entra.Credentials{ClientID: "a", ClientSecret: "s"}, entra.KindClientSecret, ""},
		{"certificate preferred to a secret", entra.Credentials{ClientID: "a", ClientSecret: "s", ClientCertificate: pemData}, entra.KindClientCertificate, ""},
		{"workload identity", entra.Credentials{ClientID: "a", FederatedTokenFile: "/t"}, entra.KindWorkloadIdentity, ""},
		{"no client ID", entra.Credentials{ClientSecret: "s"}, entra.KindClientSecret, "client ID"},
		{"nothing", entra.Credentials{ClientID: "a"}, "", "client secret, a client certificate or a workload identity"},
		{"not PEM", entra.Credentials{ClientID: "a", ClientCertificate: []byte("nope")}, entra.KindClientCertificate, "not a PEM certificate"},
		{"another certificate's key", entra.Credentials{ClientID: "a", ClientCertificate: mismatched(t)}, entra.KindClientCertificate, "belongs to none of its certificates"},
		{"an ECDSA key", entra.Credentials{ClientID: "a", ClientCertificate: ecCertificate(t)}, entra.KindClientCertificate, "are RSA"},
	} {
		err := tc.c.Validate()
		if tc.c.Kind() != tc.kind || (tc.error == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.error)) {
			t.Errorf("%s: kind %q, %v; want %q, %q", tc.name, tc.c.Kind(), err, tc.kind, tc.error)
		}
	}
	if _, err := entra.AppTokens(entra.Config{AuthorityHost: "http://127.0.0.1:1", TenantID: tenant,
		Credentials: entra.Credentials{ClientID: "a", ClientSecret: "s"}}, scope); err == nil {
		t.Error("a plain-http token service was accepted")
	}
}

// TestContractCertificateTokenRequest: the token request azidentity sends
// with a certificate carries the parameters of Microsoft's documented
// example and no client secret, and the documented response and error
// response are read. Source: testdata/SOURCES.
func TestContractCertificateTokenRequest(t *testing.T) {
	documented, _ := os.ReadFile("testdata/token.certificate.request.txt")
	want, err := url.ParseQuery(strings.ReplaceAll(strings.TrimSpace(string(documented)), "\n", ""))
	if err != nil {
		t.Fatal(err)
	}
	response, _ := os.ReadFile("testdata/token.response.json")
	errorResponse, _ := os.ReadFile("testdata/token.error.response.json")
	pemData, _ := certificate(t, time.Now().Add(time.Hour))
	var mu sync.Mutex
	var got url.Values
	refuse := false
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/oauth2/v2.0/token") {
			apiretrytest.ServeEntra(w, r)
			return
		}
		_ = r.ParseForm()
		mu.Lock()
		got = r.PostForm
		refused := refuse
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if refused {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write(errorResponse)
			return
		}
		_, _ = w.Write(response)
	}))
	defer srv.Close()
	c := config(srv.URL, entra.Credentials{ClientCertificate: pemData})
	c.Credentials.ClientID = want.Get("client_id")
	app, err := entra.AppTokens(c, want.Get("scope"))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := app.Token()
	if err != nil || tok.AccessToken != "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiIsIng1dCI6Ik1uQ19WWmNBVGZNNXBP..." {
		t.Fatalf("the documented response: %+v, %v", tok, err)
	}
	mu.Lock()
	for _, k := range []string{"client_id", "client_assertion_type", "grant_type"} {
		if got.Get(k) != want.Get(k) {
			t.Errorf("%s = %q, documented %q", k, got.Get(k), want.Get(k))
		}
	}
	if !strings.Contains(" "+got.Get("scope")+" ", " "+want.Get("scope")+" ") {
		t.Errorf("scope %q, documented %q", got.Get("scope"), want.Get("scope"))
	}
	if got.Get("client_assertion") == "" || got.Has("client_secret") {
		t.Errorf("client_assertion %q, client_secret sent: %t", got.Get("client_assertion"), got.Has("client_secret"))
	}
	refuse = true
	mu.Unlock()

	c.Credentials.ClientID = "another-app" // not cached
	app, _ = entra.AppTokens(c, want.Get("scope"))
	if _, err := app.Token(); !strings.HasPrefix(oauthCode(err), "invalid_scope AADSTS70011") {
		t.Errorf("the documented error response: %v", err)
	}
}
