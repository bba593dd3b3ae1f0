package controllers_test

import (
	"strings"
	"sync/atomic"
	"testing"
	"time"

	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	"github.com/partnerops/multichannel-operator/internal/graph"
	"github.com/partnerops/multichannel-operator/internal/graph/graphsim"
	pc "github.com/partnerops/multichannel-operator/internal/partnercenter"
)

const helpdeskGroup = "8a1f3c9e-2b4d-4e6f-8a0b-1c2d3e4f5a6b"

// gdap declares a relationship of contoso with woodgrove.
func (h *harness) gdap(name, partner string, mutate ...func(*v1alpha1.DelegatedAdminRelationshipSpec)) *v1alpha1.DelegatedAdminRelationship {
	h.t.Helper()
	g := &v1alpha1.DelegatedAdminRelationship{ObjectMeta: metav1.ObjectMeta{Namespace: h.ns, Name: name},
		Spec: v1alpha1.DelegatedAdminRelationshipSpec{
			PartnerRef: partner, CustomerRef: "woodgrove", DisplayName: h.ns + "-" + name, Duration: "P90D",
			Roles: []string{"HelpdeskAdministrator", "GlobalReader"},
			AccessAssignments: []v1alpha1.GDAPAccessAssignment{
				{SecurityGroupID: helpdeskGroup, Roles: []string{"HelpdeskAdministrator"}},
			},
		}}
	for _, m := range mutate {
		m(&g.Spec)
	}
	h.create(g)
	return g
}

// waitGDAP waits until the relationship is in phase and check passes, and returns it.
func (h *harness) waitGDAP(name string, phase v1alpha1.GDAPPhase, check ...func(*v1alpha1.DelegatedAdminRelationship) error) *v1alpha1.DelegatedAdminRelationship {
	h.t.Helper()
	g := &v1alpha1.DelegatedAdminRelationship{}
	h.eventually("DelegatedAdminRelationship "+name+" is "+string(phase), func() error {
		if err := k8sClient.Get(h.ctx, client.ObjectKey{Namespace: h.ns, Name: name}, g); err != nil {
			return err
		}
		if g.Status.Phase != phase || g.Status.ObservedGeneration != g.Generation {
			return errf("phase %q (graph %q), conditions %v", g.Status.Phase, g.Status.GraphStatus, g.Status.Conditions)
		}
		for _, c := range check {
			if err := c(g); err != nil {
				return err
			}
		}
		return nil
	})
	return g
}

func readyTrue(g *v1alpha1.DelegatedAdminRelationship) error {
	if c := condition(g.Status.Conditions, v1alpha1.ConditionReady); c == nil || c.Status != metav1.ConditionTrue {
		return errf("not Ready: %v", g.Status.Conditions)
	}
	return nil
}

// approveAndActivate approves the relationship as the customer and waits until it is Active and Ready.
func (h *harness) approveAndActivate(name string) *v1alpha1.DelegatedAdminRelationship {
	h.t.Helper()
	g := h.waitGDAP(name, v1alpha1.GDAPApprovalPending)
	if err := h.graph.Approve(g.Status.RelationshipID); err != nil {
		h.t.Fatal(err)
	}
	return h.waitGDAP(name, v1alpha1.GDAPActive, readyTrue)
}

func (h *harness) gdapEvents(reason string) []eventsv1.Event {
	return h.events("DelegatedAdminRelationship", "", reason)
}

// events lists the Events with reason about objects of kind (and name, unless empty).
func (h *harness) events(kind, name, reason string) []eventsv1.Event {
	h.t.Helper()
	list := &eventsv1.EventList{}
	if err := k8sClient.List(h.ctx, list, client.InNamespace(h.ns)); err != nil {
		h.t.Fatal(err)
	}
	var out []eventsv1.Event
	for _, e := range list.Items {
		if e.Reason == reason && e.Regarding.Kind == kind && (name == "" || e.Regarding.Name == name) {
			out = append(out, e)
		}
	}
	return out
}

// waitGDAPEvent waits for exactly one Event with reason and type (Events are
// emitted after the status write, and recorded asynchronously).
func (h *harness) waitGDAPEvent(reason, eventType string) {
	h.t.Helper()
	h.eventually("one "+eventType+" Event "+reason, func() error {
		if ev := h.gdapEvents(reason); len(ev) != 1 || ev[0].Type != eventType {
			return errf("events %+v", ev)
		}
		return nil
	})
}

