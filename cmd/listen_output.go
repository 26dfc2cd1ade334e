package cmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"charm.land/lipgloss/v2"

	"github.com/s2s-dev/s2s/appstore"
	"github.com/s2s-dev/s2s/decode"
	"github.com/s2s-dev/s2s/events"
	"github.com/s2s-dev/s2s/internal/termsafe"
	"github.com/s2s-dev/s2s/store"
)

// eventPrinter prints listen's events for scripts and logs: one line (lines) or one JSON object
// (json) per event. Data goes to stdout; status messages to stderr.
type eventPrinter struct {
	io     *IOStreams
	json   bool
	enc    *json.Encoder
	styles lineStyles
	// dropped, when set, counts the events the bus could not hand over because this printer fell
	// behind (a slow pipe); reported is how many of them were already reported.
	dropped  func() uint64
	reported uint64
}

type lineStyles struct {
	dim, ok, sim, warn, bad, kind lipgloss.Style
}

func newEventPrinter(ios *IOStreams, output string) *eventPrinter {
	p := &eventPrinter{io: ios, json: output == "json", enc: jsonEncoder(ios.Out)}
	if ios.ColorOut() {
		p.styles = lineStyles{
			dim:  lipgloss.NewStyle().Faint(true),
			ok:   lipgloss.NewStyle().Foreground(lipgloss.Green),
			sim:  lipgloss.NewStyle().Foreground(lipgloss.Cyan),
			warn: lipgloss.NewStyle().Foreground(lipgloss.Yellow),
			bad:  lipgloss.NewStyle().Foreground(lipgloss.Red).Bold(true),
			kind: lipgloss.NewStyle().Bold(true),
		}
	}
	return p
}

// run prints events until ctx ends or the server fails.
func (p *eventPrinter) run(ctx context.Context, events <-chan events.Event, serveErr <-chan error) error {
	for {
		select {
		case <-ctx.Done():
			p.drain(events)
			return nil
		case err := <-serveErr:
			if errors.Is(err, http.ErrServerClosed) {
				return nil
			}
			return fmt.Errorf("the receiver stopped: %w", err)
		case e, ok := <-events:
			if !ok {
				return nil
			}
			p.print(e)
			p.reportDrops()
		}
	}
}

// reportDrops says once per gap that events were lost, so the output never looks complete when it
// is not. The notifications themselves are stored all the same.
func (p *eventPrinter) reportDrops() {
	if p.dropped == nil {
		return
	}
	n := p.dropped()
	if n <= p.reported {
		return
	}
	msg := fmt.Sprintf("%d events were not printed because the output was read too slowly; every notification is stored (s2s captures list)", n-p.reported)
	p.reported = n
	if p.json {
		_ = p.enc.Encode(events.Event{Kind: events.Error, Time: time.Now(), Err: msg})
		return
	}
	fmt.Fprintf(p.io.ErrOut, "%s %s\n", p.styles.bad.Render("error:"), msg)
}

// drain prints what was already published, so a notification answered just before shutdown is
// still reported.
func (p *eventPrinter) drain(events <-chan events.Event) {
	for {
		select {
		case e, ok := <-events:
			if !ok {
				return
			}
			p.print(e)
			p.reportDrops()
		default:
			return
		}
	}
}

func (p *eventPrinter) print(e events.Event) {
	if p.json {
		_ = p.enc.Encode(e)
		return
	}
	s := p.styles
	// Every text of an event may come from outside: a tunnel's URL and messages, a server's
	// error, a payload's fields (Printable, in the line formatters).
	e.URL, e.PublicURL, e.Store = termsafe.String(e.URL), termsafe.String(e.PublicURL), termsafe.String(e.Store)
	e.Message, e.Err, e.Verdict = termsafe.String(e.Message), termsafe.String(e.Err), appstore.SendAttemptResult(termsafe.String(string(e.Verdict)))
	switch e.Kind {
	case events.Ready:
		fmt.Fprintf(p.io.ErrOut, "s2s is listening on %s\n", e.URL)
		if e.PublicURL != "" {
			fmt.Fprintf(p.io.ErrOut, "Public URL (paste into App Store Connect → App Store Server Notifications): %s\n", e.PublicURL)
		} else {
			fmt.Fprintln(p.io.ErrOut, "Apple needs a public HTTPS URL: add --tunnel for one, or send simulated notifications with `s2s send-test`.")
		}
		fmt.Fprintf(p.io.ErrOut, "Captures are stored in %s\n", e.Store)
	case events.Notification:
		fmt.Fprintln(p.io.Out, formatCaptureLine(e.Capture, s))
	case events.Delivery:
		fmt.Fprintln(p.io.Out, formatDeliveryLine(e.Delivery, s))
	case events.HubAck:
		fmt.Fprintf(p.io.Out, "#%d acknowledged by %s\n", e.CaptureID, termsafe.String(e.Consumer))
	case events.Tunnel:
		if e.Err != "" {
			// The message says what happens next (reconnecting, or the end); the error says why.
			msg := e.Err
			if e.Message != "" && e.Message != e.Err {
				msg = e.Message + " — " + e.Err
			}
			fmt.Fprintf(p.io.ErrOut, "%s %s\n", s.bad.Render("tunnel:"), msg)
		} else if e.Message != "" {
			// The message tells a new URL (edit App Store Connect) from a recovery at the same one.
			fmt.Fprintf(p.io.ErrOut, "%s %s\n", s.warn.Render("tunnel:"), e.Message)
		}
	case events.Probe:
		style := s.ok
		if e.Verdict != appstore.ResultSuccess {
			style = s.bad
		}
		fmt.Fprintf(p.io.ErrOut, "self-check through the public URL: %s %s\n", style.Render(string(e.Verdict)), e.Message)
		if e.Err != "" {
			fmt.Fprintf(p.io.ErrOut, "  %s\n", s.bad.Render(e.Err))
		}
	case events.Error:
		fmt.Fprintf(p.io.ErrOut, "%s %s\n", s.bad.Render("error:"), e.Err)
	case events.Connect:
		if e.Err != "" {
			fmt.Fprintf(p.io.ErrOut, "%s — %s\n", s.bad.Render(e.Message), e.Err)
		} else {
			fmt.Fprintln(p.io.ErrOut, e.Message)
		}
	}
}

