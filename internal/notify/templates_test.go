package notify_test

import (
	"errors"
	htmltemplate "html/template"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/partnerops/multichannel-operator/internal/notify"
)

func invitation() notify.Invitation {
	expires := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	g := gdap
	g.ExpiresAt = &expires
	return notify.Invitation{
		ID: "d-7f3a", PartnerName: "fabrikam", PartnerDisplayName: "Fabrikam Cloud",
		CustomerNamespace: "tenants", CustomerName: "contoso", CustomerDisplayName: "Contoso Ltd",
		CustomerTenantID: "6f1bd5c1-0d3b-4c5e-9bb1-7f4f9d2b6a10",
		Contacts:         []notify.Contact{ada, bob, tom},
		Actions:          []notify.Action{reseller, g, mca},
		Time:             time.Date(2026, 2, 1, 9, 30, 0, 0, time.UTC),
	}
}

// render renders the message to Ada (all three actions) with t.
func render(t *testing.T, tmpl *notify.Templates, inv notify.Invitation) (string, string, error) {
	t.Helper()
	ms := notify.Messages(inv)
	if len(ms) == 0 {
		t.Fatal("no message")
	}
	return tmpl.Render(inv, ms[0])
}

func TestDefaultRender(t *testing.T) {
	inv := invitation()
	subject, html, err := render(t, notify.DefaultTemplates(), inv)
	if err != nil {
		t.Fatal(err)
	}
	if want := "Fabrikam Cloud needs Contoso Ltd to take 3 steps in Microsoft 365"; subject != want {
		t.Errorf("subject %q, want %q", subject, want)
	}
	for _, want := range []string{"Fabrikam Cloud", "Contoso Ltd", "Hello Ada,", "expires on 1 March 2026"} {
		if !strings.Contains(html, want) {
			t.Errorf("the body lacks %q", want)
		}
	}
	for _, a := range inv.Actions {
		for _, want := range []string{a.URL, a.Kind.Explanation("Fabrikam Cloud")} {
			if !strings.Contains(html, htmltemplate.HTMLEscapeString(want)) {
				t.Errorf("the body lacks %q", want)
			}
		}
	}
	if strings.Contains(html, "reminder") {
		t.Error("an invitation calls itself a reminder")
	}
	var none *notify.Templates
	if s, h, err := render(t, none, inv); err != nil || s != subject || h != html {
		t.Errorf("nil Templates: %q, %v; want the defaults' rendering", s, err)
	}
}

func TestDefaultRenderReminder(t *testing.T) {
	inv := invitation()
	inv.Reminder = 2
	inv.Actions = []notify.Action{mca}
	ms := notify.Messages(inv)
	subject, html, err := notify.DefaultTemplates().Render(inv, ms[0])
	if err != nil {
		t.Fatal(err)
	}
	if want := "Reminder: Fabrikam Cloud needs Contoso Ltd to accept the Microsoft Customer Agreement in Microsoft 365"; subject != want {
		t.Errorf("subject %q, want %q", subject, want)
	}
	if !strings.Contains(html, "Hello Ada and Bob,") || !strings.Contains(html, "This is reminder 2") {
		t.Errorf("the reminder's body does not greet both or say it is reminder 2:\n%s", html)
	}
}

func TestRenderEscapesHTML(t *testing.T) {
	for _, evil := range []string{`<script>alert(1)</script>`, `"><img src=x onerror=alert(1)>`} {
		inv := invitation()
		inv.CustomerDisplayName = evil
		inv.PartnerDisplayName = evil
		inv.Contacts[0].Name = evil
		_, html, err := render(t, notify.DefaultTemplates(), inv)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(html, "<script>alert") || strings.Contains(html, "<img src=x") {
			t.Errorf("%q reached the body unescaped", evil)
		}
		if !strings.Contains(html, htmltemplate.HTMLEscapeString(evil)) {
			t.Errorf("%q is not in the body, escaped", evil)
		}
	}
}

