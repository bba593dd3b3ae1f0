package controllers_test

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	"github.com/partnerops/multichannel-operator/controllers"
	"github.com/partnerops/multichannel-operator/internal/graph/graphsim"
	"github.com/partnerops/multichannel-operator/internal/notify/notifytest"
	"github.com/partnerops/multichannel-operator/internal/partnercenter/sim"
)

const contosoMailbox = "invitations@contoso.example"

// mailDelivery makes a Partner mail its invitations from contoso's
// mailbox, reminding every hour at most twice.
func mailDelivery(p *v1alpha1.Partner) {
	p.Spec.Delivery = &v1alpha1.Delivery{Mail: &v1alpha1.MailDelivery{From: contosoMailbox}, Reminders: everyHourTwice()}
}

func everyHourTwice() *v1alpha1.ReminderPolicy {
	return &v1alpha1.ReminderPolicy{EveryHours: ptr(int32(1)), MaxReminders: ptr(int32(2)), BeforeExpiryHours: ptr(int32(0))}
}

// twoAdmins gives the customer two contacts who can both accept a reseller request.
func twoAdmins(c *v1alpha1.Customer) {
	c.Spec.Contacts = []v1alpha1.CustomerContact{
		{Name: "Ada Admin", Email: "ada@woodgrove.example", Roles: []v1alpha1.ContactRole{v1alpha1.ContactGlobalAdmin}},
		{Name: "Grace Billing", Email: "grace@woodgrove.example", Roles: []v1alpha1.ContactRole{v1alpha1.ContactGlobalAdmin, v1alpha1.ContactBilling}},
		{Name: "Tim Technical", Email: "tim@woodgrove.example", Roles: []v1alpha1.ContactRole{v1alpha1.ContactTechnical}},
	}
}

// requestRelationship declares woodgrove's reseller relationship with
// partner and waits until the customer has a link to open.
func (h *harness) requestRelationship(partner string) *v1alpha1.ResellerRelationship {
	h.t.Helper()
	h.create(&v1alpha1.ResellerRelationship{ObjectMeta: metav1.ObjectMeta{Namespace: h.ns, Name: "woodgrove-contoso"},
		Spec: v1alpha1.ResellerRelationshipSpec{PartnerRef: partner, CustomerRef: "woodgrove"}})
	return h.waitRelationship("woodgrove-contoso", v1alpha1.RelationshipRequested)
}

// later moves the operator's clock on and wakes the Customer.
func (h *harness) later(d time.Duration) {
	h.t.Helper()
	h.clock.SetTime(h.clock.Now().Add(d))
	c := &v1alpha1.Customer{}
	if err := k8sClient.Get(h.ctx, client.ObjectKey{Namespace: h.ns, Name: "woodgrove"}, c); err != nil {
		h.t.Fatal(err)
	}
	patch := client.MergeFrom(c.DeepCopy())
	if c.Annotations == nil {
		c.Annotations = map[string]string{}
	}
	c.Annotations["test/now"] = h.clock.Now().Format(time.RFC3339)
	if err := k8sClient.Patch(h.ctx, c, patch); err != nil {
		h.t.Fatal(err)
	}
}

// invitation is partner's invitation of woodgrove, as the API server has it.
func (h *harness) invitation(partner string) *v1alpha1.CustomerInvitation {
	c := h.readCustomer("woodgrove")
	for i := range c.Status.Invitations {
		if c.Status.Invitations[i].Partner == partner {
			return &c.Status.Invitations[i]
		}
	}
	return nil
}

// waitDelivered waits until partner's latest delivery is reminder n (0: the
// invitation) and was delivered.
func (h *harness) waitDelivered(partner string, n int32) *v1alpha1.DeliveryRecord {
	h.t.Helper()
	var rec *v1alpha1.DeliveryRecord
	h.eventually(fmt.Sprintf("delivery %d delivered", n), func() error {
		inv := h.invitation(partner)
		if inv == nil || len(inv.Deliveries) == 0 {
			return errf("no delivery yet: %+v", inv)
		}
		rec = &inv.Deliveries[0]
		if rec.Reminder != n || rec.Result != v1alpha1.DeliveryDelivered {
			return errf("latest delivery %+v", rec)
		}
		return nil
	})
	return rec
}

func (h *harness) mailsSent() int { return h.graph.Stats().MailsSent }

