package controllers

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	"github.com/partnerops/multichannel-operator/controllers/internal/core"
	"github.com/partnerops/multichannel-operator/internal/graph"
	"github.com/partnerops/multichannel-operator/internal/pass"
	"github.com/partnerops/multichannel-operator/internal/pollgate"
)

// Thresholds before a relationship's end at which the operator warns, when
// the relationship will not auto-extend.
const (
	gdapFirstWarning  = 30 * 24 * time.Hour
	gdapSecondWarning = 7 * 24 * time.Hour
)

// DelegatedAdminRelationshipReconciler drives a GDAP relationship in
// Microsoft Graph: it creates it once, locks it for the customer's approval,
// publishes the approval link, follows it to active, assigns each security
// group its roles once, and reports and warns about its end.
type DelegatedAdminRelationshipReconciler struct {
	client.Client
	clients  *core.PartnerClients
	recorder recorder.EventRecorder
	opts     Options
	polls    *pollgate.Gate // holds a relationship Graph throttled
	wake     *core.Wakeups  // what Partner Center reports changed
}

// +kubebuilder:rbac:groups=multichannel.partnerops.io,resources=delegatedadminrelationships,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=multichannel.partnerops.io,resources=delegatedadminrelationships/status,verbs=get;patch
// +kubebuilder:rbac:groups=multichannel.partnerops.io,resources=delegatedadminrelationships/finalizers,verbs=update

// gdapScope is what one pass over a DelegatedAdminRelationship has read.
type gdapScope struct {
	*pass.Pass[*v1alpha1.DelegatedAdminRelationship]
	obj      *v1alpha1.DelegatedAdminRelationship
	partner  *v1alpha1.Partner
	customer *v1alpha1.Customer
	graph    *graph.Client
	rel      *graph.Relationship // as Graph last answered this pass
	now      time.Time
	// What the pass found, which summarizeGDAP turns into the status:
	// blocker keeps the relationship from going on (failed marks it
	// Failed); waiting is what it waits for; active is Ready's message once
	// the partner holds its roles.
	blocker, waiting pass.Verdict
	failed           bool
	active           string
	// observed: status.graphStatus is what Graph said this pass; gone:
	// Graph no longer has the relationship; retrying: a spec change ends
	// Failed.
	observed, gone, retrying bool
	// warned: the expiry step ran; expiresSoon is its ExpiresSoon
	// condition, unknown when no warning is due.
	warned      bool
	expiresSoon pass.Gate
}

// Reconcile runs the relationship's phases in order; the first that decides ends the pass.
func (r *DelegatedAdminRelationshipReconciler) Reconcile(ctx context.Context, req ctrl.Request) (res ctrl.Result, retErr error) {
	obj := &v1alpha1.DelegatedAdminRelationship{}
	if err := r.Get(ctx, req.NamespacedName, obj); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !obj.DeletionTimestamp.IsZero() {
		return r.finalize(ctx, obj)
	}
	// The finalizer is kept exactly while spec.terminateOnDelete asks for it;
	// it is written before the status snapshot, which it would outdate.
	if obj.Spec.TerminateOnDelete != controllerutil.ContainsFinalizer(obj, v1alpha1.FinalizerTerminateGDAP) {
		patch := client.MergeFromWithOptions(obj.DeepCopy(), client.MergeFromWithOptimisticLock{})
		if obj.Spec.TerminateOnDelete {
			controllerutil.AddFinalizer(obj, v1alpha1.FinalizerTerminateGDAP)
		} else {
			controllerutil.RemoveFinalizer(obj, v1alpha1.FinalizerTerminateGDAP)
		}
		if err := r.Patch(ctx, obj, patch); err != nil {
			return ctrl.Result{}, fmt.Errorf("updating the finalizer of DelegatedAdminRelationship %s: %w", req, err)
		}
	}

	p := pass.Begin(ctx, r.Client, r.recorder, "DelegatedAdminRelationship", obj, &obj.Status.Conditions, &obj.Status.ObservedGeneration)
	s := &gdapScope{Pass: p, obj: obj, now: r.opts.Clock.Now()}
	defer func() {
		sum := summarizeGDAP(s)
		r.events(p, obj, sum)
		retErr = p.Finish(ctx, res, retErr, false, sum) // only the operator writes this status
	}()

	return pass.RunPhases(ctx, s,
		r.keepFinal,
		r.loadReferences,
		r.connect,
		r.createOnce,
		r.observe,
		r.lockForApproval,
		r.awaitActivation,
		r.assignAccess,
		r.keepAutoExtension,
		r.warnBeforeEnd,
		r.pollAgain,
	)
}

