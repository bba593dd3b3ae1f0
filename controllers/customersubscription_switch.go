package controllers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	pc "github.com/partnerops/multichannel-operator/internal/partnercenter"
)

// switchSubscription runs the switch step of the subscription's path, once
// both gates are open.
func (r *CustomerSubscriptionReconciler) switchSubscription(ctx context.Context, s *subscriptionScope) (*ctrl.Result, error) {
	return r.runPath(ctx, s, s.result.Path)
}

// runPath runs one path's switch step; each reads top to bottom.
func (r *CustomerSubscriptionReconciler) runPath(ctx context.Context, s *subscriptionScope, path v1alpha1.SwitchPath) (*ctrl.Result, error) {
	switch path {
	case v1alpha1.PathResellerRelationship:
		// Nothing to buy: the approved relationship is the switch.
		r.complete(s, fmt.Sprintf("Customer %s approved partner %s as reseller, so %s now manages and supports the subscription.", s.customer.Name, s.target.Name, s.target.Name))
		return done, nil

	case v1alpha1.PathNewAzureSubscription:
		// Wait for the customer's Azure plan with the partner, take the
		// Azure subscription it came with or create one under it, then wait
		// for the source to be cancelled where the spec asks for it.
		if res, err := r.awaitAzurePlan(s); res != nil || err != nil {
			return res, err
		}
		op, res, err := r.runAzureSubscription(ctx, s)
		if op == nil {
			return res, err
		}
		if res, err := r.awaitAzureSubscription(ctx, s, op); res != nil || err != nil {
			return res, err
		}
		return r.settleSource(s)

	case v1alpha1.PathNewLicenseSubscription:
		// Buy the same offer and quantity, with spec.purchase's term and
		// billing cycle, and wait for its subscription.
		op, res, err := r.runOperation(ctx, s, v1alpha1.OperationCreateLicenseSubscription)
		if op == nil {
			return res, err
		}
		if res, err := r.awaitOrder(ctx, s, op); res != nil || err != nil {
			return res, err
		}
		r.recordCancellationWindow(ctx, s)
		msg := fmt.Sprintf("Partner %s bought %d of %s for customer %s as subscription %s.", s.target.Name, quantity(s.sub), offerName(s.sub), s.customer.Name, s.sub.Status.TargetSubscriptionID)
		if until := s.sub.Status.CancellableUntil; until != nil {
			msg += fmt.Sprintf(" It can be cancelled with a refund until %s (kubectl multichannel cancel %s -n %s).", until.UTC().Format(time.RFC3339), s.sub.Name, s.sub.Namespace)
		}
		r.complete(s, msg)
		return done, nil

	case v1alpha1.PathPartnerSwitch:
		// Ask the source partner for a transfer and poll it until it
		// completes, is refused or expires. Azure moves only to a partner
		// that holds the customer's Azure plan.
		if s.sub.Spec.ServiceType == v1alpha1.ServiceUsageBased {
			if res, err := r.awaitAzurePlan(s); res != nil || err != nil {
				return res, err
			}
		}
		op, res, err := r.runOperation(ctx, s, v1alpha1.OperationCreateTransfer)
		if op == nil {
			return res, err
		}
		return r.followTransfer(ctx, s, op)
	}
	return nil, fmt.Errorf("CustomerSubscription %s/%s: no switch step for path %q", s.sub.Namespace, s.sub.Name, path)
}

// operationPath is the path each operation type belongs to.
var operationPath = map[v1alpha1.OperationType]v1alpha1.SwitchPath{
	v1alpha1.OperationCreateAzurePlan:           v1alpha1.PathNewAzureSubscription,
	v1alpha1.OperationCreateAzureSubscription:   v1alpha1.PathNewAzureSubscription,
	v1alpha1.OperationCreateLicenseSubscription: v1alpha1.PathNewLicenseSubscription,
	v1alpha1.OperationCreateTransfer:            v1alpha1.PathPartnerSwitch,
}

// confirmed: Partner Center confirmed the operation (an order or transfer
// exists) and it has not ended. Following it spends nothing, so it needs no
// gate; everything else is sent only through both gates.
func confirmed(op *v1alpha1.Operation) bool {
	return op != nil && op.CompletedAt == nil && op.ExternalID != ""
}

