package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/s2s-dev/s2s/decode"
	"github.com/s2s-dev/s2s/fixtures"
	"github.com/s2s-dev/s2s/internal/paths"
	"github.com/s2s-dev/s2s/internal/state"
	"github.com/s2s-dev/s2s/internal/termsafe"
	"github.com/s2s-dev/s2s/relay"
	"github.com/s2s-dev/s2s/store"
)

// replayOptions are the flags of `s2s replay` and what it gets from the process.
type replayOptions struct {
	f *Factory

	IDs                               []int64
	Type, Subtype, Environment, Trust []string // repeatable: alternatives
	Filter                            string
	Since, Until                      string
	Limit                             int
	To                                string
	Resign                            bool
	Sets                              []string
	KeepUUID                          bool
	Rate                              string
	AllTargets                        bool
	DryRun                            bool
	JSON                              bool
	StorePath                         string
	Timeout                           time.Duration
	CAFile                            string
}

func newReplayCmd(f *Factory, runF func(*replayOptions) error) *cobra.Command {
	o := &replayOptions{f: f}
	c := &cobra.Command{
		Use:   "replay [CAPTURE-ID...] [--type T --since TIME ...] [--to URL]",
		Short: "Send stored notifications again, byte for byte or edited and re-signed",
		Long: `Send captured notifications again: to your server after you fixed it, to a new build, or to
another environment. Name captures by ID (as "s2s captures list" shows them), or select them
with filters (--type, --subtype, --env, --trust, --since, --until; all must match; --limit caps
how many). They are sent oldest first, one at a time, at most --rate per second.

By default the exact bytes Apple sent are sent again, with the original Content-Type and
User-Agent, and X-S2S-Capture-Id, X-S2S-Trust and X-S2S-Replay: true headers. An Apple payload
cannot be edited without breaking Apple's signature, so --resign --set PATH=VALUE decodes the
payload, applies the edits and signs it again with this machine's s2s test chain: receivers that
trust that chain (s2s does) label it "simulated". A re-signed notification gets a new
notificationUUID and signedDate unless --keep-uuid (what Apple's own retries look like).
PATH is as in "s2s send-test --help", e.g. data.status=2 or transaction.price=9990.

--to is where to send (3000, 3000/path, /path or a URL, as --forward-to in listen). Without it,
they go to the --forward-to targets of the running "s2s listen" whose rules take them, and only
to those that have not accepted them yet (--all-targets: to all of them). A forward retry that
listen has scheduled for the same capture and target is taken over: the replay is that
delivery, made now, and the retry is not made as well (if the replay fails, the retry stays
scheduled). A running listen without --forward-to targets gets them itself: it stores them
again, as if Apple had sent them once more.

Each send is recorded as a replay delivery of its capture. At the end a summary says how many
were sent, succeeded and failed, and why each failure failed; the exit status is 1 if any failed.`,
		Example: `  # Send capture 12 again to your server on port 3000
  s2s replay 12 --to 3000/apple/notifications

  # Every REFUND of the last day, to a staging server, two per second
  s2s replay --type REFUND --since 24h --to https://staging.example.com/apple --rate 2/s

  # What would be sent, without sending
  s2s replay --env Sandbox --type DID_RENEW --limit 5 --to 3000 --dry-run

  # The same renewal, but as a billing-retry failure (re-signed, so it is "simulated")
  s2s replay 12 --resign --set notificationType=DID_FAIL_TO_RENEW --set subtype=null --to 3000

  # Rehearse Apple's retry of capture 12: the same bytes again, through the running listener
  # (stored as a duplicate of #12 and forwarded to its targets)
  s2s replay 12`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ids, err := parseCaptureIDs(args)
			if err != nil {
				return err
			}
			o.IDs = append(o.IDs, ids...)
			if runF != nil {
				return runF(o)
			}
			return runReplay(cmd.Context(), o)
		},
	}
	fl := c.Flags()
	fl.StringVar(&o.To, "to", "", "where to send: 3000, 3000/path, /path or a URL (default: the running s2s listen)")
	fl.StringArrayVar(&o.Type, "type", nil, "only this notificationType, or TYPE/SUBTYPE (DID_RENEW, REFUND, ...; repeatable)")
	fl.StringArrayVar(&o.Subtype, "subtype", nil, "only this subtype (INITIAL_BUY, VOLUNTARY, ...; repeatable)")
	fl.StringArrayVar(&o.Environment, "env", nil, "only this environment: Sandbox, Production, Xcode, LocalTesting (repeatable)")
	fl.StringArrayVar(&o.Trust, "trust", nil, "only this trust label: verified, simulated, unsigned-xcode, legacy-v1, invalid (repeatable)")
	fl.StringVar(&o.Filter, "filter", "", "terms of the filter grammar, as in the TUI: 'type:REFUND env:prod product:yearly'")
	fl.StringVar(&o.Since, "since", "", "received at or after TIME (RFC 3339, date, or duration like 1h, 7d)")
	fl.StringVar(&o.Until, "until", "", "received before TIME (RFC 3339, date, or duration like 1h)")
	fl.IntVar(&o.Limit, "limit", 100, "at most N captures selected by filters (the newest N)")
	fl.BoolVar(&o.Resign, "resign", false, "decode, apply --set edits and sign again with the local test chain")
	fl.StringArrayVar(&o.Sets, "set", nil, "with --resign: PATH=VALUE edit of the payload (repeatable)")
	fl.BoolVar(&o.KeepUUID, "keep-uuid", false, "with --resign: keep the notificationUUID and dates, like Apple's retries")
	fl.StringVar(&o.Rate, "rate", "", "at most N sends per second, minute or hour: 5/s, 30/m (default: no limit)")
	fl.BoolVar(&o.AllTargets, "all-targets", false, "without --to: also to the listener's targets that have already accepted the capture")
	fl.BoolVar(&o.DryRun, "dry-run", false, "list what would be sent and send nothing")
	fl.BoolVar(&o.JSON, "json", false, "print the results (or the --dry-run list) as one JSON object")
	fl.StringVar(&o.StorePath, "store", "", "capture store (default $S2S_STORE or the user data directory)")
	fl.DurationVar(&o.Timeout, "timeout", relay.DefaultTimeout, "how long the target may take to answer each send")
	addCAFlag(fl, &o.CAFile)
	_ = c.RegisterFlagCompletionFunc("env", cobra.FixedCompletions([]string{"Sandbox", "Production", "Xcode"}, cobra.ShellCompDirectiveNoFileComp))
	_ = c.RegisterFlagCompletionFunc("trust", cobra.FixedCompletions(store.TrustLabels(), cobra.ShellCompDirectiveNoFileComp))
	return c
}

