package core

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	"github.com/partnerops/multichannel-operator/internal/apiretry/apiretrytest"
	"github.com/partnerops/multichannel-operator/internal/destinations"
)

// secretStore is a client.Reader of Secrets that counts its reads.
type secretStore struct {
	client.Reader
	secrets map[string]*corev1.Secret
	reads   int
}

func (s *secretStore) Get(_ context.Context, key client.ObjectKey, obj client.Object, _ ...client.GetOption) error {
	s.reads++
	sec, ok := s.secrets[key.String()]
	if !ok {
		return apierrors.NewNotFound(corev1.Resource("secrets"), key.Name)
	}
	sec.DeepCopyInto(obj.(*corev1.Secret))
	return nil
}

// TestPartnerClientsReadSecretsOffTheHotPath: reconcilers asking for a
// client, with or without a usable Secret, do not read the Secret each time;
// only refresh (the Partner reconciler) reads it again.
func TestPartnerClientsReadSecretsOffTheHotPath(t *testing.T) {
	ctx := context.Background()
	store := &secretStore{secrets: map[string]*corev1.Secret{}}
	clients := NewPartnerClients(store, nil, Options{OperatorNamespace: "ops", AllowedOrigins: Origins{"https://127.0.0.1:1", "https://127.0.0.1:2"}})
	partner := &v1alpha1.Partner{ObjectMeta: metav1.ObjectMeta{Name: "contoso"}, Spec: v1alpha1.PartnerSpec{TenantID: "t",
		PartnerCenter: &v1alpha1.PartnerCenterConnection{Endpoint: "https://127.0.0.1:1", AuthorityHost: "https://127.0.0.1:1",
			CredentialsSecretRef: &v1alpha1.SecretReference{Namespace: "ops", Name: "pc"}}}}

	var credErr *CredentialsError
	for range 5 {
		if _, err := clients.Get(ctx, partner); !errors.As(err, &credErr) {
			t.Fatalf("without the Secret: %v", err)
		}
	}
	if store.reads != 1 {
		t.Errorf("5 lookups without a Secret read it %d times, want 1", store.reads)
	}

	store.secrets["ops/pc"] = &corev1.Secret{Data: map[string][]byte{"clientID": []byte("id"), "clientSecret": []byte("secret")}}
	if _, err := clients.Get(ctx, partner); err == nil {
		t.Error("the remembered failure was forgotten before a refresh")
	}
	first, err := clients.Refresh(ctx, partner)
	if err != nil || first == nil {
		t.Fatalf("refresh after the Secret appeared: %v", err)
	}
	for range 5 {
		if c, err := clients.Get(ctx, partner); err != nil || c != first {
			t.Fatalf("get = %p, %v; want the refreshed client", c, err)
		}
	}
	if store.reads != 2 {
		t.Errorf("Secret read %d times, want 2 (the first lookup and the refresh)", store.reads)
	}
	if again, _ := clients.Refresh(ctx, partner); again != first {
		t.Error("an unchanged Secret rebuilt the client (its token cache and rate limiter would be lost)")
	}
	partner.Spec.PartnerCenter.Endpoint = "https://127.0.0.1:2"
	if changed, _ := clients.Get(ctx, partner); changed == first || changed == nil {
		t.Error("a changed endpoint kept the old client")
	}
}

// TestRefusedPartnersSecretIsNeverRead: a Partner whose endpoints are not allowed, or whose
// Secret is in another namespace, gets no client, and its Secret is never read.
func TestRefusedPartnersSecretIsNeverRead(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name       string
		conn       v1alpha1.PartnerCenterConnection
		cloud      v1alpha1.Cloud
		wantReason string
	}{
		{"foreign endpoint", v1alpha1.PartnerCenterConnection{Endpoint: "https://evil.example.com"}, v1alpha1.CloudPublic, v1alpha1.ReasonEndpointNotAllowed},
		{"foreign token service", v1alpha1.PartnerCenterConnection{AuthorityHost: "https://login.evil.example.com"}, v1alpha1.CloudPublic, v1alpha1.ReasonEndpointNotAllowed},
		{"plain http to a cloud host", v1alpha1.PartnerCenterConnection{AuthorityHost: "http://login.microsoftonline.com"}, v1alpha1.CloudPublic, v1alpha1.ReasonEndpointNotAllowed},
		{"another cloud's token service", v1alpha1.PartnerCenterConnection{AuthorityHost: "https://login.microsoftonline.us"}, v1alpha1.CloudPublic, v1alpha1.ReasonEndpointNotAllowed},
		{"cloud host on another port", v1alpha1.PartnerCenterConnection{Endpoint: "https://api.partnercenter.microsoft.com:8443"}, v1alpha1.CloudPublic, v1alpha1.ReasonEndpointNotAllowed},
		{"loopback not in the flags", v1alpha1.PartnerCenterConnection{Endpoint: "http://127.0.0.1:9"}, v1alpha1.CloudPublic, v1alpha1.ReasonEndpointNotAllowed},
		{"Secret in another namespace", v1alpha1.PartnerCenterConnection{}, v1alpha1.CloudPublic, v1alpha1.ReasonSecretNamespaceNotAllowed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store := &secretStore{secrets: map[string]*corev1.Secret{
				"ops/pc":   {Data: map[string][]byte{"clientID": []byte("id"), "clientSecret": []byte("secret")}},
				"other/pc": {Data: map[string][]byte{"clientID": []byte("id"), "clientSecret": []byte("secret")}},
			}}
			clients := NewPartnerClients(store, nil, Options{OperatorNamespace: "ops", AllowedOrigins: Origins{"http://127.0.0.1:1"}})
			conn := tc.conn
			conn.CredentialsSecretRef = &v1alpha1.SecretReference{Name: "pc"}
			if tc.wantReason == v1alpha1.ReasonSecretNamespaceNotAllowed {
				conn.CredentialsSecretRef.Namespace = "other"
			}
			partner := &v1alpha1.Partner{ObjectMeta: metav1.ObjectMeta{Name: "contoso"}, Spec: v1alpha1.PartnerSpec{TenantID: "t", Cloud: tc.cloud, PartnerCenter: &conn}}
			c, err := clients.Refresh(ctx, partner)
			var credErr *CredentialsError
			if c != nil || !errors.As(err, &credErr) || credErr.Reason != tc.wantReason {
				t.Fatalf("refresh = %v, %v; want no client and reason %s", c, err, tc.wantReason)
			}
			if store.reads != 0 {
				t.Errorf("the Secret was read %d times; a refused partner's Secret must not be read", store.reads)
			}
		})
	}
}

