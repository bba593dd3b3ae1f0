package controllers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	"github.com/partnerops/multichannel-operator/controllers/internal/core"
	pc "github.com/partnerops/multichannel-operator/internal/partnercenter"
	"github.com/partnerops/multichannel-operator/internal/pass"
	"github.com/partnerops/multichannel-operator/internal/pollgate"
	"github.com/partnerops/multichannel-operator/internal/sharedcalls"
)

// ResellerRelationshipReconciler drives a reseller relationship request: it
// gets the request link from Partner Center, then waits for the customer's
// decision. Only the customer approves: for a partner with credentials the
// decision is what Partner Center shows; for a reference-only partner a person
// with verb approve records it as an Approved or Denied condition.
type ResellerRelationshipReconciler struct {
	client.Client
	clients  *core.PartnerClients
	recorder recorder.EventRecorder
	opts     Options
	shared   *sharedcalls.Calls // transfers and request links, shared by the objects that have them in common
	polls    *pollgate.Gate     // Partner Center's view of the customer: once per poll interval
	wake     *core.Wakeups      // what Partner Center reports changed
}

// +kubebuilder:rbac:groups=multichannel.partnerops.io,resources=resellerrelationships,verbs=get;list;watch;create
// +kubebuilder:rbac:groups=multichannel.partnerops.io,resources=resellerrelationships/status,verbs=get;patch
// +kubebuilder:rbac:groups=multichannel.partnerops.io,resources=customers,verbs=get;list;watch

// relationshipScope is what one pass over a ResellerRelationship has read
// and found; summarizeRelationship derives the status from it.
type relationshipScope struct {
	*pass.Pass[*v1alpha1.ResellerRelationship]
	rr       *v1alpha1.ResellerRelationship
	partner  *v1alpha1.Partner
	customer *v1alpha1.Customer
	now      time.Time
	// decision is the customer's answer (or the request's expiry) this
	// pass found.
	decision v1alpha1.RelationshipPhase
	// blocker is what keeps the request from going on, when something
	// does; waiting what an undecided request waits for.
	blocker, waiting pass.Verdict
	// approved is the Approved condition when Partner Center shows the
	// customer's consent; plan the AzurePlan step, when the pass reached it.
	approved, plan pass.Gate
	// ignoredApproval says why a manual approval was not used, for the
	// message while the operator waits for Partner Center.
	ignoredApproval string
}

// Reconcile runs the request's phases in order; the first that decides ends the pass.
func (r *ResellerRelationshipReconciler) Reconcile(ctx context.Context, req ctrl.Request) (res ctrl.Result, retErr error) {
	rr := &v1alpha1.ResellerRelationship{}
	if err := r.Get(ctx, req.NamespacedName, rr); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !rr.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil
	}
	// Every Partner Center call made for this object carries its UID, so
	// they can be followed together in Partner Center's logs.
	ctx = pc.WithCorrelationID(ctx, string(rr.UID))
	p := pass.Begin(ctx, r.Client, r.recorder, "ResellerRelationship", rr, &rr.Status.Conditions, &rr.Status.ObservedGeneration)
	s := &relationshipScope{Pass: p, rr: rr, now: r.opts.Clock.Now()}
	defer func() {
		sum := summarizeRelationship(s)
		before, phase := p.Before.Status.Phase, rr.Status.Phase
		p.PhaseChanged(string(before), string(phase), phase == v1alpha1.RelationshipDenied || phase == v1alpha1.RelationshipExpired,
			"Reseller relationship with partner "+rr.Spec.PartnerRef+" is "+string(phase), sum)
		// A person may record the customer's decision (a condition and
		// status.approval) until the relationship is final: a pass that
		// changes either must not overwrite one recorded since it read.
		locked := !equality.Semantic.DeepEqual(p.Before.Status.Approval, rr.Status.Approval) ||
			(!relationshipFinal(before) && !equality.Semantic.DeepEqual(p.Before.Status.Conditions, rr.Status.Conditions))
		retErr = p.Finish(ctx, res, retErr, locked, sum)
	}()

	return pass.RunPhases(ctx, s,
		r.ensureAzurePlan,
		r.keepFinalDecision,
		r.loadReferences,
		r.recordManualDecision,
		r.requireDelegatedAdminForUSGovernment,
		r.requestLink,
		r.observePartnerCenter,
		r.expire,
		r.pollAgain,
	)
}

