package controllers

import (
	"context"
	"errors"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
)

// ReasonInvalidSelector: spec.partnerSelector cannot be parsed.
const ReasonInvalidSelector = "InvalidSelector"

// ApprovalPolicyReconciler checks a policy and counts the relationships it matches.
type ApprovalPolicyReconciler struct {
	client.Client
}

// +kubebuilder:rbac:groups=multichannel.partnerops.io,resources=approvalpolicies,verbs=get;list;watch
// +kubebuilder:rbac:groups=multichannel.partnerops.io,resources=approvalpolicies/status,verbs=get;patch

// Reconcile sets Ready when the selector is valid, and status.matched.
func (r *ApprovalPolicyReconciler) Reconcile(ctx context.Context, req ctrl.Request) (res ctrl.Result, retErr error) {
	policy := &v1alpha1.ApprovalPolicy{}
	if err := r.Get(ctx, req.NamespacedName, policy); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	before := policy.DeepCopy()
	defer func() {
		if err := patchStatus(ctx, r.Client, before, policy); err != nil {
			retErr = errors.Join(retErr, fmt.Errorf("writing ApprovalPolicy %s status: %w", req, err))
		}
	}()
	conds := conditions{list: &policy.Status.Conditions, generation: policy.Generation}
	policy.Status.ObservedGeneration = policy.Generation

	if sel := policy.Spec.PartnerSelector; sel != nil {
		if _, err := metav1.LabelSelectorAsSelector(sel); err != nil {
			policy.Status.Matched = 0
			conds.stalled(ReasonInvalidSelector, fmt.Sprintf("spec.partnerSelector is not a valid label selector: %v.", err))
			return ctrl.Result{}, nil
		}
	}
	list := &v1alpha1.ResellerRelationshipList{}
	if err := r.List(ctx, list, client.InNamespace(policy.Namespace)); err != nil {
		return ctrl.Result{}, err
	}
	var matched int32
	for _, rr := range list.Items {
		partner := &v1alpha1.Partner{}
		if err := r.Get(ctx, client.ObjectKey{Name: rr.Spec.PartnerRef}, partner); err != nil {
			continue
		}
		if policyMatches(policy, partner) {
			matched++
		}
	}
	policy.Status.Matched = matched
	conds.ready(ReasonValid, fmt.Sprintf("The policy matches %d reseller relationship request(s) in this namespace.", matched))
	return ctrl.Result{}, nil
}

// SetupWithManager registers the reconciler and what it watches with mgr.
func (r *ApprovalPolicyReconciler) SetupWithManager(mgr ctrl.Manager, opts Options) error {
	r.Client = mgr.GetClient()
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1alpha1.ApprovalPolicy{}).
		Watches(&v1alpha1.ResellerRelationship{}, handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, o client.Object) []ctrl.Request {
			return requestsFor(ctx, r.Client, &v1alpha1.ApprovalPolicyList{}, client.InNamespace(o.GetNamespace()))
		})).
		Watches(&v1alpha1.Partner{}, handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, _ client.Object) []ctrl.Request {
			return requestsFor(ctx, r.Client, &v1alpha1.ApprovalPolicyList{})
		})).
		WithOptions(opts.controllerOptions()).
		Complete(r)
}
