package subscription

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	"github.com/partnerops/multichannel-operator/controllers/internal/core"
	"github.com/partnerops/multichannel-operator/internal/pass"
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
		return pass.Done, nil

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
		return pass.Done, nil

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
	if op == nil || core.SameTerms(op.Terms, s.terms) {
		return nil, nil
	}
	switch r.operationState(op, op.Type) {
	case opNone, opConfirmed, opEnded:
		return nil, nil // confirmed: followed to its end (finishOperationInFlight)
	case opSent:
		s.verdict = pass.Stalled(v1alpha1.ReasonOperationInDoubt, fmt.Sprintf(
			"Operation %s (%s) records %s and may have reached Partner Center (request ID %s) before the spec changed to ask for %s; it is neither sent again nor abandoned. Restore the spec to finish it, or check Partner Center for request ID %s and delete the subscription (what Partner Center holds stays).",
			op.ID, op.Type, describeTerms(op.Terms), op.ID, describeTerms(s.terms), op.ID))
		return pass.Done, nil
	case opRecorded, opRefused:
		// Known to have created nothing: abandoned below.
	}
	now := metav1.NewTime(s.now)
	op.CompletedAt = &now
	if op.Refusal == "" {
		op.Refusal = r.unsent.refusal(op.ID) // its earlier sends were refused: that is how it ended
	}
	// It stays known unsent: should this pass's status write fail, the
	// next pass reads the operation unretired and abandons it again,
	// rather than taking it for one that may have been sent.
	s.Event(nil, corev1.EventTypeNormal, "OperationAbandoned", "SwitchPath",
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
	s.verdict = s.verdict.Reworded(func(message string) string {
		return fmt.Sprintf("Operation %s (%s) is in flight and is followed to its end before path %s (%s) is taken: %s",
			op.ID, op.Type, s.result.Path, s.result.Reason, message)
	})
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
		return pass.Done, nil
	}
	what := "the source subscription " + s.sub.Spec.SubscriptionID
	if disposition == v1alpha1.SourceCancelServices {
		what = fmt.Sprintf("the services %v of source subscription %s", s.sub.Spec.Azure.Services, s.sub.Spec.SubscriptionID)
	}
	s.step = stepSwitch
	s.verdict = pass.Progressing(v1alpha1.ReasonAwaitingSourceCancellation, fmt.Sprintf(
		"Azure subscription %s exists with partner %s; cancel %s in its channel (outside Partner Center), then set spec.state to Cancelled.",
		s.sub.Status.TargetSubscriptionID, s.target.Name, what))
	return pass.Done, nil // the spec change requeues it
}
