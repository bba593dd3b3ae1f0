package crd

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	jsonpatch "github.com/evanphx/json-patch/v5"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/rand"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
)

// Valid objects of each kind; each invalid case below patches one of them.
var valid = map[string]string{
	"Partner": `
apiVersion: multichannel.partnerops.io/v1alpha1
kind: Partner
spec:
  displayName: Contoso
  tenantID: 6f1bd5c1-0d3b-4c5e-9bb1-7f4f9d2b6a10
  cspType: DirectBill
  country: US
  partnerCenter:
    endpoint: https://api.partnercenter.microsoft.com
`,
	"Customer": `
apiVersion: multichannel.partnerops.io/v1alpha1
kind: Customer
spec:
  displayName: Woodgrove
  tenantID: 2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e
  country: US
`,
	"License": `
apiVersion: multichannel.partnerops.io/v1alpha1
kind: CustomerSubscription
spec:
  customerRef: woodgrove
  subscriptionID: sub-1
  offer: {id: CFQ7TTC0LFLX}
  serviceType: LicenseBased
  quantity: 10
  channel: {type: CSP, partnerRef: fabrikam}
  term: {startDate: "2026-01-01T00:00:00Z", endDate: "2027-01-01T00:00:00Z"}
`,
	"Azure": `
apiVersion: multichannel.partnerops.io/v1alpha1
kind: CustomerSubscription
spec:
  customerRef: woodgrove
  subscriptionID: sub-2
  offer: {id: MS-AZR-0003P}
  serviceType: UsageBased
  channel: {type: Direct}
  azure: {sourceDisposition: Coexist}
`,
	"ResellerRelationship": `
apiVersion: multichannel.partnerops.io/v1alpha1
kind: ResellerRelationship
spec:
  partnerRef: contoso
  customerRef: woodgrove
`,
	"ApprovalPolicy": `
apiVersion: multichannel.partnerops.io/v1alpha1
kind: ApprovalPolicy
spec:
  partnerRefs: [contoso]
`,
	"GDAP": `
apiVersion: multichannel.partnerops.io/v1alpha1
kind: DelegatedAdminRelationship
spec:
  partnerRef: contoso
  customerRef: woodgrove
  displayName: Contoso support
  duration: P730D
  autoExtendDuration: P180D
  roles: [HelpdeskAdministrator, GlobalReader, 4d6ac14f-3453-41d0-bef9-a3e0c569773a]
  accessAssignments:
  - securityGroupID: 8a1f3c9e-2b4d-4e6f-8a0b-1c2d3e4f5a6b
    roles: [HelpdeskAdministrator, 4d6ac14f-3453-41d0-bef9-a3e0c569773a]
`,
}