// pollAgain: still waiting for the customer; ask again, but wake up for the expiry.
func (r *ResellerRelationshipReconciler) pollAgain(_ context.Context, s *relationshipScope) (*ctrl.Result, error) {
	wait := r.opts.Follow(r.wake, s.partner)
	if untilExpiry := expiresAt(s.rr).Sub(s.now); untilExpiry > 0 && untilExpiry < wait {
		wait = untilExpiry
	}
	return &ctrl.Result{RequeueAfter: wait}, nil
}

// keepFinalDecision: Approved, Denied and Expired are final.
func (r *ResellerRelationshipReconciler) keepFinalDecision(_ context.Context, s *relationshipScope) (*ctrl.Result, error) {
	if relationshipFinal(s.phase()) {
		return pass.Done, nil
	}
	return nil, nil
}

// phase is the relationship's phase with this pass's decision.
func (s *relationshipScope) phase() v1alpha1.RelationshipPhase {
	if s.decision != "" {
		return s.decision
	}
	return s.rr.Status.Phase
}

// summarizeRelationship derives the relationship's status from what the
// pass found: its phase (Pending until the request link is had, then
// Requested, until the decision the phases record: Approved, Denied or
// Expired), the Approved and AzurePlan conditions, and the verdict: what
// blocks the request, else what it waits for or what its decision means.
func summarizeRelationship(s *relationshipScope) pass.Summary {
	st := &s.rr.Status
	switch {
	case s.decision != "":
		st.Phase = s.decision
	case st.InvitationURL != "" && (st.Phase == "" || st.Phase == v1alpha1.RelationshipPending):
		st.Phase = v1alpha1.RelationshipRequested
	case st.Phase == "":
		st.Phase = v1alpha1.RelationshipPending
	}
	s.Conds.SetFrom(v1alpha1.ConditionApproved, s.approved)
	s.Conds.SetFrom(v1alpha1.ConditionAzurePlan, s.plan)
	if s.blocker.Decided() {
		return pass.Summary{Verdict: s.blocker}
	}
	switch st.Phase {
	case v1alpha1.RelationshipPending, v1alpha1.RelationshipRequested:
		return pass.Summary{Verdict: s.waiting}
	case v1alpha1.RelationshipApproved:
		return pass.Summary{Verdict: pass.Ready(v1alpha1.ReasonRelationshipApproved, approvedMessage(s.rr))}
	case v1alpha1.RelationshipDenied:
		return pass.Summary{Verdict: pass.Stalled(v1alpha1.ReasonRelationshipDenied, "The customer denied the reseller relationship request; a new request is a new ResellerRelationship.")}
	case v1alpha1.RelationshipExpired:
		return pass.Summary{Verdict: pass.Stalled(v1alpha1.ReasonRelationshipExpired, fmt.Sprintf("The customer did not answer within %s; a new request is a new ResellerRelationship.", expiresAfter(s.rr)))}
	}
	return pass.Summary{}
}

// recordManualDecision: a person recorded the customer's decision as a
// condition, and the admission check put who they are in status.approval. For
// a partner with credentials only a denial is taken: the customer's consent is
// what Partner Center shows.
func (r *ResellerRelationshipReconciler) recordManualDecision(ctx context.Context, s *relationshipScope) (*ctrl.Result, error) {
	for _, typ := range []string{v1alpha1.ConditionDenied, v1alpha1.ConditionApproved} {
		c := meta.FindStatusCondition(s.rr.Status.Conditions, typ)
		if c == nil || c.Status != metav1.ConditionTrue {
			continue
		}
		a := s.rr.Status.Approval
		if a == nil || a.Source != v1alpha1.ApprovalManual || a.By == "" || a.TenantID == "" || string(a.Decision) != typ {
			s.blocker = pass.Stalled(v1alpha1.ReasonDecisionWithoutRecord, fmt.Sprintf(
				"A %s condition was written without status.approval naming who recorded it and the customer tenant that decided (by, tenantID), so it is not used; record the decision with kubectl multichannel %s resellerrelationship/%s.",
				typ, map[string]string{v1alpha1.ConditionApproved: "approve", v1alpha1.ConditionDenied: "deny"}[typ], s.rr.Name))
			return pass.Done, nil
		}
		observable, err := core.CallsPartnerCenter(ctx, r.Client, s.partner)
		if err != nil {
			return nil, err
		}
		if typ == v1alpha1.ConditionApproved && observable {
			s.ignoredApproval = fmt.Sprintf(
				"%s recorded an approval by hand, but the operator calls Partner Center for partner %s: the customer's consent is only what Partner Center shows, so the operator waits for customer %s's Global admin to accept the request at status.invitationURL.",
				a.By, s.partner.Name, s.customer.Name)
			return nil, nil // the request link and Partner Center still decide
		}
		if typ == v1alpha1.ConditionApproved {
			s.decision = v1alpha1.RelationshipApproved
		} else {
			s.decision = v1alpha1.RelationshipDenied
		}
		log.FromContext(ctx).Info("customer's decision recorded by hand", "decision", a.Decision, "by", a.By)
		return r.keepFinalDecision(ctx, s)
	}
	return nil, nil
}

