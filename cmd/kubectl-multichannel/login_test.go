package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	"github.com/partnerops/multichannel-operator/internal/apiretry/apiretrytest"
	"github.com/partnerops/multichannel-operator/internal/entra"
	"github.com/partnerops/multichannel-operator/internal/partnercenter/sim"
)

// TestLogin: kubectl multichannel login against the simulator's device code
// flow: the code is shown, a person signs in elsewhere, the refresh token is
// stored in the Partner's Secret (never printed), --check works with it;
// a declined sign-in and an expired code store nothing and say why; a token
// service that is not the partner's cloud is refused before anything is sent.
func TestLogin(t *testing.T) {
	s, err := sim.New(sim.Options{DeviceCodeInterval: 1, DeviceCodeLifetime: 4 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(s)
	t.Cleanup(srv.Close)
	env, c := startAPIServer(t)
	ctx := context.Background()
	const ns = "multichannel-system"
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "contoso-pc"},
		StringData: map[string]string{"clientID": "operator", "clientSecret": "s3cret"}}
	for _, o := range []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, secret,
		&v1alpha1.Partner{ObjectMeta: metav1.ObjectMeta{Name: "contoso"}, Spec: v1alpha1.PartnerSpec{DisplayName: "Contoso",
			TenantID: "6f1bd5c1-0d3b-4c5e-9bb1-7f4f9d2b6a10", CSPType: v1alpha1.CSPTypeDirectBill, Country: "US",
			PartnerCenter: &v1alpha1.PartnerCenterConnection{Endpoint: srv.URL, AuthorityHost: srv.URL, CredentialsSecretRef: &v1alpha1.SecretReference{Name: "contoso-pc"}}}},
	} {
		if err := c.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	kubeconfig := writeKubeconfig(t, env)
	login := func(answer string, args ...string) (int, string, string) {
		done := make(chan struct{})
		var code int
		var out, errOut bytes.Buffer
		go func() {
			defer close(done)
			code = run(ctx, append([]string{"login", "contoso", "--kubeconfig", kubeconfig, "--allowed-origin", srv.URL}, args...), strings.NewReader(""), &out, &errOut, fixedClock)
		}()
		if answer != "" {
			answerSignIn(t, srv.URL, answer)
		}
		<-done
		return code, out.String(), errOut.String()
	}
	stored := func() *corev1.Secret {
		got := &corev1.Secret{}
		if err := c.Get(ctx, client.ObjectKeyFromObject(secret), got); err != nil {
			t.Fatal(err)
		}
		return got
	}

	code, out, errOut := login("approve")
	token := string(stored().Data["refreshToken"])
	if code != exitOK || !strings.HasPrefix(token, "rt-") || !strings.Contains(out, "enter the code") {
		t.Fatalf("login: exit %d, token stored %t, out %q, err %q", code, token != "", out, errOut)
	}
	if strings.Contains(out+errOut, token) {
		t.Error("the refresh token was printed")
	}
	if at := stored().Annotations[v1alpha1.AnnotationRefreshTokenRenewedAt]; at != fixedClock().Format(time.RFC3339) {
		t.Errorf("signed in at %q, want %s", at, fixedClock().Format(time.RFC3339))
	}

	// --check reports what the operator found, and redeems nothing.
	if code, _, errOut := login("", "--check"); code != exitBadInput || !strings.Contains(errOut, "has not reported") {
		t.Errorf("--check before the operator looked: exit %d, %q", code, errOut)
	}
	p := &v1alpha1.Partner{}
	if err := c.Get(ctx, client.ObjectKey{Name: "contoso"}, p); err != nil {
		t.Fatal(err)
	}
	p.Status.Conditions = []metav1.Condition{{Type: v1alpha1.ConditionAppUserCalls, Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonUserTokenObtained,
		Message: "The refresh token obtained an App+User token.", LastTransitionTime: metav1.Now()}}
	if err := c.Status().Update(ctx, p); err != nil { // as the operator
		t.Fatal(err)
	}
	code, out, errOut = login("", "--check")
	if code != exitOK || !strings.Contains(out, "works") || string(stored().Data["refreshToken"]) != token {
		t.Errorf("--check: exit %d, %q %q", code, out, errOut)
	}

	before := string(stored().Data["refreshToken"])
	if code, _, errOut := login("deny"); code != exitBadInput || !strings.Contains(errOut, "declined") || string(stored().Data["refreshToken"]) != before {
		t.Errorf("a declined sign-in: exit %d, %q", code, errOut)
	}
	if code, _, errOut := login(""); code != exitBadInput || !strings.Contains(errOut, "expired") || string(stored().Data["refreshToken"]) != before {
		t.Errorf("nobody signing in: exit %d, %q", code, errOut)
	}
	if code, _, errOut := run2(ctx, "login", "contoso", "--kubeconfig", kubeconfig); code != exitBadInput || !strings.Contains(errOut, "nobody is signed in there") {
		t.Errorf("a token service the cloud does not allow: exit %d, %q", code, errOut)
	}
}

