package controllers_test

import (
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	pc "github.com/partnerops/multichannel-operator/internal/partnercenter"
	"github.com/partnerops/multichannel-operator/internal/partnercenter/sim"
)

// The activity log as a change feed: objects waiting on Partner Center are
// woken by the partner's activity log, and poll only hourly meanwhile.

func (h *harness) partnerActivity(partner string) *v1alpha1.ActivityLogStatus {
	h.t.Helper()
	p := &v1alpha1.Partner{}
	if err := k8sClient.Get(h.ctx, client.ObjectKey{Name: partner}, p); err != nil {
		h.t.Fatal(err)
	}
	for i := range p.Status.ActivityLogs {
		if p.Status.ActivityLogs[i].Shard == "" {
			return &p.Status.ActivityLogs[i]
		}
	}
	return nil
}

// startFollowedTransfer: contoso asks fabrikam for a new-commerce transfer
// of woodgrove's subscription, with the activity log read every 200ms.
func startFollowedTransfer(t *testing.T) (*harness, *v1alpha1.Partner, *v1alpha1.CustomerSubscription) {
	t.Helper()
	h := start(t, withActivityLog(200*time.Millisecond))
	contoso, fabrikam := h.contoso(), h.fabrikam()
	h.woodgroveTrusts(contoso)
	spec := licenseFromCSP("woodgrove", fabrikam.Name, contoso.Name, "2027-06-30T00:00:00Z")
	spec.Commerce = v1alpha1.CommerceNewCommerce
	h.subscription("nce", spec)
	sub := h.waitOperationSent("nce")
	h.eventually("contoso's activity log is read", func() error {
		if st := h.partnerActivity(contoso.Name); st == nil || st.RecordsApplied == 0 {
			return errf("activityLog %+v", st)
		}
		return nil
	})
	return h, contoso, sub
}

// TestActivityLogWakesTransfer: while the log is read, the subscription
// does not poll the transfer (its fallback is hourly); the source partner's
// acceptance, recorded in the log, completes it.
func TestActivityLogWakesTransfer(t *testing.T) {
	h, _, sub := startFollowedTransfer(t)
	h.waitQuiet()
	gets := h.sim.Stats().RequestsByRoute["GetTransfer"]
	h.waitQuiet()
	if now := h.sim.Stats().RequestsByRoute["GetTransfer"]; now != gets {
		t.Errorf("the transfer was polled %d times while the activity log was read", now-gets)
	}
	h.simPost("/sim/v1/transfers/"+sub.Status.Operation.ExternalID+"/accept", nil)
	h.waitPhase("nce", v1alpha1.PhaseCompleted)
	h.waitQuiet()
	if c := h.read("nce").Status.LastOutsideChange; c != nil {
		t.Errorf("the transfer's completion shows as a change outside the operator: %+v", c)
	}
}

// TestActivityLogAcrossRestart: the manager stops; the source partner
// accepts meanwhile; a new manager reads from the stored checkpoint, misses
// nothing (the subscription completes) and applies no record twice
// (recordsApplied is the number of records in the log, and stays so).
func TestActivityLogAcrossRestart(t *testing.T) {
	h, contoso, sub := startFollowedTransfer(t)
	h.stopManager()
	h.simPost("/sim/v1/transfers/"+sub.Status.Operation.ExternalID+"/accept", nil)
	h.startManager()
	h.waitPhase("nce", v1alpha1.PhaseCompleted)
	h.waitQuiet()
	total := len(h.auditRecords(contosoTenant))
	if st := h.partnerActivity(contoso.Name); st.RecordsApplied != int64(total) {
		t.Fatalf("recordsApplied %d, want the log's %d records, each once", st.RecordsApplied, total)
	}
	reads := h.sim.Stats().AuditReads
	h.stopManager()
	h.startManager()
	h.eventually("the new manager read the log", func() error {
		if n := h.sim.Stats().AuditReads; n <= reads+1 {
			return errf("%d reads since the restart", n-reads)
		}
		return nil
	})
	h.waitQuiet()
	if st := h.partnerActivity(contoso.Name); st.RecordsApplied != int64(total) {
		t.Errorf("after another restart recordsApplied %d, want %d", st.RecordsApplied, total)
	}
}

// auditRecords is partner tenant's activity log of the last hour.
func (h *harness) auditRecords(partnerTenant string) []pc.AuditRecord {
	h.t.Helper()
	c := contosoClient(h.t, h)
	if partnerTenant != contosoTenant {
		h.t.Fatalf("only contoso's log is read")
	}
	records, err := c.AuditRecords(h.ctx, time.Now().Add(-time.Hour), time.Now().Add(time.Second))
	if err != nil {
		h.t.Fatal(err)
	}
	return records
}

// TestActivityLogTransferCancelledOutside: a transfer cancelled in Partner
// Center's UI while the subscription follows it (polling only hourly)
// fails the subscription, woken by the log's record.
func TestActivityLogTransferCancelledOutside(t *testing.T) {
	h, _, sub := startFollowedTransfer(t)
	h.simPost("/sim/v1/transfers/"+sub.Status.Operation.ExternalID+"/cancel", map[string]string{"by": "sam@contoso.example"})
	sub = h.waitPhase("nce", v1alpha1.PhaseFailed)
	if c := condition(sub.Status.Conditions, v1alpha1.ConditionStalled); c == nil || c.Reason != v1alpha1.ReasonTransferFailed {
		t.Errorf("stalled = %+v", c)
	}
}

// TestActivityLogShowsOutsideChange: a subscription the operator bought
// and completed is suspended in Partner Center by a person; the log's
// record shows on it (status.lastOutsideChange, naming who) with a Warning
// Event. The operator's own calls show nothing.
func TestActivityLogShowsOutsideChange(t *testing.T) {
	h := start(t, withActivityLog(200*time.Millisecond))
	contoso, fabrikam := h.contoso(), h.fabrikam()
	h.woodgroveTrusts(contoso)
	h.subscription("m365", newLicense("woodgrove", fabrikam.Name, contoso.Name, 10))
	h.waitPhase("m365", v1alpha1.PhaseCompleted)
	h.waitQuiet()
	sub := h.read("m365")
	if sub.Status.LastOutsideChange != nil {
		t.Fatalf("the operator's own purchase shows as an outside change: %+v", sub.Status.LastOutsideChange)
	}
	if err := h.sim.ChangeSubscription(sub.Status.TargetSubscriptionID, sim.SubscriptionChange{Status: "suspended", By: "ana@contoso.example"}); err != nil {
		t.Fatal(err)
	}
	h.eventually("the suspension shows", func() error {
		sub = h.read("m365")
		if c := sub.Status.LastOutsideChange; c == nil || c.Change != string(pc.ChangeSubscriptionSuspended) || c.By != "ana@contoso.example" {
			return errf("lastOutsideChange %+v", c)
		}
		return nil
	})
	if sub.Status.Phase != v1alpha1.PhaseCompleted {
		t.Errorf("phase %s, want Completed still", sub.Status.Phase)
	}
}
