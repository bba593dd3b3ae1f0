package controllers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	"github.com/partnerops/multichannel-operator/controllers/internal/core"
	pc "github.com/partnerops/multichannel-operator/internal/partnercenter"
	"github.com/partnerops/multichannel-operator/internal/pass"
)

// The Microsoft Customer Agreement: Partner Center must hold the customer's
// acceptance before anything is bought for the customer. The Customer
// reconciler reads it through a partner the customer approved as reseller
// and, when Partner Center holds none and spec.agreement records one, posts
// the partner's confirmation: recorded first (status.agreement.requestID),
// sent on the next pass with that ID as MS-RequestId, at most once per
// spec generation. Condition AgreementAccepted says where it stands; the
// subscriptions' purchases wait for it.

// agreementScope is what the agreement step of one Customer pass works with.
type agreementScope struct {
	customer *v1alpha1.Customer
	// gate is the step's condition AgreementAccepted, as the step found
	// it; unknown when the step leaves the condition as it is.
	gate  pass.Gate
	event func(eventType, reason, format string, args ...any)
	now   time.Time
}

// reconcileAgreement runs the agreement step; it returns when to read again.
func (r *CustomerReconciler) reconcileAgreement(ctx context.Context, a *agreementScope, relationships []v1alpha1.ResellerRelationship) (time.Duration, error) {
	c := a.customer
	if c.Spec.Cloud == v1alpha1.CloudUSGovernment {
		c.Status.Agreement = nil
		a.gate = pass.GateOf(metav1.ConditionTrue, v1alpha1.ReasonAgreementNotApplicable,
			"The Microsoft Customer Agreement calls do not apply to customers in the US Government cloud.")
		return 0, nil
	}
	if agreementHeld(c, meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionAgreementAccepted)) {
		return 0, nil // an acceptance Partner Center holds does not go away
	}
	approved := approvedPartners(relationships)
	if len(approved) == 0 {
		a.gate = pass.GateOf(metav1.ConditionUnknown, v1alpha1.ReasonAgreementMissing, fmt.Sprintf(
			"Customer %s has approved no partner as reseller yet; the operator reads its Microsoft Customer Agreement through the first it approves.", c.Name))
		return 0, nil // a relationship's change wakes the Customer
	}
	partner, pcClient, why, err := r.agreementPartner(ctx, c, approved)
	if err != nil {
		return 0, err
	}
	if pcClient == nil {
		a.gate = pass.GateOf(metav1.ConditionUnknown, v1alpha1.ReasonAgreementMissing, why)
		// A relationship's change wakes the Customer; a partner's
		// credentials fixed meanwhile are seen at the next read.
		return r.pollInterval(), nil
	}
	agreements, err := pcClient.CustomerAgreements(ctx, c.Spec.TenantID)
	if err != nil {
		return r.agreementCallFailed(a, partner, "reading customer "+c.Name+"'s agreements", err)
	}
	if latest := latestAgreement(agreements); latest != nil {
		if a.ours(*latest) {
			// Its answer was lost (the status write after it failed):
			// Partner Center holds the confirmation recorded here.
			a.confirmed(partner, *latest)
		}
		a.accepted(partner, *latest)
		return 0, nil
	}
	return r.confirmAgreement(ctx, a, partner, pcClient)
}

// condition is AgreementAccepted as the step found it: its gate, or, when
// the step left the condition as it is, the stored one.
func (a *agreementScope) condition() *metav1.Condition {
	if a.gate.Known() {
		return &metav1.Condition{Type: v1alpha1.ConditionAgreementAccepted, Status: a.gate.Status(), Reason: a.gate.Reason, Message: a.gate.Message}
	}
	return meta.FindStatusCondition(a.customer.Status.Conditions, v1alpha1.ConditionAgreementAccepted)
}

// agreementHeld: Partner Center was seen to hold the acceptance; cond is
// AgreementAccepted as the caller knows it.
func agreementHeld(c *v1alpha1.Customer, cond *metav1.Condition) bool {
	return cond != nil && cond.Status == metav1.ConditionTrue && cond.Reason != v1alpha1.ReasonAgreementNotApplicable &&
		c.Status.Agreement != nil && c.Status.Agreement.DateAgreed != nil
}