// TestLoginWithoutAClientSecret: a Partner whose application has a
// certificate signs in with a certificate assertion, and one with a
// workload identity with a token of the operator's service account that
// the plugin asks the API server for; an unregistered certificate is
// refused with Entra ID's code and stores nothing.
func TestLoginWithoutAClientSecret(t *testing.T) {
	env, c := startAPIServer(t)
	ctx := context.Background()
	const ns, wiApp = "multichannel-system", "6b1f0a7e-0000-4000-8000-00000000a001"
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatal(err)
	}
	_, fc := apiretrytest.ServiceAccountToken(t, env.Config, ns, "multichannel-controller-manager")
	pemData, cert := apiretrytest.Certificate(t, time.Now().Add(time.Hour))
	unregistered, _ := apiretrytest.Certificate(t, time.Now().Add(time.Hour))
	s, err := sim.New(sim.Options{DeviceCodeInterval: 1, DeviceCodeLifetime: 10 * time.Second,
		Certificates:         map[string][]*x509.Certificate{"northwind-app": {cert}},
		FederatedCredentials: map[string][]sim.FederatedCredential{wiApp: {fc}}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(s)
	t.Cleanup(srv.Close)
	kubeconfig := writeKubeconfig(t, env)
	for _, tc := range []struct {
		partner string
		secret  map[string][]byte
		wi      bool
		refusal string
	}{
		{"northwind", map[string][]byte{"clientID": []byte("northwind-app"), "clientCertificate": pemData}, false, ""},
		{"tailspin", map[string][]byte{}, true, ""},
		{"adatum", map[string][]byte{"clientID": []byte("northwind-app"), "clientCertificate": unregistered}, false, "AADSTS700027"},
	} {
		secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: tc.partner + "-pc"}, Data: tc.secret}
		conn := &v1alpha1.PartnerCenterConnection{Endpoint: srv.URL, AuthorityHost: srv.URL, CredentialsSecretRef: &v1alpha1.SecretReference{Name: secret.Name}}
		if tc.wi {
			conn.WorkloadIdentity = &v1alpha1.WorkloadIdentity{ClientID: wiApp}
		}
		for _, o := range []client.Object{secret, &v1alpha1.Partner{ObjectMeta: metav1.ObjectMeta{Name: tc.partner}, Spec: v1alpha1.PartnerSpec{DisplayName: tc.partner,
			TenantID: "6f1bd5c1-0d3b-4c5e-9bb1-7f4f9d2b6a10", CSPType: v1alpha1.CSPTypeDirectBill, Country: "US", PartnerCenter: conn}}} {
			if err := c.Create(ctx, o); err != nil {
				t.Fatal(err)
			}
		}
		done := make(chan struct{})
		var code int
		var out, errOut bytes.Buffer
		go func() {
			defer close(done)
			code = run(ctx, []string{"login", tc.partner, "--kubeconfig", kubeconfig, "--allowed-origin", srv.URL}, strings.NewReader(""), &out, &errOut, fixedClock)
		}()
		answerSignIn(t, srv.URL, "approve")
		<-done
		got := &corev1.Secret{}
		if err := c.Get(ctx, client.ObjectKeyFromObject(secret), got); err != nil {
			t.Fatal(err)
		}
		token := string(got.Data["refreshToken"])
		switch {
		case tc.refusal == "" && (code != exitOK || !strings.HasPrefix(token, "rt-")):
			t.Errorf("%s: exit %d, token stored %t, %q", tc.partner, code, token != "", errOut.String())
		case tc.refusal != "" && (code != exitBadInput || token != "" || !strings.Contains(errOut.String(), tc.refusal)):
			t.Errorf("%s: exit %d, token stored %t, %q; want %s", tc.partner, code, token != "", errOut.String(), tc.refusal)
		}
		if strings.Contains(out.String()+errOut.String(), "PRIVATE KEY") {
			t.Errorf("%s: the key was printed", tc.partner)
		}
	}
}

func run2(ctx context.Context, args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := run(ctx, args, strings.NewReader(""), &out, &errOut, fixedClock)
	return code, out.String(), errOut.String()
}

// answerSignIn waits for a device code to wait for a person, and answers it.
func answerSignIn(t *testing.T, url, answer string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(url + "/sim/v1/devicecodes")
		if err != nil {
			t.Fatal(err)
		}
		var pending struct {
			UserCodes []string `json:"userCodes"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&pending)
		_ = resp.Body.Close()
		if len(pending.UserCodes) > 0 {
			resp, err := http.Post(url+"/sim/v1/devicecodes/"+pending.UserCodes[0]+"/"+answer, "application/json", nil)
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("no sign-in code was asked for")
}

// roundTripFunc records the requests a transport passes on.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestEachPollAuthenticatesAfresh: a device code's polls may span its 15
// minutes, longer than a certificate assertion lives (ten): each token
// request gets a new one, and nothing else is touched.
func TestEachPollAuthenticatesAfresh(t *testing.T) {
	pemData, _ := apiretrytest.Certificate(t, time.Now().Add(time.Hour))
	const tokenURL = "https://login.example/t/oauth2/v2.0/token"
	var assertions []string
	a := &authenticating{tokenURL: tokenURL, creds: entra.Credentials{ClientID: "app", ClientCertificate: pemData},
		base: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			body, _ := io.ReadAll(r.Body)
			form, _ := url.ParseQuery(string(body))
			if r.URL.String() == tokenURL && (form.Get("device_code") != "dc" || form.Has("client_secret")) {
				t.Errorf("the form lost its fields or gained a secret: %v", form)
			}
			assertions = append(assertions, form.Get("client_assertion"))
			return &http.Response{StatusCode: http.StatusOK, Body: io.NopCloser(strings.NewReader("{}"))}, nil
		})}
	for _, u := range []string{tokenURL, tokenURL, "https://login.example/t/oauth2/v2.0/devicecode"} {
		req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(url.Values{"device_code": {"dc"}, "client_id": {"app"}}.Encode()))
		if _, err := a.RoundTrip(req); err != nil {
			t.Fatal(err)
		}
	}
	if len(assertions) != 3 || assertions[0] == "" || assertions[1] == "" || assertions[0] == assertions[1] || assertions[2] != "" {
		t.Errorf("assertions %d: each token request needs its own, the device code request none", len(assertions))
	}
}
