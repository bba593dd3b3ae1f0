package controllers_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	authorizationv1 "k8s.io/api/authorization/v1"
	eventsv1 "k8s.io/api/events/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
)

// newLicense is a license from another CSP partner whose term ended: the
// target buys it anew (a purchase, so it needs the partner's authorization).
func newLicense(customer, source, target string, qty int32) v1alpha1.CustomerSubscriptionSpec {
	spec := licenseFromCSP(customer, source, target, "2025-06-30T00:00:00Z")
	spec.Quantity = ptr(qty)
	return spec
}

// TestPersonAuthorizes: without a policy, a purchase waits for a person. A
// sales agent cannot authorize it, a global admin can and is recorded by the
// name the API server authenticated; the decision is final for its
// generation, its writer cannot claim another name, and a person cannot
// write the operator's part of the status.
func TestPersonAuthorizes(t *testing.T) {
	h := start(t)
	contoso, fabrikam := h.contoso(), h.fabrikam()
	h.customer("woodgrove")
	h.customerAccepts(contosoTenant)
	h.grant("sam@contoso.example", "sales-agent")
	h.grant("ana@contoso.example", "global-admin")
	h.subscription("visio", newLicense("woodgrove", fabrikam.Name, contoso.Name, 40))

	h.eventually("the purchase waits for authorization", func() error {
		sub := h.waitPhase("visio", v1alpha1.PhaseAwaitingApproval)
		c := condition(sub.Status.Conditions, v1alpha1.ConditionAuthorized)
		if c == nil || c.Status != "False" || c.Reason != v1alpha1.ReasonAwaitingAuthorization || !strings.Contains(c.Message, "kubectl multichannel approve visio") {
			return errf("authorized = %+v", c)
		}
		return nil
	})
	if n := h.sim.Stats().RequestsByRoute["CreateCart"]; n != 0 {
		t.Fatalf("%d carts before authorization", n)
	}

	// A sales agent lacks the permission to write the status at all (RBAC);
	// someone who may write it but lacks verb approve meets the admission check.
	err := authorizeAs(t, h, "visio", "sam@contoso.example", v1alpha1.DecisionAuthorized, "sam@contoso.example")
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), `cannot update resource "customersubscriptions/status"`) {
		t.Errorf("a sales agent's approval: %v; want a refusal naming the missing permission", err)
	}
	h.statusEditor("ops@contoso.example")
	err = authorizeAs(t, h, "visio", "ops@contoso.example", v1alpha1.DecisionAuthorized, "ops@contoso.example")
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "needs verb approve on customersubscriptions") || !strings.Contains(err.Error(), "ops@contoso.example") {
		t.Errorf("an approval without verb approve: %v; want a refusal naming verb approve", err)
	}
	err = authorizeAs(t, h, "visio", "ana@contoso.example", v1alpha1.DecisionAuthorized, "the CFO")
	if err == nil || !strings.Contains(err.Error(), "must be the user who decides, ana@contoso.example") {
		t.Errorf("an approval claiming another name: %v; want a refusal", err)
	}
	if err := authorizeAs(t, h, "visio", "ana@contoso.example", v1alpha1.DecisionAuthorized, "ana@contoso.example"); err != nil {
		t.Fatalf("a global admin's approval was refused: %v", err)
	}
	sub := h.waitPhase("visio", v1alpha1.PhaseCompleted)
	if a := sub.Status.Authorization; a == nil || a.By != "ana@contoso.example" || a.Source != v1alpha1.AuthorizationManual || a.Generation != sub.Generation {
		t.Errorf("authorization = %+v", sub.Status.Authorization)
	}
	if c := condition(sub.Status.Conditions, v1alpha1.ConditionAuthorized); c == nil || c.Reason != v1alpha1.ReasonAuthorizedByPerson {
		t.Errorf("authorized = %+v", c)
	}
	err = authorizeAs(t, h, "visio", "ana@contoso.example", v1alpha1.DecisionAuthorizationDenied, "ana@contoso.example")
	if err == nil || !strings.Contains(err.Error(), "is final") {
		t.Errorf("a second, different decision: %v; want a refusal", err)
	}
	// A person with status access still cannot write what the operator observed.
	admin := h.as("ana@contoso.example")
	fresh := &v1alpha1.CustomerSubscription{}
	if err := admin.Get(h.ctx, client.ObjectKey{Namespace: h.ns, Name: "visio"}, fresh); err != nil {
		t.Fatal(err)
	}
	fresh.Status.Phase = v1alpha1.PhaseFailed
	if err := admin.Status().Update(h.ctx, fresh); err == nil || !strings.Contains(err.Error(), "may change only status.authorization") {
		t.Errorf("a person writing status.phase: %v; want a refusal", err)
	}
	if n := h.sim.Stats().ObjectsCreated["order"]; n != 1 {
		t.Errorf("%d orders, want 1", n)
	}
}