// abandonUnwantedOperation: an operation recorded but not confirmed is sent
// only on the terms the spec asks for now. When the spec no longer asks for
// them (its state or term changed the path, or the path sends nothing), an
// operation known to have created nothing (Partner Center refused it, or
// this process recorded it and never sent it) is abandoned and retired, so
// that the next operation, with new terms, has a new ID and passes both
// gates again. One that may have reached Partner Center is neither sent nor
// abandoned: sending it would buy what nobody asks for any more, and
// another operation could buy twice; a person decides.
func (r *CustomerSubscriptionReconciler) abandonUnwantedOperation(_ context.Context, s *subscriptionScope) (*ctrl.Result, error) {
	st := &s.sub.Status
	op := st.Operation
	if op == nil || op.CompletedAt != nil || op.ExternalID != "" || sameTerms(op.Terms, s.terms) {
		return nil, nil
	}
	if op.Refusal == "" && !r.unsent.neverSent(op.ID) {
		s.conds.stalled(v1alpha1.ReasonOperationInDoubt, fmt.Sprintf(
			"Operation %s (%s) records %s and may have reached Partner Center (request ID %s) before the spec changed to ask for %s; it is neither sent again nor abandoned. Restore the spec to finish it, or check Partner Center for request ID %s and delete the subscription (what Partner Center holds stays).",
			op.ID, op.Type, describeTerms(op.Terms), op.ID, describeTerms(s.terms), op.ID))
		return done, nil
	}
	now := metav1.NewTime(s.now)
	op.CompletedAt = &now
	if op.Refusal == "" {
		op.Refusal = r.unsent.refusal(op.ID) // its earlier sends were refused: that is how it ended
	}
	// It stays known unsent: should this pass's status write fail, the
	// next pass reads the operation unretired and abandons it again,
	// rather than taking it for one that may have been sent.
	s.event(nil, corev1.EventTypeNormal, "OperationAbandoned", "SwitchPath",
		"Operation %s (%s) was abandoned unsent: it records %s, and the spec now asks for %s.", op.ID, op.Type, describeTerms(op.Terms), describeTerms(s.terms))
	retireOperation(st)
	return nil, nil
}

// finishOperationInFlight: a confirmed operation is followed to its end on
// its own path, whatever the decision table says now. When the path changed
// meanwhile (the source was cancelled during a transfer, a term was edited),
// starting the new path's operation could buy a second subscription while
// the first can still complete; so the new path waits.
func (r *CustomerSubscriptionReconciler) finishOperationInFlight(ctx context.Context, s *subscriptionScope) (*ctrl.Result, error) {
	op := s.sub.Status.Operation
	if !confirmed(op) || s.target == nil || operationPath[op.Type] == s.result.Path {
		return nil, nil
	}
	res, err := r.runPath(ctx, s, operationPath[op.Type])
	if o := s.conds.outcome; o.state == outcomeProgressing {
		o.message = fmt.Sprintf("Operation %s (%s) is in flight and is followed to its end before path %s (%s) is taken: %s",
			op.ID, op.Type, s.result.Path, s.result.Reason, o.message)
	}
	return res, err
}

// settleSource: Azure CSP coexists with other channels; when the source is
// to be cancelled, that happens outside Partner Center and a person records it.
func (r *CustomerSubscriptionReconciler) settleSource(s *subscriptionScope) (*ctrl.Result, error) {
	disposition := v1alpha1.SourceCoexist
	if a := s.sub.Spec.Azure; a != nil && a.SourceDisposition != "" {
		disposition = a.SourceDisposition
	}
	if disposition == v1alpha1.SourceCoexist || s.sub.Spec.State == v1alpha1.SubscriptionCancelled {
		r.complete(s, fmt.Sprintf("Partner %s created Azure subscription %s for customer %s.", s.target.Name, s.sub.Status.TargetSubscriptionID, s.customer.Name))
		return done, nil
	}
	what := "the source subscription " + s.sub.Spec.SubscriptionID
	if disposition == v1alpha1.SourceCancelServices {
		what = fmt.Sprintf("the services %v of source subscription %s", s.sub.Spec.Azure.Services, s.sub.Spec.SubscriptionID)
	}
	s.sub.Status.Phase = v1alpha1.PhaseSwitching
	s.conds.progressing(v1alpha1.ReasonAwaitingSourceCancellation, fmt.Sprintf(
		"Azure subscription %s exists with partner %s; cancel %s in its channel (outside Partner Center), then set spec.state to Cancelled.",
		s.sub.Status.TargetSubscriptionID, s.target.Name, what))
	return done, nil // the spec change requeues it
}

