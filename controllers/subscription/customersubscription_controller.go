package subscription

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	"github.com/partnerops/multichannel-operator/controllers/internal/core"
	"github.com/partnerops/multichannel-operator/internal/carts"
	"github.com/partnerops/multichannel-operator/internal/eligibility"
	pc "github.com/partnerops/multichannel-operator/internal/partnercenter"
	"github.com/partnerops/multichannel-operator/internal/pass"
	"github.com/partnerops/multichannel-operator/internal/pollgate"
	"github.com/partnerops/multichannel-operator/internal/sharedcalls"
)

// CustomerSubscriptionReconciler works out a subscription's multichannel
// path and drives it: the reseller relationship, then the switch.
type CustomerSubscriptionReconciler struct {
	client.Client
	clients  *core.PartnerClients
	recorder recorder.EventRecorder
	opts     core.Options
	shared   *sharedcalls.Calls // transfers, orders and request links, shared by the objects that have them in common
	carts    *carts.Carts       // purchases ready together share a cart
	polls    *pollgate.Gate     // orders and transfers: once per poll interval
	wake     *core.Wakeups      // what Partner Center reports changed
	totals   *policyTotals
	unsent   *unsentOperations
	windows  unreadWindows // purchases whose cancellation window is read again
}

// NewReconciler is the CustomerSubscription reconciler over the process's
// per-partner clients, shared calls and wakeups.
func NewReconciler(clients *core.PartnerClients, rec recorder.EventRecorder, shared *sharedcalls.Calls, wake *core.Wakeups) *CustomerSubscriptionReconciler {
	return &CustomerSubscriptionReconciler{clients: clients, recorder: rec, shared: shared, wake: wake}
}

// +kubebuilder:rbac:groups=multichannel.partnerops.io,resources=customersubscriptions,verbs=get;list;watch
// +kubebuilder:rbac:groups=multichannel.partnerops.io,resources=customersubscriptions/status,verbs=get;patch
// +kubebuilder:rbac:groups=multichannel.partnerops.io,resources=resellerrelationships,verbs=get;list;watch;create
// +kubebuilder:rbac:groups=multichannel.partnerops.io,resources=approvalpolicies,verbs=get;list;watch
// The verb reconcile marks the operator to the admission check on decisions
// (config/admission): it alone may write what it observed or computed.
// +kubebuilder:rbac:groups=multichannel.partnerops.io,resources=customersubscriptions;resellerrelationships,verbs=reconcile

// subscriptionScope is what one pass over a CustomerSubscription has read and decided.
type subscriptionScope struct {
	*pass.Pass[*v1alpha1.CustomerSubscription]
	sub            *v1alpha1.CustomerSubscription
	customer       *v1alpha1.Customer
	channelPartner *v1alpha1.Partner
	target         *v1alpha1.Partner
	targetProvider *v1alpha1.Partner
	result         eligibility.Result
	relationship   *v1alpha1.ResellerRelationship
	// terms: what the current spec asks the operator to send, or nil on a
	// path that sends nothing needing authorization.
	terms *v1alpha1.Terms
	now   time.Time

	// What the pass found, which summarize turns into the status (its
	// phase, its step conditions, Ready, Reconciling and Stalled).
	step step
	// verdict is where the subscription stands when the pass ends short of
	// an end: what it waits for, or what stops it.
	verdict pass.Verdict
	// end: the pass ended the subscription's path (completed, failed,
	// cancelled).
	end *ending
	// The steps' conditions, as this pass found them: Eligible,
	// RelationshipApproved (the customer's consent) and Authorized (the
	// partner's authority). Unknown when the pass did not reach the step.
	eligible, consent, authorization pass.Gate
	// retired: a failed attempt was retired, and its Switched goes.
	retired bool
	// ungated: the path is taken without the request and approval steps
	// (already managed, or a transfer adopted from Partner Center).
	ungated bool
	// lock: the status write must not overwrite a change made since the
	// pass read the object (it records a cart).
	lock bool
}