// TestGDAPCreateLockApproveActivateAssign follows a relationship from the
// declaration to active access for a security group, and the customer's summary.
func TestGDAPCreateLockApproveActivateAssign(t *testing.T) {
	h := start(t)
	contoso := h.contoso()
	h.customer("woodgrove")
	h.gdap("support", contoso.Name)

	g := h.waitGDAP("support", v1alpha1.GDAPApprovalPending)
	if g.Status.RelationshipID == "" || g.Status.InvitationURL != graph.InvitationURL(g.Status.RelationshipID) {
		t.Fatalf("relationshipID %q, invitationURL %q", g.Status.RelationshipID, g.Status.InvitationURL)
	}
	if !strings.HasPrefix(g.Status.InvitationURL, "https://admin.microsoft.com/AdminPortal/Home#/partners/invitation/granularAdminRelationships/") {
		t.Errorf("invitationURL %s", g.Status.InvitationURL)
	}
	if c := condition(g.Status.Conditions, v1alpha1.ConditionReady); c == nil || c.Reason != "AwaitingCustomerApproval" {
		t.Errorf("Ready while waiting: %+v", c)
	}
	rels := h.graph.Relationships(contosoTenant)
	if len(rels) != 1 || rels[0].Customer.TenantID != woodgroveTenant || rels[0].AutoExtendDuration != "PT0S" {
		t.Fatalf("relationships in Graph: %+v", rels)
	}
	if got := rels[0].AccessDetails.Roles(); len(got) != 2 || got[0] != v1alpha1.EntraRoles["HelpdeskAdministrator"] || got[1] != v1alpha1.EntraRoles["GlobalReader"] {
		t.Errorf("roles sent: %v", got)
	}

	g = h.approveAndActivate("support")
	if g.Status.ActivatedAt == nil || g.Status.EndsAt == nil || g.Status.EndsAt.Sub(g.Status.ActivatedAt.Time) != 90*24*time.Hour {
		t.Errorf("activatedAt %v, endsAt %v", g.Status.ActivatedAt, g.Status.EndsAt)
	}
	if len(g.Status.AccessAssignments) != 1 || g.Status.AccessAssignments[0].Status != graph.AssignmentActive || g.Status.AccessAssignments[0].ID == "" {
		t.Errorf("access assignments: %+v", g.Status.AccessAssignments)
	}
	if s := kstatus(t, g); s != status.CurrentStatus {
		t.Errorf("kstatus %s, want Current", s)
	}
	st := h.graph.Stats()
	if st.ObjectsCreated["relationship"] != 1 || st.ObjectsCreated["request:lockForApproval"] != 1 || st.ObjectsCreated["accessAssignment"] != 1 {
		t.Errorf("created in Graph: %v", st.ObjectsCreated)
	}

	cust := &v1alpha1.Customer{}
	h.eventually("the customer shows contoso's admin access", func() error {
		if err := k8sClient.Get(h.ctx, client.ObjectKey{Namespace: h.ns, Name: "woodgrove"}, cust); err != nil {
			return err
		}
		if len(cust.Status.AdminAccess) != 1 || cust.Status.AdminAccess[0].Partner != contoso.Name || len(cust.Status.AdminAccess[0].Roles) != 2 {
			return errf("adminAccess %+v", cust.Status.AdminAccess)
		}
		return nil
	})
	h.waitGDAPEvent("Active", "Normal")
}

// TestGDAPCrashBetweenCreateAndStatusWrite stops the manager while Graph has
// created the relationship but its answer never arrived, so status has no
// relationshipID; the next manager finds it by display name and creates no second.
func TestGDAPCrashBetweenCreateAndStatusWrite(t *testing.T) {
	held := &atomic.Bool{}
	h := start(t, withMiddleware(holdFirst("/tenantRelationships/delegatedAdminRelationships", held)))
	contoso := h.contoso()
	h.customer("woodgrove")
	h.gdap("support", contoso.Name)

	h.eventually("Graph created the relationship and its answer is held", func() error {
		if !held.Load() || h.graph.Stats().ObjectsCreated["relationship"] != 1 {
			return errf("held %v, created %v", held.Load(), h.graph.Stats().ObjectsCreated)
		}
		return nil
	})
	g := &v1alpha1.DelegatedAdminRelationship{}
	if err := k8sClient.Get(h.ctx, client.ObjectKey{Namespace: h.ns, Name: "support"}, g); err != nil {
		t.Fatal(err)
	}
	if g.Status.RelationshipID != "" {
		t.Fatalf("status already has relationship %s before the answer arrived", g.Status.RelationshipID)
	}

	h.stopManager()
	h.startManager()

	g = h.waitGDAP("support", v1alpha1.GDAPApprovalPending)
	rels := h.graph.Relationships(contosoTenant)
	if len(rels) != 1 || rels[0].ID != g.Status.RelationshipID {
		t.Fatalf("Graph holds %d relationship(s) %+v; status names %s", len(rels), rels, g.Status.RelationshipID)
	}
	if st := h.graph.Stats(); st.ObjectsCreated["relationship"] != 1 || st.DuplicatesRefused != 0 || st.ObjectsCreated["request:lockForApproval"] != 1 {
		t.Errorf("stats %+v: want one relationship, locked once, no second create", st)
	}
	h.approveAndActivate("support")
}

