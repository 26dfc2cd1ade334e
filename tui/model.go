package tui

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"

	"github.com/s2s-dev/s2s/appstore"
	"github.com/s2s-dev/s2s/decode"
	"github.com/s2s-dev/s2s/events"
	"github.com/s2s-dev/s2s/store"
)

type screen int

const (
	screenList screen = iota
	screenDetail
)

type tab int

const (
	tabSummary tab = iota
	tabDecoded
	tabRaw
	tabHeaders
	tabDeliveries
	tabTimeline
	tabCount
)

var tabNames = [tabCount]string{"Summary", "Decoded", "Raw", "Headers", "Deliveries", "Timeline"}

// Model is the root model: header, list, detail, filter bar, help. Sub-views are plain methods
// over this one state, so all message routing is in Update.
type Model struct {
	cfg  Config
	ctx  context.Context
	keys keyMap
	help help.Model
	st   styles
	dark bool

	width, height int

	// header
	publicURL     string
	prevPublicURL string
	// connect is what listen --connect did in App Store Connect (its latest sentence), and
	// connectErr why it could not follow the public URL; both "" without --connect.
	connect, connectErr string
	urlChangedAt        time.Time
	ready               bool
	lastErr             string
	lastErrAt           time.Time
	tunnelErr           string
	probeVerdict        appstore.SendAttemptResult
	probeAt             time.Time
	byTrust             map[decode.Label]int
	totalAll            int
	lastArrival         time.Time // when the newest capture arrived (imports aside), for the silence
	now                 time.Time // the clock's last reading (clockMsg); zero until the first

	// list
	rows     []*store.Capture // newest first; pointers so an arrival on top moves 8 bytes a row
	hasMore  bool
	loading  bool
	gen      int
	cursor   int
	offset   int
	follow   bool
	toOldest bool // G pressed: keep reading older pages and keep the cursor on the last row
	total    int
	lastDel  map[int64]store.Delivery // each capture's latest delivery attempt
	// bestDel is each capture's latest accepted delivery: the FORWARD column shows it beside a
	// later attempt that failed, so a failed replay does not read as "never delivered".
	bestDel map[int64]store.Delivery
	// fwdWide: some capture has both (200 · replay failed), so the FORWARD column is wider.
	fwdWide bool
	// hubAcks names, sorted, the listeners that acknowledged each capture (s2s hub); hubAcked
	// is the order captures got their first one, so the oldest are forgotten past hubAckLimit.
	hubAcks  map[int64][]string
	hubAcked []int64
	// unusualDelays: a loaded row arrived a minute or more from its signedDate, so the list
	// shows a DELAY column; it stays until the list is read again.
	unusualDelays bool
	filterTx      string
	filterErr     string // the filter being edited was refused: why (FilterError), shown under it
	filter        store.Filter
	editing       bool
	input         textinput.Model

	// detail
	screen   screen
	det      *detail
	detID    int64
	tab      tab
	vp       viewport.Model
	tlCursor int
	// apple is Apple's view per originalTransactionId, fetched with a on the Timeline (apple.go).
	apple map[string]*appleState

	showHelp  bool
	status    string
	statusBad bool
	closed    bool
	// interrupted: the session ended with ctrl+c, an interrupt (exit 130 in s2s listen), not q.
	interrupted bool
}

