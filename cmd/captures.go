package cmd

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/s2s-dev/s2s/decode"
	"github.com/s2s-dev/s2s/fixtures"
	"github.com/s2s-dev/s2s/internal/paths"
	"github.com/s2s-dev/s2s/internal/termsafe"
	"github.com/s2s-dev/s2s/store"
)

// capturesOptions are the flags every `s2s captures` subcommand shares.
type capturesOptions struct {
	f         *Factory
	StorePath string
}

func newCapturesCmd(f *Factory) *cobra.Command {
	o := &capturesOptions{f: f}
	c := &cobra.Command{
		Use:   "captures",
		Short: "List, show, export, delete and count the notifications s2s listen stored",
		Long: `Work with the capture store: every request "s2s listen" received, byte for byte, with its
headers, time, source address, trust label and what s2s answered.

The store is an SQLite file in the user data directory ($XDG_DATA_HOME/s2s/captures.db);
S2S_STORE or --store PATH choose another. It can be read while "s2s listen" writes to it.
Every subcommand takes --json for scripts.`,
		Example: `  # The 50 newest captures, then only sandbox renewals of the last day
  s2s captures list
  s2s captures list --type DID_RENEW --env sandbox --since 24h

  # Everything about capture 42: request, headers, deliveries, decoded payload
  s2s captures show 42

  # The raw body, byte for byte, to decode or replay elsewhere
  s2s captures export 42 -o body.json && s2s decode body.json

  # Counts by type, trust label and day; then clean up
  s2s captures stats
  s2s captures rm 41 42
  s2s captures rm --all --yes`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	c.PersistentFlags().StringVar(&o.StorePath, "store", "", "capture store PATH (default: $S2S_STORE or the user data directory)")
	c.AddCommand(
		newCapturesListCmd(o),
		newCapturesShowCmd(o),
		newCapturesExportCmd(o),
		newCapturesRmCmd(o),
		newCapturesStatsCmd(o),
	)
	return c
}

// captureStorePath is the store file a command works on: its --store flag, else $S2S_STORE or
// the user data directory.
func captureStorePath(f *Factory, flag string) string {
	if flag != "" {
		return flag
	}
	return paths.StorePath(f.Getenv)
}

// errCapNoStore means the store file does not exist yet: reading commands treat it as empty rather
// than creating a file as a side effect.
var errCapNoStore = errors.New("no capture store")

// openExistingStore opens the store at path for a command that reads it, or errCapNoStore.
func openExistingStore(path string) (*store.Store, error) {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, errCapNoStore
	}
	s, err := store.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening the capture store %s: %w", path, err)
	}
	return s, nil
}

func (o *capturesOptions) path() string                { return captureStorePath(o.f, o.StorePath) }
func (o *capturesOptions) open() (*store.Store, error) { return openExistingStore(o.path()) }

// parseCaptureID reads a capture ID as printed by list ("42" or "#42").
func parseCaptureID(arg string) (int64, error) {
	id, err := strconv.ParseInt(strings.TrimPrefix(arg, "#"), 10, 64)
	if err != nil || id <= 0 {
		return 0, usageErrorf("%q is not a capture ID (a positive number, as in the ID column of \"s2s captures list\")", arg)
	}
	return id, nil
}

// captureNotFound names the store it looked in: an ID is only "not found" relative to one store,
// and a --store or S2S_STORE the user forgot is the usual reason.
func captureNotFound(id int64, storePath string) error {
	return fmt.Errorf("capture %d not found in %s (s2s captures list shows the IDs)", id, storePath)
}

// noStoreFor says that there is no store to look for capture id in at all.
func noStoreFor(id int64, storePath string) error {
	return fmt.Errorf("capture %d not found: no capture store at %s (run \"s2s listen\" first, or give --store)", id, storePath)
}

// ---- list ----

