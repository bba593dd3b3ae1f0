package controllers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	"github.com/partnerops/multichannel-operator/internal/pass"
)

// Reaching the customer: every path waits on the customer's people, who
// must open the reseller request link, approve the GDAP relationship and
// accept the Microsoft Customer Agreement. The Customer reconciler gathers
// what each partner asks of the customer now (status.invitations[].actions),
// and, through the Partner's spec.delivery channel, tells the contacts who
// can act: one invitation per customer and partner when the actions change,
// then reminders on the partner's cadence until the customer acts.
//
// A delivery is exactly-once as a purchase is: recorded in status under an
// ID derived from the customer, the partner, the invitation's round and the
// reminder's number; the pass ends with that write; the next pass sends it
// with the ID as the idempotency key the channel sees (the mail's extended
// property, looked for in the mailbox's Sent Items before sending; the
// CloudEvent's id), then records the result.

// DefaultReminders is the cadence when a Partner's spec.delivery.reminders
// leaves a field out (the CRD's defaults say the same).
var DefaultReminders = reminderPolicy{every: 72 * time.Hour, max: 3, beforeExpiry: 48 * time.Hour}

// maxKeptDeliveries and maxKeptAcceptances bound the evidence kept in status.
const (
	maxKeptDeliveries  = 10
	maxKeptAcceptances = 10
	maxInvitations     = 16
)

// reminderPolicy is a Partner's reminder cadence with its defaults applied.
type reminderPolicy struct {
	every, beforeExpiry time.Duration
	max                 int32
	// retry is the first wait after a failed delivery (Options.DeliveryRetry).
	retry time.Duration
}

func remindersOf(d *v1alpha1.Delivery) reminderPolicy {
	p := DefaultReminders
	if d == nil || d.Reminders == nil {
		return p
	}
	if e := d.Reminders.EveryHours; e != nil && *e >= 1 {
		p.every = time.Duration(*e) * time.Hour
	}
	if b := d.Reminders.BeforeExpiryHours; b != nil && *b >= 0 {
		p.beforeExpiry = time.Duration(*b) * time.Hour
	}
	if m := d.Reminders.MaxReminders; m != nil && *m >= 0 {
		p.max = *m
	}
	return p
}

// invitationScope is what the invitation step of one Customer pass works with.
type invitationScope struct {
	customer *v1alpha1.Customer
	// agreement is AgreementAccepted as the agreement step of this pass
	// found it.
	agreement *metav1.Condition
	// summarized: the pass reached the step; invited is its condition
	// Invited then, unknown when the Customer has no invitation.
	summarized bool
	invited    pass.Gate
	now        time.Time
	event      func(eventType, reason, format string, args ...any)
	// recorded is set when the pass recorded a delivery attempt or its
	// result.
	recorded bool
	// accepted are the acceptances seen, observed in the metrics once the
	// pass's write succeeded.
	accepted []acceptance
	// stalled is set when a channel refused a delivery.
	stalled string
	// sent is what the channels did in this pass, to be written even if the
	// pass's status write conflicts.
	sent []sentDelivery
}

// actionsByPartner gathers what each partner asks of the customer now: its
// reseller relationship requests waiting for the customer, its GDAP
// relationships waiting for approval, and the Microsoft Customer Agreement
// when Partner Center holds none and the partner reads it. Each list is in
// a stable order.
func actionsByPartner(c *v1alpha1.Customer, agreement *metav1.Condition, rrs []v1alpha1.ResellerRelationship, gdaps []v1alpha1.DelegatedAdminRelationship) map[string][]v1alpha1.InvitationAction {
	out := map[string][]v1alpha1.InvitationAction{}
	for i := range rrs {
		rr := &rrs[i]
		if rr.DeletionTimestamp != nil || rr.Status.Phase != v1alpha1.RelationshipRequested || rr.Status.InvitationURL == "" {
			continue
		}
		a := v1alpha1.InvitationAction{Kind: v1alpha1.ActionAcceptResellerRelationship, Object: "ResellerRelationship/" + rr.Name, URL: rr.Status.InvitationURL}
		if rr.Status.RequestedAt != nil {
			a.ExpiresAt = &metav1.Time{Time: expiresAt(rr)}
		}
		out[rr.Spec.PartnerRef] = append(out[rr.Spec.PartnerRef], a)
	}
	for i := range gdaps {
		g := &gdaps[i]
		if g.DeletionTimestamp != nil || g.Status.Phase != v1alpha1.GDAPApprovalPending || g.Status.InvitationURL == "" {
			continue
		}
		out[g.Spec.PartnerRef] = append(out[g.Spec.PartnerRef], v1alpha1.InvitationAction{
			Kind: v1alpha1.ActionApproveAdminRelationship, Object: "DelegatedAdminRelationship/" + g.Name, URL: g.Status.InvitationURL})
	}
	if partner, ok := agreementAsked(c, agreement); ok {
		out[partner] = append(out[partner], v1alpha1.InvitationAction{
			Kind: v1alpha1.ActionAcceptCustomerAgreement, Object: "Customer/" + c.Name, URL: CustomerAgreementLink})
	}
	for p := range out {
		sort.Slice(out[p], func(i, j int) bool { return actionKey(out[p][i]) < actionKey(out[p][j]) })
	}
	return out
}

