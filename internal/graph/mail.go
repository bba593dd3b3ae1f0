package graph

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/mail"
	"net/url"
	"strings"
	"time"

	"github.com/partnerops/multichannel-operator/internal/apiretry"
)

// DeliveryKeyProperty names the single-value extended property that carries
// a mail's idempotency key (Mail.Key), in a named-property set of our own:
// Graph's documented form for a named string property is
// "String {GUID} Name <name>" (resources/extended-properties-overview.md).
// Graph compares the Name case-sensitively and the value case-insensitively
// (api/singlevaluelegacyextendedproperty-get.md): keys must differ in more
// than letter case. Never change it: mail sent under another id is not found.
const DeliveryKeyProperty = "String {81f5fbe3-9626-427e-bb95-365069455065} Name MultichannelDeliveryKey"

// MaxRecipients bounds a mail's recipients, as Exchange Online's default
// limit per message does.
const MaxRecipients = 500

// Mail is one email sent from a mailbox of the partner's tenant.
type Mail struct {
	// From is the sending mailbox: a user's object ID or userPrincipalName in
	// the partner's tenant.
	From string
	// To are the recipients; at least one, at most MaxRecipients.
	To      []Recipient
	Subject string
	// HTMLBody is the body, sent with contentType HTML.
	HTMLBody string
	// Key identifies the mail for FindSentMail: it travels as the extended
	// property DeliveryKeyProperty and is kept with the copy in Sent Items.
	// Required; unique per mail ignoring letter case.
	Key string
}

// Recipient is an email address and, optionally, the name shown with it.
type Recipient struct {
	Name    string
	Address string
}

// SentMail is a mail found in a mailbox's Sent Items.
type SentMail struct {
	ID                string
	InternetMessageID string
	SentDateTime      time.Time
}

// ErrInvalidMail: SendMail refused the mail before sending anything.
var ErrInvalidMail = errors.New("invalid mail")

// errNoToken: SendMail obtained no token, so sent nothing.
var errNoToken = errors.New("no token: the mail was not sent")

// SendMail sends m from the mailbox m.From (POST /users/{from}/sendMail, with
// the application permission Mail.Send) and keeps a copy in its Sent Items.
// Graph answers 202 Accepted: the mail is accepted for delivery, not
// delivered; an address that does not exist comes back later as a
// non-delivery report in the mailbox, not as an error here.
//
// Graph does not de-duplicate sendMail, so SendMail never sends m twice: not
// after a 5xx, a 429 or a network error, any of which may come after the
// mail was sent. When it fails and MaybeSent(err), look for the mail with
// FindSentMail before sending it again (see FindSentMail on how long to
// look).
func (c *Client) SendMail(ctx context.Context, m Mail) error {
	if err := m.validate(); err != nil {
		return err
	}
	if _, err := c.tokens.Token(); err != nil {
		return fmt.Errorf("microsoft graph SendMail: %w: %w", errNoToken, apiretry.TokenError(err))
	}
	return c.do(ctx, call{op: "SendMail", method: http.MethodPost, path: "/users/" + url.PathEscape(m.From) + "/sendMail",
		body: newSendMailBody(m)}, nil)
}

// FindSentMail returns the mail sent from mailbox from with idempotency key
// key, as its Sent Items hold it, or nil when they hold none. It needs the
// application permission Mail.Read (Mail.ReadBasic.All does not show
// extended properties).
//
// Exchange Online moves a mail to Sent Items only once its transport has
// taken it, after sendMail answered (concepts/outlook-things-to-know-about-
// send-mail.md): a mail sent a moment ago may not be found yet. Conclude that
// a mail was not sent only when it is still not found some minutes after the
// failed SendMail.
func (c *Client) FindSentMail(ctx context.Context, from, key string) (*SentMail, error) {
	if from == "" || key == "" {
		return nil, fmt.Errorf("microsoft graph FindSentMail: %w: a mailbox and a key are required", ErrInvalidMail)
	}
	q := url.Values{
		"$filter": {"singleValueExtendedProperties/Any(ep: ep/id eq " + odataString(DeliveryKeyProperty) +
			" and ep/value eq " + odataString(key) + ")"},
		"$select": {"id,internetMessageId,sentDateTime"},
	}
	var out list[wireSentMail]
	err := c.do(ctx, call{op: "FindSentMail", method: http.MethodGet, path: "/users/" + url.PathEscape(from) + "/mailFolders/SentItems/messages",
		query: q, retryable: true}, &out)
	if err != nil || len(out.Value) == 0 {
		return nil, err
	}
	m := out.Value[0]
	return &SentMail{ID: m.ID, InternetMessageID: m.InternetMessageID, SentDateTime: m.SentDateTime}, nil
}