// keepFinal: Expired and Terminated are final for this object; a Failed
// relationship is tried again only after a spec change.
func (r *DelegatedAdminRelationshipReconciler) keepFinal(_ context.Context, s *gdapScope) (*ctrl.Result, error) {
	switch s.obj.Status.Phase {
	case v1alpha1.GDAPExpired, v1alpha1.GDAPTerminated:
		return pass.Done, nil
	case v1alpha1.GDAPFailed:
		if s.obj.Status.ObservedGeneration == s.obj.Generation {
			return pass.Done, nil // the conditions say why; a spec change tries again
		}
		s.retrying = true
	}
	return nil, nil
}

// fail records that the relationship cannot go on as declared: it is
// Failed, and Stalled says why.
func (s *gdapScope) fail(reason, message string) {
	s.failed = true
	s.blocker = pass.Stalled(reason, message)
}

// summarizeGDAP derives the relationship's status from what the pass
// found: its phase (Failed on a failure; else what Graph last said of it,
// Expiring once a warning is due; else the phase it had), ExpiresSoon, and
// the verdict: what blocks it, else its end, else its access, else what it
// waits for.
func summarizeGDAP(s *gdapScope) pass.Summary {
	st := &s.obj.Status
	if st.Phase == "" || s.retrying {
		st.Phase = v1alpha1.GDAPPending // a new relationship, or the next attempt after a failure
	}
	switch {
	case s.failed:
		st.Phase = v1alpha1.GDAPFailed
	case s.gone:
		st.Phase = v1alpha1.GDAPTerminated
	case s.observed:
		st.Phase = gdapPhase(st.GraphStatus, st.Phase)
	}
	if st.Phase == v1alpha1.GDAPActive && s.expiresSoon.IsOpen() {
		st.Phase = v1alpha1.GDAPExpiring
	}
	final := st.Phase == v1alpha1.GDAPExpired || st.Phase == v1alpha1.GDAPTerminated
	if s.warned || final {
		if s.expiresSoon.Known() {
			s.Conds.SetFrom(v1alpha1.ConditionExpiresSoon, s.expiresSoon)
		} else {
			s.Conds.Remove(v1alpha1.ConditionExpiresSoon)
		}
	}
	switch {
	case s.blocker.Decided():
		return pass.Summary{Verdict: s.blocker}
	case st.Phase == v1alpha1.GDAPExpired:
		return pass.Summary{Verdict: pass.Stalled(v1alpha1.ReasonRelationshipExpired, fmt.Sprintf("The relationship ended %s; the partner has no admin access through it. Ask again with a new DelegatedAdminRelationship (a new displayName).", formatMetaTime(st.EndsAt)))}
	case st.Phase == v1alpha1.GDAPTerminated:
		return pass.Summary{Verdict: pass.Stalled(v1alpha1.ReasonGDAPTerminated, "The relationship was terminated; the partner has no admin access through it. Ask again with a new DelegatedAdminRelationship (a new displayName).")}
	case s.active != "":
		return pass.Summary{Verdict: pass.Ready(v1alpha1.ReasonAccessActive, s.active)}
	}
	return pass.Summary{Verdict: s.waiting}
}

// gdapPhase is the phase Graph's status of the relationship gives; while
// it is being terminated (or for a status it does not know) the phase stays
// what it was.
func gdapPhase(graphStatus string, was v1alpha1.GDAPPhase) v1alpha1.GDAPPhase {
	switch graphStatus {
	case graph.StatusCreated:
		return v1alpha1.GDAPPending
	case graph.StatusApprovalPending, graph.StatusApproved, graph.StatusActivating:
		return v1alpha1.GDAPApprovalPending
	case graph.StatusActive:
		return v1alpha1.GDAPActive
	case graph.StatusExpiring:
		return v1alpha1.GDAPExpiring
	case graph.StatusExpired:
		return v1alpha1.GDAPExpired
	case graph.StatusTerminated:
		return v1alpha1.GDAPTerminated
	}
	return was
}

