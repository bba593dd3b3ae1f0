package notify

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode"
)

// Role is what a customer's contact may do in the customer's tenant.
type Role string

// A contact's roles.
const (
	// RoleGlobalAdmin is a Global Administrator of the customer's tenant.
	RoleGlobalAdmin Role = "GlobalAdmin"
	// RoleBilling is a Billing administrator of the customer's tenant.
	RoleBilling Role = "Billing"
	// RoleTechnical is a technical contact, who can act on none of the
	// actions alone and is sent nothing.
	RoleTechnical Role = "Technical"
)

// Contact is one of the customer's people.
type Contact struct {
	Name  string
	Email string
	Roles []Role
}

// ActionKind is something the customer must do for a partner.
type ActionKind string

// What a customer can be asked to do.
const (
	// AcceptResellerRelationship: accept the partner's reseller relationship request.
	AcceptResellerRelationship ActionKind = "AcceptResellerRelationship"
	// ApproveAdminRelationship: approve the partner's GDAP relationship request.
	ApproveAdminRelationship ActionKind = "ApproveAdminRelationship"
	// AcceptCustomerAgreement: accept the Microsoft Customer Agreement.
	AcceptCustomerAgreement ActionKind = "AcceptCustomerAgreement"
)

// Roles returns who at the customer can act on k (nil for an unknown kind),
// as Microsoft documents it:
//
//   - AcceptResellerRelationship: a Global Administrator. Partner Center:
//     "The person who accepts your request to establish a reseller
//     relationship must be a Global admin of your customer's tenant."
//     https://learn.microsoft.com/en-us/partner-center/customers-revoke-admin-privileges
//     (Microsoft 365's "Manage partner relationships" says "You must be at
//     least a Billing Administrator" for its steps, which include accepting
//     a partner relationship; the Partner Center page, which is about this
//     very request and the admin roles it may carry, is followed.)
//   - ApproveAdminRelationship: a Global Administrator ("Customer approval
//     of partner GDAP request", appropriate roles: Global admin).
//     https://learn.microsoft.com/en-us/partner-center/gdap-customer-approval
//   - AcceptCustomerAgreement: a Global Administrator or a Billing
//     administrator ("You must be at least a Billing Administrator", on the
//     page whose steps include "Review and accept a Microsoft Customer
//     Agreement").
//     https://learn.microsoft.com/en-us/microsoft-365/commerce/manage-partners
func (k ActionKind) Roles() []Role {
	switch k {
	case AcceptResellerRelationship, ApproveAdminRelationship:
		return []Role{RoleGlobalAdmin}
	case AcceptCustomerAgreement:
		return []Role{RoleGlobalAdmin, RoleBilling}
	}
	return nil
}

// Hosts returns the hosts Microsoft serves k's page from, the only hosts a
// link for k may point at (nil for an unknown kind):
//
//   - admin.microsoft.com, the Microsoft 365 admin center, for all three.
//     The GDAP invitation link is
//     https://admin.microsoft.com/AdminPortal/Home#/partners/invitation/granularAdminRelationships/{id}
//     (https://learn.microsoft.com/en-us/graph/api/resources/delegatedadminrelationships-api-overview),
//     the agreement's https://admin.microsoft.com/AdminPortal/Home?ref=/BillingAccounts/agreement
//     (https://learn.microsoft.com/en-us/partner-center/confirm-customer-agreement),
//     and Partner Center's reseller request opens the same admin center.
//   - portal.office365.us and portal.apps.mil, the Microsoft 365 admin
//     centers of GCC High and DoD
//     (https://learn.microsoft.com/en-us/microsoft-365/commerce/licenses/vl-sign-in),
//     for the reseller request and the GDAP approval, which Partner Center
//     and the GDAP API (US Government L4 and L5) offer in those clouds. Not
//     for the agreement: Partner Center for Microsoft Cloud for US
//     Government does not take the Microsoft Customer Agreement
//     (https://learn.microsoft.com/en-us/partner-center/developer/confirm-customer-consent-customer-agreement).
//     admin.microsoft.us is not listed: no Microsoft page found names it.
func (k ActionKind) Hosts() []string {
	switch k {
	case AcceptResellerRelationship, ApproveAdminRelationship:
		return []string{"admin.microsoft.com", "portal.office365.us", "portal.apps.mil"}
	case AcceptCustomerAgreement:
		return []string{"admin.microsoft.com"}
	}
	return nil
}