type capturesListOptions struct {
	*capturesOptions

	Type, Subtype, Environment, Trust []string // repeatable: alternatives
	BundleID, OriginalTransactionID   []string
	ProductID                         []string
	Filter, Search, Since, Until      string
	Before                            int64
	Limit                             int
	JSON                              bool
}

func newCapturesListCmd(co *capturesOptions) *cobra.Command {
	o := &capturesListOptions{capturesOptions: co}
	c := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List captures, newest first, with filters",
		Long: `List stored captures, newest first. Filters combine (all must match). --since and --until
take RFC 3339 times, dates (local midnight) or durations back from now (90s, 15m, 1h, 7d).
--limit 0 lists everything; for the next page pass the last ID shown as --before.`,
		Example: `  s2s captures list
  s2s captures list --type DID_RENEW --env sandbox --since 1h
  s2s captures list --trust invalid --limit 0
  s2s captures list --original-transaction-id 2000000123456789
  s2s captures list --search yearly --before 120

  # IDs of today's refunds, for a script
  s2s captures list --type REFUND --since 24h --json | jq '.[].id'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runCapturesList(cmd.Context(), o) },
	}
	fl := c.Flags()
	fl.StringArrayVar(&o.Type, "type", nil, "only this notificationType, or TYPE/SUBTYPE (DID_RENEW, SUBSCRIBED/RESUBSCRIBE, ...; repeatable)")
	fl.StringArrayVar(&o.Subtype, "subtype", nil, "only this subtype (INITIAL_BUY, VOLUNTARY, ...; repeatable)")
	fl.StringArrayVar(&o.Environment, "env", nil, "only this environment: Sandbox, Production, Xcode, LocalTesting (repeatable)")
	fl.StringArrayVar(&o.Environment, "environment", nil, "same as --env")
	_ = fl.MarkHidden("environment")
	fl.StringArrayVar(&o.Trust, "trust", nil, "only this trust label: verified, simulated, unsigned-xcode, legacy-v1, invalid (repeatable)")
	fl.StringArrayVar(&o.BundleID, "bundle-id", nil, "only this bundle ID (repeatable)")
	fl.StringArrayVar(&o.OriginalTransactionID, "original-transaction-id", nil, "only this original transaction ID (repeatable)")
	fl.StringArrayVar(&o.ProductID, "product", nil, "only product IDs containing this, any case (repeatable)")
	fl.StringVar(&o.Filter, "filter", "", "terms of the filter grammar, as in the TUI: 'type:REFUND,DID_RENEW env:prod product:yearly'")
	fl.StringVar(&o.Search, "search", "", "free TEXT in type, subtype, product, IDs, bundle or path")
	fl.StringVar(&o.Since, "since", "", "received at or after TIME (RFC 3339, date, or duration like 1h)")
	fl.StringVar(&o.Until, "until", "", "received before TIME (RFC 3339, date, or duration like 1h)")
	fl.Int64Var(&o.Before, "before", 0, "only captures with an ID below ID (the next page)")
	fl.IntVar(&o.Limit, "limit", 50, "at most N captures (0: all)")
	fl.BoolVar(&o.JSON, "json", false, "print a JSON array of captures (without bodies)")
	_ = c.RegisterFlagCompletionFunc("type", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return fixtures.TypeNames(), cobra.ShellCompDirectiveNoFileComp
	})
	_ = c.RegisterFlagCompletionFunc("subtype", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return fixtures.SubtypeNames(lastOf(o.Type)), cobra.ShellCompDirectiveNoFileComp
	})
	_ = c.RegisterFlagCompletionFunc("env", cobra.FixedCompletions([]string{"Sandbox", "Production", "Xcode"}, cobra.ShellCompDirectiveNoFileComp))
	_ = c.RegisterFlagCompletionFunc("trust", cobra.FixedCompletions(capTrustLabels, cobra.ShellCompDirectiveNoFileComp))
	return c
}

var capTrustLabels = store.TrustLabels

// lastOf is the last value of a repeatable flag, "" when it was not given.
func lastOf(vals []string) string {
	if len(vals) == 0 {
		return ""
	}
	return vals[len(vals)-1]
}

// filter turns the flags into a store.Filter.
func (o *capturesListOptions) filter() (store.Filter, error) {
	if o.Limit < 0 {
		return store.Filter{}, usageErrorf("invalid --limit %d: use a positive number, or 0 for all", o.Limit)
	}
	f, err := captureSelection(o.f.Now(), []selectionFlag{
		{"type", "type", o.Type}, {"subtype", "subtype", o.Subtype}, {"env", "env", o.Environment},
		{"trust", "trust", o.Trust}, {"bundle-id", "bundle", o.BundleID},
		{"original-transaction-id", "otid", o.OriginalTransactionID}, {"product", "product", o.ProductID},
	}, o.Filter, o.Since, o.Until)
	if err != nil {
		return f, err
	}
	if o.Search != "" {
		f.Text = strings.TrimSpace(f.Text + " " + o.Search)
	}
	f.BeforeID, f.Limit = o.Before, o.Limit
	if o.Limit == 0 {
		f.Limit = -1
	}
	return f, nil
}

// selectionFlag is one selection flag's values: a term of the one filter grammar
// (store.ParseFilter) under the flag's name.
type selectionFlag struct {
	flag, key string
	values    []string
}

// captureSelection turns the selection flags that captures list and replay share into a
// store.Filter. Each flag is a key of the filter grammar the TUI's filter bar and forwarding rules
// read, so values are spelt alike everywhere; a repeated flag (or A,B) is an alternative, and
// --filter takes terms of that grammar. Values the grammar refuses are usage errors naming the
// valid ones.
func captureSelection(now time.Time, flags []selectionFlag, expr, since, until string) (store.Filter, error) {
	f, err := store.ParseFilter(expr)
	if err != nil {
		return f, usageErrorf("invalid --filter %q: %v (%s)", expr, err, store.FilterHelp)
	}
	for _, fl := range flags {
		for _, v := range fl.values {
			if strings.TrimSpace(v) == "" {
				continue // --env "" is no filter, as before
			}
			if err := f.AddTerm(fl.key, v); err != nil {
				var fe *store.FilterError
				if errors.As(err, &fe) && fe.Why != "" {
					return f, usageErrorf("invalid --%s %q: %s; use %s", fl.flag, fe.Value, fe.Why, fe.Valid)
				}
				return f, usageErrorf("invalid --%s %q: %v", fl.flag, v, err)
			}
		}
	}
	if since != "" {
		if f.Since, err = parseCaptureTime(since, now); err != nil {
			return f, usageErrorf("invalid --since %q: %v", since, err)
		}
	}
	if until != "" {
		if f.Until, err = parseCaptureTime(until, now); err != nil {
			return f, usageErrorf("invalid --until %q: %v", until, err)
		}
	}
	return f, nil
}

// parseCaptureTime reads --since/--until: a duration back from now (Go syntax plus days, "7d"),
// RFC 3339, or a local date or date-time.
func parseCaptureTime(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if d, ok := capParseAgo(s); ok {
		return now.Add(-d), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, now.Location()); err == nil {
			return t, nil
		}
	}
	return time.Time{}, errors.New("use a duration (90s, 15m, 1h, 7d), RFC 3339 (2026-11-23T09:00:00Z) or a date (2026-11-23)")
}

func capParseAgo(s string) (time.Duration, bool) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseFloat(days, 64)
		if err != nil || !(n >= 0 && n <= 100*365) { // also refuses NaN and what overflows a Duration
			return 0, false
		}
		return time.Duration(n * float64(24*time.Hour)), true
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, false
	}
	return d, true
}

func runCapturesList(ctx context.Context, o *capturesListOptions) error {
	f, err := o.filter()
	if err != nil {
		return err
	}
	ios := o.f.IO
	s, err := o.open()
	if errors.Is(err, errCapNoStore) {
		if o.JSON {
			return writeJSON(ios.Out, []store.Capture{})
		}
		fmt.Fprintf(ios.ErrOut, "No captures yet: %s does not exist (\"s2s listen\" creates it).\n", o.path())
		return nil
	}
	if err != nil {
		return err
	}
	defer s.Close()
	caps, err := s.List(ctx, f)
	if err != nil {
		return err
	}
	// FORWARD, when any of them was forwarded or replayed: the best outcome, and a later attempt
	// that did not succeed beside it ("200 · replay failed"); captures show has every attempt.
	ids := make([]int64, len(caps))
	for i, c := range caps {
		ids[i] = c.ID
	}
	fwd, err := s.Forwardings(ctx, ids)
	if err != nil {
		return err
	}
	if o.JSON {
		return writeJSON(ios.Out, capListJSON(caps, fwd))
	}
	if len(caps) == 0 {
		fmt.Fprintf(ios.ErrOut, "No captures match in %s.\n", s.Path())
		for _, t := range f.UnknownTypes() {
			fmt.Fprintf(ios.ErrOut, "%s is not a notificationType Apple documents; s2s send-test --list shows them.\n", t)
		}
		return nil
	}
	var table bytes.Buffer
	w := tabwriter.NewWriter(&table, 0, 4, 2, ' ', 0)
	head := "ID\tRECEIVED\tTYPE\tENV\tPRODUCT\tTRUST\tANSWER\tNOTE"
	if len(fwd) > 0 {
		head = "ID\tRECEIVED\tTYPE\tENV\tPRODUCT\tTRUST\tANSWER\tFORWARD\tNOTE"
	}
	fmt.Fprintln(w, head)
	for _, c := range caps {
		c = c.Printable() // a tab in a field would also break the table
		answer := capAnswerOf(c)
		if len(fwd) > 0 {
			answer += "\t" + orDash(termsafe.String(fwd[c.ID].Outcome()))
		}
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", c.ID, c.ReceivedAt.Local().Format("2006-01-02 15:04:05"),
			orDash(capTypeOf(c)), orDash(c.Environment), orDash(c.ProductID), capTrustOf(c), answer, capNoteOf(c))
	}
	if err := w.Flush(); err != nil {
		return err
	}
	// An empty last column leaves padding behind; trailing blanks only get in the way of diffs.
	for _, line := range strings.Split(strings.TrimSuffix(table.String(), "\n"), "\n") {
		if _, err := io.WriteString(ios.Out, strings.TrimRight(line, " ")+"\n"); err != nil {
			return err
		}
	}
	if f.Limit > 0 && len(caps) == f.Limit {
		total, err := s.Count(ctx, f) // Count ignores Limit
		if err == nil && total > len(caps) {
			fmt.Fprintf(ios.ErrOut, "Showing %d of %d: --before %d for the next page, --limit 0 for all.\n",
				len(caps), total, caps[len(caps)-1].ID)
		}
	}
	return nil
}

// capListItem is one capture of captures list --json: the capture, and its forwarding when it
// was forwarded or replayed.
type capListItem struct {
	store.CaptureJSON
	Forwarding *capForwarding `json:"forwarding,omitempty"`
}

// capForwarding is the FORWARD column as data: the outcome in words, the best delivery (the
// latest accepted one, else the latest) and the latest attempt.
type capForwarding struct {
	Outcome string         `json:"outcome"`
	Best    store.Delivery `json:"best"`
	Latest  store.Delivery `json:"latest"`
}

func capListJSON(caps []store.Capture, fwd map[int64]store.Forwarding) []capListItem {
	out := make([]capListItem, len(caps))
	for i, c := range caps {
		out[i].CaptureJSON = c.JSON()
		if f, ok := fwd[c.ID]; ok {
			out[i].Forwarding = &capForwarding{Outcome: f.Outcome(), Best: f.Best, Latest: f.Latest}
		}
	}
	return out
}

func capTypeOf(c store.Capture) string {
	if c.Subtype != "" {
		return c.Type + "/" + c.Subtype
	}
	return c.Type
}

func capTrustOf(c store.Capture) string {
	if c.TrustClass != "" {
		return c.Trust + "/" + c.TrustClass
	}
	return orDash(c.Trust)
}

func capAnswerOf(c store.Capture) string {
	if c.ResponseStatus == 0 {
		return "-"
	}
	return strconv.Itoa(c.ResponseStatus)
}

func capNoteOf(c store.Capture) string {
	var notes []string
	if c.DuplicateOf != 0 {
		notes = append(notes, fmt.Sprintf("duplicate of %d", c.DuplicateOf))
	}
	if c.IdentityMismatch != "" {
		notes = append(notes, "identity mismatch")
	}
	return strings.Join(notes, ", ")
}

// ---- show ----

type capturesShowOptions struct {
	*capturesOptions
	ID    int64
	Roots []string
	JSON  bool
}

func newCapturesShowCmd(co *capturesOptions) *cobra.Command {
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
	if errors.Is(err, errCapNoStore) {
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
	d := decode.NewVerifier(decode.Options{ExtraRoots: roots, Clock: o.f.Now}).DecodeBody(c.Body)
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
	return renderDecodedHuman(ios.Out, d, ios.ColorOut())
}

// keepStoredIdentityVerdict keeps one label per capture. The decode above knows nothing of the
// --bundle-id, --app-apple-id or --environment that s2s listen checked when the capture arrived,
// so a payload listen stored as invalid (identity or environment) would come back verified.
func keepStoredIdentityVerdict(d *decode.Decoded, c *store.Capture) {
	if c.IdentityMismatch == "" || d.Verification.Label == decode.LabelInvalid {
		return
	}
	class := decode.Class(c.TrustClass)
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
	row("stored as", "%s", capTrustOf(*c))
	if c.TrustMessage != "" {
		row("", "%s", c.TrustMessage)
	}
	if c.DuplicateOf != 0 {
		row("duplicate", "of capture %d (same notificationUUID %s)", c.DuplicateOf, c.NotificationUUID)
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

// ---- export ----

type capturesExportOptions struct {
	*capturesOptions
	ID     int64
	Output string
	JSON   bool
}

func newCapturesExportCmd(co *capturesOptions) *cobra.Command {
	o := &capturesExportOptions{capturesOptions: co}
	c := &cobra.Command{
		Use:   "export ID",
		Short: "Write a capture's raw body, byte for byte, to standard output or a file",
		Long: `Write the body of a capture exactly as it was received, to standard output or to a file
with -o (created 0600, replaced if it exists). "s2s decode FILE" reads it back.

With --json, the whole request is exported instead: the capture's fields, headers included,
and the body as a string (or as base64 in bodyBase64 when it is not UTF-8).`,
		Example: `  s2s captures export 42 > body.json
  s2s captures export 42 -o body.json && s2s decode body.json

  # Send it to your own server by hand
  s2s captures export 42 | curl -sS -H 'Content-Type: application/json' --data-binary @- http://localhost:3000/apple

  # The request with headers, as JSON
  s2s captures export 42 --json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseCaptureID(args[0])
			if err != nil {
				return err
			}
			o.ID = id
			return runCapturesExport(cmd.Context(), o)
		},
	}
	c.Flags().StringVarP(&o.Output, "output", "o", "", "write to FILE instead of standard output")
	c.Flags().BoolVar(&o.JSON, "json", false, "export the request (fields, headers, body) as a JSON document")
	return c
}

