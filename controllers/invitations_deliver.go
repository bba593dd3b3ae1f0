package controllers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	"github.com/partnerops/multichannel-operator/controllers/internal/core"
	"github.com/partnerops/multichannel-operator/internal/apiretry"
	"github.com/partnerops/multichannel-operator/internal/notify"
	"github.com/partnerops/multichannel-operator/internal/pass"
)

// invitationState is where one partner's invitation stands after a pass,
// for the Invited condition.
type invitationState struct {
	reason, message string
}

// deliver moves one partner's invitation on: a new invitation when the
// actions changed, the recorded attempt sent (or, when this process did
// not record it, looked for in the channel's record first), a failed one
// recorded again when its retry is due, or a reminder when one is due. It
// returns where the invitation stands and when to look again.
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
	messages := notify.Messages(r.invitationModel(s.customer, partner, inv, nil))
	if len(messages) == 0 {
		return invitationState{v1alpha1.ReasonNoContacts, fmt.Sprintf(
			"For partner %s the customer must %s, but spec.contacts has no one whose role can: add a contact with role %s.",
			partner.Name, describeActions(inv.Actions), neededRoles(inv.Actions))}, 0, nil
	}
	policy := remindersOf(d)
	policy.retry = r.opts.DeliveryRetry
	inv.NextReminderAt = nextReminderAt(inv, policy)
	switch nextDelivery(inv, policy, s.now) {
	case deliverInvitation, deliverReminder:
		s.record(inv, channelOf(d), recipients(messages), r.claims)
		return deliveringState(partner, inv), time.Millisecond, nil
	case deliverRetry:
		s.reclaim(inv, r.claims)
		return deliveringState(partner, inv), time.Millisecond, nil
	case deliverSend:
		if r.claims.take(inv.Deliveries[0].AttemptID) {
			return r.send(ctx, s, partner, inv, policy)
		}
		return r.resolveDoubt(ctx, s, partner, inv, policy)
	case deliverRetryLater:
		rec := &inv.Deliveries[0]
		return failedState(partner, rec, retryAt(rec, policy)), retryAt(rec, policy).Sub(s.now), nil
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
	deliverRetry
	deliverRetryLater
)

// nextDelivery decides what a pass does for an invitation with actions: a
// new invitation for new actions; the latest attempt sent (or resolved)
// while its result is not known; a failed one recorded again once its
// retry is due; a reminder when one is due.
func nextDelivery(inv *v1alpha1.CustomerInvitation, policy reminderPolicy, now time.Time) deliverStep {
	if actionsDigest(inv.Actions) != inv.Digest || len(inv.Deliveries) == 0 {
		return deliverInvitation
	}
	switch head := &inv.Deliveries[0]; head.Result {
	case v1alpha1.DeliveryRecorded:
		return deliverSend
	case v1alpha1.DeliveryFailed:
		if now.Before(retryAt(head, policy)) {
			return deliverRetryLater
		}
		return deliverRetry
	}
	if next := inv.NextReminderAt; next != nil && !now.Before(next.Time) {
		return deliverReminder
	}
	return deliverNothing
}

// record records the next delivery and its first attempt, before anything
// is sent: a new invitation starts a new round, a reminder counts within
// it. This process claims the attempt: the pass that sends it is its own.
func (s *invitationScope) record(inv *v1alpha1.CustomerInvitation, channel v1alpha1.DeliveryChannel, to []string, claims *deliveryClaims) {
	kind := v1alpha1.DeliveryReminder
	if actionsDigest(inv.Actions) != inv.Digest || len(inv.Deliveries) == 0 {
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
		Channel: channel, Result: v1alpha1.DeliveryRecorded, RecordedAt: metav1.NewTime(s.now), To: to,
	}
	for _, a := range inv.Actions {
		rec.Actions = append(rec.Actions, actionKey(a))
	}
	inv.Deliveries = prepend(inv.Deliveries, rec, maxKeptDeliveries)
	s.reclaim(inv, claims)
	s.event(corev1.EventTypeNormal, v1alpha1.ReasonInvitationRecorded, "Partner %s: %s recorded for %s; it is sent next.",
		inv.Partner, describeDelivery(&rec), strings.Join(rec.To, ", "))
}