// TestAuthorizationDeniedThenAskedAgain: a denial stops the subscription; a
// change of what is bought asks again, and a person decides on the new terms.
func TestAuthorizationDeniedThenAskedAgain(t *testing.T) {
	h := start(t)
	contoso, fabrikam := h.contoso(), h.fabrikam()
	h.customer("woodgrove")
	h.customerAccepts(contosoTenant)
	h.grant("ana@contoso.example", "global-admin")
	h.policy(contoso.Name, func(p *v1alpha1.ApprovalPolicySpec) { p.MaxQuantity = ptr(int32(25)) })
	h.subscription("visio", newLicense("woodgrove", fabrikam.Name, contoso.Name, 40))

	h.eventually("the policy's limit is explained", func() error {
		sub := h.waitPhase("visio", v1alpha1.PhaseAwaitingApproval)
		if c := condition(sub.Status.Conditions, v1alpha1.ConditionAuthorized); c == nil || !strings.Contains(c.Message, "allows at most 25 licenses, the subscription has 40") {
			return errf("authorized = %+v", c)
		}
		return nil
	})
	if err := authorizeAs(t, h, "visio", "ana@contoso.example", v1alpha1.DecisionAuthorizationDenied, "ana@contoso.example"); err != nil {
		t.Fatal(err)
	}
	sub := h.waitPhase("visio", v1alpha1.PhaseFailed)
	if c := condition(sub.Status.Conditions, v1alpha1.ConditionStalled); c == nil || c.Reason != v1alpha1.ReasonAuthorizationDenied || kstatus(t, sub) != status.FailedStatus {
		t.Errorf("stalled = %+v, kstatus %s", c, kstatus(t, sub))
	}

	if err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := k8sClient.Get(h.ctx, client.ObjectKeyFromObject(sub), sub); err != nil {
			return err
		}
		sub.Spec.Quantity = ptr(int32(20))
		return k8sClient.Update(h.ctx, sub)
	}); err != nil {
		t.Fatal(err)
	}
	// Other terms are asked again, but after a person's denial a policy
	// does not decide: were the spec changed back, the denial would be lost.
	h.eventually("the new terms wait for a person", func() error {
		sub := h.waitPhase("visio", v1alpha1.PhaseAwaitingApproval)
		if c := condition(sub.Status.Conditions, v1alpha1.ConditionAuthorized); c == nil || !strings.Contains(c.Message, "after a person's denial only a person decides") ||
			!strings.Contains(c.Message, "20 x") {
			return errf("authorized = %+v", c)
		}
		return nil
	})
	if err := authorizeAs(t, h, "visio", "ana@contoso.example", v1alpha1.DecisionAuthorized, "ana@contoso.example"); err != nil {
		t.Fatal(err)
	}
	sub = h.waitPhase("visio", v1alpha1.PhaseCompleted)
	if a := sub.Status.Authorization; a == nil || a.Source != v1alpha1.AuthorizationManual || a.Terms == nil || a.Terms.Quantity != 20 {
		t.Errorf("authorization after the change = %+v", a)
	}
	if op := sub.Status.Operation; op == nil || op.Terms == nil || op.Terms.Quantity != 20 || !strings.Contains(op.AuthorizedBy, "ana@contoso.example (Manual)") {
		t.Errorf("operation = %+v", op)
	}
}

