package controllers

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	"github.com/partnerops/multichannel-operator/controllers/internal/core"
	pc "github.com/partnerops/multichannel-operator/internal/partnercenter"
	"github.com/partnerops/multichannel-operator/internal/pass"
	"github.com/partnerops/multichannel-operator/internal/sharedcalls"
)

// One Azure plan per customer and partner. A customer holds one Azure plan
// with a partner (one per reseller of record, for an indirect provider);
// every Azure subscription the partner creates for the customer is created
// under it. The ResellerRelationship between the two owns the plan: when a
// subscription whose both gates are open needs it (its Ready says
// AwaitingAzurePlan), the relationship looks for the plan among the
// customer's subscriptions in Partner Center and, when there is none,
// records a purchase (status.azurePlan.operationID), sends it on the next
// pass as a cart with that ID as MS-RequestId, follows the order, and
// records the plan (status.azurePlanSubscriptionID) and the Azure
// subscription it came with, which the requesting subscription takes.
// The purchase relies on the requesting subscription's authorization,
// recorded with it.

// azurePlanLineItem is the friendly name of the plan's cart line item.
const azurePlanLineItem = "Azure plan"

// planNamespace derives the plan purchases' request IDs.
var planNamespace = uuid.MustParse("5d0f8a1e-2b7c-4e39-a6d4-91c3e7b25f08")

// ensureAzurePlan is an approved relationship's step: the Azure plan is
// found or bought when a subscription needs it.
func (r *ResellerRelationshipReconciler) ensureAzurePlan(ctx context.Context, s *relationshipScope) (*ctrl.Result, error) {
	if s.rr.Status.Phase != v1alpha1.RelationshipApproved {
		return nil, nil
	}
	st := &s.rr.Status
	plan := st.AzurePlan
	inFlight := plan != nil && plan.Source == v1alpha1.AzurePlanBought && plan.CompletedAt == nil
	if st.AzurePlanSubscriptionID != "" && !inFlight {
		return pass.Done, nil
	}
	requesters, err := r.planRequesters(ctx, s.rr)
	if err != nil {
		return nil, err
	}
	if !inFlight && len(requesters) == 0 {
		return pass.Done, nil
	}
	if res, err := r.loadReferences(ctx, s); res != nil || err != nil {
		return res, err
	}
	pcClient, res, err := r.partnerClient(ctx, s)
	if pcClient == nil {
		return res, err
	}
	switch {
	case !inFlight:
		return r.findOrRecordPlan(ctx, s, pcClient, requesters[0])
	case plan.OrderID == "":
		return r.buyPlan(ctx, s, pcClient, requesters)
	case st.AzurePlanSubscriptionID == "":
		return r.awaitPlanOrder(ctx, s, pcClient)
	}
	return r.readFirstAzureSubscription(ctx, s, pcClient)
}