// TestInvitationRemindersAndAcceptance: a customer with two contacts who
// can act (and one who cannot) gets one invitation, two reminders an hour
// apart, and nothing after it accepts; the evidence is in status.
func TestInvitationRemindersAndAcceptance(t *testing.T) {
	h := start(t)
	h.allowMail()
	contoso := h.contoso(mailDelivery)
	h.customer("woodgrove", twoAdmins)
	rr := h.requestRelationship(contoso.Name)

	first := h.waitDelivered(contoso.Name, 0)
	if first.Kind != v1alpha1.DeliveryInvitation || first.Channel != v1alpha1.ChannelMail ||
		strings.Join(first.To, ",") != "ada@woodgrove.example,grace@woodgrove.example" ||
		len(first.MessageIDs) != 1 || !strings.HasPrefix(first.MessageIDs[0], first.ID) ||
		len(first.Actions) != 1 || first.Actions[0] != "AcceptResellerRelationship/ResellerRelationship/woodgrove-contoso" {
		t.Errorf("the invitation: %+v", first)
	}
	mails := h.graph.SentMail(contosoTenant)
	if len(mails) != 1 || len(mails[0].To) != 2 || !strings.Contains(mails[0].Body, html.EscapeString(rr.Status.InvitationURL)) ||
		!strings.Contains(mails[0].Body, "contoso") {
		t.Fatalf("mails sent: %+v", mails)
	}
	if c := condition(h.readCustomer("woodgrove").Status.Conditions, v1alpha1.ConditionInvited); c == nil || c.Reason != v1alpha1.ReasonDelivered {
		t.Errorf("Invited: %+v", c)
	}

	for n := int32(1); n <= 2; n++ {
		h.later(time.Hour)
		rec := h.waitDelivered(contoso.Name, n)
		if rec.Kind != v1alpha1.DeliveryReminder || rec.ID == first.ID {
			t.Errorf("reminder %d: %+v", n, rec)
		}
	}
	h.later(time.Hour)
	h.consistently("no third reminder", time.Second, func() error {
		if n := h.mailsSent(); n != 3 {
			return errf("%d mails sent, want 3", n)
		}
		return nil
	})
	h.eventually("the reminders are spent", func() error {
		c := condition(h.readCustomer("woodgrove").Status.Conditions, v1alpha1.ConditionInvited)
		if c == nil || c.Reason != v1alpha1.ReasonRemindersExhausted {
			return errf("Invited: %+v", c)
		}
		return nil
	})

	h.customerAccepts(contosoTenant)
	h.waitRelationship("woodgrove-contoso", v1alpha1.RelationshipApproved)
	h.eventually("the acceptance is recorded", func() error {
		inv := h.invitation(contoso.Name)
		if inv == nil || len(inv.Accepted) != 1 || len(inv.Actions) != 0 {
			return errf("invitation %+v", inv)
		}
		if a := inv.Accepted[0]; a.Action != "AcceptResellerRelationship/ResellerRelationship/woodgrove-contoso" || a.Reminders != 2 {
			return errf("accepted %+v", a)
		}
		if c := condition(h.readCustomer("woodgrove").Status.Conditions, v1alpha1.ConditionInvited); c != nil {
			return errf("Invited is still %+v", c)
		}
		return nil
	})
	h.later(3 * time.Hour)
	h.consistently("nothing after accepting", time.Second, func() error {
		if n := h.mailsSent(); n != 3 {
			return errf("%d mails sent, want 3", n)
		}
		return nil
	})
	if got := h.events("Customer", "woodgrove", v1alpha1.ReasonReminderDelivered); len(got) != 2 {
		t.Errorf("%d ReminderDelivered events, want 2", len(got))
	}
}

// allowMail gives contoso's tenant its mailbox and the Mail.Send grant.
func (h *harness) allowMail() {
	h.t.Helper()
	if err := h.graph.AddMailbox(contosoTenant, contosoMailbox); err != nil {
		h.t.Fatal(err)
	}
	if err := h.graph.Grant(contosoTenant, graphsim.PermissionMailSend, graphsim.PermissionMailRead); err != nil {
		h.t.Fatal(err)
	}
}