// awaitOrder: a pending order has no subscription ID yet; the subscription
// stays Switching, polling the order, until Partner Center provisions it.
func (r *CustomerSubscriptionReconciler) awaitOrder(ctx context.Context, s *subscriptionScope, op *v1alpha1.Operation) (*ctrl.Result, error) {
	if s.sub.Status.TargetSubscriptionID != "" {
		return nil, nil
	}
	pcClient, res, err := r.targetClient(ctx, s)
	if pcClient == nil {
		return res, err
	}
	if wait := r.polls.wait(s.sub.UID); wait > 0 {
		return &ctrl.Result{RequeueAfter: wait}, nil // asked within the interval
	}
	// The members of a cart share its orders; one read per interval serves them all.
	order, err := r.shared.readOrder(op.ExternalID, r.opts.PollInterval, func() (*pc.Order, error) {
		return pcClient.GetOrder(ctx, s.customer.Spec.TenantID, op.ExternalID)
	})
	if err != nil {
		return r.partnerCenterFailed(s, "following order "+op.ExternalID, err)
	}
	var only string
	if len(order.LineItems) == 1 {
		only = order.LineItems[0].FriendlyName
	}
	li := order.LineItemNamed(ownName(s.sub, op, only))
	if li == nil {
		return nil, fmt.Errorf("CustomerSubscription %s/%s: order %s has no line item %q", s.sub.Namespace, s.sub.Name, order.ID, purchaseName(s.sub))
	}
	if li.SubscriptionID != "" {
		s.sub.Status.TargetSubscriptionID = li.SubscriptionID
		op.CompletedAt = timePtr(order.CreationDate, s.now)
		return nil, nil
	}
	if orderRefused(order.Status) {
		// Refused without a subscription for this line item: waiting cannot help.
		op.CompletedAt = timePtr(nil, s.now)
		r.fail(s, v1alpha1.ReasonPartnerCenterRejected, fmt.Sprintf("Order %s is %q without a subscription for %s; nothing was provisioned for it.", order.ID, order.Status, li.FriendlyName))
		return done, nil
	}
	s.sub.Status.Phase = v1alpha1.PhaseSwitching
	msg := fmt.Sprintf("Order %s is %s: Partner Center has not provisioned the subscription yet.", order.ID, order.Status)
	if st := strings.ToLower(order.Status); st != "pending" && st != "" {
		msg = fmt.Sprintf("Order %s is %s but names no subscription for %s yet; the operator reads it again. Before a retry, check in Partner Center whether it was provisioned: a retry buys again.", order.ID, order.Status, li.FriendlyName)
	}
	s.conds.progressing(v1alpha1.ReasonAwaitingOrder, msg)
	return &ctrl.Result{RequeueAfter: r.opts.poll()}, nil
}

// orderRefused reports whether an order in status will never provision a
// line item that has no subscription yet: it was cancelled, failed, or
// rejected (in purchase-order review). Partner Center documents pending,
// completed and cancelled (and unknown, the enum's initializer). A
// completed order may not name its subscriptions yet (its documented
// example names none; checkout's page says subscription IDs "may not
// always be visible"), and neither may a partial success: those are read
// again, never taken as refused, since failing a purchase Partner Center
// did provision would let a retry buy it twice.
// Source: https://learn.microsoft.com/partner-center/developer/order-resources#orderstatus
func orderRefused(status string) bool {
	st := strings.ToLower(strings.TrimSpace(status))
	return st == "cancelled" || st == "canceled" || st == "failed" || strings.Contains(st, "rejected")
}

