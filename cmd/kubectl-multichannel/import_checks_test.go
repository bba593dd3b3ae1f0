package main

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	pc "github.com/partnerops/multichannel-operator/internal/partnercenter"
	"github.com/partnerops/multichannel-operator/internal/partnercenter/sim"
)

const ns0 = "customers/customer0/"

// checkOwned: what the partner holds is written as Partner Center and
// Graph report it, bought from and supported by the partner.
func checkOwned(t *testing.T, w *importWorld, files map[string]string) {
	c0 := w.estate.PartnerCenter.Customers[0]
	var cu v1alpha1.Customer
	decode(t, files, ns0+"customer-customer0.yaml", &cu)
	want := v1alpha1.CustomerSpec{DisplayName: "Customer 0", TenantID: c0.TenantID, Domain: "customer0.onmicrosoft.com", Cloud: v1alpha1.CloudPublic, Country: "US"}
	if cu.Namespace != "customer0" || cu.Name != "customer0" || !equalJSON(cu.Spec, want) {
		t.Errorf("Customer %s/%s %+v, want %+v", cu.Namespace, cu.Name, cu.Spec, want)
	}
	var namespace corev1.Namespace
	decode(t, files, ns0+"namespace.yaml", &namespace)
	if namespace.Name != "customer0" || !maps.Equal(namespace.Labels, map[string]string{"multichannel.partnerops.io/partner": "contoso"}) {
		t.Errorf("Namespace %s %v: want the labels contoso's namespaceSelector matches", namespace.Name, namespace.Labels)
	}
	var rr v1alpha1.ResellerRelationship
	decode(t, files, ns0+"resellerrelationship-customer0-contoso.yaml", &rr)
	if rr.Spec.PartnerRef != "contoso" || rr.Spec.CustomerRef != "customer0" || rr.Namespace != "customer0" {
		t.Errorf("ResellerRelationship %+v", rr)
	}
	e3 := c0.Licenses[0]
	var sub v1alpha1.CustomerSubscription
	decode(t, files, ns0+"customersubscription-microsoft-365-e3-"+e3.ID+".yaml", &sub)
	wantSub := v1alpha1.CustomerSubscriptionSpec{CustomerRef: "customer0", SubscriptionID: e3.ID, Offer: v1alpha1.Offer{ID: sim.E3CatalogItem, DisplayName: "Microsoft 365 E3"},
		ServiceType: v1alpha1.ServiceLicenseBased, Quantity: ptrTo(int32(e3.Quantity)), Commerce: v1alpha1.CommerceNewCommerce,
		Channel: v1alpha1.Channel{Type: v1alpha1.ChannelCSP, PartnerRef: "contoso"}, State: v1alpha1.SubscriptionActive, SupportPartnerRef: "contoso",
		Term: &v1alpha1.Term{StartDate: metaTime(e3.Start), EndDate: metaTime(e3.End), AutoRenew: true}}
	if !equalJSON(sub.Spec, wantSub) {
		t.Errorf("license %+v\nwant %+v", sub.Spec, wantSub)
	}
	plan := c0.AzurePlan
	var azure v1alpha1.CustomerSubscription
	decode(t, files, ns0+"customersubscription-production-"+plan.Subscriptions[0].ID+".yaml", &azure)
	if azure.Spec.ServiceType != v1alpha1.ServiceUsageBased || azure.Spec.Quantity != nil || azure.Spec.Term != nil || azure.Spec.SubscriptionID != plan.Subscriptions[0].ID ||
		azure.Spec.Offer.ID != sim.AzurePlanCatalogItem || azure.Spec.Channel.PartnerRef != "contoso" || azure.Annotations["multichannel.partnerops.io/azure-plan"] != plan.ID {
		t.Errorf("Azure subscription %+v %v", azure.Spec, azure.Annotations)
	}
	checkGDAP(t, w, files)
	checkNamespacesAndNotes(t, w, files)
}