func (r *DelegatedAdminRelationshipReconciler) loadReferences(ctx context.Context, s *gdapScope) (*ctrl.Result, error) {
	var found bool
	var err error
	s.partner, s.customer, found, err = core.GetPartnerAndCustomer(ctx, r.Client, &s.blocker, s.obj.Namespace, s.obj.Spec.PartnerRef, s.obj.Spec.CustomerRef, "relationship")
	if !found {
		return pass.Done, err
	}
	if s.customer.Spec.Cloud == v1alpha1.CloudUSGovernment && s.obj.Status.RelationshipID == "" {
		// GDAP is not available in Partner Center for Microsoft Cloud for US
		// Government (docs/gdap.md): nothing is asked of Graph.
		s.fail(v1alpha1.ReasonNotAvailableInCloud, fmt.Sprintf(
			"Customer %s is in Microsoft Cloud for US Government, where Partner Center offers no GDAP; admin access there comes with the reseller relationship's delegated administration (a ResellerRelationship with spec.delegatedAdmin: true). Delete this DelegatedAdminRelationship.",
			s.customer.Name))
		return pass.Done, nil
	}
	return nil, nil
}

// connect gets the partner's Microsoft Graph client.
func (r *DelegatedAdminRelationshipReconciler) connect(ctx context.Context, s *gdapScope) (*ctrl.Result, error) {
	if d := r.polls.HeldFor(s.obj.UID); d > 0 {
		return &ctrl.Result{RequeueAfter: d}, nil // throttled: ask nothing yet
	}
	g, err := r.clients.GetGraph(ctx, s.partner)
	ok, err := core.Usable(err, &s.blocker, s.partner, "Microsoft Graph", func() {
		s.blocker = pass.Stalled(v1alpha1.ReasonNoCredentials, fmt.Sprintf(
			"Partner %s has no credentials (spec.partnerCenter.credentialsSecretRef or workloadIdentity), and a GDAP relationship can only be asked for through Microsoft Graph with them.", s.partner.Name))
	})
	if !ok {
		return pass.Done, err
	}
	s.graph = g
	return nil, nil
}

// createOnce creates the relationship in Graph, exactly once: the display
// name is unique per partner, so before creating, the operator looks for a
// relationship of that name that a pass which crashed before writing status
// left behind.
func (r *DelegatedAdminRelationshipReconciler) createOnce(ctx context.Context, s *gdapScope) (*ctrl.Result, error) {
	if s.obj.Status.RelationshipID != "" {
		return nil, nil
	}
	found, err := s.graph.FindRelationship(ctx, s.obj.Spec.DisplayName)
	if err != nil {
		return r.graphFailed(s, "looking for a relationship named "+s.obj.Spec.DisplayName, err)
	}
	if found != nil {
		if found.Customer == nil || !strings.EqualFold(found.Customer.TenantID, s.customer.Spec.TenantID) {
			s.fail(v1alpha1.ReasonDisplayNameInUse, fmt.Sprintf(
				"Partner %s already has a relationship named %q with another customer; display names are unique per partner, so declare a new DelegatedAdminRelationship with another spec.displayName.", s.partner.Name, s.obj.Spec.DisplayName))
			return pass.Done, nil
		}
		log.FromContext(ctx).Info("found the relationship created before", "relationshipID", found.ID)
		s.rel = found
		s.obj.Status.RelationshipID = found.ID
		return nil, nil
	}
	created, err := s.graph.CreateRelationship(ctx, graph.Relationship{
		DisplayName:        s.obj.Spec.DisplayName,
		Duration:           s.obj.Spec.Duration,
		AutoExtendDuration: autoExtendOf(s.obj),
		Customer:           &graph.CustomerParticipant{TenantID: s.customer.Spec.TenantID, DisplayName: s.customer.Spec.DisplayName},
		AccessDetails:      graph.NewAccessDetails(roleIDs(s.obj.Spec.Roles)),
	})
	switch {
	case graph.IsConflict(err):
		// Created meanwhile (an answer that was lost): the next pass finds it.
		return r.graphFailed(s, "creating the relationship", err)
	case graph.IsRejected(err):
		s.fail(v1alpha1.ReasonGraphRejected, fmt.Sprintf("Microsoft Graph refused the relationship as declared: %v. Change the spec to try again.", err))
		return pass.Done, nil
	case err != nil:
		return r.graphFailed(s, "creating the relationship", err)
	}
	log.FromContext(ctx).Info("relationship created", "relationshipID", created.ID)
	s.rel = created
	s.obj.Status.RelationshipID = created.ID
	return nil, nil
}

