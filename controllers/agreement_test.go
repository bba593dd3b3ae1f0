package controllers_test

import (
	"strings"
	"testing"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	"github.com/partnerops/multichannel-operator/internal/partnercenter/sim"
)

// TestPurchaseWaitsForTheCustomerAgreement: Partner Center refuses a
// purchase for a customer that has not accepted the Microsoft Customer
// Agreement (403, code 13605). The subscription is Stalled saying so and
// what to do, nothing is bought, and once the customer accepts, the same
// operation goes through, once.
func TestPurchaseWaitsForTheCustomerAgreement(t *testing.T) {
	h := start(t, withSim(sim.Options{CustomersWithoutAgreement: []string{woodgroveTenant}}))
	contoso, fabrikam := h.contoso(), h.fabrikam()
	h.woodgroveTrusts(contoso)
	h.subscription("visio", newLicense("woodgrove", fabrikam.Name, contoso.Name, 10))
	var opID string
	h.eventually("the purchase waits for the customer's agreement", func() error {
		sub := h.read("visio")
		c := condition(sub.Status.Conditions, v1alpha1.ConditionReady)
		if c == nil || c.Reason != v1alpha1.ReasonAgreementRequired || !strings.Contains(c.Message, "Microsoft Customer Agreement") {
			return errf("Ready %+v", c)
		}
		if kstatus(t, sub) != "Failed" { // Stalled: a person must act
			return errf("kstatus %s", kstatus(t, sub))
		}
		opID = sub.Status.Operation.ID
		return nil
	})
	if n := h.sim.Stats().ObjectsCreated["order"]; n != 0 {
		t.Fatalf("%d orders before the agreement", n)
	}
	h.simPost("/sim/v1/agreements/accept", map[string]string{"customerTenantId": woodgroveTenant})
	sub := h.waitPhase("visio", v1alpha1.PhaseCompleted)
	if sub.Status.Operation.ID != opID || h.sim.Stats().ObjectsCreated["order"] != 1 {
		t.Errorf("operation %s (was %s), %d orders; want the same operation, one order", sub.Status.Operation.ID, opID, h.sim.Stats().ObjectsCreated["order"])
	}
}