// TestCustomerDecisionByHand: for a reference-only partner a person with verb
// approve records the customer's answer; a sales agent cannot, nobody can
// change it, and a manual approval for a partner with credentials is not used.
func TestCustomerDecisionByHand(t *testing.T) {
	h := start(t)
	contoso := h.contoso()
	northwind := h.partner("northwind", "9d2c7f4e-1a3b-4c5d-8e6f-0a1b2c3d4e5f", v1alpha1.CSPTypeDirectBill, false)
	h.customer("woodgrove")
	h.grant("sam@contoso.example", "sales-agent")
	h.grant("ana@contoso.example", "global-admin")
	h.create(&v1alpha1.ResellerRelationship{ObjectMeta: metav1.ObjectMeta{Namespace: h.ns, Name: "northwind"},
		Spec: v1alpha1.ResellerRelationshipSpec{PartnerRef: northwind.Name, CustomerRef: "woodgrove"}})
	h.create(&v1alpha1.ResellerRelationship{ObjectMeta: metav1.ObjectMeta{Namespace: h.ns, Name: "contoso"},
		Spec: v1alpha1.ResellerRelationshipSpec{PartnerRef: contoso.Name, CustomerRef: "woodgrove"}})

	rr := &v1alpha1.ResellerRelationship{}
	h.eventually("the reference-only request waits for a person", func() error {
		if err := k8sClient.Get(h.ctx, client.ObjectKey{Namespace: h.ns, Name: "northwind"}, rr); err != nil {
			return err
		}
		if c := condition(rr.Status.Conditions, v1alpha1.ConditionReconciling); c == nil || c.Reason != "AwaitingManualApproval" {
			return errf("reconciling = %+v", c)
		}
		return nil
	})
	err := recordDecision(t, h, rr, v1alpha1.ConditionApproved, "sam@contoso.example")
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), `cannot update resource "resellerrelationships/status"`) {
		t.Errorf("a sales agent's decision: %v; want a refusal naming the missing permission", err)
	}
	h.statusEditor("ops@contoso.example")
	err = recordDecision(t, h, rr, v1alpha1.ConditionApproved, "ops@contoso.example")
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "needs verb approve on resellerrelationships") {
		t.Errorf("a decision without verb approve: %v; want a refusal naming verb approve", err)
	}
	err = recordDecisionFor(t, h, rr, v1alpha1.ConditionApproved, "ana@contoso.example", "")
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "tenantID (the customer tenant that decided)") {
		t.Errorf("a decision that names no tenant: %v; want a refusal asking for tenantID", err)
	}
	if err := recordDecision(t, h, rr, v1alpha1.ConditionApproved, "ana@contoso.example"); err != nil {
		t.Fatalf("a global admin's decision was refused: %v", err)
	}
	rr = h.waitRelationship("northwind", v1alpha1.RelationshipApproved)
	if a := rr.Status.Approval; a == nil || a.By != "ana@contoso.example" || a.Source != v1alpha1.ApprovalManual {
		t.Errorf("approval = %+v", rr.Status.Approval)
	}
	if err := recordDecision(t, h, rr, v1alpha1.ConditionDenied, "ana@contoso.example"); err == nil {
		t.Error("a second, different decision was accepted")
	}

	cr := h.waitRelationship("contoso", v1alpha1.RelationshipRequested)
	if err := recordDecision(t, h, cr, v1alpha1.ConditionApproved, "ana@contoso.example"); err != nil {
		t.Fatal(err)
	}
	h.eventually("a manual approval for a partner with credentials is not used", func() error {
		if err := k8sClient.Get(h.ctx, client.ObjectKeyFromObject(cr), cr); err != nil {
			return err
		}
		if c := condition(cr.Status.Conditions, v1alpha1.ConditionReconciling); cr.Status.Phase != v1alpha1.RelationshipRequested || c == nil || c.Reason != "ManualApprovalNotUsed" {
			return errf("phase %s, reconciling %+v", cr.Status.Phase, c)
		}
		return nil
	})
	// Once the customer accepts in Partner Center, that is what is recorded.
	h.customerAccepts(contosoTenant)
	cr = h.waitRelationship("contoso", v1alpha1.RelationshipApproved)
	if a := cr.Status.Approval; a == nil || a.Source != v1alpha1.ApprovalFromPartnerCenter || !strings.Contains(a.By, woodgroveTenant) {
		t.Errorf("approval after the customer accepted = %+v", cr.Status.Approval)
	}
}