func (r *ResellerRelationshipReconciler) loadReferences(ctx context.Context, s *relationshipScope) (*ctrl.Result, error) {
	var found bool
	var err error
	s.partner, s.customer, found, err = core.GetPartnerAndCustomer(ctx, r.Client, &s.blocker, s.rr.Namespace, s.rr.Spec.PartnerRef, s.rr.Spec.CustomerRef, "request")
	if !found {
		return pass.Done, err
	}
	return nil, nil
}

// requireDelegatedAdminForUSGovernment: in the US Government cloud the
// relationship comes with delegated administration.
func (r *ResellerRelationshipReconciler) requireDelegatedAdminForUSGovernment(_ context.Context, s *relationshipScope) (*ctrl.Result, error) {
	if s.customer.Spec.Cloud == v1alpha1.CloudUSGovernment && !delegatedAdmin(s.rr) {
		s.blocker = pass.Stalled(v1alpha1.ReasonDelegatedAdminRequired, fmt.Sprintf(
			"Customer %s is in the USGovernment cloud, where a reseller relationship requires delegated administration; create a new ResellerRelationship with spec.delegatedAdmin true.", s.customer.Name))
		return pass.Done, nil
	}
	return nil, nil
}

// requestLink asks Partner Center for the link the customer opens to accept.
func (r *ResellerRelationshipReconciler) requestLink(ctx context.Context, s *relationshipScope) (*ctrl.Result, error) {
	if s.rr.Status.InvitationURL != "" {
		return nil, nil
	}
	pcClient, res, err := r.partnerClient(ctx, s)
	if pcClient == nil {
		return res, err
	}
	// An indirect reseller's link is asked for by its indirect provider
	// (pcClient is the provider's), naming the reseller's tenant.
	opts := pc.RelationshipRequestOptions{}
	caller := s.partner.Spec.TenantID
	if s.partner.Spec.CSPType == v1alpha1.CSPTypeIndirectReseller {
		opts.IndirectResellerID = s.partner.Spec.TenantID
		caller = "provider-of|" + s.partner.Spec.IndirectProviderRef
	}
	link, err := r.shared.Link(caller+"|"+opts.IndirectResellerID, func() (*pc.RelationshipRequest, error) {
		return pcClient.RelationshipRequest(ctx, opts)
	})
	if errors.Is(err, pc.ErrUserCredentialsRequired) {
		// Without App+User credentials there is no link to ask for; a
		// customer who accepted long ago (an imported estate) is still seen
		// with the App-only lookup.
		if res, err := r.observePartnerCenter(ctx, s); err != nil || s.decision == v1alpha1.RelationshipApproved {
			return res, err
		}
	}
	if err != nil {
		return r.partnerCenterFailed(s, "requesting the reseller relationship link", err)
	}
	now := metav1.NewTime(s.now)
	s.rr.Status.InvitationURL = link.URL
	s.rr.Status.RequestedAt = &now
	s.waiting = pass.Progressing(v1alpha1.ReasonAwaitingApproval, fmt.Sprintf("Waiting for customer %s's Global admin to accept the request at status.invitationURL.", s.customer.Name))
	return &ctrl.Result{RequeueAfter: r.opts.Follow(r.wake, s.partner)}, nil
}