// TestGDAPExpiryWarnings moves the operator's clock to 30 and 7 days before
// the end of a relationship that does not auto-extend, then Graph's clock past it.
func TestGDAPExpiryWarnings(t *testing.T) {
	h, g := startWithActiveGDAP(t)
	end := g.Status.EndsAt.Time

	h.clock.SetTime(end.Add(-20 * 24 * time.Hour))
	h.waitGDAP("support", v1alpha1.GDAPExpiring, func(g *v1alpha1.DelegatedAdminRelationship) error {
		if c := condition(g.Status.Conditions, v1alpha1.ConditionExpiresSoon); c == nil || c.Reason != "ExpiresWithin30Days" {
			return errf("ExpiresSoon %+v", c)
		}
		return readyTrue(g)
	})
	h.clock.SetTime(end.Add(-5 * 24 * time.Hour))
	h.waitGDAP("support", v1alpha1.GDAPExpiring, func(g *v1alpha1.DelegatedAdminRelationship) error {
		if c := condition(g.Status.Conditions, v1alpha1.ConditionExpiresSoon); c == nil || c.Reason != "ExpiresWithin7Days" {
			return errf("ExpiresSoon %+v", c)
		}
		return nil
	})
	for _, reason := range []string{"ExpiresWithin30Days", "ExpiresWithin7Days"} {
		h.waitGDAPEvent(reason, "Warning")
	}

	if err := h.graph.Advance(91 * 24 * time.Hour); err != nil {
		t.Fatal(err)
	}
	h.clock.SetTime(end.Add(time.Hour))
	g = h.waitGDAP("support", v1alpha1.GDAPExpired)
	if c := condition(g.Status.Conditions, v1alpha1.ConditionStalled); c == nil || c.Reason != "RelationshipExpired" {
		t.Errorf("Stalled %+v", c)
	}
	h.eventually("the customer no longer shows admin access", func() error {
		cust := &v1alpha1.Customer{}
		if err := k8sClient.Get(h.ctx, client.ObjectKey{Namespace: h.ns, Name: "woodgrove"}, cust); err != nil {
			return err
		}
		if len(cust.Status.AdminAccess) != 0 {
			return errf("adminAccess %+v", cust.Status.AdminAccess)
		}
		return nil
	})
}

// TestGDAPAutoExtendNoWarning: a relationship that auto-extends gives no warning before its end.
func TestGDAPAutoExtendNoWarning(t *testing.T) {
	h := start(t)
	contoso := h.contoso()
	h.customer("woodgrove")
	h.gdap("support", contoso.Name, func(s *v1alpha1.DelegatedAdminRelationshipSpec) { s.AutoExtendDuration = "P180D" })
	g := h.approveAndActivate("support")
	h.clock.SetTime(g.Status.EndsAt.Add(-5 * 24 * time.Hour))
	h.consistently("no warning on a relationship that auto-extends", 2*time.Second, func() error {
		if err := k8sClient.Get(h.ctx, client.ObjectKeyFromObject(g), g); err != nil {
			return err
		}
		if c := condition(g.Status.Conditions, v1alpha1.ConditionExpiresSoon); c != nil || g.Status.Phase != v1alpha1.GDAPActive {
			return errf("phase %s, ExpiresSoon %+v", g.Status.Phase, c)
		}
		return nil
	})
}