// Reconcile runs the workflow's phases in order; the first that decides ends the pass.
func (r *CustomerSubscriptionReconciler) Reconcile(ctx context.Context, req ctrl.Request) (res ctrl.Result, retErr error) {
	sub := &v1alpha1.CustomerSubscription{}
	if err := r.Get(ctx, req.NamespacedName, sub); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !sub.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil // nothing in Partner Center is undone
	}
	// Every Partner Center call made for this object carries its UID, so
	// they can be followed together in Partner Center's logs.
	ctx = pc.WithCorrelationID(ctx, string(sub.UID))
	p := pass.Begin(ctx, r.Client, r.recorder, "CustomerSubscription", sub, &sub.Status.Conditions, &sub.Status.ObservedGeneration)
	s := &subscriptionScope{Pass: p, sub: sub, now: r.opts.Clock.Now()}
	defer func() {
		sum := summarize(s)
		if d := s.result.NotAfter.Sub(s.now); d > 0 && (res.RequeueAfter == 0 || d < res.RequeueAfter) {
			res.RequeueAfter = d // evaluated again at the deadline, whatever else wakes it
		}
		phase := sub.Status.Phase
		p.PhaseChanged(string(p.Before.Status.Phase), string(phase), phase == v1alpha1.PhaseFailed || phase == v1alpha1.PhaseIneligible, "", sum)
		// A person may record a decision meanwhile: a pass that changed the
		// authorization must not overwrite one.
		retErr = p.Finish(ctx, res, retErr, s.lock || !equality.Semantic.DeepEqual(p.Before.Status.Authorization, sub.Status.Authorization), sum)
	}()

	return pass.RunPhases(ctx, s,
		r.noteOutsideChange,
		r.cancelPurchase,
		r.keepCancelledPurchase,
		r.readCancellationWindowAgain,
		r.keepFinalOutcome,
		r.loadReferences,
		r.evaluate,
		r.abandonUnwantedOperation,
		r.finishOperationInFlight,
		r.stopWhenOnlyEvaluated,
		r.stopWhenIneligible,
		r.waitForTermEnd,
		r.stopWhenAlreadyManaged,
		r.requireAuthorityHere,
		r.beginNextAttempt,
		r.ensureRelationship,
		r.followAdoptedTransfer,
		r.authorize,
		r.awaitApproval,
		r.switchSubscription,
	)
}

// noteOutsideChange shows a change the partner's activity log reported on
// the subscription that the operator did not make: in
// status.lastOutsideChange and a Warning Event. What it means for the
// subscription (a transfer cancelled, say) the phases after it find out.
func (r *CustomerSubscriptionReconciler) noteOutsideChange(_ context.Context, s *subscriptionScope) (*ctrl.Result, error) {
	rec, ok := r.wake.TakeOutside(s.sub.UID)
	if !ok {
		return nil, nil
	}
	by := rec.By
	if by == "" {
		by = "Microsoft"
	}
	s.sub.Status.LastOutsideChange = &v1alpha1.OutsideChange{Change: rec.Change, At: metav1.NewTime(rec.At), By: by}
	s.Event(nil, corev1.EventTypeWarning, "ChangedInPartnerCenter", "FollowActivityLog",
		"Partner Center's activity log reports %s of this subscription by %s at %s, made outside the operator.", rec.Change, by, rec.At.UTC().Format(time.RFC3339))
	return nil, nil
}

// keepFinalOutcome: Completed, and Failed after a terminal Partner Center
// outcome, stay as they are until the spec changes.
func (r *CustomerSubscriptionReconciler) keepFinalOutcome(_ context.Context, s *subscriptionScope) (*ctrl.Result, error) {
	st := s.sub.Status
	if st.ObservedGeneration != s.sub.Generation {
		return nil, nil
	}
	if st.Phase == v1alpha1.PhaseCompleted || (terminalFailure(st) && !retryRequested(s.sub)) {
		return pass.Done, nil
	}
	return nil, nil
}

// keepCancelledPurchase: a purchase cancelled in Partner Center stays so,
// whatever the spec says since: nothing is bought again for it, and Ready
// keeps saying it was cancelled. A new subscription buys anew.
func (r *CustomerSubscriptionReconciler) keepCancelledPurchase(_ context.Context, s *subscriptionScope) (*ctrl.Result, error) {
	if c := s.sub.Status.Cancellation; c != nil && c.CompletedAt != nil && s.sub.Status.Phase == v1alpha1.PhaseCompleted {
		return pass.Done, nil
	}
	return nil, nil
}

