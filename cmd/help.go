package cmd

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Help is wrapped here, to the width of the reader's screen, and nowhere else: the texts in the
// commands are written as paragraphs (their line breaks are the source's, not the screen's), so a
// renderer that printed them as they are would break words wherever the terminal folds them.
const (
	helpWidthDefault = 80  // not a terminal, and no $COLUMNS
	helpWidthMax     = 100 // prose wider than this is hard to read, whatever the screen
	helpWidthMin     = 40
	helpIndent       = 2
)

// helpWidth is the width help is wrapped to: $COLUMNS when set (as ls and most tools read it), else
// the terminal's width, else 80; within [helpWidthMin, helpWidthMax].
func helpWidth(f *Factory) int {
	w := 0
	if f.Getenv != nil {
		w, _ = strconv.Atoi(strings.TrimSpace(f.Getenv("COLUMNS")))
	}
	if w <= 0 {
		w = f.IO.TerminalWidth()
	}
	if w <= 0 {
		w = helpWidthDefault
	}
	return min(max(w, helpWidthMin), helpWidthMax)
}

// installHelp makes every command's help, --help and "s2s help CMD" render through renderHelp.
func installHelp(root *cobra.Command, f *Factory) {
	root.SetHelpFunc(func(c *cobra.Command, _ []string) {
		renderHelp(c.OutOrStdout(), c, helpWidth(f), f.IO.ColorOut())
	})
}

// renderHelp writes c's help: its description, usage, examples, subcommands and flags, every line
// at most width columns and none ending in spaces.
func renderHelp(w io.Writer, c *cobra.Command, width int, color bool) {
	h := &helpWriter{width: width, color: color}
	h.blank()
	h.prose(strings.TrimSpace(firstNonEmpty(c.Long, c.Short)), helpIndent)

	h.title("usage")
	if c.Runnable() {
		h.wrapped(c.UseLine(), helpIndent, helpIndent+4)
	}
	if c.HasAvailableSubCommands() {
		h.wrapped(c.CommandPath()+" [command]", helpIndent, helpIndent+4)
	}
	if len(c.Aliases) > 0 {
		h.title("aliases")
		h.wrapped(strings.Join(append([]string{c.Name()}, c.Aliases...), ", "), helpIndent, helpIndent)
	}
	if c.Example != "" {
		h.title("examples")
		h.examples(c.Example)
	}

	// Subcommands, by group in the order the groups were added; ungrouped ones first.
	// Subcommands, by group in the order the groups were added, ungrouped ones first; one column
	// for all groups, so the list reads as one table.
	groups := []*cobra.Group{{ID: "", Title: "commands"}}
	groups = append(groups, c.Groups()...)
	grouped := make([][][2]string, len(groups))
	for i, g := range groups {
		for _, sc := range c.Commands() {
			if sc.GroupID == g.ID && !sc.Hidden && sc.Deprecated == "" && (sc.Runnable() || sc.HasAvailableSubCommands()) {
				grouped[i] = append(grouped[i], [2]string{sc.Name(), sc.Short})
			}
		}
	}
	col := h.column(slices.Concat(grouped...))
	for i, rows := range grouped {
		if len(rows) > 0 {
			h.title(groups[i].Title)
			h.table(rows, col)
		}
	}

	local, inherited := flagRows(c.LocalFlags()), flagRows(c.InheritedFlags())
	col = h.column(slices.Concat(local, inherited))
	if len(local) > 0 {
		h.title("flags")
		h.table(local, col)
	}
	if len(inherited) > 0 {
		h.title("global flags")
		h.table(inherited, col)
	}
	if c.HasAvailableSubCommands() {
		h.blank()
		h.wrapped(fmt.Sprintf("Run '%s COMMAND --help' for a command's own help.", c.CommandPath()), 0, helpIndent)
	}
	h.blank()
	_, _ = io.WriteString(w, h.b.String())
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
}

// flagRows lists the visible flags as (names, description) rows, as pflag would: "-c, --count N"
// with the argument's name taken from the usage's `backquoted` word or the flag's type.
func flagRows(fs *pflag.FlagSet) [][2]string {
	var rows [][2]string
	fs.VisitAll(func(fl *pflag.Flag) {
		if fl.Hidden {
			return
		}
		name, usage := pflag.UnquoteUsage(fl)
		key := "    --" + fl.Name
		if fl.Shorthand != "" && fl.ShorthandDeprecated == "" {
			key = "-" + fl.Shorthand + ", --" + fl.Name
		}
		if name != "" && fl.NoOptDefVal == "" {
			key += " " + name
		}
		switch fl.DefValue {
		case "", "false", "0", "[]", "0s", "<nil>":
		default:
			usage += " (default " + fl.DefValue + ")"
		}
		rows = append(rows, [2]string{key, usage})
	})
	return rows
}

