package graphsim

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/mail"
	"slices"
	"sort"
	"strings"
	"time"
)

// Mail: POST /v1.0/users/{id}/sendMail and GET
// /v1.0/users/{id}/mailFolders/SentItems/messages, as Microsoft Graph
// documents them (api/user-sendmail.md, api/user-list-messages.md,
// api/singlevaluelegacyextendedproperty-get.md) and answers them:
//
//   - a mailbox exists only once added (AddMailbox), in one tenant: a token
//     of another tenant does not see it (404 ErrorInvalidUser);
//   - the application permissions Mail.Send (sendMail) and Mail.Read (read
//     messages and their extended properties) hold only once granted per
//     tenant (Grant), as an administrator's consent does: without them, 403
//     ErrorAccessDenied;
//   - sendMail is not de-duplicated by client-request-id, answers 202 with no
//     body, and its mail reaches Sent Items only Options.SentItemsDelay later
//     (Exchange Online moves it there once its transport has taken it);
//   - the body is read as strictly as Graph's OData reader: property names
//     are case-sensitive, unknown ones refused; recipients must be email
//     addresses; message properties the simulator does not model are refused
//     rather than ignored, so that nothing is taken that is not checked;
//   - a listing takes only the $filter FindSentMail sends (one single-value
//     extended property, value eq) and $select.
//
// Errors, codes and messages as Graph answers them (public reports cited in
// internal/graph/testdata/SOURCES and the client's doc comments).

// The application permissions a tenant's administrator grants (Grant).
const (
	PermissionMailSend = "Mail.Send"
	PermissionMailRead = "Mail.Read"
)

// maxRecipients is Exchange Online's default limit of recipients per message.
const maxRecipients = 500

// Recipient is a mail's recipient as the simulator keeps it.
type Recipient struct {
	Name    string `json:"name,omitempty"`
	Address string `json:"address"`
}

// SentMessage is a mail the simulator accepted (SentMail).
type SentMessage struct {
	ID                string      `json:"id"`
	InternetMessageID string      `json:"internetMessageId"`
	From              string      `json:"from"` // the mailbox's address
	To                []Recipient `json:"to,omitempty"`
	Cc                []Recipient `json:"cc,omitempty"`
	Bcc               []Recipient `json:"bcc,omitempty"`
	Subject           string      `json:"subject"`
	ContentType       string      `json:"contentType"` // text or html
	Body              string      `json:"body"`
	// Properties are the single-value extended properties, by their id in a
	// canonical form (see Property).
	Properties       map[string]string `json:"properties,omitempty"`
	SentDateTime     time.Time         `json:"sentDateTime"`
	SavedToSentItems bool              `json:"savedToSentItems"`
	// ReplyLost: the simulator answered 504 after accepting the mail
	// (Options.LoseSendMailReplyRate).
	ReplyLost bool `json:"replyLost,omitempty"`
}

// Property returns the value of the single-value extended property id
// (such as "String {GUID} Name Key"), or "".
func (m SentMessage) Property(id string) string {
	canonical, ok := propertyID(id)
	if !ok {
		return ""
	}
	return m.Properties[canonical]
}

// mailbox is a mailbox of a tenant.
type mailbox struct {
	Tenant  string `json:"tenant"`
	Address string `json:"address"`
}

// sentItem is an accepted mail and where it is.
type sentItem struct {
	Tenant string      `json:"tenant"`
	Mail   SentMessage `json:"mail"`
	// InSentItemsAt: from then on (simulator clock) Sent Items show it.
	InSentItemsAt time.Time `json:"inSentItemsAt"`
}

func mailboxKey(tenant, address string) string { return tenant + "|" + strings.ToLower(address) }