// observePartnerCenter: the customer accepted once it appears for the partner as reseller.
func (r *ResellerRelationshipReconciler) observePartnerCenter(ctx context.Context, s *relationshipScope) (*ctrl.Result, error) {
	pcClient, res, err := r.partnerClient(ctx, s)
	if pcClient == nil {
		return res, err
	}
	if wait := r.polls.WaitWithin(s.rr.UID, r.opts.FollowInterval(r.wake, s.partner)); wait > 0 {
		return &ctrl.Result{RequeueAfter: wait}, nil // asked within the interval: nothing new to say
	}
	cust, err := pcClient.GetCustomer(ctx, s.customer.Spec.TenantID)
	switch {
	case notYetReseller(err) && s.ignoredApproval != "":
		s.waiting = pass.Progressing(v1alpha1.ReasonManualApprovalNotUsed, s.ignoredApproval)
		return nil, nil
	case notYetReseller(err):
		s.waiting = pass.Progressing(v1alpha1.ReasonAwaitingApproval, fmt.Sprintf("Waiting for customer %s's Global admin to accept the request at status.invitationURL.", s.customer.Name))
		return nil, nil
	case err != nil:
		return r.partnerCenterFailed(s, "looking up the customer", err)
	case cust.RelationshipToPartner != pc.RelationshipReseller:
		return nil, nil
	}
	r.shared.SeenCustomer(pcClient.TenantID(), s.customer.Spec.TenantID, cust) // its contact address serves the customer's transfers
	if s.partner.Spec.CSPType == v1alpha1.CSPTypeIndirectReseller {
		// The provider seeing the customer is not the reseller's consent (the
		// provider may serve it directly or through another reseller): the
		// customer accepted the link that named this reseller when the
		// provider lists it among the customer's indirect resellers.
		resellers, err := pcClient.CustomerRelationships(ctx, s.customer.Spec.TenantID)
		if err != nil {
			return r.partnerCenterFailed(s, "listing the customer's indirect resellers", err)
		}
		if !slices.ContainsFunc(resellers, func(p pc.PartnerRelationship) bool {
			return strings.EqualFold(p.ID, s.partner.Spec.TenantID) || (p.MPNID != "" && p.MPNID == s.partner.Spec.PartnerID)
		}) {
			s.waiting = pass.Progressing(v1alpha1.ReasonAwaitingApproval, fmt.Sprintf(
				"Waiting for customer %s's Global admin to accept the request at status.invitationURL, which names indirect reseller %s: its indirect provider %s sees the customer, but not yet with %s.",
				s.customer.Name, s.partner.Name, s.partner.Spec.IndirectProviderRef, s.partner.Name))
			return nil, nil
		}
	}
	r.approvedInPartnerCenter(s)
	return r.keepFinalDecision(ctx, s)
}

// expire: no decision within spec.expiresAfter of the request.
func (r *ResellerRelationshipReconciler) expire(ctx context.Context, s *relationshipScope) (*ctrl.Result, error) {
	if s.rr.Status.RequestedAt != nil && !s.now.Before(expiresAt(s.rr)) {
		s.decision = v1alpha1.RelationshipExpired
		return r.keepFinalDecision(ctx, s)
	}
	return nil, nil
}

// partnerClient returns the partner's Partner Center client, or nil with
// the conditions saying why there is none, or while the relationship is held
// after being throttled.
func (r *ResellerRelationshipReconciler) partnerClient(ctx context.Context, s *relationshipScope) (*pc.Client, *ctrl.Result, error) {
	if d := r.polls.HeldFor(s.rr.UID); d > 0 {
		return nil, &ctrl.Result{RequeueAfter: d}, nil
	}
	c, caller, err := r.clients.CallerClient(ctx, r.Client, s.partner)
	ok, err := core.Usable(err, &s.blocker, caller, "Partner Center", func() {
		s.blocker = pass.Progressing(v1alpha1.ReasonAwaitingManualApproval, fmt.Sprintf(
			"%s has no Partner Center credentials, so the customer's decision cannot be observed; once customer %s answers, a person with verb approve records it: kubectl multichannel approve (or deny) resellerrelationship/%s -n %s.",
			core.Capitalize(core.ActingFor(caller, s.partner)), s.customer.Name, s.rr.Name, s.rr.Namespace))
	})
	if !ok {
		return nil, pass.Done, err
	}
	return c, nil, nil
}

// partnerCenterFailed reports a failed call; it is retried with backoff.
func (r *ResellerRelationshipReconciler) partnerCenterFailed(s *relationshipScope, doing string, err error) (*ctrl.Result, error) {
	if res := r.polls.Throttled(s.rr.UID, err); res != nil {
		return res, nil
	}
	return core.RetryPartnerCenter(&s.blocker, "ResellerRelationship "+s.rr.Namespace+"/"+s.rr.Name, doing, err)
}

// approvedInPartnerCenter records the customer's consent as Partner Center
// shows it; it replaces an approval recorded by hand, which was not used.
func (r *ResellerRelationshipReconciler) approvedInPartnerCenter(s *relationshipScope) {
	now := metav1.NewTime(s.now)
	s.decision = v1alpha1.RelationshipApproved
	s.rr.Status.Approval = &v1alpha1.Approval{Decision: v1alpha1.DecisionApproved, By: core.CustomerTenantBy + s.customer.Spec.TenantID,
		At: &now, Source: v1alpha1.ApprovalFromPartnerCenter, TenantID: s.customer.Spec.TenantID}
	s.approved = pass.Open(v1alpha1.ReasonApprovedInPartnerCenter, approvedMessage(s.rr))
}

