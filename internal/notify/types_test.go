package notify_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/partnerops/multichannel-operator/internal/notify"
)

const (
	gdapLink     = "https://admin.microsoft.com/AdminPortal/Home#/partners/invitation/granularAdminRelationships/5d027261-d21f-4aa9-b7db-7fa1f56fb163-8777b240-c6f0-4469-9e98-a3205431b836"
	mcaLink      = "https://admin.microsoft.com/AdminPortal/Home?ref=/BillingAccounts/agreement"
	resellerLink = "https://admin.microsoft.com/Adminportal/Home?invType=ResellerRelationship#/BillingAccounts/partner-invitation"
)

var (
	reseller = notify.Action{Kind: notify.AcceptResellerRelationship, Object: "tenants/contoso-reseller", URL: resellerLink}
	gdap     = notify.Action{Kind: notify.ApproveAdminRelationship, Object: "tenants/contoso-gdap", URL: gdapLink}
	mca      = notify.Action{Kind: notify.AcceptCustomerAgreement, Object: "tenants/contoso", URL: mcaLink}

	ada = notify.Contact{Name: "Ada", Email: "ada@contoso.com", Roles: []notify.Role{notify.RoleGlobalAdmin}}
	bob = notify.Contact{Name: "Bob", Email: "bob@contoso.com", Roles: []notify.Role{notify.RoleBilling}}
	tom = notify.Contact{Name: "Tom", Email: "tom@contoso.com", Roles: []notify.Role{notify.RoleTechnical}}
	gil = notify.Contact{Name: "Gil", Email: "gil@contoso.com", Roles: []notify.Role{notify.RoleBilling, notify.RoleGlobalAdmin}}
	bea = notify.Contact{Name: "Bea", Email: "bea@contoso.com", Roles: []notify.Role{notify.RoleTechnical, notify.RoleBilling}}
)

// summary writes messages as "to=a,b actions=Kind:object,..." lines.
func summary(ms []notify.Message) []string {
	var out []string
	for _, m := range ms {
		var to, acts []string
		for _, c := range m.To {
			to = append(to, c.Email)
		}
		for _, a := range m.Actions {
			acts = append(acts, string(a.Kind)+":"+a.Object)
		}
		out = append(out, fmt.Sprintf("to=%s actions=%s", strings.Join(to, ","), strings.Join(acts, ",")))
	}
	return out
}

