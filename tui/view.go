package tui

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/s2s-dev/s2s/appstore"
	"github.com/s2s-dev/s2s/decode"
	"github.com/s2s-dev/s2s/store"
)

const minWidth, minHeight = 40, 10

// View draws the whole screen on the alternate screen: header, body, status bar, help line.
func (m *Model) View() tea.View {
	v := tea.NewView(m.Render())
	v.AltScreen = true
	if m.editing && !m.showHelp {
		if c := m.input.Cursor(); c != nil {
			c.Y += m.headerHeight() // the filter bar is the first line under the header
			v.Cursor = c
		}
	}
	return v
}

// Render is the screen as a string, exactly width×height cells; goldens compare it.
func (m *Model) Render() string {
	w, h := m.width, m.height
	if w < minWidth || h < minHeight {
		return fit(fmt.Sprintf("s2s: the window is %dx%d; make it at least %dx%d", w, h, minWidth, minHeight), w)
	}
	lines := m.headerLines()
	lines = append(lines, m.st.Dim.Render(strings.Repeat("─", w)))
	body := m.bodyLines()
	bh := m.bodyHeight()
	for len(body) < bh {
		body = append(body, "")
	}
	lines = append(lines, body[:bh]...)
	lines = append(lines, m.statusLine(), m.helpLine())
	for i := range lines {
		lines[i] = fit(lines[i], w)
	}
	return strings.Join(lines, "\n")
}

func (m *Model) headerHeight() int { return len(m.headerLines()) + 1 }

func (m *Model) bodyHeight() int { return max(1, m.height-m.headerHeight()-2) }

// listHeight is how many rows fit under the column header (and the filter bar when shown).
func (m *Model) listHeight() int {
	h := m.bodyHeight() - len(m.filterErrLines())
	if m.editing || m.filterTx != "" {
		h--
	}
	return max(1, h)
}

// filterErrLines is a refused filter's message wrapped to the screen, in place of the column
// titles (one line when there is none): at 80 columns the valid keys or values take three lines,
// and they are the part that says how to fix the filter.
func (m *Model) filterErrLines() []string {
	if !m.editing || m.filterErr == "" {
		return []string{""}
	}
	ls := strings.Split(wordwrap(m.filterErr, max(1, m.width-2)), "\n")
	// The list keeps at least one row, so a very short window cuts the message instead.
	if keep := max(1, m.bodyHeight()-3); len(ls) > keep {
		ls = ls[:keep]
	}
	return ls
}

// layout recomputes sizes after a resize or a change in the header or bars.
func (m *Model) layout() {
	m.help.SetWidth(m.width)
	m.input.SetWidth(max(10, m.width-30))
	m.vp.SetWidth(max(1, m.width))
	m.vp.SetHeight(max(1, m.bodyHeight()-3))
	m.ensureVisible()
	m.refreshDetail()
}

func (m *Model) headerLines() []string {
	s, w := m.st, m.width
	label := func(l string) string { return s.Label.Render(fmt.Sprintf("%-7s", l)) }

	health := s.Warn.Render("○ starting")
	if m.ready {
		health = s.OK.Render("● receiving")
	}
	if m.closed {
		health = s.Error.Render("✗ stopped")
	}
	left := s.Title.Render("s2s "+m.cfg.Version) + "  " + health + "  " + s.URL.Render(m.cfg.LocalURL)
	// On the right, the silence and the last probe, each shortened before either is dropped.
	var silence, silenceShort, probe, probeShort string
	if !m.lastArrival.IsZero() && !m.now.IsZero() {
		ago := store.AgoText(m.now.Sub(m.lastArrival))
		silence, silenceShort = s.Dim.Render("last notification "+ago), s.Dim.Render("last "+ago)
	}
	if m.probeVerdict != "" {
		mark, st := "✓", s.OK
		if m.probeVerdict != appstore.ResultSuccess {
			mark, st = "✗", s.Error
		}
		probe = st.Render(fmt.Sprintf("probe %s %s %s", mark, m.probeVerdict, m.clock(m.probeAt)))
		probeShort = st.Render("probe " + mark)
	}
	right := ""
	for _, r := range []string{join2(silence, probe), join2(silenceShort, probe), join2(silenceShort, probeShort), silenceShort, probeShort} {
		if r != "" && ansi.StringWidth(left)+2+ansi.StringWidth(r) <= w {
			right = r
			break
		}
	}
	lines := []string{spread(left, right, w)}

	pub := s.Dim.Render("none (local only; add --tunnel for a public URL)")
	switch {
	case m.tunnelErr != "":
		pub = s.Error.Render("✗ tunnel: " + m.tunnelErr)
	case m.publicURL != "":
		pub = s.URL.Render(m.publicURL) + s.Dim.Render("  ← the URL for App Store Connect")
	}
	lines = append(lines, label("public")+" "+pub)
	lines = append(lines, m.connectLines(label)...)
	if len(m.cfg.Forward) > 0 {
		lines = append(lines, label("forward")+" "+s.URL.Render(strings.Join(m.cfg.Forward, ", ")))
	}
	if m.cfg.HubURL != "" {
		lines = append(lines, m.hubLine(label, w))
	}

	counts := s.Dim.Render("no captures yet")
	if m.totalAll > 0 {
		counts = m.trustCounts(w - 8)
	}
	// The counts matter more than the path: cut the path from the left, or leave it out (the ?
	// help names it).
	path := m.cfg.StorePath
	room := w - 8 - 2 - ansi.StringWidth(counts)
	switch {
	case ansi.StringWidth(path) <= room:
		path = s.Value.Render(path) + "  "
	case room >= 16:
		path = s.Value.Render("…"+ansi.TruncateLeft(path, ansi.StringWidth(path)-room+1, "")) + "  "
	default:
		path = ""
	}
	lines = append(lines, label("store")+" "+path+counts)

	if m.prevPublicURL != "" && (m.connect == "" || m.connectErr != "") {
		// Loud and on two lines, so neither URL is ever cut off at 80 columns.
		lines = append(lines,
			s.Notice.Render(fmt.Sprintf(" ⚠ PUBLIC URL CHANGED at %s: paste it in App Store Connect ", m.clock(m.urlChangedAt))),
			s.Notice.Render(" now "+m.publicURL+" ")+s.Dim.Render("  was "+m.prevPublicURL))
	}
	if m.lastErr != "" {
		lines = append(lines, s.Error.Render(fmt.Sprintf("✗ receiver error at %s: %s", m.clock(m.lastErrAt), m.lastErr)))
	}
	return lines
}

