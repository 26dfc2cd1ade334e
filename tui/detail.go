package tui

import (
	"fmt"
	"maps"
	"slices"

	"strings"
	"time"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/s2s-dev/s2s/decode"
	"github.com/s2s-dev/s2s/internal/termsafe"
	"github.com/s2s-dev/s2s/store"
)

func (m *Model) detailLines() []string {
	s := m.st
	var title string
	if c := m.detCapture(); c != nil {
		title = s.Title.Render(fmt.Sprintf("#%d ", c.ID)) + s.Kind[kindOf(c.Type)].Render(typeText(c)) + "  " +
			s.Value.Render(c.ProductID) + "  " + s.env(c.Environment).Render(envBadge(c.Environment)) + "  " +
			s.trust(c.Trust).Render(trustText(c.Trust, c.TrustClass))
	} else {
		title = s.Title.Render(fmt.Sprintf("#%d", m.detID)) + s.Dim.Render("  loading…")
	}
	var tabs []string
	for i, name := range tabNames {
		label := fmt.Sprintf("%d %s", i+1, name)
		if tab(i) == m.tab {
			tabs = append(tabs, s.ActiveTab.Render("["+label+"]"))
		} else {
			tabs = append(tabs, s.Tab.Render(" "+label+" "))
		}
	}
	lines := []string{title, strings.Join(tabs, " "), ""}
	for _, l := range strings.Split(m.vp.View(), "\n") {
		// The viewport pads to its width; the padding carries no style, so drop it.
		lines = append(lines, strings.TrimRight(l, " "))
	}
	return lines
}

// detCapture is the open capture: the full one once read, else its list row.
func (m *Model) detCapture() *store.Capture {
	if m.det != nil && m.det.capture != nil {
		return m.det.capture
	}
	for i := range m.rows {
		if m.rows[i].ID == m.detID {
			return m.rows[i]
		}
	}
	return nil
}

// refreshDetail renders the current tab into the viewport; called when data, tab, size or
// colours change, never from View.
func (m *Model) refreshDetail() {
	if m.screen != screenDetail {
		return
	}
	var content string
	switch {
	case m.det == nil:
		content = m.st.Dim.Render("loading…")
	case m.det.capture == nil:
		content = m.st.Error.Render(cleanLine(fmt.Sprintf("cannot read capture #%d: %v", m.det.id, m.det.err)))
	default:
		switch m.tab {
		case tabSummary:
			content = m.summaryTab()
		case tabDecoded:
			content = m.decodedTab()
		case tabRaw:
			content = cleanText(string(m.det.capture.Body))
			if content == "" {
				content = m.st.Dim.Render("(empty body)")
			}
		case tabHeaders:
			content = m.headersTab()
		case tabDeliveries:
			content = m.deliveriesTab()
		case tabTimeline:
			content = m.timelineTab()
		}
	}
	y := m.vp.YOffset()
	m.vp.SetContent(content)
	m.vp.SetYOffset(y)
	if m.tab == tabTimeline && m.det != nil && len(m.det.timeline) > 0 {
		// Header lines come first (Apple's status, when fetched); keep the cursor's line in view.
		line := m.tlCursor + 2 + len(m.appleHeader())
		if line < m.vp.YOffset() {
			m.vp.SetYOffset(line)
		} else if line >= m.vp.YOffset()+m.vp.Height() {
			m.vp.SetYOffset(line - m.vp.Height() + 1)
		}
	}
}

// both shows a time in local time and in UTC: Apple speaks UTC, the developer lives locally.
func (m *Model) both(t time.Time) string { return strings.Join(m.bothParts(t), "  ") }

// bothParts is both as parts that a narrow window puts on two lines rather than cutting.
func (m *Model) bothParts(t time.Time) []string {
	if t.IsZero() {
		return []string{"-"}
	}
	local := t.In(m.cfg.Location)
	if _, off := local.Zone(); off == 0 {
		return []string{t.UTC().Format("2006-01-02 15:04:05") + " UTC"}
	}
	return []string{local.Format("2006-01-02 15:04:05 MST"), m.st.Dim.Render("(" + t.UTC().Format("2006-01-02 15:04:05") + " UTC)")}
}

