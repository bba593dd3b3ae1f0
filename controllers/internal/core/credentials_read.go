package core

import (
	"context"
	"fmt"
	"os"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	"github.com/partnerops/multichannel-operator/internal/entra"
	pc "github.com/partnerops/multichannel-operator/internal/partnercenter"
)

// credentials reads what authenticates the partner's application: a
// workload identity (the operator's service-account token; no Secret, or
// one read for its refresh token only), or the Secret's client certificate
// or client secret; and when the Secret's refresh token was signed in, if
// it says. A *CredentialsError says what a person must fix.
func (p *PartnerClients) credentials(ctx context.Context, partner *v1alpha1.Partner) (pc.Credentials, time.Time, error) {
	conn := partner.Spec.PartnerCenter
	var creds pc.Credentials
	if wi := conn.WorkloadIdentity; wi != nil {
		if _, err := os.Stat(p.tokenFile); p.tokenFile == "" || err != nil {
			return creds, time.Time{}, &CredentialsError{v1alpha1.ReasonCredentialsNotFound, fmt.Sprintf(
				"spec.partnerCenter.workloadIdentity needs the operator's service-account token for audience %s, but %q cannot be read; mount a projected token there (the chart's workloadIdentity.enabled) or set --workload-identity-token-file",
				entra.FederatedTokenAudience, p.tokenFile)}
		}
		creds.ClientID, creds.FederatedTokenFile = wi.ClientID, p.tokenFile
	}
	ref := conn.CredentialsSecretRef
	if ref == nil {
		return creds, time.Time{}, nil
	}
	if ref.Namespace != "" && ref.Namespace != p.Namespace {
		return creds, time.Time{}, &CredentialsError{v1alpha1.ReasonSecretNamespaceNotAllowed, fmt.Sprintf(
			"spec.partnerCenter.credentialsSecretRef names namespace %s, but the operator reads Secrets only in its own namespace %s; move Secret %s there and leave namespace empty",
			ref.Namespace, p.Namespace, ref.Name)}
	}
	secret := &corev1.Secret{}
	if err := p.Secrets.Get(ctx, client.ObjectKey{Namespace: p.Namespace, Name: ref.Name}, secret); err != nil {
		if client.IgnoreNotFound(err) == nil {
			return creds, time.Time{}, &CredentialsError{v1alpha1.ReasonCredentialsNotFound, fmt.Sprintf("Secret %s/%s named by spec.partnerCenter.credentialsSecretRef does not exist", p.Namespace, ref.Name)}
		}
		return creds, time.Time{}, fmt.Errorf("reading Secret %s/%s: %w", p.Namespace, ref.Name, err)
	}
	signedInAt, _ := time.Parse(time.RFC3339, secret.Annotations[v1alpha1.AnnotationRefreshTokenRenewedAt])
	if creds.FederatedTokenFile != "" {
		// The workload identity authenticates the application.
		creds.RefreshToken = string(secret.Data[v1alpha1.SecretKeyRefreshToken])
		return creds, signedInAt, nil
	}
	creds, err := entra.SecretCredentials(secret.Data)
	if err != nil {
		return creds, time.Time{}, &CredentialsError{v1alpha1.ReasonCredentialsNotFound, fmt.Sprintf("Secret %s/%s %v", p.Namespace, ref.Name, err)}
	}
	return creds, signedInAt, nil
}

// CredentialsOf names what authenticates the partner, for messages.
func (p *PartnerClients) CredentialsOf(partner *v1alpha1.Partner) string {
	conn := partner.Spec.PartnerCenter
	switch {
	case conn == nil:
		return "no credentials"
	case conn.WorkloadIdentity != nil:
		return fmt.Sprintf("workload identity (application %s, the operator's service-account token %s)", conn.WorkloadIdentity.ClientID, p.tokenFile)
	case conn.CredentialsSecretRef != nil:
		p.mu.Lock()
		kind := p.clients[partner.Name].kind
		p.mu.Unlock()
		if kind == "" {
			kind = "credentials"
		}
		return fmt.Sprintf("the %s of Secret %s/%s", kind, p.Namespace, conn.CredentialsSecretRef.Name)
	}
	return "no credentials"
}
