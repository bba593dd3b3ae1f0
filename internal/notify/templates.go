package notify

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"
	"time"
	"unicode"
)

// MaxSubjectRunes caps a rendered subject's length.
const MaxSubjectRunes = 255

//go:embed templates/*.tmpl
var defaultFiles embed.FS

// Templates render a message: a subject (text/template, rendered on one
// line) and an HTML body (html/template, which escapes every value for the
// context it appears in). Both see a TemplateData. Make them with
// DefaultTemplates or ParseTemplates (a nil *Templates renders the
// defaults); they are safe for concurrent use.
type Templates struct {
	subject *texttemplate.Template
	html    *htmltemplate.Template
}

// TemplateData is what the templates see.
type TemplateData struct {
	// Partner is the partner's display name (its name if it has none).
	Partner string
	// Customer is the customer's display name (its name if it has none).
	Customer string
	// Recipients are the names of the contacts the message goes to.
	Recipients []string
	// Names are the Recipients in one phrase, such as "Ada, Bob and Carol".
	Names string
	// Actions are what the recipients are asked to do.
	Actions []TemplateAction
	// Reminder says whether the message is a reminder.
	Reminder bool
	// ReminderNumber is the reminder's number, 0 for the invitation.
	ReminderNumber int
}

// TemplateAction is one action as the templates see it.
type TemplateAction struct {
	// Kind is the action's kind, such as ApproveAdminRelationship.
	Kind string
	// Title is what the action asks, in a few words ("Approve the admin relationship").
	Title string
	// Task is the same to follow "to" in a sentence ("approve an admin relationship").
	Task string
	// Explanation says what to do, why, and who can do it.
	Explanation string
	// URL is the link, checked with CheckLink.
	URL string
	// ExpiresAt is when the request expires, or nil.
	ExpiresAt *time.Time
	// Expires is ExpiresAt as a date in UTC ("2 January 2026"), or "".
	Expires string
}

// defaults are the embedded templates, parsed and tried at start.
var defaults *Templates

func init() { defaults = mustParseDefaults() }

func mustParseDefaults() *Templates {
	read := func(name string) string {
		b, err := defaultFiles.ReadFile("templates/" + name)
		if err != nil {
			panic(err)
		}
		return strings.TrimRight(string(b), "\n")
	}
	subject, err := parseSubject(read("subject.tmpl"))
	if err != nil {
		panic(fmt.Sprintf("notify: default %v", err))
	}
	html, err := parseHTML(read("body.html.tmpl"))
	if err != nil {
		panic(fmt.Sprintf("notify: default %v", err))
	}
	t := &Templates{subject: subject, html: html}
	if err := t.try(); err != nil {
		panic(fmt.Sprintf("notify: default templates: %v", err))
	}
	return t
}

// DefaultTemplates returns the operator's English templates.
func DefaultTemplates() *Templates { return defaults }

// ParseTemplates returns a partner's templates; an empty subject or body
// keeps the default one. Each template is parsed and executed once against
// sample data, so a template naming a field that does not exist is refused
// here, with an error naming the template and why, not when a message is due.
func ParseTemplates(subject, htmlBody string) (*Templates, error) {
	t := *defaults
	var err error
	if strings.TrimSpace(subject) != "" {
		if t.subject, err = parseSubject(subject); err != nil {
			return nil, err
		}
	}
	if strings.TrimSpace(htmlBody) != "" {
		if t.html, err = parseHTML(htmlBody); err != nil {
			return nil, err
		}
	}
	if err := t.try(); err != nil {
		return nil, err
	}
	return &t, nil
}

func parseSubject(text string) (*texttemplate.Template, error) {
	t, err := texttemplate.New("subject").Option("missingkey=error").Parse(text)
	if err != nil {
		return nil, fmt.Errorf("subject template: %w", err)
	}
	return t, nil
}

func parseHTML(text string) (*htmltemplate.Template, error) {
	t, err := htmltemplate.New("html").Option("missingkey=error").Parse(text)
	if err != nil {
		return nil, fmt.Errorf("html template: %w", err)
	}
	return t, nil
}

