package controllers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	"github.com/partnerops/multichannel-operator/controllers/internal/core"
	"github.com/partnerops/multichannel-operator/internal/pass"
)

// CustomerReconciler claims a customer's tenant for it and summarises its
// reseller relationships.
type CustomerReconciler struct {
	client.Client
	live              client.Reader // uncached: the claims and their holders
	operatorNamespace string
	clients           *core.PartnerClients
	recorder          recorder.EventRecorder
	opts              Options
	// claims are the delivery attempts this process recorded and has not made.
	claims *deliveryClaims
	wake   *core.Wakeups // what Partner Center reports changed
}

// +kubebuilder:rbac:groups=multichannel.partnerops.io,resources=customers,verbs=get;list;watch
// +kubebuilder:rbac:groups=multichannel.partnerops.io,resources=customers/status,verbs=get;patch;update
// +kubebuilder:rbac:groups=multichannel.partnerops.io,resources=delegatedadminrelationships,verbs=get;list;watch
// +kubebuilder:rbac:groups=multichannel.partnerops.io,resources=partners,verbs=get;list;watch

// Reconcile claims the customer's tenant, summarises its relationships and
// admin access, reads (or confirms) its Microsoft Customer Agreement, and
// tells its contacts what it must do.
func (r *CustomerReconciler) Reconcile(ctx context.Context, req ctrl.Request) (res ctrl.Result, retErr error) {
	customer := &v1alpha1.Customer{}
	if err := r.Get(ctx, req.NamespacedName, customer); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	p := pass.Begin(ctx, r.Client, r.recorder, "Customer", customer, &customer.Status.Conditions, &customer.Status.ObservedGeneration)
	invitations := &invitationScope{customer: customer, now: r.opts.Clock.Now(),
		event: func(eventType, reason, format string, args ...any) {
			p.Event(nil, eventType, reason, "Invite", format, args...)
		},
	}
	agreement := &agreementScope{customer: customer, now: invitations.now,
		event: func(eventType, reason, format string, args ...any) {
			p.Event(nil, eventType, reason, "ConfirmAgreement", format, args...)
		},
	}
	f := customerFacts{invitations: invitations, agreement: agreement}
	defer func() { retErr = r.finishPass(ctx, p, f, res, retErr) }()

	var err error
	if f.claim, err = r.claim(ctx, customer); err != nil {
		return ctrl.Result{}, err
	}
	if !f.claim.IsOpen() {
		// The holder's deletion frees the claim; this Customer asks again.
		return ctrl.Result{RequeueAfter: time.Minute}, nil
	}
	list := &v1alpha1.ResellerRelationshipList{}
	if err := r.List(ctx, list, client.InNamespace(customer.Namespace), client.MatchingFields{core.IndexCustomerRef: customer.Name}); err != nil {
		return ctrl.Result{}, err
	}
	gdaps := &v1alpha1.DelegatedAdminRelationshipList{}
	if err := r.List(ctx, gdaps, client.InNamespace(customer.Namespace), client.MatchingFields{core.IndexCustomerRef: customer.Name}); err != nil {
		return ctrl.Result{}, err
	}
	f.relationships, f.gdaps, f.listed = list.Items, gdaps.Items, true
	readAgain, err := r.reconcileAgreement(ctx, agreement, list.Items)
	if err != nil {
		return ctrl.Result{}, err
	}
	invitations.agreement = agreement.condition()
	remindAgain, err := r.reconcileInvitations(ctx, invitations, list.Items, gdaps.Items)
	if err != nil {
		return ctrl.Result{}, err
	}
	f.complete = true
	return ctrl.Result{RequeueAfter: sooner(readAgain, remindAgain)}, nil
}

// customerFacts is what a pass over a Customer found.
type customerFacts struct {
	claim         pass.Gate // TenantClaimed
	relationships []v1alpha1.ResellerRelationship
	gdaps         []v1alpha1.DelegatedAdminRelationship
	listed        bool // relationships and gdaps were read
	agreement     *agreementScope
	invitations   *invitationScope
	// complete: every step ran.
	complete bool
}