// observe reads the relationship and reports what Graph says of it.
func (r *DelegatedAdminRelationshipReconciler) observe(ctx context.Context, s *gdapScope) (*ctrl.Result, error) {
	if s.rel == nil {
		rel, err := s.graph.GetRelationship(ctx, s.obj.Status.RelationshipID)
		if graph.IsNotFound(err) {
			s.gone = true
			s.obj.Status.GraphStatus = ""
			return pass.Done, nil // Terminated: nothing is left to follow
		}
		if err != nil {
			return r.graphFailed(s, "reading the relationship", err)
		}
		s.rel = rel
	}
	st := &s.obj.Status
	st.GraphStatus = s.rel.Status
	st.ActivatedAt = metaTime(s.rel.ActivatedDateTime)
	st.EndsAt = metaTime(s.rel.EndDateTime)
	s.observed = true
	switch s.rel.Status {
	case graph.StatusApprovalPending, graph.StatusApproved, graph.StatusActivating:
		st.InvitationURL = graph.InvitationURL(s.rel.ID)
	case graph.StatusExpired, graph.StatusTerminated:
		return pass.Done, nil
	case graph.StatusTerminationRequested, graph.StatusTerminating:
		s.waiting = pass.Progressing(v1alpha1.ReasonGDAPTerminating, "The relationship is being terminated in Microsoft Graph.")
		return &ctrl.Result{RequeueAfter: r.opts.Poll()}, nil
	}
	return nil, nil
}

// lockForApproval makes a created relationship visible to the customer.
// Only a created relationship can be locked, and the request changes its
// status, so a request whose answer was lost is not sent again.
func (r *DelegatedAdminRelationshipReconciler) lockForApproval(ctx context.Context, s *gdapScope) (*ctrl.Result, error) {
	if s.rel.Status != graph.StatusCreated {
		return nil, nil
	}
	// A relationship found by its name may differ from the spec; while it is
	// created, Graph lets it be brought in line before the customer sees it.
	if u, differs := alignCreated(s); differs {
		updated, err := s.graph.UpdateRelationship(ctx, s.rel.ID, s.rel.ETag, u)
		if err != nil {
			return r.graphFailed(s, "bringing the created relationship in line with the spec", err)
		}
		s.rel = updated
	}
	if _, err := s.graph.Request(ctx, s.rel.ID, graph.ActionLockForApproval); err != nil {
		if graph.IsRejected(err) {
			s.fail(v1alpha1.ReasonGraphRejected, fmt.Sprintf("Microsoft Graph refused to lock the relationship for approval: %v.", err))
			return pass.Done, nil
		}
		return r.graphFailed(s, "locking the relationship for approval", err)
	}
	s.rel.Status = graph.StatusApprovalPending
	s.obj.Status.GraphStatus = graph.StatusApprovalPending
	s.obj.Status.InvitationURL = graph.InvitationURL(s.rel.ID)
	s.waiting = pass.Progressing(v1alpha1.ReasonAwaitingCustomer, awaitingMessage(s))
	return &ctrl.Result{RequeueAfter: r.opts.Poll()}, nil
}

// alignCreated returns the update that makes a created relationship what
// the spec declares, and whether one is needed.
func alignCreated(s *gdapScope) (graph.RelationshipUpdate, bool) {
	var u graph.RelationshipUpdate
	differs := false
	if s.rel.Duration != s.obj.Spec.Duration {
		u.Duration, differs = s.obj.Spec.Duration, true
	}
	if want := autoExtendOf(s.obj); s.rel.AutoExtendDuration != "" && s.rel.AutoExtendDuration != want {
		u.AutoExtendDuration, differs = want, true
	}
	if want := roleIDs(s.obj.Spec.Roles); !slices.Equal(sortedCopy(s.rel.AccessDetails.Roles()), sortedCopy(want)) {
		u.AccessDetails, differs = graph.NewAccessDetails(want), true
	}
	return u, differs
}