// hubLine names the hub: for s2s hub, the URL teammates pass to --hub (the credentials are
// redacted; s2s hub status shows them), for listen --hub, where its captures come from. The hint
// shortens, then goes, before the URL is cut.
func (m *Model) hubLine(label func(string) string, w int) string {
	s := m.st
	url := label("hub") + " " + s.URL.Render(cleanLine(m.cfg.HubURL))
	hints := []string{"  ← the captures' source"}
	if m.cfg.Hub {
		hints = []string{"  ← teammates: s2s listen --hub (s2s hub status shows it with its credentials)", "  ← for teammates (s2s hub status)"}
	}
	for _, h := range hints {
		if ansi.StringWidth(url)+ansi.StringWidth(h) <= w {
			return url + s.Dim.Render(h)
		}
	}
	return url
}

// connectLines show what listen --connect changed in App Store Connect and what it puts back, on
// two lines so that neither URL is cut at 80 columns.
func (m *Model) connectLines(label func(string) string) []string {
	s := m.st
	if m.connectErr != "" {
		return []string{label("connect") + " " + s.Error.Render("✗ "+m.connectErr)}
	}
	if m.connect == "" {
		return nil
	}
	now, back, _ := strings.Cut(strings.TrimPrefix(m.connect, "App Store Connect: "), "; ")
	lines := []string{label("connect") + " " + s.OK.Render("✓ ") + s.Value.Render("App Store Connect: "+now)}
	if back != "" {
		lines = append(lines, label("")+" "+s.Dim.Render("  "+back))
	}
	return lines
}

// trustCounts lists the labels by importance, in a fixed order so the header does not jump
// around: invalid first (what needs looking at), then verified, simulated and the unsigned ones,
// so what a narrow window cuts off is the least important. The total goes first when it fits in w.
func (m *Model) trustCounts(w int) string {
	s := m.st
	var parts []string
	for _, l := range []decode.Label{decode.LabelInvalid, decode.LabelVerified, decode.LabelSimulated, decode.LabelXcode, decode.LabelLegacyV1} {
		if n := m.byTrust[l]; n > 0 {
			parts = append(parts, s.trust(l).Render(fmt.Sprintf("%d %s", n, trustText(l, ""))))
		}
	}
	counts := strings.Join(parts, s.Dim.Render(" · "))
	noun := "captures"
	if m.totalAll == 1 {
		noun = "capture"
	}
	total := s.Value.Render(fmt.Sprintf("%d %s", m.totalAll, noun))
	if counts == "" {
		return total
	}
	if withTotal := total + s.Value.Render(":") + " " + counts; ansi.StringWidth(withTotal) <= w {
		return withTotal
	}
	return counts
}

// join2 joins two header parts that may be empty.
func join2(a, b string) string {
	if a == "" || b == "" {
		return a + b
	}
	return a + "  " + b
}

func (m *Model) clock(t time.Time) string {
	if t.IsZero() {
		return "--:--:--"
	}
	return t.In(m.cfg.Location).Format("15:04:05")
}