// terminalFailure: Partner Center ended the switch step's operation without
// success (a refusal, a rejected or expired transfer).
func terminalFailure(st v1alpha1.CustomerSubscriptionStatus) bool {
	return st.Phase == v1alpha1.PhaseFailed && st.Operation != nil && st.Operation.CompletedAt != nil
}

// retryRequested: the retry annotation holds a value the current attempt has not answered.
func retryRequested(sub *v1alpha1.CustomerSubscription) bool {
	v, ok := sub.Annotations[v1alpha1.AnnotationRetry]
	return ok && v != sub.Status.RetryRequest
}

// beginNextAttempt: after a terminal failure, a spec change or a new retry
// annotation starts the next attempt. The failed operation is kept in
// previousOperations; the next one gets a new id, so Partner Center does not
// answer it with the failed one's result.
func (r *CustomerSubscriptionReconciler) beginNextAttempt(_ context.Context, s *subscriptionScope) (*ctrl.Result, error) {
	st := &s.sub.Status
	if !terminalFailure(*st) || (st.ObservedGeneration == s.sub.Generation && !retryRequested(s.sub)) {
		return nil, nil
	}
	failed := *st.Operation
	retireOperation(st)
	st.RetryRequest = s.sub.Annotations[v1alpha1.AnnotationRetry]
	if a := st.Authorization; a != nil && a.Decision == v1alpha1.DecisionAuthorized {
		// The decision was spent on the failed attempt (its operation records
		// it in authorizedBy): the next attempt needs a decision again,
		// which a policy that still covers it gives at once.
		st.Authorization = nil
	}
	s.retired = true
	s.Event(nil, corev1.EventTypeNormal, "Retrying", "RetryOperation",
		"Attempt %d of the switch step begins; operation %s (%s) of attempt %d ended Failed.", max(failed.Attempt, 1)+1, failed.ID, failed.Type, max(failed.Attempt, 1))
	return nil, nil
}

// retireOperation moves the current operation, ended, to
// status.previousOperations, which keeps the last few.
func retireOperation(st *v1alpha1.CustomerSubscriptionStatus) {
	ended := *st.Operation
	ended.Attempt = max(ended.Attempt, 1)
	st.PreviousOperations = append(st.PreviousOperations, ended)
	if n := len(st.PreviousOperations); n > maxPreviousOperations {
		st.PreviousOperations = st.PreviousOperations[n-maxPreviousOperations:]
	}
	st.Operation = nil
}

// maxPreviousOperations bounds status.previousOperations.
const maxPreviousOperations = 5

func (r *CustomerSubscriptionReconciler) loadReferences(ctx context.Context, s *subscriptionScope) (*ctrl.Result, error) {
	// status.terms describe the spec this pass reads, or nothing: a pass
	// that ends before evaluating it must not leave an older spec's terms
	// for a cart to send.
	s.sub.Status.Terms = nil
	s.customer = &v1alpha1.Customer{}
	if found, err := core.GetReference(ctx, r.Client, &s.verdict, client.ObjectKey{Namespace: s.sub.Namespace, Name: s.sub.Spec.CustomerRef}, s.customer, "spec.customerRef", "subscription"); !found {
		return pass.Done, err
	}
	if ref := s.sub.Spec.Channel.PartnerRef; ref != "" {
		s.channelPartner = &v1alpha1.Partner{}
		if found, err := core.GetReference(ctx, r.Client, &s.verdict, client.ObjectKey{Name: ref}, s.channelPartner, "spec.channel.partnerRef", "subscription"); !found {
			return pass.Done, err
		}
	}
	if ref := s.sub.Spec.SupportPartnerRef; ref != "" {
		s.target = &v1alpha1.Partner{}
		if found, err := core.GetReference(ctx, r.Client, &s.verdict, client.ObjectKey{Name: ref}, s.target, "spec.supportPartnerRef", "subscription"); !found {
			return pass.Done, err
		}
		// A missing indirect provider is not waited for: the decision table reports it.
		if prov := s.target.Spec.IndirectProviderRef; prov != "" {
			p := &v1alpha1.Partner{}
			if err := r.Get(ctx, client.ObjectKey{Name: prov}, p); err == nil {
				s.targetProvider = p
			} else if !apierrors.IsNotFound(err) {
				return nil, err
			}
		}
	}
	return nil, nil
}

