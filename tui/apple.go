package tui

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/s2s-dev/s2s/decode"
	"github.com/s2s-dev/s2s/store"
	"github.com/s2s-dev/s2s/subscription"
)

// Apple's view on the Timeline: the a key asks the App Store Server API (through Config.AppleView,
// in a Cmd) about the customer of the open capture's originalTransactionId; the answer is merged
// into the timeline: notifications Apple sent that never arrived appear as rows of their own,
// marked, with Apple's attempt results, and i imports one (Config.ImportApple) so that it can be
// opened and replayed like any capture. The subscription's status from Apple goes above.

// appleFetchTimeout bounds one fetch: several pages, and Apple's 429s are waited out.
const appleFetchTimeout = 2 * time.Minute

// appleState is what is known of Apple's view of one originalTransactionId.
type appleState struct {
	loading bool
	frame   int // spinner frame while loading
	view    *subscription.View
	err     string
}

type (
	appleViewMsg struct {
		otid string
		view *subscription.View
		err  error
	}
	appleTickMsg   struct{ otid string }
	appleImportMsg struct {
		otid, uuid string
		id         int64
		err        error
	}
)

var spinnerFrames = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

// otid is the originalTransactionId of the open capture, "" when there is none.
func (m *Model) otid() string {
	if m.det == nil || m.det.capture == nil {
		return ""
	}
	return m.det.capture.OriginalTransactionID
}

// fetchApple starts a fetch for the open capture's customer, unless one is running.
func (m *Model) fetchApple() tea.Cmd {
	otid := m.otid()
	switch {
	case otid == "":
		m.setStatus("this notification has no originalTransactionId to ask Apple about", true)
		return nil
	case m.cfg.AppleView == nil:
		m.setStatus("Apple's view needs the In-App Purchase key: S2S_KEY_ID, S2S_ISSUER_ID, S2S_PRIVATE_KEY and --bundle-id", true)
		return nil
	}
	if m.apple == nil {
		m.apple = map[string]*appleState{}
	}
	st := m.apple[otid]
	if st == nil {
		st = &appleState{}
		m.apple[otid] = st
	}
	if st.loading {
		return nil
	}
	st.loading, st.err = true, ""
	m.refreshDetail()
	fn := m.cfg.AppleView
	ctx, cancel := context.WithTimeout(m.ctx, appleFetchTimeout)
	fetch := func() tea.Msg {
		defer cancel()
		v, err := fn(ctx, otid)
		return appleViewMsg{otid: otid, view: v, err: err}
	}
	return tea.Batch(fetch, m.appleTickCmd(otid))
}

func (m *Model) appleTickCmd(otid string) tea.Cmd {
	if m.cfg.Spinner <= 0 {
		return nil
	}
	return tea.Tick(m.cfg.Spinner, func(time.Time) tea.Msg { return appleTickMsg{otid: otid} })
}

// importApple stores the selected never-received notification.
func (m *Model) importApple() tea.Cmd {
	if m.det == nil || m.tlCursor < 0 || m.tlCursor >= len(m.det.timeline) {
		return nil
	}
	e := &m.det.timeline[m.tlCursor]
	switch {
	case e.apple == nil || e.ID != 0:
		m.setStatus("i imports a notification Apple sent that never arrived (a row marked NEVER CAME)", true)
		return nil
	case m.cfg.ImportApple == nil:
		m.setStatus("importing needs the capture store", true)
		return nil
	}
	n, otid, fn := *e.apple, m.otid(), m.cfg.ImportApple
	ctx, cancel := m.cmdCtx()
	return func() tea.Msg {
		defer cancel()
		id, err := fn(ctx, n)
		return appleImportMsg{otid: otid, uuid: n.Notification.NotificationUUID, id: id, err: err}
	}
}

// onApple handles the messages of Apple's view; ok is false for any other message.
func (m *Model) onApple(msg tea.Msg) (tea.Cmd, bool) {
	switch msg := msg.(type) {
	case appleTickMsg:
		st := m.apple[msg.otid]
		if st == nil || !st.loading {
			return nil, true
		}
		st.frame = (st.frame + 1) % len(spinnerFrames)
		if m.otid() == msg.otid && m.tab == tabTimeline {
			m.refreshDetail()
		}
		return m.appleTickCmd(msg.otid), true
	case appleViewMsg:
		st := m.apple[msg.otid]
		if st == nil {
			return nil, true
		}
		st.loading = false
		if msg.err != nil {
			st.err = cleanLine(msg.err.Error())
			m.setStatus("Apple: "+msg.err.Error(), true)
		} else {
			st.view = msg.view
			missing := 0
			for _, n := range msg.view.Notifications {
				if l := n.Notification.Label; n.NeverReceived && n.ImportedID == 0 && (l == decode.LabelVerified || l == decode.LabelSimulated) {
					missing++
				}
			}
			m.setStatus(fmt.Sprintf("Apple listed %d notifications about %s; %d never arrived", len(msg.view.Notifications), msg.otid, missing), missing > 0)
		}
		if m.otid() == msg.otid {
			m.mergeApple()
			m.refreshDetail()
		}
		return nil, true
	case appleImportMsg:
		if msg.err != nil {
			m.setStatus("import: "+msg.err.Error(), true)
			return nil, true
		}
		if st := m.apple[msg.otid]; st != nil && st.view != nil {
			for i := range st.view.Notifications {
				if n := &st.view.Notifications[i]; n.Notification.NotificationUUID == msg.uuid {
					n.ImportedID = msg.id
				}
			}
		}
		m.setStatus(fmt.Sprintf("imported as #%d: enter opens it, r replays it", msg.id), false)
		if m.screen == screenDetail && m.det != nil {
			return m.loadDetail(m.detID), true
		}
		return nil, true
	}
	return nil, false
}