// planRequesters are the subscriptions, by name, that wait for the plan
// with both gates open: each uses this relationship, its Ready says
// AwaitingAzurePlan, an Authorized decision covers its terms, and no
// purchase was refused for this very request (it fails with that refusal).
func (r *ResellerRelationshipReconciler) planRequesters(ctx context.Context, rr *v1alpha1.ResellerRelationship) ([]*v1alpha1.CustomerSubscription, error) {
	refused := ""
	if p := rr.Status.AzurePlan; p != nil && p.Refusal != "" {
		refused = p.RequestedBy
	}
	list := &v1alpha1.CustomerSubscriptionList{}
	if err := r.List(ctx, list, client.InNamespace(rr.Namespace), client.MatchingFields{core.IndexCustomerRef: rr.Spec.CustomerRef}); err != nil {
		return nil, err
	}
	var out []*v1alpha1.CustomerSubscription
	for i := range list.Items {
		sub := &list.Items[i]
		ready := meta.FindStatusCondition(sub.Status.Conditions, v1alpha1.ConditionReady)
		if sub.Spec.SupportPartnerRef == rr.Spec.PartnerRef && sub.Status.RelationshipRef == rr.Name && sub.DeletionTimestamp.IsZero() && ready != nil &&
			ready.Reason == v1alpha1.ReasonAwaitingAzurePlan && core.Covers(sub.Status.Authorization, sub.Status.Terms) && core.PlanRequestKey(sub) != refused {
			out = append(out, sub)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// findOrRecordPlan looks for the customer's Azure plan with the partner in
// Partner Center; without one it records the purchase, sent next pass.
func (r *ResellerRelationshipReconciler) findOrRecordPlan(ctx context.Context, s *relationshipScope, pcClient *pc.Client, requester *v1alpha1.CustomerSubscription) (*ctrl.Result, error) {
	subs, err := pcClient.ListSubscriptions(ctx, s.customer.Spec.TenantID)
	if err != nil {
		return r.planCallFailed(s, "listing customer "+s.customer.Name+"'s subscriptions for its Azure plan", err)
	}
	now := metav1.NewTime(s.now)
	if found := findAzurePlan(subs, s.partner); found != nil {
		s.rr.Status.AzurePlanSubscriptionID = found.ID
		s.rr.Status.AzurePlan = &v1alpha1.AzurePlanStatus{Source: v1alpha1.AzurePlanFound, CatalogItemID: found.OfferID, CompletedAt: &now}
		s.plan = pass.GateOf(metav1.ConditionTrue, v1alpha1.ReasonAzurePlanFound, fmt.Sprintf(
			"Customer %s holds Azure plan %s with partner %s in Partner Center; Azure subscriptions are created under it.", s.customer.Name, found.ID, s.partner.Name))
		s.Event(nil, corev1.EventTypeNormal, "AzurePlanFound", "FindAzurePlan", "Customer %s holds Azure plan %s with partner %s: nothing is bought.", s.customer.Name, found.ID, s.partner.Name)
		return pass.Done, nil
	}
	attempt := int32(1)
	if p := s.rr.Status.AzurePlan; p != nil {
		attempt = p.Attempt + 1
	}
	s.rr.Status.AzurePlan = &v1alpha1.AzurePlanStatus{Source: v1alpha1.AzurePlanBought, Attempt: attempt,
		OperationID:  planOperationID(s.customer, s.partner, attempt),
		RequestedBy:  core.PlanRequestKey(requester),
		AuthorizedBy: core.Truncate(fmt.Sprintf("CustomerSubscription %s: %s", requester.Name, core.DecisionRecord(requester.Status.Authorization)), 512),
		RecordedAt:   &now}
	s.plan = pass.GateOf(metav1.ConditionFalse, v1alpha1.ReasonBuyingAzurePlan, fmt.Sprintf(
		"Customer %s holds no Azure plan with partner %s; recorded its purchase (request ID %s) for CustomerSubscription %s, sent next.",
		s.customer.Name, s.partner.Name, s.rr.Status.AzurePlan.OperationID, requester.Name))
	// The status write wakes the next pass; the requeue covers a pass that
	// read a cache older than that write.
	return &ctrl.Result{RequeueAfter: time.Second}, nil
}

// planOperationID derives a plan purchase's request ID from the customer,
// the partner (of record) and the attempt, not from the relationship: two
// relationships between the same pair send the same ID, and Partner Center
// answers the second with the first's purchase.
func planOperationID(customer *v1alpha1.Customer, partner *v1alpha1.Partner, attempt int32) string {
	return uuid.NewSHA1(planNamespace, fmt.Appendf(nil, "%s/%s/%s/%d", strings.ToLower(customer.Spec.TenantID), strings.ToLower(partner.Spec.TenantID), core.PartnerIDOnRecord(partner), attempt)).String()
}

// findAzurePlan is the customer's active Azure plan with partner: for an
// indirect reseller, the one naming it as partner of record.
func findAzurePlan(subs []pc.Subscription, partner *v1alpha1.Partner) *pc.Subscription {
	onRecord := core.PartnerIDOnRecord(partner)
	for i := range subs {
		sub := &subs[i]
		if pc.IsAzurePlan(sub.OfferID) && strings.EqualFold(sub.Status, pc.SubscriptionActive) && sub.PartnerID == onRecord {
			return sub
		}
	}
	return nil
}

// buyPlan sends the recorded purchase: the Azure plan's availability as
// the catalog sells it to the customer, once, billed one_time.
func (r *ResellerRelationshipReconciler) buyPlan(ctx context.Context, s *relationshipScope, pcClient *pc.Client, requesters []*v1alpha1.CustomerSubscription) (*ctrl.Result, error) {
	plan := s.rr.Status.AzurePlan
	// The subscription it was recorded for, while it still asks; else the
	// first that asks now.
	var requester *v1alpha1.CustomerSubscription
	for _, sub := range requesters {
		if core.PlanRequestKey(sub) == plan.RequestedBy {
			requester = sub
		}
	}
	if requester == nil && len(requesters) > 0 {
		requester = requesters[0]
	}
	if requester == nil {
		// Sent only on a live decision: no subscription asks for the plan
		// with both gates open any more (deleted, its path changed, its
		// authorization withdrawn). Sent again with the same request ID
		// when one does, so it buys at most one plan either way.
		s.plan = pass.GateOf(metav1.ConditionFalse, v1alpha1.ReasonBuyingAzurePlan, fmt.Sprintf(
			"The Azure plan purchase (request ID %s) recorded for %s is not sent: no subscription with an Authorized decision waits for the plan now.", plan.OperationID, plan.RequestedBy))
		return pass.Done, nil
	}
	if key := core.PlanRequestKey(requester); key != plan.RequestedBy {
		// The purchase relies on the decision of the subscription that asks now.
		plan.RequestedBy = key
		plan.AuthorizedBy = core.Truncate(fmt.Sprintf("CustomerSubscription %s: %s", requester.Name, core.DecisionRecord(requester.Status.Authorization)), 512)
	}
	// Read once per core.CatalogFreshness: a purchase throttled after this read
	// must not read it again on every pass.
	var list []pc.Availability
	got, err := sharedcalls.ReadCatalog(r.shared, core.AvailabilitiesKey(pcClient.TenantID(), s.customer.Spec.TenantID, pc.AzurePlanProduct, pc.AzurePlanSKU), core.CatalogFreshness, func() (*[]pc.Availability, error) {
		l, err := pcClient.CustomerAvailabilities(ctx, s.customer.Spec.TenantID, pc.AzurePlanProduct, pc.AzurePlanSKU)
		return &l, err
	})
	switch {
	case err == nil:
		list = *got
	case !pc.IsNotFound(err):
		return r.planCallFailed(s, "reading the Azure plan's availabilities", err)
	}
	choice := core.ChooseAvailability(pc.AzurePlanProduct+":"+pc.AzurePlanSKU, "", pc.BillingCycleOneTime, 1, list, nil)
	if choice.NotSold != "" {
		// Nothing was sent: the catalog is read again.
		s.plan = pass.GateOf(metav1.ConditionFalse, v1alpha1.ReasonOfferNotAvailable, fmt.Sprintf(
			"The Azure plan cannot be bought for customer %s yet: %s; the catalog is read again in %s.", s.customer.Name, choice.NotSold, r.opts.PollInterval))
		return &ctrl.Result{RequeueAfter: r.opts.Poll()}, nil
	}
	plan.CatalogItemID = choice.CatalogItemID
	co, err := pcClient.Purchase(ctx, s.customer.Spec.TenantID, plan.OperationID, azurePlanLineItem, []pc.CartLineItem{{
		CatalogItemID: plan.CatalogItemID, FriendlyName: azurePlanLineItem, Quantity: 1, BillingCycle: pc.BillingCycleOneTime, Participants: core.OnRecord(s.partner)}})
	if err != nil {
		if pc.IsRefused(err) {
			return r.planRefused(s, fmt.Sprintf("HTTP %d: %s", core.StatusCode(err), core.Description(err)))
		}
		return r.planCallFailed(s, "buying the Azure plan (request ID "+plan.OperationID+")", err)
	}
	if e, _ := co.OrderError(azurePlanLineItem); e != nil {
		return r.planRefused(s, fmt.Sprintf("order error %d: %s", e.Code, e.Description))
	}
	order, li := co.Ordered(azurePlanLineItem)
	if li == nil {
		return nil, fmt.Errorf("ResellerRelationship %s/%s: the checkout of Azure plan purchase %s ordered no line item %q", s.rr.Namespace, s.rr.Name, plan.OperationID, azurePlanLineItem)
	}
	plan.OrderID = order.ID
	s.rr.Status.AzurePlanSubscriptionID = li.SubscriptionID // empty while the order is pending
	s.plan = pass.GateOf(metav1.ConditionFalse, v1alpha1.ReasonBuyingAzurePlan, fmt.Sprintf(
		"Partner Center took the Azure plan purchase (request ID %s) as order %s.", plan.OperationID, order.ID))
	return &ctrl.Result{RequeueAfter: r.opts.Poll()}, nil
}

// awaitPlanOrder follows the plan's order until it names the plan.
func (r *ResellerRelationshipReconciler) awaitPlanOrder(ctx context.Context, s *relationshipScope, pcClient *pc.Client) (*ctrl.Result, error) {
	plan := s.rr.Status.AzurePlan
	order, err := pcClient.GetOrder(ctx, s.customer.Spec.TenantID, plan.OrderID)
	if err != nil {
		return r.planCallFailed(s, "following Azure plan order "+plan.OrderID, err)
	}
	li := order.LineItemNamed(azurePlanLineItem)
	switch {
	case li != nil && li.SubscriptionID != "":
		s.rr.Status.AzurePlanSubscriptionID = li.SubscriptionID
		return r.readFirstAzureSubscription(ctx, s, pcClient)
	case core.OrderRefused(order.Status):
		return r.planRefused(s, fmt.Sprintf("order %s is %q without the Azure plan", order.ID, order.Status))
	}
	s.plan = pass.GateOf(metav1.ConditionFalse, v1alpha1.ReasonBuyingAzurePlan, fmt.Sprintf(
		"Azure plan order %s is %s: Partner Center has not provisioned the plan yet.", order.ID, order.Status))
	return &ctrl.Result{RequeueAfter: r.opts.Poll()}, nil
}

// readFirstAzureSubscription records the Azure subscription the bought
// plan came with (its first entitlement); the plan is then complete.
func (r *ResellerRelationshipReconciler) readFirstAzureSubscription(ctx context.Context, s *relationshipScope, pcClient *pc.Client) (*ctrl.Result, error) {
	plan, planID := s.rr.Status.AzurePlan, s.rr.Status.AzurePlanSubscriptionID
	entitlements, err := pcClient.AzureEntitlements(ctx, s.customer.Spec.TenantID, planID)
	if err != nil {
		return r.planCallFailed(s, "listing Azure plan "+planID+"'s Azure subscriptions", err)
	}
	if len(entitlements) == 0 {
		s.plan = pass.GateOf(metav1.ConditionFalse, v1alpha1.ReasonBuyingAzurePlan, fmt.Sprintf(
			"Azure plan %s is provisioned; its first Azure subscription is not listed yet.", planID))
		return &ctrl.Result{RequeueAfter: r.opts.Poll()}, nil
	}
	now := metav1.NewTime(s.now)
	plan.FirstSubscriptionID, plan.CompletedAt = entitlements[0].ID, &now
	s.plan = pass.GateOf(metav1.ConditionTrue, v1alpha1.ReasonAzurePlanBought, fmt.Sprintf(
		"Partner %s bought Azure plan %s for customer %s (order %s, request ID %s), with Azure subscription %s, for %s.",
		s.partner.Name, planID, s.customer.Name, plan.OrderID, plan.OperationID, plan.FirstSubscriptionID, plan.AuthorizedBy))
	s.Event(nil, corev1.EventTypeNormal, "AzurePlanBought", "BuyAzurePlan", "Partner %s bought Azure plan %s for customer %s (order %s, request ID %s) for %s.",
		s.partner.Name, planID, s.customer.Name, plan.OrderID, plan.OperationID, plan.AuthorizedBy)
	return pass.Done, nil
}

// planRefused ends the recorded purchase: nothing was bought. The
// requesting subscription fails with Partner Center's words; its retry
// asks again.
func (r *ResellerRelationshipReconciler) planRefused(s *relationshipScope, why string) (*ctrl.Result, error) {
	plan := s.rr.Status.AzurePlan
	now := metav1.NewTime(s.now)
	plan.Refusal, plan.CompletedAt = core.Truncate(why, 1024), &now
	s.plan = pass.GateOf(metav1.ConditionFalse, v1alpha1.ReasonAzurePlanRefused, fmt.Sprintf(
		"Partner Center refused the Azure plan purchase (request ID %s) for customer %s: %s.", plan.OperationID, s.customer.Name, plan.Refusal))
	s.Event(nil, corev1.EventTypeWarning, "AzurePlanRefused", "BuyAzurePlan", "Partner Center refused the Azure plan purchase (request ID %s) for customer %s: %s.", plan.OperationID, s.customer.Name, plan.Refusal)
	// Another subscription waiting for the plan asks anew on the next pass.
	return &ctrl.Result{RequeueAfter: time.Second}, nil
}

// planCallFailed reports a failed call on the AzurePlan condition and
// retries with backoff.
func (r *ResellerRelationshipReconciler) planCallFailed(s *relationshipScope, doing string, err error) (*ctrl.Result, error) {
	if res := r.polls.Throttled(s.rr.UID, err); res != nil {
		return res, nil
	}
	s.plan = pass.GateOf(metav1.ConditionFalse, v1alpha1.ReasonBuyingAzurePlan, fmt.Sprintf("Partner Center failed while %s: %s; retrying.", doing, core.Description(err)))
	return nil, fmt.Errorf("%s for ResellerRelationship %s/%s: %w", doing, s.rr.Namespace, s.rr.Name, err)
}
