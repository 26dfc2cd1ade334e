package tui

import (
	"cmp"
	"fmt"
	"maps"
	"slices"

	"strings"
	"time"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/s2s-dev/s2s/decode"
	"github.com/s2s-dev/s2s/internal/decodeview"
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

// summaryTab is the capture in words: what it is and whether to trust it, its dates, what the
// customer bought and how the subscription renews, and how it arrived.
func (m *Model) summaryTab() string {
	w := &summaryWriter{m: m}
	m.summaryWhat(w)
	w.b.WriteString("\n")
	m.summaryDates(w)
	m.summaryPurchase(w)
	w.b.WriteString("\n")
	m.summaryArrival(w)
	return strings.TrimRight(w.b.String(), "\n")
}

// summaryWriter lays out the Summary: a label column and the values after it.
type summaryWriter struct {
	m *Model
	b strings.Builder
}

// kv writes a row. A value is made of parts that are never cut (a date, an ID): a narrow window
// moves a part to the next line, under the value column, instead of breaking it mid-token.
func (w *summaryWriter) kv(k string, parts ...string) {
	ls := fill(max(20, w.m.width-summaryPad), parts...)
	if len(ls) == 0 {
		return
	}
	fmt.Fprintf(&w.b, "%s %s\n", w.m.st.Label.Render(fmt.Sprintf("%-18s", k)), ls[0])
	for _, l := range ls[1:] {
		w.b.WriteString(strings.Repeat(" ", summaryPad) + l + "\n")
	}
}

// under writes text word-wrapped under the value column.
func (w *summaryWriter) under(text string, st lipgloss.Style) {
	w.b.WriteString(w.m.indented(text, st))
}

// date writes a row for a date that is set.
func (w *summaryWriter) date(k string, t time.Time) {
	if !t.IsZero() {
		w.kv(k, w.m.bothParts(t)...)
	}
}

// coded writes a row for one of Apple's numeric codes, with its meaning when known.
func (w *summaryWriter) coded(k string, code int, words map[int]string) {
	t := fmt.Sprint(code)
	if m := words[code]; m != "" {
		t += " (" + m + ")"
	}
	w.kv(k, t)
}

// summaryWhat is the notification, the verdict on it, and whose it is.
func (m *Model) summaryWhat(w *summaryWriter) {
	s, c := m.st, m.det.capture
	typ := s.Kind[kindOf(c.Type)].Render(typeText(c))
	what := "Notification"
	if c.Kind == decode.KindRealtimeRequest {
		what = "Request"
	}
	if c.Type != "" {
		w.kv(what, typ, s.Dim.Render("— "+lifecycle(c.Type, c.Subtype)))
	} else {
		w.kv(what, typ)
	}
	// The verdict once: the label, and what it means in words after it.
	w.kv("Verdict", s.trust(c.Trust).Render(trustText(c.Trust, c.TrustClass))+" "+s.Value.Render("— "+trustWords(c.Trust, c.TrustClass)))
	if c.TrustMessage != "" {
		w.under(c.TrustMessage, s.Dim)
	}
	if c.IdentityMismatch != "" {
		w.kv("Identity", s.Error.Render(c.IdentityMismatch))
	}
	if c.Kind == decode.KindRealtimeRequest {
		// The answer Apple would show the customer, and what is wrong with it; a capture a hub
		// received was answered there, not here.
		switch {
		case c.ResponseStatus == 0 && c.HubOrigin != "":
			w.kv("Answer", s.Dim.Render("none here (answered by the hub)"))
		case c.ResponseStatus == 0:
			w.kv("Answer", s.Dim.Render("none recorded"))
		case len(c.AnswerProblems) == 0:
			w.kv("Answer", s.OK.Render("valid"), s.Dim.Render(fmt.Sprintf("(HTTP %d)", c.ResponseStatus)))
		default:
			w.kv("Answer", s.Error.Render("INVALID"), s.Dim.Render(fmt.Sprintf("(HTTP %d)", c.ResponseStatus)))
			for _, p := range c.AnswerProblems {
				w.under("- "+termsafe.String(p), s.Error)
			}
		}
		if len(c.Answer) > 0 {
			w.under(termsafe.Text(string(c.Answer)), s.Value)
		}
	}
	w.kv("Environment", s.env(c.Environment).Render(string(c.Environment)))
	if c.AppAppleID != 0 {
		w.kv("App", c.BundleID, s.Dim.Render(fmt.Sprintf("(App Apple ID %d)", c.AppAppleID)))
	} else {
		w.kv("App", c.BundleID)
	}
	w.kv("Product", c.ProductID)
	w.kv("Original txn ID", c.OriginalTransactionID)
	w.kv("Transaction ID", c.TransactionID)
	w.kv("Notification UUID", c.NotificationUUID)
	if c.Kind == decode.KindRealtimeRequest {
		// The request's own fields, from the decoded payload (not cleaned like the capture's).
		if id := cleanLine(m.det.summary.RequestIdentifier); id != "" {
			w.kv("Request ID", id)
		}
		if l := cleanLine(m.det.summary.UserLocale); l != "" {
			w.kv("User locale", l)
		}
	}
	if c.DuplicateOf != 0 {
		w.kv("Duplicate of", s.Warn.Render(fmt.Sprintf("#%d (same notificationUUID: Apple retried, or a replay)", c.DuplicateOf)))
	}
	if c.HubOrigin != "" {
		w.kv("Via hub", termsafe.String(c.HubOrigin)+" (verified again here)")
	}
	if m.cfg.Hub {
		// Names come cleaned from the events; the hub follows what it published since it started.
		// A listener acknowledges what its filter left out too: an ack is not a delivery.
		if names := m.hubAcks[c.ID]; len(names) > 0 {
			w.kv("Acknowledged by", s.OK.Render(strings.Join(names, ", ")), s.Dim.Render("(taken, or left out by its filter)"))
		} else {
			w.kv("Acknowledged by", s.Dim.Render("no listener yet (since this hub started)"))
		}
	}
}

// summaryDates are when Apple signed it and the dates of the purchase and the subscription.
func (m *Model) summaryDates(w *summaryWriter) {
	s, c := m.st, m.det.capture
	w.kv("Signed", m.bothParts(c.SignedDate)...)
	if d := c.DelayWords(); d != "" {
		// Apple sends within seconds: a minute or more is worth a look (a retry, an old payload).
		st := s.Value
		if c.DelayUnusual() {
			st = s.Warn
		}
		w.kv("Delay", st.Render(d))
	}
	w.date("Purchased", m.det.summary.PurchaseDate)
	w.date("Expires", m.det.summary.ExpiresDate)
	if r := renewalOf(m.det.decoded); r != nil {
		w.date("Grace period ends", r.GracePeriodExpiresDate.Time())
		w.date("Renews", r.RenewalDate.Time())
	}
	if t := transactionOf(m.det.decoded); t != nil {
		w.date("Revoked", t.RevocationDate.Time())
	}
}

// summaryPurchase is what the customer bought and how the subscription renews: the transaction's
// fields from the transaction, the renewal's from the renewal info, the status from the
// notification's data.
func (m *Model) summaryPurchase(w *summaryWriter) {
	t, r := transactionOf(m.det.decoded), renewalOf(m.det.decoded)
	if r != nil {
		if r.AutoRenewStatus != nil {
			w.kv("Auto-renew", cmp.Or(map[int]string{1: "on", 0: "off"}[*r.AutoRenewStatus], fmt.Sprint(*r.AutoRenewStatus)))
		}
		if p := cleanLine(r.AutoRenewProductID); p != "" && p != m.det.capture.ProductID {
			w.kv("Renews into", p)
		}
	}
	if t != nil && (t.Price != 0 || t.Currency != "") {
		w.kv("Price", price(t.Price, t.Currency))
	}
	if r != nil && r.RenewalPrice != 0 && t != nil && (r.RenewalPrice != t.Price || r.Currency != t.Currency) {
		// A price increase, a change of plan or of storefront: the next renewal costs otherwise.
		w.kv("Renewal price", price(r.RenewalPrice, r.Currency))
	}
	if t != nil && t.RevocationReason != nil {
		w.coded("Refund reason", *t.RevocationReason, map[int]string{0: "another reason", 1: "an issue in your app"})
	}
	if r != nil && r.ExpirationIntent != 0 {
		w.coded("Why it expired", r.ExpirationIntent, map[int]string{1: "the customer cancelled", 2: "billing error",
			3: "price increase not accepted", 4: "product not available", 5: "other"})
	}
	if t != nil && t.OfferType != 0 {
		w.coded("Offer type", t.OfferType, map[int]string{1: "introductory", 2: "promotional", 3: "offer code", 4: "win-back"})
	}
	if t != nil && t.InAppOwnershipType != "" {
		w.kv("Ownership", cleanLine(t.InAppOwnershipType))
	}
	if n := m.det.decoded; n != nil && n.Notification != nil && n.Notification.Data != nil && n.Notification.Data.Status != 0 {
		w.coded("Subscription", n.Notification.Data.Status, map[int]string{decode.StatusActive: "active", decode.StatusExpired: "expired",
			decode.StatusBillingRetry: "in billing retry", decode.StatusBillingGracePeriod: "in grace period", decode.StatusRevoked: "revoked"})
	}
}

// price is an amount in Apple's milliunits with its currency.
func price(milli int64, currency string) string {
	return strings.TrimSpace(fmt.Sprintf("%.2f %s", float64(milli)/1000, cleanLine(currency)))
}

// transactionOf is the transaction d is or holds (a notification's signedTransactionInfo).
func transactionOf(d *decode.Decoded) *decode.Transaction {
	switch {
	case d == nil:
		return nil
	case d.Transaction != nil:
		return d.Transaction
	case d.SignedTransactionInfo != nil:
		return d.SignedTransactionInfo.Transaction
	}
	return nil
}

// renewalOf is the renewal info d is or holds (a notification's signedRenewalInfo).
func renewalOf(d *decode.Decoded) *decode.RenewalInfo {
	switch {
	case d == nil:
		return nil
	case d.RenewalInfo != nil:
		return d.RenewalInfo
	case d.SignedRenewalInfo != nil:
		return d.SignedRenewalInfo.RenewalInfo
	}
	return nil
}

// summaryArrival is how the notification came, what s2s answered and where it forwarded it.
func (m *Model) summaryArrival(w *summaryWriter) {
	s, d, c := m.st, m.det, m.det.capture
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
	w.kv("Received", m.bothParts(c.ReceivedAt)...)
	w.kv("From", from, fromNote)
	answered := "-"
	if c.ResponseStatus != 0 {
		answered = s.code(c.ResponseStatus).Render(fmt.Sprint(c.ResponseStatus)) + " in " + shortDur(c.Latency)
	}
	w.kv("Answered", answered)
	if n := len(d.deliveries); n > 0 {
		// The target first and the outcome under it: the full explanation is in Deliveries.
		last := d.deliveries[n-1]
		attempts := "1 attempt"
		if n > 1 {
			attempts = fmt.Sprintf("%d attempts", n)
		}
		w.kv("Forwarded", last.Target)
		w.under(m.deliveryResult(last)+" · "+attempts+", see Deliveries", s.Value)
	} else if sk, ok := m.lastDel[c.ID]; ok && skipped(sk) {
		w.kv("Forwarded", s.Warn.Render("no"))
		w.under(sk.Error, s.Dim)
	}
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

// decodedTab is what s2s decode prints for the body, from the one shared renderer: the summary
// line, the verdicts and the header, word-wrapped to the window, then the payload with its nested
// signed objects decoded in place.
func (m *Model) decodedTab() string {
	if m.det.decoded == nil {
		return m.st.Dim.Render("nothing decoded")
	}
	var head, b strings.Builder
	decodeview.WriteVerdicts(&head, m.det.decoded, m.st.Decoded)
	for _, l := range strings.Split(strings.TrimSuffix(head.String(), "\n"), "\n") {
		b.WriteString(hanging(l, m.width-1) + "\n")
	}
	decodeview.WritePayload(&b, m.det.decoded, m.st.Decoded)
	return strings.TrimRight(b.String(), "\n")
}

// hanging word-wraps a line to width with its continuation lines two columns further in than
// the line, so a wrapped verdict still reads as one.
func hanging(line string, width int) string {
	if ansi.StringWidth(line) <= width {
		return line
	}
	text := strings.TrimLeft(line, " ")
	indent := strings.Repeat(" ", len(line)-len(text))
	ls := strings.Split(wordwrap(text, max(20, width-len(indent)-2)), "\n")
	for i := range ls {
		if i == 0 {
			ls[i] = indent + ls[i]
		} else {
			ls[i] = indent + "  " + ls[i]
		}
	}
	return strings.Join(ls, "\n")
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
	// Notifications are counted, not deliveries: Apple's retries of one are one event.
	deliveries := 0
	for i := range tl {
		deliveries += len(tl[i].ids)
	}
	fmt.Fprintf(&b, "%s\n", s.Title.Render(fit(m.timelineTitle(len(tl), deliveries), m.width)))
	cols := m.timelineColumns(deliveries > len(tl))
	fmt.Fprintf(&b, "%s\n", s.ColHeader.Render(cols.header()))
	for i := range tl {
		fmt.Fprintf(&b, "%s\n", m.timelineRow(i, cols))
	}
	b.WriteString(m.timelineFooter(cols.sentW > 0))
	return b.String()
}

// timelineTitle names the original transaction and counts its notifications (and deliveries,
// when some came more than once).
func (m *Model) timelineTitle(notifications, deliveries int) string {
	id := m.det.capture.OriginalTransactionID
	noun := "notifications"
	if notifications == 1 {
		noun = "notification"
	}
	count := fmt.Sprintf("%d %s", notifications, noun)
	if deliveries > notifications {
		count += fmt.Sprintf(" (%d deliveries)", deliveries)
	}
	// One line whatever the width: the cursor's line in the viewport counts on it.
	title := fmt.Sprintf("Original transaction %s · %s by signed date", id, count)
	if ansi.StringWidth(title) > m.width {
		title = fmt.Sprintf("Original transaction %s · %s", id, count)
	}
	return title
}

// timelineCols are the timeline's column widths at the model's width.
type timelineCols struct {
	dateW, typW, sentW int
	dateFmt            string
}

const timelineWhatW = 24

// timelineColumns fits the columns to the width; repeated says some notification came more than
// once.
func (m *Model) timelineColumns(repeated bool) timelineCols {
	c := timelineCols{dateW: 16, dateFmt: "2006-01-02 15:04"}
	if m.width < 90 {
		c.dateW, c.dateFmt = 11, "01-02 15:04"
	}
	// SENT only when a notification came more than once: "1× 200" on every row says nothing.
	if repeated {
		c.sentW = 10
	}
	c.typW = max(12, m.width-(2+c.dateW+1+1+timelineWhatW+1+10+1+c.sentW+min(c.sentW, 1)+6))
	return c
}

func (c timelineCols) header() string {
	sentHead := ""
	if c.sentW > 0 {
		sentHead = " " + cell("SENT · ANS", c.sentW)
	}
	return "  " + cell("SIGNED", c.dateW) + " " + cell("TYPE · SUBTYPE", c.typW) + " " + cell("WHAT HAPPENED", timelineWhatW) + " " +
		cell("TRUST", 10) + sentHead + " " + cell(" ID", 6)
}

// timelineRow is the timeline's i-th event, styled: selected, never came, or by its kind.
func (m *Model) timelineRow(i int, cols timelineCols) string {
	s, c, e := m.st, m.det.capture, &m.det.timeline[i]
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
	text := cell(at.In(m.cfg.Location).Format(cols.dateFmt), cols.dateW) + " " + cell(typeText(&e.Capture), cols.typW) + " " +
		cell(what, timelineWhatW) + " " + cell(trustText(e.Trust, ""), 10) + " "
	if cols.sentW > 0 {
		text += cell(sentText(e.answers), cols.sentW) + " "
	}
	text += cell(idText, 6)
	switch {
	case i == m.tlCursor:
		return s.Selected.Render("▸ " + text)
	case e.apple != nil:
		return "  " + s.Error.Render(text)
	default:
		return "  " + s.Kind[kindOf(e.Type)].Render(text)
	}
}

// timelineFooter is the hint under the timeline and, when the cursor is on a notification that
// never came, Apple's attempts at it above the hint.
func (m *Model) timelineFooter(sent bool) string {
	s, c, tl := m.st, m.det.capture, m.det.timeline
	var b strings.Builder
	hint := "● is this capture · ↑/↓ move · enter opens"
	if sent {
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
