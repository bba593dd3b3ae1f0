package controllers_test

import (
	"context"
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	"github.com/partnerops/multichannel-operator/internal/apiretry/apiretrytest"
	"github.com/partnerops/multichannel-operator/internal/partnercenter/sim"
)

// partnerReady waits until the Partner's Ready condition has status and
// reason, and returns its message.
func (h *harness) partnerReady(name string, status metav1.ConditionStatus, reason string) string {
	h.t.Helper()
	var msg string
	h.eventually("Partner "+name+" Ready "+string(status)+" "+reason, func() error {
		p := &v1alpha1.Partner{}
		if err := k8sClient.Get(h.ctx, client.ObjectKey{Name: name}, p); err != nil {
			return err
		}
		c := condition(p.Status.Conditions, v1alpha1.ConditionReady)
		if c == nil || c.Status != status || c.Reason != reason {
			return errf("Ready = %+v", c)
		}
		msg = c.Message
		return nil
	})
	return msg
}

// TestPartnerWithClientCertificate: a Secret with clientID and a
// clientCertificate (no client secret) earns App-only and App+User tokens
// (the application's registered certificate signs each assertion); a
// certificate the application does not have is refused with Entra ID's
// code, and no status quotes the key.
func TestPartnerWithClientCertificate(t *testing.T) {
	pemData, cert := apiretrytest.Certificate(t, time.Now().Add(24*time.Hour))
	h := start(t, withSim(sim.Options{Certificates: map[string][]*x509.Certificate{"operator-cert": {cert}}}))
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: h.ns, Name: "contoso-cert"},
		Data: map[string][]byte{v1alpha1.SecretKeyClientID: []byte("operator-cert"), v1alpha1.SecretKeyClientCertificate: pemData,
			v1alpha1.SecretKeyRefreshToken: []byte("user-refresh-token")}}
	h.create(secret)
	contoso := h.contoso(func(p *v1alpha1.Partner) { p.Spec.PartnerCenter.CredentialsSecretRef.Name = secret.Name })
	msg := h.partnerReady(contoso.Name, metav1.ConditionTrue, v1alpha1.ReasonTokenObtained)
	if !strings.Contains(msg, "client certificate of Secret "+h.ns+"/contoso-cert") {
		t.Errorf("Ready says %q, want the client certificate named", msg)
	}
	h.appUserCalls(contoso.Name, v1alpha1.ReasonUserTokenObtained)

	// Rotated to a certificate the application was not given.
	other, _ := apiretrytest.Certificate(t, time.Now().Add(24*time.Hour))
	secret.Data[v1alpha1.SecretKeyClientCertificate] = other
	if err := k8sClient.Update(h.ctx, secret); err != nil {
		t.Fatal(err)
	}
	msg = h.partnerReady(contoso.Name, metav1.ConditionFalse, v1alpha1.ReasonTokenFailed)
	if !strings.Contains(msg, "AADSTS700027") || strings.Contains(msg, "PRIVATE KEY") || strings.Contains(msg, "BEGIN") {
		t.Errorf("Ready says %q, want Entra ID's refusal and nothing of the PEM", msg)
	}
}

// serviceAccountToken writes a token of a new service account, as the
// kubelet projects one for the operator, and returns the file and the
// federated identity credential that trusts it.
func serviceAccountToken(t *testing.T) (string, sim.FederatedCredential) {
	t.Helper()
	ns := "wi-" + rand.String(6)
	if err := k8sClient.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = k8sClient.Delete(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
	})
	token, fc := apiretrytest.ServiceAccountToken(t, cfg, ns, "multichannel-operator")
	file := filepath.Join(t.TempDir(), "azure-identity-token")
	if err := os.WriteFile(file, []byte(token), 0o600); err != nil {
		t.Fatal(err)
	}
	return file, fc
}