// formatCaptureLine is one human line per notification: time, type/subtype, environment, product,
// trust label, answer code, latency, capture id, then how long after its signedDate it arrived
// and any notes.
func formatCaptureLine(raw *store.Capture, s lineStyles) string {
	c := raw.Printable()
	kind := c.Type
	realtime := c.Kind == decode.KindRealtimeRequest
	switch {
	case realtime:
		kind = "REAL-TIME REQUEST"
		if c.OriginalTransactionID != "" {
			kind += " " + c.OriginalTransactionID
		}
	case kind == "":
		kind = "(not a notification)"
	}
	if c.Subtype != "" {
		kind += "/" + c.Subtype
	}
	trust := s.trust(c.Trust).Render(c.Trust.Text(c.TrustClass))
	fields := []string{
		s.dim.Render(c.ReceivedAt.Local().Format("15:04:05")),
		// 45 fits the longest pair Apple documents (EXTERNAL_PURCHASE_TOKEN/ACTIVE_TOKEN_REMINDER).
		s.kind.Render(fmt.Sprintf("%-45s", kind)),
		fmt.Sprintf("%-10s", orDash(c.Environment)),
		fmt.Sprintf("%-28s", orDash(c.ProductID)),
		trust,
		// A capture a hub received was answered there: no status or latency of this listener's.
		answerOf(c),
		latencyOf(c),
		s.dim.Render(fmt.Sprintf("#%d", c.ID)),
	}
	line := strings.Join(fields, "  ")
	if d, ok := c.Delay(); ok {
		// How long after its signedDate it arrived; a minute or more either way is flagged.
		delay := "delay " + store.FormatDelay(d)
		switch {
		case d >= store.LateAfter:
			line += "  " + s.warn.Render(delay+" LATE")
		case d <= -store.LateAfter:
			line += "  " + s.warn.Render(delay+" (signedDate in the future)")
		default:
			line += "  " + s.dim.Render(delay)
		}
	}
	if c.DuplicateOf != 0 {
		line += s.warn.Render(fmt.Sprintf("  duplicate of #%d", c.DuplicateOf))
	}
	if realtime {
		note, ok := realtimeAnswerNote(&c)
		switch {
		case c.ResponseStatus == 0:
			line += "  " + s.dim.Render(note)
		case ok:
			line += "  " + s.ok.Render(note)
		default:
			line += "  " + s.bad.Render(note)
		}
	}
	if c.HubOrigin != "" {
		line += s.dim.Render("  via hub " + termsafe.String(c.HubOrigin))
	}
	if c.IdentityMismatch != "" {
		line += s.bad.Render("  " + c.IdentityMismatch)
	} else if c.Trust == decode.LabelInvalid && c.TrustMessage != "" {
		// Why it is not verified, where it is read: an expired leaf, a bad signature, not a JWS.
		line += s.dim.Render("  " + c.TrustMessage)
	}
	return line
}

func formatDeliveryLine(raw *store.Delivery, s lineStyles) string {
	d := raw.Printable()
	what := "forward"
	if d.Replay {
		what = "replay"
	}
	result := s.ok.Render(fmt.Sprintf("%d", d.Status))
	if d.State != store.DeliverySucceeded {
		if d.Status != 0 {
			result = s.bad.Render(fmt.Sprintf("%d", d.Status))
		} else {
			result = s.bad.Render("failed")
		}
	}
	line := fmt.Sprintf("%s  %s #%d → %s  %s  %s  attempt %d",
		s.dim.Render(d.StartedAt.Local().Format("15:04:05")), what, d.CaptureID, d.Target, result,
		d.Latency.Round(100*time.Microsecond), d.Attempt)
	if d.Error != "" {
		line += "  " + d.Error
	}
	if d.State == store.DeliveryPending && !d.NextRetryAt.IsZero() {
		line += fmt.Sprintf("  (retry at %s)", d.NextRetryAt.Local().Format("15:04:05"))
	}
	return line
}

// latencyOf is how long the answer took, "-" when there was none here (answerOf).
func latencyOf(c store.Capture) string {
	if c.ResponseStatus == 0 {
		return "-"
	}
	return c.Latency.Round(100 * time.Microsecond).String()
}

// orDash is s, or "-" when it is empty (a column with no value).
func orDash[T ~string](s T) string {
	if s == "" {
		return "-"
	}
	return string(s)
}

// trust colours a label by its tone, as every output does (simulated is cyan everywhere).
func (s lineStyles) trust(l decode.Label) lipgloss.Style {
	switch l.Tone() {
	case decode.ToneApple:
		return s.ok
	case decode.ToneTest:
		return s.sim
	case decode.ToneUnsigned:
		return s.warn
	case decode.ToneInvalid:
		return s.bad
	}
	return lipgloss.NewStyle()
}
