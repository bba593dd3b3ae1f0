package controllers_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	"github.com/partnerops/multichannel-operator/internal/partnercenter/sim"
)

// readCustomer reads a Customer of the test's namespace.
func (h *harness) readCustomer(name string) *v1alpha1.Customer {
	h.t.Helper()
	c := &v1alpha1.Customer{}
	if err := k8sClient.Get(h.ctx, client.ObjectKey{Namespace: h.ns, Name: name}, c); err != nil {
		h.t.Fatal(err)
	}
	return c
}

// agreementOf is the Customer's AgreementAccepted condition, or an error
// naming what it is instead of want.
func (h *harness) agreementIs(name string, status metav1.ConditionStatus, reason string) error {
	c := condition(h.readCustomer(name).Status.Conditions, v1alpha1.ConditionAgreementAccepted)
	if c == nil || c.Status != status || c.Reason != reason {
		return errf("AgreementAccepted %+v, want %s/%s", c, status, reason)
	}
	return nil
}

// TestPurchaseWaitsForTheCustomerAgreement: Partner Center holds no
// acceptance of the Microsoft Customer Agreement for the customer, and
// spec.agreement records none. The purchase waits in AwaitingApproval
// saying what to record, nothing is sent to Partner Center, and once the
// customer accepts (in the Microsoft 365 admin center), it is bought once.
func TestPurchaseWaitsForTheCustomerAgreement(t *testing.T) {
	h := start(t, withSim(sim.Options{CustomersWithoutAgreement: []string{woodgroveTenant}}))
	contoso, fabrikam := h.contoso(), h.fabrikam()
	h.woodgroveTrusts(contoso)
	h.subscription("visio", newLicense("woodgrove", fabrikam.Name, contoso.Name, 10))
	h.eventually("the purchase waits for the customer's agreement", func() error {
		sub := h.read("visio")
		c := condition(sub.Status.Conditions, v1alpha1.ConditionReady)
		if sub.Status.Phase != v1alpha1.PhaseAwaitingApproval || c == nil || c.Reason != v1alpha1.ReasonAwaitingAgreement ||
			!strings.Contains(c.Message, "spec.agreement") || !strings.Contains(c.Message, "Microsoft Customer Agreement") {
			return errf("phase %s, Ready %+v", sub.Status.Phase, c)
		}
		if sub.Status.Operation != nil {
			return errf("operation %+v recorded before the agreement", sub.Status.Operation)
		}
		return h.agreementIs("woodgrove", metav1.ConditionFalse, v1alpha1.ReasonAgreementMissing)
	})
	if n := h.sim.Stats().RequestsByRoute["CreateCart"]; n != 0 {
		t.Fatalf("%d carts sent before the agreement", n)
	}
	h.simPost("/sim/v1/agreements/accept", map[string]string{"customerTenantId": woodgroveTenant})
	sub := h.waitPhase("visio", v1alpha1.PhaseCompleted)
	if err := h.agreementIs("woodgrove", metav1.ConditionTrue, v1alpha1.ReasonAgreementAccepted); err != nil {
		t.Error(err)
	}
	st := h.sim.Stats()
	if st.ObjectsCreated["order"] != 1 || st.ObjectsCreated["agreement"] != 0 || sub.Status.Operation.Attempt != 1 {
		t.Errorf("%d orders, %d confirmations, attempt %d; want one order, no confirmation, attempt 1",
			st.ObjectsCreated["order"], st.ObjectsCreated["agreement"], sub.Status.Operation.Attempt)
	}
}