func checkGDAP(t *testing.T, w *importWorld, files map[string]string) {
	g := w.estate.GDAP[0]
	var dar v1alpha1.DelegatedAdminRelationship
	decode(t, files, ns0+"delegatedadminrelationship-support-0-"+hash8("Support 0")+".yaml", &dar)
	groups := []v1alpha1.GDAPAccessAssignment{
		{SecurityGroupID: g.Assignments[0].SecurityGroupID, Roles: []string{"HelpdeskAdministrator"}},
		{SecurityGroupID: g.Assignments[1].SecurityGroupID, Roles: []string{"GlobalReader", "UserAdministrator"}}}
	slices.SortFunc(groups, func(a, b v1alpha1.GDAPAccessAssignment) int {
		return strings.Compare(a.SecurityGroupID, b.SecurityGroupID)
	})
	want := v1alpha1.DelegatedAdminRelationshipSpec{PartnerRef: "contoso", CustomerRef: "customer0", DisplayName: "Support 0", Duration: "P730D",
		AutoExtendDuration: "P180D", Roles: []string{"GlobalReader", "HelpdeskAdministrator", "UserAdministrator"}, AccessAssignments: groups}
	if !equalJSON(dar.Spec, want) {
		t.Errorf("DelegatedAdminRelationship %+v\nwant %+v", dar.Spec, want)
	}
}

// checkNamespacesAndNotes: a custom domain's namespace, and what is not
// imported: a cancelled license, another partner's customer.
func checkNamespacesAndNotes(t *testing.T, w *importWorld, files map[string]string) {
	cs := w.estate.PartnerCenter.Customers
	adatum := "customers/adatum-com-" + hash8(cs[1].TenantID) + "/"
	if _, ok := files[adatum+"customer-adatum-com-"+hash8(cs[1].TenantID)+".yaml"]; !ok {
		t.Errorf("no namespace %s for the custom domain adatum.com", adatum)
	}
	if _, ok := files["customers/customer2/customersubscription-microsoft-365-e3-"+cs[2].Licenses[0].ID+".yaml"]; ok {
		t.Error("a deleted license was imported")
	}
	for p := range files {
		if strings.Contains(p, "fabrikamonly") {
			t.Errorf("another partner's customer was imported: %s", p)
		}
	}
}

// checkTransfers: a transfer under way is one CustomerSubscription per
// line item, bought from the source partner, following the transfer.
func checkTransfers(t *testing.T, w *importWorld, files map[string]string) {
	tr := w.estate.PartnerCenter.Customers[0].Transfers[0]
	line := tr.LineItems[0]
	var sub v1alpha1.CustomerSubscription
	decode(t, files, ns0+"customersubscription-microsoft-365-e5-"+line.SubscriptionID+".yaml", &sub)
	want := v1alpha1.CustomerSubscriptionSpec{CustomerRef: "customer0", SubscriptionID: line.SubscriptionID, Offer: v1alpha1.Offer{ID: sim.E5CatalogItem, DisplayName: "Microsoft 365 E5"},
		ServiceType: v1alpha1.ServiceLicenseBased, Quantity: ptrTo(int32(3)), Commerce: v1alpha1.CommerceNewCommerce,
		Channel: v1alpha1.Channel{Type: v1alpha1.ChannelCSP, PartnerRef: "fabrikam-0b4e8e3a"}, State: v1alpha1.SubscriptionActive, SupportPartnerRef: "contoso",
		TransferID: tr.ID, Term: &v1alpha1.Term{EndDate: metaTime(tr.Created.AddDate(1, 0, 0))}}
	if !equalJSON(sub.Spec, want) || !strings.HasPrefix(sub.Annotations["multichannel.partnerops.io/term-end"], "At the latest") {
		t.Errorf("transfer line item %+v %v\nwant %+v", sub.Spec, sub.Annotations, want)
	}
	var source v1alpha1.Partner
	decode(t, files, "partners/partner-fabrikam-0b4e8e3a.yaml", &source)
	if source.Spec.TenantID != fabrikamTenant || source.Spec.DisplayName != "Fabrikam" || source.Spec.PartnerCenter != nil || source.Spec.NamespaceSelector != nil ||
		source.Spec.CSPType != v1alpha1.CSPTypeDirectBill || source.Namespace != "" || source.Annotations["multichannel.partnerops.io/assumed"] == "" {
		t.Errorf("source partner %+v", source)
	}
	nw := w.estate.PartnerCenter.Customers[3].Transfers[0]
	var azure v1alpha1.CustomerSubscription
	decode(t, files, "customers/customer3/customersubscription-azure-plan-"+nw.LineItems[0].SubscriptionID+".yaml", &azure)
	if azure.Spec.Channel.PartnerRef != "northwind" || azure.Spec.TransferID != nw.ID || azure.Spec.ServiceType != v1alpha1.ServiceUsageBased || azure.Spec.Quantity != nil {
		t.Errorf("a line item from a partner the cluster knows: %+v", azure.Spec)
	}
	for p := range files {
		if strings.HasPrefix(p, "partners/partner-northwind") {
			t.Errorf("%s written for a Partner the cluster holds", p)
		}
	}
}