// TestInvalidManifestsRejected creates one invalid object per validation rule and
// checks that the API server rejects it naming the field and the reason.
func TestInvalidManifestsRejected(t *testing.T) {
	ns := newNamespace(t)
	cases := []struct {
		name  string
		base  string
		patch string // a JSON merge patch, in YAML, applied to the base
		field string // the field the error must name
		msg   string // what the error must say
	}{
		{"tenant ID is not a GUID", "Partner", `spec: {tenantID: contoso}`, "spec.tenantID", "should match"},
		{"partner country is not ISO 3166-1 alpha-2", "Partner", `spec: {country: us}`, "spec.country", "should match"},
		{"unknown CSP type", "Partner", `spec: {cspType: Gold}`, "spec.cspType", "Unsupported value"},
		{"indirect reseller without provider", "Partner", `spec: {cspType: IndirectReseller}`, "spec.indirectProviderRef", "indirectProviderRef is required when cspType is IndirectReseller"},
		{"endpoint is not a URL", "Partner", `spec: {partnerCenter: {endpoint: "ftp://pc"}}`, "spec.partnerCenter.endpoint", "should match"},
		{"delivery with both channels", "Partner", `spec: {delivery: {mail: {from: a@contoso.example}, webhook: {secretRef: {name: hook}}}}`, "spec.delivery", "name exactly one channel"},
		{"delivery with no channel", "Partner", `spec: {delivery: {reminders: {maxReminders: 2}}}`, "spec.delivery", "name exactly one channel"},
		{"mailbox that is no address", "Partner", `spec: {delivery: {mail: {from: "Contoso <a@contoso.example>"}}}`, "spec.delivery.mail.from", "should match"},
		{"too many reminders", "Partner", `spec: {delivery: {mail: {from: a@contoso.example}, reminders: {maxReminders: 21}}}`, "spec.delivery.reminders.maxReminders", "less than or equal to 20"},
		{"contact email with a display name", "Customer", `spec: {contacts: [{name: Ada, email: "Ada <ada@w.example>", roles: [GlobalAdmin]}]}`, "spec.contacts[0].email", "should match"},
		{"contact email Graph would refuse", "Customer", `spec: {contacts: [{name: Ada, email: "a..b@w.example", roles: [GlobalAdmin]}]}`, "spec.contacts[0].email", "should match"},
		{"contact without a role", "Customer", `spec: {contacts: [{name: Ada, email: ada@w.example, roles: []}]}`, "spec.contacts[0].roles", "should have at least 1 items"},
		{"contact with an unknown role", "Customer", `spec: {contacts: [{name: Ada, email: ada@w.example, roles: [Owner]}]}`, "spec.contacts[0].roles[0]", "Unsupported value"},
		{"the same contact twice", "Customer", `spec: {contacts: [{name: Ada, email: ada@w.example, roles: [GlobalAdmin]}, {name: A, email: ada@w.example, roles: [Billing]}]}`, "spec.contacts[1]", "Duplicate value"},
		{"too many contacts", "Customer", `spec: {contacts: [` + strings.Repeat(`{name: A, email: a@w.example, roles: [Billing]},`, 8) + `{name: A, email: z@w.example, roles: [Billing]}]}`, "spec.contacts", "Too many"},
		{"customer country too long", "Customer", `spec: {country: USA}`, "spec.country", "Too long"},
		{"unknown cloud", "Customer", `spec: {cloud: China}`, "spec.cloud", "Unsupported value"},
		{"customer without tenant ID", "Customer", `spec: {tenantID: null}`, "spec.tenantID", "Required value"},
		{"display name too long", "Customer", `spec: {displayName: "` + strings.Repeat("x", 257) + `"}`, "spec.displayName", "Too long"},
		{"CSP channel without partnerRef", "License", `spec: {channel: {partnerRef: null}}`, "spec.channel.partnerRef", "required when type is CSP"},
		{"partnerRef on a non-CSP channel", "Azure", `spec: {channel: {partnerRef: fabrikam}}`, "spec.channel.partnerRef", "not allowed for any other channel"},
		{"unknown channel type", "Azure", `spec: {channel: {type: Reseller}}`, "spec.channel.type", "Unsupported value"},
		{"license without term", "License", `spec: {term: null}`, "spec.term", "term.endDate is required for LicenseBased"},
		{"license without term end", "License", `spec: {term: {endDate: null}}`, "spec.term", "term.endDate is required for LicenseBased"},
		{"term ends before it starts", "License", `spec: {term: {endDate: "2025-12-31T00:00:00Z"}}`, "spec.term.endDate", "endDate must be after startDate"},
		{"quantity zero", "License", `spec: {quantity: 0}`, "spec.quantity", "should be greater than or equal to 1"},
		{"quantity on usage-based", "Azure", `spec: {quantity: 3}`, "spec.quantity", "not allowed for UsageBased"},
		{"license without quantity", "License", `spec: {quantity: null}`, "spec.quantity", "required for LicenseBased"},
		{"transferID on a non-CSP channel", "Azure", `spec: {transferID: 0f6c2d1e-3a4b-4c5d-8e9f-0a1b2c3d4e5f}`, "spec.transferID", "channel.type must be CSP"},
		{"transferID not a GUID", "License", `spec: {transferID: transfer-1}`, "spec.transferID", "should match"},
		{"azure on license-based", "License", `spec: {azure: {sourceDisposition: Coexist}}`, "spec.azure", "azure applies only to UsageBased"},
		{"CancelServices without services", "Azure", `spec: {azure: {sourceDisposition: CancelServices}}`, "spec.azure.services", "required when sourceDisposition is CancelServices"},
		{"services with Coexist", "Azure", `spec: {azure: {services: [vm-1]}}`, "spec.azure.services", "not allowed otherwise"},
		{"unknown state", "Azure", `spec: {state: Deleted}`, "spec.state", "Unsupported value"},
		{"unknown commerce", "License", `spec: {commerce: Modern}`, "spec.commerce", "Unsupported value"},
		{"unknown term duration", "License", `spec: {purchase: {termDuration: P2Y}}`, "spec.purchase.termDuration", "Unsupported value"},
		{"unknown billing cycle", "License", `spec: {purchase: {billingCycle: Weekly}}`, "spec.purchase.billingCycle", "Unsupported value"},
		{"triennial billing of a one-year term", "License", `spec: {purchase: {termDuration: P1Y, billingCycle: Triennial}}`, "spec.purchase.billingCycle", "Triennial needs termDuration P3Y"},
		{"annual billing of a one-month term", "License", `spec: {purchase: {termDuration: P1M, billingCycle: Annual}}`, "spec.purchase.billingCycle", "P1M term is billed Monthly"},
		{"triennial billing of the default term", "License", `spec: {purchase: {billingCycle: Triennial}}`, "spec.purchase.billingCycle", "Triennial needs termDuration P3Y"},
		{"policy naming no partner", "ApprovalPolicy", `spec: {partnerRefs: null}`, "spec", "set partnerSelector, partnerRefs, or both"},
		{"policy with too many partners", "ApprovalPolicy", `spec: {partnerRefs: [` + strings.Repeat("p,", 64) + `p65]}`, "spec.partnerRefs", "Too many"},
		{"policy for a path that buys nothing", "ApprovalPolicy", `spec: {paths: [ResellerRelationship]}`, "spec.paths[0]", "Unsupported value"},
		{"policy with a zero maximum", "ApprovalPolicy", `spec: {maxQuantity: 0}`, "spec.maxQuantity", "should be greater than or equal to 1"},
		{"relationship without partner", "ResellerRelationship", `spec: {partnerRef: null}`, "spec.partnerRef", "Required value"},
		{"GDAP duration below P1D", "GDAP", `spec: {duration: P0D}`, "spec.duration", "from P1D to P2Y"},
		{"GDAP duration above P2Y", "GDAP", `spec: {duration: P731D}`, "spec.duration", "from P1D to P2Y"},
		{"GDAP duration of three years", "GDAP", `spec: {duration: P3Y}`, "spec.duration", "from P1D to P2Y"},
		{"GDAP duration in hours", "GDAP", `spec: {duration: PT24H}`, "spec.duration", "from P1D to P2Y"},
		{"GDAP auto-extension other than PT0S or P180D", "GDAP", `spec: {autoExtendDuration: P90D}`, "spec.autoExtendDuration", "Unsupported value"},
		{"GDAP auto-extension with Global Administrator by name", "GDAP", `spec: {roles: [GlobalAdministrator, HelpdeskAdministrator, 4d6ac14f-3453-41d0-bef9-a3e0c569773a]}`, "spec.autoExtendDuration", "includes Global Administrator cannot auto-extend"},
		{"GDAP auto-extension with Global Administrator by ID", "GDAP", `spec: {roles: [62E90394-69F5-4237-9190-012177145E10, HelpdeskAdministrator, 4d6ac14f-3453-41d0-bef9-a3e0c569773a]}`, "spec.autoExtendDuration", "includes Global Administrator cannot auto-extend"},
		{"GDAP role neither an ID nor a known name", "GDAP", `spec: {roles: [Helpdesk, HelpdeskAdministrator, 4d6ac14f-3453-41d0-bef9-a3e0c569773a]}`, "spec.roles", "well-known role name"},
		{"GDAP without roles", "GDAP", `spec: {roles: [], accessAssignments: null}`, "spec.roles", "should have at least 1 items"},
		{"GDAP assignment role outside the relationship", "GDAP", `spec: {accessAssignments: [{securityGroupID: 8a1f3c9e-2b4d-4e6f-8a0b-1c2d3e4f5a6b, roles: [UserAdministrator]}]}`, "spec.accessAssignments", "must be one of spec.roles"},
		{"GDAP assignment group not a GUID", "GDAP", `spec: {accessAssignments: [{securityGroupID: helpdesk, roles: [GlobalReader]}]}`, "spec.accessAssignments[0].securityGroupID", "should match"},
		{"GDAP display name over 50 characters", "GDAP", `spec: {displayName: "` + strings.Repeat("x", 51) + `"}`, "spec.displayName", "Too long"},
		{"GDAP without display name", "GDAP", `spec: {displayName: null}`, "spec.displayName", "Required value"},
		{"quantity as a string", "License", `spec: {quantity: "25"}`, "spec.quantity", "must be of type integer"},
		{"auto-renew as a string", "License", `spec: {term: {autoRenew: "yes"}}`, "spec.term.autoRenew", "must be of type boolean"},
		{"offer as a string", "Azure", `spec: {offer: MS-AZR-0003P}`, "spec.offer", "must be of type object"},
		{"policy offers as a string", "ApprovalPolicy", `spec: {offers: CFQ7TTC0LFLX}`, "spec.offers", "must be of type array"},
		{"customer marked CSP partner with a string", "Customer", `spec: {cspPartner: "true"}`, "spec.cspPartner", "must be of type boolean"},
		{"subscription ID too long", "Azure", `spec: {subscriptionID: "` + strings.Repeat("x", 129) + `"}`, "spec.subscriptionID", "Too long"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			obj := patched(t, valid[tc.base], tc.patch)
			obj.SetName("invalid-" + rand.String(6))
			if obj.GetKind() != "Partner" {
				obj.SetNamespace(ns)
			}
			offline := offlineValidator.Validate(context.Background(), obj.DeepCopy())
			err := k8sClient.Create(context.Background(), obj)
			if err == nil {
				t.Fatalf("the API server accepted it")
			}
			if !apierrors.IsInvalid(err) {
				t.Fatalf("want an Invalid error, got %v", err)
			}
			assertCause(t, err, tc.field, tc.msg)
			// Nothing of a rejected object is stored.
			if err := k8sClient.Get(context.Background(), client.ObjectKeyFromObject(obj), obj.DeepCopy()); !apierrors.IsNotFound(err) {
				t.Errorf("after the rejection, reading it answered %v, want NotFound", err)
			}

			// kubectl multichannel check validates offline with the same CRDs: it must agree.
			agrees := false
			for _, fe := range offline {
				agrees = agrees || (fe.Field == tc.field && strings.Contains(fe.ErrorBody(), tc.msg))
			}
			if !agrees {
				t.Errorf("the offline validator does not report %s %q; it reported %v", tc.field, tc.msg, offline)
			}
		})
	}
}

