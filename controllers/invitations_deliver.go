package controllers

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	"github.com/partnerops/multichannel-operator/internal/notify"
)

// invitationState is where one partner's invitation stands after a pass,
// for the Invited condition.
type invitationState struct {
	reason, message string
}

// deliver moves one partner's invitation on: a new invitation when the
// actions changed, the recorded delivery sent, or a reminder when one is
// due. It returns where the invitation stands and when to look again.
func (r *CustomerReconciler) deliver(ctx context.Context, s *invitationScope, inv *v1alpha1.CustomerInvitation) (invitationState, time.Duration, error) {
	partner := &v1alpha1.Partner{}
	if err := r.Get(ctx, client.ObjectKey{Name: inv.Partner}, partner); err != nil {
		if apierrors.IsNotFound(err) {
			return invitationState{v1alpha1.ReasonNoChannel, fmt.Sprintf("Partner %s does not exist; nothing is sent for it.", inv.Partner)}, 0, nil
		}
		return invitationState{}, 0, err
	}
	d := partner.Spec.Delivery
	if d == nil {
		return invitationState{v1alpha1.ReasonNoChannel, fmt.Sprintf(
			"Partner %s has no spec.delivery, so nothing is sent: the links are in status.invitations.", partner.Name)}, 0, nil
	}
	model := r.invitationModel(s.customer, partner, inv, nil)
	if len(notify.Messages(model)) == 0 {
		return invitationState{v1alpha1.ReasonNoContacts, fmt.Sprintf(
			"For partner %s the customer must %s, but spec.contacts has no one whose role can: add a contact with role %s.",
			partner.Name, describeActions(inv.Actions), neededRoles(inv.Actions))}, 0, nil
	}
	policy := remindersOf(d)
	policy.retry = r.opts.DeliveryRetry
	switch next := nextDelivery(inv, policy, s.now); next {
	case deliverInvitation, deliverReminder:
		s.record(inv, channelOf(d), next, model)
		return invitationState{v1alpha1.ReasonDelivering, fmt.Sprintf("Partner %s: %s recorded; sending it.", partner.Name, describeDelivery(&inv.Deliveries[0]))}, time.Millisecond, nil
	case deliverSend:
		return r.send(ctx, s, partner, inv, policy)
	case deliverRetryLater:
		rec := &inv.Deliveries[0]
		wait := policy.retryWait(rec.Attempts) - s.now.Sub(lastAttempt(rec, s.now))
		return failedState(partner, rec, wait), max(wait, time.Millisecond), nil
	}
	return deliveredState(partner, inv, policy, s.now)
}

// deliverStep is what a pass does for one partner's invitation.
type deliverStep int

const (
	deliverNothing deliverStep = iota
	deliverInvitation
	deliverReminder
	deliverSend
	deliverRetryLater
)

// nextDelivery decides what a pass does for an invitation with actions: a
// new invitation for new actions; the latest delivery sent while it is not
// delivered; a reminder when one is due and the cadence allows it.
func nextDelivery(inv *v1alpha1.CustomerInvitation, policy reminderPolicy, now time.Time) deliverStep {
	if actionsDigest(inv.Actions) != inv.Digest {
		return deliverInvitation
	}
	if len(inv.Deliveries) > 0 {
		switch head := &inv.Deliveries[0]; head.Result {
		case v1alpha1.DeliveryRecorded:
			return deliverSend
		case v1alpha1.DeliveryFailed:
			if head.Attempts > 0 && now.Before(lastAttempt(head, now).Add(policy.retryWait(head.Attempts))) {
				return deliverRetryLater
			}
			return deliverSend
		}
	}
	if inv.NextReminderAt != nil && !now.Before(inv.NextReminderAt.Time) && inv.Reminders < policy.max {
		return deliverReminder
	}
	return deliverNothing
}

