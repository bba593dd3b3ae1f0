package subscription

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	"github.com/partnerops/multichannel-operator/controllers/internal/core"
	"github.com/partnerops/multichannel-operator/internal/azurerm"
	"github.com/partnerops/multichannel-operator/internal/pass"
)

// The Azure paths of a subscription. NewAzureSubscription: an Azure
// subscription under the customer's one Azure plan with the support
// partner. The subscription first waits for the plan, which its
// ResellerRelationship finds or buys (controllers/azureplan.go). When the plan was
// bought for this subscription, it takes the Azure subscription the plan
// came with; otherwise it creates one under the plan through Azure Resource
// Manager: operation CreateAzureSubscription, recorded first, whose ID is
// the subscription alias, so that a PUT sent again after a crash or a lost
// answer creates nothing more. An Azure PartnerSwitch waits for the plan
// too: Partner Center moves Azure subscriptions only to a partner that
// holds one.

// awaitAzurePlan returns once the customer's Azure plan with the support
// partner is known; until then the subscription waits (AwaitingAzurePlan),
// or fails when Partner Center refused the plan bought for it.
func (r *CustomerSubscriptionReconciler) awaitAzurePlan(s *subscriptionScope) (*ctrl.Result, error) {
	if s.sub.Status.TargetSubscriptionID != "" || confirmed(s.sub.Status.Operation) {
		return nil, nil
	}
	rr := s.relationship
	plan := rr.Status.AzurePlan
	mine := plan != nil && plan.RequestedBy == core.PlanRequestKey(s.sub)
	switch {
	case rr.Status.AzurePlanSubscriptionID != "" && (plan == nil || plan.CompletedAt != nil):
		// Known and complete: a plan bought is complete once it recorded
		// the Azure subscription it came with, before any other is
		// created under it, so that no other can be taken for that one.
		return nil, nil
	case mine && plan.Refusal != "":
		// Nothing was bought; the subscription records the refused
		// purchase as its operation, so that a retry asks again.
		op := planOperation(s, plan)
		op.Refusal = plan.Refusal
		s.sub.Status.Operation = op
		r.fail(s, v1alpha1.ReasonPartnerCenterRejected, fmt.Sprintf("Partner Center refused the Azure plan partner %s would buy for customer %s (ResellerRelationship %s, request ID %s): %s.",
			s.target.Name, s.customer.Name, rr.Name, plan.OperationID, plan.Refusal))
		return pass.Done, nil
	}
	s.step = stepSwitch
	// The same words while it waits: a pass on a cache older than this
	// subscription's last write then writes nothing, rather than conditions
	// over a phase it has not seen. The relationship's AzurePlan condition
	// says how the plan stands.
	s.verdict = pass.Progressing(v1alpha1.ReasonAwaitingAzurePlan, fmt.Sprintf(
		"Waiting for customer %s's Azure plan with partner %s, which ResellerRelationship %s finds in Partner Center or buys (its condition AzurePlan says how it stands).",
		s.customer.Name, s.target.Name, rr.Name))
	return pass.Done, nil // the relationship's status change wakes the subscription
}

// runAzureSubscription gives the subscription its Azure subscription under
// the plan: the one the plan came with when it was bought for this
// subscription, otherwise a new one through Azure Resource Manager.
func (r *CustomerSubscriptionReconciler) runAzureSubscription(ctx context.Context, s *subscriptionScope) (*v1alpha1.Operation, *ctrl.Result, error) {
	plan := s.relationship.Status.AzurePlan
	if op := s.sub.Status.Operation; op == nil && plan != nil && plan.Source == v1alpha1.AzurePlanBought && plan.FirstSubscriptionID != "" &&
		plan.RequestedBy == core.PlanRequestKey(s.sub) {
		return r.takePlanSubscription(s), nil, nil
	}
	if op := s.sub.Status.Operation; op != nil && op.Type == v1alpha1.OperationCreateAzurePlan && op.Refusal == "" {
		return op, nil, nil // took the plan's Azure subscription
	}
	return r.runOperation(ctx, s, v1alpha1.OperationCreateAzureSubscription)
}

// takePlanSubscription records, as this subscription's operation, the
// plan purchase made for it and the Azure subscription it came with.
func (r *CustomerSubscriptionReconciler) takePlanSubscription(s *subscriptionScope) *v1alpha1.Operation {
	rr := s.relationship
	plan := rr.Status.AzurePlan
	op := planOperation(s, plan)
	op.ExternalID = plan.OrderID
	s.sub.Status.Operation = op
	s.sub.Status.TargetSubscriptionID = plan.FirstSubscriptionID
	s.Event(nil, corev1.EventTypeNormal, string(op.Type), "CallPartnerCenter", "Partner %s bought Azure plan %s for customer %s (ResellerRelationship %s, order %s); its Azure subscription %s is this subscription's.",
		s.target.Name, rr.Status.AzurePlanSubscriptionID, s.customer.Name, rr.Name, plan.OrderID, plan.FirstSubscriptionID)
	return op
}

// planOperation is the plan purchase made for the subscription, as its
// own ended operation: the purchase's ID, the subscription's terms and
// decision.
func planOperation(s *subscriptionScope, plan *v1alpha1.AzurePlanStatus) *v1alpha1.Operation {
	now := metav1.NewTime(s.now)
	return &v1alpha1.Operation{ID: plan.OperationID, Type: v1alpha1.OperationCreateAzurePlan, Attempt: core.NextAttempt(s.sub.Status),
		StartedAt: plan.RecordedAt, CompletedAt: &now, Terms: s.terms.DeepCopy(), AuthorizedBy: core.DecisionRecord(s.sub.Status.Authorization),
		CatalogItemID: plan.CatalogItemID}
}

