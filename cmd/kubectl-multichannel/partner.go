package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/pflag"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	"github.com/partnerops/multichannel-operator/internal/destinations"
	"github.com/partnerops/multichannel-operator/internal/entra"
)

// partnerAccess is what a command that calls Microsoft's services as a
// Partner reads from the cluster, as the operator does: the Partner, the
// Secret it names (only in the operator's namespace), and its application's
// credentials, or a token of the operator's service account for a
// workload identity. Where the credentials would go is checked before
// they are read.
type partnerAccess struct {
	kubeconfig, context string
	operatorNamespace   string
	origins             destinations.Origins
	serviceAccount      string
}

func (a *partnerAccess) bind(f *pflag.FlagSet) {
	f.StringVar(&a.kubeconfig, "kubeconfig", "", "Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config).")
	f.StringVar(&a.context, "context", "", "The kubeconfig context to use.")
	f.StringVar(&a.operatorNamespace, "operator-namespace", "multichannel-system", "The operator's namespace, where the Partner's Secret is when its reference names none.")
	f.Var(&a.origins, "allowed-origin", "An origin (scheme://host[:port]) the credentials may be sent to besides the cloud's hosts, as the operator's --allowed-origins; repeatable.")
	f.StringVar(&a.serviceAccount, "service-account", "multichannel-controller-manager", "The operator's service account, whose token a Partner with workloadIdentity authenticates with.")
}

// connect reads the Partner named name from the cluster.
func (a *partnerAccess) connect(ctx context.Context, name string) (client.Client, *v1alpha1.Partner, error) {
	c, _, err := (&clusterFlags{kubeconfig: a.kubeconfig, context: a.context}).connect()
	if err != nil {
		return nil, nil, err
	}
	partner := &v1alpha1.Partner{}
	if err := c.Get(ctx, client.ObjectKey{Name: name}, partner); err != nil {
		return nil, nil, fmt.Errorf("reading Partner %s: %w", name, err)
	}
	return c, partner, nil
}

// checkDestination refuses a URL the partner's credentials may not go to;
// outcome says what does not happen then ("nobody is signed in").
func (a *partnerAccess) checkDestination(p *v1alpha1.Partner, field, url, outcome string) error {
	if err := destinations.Check(p.Spec.Cloud, field, url, a.origins); err != nil {
		return fmt.Errorf("partner %s: %w; %s there", p.Name, err, outcome)
	}
	return nil
}

// secret reads the Secret the Partner names, only in the operator's
// namespace, and its key.
func (a *partnerAccess) secret(ctx context.Context, c client.Client, p *v1alpha1.Partner, outcome string) (*corev1.Secret, client.ObjectKey, error) {
	ref := p.Spec.PartnerCenter.CredentialsSecretRef
	key := client.ObjectKey{Namespace: a.operatorNamespace, Name: ref.Name}
	if ns := ref.Namespace; ns != "" && ns != a.operatorNamespace {
		return nil, key, fmt.Errorf("partner %s's spec.partnerCenter.credentialsSecretRef names namespace %s, but the operator reads Secrets only in its own namespace %s: move the Secret there (or pass --operator-namespace); %s",
			p.Name, ns, a.operatorNamespace, outcome)
	}
	secret := &corev1.Secret{}
	if err := c.Get(ctx, key, secret); err != nil {
		return nil, key, fmt.Errorf("reading Secret %s, which Partner %s names: %w", key, p.Name, err)
	}
	return secret, key, nil
}

// credentials authenticate the partner's application: its workload
// identity (a token of the operator's service account, valid for
// lifetime), else the Secret's certificate or secret.
func (a *partnerAccess) credentials(ctx context.Context, c client.Client, p *v1alpha1.Partner, secret *corev1.Secret, lifetime time.Duration) (entra.Credentials, error) {
	if wi := p.Spec.PartnerCenter.WorkloadIdentity; wi != nil {
		sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: a.operatorNamespace, Name: a.serviceAccount}}
		seconds := max(int64(lifetime/time.Second), 600)
		tr := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{
			Audiences: []string{entra.FederatedTokenAudience}, ExpirationSeconds: &seconds}}
		if err := c.SubResource("token").Create(ctx, sa, tr); err != nil {
			return entra.Credentials{}, fmt.Errorf("asking for a token of the operator's service account %s/%s, which partner %s's workload identity trusts: %w",
				a.operatorNamespace, a.serviceAccount, p.Name, err)
		}
		return entra.Credentials{ClientID: wi.ClientID, FederatedToken: tr.Status.Token}, nil
	}
	if secret == nil {
		return entra.Credentials{}, fmt.Errorf("partner %s names no Secret with its credentials (spec.partnerCenter.credentialsSecretRef)", p.Name)
	}
	creds, err := entra.SecretCredentials(secret.Data)
	if err != nil {
		return creds, fmt.Errorf("secret %s/%s cannot sign in: %w", secret.Namespace, secret.Name, err)
	}
	return creds, nil
}