func approvedMessage(rr *v1alpha1.ResellerRelationship) string {
	if a := rr.Status.Approval; a != nil {
		return fmt.Sprintf("Approved (%s: %s).", a.Source, a.By)
	}
	return "Approved."
}

// relationshipFinal: Approved, Denied and Expired do not change.
func relationshipFinal(p v1alpha1.RelationshipPhase) bool {
	return p == v1alpha1.RelationshipApproved || p == v1alpha1.RelationshipDenied || p == v1alpha1.RelationshipExpired
}

func delegatedAdmin(rr *v1alpha1.ResellerRelationship) bool {
	return rr.Spec.DelegatedAdmin != nil && *rr.Spec.DelegatedAdmin
}

func expiresAfter(rr *v1alpha1.ResellerRelationship) time.Duration {
	if rr.Spec.ExpiresAfter == nil {
		return v1alpha1.DefaultRequestExpiry
	}
	return rr.Spec.ExpiresAfter.Duration
}

func expiresAt(rr *v1alpha1.ResellerRelationship) time.Time {
	if rr.Status.RequestedAt == nil {
		return time.Time{}
	}
	return rr.Status.RequestedAt.Add(expiresAfter(rr))
}

// notYetReseller: Partner Center does not show the customer to the partner
// yet. Whether it answers 404 or 403 with error 20002 (no commerce
// relationship) is not documented, so both mean "not yet".
func notYetReseller(err error) bool { return pc.IsNotFound(err) || pc.IsNoCommerceRelationship(err) }

// SetupWithManager registers the reconciler and what it watches with mgr.
func (r *ResellerRelationshipReconciler) SetupWithManager(mgr ctrl.Manager, opts Options) error {
	r.Client = mgr.GetClient()
	r.opts = opts
	r.polls = r.wake.Gate(pollgate.New(opts.PollInterval))
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1alpha1.ResellerRelationship{}).
		WatchesRawSource(r.wake.Source(r.wake.Relationships)).
		Watches(&v1alpha1.Customer{}, handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, o client.Object) []ctrl.Request {
			return core.RequestsFor(ctx, r.Client, &v1alpha1.ResellerRelationshipList{}, client.InNamespace(o.GetNamespace()), client.MatchingFields{core.IndexCustomerRef: o.GetName()})
		}), core.CustomerChanged).
		Watches(&v1alpha1.Partner{}, handler.EnqueueRequestsFromMapFunc(r.relationshipsOfPartner), core.PartnerChanged).
		// A subscription waiting for its customer's Azure plan wakes the relationship that owns it.
		Watches(&v1alpha1.CustomerSubscription{}, handler.EnqueueRequestsFromMapFunc(r.relationshipsOfSubscription), core.AwaitsAzurePlan).
		WithOptions(opts.ControllerOptions()).
		Complete(r)
}

// relationshipsOfSubscription: the relationships between a subscription's
// customer and support partner.
func (r *ResellerRelationshipReconciler) relationshipsOfSubscription(ctx context.Context, o client.Object) []ctrl.Request {
	sub := o.(*v1alpha1.CustomerSubscription)
	list := &v1alpha1.ResellerRelationshipList{}
	if err := r.List(ctx, list, client.InNamespace(sub.Namespace), client.MatchingFields{core.IndexCustomerRef: sub.Spec.CustomerRef}); err != nil {
		return nil
	}
	var reqs []ctrl.Request
	for _, rr := range list.Items {
		if rr.Spec.PartnerRef == sub.Spec.SupportPartnerRef {
			reqs = append(reqs, ctrl.Request{NamespacedName: client.ObjectKeyFromObject(&rr)})
		}
	}
	return reqs
}

// relationshipsOfPartner: the relationships a Partner's change can affect,
// as their partner or as the indirect provider that calls for it.
func (r *ResellerRelationshipReconciler) relationshipsOfPartner(ctx context.Context, o client.Object) []ctrl.Request {
	reqs := core.RequestsFor(ctx, r.Client, &v1alpha1.ResellerRelationshipList{}, client.MatchingFields{core.IndexPartnerRef: o.GetName()})
	resellers := &v1alpha1.PartnerList{}
	if err := r.List(ctx, resellers, client.MatchingFields{core.IndexProviderRef: o.GetName()}); err == nil {
		for _, p := range resellers.Items {
			reqs = append(reqs, core.RequestsFor(ctx, r.Client, &v1alpha1.ResellerRelationshipList{}, client.MatchingFields{core.IndexPartnerRef: p.Name})...)
		}
	}
	return reqs
}
