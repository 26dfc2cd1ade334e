package cmd

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/s2s-dev/s2s/decode"
	"github.com/s2s-dev/s2s/internal/decodeview"
	"github.com/s2s-dev/s2s/internal/termsafe"
	"github.com/s2s-dev/s2s/store"
)

type capturesShowOptions struct {
	*capturesOptions
	ID    int64
	Roots []string
	JSON  bool
}

func newCapturesShowCmd(co *capturesOptions, runF func(*capturesShowOptions) error) *cobra.Command {
	o := &capturesShowOptions{capturesOptions: co}
	c := &cobra.Command{
		Use:   "show ID",
		Short: "Show one capture: request, headers, deliveries and the decoded payload",
		Long: `Show everything about one capture: when and from where it arrived, the request line and
headers, what s2s answered, forwarding attempts, and the body verified and decoded as
"s2s decode" does (certificates checked at the payload's signedDate; payloads signed by this
machine's s2s test chain, or by a root given with --root, are labelled simulated).

Unlike "s2s decode", show exits 0 whatever the trust label: it reports, it does not judge.`,
		Example: `  s2s captures show 42
  s2s captures show 42 --json | jq '.decoded.summary'
  s2s captures show 42 --root testCA.pem`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseCaptureID(args[0])
			if err != nil {
				return err
			}
			o.ID = id
			if runF != nil {
				return runF(o)
			}
			return runCapturesShow(cmd.Context(), o)
		},
	}
	c.Flags().BoolVar(&o.JSON, "json", false, "print the capture, its deliveries and the decoded payload as one JSON document")
	c.Flags().StringArrayVar(&o.Roots, "root", nil, "also trust the root certificate in PEM file (repeatable)")
	return c
}

// getCapture opens the store and reads one capture with its body; a missing store or ID is the
// same "not found" error.
func (o *capturesOptions) getCapture(ctx context.Context, id int64) (*store.Store, *store.Capture, error) {
	s, err := o.open()
	if errors.Is(err, errNoStore) {
		return nil, nil, noStoreFor(id, o.path())
	}
	if err != nil {
		return nil, nil, err
	}
	c, err := s.Get(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		s.Close()
		return nil, nil, captureNotFound(id, s.Path())
	}
	if err != nil {
		s.Close()
		return nil, nil, err
	}
	return s, c, nil
}

func runCapturesShow(ctx context.Context, o *capturesShowOptions) error {
	roots, err := loadRoots(o.Roots)
	if err != nil {
		return err
	}
	roots = append(roots, localTestRoots(o.f)...)
	s, c, err := o.getCapture(ctx, o.ID)
	if err != nil {
		return err
	}
	defer s.Close()
	deliveries, err := s.Deliveries(ctx, c.ID)
	if err != nil {
		return err
	}
	// Read as s2s listen read it when it arrived: a notification or a real-time request.
	d := decode.NewVerifier(decode.Options{ExtraRoots: roots, Clock: o.f.Now}).DecodeEndpointBody(c.Body)
	keepStoredIdentityVerdict(d, c)

	ios := o.f.IO
	if o.JSON {
		decoded, err := d.MarshalJSON()
		if err != nil {
			return err
		}
		return writeJSON(ios.Out, struct {
			Capture    *store.Capture   `json:"capture"`
			Deliveries []store.Delivery `json:"deliveries"`
			Decoded    json.RawMessage  `json:"decoded"`
		}{c, deliveries, decoded})
	}
	if err := writeCaptureMeta(ios.Out, c, deliveries); err != nil {
		return err
	}
	fmt.Fprintln(ios.Out)
	return decodeview.Write(ios.Out, d, decodeview.NewStyles(ios.ColorOut()))
}

// keepStoredIdentityVerdict keeps one label per capture. The decode above knows nothing of the
// --bundle-id, --app-apple-id or --environment that s2s listen checked when the capture arrived,
// so a payload listen stored as invalid (identity or environment) would come back verified.
func keepStoredIdentityVerdict(d *decode.Decoded, c *store.Capture) {
	if c.IdentityMismatch == "" || d.Verification.Label == decode.LabelInvalid {
		return
	}
	class := c.TrustClass
	if class != decode.ClassIdentity && class != decode.ClassEnvironment {
		class = decode.ClassIdentity
	}
	msg := c.IdentityMismatch + "; checked by s2s listen when the capture arrived (the signature itself is " +
		string(d.Own.Label) + ")"
	for _, v := range []*decode.Verification{&d.Own, &d.Verification} {
		if v.Label != decode.LabelInvalid {
			v.Label, v.Class, v.Message = decode.LabelInvalid, class, msg
		}
	}
}