func runCapturesExport(ctx context.Context, o *capturesExportOptions) error {
	s, c, err := o.getCapture(ctx, o.ID)
	if err != nil {
		return err
	}
	defer s.Close()
	data := c.Body
	if o.JSON {
		doc := struct {
			store.CaptureJSON
			Body       *string `json:"body,omitempty"`
			BodyBase64 string  `json:"bodyBase64,omitempty"`
		}{CaptureJSON: c.JSON()}
		if utf8.Valid(c.Body) {
			body := string(c.Body)
			doc.Body = &body
		} else {
			doc.BodyBase64 = base64.StdEncoding.EncodeToString(c.Body)
		}
		b, err := json.MarshalIndent(doc, "", "  ")
		if err != nil {
			return err
		}
		data = append(b, '\n')
	}
	if o.Output == "" || o.Output == "-" {
		_, err := o.f.IO.Out.Write(data)
		return err
	}
	if err := os.WriteFile(o.Output, data, 0o600); err != nil {
		return err
	}
	fmt.Fprintf(o.f.IO.ErrOut, "Wrote capture %d (%d bytes) to %s\n", c.ID, len(data), o.Output)
	return nil
}

// ---- rm ----

type capturesRmOptions struct {
	*capturesOptions
	IDs  []int64
	All  bool
	Yes  bool
	JSON bool
}