func (m *Model) summaryTab() string {
	s, d, c := m.st, m.det, m.det.capture
	var b strings.Builder
	// A value is made of parts that are never cut (a date, an ID): a narrow window moves a part
	// to the next line, under the value column, instead of breaking it mid-token.
	kv := func(k string, parts ...string) {
		ls := fill(max(20, m.width-summaryPad), parts...)
		if len(ls) == 0 {
			return
		}
		fmt.Fprintf(&b, "%s %s\n", s.Label.Render(fmt.Sprintf("%-18s", k)), ls[0])
		for _, l := range ls[1:] {
			b.WriteString(strings.Repeat(" ", summaryPad) + l + "\n")
		}
	}
	typ := s.Kind[kindOf(c.Type)].Render(typeText(c))
	if c.Type != "" {
		kv("Notification", typ, s.Dim.Render("— "+lifecycle(c.Type, c.Subtype)))
	} else {
		kv("Notification", typ)
	}
	// The verdict once: the label, and what it means in words after it.
	kv("Verdict", s.trust(c.Trust).Render(trustText(c.Trust, c.TrustClass))+" "+s.Value.Render("— "+trustWords(c.Trust, c.TrustClass)))
	if c.TrustMessage != "" {
		b.WriteString(m.indented(c.TrustMessage, s.Dim))
	}
	if c.IdentityMismatch != "" {
		kv("Identity", s.Error.Render(c.IdentityMismatch))
	}
	if c.Kind == string(decode.KindRealtimeRequest) {
		// The answer Apple would show the customer, and what is wrong with it.
		if len(c.AnswerProblems) == 0 {
			kv("Answer", s.OK.Render("valid"), s.Dim.Render(fmt.Sprintf("(HTTP %d)", c.ResponseStatus)))
		} else {
			kv("Answer", s.Error.Render("INVALID"), s.Dim.Render(fmt.Sprintf("(HTTP %d)", c.ResponseStatus)))
			for _, p := range c.AnswerProblems {
				b.WriteString(m.indented("- "+termsafe.String(p), s.Error))
			}
		}
		if len(c.Answer) > 0 {
			b.WriteString(m.indented(termsafe.Text(string(c.Answer)), s.Value))
		}
	}
	kv("Environment", s.env(c.Environment).Render(c.Environment))
	if c.AppAppleID != 0 {
		kv("App", c.BundleID, s.Dim.Render(fmt.Sprintf("(App Apple ID %d)", c.AppAppleID)))
	} else {
		kv("App", c.BundleID)
	}
	kv("Product", c.ProductID)
	kv("Original txn ID", c.OriginalTransactionID)
	kv("Transaction ID", c.TransactionID)
	kv("Notification UUID", c.NotificationUUID)
	if c.DuplicateOf != 0 {
		kv("Duplicate of", s.Warn.Render(fmt.Sprintf("#%d (same notificationUUID: Apple retried, or a replay)", c.DuplicateOf)))
	}
	if c.HubOrigin != "" {
		kv("Via hub", termsafe.String(c.HubOrigin)+" (verified again here)")
	}
	b.WriteString("\n")
	kv("Signed", m.bothParts(c.SignedDate)...)
	if w := c.DelayWords(); w != "" {
		// Apple sends within seconds: a minute or more is worth a look (a retry, an old payload).
		st := s.Value
		if c.DelayUnusual() {
			st = s.Warn
		}
		kv("Delay", st.Render(w))
	}
	sum := d.decoded.Summary
	if !sum.PurchaseDate.IsZero() {
		kv("Purchased", m.bothParts(sum.PurchaseDate)...)
	}
	exp := sum.ExpiresDate
	if exp.IsZero() {
		if v, ok := findKey(d.doc, "expiresDate"); ok {
			exp, _ = asTime(v)
		}
	}
	if !exp.IsZero() {
		kv("Expires", m.bothParts(exp)...)
	}
	for _, f := range []struct{ key, label string }{
		{"gracePeriodExpiresDate", "Grace period ends"},
		{"renewalDate", "Renews"},
		{"revocationDate", "Revoked"},
	} {
		if v, ok := findKey(d.doc, f.key); ok {
			if t, ok := asTime(v); ok {
				kv(f.label, m.bothParts(t)...)
			}
		}
	}
	if v, ok := findKey(d.doc, "autoRenewStatus"); ok {
		kv("Auto-renew", map[string]string{"1": "on", "0": "off"}[asText(v)])
	}
	if v, ok := findKey(d.doc, "autoRenewProductId"); ok && asText(v) != c.ProductID {
		kv("Renews into", asText(v))
	}
	if v, ok := findKey(d.doc, "price"); ok {
		price := asText(v)
		if f, ok := v.(float64); ok {
			price = fmt.Sprintf("%.2f", f/1000) // Apple gives milliunits
		}
		if cur, ok := findKey(d.doc, "currency"); ok {
			price += " " + asText(cur)
		}
		kv("Price", price)
	}
	for _, f := range []struct {
		key, label string
		words      map[string]string
	}{
		{"revocationReason", "Refund reason", map[string]string{"0": "another reason", "1": "an issue in your app"}},
		{"expirationIntent", "Why it expired", map[string]string{"1": "the customer cancelled", "2": "billing error",
			"3": "price increase not accepted", "4": "product not available", "5": "other"}},
		{"offerType", "Offer type", map[string]string{"1": "introductory", "2": "promotional", "3": "offer code", "4": "win-back"}},
		{"inAppOwnershipType", "Ownership", nil},
	} {
		if v, ok := findKey(d.doc, f.key); ok {
			t := asText(v)
			if w := f.words[t]; w != "" {
				t += " (" + w + ")"
			}
			kv(f.label, t)
		}
	}
	if v, ok := findKey(d.doc, "status"); ok {
		st := asText(v)
		if w := map[string]string{"1": "active", "2": "expired", "3": "in billing retry", "4": "in grace period", "5": "revoked"}[st]; w != "" {
			st += " (" + w + ")"
		}
		kv("Subscription", st)
	}
	if d.decodeErr != nil {
		kv("Decode", s.Error.Render(cleanLine(d.decodeErr.Error())))
	}
	b.WriteString("\n")
	from := c.SourceIP
	if from == "" {
		from = c.RemoteAddr
	}
	var fromNote string
	if c.AppleRange != "" {
		fromNote = s.Dim.Render("(Apple range " + c.AppleRange + ")")
	} else if from != "" {
		fromNote = s.Dim.Render("(not an Apple address)")
	}
	kv("Received", m.bothParts(c.ReceivedAt)...)
	kv("From", from, fromNote)
	answered := "-"
	if c.ResponseStatus != 0 {
		answered = s.code(c.ResponseStatus).Render(fmt.Sprint(c.ResponseStatus)) + " in " + shortDur(c.Latency)
	}
	kv("Answered", answered)
	if n := len(d.deliveries); n > 0 {
		// The target first and the outcome under it: the full explanation is in Deliveries.
		last := d.deliveries[n-1]
		attempts := "1 attempt"
		if n > 1 {
			attempts = fmt.Sprintf("%d attempts", n)
		}
		kv("Forwarded", last.Target)
		b.WriteString(m.indented(m.deliveryResult(last)+" · "+attempts+", see Deliveries", s.Value))
	} else if sk, ok := m.lastDel[c.ID]; ok && skipped(sk) {
		kv("Forwarded", s.Warn.Render("no"))
		b.WriteString(m.indented(sk.Error, s.Dim))
	}
	return strings.TrimRight(b.String(), "\n")
}

