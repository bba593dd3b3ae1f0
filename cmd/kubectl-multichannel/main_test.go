package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var samples = filepath.Join("..", "..", "config", "samples")

func fixedClock() time.Time { return time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC) }

func runCheck(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), append([]string{"check"}, args...), strings.NewReader(stdin), &out, &errOut, fixedClock)
	return code, out.String(), errOut.String()
}

// TestCheckSamples: every sample subscription gets the path its comment promises.
func TestCheckSamples(t *testing.T) {
	code, out, errOut := runCheck(t, "", "-f", samples)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	want := map[string]string{ // name → "ELIGIBLE PATH REASON NOT-BEFORE"
		"woodgrove-m365-ea":              "true ResellerRelationship MultichannelLicense <none>",
		"woodgrove-azure-direct":         "true NewAzureSubscription MultichannelAzure <none>",
		"woodgrove-azure-ea":             "true NewAzureSubscription MultichannelAzure <none>",
		"woodgrove-azure-fabrikam":       "true PartnerSwitch AzurePartnerSwitch <none>",
		"woodgrove-d365-fabrikam":        "true PartnerSwitch NewCommerceTransfer <none>",
		"woodgrove-visio-fabrikam":       "true NewLicenseSubscription SourceTermEnded <none>",
		"woodgrove-project-cancelled":    "true NewLicenseSubscription SourceCancelled <none>",
		"woodgrove-m365-fabrikam":        "false WaitForTermEnd LicenseTermActive 2029-05-31T00:00:00Z",
		"woodgrove-teams-open":           "true ResellerRelationship MultichannelLicense <none>",
		"margie-travel-m365":             "false None CustomerIsCSPPartner <none>",
		"woodgrove-exchange-syndication": "false None SyndicationChannel <none>",
		"woodgrove-azure-litware":        "false None RegionMismatch <none>",
		"woodgrove-m365-msp":             "false None TargetNotCSP <none>",
		"woodgrove-powerbi-expired":      "false None SubscriptionExpired <none>",
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if got := strings.Fields(lines[0]); strings.Join(got, " ") != "NAMESPACE NAME CUSTOMER CHANNEL TYPE TARGET ELIGIBLE PATH REASON NOT-BEFORE" {
		t.Errorf("header = %q", lines[0])
	}
	seen := map[string]bool{}
	for _, line := range lines[1:] {
		f := strings.Fields(line)
		if len(f) != 10 {
			t.Errorf("row %q has %d columns, want 10", line, len(f))
			continue
		}
		name := f[1]
		seen[name] = true
		if got := strings.Join(f[6:], " "); got != want[name] {
			t.Errorf("%s: got %q, want %q", name, got, want[name])
		}
	}
	for name := range want {
		if !seen[name] {
			t.Errorf("%s: no row", name)
		}
	}
}

func TestCheckJSON(t *testing.T) {
	code, out, errOut := runCheck(t, "", "-f", samples, "-o", "json", "--now", "2029-06-01T00:00:00Z")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rows []map[string]any
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("not a JSON array: %v\n%s", err, out)
	}
	byName := map[string]map[string]any{}
	for _, r := range rows {
		for _, k := range []string{"namespace", "name", "eligible", "path", "reason", "message"} {
			if _, ok := r[k]; !ok {
				t.Errorf("row %v has no key %q", r["name"], k)
			}
		}
		if _, ok := r["notBefore"]; ok && r["path"] != "WaitForTermEnd" {
			t.Errorf("row %v has notBefore but path %v", r["name"], r["path"])
		}
		byName[r["name"].(string)] = r
	}
	// --now moved past the term end of woodgrove-m365-fabrikam, which
	// auto-renews: the source renewed, so nothing is bought over it (rule 13a).
	if r := byName["woodgrove-m365-fabrikam"]; r["reason"] != "SourceRenews" || r["eligible"] != false {
		t.Errorf("after its term ended, woodgrove-m365-fabrikam = %v", r)
	}
	if len(rows) != 14 {
		t.Errorf("%d rows, want 14", len(rows))
	}

	code, out, _ = runCheck(t, "", "-f", samples, "-o", "json")
	if code != exitOK || !strings.Contains(out, `"notBefore": "2029-05-31T00:00:00Z"`) {
		t.Errorf("a WaitForTermEnd row should carry notBefore in RFC 3339: %s", out)
	}
}