// New builds the model; nothing is read until Init's Cmds run.
func New(cfg Config) *Model {
	if cfg.Context == nil {
		cfg.Context = context.Background()
	}
	if cfg.Location == nil {
		cfg.Location = time.Local
	}
	if cfg.PageSize <= 0 {
		cfg.PageSize = 200
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Clipboard == nil {
		cfg.Clipboard = tea.SetClipboard
	}
	if cfg.Decode == nil {
		cfg.Decode = VerifierDecoder(decode.NewVerifier(decode.Options{}))
	}
	m := &Model{
		cfg:       cfg,
		ctx:       cfg.Context,
		keys:      newKeyMap(),
		help:      help.New(),
		dark:      true,
		publicURL: cfg.PublicURL,
		lastDel:   map[int64]store.Delivery{},
		bestDel:   map[int64]store.Delivery{},
		hubAcks:   map[int64][]string{},
		byTrust:   map[decode.Label]int{},
		follow:    true,
		loading:   true,
		width:     100,
		height:    30,
	}
	if cfg.Replay == nil {
		m.keys.Replay.SetHelp("r", "replay (needs --forward-to)")
	}
	if cfg.SendTest == nil {
		m.keys.SendTest.SetHelp("t", "send test (unavailable)")
	}
	m.input = textinput.New()
	m.input.Prompt = "/ "
	// The terminal's own cursor: visible with NO_COLOR too, where a drawn one would vanish.
	m.input.SetVirtualCursor(false)
	m.input.Placeholder = "type:DID_RENEW env:sandbox trust:verified product:… or text"
	m.vp = viewport.New()
	m.vp.SoftWrap = true
	m.setStyles()
	m.layout()
	return m
}

func (m *Model) setStyles() {
	m.st = newStyles(m.dark, m.cfg.NoColor)
	if m.cfg.NoColor {
		m.help.Styles = help.Styles{}
	} else {
		m.help.Styles = help.DefaultStyles(m.dark)
	}
	is := textinput.DefaultStyles(m.dark)
	if m.cfg.NoColor {
		is = textinput.Styles{}
	}
	// A steady cursor: no blink ticks redrawing the screen (and no timers in tests).
	is.Cursor.Blink = false
	m.input.SetStyles(is)
}

func (m *Model) pageSize() int { return m.cfg.PageSize }

// Init asks for the background colour and starts the first reads and the event stream.
func (m *Model) Init() tea.Cmd {
	return tea.Batch(tea.RequestBackgroundColor, m.loadPage(0), m.loadCount(), m.loadStats(), waitEvents(m.cfg.Events),
		m.scheduleRefresh(), m.readClock(0))
}

// Update routes every message; it does no I/O itself.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if cmd, ok := m.onApple(msg); ok {
		return m, cmd
	}
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.layout()
		return m, m.maybeLoadMore()
	case tea.BackgroundColorMsg:
		m.dark = msg.IsDark()
		m.setStyles()
		m.refreshDetail()
		return m, nil
	case tea.KeyPressMsg:
		return m, m.handleKey(msg)
	case pageMsg:
		return m, m.onPage(msg)
	case countMsg:
		if msg.gen == m.gen && msg.err == nil {
			m.total = msg.count
		}
		return m, nil
	case statsMsg:
		m.onStats(msg)
		return m, nil
	case lastDeliveriesMsg:
		m.onLastDeliveries(msg)
		return m, nil
	case detailMsg:
		m.onDetail(msg)
		return m, nil
	case eventsMsg:
		cmds := []tea.Cmd{waitEvents(m.cfg.Events)}
		for _, e := range msg.events {
			cmds = append(cmds, m.onEvent(e))
		}
		return m, tea.Batch(cmds...)
	case refreshMsg:
		return m, m.onRefresh()
	case catchUpMsg:
		return m, m.onCatchUp(msg)
	case clockMsg:
		m.now = time.Time(msg)
		if m.cfg.Clock <= 0 {
			return m, nil
		}
		return m, m.readClock(m.cfg.Clock)
	case eventsClosedMsg:
		m.closed = true
		return m, nil
	case statusMsg:
		m.setStatus(msg.text, msg.err)
		return m, nil
	case clipboardMsg:
		m.setStatus(fmt.Sprintf("copied the %s of #%d (%d bytes) to the clipboard (OSC 52)", msg.what, msg.id, len(msg.text)), false)
		return m, m.cfg.Clipboard(msg.text)
	}
	if m.editing {
		var cmd tea.Cmd
		m.input, cmd = m.input.Update(msg)
		return m, cmd
	}
	return m, nil
}

// onStats takes the store's totals for the header.
func (m *Model) onStats(msg statsMsg) {
	if msg.err != nil {
		m.setStatus("store: "+msg.err.Error(), true)
		return
	}
	m.totalAll = msg.stats.Total
	if msg.stats.LastReceivedAt.After(m.lastArrival) {
		m.lastArrival = msg.stats.LastReceivedAt
	}
	m.byTrust = map[decode.Label]int{}
	for k, v := range msg.stats.ByTrust {
		m.byTrust[decode.Label(k)] = v
	}
}

// onLastDeliveries takes the latest and the accepted forwarding of the listed captures.
func (m *Model) onLastDeliveries(msg lastDeliveriesMsg) {
	if msg.err != nil {
		return
	}
	for id, f := range msg.last {
		cleanDelivery(&f.Latest)
		m.lastDel[id] = f.Latest
		if f.Accepted() {
			cleanDelivery(&f.Best)
			m.noteAccepted(f.Best)
		}
	}
}