// TestPolicyWithdrawnBeforeAnythingIsSent: a policy authorizes a purchase
// while the customer has not consented yet; the policy is narrowed before
// the customer accepts, so nothing is bought until a person decides.
func TestPolicyWithdrawnBeforeAnythingIsSent(t *testing.T) {
	h := start(t)
	contoso, fabrikam := h.contoso(), h.fabrikam()
	h.customer("woodgrove")
	h.grant("ana@contoso.example", "global-admin")
	h.policy(contoso.Name)
	h.subscription("visio", newLicense("woodgrove", fabrikam.Name, contoso.Name, 40))
	h.eventually("the policy authorizes while the customer has not consented", func() error {
		sub := h.waitPhase("visio", v1alpha1.PhaseAwaitingApproval)
		if a := sub.Status.Authorization; a == nil || a.Source != v1alpha1.AuthorizationFromPolicy {
			return errf("authorization = %+v", a)
		}
		return nil
	})
	if err := retry.RetryOnConflict(retry.DefaultRetry, func() error { // the operator writes the policy's status meanwhile
		policy := &v1alpha1.ApprovalPolicy{}
		if err := k8sClient.Get(h.ctx, client.ObjectKey{Namespace: h.ns, Name: "trust-" + contoso.Name}, policy); err != nil {
			return err
		}
		policy.Spec.MaxQuantity = ptr(int32(10))
		return k8sClient.Update(h.ctx, policy)
	}); err != nil {
		t.Fatal(err)
	}
	h.customerAccepts(contosoTenant)
	h.eventually("the narrowed policy no longer authorizes", func() error {
		sub := h.waitPhase("visio", v1alpha1.PhaseAwaitingApproval)
		c := condition(sub.Status.Conditions, v1alpha1.ConditionAuthorized)
		consent := condition(sub.Status.Conditions, v1alpha1.ConditionRelationshipApproved)
		if c == nil || c.Status != "False" || !strings.Contains(c.Message, "no longer does (it allows at most 10 licenses, the subscription has 40)") ||
			consent == nil || consent.Status != "True" {
			return errf("authorized = %+v, consent %+v", c, consent)
		}
		return nil
	})
	if n := h.sim.Stats().RequestsByRoute["CreateCart"]; n != 0 {
		t.Fatalf("%d carts after the policy was narrowed", n)
	}
	// A person may overrule the policy's standing authorization.
	if err := authorizeAs(t, h, "visio", "ana@contoso.example", v1alpha1.DecisionAuthorized, "ana@contoso.example"); err != nil {
		t.Fatalf("overruling the policy: %v", err)
	}
	sub := h.waitPhase("visio", v1alpha1.PhaseCompleted)
	if a := sub.Status.Authorization; a == nil || a.By != "ana@contoso.example" {
		t.Errorf("authorization = %+v", a)
	}
}