const customer = `apiVersion: multichannel.partnerops.io/v1alpha1
kind: Customer
metadata: {name: woodgrove}
spec: {displayName: Woodgrove, tenantID: 2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e, country: US}
`

const partner = `apiVersion: multichannel.partnerops.io/v1alpha1
kind: Partner
metadata: {name: contoso}
spec: {displayName: Contoso, tenantID: 6f1bd5c1-0d3b-4c5e-9bb1-7f4f9d2b6a10, cspType: DirectBill, country: US}
`

func subscription(name, spec string) string {
	return `apiVersion: multichannel.partnerops.io/v1alpha1
kind: CustomerSubscription
metadata: {name: ` + name + `}
spec: ` + spec + "\n"
}

const azureDirect = `{customerRef: woodgrove, subscriptionID: s, offer: {id: o}, serviceType: UsageBased, channel: {type: Direct}, supportPartnerRef: contoso}`

func TestCheckStdinAndExitCodes(t *testing.T) {
	eligible := customer + "---\n" + partner + "---\n" + subscription("azure", azureDirect)
	code, out, errOut := runCheck(t, eligible, "-f", "-", "--fail-on-ineligible")
	if code != exitOK || !strings.Contains(out, "NewAzureSubscription") {
		t.Fatalf("exit %d, out %q, err %q", code, out, errOut)
	}

	expired := strings.Replace(azureDirect, "}, supportPartnerRef", "}, state: Expired, supportPartnerRef", 1)
	mixed := eligible + "---\n" + subscription("expired", expired)
	if code, _, _ := runCheck(t, mixed, "-f", "-"); code != exitOK {
		t.Errorf("an ineligible subscription without --fail-on-ineligible: exit %d, want 0", code)
	}
	if code, _, _ := runCheck(t, mixed, "-f", "-", "--fail-on-ineligible"); code != exitIneligible {
		t.Errorf("an ineligible subscription with --fail-on-ineligible: exit %d, want 1", code)
	}
}

func TestCheckReadsDirectoriesRecursively(t *testing.T) {
	dir := t.TempDir()
	write := func(rel, content string) {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("partners/contoso.yml", partner)
	write("customers/woodgrove/customer.yaml", customer)
	write("customers/woodgrove/subs/azure.json", `{"apiVersion":"multichannel.partnerops.io/v1alpha1","kind":"CustomerSubscription",
"metadata":{"name":"azure-json"},"spec":{"customerRef":"woodgrove","subscriptionID":"s","offer":{"id":"o"},
"serviceType":"UsageBased","channel":{"type":"EnterpriseAgreement"},"supportPartnerRef":"contoso"}}`)
	write("customers/woodgrove/README.md", "not a manifest: skipped")
	write("customers/woodgrove/kustomization.yaml", "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [customer.yaml]\n")
	code, out, errOut := runCheck(t, "", "-f", dir)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "azure-json") || !strings.Contains(out, "MultichannelAzure") {
		t.Errorf("the JSON subscription two directories down was not evaluated:\n%s", out)
	}
}