// CustomerAgreementLink is where a customer's administrator reviews and
// accepts the Microsoft Customer Agreement in the Microsoft 365 admin
// center, as Partner Center's "Confirm customer acceptance of the Microsoft
// Customer Agreement" gives it to partners
// (https://learn.microsoft.com/partner-center/confirm-customer-agreement).
const CustomerAgreementLink = "https://admin.microsoft.com/AdminPortal/Home?ref=/BillingAccounts/agreement"

// agreementAsked says whether the customer must accept the Microsoft
// Customer Agreement, and which partner asks: the one the operator reads it
// through, when Partner Center holds no acceptance and spec.agreement
// records none the operator could confirm. cond is AgreementAccepted as the
// agreement step of this pass found it.
func agreementAsked(c *v1alpha1.Customer, cond *metav1.Condition) (string, bool) {
	// False, not Unknown: Partner Center was read and holds none.
	if cond == nil || cond.Status != metav1.ConditionFalse || cond.Reason != v1alpha1.ReasonAgreementMissing || c.Spec.Agreement != nil ||
		c.Status.Agreement == nil || c.Status.Agreement.Partner == "" {
		return "", false
	}
	return c.Status.Agreement.Partner, true
}

func actionKey(a v1alpha1.InvitationAction) string { return string(a.Kind) + "/" + a.Object }

// actionsDigest identifies a set of actions: a new one gets a new invitation.
func actionsDigest(actions []v1alpha1.InvitationAction) string {
	h := sha256.New()
	for _, a := range actions {
		fmt.Fprintf(h, "%s\x00%s\x00%s\x00", a.Kind, a.Object, a.URL)
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// deliveryID derives a delivery's ID from what it is: the same customer,
// partner, round and reminder give the same ID, so recording it again (from
// a stale cache, or on another replica) records the same delivery.
func deliveryID(c *v1alpha1.Customer, partner string, round, reminder int32) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "%s\x00%s\x00%d\x00%d", c.UID, partner, round, reminder))
	return hex.EncodeToString(sum[:16])
}

// reconcileInvitations runs the invitation step; it returns when to look again.
func (r *CustomerReconciler) reconcileInvitations(ctx context.Context, s *invitationScope, rrs []v1alpha1.ResellerRelationship, gdaps []v1alpha1.DelegatedAdminRelationship) (time.Duration, error) {
	asks := actionsByPartner(s.customer, s.agreement, rrs, gdaps)
	s.updateActions(asks, rrs, gdaps)
	var states []invitationState
	var next time.Duration
	for i := range s.customer.Status.Invitations {
		inv := &s.customer.Status.Invitations[i]
		if len(inv.Actions) == 0 {
			continue
		}
		st, after, err := r.deliver(ctx, s, inv)
		if err != nil {
			return 0, err
		}
		states = append(states, st)
		next = sooner(next, after)
	}
	s.summarize(states)
	return next, nil
}

