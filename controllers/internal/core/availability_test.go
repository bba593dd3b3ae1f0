package core

import (
	"strings"
	"testing"

	pc "github.com/partnerops/multichannel-operator/internal/partnercenter"
)

// TestChooseAvailability: the availability bought is one the catalog sells
// with the term and billing cycle asked for, within the SKU's quantity
// limits; otherwise the choice says what the catalog sells instead.
func TestChooseAvailability(t *testing.T) {
	basic := pc.Availability{ID: "CFQ7TTC0K971", CatalogItemID: "CFQ7TTC0LH18:0001:CFQ7TTC0K971", IsPurchasable: true,
		Terms: []pc.AvailabilityTerm{{Duration: "P1Y", BillingCycle: "Annual"}, {Duration: "P1Y", BillingCycle: "Monthly"}, {Duration: "P1M", BillingCycle: "Monthly"}}}
	plan := pc.Availability{ID: "DZH318Z0BML6", CatalogItemID: "DZH318Z0BPS6:0001:DZH318Z0BML6", IsPurchasable: true}
	sku := &pc.SKU{MinimumQuantity: 1, MaximumQuantity: 300}
	for _, tc := range []struct {
		name                string
		offer, term, cycle  string
		qty                 int
		list                []pc.Availability
		want, wantNotSoldIn string
	}{
		{"a term it sells", "CFQ7TTC0LH18:0001", "P1Y", "annual", 10, []pc.Availability{basic}, basic.CatalogItemID, ""},
		{"billing cycles compare without case", "CFQ7TTC0LH18:0001", "P1M", "monthly", 1, []pc.Availability{basic}, basic.CatalogItemID, ""},
		{"a named availability", "CFQ7TTC0LH18:0001:CFQ7TTC0K971", "P1Y", "monthly", 1, []pc.Availability{basic}, basic.CatalogItemID, ""},
		{"another availability than the one named", "CFQ7TTC0LH18:0001:CFQ7TTC0XXXX", "P1Y", "monthly", 1, []pc.Availability{basic}, "", "sells no availability"},
		{"a term it does not sell", "CFQ7TTC0LH18:0001", "P3Y", "triennial", 1, []pc.Availability{basic}, "", "it sells CFQ7TTC0LH18:0001:CFQ7TTC0K971 (P1Y Annual, P1Y Monthly, P1M Monthly)"},
		{"past the SKU's maximum", "CFQ7TTC0LH18:0001", "P1Y", "annual", 301, []pc.Availability{basic}, "", "quantities of 1 to 300, not 301"},
		{"nothing sold to the customer", "CFQ7TTC0LH18:0001", "P1Y", "annual", 1, nil, "", "sells no availability"},
		{"not purchasable", "CFQ7TTC0LH18:0001", "P1Y", "annual", 1, []pc.Availability{{CatalogItemID: "x", Terms: basic.Terms}}, "", "sells no availability"},
		{"a legacy offer", "MS-AZR-0003P", "P1Y", "monthly", 1, []pc.Availability{basic}, "", "not a new-commerce product and SKU"},
		{"the Azure plan, one_time and no term", "DZH318Z0BPS6:0001", "", pc.BillingCycleOneTime, 1, []pc.Availability{plan}, plan.CatalogItemID, ""},
		{"the Azure plan is not sold monthly", "DZH318Z0BPS6:0001", "P1M", "monthly", 1, []pc.Availability{plan}, "", "it sells DZH318Z0BPS6:0001:DZH318Z0BML6"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := ChooseAvailability(tc.offer, tc.term, tc.cycle, tc.qty, tc.list, sku)
			if got.CatalogItemID != tc.want || (tc.wantNotSoldIn == "") != (got.NotSold == "") || !strings.Contains(got.NotSold, tc.wantNotSoldIn) {
				t.Errorf("chose %q, not sold %q; want %q, not sold containing %q", got.CatalogItemID, got.NotSold, tc.want, tc.wantNotSoldIn)
			}
		})
	}
}
