package controllers_test

import (
	"strings"
	"testing"

	"github.com/google/uuid"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	pc "github.com/partnerops/multichannel-operator/internal/partnercenter"
)

// A transfer under way that was created outside the operator, named by
// spec.transferID (kubectl multichannel import writes it), is followed:
// the operator creates nothing and needs no authorization for it.

// createTransferOutside creates, as contoso in Partner Center's UI would, a
// transfer of woodgrove's subscriptions from fabrikam, and returns its ID.
func createTransferOutside(t *testing.T, h *harness, subscriptionID string) string {
	t.Helper()
	tr, err := contosoClient(t, h).CreateTransfer(h.ctx, woodgroveTenant, uuid.NewString(), pc.Transfer{
		SourcePartnerTenantID: fabrikamTenant, SourcePartnerName: "Fabrikam", CustomerName: "woodgrove",
		TransferType: pc.PartnerTransferType, TargetProductTypes: []string{pc.TransferProductOnlineServicesNCE},
		LineItems: []pc.TransferLineItem{{SubscriptionID: subscriptionID, Quantity: 30, FriendlyName: "Microsoft 365 Business Premium"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return tr.ID
}

// TestAdoptedTransferFollowed: no ApprovalPolicy and no person's decision;
// the subscription follows the transfer to Completed, and the simulator
// counts no transfer, cart or order but the one created outside.
func TestAdoptedTransferFollowed(t *testing.T) {
	h := start(t)
	contoso, fabrikam := h.contoso(), h.fabrikam()
	h.customer("woodgrove")
	h.customerAccepts(contosoTenant)
	spec := licenseFromCSP("woodgrove", fabrikam.Name, contoso.Name, "2027-06-30T00:00:00Z")
	spec.Commerce = v1alpha1.CommerceNewCommerce
	spec.TransferID = createTransferOutside(t, h, spec.SubscriptionID)
	h.subscription("nce", spec)

	sub := h.waitOperationSent("nce")
	op := sub.Status.Operation
	if !op.Adopted || op.ExternalID != spec.TransferID || op.Type != v1alpha1.OperationCreateTransfer {
		t.Fatalf("operation = %+v, want the adopted transfer %s", op, spec.TransferID)
	}
	if sub.Status.Authorization != nil || op.AuthorizedBy != "" {
		t.Errorf("an adopted transfer needs no authorization: %+v %+v", sub.Status.Authorization, op.AuthorizedBy)
	}
	h.eventually("the transfer is awaited", func() error {
		sub = h.waitPhase("nce", v1alpha1.PhaseSwitching)
		if c := condition(sub.Status.Conditions, v1alpha1.ConditionReconciling); c == nil || c.Reason != v1alpha1.ReasonAwaitingTransfer {
			return errf("reconciling = %+v", c)
		}
		return nil
	})
	h.simPost("/sim/v1/transfers/"+spec.TransferID+"/accept", nil)
	sub = h.waitPhase("nce", v1alpha1.PhaseCompleted)
	if sub.Status.TargetSubscriptionID != spec.SubscriptionID {
		t.Errorf("targetSubscriptionID = %q", sub.Status.TargetSubscriptionID)
	}
	created := h.sim.Stats().ObjectsCreated
	if created["transfer"] != 1 || created["cart"] != 0 || created["order"] != 0 {
		t.Errorf("created %v, want only the transfer made outside", created)
	}
}

// TestTransferNotAdoptable: a transfer Partner Center does not hold, or one
// from another partner than spec.channel names, stalls the subscription
// with the reason; nothing is created in its place.
func TestTransferNotAdoptable(t *testing.T) {
	h := start(t)
	contoso, fabrikam := h.contoso(), h.fabrikam()
	h.woodgroveTrusts(contoso)
	unknown := licenseFromCSP("woodgrove", fabrikam.Name, contoso.Name, "2027-06-30T00:00:00Z")
	unknown.Commerce = v1alpha1.CommerceNewCommerce
	unknown.TransferID = uuid.NewString()
	h.subscription("unknown", unknown)
	// A transfer from fabrikam, for a subscription bought from northwind.
	northwind := h.partner("northwind", uuid.NewSHA1(uuid.NameSpaceOID, []byte("partner/northwind")).String(), v1alpha1.CSPTypeDirectBill, false)
	wrongSource := unknown
	wrongSource.SubscriptionID = "1b2c3d4e-5f60-4718-8a9b-0c1d2e3f4a5b"
	wrongSource.Channel.PartnerRef = northwind.Name
	wrongSource.TransferID = createTransferOutside(t, h, wrongSource.SubscriptionID)
	h.subscription("wrong-source", wrongSource)

	for _, name := range []string{"unknown", "wrong-source"} {
		h.eventually(name+" is stalled", func() error {
			sub := h.read(name)
			if c := condition(sub.Status.Conditions, v1alpha1.ConditionStalled); c == nil || c.Reason != v1alpha1.ReasonTransferNotAdoptable {
				return errf("stalled = %+v", c)
			}
			if sub.Status.Operation != nil {
				return errf("operation recorded: %+v", sub.Status.Operation)
			}
			return nil
		})
	}
	h.waitQuiet()
	if created := h.sim.Stats().ObjectsCreated; created["transfer"] != 1 || created["cart"] != 0 {
		t.Errorf("created %v, want only the transfer made outside", created)
	}
}

// TestTransferIDOffThePartnerSwitchPath: a subscription naming a transfer
// under way whose path is a purchase (its source was cancelled) buys
// nothing: it stalls until a person decides.
func TestTransferIDOffThePartnerSwitchPath(t *testing.T) {
	h := start(t)
	contoso, fabrikam := h.contoso(), h.fabrikam()
	h.woodgroveTrusts(contoso)
	spec := licenseFromCSP("woodgrove", fabrikam.Name, contoso.Name, "2027-06-30T00:00:00Z")
	spec.Commerce = v1alpha1.CommerceNewCommerce
	spec.TransferID = createTransferOutside(t, h, spec.SubscriptionID)
	spec.State = v1alpha1.SubscriptionCancelled // the path is now a new purchase
	h.subscription("nce", spec)
	h.eventually("the purchase waits for a person", func() error {
		sub := h.read("nce")
		if c := condition(sub.Status.Conditions, v1alpha1.ConditionStalled); c == nil || c.Reason != v1alpha1.ReasonTransferNotAdoptable || !strings.Contains(c.Message, "buys a new one") {
			return errf("stalled = %+v, path %+v", c, sub.Status.Eligibility)
		}
		return nil
	})
	h.waitQuiet()
	if created := h.sim.Stats().ObjectsCreated; created["cart"] != 0 || created["order"] != 0 || created["transfer"] != 1 {
		t.Errorf("created %v, want only the transfer made outside", created)
	}
}
