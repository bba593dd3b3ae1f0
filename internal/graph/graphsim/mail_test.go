package graphsim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const (
	tenant  = "partner"
	box     = "invitations@partner.example"
	sendURL = "/v1.0/users/" + box + "/sendMail"
	keyID   = "String {81f5fbe3-9626-427e-bb95-365069455065} Name MultichannelDeliveryKey"
)

// mailSim is a simulator whose tenant has box and granted Mail.Send and Mail.Read.
func mailSim(t *testing.T, o Options) (*Server, string) {
	t.Helper()
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AddMailbox(tenant, box); err != nil {
		t.Fatal(err)
	}
	if err := s.Grant(tenant, PermissionMailSend, PermissionMailRead); err != nil {
		t.Fatal(err)
	}
	return s, token(tenant, time.Now().Add(time.Hour))
}

// post sends body as JSON, with a client-request-id.
func post(t *testing.T, h http.Handler, path, tok, requestID, body string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	r.Header.Set("Authorization", "Bearer "+tok)
	r.Header.Set("Content-Type", "application/json")
	if requestID != "" {
		r.Header.Set(headerClientRequestID, requestID)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// list lists box's Sent Items with query.
func list(t *testing.T, h http.Handler, tok, folder string, query url.Values) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, "/v1.0/users/"+box+"/mailFolders/"+folder+"/messages?"+query.Encode(), nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// errorCode is the Graph error code of an answer.
func errorCode(w *httptest.ResponseRecorder) string {
	var e wireError
	_ = json.Unmarshal(w.Body.Bytes(), &e)
	return e.Error.Code
}

func keyFilter(key string) url.Values {
	return url.Values{"$filter": {"singleValueExtendedProperties/Any(ep: ep/id eq '" + keyID + "' and ep/value eq '" +
		strings.ReplaceAll(key, "'", "''") + "')"}, "$select": {"id,internetMessageId,sentDateTime"}}
}

// mailBody is a valid sendMail body with the key as extended property; edit changes its message.
func mailBody(key string, edit func(m map[string]any)) string {
	m := map[string]any{
		"subject":                       "Invitation",
		"body":                          map[string]any{"contentType": "HTML", "content": "<p>Hello</p>"},
		"toRecipients":                  []any{map[string]any{"emailAddress": map[string]any{"name": "Dana", "address": "dana@customer.example"}}},
		"singleValueExtendedProperties": []any{map[string]any{"id": keyID, "value": key}},
	}
	if edit != nil {
		edit(m)
	}
	data, _ := json.Marshal(map[string]any{"message": m, "saveToSentItems": true})
	return string(data)
}

// TestSendMailAsDocumented: the documented sendMail example is accepted,
// 202 with no body; it asks not to save to Sent Items, so Sent Items do not
// show it, while SentMail does.
// Source: ../testdata/send-mail.request.json (see ../testdata/SOURCES).
func TestSendMailAsDocumented(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "testdata", "send-mail.request.json"))
	if err != nil {
		t.Fatal(err)
	}
	s, tok := mailSim(t, Options{})
	w := post(t, s, sendURL, tok, "", string(doc))
	if w.Code != http.StatusAccepted || w.Body.Len() != 0 {
		t.Fatalf("the documented request: %d %s", w.Code, w.Body)
	}
	sent := s.SentMail(tenant)
	if len(sent) != 1 || sent[0].Subject != "Meet for lunch?" || sent[0].ContentType != "text" || sent[0].Body != "The new cafeteria is open." ||
		len(sent[0].To) != 1 || sent[0].To[0].Address != "frannis@contoso.com" || len(sent[0].Cc) != 1 || sent[0].Cc[0].Address != "danas@contoso.com" ||
		sent[0].SavedToSentItems || sent[0].From != box || sent[0].SentDateTime.IsZero() {
		t.Errorf("stored %+v", sent)
	}
	var out struct{ Value []map[string]any }
	if w := list(t, s, tok, "SentItems", nil); w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &out) != nil || len(out.Value) != 0 {
		t.Errorf("Sent Items of a mail not saved there: %d %s", w.Code, w.Body)
	}
}