// TestPartnerWithWorkloadIdentity: a Partner with workloadIdentity and no
// secret: the operator exchanges a real service-account token (issued by
// the test's kube-apiserver, audience api://AzureADTokenExchange) for
// tokens, the simulator verifying it against the issuer's published keys
// as Entra ID does with a federated identity credential. The same token
// authenticates the refresh grant with a Secret holding only a refresh
// token. An application without a federated credential for the operator's
// service account is refused with Entra ID's AADSTS70021.
func TestPartnerWithWorkloadIdentity(t *testing.T) {
	file, fc := serviceAccountToken(t)
	const trusting, untrusting = "6b1f0a7e-0000-4000-8000-00000000a001", "6b1f0a7e-0000-4000-8000-00000000a002"
	h := start(t, withWorkloadIdentityTokenFile(file), withSim(sim.Options{
		FederatedCredentials: map[string][]sim.FederatedCredential{trusting: {fc}}}))
	refresh := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: h.ns, Name: "contoso-refresh-token"},
		StringData: map[string]string{v1alpha1.SecretKeyRefreshToken: "user-refresh-token"}}
	h.create(refresh)
	contoso := h.contoso(func(p *v1alpha1.Partner) {
		p.Spec.PartnerCenter.WorkloadIdentity = &v1alpha1.WorkloadIdentity{ClientID: trusting}
		p.Spec.PartnerCenter.CredentialsSecretRef.Name = refresh.Name
	})
	msg := h.partnerReady(contoso.Name, metav1.ConditionTrue, v1alpha1.ReasonTokenObtained)
	if !strings.Contains(msg, "workload identity (application "+trusting) {
		t.Errorf("Ready says %q, want the workload identity named", msg)
	}
	h.appUserCalls(contoso.Name, v1alpha1.ReasonUserTokenObtained)

	// Without a Secret at all: App-only calls work, and it says why App+User ones cannot.
	noSecret := h.partner("tailspin", tailspinTenant, v1alpha1.CSPTypeDirectBill, true, func(p *v1alpha1.Partner) {
		p.Spec.PartnerCenter.WorkloadIdentity = &v1alpha1.WorkloadIdentity{ClientID: trusting}
		p.Spec.PartnerCenter.CredentialsSecretRef = nil
	})
	if msg := h.partnerReady(noSecret.Name, metav1.ConditionTrue, v1alpha1.ReasonTokenObtained); !strings.Contains(msg, "no refreshToken") {
		t.Errorf("Ready says %q, want it to say App+User calls need a refresh token", msg)
	}

	refused := h.partner("fabrikam", fabrikamTenant, v1alpha1.CSPTypeDirectBill, true, func(p *v1alpha1.Partner) {
		p.Spec.PartnerCenter.WorkloadIdentity = &v1alpha1.WorkloadIdentity{ClientID: untrusting}
		p.Spec.PartnerCenter.CredentialsSecretRef = nil
	})
	if msg := h.partnerReady(refused.Name, metav1.ConditionFalse, v1alpha1.ReasonTokenFailed); !strings.Contains(msg, "AADSTS70021") || !strings.Contains(msg, fc.Subject) {
		t.Errorf("Ready says %q, want Entra ID's AADSTS70021 naming the service account", msg)
	}
}

// TestStalledPartnerObservesItsSpec: a Partner Stalled on its credentials
// (its Secret is missing) observes each new generation, so kstatus reads
// it as Failed after a spec edit, not InProgress for ever.
func TestStalledPartnerObservesItsSpec(t *testing.T) {
	h := start(t)
	contoso := h.contoso(func(p *v1alpha1.Partner) { p.Spec.PartnerCenter.CredentialsSecretRef.Name = "missing" })
	h.partnerReady(contoso.Name, metav1.ConditionFalse, v1alpha1.ReasonCredentialsNotFound)
	p := &v1alpha1.Partner{}
	if err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := k8sClient.Get(h.ctx, client.ObjectKeyFromObject(contoso), p); err != nil {
			return err
		}
		p.Spec.DisplayName = "Contoso Ltd"
		return k8sClient.Update(h.ctx, p)
	}); err != nil {
		t.Fatal(err)
	}
	h.eventually("the edited spec is observed", func() error {
		if err := k8sClient.Get(h.ctx, client.ObjectKeyFromObject(contoso), p); err != nil {
			return err
		}
		if p.Status.ObservedGeneration != p.Generation || kstatus(t, p) != status.FailedStatus {
			return errf("observed %d of %d, kstatus %s", p.Status.ObservedGeneration, p.Generation, kstatus(t, p))
		}
		return nil
	})
}
