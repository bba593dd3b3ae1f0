package subscription

import (
	"context"
	"testing"

	"k8s.io/apimachinery/pkg/types"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	"github.com/partnerops/multichannel-operator/internal/pass"
	"github.com/partnerops/multichannel-operator/internal/sharedcalls"
)

// TestOneMemberAsksForTheTransfer: of two subscriptions of one customer
// ready for a transfer between the same partners, the first that finds no
// transfer to join claims the asking under the group's lock; the second
// waits to join it instead of asking for a second transfer.
func TestOneMemberAsksForTheTransfer(t *testing.T) {
	r := &CustomerSubscriptionReconciler{shared: sharedcalls.New()}
	customer := &v1alpha1.Customer{Spec: v1alpha1.CustomerSpec{TenantID: "2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e"}}
	customer.Name = "woodgrove"
	target := &v1alpha1.Partner{Spec: v1alpha1.PartnerSpec{TenantID: "6f1bd5c1-0d3b-4c5e-9bb1-7f4f9d2b6a10"}}
	source := &v1alpha1.Partner{Spec: v1alpha1.PartnerSpec{TenantID: "0b4e8e3a-7c1d-4f0e-a0d2-3f9a1c6e5b21"}}
	source.Name = "fabrikam"
	scope := func(uid string) *subscriptionScope {
		sub := &v1alpha1.CustomerSubscription{Spec: v1alpha1.CustomerSubscriptionSpec{ServiceType: v1alpha1.ServiceUsageBased}}
		sub.UID = types.UID(uid)
		return &subscriptionScope{Pass: &pass.Pass[*v1alpha1.CustomerSubscription]{Obj: sub}, sub: sub, customer: customer, target: target, channelPartner: source}
	}
	first, second := scope("uid-1"), scope("uid-2")
	if id, res, err := r.joinableTransfer(context.Background(), first); id != "" || res != nil || err != nil {
		t.Fatalf("first: %q, %+v, %v; want to ask for a new transfer", id, res, err)
	}
	id, res, err := r.joinableTransfer(context.Background(), second)
	if id != "" || err != nil || res == nil || res.RequeueAfter == 0 || second.verdict.Reason != v1alpha1.ReasonSwitching {
		t.Errorf("second: %q, %+v, %v, verdict %+v; want it to wait for the first's transfer", id, res, err, second.verdict)
	}
	if id, res, err := r.joinableTransfer(context.Background(), first); id != "" || res != nil || err != nil {
		t.Errorf("first again (its record not written yet): %q, %+v, %v; want it to ask again, not wait for itself", id, res, err)
	}
}