// summaryPad is where the Summary's values start: an 18-column label and a space.
const summaryPad = 19

// indented word-wraps text under the Summary's value column.
func (m *Model) indented(text string, st lipgloss.Style) string {
	var b strings.Builder
	for _, l := range strings.Split(wordwrap(text, max(20, m.width-summaryPad)), "\n") {
		b.WriteString(strings.Repeat(" ", summaryPad) + st.Render(l) + "\n")
	}
	return b.String()
}

func (m *Model) deliveryResult(d store.Delivery) string {
	if d.Status != 0 {
		return m.st.code(d.Status).Render(fmt.Sprint(d.Status)) + " in " + shortDur(d.Latency)
	}
	if d.Error != "" {
		// The cause only (the explanation's first clause); what s2s does about it is in Deliveries.
		cause, _, _ := strings.Cut(d.Error, "; ")
		return m.st.CodeBad.Render(d.State + ": " + cause)
	}
	return d.State
}

func (m *Model) decodedTab() string {
	d := m.det
	if len(d.decoded.JSON) == 0 {
		if d.decodeErr != nil {
			return m.st.Error.Render(cleanLine("cannot decode: " + d.decodeErr.Error()))
		}
		return m.st.Dim.Render("nothing decoded")
	}
	out := colorJSON(m.st, d.decoded.JSON)
	if d.capture.Trust == "invalid" {
		out = m.st.Error.Render("UNVERIFIED: this payload failed verification; do not trust these fields.") + "\n" + out
	}
	return out
}

