package subscription

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	ctrl "sigs.k8s.io/controller-runtime"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	"github.com/partnerops/multichannel-operator/controllers/internal/core"
	pc "github.com/partnerops/multichannel-operator/internal/partnercenter"
	"github.com/partnerops/multichannel-operator/internal/pass"
	"github.com/partnerops/multichannel-operator/internal/sharedcalls"
)

// The PartnerSwitch path: one transfer per customer, pair of partners and
// kind of product, asked of the source partner, joined by the subscriptions
// ready while it is active, and followed until it completes, is refused or
// expires.

// followTransfer polls the transfer until the source partner answers or it expires.
func (r *CustomerSubscriptionReconciler) followTransfer(ctx context.Context, s *subscriptionScope, op *v1alpha1.Operation) (*ctrl.Result, error) {
	pcClient, res, err := r.targetClient(ctx, s)
	if pcClient == nil {
		return res, err
	}
	// Every subscription in the transfer reads it; one read per interval serves them all.
	t, err := r.shared.ReadTransfer(transferGroupOf(s), op.ExternalID, s.now, r.opts.FollowInterval(r.wake, s.target), func() (*pc.Transfer, error) {
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
			return pass.Done, nil
		}
		s.sub.Status.TargetSubscriptionID = s.sub.Spec.SubscriptionID
		r.complete(s, fmt.Sprintf("Partner %s accepted transfer %s: subscription %s is now with %s.", source, t.ID, s.sub.Spec.SubscriptionID, withPartner(s.target)))
		return pass.Done, nil
	case pc.TransferExpired:
		op.CompletedAt = timePtr(t.LastModifiedTime, s.now)
		r.fail(s, v1alpha1.ReasonTransferExpired, fmt.Sprintf("Partner %s did not accept transfer %s within 30 days; it expired.", source, t.ID))
		return pass.Done, nil
	case pc.TransferActive, pc.TransferInProgress:
		if t.ExpirationTime != nil && !s.now.Before(*t.ExpirationTime) {
			// Partner Center documents only Active and Completed: past its
			// expirationTime a transfer cannot complete, whatever it says.
			op.CompletedAt = timePtr(t.ExpirationTime, s.now)
			r.fail(s, v1alpha1.ReasonTransferExpired, fmt.Sprintf("Partner %s did not accept transfer %s before it expired %s.", source, t.ID, core.FormatTime(t.ExpirationTime)))
			return pass.Done, nil
		}
	default:
		// Rejected, cancelled, failed, or a status Partner Center does not
		// document: none of them completes, so waiting longer cannot help.
		op.CompletedAt = timePtr(t.LastModifiedTime, s.now)
		r.fail(s, v1alpha1.ReasonTransferFailed, fmt.Sprintf("Transfer %s from partner %s ended %s without moving the subscription.%s", t.ID, source, t.Status, lineItemErrors(t)))
		return pass.Done, nil
	}
	s.verdict = pass.Progressing(v1alpha1.ReasonAwaitingTransfer, fmt.Sprintf("Waiting for partner %s to accept transfer %s (it expires %s).", source, t.ID, core.FormatTime(t.ExpirationTime)))
	wait := r.opts.Follow(r.wake, s.target)
	if t.ExpirationTime != nil {
		if d := t.ExpirationTime.Sub(s.now); d > 0 && d < wait {
			wait = d // evaluated again when it expires
		}
	}
	return &ctrl.Result{RequeueAfter: wait}, nil
}

// followAdoptedTransfer: a transfer under way that was created outside the
// operator, named by spec.transferID, is followed instead of created. The
// operator sends nothing for it, so it needs no authorization: the first
// pass checks that Partner Center holds that transfer for this customer and
// these partners, and records it as the operation, adopted; every pass
// after follows it as one the operator sent.
func (r *CustomerSubscriptionReconciler) followAdoptedTransfer(ctx context.Context, s *subscriptionScope) (*ctrl.Result, error) {
	id := s.sub.Spec.TransferID
	switch {
	case id == "" || s.result.Path == v1alpha1.PathResellerRelationship:
		return nil, nil
	case s.result.Path != v1alpha1.PathPartnerSwitch:
		// Buying while a transfer may still move the subscription could
		// leave the customer with two: a person decides.
		s.verdict = pass.Stalled(v1alpha1.ReasonTransferNotAdoptable, fmt.Sprintf(
			"spec.transferID %s names a transfer under way, but the subscription's path is now %s (%s), which buys a new one; remove spec.transferID once that transfer is cancelled or expired, or restore the spec the transfer was for.",
			id, s.result.Path, s.result.Reason))
		return pass.Done, nil
	}
	op := s.sub.Status.Operation
	switch {
	case op != nil && op.Type == v1alpha1.OperationCreateTransfer && op.ExternalID == id:
		s.ungated = true // made in Partner Center, not through the gates
		return r.followTransfer(ctx, s, op)
	case op != nil && op.CompletedAt == nil:
		return nil, nil // another operation is in flight: the path follows it first
	}
	return r.adoptTransfer(ctx, s, id)
}