// TestValidBasesAccepted proves the cases above fail for their patch alone.
func TestValidBasesAccepted(t *testing.T) {
	ns := newNamespace(t)
	for name, base := range valid {
		obj := patched(t, base, "{}")
		obj.SetName("valid-" + strings.ToLower(name))
		if obj.GetKind() != "Partner" {
			obj.SetNamespace(ns)
		}
		if errs := offlineValidator.Validate(context.Background(), obj.DeepCopy()); len(errs) > 0 {
			t.Errorf("%s: the offline validator rejects it: %v", name, errs)
		}
		if err := k8sClient.Create(context.Background(), obj); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestResellerRelationshipImmutable: a changed request is a new object.
func TestResellerRelationshipImmutable(t *testing.T) {
	ns := newNamespace(t)
	ctx := context.Background()
	obj := patched(t, valid["ResellerRelationship"], "{}")
	obj.SetNamespace(ns)
	obj.SetName("immutable")
	if err := k8sClient.Create(ctx, obj); err != nil {
		t.Fatal(err)
	}
	if err := unstructured.SetNestedField(obj.Object, true, "spec", "delegatedAdmin"); err != nil {
		t.Fatal(err)
	}
	err := k8sClient.Update(ctx, obj)
	if err == nil {
		t.Fatal("the API server accepted a change to the spec")
	}
	assertCause(t, err, "spec", "spec is immutable")

	// Metadata stays editable.
	obj = patched(t, valid["ResellerRelationship"], "{}")
	if err := k8sClient.Get(ctx, keyOf(ns, "immutable"), obj); err != nil {
		t.Fatal(err)
	}
	obj.SetLabels(map[string]string{"team": "platform"})
	if err := k8sClient.Update(ctx, obj); err != nil {
		t.Errorf("a label change was rejected: %v", err)
	}
}

// TestPurchaseDefaults: a purchase that names one of its fields gets the
// documented default for the other.
func TestPurchaseDefaults(t *testing.T) {
	ns := newNamespace(t)
	ctx := context.Background()
	obj := patched(t, valid["License"], `spec: {purchase: {billingCycle: Annual}}`)
	obj.SetNamespace(ns)
	obj.SetName("annual")
	if err := k8sClient.Create(ctx, obj); err != nil {
		t.Fatal(err)
	}
	got := &v1alpha1.CustomerSubscription{}
	if err := k8sClient.Get(ctx, keyOf(ns, "annual"), got); err != nil {
		t.Fatal(err)
	}
	if p := got.Spec.Purchase; p == nil || p.TermDuration != v1alpha1.TermOneYear || p.BillingCycle != v1alpha1.BillingAnnual {
		t.Errorf("purchase = %+v, want P1Y billed Annual", p)
	}
}

// TestSpecFrozenWhileSwitching: while an operation is in flight, what it was
// sent with cannot change; the rest of the spec can, and so can everything
// once the subscription left Switching.
func TestSpecFrozenWhileSwitching(t *testing.T) {
	ns := newNamespace(t)
	ctx := context.Background()
	obj := patched(t, valid["License"], `spec: {supportPartnerRef: contoso}`)
	obj.SetNamespace(ns)
	obj.SetName("switching")
	if err := k8sClient.Create(ctx, obj); err != nil {
		t.Fatal(err)
	}
	setPhase := func(phase string) {
		t.Helper()
		if err := k8sClient.Get(ctx, keyOf(ns, "switching"), obj); err != nil {
			t.Fatal(err)
		}
		if err := unstructured.SetNestedField(obj.Object, phase, "status", "phase"); err != nil {
			t.Fatal(err)
		}
		if err := k8sClient.Status().Update(ctx, obj); err != nil {
			t.Fatalf("setting phase %s: %v", phase, err)
		}
	}
	change := func(patch string) error {
		return k8sClient.Patch(ctx, obj, client.RawPatch(types.MergePatchType, []byte(patch)))
	}

	if err := change(`{"spec":{"quantity":11}}`); err != nil {
		t.Fatalf("before Switching the quantity could not change: %v", err)
	}
	setPhase("Switching")
	for _, patch := range []string{
		`{"spec":{"supportPartnerRef":"fabrikam"}}`,
		`{"spec":{"supportPartnerRef":null}}`,
		`{"spec":{"channel":{"partnerRef":"northwind"}}}`,
		`{"spec":{"serviceType":"UsageBased","quantity":null,"term":null}}`,
		`{"spec":{"offer":{"displayName":"Microsoft 365 E5"}}}`,
		`{"spec":{"quantity":12}}`,
		`{"spec":{"purchase":{"termDuration":"P3Y"}}}`,
	} {
		err := change(patch)
		if err == nil {
			t.Errorf("while Switching, %s was accepted", patch)
			continue
		}
		assertCause(t, err, "spec", "cannot change while the subscription is Switching")
	}
	if err := change(`{"spec":{"term":{"autoRenew":true}}}`); err != nil {
		t.Errorf("while Switching, the term's autoRenew could not change: %v", err)
	}
	if err := change(`{"metadata":{"labels":{"team":"platform"}}}`); err != nil {
		t.Errorf("while Switching, a label could not change: %v", err)
	}
	setPhase("Failed")
	if err := change(`{"spec":{"quantity":12}}`); err != nil {
		t.Errorf("after Switching the quantity could not change: %v", err)
	}
}

// TestManualDecisionConditions: a person's Approved or Denied condition is
// write-once, and the two are mutually exclusive.
func TestManualDecisionConditions(t *testing.T) {
	ns := newNamespace(t)
	ctx := context.Background()
	obj := patched(t, valid["ResellerRelationship"], "{}")
	obj.SetNamespace(ns)
	obj.SetName("decided")
	if err := k8sClient.Create(ctx, obj); err != nil {
		t.Fatal(err)
	}
	cond := func(typ, status string) map[string]any {
		return map[string]any{"type": typ, "status": status, "reason": "RecordedByHand",
			"message": "customer confirmed by phone", "lastTransitionTime": "2026-11-24T10:00:00Z"}
	}
	setConditions := func(conds ...map[string]any) error {
		list := make([]any, len(conds))
		for i, c := range conds {
			list[i] = c
		}
		if err := unstructured.SetNestedSlice(obj.Object, list, "status", "conditions"); err != nil {
			t.Fatal(err)
		}
		return k8sClient.Status().Update(ctx, obj)
	}

	err := setConditions(cond("Approved", "True"), cond("Denied", "True"))
	if err == nil {
		t.Fatal("Approved and Denied both True were accepted")
	}
	assertCause(t, err, "status", "mutually exclusive")

	if err := setConditions(cond("Approved", "True")); err != nil {
		t.Fatalf("recording an approval: %v", err)
	}
	err = setConditions(cond("Approved", "False"))
	if err == nil {
		t.Fatal("an approval was changed")
	}
	assertCause(t, err, "status", "write-once")

	if err := k8sClient.Get(ctx, keyOf(ns, "decided"), obj); err != nil {
		t.Fatal(err)
	}
	err = setConditions()
	if err == nil {
		t.Fatal("an approval was removed")
	}
	assertCause(t, err, "status", "write-once")
}

func patched(t *testing.T, base, patch string) *unstructured.Unstructured {
	t.Helper()
	baseJSON, err := yaml.YAMLToJSON([]byte(base))
	if err != nil {
		t.Fatal(err)
	}
	patchJSON, err := yaml.YAMLToJSON([]byte(patch))
	if err != nil {
		t.Fatal(err)
	}
	out, err := jsonpatch.MergePatch(baseJSON, patchJSON)
	if err != nil {
		t.Fatal(err)
	}
	obj := &unstructured.Unstructured{}
	if err := obj.UnmarshalJSON(out); err != nil {
		t.Fatal(err)
	}
	return obj
}

// assertCause checks that an API error has a cause naming field whose message contains msg.
func assertCause(t *testing.T, err error, field, msg string) {
	t.Helper()
	var status *apierrors.StatusError
	if !errors.As(err, &status) || status.ErrStatus.Details == nil {
		t.Fatalf("want an API status error with details, got %v", err)
	}
	for _, c := range status.ErrStatus.Details.Causes {
		if c.Field == field && strings.Contains(c.Message, msg) {
			return
		}
	}
	t.Errorf("no cause names field %q with %q; the error was: %v", field, msg, err)
}

// TestGDAPImmutableFields: what Graph fixes once the customer sees a
// relationship cannot change; autoExtendDuration, the access assignments and
// terminateOnDelete can.
func TestGDAPImmutableFields(t *testing.T) {
	ns := newNamespace(t)
	ctx := context.Background()
	obj := patched(t, valid["GDAP"], "{}")
	obj.SetNamespace(ns)
	obj.SetName("immutable")
	if err := k8sClient.Create(ctx, obj); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, patch, field, msg string
	}{
		{"display name", `{"spec":{"displayName":"Other"}}`, "spec.displayName", "displayName is immutable"},
		{"partner", `{"spec":{"partnerRef":"northwind"}}`, "spec.partnerRef", "partnerRef is immutable"},
		{"customer", `{"spec":{"customerRef":"fourthcoffee"}}`, "spec.customerRef", "customerRef is immutable"},
		{"duration", `{"spec":{"duration":"P90D"}}`, "spec.roles", "duration and roles are immutable"},
		{"roles", `{"spec":{"roles":["HelpdeskAdministrator","GlobalReader","4d6ac14f-3453-41d0-bef9-a3e0c569773a","SecurityReader"]}}`, "spec.roles", "duration and roles are immutable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := k8sClient.Patch(ctx, obj.DeepCopy(), client.RawPatch(types.MergePatchType, []byte(tc.patch)))
			if err == nil {
				t.Fatal("the API server accepted the change")
			}
			assertCause(t, err, tc.field, tc.msg)
		})
	}
	if err := k8sClient.Patch(ctx, obj.DeepCopy(), client.RawPatch(types.MergePatchType,
		[]byte(`{"spec":{"autoExtendDuration":"PT0S","terminateOnDelete":true,"accessAssignments":null}}`))); err != nil {
		t.Errorf("changing autoExtendDuration, terminateOnDelete and the assignments was rejected: %v", err)
	}
}

// TestGDAPRoleNamesMatchTable: the role names the CRD's CEL rule accepts are
// exactly those of v1alpha1.EntraRoles, and kubectl explain lists them.
func TestGDAPRoleNamesMatchTable(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "config", "crd", "bases", "multichannel.partnerops.io_delegatedadminrelationships.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	crd := string(data)
	for name, id := range v1alpha1.EntraRoles {
		if !strings.Contains(crd, "'"+name+"'") {
			t.Errorf("the CEL rule on spec.roles does not accept %s (%s)", name, id)
		}
		if !strings.Contains(crd, name+",") && !strings.Contains(crd, name+".") {
			t.Errorf("the description of spec.roles does not list %s", name)
		}
	}
	start := strings.Index(crd, "r in [")
	if start < 0 {
		t.Fatal("no role name list in the CRD")
	}
	list := crd[start+len("r in [") : start+strings.Index(crd[start:], "]")]
	if n := strings.Count(list, "'") / 2; n != len(v1alpha1.EntraRoles) {
		t.Errorf("the CEL rule names %d roles, the table %d", n, len(v1alpha1.EntraRoles))
	}
}
