package controllers

import (
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
)

var t0 = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

func at(d time.Duration) *metav1.Time { return &metav1.Time{Time: t0.Add(d)} }

func acceptRR(name string) v1alpha1.InvitationAction {
	return v1alpha1.InvitationAction{Kind: v1alpha1.ActionAcceptResellerRelationship, Object: "ResellerRelationship/" + name, URL: "https://admin.microsoft.com/x"}
}

// TestNextDelivery walks an invitation through its life: what a pass does
// in each state.
func TestNextDelivery(t *testing.T) {
	policy := reminderPolicy{every: time.Hour, max: 2, retry: time.Minute}
	actions := []v1alpha1.InvitationAction{acceptRR("a")}
	digest := actionsDigest(actions)
	delivered := []v1alpha1.DeliveryRecord{{Result: v1alpha1.DeliveryDelivered}}
	failed := func(attempts int32, ago time.Duration) []v1alpha1.DeliveryRecord {
		return []v1alpha1.DeliveryRecord{{Result: v1alpha1.DeliveryFailed, Attempts: attempts, AttemptedAt: at(-ago)}}
	}
	for _, tc := range []struct {
		name string
		inv  v1alpha1.CustomerInvitation
		want deliverStep
	}{
		{"new actions", v1alpha1.CustomerInvitation{Actions: actions}, deliverInvitation},
		{"actions changed since the invitation", v1alpha1.CustomerInvitation{Actions: actions, Digest: "other", Deliveries: delivered}, deliverInvitation},
		{"asked again after nothing was asked", v1alpha1.CustomerInvitation{Actions: actions, Digest: "", Deliveries: delivered}, deliverInvitation},
		{"recorded", v1alpha1.CustomerInvitation{Actions: actions, Digest: digest, Deliveries: []v1alpha1.DeliveryRecord{{Result: v1alpha1.DeliveryRecorded}}}, deliverSend},
		{"failed, retry due", v1alpha1.CustomerInvitation{Actions: actions, Digest: digest, Deliveries: failed(1, 2*time.Minute)}, deliverRetry},
		{"failed, retry not due", v1alpha1.CustomerInvitation{Actions: actions, Digest: digest, Deliveries: failed(1, 30*time.Second)}, deliverRetryLater},
		{"failed twice, the wait doubled", v1alpha1.CustomerInvitation{Actions: actions, Digest: digest, Deliveries: failed(2, 90*time.Second)}, deliverRetryLater},
		{"delivered, reminder not due", v1alpha1.CustomerInvitation{Actions: actions, Digest: digest, Deliveries: delivered, NextReminderAt: at(time.Minute)}, deliverNothing},
		{"delivered, reminder due", v1alpha1.CustomerInvitation{Actions: actions, Digest: digest, Deliveries: delivered, NextReminderAt: at(0)}, deliverReminder},
		{"reminders spent", v1alpha1.CustomerInvitation{Actions: actions, Digest: digest, Deliveries: delivered, Reminders: 2}, deliverNothing},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := nextDelivery(&tc.inv, policy, t0); got != tc.want {
				t.Errorf("nextDelivery = %d, want %d", got, tc.want)
			}
		})
	}
}