// TestSendMailRefused: what Graph refuses is refused with its codes, and
// nothing is sent.
func TestSendMailRefused(t *testing.T) {
	s, tok := mailSim(t, Options{})
	many := make([]any, maxRecipients+1)
	for i := range many {
		many[i] = map[string]any{"emailAddress": map[string]any{"address": fmt.Sprintf("u%d@customer.example", i)}}
	}
	for _, tc := range []struct {
		name, body, code string
	}{
		{"unknown parameter", `{"message": {"subject": "s", "toRecipients": [{"emailAddress": {"address": "a@b.example"}}]}, "saveToDrafts": true}`, "RequestBodyRead"},
		{"parameter in the wrong case", `{"Message": {"subject": "s", "toRecipients": [{"emailAddress": {"address": "a@b.example"}}]}}`, "RequestBodyRead"},
		{"no message", `{"saveToSentItems": false}`, "ErrorInvalidRequest"},
		{"null message", `{"message": null}`, "ErrorInvalidRequest"},
		{"not an object", `["message"]`, "RequestBodyRead"},
		{"not JSON", `message=hello`, "RequestBodyRead"},
		{"saveToSentItems not a boolean", `{"message": {"toRecipients": [{"emailAddress": {"address": "a@b.example"}}]}, "saveToSentItems": "no"}`, "RequestBodyRead"},
		{"no recipients", mailBody("k", func(m map[string]any) { delete(m, "toRecipients") }), "ErrorInvalidRecipients"},
		{"empty recipients", mailBody("k", func(m map[string]any) { m["toRecipients"] = []any{} }), "ErrorInvalidRecipients"},
		{"bad address", mailBody("k", func(m map[string]any) {
			m["toRecipients"] = []any{map[string]any{"emailAddress": map[string]any{"address": "dana at customer"}}}
		}), "ErrorInvalidRecipients"},
		{"address with a display name", mailBody("k", func(m map[string]any) {
			m["ccRecipients"] = []any{map[string]any{"emailAddress": map[string]any{"address": "Dana <dana@customer.example>"}}}
		}), "ErrorInvalidRecipients"},
		{"no address", mailBody("k", func(m map[string]any) {
			m["bccRecipients"] = []any{map[string]any{"emailAddress": map[string]any{"name": "Dana"}}}
		}), "ErrorInvalidRecipients"},
		{"501 recipients", mailBody("k", func(m map[string]any) { m["toRecipients"] = many }), "ErrorInvalidRecipients"},
		{"unknown content type", mailBody("k", func(m map[string]any) { m["body"] = map[string]any{"contentType": "markdown", "content": "x"} }), "RequestBodyRead"},
		{"unknown message property", mailBody("k", func(m map[string]any) { m["subjekt"] = "x" }), "RequestBodyRead"},
		{"message property in the wrong case", mailBody("k", func(m map[string]any) { m["Subject"] = "x" }), "RequestBodyRead"},
		{"unknown recipient property", mailBody("k", func(m map[string]any) {
			m["toRecipients"] = []any{map[string]any{"emailAddress": map[string]any{"address": "a@b.example"}, "type": "to"}}
		}), "RequestBodyRead"},
		{"annotation", mailBody("k", func(m map[string]any) { m["@odata.type"] = "#microsoft.graph.message" }), "RequestBodyRead"},
		{"subject not a string", mailBody("k", func(m map[string]any) { m["subject"] = 0 }), "RequestBodyRead"},
		{"message property not simulated", mailBody("k", func(m map[string]any) { m["importance"] = "high" }), "ErrorInvalidRequest"},
		{"bad extended property id", mailBody("k", func(m map[string]any) {
			m["singleValueExtendedProperties"] = []any{map[string]any{"id": "String 81f5fbe3 Name Key", "value": "k"}}
		}), "ErrorInvalidExtendedProperty"},
		{"extended property of an array type", mailBody("k", func(m map[string]any) {
			m["singleValueExtendedProperties"] = []any{map[string]any{"id": "StringArray {81f5fbe3-9626-427e-bb95-365069455065} Name Key", "value": "k"}}
		}), "ErrorInvalidExtendedProperty"},
		{"extended property without a value", mailBody("k", func(m map[string]any) {
			m["singleValueExtendedProperties"] = []any{map[string]any{"id": keyID}}
		}), "ErrorInvalidExtendedPropertyValue"},
	} {
		w := post(t, s, sendURL, tok, "", tc.body)
		if w.Code != http.StatusBadRequest || errorCode(w) != tc.code {
			t.Errorf("%s: %d %s, want 400 %s", tc.name, w.Code, w.Body, tc.code)
		}
	}
	r := httptest.NewRequest(http.MethodPost, sendURL, strings.NewReader(mailBody("k", nil)))
	r.Header.Set("Authorization", "Bearer "+tok)
	r.Header.Set("Content-Type", "text/plain")
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	if w.Code != http.StatusUnsupportedMediaType {
		t.Errorf("as text/plain: %d", w.Code)
	}
	if w := post(t, s, sendURL, tok, "", mailBody("k", nil)); w.Code != http.StatusAccepted {
		t.Fatalf("a valid mail after the refusals: %d %s", w.Code, w.Body)
	}
	if st := s.Stats(); st.MailsSent != 1 || len(s.SentMail(tenant)) != 1 {
		t.Errorf("%d mails sent, want only the valid one", st.MailsSent)
	}
}