// adoptTransfer reads the transfer spec.transferID names and, when it is
// the support partner's transfer from the channel's partner for this
// customer, records it as the subscription's operation and follows it.
func (r *CustomerSubscriptionReconciler) adoptTransfer(ctx context.Context, s *subscriptionScope, id string) (*ctrl.Result, error) {
	pcClient, res, err := r.targetClient(ctx, s)
	if pcClient == nil {
		return res, err
	}
	if wait := r.polls.Wait(s.sub.UID); wait > 0 {
		return &ctrl.Result{RequeueAfter: wait}, nil // read within the interval
	}
	// A plain read, not the group's: a transfer that does not check out
	// must not become one the group's other subscriptions join.
	t, err := pcClient.GetTransfer(ctx, s.customer.Spec.TenantID, id)
	if err != nil && !pc.IsNotFound(err) {
		return r.partnerCenterFailed(s, "reading transfer "+id+" (spec.transferID)", err)
	}
	if err != nil {
		t = nil
	}
	if why := notAdoptable(s, t); why != "" {
		// Read again each interval: a transfer just made in Partner
		// Center's UI may not show yet.
		s.verdict = pass.Stalled(v1alpha1.ReasonTransferNotAdoptable, fmt.Sprintf("spec.transferID %s: %s; correct or remove spec.transferID.", id, why))
		return &ctrl.Result{RequeueAfter: r.opts.Poll()}, nil
	}
	if s.sub.Status.Operation != nil {
		retireOperation(&s.sub.Status) // an ended operation of an earlier attempt
	}
	attempt := core.NextAttempt(s.sub.Status)
	typ := v1alpha1.OperationCreateTransfer
	op := &v1alpha1.Operation{ID: operationID(s.sub, typ, attempt), Type: typ, Attempt: attempt, StartedAt: timePtr(t.CreatedTime, s.now),
		ExternalID: id, Terms: s.terms.DeepCopy(), Adopted: true}
	s.sub.Status.Operation = op
	s.Event(nil, corev1.EventTypeNormal, "AdoptedTransfer", "FollowTransfer",
		"Transfer %s from partner %s, created outside the operator, moves this subscription: operation %s follows it and sends nothing.", id, s.channelPartner.Name, op.ID)
	return r.followTransfer(ctx, s, op)
}

// notAdoptable says why t, read for spec.transferID, cannot be this
// subscription's transfer, or "".
func notAdoptable(s *subscriptionScope, t *pc.Transfer) string {
	switch {
	case t == nil:
		return fmt.Sprintf("partner %s has no such transfer for customer %s in Partner Center", s.target.Name, s.customer.Name)
	case !strings.EqualFold(t.SourcePartnerTenantID, s.channelPartner.Spec.TenantID):
		return fmt.Sprintf("the transfer is from partner tenant %s, not from %s (spec.channel.partnerRef, tenant %s)", t.SourcePartnerTenantID, s.channelPartner.Name, s.channelPartner.Spec.TenantID)
	case len(t.LineItems) > 0 && lineItemOf(t, s.sub.Spec.SubscriptionID) == nil:
		return fmt.Sprintf("the transfer does not carry subscription %s", s.sub.Spec.SubscriptionID)
	}
	return ""
}