func TestCheckDestination(t *testing.T) {
	extra := Origins{"http://127.0.0.1:18090"}
	for _, tc := range []struct {
		cloud v1alpha1.Cloud
		url   string
		ok    bool
	}{
		{v1alpha1.CloudPublic, "https://api.partnercenter.microsoft.com", true},
		{v1alpha1.CloudPublic, "https://login.microsoftonline.com/", true},
		{v1alpha1.CloudPublic, "https://LOGIN.microsoftonline.com", true},
		{v1alpha1.CloudPublic, "https://api.partnercenter.microsoft.com:443", true},
		{v1alpha1.CloudUSGovernment, "https://login.microsoftonline.us", true},
		{v1alpha1.CloudUSGovernment, "https://api.partnercenter.microsoft.com", true},
		{"", "https://graph.microsoft.com", true},
		{v1alpha1.CloudPublic, "http://127.0.0.1:18090", true},
		{v1alpha1.CloudPublic, "http://127.0.0.1:18091", false},
		{v1alpha1.CloudPublic, "https://127.0.0.1:18090", false},
		{v1alpha1.CloudUSGovernment, "https://login.microsoftonline.com", false},
		{v1alpha1.CloudPublic, "https://api.partnercenter.microsoft.com.evil.example", false},
		{v1alpha1.CloudPublic, "https://user:pw@api.partnercenter.microsoft.com", false},
		{v1alpha1.CloudPublic, "http://api.partnercenter.microsoft.com", false},
		{v1alpha1.CloudPublic, "not a url", false},
	} {
		err := destinations.Check(tc.cloud, "spec.partnerCenter.endpoint", tc.url, extra)
		if (err == nil) != tc.ok {
			t.Errorf("%s in %q: err = %v, want ok=%v", tc.url, tc.cloud, err, tc.ok)
		}
	}
}

func TestOriginsFlag(t *testing.T) {
	var o Origins
	if err := o.Set("http://127.0.0.1:18090, https://pc.example.com"); err != nil {
		t.Fatal(err)
	}
	if o.String() != "http://127.0.0.1:18090,https://pc.example.com" {
		t.Errorf("origins = %q", o.String())
	}
	for _, bad := range []string{"127.0.0.1:18090", "http://127.0.0.1/path", "ftp://x", "https://u:p@x"} {
		if err := (&Origins{}).Set(bad); err == nil {
			t.Errorf("%q accepted as an origin", bad)
		}
	}
}