func (m *Model) headersTab() string {
	s, c := m.st, m.det.capture
	var b strings.Builder
	line := c.Method + " " + c.Path
	if c.Query != "" {
		line += "?" + c.Query
	}
	fmt.Fprintf(&b, "%s\n", s.Title.Render(line))
	fmt.Fprintf(&b, "%s %s\n", s.Label.Render("received   "), m.both(c.ReceivedAt))
	fmt.Fprintf(&b, "%s %s\n", s.Label.Render("peer       "), c.RemoteAddr)
	if c.SourceIP != "" {
		src := c.SourceIP
		if c.AppleRange != "" {
			src += " (Apple range " + c.AppleRange + ")"
		}
		fmt.Fprintf(&b, "%s %s\n", s.Label.Render("client     "), src)
	}
	fmt.Fprintf(&b, "%s %d bytes\n\n", s.Label.Render("body       "), c.BodySize)
	for _, k := range slices.Sorted(maps.Keys(c.Headers)) {
		for _, v := range c.Headers[k] {
			fmt.Fprintf(&b, "%s %s\n", s.JSONKey.Render(k+":"), v)
		}
	}
	if len(c.Headers) == 0 {
		b.WriteString(s.Dim.Render("(no headers recorded)"))
	}
	return strings.TrimRight(b.String(), "\n")
}