func newCapturesRmCmd(co *capturesOptions) *cobra.Command {
	o := &capturesRmOptions{capturesOptions: co}
	c := &cobra.Command{
		Use:     "rm ID... | --all",
		Aliases: []string{"delete"},
		Short:   "Delete captures (with their forwarding history)",
		Long: `Delete captures by ID, with their bodies and delivery attempts. If any ID does not exist,
nothing is deleted. IDs are never reused.

--all empties the store; it asks for confirmation on a terminal and needs --yes otherwise.`,
		Example: `  s2s captures rm 42
  s2s captures rm 40 41 42
  s2s captures rm --all            # asks first
  s2s captures rm --all --yes      # in scripts`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.All == (len(args) > 0) {
				return usageErrorf("give capture IDs or --all (not both)")
			}
			for _, a := range args {
				id, err := parseCaptureID(a)
				if err != nil {
					return err
				}
				o.IDs = append(o.IDs, id)
			}
			return runCapturesRm(cmd.Context(), o)
		},
	}
	c.Flags().BoolVar(&o.All, "all", false, "delete every capture in the store")
	c.Flags().BoolVarP(&o.Yes, "yes", "y", false, "do not ask for confirmation (with --all)")
	c.Flags().BoolVar(&o.JSON, "json", false, `print {"deleted": N, "ids": [...]}`)
	return c
}