// joinableTransfer is the transfer a new transfer operation joins: the
// group's transfer under way, read afresh (the source partner may have
// answered since it was last read), or "" to ask for a new one. While a
// member of the group is asking for one, the others wait for it: "" claims
// the asking for this member under the group's lock, so that two members
// ready together never both ask.
func (r *CustomerSubscriptionReconciler) joinableTransfer(ctx context.Context, s *subscriptionScope) (id string, res *ctrl.Result, err error) {
	group := transferGroupOf(s)
	defer r.shared.LockGroup(group)()
	defer func() {
		if id == "" && res == nil && err == nil {
			r.shared.TransferRecorded(group, s.sub.UID) // recorded next, in this pass
		}
	}()
	if _, ok := r.shared.PendingFor(group, s.sub.UID); ok {
		s.verdict = pass.Progressing(v1alpha1.ReasonSwitching, fmt.Sprintf("Another subscription of customer %s is asking partner %s for a transfer; this one joins it.", s.customer.Name, s.channelPartner.Name))
		return "", &ctrl.Result{RequeueAfter: time.Second}, nil
	}
	id, ok := r.shared.ActiveTransfer(group)
	if !ok {
		return "", nil, nil
	}
	pcClient, res, err := r.targetClient(ctx, s)
	if pcClient == nil {
		return "", res, err
	}
	t, err := r.shared.ReadTransfer(group, id, s.now, 0, func() (*pc.Transfer, error) {
		return pcClient.GetTransfer(ctx, s.customer.Spec.TenantID, id)
	})
	if err != nil {
		res, err := r.partnerCenterFailed(s, "reading transfer "+id+" to join it", err)
		return "", res, err
	}
	if !sharedcalls.Joinable(t, s.now) {
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
func transferGroupOf(s *subscriptionScope) sharedcalls.TransferGroup {
	g := sharedcalls.TransferGroup{Customer: s.customer.Spec.TenantID, Target: s.target.Spec.TenantID, ProductType: transferProductType(s.sub)}
	if s.channelPartner != nil {
		g.Source = s.channelPartner.Spec.TenantID
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

// sendTransfer asks the source partner for the transfer of op, with op's ID
// as MS-RequestId, and records the transfer Partner Center created.
func (r *CustomerSubscriptionReconciler) sendTransfer(ctx context.Context, s *subscriptionScope, pcClient *pc.Client, op *v1alpha1.Operation) (*ctrl.Result, error) {
	if s.channelPartner == nil {
		// The spec no longer names the source partner of an unconfirmed transfer.
		r.fail(s, v1alpha1.ReasonPartnerCenterRejected, fmt.Sprintf(
			"Operation %s (CreateTransfer) was recorded but not confirmed, and spec.channel no longer names its source partner; check Partner Center for a transfer with request ID %s, then recreate the subscription.", op.ID, op.ID))
		return pass.Done, nil
	}
	group := transferGroupOf(s)
	// The customer's contact address, as the partner read it when the
	// customer accepted; unknown, the client reads it first.
	var email string
	if cust, ok := r.shared.KnownCustomer(pcClient.TenantID(), s.customer.Spec.TenantID); ok {
		email = cust.CompanyProfile.Email
	}
	r.unsent.sending(op.ID)
	t, err := pcClient.CreateTransfer(ctx, s.customer.Spec.TenantID, op.ID, pc.Transfer{
		SourcePartnerTenantID: s.channelPartner.Spec.TenantID, SourcePartnerName: s.channelPartner.Spec.DisplayName,
		CustomerEmailID: email,
		CustomerName:    s.customer.Spec.DisplayName, TransferType: pc.PartnerTransferType, PartnerOnRecord: core.PartnerIDOnRecord(s.target),
		TargetProductTypes: []string{transferProductType(s.sub)},
		LineItems:          []pc.TransferLineItem{{ID: 0, SubscriptionID: s.sub.Spec.SubscriptionID, Quantity: int(quantity(s.sub)), FriendlyName: offerName(s.sub)}},
	})
	if err != nil {
		if _, throttled := pc.ThrottledFor(err); !throttled {
			r.shared.TransferFailed(group) // the others ask for their own
		}
		return r.operationFailed(s, op, err)
	}
	op.ExternalID = t.ID
	r.shared.TransferStarted(group, t, s.now, r.opts.FollowInterval(r.wake, s.target))
	return nil, nil
}

// withPartner says, for messages, with whom in Partner Center what is
// bought or transferred for partner is.
func withPartner(partner *v1alpha1.Partner) string {
	if partner.Spec.CSPType != v1alpha1.CSPTypeIndirectReseller {
		return partner.Name
	}
	return fmt.Sprintf("indirect provider %s for indirect reseller %s (partner of record)", partner.Spec.IndirectProviderRef, partner.Name)
}
