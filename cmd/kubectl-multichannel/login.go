package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/oauth2"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	"github.com/partnerops/multichannel-operator/internal/apiretry"
	"github.com/partnerops/multichannel-operator/internal/destinations"
	"github.com/partnerops/multichannel-operator/internal/entra"
	pc "github.com/partnerops/multichannel-operator/internal/partnercenter"
)

type loginOptions struct {
	kubeconfig, context string
	operatorNamespace   string
	origins             destinations.Origins
	serviceAccount      string
	check               bool
	timeout             time.Duration
}

func newLoginCommand(clock func() time.Time) *cobra.Command {
	o := &loginOptions{}
	cmd := &cobra.Command{
		Use:   "login PARTNER",
		Short: "Sign a Partner Center admin in (device code, with MFA) and store the partner's refresh token, without showing it",
		Long: `login gets the refresh token a Partner's App+User calls need (the reseller
request link, the customer agreement): it asks Entra ID for a device code, shows
the code and where to enter it, and waits while a Partner Center admin agent signs
in on any machine, with multi-factor authentication as Partner Center requires. It
then stores the refresh token in the Secret the Partner names
(spec.partnerCenter.credentialsSecretRef) with when it was signed in, and prints
nothing of it. The operator picks it up at once (it watches the Secret) and keeps
it renewed. The sign-in authenticates the application as the operator does: with
the Secret's clientCertificate or clientSecret, or, for a Partner with
spec.partnerCenter.workloadIdentity, with a short-lived token of the operator's
service account (--service-account; creating it needs create on
serviceaccounts/token there).

--check instead tells whether the operator found the stored refresh token working
(the Partner's AppUserCalls condition); it redeems nothing.

The token service is the Partner's (spec.partnerCenter.authorityHost, or its
cloud's); nothing is sent anywhere else unless --allowed-origin adds it.`,
		Example: `  kubectl multichannel login contoso-csp
  kubectl multichannel login contoso-csp --check`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.run(cmd.Context(), args[0], cmd.OutOrStdout(), clock)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.kubeconfig, "kubeconfig", "", "Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config).")
	f.StringVar(&o.context, "context", "", "The kubeconfig context to use.")
	f.StringVar(&o.operatorNamespace, "operator-namespace", "multichannel-system", "The operator's namespace, where the Partner's Secret is when its reference names none.")
	f.Var(&o.origins, "allowed-origin", "An origin (scheme://host[:port]) the credentials may be sent to besides the cloud's hosts, as the operator's --allowed-origins; repeatable.")
	f.StringVar(&o.serviceAccount, "service-account", "multichannel-controller-manager", "The operator's service account, whose token a Partner with workloadIdentity signs in with.")
	f.BoolVar(&o.check, "check", false, "Only tell whether the operator found the stored refresh token working (read-only).")
	f.DurationVar(&o.timeout, "timeout", 15*time.Minute, "How long to wait for the sign-in.")
	return cmd
}

