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
	access  partnerAccess
	check   bool
	timeout time.Duration
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
	o.access.bind(f)
	f.BoolVar(&o.check, "check", false, "Only tell whether the operator found the stored refresh token working (read-only).")
	f.DurationVar(&o.timeout, "timeout", 15*time.Minute, "How long to wait for the sign-in.")
	return cmd
}

func (o *loginOptions) run(ctx context.Context, name string, out io.Writer, clock func() time.Time) error {
	bad := func(err error) error { return &exitError{code: exitBadInput, err: err} }
	c, partner, err := o.access.connect(ctx, name)
	if err != nil {
		return bad(err)
	}
	conn := partner.Spec.PartnerCenter
	if conn == nil || conn.CredentialsSecretRef == nil {
		return bad(fmt.Errorf("partner %s names no Secret to hold its refresh token (spec.partnerCenter.credentialsSecretRef): create one in namespace %s (with clientID and clientCertificate or clientSecret, or empty for a workload identity) and name it there first", name, o.access.operatorNamespace))
	}
	if partner.Spec.CSPType == v1alpha1.CSPTypeIndirectReseller {
		return bad(fmt.Errorf("partner %s is an indirect reseller: its Partner Center calls are its indirect provider's (%s); sign in there: kubectl multichannel login %s",
			name, partner.Spec.IndirectProviderRef, partner.Spec.IndirectProviderRef))
	}
	authority := destinations.AuthorityOf(partner)
	if err := o.access.checkDestination(partner, "spec.partnerCenter.authorityHost", authority, "nobody is signed in"); err != nil {
		return bad(err)
	}
	if o.check {
		return checkStored(partner, out)
	}
	secret, key, err := o.access.secret(ctx, c, partner, "nobody is signed in")
	if err != nil {
		return bad(err)
	}
	base := strings.TrimSuffix(authority, "/") + "/" + partner.Spec.TenantID + "/oauth2/v2.0"
	// A workload identity's token must outlive the sign-in: the device
	// code's polls all carry it.
	creds, err := o.access.credentials(ctx, c, partner, secret, o.timeout+5*time.Minute)
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