// TestSendMailNotDeduplicated: the same client-request-id twice sends two
// mails, as Graph does.
func TestSendMailNotDeduplicated(t *testing.T) {
	s, tok := mailSim(t, Options{})
	for range 2 {
		if w := post(t, s, sendURL, tok, "req-1", mailBody("k", nil)); w.Code != http.StatusAccepted {
			t.Fatalf("%d %s", w.Code, w.Body)
		}
	}
	if st := s.Stats(); st.MailsSent != 2 || st.DuplicatesSuppressed != 0 {
		t.Errorf("stats %+v: want two mails, none suppressed", st)
	}
}

// TestListSentItems: the key filter and $select as FindSentMail sends them;
// any other filter, selection, query option or folder refused.
func TestListSentItems(t *testing.T) {
	s, tok := mailSim(t, Options{})
	for _, k := range []string{"k1", "it's"} {
		if w := post(t, s, sendURL, tok, "", mailBody(k, nil)); w.Code != http.StatusAccepted {
			t.Fatalf("%d %s", w.Code, w.Body)
		}
	}
	for _, tc := range []struct {
		folder, key string
		want        int
	}{{"SentItems", "k1", 1}, {"sentitems", "K1", 1}, {"SentItems", "it's", 1}, {"SentItems", "k2", 0}, {"SentItems", "k", 0}} {
		w := list(t, s, tok, tc.folder, keyFilter(tc.key))
		var out struct {
			Value []map[string]any `json:"value"`
		}
		if w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &out) != nil || len(out.Value) != tc.want {
			t.Errorf("%s, key %q: %d %s, want %d", tc.folder, tc.key, w.Code, w.Body, tc.want)
			continue
		}
		for _, m := range out.Value {
			if len(m) != 4 || m["id"] == "" || m["@odata.etag"] == nil || !strings.HasPrefix(m["internetMessageId"].(string), "<") || m["sentDateTime"] == nil {
				t.Errorf("selected %v", m)
			}
		}
	}
	for _, tc := range []struct {
		name  string
		query url.Values
		code  string
	}{
		{"another filter", url.Values{"$filter": {"subject eq 'Invitation'"}}, "ErrorInvalidUrlQueryFilter"},
		{"contains", url.Values{"$filter": {"singleValueExtendedProperties/Any(ep: ep/id eq '" + keyID + "' and contains(ep/value, 'k'))"}}, "ErrorInvalidUrlQueryFilter"},
		{"a quote not doubled", url.Values{"$filter": {"singleValueExtendedProperties/Any(ep: ep/id eq '" + keyID + "' and ep/value eq 'it's')"}}, "ErrorInvalidUrlQueryFilter"},
		{"an unclosed literal", url.Values{"$filter": {"singleValueExtendedProperties/Any(ep: ep/id eq '" + keyID + "' and ep/value eq 'k)"}}, "ErrorInvalidUrlQueryFilter"},
		{"a bad property id", url.Values{"$filter": {"singleValueExtendedProperties/Any(ep: ep/id eq 'Key' and ep/value eq 'k')"}}, "ErrorInvalidExtendedProperty"},
		{"an unknown property selected", url.Values{"$select": {"id,garbage"}}, "RequestBroker--ParseUri"},
		{"a property not simulated", url.Values{"$select": {"webLink"}}, "ErrorInvalidRequest"},
		{"$top", url.Values{"$top": {"1"}}, "ErrorInvalidRequest"},
	} {
		if w := list(t, s, tok, "SentItems", tc.query); w.Code != http.StatusBadRequest || errorCode(w) != tc.code {
			t.Errorf("%s: %d %s, want 400 %s", tc.name, w.Code, w.Body, tc.code)
		}
	}
	if w := list(t, s, tok, "Inbox", nil); w.Code != http.StatusBadRequest {
		t.Errorf("Inbox: %d", w.Code)
	}
	other := token("another-partner", time.Now().Add(time.Hour))
	_ = s.Grant("another-partner", PermissionMailRead)
	if w := list(t, s, other, "SentItems", keyFilter("k1")); w.Code != http.StatusNotFound || errorCode(w) != "ErrorInvalidUser" {
		t.Errorf("another tenant's token: %d %s", w.Code, w.Body)
	}
}