// writeCaptureMeta prints what s2s knows about a capture beyond its body, every text made
// terminal-safe (Printable).
func writeCaptureMeta(w io.Writer, raw *store.Capture, deliveries []store.Delivery) error {
	pc := raw.Printable()
	c := &pc
	bw := bufio.NewWriter(w)
	row := func(k, format string, args ...any) {
		fmt.Fprintf(bw, "%-11s %s\n", k, fmt.Sprintf(format, args...))
	}
	fmt.Fprintf(bw, "Capture %d\n", c.ID)
	row("received", "%s (%s)", c.ReceivedAt.Local().Format("2006-01-02 15:04:05.000 -0700"), c.ReceivedAt.UTC().Format(time.RFC3339Nano))
	if w := c.DelayWords(); w != "" {
		row("delay", "%s", w)
	}
	target := c.Path
	if c.Query != "" {
		target += "?" + c.Query
	}
	row("request", "%s %s", c.Method, target)
	from := c.RemoteAddr
	if c.SourceIP != "" && !strings.HasPrefix(c.RemoteAddr, c.SourceIP+":") {
		from += ", client " + c.SourceIP
	}
	if c.AppleRange != "" {
		from += " (in Apple's range " + c.AppleRange + ")"
	} else {
		from += " (not in Apple's published ranges)"
	}
	row("from", "%s", from)
	row("body", "%d bytes", c.BodySize)
	if c.ResponseStatus != 0 {
		answer := fmt.Sprintf("%d %s", c.ResponseStatus, http.StatusText(c.ResponseStatus))
		if c.Latency > 0 {
			answer += " after " + c.Latency.Round(time.Microsecond).String()
		}
		row("answered", "%s", answer)
	}
	writeCaptureAnswer(bw, raw, c)
	row("stored as", "%s", trustOf(*c))
	if c.TrustMessage != "" {
		row("", "%s", c.TrustMessage)
	}
	if c.DuplicateOf != 0 {
		row("duplicate", "of capture %d (same notificationUUID %s)", c.DuplicateOf, c.NotificationUUID)
	}
	if c.HubOrigin != "" {
		row("via hub", "hub capture %s (received by s2s hub, verified again here)", termsafe.String(c.HubOrigin))
	}
	if c.IdentityMismatch != "" {
		row("identity", "MISMATCH: %s", c.IdentityMismatch)
	}
	if len(c.Headers) > 0 {
		fmt.Fprintln(bw, "headers:")
		for _, k := range slices.Sorted(maps.Keys(c.Headers)) {
			for _, v := range c.Headers[k] {
				fmt.Fprintf(bw, "  %s: %s\n", k, v)
			}
		}
	}
	if len(deliveries) > 0 {
		fmt.Fprintln(bw, "deliveries:")
		for _, d := range deliveries {
			d = d.Printable()
			outcome := d.State
			if d.Status != 0 {
				outcome = fmt.Sprintf("%d, %s", d.Status, d.State)
			}
			kind := ""
			if d.Replay {
				kind = " (replay)"
			}
			fmt.Fprintf(bw, "  %s  attempt %d%s  %s  %s in %s", d.StartedAt.Local().Format("15:04:05"), d.Attempt, kind,
				d.Target, outcome, d.Latency.Round(time.Millisecond))
			if d.Error != "" {
				fmt.Fprintf(bw, "  error: %s", d.Error)
			}
			if d.State == store.DeliveryPending {
				fmt.Fprintf(bw, "  next try %s", d.NextRetryAt.Local().Format("15:04:05"))
			}
			fmt.Fprintln(bw)
		}
	}
	return bw.Flush()
}

// writeCaptureAnswer prints what s2s answered a real-time request with: valid or INVALID with
// each problem (pc: the printable capture), then the body, terminal-safe and cut after 2 KiB; a
// body that is not UTF-8 is only counted (--json carries it, base64).
func writeCaptureAnswer(w io.Writer, raw, pc *store.Capture) {
	if raw.Answer == nil && len(raw.AnswerProblems) == 0 {
		return
	}
	verdict := "valid"
	if len(pc.AnswerProblems) > 0 {
		verdict = "INVALID"
	}
	fmt.Fprintf(w, "%-11s %s, %s\n", "answer", verdict, plural(len(raw.Answer), "byte"))
	for _, p := range pc.AnswerProblems {
		fmt.Fprintf(w, "%-11s - %s\n", "", p)
	}
	switch {
	case len(raw.Answer) == 0:
	case !utf8.Valid(raw.Answer):
		fmt.Fprintf(w, "%-11s (not UTF-8 text: see --json, answerBase64)\n", "")
	default:
		fmt.Fprintf(w, "%s\n", indentLines(termsafe.Text(cutAnswer(string(raw.Answer))), strings.Repeat(" ", 12)))
	}
}