// AddMailbox creates the mailbox address (its userPrincipalName) in tenant.
// Adding it again changes nothing.
func (s *Server) AddMailbox(tenant, address string) error {
	if tenant == "" || !validAddress(address) {
		return fmt.Errorf("a mailbox needs a tenant and an email address, not %q / %q", tenant, address)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.st.Mailboxes[mailboxKey(tenant, address)]; !ok {
		s.st.Mailboxes[mailboxKey(tenant, address)] = &mailbox{Tenant: tenant, Address: address}
	}
	return s.save()
}

// Grant acts as tenant's administrator consenting to the application
// permissions (PermissionMailSend, PermissionMailRead) for the partner's
// application.
func (s *Server) Grant(tenant string, permissions ...string) error {
	if tenant == "" {
		return fmt.Errorf("no tenant")
	}
	for _, p := range permissions {
		if p != PermissionMailSend && p != PermissionMailRead {
			return fmt.Errorf("the simulator grants %s and %s, not %q", PermissionMailSend, PermissionMailRead, p)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range permissions {
		if !s.granted(tenant, p) {
			s.st.Grants[tenant] = append(s.st.Grants[tenant], p)
		}
	}
	return s.save()
}

// SentMail returns a copy of the mail tenant's mailboxes sent, oldest first,
// whether or not Sent Items show it yet.
func (s *Server) SentMail(tenant string) []SentMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []SentMessage
	for _, it := range s.st.Mail {
		if it.Tenant == tenant {
			out = append(out, it.Mail.clone())
		}
	}
	return out
}

func (m SentMessage) clone() SentMessage {
	c := m
	c.To, c.Cc, c.Bcc = append([]Recipient(nil), m.To...), append([]Recipient(nil), m.Cc...), append([]Recipient(nil), m.Bcc...)
	c.Properties = make(map[string]string, len(m.Properties))
	for k, v := range m.Properties {
		c.Properties[k] = v
	}
	return c
}

// addMailboxRoute: POST /sim/graph/v1/mailboxes {"tenant", "address"}.
func (s *Server) addMailboxRoute(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Tenant  string `json:"tenant"`
		Address string `json:"address"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		writeJSON(w, http.StatusBadRequest, graphError("BadRequest", "send {\"tenant\": \"...\", \"address\": \"user@domain\"}"))
		return
	}
	if err := s.AddMailbox(body.Tenant, body.Address); err != nil {
		writeJSON(w, http.StatusBadRequest, graphError("BadRequest", "%v", err))
		return
	}
	writeJSON(w, http.StatusCreated, body)
}

// grantRoute: POST /sim/graph/v1/grants {"tenant", "permissions": ["Mail.Send", "Mail.Read"]}.
func (s *Server) grantRoute(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Tenant      string   `json:"tenant"`
		Permissions []string `json:"permissions"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		writeJSON(w, http.StatusBadRequest, graphError("BadRequest", "send {\"tenant\": \"...\", \"permissions\": [\"Mail.Send\", \"Mail.Read\"]}"))
		return
	}
	if err := s.Grant(body.Tenant, body.Permissions...); err != nil {
		writeJSON(w, http.StatusBadRequest, graphError("BadRequest", "%v", err))
		return
	}
	writeJSON(w, http.StatusOK, body)
}

// granted reports whether tenant granted permission. The caller holds s.mu.
func (s *Server) granted(tenant, permission string) bool {
	return slices.Contains(s.st.Grants[tenant], permission)
}

// mailboxFor finds the mailbox {id} of the token's tenant, after checking the
// tenant granted permission. The caller holds s.mu.
func (s *Server) mailboxFor(r *http.Request, tenant, permission string) (*mailbox, *reply) {
	if !s.granted(tenant, permission) {
		rep := fail(http.StatusForbidden, "ErrorAccessDenied", "Access is denied. Check credentials and try again.")
		return nil, &rep
	}
	id := r.PathValue("id")
	mb, ok := s.st.Mailboxes[mailboxKey(tenant, id)]
	if !ok {
		rep := fail(http.StatusNotFound, "ErrorInvalidUser", "The requested user '%s' is invalid.", id)
		return nil, &rep
	}
	return mb, nil
}

// sendMail accepts a mail: 202, no body. The caller holds s.mu.
func (s *Server) sendMail(r *http.Request, tenant string) reply {
	mb, rep := s.mailboxFor(r, tenant, PermissionMailSend)
	if rep != nil {
		return *rep
	}
	m, save, rep := readSendMail(r)
	if rep != nil {
		return *rep
	}
	now := s.now()
	m.ID, m.InternetMessageID = messageID(), "<"+randomHex(16)+"@"+domainOf(mb.Address)+">"
	m.From, m.SentDateTime, m.SavedToSentItems = mb.Address, now, save
	it := &sentItem{Tenant: tenant, Mail: m, InSentItemsAt: now.Add(s.opts.SentItemsDelay)}
	s.st.Mail = append(s.st.Mail, it)
	s.st.Stats.MailsSent++
	if chance(s.opts.LoseSendMailReplyRate) {
		it.Mail.ReplyLost = true
		s.st.Stats.RepliesLost++
		return reply{status: http.StatusGatewayTimeout, body: graphError("GatewayTimeout",
			"The simulator accepted the mail and lost the answer (Options.LoseSendMailReplyRate)."), mutated: true}
	}
	return reply{status: http.StatusAccepted, mutated: true}
}

// listMessages lists the messages of {folder} (only SentItems), filtered and
// selected. The caller holds s.mu.
func (s *Server) listMessages(r *http.Request, tenant string) reply {
	mb, rep := s.mailboxFor(r, tenant, PermissionMailRead)
	if rep != nil {
		return *rep
	}
	if f := r.PathValue("folder"); !strings.EqualFold(f, "SentItems") {
		return fail(http.StatusBadRequest, "ErrorInvalidRequest", "The simulator serves the folder SentItems only, not %q.", f)
	}
	q := r.URL.Query()
	for k := range q {
		if k != "$filter" && k != "$select" {
			return fail(http.StatusBadRequest, "ErrorInvalidRequest", "The simulator takes $filter and $select only, not %s.", k)
		}
	}
	fields, rep := parseSelect(q.Get("$select"))
	if rep != nil {
		return *rep
	}
	match, rep := parseFilter(q["$filter"])
	if rep != nil {
		return *rep
	}
	now := s.now()
	out := struct {
		Context string           `json:"@odata.context"`
		Value   []map[string]any `json:"value"`
	}{Context: "https://graph.microsoft.com/v1.0/$metadata#users('" + mb.Address + "')/mailFolders('SentItems')/messages", Value: []map[string]any{}}
	for _, it := range s.st.Mail {
		m := &it.Mail
		if it.Tenant == tenant && strings.EqualFold(m.From, mb.Address) && m.SavedToSentItems && !now.Before(it.InSentItemsAt) && match(m) {
			out.Value = append(out.Value, render(m, fields))
		}
	}
	return reply{status: http.StatusOK, body: out}
}

// readSendMail reads and checks sendMail's JSON body: the mail, and whether
// to save it to Sent Items (default true).
func readSendMail(r *http.Request) (SentMessage, bool, *reply) {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		rep := fail(http.StatusUnsupportedMediaType, "RequestBodyRead", "The simulator takes sendMail as JSON (Content-Type: application/json), not %q.", r.Header.Get("Content-Type"))
		return SentMessage{}, false, &rep
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, 8<<20))
	if err != nil {
		rep := fail(http.StatusBadRequest, "RequestBodyRead", "%v", err)
		return SentMessage{}, false, &rep
	}
	top, rep := object(data, "", "message", "saveToSentItems")
	if rep != nil {
		return SentMessage{}, false, rep
	}
	save := true
	if raw, ok := top["saveToSentItems"]; ok {
		if save, rep = boolean(raw); rep != nil {
			return SentMessage{}, false, rep
		}
	}
	raw, ok := top["message"]
	if !ok || isNull(raw) {
		rep := fail(http.StatusBadRequest, "ErrorInvalidRequest", "The required parameter 'Message' is missing.")
		return SentMessage{}, false, &rep
	}
	m, rep := readMessage(raw)
	return m, save, rep
}

