package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
)

// customerTarget reads cust/NAME (or customer/NAME): status shows a Customer.
func customerTarget(arg string) (string, bool) {
	typ, name, found := strings.Cut(arg, "/")
	switch strings.ToLower(typ) {
	case "cust", "customer", "customers":
		return name, found
	}
	return "", false
}

// printCustomer shows what each partner asks of the customer now, and the
// evidence: every delivery kept (when, to whom, through what, its IDs) and
// what the customer accepted.
func printCustomer(out io.Writer, c *v1alpha1.Customer) {
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	defer func() { _ = w.Flush() }()
	fmt.Fprintf(w, "Customer\t%s/%s (%s, tenant %s)\n", c.Namespace, c.Name, c.Spec.DisplayName, c.Spec.TenantID)
	for _, ct := range c.Spec.Contacts {
		roles := make([]string, 0, len(ct.Roles))
		for _, r := range ct.Roles {
			roles = append(roles, string(r))
		}
		fmt.Fprintf(w, "Contact\t%s <%s> (%s)\n", ct.Name, ct.Email, strings.Join(roles, ", "))
	}
	fmt.Fprintf(w, "Agreement\t%s\n", conditionLine(meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionAgreementAccepted)))
	fmt.Fprintf(w, "Invited\t%s\n", conditionLine(meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionInvited)))
	for _, inv := range c.Status.Invitations {
		next := "none"
		if inv.NextReminderAt != nil {
			next = inv.NextReminderAt.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(w, "Partner %s\tinvitation %d, %d reminder(s) sent, next reminder: %s\n", inv.Partner, inv.Round, inv.Reminders, next)
		for _, a := range inv.Actions {
			expires := ""
			if a.ExpiresAt != nil {
				expires = ", expires" + atTime(a.ExpiresAt)
			}
			fmt.Fprintf(w, "  Asks\t%s %s: %s%s\n", a.Kind, a.Object, a.URL, expires)
		}
		for _, d := range inv.Deliveries {
			fmt.Fprintf(w, "  Delivery\t%s %s #%d by %s to %s: %s%s%s\n", d.ID, d.Kind, d.Reminder, d.Channel,
				strings.Join(d.To, ", "), d.Result, deliveryWhen(d), deliveryDetail(d))
		}
		for _, a := range inv.Accepted {
			by := ""
			if a.By != "" {
				by = " by " + a.By
			}
			fmt.Fprintf(w, "  Accepted\t%s%s, seen%s after %d reminder(s)\n", a.Action, by, atTime(&a.SeenAt), a.Reminders)
		}
	}
	fmt.Fprintf(w, "Ready\t%s\n", conditionLine(meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionReady)))
}

func deliveryWhen(d v1alpha1.DeliveryRecord) string {
	if d.DeliveredAt != nil {
		return atTime(d.DeliveredAt)
	}
	return " (recorded" + atTime(&d.RecordedAt) + ")"
}

func deliveryDetail(d v1alpha1.DeliveryRecord) string {
	switch {
	case d.Error != "":
		return fmt.Sprintf(" after %d attempt(s): %s", d.Attempts, d.Error)
	case len(d.MessageIDs) > 0:
		return " (IDs " + strings.Join(d.MessageIDs, ", ") + ")"
	}
	return ""
}
