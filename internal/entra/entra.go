// Package entra obtains Microsoft Entra ID tokens for a partner's
// application. App-only tokens come from Microsoft's Azure SDK for Go
// (azidentity), with one of three credentials: a client secret, a client
// certificate, or a workload identity's federated token (a Kubernetes
// service-account token exchanged for an Entra token, no secret at rest).
// App+User tokens come from the refresh-token grant (refresh.go), which
// azidentity does not offer; it authenticates the application with the
// same credential.
//
// Every token request goes only where the caller's configuration says, and
// never follows a redirect (apiretry.NoRedirects): a request for a token
// carries the credential.
package entra

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"golang.org/x/oauth2"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	"github.com/partnerops/multichannel-operator/internal/apiretry"
)

// Credentials are a partner application's credentials. Exactly one of
// ClientSecret, ClientCertificate and FederatedTokenFile authenticates the
// application (Kind says which); RefreshToken is needed only for App+User
// calls.
type Credentials struct {
	ClientID     string
	ClientSecret string
	// ClientCertificate is PEM: the certificate (and any chain) registered
	// with the application, and its unencrypted RSA private key.
	ClientCertificate []byte
	// FederatedTokenFile is the path of a Kubernetes service-account token
	// (audience api://AzureADTokenExchange) that the application trusts
	// through a federated identity credential; it is read at each exchange,
	// as the kubelet renews it.
	FederatedTokenFile string
	// FederatedToken is such a token itself, when it is in no file
	// (kubectl multichannel login asks the API server for one).
	FederatedToken string
	RefreshToken   string
}

// String never prints the secrets.
func (c Credentials) String() string { return "Credentials{ClientID:" + c.ClientID + "}" }

// Kind names the credential that authenticates the application.
type Kind string

const (
	KindClientSecret      Kind = "client secret"
	KindClientCertificate Kind = "client certificate"
	KindWorkloadIdentity  Kind = "workload identity"
)

// Kind says which credential authenticates the application: a workload
// identity, else a certificate, else a client secret ("" when none is set).
// A certificate is preferred to a secret set beside it, so that a partner
// can move from one to the other without a gap.
func (c Credentials) Kind() Kind {
	switch {
	case c.FederatedTokenFile != "" || c.FederatedToken != "":
		return KindWorkloadIdentity
	case len(c.ClientCertificate) > 0:
		return KindClientCertificate
	case c.ClientSecret != "":
		return KindClientSecret
	}
	return ""
}

// Validate says what is missing or unreadable.
func (c Credentials) Validate() error {
	if c.ClientID == "" {
		return errors.New("a client ID is required")
	}
	switch c.Kind() {
	case "":
		return errors.New("a client secret, a client certificate or a workload identity is required")
	case KindClientCertificate:
		_, _, err := c.certificate()
		return err
	}
	return nil
}

// certificate parses ClientCertificate: the certificates, the one whose
// public key is the private key's first (a chain may list its CA first),
// and the RSA key Entra ID's certificate credentials need.
func (c Credentials) certificate() ([]*x509.Certificate, crypto.PrivateKey, error) {
	certs, key, err := azidentity.ParseCertificates(c.ClientCertificate, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("the client certificate is not a PEM certificate with its unencrypted private key: %w", err)
	}
	rsaKey, ok := key.(*rsa.PrivateKey)
	if !ok {
		return nil, nil, fmt.Errorf("the client certificate's private key is %T; Entra ID's certificate credentials are RSA", key)
	}
	for i, cert := range certs {
		if rsaKey.PublicKey.Equal(cert.PublicKey) {
			ordered := append([]*x509.Certificate{cert}, certs[:i]...)
			return append(ordered, certs[i+1:]...), rsaKey, nil
		}
	}
	return nil, nil, errors.New("the client certificate's private key belongs to none of its certificates")
}

// Config says where a partner's tokens come from.
type Config struct {
	// AuthorityHost is Entra ID's base URL, https://login.microsoftonline.com
	// or another the caller allowed; it must be https (azidentity sends
	// credentials nowhere else).
	AuthorityHost string
	TenantID      string
	Credentials   Credentials
	// HTTPClient sends the token requests; it is copied and never follows
	// a redirect. nil uses a client with a 30 second timeout.
	HTTPClient *http.Client
}

// TokenURL is the tenant's v2.0 token endpoint.
func (cfg Config) TokenURL() string {
	return strings.TrimRight(cfg.AuthorityHost, "/") + "/" + url.PathEscape(cfg.TenantID) + "/oauth2/v2.0/token"
}

func (cfg Config) httpClient() *http.Client {
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	return apiretry.NoRedirects(hc, "token service")
}

// AppTokens returns the application's token source for scope (such as
// https://api.partnercenter.microsoft.com/.default), through azidentity.
// Tokens are cached until shortly before they expire. A token request the
// service refuses fails with an *oauth2.RetrieveError holding its status
// and OAuth error code; a redirect with the *apiretry.RedirectError.
func AppTokens(cfg Config, scope string) (oauth2.TokenSource, error) {
	cred, err := AppCredential(cfg)
	if err != nil {
		return nil, err
	}
	timeout := cfg.httpClient().Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	return oauth2.ReuseTokenSource(nil, &appSource{cred: cred, scope: scope, timeout: timeout}), nil
}