// onDetail shows a capture's detail, unless the user has left it or moved to another meanwhile.
func (m *Model) onDetail(msg detailMsg) {
	if m.screen != screenDetail || msg.d.id != m.detID {
		return
	}
	m.det = msg.d
	m.mergeApple()
	m.clampTimeline()
	m.refreshDetail()
}

// onRefresh is the periodic refresh: the header's counts, and what arrived without an event.
func (m *Model) onRefresh() tea.Cmd {
	cmds := []tea.Cmd{m.scheduleRefresh(), m.loadStats(), m.loadCount()}
	switch {
	case m.loading:
	case len(m.rows) == 0:
		m.loading = true
		cmds = append(cmds, m.loadPage(0))
	default:
		cmds = append(cmds, m.catchUp())
	}
	return tea.Batch(cmds...)
}

// onCatchUp adds the captures a refresh found above the list's top.
func (m *Model) onCatchUp(msg catchUpMsg) tea.Cmd {
	if msg.gen != m.gen || msg.err != nil {
		return nil
	}
	if msg.full {
		// Too much was missed to patch in: read the top of the list again.
		return m.reload()
	}
	for _, c := range msg.rows {
		m.addCapture(c, false)
	}
	return m.loadLastDeliveries(msg.rows)
}

// Interrupted reports whether the user ended the session with ctrl+c rather than q: s2s listen
// then shuts down as on SIGINT (the "stopped" line, exit 130).
func (m *Model) Interrupted() bool { return m.interrupted }

func (m *Model) setStatus(s string, bad bool) { m.status, m.statusBad = cleanLine(s), bad }

func (m *Model) onPage(msg pageMsg) tea.Cmd {
	if msg.gen != m.gen {
		return nil
	}
	m.loading = false
	if msg.err != nil {
		// A jump to the oldest left running would resume at the next page, read for a resize say.
		m.toOldest = false
		m.setStatus("store: "+msg.err.Error(), true)
		return nil
	}
	var fresh []store.Capture
	// rows is only searched before fresh joins it, so a repeat within the page is caught here.
	inPage := make(map[int64]struct{}, len(msg.rows))
	for _, c := range msg.rows {
		if _, dup := m.index(c.ID); dup {
			continue
		}
		if _, dup := inPage[c.ID]; dup {
			continue
		}
		inPage[c.ID] = struct{}{}
		cleanCapture(&c)
		fresh = append(fresh, c)
	}
	var selID int64
	if m.cursor < len(m.rows) {
		selID = m.rows[m.cursor].ID
	}
	for i := range fresh {
		m.rows = append(m.rows, &fresh[i])
		m.unusualDelays = m.unusualDelays || fresh[i].DelayUnusual()
	}
	if msg.beforeID == 0 {
		// The first page can cross live arrivals that came in while it was read.
		sort.SliceStable(m.rows, func(i, j int) bool { return m.rows[i].ID > m.rows[j].ID })
		if !m.follow && selID != 0 {
			m.selectID(selID)
		}
	}
	m.hasMore = msg.hasMore
	if m.toOldest {
		return tea.Batch(m.loadLastDeliveries(fresh), m.continueToOldest())
	}
	return tea.Batch(m.loadLastDeliveries(fresh), m.maybeLoadMore())
}

// oldestJumpRows bounds what G reads into memory: a development store rarely holds more, and a
// bigger one is better narrowed with a filter than read whole into the terminal.
const oldestJumpRows = 20000

// continueToOldest puts the cursor on the last loaded row and reads the next older page. It stops
// when there is none or at the bound, where the cursor on the last row must not read on by itself.
func (m *Model) continueToOldest() tea.Cmd {
	m.cursor = max(0, len(m.rows)-1)
	m.ensureVisible()
	switch {
	case !m.hasMore:
		m.toOldest = false
		m.setStatus("", false)
		return nil
	case len(m.rows) >= oldestJumpRows:
		m.toOldest = false
		m.setStatus(fmt.Sprintf("showing the newest %d; filter with / to reach older ones", len(m.rows)), false)
		return nil
	}
	m.setStatus(fmt.Sprintf("reading older captures… %d so far", len(m.rows)), false)
	return m.maybeLoadMore()
}