// evaluate applies the decision table.
func (r *CustomerSubscriptionReconciler) evaluate(_ context.Context, s *subscriptionScope) (*ctrl.Result, error) {
	s.result = eligibility.Evaluate(eligibility.Input{
		Subscription: s.sub, Customer: s.customer, ChannelPartner: s.channelPartner,
		Target: s.target, TargetProvider: s.targetProvider, Now: s.now,
	})
	e := &v1alpha1.Eligibility{Eligible: s.result.Eligible, Path: s.result.Path, Reason: s.result.Reason, Message: s.result.Message()}
	if s.result.NotBefore != nil {
		nb := metav1.NewTime(*s.result.NotBefore)
		e.NotBefore = &nb
	}
	if !s.result.NotAfter.IsZero() {
		na := metav1.NewTime(s.result.NotAfter)
		e.NotAfter = &na
	}
	s.sub.Status.Eligibility = e
	s.terms = termsOf(s.sub, s.customer, s.target, s.channelPartner, s.result.Path)
	s.sub.Status.Terms = s.terms
	s.eligible = pass.GateOf(pass.BoolStatus(e.Eligible), string(e.Reason), e.Message)
	return nil, nil
}

// stopWhenOnlyEvaluated: without a support partner nothing is driven.
func (r *CustomerSubscriptionReconciler) stopWhenOnlyEvaluated(_ context.Context, s *subscriptionScope) (*ctrl.Result, error) {
	if s.target != nil {
		return nil, nil
	}
	s.step = stepEvaluated
	return pass.Done, nil
}

func (r *CustomerSubscriptionReconciler) stopWhenIneligible(_ context.Context, s *subscriptionScope) (*ctrl.Result, error) {
	if s.result.Eligible || s.result.Path != v1alpha1.PathNone {
		return nil, nil
	}
	s.step = stepIneligible
	s.verdict = pass.Stalled(string(s.result.Reason), s.result.Message())
	return pass.Done, nil
}

// waitForTermEnd: a license with another CSP partner moves when its term ends.
func (r *CustomerSubscriptionReconciler) waitForTermEnd(_ context.Context, s *subscriptionScope) (*ctrl.Result, error) {
	if s.result.Path != v1alpha1.PathWaitForTermEnd {
		return nil, nil
	}
	s.step = stepScheduled
	s.verdict = pass.Progressing(v1alpha1.ReasonScheduled, fmt.Sprintf("Scheduled for %s: %s", s.result.NotBefore.UTC().Format(time.RFC3339), s.result.Message()))
	wait := s.result.NotBefore.Sub(s.now)
	if t := s.sub.Spec.Term; t != nil && t.AutoRenew {
		// The source renews at the term's end unless the source partner
		// turns auto-renew off: say so, once, some weeks before.
		if warnIn := wait - renewalWarning; warnIn > 0 {
			wait = warnIn
		} else {
			s.verdict = pass.Progressing(v1alpha1.ReasonSourceRenewsSoon, fmt.Sprintf("The source renews on %s unless partner %s turns auto-renew off before: %s",
				s.result.NotBefore.UTC().Format("2006-01-02"), s.sub.Spec.Channel.PartnerRef, s.result.Message()))
			if ready := meta.FindStatusCondition(s.sub.Status.Conditions, v1alpha1.ConditionReady); ready == nil || ready.Reason != v1alpha1.ReasonSourceRenewsSoon {
				s.Event(nil, corev1.EventTypeWarning, v1alpha1.ReasonSourceRenewsSoon, "WaitForTermEnd", "%s", s.verdict.Message)
			}
		}
	}
	if wait > r.opts.MaxRequeue {
		wait = r.opts.MaxRequeue
	}
	return &ctrl.Result{RequeueAfter: max(wait, time.Second)}, nil
}

func (r *CustomerSubscriptionReconciler) stopWhenAlreadyManaged(_ context.Context, s *subscriptionScope) (*ctrl.Result, error) {
	if s.result.Path != v1alpha1.PathNone {
		return nil, nil
	}
	s.ungated = true
	r.complete(s, s.result.Message())
	return pass.Done, nil
}