// spread puts left and right on one line of width w, right-aligned when there is room.
func spread(left, right string, w int) string {
	gap := w - ansi.StringWidth(left) - ansi.StringWidth(right)
	if right == "" || gap < 2 {
		return left
	}
	return left + strings.Repeat(" ", gap) + right
}

func (m *Model) bodyLines() []string {
	if m.showHelp {
		return m.helpLines()
	}
	if m.screen == screenDetail {
		return m.detailLines()
	}
	return m.listLines()
}

func (m *Model) statusLine() string {
	s, w := m.st, m.width
	var right string
	if m.screen == screenList {
		pos := "0/0"
		if len(m.rows) > 0 {
			pos = fmt.Sprintf("%d/%d", m.cursor+1, max(m.total, len(m.rows)))
		}
		fol := s.Bar.Render(" follow off ")
		if m.follow {
			fol = s.Follow.Render(" FOLLOW ")
		}
		right = fol + s.Bar.Render(" "+pos+" ")
	} else {
		right = s.Bar.Render(fmt.Sprintf(" #%d %d%% ", m.detID, int(m.vp.ScrollPercent()*100)))
	}
	text := m.status
	st := s.Status
	if m.statusBad {
		st = s.Status.Inherit(s.Error)
	}
	room := w - ansi.StringWidth(right) - 1
	left := st.Render(cell(" "+text, max(0, room)))
	return left + s.Bar.Render(" ") + right
}

func (m *Model) helpLine() string {
	if m.editing {
		// The list's keys do not apply while typing; enter applies the filter rather than opening.
		return m.help.ShortHelpView([]key.Binding{
			key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "apply")),
			key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel")),
			key.NewBinding(key.WithKeys("?"), key.WithHelp("type: env: trust: product: subtype:", "or any text")),
		})
	}
	return m.help.ShortHelpView(m.keys.ShortHelp(m.screen == screenDetail))
}

func (m *Model) helpLines() []string {
	s := m.st
	// 18 lines at most: the body of an 80x24 terminal (TestHelpFitsAt80x24).
	lines := []string{s.Title.Render("Keys")}
	lines = append(lines, strings.Split(m.help.FullHelpView(m.keys.navHelp()), "\n")...)
	lines = append(lines, "")
	lines = append(lines, strings.Split(m.help.FullHelpView(m.keys.actionHelp()), "\n")...)
	lines = append(lines,
		s.Title.Render("Tabs")+"    "+s.Dim.Render("1-6 jump to a tab; in Timeline, enter opens the selected notification"),
		s.Title.Render("Filter")+"  "+s.Dim.Render("type:DID_RENEW subtype:VOLUNTARY env:sandbox trust:verified"),
		"        "+s.Dim.Render("product:ID bundle:ID otid:ID, or any text"),
		s.Title.Render("Trust")+"   "+s.TrustOK.Render("verified ✓")+" Apple  "+s.TrustSim.Render("simulated")+" test chain  "+
			s.TrustWeak.Render("xcode")+"/"+s.TrustWeak.Render("v1")+" unsigned  "+s.TrustBad.Render("invalid ✗"),
		s.Title.Render("Colours")+" "+s.Kind[kindPurchase].Render("purchase")+" "+s.Kind[kindRenewal].Render("renewal")+" "+
			s.Kind[kindFailure].Render("failure/expiry")+" "+s.Kind[kindRefund].Render("refund")+" "+s.Kind[kindTest].Render("test")+" "+
			s.Kind[kindOther].Render("other"),
		s.Dim.Render("Logs go to "+m.cfg.LogPath+" · ? or esc closes this help"))
	return lines
}

// columns are the list's column widths for the current window width.
type columns struct{ time, delay, env, typ, product, trust, ans, fwd, acked int }

func (m *Model) columns() columns {
	c := columns{time: 8, env: 5, trust: 12, ans: 3}
	if m.width >= 100 {
		c.time = 14
	}
	if m.forwarding() {
		c.fwd = 10
		if m.fwdWide {
			c.fwd = 20 // "200 · replay failed"
		}
	}
	if m.unusualDelays {
		// Only while the list holds a delay worth a look: the usual few seconds are noise.
		c.delay = 6
	}
	// ACKED BY gives way first: under 120 columns it narrows, under 100 it goes (the Summary tab
	// still names every listener), so TYPE and PRODUCT stay readable.
	switch {
	case !m.cfg.Hub || m.width < 100:
	case m.width < 120:
		c.acked = 8
	default:
		c.acked = 12
	}
	fixed := 2 + c.time + 1 + c.env + 1 + 1 + 1 + c.trust + 1 + c.ans
	if c.fwd > 0 {
		fixed += 1 + c.fwd
	}
	if c.acked > 0 {
		fixed += 1 + c.acked
	}
	if c.delay > 0 {
		fixed += 1 + c.delay
	}
	flex := max(10, m.width-fixed)
	c.typ = flex * 3 / 5
	c.product = flex - c.typ
	return c
}

