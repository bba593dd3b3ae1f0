package controllers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	pc "github.com/partnerops/multichannel-operator/internal/partnercenter"
	"github.com/partnerops/multichannel-operator/internal/partnercenter/sim"
)

// fiveAzureSubscriptions declares customer woodgrove's five Azure
// subscriptions from its Enterprise Agreement, each to be recreated with
// partner under the customer's Azure plan.
func (h *harness) fiveAzureSubscriptions(partner string) []string {
	return h.azureSubscriptions(partner, 5)
}

// azureSubscriptions declares n of them.
func (h *harness) azureSubscriptions(partner string, n int) []string {
	var names []string
	for i := 1; i <= n; i++ {
		spec := azure("woodgrove", partner, v1alpha1.Channel{Type: v1alpha1.ChannelEnterpriseAgreement, AgreementNumber: "7712"}, v1alpha1.SourceCoexist)
		spec.SubscriptionID = fmt.Sprintf("4a1c9e2f-0b7d-4e3a-9c5f-2d8b6a1e7f3%d", i)
		name := fmt.Sprintf("azure-%d", i)
		h.subscription(name, spec)
		names = append(names, name)
	}
	return names
}

// planOf reads the customer's relationship with partner, once it records the Azure plan.
func (h *harness) planOf(partner string) *v1alpha1.ResellerRelationship {
	h.t.Helper()
	rr := &v1alpha1.ResellerRelationship{}
	h.eventually("the relationship records the Azure plan", func() error {
		if err := k8sClient.Get(h.ctx, client.ObjectKey{Namespace: h.ns, Name: "woodgrove-" + partner}, rr); err != nil {
			return err
		}
		if rr.Status.AzurePlanSubscriptionID == "" || rr.Status.AzurePlan == nil || rr.Status.AzurePlan.CompletedAt == nil {
			return errf("azurePlan %+v", rr.Status.AzurePlan)
		}
		return nil
	})
	return rr
}