// simulatedMessageProperties are the message properties the simulator
// reads; messageProperties are all of the message resource's (v1.0).
var (
	simulatedMessageProperties = []string{"subject", "body", "toRecipients", "ccRecipients", "bccRecipients", "singleValueExtendedProperties"}
	messageProperties          = []string{"bccRecipients", "body", "bodyPreview", "categories", "ccRecipients", "changeKey", "conversationId",
		"conversationIndex", "createdDateTime", "flag", "from", "hasAttachments", "id", "importance", "inferenceClassification",
		"internetMessageHeaders", "internetMessageId", "isDeliveryReceiptRequested", "isDraft", "isRead", "isReadReceiptRequested",
		"lastModifiedDateTime", "parentFolderId", "receivedDateTime", "replyTo", "sender", "sentDateTime", "subject", "toRecipients",
		"uniqueBody", "webLink", "attachments", "extensions", "multiValueExtendedProperties", "singleValueExtendedProperties"}
)

// readMessage reads a message resource.
func readMessage(raw json.RawMessage) (SentMessage, *reply) {
	var m SentMessage
	props, rep := object(raw, "microsoft.graph.message", messageProperties...)
	if rep != nil {
		return m, rep
	}
	for k := range props {
		if !slices.Contains(simulatedMessageProperties, k) {
			rep := fail(http.StatusBadRequest, "ErrorInvalidRequest", "The simulator does not take the message property '%s'.", k)
			return m, &rep
		}
	}
	if m.Subject, rep = str(props["subject"]); rep != nil {
		return m, rep
	}
	if m.ContentType, m.Body, rep = itemBody(props["body"]); rep != nil {
		return m, rep
	}
	for _, list := range []struct {
		key string
		to  *[]Recipient
	}{{"toRecipients", &m.To}, {"ccRecipients", &m.Cc}, {"bccRecipients", &m.Bcc}} {
		if *list.to, rep = recipients(props[list.key]); rep != nil {
			return m, rep
		}
	}
	switch n := len(m.To) + len(m.Cc) + len(m.Bcc); {
	case n == 0:
		return m, ptr(fail(http.StatusBadRequest, "ErrorInvalidRecipients", "At least one recipient is not valid., A message can't be sent because it contains no recipients."))
	case n > maxRecipients:
		return m, ptr(fail(http.StatusBadRequest, "ErrorInvalidRecipients", "At least one recipient is not valid., The message has %d recipients, more than the limit of %d.", n, maxRecipients))
	}
	m.Properties, rep = extendedProperties(props["singleValueExtendedProperties"])
	return m, rep
}

