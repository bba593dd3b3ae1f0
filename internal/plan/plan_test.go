package plan_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	"github.com/partnerops/multichannel-operator/internal/check"
	"github.com/partnerops/multichannel-operator/internal/crdschema"
	"github.com/partnerops/multichannel-operator/internal/plan"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// now is the time the golden plans are made at.
var now = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

func build(t testing.TB, paths []string, stdin io.Reader) *plan.Plan {
	t.Helper()
	validator, err := crdschema.New()
	if err != nil {
		t.Fatal(err)
	}
	docs, err := check.Load(paths, stdin)
	if err != nil {
		t.Fatal(err)
	}
	rows, errs := check.Evaluate(context.Background(), docs, check.Options{Now: now, Namespace: "default", Validator: validator})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	return plan.Build(rows, now)
}

// golden compares the three outputs of p with testdata/<name>.{txt,json,md}.
func golden(t *testing.T, name string, p *plan.Plan) {
	t.Helper()
	for ext, write := range map[string]func(io.Writer, *plan.Plan) error{"txt": plan.WriteText, "json": plan.WriteJSON, "md": plan.WriteMarkdown} {
		var got bytes.Buffer
		if err := write(&got, p); err != nil {
			t.Fatal(err)
		}
		file := filepath.Join("testdata", name+"."+ext)
		if *update {
			if err := os.WriteFile(file, got.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(file)
		if err != nil {
			t.Fatalf("%v (run go test ./internal/plan -update to write it)", err)
		}
		if !bytes.Equal(got.Bytes(), want) {
			t.Errorf("%s differs from the plan made now; if the change is meant, run go test ./internal/plan -update and review the diff.\nfirst difference near: %q",
				file, firstDifference(got.String(), string(want)))
		}
	}
}

func firstDifference(a, b string) string {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return a[max(0, i-60):min(len(a), i+60)]
		}
	}
	return "(one is a prefix of the other)"
}

// TestPlanOfTheSamples: the plan of config/samples, in the three outputs.
func TestPlanOfTheSamples(t *testing.T) {
	p := build(t, []string{filepath.Join("..", "..", "config", "samples")}, nil)
	golden(t, "samples", p)
	// What the samples say of themselves (their comments), checked apart
	// from the golden files so that a wrong golden cannot pass unseen.
	want := map[string]plan.Attention{
		"woodgrove-azure-direct": plan.Automatic, "woodgrove-azure-ea": plan.NeedsPerson, "woodgrove-azure-litware": plan.Blocked,
		"margie-travel-m365": plan.Blocked, "woodgrove-m365-ea": plan.Automatic,
	}
	for _, it := range p.Items {
		if w, ok := want[it.Name]; ok && it.Attention != w {
			t.Errorf("%s: %s, want %s", it.Name, it.Attention, w)
		}
	}
}

// TestPlanOfAGeneratedEstate: a larger estate with every path, an indirect
// reseller, a policy's per-customer totals and deadlines.
func TestPlanOfAGeneratedEstate(t *testing.T) {
	p := build(t, []string{"-"}, strings.NewReader(estate(40)))
	golden(t, "estate", p)
	if p.Totals.Subscriptions != 40 || len(p.Customers) != 4 {
		t.Fatalf("totals %+v over %d customers", p.Totals, len(p.Customers))
	}
	for _, it := range p.Items {
		switch {
		case strings.HasSuffix(it.Name, "-license-reseller"):
			if !strings.Contains(it.Steps[0].By, "indirect provider tailspin") || !strings.Contains(it.Steps[0].Calls[0], "indirectResellerId=") {
				t.Errorf("%s: first step %+v, want the provider's credentials and indirectResellerId", it.Name, it.Steps[0])
			}
			// The policy allows 60 licenses of one offer per customer (as the
			// operator counts: by offer); the plan counts in name order, so
			// -license-big's 40 of the same offer come first, and these 45
			// exceed it: a person decides.
			if it.Attention != plan.NeedsPerson || !strings.Contains(it.Authorization, "60 licenses of CFQ7TTC0LCHC:0002 per customer in total; 40 are planned before") {
				t.Errorf("%s: %s (%s), want a person: the policy's per-customer total is spent", it.Name, it.Attention, it.Authorization)
			}
		case strings.HasSuffix(it.Name, "-license-big"):
			if it.Attention != plan.Automatic || it.Seats != 40 || !strings.Contains(it.Irreversible, "whole P1Y term of 40 seats") {
				t.Errorf("%s: %+v", it.Name, it)
			}
		}
	}
}