// replayResult is one capture's outcome, and one item of --json output.
type replayResult struct {
	CaptureID   int64           `json:"captureId"`
	Type        string          `json:"notificationType,omitempty"`
	Subtype     string          `json:"subtype,omitempty"`
	Environment string          `json:"environment,omitempty"`
	Trust       string          `json:"trust"`
	BodySize    int             `json:"bodySize"`
	Resigned    bool            `json:"resigned,omitempty"`
	Target      string          `json:"target,omitempty"`   // where it went (or would go)
	Delivery    *store.Delivery `json:"delivery,omitempty"` // nil on --dry-run or when nothing was sent
	Skipped     string          `json:"skipped,omitempty"`  // why it was not sent there (already accepted, ...)
	TookOver    bool            `json:"tookOverRetry,omitempty"`
	Error       string          `json:"error,omitempty"`
}

// replaySummary is the --json output.
type replaySummary struct {
	To        string         `json:"to"`
	DryRun    bool           `json:"dryRun,omitempty"`
	Sent      int            `json:"sent"`
	Succeeded int            `json:"succeeded"`
	Failed    int            `json:"failed"`
	Skipped   int            `json:"skipped"`
	Results   []replayResult `json:"results"`
}

func (o *replayOptions) filter() (store.Filter, bool, error) {
	if o.Limit <= 0 {
		return store.Filter{}, false, usageErrorf("invalid --limit %d: use a positive number", o.Limit)
	}
	flt, err := captureSelection(o.f.Now(), []selectionFlag{
		{"type", "type", o.Type}, {"subtype", "subtype", o.Subtype}, {"env", "env", o.Environment}, {"trust", "trust", o.Trust},
	}, o.Filter, o.Since, o.Until)
	if err != nil {
		return flt, false, err
	}
	flt.Limit = o.Limit
	filtered := flt.Selective() || o.Since != "" || o.Until != ""
	return flt, filtered, nil
}