// confirmAgreement posts spec.agreement as the partner's confirmation,
// recorded first and sent once.
func (r *CustomerReconciler) confirmAgreement(ctx context.Context, a *agreementScope, partner *v1alpha1.Partner, pcClient *pc.Client) (time.Duration, error) {
	c := a.customer
	spec := c.Spec.Agreement
	st := c.Status.Agreement
	if spec == nil {
		if st == nil {
			// Read through this partner: the customer's invitation from it
			// asks the customer to accept (invitations.go).
			c.Status.Agreement = &v1alpha1.CustomerAgreementStatus{Partner: partner.Name}
		}
		a.gate = pass.GateOf(metav1.ConditionFalse, v1alpha1.ReasonAgreementMissing, fmt.Sprintf(
			"Partner Center holds no acceptance of the Microsoft Customer Agreement for customer %s, and nothing is bought for it until it does. The customer's Global admin accepts it in the Microsoft 365 admin center, or record who at the customer accepted it and when in spec.agreement (contact.firstName, contact.lastName, contact.email, dateAgreed), and the operator confirms it through partner %s.",
			c.Name, partner.Name))
		return r.readAgreementAgain(ctx, c), nil
	}
	if spec.DateAgreed.After(a.now) {
		a.gate = pass.GateOf(metav1.ConditionFalse, v1alpha1.ReasonAgreementMissing, fmt.Sprintf(
			"spec.agreement.dateAgreed %s is in the future: the confirmation records when the customer accepted; correct it.", spec.DateAgreed.UTC().Format(time.RFC3339)))
		return 0, nil
	}
	if st == nil || st.RequestID == "" || (st.Generation != c.Generation && st.ConfirmedAt == nil) {
		// Recorded before it is sent: the next pass sends it under this ID.
		// Partner Center holds none, so an earlier generation's record
		// created nothing and is replaced.
		now := metav1.NewTime(a.now)
		c.Status.Agreement = &v1alpha1.CustomerAgreementStatus{Partner: partner.Name, RequestID: agreementRequestID(c), Generation: c.Generation, RecordedAt: &now}
		a.gate = pass.GateOf(metav1.ConditionFalse, v1alpha1.ReasonAgreementMissing, fmt.Sprintf(
			"Recorded the confirmation of spec.agreement (request ID %s); partner %s sends it to Partner Center next.", c.Status.Agreement.RequestID, partner.Name))
		return time.Second, nil
	}
	if st.Refusal != "" {
		a.gate = pass.GateOf(metav1.ConditionFalse, v1alpha1.ReasonAgreementMissing, fmt.Sprintf(
			"Partner Center refused the confirmation of spec.agreement (request ID %s): %s. Correct spec.agreement; it is not sent again until it changes.", st.RequestID, st.Refusal))
		return 0, nil
	}
	if st.Partner != partner.Name {
		// Only the partner it was recorded for sends it: Partner Center
		// knows a request ID per partner.
		a.gate = pass.GateOf(metav1.ConditionUnknown, v1alpha1.ReasonAgreementMissing, fmt.Sprintf(
			"The confirmation of spec.agreement (request ID %s) was recorded for partner %s, which cannot send it now; it is sent when partner %s can call Partner Center for customer %s.", st.RequestID, st.Partner, st.Partner, c.Name))
		return r.pollInterval(), nil
	}
	return r.sendAgreement(ctx, a, partner, pcClient)
}

// sendAgreement sends the recorded confirmation.
func (r *CustomerReconciler) sendAgreement(ctx context.Context, a *agreementScope, partner *v1alpha1.Partner, pcClient *pc.Client) (time.Duration, error) {
	c := a.customer
	st := c.Status.Agreement
	tmpl, err := pcClient.CurrentMCATemplate(ctx)
	if err != nil {
		return r.agreementCallFailed(a, partner, "reading the Microsoft Customer Agreement's template", err)
	}
	spec := c.Spec.Agreement
	sent, err := pcClient.ConfirmCustomerAgreement(ctx, c.Spec.TenantID, st.RequestID, pc.Agreement{
		PrimaryContact: pc.Contact{FirstName: spec.Contact.FirstName, LastName: spec.Contact.LastName, Email: spec.Contact.Email, PhoneNumber: spec.Contact.PhoneNumber},
		TemplateID:     tmpl.TemplateID, DateAgreed: spec.DateAgreed.UTC().Format(pc.AgreementDateLayout), Type: pc.AgreementTypeMCA,
	})
	if err != nil {
		if pc.IsAgreementExists(err) {
			// Partner Center holds a confirmation with this contact: the
			// next read finds it.
			return time.Second, nil
		}
		if pc.IsRefused(err) {
			st.Refusal = core.Refusal(err)
			a.event(corev1.EventTypeWarning, "AgreementRefused", "Partner Center refused partner %s's confirmation of customer %s's Microsoft Customer Agreement (request ID %s): %s", partner.Name, c.Name, st.RequestID, st.Refusal)
			a.gate = pass.GateOf(metav1.ConditionFalse, v1alpha1.ReasonAgreementMissing, fmt.Sprintf(
				"Partner Center refused the confirmation of spec.agreement (request ID %s): %s. Correct spec.agreement; it is not sent again until it changes.", st.RequestID, st.Refusal))
			return 0, nil
		}
		return r.agreementCallFailed(a, partner, "confirming customer "+c.Name+"'s Microsoft Customer Agreement", err)
	}
	a.confirmed(partner, *sent)
	a.accepted(partner, *sent)
	return 0, nil
}

