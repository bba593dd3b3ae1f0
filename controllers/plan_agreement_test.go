package controllers_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	"github.com/partnerops/multichannel-operator/internal/check"
	"github.com/partnerops/multichannel-operator/internal/crdschema"
	"github.com/partnerops/multichannel-operator/internal/plan"
)

// TestPlanAgreesWithTheOperator: the manifests a plan is made of are applied
// to the cluster; path by path, the operator takes the plan's path, asks a
// person exactly where the plan says a person decides, authorizes by the
// policy the plan names, and leaves Ineligible or only evaluated what the
// plan says is blocked or needs nothing.
func TestPlanAgreesWithTheOperator(t *testing.T) {
	h := start(t)
	contoso, fabrikam := h.contoso(), h.fabrikam()
	h.customer("woodgrove")
	h.customerAccepts(contoso.Spec.TenantID)
	// Totals count licenses per customer and offer: 10 of one offer and 15
	// of another stay within 20 each.
	h.policy(contoso.Name, func(p *v1alpha1.ApprovalPolicySpec) {
		p.AllowSourceCancellation, p.MaxQuantity, p.MaxQuantityPerCustomer = false, ptr(int32(50)), ptr(int32(20))
	})
	other := newLicense("woodgrove", fabrikam.Name, contoso.Name, 15)
	other.Offer.ID = "CFQ7TTC0LFLX:0001"
	unsupported := azure("woodgrove", contoso.Name, v1alpha1.Channel{Type: v1alpha1.ChannelDirect}, v1alpha1.SourceCoexist)
	unsupported.SupportPartnerRef = ""
	specs := map[string]v1alpha1.CustomerSubscriptionSpec{
		"azure-direct": azure("woodgrove", contoso.Name, v1alpha1.Channel{Type: v1alpha1.ChannelDirect}, v1alpha1.SourceCoexist),
		"azure-ea": azure("woodgrove", contoso.Name, v1alpha1.Channel{Type: v1alpha1.ChannelEnterpriseAgreement, AgreementNumber: "1"},
			v1alpha1.SourceCancelSubscription),
		"license":       newLicense("woodgrove", fabrikam.Name, contoso.Name, 10),
		"license-other": other,
		"license-big":   newLicense("woodgrove", fabrikam.Name, contoso.Name, 100),
		"expired":       withState(azure("woodgrove", contoso.Name, v1alpha1.Channel{Type: v1alpha1.ChannelDirect}, v1alpha1.SourceCoexist), v1alpha1.SubscriptionExpired),
		"unsupported":   unsupported,
		"ea-license":    licenseFromEA("woodgrove", contoso.Name),
	}
	for name, spec := range specs {
		spec.SubscriptionID = "src-" + name // a source subscription belongs to one CustomerSubscription
		h.subscription(name, spec)
	}

	// The plan of what was applied, read back as manifests.
	p := planOf(t, h)
	if len(p.Items) != len(specs) {
		t.Fatalf("planned %d subscriptions, applied %d", len(p.Items), len(specs))
	}
	for _, it := range p.Items {
		h.eventually("CustomerSubscription "+it.Name+" reaches the gate the plan says", func() error {
			sub := h.read(it.Name)
			if sub.Status.Eligibility == nil || string(sub.Status.Eligibility.Path) != it.Path {
				return errf("path %+v, the plan says %s", sub.Status.Eligibility, it.Path)
			}
			authorized := condition(sub.Status.Conditions, v1alpha1.ConditionAuthorized)
			switch it.Attention {
			case plan.Blocked:
				if sub.Status.Phase != v1alpha1.PhaseIneligible {
					return errf("phase %s, the plan says blocked", sub.Status.Phase)
				}
			case plan.Nothing:
				if sub.Status.Phase != v1alpha1.PhaseEvaluated {
					return errf("phase %s, the plan says nothing to do", sub.Status.Phase)
				}
			case plan.NeedsPerson:
				if authorized == nil || authorized.Reason != v1alpha1.ReasonAwaitingAuthorization {
					return errf("Authorized %+v, the plan says a person decides (%s)", authorized, it.Authorization)
				}
			case plan.Automatic:
				want := v1alpha1.ReasonAuthorizedByPolicy
				if it.Authorization == "not needed: the path buys and transfers nothing" {
					want = v1alpha1.ReasonAuthorizationNotRequired
				}
				if authorized == nil || authorized.Reason != want {
					return errf("Authorized %+v, the plan says %s", authorized, it.Authorization)
				}
				if want == v1alpha1.ReasonAuthorizedByPolicy && (sub.Status.Authorization == nil || sub.Status.Authorization.By != it.Authorization) {
					return errf("authorized by %+v, the plan says %s", sub.Status.Authorization, it.Authorization)
				}
			}
			return nil
		})
	}
	// The plan is not vacuous: every kind of attention is in it.
	seen := map[plan.Attention]bool{}
	for _, it := range p.Items {
		seen[it.Attention] = true
	}
	if len(seen) != 4 {
		t.Errorf("the plan shows %v; the test needs every kind", seen)
	}
}

// planOf plans the objects of h's namespace (and the Partners they name)
// as manifests, read back from the cluster.
func planOf(t *testing.T, h *harness) *plan.Plan {
	t.Helper()
	var buf bytes.Buffer
	add := func(obj client.Object, kind string) {
		obj.GetObjectKind().SetGroupVersionKind(schema.GroupVersionKind{Group: v1alpha1.GroupVersion.Group, Version: v1alpha1.GroupVersion.Version, Kind: kind})
		obj.SetResourceVersion("")
		obj.SetUID("")
		obj.SetManagedFields(nil)
		data, err := json.Marshal(obj)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		_ = json.Unmarshal(data, &m)
		delete(m, "status")
		data, _ = json.Marshal(m)
		buf.Write(data)
		buf.WriteString("\n---\n")
	}
	partners := &v1alpha1.PartnerList{}
	customers := &v1alpha1.CustomerList{}
	policies := &v1alpha1.ApprovalPolicyList{}
	subs := &v1alpha1.CustomerSubscriptionList{}
	for _, l := range []client.ObjectList{partners} {
		if err := k8sClient.List(h.ctx, l); err != nil {
			t.Fatal(err)
		}
	}
	for _, l := range []client.ObjectList{customers, policies, subs} {
		if err := k8sClient.List(h.ctx, l, client.InNamespace(h.ns)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range partners.Items {
		if len(partners.Items[i].Name) > len(h.ns) && partners.Items[i].Name[:len(h.ns)] == h.ns {
			add(&partners.Items[i], "Partner")
		}
	}
	for i := range customers.Items {
		add(&customers.Items[i], "Customer")
	}
	for i := range policies.Items {
		add(&policies.Items[i], "ApprovalPolicy")
	}
	for i := range subs.Items {
		add(&subs.Items[i], "CustomerSubscription")
	}
	validator, err := crdschema.New()
	if err != nil {
		t.Fatal(err)
	}
	docs, err := check.Load([]string{"-"}, &buf)
	if err != nil {
		t.Fatal(err)
	}
	now := h.clock.Now()
	rows, errs := check.Evaluate(h.ctx, docs, check.Options{Now: now, Namespace: h.ns, Validator: validator})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	return plan.Build(rows, now)
}
