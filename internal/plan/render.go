package plan

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteJSON writes the plan as JSON (schema in docs/plan.md).
func WriteJSON(w io.Writer, p *Plan) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(p)
}

// Summary is the plan in one sentence.
func (p *Plan) Summary() string {
	t := p.Totals
	s := fmt.Sprintf("%d subscriptions: %d automatic once the customer consents, %d needing a person, %d blocked, %d with nothing to do; %d purchases (%d seats), %d transfers.",
		t.Subscriptions, t.Automatic, t.NeedsPerson, t.Blocked, t.Nothing, t.Purchases, t.Seats, t.Transfers)
	if n := len(p.Removed); n > 0 {
		s += fmt.Sprintf(" %d no longer declared.", n)
	}
	return s
}

// WriteText writes the plan for a terminal.
func WriteText(w io.Writer, p *Plan) error {
	b := &strings.Builder{}
	fmt.Fprintf(b, "Plan at %s: %s\n", day(p.Now), p.Summary())
	for _, it := range p.Items {
		fmt.Fprintf(b, "\n%s%s/%s: %s (%s%s), %s\n", change(it.Change), it.Namespace, it.Name, it.Path, it.Reason, rule(it.Rule), it.Attention)
		if it.Partner != "" {
			fmt.Fprintf(b, "  customer %s, support partner %s\n", it.Customer, it.Partner)
		}
		if len(it.Steps) == 0 {
			fmt.Fprintf(b, "  %s\n", plain(it.Message))
			continue
		}
		for i, s := range it.Steps {
			fmt.Fprintf(b, "  %d. %s%s, by %s: %s\n", i+1, s.Step, when(s), plain(s.By), plain(s.Detail))
			for _, c := range s.Calls {
				fmt.Fprintf(b, "       %s\n", c)
			}
		}
		if it.Authorization != "" {
			fmt.Fprintf(b, "  authorization: %s\n", it.Authorization)
		}
		if it.Seats > 0 {
			fmt.Fprintf(b, "  seats bought: %d\n", it.Seats)
		}
		if it.DoubleBilling != "" {
			fmt.Fprintf(b, "  billed twice: %s\n", it.DoubleBilling)
		}
		if it.Irreversible != "" {
			fmt.Fprintf(b, "  cannot be undone: %s\n", plain(it.Irreversible))
		}
		for _, c := range it.Caveats {
			fmt.Fprintf(b, "  assumes: %s\n", c)
		}
	}
	for _, r := range p.Removed {
		fmt.Fprintf(b, "\n- %s/%s (%s): %s\n", r.Namespace, r.Name, orNone(r.Phase), r.Note)
	}
	b.WriteString("\n")
	if _, err := io.WriteString(w, b.String()); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAMESPACE\tCUSTOMER\tSUBSCRIPTIONS\tAUTOMATIC\tNEEDS PERSON\tBLOCKED\tNOTHING\tPURCHASES\tSEATS\tTRANSFERS")
	for _, c := range p.Customers {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\n", c.Namespace, c.Customer, c.Subscriptions, c.Automatic, c.NeedsPerson, c.Blocked, c.Nothing, c.Purchases, c.Seats, c.Transfers)
	}
	return tw.Flush()
}

// WriteMarkdown writes the plan as a pull-request comment.
func WriteMarkdown(w io.Writer, p *Plan) error {
	b := &strings.Builder{}
	fmt.Fprintf(b, "### Multichannel plan\n\n%s\n\n", p.Summary())
	b.WriteString("| Subscription | Path | Needs | Authorization | Earliest | Deadline | Seats |\n|---|---|---|---|---|---|---|\n")
	for _, it := range p.Items {
		fmt.Fprintf(b, "| %s`%s/%s` | %s (%s) | %s | %s | %s | %s | %d |\n", change(it.Change), it.Namespace, it.Name, it.Path, it.Reason, it.Attention,
			cell(it.Authorization), timeCell(it.Earliest), cell(deadlines(it)), it.Seats)
	}
	b.WriteString("\n")
	for _, it := range p.Items {
		fmt.Fprintf(b, "<details><summary><code>%s/%s</code>: %s, %s</summary>\n\n", it.Namespace, it.Name, it.Path, it.Attention)
		if len(it.Steps) == 0 {
			fmt.Fprintf(b, "%s\n", cell(it.Message))
		}
		for i, s := range it.Steps {
			fmt.Fprintf(b, "%d. **%s**%s, by %s: %s", i+1, s.Step, when(s), cell(s.By), cell(s.Detail))
			for _, c := range s.Calls {
				fmt.Fprintf(b, " %s", cell(c))
			}
			b.WriteString("\n")
		}
		for _, line := range []struct{ label, text string }{{"Billed twice", it.DoubleBilling}, {"Cannot be undone", it.Irreversible}} {
			if line.text != "" {
				fmt.Fprintf(b, "\n%s: %s.\n", line.label, cell(line.text))
			}
		}
		for _, c := range it.Caveats {
			fmt.Fprintf(b, "\nAssumes: %s.\n", cell(c))
		}
		b.WriteString("\n</details>\n")
	}
	if len(p.Removed) > 0 {
		b.WriteString("\nNo longer declared (deleting cancels nothing in Partner Center):\n\n")
		for _, r := range p.Removed {
			fmt.Fprintf(b, "- `%s/%s` (%s)\n", r.Namespace, r.Name, orNone(r.Phase))
		}
	}
	b.WriteString("\n| Namespace | Customer | Subscriptions | Automatic | Needs a person | Blocked | Purchases | Seats | Transfers |\n|---|---|---|---|---|---|---|---|---|\n")
	for _, c := range p.Customers {
		fmt.Fprintf(b, "| %s | %s | %d | %d | %d | %d | %d | %d | %d |\n", c.Namespace, c.Customer, c.Subscriptions, c.Automatic, c.NeedsPerson, c.Blocked, c.Purchases, c.Seats, c.Transfers)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func rule(r string) string {
	if r == "" {
		return ""
	}
	return ", rule " + r
}

func when(s Step) string {
	var parts []string
	if s.NotBefore != nil {
		parts = append(parts, "from "+day(*s.NotBefore))
	}
	if s.Deadline != nil {
		parts = append(parts, "by "+day(*s.Deadline))
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// deadlines lists an item's deadlines, soonest first (steps are in order).
func deadlines(it Item) string {
	var out []string
	for _, s := range it.Steps {
		if s.Deadline != nil {
			out = append(out, s.Step+" "+day(*s.Deadline))
		}
	}
	return strings.Join(out, "; ")
}

func timeCell(t *time.Time) string {
	if t == nil {
		return ""
	}
	return day(*t)
}

// cell is free text (it carries spec fields: offer IDs, subscription IDs,
// service names) made literal in Markdown and HTML: a pull-request comment
// cannot be closed, forged or made to ping anyone through a manifest.
func cell(s string) string {
	var b strings.Builder
	for _, r := range plain(s) {
		switch {
		case r == '&':
			b.WriteString("&amp;")
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case strings.ContainsRune("\\`*_[]()#@!|~{}+-.:", r):
			b.WriteRune('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// plain is free text on one line, without control characters (a terminal
// escape sequence in a manifest field is shown, not run).
func plain(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

// change marks a subscription's change against a cluster.
func change(c string) string {
	if c == "" {
		return ""
	}
	return c + " "
}

func orNone(s string) string {
	if s == "" {
		return "no phase"
	}
	return s
}
