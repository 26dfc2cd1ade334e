package tui

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/s2s-dev/s2s/decode"
	"github.com/s2s-dev/s2s/events"
	"github.com/s2s-dev/s2s/store"
	"github.com/s2s-dev/s2s/subscription"
)

// Messages the model's Cmds send back. Every one that answers a store read carries the generation
// of the list it was asked for, so an answer to an older filter is dropped.
type (
	pageMsg struct {
		gen      int
		beforeID int64
		rows     []store.Capture
		hasMore  bool
		err      error
	}
	countMsg struct {
		gen   int
		count int
		err   error
	}
	statsMsg struct {
		stats store.Stats
		err   error
	}
	lastDeliveriesMsg struct {
		last map[int64]store.Forwarding
		err  error
	}
	detailMsg struct{ d *detail }
	// refreshMsg is the periodic tick; catchUpMsg answers the read of captures newer than the list.
	refreshMsg struct{}
	// clockMsg carries the time read by a Cmd, for the header's "last notification … ago".
	clockMsg   time.Time
	catchUpMsg struct {
		gen  int
		rows []store.Capture // oldest first
		full bool
		err  error
	}
	// eventsMsg carries a batch of receiver events: everything waiting in the channel at once.
	eventsMsg       struct{ events []events.Event }
	eventsClosedMsg struct{}
	statusMsg       struct {
		text string
		err  bool
	}
	// clipboardMsg carries text fetched for a copy; Update turns it into tea.SetClipboard.
	clipboardMsg struct {
		text, what string
		id         int64
	}
)

const cmdTimeout = 15 * time.Second

func (m *Model) cmdCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(m.ctx, cmdTimeout)
}

func (m *Model) loadPage(beforeID int64) tea.Cmd {
	src, gen, f := m.cfg.Source, m.gen, m.filter
	f.BeforeID, f.Limit = beforeID, m.pageSize()
	ctx, cancel := m.cmdCtx()
	return func() tea.Msg {
		defer cancel()
		rows, err := src.List(ctx, f)
		return pageMsg{gen: gen, beforeID: beforeID, rows: rows, hasMore: len(rows) >= f.Limit, err: err}
	}
}

func (m *Model) scheduleRefresh() tea.Cmd {
	if m.cfg.Refresh <= 0 {
		return nil
	}
	return tea.Tick(m.cfg.Refresh, func(time.Time) tea.Msg { return refreshMsg{} })
}

// readClock reads the time now and then every Clock: Update never reads the clock itself.
func (m *Model) readClock(after time.Duration) tea.Cmd {
	now := m.cfg.Now
	if after <= 0 {
		return func() tea.Msg { return clockMsg(now()) }
	}
	return tea.Tick(after, func(time.Time) tea.Msg { return clockMsg(now()) })
}

// catchUp reads what the store has above the newest row of the list: captures whose events the
// bus dropped while the TUI was busy.
func (m *Model) catchUp() tea.Cmd {
	src, gen, f := m.cfg.Source, m.gen, m.filter
	f.AfterID, f.Ascending, f.Limit = m.rows[0].ID, true, m.pageSize()
	ctx, cancel := m.cmdCtx()
	return func() tea.Msg {
		defer cancel()
		rows, err := src.List(ctx, f)
		return catchUpMsg{gen: gen, rows: rows, full: len(rows) >= f.Limit, err: err}
	}
}

func (m *Model) loadCount() tea.Cmd {
	src, gen, f := m.cfg.Source, m.gen, m.filter
	ctx, cancel := m.cmdCtx()
	return func() tea.Msg {
		defer cancel()
		n, err := src.Count(ctx, f)
		return countMsg{gen: gen, count: n, err: err}
	}
}

func (m *Model) loadStats() tea.Cmd {
	src := m.cfg.Source
	ctx, cancel := m.cmdCtx()
	return func() tea.Msg {
		defer cancel()
		s, err := src.Stats(ctx)
		return statsMsg{stats: s, err: err}
	}
}

func (m *Model) loadLastDeliveries(rows []store.Capture) tea.Cmd {
	if len(rows) == 0 {
		return nil
	}
	ids := make([]int64, len(rows))
	for i := range rows {
		ids[i] = rows[i].ID
	}
	src := m.cfg.Source
	ctx, cancel := m.cmdCtx()
	return func() tea.Msg {
		defer cancel()
		last, err := src.Forwardings(ctx, ids)
		return lastDeliveriesMsg{last: last, err: err}
	}
}

