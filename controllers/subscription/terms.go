package subscription

import (
	"sync"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	"github.com/partnerops/multichannel-operator/controllers/internal/core"
	"github.com/partnerops/multichannel-operator/internal/decide"
	pc "github.com/partnerops/multichannel-operator/internal/partnercenter"
	"github.com/partnerops/multichannel-operator/internal/policy"
)

// What is sent is what was authorized (docs/security.md, the threat model).
// A subscription's terms are exactly what its operation would send to
// Partner Center: the customer tenant, the partner, what is bought or
// transferred, its quantity, term and billing. An authorization names the
// terms it covers; an operation records its terms before anything is sent,
// and is sent only while an Authorized decision names them and the spec
// still asks for them.

// termsOf is what the subscription's current spec asks the operator to send
// on path, or nil where the path sends nothing that needs authorization.
func termsOf(sub *v1alpha1.CustomerSubscription, customer *v1alpha1.Customer, target, source *v1alpha1.Partner, path v1alpha1.SwitchPath) *v1alpha1.Terms {
	if target == nil || customer == nil || !policy.NeedsAuthorization(path) {
		return nil
	}
	t := &v1alpha1.Terms{Path: path, Customer: customer.Name, CustomerTenantID: customer.Spec.TenantID,
		Partner: target.Name, PartnerTenantID: target.Spec.TenantID}
	switch path {
	case v1alpha1.PathNewAzureSubscription:
		// An Azure subscription under the customer's Azure plan, which is
		// bought for it when the customer has none with the partner.
		t.OfferID, t.Quantity, t.BillingCycle = pc.AzurePlanProduct+":"+pc.AzurePlanSKU, 1, pc.BillingCycleOneTime
		t.SourceDisposition = v1alpha1.SourceCoexist
		if a := sub.Spec.Azure; a != nil && a.SourceDisposition != "" {
			t.SourceDisposition = a.SourceDisposition
		}
	case v1alpha1.PathNewLicenseSubscription:
		t.OfferID, t.Quantity = offerToBuy(sub), quantity(sub)
		t.TermDuration, t.BillingCycle = purchaseTerms(sub)
	case v1alpha1.PathPartnerSwitch:
		t.OfferID, t.Quantity, t.SubscriptionID = sub.Spec.Offer.ID, quantity(sub), sub.Spec.SubscriptionID
		t.AzurePlanIfNone = sub.Spec.ServiceType == v1alpha1.ServiceUsageBased
		if source != nil {
			t.SourcePartnerTenantID = source.Spec.TenantID
		}
	}
	return t
}

// describeTerms says what terms t send, for messages and Events.
func describeTerms(t *v1alpha1.Terms) string {
	if t == nil {
		return "no terms"
	}
	return decide.DescribeTerms(t)
}

// sendable says why another subscription's recorded purchase may not be
// sent in a cart, or "" when it may: an Authorized decision names the terms
// it recorded, the operator's latest reading of its current spec
// (status.terms, for the spec's generation) asks for the same, and its
// Authorized condition from that reading is True (a policy that stopped
// giving the authorization turned it False). The subscription that sends
// checks its own terms in the pass that sends (sendOperation).
func sendable(sub *v1alpha1.CustomerSubscription, op *v1alpha1.Operation) string {
	authorized := meta.FindStatusCondition(sub.Status.Conditions, v1alpha1.ConditionAuthorized)
	switch {
	case op.Terms == nil:
		return "it records no terms"
	case !core.Covers(sub.Status.Authorization, op.Terms):
		return "no Authorized decision names its terms"
	case sub.Status.ObservedGeneration != sub.Generation:
		return "its spec changed since the operator last read it"
	case !core.SameTerms(sub.Status.Terms, op.Terms):
		return "its spec no longer asks for its terms"
	case authorized == nil || authorized.Status != metav1.ConditionTrue || authorized.ObservedGeneration != sub.Generation:
		return "its authorization did not stand when the operator last read it"
	}
	return ""
}

// unsentOperations are the operations this process recorded and has not
// tried to send yet. Only those are known to have created nothing: one
// recorded before a restart, or by another replica, may have been sent and
// its answer lost.
type unsentOperations struct {
	mu  sync.Mutex
	ids map[string]string // id → Partner Center's refusal of its earlier sends, if any
}

func newUnsentOperations() *unsentOperations { return &unsentOperations{ids: map[string]string{}} }

// recorded: the operation was recorded by this process and not sent.
func (u *unsentOperations) recorded(id string) { u.refusedUnsent(id, "") }

// refusedUnsent: Partner Center refused every send of the operation so far
// (refusal), and this process has not sent it since.
func (u *unsentOperations) refusedUnsent(id, refusal string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.ids[id] = refusal
}

// refusal is Partner Center's refusal of the unsent operation's earlier sends.
func (u *unsentOperations) refusal(id string) string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.ids[id]
}

// sending: the operations are about to be sent.
func (u *unsentOperations) sending(ids ...string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, id := range ids {
		delete(u.ids, id)
	}
}

// neverSent: the operation is known to have created nothing.
func (u *unsentOperations) neverSent(id string) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	_, ok := u.ids[id]
	return ok
}
