package subscription

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/google/uuid"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	"github.com/partnerops/multichannel-operator/controllers/internal/core"
	pc "github.com/partnerops/multichannel-operator/internal/partnercenter"
	"github.com/partnerops/multichannel-operator/internal/pass"
)

// The operation of a subscription's switch step: its states, and the
// record-then-send sequence every path shares. runPath (the index, in
// customersubscription_switch.go) calls runOperation; each path's own send
// and follow live in its file: purchase, transfer, Azure subscription.

// opState is where a subscription's operation stands, derived from
// status.operation and, for recorded against sent, from what this process
// knows. The operation moves none -> recorded -> sent -> confirmed -> ended;
// a refused send goes back to recorded (it created nothing) once the
// refusal is cleared, or ends (docs/architecture.md).
type opState int

const (
	// opNone: this path has no operation yet (or only another path's, ended).
	opNone opState = iota
	// opRecorded: recorded, and this process knows it created nothing: it
	// never sent it, or every send was refused.
	opRecorded
	// opSent: recorded and maybe sent: it is sent again with the same ID,
	// and Partner Center answers with what the first send created.
	opSent
	// opRefused: Partner Center refused its latest send; it created nothing.
	opRefused
	// opConfirmed: Partner Center created it (an order, a transfer, an
	// alias); it is followed to its end.
	opConfirmed
	// opEnded: completed, failed or abandoned.
	opEnded
)

// operationState derives op's state for an operation of type typ.
func (r *CustomerSubscriptionReconciler) operationState(op *v1alpha1.Operation, typ v1alpha1.OperationType) opState {
	switch {
	case op == nil || op.Type != typ:
		return opNone
	case op.CompletedAt != nil:
		return opEnded
	case op.ExternalID != "":
		return opConfirmed
	case op.Refusal != "":
		return opRefused
	case r.unsent.neverSent(op.ID):
		return opRecorded
	}
	return opSent
}

// runOperation makes the call that creates something exactly once: the
// first pass only records status.operation, with an ID derived from the
// subscription, the operation type and the attempt, and ends, so the record
// is written before anything is sent. The next pass sends it with that ID
// as MS-RequestId; a pass after a crash, a lost response or an error sends
// it again with the same ID, and Partner Center returns the first result.
// It returns the operation once it is confirmed, for the path to follow.
func (r *CustomerSubscriptionReconciler) runOperation(ctx context.Context, s *subscriptionScope, typ v1alpha1.OperationType) (*v1alpha1.Operation, *ctrl.Result, error) {
	op := s.sub.Status.Operation
	switch r.operationState(op, typ) {
	case opNone:
		if op != nil {
			// An ended operation of another path (one not ended was followed
			// by finishOperationInFlight or abandoned): this path records its own.
			retireOperation(&s.sub.Status)
		}
		return r.recordOperation(ctx, s, typ)
	case opRefused:
		return nil, r.clearRefusal(s, op), nil
	case opRecorded, opSent:
		if res, err := r.sendOperation(ctx, s, op); res != nil || err != nil {
			return nil, res, err
		}
	case opConfirmed, opEnded:
	}
	if s.sub.Status.Phase == v1alpha1.PhaseFailed {
		return nil, pass.Done, nil
	}
	return op, nil, nil
}

