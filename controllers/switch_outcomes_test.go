package controllers_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"sigs.k8s.io/cli-utils/pkg/kstatus/status"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
)

// TestTransferLineItemFailed: the source partner accepts, but the line item
// of this subscription fails: the subscription is Failed with Partner
// Center's error for that line item, not Completed by the transfer's status.
func TestTransferLineItemFailed(t *testing.T) {
	h := startAzureTransfer(t)
	sub := h.waitOperationSent("azure-csp")
	const why = "Subscription has an active reservation and cannot be transferred."
	h.simPost("/sim/v1/transfers/"+sub.Status.Operation.ExternalID+"/accept", map[string]any{"lineItems": []map[string]string{
		{"subscriptionId": sub.Spec.SubscriptionID, "transferError": why},
		{"subscriptionId": "0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f"}, // another one moves
	}})
	sub = h.waitPhase("azure-csp", v1alpha1.PhaseFailed)
	c := condition(sub.Status.Conditions, v1alpha1.ConditionStalled)
	if c == nil || c.Reason != v1alpha1.ReasonTransferFailed || !strings.Contains(c.Message, why) || !strings.Contains(c.Message, "line item 0") {
		t.Errorf("stalled = %+v, want TransferFailed naming line item 0 and %q", c, why)
	}
	if sub.Status.TargetSubscriptionID != "" || sub.Status.Operation.CompletedAt == nil {
		t.Errorf("status = %+v", sub.Status)
	}
}

// TestPartnerCenterRejectedPurchase: Partner Center refuses the cart (a 400
// with its error body): the subscription is Failed, PartnerCenterRejected,
// with Partner Center's description, and nothing is bought.
func TestPartnerCenterRejectedPurchase(t *testing.T) {
	const why = "The offer is not available in the customer's market."
	refuseCarts := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/carts") {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusBadRequest)
				_, _ = io.WriteString(w, `{"code":800036,"description":"`+why+`","data":[],"source":"PartnerCenter"}`)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
	h := start(t, withMiddleware(refuseCarts))
	contoso := h.contoso()
	h.customer("woodgrove")
	h.policy(contoso.Name)
	h.customerAccepts(contosoTenant)
	h.subscription("azure", azure("woodgrove", contoso.Name, v1alpha1.Channel{Type: v1alpha1.ChannelDirect}, v1alpha1.SourceCoexist))

	sub := h.waitPhase("azure", v1alpha1.PhaseFailed)
	c := condition(sub.Status.Conditions, v1alpha1.ConditionStalled)
	if c == nil || c.Reason != v1alpha1.ReasonPartnerCenterRejected || !strings.Contains(c.Message, why) {
		t.Errorf("stalled = %+v, want PartnerCenterRejected with %q", c, why)
	}
	if s := condition(sub.Status.Conditions, v1alpha1.ConditionSwitched); s == nil || s.Status != "False" || s.Reason != v1alpha1.ReasonPartnerCenterRejected {
		t.Errorf("switched = %+v", s)
	}
	if op := sub.Status.Operation; op == nil || op.CompletedAt == nil || op.ExternalID != "" {
		t.Errorf("operation = %+v, want ended without an order", op)
	}
	if kstatus(t, sub) != status.FailedStatus || h.sim.Stats().ObjectsCreated["order"] != 0 {
		t.Errorf("kstatus %s, %d orders", kstatus(t, sub), h.sim.Stats().ObjectsCreated["order"])
	}
}

// TestCancelServicesWaitsForSource: Azure from an EA whose listed services
// are cancelled at the source: the plan is bought, then the subscription
// waits, naming the services, until a person records the source cancelled.
func TestCancelServicesWaitsForSource(t *testing.T) {
	h := start(t)
	contoso := h.contoso()
	h.customer("woodgrove")
	h.policy(contoso.Name, func(p *v1alpha1.ApprovalPolicySpec) { p.AllowSourceCancellation = true })
	h.customerAccepts(contosoTenant)
	spec := azure("woodgrove", contoso.Name, v1alpha1.Channel{Type: v1alpha1.ChannelEnterpriseAgreement}, v1alpha1.SourceCancelServices)
	spec.Azure.Services = []string{"vm-web-01", "sql-orders"}
	h.subscription("azure-ea", spec)

	var sub *v1alpha1.CustomerSubscription
	h.eventually("the plan exists and the services await cancellation", func() error {
		sub = h.waitPhase("azure-ea", v1alpha1.PhaseSwitching)
		c := condition(sub.Status.Conditions, v1alpha1.ConditionReconciling)
		if c == nil || c.Reason != v1alpha1.ReasonAwaitingSourceCancellation {
			return errf("reconciling = %+v", c)
		}
		if !strings.Contains(c.Message, "vm-web-01") || !strings.Contains(c.Message, "sql-orders") || !strings.Contains(c.Message, sub.Status.TargetSubscriptionID) {
			return errf("the message does not name the services and the new subscription: %s", c.Message)
		}
		return nil
	})

	sub.Spec.State = v1alpha1.SubscriptionCancelled
	if err := k8sClient.Update(h.ctx, sub); err != nil {
		t.Fatal(err)
	}
	sub = h.waitPhase("azure-ea", v1alpha1.PhaseCompleted)
	if n := h.sim.Stats().ObjectsCreated["order"]; n != 1 {
		t.Errorf("%d orders, want 1", n)
	}
	if c := condition(sub.Status.Conditions, v1alpha1.ConditionSwitched); c == nil || c.Status != "True" {
		t.Errorf("switched = %+v", c)
	}
}
