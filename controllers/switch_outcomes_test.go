package controllers_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
)

// answerError answers as Partner Center does when it refuses a request: its
// documented error body.
func answerError(w http.ResponseWriter, status, code int, description string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"code": code, "description": description, "data": []string{}, "source": "PartnerCenter"})
}

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
				answerError(w, http.StatusBadRequest, 800036, why)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
	h := start(t, withMiddleware(refuseCarts))
	contoso := h.contoso()
	h.woodgroveTrusts(contoso)
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

// setState changes spec.state of a subscription: allowed while Switching,
// and it changes the path (a cancelled source is bought anew).
func (h *harness) setState(name string, state v1alpha1.SubscriptionState) {
	h.t.Helper()
	// A merge patch of the one field: the operator's status writes, every
	// poll interval, would make an update of the whole object conflict.
	sub := &v1alpha1.CustomerSubscription{}
	if err := k8sClient.Get(h.ctx, client.ObjectKey{Namespace: h.ns, Name: name}, sub); err != nil {
		h.t.Fatal(err)
	}
	patch := client.MergeFrom(sub.DeepCopy())
	sub.Spec.State = state
	if err := k8sClient.Patch(h.ctx, sub, patch); err != nil {
		h.t.Fatal(err)
	}
}

// TestPathChangeAbandonsRefusedOperation: Partner Center refuses the
// transfer with 403 (nothing is created), then the source is recorded as
// cancelled, which makes the path a new Azure plan. The refused transfer is
// abandoned, kept in previousOperations, and never sent again; the plan is bought.
func TestPathChangeAbandonsRefusedOperation(t *testing.T) {
	var refusing atomic.Bool
	refusing.Store(true)
	var sentAfterChange atomic.Int32
	var changed atomic.Bool
	refuseTransfers := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/transfers") && refusing.Load() {
				if changed.Load() {
					sentAfterChange.Add(1)
				}
				answerError(w, http.StatusForbidden, 600001, "Access denied for the requested resource.")
				return
			}
			next.ServeHTTP(w, r)
		})
	}
	var logs syncBuffer
	h := start(t, withMiddleware(refuseTransfers), withLogs(&logs))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the manager's logs:\n%s", logs.String())
		}
	})
	contoso, fabrikam := h.contoso(), h.fabrikam()
	h.woodgroveTrusts(contoso)
	h.subscription("azure-csp", azure("woodgrove", contoso.Name, v1alpha1.Channel{Type: v1alpha1.ChannelCSP, PartnerRef: fabrikam.Name}, ""))

	var refused *v1alpha1.Operation
	h.eventually("the transfer is refused with 403", func() error {
		sub := &v1alpha1.CustomerSubscription{}
		if err := k8sClient.Get(h.ctx, client.ObjectKey{Namespace: h.ns, Name: "azure-csp"}, sub); err != nil {
			return err
		}
		if op := sub.Status.Operation; op == nil || !strings.HasPrefix(op.Refusal, "HTTP 403") {
			return errf("operation %+v", op)
		}
		refused = sub.Status.Operation
		return nil
	})

	h.setState("azure-csp", v1alpha1.SubscriptionCancelled)
	sub := h.waitPhase("azure-csp", v1alpha1.PhaseCompleted)
	changed.Store(true)
	// The Azure plan was bought for the transfer's attempt; the new
	// attempt creates its Azure subscription under it.
	if op := sub.Status.Operation; op == nil || op.Type != v1alpha1.OperationCreateAzureSubscription || op.ExternalID == "" {
		t.Errorf("operation = %+v, want an Azure subscription under the plan", op)
	}
	prev := sub.Status.PreviousOperations
	if len(prev) != 1 || prev[0].ID != refused.ID || prev[0].ExternalID != "" || prev[0].CompletedAt == nil || prev[0].Refusal == "" {
		t.Errorf("previousOperations = %+v, want the refused transfer, ended without an ID", prev)
	}
	st := h.sim.Stats()
	if st.ObjectsCreated["transfer"] != 0 || st.ObjectsCreated["order"] != 1 || st.ARM.AliasesCreated != 1 {
		t.Errorf("created %v and %d Azure subscriptions through ARM, want one order (the plan), no transfer, one", st.ObjectsCreated, st.ARM.AliasesCreated)
	}
	h.consistently("the refused transfer is not sent again", time.Second, func() error {
		if n := sentAfterChange.Load(); n != 0 {
			return errf("%d transfer requests after completion", n)
		}
		return nil
	})
}

// TestPendingTransferFollowedAfterPathChange: a transfer exists and the
// source is then recorded as cancelled. The transfer can still complete, so
// nothing is bought or created while it is pending but the Azure plan the
// transfer needed; when the source partner accepts, the subscription is
// Completed by the transfer.
func TestPendingTransferFollowedAfterPathChange(t *testing.T) {
	h := startAzureTransfer(t)
	transfer := h.waitOperationSent("azure-csp").Status.Operation
	h.setState("azure-csp", v1alpha1.SubscriptionCancelled)

	h.eventually("the new path waits for the transfer", func() error {
		sub := &v1alpha1.CustomerSubscription{}
		if err := k8sClient.Get(h.ctx, client.ObjectKey{Namespace: h.ns, Name: "azure-csp"}, sub); err != nil {
			return err
		}
		c := condition(sub.Status.Conditions, v1alpha1.ConditionReconciling)
		if sub.Status.Eligibility.Path != v1alpha1.PathNewAzureSubscription || c == nil || !strings.Contains(c.Message, "is followed to its end before path NewAzureSubscription") {
			return errf("path %s, reconciling %+v", sub.Status.Eligibility.Path, c)
		}
		return nil
	})
	h.consistently("nothing is bought while the transfer is pending", time.Second, func() error {
		sub := &v1alpha1.CustomerSubscription{}
		if err := k8sClient.Get(h.ctx, client.ObjectKey{Namespace: h.ns, Name: "azure-csp"}, sub); err != nil {
			return err
		}
		if st := h.sim.Stats(); st.ObjectsCreated["order"] != 1 || st.ARM.AliasesCreated != 0 || sub.Status.Operation == nil || sub.Status.Operation.ID != transfer.ID {
			return errf("%d orders (the plan's is one), %d aliases, operation %+v", st.ObjectsCreated["order"], st.ARM.AliasesCreated, sub.Status.Operation)
		}
		return nil
	})

	h.simPost("/sim/v1/transfers/"+transfer.ExternalID+"/accept", nil)
	sub := h.waitPhase("azure-csp", v1alpha1.PhaseCompleted)
	if op := sub.Status.Operation; op.ID != transfer.ID || op.CompletedAt == nil || sub.Status.TargetSubscriptionID != sub.Spec.SubscriptionID {
		t.Errorf("operation %+v, target subscription %q", op, sub.Status.TargetSubscriptionID)
	}
	if st := h.sim.Stats(); st.ObjectsCreated["order"] != 1 || st.ARM.AliasesCreated != 0 {
		t.Errorf("%d orders, %d aliases: something was bought besides the plan the transfer needed", st.ObjectsCreated["order"], st.ARM.AliasesCreated)
	}
}
