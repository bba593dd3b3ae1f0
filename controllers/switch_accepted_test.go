package controllers_test

import (
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	"github.com/partnerops/multichannel-operator/internal/partnercenter/sim"
)

// Outcomes of Partner Center's documented answers: a checkout whose order is
// still pending, and a transfer the source partner rejects.

// TestSwitchPendingOrder: a license purchase's order stays pending for an hour;
// the subscription stays Switching, with no targetSubscriptionID, until the
// order names its subscription.
func TestSwitchPendingOrder(t *testing.T) {
	h := start(t, withSim(sim.Options{ProvisioningDelay: time.Hour}))
	contoso, fabrikam := h.contoso(), h.fabrikam()
	h.woodgroveTrusts(contoso)
	h.subscription("m365", newLicense("woodgrove", fabrikam.Name, contoso.Name, 10))
	var sub *v1alpha1.CustomerSubscription
	h.eventually("the order is pending", func() error {
		sub = h.waitPhase("m365", v1alpha1.PhaseSwitching)
		if c := condition(sub.Status.Conditions, v1alpha1.ConditionReconciling); c == nil || c.Reason != v1alpha1.ReasonAwaitingOrder {
			return errf("reconciling = %+v", c)
		}
		return nil
	})
	if sub.Status.TargetSubscriptionID != "" || sub.Status.Operation.ExternalID == "" || sub.Status.Operation.CompletedAt != nil {
		t.Fatalf("pending: %+v %+v", sub.Status.TargetSubscriptionID, sub.Status.Operation)
	}
	h.simPost("/sim/v1/clock/advance", map[string]string{"duration": "1h"})
	sub = h.waitPhase("m365", v1alpha1.PhaseCompleted)
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
	h := startAzureTransfer(t)
	h.waitOperationSent("azure-csp")
	sub := h.waitPhase("azure-csp", v1alpha1.PhaseSwitching)
	h.simPost("/sim/v1/transfers/"+sub.Status.Operation.ExternalID+"/reject", nil)
	sub = h.waitPhase("azure-csp", v1alpha1.PhaseFailed)
	if c := condition(sub.Status.Conditions, v1alpha1.ConditionStalled); c == nil || c.Reason != v1alpha1.ReasonTransferFailed {
		t.Errorf("stalled = %+v", c)
	}
}

// TestRetryAfterFailed: Failed is not a dead end. After a rejected transfer,
// setting the retry annotation starts attempt 2 with a new operation ID; the
// failed operation stays in previousOperations, and the second transfer,
// accepted, completes the subscription.
func TestRetryAfterFailed(t *testing.T) {
	h := startAzureTransfer(t)
	first := h.waitOperationSent("azure-csp").Status.Operation
	h.simPost("/sim/v1/transfers/"+first.ExternalID+"/reject", nil)
	failed := h.waitPhase("azure-csp", v1alpha1.PhaseFailed)
	if first.Attempt != 1 || failed.Status.Operation.ID != first.ID {
		t.Fatalf("first attempt: %+v", failed.Status.Operation)
	}

	if err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		sub := &v1alpha1.CustomerSubscription{}
		if err := k8sClient.Get(h.ctx, client.ObjectKey{Namespace: h.ns, Name: "azure-csp"}, sub); err != nil {
			return err
		}
		sub.Annotations = map[string]string{v1alpha1.AnnotationRetry: "after-fabrikam-agreed"}
		return k8sClient.Update(h.ctx, sub)
	}); err != nil {
		t.Fatal(err)
	}
	var second *v1alpha1.Operation
	h.eventually("attempt 2 sent its own transfer", func() error {
		sub := h.waitOperationSent("azure-csp")
		if op := sub.Status.Operation; op.Attempt != 2 || op.ID == first.ID || op.ExternalID == first.ExternalID {
			return errf("operation %+v", op)
		}
		second = sub.Status.Operation
		return nil
	})
	h.simPost("/sim/v1/transfers/"+second.ExternalID+"/accept", nil)
	sub := h.waitPhase("azure-csp", v1alpha1.PhaseCompleted)
	if prev := sub.Status.PreviousOperations; len(prev) != 1 || prev[0].ID != first.ID || prev[0].Attempt != 1 {
		t.Errorf("previousOperations = %+v", prev)
	}
	if sub.Status.RetryRequest != "after-fabrikam-agreed" {
		t.Errorf("retryRequest = %q", sub.Status.RetryRequest)
	}
	if n := h.sim.Stats().ObjectsCreated["transfer"]; n != 2 {
		t.Errorf("%d transfers, want 2 (one per attempt)", n)
	}
	// The same annotation again changes nothing: the attempt answered it.
	h.waitQuiet()
	writes := h.statusWrites.Load()
	h.waitQuiet()
	if h.statusWrites.Load() != writes || h.sim.Stats().ObjectsCreated["transfer"] != 2 {
		t.Error("a Completed subscription kept working")
	}
}