// index finds id in rows by binary search, since rows hold descending IDs: its position, or where
// it would go and false.
func (m *Model) index(id int64) (int, bool) {
	i := sort.Search(len(m.rows), func(i int) bool { return m.rows[i].ID <= id })
	return i, i < len(m.rows) && m.rows[i].ID == id
}

func (m *Model) selectID(id int64) {
	if i, ok := m.index(id); ok {
		m.cursor = i
		m.ensureVisible()
	}
}

// maybeLoadMore reads the next older page when the cursor gets within two screens of the end of
// what is loaded: only what the user moves towards is ever read.
func (m *Model) maybeLoadMore() tea.Cmd {
	if m.loading || !m.hasMore || len(m.rows) == 0 {
		return nil
	}
	if m.cursor+2*m.listHeight() < len(m.rows) {
		return nil
	}
	m.loading = true
	return m.loadPage(m.rows[len(m.rows)-1].ID)
}

func (m *Model) onEvent(e events.Event) tea.Cmd {
	e.URL, e.PublicURL, e.Verdict = cleanLine(e.URL), cleanLine(e.PublicURL), appstore.SendAttemptResult(cleanLine(string(e.Verdict)))
	e.Message, e.Err = cleanLine(e.Message), cleanLine(e.Err)
	switch e.Kind {
	case events.Ready:
		m.ready = true
		if e.PublicURL != "" {
			m.publicURL = e.PublicURL
		}
	case events.Tunnel:
		if e.Err != "" {
			m.tunnelErr = e.Err
			return nil
		}
		m.tunnelErr = ""
		if e.PublicURL != "" && e.PublicURL != m.publicURL {
			if m.publicURL != "" {
				m.prevPublicURL = m.publicURL
				m.urlChangedAt = e.Time
			}
			m.publicURL = e.PublicURL
			m.layout()
		}
	case events.Connect:
		if e.Err != "" {
			m.connectErr = e.Message + " — " + e.Err
		} else {
			m.connect, m.connectErr = e.Message, ""
		}
		m.layout()
	case events.Probe:
		m.probeVerdict, m.probeAt = e.Verdict, e.Time
	case events.Error:
		hadErr := m.lastErr != ""
		m.lastErr, m.lastErrAt = e.Err, e.Time
		if m.lastErr == "" {
			m.lastErr = e.Message
		}
		if (m.lastErr != "") != hadErr {
			// The error line is in the header: the list and the detail lose or gain a line.
			m.layout()
		}
	case events.Notification:
		if e.Capture != nil {
			m.addCapture(*e.Capture, true)
		}
	case events.HubAck:
		if m.noteHubAck(e.CaptureID, cleanLine(e.Consumer)) && m.screen == screenDetail && m.detID == e.CaptureID {
			m.refreshDetail()
		}
	case events.Delivery:
		if e.Delivery != nil {
			d := *e.Delivery
			cleanDelivery(&d)
			if old, ok := m.lastDel[d.CaptureID]; !ok || d.ID >= old.ID {
				m.lastDel[d.CaptureID] = d
			}
			if d.State == store.DeliverySucceeded && d.ID > 0 {
				m.noteAccepted(d)
			} else if best, ok := m.bestDel[d.CaptureID]; ok && d.ID > best.ID {
				m.fwdWide = true // a later attempt failed: "200 · replay failed" needs the room
			}
			if m.screen == screenDetail && m.detID == d.CaptureID {
				return m.loadDetail(m.detID)
			}
		}
	}
	return nil
}

// hubAckLimit bounds how many captures' acknowledgements the hub's UI remembers.
const hubAckLimit = 10000

// noteHubAck records that consumer acknowledged capture id; it reports whether that is news.
func (m *Model) noteHubAck(id int64, consumer string) bool {
	names := m.hubAcks[id]
	if consumer == "" || slices.Contains(names, consumer) {
		return false
	}
	if len(names) == 0 {
		m.hubAcked = append(m.hubAcked, id)
		if len(m.hubAcked) > hubAckLimit {
			delete(m.hubAcks, m.hubAcked[0])
			m.hubAcked = m.hubAcked[1:]
		}
	}
	names = append(names, consumer)
	slices.Sort(names)
	m.hubAcks[id] = names
	return true
}