// record records the next delivery, before anything is sent: a new
// invitation starts a new round, a reminder counts within it.
func (s *invitationScope) record(inv *v1alpha1.CustomerInvitation, channel v1alpha1.DeliveryChannel, step deliverStep, model notify.Invitation) {
	kind := v1alpha1.DeliveryReminder
	if step == deliverInvitation {
		kind = v1alpha1.DeliveryInvitation
		inv.Round++
		inv.Digest = actionsDigest(inv.Actions)
		inv.Reminders = 0
		inv.Deliveries = cancelPending(inv.Deliveries)
	} else {
		inv.Reminders++
	}
	inv.NextReminderAt = nil
	rec := v1alpha1.DeliveryRecord{
		ID: deliveryID(s.customer, inv.Partner, inv.Round, inv.Reminders), Kind: kind, Reminder: inv.Reminders,
		Channel: channel, Result: v1alpha1.DeliveryRecorded, RecordedAt: metav1.NewTime(s.now),
	}
	for _, m := range notify.Messages(model) {
		for _, c := range m.To {
			rec.To = append(rec.To, c.Email)
		}
	}
	slices.Sort(rec.To)
	for _, a := range inv.Actions {
		rec.Actions = append(rec.Actions, actionKey(a))
	}
	inv.Deliveries = prepend(inv.Deliveries, rec, maxKeptDeliveries)
	s.recorded = true
	s.event(corev1.EventTypeNormal, v1alpha1.ReasonInvitationRecorded, "Partner %s: %s recorded for %s; it is sent next.",
		inv.Partner, describeDelivery(&rec), strings.Join(rec.To, ", "))
}

// send sends the recorded delivery once: it reads the Customer from the API
// server first, so that a delivery a pass on a fresher copy already made
// is not made again from a stale cache, then sends it through the channel
// with its ID as the idempotency key, and records what happened.
func (r *CustomerReconciler) send(ctx context.Context, s *invitationScope, partner *v1alpha1.Partner, inv *v1alpha1.CustomerInvitation, policy reminderPolicy) (invitationState, time.Duration, error) {
	rec := &inv.Deliveries[0]
	live := &v1alpha1.Customer{}
	if err := r.live.Get(ctx, client.ObjectKeyFromObject(s.customer), live); err != nil {
		return invitationState{}, 0, err
	}
	if !stillToSend(live, inv.Partner, rec.ID) {
		s.recorded = true // a fresher status exists: this pass must not overwrite it
		return invitationState{v1alpha1.ReasonDelivering, fmt.Sprintf("Partner %s: %s is being sent.", partner.Name, describeDelivery(rec))}, time.Second, nil
	}
	model := r.invitationModel(s.customer, partner, inv, rec)
	ids, err := r.sendThrough(ctx, partner, model, rec, s.now)
	rec.Attempts++
	last := metav1.NewTime(s.now)
	rec.AttemptedAt = &last
	s.recorded = true
	defer func() {
		s.sent = append(s.sent, sentDelivery{partner: inv.Partner, rec: *rec.DeepCopy(), next: inv.NextReminderAt.DeepCopy()})
	}()
	if err != nil {
		rec.Result, rec.Error = v1alpha1.DeliveryFailed, truncate(err.Error(), 1024)
		deliveries.WithLabelValues(string(rec.Channel), string(rec.Kind), "failed").Inc()
		s.event(corev1.EventTypeWarning, v1alpha1.ReasonDeliveryFailed, "Partner %s: %s failed (attempt %d): %v.", partner.Name, describeDelivery(rec), rec.Attempts, err)
		wait := policy.retryWait(rec.Attempts)
		return failedState(partner, rec, wait), wait, nil
	}
	rec.Result, rec.Error, rec.DeliveredAt, rec.MessageIDs = v1alpha1.DeliveryDelivered, "", &last, ids
	deliveries.WithLabelValues(string(rec.Channel), string(rec.Kind), "delivered").Inc()
	reason := v1alpha1.ReasonInvitationDelivered
	if rec.Kind == v1alpha1.DeliveryReminder {
		reason = v1alpha1.ReasonReminderDelivered
	}
	s.event(corev1.EventTypeNormal, reason, "Partner %s: %s delivered by %s to %s.", partner.Name, describeDelivery(rec), rec.Channel, strings.Join(rec.To, ", "))
	inv.NextReminderAt = nextReminderAt(inv, policy, s.now)
	return deliveredState(partner, inv, policy, s.now)
}