func runReplay(ctx context.Context, o *replayOptions) error {
	flt, every, dest, err := o.check()
	if err != nil {
		return err
	}
	storePath := captureStorePath(o.f, o.StorePath)
	if dest.store != "" && o.StorePath == "" {
		storePath = dest.store // the pending retries to take over are in listen's store
	}
	st, err := openExistingStore(storePath)
	if errors.Is(err, errNoStore) {
		return fmt.Errorf("no captures yet: %s does not exist (\"s2s listen\" creates it)", storePath)
	}
	if err != nil {
		return err
	}
	defer st.Close()

	caps, err := o.selectCaptures(ctx, st, flt)
	if err != nil {
		return err
	}
	o.warnLimitCut(ctx, st, flt, len(caps))
	if len(caps) == 0 {
		return o.reportNoCaptures(dest.label, storePath, flt)
	}
	run, err := o.newReplayRun(dest, st, storePath, every, caps)
	if err != nil {
		return err
	}
	for _, c := range caps {
		run.replayCapture(ctx, &c)
		if ctx.Err() != nil {
			break
		}
	}
	return run.finish(ctx, len(caps))
}

// check reads the flags that select and shape a replay; every mistake is a usage error found
// before the store is opened.
func (o *replayOptions) check() (flt store.Filter, every time.Duration, dest replayDestination, err error) {
	flt, filtered, err := o.filter()
	if err != nil {
		return flt, 0, dest, err
	}
	switch {
	case len(o.IDs) == 0 && !filtered:
		return flt, 0, dest, usageErrorf("name the captures to replay by ID (s2s replay 12 13), or select them with filters (--filter, --type, --subtype, --env, --trust, --since, --until)")
	case len(o.IDs) > 0 && filtered:
		return flt, 0, dest, usageErrorf("give capture IDs or filters, not both")
	case !o.Resign && (len(o.Sets) > 0 || o.KeepUUID):
		return flt, 0, dest, usageErrorf("--set and --keep-uuid edit and re-sign the payload: add --resign")
	}
	if err := fixtures.ParseSets(o.Sets); err != nil {
		return flt, 0, dest, &UsageError{Err: err}
	}
	if every, err = relay.ParseRate(o.Rate); err != nil {
		return flt, 0, dest, usageErrorf("invalid --rate: %v", err)
	}
	dest, err = o.destination()
	return flt, every, dest, err
}

// warnLimitCut says when --limit left out older captures that match: a replay after an outage
// must not drop the oldest in silence.
func (o *replayOptions) warnLimitCut(ctx context.Context, st *store.Store, flt store.Filter, selected int) {
	if len(o.IDs) != 0 || selected != o.Limit {
		return
	}
	if n, err := st.Count(ctx, flt); err == nil && n > selected {
		fmt.Fprintf(o.f.IO.ErrOut, "%d captures match; only the newest %d are selected (--limit %d): --limit %d selects them all.\n", n, selected, o.Limit, n)
	}
}

// reportNoCaptures is the outcome of a selection that matched nothing: not an error.
func (o *replayOptions) reportNoCaptures(to, storePath string, flt store.Filter) error {
	ios := o.f.IO
	if o.JSON {
		return writeJSON(ios.Out, replaySummary{To: to, DryRun: o.DryRun, Results: []replayResult{}})
	}
	fmt.Fprintf(ios.ErrOut, "No captures match in %s; nothing sent.\n", storePath)
	for _, t := range flt.UnknownTypes() {
		fmt.Fprintf(ios.ErrOut, "%s is not a notificationType Apple documents; s2s send-test --list shows them.\n", t)
	}
	return nil
}

// replayRun is a replay under way: how it sends, and the tally so far.
type replayRun struct {
	o            *replayOptions
	dest         replayDestination
	storePath    string
	chain        *fixtures.Chain // with --resign: the local test chain that signs again
	replayer     *relay.Replayer
	pacer        *relay.Pacer
	table        *tabwriter.Writer // a human --dry-run: one table, flushed at the end
	cols         columnWidths      // result lines are printed as they come, in columns sized up front
	sum          replaySummary
	recordWarned bool // the store refused to record a replay once: said once
}