// helpWriter accumulates wrapped lines.
type helpWriter struct {
	b     strings.Builder
	width int
	color bool
}

func (h *helpWriter) line(s string) {
	h.b.WriteString(strings.TrimRight(s, " "))
	h.b.WriteByte('\n')
}

func (h *helpWriter) blank() { h.b.WriteByte('\n') }

func (h *helpWriter) title(t string) {
	h.blank()
	t = strings.ToUpper(t)
	if h.color {
		t = lipgloss.NewStyle().Bold(true).Render(t)
	}
	h.line(t)
}

// wrapped writes one logical line wrapped to the width, the first line indented by first, the
// others by rest.
func (h *helpWriter) wrapped(s string, first, rest int) {
	for _, l := range wrapWords(strings.Fields(s), h.width, first, rest) {
		h.line(l)
	}
}

// prose writes text written as paragraphs. Lines at the left margin are joined into paragraphs and
// wrapped; an indented line is an item of its own (a table row, a list entry), wrapped with its
// continuation aligned under its second column when it has one ("name   what it is"); a line
// indented to that column continues the item above it. Blank lines separate paragraphs.
func (h *helpWriter) prose(text string, indent int) {
	var para []string // words of the paragraph at the margin
	var item struct {
		lead      string   // the row's first column, verbatim
		words     []string // the rest, to wrap
		ind, cont int      // indentation of the row and of its continuation lines
	}
	flushPara := func() {
		if len(para) > 0 {
			for _, l := range wrapWords(para, h.width, indent, indent) {
				h.line(l)
			}
			para = nil
		}
	}
	flushItem := func() {
		if item.lead == "" && len(item.words) == 0 {
			return
		}
		h.row(item.lead, item.words, indent+item.ind, indent+item.cont)
		item.lead, item.words = "", nil
	}
	for _, raw := range strings.Split(strings.ReplaceAll(text, "\t", "    "), "\n") {
		trimmed := strings.TrimLeft(raw, " ")
		ind := len(raw) - len(trimmed)
		switch {
		case strings.TrimSpace(raw) == "":
			flushPara()
			flushItem()
			h.blank()
		case ind == 0:
			flushItem()
			para = append(para, strings.Fields(raw)...)
		case item.cont > 0 && ind == item.cont && !strings.Contains(trimmed, "  "):
			item.words = append(item.words, strings.Fields(trimmed)...)
		default:
			flushPara()
			flushItem()
			lead, rest, ok := splitColumns(trimmed)
			item.ind = ind
			if ok {
				item.lead, item.words = lead, strings.Fields(rest)
				// Columns, not bytes: a lead with "…" in it must not push its text right.
				item.cont = ind + ansi.StringWidth(trimmed[:strings.Index(trimmed, rest)])
			} else {
				item.lead, item.words = "", strings.Fields(trimmed)
				item.cont = ind + 2
			}
		}
	}
	flushPara()
	flushItem()
}

// splitColumns splits "name   description" at its first run of two or more spaces.
func splitColumns(s string) (lead, rest string, ok bool) {
	i := strings.Index(s, "  ")
	if i <= 0 {
		return "", "", false
	}
	rest = strings.TrimLeft(s[i:], " ")
	if rest == "" {
		return "", "", false
	}
	return s[:i], rest, true
}

// row writes lead then words wrapped at column cont; when lead leaves too little room, the words
// start on the next line, indented a little deeper than lead.
func (h *helpWriter) row(lead string, words []string, ind, cont int) {
	if lead == "" {
		for _, l := range wrapWords(words, h.width, ind, cont) {
			h.line(l)
		}
		return
	}
	const minText = 24
	if cont+minText > h.width || ind+ansi.StringWidth(lead)+2 > cont {
		for _, l := range wrapWords(strings.Fields(lead), h.width, ind, ind+2) {
			h.line(l)
		}
		if cont+minText > h.width {
			cont = ind + 4
		}
		for _, l := range wrapWords(words, h.width, cont, cont) {
			h.line(l)
		}
		return
	}
	lines := wrapWords(words, h.width, cont, cont)
	if len(lines) == 0 {
		lines = []string{""}
	}
	first := strings.Repeat(" ", ind) + lead
	lines[0] = first + strings.Repeat(" ", cont-ansi.StringWidth(first)) + strings.TrimLeft(lines[0], " ")
	for _, l := range lines {
		h.line(l)
	}
}

