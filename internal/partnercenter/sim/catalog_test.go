package sim

import (
	"regexp"
	"testing"
)

func TestAudienceOf(t *testing.T) {
	for scope, want := range map[string]string{
		"https://api.partnercenter.microsoft.com/.default":                          PartnerCenterAudience,
		"https://api.partnercenter.microsoft.com/user_impersonation offline_access": PartnerCenterAudience,
		"offline_access https://management.azure.com/.default":                      "https://management.azure.com",
		"https://management.azure.com//.default":                                    "https://management.azure.com/",
		"https://graph.microsoft.com/.default":                                      "https://graph.microsoft.com",
		"openid offline_access":                                                     graphAppID,
		"User.Read":                                                                 graphAppID,
	} {
		if got := audienceOf(scope); got != want {
			t.Errorf("audienceOf(%q) = %q, want %q", scope, got, want)
		}
	}
}

// TestBillingAccountName: the documented form, the same for a tenant
// however it is cased, another for another tenant.
func TestBillingAccountName(t *testing.T) {
	form := regexp.MustCompile(`^[0-9a-f-]{36}:[0-9a-f-]{36}_\d{4}-\d{2}-\d{2}$`)
	a := BillingAccountName("6f1bd5c1-0d3b-4c5e-9bb1-7f4f9d2b6a10")
	if !form.MatchString(a) || a != BillingAccountName("6F1BD5C1-0D3B-4C5E-9BB1-7F4F9D2B6A10") || a == BillingAccountName("0b4e8e3a-7c1d-4f0e-a0d2-3f9a1c6e5b21") {
		t.Errorf("BillingAccountName = %q", a)
	}
}

// TestCatalogTerms: each license availability sells the terms whose
// billing cycle its SKU supports, and each term once.
func TestCatalogTerms(t *testing.T) {
	for _, c := range defaultCatalog() {
		seen := map[string]bool{}
		for _, term := range c.terms {
			key := term.Duration + " " + term.BillingCycle
			if seen[key] || seen[term.ID] || !containsFold(c.cycles, canonicalCycle(term.BillingCycle)) {
				t.Errorf("%s: term %+v", c.catalogItemID(), term)
			}
			seen[key], seen[term.ID] = true, true
		}
		if c.usage != (len(c.terms) == 0) || len(c.availability) != 12 {
			t.Errorf("%s: %d terms, usage %v", c.catalogItemID(), len(c.terms), c.usage)
		}
	}
}