// followTransfer polls the transfer until the source partner answers or it expires.
func (r *CustomerSubscriptionReconciler) followTransfer(ctx context.Context, s *subscriptionScope, op *v1alpha1.Operation) (*ctrl.Result, error) {
	pcClient, res, err := r.targetClient(ctx, s)
	if pcClient == nil {
		return res, err
	}
	// Every subscription in the transfer reads it; one read per interval serves them all.
	t, err := r.shared.readTransfer(transferGroupOf(s), op.ExternalID, s.now, r.opts.PollInterval, func() (*pc.Transfer, error) {
		return pcClient.GetTransfer(ctx, s.customer.Spec.TenantID, op.ExternalID)
	})
	if err != nil {
		return r.partnerCenterFailed(s, "following transfer "+op.ExternalID, err)
	}
	source := s.channelPartner.Name
	switch t.Status {
	case pc.TransferCompleted:
		op.CompletedAt = timePtr(t.CompletedTime, s.now)
		// The source partner chooses the line items when it accepts. When
		// Partner Center lists them, this subscription must be among them and
		// have moved; a transfer that lists none is taken as accepted whole.
		if li := lineItemOf(t, s.sub.Spec.SubscriptionID); len(t.LineItems) > 0 && (li == nil || lineItemFailed(li)) {
			r.fail(s, v1alpha1.ReasonTransferFailed, fmt.Sprintf("Transfer %s from partner %s completed without subscription %s.%s",
				t.ID, source, s.sub.Spec.SubscriptionID, lineItemErrors(t)))
			return done, nil
		}
		s.sub.Status.TargetSubscriptionID = s.sub.Spec.SubscriptionID
		r.complete(s, fmt.Sprintf("Partner %s accepted transfer %s: subscription %s is now with %s.", source, t.ID, s.sub.Spec.SubscriptionID, withPartner(s.target)))
		return done, nil
	case pc.TransferExpired:
		op.CompletedAt = timePtr(t.LastModifiedTime, s.now)
		r.fail(s, v1alpha1.ReasonTransferExpired, fmt.Sprintf("Partner %s did not accept transfer %s within 30 days; it expired.", source, t.ID))
		return done, nil
	case pc.TransferActive, pc.TransferInProgress:
		if t.ExpirationTime != nil && !s.now.Before(*t.ExpirationTime) {
			// Partner Center documents only Active and Completed: past its
			// expirationTime a transfer cannot complete, whatever it says.
			op.CompletedAt = timePtr(t.ExpirationTime, s.now)
			r.fail(s, v1alpha1.ReasonTransferExpired, fmt.Sprintf("Partner %s did not accept transfer %s before it expired %s.", source, t.ID, formatTime(t.ExpirationTime)))
			return done, nil
		}
	default:
		// Rejected, cancelled, failed, or a status Partner Center does not
		// document: none of them completes, so waiting longer cannot help.
		op.CompletedAt = timePtr(t.LastModifiedTime, s.now)
		r.fail(s, v1alpha1.ReasonTransferFailed, fmt.Sprintf("Transfer %s from partner %s ended %s without moving the subscription.%s", t.ID, source, t.Status, lineItemErrors(t)))
		return done, nil
	}
	s.sub.Status.Phase = v1alpha1.PhaseSwitching
	s.conds.progressing(v1alpha1.ReasonAwaitingTransfer, fmt.Sprintf("Waiting for partner %s to accept transfer %s (it expires %s).", source, t.ID, formatTime(t.ExpirationTime)))
	return &ctrl.Result{RequeueAfter: r.opts.poll()}, nil
}

// joinableTransfer is the transfer a new transfer operation joins: the
// group's transfer under way, read afresh (the source partner may have
// answered since it was last read), or "" to ask for a new one. While a
// member of the group is asking for one, the others wait for it.
func (r *CustomerSubscriptionReconciler) joinableTransfer(ctx context.Context, s *subscriptionScope) (string, *ctrl.Result, error) {
	group := transferGroupOf(s)
	defer r.shared.lockGroup(group)()
	if _, ok := r.shared.pendingFor(group, s.sub.UID); ok {
		s.conds.progressing(v1alpha1.ReasonSwitching, fmt.Sprintf("Another subscription of customer %s is asking partner %s for a transfer; this one joins it.", s.customer.Name, s.channelPartner.Name))
		return "", &ctrl.Result{RequeueAfter: time.Second}, nil
	}
	id, ok := r.shared.activeTransfer(group)
	if !ok {
		return "", nil, nil
	}
	pcClient, res, err := r.targetClient(ctx, s)
	if pcClient == nil {
		return "", res, err
	}
	t, err := r.shared.readTransfer(group, id, s.now, 0, func() (*pc.Transfer, error) {
		return pcClient.GetTransfer(ctx, s.customer.Spec.TenantID, id)
	})
	if err != nil {
		res, err := r.partnerCenterFailed(s, "reading transfer "+id+" to join it", err)
		return "", res, err
	}
	if !joinable(t, s.now) {
		return "", nil, nil
	}
	return id, nil, nil
}