// checkOnePlan: every subscription completed with its own Azure subscription,
// each one of the plan's; the plan was bought at most once (wantBought) and
// the other subscriptions were created through ARM, each once.
func (h *harness) checkOnePlan(names []string, partner string, wantBought, wantTook, wantAliases int) {
	h.t.Helper()
	seen := map[string]string{}
	took := 0
	for _, name := range names {
		sub := h.waitPhase(name, v1alpha1.PhaseCompleted)
		id, op := sub.Status.TargetSubscriptionID, sub.Status.Operation
		if id == "" || seen[id] != "" {
			h.t.Errorf("%s: Azure subscription %q (also %s's)", name, id, seen[id])
		}
		seen[id] = name
		switch {
		case op != nil && op.Type == v1alpha1.OperationCreateAzurePlan:
			took++
		case op == nil || op.Type != v1alpha1.OperationCreateAzureSubscription || op.ExternalID != op.ID || op.CompletedAt == nil:
			h.t.Errorf("%s: operation %+v", name, op)
		}
	}
	rr := h.planOf(partner)
	entitlements, err := contosoClient(h.t, h).AzureEntitlements(context.Background(), woodgroveTenant, rr.Status.AzurePlanSubscriptionID)
	if err != nil {
		h.t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, e := range entitlements {
		listed[e.ID] = true
	}
	for id, name := range seen {
		if !listed[id] {
			h.t.Errorf("%s's Azure subscription %s is not under plan %s (%v)", name, id, rr.Status.AzurePlanSubscriptionID, entitlements)
		}
	}
	st := h.sim.Stats()
	if bought := st.AzurePlansBought[contosoTenant+"|"+woodgroveTenant]; bought != wantBought || took != wantTook || st.ARM.AliasesCreated != wantAliases || st.AzurePlansRefused != 0 {
		h.t.Errorf("%d plans bought (%d more refused), %d subscriptions took the plan's own, %d aliases created; want %d, %d, %d",
			bought, st.AzurePlansRefused, took, st.ARM.AliasesCreated, wantBought, wantTook, wantAliases)
	}
}

// TestOneAzurePlanForFiveAzureSubscriptions: a customer with five Azure
// subscriptions elsewhere ends with one Azure plan with the partner and
// five Azure subscriptions under it: the plan is bought once, for one of
// the subscriptions, which takes the Azure subscription it came with;
// the four others are created under the plan through Azure Resource
// Manager. The relationship records the plan and the subscription it was
// bought for (the first whose gates opened), which took the plan's own.
func TestOneAzurePlanForFiveAzureSubscriptions(t *testing.T) {
	h := start(t)
	contoso := h.contoso()
	h.woodgroveTrusts(contoso)
	names := h.fiveAzureSubscriptions(contoso.Name)
	h.checkOnePlan(names, contoso.Name, 1, 1, 4)
	plan := h.planOf(contoso.Name).Status.AzurePlan
	if plan.Source != v1alpha1.AzurePlanBought || !strings.HasPrefix(plan.CatalogItemID, "DZH318Z0BPS6:0001:") || plan.OrderID == "" ||
		!strings.Contains(plan.AuthorizedBy, "ApprovalPolicy trust-"+contoso.Name) {
		t.Errorf("azurePlan %+v", plan)
	}
	// The subscription the plan was bought for took the Azure subscription it came with.
	requester, _, _ := strings.Cut(plan.RequestedBy, "/")
	if sub := h.read(requester); sub.Status.Operation.Type != v1alpha1.OperationCreateAzurePlan || sub.Status.TargetSubscriptionID != plan.FirstSubscriptionID {
		t.Errorf("%s (the plan's requester): operation %+v, Azure subscription %s; want the plan's %s", requester, sub.Status.Operation, sub.Status.TargetSubscriptionID, plan.FirstSubscriptionID)
	}
	if ev := h.events("ResellerRelationship", "", "AzurePlanBought"); len(ev) != 1 {
		t.Errorf("%d AzurePlanBought events", len(ev))
	}
}

// TestAzurePlanAlreadyHeld: the customer already holds an Azure plan with
// the partner; the operator finds it, buys nothing, and creates every Azure
// subscription under it.
func TestAzurePlanAlreadyHeld(t *testing.T) {
	h := start(t)
	contoso := h.contoso()
	h.woodgroveTrusts(contoso)
	h.buyAzurePlanInPartnerCenter()
	names := h.fiveAzureSubscriptions(contoso.Name)
	// The one plan is the one bought before the operator; all five are created under it.
	h.checkOnePlan(names, contoso.Name, 1, 0, 5)
	if p := h.planOf(contoso.Name).Status.AzurePlan; p.Source != v1alpha1.AzurePlanFound || p.OperationID != "" {
		t.Errorf("azurePlan %+v, want Found", p)
	}
}

// buyAzurePlanInPartnerCenter buys contoso an Azure plan for woodgrove
// outside the operator, as a partner would in Partner Center.
func (h *harness) buyAzurePlanInPartnerCenter() {
	h.t.Helper()
	_, err := contosoClient(h.t, h).CreateOrder(context.Background(), woodgroveTenant, uuid.NewString(), []pc.CartLineItem{{
		CatalogItemID: sim.AzurePlanCatalogItem, FriendlyName: "Azure plan", Quantity: 1, BillingCycle: pc.BillingCycleOneTime}})
	if err != nil {
		h.t.Fatal(err)
	}
}

// holdFirstMethod is holdFirst for any method: the first matching request
// is processed, its answer withheld until the caller gives up.
func holdFirstMethod(method, contains string, held *atomic.Bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == method && strings.Contains(r.URL.Path, contains) && held.CompareAndSwap(false, true) {
				next.ServeHTTP(httptest.NewRecorder(), r)
				<-r.Context().Done()
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// TestAzurePlanAndAliasesExactlyOnceAcrossRestart: the manager is stopped
// after the plan was bought and while an alias PUT is in flight, its answer
// lost; a new manager finishes the work. One plan, four aliases: the
// repeated PUT created nothing.
func TestAzurePlanAndAliasesExactlyOnceAcrossRestart(t *testing.T) {
	held := &atomic.Bool{}
	h := start(t, withMiddleware(holdFirstMethod(http.MethodPut, "/Microsoft.Subscription/aliases/", held)))
	contoso := h.contoso()
	h.woodgroveTrusts(contoso)
	names := h.fiveAzureSubscriptions(contoso.Name)
	h.eventually("an alias PUT reached ARM and its answer is held", func() error {
		if !held.Load() || h.sim.Stats().ARM.AliasesCreated < 1 {
			return errf("held %v, %d aliases", held.Load(), h.sim.Stats().ARM.AliasesCreated)
		}
		return nil
	})
	h.stopManager()
	h.startManager()
	h.checkOnePlan(names, contoso.Name, 1, 1, 4)
	if st := h.sim.Stats(); st.ARM.RepeatedPuts < 1 {
		t.Errorf("%d repeated PUTs; want the held one sent again", st.ARM.RepeatedPuts)
	}
}

// TestAzurePlanRefused: Partner Center refuses the Azure plan at checkout.
// The subscription it was bought for fails with Partner Center's words;
// the other subscription waiting for the plan is not left waiting: it asks
// again, under a new request ID, and fails the same way. Nothing is bought,
// and nothing is created under a plan that does not exist.
func TestAzurePlanRefused(t *testing.T) {
	const reason = "The Azure plan is not available for this customer."
	var logs syncBuffer
	h := start(t, withSim(sim.Options{RefuseAtCheckout: map[string]string{sim.AzurePlanCatalogItem: reason}}), withLogs(&logs))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the manager's logs:\n%s", logs.String())
		}
	})
	contoso := h.contoso()
	h.woodgroveTrusts(contoso)
	names := h.azureSubscriptions(contoso.Name, 2)
	for _, name := range names {
		sub := h.waitPhase(name, v1alpha1.PhaseFailed)
		c := condition(sub.Status.Conditions, v1alpha1.ConditionStalled)
		if c == nil || c.Reason != v1alpha1.ReasonPartnerCenterRejected || !strings.Contains(c.Message, reason) || sub.Status.TargetSubscriptionID != "" {
			t.Errorf("%s: stalled %+v, target %q, conditions %+v", name, c, sub.Status.TargetSubscriptionID, sub.Status.Conditions)
		}
	}
	rr := &v1alpha1.ResellerRelationship{}
	if err := k8sClient.Get(h.ctx, client.ObjectKey{Namespace: h.ns, Name: "woodgrove-" + contoso.Name}, rr); err != nil {
		t.Fatal(err)
	}
	if p := rr.Status.AzurePlan; p == nil || p.Refusal == "" || rr.Status.AzurePlanSubscriptionID != "" {
		t.Errorf("azurePlan %+v, plan %q", p, rr.Status.AzurePlanSubscriptionID)
	}
	if st := h.sim.Stats(); st.AzurePlansBought[contosoTenant+"|"+woodgroveTenant] != 0 || st.ARM.AliasesCreated != 0 {
		t.Errorf("%v plans bought, %d aliases", st.AzurePlansBought, st.ARM.AliasesCreated)
	}
}

