package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"maps"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	"github.com/partnerops/multichannel-operator/internal/apiretry/apiretrytest"
	"github.com/partnerops/multichannel-operator/internal/graph/graphsim"
	"github.com/partnerops/multichannel-operator/internal/harness"
	pc "github.com/partnerops/multichannel-operator/internal/partnercenter"
	"github.com/partnerops/multichannel-operator/internal/partnercenter/sim"
)

const (
	contosoTenant   = "6f1bd5c1-0d3b-4c5e-9bb1-7f4f9d2b6a10"
	fabrikamTenant  = "0b4e8e3a-7c1d-4f0e-a0d2-3f9a1c6e5b21"
	northwindTenant = "3c9d2e1f-4a5b-4c6d-8e7f-9a0b1c2d3e4f"
	// importCustomers spans two pages of the customer list (100 a page).
	importCustomers = 103
	// legacyLicense is a legacy license of customer 7, cancelled later.
	legacyLicense = "7e1a2b3c-0000-4000-8000-000000000007"
	// tailspinApp is the application of partner tailspin, which has a
	// workload identity (contoso's tenant, without a Secret).
	tailspinApp = "6b1f0a7e-0000-4000-8000-00000000a001"
)

// importWorld is a cluster with partner contoso (credentials in
// multichannel-system) and reference-only partner northwind, and the
// simulators holding contoso's estate.
type importWorld struct {
	pc         *sim.Server
	graph      *graphsim.Server
	url        string
	c          client.Client
	kubeconfig string
	estate     harness.SampleEstate
	now        time.Time
}

func startImportWorld(t *testing.T) *importWorld {
	t.Helper()
	const ns = "multichannel-system"
	env, c := startAPIServer(t)
	if err := c.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatal(err)
	}
	// The operator's service account, which tailspin's workload identity trusts.
	_, fc := apiretrytest.ServiceAccountToken(t, env.Config, ns, "multichannel-controller-manager")
	s, err := sim.New(sim.Options{FederatedCredentials: map[string][]sim.FederatedCredential{tailspinApp: {fc}}})
	if err != nil {
		t.Fatal(err)
	}
	g, err := graphsim.New(graphsim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(graphsim.Compose(g, s))
	t.Cleanup(srv.Close)
	w := &importWorld{pc: s, graph: g, url: srv.URL, c: c, kubeconfig: writeKubeconfig(t, env), now: time.Now().UTC()}
	tailspin := contosoPartner(srv.URL)
	tailspin.Name, tailspin.Spec.PartnerCenter.CredentialsSecretRef = "tailspin", nil
	tailspin.Spec.PartnerCenter.WorkloadIdentity = &v1alpha1.WorkloadIdentity{ClientID: tailspinApp}
	for _, o := range []client.Object{
		tailspin,
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "contoso-pc"},
			StringData: map[string]string{"clientID": "operator", "clientSecret": "s3cret", "refreshToken": "the-operator's"}},
		contosoPartner(srv.URL),
		&v1alpha1.Partner{ObjectMeta: metav1.ObjectMeta{Name: "northwind"}, Spec: v1alpha1.PartnerSpec{DisplayName: "Northwind", TenantID: northwindTenant,
			CSPType: v1alpha1.CSPTypeDirectBill, Country: "US"}},
	} {
		if err := c.Create(context.Background(), o); err != nil {
			t.Fatal(err)
		}
	}
	w.seed(t)
	return w
}

func contosoPartner(url string) *v1alpha1.Partner {
	return &v1alpha1.Partner{TypeMeta: metav1.TypeMeta{APIVersion: v1alpha1.GroupVersion.String(), Kind: "Partner"}, ObjectMeta: metav1.ObjectMeta{Name: "contoso"},
		Spec: v1alpha1.PartnerSpec{DisplayName: "Contoso", TenantID: contosoTenant, CSPType: v1alpha1.CSPTypeDirectBill, Country: "US",
			NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"multichannel.partnerops.io/partner": "contoso"}},
			PartnerCenter: &v1alpha1.PartnerCenterConnection{Endpoint: url, AuthorityHost: url, GraphEndpoint: url,
				CredentialsSecretRef: &v1alpha1.SecretReference{Name: "contoso-pc"}}}}
}