// AppCredential returns the application's azidentity credential, for a
// client built on the Azure SDK (Azure Resource Manager's), which asks it
// for tokens itself. It sends its token requests as AppTokens does: only
// to cfg.AuthorityHost, never following a redirect, and without retries of
// its own (the callers retry a call, token included). A refused redirect
// fails the token request; AppTokens alone turns it back into the
// *apiretry.RedirectError, since azidentity keeps only its message.
func AppCredential(cfg Config) (azcore.TokenCredential, error) {
	if err := cfg.Credentials.Validate(); err != nil {
		return nil, err
	}
	opts := azcore.ClientOptions{
		Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: strings.TrimRight(cfg.AuthorityHost, "/") + "/"},
		Transport: redirectRecorder{cfg.httpClient()},
		// The callers retry a call, token included; one layer of retries.
		Retry: policy.RetryOptions{MaxRetries: -1},
	}
	c := cfg.Credentials
	var cred azcore.TokenCredential
	var err error
	switch c.Kind() {
	case KindWorkloadIdentity:
		cred, err = workloadIdentityCredential(cfg, opts)
	case KindClientCertificate:
		certs, key, perr := c.certificate()
		if perr != nil {
			return nil, perr
		}
		cred, err = azidentity.NewClientCertificateCredential(cfg.TenantID, c.ClientID, certs, key,
			&azidentity.ClientCertificateCredentialOptions{ClientOptions: opts, DisableInstanceDiscovery: true})
	default:
		cred, err = azidentity.NewClientSecretCredential(cfg.TenantID, c.ClientID, c.ClientSecret,
			&azidentity.ClientSecretCredentialOptions{ClientOptions: opts, DisableInstanceDiscovery: true})
	}
	if err != nil {
		return nil, fmt.Errorf("%s credential: %w", c.Kind(), err)
	}
	return cred, nil
}

// workloadIdentityCredential exchanges a Kubernetes service-account token,
// read from its file at each exchange or given as it is, for the
// application's token.
func workloadIdentityCredential(cfg Config, opts azcore.ClientOptions) (azcore.TokenCredential, error) {
	c := cfg.Credentials
	if c.FederatedTokenFile == "" {
		token := c.FederatedToken
		return azidentity.NewClientAssertionCredential(cfg.TenantID, c.ClientID, func(context.Context) (string, error) { return token, nil },
			&azidentity.ClientAssertionCredentialOptions{ClientOptions: opts, DisableInstanceDiscovery: true})
	}
	return azidentity.NewWorkloadIdentityCredential(&azidentity.WorkloadIdentityCredentialOptions{
		ClientOptions: opts, ClientID: c.ClientID, TenantID: cfg.TenantID, TokenFilePath: c.FederatedTokenFile,
		// The authority was checked by the caller: no discovery at login.microsoftonline.com.
		DisableInstanceDiscovery: true,
	})
}

// appSource adapts an azcore.TokenCredential to oauth2.TokenSource, the
// clients' interface, with errors as the refresh grant's.
type appSource struct {
	cred    azcore.TokenCredential
	scope   string
	timeout time.Duration
}

func (s *appSource) Token() (*oauth2.Token, error) {
	var redirect redirectHolder
	ctx, cancel := context.WithTimeout(context.WithValue(context.Background(), redirectKey{}, &redirect), s.timeout)
	defer cancel()
	tok, err := s.cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{s.scope}})
	if err != nil {
		if redirect.err != nil {
			return nil, redirect.err
		}
		return nil, retrieveError(err)
	}
	return &oauth2.Token{AccessToken: tok.Token, TokenType: "Bearer", Expiry: tok.ExpiresOn}, nil
}

// retrieveError turns azidentity's error into the *oauth2.RetrieveError
// the clients classify (apiretry.TokenError): the status and the OAuth
// error code and description, not azidentity's message, which quotes the
// whole response.
func retrieveError(err error) error {
	var af *azidentity.AuthenticationFailedError
	if !errors.As(err, &af) || af.RawResponse == nil {
		return err // not an answer: a network error or a timeout, worth another try
	}
	body, _ := runtime.Payload(af.RawResponse)
	var e struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	_ = json.Unmarshal(body, &e)
	return &oauth2.RetrieveError{Response: af.RawResponse, Body: body, ErrorCode: e.Error, ErrorDescription: e.Description}
}

// redirectRecorder sends azidentity's requests with the no-redirect client,
// and keeps a refused redirect where appSource finds it: azidentity keeps
// only the message of a transport's error.
type redirectRecorder struct{ hc *http.Client }

type redirectKey struct{}

type redirectHolder struct{ err error }

func (t redirectRecorder) Do(req *http.Request) (*http.Response, error) {
	resp, err := t.hc.Do(req)
	if re, ok := apiretry.RedirectRefused(err); ok {
		if h, _ := req.Context().Value(redirectKey{}).(*redirectHolder); h != nil {
			h.err = re
		}
	}
	return resp, err
}

// SecretCredentials reads an application's credentials from the data of a
// partner's credentials Secret (the keys v1alpha1 names) and checks them;
// the error says which keys are needed or what is wrong with them.
func SecretCredentials(data map[string][]byte) (Credentials, error) {
	c := Credentials{
		ClientID:          string(data[v1alpha1.SecretKeyClientID]),
		ClientSecret:      string(data[v1alpha1.SecretKeyClientSecret]),
		ClientCertificate: data[v1alpha1.SecretKeyClientCertificate],
		RefreshToken:      string(data[v1alpha1.SecretKeyRefreshToken]),
	}
	if c.ClientID == "" || c.Kind() == "" {
		return c, fmt.Errorf("needs the key %s and either %s (PEM certificate and private key) or %s",
			v1alpha1.SecretKeyClientID, v1alpha1.SecretKeyClientCertificate, v1alpha1.SecretKeyClientSecret)
	}
	if err := c.Validate(); err != nil {
		return c, fmt.Errorf("key %s: %w", v1alpha1.SecretKeyClientCertificate, err)
	}
	return c, nil
}