// sentDelivery is what a channel did with a delivery in this pass.
type sentDelivery struct {
	partner string
	rec     v1alpha1.DeliveryRecord
	next    *metav1.Time
}

// persistSent writes what the channels did with this pass's deliveries when
// the pass's own status write conflicted (a person's or a GitOps tool's edit
// of the Customer meanwhile): onto the live Customer, where it still shows
// that delivery unsent.
func (r *CustomerReconciler) persistSent(ctx context.Context, key client.ObjectKey, sent []sentDelivery) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		live := &v1alpha1.Customer{}
		if err := r.live.Get(ctx, key, live); err != nil {
			return err
		}
		changed := false
		for _, d := range sent {
			for i := range live.Status.Invitations {
				inv := &live.Status.Invitations[i]
				if inv.Partner == d.partner && stillToSend(live, d.partner, d.rec.ID) {
					inv.Deliveries[0], inv.NextReminderAt, changed = d.rec, d.next, true
				}
			}
		}
		if !changed {
			return nil
		}
		return r.Status().Update(ctx, live)
	})
}

// stillToSend says whether the live Customer still has the delivery id
// waiting to be sent for partner.
func stillToSend(live *v1alpha1.Customer, partner, id string) bool {
	for _, inv := range live.Status.Invitations {
		if inv.Partner == partner && len(inv.Deliveries) > 0 {
			head := inv.Deliveries[0]
			return head.ID == id && (head.Result == v1alpha1.DeliveryRecorded || head.Result == v1alpha1.DeliveryFailed)
		}
	}
	return false
}

// nextReminderAt is when the next reminder is due after a delivery now:
// the cadence's interval later, or earlier so that one goes out
// beforeExpiry before the first request expires; none once the reminders
// are spent.
func nextReminderAt(inv *v1alpha1.CustomerInvitation, policy reminderPolicy, now time.Time) *metav1.Time {
	if inv.Reminders >= policy.max {
		return nil
	}
	next := now.Add(policy.every)
	if exp := firstExpiry(inv.Actions); exp != nil {
		if t := exp.Add(-policy.beforeExpiry); t.After(now) && t.Before(next) {
			next = t
		}
	}
	return &metav1.Time{Time: next}
}

func firstExpiry(actions []v1alpha1.InvitationAction) *time.Time {
	var first *time.Time
	for _, a := range actions {
		if a.ExpiresAt != nil && (first == nil || a.ExpiresAt.Time.Before(*first)) {
			t := a.ExpiresAt.Time
			first = &t
		}
	}
	return first
}

// retryWait is how long a failed delivery waits before it is sent again:
// the operator's delivery retry, doubling with each attempt, at most 64 times it.
func (p reminderPolicy) retryWait(attempts int32) time.Duration {
	return p.retry << min(max(attempts-1, 0), 6)
}

func lastAttempt(rec *v1alpha1.DeliveryRecord, otherwise time.Time) time.Time {
	if rec.AttemptedAt != nil {
		return rec.AttemptedAt.Time
	}
	return otherwise
}

func failedState(partner *v1alpha1.Partner, rec *v1alpha1.DeliveryRecord, wait time.Duration) invitationState {
	return invitationState{v1alpha1.ReasonDeliveryFailed, fmt.Sprintf("Partner %s: %s failed (attempt %d): %s; retrying in %s.",
		partner.Name, describeDelivery(rec), rec.Attempts, rec.Error, wait.Round(time.Second))}
}

