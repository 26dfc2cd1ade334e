// Package tui is the terminal UI of `s2s listen`: a live list of captured notifications, a detail
// view with tabs, a filter bar and a help overlay. It reads the capture store through the small
// Source interface and the receiver's events from a channel; every read, decode, copy or export
// runs in a tea.Cmd, never in Update, so the model can be tested with an in-memory Source.
package tui

import (
	"bytes"
	"context"
	"encoding/json"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/s2s-dev/s2s/decode"
	"github.com/s2s-dev/s2s/events"
	"github.com/s2s-dev/s2s/store"
	"github.com/s2s-dev/s2s/subscription"
)

// Source is the part of the capture store the TUI reads; *store.Store satisfies it.
type Source interface {
	List(ctx context.Context, f store.Filter) ([]store.Capture, error)
	Count(ctx context.Context, f store.Filter) (int, error)
	Get(ctx context.Context, id int64) (*store.Capture, error)
	Stats(ctx context.Context) (store.Stats, error)
	Deliveries(ctx context.Context, captureID int64) ([]store.Delivery, error)
	Forwardings(ctx context.Context, captureIDs []int64) (map[int64]store.Forwarding, error)
}

// Decoder decodes a capture's body into decode's typed result, verdicts included: the Summary
// reads its fields by type and the Decoded tab shows it as s2s decode does. Tests inject one
// built from fixtures so golden views do not depend on a signing chain.
type Decoder func(body []byte) *decode.Decoded

// VerifierDecoder decodes with v the way the receiver read the body (DecodeEndpointBody): a
// notification or a real-time request. DecodeBody would call every stored real-time request
// invalid/format, against the label the list and the Summary show.
func VerifierDecoder(v *decode.Verifier) Decoder { return v.DecodeEndpointBody }

// payloadFirst moves the document's "payload" (the notification, nested JWS decoded) to the top:
// decode puts its summary and verification details first, a screen and more of them, and the
// notification is what a copy is for. The other members keep their order.
func payloadFirst(doc []byte) []byte {
	type member struct {
		key string
		raw json.RawMessage
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return doc
	}
	var members []member
	payload := -1
	for dec.More() {
		tok, err := dec.Token()
		key, ok := tok.(string)
		if err != nil || !ok {
			return doc
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return doc
		}
		if key == "payload" {
			payload = len(members)
		}
		members = append(members, member{key, raw})
	}
	if payload <= 0 {
		return doc
	}
	members = append([]member{members[payload]}, append(members[:payload:payload], members[payload+1:]...)...)
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range members {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(m.key)
		b.Write(k)
		b.WriteByte(':')
		b.Write(m.raw)
	}
	b.WriteByte('}')
	return b.Bytes()
}

// Config is everything the TUI is given by `s2s listen`.
type Config struct {
	Context   context.Context // ends every Cmd's work; nil: context.Background()
	Source    Source
	Events    <-chan events.Event // nil: no live updates
	Decode    Decoder             // nil: Apple's root only, with no identity checks
	Version   string
	LocalURL  string
	PublicURL string
	StorePath string
	LogPath   string

	// Hub: this is s2s hub's UI. The list has an ACKED BY column and the detail a row naming
	// the listeners (durable consumers) that acknowledged each capture, from hub-ack events.
	Hub bool
	// HubURL is the NATS URL of the hub, its credentials redacted: the one teammates pass to
	// --hub (s2s hub), or the hub this listener takes its captures from (listen --hub); "" for
	// neither. The header shows it, so a hub's URL is visible while the UI covers its stderr.
	HubURL string

	SendTest func(ctx context.Context) error           // t; nil: disabled
	Replay   func(ctx context.Context, id int64) error // r; nil: no forward targets
	Forward  []string                                  // the --forward-to targets, for the header

	// AppleView fetches Apple's view of the customer with an originalTransactionId, joined with
	// the store (a on the Timeline); nil without the In-App Purchase key. ImportApple stores a
	// notification Apple sent that never arrived and returns its capture ID (i).
	AppleView   func(ctx context.Context, originalTransactionID string) (*subscription.View, error)
	ImportApple func(ctx context.Context, n subscription.Notification) (int64, error)
	// Spinner is how often the spinner turns while Apple is asked; 0: a still one (tests).
	Spinner time.Duration

	// ExportDir is where x / X write files (the current directory in s2s listen).
	ExportDir string
	// Location is the local time zone of the Summary and list (nil: time.Local); tests fix it.
	Location *time.Location
	// NoColor renders without colour; selection and tabs stay visible through markers.
	NoColor bool
	// PageSize is how many rows one store read fetches; 0: 200.
	PageSize int
	// Refresh is how often the list catches up with the store and the header counts are read
	// again, in case the event stream dropped something; 0: never.
	Refresh time.Duration
	// Clock is how often the header's "last notification … ago" is brought up to date; 0: never
	// after the first reading. Now reads the time, only in Cmds (nil: time.Now); tests fix it.
	Clock time.Duration
	Now   func() time.Time
	// Clipboard is the Cmd that puts copied text on the clipboard (nil: tea.SetClipboard, OSC
	// 52); tests record the text through it.
	Clipboard func(text string) tea.Cmd
}