// checkLayout: kustomizations at every level, listing what is there.
func checkLayout(t *testing.T, w *importWorld, files map[string]string) {
	resources := func(path string) []string {
		var k struct {
			APIVersion, Kind string
			Resources        []string
		}
		decode(t, files, path, &k)
		if k.Kind != "Kustomization" || k.APIVersion != "kustomize.config.k8s.io/v1beta1" {
			t.Errorf("%s is %s %s", path, k.APIVersion, k.Kind)
		}
		return k.Resources
	}
	if got := resources("kustomization.yaml"); !slices.Equal(got, []string{"partners", "customers"}) {
		t.Errorf("top resources %v", got)
	}
	if got := resources("partners/kustomization.yaml"); !slices.Equal(got, []string{"partner-fabrikam-0b4e8e3a.yaml"}) {
		t.Errorf("partners %v", got)
	}
	if got := resources("customers/kustomization.yaml"); len(got) != importCustomers || !slices.IsSorted(got) || !slices.Contains(got, "customer102") {
		t.Errorf("customers/kustomization.yaml lists %d directories, want %d sorted", len(got), importCustomers)
	}
	var inDir []string
	for p := range files {
		if name, ok := strings.CutPrefix(p, ns0); ok && name != "kustomization.yaml" {
			inDir = append(inDir, name)
		}
	}
	slices.Sort(inDir)
	got := resources(ns0 + "kustomization.yaml")
	if sorted := slices.Sorted(slices.Values(got)); !slices.Equal(sorted, inDir) || len(got) != 10 || got[0] != "namespace.yaml" || got[1] != "customer-customer0.yaml" {
		t.Errorf("%skustomization.yaml lists %v, the directory holds %v", ns0, got, inDir)
	}
}

var callsLine = regexp.MustCompile(`Partner Center calls (\d+) \((\d+) waits.*\n.*Microsoft Graph calls (\d+)`)