// TestAzurePlanOrderPending: the Azure plan's order stays pending for an
// hour. The relationship follows it (condition AzurePlan Buying, naming
// the order), the subscriptions wait for the plan and create nothing under
// it, and once Partner Center provisions the plan they complete on it, one
// plan bought.
func TestAzurePlanOrderPending(t *testing.T) {
	h := start(t, withSim(sim.Options{ProvisioningDelay: time.Hour}))
	contoso := h.contoso()
	h.woodgroveTrusts(contoso)
	names := h.azureSubscriptions(contoso.Name, 2)
	h.eventually("the plan's order is followed", func() error {
		rr := &v1alpha1.ResellerRelationship{}
		if err := k8sClient.Get(h.ctx, client.ObjectKey{Namespace: h.ns, Name: "woodgrove-" + contoso.Name}, rr); err != nil {
			return err
		}
		c := condition(rr.Status.Conditions, v1alpha1.ConditionAzurePlan)
		if c == nil || c.Reason != v1alpha1.ReasonBuyingAzurePlan || !strings.Contains(c.Message, "is pending") || rr.Status.AzurePlanSubscriptionID != "" {
			return errf("AzurePlan %+v, plan %q", c, rr.Status.AzurePlanSubscriptionID)
		}
		return nil
	})
	for _, name := range names {
		if c := condition(h.read(name).Status.Conditions, v1alpha1.ConditionReady); c == nil || c.Reason != v1alpha1.ReasonAwaitingAzurePlan {
			t.Errorf("%s: Ready %+v, want it waiting for the plan", name, c)
		}
	}
	if n := h.sim.Stats().ARM.AliasesCreated; n != 0 {
		t.Fatalf("%d Azure subscriptions created under a plan not provisioned", n)
	}
	h.simPost("/sim/v1/clock/advance", map[string]string{"duration": "1h"})
	h.checkOnePlan(names, contoso.Name, 1, 1, 1)
}