// addCapture puts a capture at the top of the list (or updates it in place), keeping the
// selection on the same capture unless the list follows new arrivals. Live ones also count in
// the header; caught-up ones are counted by the refresh that found them.
func (m *Model) addCapture(c store.Capture, live bool) {
	c.Body = nil
	cleanCapture(&c)
	i, dup := m.index(c.ID)
	if dup {
		m.rows[i] = &c
		return
	}
	if live {
		m.totalAll++
		m.byTrust[c.Trust]++
	}
	if c.Method != store.MethodImport && c.ReceivedAt.After(m.lastArrival) {
		m.lastArrival = c.ReceivedAt
	}
	if !m.filter.Match(&c) {
		return
	}
	if live {
		m.total++
	}
	m.unusualDelays = m.unusualDelays || c.DelayUnusual()
	// Newest first: a capture normally goes on top; keep order if an older ID arrives late.
	m.rows = append(m.rows, nil)
	copy(m.rows[i+1:], m.rows[i:])
	m.rows[i] = &c
	if m.follow {
		m.cursor, m.offset = 0, 0
		return
	}
	if i <= m.cursor && len(m.rows) > 1 {
		m.cursor++
	}
	m.ensureVisible()
}

func (m *Model) handleKey(msg tea.KeyPressMsg) tea.Cmd {
	if msg.String() == "ctrl+c" {
		// In raw mode ctrl+c is a key, not SIGINT: record it so listen exits as interrupted.
		m.interrupted = true
		return tea.Quit
	}
	if m.editing {
		return m.handleFilterKey(msg)
	}
	if m.showHelp {
		switch {
		case key.Matches(msg, m.keys.Help), msg.String() == "esc":
			m.showHelp = false
		case key.Matches(msg, m.keys.Quit):
			return tea.Quit
		}
		return nil
	}
	// The last action's message stays until the next key: a "replayed #1" or "copied" left there
	// for the rest of the session reads as news about whatever is selected now.
	m.setStatus("", false)
	// Any key ends a jump to the oldest still reading pages: the user has moved on.
	m.toOldest = false
	switch {
	case key.Matches(msg, m.keys.Quit):
		return tea.Quit
	case key.Matches(msg, m.keys.Help):
		m.showHelp = true
		return nil
	case key.Matches(msg, m.keys.SendTest):
		if m.cfg.SendTest == nil {
			m.setStatus("send test is not available in this session", true)
			return nil
		}
		m.setStatus("sending a TEST notification…", false)
		return m.sendTest()
	case key.Matches(msg, m.keys.Replay):
		id, ok := m.selectedID()
		switch {
		case m.cfg.Replay == nil:
			m.setStatus("replay needs a forward target: start s2s listen with --forward-to URL", true)
		case !ok:
			m.setStatus("nothing selected to replay", true)
		default:
			m.setStatus(fmt.Sprintf("replaying #%d…", id), false)
			return m.replay(id)
		}
		return nil
	case key.Matches(msg, m.keys.CopyJSON, m.keys.CopyRaw):
		return m.copySelected(key.Matches(msg, m.keys.CopyJSON))
	case key.Matches(msg, m.keys.ExportRaw, m.keys.ExportJSON):
		id, ok := m.selectedID()
		if !ok {
			m.setStatus("nothing selected to export", true)
			return nil
		}
		var d *detail
		if m.screen == screenDetail && m.det != nil && m.det.id == id {
			d = m.det
		}
		return m.export(id, d, key.Matches(msg, m.keys.ExportJSON))
	}
	if m.screen == screenDetail {
		return m.detailKey(msg)
	}
	return m.listKey(msg)
}

func (m *Model) selectedID() (int64, bool) {
	if m.screen == screenDetail {
		return m.detID, true
	}
	if m.cursor < len(m.rows) {
		return m.rows[m.cursor].ID, true
	}
	return 0, false
}

func (m *Model) copySelected(decoded bool) tea.Cmd {
	id, ok := m.selectedID()
	if !ok {
		m.setStatus("nothing selected to copy", true)
		return nil
	}
	if m.screen == screenDetail && m.det != nil && m.det.id == id {
		b, err := payload(m.det, decoded)
		if err != nil {
			m.setStatus(fmt.Sprintf("copy #%d: %v", id, err), true)
			return nil
		}
		return func() tea.Msg { return clipboardMsg{text: string(b), what: what(decoded), id: id} }
	}
	return m.fetchForCopy(id, decoded)
}