// reclaim records a new attempt of the latest delivery, claimed by this process.
func (s *invitationScope) reclaim(inv *v1alpha1.CustomerInvitation, claims *deliveryClaims) {
	rec := &inv.Deliveries[0]
	at := metav1.NewTime(s.now)
	rec.Result, rec.Attempts, rec.AttemptedAt, rec.AttemptID = v1alpha1.DeliveryRecorded, rec.Attempts+1, &at, uuid.NewString()
	claims.add(rec.AttemptID, s.now)
	s.recorded = true
}

// recipients are the addresses the messages go to, sorted.
func recipients(messages []notify.Message) []string {
	var to []string
	for _, m := range messages {
		for _, c := range m.To {
			to = append(to, c.Email)
		}
	}
	slices.Sort(to)
	return to
}

// send makes the attempt this process recorded: through the channel, with
// the delivery's ID as the idempotency key, then records what happened.
func (r *CustomerReconciler) send(ctx context.Context, s *invitationScope, partner *v1alpha1.Partner, inv *v1alpha1.CustomerInvitation, policy reminderPolicy) (invitationState, time.Duration, error) {
	rec := &inv.Deliveries[0]
	s.recorded = true
	model := r.invitationModel(s.customer, partner, inv, rec)
	if len(notify.Messages(model)) == 0 {
		// Every contact it was recorded for is gone: a new invitation goes
		// to those who are there now.
		rec.Result, rec.Error = v1alpha1.DeliveryCancelled, "no contact it was recorded for can act any more; sent anew to the present contacts"
		inv.Digest = ""
		return deliveringState(partner, inv), time.Millisecond, nil
	}
	defer func() {
		s.sent = append(s.sent, sentDelivery{partner: inv.Partner, rec: *rec.DeepCopy(), next: inv.NextReminderAt.DeepCopy()})
	}()
	ids, maybeSent, err := r.sendThrough(ctx, partner, model, rec)
	rec.MessageIDs = ids
	var throttled *apiretry.ThrottledError
	switch {
	case err != nil && maybeSent:
		// The answer was lost: it may have gone out. The next pass looks
		// for it in the channel's record before anything is sent again.
		rec.Error = core.Truncate(err.Error(), 1024)
		s.event(corev1.EventTypeWarning, v1alpha1.ReasonDeliveryFailed, "Partner %s: %s may have been sent (attempt %d): %v; looking for it before sending again.",
			partner.Name, describeDelivery(rec), rec.Attempts, err)
		return deliveringState(partner, inv), time.Second, nil
	case errors.As(err, &throttled):
		// The partner's request budget is spent and nothing went out: the
		// attempt stays this process's, made when the budget allows.
		r.claims.add(rec.AttemptID, s.now)
		rec.Error = core.Truncate(err.Error(), 1024)
		return deliveringState(partner, inv), throttled.After, nil
	case err != nil:
		rec.Result, rec.Error = v1alpha1.DeliveryFailed, core.Truncate(err.Error(), 1024)
		deliveries.WithLabelValues(string(rec.Channel), string(rec.Kind), "failed").Inc()
		s.event(corev1.EventTypeWarning, v1alpha1.ReasonDeliveryFailed, "Partner %s: %s failed (attempt %d): %v.", partner.Name, describeDelivery(rec), rec.Attempts, err)
		return failedState(partner, rec, retryAt(rec, policy)), retryAt(rec, policy).Sub(s.now), nil
	}
	return r.delivered(s, partner, inv, policy, "")
}

