package controllers_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/yaml"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
)

// TestGeneratedRBACIsEnoughAndNoMore runs the operator as a user bound to
// nothing but the ClusterRole generated from the RBAC markers.
func TestGeneratedRBACIsEnoughAndNoMore(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "config", "rbac", "role.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	role := &rbacv1.ClusterRole{}
	if err := yaml.UnmarshalStrict(data, role); err != nil {
		t.Fatal(err)
	}
	for _, rule := range role.Rules {
		for _, list := range [][]string{rule.APIGroups, rule.Resources, rule.Verbs} {
			if slices.Contains(list, "*") {
				t.Errorf("rule %+v has a wildcard", rule)
			}
		}
		if slices.Contains(rule.Resources, "secrets") && !slices.Equal(rule.Verbs, []string{"get"}) {
			t.Errorf("secrets: verbs %v, want only get", rule.Verbs)
		}
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

	h := start(t, asUser(operator.Config()))
	contoso := h.contoso()
	h.customer("woodgrove")
	h.subscription("m365", licenseFromEA("woodgrove", contoso.Name)) // creates a relationship
	h.waitPhase("m365", v1alpha1.PhaseAwaitingApproval)
	h.customerAccepts(contosoTenant)
	h.waitPhase("m365", v1alpha1.PhaseCompleted)
}