func (m *Model) deliveriesTab() string {
	s, ds := m.st, m.det.deliveries
	if len(ds) == 0 {
		if d, ok := m.lastDel[m.det.id]; ok && skipped(d) {
			return s.Warn.Render(wordwrap(d.Error, max(20, m.width-1))) + "\n\n" +
				s.Dim.Render("Press r to send it to the forward targets anyway.")
		}
		if m.cfg.Replay == nil {
			return s.Dim.Render(wordwrap("Not forwarded: start s2s listen with --forward-to URL to forward and replay.", m.width-1))
		}
		return s.Dim.Render(wordwrap("No forwarding attempts yet. Press r to replay this capture to the forward targets.", m.width-1))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", s.ColHeader.Render(fmt.Sprintf("%-3s %-8s %-10s %-7s %-9s %s", "#", "STARTED", "STATE", "STATUS", "LATENCY", "TARGET")))
	// Newest first, like the list: the attempt r just made is the one on screen.
	for i := range ds {
		d := ds[len(ds)-1-i]
		kind := ""
		if d.Replay {
			kind = " (replay)"
		}
		status := codeText(d.Status)
		fmt.Fprintf(&b, "%-3d %-8s %-10s %s %-9s %s%s\n", d.Attempt, m.clock(d.StartedAt), d.State,
			s.code(d.Status).Render(fmt.Sprintf("%-7s", status)), shortDur(d.Latency), d.Target, s.Dim.Render(kind))
		if d.Error != "" {
			b.WriteString(m.wrapUnder(s.Error, "error: ", d.Error))
		}
		if !d.NextRetryAt.IsZero() {
			fmt.Fprintf(&b, "    %s\n", s.Warn.Render("next retry at "+m.clock(d.NextRetryAt)))
		}
		if d.Response != "" {
			fmt.Fprintf(&b, "    %s %s\n", s.Label.Render("response:"), strings.ReplaceAll(strings.TrimSpace(d.Response), "\n", "\n    "))
		}
		if i < len(ds)-1 {
			b.WriteString("\n")
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

// wrapUnder word-wraps text after a label, four columns in, with the following lines under the
// text rather than under the label, so a long explanation reads as one block.
func (m *Model) wrapUnder(st lipgloss.Style, label, text string) string {
	pad := strings.Repeat(" ", 4+len(label))
	var b strings.Builder
	for i, l := range strings.Split(wordwrap(text, max(20, m.width-len(pad)-1)), "\n") {
		if i == 0 {
			b.WriteString("    " + st.Render(label+l) + "\n")
			continue
		}
		b.WriteString(pad + st.Render(l) + "\n")
	}
	return b.String()
}

func (m *Model) timelineTab() string {
	s, c, tl := m.st, m.det.capture, m.det.timeline
	if c.OriginalTransactionID == "" {
		return s.Dim.Render(wordwrap("No originalTransactionId: this notification is not about a purchase (a TEST, or undecoded).", m.width-1))
	}
	var b strings.Builder
	for _, l := range m.appleHeader() {
		b.WriteString(l + "\n")
	}
	noun := "notifications"
	if len(tl) == 1 {
		noun = "notification"
	}
	// Notifications are counted, not deliveries: Apple's retries of one are one event.
	deliveries := 0
	for i := range tl {
		deliveries += len(tl[i].ids)
	}
	count := fmt.Sprintf("%d %s", len(tl), noun)
	if deliveries > len(tl) {
		count += fmt.Sprintf(" (%d deliveries)", deliveries)
	}
	// One line whatever the width: the cursor's line in the viewport counts on it.
	title := fmt.Sprintf("Original transaction %s · %s by signed date", c.OriginalTransactionID, count)
	if ansi.StringWidth(title) > m.width {
		title = fmt.Sprintf("Original transaction %s · %s", c.OriginalTransactionID, count)
	}
	fmt.Fprintf(&b, "%s\n", s.Title.Render(fit(title, m.width)))
	const whatW = 24
	dateW, dateFmt := 16, "2006-01-02 15:04"
	if m.width < 90 {
		dateW, dateFmt = 11, "01-02 15:04"
	}
	// SENT only when a notification came more than once: "1× 200" on every row says nothing.
	sentW, sentHead := 0, ""
	if deliveries > len(tl) {
		sentW, sentHead = 10, " "+cell("SENT · ANS", 10)
	}
	typW := max(12, m.width-(2+dateW+1+1+whatW+1+10+1+sentW+min(sentW, 1)+6))
	fmt.Fprintf(&b, "%s\n", s.ColHeader.Render("  "+cell("SIGNED", dateW)+" "+cell("TYPE · SUBTYPE", typW)+" "+cell("WHAT HAPPENED", whatW)+" "+
		cell("TRUST", 10)+sentHead+" "+cell(" ID", 6)))
	for i := range tl {
		e := &tl[i]
		at := e.SignedDate
		if at.IsZero() {
			at = e.ReceivedAt
		}
		here, id := " ", e.ID
		if e.has(c.ID) {
			here, id = "●", c.ID
		}
		what, idText := lifecycle(e.Type, e.Subtype), here+fmt.Sprintf("#%d", id)
		switch {
		case e.apple != nil && e.ID == 0:
			// Apple sent it; nothing arrived.
			what, idText = appleWhat(e.apple, false), " Apple"
		case e.apple != nil:
			what = appleWhat(e.apple, true)
		}
		text := cell(at.In(m.cfg.Location).Format(dateFmt), dateW) + " " + cell(typeText(&e.Capture), typW) + " " +
			cell(what, whatW) + " " + cell(trustText(e.Trust, ""), 10) + " "
		if sentW > 0 {
			text += cell(sentText(e.answers), sentW) + " "
		}
		text += cell(idText, 6)
		if e.apple != nil && i != m.tlCursor {
			fmt.Fprintf(&b, "  %s\n", s.Error.Render(text))
			continue
		}
		if i == m.tlCursor {
			fmt.Fprintf(&b, "%s\n", s.Selected.Render("▸ "+text))
			continue
		}
		fmt.Fprintf(&b, "  %s\n", s.Kind[kindOf(e.Type)].Render(text))
	}
	hint := "● is this capture · ↑/↓ move · enter opens"
	if sentW > 0 {
		hint = "● is this capture · SENT: how often it came, what s2s answered · enter opens"
	}
	if m.cfg.AppleView != nil && m.apple[c.OriginalTransactionID] == nil {
		hint += " · a: Apple's view"
	}
	if m.tlCursor >= 0 && m.tlCursor < len(tl) && tl[m.tlCursor].apple != nil {
		b.WriteString(m.wrapUnder(s.Error, "", appleAttempts(tl[m.tlCursor].apple)))
		hint = "NEVER CAME: Apple sent it, nothing came · i imports it, then enter opens and r replays"
		if tl[m.tlCursor].ID != 0 {
			hint = "NEVER CAME from Apple; imported here · enter opens it, r replays it"
		}
	}
	b.WriteString(s.Dim.Render(hint))
	return b.String()
}

// sentText is how many times a notification came and what s2s answered: the first answer and,
// when it changed, the last ("6× 503→200": Apple retried until it got a 2xx).
func sentText(answers []int) string {
	if len(answers) == 0 {
		return ""
	}
	first, last := codeText(answers[0]), codeText(answers[len(answers)-1])
	if first == last {
		return fmt.Sprintf("%d× %s", len(answers), first)
	}
	return fmt.Sprintf("%d× %s→%s", len(answers), first, last)
}