// seed puts the sample estate in the simulators, with what the import
// must notice: a custom domain, a cancelled license, a transfer from a
// partner the cluster knows, a GDAP relationship not yet sent to its
// customer, and another partner's customer.
func (w *importWorld) seed(t *testing.T) {
	t.Helper()
	w.estate = harness.NewEstate(harness.EstateOptions{Partner: contosoTenant, Customers: importCustomers, Source: fabrikamTenant, SourceName: "Fabrikam", Now: w.now})
	cs := w.estate.PartnerCenter.Customers
	cs[1].Domain = "adatum.com"
	cs[2].Licenses[0].Status = "deleted"
	cs[7].Licenses = append(cs[7].Licenses, sim.EstateLicense{ID: legacyLicense, OfferID: "91FD106F-4B2C-4938-95AC-F54F74E9A239", OfferName: "Office 365 E1",
		Quantity: 4, TermDuration: "P1Y", BillingCycle: "monthly"})
	cs[3].Transfers = []sim.EstateTransfer{{ID: harness.EstateID(harness.EstateOptions{Partner: "nw"}, "transfer", 3), SourcePartnerTenantID: northwindTenant,
		SourcePartnerName: "Northwind Traders", Created: w.now.Add(-time.Hour).Truncate(time.Second), LineItems: []sim.EstateTransferLine{
			{SubscriptionID: "5b3c1f0e-0000-4000-8000-000000000003", OfferID: pc.AzurePlanProduct + ":" + pc.AzurePlanSKU, FriendlyName: "Azure plan", Quantity: 1}}}}
	if err := w.pc.SeedEstate(w.estate.PartnerCenter); err != nil {
		t.Fatal(err)
	}
	other := sim.Estate{PartnerTenantID: fabrikamTenant, Customers: []sim.EstateCustomer{{TenantID: "9d8c7b6a-0000-4000-8000-000000000001", Domain: "fabrikamonly.onmicrosoft.com", Country: "US"}}}
	if err := w.pc.SeedEstate(other); err != nil {
		t.Fatal(err)
	}
	draft := graphsim.SeededRelationship{PartnerTenantID: contosoTenant, DisplayName: "Draft for customer 0", Duration: "P90D", Status: "created",
		CustomerTenantID: cs[0].TenantID, Roles: []string{harness.RoleHelpdesk}}
	if err := w.graph.Seed(append(w.estate.GDAP, draft)...); err != nil {
		t.Fatal(err)
	}
}

// importInto runs contoso's import with args into dir.
func (w *importWorld) importInto(dir string, args ...string) (int, string, string) {
	return w.importIntoAs("contoso", dir, args...)
}

// importIntoAs runs partner's import with args into dir.
func (w *importWorld) importIntoAs(partner, dir string, args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	base := []string{"import", "--partner", partner, "--kubeconfig", w.kubeconfig, "--allowed-origin", w.url, "--output-dir", dir,
		"--requests-per-minute", "60000", "--graph-requests-per-minute", "60000"}
	code := run(context.Background(), append(base, args...), strings.NewReader(""), &out, &errOut, fixedClock)
	return code, out.String(), errOut.String()
}

// snapshot is every file under dir by relative path.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		files[filepath.ToSlash(rel)] = string(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// decode reads one manifest into obj.
func decode(t *testing.T, files map[string]string, path string, obj any) {
	t.Helper()
	data, ok := files[path]
	if !ok {
		t.Fatalf("no file %s", path)
	}
	if !strings.HasPrefix(data, "# Written by kubectl multichannel import for partner contoso") {
		t.Errorf("%s has no header: %.80q", path, data)
	}
	if err := yaml.UnmarshalStrict([]byte(data), obj); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func hash8(s string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(s)))
	return hex.EncodeToString(sum[:4])
}

// TestImport: kubectl multichannel import against the simulators over
// HTTP and a real API server reads the whole estate within its budget,
// creates nothing, and writes manifests the API server and the decision
// table take as they should; a second run changes no byte; --customer,
// --dry-run, a transfer that completed and a license cancelled since.
func TestImport(t *testing.T) {
	w := startImportWorld(t)
	dir := filepath.Join(t.TempDir(), "estate")
	code, _, summary := w.importInto(dir)
	if code != exitOK {
		t.Fatalf("import: exit %d: %s", code, summary)
	}
	files := snapshot(t, dir)
	t.Run("customers, licenses, Azure, GDAP", func(t *testing.T) { checkOwned(t, w, files) })
	t.Run("transfers under way", func(t *testing.T) { checkTransfers(t, w, files) })
	t.Run("layout", func(t *testing.T) { checkLayout(t, w, files) })
	t.Run("kustomize builds it", func(t *testing.T) { checkKustomize(t, dir, files) })
	t.Run("only reads, and counts its calls", func(t *testing.T) { checkCalls(t, w, summary) })
	t.Run("valid for the API server and the decision table", func(t *testing.T) { checkValid(t, w, dir, files) })
	t.Run("a rerun changes no byte", func(t *testing.T) {
		code, _, again := w.importInto(dir)
		if code != exitOK || !strings.Contains(again, "0 new, 0 changed, ") || !maps.Equal(files, snapshot(t, dir)) {
			t.Errorf("rerun: exit %d, %s; files equal: %t", code, again, maps.Equal(files, snapshot(t, dir)))
		}
	})
	t.Run("--customer", func(t *testing.T) { checkSomeCustomers(t, w) })
	t.Run("--dry-run", func(t *testing.T) { checkDryRun(t, w, dir, files) })
	t.Run("a completed transfer and a cancelled license", func(t *testing.T) { checkChanges(t, w, dir) })
	t.Run("a workload identity", func(t *testing.T) { checkWorkloadIdentity(t, w) })
	t.Run("refusals", func(t *testing.T) { checkRefusals(t, w) })
}