// TestTransferExpiredByExpirationTime: Partner Center documents only Active
// and Completed; a transfer still Active past its expirationTime is expired.
func TestTransferExpiredByExpirationTime(t *testing.T) {
	h := startAzureTransfer(t)
	h.waitOperationSent("azure-csp")
	h.waitPhase("azure-csp", v1alpha1.PhaseSwitching)
	// The operator's clock passes the 30 days; the simulator's does not, so it still says Active.
	h.clock.SetTime(time.Now().Add(31 * 24 * time.Hour))
	sub := h.waitPhase("azure-csp", v1alpha1.PhaseFailed)
	if c := condition(sub.Status.Conditions, v1alpha1.ConditionStalled); c == nil || c.Reason != v1alpha1.ReasonTransferExpired {
		t.Errorf("stalled = %+v", c)
	}
	tr, err := contosoClient(t, h).GetTransfer(h.ctx, woodgroveTenant, sub.Status.Operation.ExternalID)
	if err != nil || tr.Status != "Active" {
		t.Errorf("the simulator says %v, %v; the test needs it Active", tr, err)
	}
}

// startAzureTransfer declares an Azure subscription bought from fabrikam that
// contoso, authorized by policy and accepted by the customer, takes over by
// transfer: "azure-csp".
func startAzureTransfer(t *testing.T) *harness {
	t.Helper()
	h := start(t)
	contoso, fabrikam := h.contoso(), h.fabrikam()
	h.woodgroveTrusts(contoso)
	h.subscription("azure-csp", azure("woodgrove", contoso.Name, v1alpha1.Channel{Type: v1alpha1.ChannelCSP, PartnerRef: fabrikam.Name}, ""))
	return h
}

// TestOrderEndingWithoutTheSubscription: an order Partner Center accepts
// at checkout but then refuses (rejected in purchase-order review, or
// cancelled) fails the subscription with Partner Center's status, instead
// of being polled forever.
func TestOrderEndingWithoutTheSubscription(t *testing.T) {
	for _, status := range []string{"po review rejected", "cancelled"} {
		t.Run(status, func(t *testing.T) {
			h := start(t, withSim(sim.Options{ProvisioningDelay: time.Hour, UnprovisionedAtDue: map[string]string{sim.BusinessPremiumCatalogItem: status}}))
			contoso, fabrikam := h.contoso(), h.fabrikam()
			h.woodgroveTrusts(contoso)
			h.subscription("m365", newLicense("woodgrove", fabrikam.Name, contoso.Name, 10))
			h.eventually("the order is pending", func() error {
				sub := h.waitPhase("m365", v1alpha1.PhaseSwitching)
				if c := condition(sub.Status.Conditions, v1alpha1.ConditionReconciling); c == nil || c.Reason != v1alpha1.ReasonAwaitingOrder {
					return errf("reconciling = %+v", c)
				}
				return nil
			})
			h.simPost("/sim/v1/clock/advance", map[string]string{"duration": "1h"})
			sub := h.waitPhase("m365", v1alpha1.PhaseFailed)
			c := condition(sub.Status.Conditions, v1alpha1.ConditionStalled)
			if c == nil || c.Reason != v1alpha1.ReasonPartnerCenterRejected || !strings.Contains(c.Message, status) || sub.Status.TargetSubscriptionID != "" {
				t.Errorf("stalled = %+v, target %q", c, sub.Status.TargetSubscriptionID)
			}
			if n := h.sim.Stats().ObjectsCreated["order"]; n != 1 {
				t.Errorf("%d orders: a failed purchase is not bought again", n)
			}
		})
	}
}

// TestCompletedOrderNamingNoSubscription: a completed order that does not
// name this purchase's subscription (as Partner Center's documented example
// does not) is read again, never failed: failing a purchase Partner Center
// provisioned would let a retry buy it twice. The condition says to check
// Partner Center before any retry.
func TestCompletedOrderNamingNoSubscription(t *testing.T) {
	h := start(t, withSim(sim.Options{HideSubscriptionIDs: true}))
	contoso, fabrikam := h.contoso(), h.fabrikam()
	h.woodgroveTrusts(contoso)
	h.subscription("m365", newLicense("woodgrove", fabrikam.Name, contoso.Name, 10))
	h.eventually("the completed order is read again", func() error {
		sub := h.waitPhase("m365", v1alpha1.PhaseSwitching)
		c := condition(sub.Status.Conditions, v1alpha1.ConditionReconciling)
		if c == nil || c.Reason != v1alpha1.ReasonAwaitingOrder || !strings.Contains(c.Message, "completed but names no subscription") {
			return errf("reconciling = %+v", c)
		}
		return nil
	})
	time.Sleep(500 * time.Millisecond) // several polls
	sub := h.waitPhase("m365", v1alpha1.PhaseSwitching)
	if sub.Status.Operation.CompletedAt != nil || h.sim.Stats().ObjectsCreated["order"] != 1 {
		t.Errorf("a completed order without its subscription ID ended the purchase: %+v", sub.Status.Operation)
	}
}
