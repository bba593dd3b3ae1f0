package graph_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/partnerops/multichannel-operator/internal/apiretry"
	"github.com/partnerops/multichannel-operator/internal/graph"
	"github.com/partnerops/multichannel-operator/internal/graph/graphsim"
)

const sender = "invitations@partner.example"

// mailWorld is a world whose partner tenant has the mailbox sender and has
// granted the permissions given.
func mailWorld(t *testing.T, o graphsim.Options, permissions ...string) *world {
	t.Helper()
	w := newWorld(t, o, nil)
	if err := w.graph.AddMailbox(partnerTenant, sender); err != nil {
		t.Fatal(err)
	}
	if len(permissions) > 0 {
		if err := w.graph.Grant(partnerTenant, permissions...); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

func invitation(key string) graph.Mail {
	return graph.Mail{From: sender, To: []graph.Recipient{{Name: "Dana Smith", Address: "dana@customer.example"}},
		Subject: "Your invitation", HTMLBody: "<p>Approve <a href=\"https://example.com\">here</a>.</p>", Key: key}
}

// graphError is err's *graph.Error, or a failure.
func graphError(t *testing.T, err error) *graph.Error {
	t.Helper()
	var e *graph.Error
	if !errors.As(err, &e) {
		t.Fatalf("err %v, want a *graph.Error", err)
	}
	return e
}

// TestSendMailFoundByKey: a mail sent is found in Sent Items by its key, as
// the simulator stored it; another key finds nothing; a key with a quote
// and a mailbox with one (escaped in the URL path) work.
func TestSendMailFoundByKey(t *testing.T) {
	w := mailWorld(t, graphsim.Options{}, graphsim.PermissionMailSend, graphsim.PermissionMailRead)
	c := w.client(t)
	ctx := context.Background()
	start := time.Now().Add(-time.Second)

	if err := c.SendMail(ctx, invitation("invite/contoso/1")); err != nil {
		t.Fatal(err)
	}
	found, err := c.FindSentMail(ctx, sender, "invite/contoso/1")
	if err != nil || found == nil {
		t.Fatalf("find: %+v, %v", found, err)
	}
	sent := w.graph.SentMail(partnerTenant)
	if len(sent) != 1 || found.ID != sent[0].ID || found.InternetMessageID != sent[0].InternetMessageID ||
		!strings.HasSuffix(found.InternetMessageID, "@partner.example>") || found.SentDateTime.Before(start.Truncate(time.Second)) {
		t.Fatalf("found %+v, sent %+v", found, sent)
	}
	m := sent[0]
	if m.From != sender || len(m.To) != 1 || m.To[0] != (graphsim.Recipient{Name: "Dana Smith", Address: "dana@customer.example"}) ||
		m.Subject != "Your invitation" || m.ContentType != "html" || !strings.Contains(m.Body, "Approve") ||
		m.Property(graph.DeliveryKeyProperty) != "invite/contoso/1" || !m.SavedToSentItems {
		t.Errorf("stored %+v", m)
	}
	if none, err := c.FindSentMail(ctx, sender, "invite/contoso/2"); err != nil || none != nil {
		t.Errorf("another key: %+v, %v", none, err)
	}
	// Graph compares an extended property's value case-insensitively.
	if same, err := c.FindSentMail(ctx, sender, "INVITE/CONTOSO/1"); err != nil || same == nil || same.ID != found.ID {
		t.Errorf("the key in upper case: %+v, %v; Graph matches it", same, err)
	}

	if err := c.SendMail(ctx, invitation("it's/2")); err != nil {
		t.Fatal(err)
	}
	if quoted, err := c.FindSentMail(ctx, sender, "it's/2"); err != nil || quoted == nil || quoted.ID == found.ID {
		t.Errorf("a key with a quote: %+v, %v", quoted, err)
	}

	const quotedBox = "o'brien@partner.example"
	if err := w.graph.AddMailbox(partnerTenant, quotedBox); err != nil {
		t.Fatal(err)
	}
	m2 := invitation("obrien/1")
	m2.From = quotedBox
	if err := c.SendMail(ctx, m2); err != nil {
		t.Fatalf("from %s: %v", quotedBox, err)
	}
	if got, err := c.FindSentMail(ctx, quotedBox, "obrien/1"); err != nil || got == nil {
		t.Errorf("in %s: %+v, %v", quotedBox, got, err)
	}
	if st := w.graph.Stats(); st.MailsSent != 3 || st.RequestsByRoute["SendMail"] != 3 || st.RequestsByRoute["ListMessages"] != 5 {
		t.Errorf("stats %+v", st)
	}
}

// TestMailWithoutPermission: without Mail.Send nothing is sent (403
// ErrorAccessDenied); without Mail.Read Sent Items cannot be read.
func TestMailWithoutPermission(t *testing.T) {
	w := mailWorld(t, graphsim.Options{})
	c := w.client(t)
	ctx := context.Background()
	err := c.SendMail(ctx, invitation("k1"))
	if e := graphError(t, err); e.StatusCode != http.StatusForbidden || e.Code != "ErrorAccessDenied" || e.Message != "Access is denied. Check credentials and try again." {
		t.Errorf("without Mail.Send: %v", err)
	}
	if !graph.IsMailboxUnusable(err) || graph.MaybeSent(err) || !graph.IsRejected(err) {
		t.Errorf("without Mail.Send: unusable %v, maybe sent %v, rejected %v; want true, false, true",
			graph.IsMailboxUnusable(err), graph.MaybeSent(err), graph.IsRejected(err))
	}
	_ = w.graph.Grant(partnerTenant, graphsim.PermissionMailSend)
	if err := c.SendMail(ctx, invitation("k1")); err != nil {
		t.Fatal(err)
	}
	_, err = c.FindSentMail(ctx, sender, "k1")
	if e := graphError(t, err); e.StatusCode != http.StatusForbidden || e.Code != "ErrorAccessDenied" || !graph.IsMailboxUnusable(err) {
		t.Errorf("without Mail.Read: %v", err)
	}
	if n := w.graph.Stats().MailsSent; n != 1 {
		t.Errorf("%d mails sent, want 1", n)
	}
}

// TestMailUnknownMailbox: a mailbox that does not exist, or exists in
// another tenant, is 404 ErrorInvalidUser.
func TestMailUnknownMailbox(t *testing.T) {
	w := mailWorld(t, graphsim.Options{}, graphsim.PermissionMailSend, graphsim.PermissionMailRead)
	_ = w.graph.AddMailbox(customerTenant, "admin@customer.example")
	c := w.client(t)
	for _, from := range []string{"nobody@partner.example", "admin@customer.example"} {
		m := invitation("k")
		m.From = from
		err := c.SendMail(context.Background(), m)
		if e := graphError(t, err); e.StatusCode != http.StatusNotFound || e.Code != "ErrorInvalidUser" ||
			e.Message != "The requested user '"+from+"' is invalid." || !graph.IsMailboxUnusable(err) || graph.MaybeSent(err) {
			t.Errorf("from %s: %v", from, err)
		}
		if _, err := c.FindSentMail(context.Background(), from, "k"); !graph.IsNotFound(err) {
			t.Errorf("find in %s: %v", from, err)
		}
	}
	if n := w.graph.Stats().MailsSent; n != 0 {
		t.Errorf("%d mails sent", n)
	}
}

// TestSendMailNotRetried: an injected 503 comes before anything is sent, and
// SendMail does not send again: Graph does not de-duplicate sendMail. A
// 429 is returned as throttling, nothing sent.
func TestSendMailNotRetried(t *testing.T) {
	w := mailWorld(t, graphsim.Options{ErrorRate: 1}, graphsim.PermissionMailSend, graphsim.PermissionMailRead)
	err := w.client(t).SendMail(context.Background(), invitation("k"))
	if e := graphError(t, err); e.StatusCode != http.StatusServiceUnavailable || !graph.MaybeSent(err) {
		t.Errorf("err %v: want the 503, which may have sent the mail", err)
	}
	if st := w.graph.Stats(); st.RequestsByRoute["SendMail"] != 1 || st.MailsSent != 0 {
		t.Errorf("%d requests, %d mails sent; want 1, 0", st.RequestsByRoute["SendMail"], st.MailsSent)
	}

	w = mailWorld(t, graphsim.Options{ThrottleRate: 1}, graphsim.PermissionMailSend)
	err = w.client(t).SendMail(context.Background(), invitation("k"))
	if _, ok := apiretry.ThrottledFor(err); !ok || !graph.MaybeSent(err) {
		t.Errorf("throttled: %v", err)
	}
	if st := w.graph.Stats(); st.RequestsByRoute["SendMail"] != 1 || st.MailsSent != 0 {
		t.Errorf("throttled: %d requests, %d mails sent; want 1, 0", st.RequestsByRoute["SendMail"], st.MailsSent)
	}
}

// TestSendMailReplyLost: the mail is sent and its answer lost; SendMail
// fails without sending again, and FindSentMail finds the mail.
func TestSendMailReplyLost(t *testing.T) {
	w := mailWorld(t, graphsim.Options{LoseSendMailReplyRate: 1}, graphsim.PermissionMailSend, graphsim.PermissionMailRead)
	c := w.client(t)
	err := c.SendMail(context.Background(), invitation("lost/1"))
	if e := graphError(t, err); e.StatusCode != http.StatusGatewayTimeout || !graph.MaybeSent(err) {
		t.Fatalf("err %v, want the 504", err)
	}
	if st := w.graph.Stats(); st.RequestsByRoute["SendMail"] != 1 || st.MailsSent != 1 || st.RepliesLost != 1 {
		t.Errorf("stats %+v: want one request, one mail, one reply lost", st)
	}
	found, err := c.FindSentMail(context.Background(), sender, "lost/1")
	if err != nil || found == nil {
		t.Errorf("the mail whose answer was lost: %+v, %v", found, err)
	}
}

// TestSentItemsLag: Sent Items show a mail only once Exchange's transport
// has taken it.
func TestSentItemsLag(t *testing.T) {
	w := mailWorld(t, graphsim.Options{SentItemsDelay: 2 * time.Minute}, graphsim.PermissionMailSend, graphsim.PermissionMailRead)
	c := w.client(t)
	ctx := context.Background()
	if err := c.SendMail(ctx, invitation("lag/1")); err != nil {
		t.Fatal(err)
	}
	if found, err := c.FindSentMail(ctx, sender, "lag/1"); err != nil || found != nil {
		t.Errorf("at once: %+v, %v; want none yet", found, err)
	}
	_ = w.graph.Advance(2 * time.Minute)
	if found, err := c.FindSentMail(ctx, sender, "lag/1"); err != nil || found == nil {
		t.Errorf("two minutes on: %+v, %v", found, err)
	}
}

// TestSendMailRefusedBeforeSending: a mail without a mailbox, a recipient
// or a key, or with a bad address, is refused before any request.
func TestSendMailRefusedBeforeSending(t *testing.T) {
	w := mailWorld(t, graphsim.Options{}, graphsim.PermissionMailSend, graphsim.PermissionMailRead)
	c := w.client(t)
	many := make([]graph.Recipient, graph.MaxRecipients+1)
	for i := range many {
		many[i] = graph.Recipient{Address: "a@b.example"}
	}
	for name, edit := range map[string]func(*graph.Mail){
		"no mailbox":      func(m *graph.Mail) { m.From = " " },
		"no recipient":    func(m *graph.Mail) { m.To = nil },
		"no key":          func(m *graph.Mail) { m.Key = "" },
		"bad address":     func(m *graph.Mail) { m.To[0].Address = "dana at customer" },
		"display name":    func(m *graph.Mail) { m.To[0].Address = "Dana <dana@customer.example>" },
		"no domain":       func(m *graph.Mail) { m.To[0].Address = "dana@customer" },
		"501 recipients":  func(m *graph.Mail) { m.To = many },
		"empty recipient": func(m *graph.Mail) { m.To = []graph.Recipient{{Name: "Dana"}} },
	} {
		m := invitation("k")
		edit(&m)
		if err := c.SendMail(context.Background(), m); !errors.Is(err, graph.ErrInvalidMail) || graph.MaybeSent(err) {
			t.Errorf("%s: %v, want ErrInvalidMail", name, err)
		}
	}
	if _, err := c.FindSentMail(context.Background(), sender, ""); !errors.Is(err, graph.ErrInvalidMail) {
		t.Errorf("find without a key: %v", err)
	}
	if n := w.graph.Stats().RequestsByRoute["SendMail"]; n != 0 {
		t.Errorf("%d requests sent", n)
	}
}

// TestMaybeSent: which failures of SendMail may have sent the mail.
func TestMaybeSent(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{&graph.Error{StatusCode: http.StatusBadRequest, Code: "ErrorInvalidRecipients"}, false},
		{&graph.Error{StatusCode: http.StatusUnauthorized}, false},
		{&graph.Error{StatusCode: http.StatusRequestTimeout}, true},
		{&graph.Error{StatusCode: http.StatusTooManyRequests, Code: "ApplicationThrottled"}, true},
		{&graph.Error{StatusCode: http.StatusInternalServerError, Code: "UnknownError"}, true},
		{&apiretry.ThrottledError{Op: "SendMail", After: time.Minute, Err: apiretry.ErrRateLimited}, false},
		{context.DeadlineExceeded, true},
		{errors.New("connection reset by peer"), true},
	} {
		if got := graph.MaybeSent(tc.err); got != tc.want {
			t.Errorf("MaybeSent(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
	if !graph.IsInvalidRecipients(&graph.Error{StatusCode: http.StatusBadRequest, Code: "ErrorInvalidRecipients"}) ||
		!graph.IsMailboxUnusable(&graph.Error{StatusCode: http.StatusNotFound, Code: "MailboxNotEnabledForRESTAPI"}) ||
		graph.IsMailboxUnusable(&graph.Error{StatusCode: http.StatusNotFound, Code: "ErrorItemNotFound"}) {
		t.Error("error helpers")
	}
}