// MaybeSent reports whether a failed SendMail may nonetheless have sent the
// mail: anything but a refusal before sending (ErrInvalidMail, no token, the
// tenant's own request budget spent) or Graph refusing the request as sent
// (4xx other than 408 and 429). Graph has been seen to send a mail and answer
// an error, a 429 included (learn.microsoft.com/en-us/answers/questions/5629476).
func MaybeSent(err error) bool {
	if err == nil || errors.Is(err, ErrInvalidMail) || errors.Is(err, errNoToken) || errors.Is(err, apiretry.ErrRateLimited) {
		return false
	}
	if _, ok := apiretry.RedirectRefused(err); ok {
		return false // the answer was a redirect, which is not followed
	}
	var e *Error
	if errors.As(err, &e) {
		s := e.StatusCode
		return s < 400 || s >= 500 || s == http.StatusRequestTimeout || s == http.StatusTooManyRequests
	}
	return true
}

// IsMailboxUnusable reports whether Graph refused a mail call for want of a
// usable mailbox or of the permission to use it, which only an administrator
// of the partner's tenant can mend:
//   - 403 ErrorAccessDenied: the application lacks Mail.Send (or Mail.Read
//     for FindSentMail) with admin consent, or an Exchange Online application
//     access policy keeps it out of this mailbox;
//   - 404 ErrorInvalidUser: no such user in the tenant ("The requested user
//     '...' is invalid.");
//   - 404 MailboxNotEnabledForRESTAPI: the user has no Exchange Online
//     mailbox (no license, on-premises, inactive or soft-deleted).
func IsMailboxUnusable(err error) bool {
	var e *Error
	if !errors.As(err, &e) {
		return false
	}
	switch {
	case e.StatusCode == http.StatusForbidden && e.Code == "ErrorAccessDenied":
		return true
	case e.StatusCode == http.StatusNotFound && (e.Code == "ErrorInvalidUser" || e.Code == "MailboxNotEnabledForRESTAPI"):
		return true
	}
	return false
}

// IsInvalidRecipients reports whether Graph refused a mail for its
// recipients (400 ErrorInvalidRecipients: an address it cannot resolve).
func IsInvalidRecipients(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.StatusCode == http.StatusBadRequest && e.Code == "ErrorInvalidRecipients"
}

// validate checks m before anything is sent.
func (m Mail) validate() error {
	invalid := func(format string, args ...any) error {
		return fmt.Errorf("microsoft graph SendMail: %w: %s", ErrInvalidMail, fmt.Sprintf(format, args...))
	}
	switch {
	case strings.TrimSpace(m.From) == "":
		return invalid("no sending mailbox (From)")
	case len(m.To) == 0:
		return invalid("no recipient")
	case len(m.To) > MaxRecipients:
		return invalid("%d recipients, more than %d", len(m.To), MaxRecipients)
	case m.Key == "":
		return invalid("no idempotency key")
	}
	for _, r := range m.To {
		if !ValidAddress(r.Address) {
			return invalid("recipient %q is not an email address", r.Address)
		}
	}
	return nil
}

// ValidAddress reports whether s is a plain email address (local@domain, no
// display name), as a recipient's address must be.
func ValidAddress(s string) bool {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return false
	}
	domain := s[strings.LastIndexByte(s, '@')+1:]
	return strings.Contains(domain, ".") && !strings.HasPrefix(domain, ".") && !strings.HasSuffix(domain, ".")
}

// odataString is s as an OData string literal: quoted, quotes doubled.
func odataString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// sendMailBody is sendMail's request body, as api/user-sendmail.md documents it.
type sendMailBody struct {
	Message         wireMessage `json:"message"`
	SaveToSentItems bool        `json:"saveToSentItems"`
}

// wireMessage is the part of a message resource that SendMail writes.
type wireMessage struct {
	Subject                       string             `json:"subject"`
	Body                          wireItemBody       `json:"body"`
	ToRecipients                  []wireRecipient    `json:"toRecipients"`
	SingleValueExtendedProperties []wireExtendedProp `json:"singleValueExtendedProperties"`
}

type wireItemBody struct {
	ContentType string `json:"contentType"`
	Content     string `json:"content"`
}

type wireRecipient struct {
	EmailAddress wireEmailAddress `json:"emailAddress"`
}

type wireEmailAddress struct {
	Name    string `json:"name,omitempty"`
	Address string `json:"address"`
}

type wireExtendedProp struct {
	ID    string `json:"id"`
	Value string `json:"value"`
}

// wireSentMail is a message as FindSentMail selects it.
type wireSentMail struct {
	ID                string    `json:"id"`
	InternetMessageID string    `json:"internetMessageId"`
	SentDateTime      time.Time `json:"sentDateTime"`
}

func newSendMailBody(m Mail) sendMailBody {
	to := make([]wireRecipient, 0, len(m.To))
	for _, r := range m.To {
		to = append(to, wireRecipient{EmailAddress: wireEmailAddress(r)})
	}
	return sendMailBody{
		Message: wireMessage{
			Subject: m.Subject, Body: wireItemBody{ContentType: "HTML", Content: m.HTMLBody}, ToRecipients: to,
			SingleValueExtendedProperties: []wireExtendedProp{{ID: DeliveryKeyProperty, Value: m.Key}},
		},
		SaveToSentItems: true,
	}
}