func TestSubjectIsOneLine(t *testing.T) {
	for _, name := range []string{
		"Contoso\r\nBcc: evil@example.com",
		"Contoso\nBcc: evil@example.com",
		"Contoso\u2028Bcc: evil@example.com",
		"Contoso\u0085Bcc:\u202e evil@example.com",
	} {
		inv := invitation()
		inv.CustomerDisplayName = name
		subject, _, err := render(t, notify.DefaultTemplates(), inv)
		if err != nil {
			t.Fatal(err)
		}
		if strings.ContainsAny(subject, "\r\n\u2028\u0085\u202e") || !strings.Contains(subject, "needs Contoso Bcc: evil@example.com to take") {
			t.Errorf("customer %q: subject %q", name, subject)
		}
	}
}

func TestSubjectIsCapped(t *testing.T) {
	inv := invitation()
	inv.CustomerDisplayName = strings.Repeat("é", 1000)
	subject, _, err := render(t, notify.DefaultTemplates(), inv)
	if err != nil {
		t.Fatal(err)
	}
	if n := utf8.RuneCountInString(subject); n != notify.MaxSubjectRunes || !strings.HasPrefix(subject, "Fabrikam Cloud needs éé") {
		t.Errorf("subject of %d runes: %q", n, subject)
	}
}

func TestTemplateOverride(t *testing.T) {
	tmpl, err := notify.ParseTemplates("Bitte handeln: {{.Customer}}",
		`<p>Hallo {{.Names}}, {{.Partner}} bittet:</p>{{range .Actions}}<a href="{{.URL}}">{{.Title}}</a>{{end}}`)
	if err != nil {
		t.Fatal(err)
	}
	subject, html, err := render(t, tmpl, invitation())
	if err != nil {
		t.Fatal(err)
	}
	if subject != "Bitte handeln: Contoso Ltd" || !strings.HasPrefix(html, "<p>Hallo Ada, Fabrikam Cloud bittet:</p>") ||
		!strings.Contains(html, `<a href="`+gdapLink+`">`) {
		t.Errorf("override ignored: %q\n%s", subject, html)
	}

	// Overriding the subject alone keeps the default body.
	tmpl, err = notify.ParseTemplates("Bitte handeln: {{.Customer}}", "")
	if err != nil {
		t.Fatal(err)
	}
	subject, html, err = render(t, tmpl, invitation())
	if err != nil || subject != "Bitte handeln: Contoso Ltd" || !strings.Contains(html, "Fabrikam Cloud asks Contoso Ltd") {
		t.Errorf("subject-only override: %q, %v\n%s", subject, err, html)
	}
}

func TestBrokenOverrideRefused(t *testing.T) {
	for _, tc := range []struct {
		name, subject, html string
		want                []string
	}{
		{"unclosed action", "{{.Customer", "", []string{"subject template", "unclosed action"}},
		{"unknown field in subject", "{{.Client}}", "", []string{"subject template", "Client"}},
		{"missing end", "", "{{range .Actions}}<a>", []string{"html template", "unexpected EOF"}},
		{"unknown field in body", "", "<p>{{.Nope}}</p>", []string{"html template", "Nope"}},
		{"unknown function", "", "<p>{{shout .Partner}}</p>", []string{"html template", "shout"}},
		{"empty subject", "{{if false}}x{{end}}", "", []string{"subject template", "empty subject"}},
	} {
		_, err := notify.ParseTemplates(tc.subject, tc.html)
		if err == nil {
			t.Errorf("%s: accepted", tc.name)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not say %q", tc.name, err, w)
			}
		}
	}
}

func TestRenderRefusesBadLinks(t *testing.T) {
	for _, link := range []string{
		"http://admin.microsoft.com/AdminPortal",
		"https://evil.example.com/AdminPortal",
		"https://user@admin.microsoft.com/AdminPortal",
	} {
		inv := invitation()
		inv.Actions[1].URL = link
		subject, html, err := render(t, notify.DefaultTemplates(), inv)
		if !errors.Is(err, notify.ErrLinkRefused) || subject != "" || html != "" {
			t.Errorf("link %q: %q, %d bytes of body, %v; want ErrLinkRefused and nothing rendered", link, subject, len(html), err)
		}
	}
}

func TestRenderRefusesAnEmptyMessage(t *testing.T) {
	if _, _, err := notify.DefaultTemplates().Render(invitation(), notify.Message{To: []notify.Contact{ada}}); err == nil {
		t.Error("a message asking for nothing was rendered")
	}
}
