package controllers_test

import (
	"context"
	"strings"
	"testing"

	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
)

const (
	// bindingsRefusal is what the admission check on bindings
	// (config/admission/bindings.yaml) says a user management admin may bind.
	bindingsRefusal = "the multichannel-user-management-admin role binds only the ClusterRoles " +
		"multichannel-user-management-admin, multichannel-sales-agent and multichannel-viewer"
	// escalationRefusal is RBAC's own refusal of a binding to a role whose
	// permissions its writer neither holds nor may bind.
	escalationRefusal = "is attempting to grant RBAC permissions not currently held"
)

// TestUserManagementAdminCannotEscalate: a user who holds only
// multichannel-user-management-admin binds the three roles below global
// admin and nothing else: not global admin (RBAC: no verb bind), not a role
// RBAC would let them bind because it grants nothing they lack (the
// admission check), and they neither delete nor change anyone else's binding
// (the admission check, as RBAC cannot say it). A cluster admin is unaffected.
func TestUserManagementAdminCannotEscalate(t *testing.T) {
	h := start(t)
	user := "uma-" + h.ns + "@contoso.example"
	h.grant(user, "user-management-admin")
	uma := h.as(user)
	me := []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}}
	someoneElse := []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "bob-" + h.ns + "@contoso.example"}}
	ref := func(kind, name string) rbacv1.RoleRef {
		return rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: kind, Name: name}
	}
	// Whatever is created, by anyone, is removed at the end; a refused
	// creation leaves nothing to remove.
	cleanup := func(obj client.Object) {
		t.Cleanup(func() { _ = k8sClient.Delete(context.Background(), obj) })
	}
	crb := func(name string, roleRef rbacv1.RoleRef, subjects []rbacv1.Subject) *rbacv1.ClusterRoleBinding {
		b := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: h.ns + "-" + name}, RoleRef: roleRef, Subjects: subjects}
		cleanup(b)
		return b
	}
	rb := func(name string, roleRef rbacv1.RoleRef, subjects []rbacv1.Subject) *rbacv1.RoleBinding {
		b := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: h.ns, Name: name}, RoleRef: roleRef, Subjects: subjects}
		cleanup(b)
		return b
	}
	// Refused by RBAC or, where RBAC would allow it, by the admission check.
	refusedEither := func(what string, err error) {
		t.Helper()
		if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), user) ||
			!strings.Contains(err.Error(), escalationRefusal) && !strings.Contains(err.Error(), bindingsRefusal) {
			t.Errorf("%s: %v; want Forbidden, by RBAC or by the admission check on bindings", what, err)
		}
	}
	refused := func(what string, err error, wants ...string) {
		t.Helper()
		if !apierrors.IsForbidden(err) {
			t.Errorf("%s: %v; want Forbidden", what, err)
			return
		}
		for _, want := range wants {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: %v; want a refusal that says %q", what, err, want)
			}
		}
	}

	// Roles RBAC lets anyone who may write bindings bind: they grant nothing.
	nothing := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: h.ns + "-nothing"}}
	h.create(nothing)
	cleanup(nothing)
	nothingHere := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: h.ns, Name: "nothing"}}
	h.create(nothingHere)
	cleanup(nothingHere)

	// The admission check loads asynchronously, and the grant reaches the
	// authorizer's cache: a dry run shows when both apply.
	probe := crb("probe", ref("ClusterRole", nothing.Name), me)
	h.eventually("the admission check on bindings refuses a user management admin", func() error {
		err := uma.Create(h.ctx, probe.DeepCopy(), client.DryRunAll)
		if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), bindingsRefusal) {
			return errf("a dry-run binding of ClusterRole %s: %v", nothing.Name, err)
		}
		return nil
	})

	// Global admin, to itself: RBAC refuses, the role holds no verb bind on it
	// (and the admission check would refuse it next).
	err := uma.Create(h.ctx, crb("self-global-admin", ref("ClusterRole", namePrefix+"global-admin"), me))
	refused("a ClusterRoleBinding of multichannel-global-admin to itself", err, escalationRefusal, user)
	err = uma.Create(h.ctx, rb("self-global-admin", ref("ClusterRole", namePrefix+"global-admin"), me))
	refused("a RoleBinding of multichannel-global-admin to itself", err, escalationRefusal, user)
	// cluster-admin holds what the user lacks, so RBAC refuses; admin is
	// aggregated, and envtest runs no aggregation controller: there it
	// grants nothing, and the admission check refuses.
	refusedEither("a ClusterRoleBinding of cluster-admin to itself",
		uma.Create(h.ctx, crb("self-cluster-admin", ref("ClusterRole", "cluster-admin"), me)))
	refusedEither("a RoleBinding of admin to itself",
		uma.Create(h.ctx, rb("self-admin", ref("ClusterRole", "admin"), me)))

	// Roles RBAC would let it bind (they grant nothing it lacks): the admission check refuses.
	b := crb("nothing", ref("ClusterRole", nothing.Name), me)
	err = uma.Create(h.ctx, b)
	refused("a ClusterRoleBinding of a role that grants nothing", err, bindingsRefusal,
		"user "+user+" may not create ClusterRoleBinding "+b.Name+" with roleRef ClusterRole "+nothing.Name)
	err = uma.Create(h.ctx, rb("nothing", ref("Role", nothingHere.Name), me))
	refused("a RoleBinding of a Role", err, bindingsRefusal,
		"may not create RoleBinding "+h.ns+"/nothing with roleRef Role nothing")

	// Someone else's binding, of a role below none of the three: it stays as it is.
	others := crb("others", ref("ClusterRole", "view"), someoneElse)
	h.create(others)
	err = uma.Delete(h.ctx, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: others.Name}})
	refused("deleting a ClusterRoleBinding of view", err, bindingsRefusal,
		"user "+user+" may not delete ClusterRoleBinding "+others.Name+" with roleRef ClusterRole view")
	// A change of labels: RBAC checks the roleRef before admission (view is
	// aggregated, empty in envtest), then the admission check.
	changed := &rbacv1.ClusterRoleBinding{}
	if err := uma.Get(h.ctx, client.ObjectKeyFromObject(others), changed); err != nil {
		t.Fatal(err)
	}
	changed.Labels = map[string]string{"touched": "yes"}
	refusedEither("changing the labels of a ClusterRoleBinding of view", uma.Update(h.ctx, changed))
	// An owner: RBAC lets a change of only the fields the garbage collector
	// reads through, and deleting the owner would delete the binding.
	if err := uma.Get(h.ctx, client.ObjectKeyFromObject(others), changed); err != nil {
		t.Fatal(err)
	}
	changed.OwnerReferences = []metav1.OwnerReference{{APIVersion: rbacv1.SchemeGroupVersion.String(), Kind: "ClusterRole", Name: nothing.Name, UID: nothing.UID}}
	err = uma.Update(h.ctx, changed)
	refused("giving a ClusterRoleBinding of view an owner", err, bindingsRefusal,
		"user "+user+" may not change ClusterRoleBinding "+others.Name+" with roleRef ClusterRole view")
	still := &rbacv1.ClusterRoleBinding{}
	if err := k8sClient.Get(h.ctx, client.ObjectKeyFromObject(others), still); err != nil {
		t.Fatalf("the ClusterRoleBinding of view after the refused deletion: %v", err)
	}
	if len(still.OwnerReferences) != 0 || len(still.Labels) != 0 || still.RoleRef.Name != "view" || len(still.Subjects) != 1 || still.Subjects[0].Name != someoneElse[0].Name {
		t.Errorf("the ClusterRoleBinding of view changed: %+v", still)
	}

	// The three roles it may bind, in a namespace and cluster-wide.
	sales := rb("sales-agent", ref("ClusterRole", namePrefix+"sales-agent"), someoneElse)
	if err := uma.Create(h.ctx, sales); err != nil {
		t.Fatalf("a RoleBinding of multichannel-sales-agent: %v", err)
	}
	if err := uma.Delete(h.ctx, sales); err != nil {
		t.Fatalf("deleting the RoleBinding of multichannel-sales-agent: %v", err)
	}
	if err := k8sClient.Get(h.ctx, client.ObjectKeyFromObject(sales), &rbacv1.RoleBinding{}); !apierrors.IsNotFound(err) {
		t.Errorf("the deleted RoleBinding of multichannel-sales-agent: %v; want NotFound", err)
	}
	viewer := crb("viewer", ref("ClusterRole", namePrefix+"viewer"), someoneElse)
	if err := uma.Create(h.ctx, viewer); err != nil {
		t.Fatalf("a ClusterRoleBinding of multichannel-viewer: %v", err)
	}
	viewer.Labels = map[string]string{"team": "sales"}
	if err := uma.Update(h.ctx, viewer); err != nil {
		t.Errorf("changing the ClusterRoleBinding of multichannel-viewer: %v", err)
	}
	umaToo := crb("uma", ref("ClusterRole", namePrefix+"user-management-admin"), someoneElse)
	if err := uma.Create(h.ctx, umaToo); err != nil {
		t.Errorf("a ClusterRoleBinding of multichannel-user-management-admin: %v", err)
	}

	// After all that, the user still cannot decide, and nothing binds it to more.
	sar := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{
		ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: h.ns, Verb: "approve",
			Group: v1alpha1.GroupVersion.Group, Resource: "customersubscriptions"}}}
	if err := uma.Create(h.ctx, sar); err != nil {
		t.Fatal(err)
	}
	if sar.Status.Allowed {
		t.Errorf("the user management admin may approve customersubscriptions after its attempts: %+v", sar.Status)
	}
	crbs := &rbacv1.ClusterRoleBindingList{}
	if err := k8sClient.List(h.ctx, crbs); err != nil {
		t.Fatal(err)
	}
	for _, b := range crbs.Items {
		for _, s := range b.Subjects {
			if s.Name == user && b.RoleRef.Name != namePrefix+"user-management-admin" {
				t.Errorf("ClusterRoleBinding %s binds the user management admin to %s", b.Name, b.RoleRef.Name)
			}
		}
	}

	// A cluster admin binds and removes what it likes.
	admins := rb("admins", ref("ClusterRole", "admin"), someoneElse)
	if err := k8sClient.Create(h.ctx, admins); err != nil {
		t.Fatalf("a cluster admin's RoleBinding of admin: %v", err)
	}
	for _, obj := range []client.Object{admins, others} {
		if err := k8sClient.Delete(h.ctx, obj); err != nil {
			t.Errorf("a cluster admin deleting %s: %v", obj.GetName(), err)
		}
		if err := k8sClient.Get(h.ctx, client.ObjectKeyFromObject(obj), obj); !apierrors.IsNotFound(err) {
			t.Errorf("%s after a cluster admin deleted it: %v; want NotFound", obj.GetName(), err)
		}
	}
}