// itemBody reads an itemBody: its contentType (text or html, in any case;
// absent: text) and content.
func itemBody(raw json.RawMessage) (string, string, *reply) {
	if raw == nil || isNull(raw) {
		return "text", "", nil
	}
	props, rep := object(raw, "microsoft.graph.itemBody", "contentType", "content")
	if rep != nil {
		return "", "", rep
	}
	ct, rep := str(props["contentType"])
	if rep != nil {
		return "", "", rep
	}
	switch {
	case ct == "" && props["contentType"] == nil:
		ct = "text"
	case strings.EqualFold(ct, "text"), strings.EqualFold(ct, "html"):
		ct = strings.ToLower(ct)
	default:
		return "", "", ptr(fail(http.StatusBadRequest, "RequestBodyRead", "Cannot convert the literal '%s' to the expected type 'microsoft.graph.bodyType'.", ct))
	}
	content, rep := str(props["content"])
	return ct, content, rep
}

// recipients reads a recipient collection.
func recipients(raw json.RawMessage) ([]Recipient, *reply) {
	if raw == nil || isNull(raw) {
		return nil, nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, ptr(fail(http.StatusBadRequest, "RequestBodyRead", "A collection of microsoft.graph.recipient was expected: %v", err))
	}
	out := make([]Recipient, 0, len(items))
	for _, item := range items {
		rp, rep := object(item, "microsoft.graph.recipient", "emailAddress")
		if rep != nil {
			return nil, rep
		}
		ea, rep := object(rp["emailAddress"], "microsoft.graph.emailAddress", "name", "address")
		if rep != nil {
			return nil, rep
		}
		var r Recipient
		if r.Name, rep = str(ea["name"]); rep != nil {
			return nil, rep
		}
		if r.Address, rep = str(ea["address"]); rep != nil {
			return nil, rep
		}
		if !validAddress(r.Address) {
			return nil, ptr(fail(http.StatusBadRequest, "ErrorInvalidRecipients",
				"At least one recipient isn't valid., Recipient \"%s\" isn't resolved. All recipients must be resolved before a message can be submitted.", r.Address))
		}
		out = append(out, r)
	}
	return out, nil
}