// TestCheckBadInput: each exits 2 with a message naming file, document and field.
func TestCheckBadInput(t *testing.T) {
	dir := t.TempDir()
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	base := customer + "---\n" + partner + "---\n"
	cases := []struct {
		name    string
		content string
		want    []string // all must appear in stderr
	}{
		{"unknown enum value", base + subscription("s", strings.Replace(azureDirect, "Direct", "Retail", 1)),
			[]string{"document 3", "CustomerSubscription s", "spec.channel.type", `Unsupported value: "Retail"`}},
		{"customer not in the input", base + subscription("s", strings.Replace(azureDirect, "customerRef: woodgrove", "customerRef: fourthcoffee", 1)),
			[]string{"document 3", "spec.customerRef", `Customer "fourthcoffee"`, "not in the input"}},
		{"support partner not in the input", base + subscription("s", strings.Replace(azureDirect, "supportPartnerRef: contoso", "supportPartnerRef: ghost", 1)),
			[]string{"document 3", "spec.supportPartnerRef", `Partner "ghost"`}},
		{"channel partner not in the input", base + subscription("s", strings.Replace(azureDirect, "{type: Direct}", "{type: CSP, partnerRef: fabrikam}", 1)),
			[]string{"document 3", "spec.channel.partnerRef", `Partner "fabrikam"`}},
		{"indirect provider not in the input", base + strings.Replace(strings.Replace(partner, "contoso", "northwind", 1), "DirectBill", "IndirectReseller, partnerID: \"5357564\", indirectProviderRef: tailspin", 1) +
			"---\n" + subscription("s", strings.Replace(azureDirect, "supportPartnerRef: contoso", "supportPartnerRef: northwind", 1)),
			[]string{"document 3", "Partner northwind", "spec.indirectProviderRef", `Partner "tailspin"`}},
		{"a CEL rule: CSP channel without partnerRef", base + subscription("s", strings.Replace(azureDirect, "{type: Direct}", "{type: CSP}", 1)),
			[]string{"document 3", "spec.channel.partnerRef", "required when type is CSP"}},
		{"a CEL rule: license without term end", base + subscription("s", strings.Replace(azureDirect, "UsageBased", "LicenseBased, quantity: 5", 1)),
			[]string{"document 3", "spec.term", "term.endDate is required for LicenseBased"}},
		{"a pattern: tenant ID", strings.Replace(customer, "2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e", "woodgrove", 1),
			[]string{"document 1", "Customer woodgrove", "spec.tenantID", "should match"}},
		{"a misspelt field", base + subscription("s", strings.Replace(azureDirect, "supportPartnerRef", "supportPartner", 1)),
			[]string{"document 3", "spec.supportPartner", "unknown field"}},
		{"defined twice", base + customer, []string{"document 3", "metadata.name", "defined twice", "document 1"}},
		{"not YAML", "kind: [", []string{"document 1", "not valid YAML"}},
		{"not a Kubernetes object", "just: data\n", []string{"document 1", "apiVersion and kind are required"}},
		{"GDAP: partner not in the input", base + gdapDoc("g", "ghost", "Support", "[HelpdeskAdministrator]"),
			[]string{"document 3", "DelegatedAdminRelationship g", "spec.partnerRef", `Partner "ghost"`, "not in the input"}},
		{"GDAP: an unknown role name", base + gdapDoc("g", "contoso", "Support", "[Helpdesk]"),
			[]string{"document 3", "DelegatedAdminRelationship g", "spec.roles", "well-known role name"}},
		{"GDAP: a display name used twice by one partner", base + gdapDoc("g", "contoso", "Support", "[GlobalReader]") + "---\n" + gdapDoc("h", "contoso", "Support", "[GlobalReader]"),
			[]string{"document 4", "DelegatedAdminRelationship h", "spec.displayName", "unique per partner"}},
		{"unknown kind of the group", "apiVersion: multichannel.partnerops.io/v1alpha1\nkind: Subscription\nmetadata: {name: x}\n",
			[]string{"document 1", "kind", `Unsupported value`}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := file(strings.ReplaceAll(tc.name, " ", "-")+".yaml", tc.content)
			code, out, errOut := runCheck(t, "", "-f", path)
			if code != exitBadInput {
				t.Fatalf("case %d: exit %d, want 2; stdout %q", i, code, out)
			}
			for _, w := range append([]string{path}, tc.want...) {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr does not mention %q:\n%s", w, errOut)
				}
			}
		})
	}
}

func TestCheckBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-f", samples, "--now", "tomorrow"},
		{"-f", samples, "-o", "yaml"},
		{"-f", filepath.Join(samples, "no-such-file.yaml")},
		{},
		{"-f", samples, "--no-such-flag"},
	} {
		if code, _, errOut := runCheck(t, "", args...); code != exitBadInput || errOut == "" {
			t.Errorf("%v: exit %d with %q, want 2 and a message", args, code, errOut)
		}
	}
}

// gdapDoc is a DelegatedAdminRelationship of partner with woodgrove.
func gdapDoc(name, partner, displayName, roles string) string {
	return "apiVersion: multichannel.partnerops.io/v1alpha1\nkind: DelegatedAdminRelationship\nmetadata: {name: " + name + "}\n" +
		"spec: {partnerRef: " + partner + ", customerRef: woodgrove, displayName: " + displayName + ", duration: P90D, roles: " + roles + "}\n"
}
