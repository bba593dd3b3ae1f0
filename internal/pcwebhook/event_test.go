package pcwebhook

import "testing"

func TestAdminRelationshipID(t *testing.T) {
	id := "2f2a3b4c-1111-4222-8333-444455556666-7a8b9c0d-1111-4222-8333-444455556666"
	for uri, want := range map[string]string{
		"https://api.partnercenter.microsoft.com/v1/customers/2f2a3b4c-1111-4222-8333-444455556666/delegatedAdminRelationships/" + id: id,
		"https://api.partnercenter.microsoft.com/v1/customers/2f2a3b4c-1111-4222-8333-444455556666":                                   "",
		"https://api.partnercenter.microsoft.com/v1/delegatedAdminRelationships/a.b":                                                  "",
	} {
		if got := (Event{ResourceURI: uri}).AdminRelationshipID(); got != want {
			t.Errorf("%s: %q, want %q", uri, got, want)
		}
	}
}