// extendedProperties reads singleValueExtendedProperties, keyed by canonical id.
func extendedProperties(raw json.RawMessage) (map[string]string, *reply) {
	if raw == nil || isNull(raw) {
		return nil, nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, ptr(fail(http.StatusBadRequest, "RequestBodyRead", "A collection of microsoft.graph.singleValueLegacyExtendedProperty was expected: %v", err))
	}
	out := map[string]string{}
	for _, item := range items {
		p, rep := object(item, "microsoft.graph.singleValueLegacyExtendedProperty", "id", "value")
		if rep != nil {
			return nil, rep
		}
		id, rep := str(p["id"])
		if rep != nil {
			return nil, rep
		}
		canonical, ok := propertyID(id)
		if !ok {
			return nil, ptr(fail(http.StatusBadRequest, "ErrorInvalidExtendedProperty", "The extended property attribute combination is invalid."))
		}
		if _, dup := out[canonical]; dup {
			return nil, ptr(fail(http.StatusBadRequest, "ErrorInvalidRequest", "The extended property '%s' is given twice.", id))
		}
		if p["value"] == nil || isNull(p["value"]) {
			return nil, ptr(fail(http.StatusBadRequest, "ErrorInvalidExtendedPropertyValue", "The extended property '%s' has no value.", id))
		}
		if out[canonical], rep = str(p["value"]); rep != nil {
			return nil, rep
		}
	}
	return out, nil
}

// singleValueTypes are the MAPI property types of a single-value extended
// property's id (Exchange's MapiPropertyType, without the Array types).
var singleValueTypes = []string{"ApplicationTime", "Binary", "Boolean", "CLSID", "Currency", "Double", "Float", "Integer", "Long", "Short", "String", "SystemTime"}

// propertyID checks a single-value extended property's id in one of its
// three documented forms (api-reference/v1.0/resources/extended-properties-overview.md)
// and returns it in a canonical form: the GUID and a numeric id in lower
// case, a name as given (Graph compares names case-sensitively).
//
//	{type} {guid} Name {name}   String {8ECCC264-6880-4EBE-992F-8888D2EEAA1D} Name TestProperty
//	{type} {guid} Id {id}       Integer {8ECCC264-6880-4EBE-992F-8888D2EEAA1D} Id 0x8012
//	{type} {proptag}            String 0x4001001E
func propertyID(id string) (string, bool) {
	f := strings.SplitN(id, " ", 4)
	if len(f) < 2 || !slices.Contains(singleValueTypes, f[0]) {
		return "", false
	}
	switch {
	case len(f) == 2 && isHexNumber(f[1]):
		return f[0] + " " + strings.ToLower(f[1]), true
	case len(f) == 4 && isGUID(f[1]) && f[2] == "Name" && strings.TrimSpace(f[3]) != "":
		return f[0] + " " + strings.ToLower(f[1]) + " Name " + f[3], true
	case len(f) == 4 && isGUID(f[1]) && f[2] == "Id" && isHexNumber(f[3]):
		return f[0] + " " + strings.ToLower(f[1]) + " Id " + strings.ToLower(f[3]), true
	}
	return "", false
}

// isGUID reports whether s is a GUID in braces: {8-4-4-4-12 hex digits}.
func isGUID(s string) bool {
	if len(s) != 38 || s[0] != '{' || s[37] != '}' {
		return false
	}
	for i, c := range s[1:37] {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if c != '-' {
				return false
			}
		} else if !isHexDigit(c) {
			return false
		}
	}
	return true
}