func (m *Model) listKey(msg tea.KeyPressMsg) tea.Cmd {
	switch {
	case key.Matches(msg, m.keys.Up):
		m.move(-1)
	case key.Matches(msg, m.keys.Down):
		m.move(1)
	case key.Matches(msg, m.keys.PageUp):
		m.move(-m.listHeight())
	case key.Matches(msg, m.keys.PageDown):
		m.move(m.listHeight())
	case key.Matches(msg, m.keys.Top):
		m.cursor, m.offset = 0, 0
	case key.Matches(msg, m.keys.Bottom):
		if len(m.rows) == 0 {
			return nil
		}
		m.follow, m.toOldest = false, true
		return m.continueToOldest()
	case key.Matches(msg, m.keys.Follow):
		m.follow = !m.follow
		if m.follow {
			m.cursor, m.offset = 0, 0
			m.setStatus("following new notifications", false)
		} else {
			m.setStatus("follow off: the selection stays put", false)
		}
		return nil
	case key.Matches(msg, m.keys.Open):
		if m.cursor < len(m.rows) {
			return m.openDetail(m.rows[m.cursor].ID)
		}
		return nil
	case key.Matches(msg, m.keys.Filter):
		m.editing = true
		m.input.SetValue(m.filterTx)
		m.input.CursorEnd()
		m.layout()
		return m.input.Focus()
	case key.Matches(msg, m.keys.ClearFilter):
		if m.filterTx != "" {
			return m.applyFilter("")
		}
		return nil
	default:
		return nil
	}
	return m.maybeLoadMore()
}

// move moves the cursor; any move by the user stops following, as in Hookdeck's list.
func (m *Model) move(n int) {
	if len(m.rows) == 0 {
		return
	}
	m.follow = false
	m.cursor = max(0, min(len(m.rows)-1, m.cursor+n))
	m.ensureVisible()
}

func (m *Model) ensureVisible() {
	h := m.listHeight()
	if m.cursor < m.offset {
		m.offset = m.cursor
	}
	if m.cursor >= m.offset+h {
		m.offset = m.cursor - h + 1
	}
	m.offset = max(0, min(m.offset, max(0, len(m.rows)-h)))
}

func (m *Model) handleFilterKey(msg tea.KeyPressMsg) tea.Cmd {
	switch msg.String() {
	case "enter":
		if _, err := parseFilter(m.input.Value()); err != nil {
			// The editor stays open on the mistake; the message names the key or value and
			// what is valid, where a list would otherwise show "0 matching" and no reason.
			m.setStatus("filter: "+err.Error(), true)
			m.filterErr = err.Error()
			return nil
		}
		m.filterErr = ""
		m.editing = false
		m.input.Blur()
		return m.applyFilter(m.input.Value())
	case "esc":
		m.editing = false
		m.filterErr = ""
		m.input.Blur()
		m.layout()
		return nil
	}
	var cmd tea.Cmd
	m.input, cmd = m.input.Update(msg)
	return cmd
}

// applyFilter starts a new generation of the list: answers to reads for the old filter are dropped.
func (m *Model) applyFilter(text string) tea.Cmd {
	f, err := parseFilter(text)
	if err != nil {
		m.setStatus("filter: "+err.Error(), true)
		return nil
	}
	m.filterTx = text
	m.filter = f
	switch unknown := f.UnknownTypes(); {
	case text == "":
		m.setStatus("filter cleared", false)
	case len(unknown) > 0:
		// Valid but likely a typo that matches nothing: say so rather than only "0 matching".
		m.setStatus(fmt.Sprintf("filter: %s · %s is not a type Apple documents (t sends a test; s2s send-test --list names them)",
			text, strings.Join(unknown, ", ")), false)
	default:
		m.setStatus("filter: "+text, false)
	}
	return m.reload()
}

// reload reads the list again from the top for the current filter.
func (m *Model) reload() tea.Cmd {
	m.gen++
	m.rows, m.unusualDelays = nil, false
	m.cursor, m.offset, m.total = 0, 0, 0
	m.hasMore, m.loading = false, true
	m.follow, m.toOldest = true, false
	m.layout()
	return tea.Batch(m.loadPage(0), m.loadCount())
}

func (m *Model) openDetail(id int64) tea.Cmd {
	m.screen = screenDetail
	if m.detID != id {
		m.det = nil
		m.tlCursor = -1
	}
	m.detID = id
	m.layout()
	return m.loadDetail(id)
}