// TestInvitationSentOnceAcrossRestarts stops the manager twice: after the
// invitation was recorded and before it reached Graph (its sendMail is
// held, never forwarded), and while the message was sent but its answer lost (and Sent
// Items shows it only a second later). The new manager did not record the
// attempt, so it looks in Sent Items and sends only when the message stayed
// absent for the grace: one message in all.
func TestInvitationSentOnceAcrossRestarts(t *testing.T) {
	for _, tc := range []struct {
		name   string
		method string
		suffix string
		sent   bool // the held request reached Graph
	}{
		{"recorded, not sent", http.MethodPost, "/sendMail", false},
		{"sent, answer lost", http.MethodPost, "/sendMail", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			held := &atomic.Bool{}
			h := start(t, withMiddleware(holdFirstRequest(tc.method, tc.suffix, tc.sent, held)),
				withGraphSim(graphsim.Options{SentItemsDelay: time.Second}))
			h.allowMail()
			contoso := h.contoso(mailDelivery)
			h.customer("woodgrove", twoAdmins)
			h.requestRelationship(contoso.Name)
			h.eventually("the delivery is recorded and its request held", func() error {
				inv := h.invitation(contoso.Name)
				if !held.Load() || inv == nil || len(inv.Deliveries) != 1 || inv.Deliveries[0].Result != v1alpha1.DeliveryRecorded {
					return errf("held %v, invitation %+v", held.Load(), inv)
				}
				return nil
			})
			h.stopManager()
			h.startManager()
			if !tc.sent {
				h.consistently("nothing is sent within the grace", time.Second, func() error {
					if n := h.mailsSent(); n != 0 {
						return errf("%d mails sent while the first attempt was in doubt", n)
					}
					return nil
				})
				h.later(6 * time.Minute) // the grace has passed: it was not sent
			} else {
				time.Sleep(1500 * time.Millisecond) // Sent Items shows it now
				h.later(time.Second)
			}
			rec := h.waitDelivered(contoso.Name, 0)
			if n := h.mailsSent(); n != 1 {
				t.Errorf("%d mails sent, want 1", n)
			}
			if len(rec.MessageIDs) != 1 {
				t.Errorf("delivery %+v", rec)
			}
		})
	}
}

// holdFirstRequest holds the first request with method whose path ends
// with suffix until its caller gives up; when process is set the
// simulator processes it first (its answer is lost).
func holdFirstRequest(method, suffix string, process bool, held *atomic.Bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == method && strings.HasSuffix(r.URL.Path, suffix) && held.CompareAndSwap(false, true) {
				if process {
					next.ServeHTTP(discard{}, r)
				} else {
					// Read, never forwarded: the server sees the caller leave
					// only once the body is read.
					_, _ = io.Copy(io.Discard, r.Body)
				}
				<-r.Context().Done()
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

type discard struct{}

func (discard) Header() http.Header         { return http.Header{} }
func (discard) Write(b []byte) (int, error) { return len(b), nil }
func (discard) WriteHeader(int)             {}

// TestInvitationWebhookFailsThenDelivers: a webhook that refuses makes the
// Customer Stalled with the channel's words, and the delivery is retried
// under the same ID until the webhook takes it; the receiver sees one event.
func TestInvitationWebhookFailsThenDelivers(t *testing.T) {
	receiver := notifytest.NewReceiver(t, "hook-token")
	h := start(t)
	h.create(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: h.ns, Name: "ticketing"},
		StringData: map[string]string{"url": receiver.URL(), "token": "hook-token"}})
	receiver.FailNext(1000, http.StatusServiceUnavailable)
	contoso := h.contoso(func(p *v1alpha1.Partner) {
		p.Spec.Delivery = &v1alpha1.Delivery{Webhook: &v1alpha1.WebhookDelivery{SecretRef: v1alpha1.SecretReference{Name: "ticketing"}},
			Reminders: everyHourTwice()}
	})
	h.customer("woodgrove", twoAdmins)
	h.requestRelationship(contoso.Name)

	h.eventually("the Customer is Stalled by the failing webhook", func() error {
		h.later(time.Second) // past the retry's wait
		c := h.readCustomer("woodgrove")
		stalled := condition(c.Status.Conditions, v1alpha1.ConditionStalled)
		if stalled == nil || stalled.Reason != v1alpha1.ReasonDeliveryFailed || !strings.Contains(stalled.Message, "503") {
			return errf("Stalled: %+v", stalled)
		}
		// The retry itself failed too: its attempt was sent, not only recorded.
		if inv := h.invitation(contoso.Name); inv == nil || inv.Deliveries[0].Attempts < 2 || inv.Deliveries[0].Result != v1alpha1.DeliveryFailed {
			return errf("not retried yet: %+v", inv)
		}
		return nil
	})
	receiver.FailNext(0, 0)
	h.later(time.Minute)
	rec := h.waitDelivered(contoso.Name, 0)
	got := receiver.Events()
	if len(got) != 1 || got[0].ID != rec.ID || rec.MessageIDs[0] != rec.ID || receiver.Deliveries() < 3 {
		t.Fatalf("events %+v (%d deliveries) for delivery %+v", got, receiver.Deliveries(), rec)
	}
	h.eventually("the Customer is no longer Stalled", func() error {
		c := h.readCustomer("woodgrove")
		if s := condition(c.Status.Conditions, v1alpha1.ConditionStalled); s != nil {
			return errf("Stalled: %+v", s)
		}
		return nil
	})
}