// recordOperation records the path's operation, with the terms it sends and
// the decision it relies on (both gates are open for exactly these terms),
// and ends the pass; a transfer under way is joined instead (confirmed at
// once), and a purchase takes its place in the customer's cart.
func (r *CustomerSubscriptionReconciler) recordOperation(ctx context.Context, s *subscriptionScope, typ v1alpha1.OperationType) (*v1alpha1.Operation, *ctrl.Result, error) {
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
	attempt := core.NextAttempt(s.sub.Status)
	op := &v1alpha1.Operation{ID: operationID(s.sub, typ, attempt), Type: typ, Attempt: attempt, StartedAt: &now, ExternalID: joined,
		Terms: s.terms.DeepCopy(), AuthorizedBy: core.DecisionRecord(s.sub.Status.Authorization), CatalogItemID: catalogItem}
	if typ == v1alpha1.OperationCreateLicenseSubscription {
		// One cart per customer and partner for the purchases ready
		// together; recorded with a lock, so no two managers can record
		// it in two carts.
		op.Cart, s.lock = r.carts.Join(cartGroupOf(s), s.sub.UID), true
	}
	s.sub.Status.Operation = op
	s.sub.Status.CancellableUntil = nil // the window is the purchase's this operation replaces
	if joined != "" {
		s.Event(nil, corev1.EventTypeNormal, "JoinedTransfer", "CallPartnerCenter",
			"Transfer %s from partner %s for customer %s is under way: operation %s joins it instead of asking for another.", joined, s.channelPartner.Name, s.customer.Name, op.ID)
		return op, nil, nil
	}
	r.unsent.recorded(op.ID)
	if op.Cart != "" {
		s.verdict = pass.Progressing(v1alpha1.ReasonSwitching, r.inCart(s, op))
	} else {
		s.verdict = pass.Progressing(v1alpha1.ReasonSwitching, fmt.Sprintf("Recorded operation %s (%s) for partner %s; Partner Center is called next.", op.ID, typ, s.target.Name))
	}
	// Writing this status triggers the next pass.
	return nil, pass.Done, nil
}

// clearRefusal: sent again, a refused operation may create what was
// refused before, so until its answer is recorded it may have created
// something. The refusal's clearing goes first, in its own write, at most
// once per poll interval; this process knows it created nothing until it
// sends it again, so a spec change before then abandons it rather than
// holding it in doubt.
func (r *CustomerSubscriptionReconciler) clearRefusal(s *subscriptionScope, op *v1alpha1.Operation) *ctrl.Result {
	if wait := r.polls.Wait(s.sub.UID); wait > 0 {
		return &ctrl.Result{RequeueAfter: wait}
	}
	r.unsent.refusedUnsent(op.ID, op.Refusal)
	op.Refusal = ""
	return pass.Done
}

// sendOperation sends op's call and records what Partner Center created. It
// returns a result when the pass must end here.
func (r *CustomerSubscriptionReconciler) sendOperation(ctx context.Context, s *subscriptionScope, op *v1alpha1.Operation) (*ctrl.Result, error) {
	if !core.Covers(s.sub.Status.Authorization, op.Terms) || !core.SameTerms(op.Terms, s.terms) {
		// The gates ran in this pass for s.terms; this guards the invariant.
		return nil, fmt.Errorf("CustomerSubscription %s/%s: operation %s is not sent: no Authorized decision names its terms (%s), or the spec asks for others",
			s.sub.Namespace, s.sub.Name, op.ID, describeTerms(op.Terms))
	}
	pcClient, res, err := r.targetClient(ctx, s)
	if pcClient == nil {
		return res, err
	}
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
		if res, err := r.sendTransfer(ctx, s, pcClient, op); res != nil || err != nil {
			return res, err
		}
	}
	op.Refusal = ""
	s.Event(nil, corev1.EventTypeNormal, string(op.Type), "CallPartnerCenter", "Partner Center confirmed operation %s (%s): %s", op.ID, op.Type, op.ExternalID)
	return nil, nil
}