// deliveredState says where a delivered invitation stands, and when its
// next reminder is due.
func deliveredState(partner *v1alpha1.Partner, inv *v1alpha1.CustomerInvitation, policy reminderPolicy, now time.Time) (invitationState, time.Duration, error) {
	last := "nothing delivered yet"
	if len(inv.Deliveries) > 0 {
		last = describeDelivery(&inv.Deliveries[0]) + " delivered"
		if at := inv.Deliveries[0].DeliveredAt; at != nil {
			last += " " + formatTime(&at.Time)
		}
	}
	if inv.NextReminderAt == nil {
		return invitationState{v1alpha1.ReasonRemindersExhausted, fmt.Sprintf(
			"Partner %s: %s; all %d reminder(s) were sent and the customer has not yet done what it was asked (%s).",
			partner.Name, last, policy.max, describeActions(inv.Actions))}, 0, nil
	}
	return invitationState{v1alpha1.ReasonDelivered, fmt.Sprintf("Partner %s: %s; reminder %d of %d is due %s.",
			partner.Name, last, inv.Reminders+1, policy.max, formatTime(&inv.NextReminderAt.Time))},
		max(inv.NextReminderAt.Sub(now), time.Millisecond), nil
}

// summarize sets the Invited condition from every partner's state: the
// worst one speaks (a failure, then what keeps anything from being sent,
// then a delivery under way), and a failed channel stalls the Customer.
func (s *invitationScope) summarize(states []invitationState) {
	if len(states) == 0 {
		s.conds.remove(v1alpha1.ConditionInvited)
		return
	}
	rank := []string{v1alpha1.ReasonDeliveryFailed, v1alpha1.ReasonNoContacts, v1alpha1.ReasonNoChannel,
		v1alpha1.ReasonDelivering, v1alpha1.ReasonRemindersExhausted, v1alpha1.ReasonDelivered}
	slices.SortStableFunc(states, func(a, b invitationState) int { return slices.Index(rank, a.reason) - slices.Index(rank, b.reason) })
	worst := states[0]
	var msgs []string
	for _, st := range states {
		msgs = append(msgs, st.message)
	}
	status := metav1.ConditionFalse
	if worst.reason == v1alpha1.ReasonDelivered {
		status = metav1.ConditionTrue
	}
	s.conds.set(v1alpha1.ConditionInvited, status, worst.reason, strings.Join(msgs, " "))
	if worst.reason == v1alpha1.ReasonDeliveryFailed {
		s.stalled = worst.message
	}
}

func channelOf(d *v1alpha1.Delivery) v1alpha1.DeliveryChannel {
	if d.Webhook != nil {
		return v1alpha1.ChannelWebhook
	}
	return v1alpha1.ChannelMail
}

func describeDelivery(rec *v1alpha1.DeliveryRecord) string {
	if rec.Kind == v1alpha1.DeliveryReminder {
		return fmt.Sprintf("reminder %d (%s)", rec.Reminder, rec.ID)
	}
	return fmt.Sprintf("invitation %s", rec.ID)
}

var actionWords = map[v1alpha1.ActionKind]string{
	v1alpha1.ActionAcceptResellerRelationship: "accept the reseller relationship request",
	v1alpha1.ActionApproveAdminRelationship:   "approve the GDAP relationship",
	v1alpha1.ActionAcceptCustomerAgreement:    "accept the Microsoft Customer Agreement",
}

func describeActions(actions []v1alpha1.InvitationAction) string {
	var out []string
	for _, a := range actions {
		out = append(out, actionWords[a.Kind]+" ("+a.Object+")")
	}
	return strings.Join(out, ", ")
}

// neededRoles names the roles that can do at least one of the actions.
func neededRoles(actions []v1alpha1.InvitationAction) string {
	var roles []string
	for _, a := range actions {
		for _, role := range notify.ActionKind(a.Kind).Roles() {
			if !slices.Contains(roles, string(role)) {
				roles = append(roles, string(role))
			}
		}
	}
	return strings.Join(roles, " or ")
}
