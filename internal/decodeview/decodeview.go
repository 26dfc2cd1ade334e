// Package decodeview is the human view of a decoded input: a summary line, the verdicts, the JWS
// header, then the payload as an indented tree with nested signed objects decoded in place and
// millisecond dates spelled out. `s2s decode`, `s2s captures show` and the TUI's Decoded tab all
// print it from here, so a payload reads the same wherever it is shown. Every payload-derived
// text goes through termsafe; colour is the caller's choice (Styles).
package decodeview

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"charm.land/lipgloss/v2"

	"github.com/s2s-dev/s2s/decode"
	"github.com/s2s-dev/s2s/internal/termsafe"
)

// Styles colour the view; the zero value prints plain text.
type Styles struct {
	Key, String, Number, Literal lipgloss.Style // the payload's JSON
	Dim, Bold                    lipgloss.Style // field names of the report, notes; the notification type
	OK, Sim, Warn, Bad           lipgloss.Style // trust labels by tone (decode.Label.Tone)
}

// NewStyles returns the terminal's standard colours, or plain text without colour.
func NewStyles(color bool) Styles {
	if !color {
		return Styles{}
	}
	return Styles{
		Key:     lipgloss.NewStyle().Foreground(lipgloss.Blue),
		String:  lipgloss.NewStyle().Foreground(lipgloss.Green),
		Number:  lipgloss.NewStyle().Foreground(lipgloss.Magenta),
		Literal: lipgloss.NewStyle().Foreground(lipgloss.Yellow),
		Dim:     lipgloss.NewStyle().Faint(true),
		Bold:    lipgloss.NewStyle().Bold(true),
		OK:      lipgloss.NewStyle().Foreground(lipgloss.Green).Bold(true),
		Sim:     lipgloss.NewStyle().Foreground(lipgloss.Cyan).Bold(true),
		Warn:    lipgloss.NewStyle().Foreground(lipgloss.Yellow).Bold(true),
		Bad:     lipgloss.NewStyle().Foreground(lipgloss.Red).Bold(true),
	}
}

// Label renders a trust label with its class ("invalid/chain") in its tone's colour.
func (s Styles) Label(l decode.Label, c decode.Class) string {
	text := string(l)
	if c != decode.ClassNone {
		text += "/" + string(c)
	}
	return s.LabelStyle(l).Render(text)
}

// LabelStyle colours a label by its tone, as every output does.
func (s Styles) LabelStyle(l decode.Label) lipgloss.Style {
	switch l.Tone() {
	case decode.ToneApple:
		return s.OK
	case decode.ToneTest:
		return s.Sim
	case decode.ToneUnsigned:
		return s.Warn
	}
	return s.Bad
}