// requireAuthorityHere: nothing is requested, bought or transferred for a
// customer whose tenant another namespace holds, or through a partner that
// does not serve this namespace.
func (r *CustomerSubscriptionReconciler) requireAuthorityHere(ctx context.Context, s *subscriptionScope) (*ctrl.Result, error) {
	if ok, err := core.MayActFor(ctx, r.Client, &s.verdict, s.target, s.customer, s.sub.Namespace); !ok {
		return pass.Done, err
	}
	return nil, nil
}

// renewalWarning is how long before a renewing source's term ends the
// subscription warns (Event SourceRenewsSoon; the alert
// MultichannelSourceRenewsSoon fires then too).
const renewalWarning = 21 * 24 * time.Hour

// relationshipName is the name of the ResellerRelationship the operator creates.
func relationshipName(customer, partner string) string { return customer + "-" + partner }

// ensureRelationship finds the customer's relationship with the support
// partner, or creates one.
func (r *CustomerSubscriptionReconciler) ensureRelationship(ctx context.Context, s *subscriptionScope) (*ctrl.Result, error) {
	list := &v1alpha1.ResellerRelationshipList{}
	if err := r.List(ctx, list, client.InNamespace(s.sub.Namespace), client.MatchingFields{core.IndexCustomerRef: s.customer.Name}); err != nil {
		return nil, err
	}
	s.relationship = core.BestRelationship(list.Items, s.target.Name)
	if s.relationship != nil {
		s.sub.Status.RelationshipRef = s.relationship.Name
		return nil, nil
	}

	rr := &v1alpha1.ResellerRelationship{}
	rr.Namespace, rr.Name = s.sub.Namespace, relationshipName(s.customer.Name, s.target.Name)
	rr.Labels = map[string]string{v1alpha1.LabelCreatedBy: v1alpha1.LabelCreatedByValue}
	if shard, ok := s.sub.Labels[v1alpha1.LabelShard]; ok {
		rr.Labels[v1alpha1.LabelShard] = shard // seen by the same replica
	}
	rr.Spec = v1alpha1.ResellerRelationshipSpec{PartnerRef: s.target.Name, CustomerRef: s.customer.Name}
	if s.customer.Spec.Cloud == v1alpha1.CloudUSGovernment {
		// In the US Government cloud the request comes with delegated administration.
		rr.Spec.DelegatedAdmin = ptr.To(true)
	}
	err := r.Create(ctx, rr)
	switch {
	case apierrors.IsAlreadyExists(err):
		existing := &v1alpha1.ResellerRelationship{}
		if err := r.Get(ctx, client.ObjectKeyFromObject(rr), existing); err == nil &&
			(existing.Spec.PartnerRef != s.target.Name || existing.Spec.CustomerRef != s.customer.Name) {
			s.verdict = pass.Stalled(v1alpha1.ReasonRelationshipNameTaken, fmt.Sprintf("ResellerRelationship %s exists but is not between customer %s and partner %s; rename it, or create one for this pair.", rr.Name, s.customer.Name, s.target.Name))
			return pass.Done, nil
		}
		return &ctrl.Result{RequeueAfter: time.Second}, nil // the cache has not seen it yet
	case err != nil:
		return nil, fmt.Errorf("creating ResellerRelationship %s/%s: %w", rr.Namespace, rr.Name, err)
	}
	s.Event(rr, corev1.EventTypeNormal, "RelationshipRequested", "CreateResellerRelationship",
		"Created ResellerRelationship %s: partner %s asks customer %s to approve it as reseller", rr.Name, s.target.Name, s.customer.Name)
	s.relationship = rr
	s.sub.Status.RelationshipRef = rr.Name
	return nil, nil
}