// newReplayRun loads what sending needs (the test chain for --resign, the trusted CAs) and says
// where the captures go.
func (o *replayOptions) newReplayRun(dest replayDestination, st *store.Store, storePath string, every time.Duration, caps []store.Capture) (*replayRun, error) {
	run := &replayRun{
		o: o, dest: dest, storePath: storePath, cols: replayColumns(caps),
		sum: replaySummary{To: dest.label, DryRun: o.DryRun, Results: []replayResult{}},
	}
	if o.Resign {
		chain, err := fixtures.LoadDefault(o.f.Getenv)
		if err != nil {
			return nil, fmt.Errorf("loading the local test chain: %w", err)
		}
		run.chain = chain
	}
	if !o.JSON {
		o.announce(dest)
	}
	poster := &relay.Poster{Timeout: o.Timeout, Now: o.f.Now}
	if roots, err := trustedCAs(o.f, o.CAFile); err != nil {
		return nil, err
	} else if roots != nil {
		poster.Client = relay.NewClientTrusting(roots)
	}
	run.replayer = &relay.Replayer{Store: st, Poster: poster, SkipAccepted: dest.listenTargets && !o.AllTargets, Now: o.f.Now}
	run.pacer = &relay.Pacer{Every: every}
	if !o.JSON && o.DryRun {
		run.table = tabwriter.NewWriter(o.f.IO.Out, 0, 0, 2, ' ', 0)
	}
	return run, nil
}

// announce says, when the destination is not a plain --to, what the listener will do with them.
func (o *replayOptions) announce(dest replayDestination) {
	w := o.f.IO.ErrOut
	switch {
	case dest.viaListener:
		fmt.Fprintf(w, "Sending to the running s2s listen at %s: it stores them again (it has no --forward-to targets).\n", dest.label)
	case dest.listenTargets && o.AllTargets:
		fmt.Fprintf(w, "Sending to %s, also where already accepted.\n", dest.label)
	case dest.listenTargets:
		fmt.Fprintf(w, "Sending to %s, except where already accepted (--all-targets sends there too).\n", dest.label)
	}
}

// replayCapture sends c to each of its targets (or, on --dry-run, lists them).
func (run *replayRun) replayCapture(ctx context.Context, c *store.Capture) {
	base, body, meta := run.prepare(c)
	targets := run.dest.targetsFor(c)
	if len(targets) == 0 {
		r := base
		r.Skipped = fmt.Sprintf("not sent: no --forward-to target of s2s listen takes capture %d (%s %s); give --to", c.ID, orDash(c.Environment), orDash(c.Type))
		run.sum.Skipped++
		run.sum.Results = append(run.sum.Results, r)
		if !run.o.JSON && !run.o.DryRun {
			printReplayResult(run.o.f.IO.Out, r, run.cols, run.dest.listenTargets)
		}
		return
	}
	for _, target := range targets {
		r := base
		r.Target = target
		if run.o.DryRun {
			run.sum.Results = append(run.sum.Results, r)
			if run.table != nil {
				printReplayPlan(run.table, r, target, run.o)
			}
			continue
		}
		if r.Error == "" {
			if err := run.pacer.Wait(ctx); err != nil {
				return
			}
			run.send(ctx, c, body, target, meta, &r)
		}
		run.tally(r)
		if ctx.Err() != nil {
			return
		}
	}
}

// prepare is what is sent for c: its stored bytes, or with --resign the edited payload signed
// again; base is the result every target of c starts from (with the error that stops it being sent).
func (run *replayRun) prepare(c *store.Capture) (base replayResult, body []byte, meta relay.Meta) {
	base = replayResult{CaptureID: c.ID, Type: c.Type, Subtype: c.Subtype, Environment: string(c.Environment), Trust: string(c.Trust), BodySize: len(c.Body)}
	body = c.Body
	meta = relay.Meta{Replay: true, Attempt: 1}
	if _, err := decode.ReadBody(c.Body); err != nil {
		// A body stored before bodies were read with exact keys may carry a label it no
		// longer earns: the header never says more than the body's reading allows.
		meta.Trust = decode.LabelInvalid
	}
	if run.o.Resign {
		base.Resigned = true
		resigned, err := run.chain.Resign(c.Body, run.o.Sets, run.o.KeepUUID)
		if err != nil {
			base.Error = fmt.Sprintf("cannot re-sign capture %d: %v", c.ID, err)
		} else {
			body, base.BodySize, meta.Trust = resigned, len(resigned), decode.LabelSimulated
		}
	}
	return base, body, meta
}

// send makes one delivery of body to target and records its outcome in r.
func (run *replayRun) send(ctx context.Context, c *store.Capture, body []byte, target string, meta relay.Meta, r *replayResult) {
	out, err := run.replayer.Replay(ctx, c, body, target, meta)
	if err != nil && !run.recordWarned {
		run.recordWarned = true
		fmt.Fprintf(run.o.f.IO.ErrOut, "s2s: replays are not recorded in %s: %s\n", run.storePath, errorText(err))
	}
	r.Skipped, r.TookOver, r.Delivery = out.Skipped, out.TookOver, out.Delivery
	if d := out.Delivery; d != nil {
		run.sum.Sent++
		if d.State != store.DeliverySucceeded {
			r.Error = d.Error
		}
	}
}