func (o *loginOptions) run(ctx context.Context, name string, out io.Writer, clock func() time.Time) error {
	bad := func(err error) error { return &exitError{code: exitBadInput, err: err} }
	flags := clusterFlags{kubeconfig: o.kubeconfig, context: o.context}
	c, _, err := flags.connect()
	if err != nil {
		return bad(err)
	}
	partner := &v1alpha1.Partner{}
	if err := c.Get(ctx, client.ObjectKey{Name: name}, partner); err != nil {
		return bad(fmt.Errorf("reading Partner %s: %w", name, err))
	}
	conn := partner.Spec.PartnerCenter
	if conn == nil || conn.CredentialsSecretRef == nil {
		return bad(fmt.Errorf("partner %s names no Secret to hold its refresh token (spec.partnerCenter.credentialsSecretRef): create one in namespace %s (with clientID and clientCertificate or clientSecret, or empty for a workload identity) and name it there first", name, o.operatorNamespace))
	}
	if partner.Spec.CSPType == v1alpha1.CSPTypeIndirectReseller {
		return bad(fmt.Errorf("partner %s is an indirect reseller: its Partner Center calls are its indirect provider's (%s); sign in there: kubectl multichannel login %s",
			name, partner.Spec.IndirectProviderRef, partner.Spec.IndirectProviderRef))
	}
	authority := destinations.AuthorityOf(partner)
	if err := destinations.Check(partner.Spec.Cloud, "spec.partnerCenter.authorityHost", authority, o.origins); err != nil {
		return bad(fmt.Errorf("partner %s: %w; nobody is signed in there", name, err))
	}
	if o.check {
		return checkStored(partner, out)
	}
	key := client.ObjectKey{Namespace: o.operatorNamespace, Name: conn.CredentialsSecretRef.Name}
	if ns := conn.CredentialsSecretRef.Namespace; ns != "" && ns != o.operatorNamespace {
		return bad(fmt.Errorf("partner %s's spec.partnerCenter.credentialsSecretRef names namespace %s, but the operator reads Secrets only in its own namespace %s: move the Secret there (or pass --operator-namespace); nobody is signed in",
			name, ns, o.operatorNamespace))
	}
	secret := &corev1.Secret{}
	if err := c.Get(ctx, key, secret); err != nil {
		return bad(fmt.Errorf("reading Secret %s, which Partner %s names: %w", key, name, err))
	}
	base := strings.TrimSuffix(authority, "/") + "/" + partner.Spec.TenantID + "/oauth2/v2.0"
	creds, err := o.credentials(ctx, c, partner, secret)
	if err != nil {
		return bad(err)
	}
	// The application authenticates as the operator's client does, each
	// poll with a fresh assertion (a certificate's lives ten minutes).
	httpClient := apiretry.NoRedirects(&http.Client{Timeout: 30 * time.Second,
		Transport: &authenticating{base: http.DefaultTransport, tokenURL: base + "/token", creds: creds}}, "token service")
	cfg := &oauth2.Config{ClientID: creds.ClientID, Scopes: strings.Fields(pc.UserScope),
		Endpoint: oauth2.Endpoint{DeviceAuthURL: base + "/devicecode", TokenURL: base + "/token", AuthStyle: oauth2.AuthStyleInParams}}
	ctx = context.WithValue(ctx, oauth2.HTTPClient, httpClient)
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	da, err := cfg.DeviceAuth(ctx)
	if err != nil {
		return bad(fmt.Errorf("asking the token service for a sign-in code: %w", apiretry.TokenError(err)))
	}
	fmt.Fprintf(out, "To sign partner %s in, open %s on any machine and enter the code %s.\nSign in as a Partner Center admin agent of tenant %s, with multi-factor authentication. Waiting up to %s...\n",
		name, da.VerificationURI, da.UserCode, partner.Spec.TenantID, time.Until(da.Expiry).Round(time.Second))
	tok, err := cfg.DeviceAccessToken(ctx, da)
	if err != nil {
		return bad(signInFailed(err))
	}
	if tok.RefreshToken == "" {
		return bad(errors.New("the token service signed you in but returned no refresh token: the application must be allowed offline_access"))
	}
	if err := storeRefreshToken(ctx, c, key, tok.RefreshToken, clock()); err != nil {
		return bad(err)
	}
	fmt.Fprintf(out, "Signed in. The refresh token is stored in Secret %s (not shown); the operator uses it at once and keeps it renewed.\n", key)
	return nil
}

// authenticating adds the application's credential to each token
// request: a new certificate assertion for every poll of the device code.
type authenticating struct {
	base     http.RoundTripper
	tokenURL string
	creds    entra.Credentials
}

func (a *authenticating) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodPost || req.URL.String() != a.tokenURL || req.Body == nil {
		return a.base.RoundTrip(req)
	}
	body, err := io.ReadAll(req.Body)
	_ = req.Body.Close()
	if err != nil {
		return nil, err
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, err
	}
	if err := a.creds.Authenticate(form, a.tokenURL); err != nil {
		return nil, err
	}
	encoded := form.Encode()
	r := req.Clone(req.Context())
	r.Body, r.ContentLength = io.NopCloser(strings.NewReader(encoded)), int64(len(encoded))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(encoded)), nil }
	return a.base.RoundTrip(r)
}