// awaitApproval waits for both gates: the customer's consent (the
// relationship approved) and the partner's own authority (Authorized). The
// conditions say which is still open.
func (r *CustomerSubscriptionReconciler) awaitApproval(ctx context.Context, s *subscriptionScope) (*ctrl.Result, error) {
	if confirmed(s.sub.Status.Operation) {
		return nil, nil // sent under both gates and confirmed: follow it to its end
	}
	rr := s.relationship
	phase := rr.Status.Phase
	if phase == "" {
		phase = v1alpha1.RelationshipPending
	}
	observable, err := core.CallsPartnerCenter(ctx, r.Client, s.target)
	if err != nil {
		return nil, err
	}
	consented := consentGiven(rr, observable, s.customer)
	consentMsg := fmt.Sprintf("ResellerRelationship %s is %s.", rr.Name, phase)
	if a := rr.Status.Approval; consented {
		consentMsg = fmt.Sprintf("ResellerRelationship %s was approved (%s: %s).", rr.Name, a.Source, a.By)
	} else if a != nil && phase == v1alpha1.RelationshipApproved && !strings.EqualFold(a.TenantID, s.customer.Spec.TenantID) {
		consentMsg = fmt.Sprintf("ResellerRelationship %s was approved for tenant %q (%s: %s), not for customer %s's tenant %s: consent counts only for the tenant that gave it; request it again with a new ResellerRelationship.",
			rr.Name, a.TenantID, a.Source, a.By, s.customer.Name, s.customer.Spec.TenantID)
	} else if phase == v1alpha1.RelationshipApproved {
		consentMsg = fmt.Sprintf("ResellerRelationship %s is Approved, but not by the customer in Partner Center (%s); partner %s's consent is only what Partner Center shows: request it again with a new ResellerRelationship.",
			rr.Name, approvalSource(rr), s.target.Name)
	}
	s.consent = pass.GateOf(pass.BoolStatus(consented), string(phase), consentMsg)
	switch phase {
	case v1alpha1.RelationshipDenied:
		s.end = refused(v1alpha1.ReasonRelationshipDenied, fmt.Sprintf("Customer %s denied ResellerRelationship %s with partner %s; nothing can move without it.", s.customer.Name, rr.Name, s.target.Name))
		return pass.Done, nil
	case v1alpha1.RelationshipExpired:
		s.end = refused(v1alpha1.ReasonRelationshipExpired, fmt.Sprintf("ResellerRelationship %s expired before customer %s answered; delete it to ask again.", rr.Name, s.customer.Name))
		return pass.Done, nil
	}
	authorized := s.authorization
	agreed, agreementMsg := agreementGate(s)
	if consented && authorized.IsOpen() && agreed {
		return nil, nil // both gates are open, and the agreement is in place
	}
	s.step = stepApproval // the subscription waits at the gates
	if consented && authorized.IsOpen() {
		s.verdict = pass.Progressing(v1alpha1.ReasonAwaitingAgreement, "Waiting for "+agreementMsg)
		return pass.Done, nil // the Customer's AgreementAccepted is watched
	}

	if stalled := meta.FindStatusCondition(rr.Status.Conditions, v1alpha1.ConditionStalled); !consented && stalled != nil && stalled.Status == metav1.ConditionTrue {
		// The request itself cannot go on: that, not the customer, blocks the subscription.
		s.verdict = pass.Stalled(stalled.Reason, fmt.Sprintf("ResellerRelationship %s with partner %s is stalled: %s", rr.Name, s.target.Name, stalled.Message))
		return pass.Done, nil
	}

	var waiting []string
	reason := v1alpha1.ReasonAwaitingApproval
	if !consented {
		msg := fmt.Sprintf("customer %s to approve ResellerRelationship %s with partner %s", s.customer.Name, rr.Name, s.target.Name)
		if rr.Status.InvitationURL != "" {
			msg = fmt.Sprintf("customer %s's Global admin to accept the request at %s (ResellerRelationship %s)", s.customer.Name, rr.Status.InvitationURL, rr.Name)
		}
		if c := meta.FindStatusCondition(rr.Status.Conditions, v1alpha1.ConditionReady); c != nil && c.Reason != v1alpha1.ReasonAwaitingApproval && c.Message != "" {
			// The relationship is blocked by something else: say what.
			msg += "; the relationship says: " + c.Message
		}
		waiting = append(waiting, msg)
	}
	if authorized.Known() && !authorized.IsOpen() {
		if consented {
			reason = v1alpha1.ReasonAwaitingAuthorization
		}
		waiting = append(waiting, "the partner's authorization: "+authorized.Message)
	}
	if !agreed {
		waiting = append(waiting, agreementMsg)
	}
	s.verdict = pass.Progressing(reason, "Waiting for "+strings.Join(waiting, "; and for "))
	// The relationship and the policies are watched: their change requeues this subscription.
	return pass.Done, nil
}