// resolveDoubt settles an attempt this process did not make (it restarted,
// another replica recorded it, or the answer was lost): a CloudEvent is
// sent again under the same id, which a receiver takes as a duplicate; a
// mail is looked for in Sent Items, and sent again only when it stayed
// absent for sentItemsGrace after the attempt.
func (r *CustomerReconciler) resolveDoubt(ctx context.Context, s *invitationScope, partner *v1alpha1.Partner, inv *v1alpha1.CustomerInvitation, policy reminderPolicy) (invitationState, time.Duration, error) {
	rec := &inv.Deliveries[0]
	if rec.Channel == v1alpha1.ChannelWebhook || partner.Spec.Delivery.Mail == nil {
		s.reclaim(inv, r.claims)
		return deliveringState(partner, inv), time.Millisecond, nil
	}
	ids, missing, err := r.findSent(ctx, partner, r.invitationModel(s.customer, partner, inv, rec), rec)
	if err != nil {
		// Nothing is sent while it cannot be looked for.
		rec.Error, s.recorded = core.Truncate(err.Error(), 1024), true
		var throttled *apiretry.ThrottledError
		if errors.As(err, &throttled) {
			return deliveringState(partner, inv), throttled.After, nil
		}
		return failedState(partner, rec, s.now.Add(policy.retry)), policy.retry, nil
	}
	if !slices.Equal(ids, rec.MessageIDs) {
		rec.MessageIDs, s.recorded = ids, true
	}
	if missing == 0 {
		s.recorded = true
		return r.delivered(s, partner, inv, policy, " (found in Sent Items)")
	}
	if until := lastAttempt(rec, s.now).Add(sentItemsGrace); s.now.Before(until) {
		return invitationState{v1alpha1.ReasonDelivering, fmt.Sprintf(
			"Partner %s: %s may have been sent %s; %d message(s) are not in Sent Items yet, and are sent again only if still absent %s.",
			partner.Name, describeDelivery(rec), core.FormatTime(&rec.AttemptedAt.Time), missing, core.FormatTime(&until))}, until.Sub(s.now), nil
	}
	s.reclaim(inv, r.claims)
	return deliveringState(partner, inv), time.Millisecond, nil
}

// delivered records a delivery the channel took, and when the next
// reminder is due.
func (r *CustomerReconciler) delivered(s *invitationScope, partner *v1alpha1.Partner, inv *v1alpha1.CustomerInvitation, policy reminderPolicy, how string) (invitationState, time.Duration, error) {
	rec := &inv.Deliveries[0]
	now := metav1.NewTime(s.now)
	rec.Result, rec.Error, rec.DeliveredAt = v1alpha1.DeliveryDelivered, "", &now
	deliveries.WithLabelValues(string(rec.Channel), string(rec.Kind), "delivered").Inc()
	reason := v1alpha1.ReasonInvitationDelivered
	if rec.Kind == v1alpha1.DeliveryReminder {
		reason = v1alpha1.ReasonReminderDelivered
	}
	s.event(corev1.EventTypeNormal, reason, "Partner %s: %s delivered by %s to %s%s.", partner.Name, describeDelivery(rec), rec.Channel, strings.Join(rec.To, ", "), how)
	inv.NextReminderAt = nextReminderAt(inv, policy)
	return deliveredState(partner, inv, policy, s.now)
}

// deliveryClaims are the attempts this operator process recorded and has
// not made yet. Only these are sent without looking in the channel's
// record first: any other recorded attempt may have gone out already.
type deliveryClaims struct {
	mu   sync.Mutex
	open map[string]time.Time // attemptID: when it was recorded
}

func newDeliveryClaims() *deliveryClaims { return &deliveryClaims{open: map[string]time.Time{}} }

// add claims an attempt; claims older than a day (their record was never
// written, or never read back) are forgotten.
func (c *deliveryClaims) add(id string, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, at := range c.open {
		if now.Sub(at) > 24*time.Hour {
			delete(c.open, k)
		}
	}
	c.open[id] = now
}

