package harness

import (
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/partnerops/multichannel-operator/internal/graph/graphsim"
	"github.com/partnerops/multichannel-operator/internal/partnercenter/sim"
)

// An estate a partner built without the operator, for the simulators to
// hold (sim.Server.SeedEstate, graphsim.Server.Seed) and kubectl
// multichannel import to read: the same options give the same estate,
// IDs included.

// EstateOptions shape a sample estate.
type EstateOptions struct {
	// Partner is the partner tenant that holds it.
	Partner string
	// Customers is how many customers it has.
	Customers int
	// Source and SourceName are the CSP partner the transfers under way
	// come from.
	Source, SourceName string
	// Prefix starts every customer's domain and GDAP display name, to keep
	// the estates of tests sharing a cluster apart.
	Prefix string
	// Now is the simulators' clock: terms started before it, transfers
	// were asked for two days before it.
	Now time.Time
}

// SampleEstate is the Partner Center and the Graph side of one estate.
type SampleEstate struct {
	PartnerCenter sim.Estate
	GDAP          []graphsim.SeededRelationship
}

// Role template IDs of the sample's GDAP relationships.
const (
	RoleHelpdesk     = "729827e3-9c14-49f7-bb1b-9608f156bbb8"
	RoleGlobalReader = "f2ef992c-3afb-46b9-b7cf-a126ee74c451"
	RoleUserAdmin    = "fe930be7-5e62-47db-91af-98c3a49a38b1"
)

var estateNamespace = uuid.MustParse("1f6b3c2e-5d4a-4e8b-9c7d-0a1b2c3d4e5f")

// EstateID is the sample's ID of what (a customer, a subscription...) i.
func EstateID(o EstateOptions, what string, i int) string {
	return uuid.NewSHA1(estateNamespace, fmt.Appendf(nil, "%s|%s|%s|%d", o.Partner, o.Prefix, what, i)).String()
}

// NewEstate is a sample estate: every customer holds two licenses and
// one GDAP relationship with one or two access assignments; every second
// one an Azure plan with two Azure subscriptions; every fifth a transfer
// under way from the source partner, of two licenses.
func NewEstate(o EstateOptions) SampleEstate {
	e := SampleEstate{PartnerCenter: sim.Estate{PartnerTenantID: o.Partner}}
	start := o.Now.UTC().Truncate(24*time.Hour).AddDate(0, -3, 0)
	month := o.Now.UTC().Truncate(24*time.Hour).AddDate(0, 0, -10)
	for i := range o.Customers {
		c := sim.EstateCustomer{TenantID: EstateID(o, "customer", i), Domain: fmt.Sprintf("%scustomer%d.onmicrosoft.com", o.Prefix, i),
			CompanyName: fmt.Sprintf("Customer %d", i), Country: "US",
			Licenses: []sim.EstateLicense{
				{ID: EstateID(o, "e3", i), OfferID: sim.E3CatalogItem, OfferName: "Microsoft 365 E3", Quantity: 10 + i%50, TermDuration: "P1Y",
					BillingCycle: "monthly", Start: start, End: start.AddDate(1, 0, 0), AutoRenew: true},
				{ID: EstateID(o, "basic", i), OfferID: sim.BusinessBasicCatalogItem, OfferName: "Microsoft 365 Business Basic", Quantity: 5,
					TermDuration: "P1M", BillingCycle: "monthly", Start: month, End: month.AddDate(0, 1, 0), AutoRenew: true}}}
		if i%2 == 0 {
			c.AzurePlan = &sim.EstateAzurePlan{ID: EstateID(o, "plan", i), Subscriptions: []sim.EstateAzureSubscription{
				{ID: EstateID(o, "azure-prod", i), FriendlyName: "Production"}, {ID: EstateID(o, "azure-dev", i), FriendlyName: "Development"}}}
		}
		if i%5 == 0 {
			c.Transfers = []sim.EstateTransfer{sampleTransfer(o, i)}
		}
		e.PartnerCenter.Customers = append(e.PartnerCenter.Customers, c)
		e.GDAP = append(e.GDAP, sampleRelationship(o, i, c.TenantID, c.CompanyName))
	}
	return e
}

func sampleTransfer(o EstateOptions, i int) sim.EstateTransfer {
	return sim.EstateTransfer{ID: EstateID(o, "transfer", i), SourcePartnerTenantID: o.Source, SourcePartnerName: o.SourceName,
		Created: o.Now.UTC().Add(-48 * time.Hour).Truncate(time.Second), LineItems: []sim.EstateTransferLine{
			{SubscriptionID: EstateID(o, "moving-e5", i), OfferID: sim.E5CatalogItem, FriendlyName: "Microsoft 365 E5", Quantity: 3, TermDuration: "P1Y", BillingCycle: "monthly"},
			{SubscriptionID: EstateID(o, "moving-premium", i), OfferID: sim.BusinessPremiumCatalogItem, FriendlyName: "Microsoft 365 Business Premium", Quantity: 7, TermDuration: "P1Y", BillingCycle: "annual"}}}
}

func sampleRelationship(o EstateOptions, i int, tenant, name string) graphsim.SeededRelationship {
	rel := graphsim.SeededRelationship{PartnerTenantID: o.Partner, ID: EstateID(o, "gdap", i) + "-" + EstateID(o, "gdap2", i),
		DisplayName: fmt.Sprintf("%sSupport %d", o.Prefix, i), Duration: "P730D", AutoExtendDuration: "P180D",
		CustomerTenantID: tenant, CustomerName: name, Roles: []string{RoleHelpdesk, RoleGlobalReader, RoleUserAdmin},
		ActivatedAt: o.Now.UTC().AddDate(0, -1, 0).Truncate(time.Second),
		Assignments: []graphsim.SeededAssignment{{ID: EstateID(o, "assign1", i), SecurityGroupID: EstateID(o, "group-helpdesk", i), Roles: []string{RoleHelpdesk}}}}
	if i%2 == 0 {
		rel.Assignments = append(rel.Assignments, graphsim.SeededAssignment{ID: EstateID(o, "assign2", i), SecurityGroupID: EstateID(o, "group-admins", i),
			Roles: []string{RoleGlobalReader, RoleUserAdmin}})
	}
	return rel
}