// checkCalls: every call was a read, and the summary counts them as the
// simulators do: the customer list's two pages, then per customer its
// profile, subscriptions, Azure plan's subscriptions and transfers; the
// relationship list, then each active relationship's assignments.
func checkCalls(t *testing.T, w *importWorld, summary string) {
	m := callsLine.FindStringSubmatch(summary)
	if m == nil {
		t.Fatalf("no call counts in %s", summary)
	}
	pcStats, gStats := w.pc.Stats(), w.graph.Stats()
	pcCalls := 0
	for route, n := range pcStats.RequestsByRoute {
		if !slices.Contains([]string{"Token", "ListCustomers", "GetCustomer", "ListSubscriptions", "GetAzureEntitlements", "ListTransfers"}, route) {
			t.Errorf("Partner Center route %s called %d times", route, n)
		}
		if route != "Token" {
			pcCalls += n
		}
	}
	const wantPC = 2 + 3*importCustomers + (importCustomers+1)/2
	if m[1] != strconv.Itoa(pcCalls) || pcCalls != wantPC || pcStats.RequestsByRoute["ListCustomers"] != 2 {
		t.Errorf("the summary says %s Partner Center calls, the simulator counts %d (%v), want %d", m[1], pcCalls, pcStats.RequestsByRoute, wantPC)
	}
	if gCalls := gStats.RequestsByRoute["ListRelationships"] + gStats.RequestsByRoute["ListAccessAssignments"]; m[3] != strconv.Itoa(gCalls) || gCalls != 1+importCustomers {
		t.Errorf("the summary says %s Graph calls, the simulator counts %v", m[3], gStats.RequestsByRoute)
	}
	if len(pcStats.ObjectsCreated) != 0 || len(gStats.ObjectsCreated) != 0 || pcStats.ARM.AliasesCreated != 0 {
		t.Errorf("the import created %v in Partner Center, %v in Graph, %d in ARM", pcStats.ObjectsCreated, gStats.ObjectsCreated, pcStats.ARM.AliasesCreated)
	}
	for _, want := range []string{"customers            103", "GDAP relationships   103, with 155 access assignments", "transfers under way  22, from 2 source partners",
		"43 in transfers under way", "is deleted; only active", "is created; only active"} {
		if !strings.Contains(summary, want) {
			t.Errorf("the summary lacks %q:\n%s", want, summary)
		}
	}
}