// TestRoles proves each seed role's can and cannot table: each user, bound
// to one role, asks the API server's authorizer itself (impersonated).
func TestRoles(t *testing.T) {
	h := start(t)
	users := map[string]string{"global-admin": "ga@contoso.example", "user-management-admin": "uma@contoso.example",
		"sales-agent": "sa@contoso.example", "viewer": "v@contoso.example"}
	for role, user := range users {
		h.grant(user, role)
	}
	type action struct {
		verb, resource, subresource, group, name string
	}
	mc := func(verb, resource string) action {
		return action{verb: verb, resource: resource, group: v1alpha1.GroupVersion.Group}
	}
	status := func(verb, resource string) action {
		a := mc(verb, resource)
		a.subresource = "status"
		return a
	}
	bind := func(role string) action {
		return action{verb: "bind", resource: "clusterroles", group: "rbac.authorization.k8s.io", name: namePrefix + role}
	}
	rows := []struct {
		action action
		can    []string
	}{
		{mc("create", "customers"), []string{"global-admin", "sales-agent"}},
		{mc("create", "customersubscriptions"), []string{"global-admin", "sales-agent"}},
		{mc("create", "resellerrelationships"), []string{"global-admin", "sales-agent"}},
		{mc("create", "partners"), []string{"global-admin"}},
		{mc("create", "approvalpolicies"), []string{"global-admin"}},
		{mc("create", "delegatedadminrelationships"), []string{"global-admin"}},
		{mc("delete", "delegatedadminrelationships"), []string{"global-admin"}},
		{mc("list", "delegatedadminrelationships"), []string{"global-admin", "sales-agent", "viewer"}},
		{status("get", "delegatedadminrelationships"), []string{"global-admin", "sales-agent", "viewer"}},
		{status("update", "delegatedadminrelationships"), nil},
		{mc("list", "customersubscriptions"), []string{"global-admin", "sales-agent", "viewer"}},
		{mc("approve", "customersubscriptions"), []string{"global-admin"}},
		{mc("approve", "resellerrelationships"), []string{"global-admin"}},
		{mc("reconcile", "customersubscriptions"), nil},
		{status("update", "customersubscriptions"), []string{"global-admin"}},
		{status("update", "resellerrelationships"), []string{"global-admin"}},
		{action{verb: "get", resource: "secrets"}, nil},
		{bind("sales-agent"), []string{"user-management-admin"}},
		{bind("viewer"), []string{"user-management-admin"}},
		{bind("user-management-admin"), []string{"user-management-admin"}},
		{bind("global-admin"), nil}, // only a cluster admin grants it
		{action{verb: "create", resource: "clusterrolebindings", group: "rbac.authorization.k8s.io"}, []string{"user-management-admin"}},
		{bind("cluster-admin"), nil},
		// The marker of the admission check on bindings (config/admission/bindings.yaml).
		{mc("manage", "rolebindings"), []string{"user-management-admin"}},
		{action{verb: "escalate", resource: "clusterroles", group: "rbac.authorization.k8s.io"}, nil},
	}
	for _, row := range rows {
		for role, user := range users {
			sar := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{
				ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: h.ns, Verb: row.action.verb, Group: row.action.group,
					Resource: row.action.resource, Subresource: row.action.subresource, Name: row.action.name}}}
			if row.action.group == "rbac.authorization.k8s.io" {
				sar.Spec.ResourceAttributes.Namespace = ""
			}
			if err := h.as(user).Create(h.ctx, sar); err != nil {
				t.Fatal(err)
			}
			want := false
			for _, r := range row.can {
				want = want || r == role
			}
			if sar.Status.Allowed != want {
				t.Errorf("%s %s %s/%s %s: allowed %v, want %v", role, row.action.verb, row.action.resource, row.action.subresource, row.action.name, sar.Status.Allowed, want)
			}
		}
	}
}

// TestCredentialsStayHome: a Partner pointing at a foreign host or at another
// namespace's Secret is not Ready and nothing is sent; in a full run neither
// logs nor events carry a secret value.
func TestCredentialsStayHome(t *testing.T) {
	var foreign atomic.Int64
	thief := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { foreign.Add(1) }))
	defer thief.Close()
	var logs syncBuffer
	h := start(t, withLogs(&logs))

	cases := []struct {
		partner *v1alpha1.Partner
		reason  string
	}{
		{h.partner("foreign-endpoint", "3a4b5c6d-7e8f-4a9b-8c1d-2e3f4a5b6c7d", v1alpha1.CSPTypeDirectBill, true,
			func(p *v1alpha1.Partner) { p.Spec.PartnerCenter.Endpoint = thief.URL }), v1alpha1.ReasonEndpointNotAllowed},
		{h.partner("foreign-authority", "4a5b6c7d-8e9f-4a1b-9c2d-3e4f5a6b7c8d", v1alpha1.CSPTypeDirectBill, true,
			func(p *v1alpha1.Partner) { p.Spec.PartnerCenter.AuthorityHost = thief.URL }), v1alpha1.ReasonEndpointNotAllowed},
		{h.partner("other-namespace", "5a6b7c8d-9e0f-4a2b-8c3d-4e5f6a7b8c9d", v1alpha1.CSPTypeDirectBill, true,
			func(p *v1alpha1.Partner) { p.Spec.PartnerCenter.CredentialsSecretRef.Namespace = "kube-system" }), v1alpha1.ReasonSecretNamespaceNotAllowed},
	}
	for _, tc := range cases {
		p := &v1alpha1.Partner{}
		h.eventually("Partner "+tc.partner.Name+" is refused", func() error {
			if err := k8sClient.Get(h.ctx, client.ObjectKeyFromObject(tc.partner), p); err != nil {
				return err
			}
			if c := condition(p.Status.Conditions, v1alpha1.ConditionReady); c == nil || c.Status != "False" || c.Reason != tc.reason {
				return errf("ready = %+v", c)
			}
			return nil
		})
	}

	// A full run: request, approval, purchase.
	contoso := h.contoso()
	h.woodgroveTrusts(contoso)
	h.subscription("azure", azure("woodgrove", contoso.Name, v1alpha1.Channel{Type: v1alpha1.ChannelDirect}, ""))
	h.waitPhase("azure", v1alpha1.PhaseCompleted)

	if n := foreign.Load(); n != 0 {
		t.Errorf("the foreign host received %d requests", n)
	}
	// Events of every namespace: a Partner's (cluster-scoped) land in default.
	events := &eventsv1.EventList{}
	if err := k8sClient.List(h.ctx, events); err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	text.WriteString(logs.String())
	for _, e := range events.Items {
		text.WriteString(e.Note + "\n")
	}
	partners := &v1alpha1.PartnerList{}
	if err := k8sClient.List(h.ctx, partners); err != nil {
		t.Fatal(err)
	}
	for _, p := range partners.Items {
		for _, c := range p.Status.Conditions {
			text.WriteString(c.Message + "\n")
		}
	}
	if !strings.Contains(text.String(), "subscription authorized by policy") {
		t.Fatal("the logs were not captured: the check would prove nothing")
	}
	for _, secret := range []string{"s3cret", "user-refresh-token"} {
		if strings.Contains(text.String(), secret) {
			t.Errorf("a secret value (%s) appears in logs, events or conditions", secret)
		}
	}
}