// transferGroupOf: the subscriptions one transfer may carry: the same
// customer, the two partners and the same kind of product (the transfer
// names it in targetProductTypes, and an Azure transfer needs the target's
// Azure plan, a license transfer does not). A transfer names one partner
// of record, so an indirect reseller's subscriptions go in transfers of
// their own, apart from its provider's and other resellers'.
func transferGroupOf(s *subscriptionScope) transferGroup {
	g := transferGroup{customer: s.customer.Spec.TenantID, target: s.target.Spec.TenantID, productType: transferProductType(s.sub)}
	if s.channelPartner != nil {
		g.source = s.channelPartner.Spec.TenantID
	}
	return g
}

// Partner Center's targetProductTypes of a new-commerce transfer
// (learn.microsoft.com/partner-center/developer/create-a-transfer).
const (
	productTypeAzureSubscription = "AzureSubscription"
	productTypeOnlineServicesNCE = "OnlineServicesNCE"
)

// transferProductType is the kind of product a subscription's transfer moves.
func transferProductType(sub *v1alpha1.CustomerSubscription) string {
	if sub.Spec.ServiceType == v1alpha1.ServiceUsageBased {
		return productTypeAzureSubscription
	}
	return productTypeOnlineServicesNCE
}

// lineItemOf is the transfer's line item that moves subscriptionID, if any.
func lineItemOf(t *pc.Transfer, subscriptionID string) *pc.TransferLineItem {
	for i := range t.LineItems {
		if strings.EqualFold(t.LineItems[i].SubscriptionID, subscriptionID) {
			return &t.LineItems[i]
		}
	}
	return nil
}

// lineItemFailed: Partner Center reported an error for the line item, or its status failed.
func lineItemFailed(li *pc.TransferLineItem) bool {
	return li.TransferError != "" || strings.EqualFold(li.Status, pc.TransferFailed)
}

// lineItemErrors lists a transfer's per-line-item errors for a message, or
// is empty when there are none.
func lineItemErrors(t *pc.Transfer) string {
	var errs []string
	for _, li := range t.LineItems {
		if lineItemFailed(&li) {
			e := li.TransferError
			if e == "" {
				e = "status " + li.Status
			}
			errs = append(errs, fmt.Sprintf("line item %d (subscription %s): %s", li.ID, li.SubscriptionID, e))
		}
	}
	if len(errs) == 0 {
		return ""
	}
	return " Partner Center reported " + strings.Join(errs, "; ") + "."
}