// credentials are what authenticates the partner's application: its
// workload identity (a token of the operator's service account, asked for
// now, valid through the sign-in), else the Secret's certificate or secret.
func (o *loginOptions) credentials(ctx context.Context, c client.Client, partner *v1alpha1.Partner, secret *corev1.Secret) (entra.Credentials, error) {
	if wi := partner.Spec.PartnerCenter.WorkloadIdentity; wi != nil {
		sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: o.operatorNamespace, Name: o.serviceAccount}}
		// It must outlive the sign-in: the device code's polls all carry it.
		lifetime := max(int64((o.timeout+5*time.Minute)/time.Second), 600)
		tr := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{
			Audiences: []string{entra.FederatedTokenAudience}, ExpirationSeconds: &lifetime}}
		if err := c.SubResource("token").Create(ctx, sa, tr); err != nil {
			return entra.Credentials{}, fmt.Errorf("asking for a token of the operator's service account %s/%s, which partner %s's workload identity trusts: %w",
				o.operatorNamespace, o.serviceAccount, partner.Name, err)
		}
		return entra.Credentials{ClientID: wi.ClientID, FederatedToken: tr.Status.Token}, nil
	}
	creds, err := entra.SecretCredentials(secret.Data)
	if err != nil {
		return creds, fmt.Errorf("secret %s/%s cannot sign in: %w", secret.Namespace, secret.Name, err)
	}
	return creds, nil
}

// signInFailed says why the device sign-in ended without a token.
func signInFailed(err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		switch re.ErrorCode {
		case "expired_token":
			return errors.New("the sign-in code expired before anyone signed in: run kubectl multichannel login again")
		case "authorization_declined", "access_denied":
			return errors.New("the sign-in was declined: nothing was stored")
		}
		return fmt.Errorf("the sign-in failed: %w", apiretry.TokenError(err))
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return errors.New("nobody signed in before the code expired (or --timeout passed): run kubectl multichannel login again")
	}
	return fmt.Errorf("the sign-in failed: %w", err)
}

// checkStored reports what the operator found of the partner's App+User
// access (the AppUserCalls condition): read-only, as redeeming the token
// here would replace the operator's.
func checkStored(partner *v1alpha1.Partner, out io.Writer) error {
	c := meta.FindStatusCondition(partner.Status.Conditions, v1alpha1.ConditionAppUserCalls)
	switch {
	case c == nil:
		return &exitError{code: exitBadInput, err: fmt.Errorf("the operator has not reported partner %s's App+User access yet (no AppUserCalls condition): wait for its next check, or sign in: kubectl multichannel login %s", partner.Name, partner.Name)}
	case c.Status != metav1.ConditionTrue:
		return &exitError{code: exitBadInput, err: fmt.Errorf("partner %s's App+User access does not work (%s): %s", partner.Name, c.Reason, c.Message)}
	}
	fmt.Fprintf(out, "Partner %s's refresh token works (%s): %s\n", partner.Name, c.Reason, c.Message)
	return nil
}

// storeRefreshToken writes token into the Partner's Secret with when.
func storeRefreshToken(ctx context.Context, c client.Client, key client.ObjectKey, token string, at time.Time) error {
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		s := &corev1.Secret{}
		if err := c.Get(ctx, key, s); err != nil {
			return err
		}
		if s.Data == nil {
			s.Data = map[string][]byte{}
		}
		s.Data[v1alpha1.SecretKeyRefreshToken] = []byte(token)
		if s.Annotations == nil {
			s.Annotations = map[string]string{}
		}
		s.Annotations[v1alpha1.AnnotationRefreshTokenRenewedAt] = at.UTC().Format(time.RFC3339)
		return c.Update(ctx, s)
	})
	if err != nil {
		return fmt.Errorf("storing the refresh token in Secret %s: %w (nothing of it was shown; sign in again once you may update that Secret)", key, err)
	}
	return nil
}