// TestAdmissionWarnings: the DAP flag and a subscription that is only
// evaluated are accepted with a warning that says why.
func TestAdmissionWarnings(t *testing.T) {
	h := start(t)
	var mu sync.Mutex
	var warnings []string
	c := rest.CopyConfig(cfg)
	c.WarningHandlerWithContext = warningCollector(func(msg string) { mu.Lock(); warnings = append(warnings, msg); mu.Unlock() })
	dyn, err := dynamic.NewForConfig(c)
	if err != nil {
		t.Fatal(err)
	}
	gv := v1alpha1.GroupVersion
	for _, obj := range []struct {
		resource string
		object   map[string]any
		warning  string
	}{
		{"resellerrelationships", map[string]any{"kind": "ResellerRelationship", "metadata": map[string]any{"name": "dap"},
			"spec": map[string]any{"partnerRef": "contoso", "customerRef": "woodgrove", "delegatedAdmin": true}}, "DelegatedAdminRelationship (GDAP)"},
		{"customersubscriptions", map[string]any{"kind": "CustomerSubscription", "metadata": map[string]any{"name": "evaluated"},
			"spec": map[string]any{"customerRef": "woodgrove", "subscriptionID": "x", "offer": map[string]any{"id": "o"}, "serviceType": "UsageBased",
				"channel": map[string]any{"type": "Direct"}}}, "only evaluates"},
		{"partners", map[string]any{"kind": "Partner", "metadata": map[string]any{"name": h.ns + "-reseller"},
			"spec": map[string]any{"displayName": "Northwind", "tenantID": "3e5f7a9b-2c4d-4e6f-8a0b-1c2d3e4f5a6b", "partnerID": "5357564",
				"cspType": "IndirectReseller", "indirectProviderRef": "tailspin", "country": "US",
				"partnerCenter": map[string]any{"credentialsSecretRef": map[string]any{"name": "partner-center"}}}},
			"never used for Partner Center calls"},
		{"partners", map[string]any{"kind": "Partner", "metadata": map[string]any{"name": h.ns + "-reseller-wi"},
			"spec": map[string]any{"displayName": "Northwind", "tenantID": "3e5f7a9b-2c4d-4e6f-8a0b-1c2d3e4f5a6c", "partnerID": "5357565",
				"cspType": "IndirectReseller", "indirectProviderRef": "tailspin", "country": "US",
				"partnerCenter": map[string]any{"workloadIdentity": map[string]any{"clientID": "6b1f0a7e-0000-4000-8000-00000000a001"}}}},
			"never used for Partner Center calls"},
	} {
		mu.Lock()
		warnings = nil
		mu.Unlock()
		u := &unstructured.Unstructured{Object: obj.object}
		u.SetAPIVersion(gv.String())
		var resource dynamic.ResourceInterface = dyn.Resource(schema.GroupVersionResource{Group: gv.Group, Version: gv.Version, Resource: obj.resource})
		if obj.resource != "partners" { // cluster-scoped
			resource = dyn.Resource(schema.GroupVersionResource{Group: gv.Group, Version: gv.Version, Resource: obj.resource}).Namespace(h.ns)
		} else {
			t.Cleanup(func() { _ = resource.Delete(context.Background(), u.GetName(), metav1.DeleteOptions{}) })
		}
		if _, err := resource.Create(context.Background(), u, metav1.CreateOptions{}); err != nil {
			t.Fatalf("creating %s: %v", obj.resource, err)
		}
		mu.Lock()
		got := strings.Join(warnings, "\n")
		mu.Unlock()
		if !strings.Contains(got, obj.warning) {
			t.Errorf("%s: warnings %q, want one mentioning %q", obj.resource, got, obj.warning)
		}
	}
}