// TestMailAdminRoutes: mailboxes, grants and what was sent over HTTP, the
// stats counting mail, and all of it kept across a restart.
func TestMailAdminRoutes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "graph.json")
	s, err := New(Options{StatePath: path, LoseSendMailReplyRate: 1})
	if err != nil {
		t.Fatal(err)
	}
	admin := func(method, path, body string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, path, bytes.NewReader([]byte(body)))
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		return w
	}
	if w := admin("POST", "/sim/graph/v1/mailboxes", `{"tenant": "partner", "address": "not an address"}`); w.Code != http.StatusBadRequest {
		t.Errorf("a bad address: %d", w.Code)
	}
	if w := admin("POST", "/sim/graph/v1/grants", `{"tenant": "partner", "permissions": ["Mail.ReadWrite"]}`); w.Code != http.StatusBadRequest {
		t.Errorf("an unknown permission: %d", w.Code)
	}
	if w := admin("POST", "/sim/graph/v1/mailboxes", `{"tenant": "partner", "address": "`+box+`"}`); w.Code != http.StatusCreated {
		t.Fatalf("add mailbox: %d %s", w.Code, w.Body)
	}
	tok := token(tenant, time.Now().Add(time.Hour))
	if w := post(t, s, sendURL, tok, "", mailBody("k", nil)); w.Code != http.StatusForbidden || errorCode(w) != "ErrorAccessDenied" {
		t.Errorf("before the grant: %d %s", w.Code, w.Body)
	}
	if w := admin("POST", "/sim/graph/v1/grants", `{"tenant": "partner", "permissions": ["Mail.Send", "Mail.Read"]}`); w.Code != http.StatusOK {
		t.Fatalf("grant: %d %s", w.Code, w.Body)
	}
	if w := post(t, s, sendURL, tok, "", mailBody("k", nil)); w.Code != http.StatusGatewayTimeout {
		t.Errorf("with the reply lost: %d %s", w.Code, w.Body)
	}
	var mail struct{ Value []SentMessage }
	if w := admin("GET", "/sim/graph/v1/tenants/partner/mail", ""); json.Unmarshal(w.Body.Bytes(), &mail) != nil || len(mail.Value) != 1 ||
		!mail.Value[0].ReplyLost || mail.Value[0].Property(keyID) != "k" {
		t.Errorf("mail: %s", w.Body)
	}
	var st Stats
	if w := admin("GET", "/sim/graph/v1/stats", ""); json.Unmarshal(w.Body.Bytes(), &st) != nil || st.MailsSent != 1 || st.RepliesLost != 1 {
		t.Errorf("stats: %s", w.Body)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := New(Options{StatePath: path})
	if err != nil {
		t.Fatal(err)
	}
	if w := list(t, again, tok, "SentItems", keyFilter("k")); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"internetMessageId"`) {
		t.Errorf("after a restart: %d %s", w.Code, w.Body)
	}
	if sent := again.SentMail(tenant); len(sent) != 1 || again.Stats().MailsSent != 1 {
		t.Errorf("after a restart: %+v", sent)
	}
}

// TestPropertyID: the three documented forms of a single-value extended
// property's id, and what is not one.
func TestPropertyID(t *testing.T) {
	for id, want := range map[string]string{
		"String {8ECCC264-6880-4EBE-992F-8888D2EEAA1D} Name TestProperty": "String {8eccc264-6880-4ebe-992f-8888d2eeaa1d} Name TestProperty",
		"Integer {8ECCC264-6880-4EBE-992F-8888D2EEAA1D} Id 0x8012":        "Integer {8eccc264-6880-4ebe-992f-8888d2eeaa1d} Id 0x8012",
		"String 0x4001001E": "String 0x4001001e",
		"CLSID {00062008-0000-0000-C000-000000000046} Name ConnectorSenderGuid": "CLSID {00062008-0000-0000-c000-000000000046} Name ConnectorSenderGuid",
		keyID:                         keyID,
		"String {8ECCC264} Name Test": "",
		"Text {8ECCC264-6880-4EBE-992F-8888D2EEAA1D} Name Test":   "",
		"String {8ECCC264-6880-4EBE-992F-8888D2EEAA1D} name Test": "",
		"String {8ECCC264-6880-4EBE-992F-8888D2EEAA1D} Id 12":     "",
		"String {8ECCC264-6880-4EBE-992F-8888D2EEAA1D} Name ":     "",
		"String": "",
		"":       "",
	} {
		if got, ok := propertyID(id); got != want || ok != (want != "") {
			t.Errorf("propertyID(%q) = %q, %v; want %q", id, got, ok, want)
		}
	}
	m := SentMessage{Properties: map[string]string{"String {8eccc264-6880-4ebe-992f-8888d2eeaa1d} Name TestProperty": "v"}}
	if m.Property("String {8ECCC264-6880-4EBE-992F-8888D2EEAA1D} Name TestProperty") != "v" || m.Property("String {8ECCC264-6880-4EBE-992F-8888D2EEAA1D} Name testproperty") != "" {
		t.Error("Property: the GUID in any case, the name as given")
	}
}