// tally counts r and prints its line.
func (run *replayRun) tally(r replayResult) {
	switch {
	case r.Skipped != "":
		run.sum.Skipped++
	case r.Error == "":
		run.sum.Succeeded++
	default:
		run.sum.Failed++
	}
	run.sum.Results = append(run.sum.Results, r)
	if !run.o.JSON {
		printReplayResult(run.o.f.IO.Out, r, run.cols, run.dest.listenTargets)
	}
}

// finish prints the summary (or the JSON, or the dry run's count) and turns the outcome into the
// exit status: interrupted, 1 when any send failed, else 0.
func (run *replayRun) finish(ctx context.Context, selected int) error {
	ios, sum := run.o.f.IO, run.sum
	if run.table != nil {
		run.table.Flush()
	}
	if run.o.JSON {
		if err := writeJSON(ios.Out, sum); err != nil {
			return err
		}
	} else if !run.o.DryRun {
		printReplaySummary(ios.ErrOut, sum)
	} else {
		fmt.Fprintf(ios.ErrOut, "Dry run: %d would be sent to %s; nothing sent.\n", len(sum.Results), sum.To)
	}
	if ctx.Err() != nil {
		if !run.o.DryRun {
			fmt.Fprintf(ios.ErrOut, "Interrupted: %d of %d not sent.\n", selected-len(sum.Results), selected)
		}
		return &SilentError{Code: ExitInterrupted}
	}
	if sum.Failed > 0 {
		return &SilentError{Code: ExitError}
	}
	return nil
}

// replayDestination is where a replay goes.
type replayDestination struct {
	label string // for messages and the JSON "to"
	// urls are the targets: --to, the running listener, or the listener's --forward-to targets.
	urls []relay.Target
	// listenTargets: urls are listen's --forward-to targets; their rules apply, and a target that
	// already accepted a capture is skipped unless --all-targets.
	listenTargets bool
	viaListener   bool   // the listener itself, which has no targets: it stores them again
	store         string // the listener's store, when sending to its targets
}

// targetsFor lists the URLs c goes to, each once.
func (d replayDestination) targetsFor(c *store.Capture) []string {
	var urls []string
	for _, t := range d.urls {
		if (!d.listenTargets || t.Matches(c)) && !slices.Contains(urls, t.URL) {
			urls = append(urls, t.URL)
		}
	}
	return urls
}

// destination resolves --to, or, when it is omitted, the running listener's --forward-to targets
// (or the listener itself when it has none).
func (o *replayOptions) destination() (replayDestination, error) {
	if o.To != "" {
		if o.AllTargets {
			return replayDestination{}, usageErrorf("--all-targets is for the targets of the running s2s listen; with --to the replay goes to that URL")
		}
		u, err := relay.NormalizeURL(o.To)
		if err != nil {
			return replayDestination{}, usageErrorf("invalid --to: %v", err)
		}
		return replayDestination{label: u, urls: []relay.Target{{URL: u}}}, nil
	}
	l, err := state.Read(paths.ListenersDir(o.f.Getenv))
	if errors.Is(err, state.ErrNoListener) {
		return replayDestination{}, usageErrorf("no --to given and no running `s2s listen` found: give --to (e.g. --to 3000/apple), or start s2s listen with --forward-to")
	}
	if err != nil {
		return replayDestination{}, err
	}
	if len(l.Forward) == 0 {
		return replayDestination{label: l.URL, urls: []relay.Target{{URL: l.URL}}, viaListener: true}, nil
	}
	d := replayDestination{listenTargets: true, store: l.Store}
	var names []string
	for _, spec := range l.Forward {
		t, err := relay.ParseTarget(spec)
		if err != nil {
			return replayDestination{}, fmt.Errorf("the running s2s listen's target: %w", err)
		}
		d.urls = append(d.urls, t)
		names = append(names, t.URL)
	}
	d.label = "the targets of s2s listen (" + strings.Join(names, ", ") + ")"
	return d, nil
}

