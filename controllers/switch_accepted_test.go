package controllers_test

import (
	"testing"
	"time"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	"github.com/partnerops/multichannel-operator/controllers"
	"github.com/partnerops/multichannel-operator/internal/partnercenter/sim"
)

// Outcomes of Partner Center's documented answers: a checkout whose order is
// still pending, and a transfer the source partner rejects.

// TestSwitchPendingOrder: the Azure plan's order stays pending for an hour;
// the subscription stays Switching, with no targetSubscriptionID, until the
// order names its subscription.
func TestSwitchPendingOrder(t *testing.T) {
	h := start(t, withSim(sim.Options{ProvisioningDelay: time.Hour}))
	contoso := h.contoso()
	h.customer("woodgrove")
	h.policy(contoso.Name)
	h.customerAccepts(contosoTenant)
	h.subscription("azure", azure("woodgrove", contoso.Name, v1alpha1.Channel{Type: v1alpha1.ChannelDirect}, v1alpha1.SourceCoexist))
	var sub *v1alpha1.CustomerSubscription
	h.eventually("the order is pending", func() error {
		sub = h.waitPhase("azure", v1alpha1.PhaseSwitching)
		if c := condition(sub.Status.Conditions, v1alpha1.ConditionReconciling); c == nil || c.Reason != controllers.ReasonAwaitingOrder {
			return errf("reconciling = %+v", c)
		}
		return nil
	})
	if sub.Status.TargetSubscriptionID != "" || sub.Status.Operation.ExternalID == "" || sub.Status.Operation.CompletedAt != nil {
		t.Fatalf("pending: %+v %+v", sub.Status.TargetSubscriptionID, sub.Status.Operation)
	}
	h.simPost("/sim/v1/clock/advance", map[string]string{"duration": "1h"})
	sub = h.waitPhase("azure", v1alpha1.PhaseCompleted)
	if sub.Status.TargetSubscriptionID == "" || sub.Status.Operation.CompletedAt == nil {
		t.Fatalf("completed: %+v", sub.Status)
	}
	if n := h.sim.Stats().ObjectsCreated["order"]; n != 1 {
		t.Errorf("%d orders", n)
	}
}

// TestSwitchTransferRejected: a transfer the source partner rejects (status
// Reject) fails the subscription instead of being polled forever.
func TestSwitchTransferRejected(t *testing.T) {
	h := start(t)
	contoso, fabrikam := h.contoso(), h.fabrikam()
	h.customer("woodgrove")
	h.policy(contoso.Name)
	h.customerAccepts(contosoTenant)
	h.subscription("azure-csp", azure("woodgrove", contoso.Name, v1alpha1.Channel{Type: v1alpha1.ChannelCSP, PartnerRef: fabrikam.Name}, ""))
	h.waitOperationSent("azure-csp")
	sub := h.waitPhase("azure-csp", v1alpha1.PhaseSwitching)
	h.simPost("/sim/v1/transfers/"+sub.Status.Operation.ExternalID+"/reject", nil)
	sub = h.waitPhase("azure-csp", v1alpha1.PhaseFailed)
	if c := condition(sub.Status.Conditions, v1alpha1.ConditionStalled); c == nil || c.Reason != controllers.ReasonTransferFailed {
		t.Errorf("stalled = %+v", c)
	}
}