// TestGDAPDeleteTerminatesOnlyWhenAsked deletes an active relationship's
// object with and without spec.terminateOnDelete.
func TestGDAPDeleteTerminatesOnlyWhenAsked(t *testing.T) {
	for _, tc := range []struct {
		name      string
		terminate bool
		want      string
	}{
		{"kept by default", false, graph.StatusActive},
		{"terminated when asked", true, graph.StatusTerminated},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := start(t)
			contoso := h.contoso()
			h.customer("woodgrove")
			h.gdap("support", contoso.Name, func(s *v1alpha1.DelegatedAdminRelationshipSpec) { s.TerminateOnDelete = tc.terminate })
			g := h.approveAndActivate("support")
			if has := len(g.Finalizers) > 0; has != tc.terminate {
				t.Errorf("finalizers %v with terminateOnDelete %v", g.Finalizers, tc.terminate)
			}
			if err := k8sClient.Delete(h.ctx, g); err != nil {
				t.Fatal(err)
			}
			h.eventually("the object is gone", func() error {
				err := k8sClient.Get(h.ctx, client.ObjectKeyFromObject(g), &v1alpha1.DelegatedAdminRelationship{})
				if !apierrors.IsNotFound(err) {
					return errf("still there: %v", err)
				}
				return nil
			})
			_ = h.graph.Relationships(contosoTenant) // each read moves terminationRequested → terminating → terminated
			rels := h.graph.Relationships(contosoTenant)
			if len(rels) != 1 || rels[0].Status != tc.want {
				t.Errorf("Graph: %+v; want status %s", rels, tc.want)
			}
			want := 0
			if tc.terminate {
				want = 1
			}
			if n := h.graph.Stats().ObjectsCreated["request:terminate"]; n != want {
				t.Errorf("%d terminate request(s), want %d", n, want)
			}
		})
	}
}

// TestGDAPUnderInjectedErrors: with half of Graph's answers failing, the
// relationship still gets to Active with one relationship, one lock and one
// assignment in Graph.
func TestGDAPUnderInjectedErrors(t *testing.T) {
	h := start(t, withGraphSim(graphsim.Options{ErrorRate: 0.5})) // a fifth let a short run go without any
	contoso := h.contoso()
	h.customer("woodgrove")
	h.gdap("support", contoso.Name)
	h.approveAndActivate("support")
	st := h.graph.Stats()
	if st.ErrorsInjected == 0 {
		t.Error("no error was injected")
	}
	if st.ObjectsCreated["relationship"] != 1 || st.ObjectsCreated["request:lockForApproval"] != 1 || st.ObjectsCreated["accessAssignment"] != 1 {
		t.Errorf("created in Graph: %v", st.ObjectsCreated)
	}
}

// TestGDAPNeedsCredentials: a reference-only partner cannot ask for GDAP.
func TestGDAPNeedsCredentials(t *testing.T) {
	h := start(t)
	fabrikam := h.fabrikam()
	h.customer("woodgrove")
	h.gdap("support", fabrikam.Name)
	g := h.waitGDAP("support", v1alpha1.GDAPPending, func(g *v1alpha1.DelegatedAdminRelationship) error {
		if c := condition(g.Status.Conditions, v1alpha1.ConditionStalled); c == nil || c.Reason != "NoCredentials" {
			return errf("Stalled %+v", c)
		}
		return nil
	})
	if s := kstatus(t, g); s != status.FailedStatus {
		t.Errorf("kstatus %s, want Failed", s)
	}
	if n := h.graph.Stats().RequestsByRoute["CreateRelationship"]; n != 0 {
		t.Errorf("%d create calls for a reference-only partner", n)
	}
}

// TestGDAPAutoExtensionChangedWhileActive: autoExtendDuration is the one
// setting Graph lets change on an active relationship; turning it on ends the warning.
func TestGDAPAutoExtensionChangedWhileActive(t *testing.T) {
	h, g := startWithActiveGDAP(t)
	h.clock.SetTime(g.Status.EndsAt.Add(-5 * 24 * time.Hour))
	g = h.waitGDAP("support", v1alpha1.GDAPExpiring)

	patch := client.MergeFrom(g.DeepCopy())
	g.Spec.AutoExtendDuration = "P180D"
	if err := k8sClient.Patch(h.ctx, g, patch); err != nil {
		t.Fatal(err)
	}
	h.waitGDAP("support", v1alpha1.GDAPActive, func(g *v1alpha1.DelegatedAdminRelationship) error {
		if c := condition(g.Status.Conditions, v1alpha1.ConditionExpiresSoon); c != nil {
			return errf("ExpiresSoon %+v", c)
		}
		return readyTrue(g)
	})
	if rels := h.graph.Relationships(contosoTenant); len(rels) != 1 || rels[0].AutoExtendDuration != "P180D" {
		t.Errorf("Graph: %+v", rels)
	}
	if n := h.graph.Stats().RequestsByRoute["UpdateRelationship"]; n != 1 {
		t.Errorf("%d updates, want 1", n)
	}
}