func sortedCopy(in []string) []string {
	out := slices.Clone(in)
	slices.Sort(out)
	return out
}

// awaitActivation: the customer has the link; Graph activates once approved.
func (r *DelegatedAdminRelationshipReconciler) awaitActivation(_ context.Context, s *gdapScope) (*ctrl.Result, error) {
	switch s.rel.Status {
	case graph.StatusApprovalPending:
		s.waiting = pass.Progressing(v1alpha1.ReasonAwaitingCustomer, awaitingMessage(s))
	case graph.StatusApproved, graph.StatusActivating:
		s.waiting = pass.Progressing(v1alpha1.ReasonActivating, fmt.Sprintf("Customer %s approved; Microsoft Graph is activating the relationship.", s.customer.Name))
	default:
		return nil, nil
	}
	// Graph is polled as before (its calls are not Partner Center's); the
	// activity log and webhooks wake the relationship sooner when they
	// report the customer's approval.
	return &ctrl.Result{RequeueAfter: r.opts.Poll()}, nil
}

func awaitingMessage(s *gdapScope) string {
	return fmt.Sprintf("Waiting for customer %s's Global admin to approve the relationship at %s (status.invitationURL); it expires if not approved within 90 days.",
		s.customer.Name, s.obj.Status.InvitationURL)
}

// assignAccess gives each declared security group its roles, exactly once:
// Graph refuses a second assignment for a group, and before creating one the
// operator looks for the assignment a crashed pass may have created.
func (r *DelegatedAdminRelationshipReconciler) assignAccess(ctx context.Context, s *gdapScope) (*ctrl.Result, error) {
	st := &s.obj.Status
	var existing []graph.AccessAssignment
	listed := false
	list := func() error {
		if listed {
			return nil
		}
		a, err := s.graph.ListAccessAssignments(ctx, s.rel.ID)
		existing, listed = a, err == nil
		return err
	}
	var failures []string
	pending := 0
	for _, want := range s.obj.Spec.AccessAssignments {
		i := slices.IndexFunc(st.AccessAssignments, func(a v1alpha1.GDAPAccessAssignmentStatus) bool { return a.SecurityGroupID == want.SecurityGroupID })
		if i < 0 {
			st.AccessAssignments = append(st.AccessAssignments, v1alpha1.GDAPAccessAssignmentStatus{SecurityGroupID: want.SecurityGroupID})
			i = len(st.AccessAssignments) - 1
		}
		cur := &st.AccessAssignments[i]
		if cur.Status == graph.AssignmentActive {
			continue
		}
		if cur.Status == graph.AssignmentError && cur.ID == "" && st.ObservedGeneration == s.obj.Generation {
			failures = append(failures, want.SecurityGroupID)
			continue
		}
		if err := list(); err != nil {
			return r.graphFailed(s, "listing access assignments", err)
		}
		if j := slices.IndexFunc(existing, func(a graph.AccessAssignment) bool {
			return a.AccessContainer != nil && strings.EqualFold(a.AccessContainer.ID, want.SecurityGroupID) && a.Status != graph.AssignmentDeleted
		}); j >= 0 {
			cur.ID, cur.Status = existing[j].ID, existing[j].Status
		} else {
			created, err := s.graph.CreateAccessAssignment(ctx, s.rel.ID, graph.AccessAssignment{
				AccessContainer: &graph.AccessContainer{ID: want.SecurityGroupID, Type: graph.ContainerSecurityGroup},
				AccessDetails:   graph.NewAccessDetails(roleIDs(want.Roles)),
			})
			switch {
			case graph.IsConflict(err):
				return r.graphFailed(s, "assigning access to group "+want.SecurityGroupID, err) // found next pass
			case graph.IsRejected(err):
				cur.Status = graph.AssignmentError
				failures = append(failures, fmt.Sprintf("%s (%v)", want.SecurityGroupID, err))
				continue
			case err != nil:
				return r.graphFailed(s, "assigning access to group "+want.SecurityGroupID, err)
			}
			log.FromContext(ctx).Info("access assigned", "securityGroup", want.SecurityGroupID, "assignmentID", created.ID)
			cur.ID, cur.Status = created.ID, created.Status
		}
		if cur.Status == graph.AssignmentError {
			failures = append(failures, want.SecurityGroupID)
		} else if cur.Status != graph.AssignmentActive {
			pending++
		}
	}
	switch {
	case len(failures) > 0:
		s.blocker = pass.Stalled(v1alpha1.ReasonAccessAssignmentError, fmt.Sprintf("Microsoft Graph could not assign access to security group(s) %v; check that each is a security group of partner %s's tenant and change spec.accessAssignments.", failures, s.partner.Name))
		return &ctrl.Result{RequeueAfter: r.opts.MaxRequeue}, nil
	case pending > 0:
		s.waiting = pass.Progressing(v1alpha1.ReasonAssigningAccess, fmt.Sprintf("The relationship is active; %d access assignment(s) are being applied.", pending))
		return &ctrl.Result{RequeueAfter: r.opts.Poll()}, nil
	}
	return nil, nil
}