// runOperation makes the Partner Center call that creates something exactly
// once. The first pass only records status.operation, with an ID derived from
// the subscription and the operation type, and ends: the record is written
// before anything is sent. The next pass sends the call with that ID as
// MS-RequestId; a pass after a crash, a lost response or an error sends it
// again with the same ID, and Partner Center returns the first result.
// It returns the operation once the call succeeded.
func (r *CustomerSubscriptionReconciler) runOperation(ctx context.Context, s *subscriptionScope, typ v1alpha1.OperationType) (*v1alpha1.Operation, *ctrl.Result, error) {
	op := s.sub.Status.Operation
	if op != nil && op.Type != typ {
		// An ended operation of another path (one not ended was followed by
		// finishOperationInFlight or abandoned): this path records its own.
		retireOperation(&s.sub.Status)
		op = nil
	}
	if op == nil {
		joined := ""
		if typ == v1alpha1.OperationCreateTransfer {
			// One transfer per customer and pair of partners: join the one
			// under way, or wait for the one a member is asking for.
			id, res, err := r.joinableTransfer(ctx, s)
			if res != nil || err != nil {
				return nil, res, err
			}
			joined = id
		}
		var catalogItem string
		if typ == v1alpha1.OperationCreateLicenseSubscription {
			item, res, err := r.resolveAvailability(ctx, s)
			if res != nil || err != nil {
				return nil, res, err
			}
			catalogItem = item
		}
		now := metav1.NewTime(s.now)
		attempt := nextAttempt(s.sub.Status)
		// Recorded with the terms it sends and the decision it relies on:
		// both gates are open for exactly these terms.
		op = &v1alpha1.Operation{ID: operationID(s.sub, typ, attempt), Type: typ, Attempt: attempt, StartedAt: &now, ExternalID: joined,
			Terms: s.terms.DeepCopy(), AuthorizedBy: decisionRecord(s.sub.Status.Authorization), CatalogItemID: catalogItem}
		if typ == v1alpha1.OperationCreateLicenseSubscription {
			// One cart per customer and partner for the purchases ready
			// together; recorded with a lock, so no two managers can record
			// it in two carts.
			op.Cart, s.lock = r.carts.join(cartGroupOf(s), s.sub.UID), true
		}
		s.sub.Status.Operation = op
		s.sub.Status.CancellableUntil = nil // the window is the purchase's this operation replaces
		s.sub.Status.Phase = v1alpha1.PhaseSwitching
		if joined == "" {
			r.unsent.recorded(op.ID)
		}
		if joined != "" {
			s.event(nil, corev1.EventTypeNormal, "JoinedTransfer", "CallPartnerCenter",
				"Transfer %s from partner %s for customer %s is under way: operation %s joins it instead of asking for another.", joined, s.channelPartner.Name, s.customer.Name, op.ID)
			return op, nil, nil
		}
		if typ == v1alpha1.OperationCreateTransfer {
			r.shared.transferRecorded(transferGroupOf(s), s.sub.UID)
		}
		if op.Cart != "" {
			s.conds.progressing(v1alpha1.ReasonSwitching, r.inCart(s, op))
		} else {
			s.conds.progressing(v1alpha1.ReasonSwitching, fmt.Sprintf("Recorded operation %s (%s) for partner %s; Partner Center is called next.", op.ID, typ, s.target.Name))
		}
		// Writing this status triggers the next pass.
		return nil, done, nil
	}
	if op.ExternalID == "" && op.CompletedAt == nil {
		if op.Refusal != "" {
			// Sent again, it may create what was refused before: until its
			// answer is recorded the operation may have created something,
			// so the refusal goes first, in its own write, at most once per
			// poll interval.
			if wait := r.polls.wait(s.sub.UID); wait > 0 {
				return nil, &ctrl.Result{RequeueAfter: wait}, nil
			}
			// Refused every time so far, it has created nothing, and this
			// process knows it until it sends it again: a spec change before
			// then abandons it rather than holding it in doubt.
			r.unsent.refusedUnsent(op.ID, op.Refusal)
			op.Refusal = ""
			return nil, done, nil
		}
		if res, err := r.sendOperation(ctx, s, op); res != nil || err != nil {
			return nil, res, err
		}
	}
	if s.sub.Status.Phase == v1alpha1.PhaseFailed {
		return nil, done, nil
	}
	return op, nil, nil
}

// sendOperation sends op's call and records what Partner Center created. It
// returns a result when the pass must end here.
func (r *CustomerSubscriptionReconciler) sendOperation(ctx context.Context, s *subscriptionScope, op *v1alpha1.Operation) (*ctrl.Result, error) {
	if !covers(s.sub.Status.Authorization, op.Terms) || !sameTerms(op.Terms, s.terms) {
		// The gates ran in this pass for s.terms; this guards the invariant.
		return nil, fmt.Errorf("CustomerSubscription %s/%s: operation %s is not sent: no Authorized decision names its terms (%s), or the spec asks for others",
			s.sub.Namespace, s.sub.Name, op.ID, describeTerms(op.Terms))
	}
	s.sub.Status.Phase = v1alpha1.PhaseSwitching
	pcClient, res, err := r.targetClient(ctx, s)
	if pcClient == nil {
		return res, err
	}
	customer := s.customer.Spec.TenantID
	switch op.Type {
	case v1alpha1.OperationCreateLicenseSubscription:
		if res, err := r.buy(ctx, s, pcClient, op); res != nil || err != nil {
			return res, err
		}
	case v1alpha1.OperationCreateAzureSubscription:
		if res, err := r.createAzureSubscription(ctx, s, op); res != nil || err != nil {
			return res, err
		}
	case v1alpha1.OperationCreateTransfer:
		if s.channelPartner == nil {
			// The spec no longer names the source partner of an unconfirmed transfer.
			r.fail(s, v1alpha1.ReasonPartnerCenterRejected, fmt.Sprintf(
				"Operation %s (CreateTransfer) was recorded but not confirmed, and spec.channel no longer names its source partner; check Partner Center for a transfer with request ID %s, then recreate the subscription.", op.ID, op.ID))
			return done, nil
		}
		group := transferGroupOf(s)
		r.unsent.sending(op.ID)
		t, err := pcClient.CreateTransfer(ctx, customer, op.ID, pc.Transfer{
			SourcePartnerTenantID: s.channelPartner.Spec.TenantID, SourcePartnerName: s.channelPartner.Spec.DisplayName,
			CustomerName: s.customer.Spec.DisplayName, TransferType: pc.PartnerTransferType, PartnerOnRecord: partnerIDOnRecord(s.target),
			TargetProductTypes: []string{transferProductType(s.sub)},
			LineItems:          []pc.TransferLineItem{{ID: 0, SubscriptionID: s.sub.Spec.SubscriptionID, Quantity: int(quantity(s.sub)), FriendlyName: offerName(s.sub)}},
		})
		if err != nil {
			if _, throttled := pc.ThrottledFor(err); !throttled {
				r.shared.transferFailed(group) // the others ask for their own
			}
			return r.operationFailed(s, op, err)
		}
		op.ExternalID = t.ID
		r.shared.transferStarted(group, t.ID)
	}
	op.Refusal = ""
	s.event(nil, corev1.EventTypeNormal, string(op.Type), "CallPartnerCenter", "Partner Center confirmed operation %s (%s): %s", op.ID, op.Type, op.ExternalID)
	return nil, nil
}

