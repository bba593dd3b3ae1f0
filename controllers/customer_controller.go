package controllers

import (
	"context"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
)

// CustomerReconciler reconciles Customer objects.
type CustomerReconciler struct {
	client.Client
}

// +kubebuilder:rbac:groups=multichannel.partnerops.io,resources=customers,verbs=get;list;watch
// +kubebuilder:rbac:groups=multichannel.partnerops.io,resources=customers/status,verbs=get;update;patch

// Reconcile brings one Customer towards its desired state.
func (r *CustomerReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	obj := &v1alpha1.Customer{}
	if err := r.Get(ctx, req.NamespacedName, obj); err != nil {
		if apierrors.IsNotFound(err) {
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, err
	}
	before := obj.DeepCopy()
	obj.Status.ObservedGeneration = obj.Generation
	return ctrl.Result{}, patchStatus(ctx, r.Client, before, obj)
}

// SetupWithManager registers the reconciler with mgr.
func (r *CustomerReconciler) SetupWithManager(mgr ctrl.Manager, opts Options) error {
	r.Client = mgr.GetClient()
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1alpha1.Customer{}).
		WithOptions(controller.Options{MaxConcurrentReconciles: opts.MaxConcurrentReconciles}).
		Complete(r)
}
