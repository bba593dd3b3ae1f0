package estate

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	"github.com/partnerops/multichannel-operator/internal/graph"
	pc "github.com/partnerops/multichannel-operator/internal/partnercenter"
)

const (
	contoso  = "6f1bd5c1-0d3b-4c5e-9bb1-7f4f9d2b6a10"
	fabrikam = "0b4e8e3a-7c1d-4f0e-a0d2-3f9a1c6e5b21"
	customer = "2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e"
)

func partner() *v1alpha1.Partner {
	return &v1alpha1.Partner{ObjectMeta: metav1.ObjectMeta{Name: "contoso-csp"}, Spec: v1alpha1.PartnerSpec{TenantID: contoso, Country: "US",
		CSPType: v1alpha1.CSPTypeDirectBill, NamespaceSelector: &metav1.LabelSelector{}}}
}

func woodgrove(domain, id string) CustomerEstate {
	return CustomerEstate{Customer: pc.Customer{ID: id, RelationshipToPartner: pc.RelationshipReseller,
		CompanyProfile: pc.CompanyProfile{TenantID: id, Domain: domain, CompanyName: "Woodgrove", Address: &pc.Address{Country: "us"}}}}
}

func build(t *testing.T, cs ...CustomerEstate) *Manifests {
	t.Helper()
	m, err := Build(&Estate{Customers: cs}, BuildOptions{Partner: partner(), OperatorNamespace: "multichannel-system",
		KnownPartners: []v1alpha1.Partner{{ObjectMeta: metav1.ObjectMeta{Name: "northwind"}, Spec: v1alpha1.PartnerSpec{TenantID: "3c9d2e1f-4a5b-4c6d-8e7f-9a0b1c2d3e4f"}}}})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func notes(m *Manifests) string { return strings.Join(m.Notes, "\n") }

// TestBuildNotesWhatItCannotWrite: what the schema would refuse, or the
// import cannot know, is left out with a note naming it, and the rest of
// the customer is written.
func TestBuildNotesWhatItCannotWrite(t *testing.T) {
	now := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	end := now.AddDate(1, 0, 0)
	ce := woodgrove("woodgrove.onmicrosoft.com", customer)
	ce.Subscriptions = []pc.Subscription{
		{ID: "no-end", OfferID: "CFQ7TTC0LFLX:0001", OfferName: "E3", Quantity: 1, Status: pc.SubscriptionActive, BillingType: pc.BillingLicense},
		{ID: "expired", OfferID: "CFQ7TTC0LFLX:0001", OfferName: "E3", Quantity: 1, Status: pc.SubscriptionExpired, BillingType: pc.BillingLicense, CommitmentEndDate: &end},
		{ID: "ok", OfferID: "CFQ7TTC0LFLX:0001", OfferName: "E3", Quantity: 2, Status: pc.SubscriptionSuspended, BillingType: pc.BillingLicense, CommitmentEndDate: &end},
		{ID: "plan", OfferID: pc.AzurePlanProduct + ":" + pc.AzurePlanSKU, Status: pc.SubscriptionActive, BillingType: pc.BillingUsage},
	}
	ce.Transfers = []pc.Transfer{
		{ID: "5d027261-d21f-4aa9-b7db-7fa1f56fb163", Status: pc.TransferActive, SourcePartnerTenantID: fabrikam, TargetPartnerTenantID: contoso, CreatedTime: &now},
		{ID: "6d027261-d21f-4aa9-b7db-7fa1f56fb163", Status: pc.TransferActive, SourcePartnerTenantID: contoso, TargetPartnerTenantID: fabrikam, CreatedTime: &now},
		{ID: "7d027261-d21f-4aa9-b7db-7fa1f56fb163", Status: pc.TransferCompleted, SourcePartnerTenantID: fabrikam, TargetPartnerTenantID: contoso, CreatedTime: &now,
			LineItems: []pc.TransferLineItem{{SubscriptionID: "done", OfferID: "x"}}},
	}
	ce.GDAP = []GDAP{
		{Relationship: graph.Relationship{DisplayName: "odd duration", Duration: "P3Y", AccessDetails: graph.NewAccessDetails([]string{"729827e3-9c14-49f7-bb1b-9608f156bbb8"})}},
		{Relationship: graph.Relationship{DisplayName: "odd role", Duration: "P90D", AccessDetails: graph.NewAccessDetails([]string{"not-a-role"})}},
		{Relationship: graph.Relationship{DisplayName: "fine", Duration: "P90D", AccessDetails: graph.NewAccessDetails([]string{"729827e3-9c14-49f7-bb1b-9608f156bbb8"}),
			Customer: &graph.CustomerParticipant{TenantID: strings.ToUpper(customer)}},
			Assignments: []graph.AccessAssignment{{Status: graph.AssignmentActive, AccessContainer: &graph.AccessContainer{ID: "227a2f44-2682-4831-a021-f8d69a34bcba"},
				AccessDetails: graph.NewAccessDetails([]string{v1alpha1.GlobalAdministratorRoleID})}}},
	}
	m := build(t, ce)
	for _, want := range []string{"license no-end of customer woodgrove (E3) has no commitmentEndDate", "license expired of customer woodgrove (E3) is expired",
		"has no line items yet", "moves subscriptions from the partner to another partner", `"odd duration" of customer woodgrove: its duration "P3Y"`,
		`"odd role" of customer woodgrove: its roles are not`, "the access assignment of group 227a2f44-2682-4831-a021-f8d69a34bcba is not",
		`"fine" of customer woodgrove: Graph writes the customer's tenant 2B3C4D5E`} {
		if !strings.Contains(notes(m), want) {
			t.Errorf("no note %q in:\n%s", want, notes(m))
		}
	}
	if strings.Contains(notes(m), "7d027261") {
		t.Errorf("a completed transfer is noted:\n%s", notes(m))
	}
	if n := len(m.Namespaces); n != 1 || len(m.Namespaces[0].Objects) != 5 || m.Counts.Licenses != 1 || m.Counts.GDAP != 1 || m.Counts.AccessAssignments != 0 || m.Counts.AzurePlans != 1 {
		t.Errorf("%d namespaces, counts %+v", n, m.Counts)
	}
	if sel := partner(); sel.Spec.NamespaceSelector != nil && strings.Contains(notes(m), "namespaceSelector") {
		t.Errorf("a selector of every namespace is noted:\n%s", notes(m))
	}
}

// TestBuildRefusesCollidingNamespaces: two customers that would share a
// namespace fail the build, naming both, rather than one overwriting the
// other.
func TestBuildRefusesCollidingNamespaces(t *testing.T) {
	_, err := Build(&Estate{Customers: []CustomerEstate{woodgrove("woodgrove.onmicrosoft.com", customer), woodgrove("woodgrove.onmicrosoft.com", fabrikam)}},
		BuildOptions{Partner: partner()})
	if err == nil || !strings.Contains(err.Error(), customer) || !strings.Contains(err.Error(), fabrikam) {
		t.Errorf("Build = %v", err)
	}
}

// TestBuildTransfers: a source partner the cluster holds keeps its name
// and gets no manifest; an unknown one gets one reference-only Partner for
// all its transfers; a subscription in two transfers under way is written
// once, with the newer.
func TestBuildTransfers(t *testing.T) {
	older, newer := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	line := pc.TransferLineItem{SubscriptionID: "sub-1", OfferID: "CFQ7TTC0LFLZ:0002", FriendlyName: "E5", Quantity: 3, TermDuration: "P1M"}
	ce := woodgrove("woodgrove.onmicrosoft.com", customer)
	ce.Transfers = []pc.Transfer{
		{ID: "1d027261-d21f-4aa9-b7db-7fa1f56fb163", Status: pc.TransferActive, SourcePartnerTenantID: fabrikam, SourcePartnerName: "Fabrikam", TargetPartnerTenantID: contoso, CreatedTime: &older, LineItems: []pc.TransferLineItem{line}},
		{ID: "2d027261-d21f-4aa9-b7db-7fa1f56fb163", Status: pc.TransferInProgress, SourcePartnerTenantID: fabrikam, SourcePartnerName: "Fabrikam", TargetPartnerTenantID: contoso, CreatedTime: &newer, LineItems: []pc.TransferLineItem{line}},
		{ID: "3d027261-d21f-4aa9-b7db-7fa1f56fb163", Status: pc.TransferActive, SourcePartnerTenantID: "3C9D2E1F-4A5B-4C6D-8E7F-9A0B1C2D3E4F", TargetPartnerTenantID: contoso, CreatedTime: &older,
			LineItems: []pc.TransferLineItem{{SubscriptionID: "sub-2", OfferID: "MS-AZR-0145P", FriendlyName: "Azure"}}},
	}
	m := build(t, ce)
	var subs []*v1alpha1.CustomerSubscription
	for _, o := range m.Namespaces[0].Objects {
		if s, ok := o.(*v1alpha1.CustomerSubscription); ok {
			subs = append(subs, s)
		}
	}
	if len(subs) != 2 || len(m.Partners) != 1 || m.Partners[0].Name != "fabrikam-0b4e8e3a" || m.Counts.SourcePartners != 2 || m.Counts.Transfers != 3 {
		t.Fatalf("%d subscriptions, partners %v, counts %+v", len(subs), m.Partners, m.Counts)
	}
	azure, e5 := subs[0], subs[1] // by name
	if e5.Spec.TransferID != "2d027261-d21f-4aa9-b7db-7fa1f56fb163" || e5.Spec.Term.EndDate.Time != newer.AddDate(0, 1, 0) || *e5.Spec.Quantity != 3 ||
		!strings.Contains(notes(m), "imported with the newer, 2d027261") {
		t.Errorf("the line item in two transfers: %+v\n%s", e5.Spec, notes(m))
	}
	if azure.Spec.Channel.PartnerRef != "northwind" || azure.Spec.ServiceType != v1alpha1.ServiceUsageBased || azure.Spec.Term != nil || azure.Spec.Commerce != v1alpha1.CommerceLegacy {
		t.Errorf("a legacy Azure line item from a known partner: %+v", azure.Spec)
	}
}

// TestBuildSelectorNotes: a partner no namespace may act through, or one
// whose selector the import cannot write labels for, is noted.
func TestBuildSelectorNotes(t *testing.T) {
	for _, tc := range []struct {
		sel  *metav1.LabelSelector
		want string
	}{
		{nil, "has no spec.namespaceSelector"},
		{&metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "a", Operator: metav1.LabelSelectorOpExists}}}, "matchExpressions"},
		{&metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": "one"}}, "selects namespace one by name only"},
	} {
		p := partner()
		p.Spec.NamespaceSelector = tc.sel
		m, err := Build(&Estate{}, BuildOptions{Partner: p})
		if err != nil || !strings.Contains(notes(m), tc.want) {
			t.Errorf("selector %+v: %v, notes %q", tc.sel, err, notes(m))
		}
	}
}