// Write writes one decoded input for a reader: the summary line, the verdicts, then the payload
// with nested signed objects decoded in place and dates spelled out. It ends with a newline.
func Write(w io.Writer, d *decode.Decoded, st Styles) error {
	var b strings.Builder
	WriteVerdicts(&b, d, st)
	WritePayload(&b, d, st)
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteVerdicts writes the first part of Write: the summary line, the UNVERIFIED marker of an
// invalid input, each verdict with its signer, and the JWS header. Its lines are text that a
// narrow window may word-wrap; the payload's are not.
func WriteVerdicts(b *strings.Builder, d *decode.Decoded, st Styles) {
	b.WriteString(summaryLine(d.Summary(), st))
	b.WriteByte('\n')
	ver := d.Verification
	if ver.Label == decode.LabelInvalid {
		fmt.Fprintf(b, "%s the fields below are NOT verified\n", st.Bad.Render("UNVERIFIED:"))
	}
	writeVerdict(b, "trust", d.Own, st, "")
	for _, p := range d.NestedParts() {
		if nv := ver.Nested[p.Field]; nv != nil {
			writeVerdict(b, p.Field, *nv, st, "  ")
		}
	}
	if h := headerLine(d); h != "" {
		fmt.Fprintf(b, "%s %s\n", st.Dim.Render("header:"), termsafe.String(h))
	}
}

// WritePayload writes the rest of Write: the payload as an indented tree, or the input shown
// safely when it is no JSON.
func WritePayload(b *strings.Builder, d *decode.Decoded, st Styles) {
	if t := d.Tree(); t != nil {
		writeNode(b, t, st, "")
		b.WriteByte('\n')
	} else if len(d.Payload) > 0 {
		// Not JSON: one escaped line, so its newlines cannot fake lines of this report
		// (decode --json has every byte).
		b.WriteString(termsafe.String(string(d.Payload)))
		b.WriteByte('\n')
	} else if d.Kind == decode.KindUnknown && len(bytes.TrimSpace(d.Raw)) > 0 {
		raw := string(bytes.TrimSpace(d.Raw))
		if len(raw) > 200 {
			raw = raw[:200] + "…"
		}
		fmt.Fprintf(b, "%s %q\n", st.Dim.Render("input:"), raw)
	}
}

func summaryLine(s decode.Summary, st Styles) string {
	s = printableSummary(s) // before styling: the fields come from the payload
	var parts []string
	if s.Label == decode.LabelInvalid {
		// Decoded fields of an invalid payload never appear without this marker before them.
		parts = append(parts, st.Bad.Render("UNVERIFIED"))
	}
	what := s.Type
	if what == "" {
		what = string(s.Kind)
	}
	if s.Subtype != "" {
		what += "/" + s.Subtype
	}
	parts = append(parts, st.Bold.Render(what))
	for _, p := range []string{string(s.Environment), s.BundleID} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	kv := func(k, v string) {
		if v != "" {
			parts = append(parts, st.Dim.Render(k+"=")+v)
		}
	}
	kv("product", s.ProductID)
	kv("locale", s.UserLocale)
	kv("originalTransactionId", s.OriginalTransactionID)
	kv("transactionId", s.TransactionID)
	for _, d := range []struct {
		k string
		t time.Time
	}{{"signed", s.SignedDate}, {"purchased", s.PurchaseDate}, {"expires", s.ExpiresDate}} {
		if !d.t.IsZero() {
			kv(d.k, d.t.UTC().Format(time.RFC3339))
		}
	}
	parts = append(parts, st.Label(s.Label, s.Class))
	return strings.Join(parts, "  ")
}

// printableSummary returns a copy of s for a person to read: its text fields come from the
// payload (signed or not), so each is passed through termsafe.String. JSON output uses s itself.
func printableSummary(s decode.Summary) decode.Summary {
	for _, p := range []*string{&s.NotificationUUID, &s.Type, &s.Subtype, &s.BundleID,
		&s.OriginalTransactionID, &s.TransactionID, &s.ProductID, &s.Message, &s.UserLocale} {
		*p = termsafe.String(*p)
	}
	s.Environment = decode.Environment(termsafe.String(string(s.Environment)))
	return s
}

func writeVerdict(b *strings.Builder, name string, v decode.Verification, st Styles, indent string) {
	// The message may quote the payload, the leaf's names are the signer's own words.
	fmt.Fprintf(b, "%s%s %s  %s\n", indent, st.Dim.Render(name+":"), st.Label(v.Shown(), v.Class), termsafe.String(v.Message))
	if v.Leaf != nil {
		fmt.Fprintf(b, "%s  %s %s, serial %s, valid %s to %s\n", indent, st.Dim.Render("leaf:"), termsafe.String(v.Leaf.Subject), termsafe.String(v.Leaf.Serial),
			v.Leaf.NotBefore.Format(time.RFC3339), v.Leaf.NotAfter.Format(time.RFC3339))
	}
}

func headerLine(d *decode.Decoded) string {
	h := d.HeaderForDisplay()
	if h == nil {
		return ""
	}
	var parts []string
	for _, k := range []string{"alg", "kid", "typ"} {
		if v, ok := h[k]; ok {
			parts = append(parts, fmt.Sprintf("%s %v", k, v))
		}
	}
	if certs, ok := h["x5c"].([]decode.CertSummary); ok {
		var names []string
		for _, c := range certs {
			if c.Error != "" {
				names = append(names, "("+c.Error+")")
			} else {
				names = append(names, strconv.Quote(c.Subject))
			}
		}
		parts = append(parts, fmt.Sprintf("x5c [%s]", strings.Join(names, ", ")))
	}
	return strings.Join(parts, ", ")
}

// writeNode prints a JSON tree indented, in payload order, with nested signed objects decoded in
// place (their label before the brace) and millisecond dates followed by their ISO form.
func writeNode(b *strings.Builder, n *decode.Node, st Styles, indent string) {
	if n.Nested != nil {
		v := n.Nested.Own
		fmt.Fprintf(b, "%s ", st.Dim.Render("<"+string(n.Nested.Kind)+", ")+st.Label(v.Shown(), v.Class)+st.Dim.Render(">"))
	}
	switch n.Kind {
	case decode.NodeObject:
		if len(n.Members) == 0 {
			b.WriteString("{}")
			return
		}
		b.WriteString("{\n")
		for i, m := range n.Members {
			b.WriteString(indent + "  ")
			b.WriteString(st.Key.Render(termsafe.String(strconv.Quote(m.Key))))
			b.WriteString(": ")
			writeNode(b, m.Value, st, indent+"  ")
			if i < len(n.Members)-1 {
				b.WriteByte(',')
			}
			if note := dateNote(m.Key, m.Value); note != "" {
				b.WriteString("  " + st.Dim.Render("// "+note))
			}
			b.WriteByte('\n')
		}
		b.WriteString(indent + "}")
	case decode.NodeArray:
		if len(n.Elems) == 0 {
			b.WriteString("[]")
			return
		}
		b.WriteString("[\n")
		for i, e := range n.Elems {
			b.WriteString(indent + "  ")
			writeNode(b, e, st, indent+"  ")
			if i < len(n.Elems)-1 {
				b.WriteByte(',')
			}
			b.WriteByte('\n')
		}
		b.WriteString(indent + "]")
	case decode.NodeString:
		// The raw token: JSON escapes stay as written, but C1, bidi and zero-width characters
		// may be there unescaped, and a value may run to megabytes.
		b.WriteString(st.String.Render(termsafe.String(string(n.Raw))))
	case decode.NodeNumber:
		b.WriteString(st.Number.Render(string(n.Raw)))
	default:
		b.WriteString(st.Literal.Render(string(n.Raw)))
	}
}

// dateNote spells out a millisecond date (decode.DateNote); a nested signed object is not one.
func dateNote(key string, n *decode.Node) string {
	switch {
	case n.Nested != nil:
		return ""
	case n.Kind == decode.NodeNumber:
		return decode.DateNote(key, string(n.Raw))
	case n.Kind == decode.NodeString:
		return decode.DateNote(key, n.String())
	}
	return ""
}