// estate is n subscriptions over n/10 customers, ten kinds each.
func estate(n int) string {
	var b strings.Builder
	partner := func(name, tenant, cspType, country, extra string) {
		fmt.Fprintf(&b, "apiVersion: multichannel.partnerops.io/v1alpha1\nkind: Partner\nmetadata: {name: %s}\nspec: {displayName: %s, tenantID: %s, cspType: %s, country: %s%s}\n---\n",
			name, name, tenant, cspType, country, extra)
	}
	acting := ", partnerCenter: {credentialsSecretRef: {name: pc}}, namespaceSelector: {}"
	partner("contoso", "6f1bd5c1-0d3b-4c5e-9bb1-7f4f9d2b6a10", "DirectBill", "US", acting)
	partner("fabrikam", "0b4e8e3a-7c1d-4f0e-a0d2-3f9a1c6e5b21", "DirectBill", "US", "")
	partner("tailspin", "9d2c7f4e-1a3b-4c5d-8e6f-0a1b2c3d4e5f", "IndirectProvider", "US", acting)
	partner("northwind", "3e5f7a9b-2c4d-4e6f-8a0b-1c2d3e4f5a6b", "IndirectReseller", "US", `, partnerID: "5357564", indirectProviderRef: tailspin`)
	partner("litware", "5d6e7f8a-9b0c-4d1e-8f2a-3b4c5d6e7f8a", "DirectBill", "DE", acting)
	b.WriteString("apiVersion: multichannel.partnerops.io/v1alpha1\nkind: ApprovalPolicy\nmetadata: {name: standard, namespace: estate}\n" +
		"spec: {partnerRefs: [contoso, northwind], maxQuantity: 50, maxQuantityPerCustomer: 60}\n---\n")
	for c := 0; c < (n+9)/10; c++ {
		cust := fmt.Sprintf("customer-%03d", c)
		fmt.Fprintf(&b, "apiVersion: multichannel.partnerops.io/v1alpha1\nkind: Customer\nmetadata: {name: %s, namespace: estate}\n"+
			"spec: {displayName: %s, tenantID: 00000000-0000-4000-8000-%012d, country: US}\n---\n", cust, cust, c)
		for k := 0; k < 10 && c*10+k < n; k++ {
			name, spec := kind(k, c)
			fmt.Fprintf(&b, "apiVersion: multichannel.partnerops.io/v1alpha1\nkind: CustomerSubscription\nmetadata: {name: %s-%s, namespace: estate}\n"+
				"spec: {customerRef: %s, subscriptionID: sub-%03d-%d, %s}\n---\n", cust, name, cust, c, k, spec)
		}
	}
	return b.String()
}

// kind is the k-th kind of subscription of customer c.
func kind(k, c int) (string, string) {
	license := func(offer string, qty int, channel, term string) string {
		return fmt.Sprintf("offer: {id: %s}, serviceType: LicenseBased, quantity: %d, channel: %s, term: %s", offer, qty, channel, term)
	}
	fromFabrikam := "{type: CSP, partnerRef: fabrikam}"
	switch k {
	case 0:
		return "azure-direct", "offer: {id: MS-AZR-0003P}, serviceType: UsageBased, channel: {type: Direct}, supportPartnerRef: contoso"
	case 1:
		return "azure-ea", `offer: {id: MS-AZR-0017P}, serviceType: UsageBased, channel: {type: EnterpriseAgreement, agreementNumber: "1"}, azure: {sourceDisposition: CancelSubscription}, supportPartnerRef: contoso`
	case 2:
		return "azure-csp", "offer: {id: DZH318Z0BPS6}, serviceType: UsageBased, channel: " + fromFabrikam + ", supportPartnerRef: contoso"
	case 3:
		return "license-reseller", license("CFQ7TTC0LCHC:0002", 45, fromFabrikam, "{endDate: \"2026-06-30T00:00:00Z\"}") + ", supportPartnerRef: northwind"
	case 4:
		return "license-big", license("CFQ7TTC0LCHC:0002", 40, fromFabrikam, "{endDate: \"2026-06-30T00:00:00Z\"}") + ", supportPartnerRef: contoso"
	case 5:
		return "license-in-term", license("CFQ7TTC0HD33", 12, fromFabrikam, fmt.Sprintf("{endDate: \"2027-%02d-01T00:00:00Z\"}", 1+c%12)) + ", supportPartnerRef: contoso"
	case 6:
		return "license-ea", license("CFQ7TTC0LFLX", 250, `{type: EnterpriseAgreement, agreementNumber: "1"}`, "{endDate: \"2028-12-31T00:00:00Z\"}") + ", supportPartnerRef: contoso"
	case 7:
		return "license-nce", license("CFQ7TTC0LH18", 40, fromFabrikam, "{endDate: \"2027-02-28T00:00:00Z\"}") + ", commerce: NewCommerce, supportPartnerRef: contoso"
	case 8:
		return "azure-litware", "offer: {id: MS-AZR-0003P}, serviceType: UsageBased, channel: {type: Direct}, supportPartnerRef: litware"
	}
	return "license-expired", license("CFQ7TTC0HDB0", 5, fromFabrikam, "{endDate: \"2026-11-10T00:00:00Z\"}") + ", state: Expired, supportPartnerRef: contoso"
}