// summarizeCustomer derives the Customer's status from what the pass found:
// its relationships and admin access (once listed), its step conditions (TenantClaimed,
// AgreementAccepted, Invited) and its verdict, which stands on the claim.
func summarizeCustomer(c pass.Conditions, customer *v1alpha1.Customer, f customerFacts) pass.Summary {
	c.SetFrom(v1alpha1.ConditionTenantClaimed, f.claim)
	c.SetFrom(v1alpha1.ConditionAgreementAccepted, f.agreement.gate)
	if inv := f.invitations; inv.summarized && !inv.invited.Known() {
		c.Remove(v1alpha1.ConditionInvited)
	} else {
		c.SetFrom(v1alpha1.ConditionInvited, inv.invited)
	}
	var relationships string // Ready's message
	if f.listed {
		relationships = summarizeRelationships(customer, f.relationships)
		customer.Status.AdminAccess = adminAccess(f.gdaps)
	}
	sum := pass.Summary{Gates: []string{v1alpha1.ConditionTenantClaimed}}
	switch {
	case f.claim.Known() && !f.claim.IsOpen():
		sum.Verdict = pass.Stalled(f.claim.Reason, f.claim.Message)
	case !f.complete:
	case f.invitations.stalled != "":
		sum.Verdict = pass.Stalled(v1alpha1.ReasonDeliveryFailed, f.invitations.stalled)
	default:
		sum.Verdict = pass.Ready(v1alpha1.ReasonValid, relationships)
	}
	return sum
}

// finishPass writes the pass's status. A pass that changed the invitations
// writes with the resourceVersion it read: a pass on a stale copy must not
// overwrite a newer delivery's record. What a channel did is not lost when
// that write conflicts (a lost result sends again), and the acceptances
// are counted once written.
func (r *CustomerReconciler) finishPass(ctx context.Context, p *pass.Pass[*v1alpha1.Customer], f customerFacts, res ctrl.Result, err error) error {
	sum := summarizeCustomer(p.Conds, p.Obj, f)
	locked := !equality.Semantic.DeepEqual(p.Before.Status.Invitations, p.Obj.Status.Invitations)
	err = p.Finish(ctx, res, err, locked, sum)
	if len(f.invitations.sent) > 0 && apierrors.IsConflict(err) {
		if perr := r.persistSent(ctx, client.ObjectKeyFromObject(p.Obj), f.invitations.sent); perr != nil {
			err = errors.Join(err, perr)
		}
	}
	if err == nil {
		f.invitations.observe()
	}
	return err
}

// claim is the TenantClaimed step: whether the Customer holds its tenant.
// When another Customer does, the Customer is Stalled and nothing is done
// for it.
func (r *CustomerReconciler) claim(ctx context.Context, customer *v1alpha1.Customer) (pass.Gate, error) {
	held, holder, err := core.ClaimTenant(ctx, r.Client, r.live, r.operatorNamespace, customer)
	if err != nil {
		return pass.Gate{}, err
	}
	if !held {
		return pass.Closed(v1alpha1.ReasonTenantClaimedElsewhere, fmt.Sprintf("Tenant %s belongs to Customer %s: a tenant belongs to one namespace, so nothing is requested, bought or transferred for this Customer; delete one of the two.",
			customer.Spec.TenantID, core.HolderName(holder))), nil
	}
	return pass.Open(v1alpha1.ReasonTenantClaimed, fmt.Sprintf("Tenant %s belongs to this Customer.", customer.Spec.TenantID)), nil
}

// summarizeRelationships sets status.relationships: one entry per partner,
// with the phase of its most relevant relationship (approved, then
// waiting, then refused); it returns Ready's message.
func summarizeRelationships(customer *v1alpha1.Customer, items []v1alpha1.ResellerRelationship) string {
	partners := map[string]bool{}
	for _, rr := range items {
		partners[rr.Spec.PartnerRef] = true
	}
	var rels []v1alpha1.CustomerRelationship
	for partner := range partners {
		best := core.BestRelationship(items, partner)
		phase := best.Status.Phase
		if phase == "" {
			phase = v1alpha1.RelationshipPending
		}
		rels = append(rels, v1alpha1.CustomerRelationship{Partner: partner, Name: best.Name, Phase: phase})
	}
	sort.Slice(rels, func(i, j int) bool { return rels[i].Partner < rels[j].Partner })
	total := len(rels)
	if total > maxListedRelationships {
		// The list is bounded by the schema: keep the most relevant (approved,
		// then waiting, then refused), in partner order.
		sort.SliceStable(rels, func(i, j int) bool {
			return core.RelationshipRank(rels[i].Phase) < core.RelationshipRank(rels[j].Phase)
		})
		rels = rels[:maxListedRelationships]
		sort.Slice(rels, func(i, j int) bool { return rels[i].Partner < rels[j].Partner })
	}
	customer.Status.Relationships = rels
	if total > len(rels) {
		return fmt.Sprintf("The customer has %d reseller relationships; status.relationships lists %d of them, approved first.", total, len(rels))
	}
	return fmt.Sprintf("The customer has %d reseller relationship(s).", total)
}

