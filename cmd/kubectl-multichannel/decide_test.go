package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	corev1 "k8s.io/api/core/v1"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	"github.com/partnerops/multichannel-operator/internal/install"
)

// TestApproveDenyStatus runs the plugin against a real API server with the
// admission check and roles installed, as people holding different roles.
func TestApproveDenyStatus(t *testing.T) {
	env, c := startAPIServer(t)
	ctx := context.Background()
	objs, err := install.Objects()
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		if err := c.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	for user, role := range map[string]string{"sam@contoso.example": "sales-agent", "ana@contoso.example": "global-admin"} {
		if err := c.Create(ctx, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: role},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: install.NamePrefix + role},
			Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "woodgrove"}}); err != nil {
		t.Fatal(err)
	}
	sub := &v1alpha1.CustomerSubscription{ObjectMeta: metav1.ObjectMeta{Namespace: "woodgrove", Name: "azure-ea"},
		Spec: v1alpha1.CustomerSubscriptionSpec{CustomerRef: "woodgrove", SubscriptionID: "s", Offer: v1alpha1.Offer{ID: "MS-AZR-0017P"},
			ServiceType: v1alpha1.ServiceUsageBased, Channel: v1alpha1.Channel{Type: v1alpha1.ChannelEnterpriseAgreement}, SupportPartnerRef: "contoso"}}
	rr := &v1alpha1.ResellerRelationship{ObjectMeta: metav1.ObjectMeta{Namespace: "woodgrove", Name: "woodgrove-northwind"},
		Spec: v1alpha1.ResellerRelationshipSpec{PartnerRef: "northwind", CustomerRef: "woodgrove"}}
	customer := &v1alpha1.Customer{ObjectMeta: metav1.ObjectMeta{Namespace: "woodgrove", Name: "woodgrove"},
		Spec: v1alpha1.CustomerSpec{DisplayName: "Woodgrove", TenantID: "2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e", Country: "US"}}
	for _, o := range []client.Object{sub, rr, customer} {
		if err := c.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	// What the operator shows for the spec it read: the terms a decision names.
	sub.Status.ObservedGeneration = sub.Generation
	sub.Status.Terms = &v1alpha1.Terms{Path: v1alpha1.PathNewAzureSubscription, Customer: "woodgrove", CustomerTenantID: customer.Spec.TenantID,
		Partner: "contoso", PartnerTenantID: "6f1bd5c1-0d3b-4c5e-9bb1-7f4f9d2b6a10", OfferID: "DZH318Z0BPS6:0001", Quantity: 1,
		BillingCycle: "monthly", SourceDisposition: v1alpha1.SourceCancelSubscription}
	if err := c.Status().Update(ctx, sub); err != nil {
		t.Fatal(err)
	}
	kubeconfig := writeKubeconfig(t, env)

	plugin := func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := run(ctx, append(args, "--kubeconfig", kubeconfig, "-n", "woodgrove"), strings.NewReader(""), &out, &errOut, fixedClock)
		return code, out.String(), errOut.String()
	}

	code, _, errOut := plugin("approve", "azure-ea", "--as", "sam@contoso.example")
	if code != exitBadInput || !strings.Contains(errOut, "user sam@contoso.example lacks verb approve on customersubscriptions.multichannel.partnerops.io azure-ea") {
		t.Errorf("a sales agent's approve: exit %d, %q", code, errOut)
	}
	code, out, errOut := plugin("approve", "azure-ea", "--as", "ana@contoso.example", "--reason", "EA cancellation agreed")
	if code != exitOK || !strings.Contains(out, "approved by ana@contoso.example") || !strings.Contains(out, "customer woodgrove (tenant 2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e), by partner contoso") {
		t.Fatalf("a global admin's approve: exit %d, %q %q", code, out, errOut)
	}
	if err := c.Get(ctx, client.ObjectKeyFromObject(sub), sub); err != nil {
		t.Fatal(err)
	}
	if a := sub.Status.Authorization; a == nil || a.By != "ana@contoso.example" || a.Source != v1alpha1.AuthorizationManual ||
		a.Decision != v1alpha1.DecisionAuthorized || a.Generation != sub.Generation || a.Reason != "EA cancellation agreed" ||
		a.Terms == nil || *a.Terms != *sub.Status.Terms {
		t.Errorf("authorization = %+v", sub.Status.Authorization)
	}
	if code, _, errOut := plugin("deny", "azure-ea", "--as", "ana@contoso.example", "--reason", "x", "--generation", "7"); code != exitBadInput ||
		!strings.Contains(errOut, "changed (generation 1, you looked at 7)") {
		t.Errorf("a decision on a generation nobody saw: exit %d, %q", code, errOut)
	}
	if code, _, errOut := plugin("deny", "azure-ea", "--as", "ana@contoso.example"); code != exitBadInput || !strings.Contains(errOut, "deny needs --reason") {
		t.Errorf("deny without a reason: exit %d, %q", code, errOut)
	}
	if code, _, errOut := plugin("deny", "azure-ea", "--as", "ana@contoso.example", "--reason", "changed my mind"); code != exitBadInput || !strings.Contains(errOut, "a decision is final") {
		t.Errorf("a second, different decision: exit %d, %q", code, errOut)
	}
	if code, out, _ := plugin("status", "csub/azure-ea", "--as", "sam@contoso.example"); code != exitOK ||
		!strings.Contains(out, "Authorized by ana@contoso.example (Manual)") ||
		!strings.Contains(out, "NewAzureSubscription: 1 x DZH318Z0BPS6:0001 (billed monthly), source CancelSubscription, for customer woodgrove (tenant 2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e), by partner contoso") {
		t.Errorf("status: exit %d, %q", code, out)
	}

	if code, out, errOut := plugin("deny", "rr/woodgrove-northwind", "--as", "ana@contoso.example", "--reason", "declined by phone"); code != exitOK || !strings.Contains(out, "denied by ana@contoso.example") {
		t.Fatalf("recording the customer's decision: exit %d, %q %q", code, out, errOut)
	}
	if err := c.Get(ctx, client.ObjectKeyFromObject(rr), rr); err != nil {
		t.Fatal(err)
	}
	if a := rr.Status.Approval; a == nil || a.Decision != v1alpha1.DecisionDenied || a.By != "ana@contoso.example" || a.Source != v1alpha1.ApprovalManual ||
		a.TenantID != customer.Spec.TenantID {
		t.Errorf("approval = %+v", rr.Status.Approval)
	}
	// For a partner with credentials the customer's consent is only what Partner Center shows.
	contoso := &v1alpha1.Partner{ObjectMeta: metav1.ObjectMeta{Name: "contoso"}, Spec: v1alpha1.PartnerSpec{DisplayName: "Contoso",
		TenantID: "6f1bd5c1-0d3b-4c5e-9bb1-7f4f9d2b6a10", CSPType: v1alpha1.CSPTypeDirectBill, Country: "US",
		PartnerCenter: &v1alpha1.PartnerCenterConnection{CredentialsSecretRef: &v1alpha1.SecretReference{Name: "pc"}}}}
	withCreds := &v1alpha1.ResellerRelationship{ObjectMeta: metav1.ObjectMeta{Namespace: "woodgrove", Name: "woodgrove-contoso"},
		Spec: v1alpha1.ResellerRelationshipSpec{PartnerRef: "contoso", CustomerRef: "woodgrove"}}
	for _, o := range []client.Object{contoso, withCreds} {
		if err := c.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	if code, _, errOut := plugin("approve", "rr/woodgrove-contoso", "--as", "ana@contoso.example"); code != exitBadInput ||
		!strings.Contains(errOut, "consent is only what Partner Center shows") {
		t.Errorf("approving for a partner with credentials: exit %d, %q", code, errOut)
	}
	if code, _, errOut := plugin("approve", "widget/x"); code != exitBadInput || !strings.Contains(errOut, "is not a CustomerSubscription") {
		t.Errorf("an unknown type: exit %d, %q", code, errOut)
	}

	// cancel: within the window of what the operator bought, by a person with verb approve.
	if code, _, errOut := plugin("cancel", "azure-ea", "--as", "ana@contoso.example", "--reason", "mistake"); code != exitBadInput ||
		!strings.Contains(errOut, "has bought nothing to cancel yet") {
		t.Errorf("cancelling before anything was bought: exit %d, %q", code, errOut)
	}
	bought := func(name string, until time.Time) {
		t.Helper()
		s := &v1alpha1.CustomerSubscription{ObjectMeta: metav1.ObjectMeta{Namespace: "woodgrove", Name: name}, Spec: sub.Spec}
		s.Spec.ServiceType, s.Spec.Offer.ID, s.Spec.Channel = v1alpha1.ServiceLicenseBased, "CFQ7TTC0LCHC:0002", v1alpha1.Channel{Type: v1alpha1.ChannelDirect}
		quantity, end := int32(10), metav1.NewTime(fixedClock().AddDate(0, -1, 0))
		s.Spec.Quantity, s.Spec.Term = &quantity, &v1alpha1.Term{EndDate: &end}
		if err := c.Create(ctx, s); err != nil {
			t.Fatal(err)
		}
		u := metav1.NewTime(until)
		s.Status = v1alpha1.CustomerSubscriptionStatus{ObservedGeneration: 1, Phase: v1alpha1.PhaseCompleted, TargetSubscriptionID: "pc-" + name, CancellableUntil: &u}
		if err := c.Status().Update(ctx, s); err != nil { // as the operator
			t.Fatal(err)
		}
	}
	bought("visio", fixedClock().Add(time.Hour))
	bought("project", fixedClock().Add(-time.Hour))
	if code, _, errOut := plugin("cancel", "visio", "--as", "ana@contoso.example"); code != exitBadInput || !strings.Contains(errOut, "cancel needs --reason") {
		t.Errorf("cancel without a reason: exit %d, %q", code, errOut)
	}
	if code, _, errOut := plugin("cancel", "visio", "--as", "sam@contoso.example", "--reason", "mistake"); code != exitBadInput || !strings.Contains(errOut, "lacks verb approve") {
		t.Errorf("a sales agent's cancel: exit %d, %q", code, errOut)
	}
	if code, _, errOut := plugin("cancel", "project", "--as", "ana@contoso.example", "--reason", "mistake"); code != exitBadInput ||
		!strings.Contains(errOut, "the cancellation window of subscription pc-project closed at 2026-11-24T11:00:00Z (1h0m0s ago)") {
		t.Errorf("cancelling after the window: exit %d, %q", code, errOut)
	}
	if code, out, errOut := plugin("cancel", "visio", "--as", "ana@contoso.example", "--reason", "quantity merged by mistake"); code != exitOK ||
		!strings.Contains(out, "cancellation of subscription pc-visio") || !strings.Contains(out, "asked by ana@contoso.example") {
		t.Fatalf("a global admin's cancel: exit %d, %q %q", code, out, errOut)
	}
	visio := &v1alpha1.CustomerSubscription{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: "woodgrove", Name: "visio"}, visio); err != nil {
		t.Fatal(err)
	}
	if cn := visio.Status.Cancellation; cn == nil || cn.By != "ana@contoso.example" || cn.SubscriptionID != "pc-visio" || cn.Reason != "quantity merged by mistake" || !cn.At.Time.Equal(fixedClock()) {
		t.Errorf("cancellation = %+v", visio.Status.Cancellation)
	}
	if code, out, _ := plugin("status", "visio", "--as", "sam@contoso.example"); code != exitOK ||
		!strings.Contains(out, "Cancellable until") || !strings.Contains(out, `pc-visio by ana@contoso.example at 2026-11-24T12:00:00Z ("quantity merged by mistake")`) {
		t.Errorf("status after cancel: exit %d, %q", code, out)
	}
}

// writeKubeconfig writes a kubeconfig for an admin who may impersonate (--as).
func writeKubeconfig(t *testing.T, env *envtest.Environment) string {
	t.Helper()
	admin, err := env.AddUser(envtest.User{Name: "plugin-admin", Groups: []string{"system:masters"}}, &rest.Config{})
	if err != nil {
		t.Fatal(err)
	}
	data, err := admin.KubeConfig()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