// TestAgreementConfirmedOnce: with spec.agreement recorded, the operator
// posts the partner's confirmation, an App+User call, exactly once, even
// when the status write after it fails (the next pass finds the
// confirmation it recorded in Partner Center and does not send it again);
// then the purchase goes through. The confirmation names the recorded
// contact and date, and an Event says who confirmed what.
func TestAgreementConfirmedOnce(t *testing.T) {
	var failed atomic.Bool
	h := start(t, withSim(sim.Options{CustomersWithoutAgreement: []string{woodgroveTenant}}),
		beforeStatusWrite(func(_ context.Context, obj client.Object, _ client.Patch) error {
			c, ok := obj.(*v1alpha1.Customer)
			if ok && c.Status.Agreement != nil && c.Status.Agreement.ConfirmedAt != nil && !failed.Swap(true) {
				return errors.New("injected: the status write after the confirmation fails")
			}
			return nil
		}))
	contoso, fabrikam := h.contoso(), h.fabrikam()
	agreed := metav1.NewTime(time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC))
	h.customer("woodgrove", func(c *v1alpha1.Customer) {
		c.Spec.Agreement = &v1alpha1.AgreementConfirmation{DateAgreed: agreed,
			Contact: v1alpha1.AgreementContact{FirstName: "Mia", LastName: "Ito", Email: "mia@woodgrove.example", PhoneNumber: "+1 425 555 0100"}}
	})
	h.policy(contoso.Name)
	h.customerAccepts(contoso.Spec.TenantID)
	h.subscription("visio", newLicense("woodgrove", fabrikam.Name, contoso.Name, 10))
	h.waitPhase("visio", v1alpha1.PhaseCompleted)

	c := h.readCustomer("woodgrove")
	cond := condition(c.Status.Conditions, v1alpha1.ConditionAgreementAccepted)
	if cond == nil || cond.Status != metav1.ConditionTrue || cond.Reason != v1alpha1.ReasonAgreementConfirmed || !strings.Contains(cond.Message, "mia@woodgrove.example") {
		t.Errorf("AgreementAccepted %+v", cond)
	}
	st := c.Status.Agreement
	if st == nil || st.RequestID == "" || st.Partner != contoso.Name || st.ConfirmedAt == nil || st.DateAgreed == nil || !st.DateAgreed.Equal(&agreed) {
		t.Errorf("status.agreement %+v", st)
	}
	stats := h.sim.Stats()
	if !failed.Load() || stats.ObjectsCreated["agreement"] != 1 || stats.RequestsByRoute["ConfirmCustomerAgreement"] != 1 || stats.ObjectsCreated["order"] != 1 {
		t.Errorf("write failed %v; %d confirmations from %d requests, %d orders; want one confirmation from one request, one order",
			failed.Load(), stats.ObjectsCreated["agreement"], stats.RequestsByRoute["ConfirmCustomerAgreement"], stats.ObjectsCreated["order"])
	}
	if ev := h.events("Customer", "woodgrove", "AgreementConfirmed"); len(ev) != 1 || !strings.Contains(ev[0].Note, "Mia Ito") {
		t.Errorf("AgreementConfirmed events %+v", ev)
	}
}

// TestAgreementNotApplicableInUSGovernment: the agreement calls do not
// apply to a US Government customer: nothing is read or posted, even
// through a partner the customer approved as reseller (through which a
// public-cloud customer's agreement is read).
func TestAgreementNotApplicableInUSGovernment(t *testing.T) {
	h := start(t)
	contoso := h.contoso()
	h.customer("woodgrove", func(c *v1alpha1.Customer) { c.Spec.Cloud = v1alpha1.CloudUSGovernment })
	h.create(&v1alpha1.ResellerRelationship{ObjectMeta: metav1.ObjectMeta{Namespace: h.ns, Name: "woodgrove-contoso"},
		Spec: v1alpha1.ResellerRelationshipSpec{PartnerRef: contoso.Name, CustomerRef: "woodgrove", DelegatedAdmin: ptr(true)}})
	h.customerAccepts(contosoTenant)
	h.waitRelationship("woodgrove-contoso", v1alpha1.RelationshipApproved)
	h.eventually("the agreement does not apply", func() error {
		return h.agreementIs("woodgrove", metav1.ConditionTrue, v1alpha1.ReasonAgreementNotApplicable)
	})
	if n := h.sim.Stats().RequestsByRoute["GetCustomerAgreements"]; n != 0 {
		t.Errorf("%d agreement reads for a US Government customer", n)
	}
}
