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
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
)

// CustomerReconciler claims a customer's tenant for it and summarises its
// reseller relationships.
type CustomerReconciler struct {
	client.Client
	live              client.Reader // uncached: the claims and their holders
	operatorNamespace string
	clients           *partnerClients
	recorder          recorder.EventRecorder
	opts              Options
	// claims are the delivery attempts this process recorded and has not made.
	claims *deliveryClaims
}

// +kubebuilder:rbac:groups=multichannel.partnerops.io,resources=customers,verbs=get;list;watch
// +kubebuilder:rbac:groups=multichannel.partnerops.io,resources=customers/status,verbs=get;patch;update
// +kubebuilder:rbac:groups=multichannel.partnerops.io,resources=delegatedadminrelationships,verbs=get;list;watch
// +kubebuilder:rbac:groups=multichannel.partnerops.io,resources=partners,verbs=get;list;watch

// Reconcile sets Ready and status.relationships: one entry per partner, with
// the phase of its most relevant relationship (approved, then waiting, then refused).
func (r *CustomerReconciler) Reconcile(ctx context.Context, req ctrl.Request) (res ctrl.Result, retErr error) {
	customer := &v1alpha1.Customer{}
	if err := r.Get(ctx, req.NamespacedName, customer); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	p := beginPass(ctx, r.Client, r.recorder, "Customer", customer, &customer.Status.Conditions)
	locked := false
	var invitations *invitationScope
	defer func() {
		if invitations != nil {
			// A pass that changed the invitations writes with the
			// resourceVersion it read: a pass on a stale copy must not
			// overwrite a newer delivery's record.
			locked = locked || !equality.Semantic.DeepEqual(p.before.Status.Invitations, customer.Status.Invitations)
		}
		retErr = p.finish(ctx, res, retErr, locked)
		if invitations == nil {
			return
		}
		if len(invitations.sent) > 0 && apierrors.IsConflict(retErr) {
			// What a channel did must not be lost: a lost result sends again.
			if err := r.persistSent(ctx, req.NamespacedName, invitations.sent); err != nil {
				retErr = errors.Join(retErr, err)
			}
		}
		if retErr == nil {
			invitations.observe()
		}
	}()

	held, holder, err := claimTenant(ctx, r.Client, r.live, r.operatorNamespace, customer)
	if err != nil {
		return ctrl.Result{}, err
	}
	if !held {
		msg := fmt.Sprintf("Tenant %s belongs to Customer %s: a tenant belongs to one namespace, so nothing is requested, bought or transferred for this Customer; delete one of the two.",
			customer.Spec.TenantID, holderName(holder))
		p.conds.set(v1alpha1.ConditionTenantClaimed, metav1.ConditionFalse, v1alpha1.ReasonTenantClaimedElsewhere, msg)
		p.conds.stalled(v1alpha1.ReasonTenantClaimedElsewhere, msg)
		customer.Status.ObservedGeneration = customer.Generation
		// The holder's deletion frees the claim; this Customer asks again.
		return ctrl.Result{RequeueAfter: time.Minute}, nil
	}
	p.conds.set(v1alpha1.ConditionTenantClaimed, metav1.ConditionTrue, v1alpha1.ReasonTenantClaimed,
		fmt.Sprintf("Tenant %s belongs to this Customer.", customer.Spec.TenantID))

	list := &v1alpha1.ResellerRelationshipList{}
	if err := r.List(ctx, list, client.InNamespace(customer.Namespace), client.MatchingFields{indexCustomerRef: customer.Name}); err != nil {
		return ctrl.Result{}, err
	}
	partners := map[string]bool{}
	for _, rr := range list.Items {
		partners[rr.Spec.PartnerRef] = true
	}
	var rels []v1alpha1.CustomerRelationship
	for partner := range partners {
		best := bestRelationship(list.Items, partner)
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
		sort.SliceStable(rels, func(i, j int) bool { return relationshipRank(rels[i].Phase) < relationshipRank(rels[j].Phase) })
		rels = rels[:maxListedRelationships]
		sort.Slice(rels, func(i, j int) bool { return rels[i].Partner < rels[j].Partner })
	}
	customer.Status.Relationships = rels

	access, err := r.adminAccess(ctx, customer)
	if err != nil {
		return ctrl.Result{}, err
	}
	customer.Status.AdminAccess = access

	msg := fmt.Sprintf("The customer has %d reseller relationship(s).", total)
	if total > len(rels) {
		msg = fmt.Sprintf("The customer has %d reseller relationships; status.relationships lists %d of them, approved first.", total, len(rels))
	}
	readAgain, err := r.reconcileAgreement(ctx, &agreementScope{customer: customer, conds: p.conds, now: r.opts.Clock.Now(),
		event: func(eventType, reason, format string, args ...any) {
			p.event(nil, eventType, reason, "ConfirmAgreement", format, args...)
		},
	}, list.Items)
	if err != nil {
		return ctrl.Result{}, err
	}
	invitations = &invitationScope{customer: customer, conds: p.conds, now: r.opts.Clock.Now(),
		event: func(eventType, reason, format string, args ...any) {
			p.event(nil, eventType, reason, "Invite", format, args...)
		},
	}
	remindAgain, err := r.reconcileInvitations(ctx, invitations, list.Items)
	if err != nil {
		return ctrl.Result{}, err
	}
	p.conds.ready(v1alpha1.ReasonValid, msg)
	if invitations.stalled != "" {
		p.conds.stalled(v1alpha1.ReasonDeliveryFailed, invitations.stalled)
	}
	customer.Status.ObservedGeneration = customer.Generation
	return ctrl.Result{RequeueAfter: sooner(readAgain, remindAgain)}, nil
}

// adminAccess lists, per partner, the roles of its active GDAP relationships
// with the customer, and when the last of them ends.
func (r *CustomerReconciler) adminAccess(ctx context.Context, customer *v1alpha1.Customer) ([]v1alpha1.CustomerAdminAccess, error) {
	list := &v1alpha1.DelegatedAdminRelationshipList{}
	if err := r.List(ctx, list, client.InNamespace(customer.Namespace), client.MatchingFields{indexCustomerRef: customer.Name}); err != nil {
		return nil, err
	}
	byPartner := map[string]*v1alpha1.CustomerAdminAccess{}
	for _, g := range list.Items {
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
	return out, nil
}

// SetupWithManager registers the reconciler and what it watches with mgr.
func (r *CustomerReconciler) SetupWithManager(mgr ctrl.Manager, opts Options) error {
	r.Client, r.live, r.operatorNamespace, r.opts = mgr.GetClient(), mgr.GetAPIReader(), opts.OperatorNamespace, opts
	r.claims = newDeliveryClaims()
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1alpha1.Customer{}).
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
		WithOptions(opts.controllerOptions()).
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