// detail is everything the detail view shows about one capture, read and decoded in a Cmd.
type detail struct {
	id         int64
	err        error
	capture    *store.Capture
	decoded    *decode.Decoded // decode's typed result; nil when nothing decoded it
	summary    decode.Summary  // decoded's, read once
	json       []byte          // decoded as its --json document, payload first: what a copy takes
	deliveries []store.Delivery
	timeline   []timelineEntry
	base       []timelineEntry // the store's timeline, before Apple's view is merged in
}

// timelineEntry is one notification in a subscription's timeline. The captures that share its
// notificationUUID are deliveries of it (Apple's retries, or replays), not more events: one row
// with how many times it came and what s2s answered each time.
type timelineEntry struct {
	store.Capture         // the first delivery
	ids           []int64 // every delivery's capture ID, in arrival order
	answers       []int   // what s2s answered each delivery (0: not known)
	// apple is set on a row Apple sent that never arrived (no capture: ID 0), from Apple's view.
	apple *subscription.Notification
}

// has reports whether capture id is one of the entry's deliveries.
func (e *timelineEntry) has(id int64) bool { return slices.Contains(e.ids, id) }

// groupTimeline folds the deliveries of one notificationUUID into one entry, where the first of
// them stands in the sorted timeline; captures without a UUID (version 1, undecoded) stand alone.
func groupTimeline(tl []store.Capture) []timelineEntry {
	out := make([]timelineEntry, 0, len(tl))
	byUUID := map[string]int{}
	for _, c := range tl {
		if i, ok := byUUID[c.NotificationUUID]; ok && c.NotificationUUID != "" {
			e := &out[i]
			// Arrival order within the entry, whatever order the signed dates gave.
			at, _ := slices.BinarySearch(e.ids, c.ID)
			e.ids = slices.Insert(e.ids, at, c.ID)
			e.answers = slices.Insert(e.answers, at, c.ResponseStatus)
			if c.ID < e.ID {
				e.Capture = c
			}
			continue
		}
		byUUID[c.NotificationUUID] = len(out)
		out = append(out, timelineEntry{Capture: c, ids: []int64{c.ID}, answers: []int{c.ResponseStatus}})
	}
	return out
}

func (m *Model) loadDetail(id int64) tea.Cmd {
	src, dec := m.cfg.Source, m.cfg.Decode
	ctx, cancel := m.cmdCtx()
	return func() tea.Msg {
		defer cancel()
		return detailMsg{d: fetchDetail(ctx, src, dec, id)}
	}
}

func fetchDetail(ctx context.Context, src Source, dec Decoder, id int64) *detail {
	d := &detail{id: id}
	c, err := src.Get(ctx, id)
	if err != nil {
		d.err = err
		return d
	}
	shown := *c
	cleanCapture(&shown) // the body stays exact for copies and exports
	d.capture = &shown
	if dec != nil {
		if d.decoded = dec(c.Body); d.decoded != nil {
			d.summary = d.decoded.Summary()
			if js, err := d.decoded.MarshalJSON(); err == nil {
				d.json = payloadFirst(js)
			}
		}
	}
	if d.deliveries, err = src.Deliveries(ctx, id); err != nil {
		d.err = err
	}
	for i := range d.deliveries {
		cleanDelivery(&d.deliveries[i])
	}
	if c.OriginalTransactionID != "" {
		tl, err := src.List(ctx, store.Filter{OriginalTransactionIDs: []string{c.OriginalTransactionID}, Ascending: true, Limit: 1000})
		if err != nil {
			d.err = err
		}
		for i := range tl {
			cleanCapture(&tl[i])
		}
		sortTimeline(tl)
		d.timeline = groupTimeline(tl)
	}
	return d
}

// sortTimeline orders a subscription's notifications by when Apple signed them (the order of
// events in its life), falling back to arrival for unsigned ones; replays keep arrival order.
func sortTimeline(tl []store.Capture) {
	at := func(c *store.Capture) time.Time {
		if !c.SignedDate.IsZero() {
			return c.SignedDate
		}
		return c.ReceivedAt
	}
	sort.SliceStable(tl, func(i, j int) bool {
		a, b := at(&tl[i]), at(&tl[j])
		if !a.Equal(b) {
			return a.Before(b)
		}
		return tl[i].ID < tl[j].ID
	})
}