func runCapturesRm(ctx context.Context, o *capturesRmOptions) error {
	ios := o.f.IO
	s, err := o.open()
	if errors.Is(err, errCapNoStore) {
		if o.All {
			return o.reportRm(0, nil)
		}
		return noStoreFor(o.IDs[0], o.path())
	}
	if err != nil {
		return err
	}
	defer s.Close()

	if o.All {
		total, err := s.Count(ctx, store.Filter{})
		if err != nil {
			return err
		}
		if !o.Yes {
			if !ios.IsStdinTTY() || !ios.IsStderrTTY() {
				return usageErrorf("--all deletes all %d captures in %s: add --yes to confirm", total, s.Path())
			}
			fmt.Fprintf(ios.ErrOut, "Delete all %d captures in %s? [y/N] ", total, s.Path())
			answer, err := readLineCtx(ctx, ios.In)
			if err != nil {
				fmt.Fprintln(ios.ErrOut, "\nNothing deleted.")
				return err
			}
			if a := strings.ToLower(strings.TrimSpace(answer)); a != "y" && a != "yes" {
				fmt.Fprintln(ios.ErrOut, "Nothing deleted.")
				return &SilentError{Code: ExitError}
			}
		}
		n, err := s.DeleteAll(ctx)
		if err != nil {
			return fmt.Errorf("deleting captures in %s: %w", s.Path(), err)
		}
		return o.reportRm(n, nil)
	}

	missing, err := s.Missing(ctx, o.IDs...)
	if err != nil {
		return err
	}
	if len(missing) > 0 {
		if len(missing) == 1 {
			return fmt.Errorf("%w; nothing deleted", captureNotFound(missing[0], s.Path()))
		}
		ids := make([]string, len(missing))
		for i, id := range missing {
			ids[i] = strconv.FormatInt(id, 10)
		}
		return fmt.Errorf("captures %s not found in %s; nothing deleted", strings.Join(ids, ", "), s.Path())
	}
	n, err := s.Delete(ctx, o.IDs...)
	if err != nil {
		return fmt.Errorf("deleting captures in %s: %w", s.Path(), err)
	}
	return o.reportRm(n, o.IDs)
}