// ours: held is the confirmation recorded in status.agreement and not yet
// known to be confirmed: the spec's contact and date.
func (a *agreementScope) ours(held pc.Agreement) bool {
	st, spec := a.customer.Status.Agreement, a.customer.Spec.Agreement
	return st != nil && st.RequestID != "" && st.ConfirmedAt == nil && st.Refusal == "" && spec != nil &&
		strings.EqualFold(held.PrimaryContact.Email, spec.Contact.Email) && held.Agreed().Equal(spec.DateAgreed.UTC().Truncate(time.Second))
}

// confirmed records that Partner Center accepted the partner's confirmation.
func (a *agreementScope) confirmed(partner *v1alpha1.Partner, held pc.Agreement) {
	st := a.customer.Status.Agreement
	now := metav1.NewTime(a.now)
	st.ConfirmedAt = &now
	a.event(corev1.EventTypeNormal, "AgreementConfirmed", "Partner %s confirmed to Partner Center that %s %s (%s) accepted the Microsoft Customer Agreement for customer %s on %s (request ID %s).",
		partner.Name, held.PrimaryContact.FirstName, held.PrimaryContact.LastName, held.PrimaryContact.Email, a.customer.Name, held.DateAgreed, st.RequestID)
}

// accepted records the acceptance Partner Center holds.
func (a *agreementScope) accepted(partner *v1alpha1.Partner, held pc.Agreement) {
	c := a.customer
	if c.Status.Agreement == nil {
		c.Status.Agreement = &v1alpha1.CustomerAgreementStatus{}
	}
	st := c.Status.Agreement
	st.Partner, st.ContactEmail = partner.Name, core.Truncate(held.PrimaryContact.Email, 254)
	agreed := held.Agreed()
	if agreed.IsZero() {
		agreed = a.now
	}
	at := metav1.NewTime(agreed)
	st.DateAgreed = &at
	reason, how := v1alpha1.ReasonAgreementAccepted, "Partner Center holds"
	if st.ConfirmedAt != nil {
		reason, how = v1alpha1.ReasonAgreementConfirmed, fmt.Sprintf("Partner %s confirmed, and Partner Center holds,", partner.Name)
	}
	a.gate = pass.GateOf(metav1.ConditionTrue, reason, fmt.Sprintf("%s customer %s's acceptance of the Microsoft Customer Agreement by %s %s (%s) on %s.",
		how, c.Name, held.PrimaryContact.FirstName, held.PrimaryContact.LastName, held.PrimaryContact.Email, agreed.UTC().Format("2006-01-02")))
}

// agreementCallFailed reports a failed call on the condition, leaving the
// customer's Ready as it is, and reads again after the poll interval; a
// throttled call changes nothing and reads again when the wait is over.
func (r *CustomerReconciler) agreementCallFailed(a *agreementScope, partner *v1alpha1.Partner, doing string, err error) (time.Duration, error) {
	if d, ok := pc.ThrottledFor(err); ok {
		// Being throttled is neither progress nor a failure: a condition
		// written for this generation stays as it is, and so do the
		// messages of the customer's subscriptions that quote it; else a
		// steady message says what waits.
		if cond := meta.FindStatusCondition(a.customer.Status.Conditions, v1alpha1.ConditionAgreementAccepted); cond == nil || cond.ObservedGeneration != a.customer.Generation {
			a.gate = pass.GateOf(metav1.ConditionUnknown, v1alpha1.ReasonAgreementMissing, fmt.Sprintf(
				"Partner %s's Partner Center request budget is spent for now: %s waits for it.", partner.Name, doing))
		}
		return max(d, time.Second), nil
	}
	msg := fmt.Sprintf("Partner Center failed while %s through partner %s: %s; it is read again in %s.", doing, partner.Name, core.Description(err), r.opts.PollInterval)
	if errors.Is(err, pc.ErrUserCredentialsRequired) {
		msg = fmt.Sprintf("Confirming the Microsoft Customer Agreement is an App+User call, and partner %s has no %s (kubectl multichannel login writes one); the Secret's change resumes it.", partner.Name, v1alpha1.SecretKeyRefreshToken)
	}
	a.gate = pass.GateOf(metav1.ConditionUnknown, v1alpha1.ReasonAgreementMissing, msg)
	return r.pollInterval(), nil
}