// mergeApple rebuilds the timeline from the store's entries and Apple's view: a notification Apple
// lists whose notificationUUID no capture has becomes a row of its own, in signed-date order.
// Only a payload that verified (or is simulated) is trusted for its UUID.
func (m *Model) mergeApple() {
	if m.det == nil {
		return
	}
	if m.det.base == nil {
		m.det.base = m.det.timeline
	}
	tl := slices.Clone(m.det.base)
	st := m.apple[m.otid()]
	if st == nil || st.view == nil {
		m.det.timeline = tl
		return
	}
	have := map[string]int{}
	for i := range tl {
		if u := tl[i].NotificationUUID; u != "" {
			have[u] = i
		}
	}
	for i := range st.view.Notifications {
		n := &st.view.Notifications[i]
		s := n.Notification
		if s.NotificationUUID == "" || (s.Label != decode.LabelVerified && s.Label != decode.LabelSimulated) {
			continue
		}
		if j, ok := have[s.NotificationUUID]; ok {
			// Stored, but only as an import (or a replay of one): Apple's delivery never came.
			if n.NeverReceived {
				tl[j].apple = n
			}
			continue
		}
		c := store.Capture{Subject: decode.Subject{NotificationUUID: s.NotificationUUID, Type: s.Type, Subtype: s.Subtype,
			OriginalTransactionID: s.OriginalTransactionID, ProductID: s.ProductID}, SignedDate: s.SignedDate, Trust: s.Label}
		cleanCapture(&c)
		tl = append(tl, timelineEntry{Capture: c, apple: n})
	}
	at := func(e *timelineEntry) time.Time {
		if !e.SignedDate.IsZero() {
			return e.SignedDate
		}
		return e.ReceivedAt
	}
	slices.SortStableFunc(tl, func(a, b timelineEntry) int { return at(&a).Compare(at(&b)) })
	m.det.timeline = tl
	if m.tlCursor >= len(tl) {
		m.tlCursor = len(tl) - 1
	}
}

// appleHeader is the lines above the timeline: Apple's status of the subscription, the spinner,
// or what went wrong; none before a is pressed.
func (m *Model) appleHeader() []string {
	st := m.apple[m.otid()]
	if st == nil {
		return nil
	}
	s := m.st
	var lines []string
	switch {
	case st.loading:
		lines = append(lines, s.Dim.Render(fit(spinnerFrames[st.frame]+" asking Apple about "+cleanLine(m.otid())+"…", m.width)))
	case st.err != "":
		lines = append(lines, s.Error.Render(fit("Apple: "+st.err, m.width)))
	}
	if st.view == nil {
		return lines
	}
	if len(st.view.Statuses) == 0 {
		lines = append(lines, s.Dim.Render(fit("Apple: no auto-renewable subscription", m.width)))
	}
	for _, sub := range st.view.Statuses {
		line := "Apple now: " + sub.StatusName + " — " + sub.Meaning
		r := sub.Renewal
		if r.AutoRenewStatus != nil {
			if *r.AutoRenewStatus == 1 {
				line += " · auto-renew on"
			} else {
				line += " · auto-renew off"
			}
		}
		if !r.RenewalDate.IsZero() {
			line += " · renews " + r.RenewalDate.In(m.cfg.Location).Format("2006-01-02")
		}
		line += " [" + trustText(sub.Transaction.Label, "") + "]"
		lines = append(lines, s.Title.Render(fit(cleanLine(line), m.width)))
	}
	return lines
}

// appleWhat is the WHAT HAPPENED cell of a row Apple sent that never arrived.
func appleWhat(n *subscription.Notification, imported bool) string {
	w := "NEVER CAME"
	if imported {
		return "NEVER CAME · imported"
	}
	if len(n.SendAttempts) > 0 {
		w += " · " + string(n.SendAttempts[len(n.SendAttempts)-1].SendAttemptResult)
	}
	return cleanLine(w)
}

// appleAttempts lists Apple's attempts for the selected never-arrived row, with the fix.
func appleAttempts(n *subscription.Notification) string {
	parts := make([]string, 0, len(n.SendAttempts))
	for _, a := range n.SendAttempts {
		parts = append(parts, string(a.SendAttemptResult)+" "+a.AttemptDate.Time().Format("01-02 15:04"))
	}
	s := "Apple's attempts: " + strings.Join(parts, " → ")
	if n.Fix != "" {
		s += ". Fix: " + n.Fix
	}
	return cleanLine(s)
}
