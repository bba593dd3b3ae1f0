package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
)

// TestPrintCustomerShowsTheEvidence: status cust/NAME shows what each
// partner asks, every delivery kept (to whom, through what, its IDs or its
// error) and what the customer accepted.
func TestPrintCustomerShowsTheEvidence(t *testing.T) {
	at := metav1.NewTime(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	c := &v1alpha1.Customer{ObjectMeta: metav1.ObjectMeta{Namespace: "woodgrove", Name: "woodgrove"},
		Spec: v1alpha1.CustomerSpec{DisplayName: "Woodgrove Bank", Contacts: []v1alpha1.CustomerContact{
			{Name: "Ada", Email: "ada@woodgrove.example", Roles: []v1alpha1.ContactRole{v1alpha1.ContactGlobalAdmin}}}},
		Status: v1alpha1.CustomerStatus{Invitations: []v1alpha1.CustomerInvitation{{
			Partner: "contoso-csp", Round: 1, Reminders: 1, NextReminderAt: &at,
			Actions: []v1alpha1.InvitationAction{{Kind: v1alpha1.ActionApproveAdminRelationship, Object: "DelegatedAdminRelationship/support", URL: "https://admin.microsoft.com/x"}},
			Deliveries: []v1alpha1.DeliveryRecord{
				{ID: "d2", Kind: v1alpha1.DeliveryReminder, Reminder: 1, Channel: v1alpha1.ChannelMail, To: []string{"ada@woodgrove.example"},
					Result: v1alpha1.DeliveryFailed, RecordedAt: at, Attempts: 2, Error: "mail from x: 403 ErrorAccessDenied"},
				{ID: "d1", Kind: v1alpha1.DeliveryInvitation, Channel: v1alpha1.ChannelMail, To: []string{"ada@woodgrove.example"},
					Result: v1alpha1.DeliveryDelivered, RecordedAt: at, DeliveredAt: &at, MessageIDs: []string{"d1-abcd"}},
			},
			Accepted: []v1alpha1.AcceptanceRecord{{Action: "AcceptResellerRelationship/ResellerRelationship/rr", SeenAt: at, By: "ada@woodgrove.example", Reminders: 1}},
		}}},
	}
	var out bytes.Buffer
	printCustomer(&out, c)
	for _, want := range []string{
		"Ada <ada@woodgrove.example> (GlobalAdmin)",
		"Partner contoso-csp  invitation 1, 1 reminder(s) sent, next reminder: 2026-12-01T09:00:00Z",
		"ApproveAdminRelationship DelegatedAdminRelationship/support: https://admin.microsoft.com/x",
		"d2 Reminder #1 by Mail to ada@woodgrove.example: Failed (recorded at 2026-12-01T09:00:00Z) after 2 attempt(s): mail from x: 403 ErrorAccessDenied",
		"d1 Invitation #0 by Mail to ada@woodgrove.example: Delivered at 2026-12-01T09:00:00Z (IDs d1-abcd)",
		"AcceptResellerRelationship/ResellerRelationship/rr by ada@woodgrove.example, seen at 2026-12-01T09:00:00Z after 1 reminder(s)",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("missing %q in\n%s", want, out.String())
		}
	}
	if name, ok := customerTarget("cust/woodgrove"); !ok || name != "woodgrove" {
		t.Errorf("cust/woodgrove read as %q, %v", name, ok)
	}
	if _, ok := customerTarget("rr/woodgrove"); ok {
		t.Error("rr/ read as a Customer")
	}
}
