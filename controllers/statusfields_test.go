package controllers_test

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/rand"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
)

// statusProperties lists the fields of a kind's status schema, as the CRD
// the project ships declares them.
func statusProperties(t *testing.T, plural string) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "config", "crd", "bases", "multichannel.partnerops.io_"+plural+".yaml"))
	if err != nil {
		t.Fatal(err)
	}
	crd := &apiextensionsv1.CustomResourceDefinition{}
	if err := yaml.Unmarshal(data, crd); err != nil {
		t.Fatal(err)
	}
	var names []string
	for name := range crd.Spec.Versions[0].Schema.OpenAPIV3Schema.Properties["status"].Properties {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// TestEveryStatusFieldButTheDecisionIsTheOperators walks every field of
// the status schemas a person may write (a decision is written there): a
// person with verb approve and update on the status can remove none of
// them but the decision. The fixtures fill every field, so a field added to
// the schema without the admission check listing it fails here.
func TestEveryStatusFieldButTheDecisionIsTheOperators(t *testing.T) {
	ctx := context.Background()
	ns := "t-" + rand.String(6)
	if err := k8sClient.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = k8sClient.Delete(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
	})
	h := &harness{t: t, ctx: ctx, ns: ns} // no manager: nothing but the person writes
	const person = "ana@contoso.example"
	h.grant(person, "global-admin")

	now := metav1.Now()
	terms := &v1alpha1.Terms{Path: v1alpha1.PathNewLicenseSubscription, Customer: "woodgrove", CustomerTenantID: woodgroveTenant,
		Partner: "contoso", PartnerTenantID: contosoTenant, OfferID: "CFQ7TTC0LCHC:0002", Quantity: 10, TermDuration: "P1Y", BillingCycle: "monthly"}
	op := v1alpha1.Operation{ID: "8c1d", Type: v1alpha1.OperationCreateLicenseSubscription, Attempt: 1, StartedAt: &now, Cart: "c1",
		ExternalID: "order-1", Terms: terms, AuthorizedBy: "ApprovalPolicy trust (Policy)"}
	sub := &v1alpha1.CustomerSubscription{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "visio"},
		Spec: newLicense("woodgrove", "fabrikam", "contoso", 10)}
	rr := &v1alpha1.ResellerRelationship{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "woodgrove-contoso"},
		Spec: v1alpha1.ResellerRelationshipSpec{PartnerRef: "contoso", CustomerRef: "woodgrove"}}
	ready := metav1.Condition{Type: v1alpha1.ConditionReady, Status: metav1.ConditionFalse, Reason: "Switching", Message: "m", LastTransitionTime: now}
	for _, c := range []struct {
		plural   string
		obj      client.Object
		fill     func()
		decision string
		refusal  string
	}{
		{"customersubscriptions", sub, func() {
			sub.Status = v1alpha1.CustomerSubscriptionStatus{ObservedGeneration: 1, Phase: v1alpha1.PhaseSwitching,
				Eligibility:     &v1alpha1.Eligibility{Eligible: true, Path: v1alpha1.PathNewLicenseSubscription, Reason: v1alpha1.ReasonSourceTermEnded},
				RelationshipRef: "woodgrove-contoso", Terms: terms,
				Authorization: &v1alpha1.Authorization{Decision: v1alpha1.DecisionAuthorized, By: "ApprovalPolicy trust", Source: v1alpha1.AuthorizationFromPolicy, Generation: 1, Terms: terms},
				Operation:     op.DeepCopy(), PreviousOperations: []v1alpha1.Operation{op}, RetryRequest: "again", TargetSubscriptionID: "sub-1",
				CancellableUntil: &now, LastOutsideChange: &v1alpha1.OutsideChange{Change: "SubscriptionSuspended", At: now, By: "sam@contoso.example"},
				// A cancellation asked is final: removing it is refused as such.
				Cancellation: &v1alpha1.Cancellation{By: person, At: now, Reason: "bought in error", SubscriptionID: "sub-1", CompletedAt: &now, Refund: "Full"},
				Conditions:   []metav1.Condition{ready}}
		}, "authorization", "may change only status.authorization"},
		{"resellerrelationships", rr, func() {
			rr.Status = v1alpha1.ResellerRelationshipStatus{ObservedGeneration: 1, Phase: v1alpha1.RelationshipRequested,
				InvitationURL: "https://admin.microsoft.com/x", RequestedAt: &now, Conditions: []metav1.Condition{ready},
				AzurePlanSubscriptionID: "plan-1", AzurePlan: &v1alpha1.AzurePlanStatus{Source: v1alpha1.AzurePlanBought, OperationID: "op-1", RecordedAt: &now},
				Approval: &v1alpha1.Approval{Decision: v1alpha1.DecisionApproved, By: "customer tenant " + woodgroveTenant, Source: v1alpha1.ApprovalFromPartnerCenter, TenantID: woodgroveTenant}}
		}, "approval", "may record only the customer's decision"},
	} {
		t.Run(c.plural, func(t *testing.T) {
			if err := k8sClient.Create(ctx, c.obj); err != nil {
				t.Fatal(err)
			}
			c.fill()
			if err := k8sClient.Status().Update(ctx, c.obj); err != nil { // as the operator
				t.Fatal(err)
			}
			u := &unstructured.Unstructured{}
			m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(c.obj)
			if err != nil {
				t.Fatal(err)
			}
			u.Object = m
			status, _, _ := unstructured.NestedMap(u.Object, "status")
			var filled []string
			for k := range status {
				filled = append(filled, k)
			}
			sort.Strings(filled)
			if want := statusProperties(t, c.plural); strings.Join(filled, ",") != strings.Join(want, ",") {
				t.Fatalf("the fixture fills %v; the schema has %v: fill the new field and make the admission check guard it", filled, want)
			}
			for _, field := range filled {
				if field == c.decision {
					continue
				}
				fresh := &unstructured.Unstructured{}
				fresh.SetGroupVersionKind(v1alpha1.GroupVersion.WithKind(map[string]string{
					"customersubscriptions": "CustomerSubscription", "resellerrelationships": "ResellerRelationship"}[c.plural]))
				if err := h.as(person).Get(ctx, client.ObjectKeyFromObject(c.obj), fresh); err != nil {
					t.Fatal(err)
				}
				unstructured.RemoveNestedField(fresh.Object, "status", field)
				err := h.as(person).Status().Update(ctx, fresh)
				refusal := c.refusal
				if field == "cancellation" {
					refusal = "status.cancellation of CustomerSubscription visio is final"
				}
				if err == nil || !strings.Contains(err.Error(), refusal) {
					t.Errorf("a person removing status.%s: %v; want the admission check's refusal", field, err)
				}
			}
		})
	}
}