// checkValid: the API server takes the manifests (schema and CEL), and
// the decision table finds what the partner holds AlreadyManaged and the
// transfers' subscriptions PartnerSwitch.
func checkValid(t *testing.T, w *importWorld, dir string, files map[string]string) {
	ctx := context.Background()
	var paths []string
	for p := range files {
		if !strings.HasSuffix(p, "kustomization.yaml") && (strings.HasPrefix(p, "partners/") || strings.HasPrefix(p, ns0) || strings.HasPrefix(p, "customers/customer3/") ||
			strings.HasPrefix(p, "customers/adatum-com-")) {
			paths = append(paths, p)
		}
	}
	slices.SortFunc(paths, func(a, b string) int {
		return strings.Compare(strconv.FormatBool(!strings.HasSuffix(a, "namespace.yaml"))+a, strconv.FormatBool(!strings.HasSuffix(b, "namespace.yaml"))+b)
	})
	for _, p := range paths {
		obj := &unstructured.Unstructured{}
		if err := yaml.Unmarshal([]byte(files[p]), &obj.Object); err != nil {
			t.Fatal(err)
		}
		if err := w.c.Create(ctx, obj); err != nil {
			t.Errorf("the API server refuses %s: %v", p, err)
		}
	}
	partners := filepath.Join(t.TempDir(), "partners.yaml")
	contoso, _ := yaml.Marshal(contosoPartner(w.url))
	nw := "apiVersion: multichannel.partnerops.io/v1alpha1\nkind: Partner\nmetadata: {name: northwind}\nspec: {displayName: Northwind, tenantID: " + northwindTenant + ", cspType: DirectBill, country: US}\n"
	if err := os.WriteFile(partners, []byte(string(contoso)+"---\n"+nw), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCheck(t, "", "-f", dir, "-f", partners, "--now", w.now.Format(time.RFC3339), "-o", "json")
	var rows []jsonRow
	if err := json.Unmarshal([]byte(out), &rows); code != exitOK || err != nil {
		t.Fatalf("check: exit %d, %v, %s", code, err, errOut)
	}
	reasons := map[string]int{}
	for _, r := range rows {
		reasons[r.Path+"/"+r.Reason]++
	}
	want := map[string]int{"None/AlreadyManaged": 2*importCustomers - 1 + 1 + 2*52, "PartnerSwitch/NewCommerceTransfer": 42, "PartnerSwitch/AzurePartnerSwitch": 1}
	if !maps.Equal(reasons, want) {
		t.Errorf("decisions %v, want %v", reasons, want)
	}
}

// checkSomeCustomers: --customer by domain and tenant ID imports those
// only; by tenant IDs alone, without listing the customers; one the
// partner does not have is an error naming it.
func checkSomeCustomers(t *testing.T, w *importWorld) {
	cs := w.estate.PartnerCenter.Customers
	dir := filepath.Join(t.TempDir(), "some")
	if code, _, errOut := w.importInto(dir, "--customer", "customer0.onmicrosoft.com", "--customer", strings.ToUpper(cs[2].TenantID)); code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	dirs, _ := os.ReadDir(filepath.Join(dir, "customers"))
	var names []string
	for _, d := range dirs {
		names = append(names, d.Name())
	}
	if !slices.Equal(names, []string{"customer0", "customer2", "kustomization.yaml"}) {
		t.Errorf("--customer wrote %v", names)
	}
	listed := w.pc.Stats().RequestsByRoute["ListCustomers"]
	if code, _, errOut := w.importInto(filepath.Join(t.TempDir(), "one"), "--customer", cs[5].TenantID); code != exitOK || w.pc.Stats().RequestsByRoute["ListCustomers"] != listed {
		t.Errorf("by tenant ID: exit %d, %s; the customer list was read %d more times", code, errOut, w.pc.Stats().RequestsByRoute["ListCustomers"]-listed)
	}
	if code, _, errOut := w.importInto(filepath.Join(t.TempDir(), "none"), "--customer", "nope.example.com"); code != exitBadInput || !strings.Contains(errOut, "nope.example.com") {
		t.Errorf("an unknown customer: exit %d, %s", code, errOut)
	}
}

// checkDryRun: --dry-run writes nothing, and prints what would be written.
func checkDryRun(t *testing.T, w *importWorld, dir string, files map[string]string) {
	fresh := filepath.Join(t.TempDir(), "dry")
	code, out, errOut := w.importInto(fresh, "--dry-run")
	if _, err := os.Stat(fresh); code != exitOK || err == nil {
		t.Fatalf("--dry-run: exit %d (%s), and the directory exists: %t", code, errOut, err == nil)
	}
	if !strings.Contains(out, "# would write "+ns0+"customer-customer0.yaml\n"+files[ns0+"customer-customer0.yaml"]) || !strings.Contains(errOut, "Would write") {
		t.Errorf("--dry-run printed %.300q", out)
	}
	if code, out, _ := w.importInto(dir, "--dry-run"); code != exitOK || strings.Contains(out, "# would write") || !maps.Equal(files, snapshot(t, dir)) {
		t.Errorf("--dry-run over the same estate: exit %d, would write: %t", code, strings.Contains(out, "# would write"))
	}
}

// checkChanges: once the source partner accepted the transfer, its
// subscriptions are the partner's own; a license cancelled since is
// removed; a file the import did not write is left alone.
func checkChanges(t *testing.T, w *importWorld, dir string) {
	tr := w.estate.PartnerCenter.Customers[0].Transfers[0]
	if resp, err := httpPost(w.url + "/sim/v1/transfers/" + tr.ID + "/accept"); err != nil || resp != 200 {
		t.Fatalf("accepting the transfer: %d, %v", resp, err)
	}
	c, err := pc.New(pc.Config{Endpoint: w.url, AuthorityHost: w.url, TenantID: contosoTenant, Credentials: pc.Credentials{ClientID: "operator", ClientSecret: "s3cret"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.UpdateSubscriptionStatus(context.Background(), w.estate.PartnerCenter.Customers[7].TenantID, legacyLicense, pc.SubscriptionDeleted); err != nil {
		t.Fatal(err)
	}
	mine := filepath.Join(dir, "customers", "customer7", "approvalpolicy.yaml")
	if err := os.WriteFile(mine, []byte("kind: ApprovalPolicy\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, summary := w.importInto(dir)
	files := snapshot(t, dir)
	var moved v1alpha1.CustomerSubscription
	decode(t, files, ns0+"customersubscription-microsoft-365-e5-"+tr.LineItems[0].SubscriptionID+".yaml", &moved)
	gone := "customers/customer7/customersubscription-office-365-e1-" + legacyLicense + ".yaml"
	if _, still := files[gone]; code != exitOK || still || moved.Spec.TransferID != "" || moved.Spec.Channel.PartnerRef != "contoso" ||
		!strings.Contains(summary, "3 changed, ") || !strings.Contains(summary, ", 1 removed") || !strings.Contains(summary, "left alone (not written by import): customers/customer7/approvalpolicy.yaml") {
		t.Errorf("after the estate changed: exit %d, %s still there: %t, moved %+v\n%s", code, gone, still, moved.Spec, summary)
	}
	if _, err := os.Stat(mine); err != nil {
		t.Errorf("a file the import did not write: %v", err)
	}
}

// checkRefusals: a Partner without credentials, and one whose endpoints
// the plugin may not send credentials to, are refused before anything is sent.
func checkRefusals(t *testing.T, w *importWorld) {
	before := w.pc.Stats().RequestsByRoute["Token"]
	dir := filepath.Join(t.TempDir(), "refused")
	if code, _, errOut := run2(context.Background(), "import", "--partner", "northwind", "--kubeconfig", w.kubeconfig, "--output-dir", dir); code != exitBadInput ||
		!strings.Contains(errOut, "has no credentials") {
		t.Errorf("a reference-only partner: exit %d, %s", code, errOut)
	}
	if code, _, errOut := run2(context.Background(), "import", "--partner", "contoso", "--kubeconfig", w.kubeconfig, "--output-dir", dir); code != exitBadInput ||
		!strings.Contains(errOut, "nothing is read there") {
		t.Errorf("a simulator the plugin was not allowed: exit %d, %s", code, errOut)
	}
	if code, _, errOut := run2(context.Background(), "import", "--kubeconfig", w.kubeconfig); code != exitBadInput || !strings.Contains(errOut, "partner") {
		t.Errorf("no --partner: exit %d, %s", code, errOut)
	}
	if _, err := os.Stat(dir); err == nil || w.pc.Stats().RequestsByRoute["Token"] != before {
		t.Errorf("a refused import wrote %s or asked for a token", dir)
	}
}

func equalJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

func ptrTo[T any](v T) *T { return &v }

func metaTime(t time.Time) *metav1.Time {
	mt := metav1.NewTime(t.UTC().Truncate(time.Second))
	return &mt
}

func httpPost(url string) (int, error) {
	resp, err := http.Post(url, "application/json", strings.NewReader("{}"))
	if err != nil {
		return 0, err
	}
	_ = resp.Body.Close()
	return resp.StatusCode, nil
}

// checkKustomize: kustomize (kubectl apply -k) builds the layout into
// every object written, Namespaces and Partners first.
func checkKustomize(t *testing.T, dir string, files map[string]string) {
	res, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatal(err)
	}
	objects := 0
	for p := range files {
		if !strings.HasSuffix(p, "kustomization.yaml") {
			objects++
		}
	}
	all := res.Resources()
	if len(all) != objects {
		t.Errorf("kustomize built %d objects; %d files hold one", len(all), objects)
	}
	namespaces := map[string]bool{}
	for _, r := range all {
		if r.GetKind() == "Namespace" {
			namespaces[r.GetName()] = true
		} else if ns := r.GetNamespace(); ns != "" && !namespaces[ns] {
			t.Fatalf("kustomize puts %s %s/%s before its Namespace", r.GetKind(), ns, r.GetName())
		}
	}
}

// checkWorkloadIdentity: a Partner with a workload identity and no Secret
// imports with a token of the operator's service account.
func checkWorkloadIdentity(t *testing.T, w *importWorld) {
	dir := filepath.Join(t.TempDir(), "wi")
	code, _, errOut := w.importIntoAs("tailspin", dir, "--customer", w.estate.PartnerCenter.Customers[0].TenantID)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	rr := snapshot(t, dir)[ns0+"resellerrelationship-customer0-tailspin.yaml"]
	if !strings.Contains(rr, "partnerRef: tailspin\n") {
		t.Errorf("ResellerRelationship:\n%s", rr)
	}
}