// Title is what the action asks, in a few words.
func (k ActionKind) Title() string {
	switch k {
	case AcceptResellerRelationship:
		return "Accept the reseller relationship"
	case ApproveAdminRelationship:
		return "Approve the admin relationship"
	case AcceptCustomerAgreement:
		return "Accept the Microsoft Customer Agreement"
	}
	return string(k)
}

// task is what the action asks, to follow "to" in a sentence.
func (k ActionKind) task() string {
	switch k {
	case AcceptResellerRelationship:
		return "accept a reseller relationship"
	case ApproveAdminRelationship:
		return "approve an admin relationship"
	case AcceptCustomerAgreement:
		return "accept the Microsoft Customer Agreement"
	}
	return string(k)
}

// Explanation says, in plain language, what to do about k, why, and who can
// do it; partner is the partner's display name.
func (k ActionKind) Explanation(partner string) string {
	switch k {
	case AcceptResellerRelationship:
		return fmt.Sprintf("Accept the reseller relationship: this lets %s sell and support your Microsoft subscriptions. "+
			"A Global Administrator of your organization must accept it in the Microsoft 365 admin center.", partner)
	case ApproveAdminRelationship:
		return fmt.Sprintf("Approve the admin relationship: this gives %s the administrator roles listed on the page, for a limited time, "+
			"so that it can manage your Microsoft services for you. Review the roles, then approve. "+
			"A Global Administrator of your organization must approve it.", partner)
	case AcceptCustomerAgreement:
		return fmt.Sprintf("Accept the Microsoft Customer Agreement: Microsoft requires it before %s can buy Microsoft subscriptions for you. "+
			"It is an agreement between your organization and Microsoft. A Global Administrator or a Billing administrator can accept it.", partner)
	}
	return string(k)
}

// Action is one thing the customer must do, with the link to do it.
type Action struct {
	Kind ActionKind
	// Object names the Kubernetes object it concerns, as namespace/name.
	Object string
	// URL is the link the customer opens to act; it is sent only if
	// CheckLink accepts it.
	URL string
	// ExpiresAt is when the request expires, if it does.
	ExpiresAt *time.Time
}

// Invitation is one delivery: the invitation (Reminder 0) or a reminder,
// for one customer and one partner.
type Invitation struct {
	// ID is the delivery's ID, recorded before sending: the idempotency key
	// the channel sees (the CloudEvent's id).
	ID string
	// Reminder is 0 for the invitation, n for the n-th reminder.
	Reminder int

	PartnerName        string
	PartnerDisplayName string

	CustomerNamespace   string
	CustomerName        string
	CustomerDisplayName string
	CustomerTenantID    string

	Contacts []Contact
	Actions  []Action
	// Time is when the delivery was recorded: the event's time, the same
	// every time the delivery is sent.
	Time time.Time
}

// partner is the partner's display name, or its name.
func (inv Invitation) partner() string { return orElse(inv.PartnerDisplayName, inv.PartnerName) }

// customer is the customer's display name, or its name.
func (inv Invitation) customer() string { return orElse(inv.CustomerDisplayName, inv.CustomerName) }

func orElse(s, fallback string) string {
	if strings.TrimSpace(s) == "" {
		return fallback
	}
	return s
}

// Message is one message: the contacts it goes to and the actions it asks
// of them, all of which each of them can act on.
type Message struct {
	To      []Contact
	Actions []Action
}