// BenchmarkPlan: 10,000 subscriptions from manifests to a plan (loading,
// validation against the CRDs, the decision table and the plan).
func BenchmarkPlan(b *testing.B) {
	manifests := estate(10000)
	validator, err := crdschema.New()
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		docs, err := check.Load([]string{"-"}, strings.NewReader(manifests))
		if err != nil {
			b.Fatal(err)
		}
		rows, errs := check.Evaluate(context.Background(), docs, check.Options{Now: now, Namespace: "default", Validator: validator})
		if len(errs) > 0 {
			b.Fatal(errs)
		}
		if p := plan.Build(rows, now); p.Totals.Subscriptions != 10000 {
			b.Fatalf("%d subscriptions planned", p.Totals.Subscriptions)
		}
	}
}

// TestMarkdownKeepsManifestTextLiteral: free text from a manifest (an
// offer ID here) cannot close the comment's blocks, forge a heading, ping
// anyone or load an image.
func TestMarkdownKeepsManifestTextLiteral(t *testing.T) {
	evil := `X</details>\n\n### Forged plan\n@acme/finance ![x](https://evil.example/t.png) <!--`
	manifests := strings.Replace(estate(10), "offer: {id: CFQ7TTC0HD33}", `offer: {id: "`+evil+`"}`, 1)
	if manifests == estate(10) {
		t.Fatal("the estate has no offer to replace")
	}
	p := build(t, []string{"-"}, strings.NewReader(manifests))
	var md bytes.Buffer
	if err := plan.WriteMarkdown(&md, p); err != nil {
		t.Fatal(err)
	}
	out := md.String()
	for _, bad := range []string{"</details>\n\n### Forged", "\n### Forged", " @acme", "![x](", "<!--"} {
		if strings.Contains(out, bad) {
			t.Errorf("the Markdown carries %q from a manifest", bad)
		}
	}
	if strings.Count(out, "<details>") != strings.Count(out, "</details>") {
		t.Error("the manifest's text changed the comment's blocks")
	}
	if !strings.Contains(out, `X&lt;/details&gt;`) {
		t.Error("the offer ID is not shown, escaped")
	}
}

// TestChangesFollowTheClustersStatus: against a cluster, an updated
// subscription whose purchase was cancelled buys nothing again, and one with
// an operation in flight says it is followed first.
func TestChangesFollowTheClustersStatus(t *testing.T) {
	validator, err := crdschema.New()
	if err != nil {
		t.Fatal(err)
	}
	docs, err := check.Load([]string{"-"}, strings.NewReader(estate(10)))
	if err != nil {
		t.Fatal(err)
	}
	rows, errs := check.Evaluate(context.Background(), docs, check.Options{Now: now, Namespace: "default", Validator: validator})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	current := map[string]*v1alpha1.CustomerSubscription{}
	for _, r := range rows {
		cur := r.Input.Subscription.DeepCopy()
		cur.Spec.SubscriptionID += "-before" // every one is updated
		current[r.Name] = cur
	}
	done := metav1.NewTime(now)
	cancelled := current["customer-000-license-big"]
	cancelled.Status = v1alpha1.CustomerSubscriptionStatus{Phase: v1alpha1.PhaseCompleted,
		Cancellation: &v1alpha1.Cancellation{By: "ana", At: done, Reason: "r", SubscriptionID: "s", CompletedAt: &done}}
	inFlight := current["customer-000-azure-csp"]
	inFlight.Status = v1alpha1.CustomerSubscriptionStatus{Phase: v1alpha1.PhaseSwitching,
		Operation: &v1alpha1.Operation{ID: "op-1", Type: v1alpha1.OperationCreateTransfer, ExternalID: "transfer-1"}}
	list := make([]v1alpha1.CustomerSubscription, 0, len(current))
	for _, c := range current {
		list = append(list, *c)
	}
	p := plan.BuildChanges(rows, now, list)
	for _, it := range p.Items {
		switch it.Name {
		case "customer-000-license-big":
			if it.Attention != plan.Nothing || it.Purchases != 0 || it.Change != plan.ChangeUpdate {
				t.Errorf("cancelled purchase: %+v", it)
			}
		case "customer-000-azure-csp":
			if len(it.Caveats) == 0 || !strings.Contains(it.Caveats[len(it.Caveats)-1], "transfer-1") {
				t.Errorf("in flight: caveats %v", it.Caveats)
			}
		}
	}
	if p.Mode != "Cluster" || p.Totals.Subscriptions != len(rows) {
		t.Errorf("mode %s, totals %+v", p.Mode, p.Totals)
	}
}