// TestGDAPAdoptsAndAlignsACreatedRelationship: a created relationship of the
// same name and customer (left by an earlier run) is taken over, brought in
// line with the spec while Graph still allows it, and locked; none is created.
func TestGDAPAdoptsAndAlignsACreatedRelationship(t *testing.T) {
	h := start(t)
	g, err := graph.New(graph.Config{Endpoint: h.simURL, AuthorityHost: h.simURL, TenantID: contosoTenant,
		Credentials: pc.Credentials{ClientID: "test", ClientSecret: "test"}})
	if err != nil {
		t.Fatal(err)
	}
	left, err := g.CreateRelationship(h.ctx, graph.Relationship{DisplayName: h.ns + "-support", Duration: "P30D",
		Customer: &graph.CustomerParticipant{TenantID: woodgroveTenant}, AccessDetails: graph.NewAccessDetails([]string{v1alpha1.EntraRoles["GlobalReader"]})})
	if err != nil {
		t.Fatal(err)
	}
	contoso := h.contoso()
	h.customer("woodgrove")
	h.gdap("support", contoso.Name)
	obj := h.waitGDAP("support", v1alpha1.GDAPApprovalPending)
	if obj.Status.RelationshipID != left.ID {
		t.Errorf("status names %s, the relationship left behind is %s", obj.Status.RelationshipID, left.ID)
	}
	rels := h.graph.Relationships(contosoTenant)
	if len(rels) != 1 || rels[0].Duration != "P90D" || len(rels[0].AccessDetails.Roles()) != 2 {
		t.Errorf("Graph: %+v", rels)
	}
	if st := h.graph.Stats(); st.ObjectsCreated["relationship"] != 1 || st.RequestsByRoute["UpdateRelationship"] != 1 {
		t.Errorf("stats %+v", st)
	}
}

// TestGDAPTerminatedByTheCustomer: the customer ends the relationship in their
// admin center; Terminated is final and the customer's summary drops it.
func TestGDAPTerminatedByTheCustomer(t *testing.T) {
	h, g := startWithActiveGDAP(t)
	h.simPost("/sim/graph/v1/relationships/"+g.Status.RelationshipID+"/terminate", nil)
	g = h.waitGDAP("support", v1alpha1.GDAPTerminated)
	if c := condition(g.Status.Conditions, v1alpha1.ConditionStalled); c == nil || c.Reason != "RelationshipTerminated" {
		t.Errorf("Stalled %+v", c)
	}
	if s := kstatus(t, g); s != status.FailedStatus {
		t.Errorf("kstatus %s, want Failed", s)
	}
	h.waitGDAPEvent("Terminated", "Warning")
	h.eventually("the customer no longer shows admin access", func() error {
		cust := &v1alpha1.Customer{}
		if err := k8sClient.Get(h.ctx, client.ObjectKey{Namespace: h.ns, Name: "woodgrove"}, cust); err != nil {
			return err
		}
		if len(cust.Status.AdminAccess) != 0 {
			return errf("adminAccess %+v", cust.Status.AdminAccess)
		}
		return nil
	})
}

// TestGDAPGoneFromGraph: a relationship Microsoft Graph no longer has
// (its read answers 404) is Terminated, and the pass that finds so ends
// there: nothing after it is asked of a relationship that is not there.
func TestGDAPGoneFromGraph(t *testing.T) {
	h, g := startWithActiveGDAP(t)
	g.Status.RelationshipID = "00000000-0000-4000-8000-00000000dead" // as if Graph had dropped it
	if err := k8sClient.Status().Update(h.ctx, g); err != nil {
		t.Fatal(err)
	}
	g = h.waitGDAP("support", v1alpha1.GDAPTerminated)
	if c := condition(g.Status.Conditions, v1alpha1.ConditionStalled); c == nil || c.Reason != v1alpha1.ReasonGDAPTerminated {
		t.Errorf("Stalled %+v", c)
	}
	if c := condition(g.Status.Conditions, v1alpha1.ConditionReconciling); c != nil {
		t.Errorf("Reconciling %+v: the pass failed", c)
	}
	if g.Status.GraphStatus != "" {
		t.Errorf("graphStatus %q, want none", g.Status.GraphStatus)
	}
}

// startWithActiveGDAP starts a harness with partner contoso, customer
// woodgrove and their relationship "support", approved and active.
func startWithActiveGDAP(t *testing.T) (*harness, *v1alpha1.DelegatedAdminRelationship) {
	t.Helper()
	h := start(t)
	contoso := h.contoso()
	h.customer("woodgrove")
	h.gdap("support", contoso.Name)
	return h, h.approveAndActivate("support")
}