// isHexNumber reports whether s is 0x and 1 to 8 hex digits.
func isHexNumber(s string) bool {
	if len(s) < 3 || len(s) > 10 || (s[:2] != "0x" && s[:2] != "0X") {
		return false
	}
	for _, c := range s[2:] {
		if !isHexDigit(c) {
			return false
		}
	}
	return true
}

func isHexDigit(c rune) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// filterPrefix, filterMiddle and filterSuffix frame the one $filter the
// simulator takes: the form FindSentMail sends, as
// api/singlevaluelegacyextendedproperty-get.md documents it.
const (
	filterPrefix = "singleValueExtendedProperties/Any(ep: ep/id eq "
	filterMiddle = " and ep/value eq "
	filterSuffix = ")"
)

// parseFilter reads $filter into a match; absent, everything matches. Graph
// compares the property's value case-insensitively.
func parseFilter(values []string) (func(*SentMessage) bool, *reply) {
	if len(values) == 0 {
		return func(*SentMessage) bool { return true }, nil
	}
	invalid := ptr(fail(http.StatusBadRequest, "ErrorInvalidUrlQueryFilter", "The query filter contains one or more invalid nodes."))
	f := values[0]
	if len(values) > 1 || !strings.HasPrefix(f, filterPrefix) {
		return nil, invalid
	}
	id, rest, ok := odataLiteral(strings.TrimPrefix(f, filterPrefix))
	if !ok || !strings.HasPrefix(rest, filterMiddle) {
		return nil, invalid
	}
	value, rest, ok := odataLiteral(strings.TrimPrefix(rest, filterMiddle))
	if !ok || rest != filterSuffix {
		return nil, invalid
	}
	canonical, ok := propertyID(id)
	if !ok {
		return nil, ptr(fail(http.StatusBadRequest, "ErrorInvalidExtendedProperty", "The extended property attribute combination is invalid."))
	}
	return func(m *SentMessage) bool {
		v, ok := m.Properties[canonical]
		return ok && strings.EqualFold(v, value)
	}, nil
}

// odataLiteral reads an OData string literal at the start of s ('...', a
// quote inside doubled) and returns its value and what follows it.
func odataLiteral(s string) (string, string, bool) {
	if !strings.HasPrefix(s, "'") {
		return "", "", false
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		if s[i] != '\'' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 < len(s) && s[i+1] == '\'' {
			b.WriteByte('\'')
			i++
			continue
		}
		return b.String(), s[i+1:], true
	}
	return "", "", false
}

// renderedProperties are the message properties the simulator answers.
var renderedProperties = []string{"id", "subject", "sentDateTime", "createdDateTime", "lastModifiedDateTime", "internetMessageId",
	"toRecipients", "ccRecipients", "bccRecipients", "body", "from", "sender", "isDraft"}

// parseSelect reads $select: known message properties the simulator
// answers; empty, all of those.
func parseSelect(s string) ([]string, *reply) {
	if s == "" {
		return renderedProperties, nil
	}
	fields := strings.Split(s, ",")
	for _, f := range fields {
		switch {
		case !slices.Contains(messageProperties, f):
			return nil, ptr(fail(http.StatusBadRequest, "RequestBroker--ParseUri", "Could not find a property named '%s' on type 'microsoft.graph.message'.", f))
		case !slices.Contains(renderedProperties, f):
			return nil, ptr(fail(http.StatusBadRequest, "ErrorInvalidRequest", "The simulator does not answer the message property '%s'.", f))
		}
	}
	return fields, nil
}