type warningCollector func(string)

func (w warningCollector) HandleWarningHeaderWithContext(_ context.Context, _ int, _ string, text string) {
	w(text)
}

// syncBuffer is a bytes.Buffer safe for the manager's concurrent logging.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// statusEditor binds user to a role that may write the status of
// subscriptions and relationships but holds no verb approve.
func (h *harness) statusEditor(user string) {
	h.t.Helper()
	role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: h.ns, Name: "status-editor"},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{v1alpha1.GroupVersion.Group},
			Resources: []string{"customersubscriptions", "customersubscriptions/status", "resellerrelationships", "resellerrelationships/status"},
			Verbs:     []string{"get", "update", "patch"}}}}
	if err := k8sClient.Create(h.ctx, role); err != nil && !apierrors.IsAlreadyExists(err) {
		h.t.Fatal(err)
	}
	h.create(&rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: h.ns, Name: "status-editor-" + strings.Split(user, "@")[0]},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "status-editor"},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}}})
	h.waitAllowed(user, role.Rules[0])
}

// TestManualDecisionWithoutTenantIsNotUsed: a decision recorded by hand
// that names no customer tenant (written past the admission check, as
// only the operator's identity can) is not taken: consent counts only for
// the tenant that gave it.
func TestManualDecisionWithoutTenantIsNotUsed(t *testing.T) {
	h := start(t)
	northwind := h.partner("northwind", "9d2c7f4e-1a3b-4c5d-8e6f-0a1b2c3d4e5f", v1alpha1.CSPTypeDirectBill, false)
	h.customer("woodgrove")
	h.create(&v1alpha1.ResellerRelationship{ObjectMeta: metav1.ObjectMeta{Namespace: h.ns, Name: "northwind"},
		Spec: v1alpha1.ResellerRelationshipSpec{PartnerRef: northwind.Name, CustomerRef: "woodgrove"}})
	rr := &v1alpha1.ResellerRelationship{}
	h.eventually("the reference-only request waits for a person", func() error {
		if err := k8sClient.Get(h.ctx, client.ObjectKey{Namespace: h.ns, Name: "northwind"}, rr); err != nil {
			return err
		}
		if c := condition(rr.Status.Conditions, v1alpha1.ConditionReconciling); c == nil || c.Reason != "AwaitingManualApproval" {
			return errf("reconciling = %+v", c)
		}
		return nil
	})
	now := metav1.Now()
	meta.SetStatusCondition(&rr.Status.Conditions, metav1.Condition{Type: v1alpha1.ConditionApproved, Status: metav1.ConditionTrue,
		Reason: "RecordedByHand", Message: "The customer answered by phone."})
	rr.Status.Approval = &v1alpha1.Approval{Decision: v1alpha1.DecisionApproved, By: "ana@contoso.example", At: &now, Source: v1alpha1.ApprovalManual}
	if err := k8sClient.Status().Update(h.ctx, rr); err != nil {
		t.Fatal(err)
	}
	h.eventually("the decision without a tenant is not used", func() error {
		if err := k8sClient.Get(h.ctx, client.ObjectKeyFromObject(rr), rr); err != nil {
			return err
		}
		if c := condition(rr.Status.Conditions, v1alpha1.ConditionStalled); c == nil || c.Reason != v1alpha1.ReasonDecisionWithoutRecord || !strings.Contains(c.Message, "tenantID") {
			return errf("stalled = %+v", c)
		}
		return nil
	})
	if rr.Status.Phase == v1alpha1.RelationshipApproved {
		t.Errorf("phase %s: a decision naming no tenant was taken", rr.Status.Phase)
	}
}