func (o *capturesRmOptions) reportRm(n int, ids []int64) error {
	if o.JSON {
		if ids == nil {
			ids = []int64{}
		}
		return writeJSON(o.f.IO.Out, struct {
			Deleted int     `json:"deleted"`
			IDs     []int64 `json:"ids"`
		}{n, ids})
	}
	fmt.Fprintf(o.f.IO.ErrOut, "Deleted %s.\n", plural(n, "capture"))
	return nil
}

// ---- stats ----

type capturesStatsOptions struct {
	*capturesOptions
	JSON bool
}

func newCapturesStatsCmd(co *capturesOptions) *cobra.Command {
	o := &capturesStatsOptions{capturesOptions: co}
	c := &cobra.Command{
		Use:   "stats",
		Short: "Count captures by notification type, trust label and day, and say when the last arrived",
		Long: `Count the stored captures by notification type, by trust label and by day (UTC), and say how
long ago the last notification arrived (lastReceivedAt in --json; imports from Apple's history
do not count as arrivals).`,
		Example: `  s2s captures stats
  s2s captures stats --json | jq .byTrust`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runCapturesStats(cmd.Context(), o) },
	}
	c.Flags().BoolVar(&o.JSON, "json", false, "print the counts as JSON")
	return c
}

func runCapturesStats(ctx context.Context, o *capturesStatsOptions) error {
	st := store.Stats{ByType: map[string]int{}, ByTrust: map[string]int{}, ByDay: map[string]int{}}
	s, err := o.open()
	switch {
	case errors.Is(err, errCapNoStore):
	case err != nil:
		return err
	default:
		defer s.Close()
		if st, err = s.Stats(ctx); err != nil {
			return err
		}
	}
	ios := o.f.IO
	if o.JSON {
		return writeJSON(ios.Out, st)
	}
	bw := bufio.NewWriter(ios.Out)
	fmt.Fprintf(bw, "%s in %s\n", plural(st.Total, "capture"), o.path())
	// Silence is news to someone waiting for Apple: say how long it has lasted.
	if !st.LastReceivedAt.IsZero() {
		fmt.Fprintf(bw, "Last notification %s (%s)\n", store.AgoText(o.f.Now().Sub(st.LastReceivedAt)),
			st.LastReceivedAt.Local().Format("2006-01-02 15:04:05"))
	} else if st.Total > 0 {
		fmt.Fprintln(bw, "No notification has arrived here (only imports from Apple's history)")
	}
	section := func(title string, m map[string]int, keys []string, empty string) {
		if len(keys) == 0 {
			return
		}
		fmt.Fprintf(bw, "\n%s\n", title)
		width := 0
		for _, k := range keys { // types and labels come from payloads
			width = max(width, utf8.RuneCountInString(termsafe.String(cmp.Or(k, empty))))
		}
		for _, k := range keys {
			fmt.Fprintf(bw, "  %-*s  %d\n", width, termsafe.String(cmp.Or(k, empty)), m[k])
		}
	}
	section("By type", st.ByType, store.SortedKeys(st.ByType), "(none)")
	section("By trust label", st.ByTrust, store.SortedKeys(st.ByTrust), "(none)")
	section("By day (UTC)", st.ByDay, slices.Sorted(maps.Keys(st.ByDay)), "")
	return bw.Flush()
}