// complete: the switch step reached its end; the subscription is Completed.
func (r *CustomerSubscriptionReconciler) complete(s *subscriptionScope, message string) {
	s.end = &ending{kind: endCompleted, reason: v1alpha1.ReasonCompleted, message: message}
}

// fail: the switch step ended without success; the subscription is Failed.
func (r *CustomerSubscriptionReconciler) fail(s *subscriptionScope, reason, message string) {
	s.end = &ending{kind: endFailed, reason: reason, message: message}
}

// SetupWithManager registers the reconciler and what it watches with mgr.
func (r *CustomerSubscriptionReconciler) SetupWithManager(mgr ctrl.Manager, opts core.Options) error {
	r.Client = mgr.GetClient()
	r.opts = opts
	r.polls = r.wake.Gate(pollgate.New(opts.PollInterval))
	r.carts = carts.New(opts.CartWindow)
	r.totals = newPolicyTotals()
	r.unsent = newUnsentOperations()
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1alpha1.CustomerSubscription{}).
		WatchesRawSource(r.wake.Source(r.wake.Subscriptions)).
		Watches(&v1alpha1.Customer{}, handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, o client.Object) []ctrl.Request {
			return core.RequestsFor(ctx, r.Client, &v1alpha1.CustomerSubscriptionList{}, client.InNamespace(o.GetNamespace()), client.MatchingFields{core.IndexCustomerRef: o.GetName()})
		}), core.CustomerChanged).
		Watches(&v1alpha1.Partner{}, handler.EnqueueRequestsFromMapFunc(r.subscriptionsOfPartner), core.PartnerChanged).
		Watches(&v1alpha1.ApprovalPolicy{}, handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, o client.Object) []ctrl.Request {
			return core.RequestsFor(ctx, r.Client, &v1alpha1.CustomerSubscriptionList{}, client.InNamespace(o.GetNamespace()))
		}), core.SpecChanged).
		Watches(&v1alpha1.ResellerRelationship{}, handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, o client.Object) []ctrl.Request {
			rr := o.(*v1alpha1.ResellerRelationship)
			return core.RequestsFor(ctx, r.Client, &v1alpha1.CustomerSubscriptionList{}, client.InNamespace(rr.Namespace),
				client.MatchingFields{core.IndexCustomerRef: rr.Spec.CustomerRef})
		})).
		WithOptions(opts.ControllerOptions()).
		Complete(r)
}

// subscriptionsOfPartner: the subscriptions a Partner's change can affect,
// as support partner, channel partner, or indirect provider of the support partner.
func (r *CustomerSubscriptionReconciler) subscriptionsOfPartner(ctx context.Context, o client.Object) []ctrl.Request {
	reqs := core.RequestsFor(ctx, r.Client, &v1alpha1.CustomerSubscriptionList{}, client.MatchingFields{core.IndexSupportPartnerRef: o.GetName()})
	reqs = append(reqs, core.RequestsFor(ctx, r.Client, &v1alpha1.CustomerSubscriptionList{}, client.MatchingFields{core.IndexChannelPartnerRef: o.GetName()})...)
	resellers := &v1alpha1.PartnerList{}
	if err := r.List(ctx, resellers, client.MatchingFields{core.IndexProviderRef: o.GetName()}); err == nil {
		for _, p := range resellers.Items {
			reqs = append(reqs, core.RequestsFor(ctx, r.Client, &v1alpha1.CustomerSubscriptionList{}, client.MatchingFields{core.IndexSupportPartnerRef: p.Name})...)
		}
	}
	return reqs
}

// consentGiven: the relationship carries the customer's consent: what
// Partner Center showed, or, where the operator cannot call Partner Center
// for the partner (observable false: neither it nor, for an indirect
// reseller, its provider has credentials), a decision a person with verb
// approve recorded. Consent counts only for the tenant that gave it.
func consentGiven(rr *v1alpha1.ResellerRelationship, observable bool, customer *v1alpha1.Customer) bool {
	a := rr.Status.Approval
	if rr.Status.Phase != v1alpha1.RelationshipApproved || a == nil || a.Decision != v1alpha1.DecisionApproved ||
		!strings.EqualFold(a.TenantID, customer.Spec.TenantID) {
		return false
	}
	return a.Source == v1alpha1.ApprovalFromPartnerCenter || (a.Source == v1alpha1.ApprovalManual && !observable)
}