// render is m with fields, as Graph answers a message: always its id and @odata.etag.
func render(m *SentMessage, fields []string) map[string]any {
	date := m.SentDateTime.UTC().Format(time.RFC3339)
	from := map[string]any{"emailAddress": map[string]string{"name": m.From, "address": m.From}}
	all := map[string]any{
		"id": m.ID, "subject": m.Subject, "sentDateTime": date, "createdDateTime": date, "lastModifiedDateTime": date,
		"internetMessageId": m.InternetMessageID, "toRecipients": wireRecipients(m.To), "ccRecipients": wireRecipients(m.Cc),
		"bccRecipients": wireRecipients(m.Bcc), "body": map[string]string{"contentType": m.ContentType, "content": m.Body},
		"from": from, "sender": from, "isDraft": false,
	}
	out := map[string]any{"@odata.etag": `W/"` + strings.TrimRight(m.ID, "=") + `"`, "id": m.ID}
	for _, f := range fields {
		out[f] = all[f]
	}
	return out
}

func wireRecipients(rs []Recipient) []any {
	out := make([]any, 0, len(rs))
	for _, r := range rs {
		out = append(out, map[string]any{"emailAddress": map[string]string{"name": r.Name, "address": r.Address}})
	}
	return out
}

// object reads raw as a JSON object of the properties allowed, names
// compared case-sensitively as Graph's OData reader does. typeName names the
// type in the error; "" is sendMail's parameters.
func object(raw json.RawMessage, typeName string, allowed ...string) (map[string]json.RawMessage, *reply) {
	var props map[string]json.RawMessage
	if err := json.Unmarshal(raw, &props); err != nil || props == nil {
		what := "the sendMail parameters"
		if typeName != "" {
			what = typeName
		}
		return nil, ptr(fail(http.StatusBadRequest, "RequestBodyRead", "An object of %s was expected.", what))
	}
	names := make([]string, 0, len(props))
	for k := range props {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		switch {
		case strings.HasPrefix(k, "@"):
			return nil, ptr(fail(http.StatusBadRequest, "RequestBodyRead",
				"The annotation '%s' was found. This annotation is either not recognized or not expected at the current position.", strings.TrimPrefix(k, "@")))
		case slices.Contains(allowed, k):
		case typeName == "":
			return nil, ptr(fail(http.StatusBadRequest, "RequestBodyRead", "The parameter '%s' in the request payload is not a valid parameter for the operation 'sendMail'.", k))
		default:
			return nil, ptr(fail(http.StatusBadRequest, "RequestBodyRead",
				"The property '%s' does not exist on type '%s'. Make sure to only use property names that are defined by the type or mark the type as open type.", k, typeName))
		}
	}
	return props, nil
}

// str reads a string property: absent or null is "".
func str(raw json.RawMessage) (string, *reply) {
	if raw == nil || isNull(raw) {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", ptr(fail(http.StatusBadRequest, "RequestBodyRead", "Cannot convert the literal '%s' to the expected type 'Edm.String'.", string(raw)))
	}
	return s, nil
}

// boolean reads an Edm.Boolean: true or false, also as the strings "true"
// and "false", which Graph takes (its documented sendMail example sends
// "saveToSentItems": "false").
func boolean(raw json.RawMessage) (bool, *reply) {
	switch strings.TrimSpace(string(raw)) {
	case "true", `"true"`:
		return true, nil
	case "false", `"false"`:
		return false, nil
	}
	return false, ptr(fail(http.StatusBadRequest, "RequestBodyRead", "Cannot convert the literal '%s' to the expected type 'Edm.Boolean'.", string(raw)))
}

func isNull(raw json.RawMessage) bool { return strings.TrimSpace(string(raw)) == "null" }

func ptr(r reply) *reply { return &r }

// validAddress reports whether s is a plain email address (local@domain.tld,
// no display name).
func validAddress(s string) bool {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return false
	}
	domain := domainOf(s)
	return strings.Contains(domain, ".") && !strings.HasPrefix(domain, ".") && !strings.HasSuffix(domain, ".")
}

func domainOf(address string) string { return address[strings.LastIndexByte(address, '@')+1:] }

// messageID makes an Exchange-like message id ("AAMk...=").
func messageID() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return "AAMk" + base64.URLEncoding.EncodeToString(b) + "="
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return strings.ToUpper(hex.EncodeToString(b))
}