// operationFailed: a refusal ends the subscription as Failed; a 403 waits
// for a person; anything else is retried with backoff. Every retry sends the
// same request ID.
func (r *CustomerSubscriptionReconciler) operationFailed(s *subscriptionScope, op *v1alpha1.Operation, err error) (*ctrl.Result, error) {
	if pc.IsAgreementRequired(err) {
		// Nothing was bought; nothing is until the customer accepts the
		// Microsoft Customer Agreement, which a person must bring about.
		op.Refusal = refusal(err)
		r.unsent.refusedUnsent(op.ID, op.Refusal)
		s.conds.stalled(v1alpha1.ReasonAgreementRequired, fmt.Sprintf(
			"Partner Center refused operation %s (%s): customer %s has not accepted the Microsoft Customer Agreement (%s). Its Global admin accepts it (Microsoft 365 admin center), or the partner records the customer's acceptance in Partner Center (the customer's Account page); the operation is sent again, with the same request ID, every %s until then.",
			op.ID, op.Type, s.customer.Name, description(err), r.opts.PollInterval))
		return &ctrl.Result{RequeueAfter: r.opts.poll()}, nil
	}
	var pcErr *pc.Error
	if forbidden := errors.As(err, &pcErr) && pcErr.StatusCode == http.StatusForbidden; forbidden || errors.Is(err, pc.ErrCustomerNotVisible) {
		op.Refusal = refusal(err)
		// Refused, it created nothing: this process knows so even before the
		// refusal reaches its cache, should the spec change meanwhile.
		r.unsent.refusedUnsent(op.ID, op.Refusal)
		// Partner Center showed the relationship, yet refuses: the customer
		// removed it since, or the application lacks the role. Retrying
		// alone will not change that: Stalled until a person fixes either;
		// nothing was created, and the same request ID is sent again then.
		s.conds.stalled(v1alpha1.ReasonRelationshipNotInPartnerCenter, fmt.Sprintf(
			"Partner Center refused operation %s (%s) with HTTP %d: %s. It showed customer %s with partner %s as reseller (%s), so either the customer removed the relationship since, or partner %s's application lacks the Admin agent role in Partner Center; fix that. The operation is sent again, with the same request ID, every %s.",
			op.ID, op.Type, statusCode(err), description(err), s.customer.Name, s.target.Name, approvalSource(s.relationship), s.target.Name, r.opts.PollInterval))
		return &ctrl.Result{RequeueAfter: r.opts.poll()}, nil
	}
	if pc.IsRefused(err) {
		now := metav1.NewTime(s.now)
		op.CompletedAt, op.Refusal = &now, refusal(err)
		r.fail(s, v1alpha1.ReasonPartnerCenterRejected, fmt.Sprintf("Partner Center refused operation %s (%s): %v.", op.ID, op.Type, err))
		return done, nil
	}
	return r.partnerCenterFailed(s, fmt.Sprintf("running operation %s (%s)", op.ID, op.Type), err)
}