// agreementPartner is the partner the agreement is read and confirmed
// through: one the customer approved as reseller, that serves the
// customer's namespace and can call Partner Center; the one a recorded
// confirmation names first, then by name. Without one, why says so.
func (r *CustomerReconciler) agreementPartner(ctx context.Context, c *v1alpha1.Customer, names []string) (*v1alpha1.Partner, *pc.Client, string, error) {
	if st := c.Status.Agreement; st != nil && st.RequestID != "" && st.ConfirmedAt == nil {
		names = append([]string{st.Partner}, names...)
	}
	var tried []string
	for _, name := range names {
		if slices.Contains(tried, name) {
			continue
		}
		tried = append(tried, name)
		partner := &v1alpha1.Partner{}
		if err := r.Get(ctx, client.ObjectKey{Name: name}, partner); err != nil {
			if client.IgnoreNotFound(err) != nil {
				return nil, nil, "", err
			}
			continue
		}
		serves, err := core.PartnerServes(ctx, r.Client, partner, c.Namespace)
		if err != nil || !serves {
			continue
		}
		pcClient, _, err := r.clients.CallerClient(ctx, r.Client, partner)
		if err == nil {
			return partner, pcClient, "", nil
		}
	}
	why := fmt.Sprintf("No partner the customer approved as reseller can read its Microsoft Customer Agreement yet (approved: %s): one with Partner Center credentials that serves namespace %s reads it once the customer approves it.",
		orNone(tried), c.Namespace)
	return nil, nil, why, nil
}

// approvedPartners are the partners the customer approved as reseller, by name.
func approvedPartners(relationships []v1alpha1.ResellerRelationship) []string {
	var names []string
	for _, rr := range relationships {
		if rr.Status.Phase == v1alpha1.RelationshipApproved && rr.DeletionTimestamp.IsZero() && !slices.Contains(names, rr.Spec.PartnerRef) {
			names = append(names, rr.Spec.PartnerRef)
		}
	}
	sort.Strings(names)
	return names
}

// latestAgreement is the acceptance agreed last, or nil.
func latestAgreement(items []pc.Agreement) *pc.Agreement {
	var latest *pc.Agreement
	for i := range items {
		if strings.EqualFold(items[i].Type, pc.AgreementTypeMCA) || items[i].Type == "" {
			if latest == nil || items[i].Agreed().After(latest.Agreed()) {
				latest = &items[i]
			}
		}
	}
	return latest
}

// agreementNamespace derives the confirmations' request IDs.
var agreementNamespace = uuid.MustParse("3b7c2f0e-6a51-4d8e-9c1b-5f2a7e4d0c63")

// agreementRequestID is deterministic per customer and spec generation.
func agreementRequestID(c *v1alpha1.Customer) string {
	return uuid.NewSHA1(agreementNamespace, fmt.Appendf(nil, "%s/%d", c.UID, c.Generation)).String()
}

func (r *CustomerReconciler) pollInterval() time.Duration {
	return r.opts.Poll()
}

// readAgreementAgain is when a missing agreement is read again: every poll
// interval while a subscription of the customer waits for it, ten times
// less often otherwise (nothing is bought meanwhile; the customer may
// accept it in the Microsoft 365 admin center at any time).
func (r *CustomerReconciler) readAgreementAgain(ctx context.Context, c *v1alpha1.Customer) time.Duration {
	list := &v1alpha1.CustomerSubscriptionList{}
	if err := r.List(ctx, list, client.InNamespace(c.Namespace), client.MatchingFields{core.IndexCustomerRef: c.Name}); err == nil {
		for i := range list.Items {
			if core.ReadyReason(list.Items[i].Status.Conditions) == v1alpha1.ReasonAwaitingAgreement {
				return r.pollInterval()
			}
		}
	}
	return 10 * r.pollInterval()
}

func orNone(list []string) string {
	if len(list) == 0 {
		return "none"
	}
	return strings.Join(list, ", ")
}
