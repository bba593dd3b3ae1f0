package controllers

import (
	"context"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlevent "sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	"github.com/partnerops/multichannel-operator/controllers/internal/core"
	"github.com/partnerops/multichannel-operator/internal/pass"
)

// ApprovalPolicyReconciler checks a policy and counts the subscriptions it authorized.
type ApprovalPolicyReconciler struct {
	client.Client
}

// +kubebuilder:rbac:groups=multichannel.partnerops.io,resources=approvalpolicies,verbs=get;list;watch
// +kubebuilder:rbac:groups=multichannel.partnerops.io,resources=approvalpolicies/status,verbs=get;patch
// +kubebuilder:rbac:groups=multichannel.partnerops.io,resources=customersubscriptions,verbs=get;list;watch

// Reconcile sets Ready when the selector is valid, and status.matched.
func (r *ApprovalPolicyReconciler) Reconcile(ctx context.Context, req ctrl.Request) (res ctrl.Result, retErr error) {
	policy := &v1alpha1.ApprovalPolicy{}
	if err := r.Get(ctx, req.NamespacedName, policy); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	p := pass.Begin(ctx, r.Client, nil, "ApprovalPolicy", policy, &policy.Status.Conditions, &policy.Status.ObservedGeneration)
	var found policyFacts
	defer func() { retErr = p.Finish(ctx, res, retErr, false, summarizePolicy(policy, found)) }()

	if sel := policy.Spec.PartnerSelector; sel != nil {
		if _, err := metav1.LabelSelectorAsSelector(sel); err != nil {
			found.selectorErr = err
			return ctrl.Result{}, nil
		}
	}
	subs := &v1alpha1.CustomerSubscriptionList{}
	if err := r.List(ctx, subs, client.InNamespace(policy.Namespace)); err != nil {
		return ctrl.Result{}, fmt.Errorf("listing CustomerSubscriptions in %s: %w", policy.Namespace, err)
	}
	var matched int32
	by := v1alpha1.PolicyAuthorizationBy(policy.Name)
	for i := range subs.Items {
		a := subs.Items[i].Status.Authorization
		if a != nil && a.Source == v1alpha1.AuthorizationFromPolicy && a.By == by && a.Generation == subs.Items[i].Generation {
			matched++
		}
	}
	found.matched = &matched
	return ctrl.Result{}, nil
}

// policyFacts is what a pass over an ApprovalPolicy found.
type policyFacts struct {
	selectorErr error  // spec.partnerSelector does not parse
	matched     *int32 // the subscriptions it authorizes now; nil when not counted
}

// summarizePolicy derives the policy's status from what the pass found.
func summarizePolicy(policy *v1alpha1.ApprovalPolicy, f policyFacts) pass.Summary {
	switch {
	case f.selectorErr != nil:
		policy.Status.Matched = 0
		return pass.Summary{Verdict: pass.Stalled(v1alpha1.ReasonInvalidSelector, fmt.Sprintf("spec.partnerSelector is not a valid label selector: %v.", f.selectorErr))}
	case f.matched != nil:
		policy.Status.Matched = *f.matched
		return pass.Summary{Verdict: pass.Ready(v1alpha1.ReasonValid, fmt.Sprintf("The policy authorized %d subscription(s) in this namespace.", *f.matched))}
	}
	return pass.Summary{}
}

// policyCountDelay: how long status.matched may lag behind the subscriptions'
// authorizations.
const policyCountDelay = 2 * time.Second

// enqueueAfter enqueues what mapFn returns for an object's old and new
// versions, delay later: the changes within delay make one reconcile (the
// queue keeps a request that is waiting once, at its earliest time).
func enqueueAfter(delay time.Duration, mapFn handler.MapFunc) handler.EventHandler {
	add := func(ctx context.Context, q workqueue.TypedRateLimitingInterface[reconcile.Request], objs ...client.Object) {
		for _, o := range objs {
			for _, req := range mapFn(ctx, o) {
				q.AddAfter(req, delay)
			}
		}
	}
	return handler.Funcs{
		CreateFunc: func(ctx context.Context, e ctrlevent.CreateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			add(ctx, q, e.Object)
		},
		UpdateFunc: func(ctx context.Context, e ctrlevent.UpdateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			add(ctx, q, e.ObjectOld, e.ObjectNew)
		},
		DeleteFunc: func(ctx context.Context, e ctrlevent.DeleteEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			add(ctx, q, e.Object)
		},
		GenericFunc: func(ctx context.Context, e ctrlevent.GenericEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			add(ctx, q, e.Object)
		},
	}
}

// SetupWithManager registers the reconciler and what it watches with mgr.
func (r *ApprovalPolicyReconciler) SetupWithManager(mgr ctrl.Manager, opts Options) error {
	r.Client = mgr.GetClient()
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1alpha1.ApprovalPolicy{}).
		// A subscription's authorization changes what the policy counts; the
		// count is written once for the authorizations of a policyCountDelay,
		// not once for each.
		Watches(&v1alpha1.CustomerSubscription{}, enqueueAfter(policyCountDelay, func(_ context.Context, o client.Object) []ctrl.Request {
			name, ok := v1alpha1.AuthorizingPolicy(o.(*v1alpha1.CustomerSubscription).Status.Authorization)
			if !ok {
				return nil
			}
			return []ctrl.Request{{NamespacedName: client.ObjectKey{Namespace: o.GetNamespace(), Name: name}}}
		}), core.AuthorizationChanged).
		WithOptions(opts.ControllerOptions()).
		Complete(r)
}