// createAzureSubscription sends operation op: a PUT of the subscription
// alias op.ID under the partner's billing scope for the customer.
func (r *CustomerSubscriptionReconciler) createAzureSubscription(ctx context.Context, s *subscriptionScope, op *v1alpha1.Operation) (*ctrl.Result, error) {
	arm, res, err := r.targetARM(ctx, s)
	if arm == nil {
		return res, err
	}
	scope, err := arm.PartnerBillingScope(ctx, s.customer.Spec.TenantID)
	if err != nil {
		return r.azureFailed(s, op, "finding partner "+s.target.Name+"'s billing scope for customer "+s.customer.Name, err)
	}
	r.unsent.sending(op.ID)
	got, err := arm.CreateSubscription(ctx, op.ID, core.Truncate(purchaseName(s.sub), 64), scope)
	if err != nil && azurerm.IsRefused(err) {
		// An earlier PUT of this alias may have created it (its answer
		// lost): only ARM not knowing the alias proves nothing was created.
		if existing, gerr := arm.GetSubscription(ctx, op.ID); gerr == nil {
			got, err = existing, nil
		} else if !errors.Is(gerr, azurerm.ErrAliasNotFound) {
			err = gerr
		}
	}
	if err != nil {
		return r.azureFailed(s, op, "creating Azure subscription alias "+op.ID, err)
	}
	op.ExternalID = op.ID
	return r.azureSubscriptionState(s, op, got)
}

// awaitAzureSubscription follows the alias until ARM provisioned the
// subscription.
func (r *CustomerSubscriptionReconciler) awaitAzureSubscription(ctx context.Context, s *subscriptionScope, op *v1alpha1.Operation) (*ctrl.Result, error) {
	if s.sub.Status.TargetSubscriptionID != "" {
		return nil, nil
	}
	if wait := r.polls.Wait(s.sub.UID); wait > 0 {
		return &ctrl.Result{RequeueAfter: wait}, nil
	}
	arm, res, err := r.targetARM(ctx, s)
	if arm == nil {
		return res, err
	}
	got, err := arm.GetSubscription(ctx, op.ExternalID)
	if err != nil {
		return r.azureFailed(s, op, "reading Azure subscription alias "+op.ExternalID, err)
	}
	return r.azureSubscriptionState(s, op, got)
}

// azureSubscriptionState records what ARM says of the alias.
func (r *CustomerSubscriptionReconciler) azureSubscriptionState(s *subscriptionScope, op *v1alpha1.Operation, got *azurerm.Subscription) (*ctrl.Result, error) {
	switch got.ProvisioningState {
	case azurerm.ProvisioningSucceeded:
		now := metav1.NewTime(s.now)
		op.CompletedAt = &now
		s.sub.Status.TargetSubscriptionID = got.SubscriptionID
		return nil, nil
	case azurerm.ProvisioningFailed:
		now := metav1.NewTime(s.now)
		op.CompletedAt, op.Refusal = &now, "provisioningState Failed"
		r.fail(s, v1alpha1.ReasonAzureSubscriptionFailed, fmt.Sprintf("Azure Resource Manager failed to provision Azure subscription alias %s for customer %s; nothing was created. Retry to create another.", op.ExternalID, s.customer.Name))
		return pass.Done, nil
	}
	s.verdict = pass.Progressing(v1alpha1.ReasonSwitching, fmt.Sprintf("Azure Resource Manager is creating Azure subscription alias %s under customer %s's Azure plan (%s).", op.ExternalID, s.customer.Name, got.ProvisioningState))
	return &ctrl.Result{RequeueAfter: r.opts.Poll()}, nil
}

// azureFailed: ARM refused the request (final: nothing was created), or
// failed in a way a retry may fix (retried with backoff, same alias).
func (r *CustomerSubscriptionReconciler) azureFailed(s *subscriptionScope, op *v1alpha1.Operation, doing string, err error) (*ctrl.Result, error) {
	if azurerm.IsRefused(err) && op.ExternalID == "" && !errors.Is(err, azurerm.ErrAliasNotFound) {
		now := metav1.NewTime(s.now)
		op.CompletedAt, op.Refusal = &now, core.Truncate(err.Error(), 1024)
		r.fail(s, v1alpha1.ReasonAzureSubscriptionFailed, fmt.Sprintf("Azure Resource Manager refused %s: %v; nothing was created.", doing, err))
		return pass.Done, nil
	}
	if res := r.polls.Throttled(s.sub.UID, err); res != nil {
		return res, nil // held for ARM's Retry-After; the status says nothing new
	}
	s.verdict = pass.Progressing(v1alpha1.ReasonPartnerCenterError, fmt.Sprintf("Azure Resource Manager failed while %s: %v; retrying with the same alias.", doing, err))
	return nil, fmt.Errorf("%s for CustomerSubscription %s/%s: %w", doing, s.sub.Namespace, s.sub.Name, err)
}

// targetARM is the support partner's (or its indirect provider's) Azure
// Resource Manager client, or nil with the conditions saying why.
func (r *CustomerSubscriptionReconciler) targetARM(ctx context.Context, s *subscriptionScope) (*azurerm.Client, *ctrl.Result, error) {
	caller, err := core.CallerOf(ctx, r.Client, s.target)
	if err == nil {
		var c *azurerm.Client
		if c, err = r.clients.GetARM(ctx, caller); err == nil {
			return c, nil, nil
		}
	}
	ok, err := core.Usable(err, &s.verdict, s.target, "Azure Resource Manager", func() {
		s.verdict = pass.Stalled(v1alpha1.ReasonPartnerNotReady, fmt.Sprintf("Partner %s has no credentials, so no Azure subscription can be created for it.", s.target.Name))
	})
	if !ok {
		return nil, pass.Done, err
	}
	return nil, pass.Done, nil
}