func (r *CustomerSubscriptionReconciler) partnerCenterFailed(s *subscriptionScope, doing string, err error) (*ctrl.Result, error) {
	if res := r.polls.throttled(s.sub.UID, err); res != nil {
		return res, nil
	}
	return retryPartnerCenter(s.conds, "CustomerSubscription "+s.sub.Namespace+"/"+s.sub.Name, doing, err)
}

// targetClient returns the support partner's Partner Center client, or nil
// with the conditions saying why there is none, or while the subscription is
// held after being throttled.
func (r *CustomerSubscriptionReconciler) targetClient(ctx context.Context, s *subscriptionScope) (*pc.Client, *ctrl.Result, error) {
	if d := r.polls.heldFor(s.sub.UID); d > 0 {
		return nil, &ctrl.Result{RequeueAfter: d}, nil // throttled: ask nothing yet
	}
	c, caller, err := r.clients.callerClient(ctx, r.Client, s.target)
	ok, err := usable(err, s.conds, caller, "Partner Center", func() {
		s.conds.stalled(v1alpha1.ReasonPartnerNotReady, fmt.Sprintf("%s has no Partner Center credentials (spec.partnerCenter.credentialsSecretRef or workloadIdentity), so the %s step cannot run.", capitalize(actingFor(caller, s.target)), s.result.Path))
	})
	if !ok {
		return nil, done, err
	}
	return c, nil, nil
}

func approvalSource(rr *v1alpha1.ResellerRelationship) string {
	if rr != nil && rr.Status.Approval != nil {
		return "by " + string(rr.Status.Approval.Source)
	}
	return "in the cluster"
}

// operationNamespace derives operation IDs.
var operationNamespace = uuid.MustParse("8f14e45f-ceea-4e7a-9f5b-2c1d0a6b3e94")

// operationID is deterministic: the same subscription and operation type give
// the same ID, so two managers, or a manager and its successor, can never
// create two objects for one operation.
func operationID(sub *v1alpha1.CustomerSubscription, typ v1alpha1.OperationType, attempt int32) string {
	key := string(sub.UID) + "/" + string(typ)
	if attempt > 1 {
		key += "/" + strconv.Itoa(int(attempt)) // the first attempt keeps the ID earlier versions derived
	}
	return uuid.NewSHA1(operationNamespace, []byte(key)).String()
}

// billingCycles maps the API's billing cycles to Partner Center's.
var billingCycles = map[v1alpha1.BillingCycle]string{
	v1alpha1.BillingMonthly:   pc.BillingCycleMonthly,
	v1alpha1.BillingAnnual:    pc.BillingCycleAnnual,
	v1alpha1.BillingTriennial: pc.BillingCycleTriennial,
}

// purchaseTerms is the term and billing cycle the NewLicenseSubscription
// path buys, in Partner Center's words: spec.purchase, P1Y and Monthly where
// it says nothing.
func purchaseTerms(sub *v1alpha1.CustomerSubscription) (termDuration, billingCycle string) {
	termDuration, billingCycle = pc.TermDurationOneYear, pc.BillingCycleMonthly
	if p := sub.Spec.Purchase; p != nil {
		if p.TermDuration != "" {
			termDuration = string(p.TermDuration)
		}
		if c, ok := billingCycles[p.BillingCycle]; ok {
			billingCycle = c
		}
	}
	return termDuration, billingCycle
}

func quantity(sub *v1alpha1.CustomerSubscription) int32 {
	if sub.Spec.Quantity != nil {
		return *sub.Spec.Quantity
	}
	return 1
}

func offerName(sub *v1alpha1.CustomerSubscription) string {
	if sub.Spec.Offer.DisplayName != "" {
		return sub.Spec.Offer.DisplayName
	}
	return sub.Spec.Offer.ID
}

// refusal is how status.operation.refusal records a refused send.
func refusal(err error) string {
	return truncate(fmt.Sprintf("HTTP %d: %s", statusCode(err), description(err)), 1024)
}

// statusCode and description read a Partner Center error for a message.
func statusCode(err error) int {
	var pcErr *pc.Error
	if errors.As(err, &pcErr) {
		return pcErr.StatusCode
	}
	return 0
}

func description(err error) string {
	var pcErr *pc.Error
	if errors.As(err, &pcErr) && pcErr.Description != "" {
		return pcErr.Description
	}
	return err.Error()
}