// Messages groups inv's contacts by the set of inv's actions their roles let
// them act on: one message per set, to every contact with that set. Each
// contact is in exactly one message, the one for everything its roles
// allow; a contact who can act on none of the actions (Technical only), or
// has no email address, is in none. A contact listed twice (the same email
// in another case) is one contact with the roles of both. Contacts are
// sorted by email, messages by their first contact's email; actions keep
// inv's order.
func Messages(inv Invitation) []Message {
	groups := map[string]*Message{}
	for _, c := range mergeContacts(inv.Contacts) {
		var acts []Action
		var key strings.Builder
		for i, a := range inv.Actions {
			if canAct(c, a.Kind) {
				acts = append(acts, a)
				fmt.Fprintf(&key, "%d,", i)
			}
		}
		if len(acts) == 0 {
			continue
		}
		m := groups[key.String()]
		if m == nil {
			m = &Message{Actions: acts}
			groups[key.String()] = m
		}
		m.To = append(m.To, c)
	}
	out := make([]Message, 0, len(groups))
	for _, m := range groups {
		out = append(out, *m)
	}
	sort.Slice(out, func(i, j int) bool { return emailKey(out[i].To[0]) < emailKey(out[j].To[0]) })
	return out
}

// mergeContacts drops contacts without an email, merges those listed
// twice, and sorts them by email.
func mergeContacts(in []Contact) []Contact {
	byEmail := map[string]int{}
	var out []Contact
	for _, c := range in {
		k := emailKey(c)
		if k == "" {
			continue
		}
		if i, ok := byEmail[k]; ok {
			for _, r := range c.Roles {
				if !slices.Contains(out[i].Roles, r) {
					out[i].Roles = append(out[i].Roles, r)
				}
			}
			continue
		}
		byEmail[k] = len(out)
		c.Roles = slices.Clone(c.Roles)
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return emailKey(out[i]) < emailKey(out[j]) })
	return out
}

func emailKey(c Contact) string { return strings.ToLower(strings.TrimSpace(c.Email)) }

// canAct reports whether one of c's roles can act on k.
func canAct(c Contact, k ActionKind) bool {
	for _, r := range k.Roles() {
		if slices.Contains(c.Roles, r) {
			return true
		}
	}
	return false
}

// ErrLinkRefused is wrapped by every error of CheckLink.
var ErrLinkRefused = errors.New("link refused")

// CheckLink accepts raw as the link for an action of kind only if it is an
// absolute https URL, on the default port, without user info, control
// characters, spaces or backslashes, whose host is one Microsoft serves
// kind's page from (kind.Hosts()). Anything else is refused with an error
// wrapping ErrLinkRefused: a poisoned status field cannot make the operator
// send its customers to a page of someone else's.
func CheckLink(kind ActionKind, raw string) error {
	hosts := kind.Hosts()
	if hosts == nil {
		return fmt.Errorf("%w: unknown action kind %q", ErrLinkRefused, kind)
	}
	refuse := func(why string, args ...any) error {
		return fmt.Errorf("%w: %s link %s: %s", ErrLinkRefused, kind, quoteLink(raw), fmt.Sprintf(why, args...))
	}
	if raw == "" {
		return refuse("empty")
	}
	if i := strings.IndexFunc(raw, func(r rune) bool { return unicode.IsControl(r) || unicode.IsSpace(r) || r == '\\' }); i >= 0 {
		return refuse("it holds a control character, a space or a backslash")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return refuse("not a URL: %v", errors.Unwrap(err))
	}
	switch {
	case u.Scheme != "https":
		return refuse("not https")
	case u.Opaque != "" || u.Host == "":
		return refuse("no host")
	case u.User != nil:
		return refuse("it carries user info")
	case u.Port() != "" && u.Port() != "443":
		return refuse("port %s is not https's", u.Port())
	}
	host := strings.ToLower(u.Hostname())
	if !slices.Contains(hosts, host) {
		return refuse("host %q is not one Microsoft serves this action from (%s)", host, strings.Join(hosts, ", "))
	}
	return nil
}

// quoteLink quotes a link for an error message, cut to 200 bytes.
func quoteLink(raw string) string {
	if len(raw) > 200 {
		return fmt.Sprintf("%q...", raw[:200])
	}
	return fmt.Sprintf("%q", raw)
}
