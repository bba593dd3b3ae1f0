package apiretrytest

import (
	"context"
	"crypto"
	crand "crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/partnerops/multichannel-operator/internal/entra"
	"github.com/partnerops/multichannel-operator/internal/partnercenter/sim"
)

// SignServiceAccountTokensWithRSA makes env's API server sign
// service-account tokens with an RSA key written to dir, as most clusters
// sign them and as Entra ID's workload identity federation supports
// (RS256); envtest's own key is ECDSA. Call it before env.Start.
func SignServiceAccountTokensWithRSA(env *envtest.Environment, dir string) error {
	key, err := rsa.GenerateKey(crand.Reader, 2048)
	if err != nil {
		return err
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return err
	}
	keyFile, pubFile := filepath.Join(dir, "sa.key"), filepath.Join(dir, "sa.pub")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(pubFile, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}), 0o600); err != nil {
		return err
	}
	env.ControlPlane.GetAPIServer().Configure().
		Set("service-account-key-file", pubFile).
		Set("service-account-signing-key-file", keyFile)
	return nil
}

// ServiceAccountToken asks the API server for a token of service account
// namespace/name (created if missing), with Entra ID's audience, as the
// kubelet projects one for the operator. It returns the token and the
// federated identity credential that trusts it: the token's issuer and
// subject, and the issuer's signing keys (its OIDC JWKS).
func ServiceAccountToken(t testing.TB, cfg *rest.Config, namespace, name string) (string, sim.FederatedCredential) {
	t.Helper()
	ctx := context.Background()
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = cs.CoreV1().ServiceAccounts(namespace).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	expiry := int64(3600)
	tr, err := cs.CoreV1().ServiceAccounts(namespace).CreateToken(ctx, name, &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{
		Audiences: []string{entra.FederatedTokenAudience}, ExpirationSeconds: &expiry}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := jwt.NewParser().ParseUnverified(tr.Status.Token, jwt.MapClaims{})
	if err != nil {
		t.Fatal(err)
	}
	fc := sim.FederatedCredential{Audiences: []string{entra.FederatedTokenAudience}}
	fc.Issuer, _ = tok.Claims.GetIssuer()
	fc.Subject, _ = tok.Claims.GetSubject()
	jwks, err := cs.RESTClient().Get().AbsPath("/openid/v1/jwks").DoRaw(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var keys []crypto.PublicKey
	if keys, err = sim.ParseJWKS(jwks); err != nil {
		t.Fatalf("%v: %s", err, jwks)
	}
	fc.Keys = keys
	return tr.Status.Token, fc
}
