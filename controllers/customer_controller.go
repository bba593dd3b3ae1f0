package controllers

import (
	"context"
	"errors"
	"fmt"
	"sort"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
)

// ReasonValid: the object passed every check the operator makes.
const ReasonValid = "Valid"

// CustomerReconciler summarises a customer's reseller relationships.
type CustomerReconciler struct {
	client.Client
}

// +kubebuilder:rbac:groups=multichannel.partnerops.io,resources=customers,verbs=get;list;watch
// +kubebuilder:rbac:groups=multichannel.partnerops.io,resources=customers/status,verbs=get;patch

// Reconcile sets Ready and status.relationships: one entry per partner, with
// the phase of its most relevant relationship (approved, then waiting, then refused).
func (r *CustomerReconciler) Reconcile(ctx context.Context, req ctrl.Request) (res ctrl.Result, retErr error) {
	customer := &v1alpha1.Customer{}
	if err := r.Get(ctx, req.NamespacedName, customer); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	before := customer.DeepCopy()
	defer func() {
		if err := patchStatus(ctx, r.Client, before, customer); err != nil {
			retErr = errors.Join(retErr, fmt.Errorf("writing Customer %s status: %w", req, err))
		}
	}()

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
	customer.Status.Relationships = rels

	conditions{list: &customer.Status.Conditions, generation: customer.Generation}.ready(ReasonValid,
		fmt.Sprintf("The customer has %d reseller relationship(s).", len(rels)))
	customer.Status.ObservedGeneration = customer.Generation
	return ctrl.Result{}, nil
}

// SetupWithManager registers the reconciler and what it watches with mgr.
func (r *CustomerReconciler) SetupWithManager(mgr ctrl.Manager, opts Options) error {
	r.Client = mgr.GetClient()
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1alpha1.Customer{}).
		Watches(&v1alpha1.ResellerRelationship{}, handler.EnqueueRequestsFromMapFunc(func(_ context.Context, o client.Object) []ctrl.Request {
			rr := o.(*v1alpha1.ResellerRelationship)
			return []ctrl.Request{{NamespacedName: client.ObjectKey{Namespace: rr.Namespace, Name: rr.Spec.CustomerRef}}}
		})).
		WithOptions(opts.controllerOptions()).
		Complete(r)
}