// keepAutoExtension: autoExtendDuration is the one setting Graph lets change while active.
func (r *DelegatedAdminRelationshipReconciler) keepAutoExtension(ctx context.Context, s *gdapScope) (*ctrl.Result, error) {
	want := autoExtendOf(s.obj)
	if s.rel.Status != graph.StatusActive || s.rel.AutoExtendDuration == "" || s.rel.AutoExtendDuration == want {
		return nil, nil
	}
	updated, err := s.graph.UpdateRelationship(ctx, s.rel.ID, s.rel.ETag, graph.RelationshipUpdate{AutoExtendDuration: want})
	if err != nil {
		return r.graphFailed(s, "changing autoExtendDuration", err)
	}
	s.rel = updated
	return nil, nil
}

// warnBeforeEnd sets ExpiresSoon 30 and 7 days before an end that will not
// be extended, and says the relationship is Expiring; Ready stays True.
func (r *DelegatedAdminRelationshipReconciler) warnBeforeEnd(_ context.Context, s *gdapScope) (*ctrl.Result, error) {
	ready := fmt.Sprintf("Partner %s holds %d role(s) in customer %s's tenant until the relationship ends %s.", s.partner.Name, len(s.obj.Spec.Roles), s.customer.Name, formatMetaTime(s.obj.Status.EndsAt))
	if autoExtendOf(s.obj) == graph.AutoExtend180Days {
		ready = fmt.Sprintf("Partner %s holds %d role(s) in customer %s's tenant; the relationship extends itself by 180 days when it would end %s.", s.partner.Name, len(s.obj.Spec.Roles), s.customer.Name, formatMetaTime(s.obj.Status.EndsAt))
	}
	s.active, s.warned = ready, true
	end := s.obj.Status.EndsAt
	if end == nil || s.rel.AutoExtendDuration == graph.AutoExtend180Days {
		return nil, nil
	}
	switch left := end.Sub(s.now); {
	case left <= gdapSecondWarning:
		s.expiresSoon = pass.Open(v1alpha1.ReasonExpiresWithin7Days, expiryMessage(s, left))
	case left <= gdapFirstWarning:
		s.expiresSoon = pass.Open(v1alpha1.ReasonExpiresWithin30Days, expiryMessage(s, left))
	}
	return nil, nil
}

func expiryMessage(s *gdapScope, left time.Duration) string {
	return fmt.Sprintf("The relationship ends %s (in %d day(s)) and will not auto-extend; partner %s then loses admin access to customer %s. Ask for a new relationship before then.",
		formatMetaTime(s.obj.Status.EndsAt), int(left.Hours()/24), s.partner.Name, s.customer.Name)
}

// pollAgain: wake up for the next warning or the end, and otherwise look at
// Graph again within the longest requeue, since the customer may end it.
func (r *DelegatedAdminRelationshipReconciler) pollAgain(_ context.Context, s *gdapScope) (*ctrl.Result, error) {
	wait := r.opts.MaxRequeue
	if end := s.obj.Status.EndsAt; end != nil {
		for _, at := range []time.Time{end.Add(-gdapFirstWarning), end.Add(-gdapSecondWarning), end.Time} {
			if d := at.Sub(s.now); d > 0 && d < wait {
				wait = d
			}
		}
	}
	return &ctrl.Result{RequeueAfter: wait}, nil
}