// column is where the second column of a table of rows starts: after the widest first column,
// leaving out those so wide that they would squeeze every description (they get lines of their own).
func (h *helpWriter) column(rows [][2]string) int {
	col := 0
	maxKey := max(12, min(30, h.width*2/5))
	for _, r := range rows {
		if w := ansi.StringWidth(r[0]); w <= maxKey {
			col = max(col, w)
		}
	}
	return helpIndent + col + 2
}

// table writes two-column rows (a name and what it is) at the margin, the second column at cont.
func (h *helpWriter) table(rows [][2]string, cont int) {
	for _, r := range rows {
		h.row(r[0], strings.Fields(r[1]), helpIndent, cont)
	}
}

// examples writes the Example text: comments wrap as comments, a command too wide for the screen
// continues on the next line after a backslash, as a shell reads it.
func (h *helpWriter) examples(text string) {
	lines := strings.Split(strings.Trim(text, "\n"), "\n")
	common := -1
	for _, l := range lines {
		if strings.TrimSpace(l) == "" {
			continue
		}
		ind := len(l) - len(strings.TrimLeft(l, " "))
		if common < 0 || ind < common {
			common = ind
		}
	}
	for _, l := range lines {
		if strings.TrimSpace(l) == "" {
			h.blank()
			continue
		}
		trimmed := strings.TrimLeft(l, " ")
		ind := helpIndent + len(l) - len(trimmed) - common
		if ansi.StringWidth(trimmed)+ind <= h.width {
			h.line(strings.Repeat(" ", ind) + trimmed)
			continue
		}
		if rest, ok := strings.CutPrefix(trimmed, "# "); ok {
			for _, w := range wrapWords(strings.Fields(rest), h.width-2, ind, ind) {
				h.line(w[:ind] + "# " + w[ind:])
			}
			continue
		}
		out := wrapWords(flagUnits(strings.Fields(trimmed)), h.width-2, ind, ind+2)
		for i, w := range out {
			if i < len(out)-1 && !strings.HasSuffix(w, `\`) {
				w += ` \`
			}
			h.line(w)
		}
	}
}

// flagUnits keeps each flag with its value ("--environment Production"), so a command wraps
// between options, never between a flag and what it takes.
func flagUnits(words []string) []string {
	var out []string
	for i := 0; i < len(words); i++ {
		w := words[i]
		if strings.HasPrefix(w, "-") && i+1 < len(words) && isFlagValue(words[i+1]) {
			w += " " + words[i+1]
			i++
		}
		out = append(out, w)
	}
	return out
}

// isFlagValue reports whether an example's word can be a flag's value: not a flag, and not the
// shell's own (a continuation, a pipe, a redirection).
func isFlagValue(w string) bool {
	if strings.HasPrefix(w, "-") {
		return false
	}
	switch w {
	case `\`, "|", ">", ">>", "<", "&&", "||", ";":
		return false
	}
	return true
}

// wrapWords fills lines of at most width columns with words, the first line indented by first
// and the others by rest. A word wider than a whole line is cut, the one case a word is broken.
func wrapWords(words []string, width, first, rest int) []string {
	var lines []string
	var cur strings.Builder
	ind := first
	curW := 0 // width of cur's words, without the indentation
	flush := func() {
		lines = append(lines, strings.Repeat(" ", ind)+cur.String())
		cur.Reset()
		curW = 0
		ind = rest
	}
	for _, w := range words {
		ww := ansi.StringWidth(w)
		room := width - ind
		if curW > 0 && curW+1+ww > room {
			flush()
			room = width - ind
		}
		for ww > room && room > 0 {
			if curW > 0 {
				flush()
				room = width - ind
			}
			head := ansi.Truncate(w, room, "")
			cur.WriteString(head)
			curW = ansi.StringWidth(head)
			w = w[len(head):]
			ww = ansi.StringWidth(w)
			flush()
			room = width - ind
		}
		if w == "" {
			continue
		}
		if curW > 0 {
			cur.WriteByte(' ')
			curW++
		}
		cur.WriteString(w)
		curW += ww
	}
	if curW > 0 {
		flush()
	}
	return lines
}