// selectCaptures loads the captures to send with their bodies, oldest first.
func (o *replayOptions) selectCaptures(ctx context.Context, st *store.Store, flt store.Filter) ([]store.Capture, error) {
	ids := o.IDs
	if len(ids) == 0 {
		// The newest --limit, sent in the order they arrived.
		list, err := st.List(ctx, flt)
		if err != nil {
			return nil, err
		}
		for i := len(list) - 1; i >= 0; i-- {
			ids = append(ids, list[i].ID)
		}
	}
	caps := make([]store.Capture, 0, len(ids))
	for _, id := range ids {
		c, err := st.Get(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return nil, captureNotFound(id, st.Path())
		}
		if err != nil {
			return nil, err
		}
		caps = append(caps, *c)
	}
	return caps, nil
}

// printable is r for a person to read: its fields come from the stored payload, its error may
// quote the target's answer.
func (r replayResult) printable() replayResult {
	r.Type, r.Subtype, r.Environment = termsafe.String(r.Type), termsafe.String(r.Subtype), termsafe.String(r.Environment)
	r.Trust, r.Error = termsafe.String(r.Trust), termsafe.String(r.Error)
	r.Target, r.Skipped = termsafe.String(r.Target), termsafe.String(r.Skipped)
	if r.Delivery != nil {
		d := r.Delivery.Printable()
		r.Delivery = &d
	}
	return r
}

func kindOf(r replayResult) string {
	k := orDash(r.Type)
	if r.Subtype != "" {
		k += "/" + r.Subtype
	}
	return k
}

func printReplayPlan(w io.Writer, r replayResult, to string, o *replayOptions) {
	r, to = r.printable(), termsafe.String(to)
	what := "as stored"
	if r.Resigned {
		what = "re-signed"
		if len(o.Sets) > 0 {
			what += " with " + strings.Join(o.Sets, ", ")
		}
		if o.KeepUUID {
			what += ", same notificationUUID"
		} else {
			what += ", new notificationUUID"
		}
	}
	if r.Error != "" {
		what = "cannot send: " + r.Error
	}
	fmt.Fprintf(w, "#%d\t%s\t%s\t%s\t%d bytes\t→ %s\t%s\n", r.CaptureID, kindOf(r), orDash(r.Environment), orDash(r.Trust), r.BodySize, to, what)
}

// columnWidths are the widths of the ID, kind and environment columns of result lines.
type columnWidths struct{ id, kind, env int }

func replayColumns(caps []store.Capture) columnWidths {
	var w columnWidths
	for _, c := range caps {
		r := replayResult{CaptureID: c.ID, Type: c.Type, Subtype: c.Subtype, Environment: string(c.Environment)}.printable()
		w.id = max(w.id, len(fmt.Sprintf("#%d", c.ID)))
		w.kind = max(w.kind, len(kindOf(r)))
		w.env = max(w.env, len(orDash(r.Environment)))
	}
	return w
}

// printReplayResult prints one line per capture: ID, kind, environment, status (or failed),
// latency, and why it failed.
func printReplayResult(w io.Writer, r replayResult, cols columnWidths, showTarget bool) {
	r = r.printable()
	outcome := "not sent  " + r.Error
	if r.Skipped != "" {
		outcome = "skipped  " + r.Skipped
	}
	if d := r.Delivery; d != nil {
		status := "failed"
		if d.Status != 0 {
			status = fmt.Sprintf("%d", d.Status)
		}
		outcome = fmt.Sprintf("%-6s  %s", status, d.Latency.Round(100*time.Microsecond))
		if d.State != store.DeliverySucceeded {
			outcome += "  " + d.Error
		} else if r.TookOver {
			outcome += "  (in place of listen's pending retry)"
		}
	}
	if showTarget && r.Target != "" {
		outcome = "→ " + r.Target + "  " + outcome
	}
	fmt.Fprintf(w, "%-*s  %-*s  %-*s  %s\n", cols.id, fmt.Sprintf("#%d", r.CaptureID), cols.kind, kindOf(r), cols.env, orDash(r.Environment), outcome)
}

func printReplaySummary(w io.Writer, sum replaySummary) {
	skipped := ""
	if sum.Skipped > 0 {
		skipped = fmt.Sprintf(", %d skipped", sum.Skipped)
	}
	fmt.Fprintf(w, "Replayed to %s: %d sent, %d succeeded, %d failed%s.\n", termsafe.String(sum.To), sum.Sent, sum.Succeeded, sum.Failed, skipped)
	for _, r := range sum.Results {
		if r.Error != "" {
			fmt.Fprintf(w, "  #%d: %s\n", r.CaptureID, termsafe.String(r.Error))
		}
	}
}