// finalize terminates the relationship in Graph when spec.terminateOnDelete
// asked for it, then lets the object go. Termination is asked only of an
// active relationship, and asking changes its status, so it is asked once.
func (r *DelegatedAdminRelationshipReconciler) finalize(ctx context.Context, obj *v1alpha1.DelegatedAdminRelationship) (ctrl.Result, error) {
	if !controllerutil.ContainsFinalizer(obj, v1alpha1.FinalizerTerminateGDAP) {
		return ctrl.Result{}, nil
	}
	if obj.Spec.TerminateOnDelete {
		res, err := r.terminate(ctx, obj)
		if err != nil || res.RequeueAfter > 0 {
			return res, err
		}
	}
	patch := client.MergeFrom(obj.DeepCopy())
	controllerutil.RemoveFinalizer(obj, v1alpha1.FinalizerTerminateGDAP)
	return ctrl.Result{}, client.IgnoreNotFound(r.Patch(ctx, obj, patch))
}

func (r *DelegatedAdminRelationshipReconciler) terminate(ctx context.Context, obj *v1alpha1.DelegatedAdminRelationship) (ctrl.Result, error) {
	partner := &v1alpha1.Partner{}
	if err := r.Get(ctx, client.ObjectKey{Name: obj.Spec.PartnerRef}, partner); err != nil {
		if apierrors.IsNotFound(err) {
			r.recorder.Eventf(obj, nil, corev1.EventTypeWarning, "NotTerminated", "Delete", "Partner %s no longer exists, so relationship %s could not be terminated in Microsoft Graph.", obj.Spec.PartnerRef, obj.Status.RelationshipID)
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, err
	}
	g, err := r.clients.GetGraph(ctx, partner)
	if err != nil {
		r.recorder.Eventf(obj, nil, corev1.EventTypeWarning, "NotTerminated", "Delete", "Relationship %s could not be terminated: partner %s cannot call Microsoft Graph (%v).", obj.Status.RelationshipID, partner.Name, err)
		return ctrl.Result{}, nil
	}
	var rel *graph.Relationship
	if id := obj.Status.RelationshipID; id != "" {
		rel, err = g.GetRelationship(ctx, id)
		if graph.IsNotFound(err) {
			return ctrl.Result{}, nil
		}
	} else {
		// Created by a pass that crashed before writing status, or never created.
		rel, err = g.FindRelationship(ctx, obj.Spec.DisplayName)
		if err == nil && rel == nil {
			return ctrl.Result{}, nil
		}
	}
	if err != nil {
		return ctrl.Result{}, fmt.Errorf("reading relationship %q before terminating it: %w", obj.Spec.DisplayName, err)
	}
	switch rel.Status {
	case graph.StatusCreated:
		if err := g.DeleteRelationship(ctx, rel.ID, rel.ETag); err != nil && !graph.IsNotFound(err) {
			return ctrl.Result{}, fmt.Errorf("deleting relationship %s: %w", rel.ID, err)
		}
		r.recorder.Eventf(obj, nil, corev1.EventTypeNormal, "Deleted", "Delete", "Relationship %s was deleted in Microsoft Graph before the customer saw it.", rel.ID)
	case graph.StatusActive, graph.StatusExpiring:
		if _, err := g.Request(ctx, rel.ID, graph.ActionTerminate); err != nil {
			return ctrl.Result{}, fmt.Errorf("terminating relationship %s: %w", rel.ID, err)
		}
		r.recorder.Eventf(obj, nil, corev1.EventTypeNormal, "TerminationRequested", "Delete", "Asked Microsoft Graph to terminate relationship %s, as spec.terminateOnDelete says.", rel.ID)
	case graph.StatusApproved, graph.StatusActivating:
		return ctrl.Result{RequeueAfter: r.opts.Poll()}, nil // terminate once active
	case graph.StatusApprovalPending:
		r.recorder.Eventf(obj, nil, corev1.EventTypeWarning, "NotTerminated", "Delete",
			"Relationship %s waits for the customer's approval and cannot be terminated before it is active; it expires 90 days after it was locked unless the customer approves it.", rel.ID)
	}
	return ctrl.Result{}, nil
}

// graphFailed reports a failed Graph call; it is retried with backoff.
func (r *DelegatedAdminRelationshipReconciler) graphFailed(s *gdapScope, doing string, err error) (*ctrl.Result, error) {
	if res := r.polls.Throttled(s.obj.UID, err); res != nil {
		return res, nil
	}
	s.blocker = pass.Progressing(v1alpha1.ReasonGraphError, fmt.Sprintf("Microsoft Graph failed while %s: %v; retrying.", doing, err))
	return nil, fmt.Errorf("%s for DelegatedAdminRelationship %s/%s: %w", doing, s.obj.Namespace, s.obj.Name, err)
}

// events: one on every phase change, and a Warning each time the end comes
// within a warning threshold.
func (r *DelegatedAdminRelationshipReconciler) events(p *pass.Pass[*v1alpha1.DelegatedAdminRelationship], after *v1alpha1.DelegatedAdminRelationship, sum pass.Summary) {
	before := p.Before
	phase := after.Status.Phase
	warn := phase == v1alpha1.GDAPExpired || phase == v1alpha1.GDAPTerminated || phase == v1alpha1.GDAPFailed || phase == v1alpha1.GDAPExpiring
	p.PhaseChanged(string(before.Status.Phase), string(phase), warn, "GDAP relationship with customer "+after.Spec.CustomerRef+" is "+string(phase), sum)
	was := meta.FindStatusCondition(before.Status.Conditions, v1alpha1.ConditionExpiresSoon)
	now := meta.FindStatusCondition(after.Status.Conditions, v1alpha1.ConditionExpiresSoon)
	if now != nil && now.Status == metav1.ConditionTrue && (was == nil || was.Reason != now.Reason) {
		p.Event(nil, corev1.EventTypeWarning, now.Reason, "Reconcile", "%s", now.Message)
	}
}

func autoExtendOf(o *v1alpha1.DelegatedAdminRelationship) string {
	if o.Spec.AutoExtendDuration == "" {
		return graph.NoAutoExtend
	}
	return o.Spec.AutoExtendDuration
}

func roleIDs(roles []string) []string {
	ids := make([]string, 0, len(roles))
	for _, r := range roles {
		ids = append(ids, v1alpha1.RoleTemplateID(r))
	}
	return ids
}

func metaTime(t *time.Time) *metav1.Time {
	if t == nil {
		return nil
	}
	mt := metav1.NewTime(t.UTC().Truncate(time.Second))
	return &mt
}

func formatMetaTime(t *metav1.Time) string {
	if t == nil {
		return "at an unknown time"
	}
	return core.FormatTime(&t.Time)
}

// SetupWithManager registers the reconciler and what it watches with mgr.
func (r *DelegatedAdminRelationshipReconciler) SetupWithManager(mgr ctrl.Manager, opts Options) error {
	r.Client = mgr.GetClient()
	r.opts = opts
	r.polls = r.wake.Gate(pollgate.New(opts.PollInterval))
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1alpha1.DelegatedAdminRelationship{}).
		WatchesRawSource(r.wake.Source(r.wake.Admins)).
		// Only a Customer's spec matters here: its status follows these
		// relationships, and must not wake them to ask Graph again.
		Watches(&v1alpha1.Customer{}, handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, o client.Object) []ctrl.Request {
			return core.RequestsFor(ctx, r.Client, &v1alpha1.DelegatedAdminRelationshipList{}, client.InNamespace(o.GetNamespace()), client.MatchingFields{core.IndexCustomerRef: o.GetName()})
		}), core.CustomerChanged).
		Watches(&v1alpha1.Partner{}, handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, o client.Object) []ctrl.Request {
			return core.RequestsFor(ctx, r.Client, &v1alpha1.DelegatedAdminRelationshipList{}, client.MatchingFields{core.IndexPartnerRef: o.GetName()})
		}), core.PartnerChanged).
		WithOptions(opts.ControllerOptions()).
		Named("delegatedadminrelationship").
		Complete(r)
}