func waitEvents(ch <-chan events.Event) tea.Cmd {
	if ch == nil {
		return nil
	}
	return func() tea.Msg {
		e, ok := <-ch
		if !ok {
			return eventsClosedMsg{}
		}
		batch := []events.Event{e}
		// Drain what is already queued so a burst costs one update and one frame.
		for len(batch) < 512 {
			select {
			case e, ok := <-ch:
				if !ok {
					return eventsMsg{events: batch}
				}
				batch = append(batch, e)
			default:
				return eventsMsg{events: batch}
			}
		}
		return eventsMsg{events: batch}
	}
}

func (m *Model) sendTest() tea.Cmd {
	fn := m.cfg.SendTest
	ctx, cancel := m.cmdCtx()
	return func() tea.Msg {
		defer cancel()
		if err := fn(ctx); err != nil {
			return statusMsg{text: "send test: " + err.Error(), err: true}
		}
		return statusMsg{text: "sent a TEST notification to this listener"}
	}
}

func (m *Model) replay(id int64) tea.Cmd {
	fn := m.cfg.Replay
	ctx, cancel := m.cmdCtx()
	return func() tea.Msg {
		defer cancel()
		if err := fn(ctx, id); err != nil {
			return statusMsg{text: fmt.Sprintf("replay #%d: %v", id, err), err: true}
		}
		return statusMsg{text: fmt.Sprintf("replayed #%d to the forward targets (see Deliveries)", id)}
	}
}

// payload returns what copy and export take from a detail: the raw body or the decoded JSON.
func payload(d *detail, decoded bool) ([]byte, error) {
	if d.err != nil && d.capture == nil {
		return nil, d.err
	}
	if !decoded {
		return d.capture.Body, nil
	}
	if len(d.json) == 0 {
		return nil, errors.New("nothing decoded")
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, d.json, "", "  "); err != nil {
		return d.json, nil
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}

func what(decoded bool) string {
	if decoded {
		return "decoded JSON"
	}
	return "raw body"
}

// fetchForCopy reads a capture that is not open in the detail view.
func (m *Model) fetchForCopy(id int64, decoded bool) tea.Cmd {
	src, dec := m.cfg.Source, m.cfg.Decode
	ctx, cancel := m.cmdCtx()
	return func() tea.Msg {
		defer cancel()
		b, err := payload(fetchDetail(ctx, src, dec, id), decoded)
		if err != nil {
			return statusMsg{text: fmt.Sprintf("copy #%d: %v", id, err), err: true}
		}
		return clipboardMsg{text: string(b), what: what(decoded), id: id}
	}
}

// export writes the raw body or the decoded JSON of a capture to a new file in the export
// directory, never overwriting one.
func (m *Model) export(id int64, d *detail, decoded bool) tea.Cmd {
	src, dec, dir := m.cfg.Source, m.cfg.Decode, m.cfg.ExportDir
	ctx, cancel := m.cmdCtx()
	return func() tea.Msg {
		defer cancel()
		if d == nil {
			d = fetchDetail(ctx, src, dec, id)
		}
		b, err := payload(d, decoded)
		if err != nil {
			return statusMsg{text: fmt.Sprintf("export #%d: %v", id, err), err: true}
		}
		suffix := "raw"
		if decoded {
			suffix = "decoded"
		}
		name, err := writeNew(dir, fmt.Sprintf("s2s-%d-%s", id, suffix), ".json", b)
		if err != nil {
			return statusMsg{text: fmt.Sprintf("export #%d: %v", id, err), err: true}
		}
		return statusMsg{text: fmt.Sprintf("exported the %s of #%d to %s", what(decoded), id, name)}
	}
}

func writeNew(dir, base, ext string, data []byte) (string, error) {
	if dir == "" {
		dir = "."
	}
	for i := 0; i < 1000; i++ {
		name := base + ext
		if i > 0 {
			name = fmt.Sprintf("%s-%d%s", base, i, ext)
		}
		f, err := os.OpenFile(filepath.Join(dir, name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return "", err
		}
		if _, err := f.Write(data); err != nil {
			f.Close()
			return "", err
		}
		return name, f.Close()
	}
	return "", fmt.Errorf("too many files named %s*%s", base, ext)
}