func (m *Model) detailKey(msg tea.KeyPressMsg) tea.Cmd {
	switch {
	case key.Matches(msg, m.keys.Close):
		m.screen = screenList
		// Back on the capture last open (one opened from the Timeline, say), not the row the
		// detail was first entered from; that is a move, so following stops.
		if i, ok := m.index(m.detID); ok && i != m.cursor {
			m.follow = false
			m.cursor = i
		}
		m.layout()
		return nil
	case key.Matches(msg, m.keys.NextTab):
		m.setTab((m.tab + 1) % tabCount)
	case key.Matches(msg, m.keys.PrevTab):
		m.setTab((m.tab + tabCount - 1) % tabCount)
	case len(msg.String()) == 1 && msg.String() >= "1" && msg.String() <= "6":
		m.setTab(tab(msg.String()[0] - '1'))
	case m.tab == tabTimeline && key.Matches(msg, m.keys.AppleView):
		return m.fetchApple()
	case m.tab == tabTimeline && m.det != nil && len(m.det.timeline) > 0:
		return m.timelineKey(msg)
	case key.Matches(msg, m.keys.Up):
		m.vp.ScrollUp(1)
	case key.Matches(msg, m.keys.Down):
		m.vp.ScrollDown(1)
	case key.Matches(msg, m.keys.PageUp):
		m.vp.PageUp()
	case key.Matches(msg, m.keys.PageDown):
		m.vp.PageDown()
	case key.Matches(msg, m.keys.Top):
		m.vp.GotoTop()
	case key.Matches(msg, m.keys.Bottom):
		m.vp.GotoBottom()
	}
	return nil
}

func (m *Model) timelineKey(msg tea.KeyPressMsg) tea.Cmd {
	n := len(m.det.timeline)
	switch {
	case key.Matches(msg, m.keys.Up):
		m.tlCursor = max(0, m.tlCursor-1)
	case key.Matches(msg, m.keys.Down):
		m.tlCursor = min(n-1, m.tlCursor+1)
	case key.Matches(msg, m.keys.PageUp):
		m.tlCursor = max(0, m.tlCursor-m.vp.Height())
	case key.Matches(msg, m.keys.PageDown):
		m.tlCursor = min(n-1, m.tlCursor+m.vp.Height())
	case key.Matches(msg, m.keys.Top):
		m.tlCursor = 0
	case key.Matches(msg, m.keys.Bottom):
		m.tlCursor = n - 1
	case key.Matches(msg, m.keys.ImportApple):
		return m.importApple()
	case key.Matches(msg, m.keys.Open):
		if e := &m.det.timeline[m.tlCursor]; e.apple != nil && e.ID == 0 {
			m.setStatus("this notification never arrived: i imports it from Apple, then enter opens it", false)
			return nil
		} else if !e.has(m.detID) {
			id := e.ID
			m.tab = tabTimeline
			return m.openDetail(id)
		}
		return nil
	default:
		return nil
	}
	m.refreshDetail()
	return nil
}

func (m *Model) setTab(t tab) {
	m.tab = t
	m.vp.GotoTop()
	m.refreshDetail()
}

// clampTimeline puts the timeline cursor on the open capture when the detail arrives.
func (m *Model) clampTimeline() {
	if m.det == nil {
		return
	}
	if m.tlCursor < 0 || m.tlCursor >= len(m.det.timeline) {
		m.tlCursor = 0
		for i := range m.det.timeline {
			if m.det.timeline[i].has(m.det.id) {
				m.tlCursor = i
			}
		}
	}
}

// noteAccepted records an accepted delivery of a capture, the best outcome its FORWARD cell shows.
func (m *Model) noteAccepted(d store.Delivery) {
	if old, ok := m.bestDel[d.CaptureID]; ok && old.ID > d.ID {
		return
	}
	m.bestDel[d.CaptureID] = d
	if last := m.lastDel[d.CaptureID]; last.ID > d.ID && last.State != store.DeliverySucceeded {
		m.fwdWide = true
	}
}

// forwardingOf is what the FORWARD column knows of a capture's deliveries.
func (m *Model) forwardingOf(id int64) store.Forwarding {
	f := store.Forwarding{Latest: m.lastDel[id], Best: m.lastDel[id]}
	if best, ok := m.bestDel[id]; ok {
		f.Best = best
	}
	return f
}
