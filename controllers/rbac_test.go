package controllers_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/yaml"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	"github.com/partnerops/multichannel-operator/controllers"
)

// TestGeneratedRBACIsEnoughAndNoMore runs the operator as a user bound to
// nothing but the ClusterRole generated from the RBAC markers.
func TestGeneratedRBACIsEnoughAndNoMore(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "config", "rbac", "role.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	role, secretsRole := &rbacv1.ClusterRole{}, &rbacv1.Role{}
	for _, doc := range strings.Split(string(data), "\n---\n") {
		if strings.TrimSpace(strings.Trim(doc, "-\n")) == "" {
			continue
		}
		var into any = role
		if strings.Contains(doc, "kind: Role\n") {
			into = secretsRole
		}
		if err := yaml.UnmarshalStrict([]byte(doc), into); err != nil {
			t.Fatal(err)
		}
	}
	if secretsRole.Namespace != controllers.DefaultOperatorNamespace {
		t.Errorf("the Secrets Role is in namespace %q, want the operator's %q", secretsRole.Namespace, controllers.DefaultOperatorNamespace)
	}
	for _, rule := range role.Rules {
		for _, list := range [][]string{rule.APIGroups, rule.Resources, rule.Verbs} {
			if slices.Contains(list, "*") {
				t.Errorf("rule %+v has a wildcard", rule)
			}
		}
		if slices.Contains(rule.Resources, "secrets") {
			t.Errorf("the ClusterRole grants Secrets (%v): the operator reads them only in its namespace, through a Role", rule.Verbs)
		}
	}
	// In its namespace the operator reads Secrets, writes its own Secrets of
	// renewed refresh tokens (create, update; never delete), and holds
	// tenant claims (Leases), nothing else.
	if len(secretsRole.Rules) != 2 ||
		!slices.Equal(secretsRole.Rules[0].Resources, []string{"secrets"}) || !slices.Equal(secretsRole.Rules[0].Verbs, []string{"create", "get", "list", "update", "watch"}) ||
		!slices.Equal(secretsRole.Rules[1].Resources, []string{"leases"}) || !slices.Equal(secretsRole.Rules[1].Verbs, []string{"create", "get", "update"}) {
		t.Errorf("the namespace Role = %+v, want create, get and update on leases, and create, get, list, update and watch on secrets, only", secretsRole.Rules)
	}

	user := "multichannel-operator-" + rand.String(4)
	role.Name = user
	if err := k8sClient.Create(t.Context(), role); err != nil {
		t.Fatal(err)
	}
	binding := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: user},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: user},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}}}
	if err := k8sClient.Create(t.Context(), binding); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k8sClient.Delete(t.Context(), binding); _ = k8sClient.Delete(t.Context(), role) })
	operator, err := testEnv.AddUser(envtest.User{Name: user}, nil)
	if err != nil {
		t.Fatal(err)
	}

	// The Secrets Role, bound in the operator's namespace (each test's own).
	h := start(t, asUser(operator.Config()), beforeManager(func(h *harness) {
		r := secretsRole.DeepCopy()
		r.Namespace, r.Name = h.ns, user
		h.create(r)
		h.create(&rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: h.ns, Name: user},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: user},
			Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}}})
	}))
	contoso := h.contoso()
	h.customer("woodgrove")
	h.policy(contoso.Name)
	h.subscription("m365", licenseFromEA("woodgrove", contoso.Name)) // creates a relationship
	h.subscription("azure", azure("woodgrove", contoso.Name, v1alpha1.Channel{Type: v1alpha1.ChannelDirect}, ""))
	h.waitPhase("m365", v1alpha1.PhaseAwaitingApproval)
	h.customerAccepts(contosoTenant)
	h.waitPhase("m365", v1alpha1.PhaseCompleted)
	// The policy's authorization passes the admission check: the role holds verb reconcile.
	if sub := h.waitPhase("azure", v1alpha1.PhaseCompleted); sub.Status.Authorization == nil || sub.Status.Authorization.Source != v1alpha1.AuthorizationFromPolicy {
		t.Errorf("authorization = %+v", sub.Status.Authorization)
	}
}