func TestMessages(t *testing.T) {
	all := "AcceptResellerRelationship:tenants/contoso-reseller,ApproveAdminRelationship:tenants/contoso-gdap,AcceptCustomerAgreement:tenants/contoso"
	for _, tc := range []struct {
		name     string
		contacts []notify.Contact
		actions  []notify.Action
		want     []string
	}{
		{"each role its own message", []notify.Contact{tom, bob, ada}, []notify.Action{reseller, gdap, mca},
			[]string{"to=ada@contoso.com actions=" + all, "to=bob@contoso.com actions=AcceptCustomerAgreement:tenants/contoso"}},
		{"the agreement alone goes to global and billing admins together", []notify.Contact{bob, tom, ada}, []notify.Action{mca},
			[]string{"to=ada@contoso.com,bob@contoso.com actions=AcceptCustomerAgreement:tenants/contoso"}},
		{"nobody can approve GDAP", []notify.Contact{bob, tom, bea}, []notify.Action{reseller, gdap}, nil},
		{"grouped by what they can do, not by their roles", []notify.Contact{bea, gil, ada}, []notify.Action{reseller, mca},
			[]string{
				"to=ada@contoso.com,gil@contoso.com actions=AcceptResellerRelationship:tenants/contoso-reseller,AcceptCustomerAgreement:tenants/contoso",
				"to=bea@contoso.com actions=AcceptCustomerAgreement:tenants/contoso",
			}},
		{"one contact listed twice is one recipient with both roles",
			[]notify.Contact{{Name: "Ada B", Email: "ADA@contoso.com", Roles: []notify.Role{notify.RoleBilling}}, ada}, []notify.Action{reseller, mca},
			[]string{"to=ADA@contoso.com actions=AcceptResellerRelationship:tenants/contoso-reseller,AcceptCustomerAgreement:tenants/contoso"}},
		{"a contact without email is skipped", []notify.Contact{{Name: "No mail", Roles: []notify.Role{notify.RoleGlobalAdmin}}, bob}, []notify.Action{gdap, mca},
			[]string{"to=bob@contoso.com actions=AcceptCustomerAgreement:tenants/contoso"}},
		{"nothing asked", []notify.Contact{ada, bob}, nil, nil},
		{"an unknown action reaches no one", []notify.Contact{ada}, []notify.Action{{Kind: "Pay", Object: "x", URL: mcaLink}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := summary(notify.Messages(notify.Invitation{Contacts: tc.contacts, Actions: tc.actions}))
			if !slices.Equal(got, tc.want) {
				t.Errorf("Messages:\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

// TestMessagesDoNotChangeContacts: merging a contact listed twice does not
// write into the caller's roles.
func TestMessagesDoNotChangeContacts(t *testing.T) {
	contacts := []notify.Contact{ada, {Email: "ada@contoso.com", Roles: []notify.Role{notify.RoleBilling}}}
	roles := slices.Clone(ada.Roles)
	_ = notify.Messages(notify.Invitation{Contacts: contacts, Actions: []notify.Action{mca}})
	if !slices.Equal(contacts[0].Roles, roles) {
		t.Errorf("the caller's roles became %v", contacts[0].Roles)
	}
}

func TestRoles(t *testing.T) {
	for kind, want := range map[notify.ActionKind][]notify.Role{
		notify.AcceptResellerRelationship: {notify.RoleGlobalAdmin},
		notify.ApproveAdminRelationship:   {notify.RoleGlobalAdmin},
		notify.AcceptCustomerAgreement:    {notify.RoleGlobalAdmin, notify.RoleBilling},
		"Unknown":                         nil,
	} {
		if got := kind.Roles(); !slices.Equal(got, want) {
			t.Errorf("%s.Roles() = %v, want %v", kind, got, want)
		}
	}
}

func TestCheckLink(t *testing.T) {
	for _, tc := range []struct {
		kind    notify.ActionKind
		link    string
		wantErr string // "" accepts
	}{
		{notify.ApproveAdminRelationship, gdapLink, ""},
		{notify.AcceptCustomerAgreement, mcaLink, ""},
		{notify.AcceptResellerRelationship, resellerLink, ""},
		{notify.AcceptResellerRelationship, "https://ADMIN.Microsoft.com:443/AdminPortal", ""},
		{notify.ApproveAdminRelationship, "https://portal.office365.us/adminportal/home#/partners", ""},
		{notify.AcceptResellerRelationship, "https://portal.apps.mil/adminportal/home", ""},
		{notify.AcceptCustomerAgreement, "https://portal.office365.us/adminportal/home", `host "portal.office365.us" is not one`},
		{notify.ApproveAdminRelationship, "http://admin.microsoft.com/AdminPortal", "not https"},
		{notify.ApproveAdminRelationship, "https://evil.example.com/AdminPortal", `host "evil.example.com" is not one`},
		{notify.ApproveAdminRelationship, "https://admin.microsoft.com.evil.example.com/", "is not one"},
		{notify.ApproveAdminRelationship, "https://evil.example.com/?next=https://admin.microsoft.com/", "is not one"},
		{notify.ApproveAdminRelationship, "https://admin.microsoft.com./AdminPortal", "is not one"},
		{notify.ApproveAdminRelationship, "https://user@admin.microsoft.com/AdminPortal", "user info"},
		{notify.ApproveAdminRelationship, "https://admin.microsoft.com:pw@evil.example.com/", "user info"},
		{notify.ApproveAdminRelationship, "https://admin.microsoft.com:8443/AdminPortal", "port 8443"},
		{notify.ApproveAdminRelationship, "https://admin.microsoft.com\\@evil.example.com/", "backslash"},
		{notify.ApproveAdminRelationship, "https://admin.microsoft.com/a\r\nBcc: x", "control character"},
		{notify.ApproveAdminRelationship, "javascript:alert(1)", "not https"},
		{notify.ApproveAdminRelationship, "https:admin.microsoft.com", "no host"},
		{notify.ApproveAdminRelationship, "//admin.microsoft.com/AdminPortal", "not https"},
		{notify.ApproveAdminRelationship, "", "empty"},
		{"Pay", mcaLink, "unknown action kind"},
	} {
		err := notify.CheckLink(tc.kind, tc.link)
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("CheckLink(%s, %q) = %v, want nil", tc.kind, tc.link, err)
		case tc.wantErr != "" && (err == nil || !errors.Is(err, notify.ErrLinkRefused) || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("CheckLink(%s, %q) = %v, want ErrLinkRefused about %q", tc.kind, tc.link, err, tc.wantErr)
		}
	}
}