// updateActions brings each partner's entry up to what it asks now, and
// records as accepted what it asked before and the customer has done.
func (s *invitationScope) updateActions(asks map[string][]v1alpha1.InvitationAction, rrs []v1alpha1.ResellerRelationship, gdaps []v1alpha1.DelegatedAdminRelationship) {
	c := s.customer
	for partner := range asks {
		if slices.ContainsFunc(c.Status.Invitations, func(i v1alpha1.CustomerInvitation) bool { return i.Partner == partner }) {
			continue
		}
		if len(c.Status.Invitations) >= maxInvitations {
			// A partner that asks nothing now makes room: its evidence is
			// the oldest that matters least.
			idle := slices.IndexFunc(c.Status.Invitations, func(i v1alpha1.CustomerInvitation) bool { return len(i.Actions) == 0 })
			if idle < 0 {
				continue
			}
			c.Status.Invitations = slices.Delete(c.Status.Invitations, idle, idle+1)
		}
		c.Status.Invitations = append(c.Status.Invitations, v1alpha1.CustomerInvitation{Partner: partner})
	}
	kept := c.Status.Invitations[:0]
	for _, inv := range c.Status.Invitations {
		now := asks[inv.Partner]
		for _, was := range inv.Actions {
			if slices.ContainsFunc(now, func(a v1alpha1.InvitationAction) bool { return actionKey(a) == actionKey(was) }) {
				continue
			}
			if by, done := actionDone(c, s.agreement, was, rrs, gdaps); done {
				inv.Accepted = prepend(inv.Accepted, v1alpha1.AcceptanceRecord{
					Action: actionKey(was), SeenAt: metav1.NewTime(s.now), By: by, Reminders: inv.Reminders}, maxKeptAcceptances)
				s.accepted = append(s.accepted, acceptance{kind: was.Kind, reminders: inv.Reminders})
				s.event(corev1.EventTypeNormal, v1alpha1.ReasonInvitationAccepted, "The customer did %s for partner %s after %d reminder(s)%s.",
					actionKey(was), inv.Partner, inv.Reminders, byWhom(by))
			}
		}
		inv.Actions = now
		if len(now) == 0 {
			// Nothing is asked: what is asked next is a new invitation,
			// even the same request made again.
			inv.NextReminderAt, inv.Digest, inv.Reminders = nil, "", 0
			inv.Deliveries = cancelPending(inv.Deliveries)
		}
		if len(now) > 0 || len(inv.Deliveries) > 0 || len(inv.Accepted) > 0 {
			kept = append(kept, inv)
		}
	}
	sort.Slice(kept, func(i, j int) bool { return kept[i].Partner < kept[j].Partner })
	c.Status.Invitations = kept
	if len(kept) == 0 {
		c.Status.Invitations = nil
	}
}

// actionDone says whether an action the customer was asked for is done
// (not merely gone: a deleted or expired request is not an acceptance), and
// who did it when that is known.
func actionDone(c *v1alpha1.Customer, agreement *metav1.Condition, a v1alpha1.InvitationAction, rrs []v1alpha1.ResellerRelationship, gdaps []v1alpha1.DelegatedAdminRelationship) (by string, done bool) {
	name := a.Object[strings.IndexByte(a.Object, '/')+1:]
	switch a.Kind {
	case v1alpha1.ActionAcceptResellerRelationship:
		for _, rr := range rrs {
			if rr.Name == name && rr.Status.Phase == v1alpha1.RelationshipApproved {
				if ap := rr.Status.Approval; ap != nil {
					return ap.By, true
				}
				return "", true
			}
		}
	case v1alpha1.ActionApproveAdminRelationship:
		for _, g := range gdaps {
			if g.Name == name && (g.Status.Phase == v1alpha1.GDAPActive || g.Status.Phase == v1alpha1.GDAPExpiring) {
				return "", true
			}
		}
	case v1alpha1.ActionAcceptCustomerAgreement:
		if agreementHeld(c, agreement) {
			if ag := c.Status.Agreement; ag != nil {
				return ag.ContactEmail, true
			}
			return "", true
		}
	}
	return "", false
}

// acceptance is an action the customer did, after some reminders.
type acceptance struct {
	kind      v1alpha1.ActionKind
	reminders int32
}

// observe counts the acceptances the pass wrote.
func (s *invitationScope) observe() {
	for _, a := range s.accepted {
		invitationAccepted.WithLabelValues(string(a.kind)).Observe(float64(a.reminders))
	}
}

func byWhom(by string) string {
	if by == "" {
		return ""
	}
	return " (by " + by + ")"
}

// cancelPending marks the latest delivery, when it is not delivered, as
// cancelled: what it asked is done, or asked anew, so it is not sent (again).
// An attempt whose answer was never known says so.
func cancelPending(ds []v1alpha1.DeliveryRecord) []v1alpha1.DeliveryRecord {
	if len(ds) == 0 {
		return ds
	}
	switch head := &ds[0]; head.Result {
	case v1alpha1.DeliveryRecorded:
		head.Result, head.Error = v1alpha1.DeliveryCancelled, "superseded before its attempt was known to be sent; it may have gone out"
	case v1alpha1.DeliveryFailed:
		head.Result = v1alpha1.DeliveryCancelled
	}
	return ds
}

func prepend[T any](list []T, item T, limit int) []T {
	list = append([]T{item}, list...)
	if len(list) > limit {
		list = list[:limit]
	}
	return list
}

func sooner(a, b time.Duration) time.Duration {
	if a == 0 || (b > 0 && b < a) {
		return b
	}
	return a
}