// TestNextReminderAt: the cadence after the latest delivery, pulled
// earlier so one reminder goes out beforeExpiry before each request
// expires; none while the latest is not delivered or once the reminders are
// spent, and a changed cadence applies at once.
func TestNextReminderAt(t *testing.T) {
	policy := reminderPolicy{every: 72 * time.Hour, max: 3, beforeExpiry: 48 * time.Hour}
	invitation := func(reminders int32, result v1alpha1.DeliveryResult, expiries ...time.Duration) *v1alpha1.CustomerInvitation {
		actions := []v1alpha1.InvitationAction{acceptRR("a")}
		for i, d := range expiries {
			a := acceptRR(string(rune('b' + i)))
			a.ExpiresAt = at(d)
			actions = append(actions, a)
		}
		return &v1alpha1.CustomerInvitation{Actions: actions, Digest: actionsDigest(actions), Reminders: reminders,
			Deliveries: []v1alpha1.DeliveryRecord{{Result: result, DeliveredAt: at(0)}}}
	}
	lowered := policy
	lowered.max = 1
	for _, tc := range []struct {
		name   string
		inv    *v1alpha1.CustomerInvitation
		policy reminderPolicy
		want   *metav1.Time
	}{
		{"no expiry", invitation(0, v1alpha1.DeliveryDelivered), policy, at(72 * time.Hour)},
		{"expiry far", invitation(0, v1alpha1.DeliveryDelivered, 30*24*time.Hour), policy, at(72 * time.Hour)},
		{"expiry within the interval", invitation(0, v1alpha1.DeliveryDelivered, 100*time.Hour), policy, at(52 * time.Hour)},
		{"the first request's last call passed, the second's is within", invitation(1, v1alpha1.DeliveryDelivered, 24*time.Hour, 110*time.Hour), policy, at(62 * time.Hour)},
		{"not delivered yet", invitation(0, v1alpha1.DeliveryRecorded), policy, nil},
		{"spent", invitation(3, v1alpha1.DeliveryDelivered, 100*time.Hour), policy, nil},
		{"the partner lowered maxReminders", invitation(2, v1alpha1.DeliveryDelivered), lowered, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := nextReminderAt(tc.inv, tc.policy)
			if (got == nil) != (tc.want == nil) || (got != nil && !got.Equal(tc.want)) {
				t.Errorf("nextReminderAt = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestDeliveryClaims: an attempt is made without looking first only by the
// process that recorded it, and only once.
func TestDeliveryClaims(t *testing.T) {
	c := newDeliveryClaims()
	c.add("a1", t0)
	if c.take("other") {
		t.Error("took an attempt never claimed here")
	}
	if !c.take("a1") {
		t.Fatal("did not take its own claim")
	}
	if c.take("a1") {
		t.Error("took the same attempt twice")
	}
	c.add("old", t0)
	c.add("new", t0.Add(25*time.Hour))
	if c.take("old") {
		t.Error("a claim a day old is still open")
	}
}

// TestActionsByPartner: what each partner asks now, and nothing for
// requests that are not waiting on the customer.
func TestActionsByPartner(t *testing.T) {
	expires := metav1.Duration{Duration: 720 * time.Hour}
	rr := func(name, partner string, phase v1alpha1.RelationshipPhase, url string) v1alpha1.ResellerRelationship {
		r := v1alpha1.ResellerRelationship{ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec:   v1alpha1.ResellerRelationshipSpec{PartnerRef: partner, ExpiresAfter: &expires},
			Status: v1alpha1.ResellerRelationshipStatus{Phase: phase, InvitationURL: url, RequestedAt: at(0)}}
		return r
	}
	gdap := func(name, partner string, phase v1alpha1.GDAPPhase) v1alpha1.DelegatedAdminRelationship {
		return v1alpha1.DelegatedAdminRelationship{ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec:   v1alpha1.DelegatedAdminRelationshipSpec{PartnerRef: partner},
			Status: v1alpha1.DelegatedAdminRelationshipStatus{Phase: phase, InvitationURL: "https://admin.microsoft.com/AdminPortal/Home#/partners/invitation/granularAdminRelationships/" + name}}
	}
	customer := &v1alpha1.Customer{ObjectMeta: metav1.ObjectMeta{Name: "woodgrove"}}
	customer.Status.Agreement = &v1alpha1.CustomerAgreementStatus{Partner: "contoso"}
	customer.Status.Conditions = []metav1.Condition{{Type: v1alpha1.ConditionAgreementAccepted, Status: metav1.ConditionFalse, Reason: v1alpha1.ReasonAgreementMissing}}
	got := actionsByPartner(customer, meta.FindStatusCondition(customer.Status.Conditions, v1alpha1.ConditionAgreementAccepted),
		[]v1alpha1.ResellerRelationship{
			rr("c1", "contoso", v1alpha1.RelationshipRequested, "https://admin.microsoft.com/rr"),
			rr("c2", "contoso", v1alpha1.RelationshipApproved, "https://admin.microsoft.com/rr2"),
			rr("f1", "fabrikam", v1alpha1.RelationshipRequested, ""), // no link yet
		},
		[]v1alpha1.DelegatedAdminRelationship{gdap("g1", "contoso", v1alpha1.GDAPApprovalPending), gdap("g2", "fabrikam", v1alpha1.GDAPActive)})
	if len(got) != 1 || len(got["contoso"]) != 3 {
		t.Fatalf("asks %+v", got)
	}
	want := []string{"AcceptCustomerAgreement/Customer/woodgrove", "AcceptResellerRelationship/ResellerRelationship/c1", "ApproveAdminRelationship/DelegatedAdminRelationship/g1"}
	for i, a := range got["contoso"] {
		if actionKey(a) != want[i] {
			t.Errorf("action %d = %s, want %s", i, actionKey(a), want[i])
		}
	}
	if e := got["contoso"][1].ExpiresAt; e == nil || !e.Equal(at(720*time.Hour)) {
		t.Errorf("the request's expiry = %v", e)
	}
	customer.Spec.Agreement = &v1alpha1.AgreementConfirmation{}
	if asks := actionsByPartner(customer, meta.FindStatusCondition(customer.Status.Conditions, v1alpha1.ConditionAgreementAccepted), nil, nil); len(asks) != 0 {
		t.Errorf("with spec.agreement the operator confirms it; asked %+v", asks)
	}
}

// TestDeliveryIDs: the same delivery gets the same ID, another gets another.
func TestDeliveryIDs(t *testing.T) {
	c := &v1alpha1.Customer{ObjectMeta: metav1.ObjectMeta{UID: "u1"}}
	first, again := deliveryID(c, "p", 1, 0), deliveryID(c.DeepCopy(), "p", 1, 0)
	if first != again {
		t.Error("not deterministic")
	}
	seen := map[string]bool{}
	for _, id := range []string{deliveryID(c, "p", 1, 0), deliveryID(c, "p", 1, 1), deliveryID(c, "p", 2, 0), deliveryID(c, "q", 1, 0)} {
		if seen[id] {
			t.Errorf("%s repeats", id)
		}
		seen[id] = true
	}
}
