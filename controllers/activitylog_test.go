package controllers_test

import (
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	"github.com/partnerops/multichannel-operator/internal/decide"
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

// TestActivityLogShowsOutsideChange: of two purchases the operator
// completed, one is cancelled by the operator (a person asked it to, within
// Partner Center's window) and shows nothing: the operator's own call. The
// other is suspended in Partner Center by a person; the log's record shows
// on it (status.lastOutsideChange, naming who) with a Warning Event, and on
// nothing else.
func TestActivityLogShowsOutsideChange(t *testing.T) {
	h := start(t, withActivityLog(200*time.Millisecond))
	contoso, fabrikam := h.contoso(), h.fabrikam()
	h.woodgroveTrusts(contoso)
	const ana = "ana@contoso.example"
	h.grant(ana, "global-admin")
	for _, name := range []string{"visio", "project"} {
		spec := newLicense("woodgrove", fabrikam.Name, contoso.Name, 10)
		spec.Offer.ID = newCommerceOffer
		spec.SubscriptionID = "src-" + name
		h.subscription(name, spec)
	}
	visio, project := h.waitPhase("visio", v1alpha1.PhaseCompleted), h.waitPhase("project", v1alpha1.PhaseCompleted)
	key := client.ObjectKey{Namespace: h.ns, Name: "visio"}
	if _, err := decide.RecordCancellation(h.ctx, h.as(ana), key, decide.Cancellation{User: ana, Reason: "bought twice", Now: visio.Status.CancellableUntil.Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	h.eventually("the operator cancelled visio", func() error {
		if c := h.read("visio").Status.Cancellation; c == nil || c.CompletedAt == nil {
			return errf("cancellation %+v", c)
		}
		return nil
	})
	if err := h.sim.ChangeSubscription(project.Status.TargetSubscriptionID, sim.SubscriptionChange{Status: "suspended", By: ana}); err != nil {
		t.Fatal(err)
	}
	h.eventually("the suspension shows", func() error {
		project = h.read("project")
		if c := project.Status.LastOutsideChange; c == nil || c.Change != string(pc.ChangeSubscriptionSuspended) || c.By != ana {
			return errf("lastOutsideChange %+v", c)
		}
		if ev := h.events("CustomerSubscription", "project", "ChangedInPartnerCenter"); len(ev) != 1 || !strings.Contains(ev[0].Note, ana) {
			return errf("events %+v", ev)
		}
		return nil
	})
	h.waitQuiet()
	if c := h.read("visio").Status.LastOutsideChange; c != nil {
		t.Errorf("the operator's own cancellation shows as an outside change: %+v", c)
	}
	if project.Status.Phase != v1alpha1.PhaseCompleted {
		t.Errorf("phase %s, want Completed still", project.Status.Phase)
	}
}