// TestInvitationResultSurvivesAConflict: the status write after a message
// went out conflicts (someone edited the Customer meanwhile) while the
// message is not yet in Sent Items; the result is written onto the live
// object, so the next pass does not send it again.
func TestInvitationResultSurvivesAConflict(t *testing.T) {
	conflicted := &atomic.Bool{}
	h := start(t, withGraphSim(graphsim.Options{SentItemsDelay: time.Hour}),
		beforeStatusWrite(func(_ context.Context, obj client.Object, patch client.Patch) error {
			data, _ := patch.Data(obj)
			if _, ok := obj.(*v1alpha1.Customer); ok && strings.Contains(string(data), `"result":"Delivered"`) && conflicted.CompareAndSwap(false, true) {
				return apierrors.NewConflict(schema.GroupResource{Group: v1alpha1.GroupVersion.Group, Resource: "customers"}, obj.GetName(), errors.New("edited meanwhile"))
			}
			return nil
		}))
	h.allowMail()
	contoso := h.contoso(mailDelivery)
	h.customer("woodgrove", twoAdmins)
	h.requestRelationship(contoso.Name)
	h.waitDelivered(contoso.Name, 0)
	if !conflicted.Load() {
		t.Fatal("the write after sending never conflicted: the test tested nothing")
	}
	h.consistently("the message is not sent again", time.Second, func() error {
		if n := h.mailsSent(); n != 1 {
			return errf("%d mails sent, want 1", n)
		}
		return nil
	})
}

// TestInvitationAsksForTheAgreement: Partner Center holds no acceptance of
// the Microsoft Customer Agreement and spec.agreement records none, so the
// invitation asks the customer's Global and Billing admins (one message) to
// accept it; the acceptance is seen and recorded with who accepted.
func TestInvitationAsksForTheAgreement(t *testing.T) {
	h := start(t, withSim(sim.Options{CustomersWithoutAgreement: []string{woodgroveTenant}}))
	h.allowMail()
	contoso := h.contoso(mailDelivery)
	h.customer("woodgrove", func(c *v1alpha1.Customer) {
		c.Spec.Contacts = []v1alpha1.CustomerContact{
			{Name: "Ada Admin", Email: "ada@woodgrove.example", Roles: []v1alpha1.ContactRole{v1alpha1.ContactGlobalAdmin}},
			{Name: "Bea Billing", Email: "bea@woodgrove.example", Roles: []v1alpha1.ContactRole{v1alpha1.ContactBilling}},
		}
	})
	h.customerAccepts(contosoTenant)
	h.create(&v1alpha1.ResellerRelationship{ObjectMeta: metav1.ObjectMeta{Namespace: h.ns, Name: "woodgrove-contoso"},
		Spec: v1alpha1.ResellerRelationshipSpec{PartnerRef: contoso.Name, CustomerRef: "woodgrove"}})
	h.waitRelationship("woodgrove-contoso", v1alpha1.RelationshipApproved)
	// The request link may have gone out before the customer's acceptance
	// was seen; the agreement's invitation is the latest either way.
	var rec *v1alpha1.DeliveryRecord
	h.eventually("the agreement's invitation is delivered", func() error {
		inv := h.invitation(contoso.Name)
		if inv == nil || len(inv.Deliveries) == 0 {
			return errf("invitation %+v", inv)
		}
		rec = &inv.Deliveries[0]
		if strings.Join(rec.Actions, ",") != "AcceptCustomerAgreement/Customer/woodgrove" || rec.Result != v1alpha1.DeliveryDelivered {
			return errf("latest delivery %+v", rec)
		}
		return nil
	})
	if strings.Join(rec.To, ",") != "ada@woodgrove.example,bea@woodgrove.example" {
		t.Fatalf("delivery %+v", rec)
	}
	var agreementMails []graphsim.SentMessage
	for _, m := range h.graph.SentMail(contosoTenant) {
		if strings.Contains(m.Body, html.EscapeString(controllers.CustomerAgreementLink)) {
			agreementMails = append(agreementMails, m)
		}
	}
	if len(agreementMails) != 1 || len(agreementMails[0].To) != 2 {
		t.Fatalf("mails with the agreement's link: %+v", agreementMails)
	}
	h.simPost("/sim/v1/agreements/accept", map[string]string{"customerTenantId": woodgroveTenant})
	h.eventually("the acceptance is recorded", func() error {
		inv := h.invitation(contoso.Name)
		if inv == nil || len(inv.Accepted) == 0 || inv.Accepted[0].Action != "AcceptCustomerAgreement/Customer/woodgrove" || inv.Accepted[0].By == "" {
			return errf("invitation %+v", inv)
		}
		return nil
	})
}