// operationFailed: a refusal ends the subscription as Failed; a 403 waits
// for a person; anything else is retried with backoff. Every retry sends the
// same request ID.
func (r *CustomerSubscriptionReconciler) operationFailed(s *subscriptionScope, op *v1alpha1.Operation, err error) (*ctrl.Result, error) {
	if pc.IsAgreementRequired(err) {
		// Nothing was bought; nothing is until the customer accepts the
		// Microsoft Customer Agreement, which a person must bring about.
		op.Refusal = core.Refusal(err)
		r.unsent.refusedUnsent(op.ID, op.Refusal)
		s.verdict = pass.Stalled(v1alpha1.ReasonAgreementRequired, fmt.Sprintf(
			"Partner Center refused operation %s (%s): customer %s has not accepted the Microsoft Customer Agreement (%s). Its Global admin accepts it (Microsoft 365 admin center), or the partner records the customer's acceptance in Partner Center (the customer's Account page); the operation is sent again, with the same request ID, every %s until then.",
			op.ID, op.Type, s.customer.Name, core.Description(err), r.opts.PollInterval))
		return &ctrl.Result{RequeueAfter: r.opts.Poll()}, nil
	}
	var pcErr *pc.Error
	if forbidden := errors.As(err, &pcErr) && pcErr.StatusCode == http.StatusForbidden; forbidden || errors.Is(err, pc.ErrCustomerNotVisible) {
		op.Refusal = core.Refusal(err)
		// Refused, it created nothing: this process knows so even before the
		// refusal reaches its cache, should the spec change meanwhile.
		r.unsent.refusedUnsent(op.ID, op.Refusal)
		// Partner Center showed the relationship, yet refuses: the customer
		// removed it since, or the application lacks the role. Retrying
		// alone will not change that: Stalled until a person fixes either;
		// nothing was created, and the same request ID is sent again then.
		s.verdict = pass.Stalled(v1alpha1.ReasonRelationshipNotInPartnerCenter, fmt.Sprintf(
			"Partner Center refused operation %s (%s) with HTTP %d: %s. It showed customer %s with partner %s as reseller (%s), so either the customer removed the relationship since, or partner %s's application lacks the Admin agent role in Partner Center; fix that. The operation is sent again, with the same request ID, every %s.",
			op.ID, op.Type, core.StatusCode(err), core.Description(err), s.customer.Name, s.target.Name, approvalSource(s.relationship), s.target.Name, r.opts.PollInterval))
		return &ctrl.Result{RequeueAfter: r.opts.Poll()}, nil
	}
	if pc.IsRefused(err) {
		now := metav1.NewTime(s.now)
		op.CompletedAt, op.Refusal = &now, core.Refusal(err)
		r.fail(s, v1alpha1.ReasonPartnerCenterRejected, fmt.Sprintf("Partner Center refused operation %s (%s): %v.", op.ID, op.Type, err))
		return pass.Done, nil
	}
	return r.partnerCenterFailed(s, fmt.Sprintf("running operation %s (%s)", op.ID, op.Type), err)
}

func (r *CustomerSubscriptionReconciler) partnerCenterFailed(s *subscriptionScope, doing string, err error) (*ctrl.Result, error) {
	if res := r.polls.Throttled(s.sub.UID, err); res != nil {
		return res, nil
	}
	return core.RetryPartnerCenter(&s.verdict, "CustomerSubscription "+s.sub.Namespace+"/"+s.sub.Name, doing, err)
}

// targetClient returns the support partner's Partner Center client, or nil
// with the conditions saying why there is none, or while the subscription is
// held after being throttled.
func (r *CustomerSubscriptionReconciler) targetClient(ctx context.Context, s *subscriptionScope) (*pc.Client, *ctrl.Result, error) {
	if d := r.polls.HeldFor(s.sub.UID); d > 0 {
		return nil, &ctrl.Result{RequeueAfter: d}, nil // throttled: ask nothing yet
	}
	c, caller, err := r.clients.CallerClient(ctx, r.Client, s.target)
	ok, err := core.Usable(err, &s.verdict, caller, "Partner Center", func() {
		s.verdict = pass.Stalled(v1alpha1.ReasonPartnerNotReady, fmt.Sprintf("%s has no Partner Center credentials (spec.partnerCenter.credentialsSecretRef or workloadIdentity), so the %s step cannot run.", core.Capitalize(core.ActingFor(caller, s.target)), s.result.Path))
	})
	if !ok {
		return nil, pass.Done, err
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
		key += "/" + strconv.Itoa(int(attempt)) // attempts after the first are told apart
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

// timePtr is t as an API time, or otherwise when Partner Center gave none.
func timePtr(t *time.Time, otherwise time.Time) *metav1.Time {
	if t != nil {
		mt := metav1.NewTime(*t)
		return &mt
	}
	mt := metav1.NewTime(otherwise)
	return &mt
}