// take says whether this process claimed the attempt and has not made it,
// and marks it made.
func (c *deliveryClaims) take(id string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.open[id]
	delete(c.open, id)
	return ok
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
// the same attempt.
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
				if inv.Partner == d.partner && len(inv.Deliveries) > 0 && inv.Deliveries[0].AttemptID == d.rec.AttemptID &&
					inv.Deliveries[0].Result == v1alpha1.DeliveryRecorded {
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

// nextReminderAt is when the next reminder is due, derived from the
// partner's cadence each pass (so a changed cadence applies at once): the
// interval after the latest delivery, or earlier so that one goes out
// beforeExpiry before a request expires; none before the latest delivery
// is delivered, or once the reminders are spent.
func nextReminderAt(inv *v1alpha1.CustomerInvitation, policy reminderPolicy) *metav1.Time {
	if len(inv.Deliveries) == 0 || inv.Deliveries[0].Result != v1alpha1.DeliveryDelivered || inv.Deliveries[0].DeliveredAt == nil ||
		inv.Reminders >= policy.max || actionsDigest(inv.Actions) != inv.Digest {
		return nil
	}
	last := inv.Deliveries[0].DeliveredAt.Time
	next := last.Add(policy.every)
	for _, a := range inv.Actions {
		if a.ExpiresAt == nil || policy.beforeExpiry == 0 {
			continue
		}
		if t := a.ExpiresAt.Add(-policy.beforeExpiry); t.After(last) && t.Before(next) {
			next = t
		}
	}
	return &metav1.Time{Time: next}
}

// retryAt is when a failed attempt is made again: the operator's delivery
// retry after it, doubling with each attempt, at most 64 times it.
func retryAt(rec *v1alpha1.DeliveryRecord, policy reminderPolicy) time.Time {
	return lastAttempt(rec, rec.RecordedAt.Time).Add(policy.retry << min(max(rec.Attempts-1, 0), 6))
}

func lastAttempt(rec *v1alpha1.DeliveryRecord, otherwise time.Time) time.Time {
	if rec.AttemptedAt != nil {
		return rec.AttemptedAt.Time
	}
	return otherwise
}

func deliveringState(partner *v1alpha1.Partner, inv *v1alpha1.CustomerInvitation) invitationState {
	msg := fmt.Sprintf("Partner %s: the invitation is being recorded anew.", partner.Name)
	if len(inv.Deliveries) > 0 {
		rec := &inv.Deliveries[0]
		msg = fmt.Sprintf("Partner %s: %s attempt %d recorded; sending it.", partner.Name, describeDelivery(rec), rec.Attempts)
	}
	return invitationState{v1alpha1.ReasonDelivering, msg}
}

func failedState(partner *v1alpha1.Partner, rec *v1alpha1.DeliveryRecord, at time.Time) invitationState {
	return invitationState{v1alpha1.ReasonDeliveryFailed, fmt.Sprintf("Partner %s: %s failed (attempt %d): %s; retrying %s.",
		partner.Name, describeDelivery(rec), rec.Attempts, rec.Error, core.FormatTime(&at))}
}

// deliveredState says where a delivered invitation stands, and when its
// next reminder is due.
func deliveredState(partner *v1alpha1.Partner, inv *v1alpha1.CustomerInvitation, policy reminderPolicy, now time.Time) (invitationState, time.Duration, error) {
	rec := &inv.Deliveries[0]
	last := describeDelivery(rec) + " delivered"
	if at := rec.DeliveredAt; at != nil {
		last += " " + core.FormatTime(&at.Time)
	}
	if inv.NextReminderAt == nil {
		return invitationState{v1alpha1.ReasonRemindersExhausted, fmt.Sprintf(
			"Partner %s: %s; all %d reminder(s) were sent and the customer has not yet done what it was asked (%s).",
			partner.Name, last, policy.max, describeActions(inv.Actions))}, 0, nil
	}
	return invitationState{v1alpha1.ReasonDelivered, fmt.Sprintf("Partner %s: %s; reminder %d of %d is due %s.",
			partner.Name, last, inv.Reminders+1, policy.max, core.FormatTime(&inv.NextReminderAt.Time))},
		max(inv.NextReminderAt.Sub(now), time.Millisecond), nil
}

// summarize derives the Invited step from every partner's state: the
// worst one speaks (a failure, then what keeps anything from being sent,
// then a delivery under way), and a failed channel stalls the Customer.
// Without any invitation there is no step: the condition goes.
func (s *invitationScope) summarize(states []invitationState) {
	s.summarized = true
	if len(states) == 0 {
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
	s.invited = pass.GateOf(status, worst.reason, strings.Join(msgs, " "))
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