// try renders sample data, as an invitation and as a reminder.
func (t *Templates) try() error {
	expires := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	inv := Invitation{PartnerName: "partner", CustomerName: "customer", Reminder: 1,
		Actions: []Action{{Kind: ApproveAdminRelationship, URL: "https://admin.microsoft.com/", ExpiresAt: &expires}}}
	m := Message{To: []Contact{{Name: "Ada", Email: "ada@example.com", Roles: []Role{RoleGlobalAdmin}}}, Actions: inv.Actions}
	for _, reminder := range []int{0, 1} {
		inv.Reminder = reminder
		if _, _, err := t.Render(inv, m); err != nil {
			return fmt.Errorf("trying the templates with sample data: %w", err)
		}
	}
	return nil
}

// Render renders m, a message of inv, to a subject and an HTML body. Every
// link must pass CheckLink, or nothing is rendered. Every value in the body
// is escaped by html/template. The subject holds no control characters (a
// CR or LF would start a new mail header): they, and line or paragraph
// separators and bidirectional overrides, become spaces, runs of spaces one
// space, and it is cut to MaxSubjectRunes. A template that fails to execute
// (a missing field) is an error, never a half-rendered message.
func (t *Templates) Render(inv Invitation, m Message) (subject, html string, err error) {
	if t == nil {
		t = defaults
	}
	data, err := templateData(inv, m)
	if err != nil {
		return "", "", err
	}
	var s, h bytes.Buffer
	if err := t.subject.Execute(&s, data); err != nil {
		return "", "", fmt.Errorf("subject template: %w", err)
	}
	if err := t.html.Execute(&h, data); err != nil {
		return "", "", fmt.Errorf("html template: %w", err)
	}
	subject = oneLine(s.String(), MaxSubjectRunes)
	if subject == "" {
		return "", "", errors.New("subject template: rendered an empty subject")
	}
	return subject, h.String(), nil
}

// templateData checks m's links and builds what the templates see.
func templateData(inv Invitation, m Message) (TemplateData, error) {
	if len(m.Actions) == 0 {
		return TemplateData{}, errors.New("the message asks for nothing")
	}
	d := TemplateData{Partner: inv.partner(), Customer: inv.customer(), Reminder: inv.Reminder > 0, ReminderNumber: inv.Reminder}
	for _, c := range m.To {
		d.Recipients = append(d.Recipients, orElse(c.Name, c.Email))
	}
	d.Names = joinNames(d.Recipients)
	for _, a := range m.Actions {
		if err := CheckLink(a.Kind, a.URL); err != nil {
			return TemplateData{}, fmt.Errorf("action %s: %w", a.Object, err)
		}
		ta := TemplateAction{Kind: string(a.Kind), Title: a.Kind.Title(), Task: a.Kind.task(),
			Explanation: a.Kind.Explanation(d.Partner), URL: a.URL, ExpiresAt: a.ExpiresAt}
		if a.ExpiresAt != nil {
			ta.Expires = a.ExpiresAt.UTC().Format("2 January 2006")
		}
		d.Actions = append(d.Actions, ta)
	}
	return d, nil
}

// joinNames writes names as "A", "A and B" or "A, B and C".
func joinNames(names []string) string {
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// oneLine makes s one line of at most max runes: control characters,
// spaces and line or paragraph separators become one space between words;
// format characters (bidirectional overrides, zero-width characters) go.
func oneLine(s string, max int) string {
	s = strings.Map(func(r rune) rune {
		if unicode.Is(unicode.Cf, r) {
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
	words := strings.FieldsFunc(s, func(r rune) bool {
		return unicode.IsControl(r) || unicode.IsSpace(r) || unicode.In(r, unicode.Zl, unicode.Zp)
	})
	line := []rune(strings.Join(words, " "))
	if len(line) > max {
		line = line[:max]
	}
	return strings.TrimSpace(string(line))
}