func (m *Model) forwarding() bool { return m.cfg.Replay != nil || len(m.lastDel) > 0 }

func (m *Model) listLines() []string {
	s := m.st
	var lines []string
	if m.editing {
		lines = append(lines, m.input.View())
	} else if m.filterTx != "" {
		lines = append(lines, s.Title.Render("filter")+" "+s.Value.Render(m.filterTx)+s.Dim.Render(fmt.Sprintf("  %d matching · / edits · esc clears", m.total)))
	}
	c := m.columns()
	head := "  " + cell("TIME", c.time) + " "
	if c.delay > 0 {
		head += cell("DELAY", c.delay) + " "
	}
	head += cell("ENV", c.env) + " " + cell("TYPE · SUBTYPE", c.typ) + " " +
		cell("PRODUCT", c.product) + " " + cell("TRUST", c.trust) + " " + cell("ANS", c.ans)
	if c.fwd > 0 {
		head += " " + cell("FORWARD", c.fwd)
	}
	if c.acked > 0 {
		head += " " + cell("ACKED BY", c.acked)
	}
	if m.editing && m.filterErr != "" {
		// In place of the column titles: the whole message, which the status line may have to
		// cut, wrapped; the list gives up the rows it takes (listHeight).
		for _, l := range m.filterErrLines() {
			lines = append(lines, s.Error.Render(cell("  "+l, m.width)))
		}
	} else {
		lines = append(lines, s.ColHeader.Render(head))
	}
	if len(m.rows) == 0 {
		switch {
		case m.loading:
			lines = append(lines, s.Dim.Render("  loading…"))
		case m.filterTx != "":
			lines = append(lines, s.Dim.Render("  nothing matches this filter (esc clears it)"))
		default:
			lines = append(lines, "", s.Dim.Render("  Waiting for notifications on "+m.cfg.LocalURL),
				s.Dim.Render("  Press t to send a test notification, or run: s2s send-test --type SUBSCRIBED"))
		}
		return lines
	}
	end := min(len(m.rows), m.offset+m.listHeight())
	for i := m.offset; i < end; i++ {
		lines = append(lines, m.row(m.rows[i], c, i == m.cursor))
	}
	if end == len(m.rows) && m.loading {
		lines = append(lines, s.Dim.Render("  loading older captures…"))
	}
	return lines
}

// row renders one capture; only the rows on screen are ever rendered.
func (m *Model) row(c *store.Capture, col columns, selected bool) string {
	s := m.st
	tm := c.ReceivedAt.In(m.cfg.Location)
	ts := tm.Format("15:04:05")
	if col.time >= 14 {
		ts = tm.Format("01-02 15:04:05")
	}
	var fwd string
	if col.fwd > 0 {
		fwd = deliveryText(m.forwardingOf(c.ID))
	}
	cells := []string{cell(ts, col.time), cell(envBadge(c.Environment), col.env), cell(typeText(c), col.typ),
		cell(c.ProductID, col.product), cell(trustText(c.Trust, ""), col.trust), cell(codeText(c.ResponseStatus), col.ans)}
	if col.fwd > 0 {
		cells = append(cells, cell(fwd, col.fwd))
	}
	acked := m.hubAcks[c.ID]
	if col.acked > 0 {
		cells = append(cells, cell(strings.Join(acked, ","), col.acked))
	}
	delay := ""
	if col.delay > 0 && c.DelayUnusual() {
		d, _ := c.Delay()
		delay = store.FormatDelay(d)
	}
	if selected {
		if col.delay > 0 {
			cells = slices.Insert(cells, 1, cell(delay, col.delay))
		}
		return s.Selected.Render(cell("▸ "+strings.Join(cells, " "), m.width))
	}
	styled := []string{s.Dim.Render(cells[0]), s.env(c.Environment).Render(cells[1]), s.Kind[kindOf(c.Type)].Render(cells[2]),
		s.Value.Render(cells[3]), s.trust(c.Trust).Render(cells[4]), s.code(c.ResponseStatus).Render(cells[5])}
	if col.fwd > 0 {
		d := m.forwardingOf(c.ID).Best
		st := s.Dim
		if fwd != "" {
			st = s.code(d.Status)
		}
		styled = append(styled, st.Render(cells[6]))
	}
	if col.acked > 0 {
		styled = append(styled, s.OK.Render(cells[len(cells)-1]))
	}
	if col.delay > 0 {
		styled = slices.Insert(styled, 1, s.Warn.Render(cell(delay, col.delay)))
	}
	return "  " + strings.Join(styled, " ")
}