// adminAccess lists, per partner, the roles of its active GDAP relationships
// with the customer, and when the last of them ends.
func adminAccess(gdaps []v1alpha1.DelegatedAdminRelationship) []v1alpha1.CustomerAdminAccess {
	byPartner := map[string]*v1alpha1.CustomerAdminAccess{}
	for _, g := range gdaps {
		if g.Status.Phase != v1alpha1.GDAPActive && g.Status.Phase != v1alpha1.GDAPExpiring {
			continue
		}
		a := byPartner[g.Spec.PartnerRef]
		if a == nil {
			a = &v1alpha1.CustomerAdminAccess{Partner: g.Spec.PartnerRef}
			byPartner[g.Spec.PartnerRef] = a
		}
		for _, role := range g.Spec.Roles {
			if !slices.Contains(a.Roles, role) {
				a.Roles = append(a.Roles, role)
			}
		}
		if e := g.Status.EndsAt; e != nil && (a.EndsAt == nil || a.EndsAt.Before(e)) {
			a.EndsAt = e.DeepCopy()
		}
	}
	var out []v1alpha1.CustomerAdminAccess
	for _, a := range byPartner {
		sort.Strings(a.Roles)
		out = append(out, *a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Partner < out[j].Partner })
	return out
}

// SetupWithManager registers the reconciler and what it watches with mgr.
func (r *CustomerReconciler) SetupWithManager(mgr ctrl.Manager, opts Options) error {
	r.Client, r.live, r.operatorNamespace, r.opts = mgr.GetClient(), mgr.GetAPIReader(), opts.OperatorNamespace, opts
	r.claims = newDeliveryClaims()
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1alpha1.Customer{}).
		WatchesRawSource(r.wake.Source(r.wake.Customers)).
		Watches(&v1alpha1.ResellerRelationship{}, handler.EnqueueRequestsFromMapFunc(func(_ context.Context, o client.Object) []ctrl.Request {
			rr := o.(*v1alpha1.ResellerRelationship)
			return []ctrl.Request{{NamespacedName: client.ObjectKey{Namespace: rr.Namespace, Name: rr.Spec.CustomerRef}}}
		})).
		Watches(&v1alpha1.DelegatedAdminRelationship{}, handler.EnqueueRequestsFromMapFunc(func(_ context.Context, o client.Object) []ctrl.Request {
			g := o.(*v1alpha1.DelegatedAdminRelationship)
			return []ctrl.Request{{NamespacedName: client.ObjectKey{Namespace: g.Namespace, Name: g.Spec.CustomerRef}}}
		})).
		// A Partner's delivery settings changed: its invitations go out, or
		// are retried, at once.
		Watches(&v1alpha1.Partner{}, handler.EnqueueRequestsFromMapFunc(r.invitedBy),
			builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		WithOptions(opts.ControllerOptions()).
		Complete(r)
}

// invitedBy maps a Partner to the Customers its invitations ask something of.
func (r *CustomerReconciler) invitedBy(ctx context.Context, o client.Object) []ctrl.Request {
	list := &v1alpha1.CustomerList{}
	if err := r.List(ctx, list, client.UnsafeDisableDeepCopy); err != nil {
		return nil
	}
	var out []ctrl.Request
	for _, c := range list.Items {
		if slices.ContainsFunc(c.Status.Invitations, func(i v1alpha1.CustomerInvitation) bool { return i.Partner == o.GetName() && len(i.Actions) > 0 }) {
			out = append(out, ctrl.Request{NamespacedName: client.ObjectKeyFromObject(&c)})
		}
	}
	return out
}

// maxListedRelationships is status.relationships' MaxItems.
const maxListedRelationships = 256
