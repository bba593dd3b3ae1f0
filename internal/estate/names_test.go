package estate

import (
	"strings"
	"testing"
)

// TestNamespaceName: a tenant's initial domain is its namespace; anything
// else is slugged and made unique by the tenant; names stay valid labels.
func TestNamespaceName(t *testing.T) {
	const tenant = "2B3C4D5E-6F7A-4B8C-9D0E-1F2A3B4C5D6E"
	h := hash8(tenant)
	for _, tc := range []struct{ domain, want string }{
		{"woodgrove.onmicrosoft.com", "woodgrove"},
		{"WoodGrove.OnMicrosoft.com.", "woodgrove"},
		{"woodgrove.com", "woodgrove-com-" + h},
		{"sub.woodgrove.onmicrosoft.com", "sub-woodgrove-onmicrosoft-com-" + h},
		{"default.onmicrosoft.com", "default-onmicrosoft-com-" + h},
		{"kube-system.onmicrosoft.com", "kube-system-onmicrosoft-com-" + h},
		{"multichannel-system.onmicrosoft.com", "multichannel-system-onmicrosoft-com-" + h},
		{"", "tenant-" + h},
		{strings.Repeat("a", 64) + ".onmicrosoft.com", strings.Repeat("a", 54) + "-" + h},
	} {
		got := NamespaceName(tc.domain, tenant, "multichannel-system")
		if got != tc.want || len(got) > 63 || !dnsLabel.MatchString(got) {
			t.Errorf("NamespaceName(%q) = %q, want %q (a DNS label)", tc.domain, got, tc.want)
		}
	}
	if a, b := NamespaceName("contoso.com", tenant, ""), NamespaceName("contoso.com", "0b4e8e3a-7c1d-4f0e-a0d2-3f9a1c6e5b21", ""); a == b {
		t.Errorf("two tenants with one custom domain share namespace %s", a)
	}
}

// TestObjectNames: names are slugs of what an object is plus what makes
// it unique, within the limits Kubernetes sets.
func TestObjectNames(t *testing.T) {
	if got := subscriptionName("Microsoft 365 E3 (annual)", "A356AC8C-E310-44F4-BF85-C7F29044AF99"); got != "microsoft-365-e3-annual-a356ac8c-e310-44f4-bf85-c7f29044af99" {
		t.Errorf("subscriptionName = %q", got)
	}
	if got := subscriptionName("", "a356ac8c"); got != "subscription-a356ac8c" {
		t.Errorf("subscriptionName without a name = %q", got)
	}
	long := subscriptionName(strings.Repeat("Dynamics 365 ", 20), "a356ac8c-e310-44f4-bf85-c7f29044af99")
	if len(long) > 80 || !strings.HasSuffix(long, "-a356ac8c-e310-44f4-bf85-c7f29044af99") {
		t.Errorf("a long name: %q", long)
	}
	if a, b := relationshipName("Contoso admin"), relationshipName("contoso-admin"); a == b || !strings.HasPrefix(a, "contoso-admin-") {
		t.Errorf("two display names share %s and %s", a, b)
	}
	if got := partnerName("Fabrikam, Inc.", "0B4E8E3A-7c1d-4f0e-a0d2-3f9a1c6e5b21"); got != "fabrikam-inc-0b4e8e3a" {
		t.Errorf("partnerName = %q", got)
	}
	if got := slug("--Ünïcode & co--", 63); got != "n-code-co" {
		t.Errorf("slug = %q", got)
	}
}