// TestGraphClientFromTheSameCredentials: a Partner's Graph client comes with
// its Partner Center client, and its endpoint passes the same destination
// check; a refused Graph endpoint leaves Partner Center calls alone.
func TestGraphClientFromTheSameCredentials(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		cloud v1alpha1.Cloud
		graph string
		ok    bool
	}{
		{"public default", v1alpha1.CloudPublic, "", true},
		{"US Government default", v1alpha1.CloudUSGovernment, "", true},
		{"public Graph named", v1alpha1.CloudPublic, "https://graph.microsoft.com", true},
		{"an allowed origin", v1alpha1.CloudPublic, "http://127.0.0.1:1", true},
		{"another cloud's Graph", v1alpha1.CloudPublic, "https://graph.microsoft.us", false},
		{"a foreign host", v1alpha1.CloudPublic, "https://graph.evil.example.com", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store := &secretStore{secrets: map[string]*corev1.Secret{
				"ops/pc": {Data: map[string][]byte{"clientID": []byte("id"), "clientSecret": []byte("secret")}},
			}}
			clients := NewPartnerClients(store, nil, Options{OperatorNamespace: "ops", AllowedOrigins: Origins{"http://127.0.0.1:1"}})
			partner := &v1alpha1.Partner{ObjectMeta: metav1.ObjectMeta{Name: "contoso"}, Spec: v1alpha1.PartnerSpec{TenantID: "t", Cloud: tc.cloud,
				PartnerCenter: &v1alpha1.PartnerCenterConnection{GraphEndpoint: tc.graph, CredentialsSecretRef: &v1alpha1.SecretReference{Name: "pc"}}}}
			g, err := clients.GetGraph(ctx, partner)
			var credErr *CredentialsError
			switch {
			case tc.ok && (g == nil || err != nil):
				t.Errorf("no Graph client: %v", err)
			case !tc.ok && (g != nil || !errors.As(err, &credErr) || credErr.Reason != v1alpha1.ReasonEndpointNotAllowed):
				t.Errorf("getGraph = %v, %v; want no client and reason %s", g, err, v1alpha1.ReasonEndpointNotAllowed)
			}
			if c, err := clients.Get(ctx, partner); c == nil || err != nil {
				t.Errorf("the Partner Center client: %v, %v", c, err)
			}
			if store.reads != 1 {
				t.Errorf("the Secret was read %d times, want once for both clients", store.reads)
			}
		})
	}
}

// TestWhatAuthenticatesThePartner: which credential a Partner's client is
// built with, and what a person is told when it cannot be.
func TestWhatAuthenticatesThePartner(t *testing.T) {
	ctx := context.Background()
	tokenFile := filepath.Join(t.TempDir(), "azure-identity-token")
	if err := os.WriteFile(tokenFile, []byte("a.b.c"), 0o600); err != nil {
		t.Fatal(err)
	}
	pemData, _ := apiretrytest.Certificate(t, time.Now().Add(time.Hour))
	for _, tc := range []struct {
		name      string
		secret    map[string][]byte // nil: no Secret named
		wi        bool
		tokenFile string
		kind      string // the credential used, or the failure's reason
		message   string
	}{
		{"client secret", map[string][]byte{"clientID": []byte("id"), "clientSecret": []byte("s")}, false, "", "client secret", ""},
		{"certificate preferred", map[string][]byte{"clientID": []byte("id"), "clientSecret": []byte("s"), "clientCertificate": pemData}, false, "", "client certificate", ""},
		{"certificate not PEM", map[string][]byte{"clientID": []byte("id"), "clientCertificate": []byte("nope")}, false, "", v1alpha1.ReasonCredentialsNotFound, "key clientCertificate"},
		{"no credential", map[string][]byte{"clientID": []byte("id")}, false, "", v1alpha1.ReasonCredentialsNotFound, "either clientCertificate"},
		{"workload identity, no Secret", nil, true, tokenFile, "workload identity", ""},
		{"workload identity ignores the Secret's secret", map[string][]byte{"clientID": []byte("id"), "clientSecret": []byte("s"), "refreshToken": []byte("rt")}, true, tokenFile, "workload identity", ""},
		{"workload identity without the operator's token", nil, true, filepath.Join(t.TempDir(), "missing"), v1alpha1.ReasonCredentialsNotFound, "--workload-identity-token-file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store := &secretStore{secrets: map[string]*corev1.Secret{}}
			conn := v1alpha1.PartnerCenterConnection{Endpoint: "https://127.0.0.1:1", AuthorityHost: "https://127.0.0.1:1"}
			if tc.secret != nil {
				store.secrets["ops/pc"] = &corev1.Secret{Data: tc.secret}
				conn.CredentialsSecretRef = &v1alpha1.SecretReference{Name: "pc"}
			}
			if tc.wi {
				conn.WorkloadIdentity = &v1alpha1.WorkloadIdentity{ClientID: "6b1f0a7e-0000-4000-8000-00000000a001"}
			}
			clients := NewPartnerClients(store, nil, Options{OperatorNamespace: "ops", AllowedOrigins: Origins{"https://127.0.0.1:1"}, WorkloadIdentityTokenFile: tc.tokenFile})
			partner := &v1alpha1.Partner{ObjectMeta: metav1.ObjectMeta{Name: "contoso"}, Spec: v1alpha1.PartnerSpec{TenantID: "t", PartnerCenter: &conn}}
			c, err := clients.Refresh(ctx, partner)
			var credErr *CredentialsError
			switch {
			case tc.message == "" && (err != nil || c == nil):
				t.Fatalf("refresh: %v", err)
			case tc.message == "" && string(clients.clients[partner.Name].kind) != tc.kind:
				t.Errorf("built with the %s, want the %s", clients.clients[partner.Name].kind, tc.kind)
			case tc.message != "" && (!errors.As(err, &credErr) || credErr.Reason != tc.kind || !strings.Contains(err.Error(), tc.message)):
				t.Errorf("refresh: %v; want reason %s saying %q", err, tc.kind, tc.message)
			}
		})
	}
}
