package cmd

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/s2s-dev/s2s/appstore"
	"github.com/s2s-dev/s2s/fixtures"
	"github.com/s2s-dev/s2s/internal/paths"
	"github.com/s2s-dev/s2s/internal/state"
	"github.com/s2s-dev/s2s/internal/termsafe"
	"github.com/s2s-dev/s2s/internal/version"
	"github.com/s2s-dev/s2s/relay"
	"github.com/s2s-dev/s2s/sender"
)

// sendTestOptions are the flags of `s2s send-test` and what it gets from the process.
type sendTestOptions struct {
	f *Factory

	URL                   string
	Type, Subtype         string
	Scenario              string
	All                   bool
	List                  bool
	Sets                  []string
	BundleID              string
	Environment           string
	ProductID             string
	OriginalTransactionID string
	AppAppleID            int64
	Count, Concurrency    int
	Retry                 string
	RetryScale            float64
	Duplicate             bool
	PrintRoot             bool
	JSON                  bool
	CAFile                string

	Apple bool
	creds appleCredentials

	// Realtime is the URL of a Get Retention Message endpoint (Retention Messaging).
	Realtime       string
	RealtimeBudget time.Duration
}

const sendTestLong = `Sign realistic App Store Server Notifications (version 2) of any type and subtype with this
machine's s2s local test chain and POST them to URL the way the App Store does: the body
{"signedPayload": "<JWS>"} as JSON, success only for HTTP 200-206.

URL defaults to the running "s2s listen". Receivers that trust the s2s test root (s2s itself
does; print it with --print-root for your own server's test configuration) label these payloads
"simulated"; nothing signed here can pass for Apple's.

Each notification carries nested signedTransactionInfo and signedRenewalInfo (signed too), a
fresh notificationUUID and signedDate now. --scenario plays a subscription's life as a sequence of
notifications with consistent ids, dated so that the last one happens now; each scenario is one
customer, with the same originalTransactionId every time (see --list). Fields can be changed
with --bundle-id, --environment, --product-id, --original-transaction-id, --app-apple-id, and
--set PATH=VALUE on the payload and the signed objects inside it. A PATH starts with one of:
  notificationType, subtype, notificationUUID, version, signedDate   the top-level values
  notification.FIELD                 any top-level field
  data.FIELD, summary.FIELD, externalPurchaseToken.FIELD, appData.FIELD
  transaction.FIELD                  the payload of data.signedTransactionInfo
  renewalInfo.FIELD                  the payload of data.signedRenewalInfo
  appTransaction.FIELD               the payload of appData.signedAppTransactionInfo
VALUE is read as JSON when it is JSON (9990, true, "text", {"a":1}) and as text otherwise;
null removes the field.

Delivery like Apple's: --retry apple retries a failed attempt on Apple's production schedule
(+1h, +12h, +24h, +48h, +72h after the previous attempt) with the same notificationUUID,
compressed by --retry-scale (3600: an hour becomes a second). --duplicate sends the same body
twice, as Apple occasionally does. Each answer is reported with its latency; answers slower than
3s are flagged, since Apple wants an answer within a few seconds and gives up after about 30s.

Load mode: --count N --concurrency C sends N notifications with C senders and reports
throughput, latency percentiles and status counts (progress on stderr).

--apple asks Apple's App Store Server API for a real TEST notification to the URL configured in
App Store Connect, then reports each of Apple's send attempts.

--realtime URL sends Retention Messaging real-time requests (what Apple POSTs to your Get
Retention Message endpoint when a customer is about to cancel), signed for Sandbox unless
--environment Production; --set takes the request's fields (userLocale=ja-JP, productId=…,
originalTransactionId=…, request.FIELD=…). --realtime with --scenario NAME asks about that
scenario's customer at the end of its story: its originalTransactionId, the product it then holds
(after upgrade or downgrade, derived from --product-id: com.x becomes com.x.premium.monthly;
--set productId=... sets it exactly) and its locale, so "send-test --scenario billing-retry" followed by "send-test --realtime URL
--scenario billing-retry" are about one customer (only scenarios that end with a subscription to
cancel: --list marks them). Each answer is checked against Apple's response body
(exactly one of message, alternateProduct, promotionalOffer, advancedCommerceInfo; exact keys)
and timed against --realtime-budget (700ms, Apple's). With --count and --concurrency it reports
what Apple's performance test reports: success rate, average, p50, p90, p95, p99.

Exit status: 0 every notification was accepted (HTTP 200-206), 1 a notification was not
accepted or could not be sent, 2 usage. With --realtime: 0 every answer valid and within the
budget, 3 an answer invalid or too slow, 1 nothing could be sent.`

const sendTestExample = `  # A TEST notification to the running "s2s listen"
  s2s send-test

  # A renewal, to your own server
  s2s send-test https://localhost:3000/apple/notifications --type DID_RENEW

  # A refund of a specific price, in Production, for your bundle
  s2s send-test --type REFUND --bundle-id com.example.app \
      --environment Production \
      --set transaction.price=4990 --set transaction.currency=EUR

  # Auto-renew turned off, in the subscription's billing retry period
  s2s send-test --type DID_CHANGE_RENEWAL_STATUS --subtype AUTO_RENEW_DISABLED \
      --set renewalInfo.isInBillingRetryPeriod=true --set data.status=3

  # Play a subscription's life: subscribe, renew, turn auto-renew off, expire
  s2s send-test --scenario subscribe-renew-cancel

  # One of every type and subtype
  s2s send-test --all

  # What can be sent
  s2s send-test --list

  # Fail on purpose and watch the Apple-like retries, one second per hour
  s2s send-test http://localhost:9999/fails --retry apple --retry-scale 3600

  # A burst: 2000 renewals from 50 senders
  s2s send-test --type DID_RENEW --count 2000 --concurrency 50

  # The s2s test root, to trust in your server's test configuration
  s2s send-test --print-root > s2s-test-root.pem

  # A Retention Messaging real-time request to your endpoint, as Apple's performance test
  s2s send-test --realtime http://localhost:3000/apple/retention \
      --count 100 --concurrency 10

  # A customer in billing retry: their notifications, then their real-time request
  s2s send-test http://localhost:3000/apple/notifications \
      --scenario billing-retry
  s2s send-test --realtime http://localhost:3000/apple/retention \
      --scenario billing-retry

  # A real TEST notification from Apple (sandbox)
  s2s send-test --apple --bundle-id com.example.app --key-id ABC123DEFG \
      --issuer-id 57246542-96fe-1a63-e053-0824d011072a \
      --private-key SubscriptionKey_ABC123DEFG.p8`

func newSendTestCmd(f *Factory, runF func(*sendTestOptions) error) *cobra.Command {
	opts := &sendTestOptions{f: f}
	c := &cobra.Command{
		Use:     "send-test [URL]",
		Short:   "Send simulated App Store notifications of any type, or ask Apple for a real TEST",
		Long:    sendTestLong,
		Example: sendTestExample,
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.URL = args[0]
			}
			if runF != nil {
				return runF(opts)
			}
			return runSendTest(cmd.Context(), opts)
		},
	}
	opts.addFlags(c)
	opts.registerCompletions(c)
	return c
}

func (o *sendTestOptions) addFlags(c *cobra.Command) {
	fl := c.Flags()
	fl.StringVarP(&o.Type, "type", "t", "", "the notificationType to send (default TEST); see --list")
	fl.StringVarP(&o.Subtype, "subtype", "s", "", "the subtype (default: none, or the type's first subtype when it always has one)")
	fl.StringVar(&o.Scenario, "scenario", "", "play the named scenario, a sequence about one customer; with --realtime, a request about that customer; see --list")
	fl.BoolVar(&o.All, "all", false, "send one notification of every type and subtype")
	fl.BoolVar(&o.List, "list", false, "list the types, subtypes and scenarios, and the --set path roots")
	fl.StringArrayVar(&o.Sets, "set", nil, "set `PATH=VALUE` in the payload or its signed objects, e.g. transaction.price=9990 (repeatable)")
	fl.StringVar(&o.BundleID, "bundle-id", "", "bundle ID (default "+fixtures.DefaultBundleID+"; with --apple, $"+envBundleID+")")
	fl.StringVar(&o.Environment, "environment", "", "Sandbox or Production, any case (default Sandbox)")
	fl.StringVar(&o.ProductID, "product-id", "", "product ID (default "+fixtures.DefaultProductID+")")
	fl.StringVar(&o.OriginalTransactionID, "original-transaction-id", "", "original transaction ID (default: the scenario's customer's, else a new random one)")
	fl.Int64Var(&o.AppAppleID, "app-apple-id", 0, fmt.Sprintf("app Apple ID (default %d)", fixtures.DefaultAppAppleID))
	fl.IntVarP(&o.Count, "count", "n", 1, "load mode: send `N` notifications (with --realtime: N requests)")
	fl.IntVarP(&o.Concurrency, "concurrency", "c", 1, "load mode: with `C` concurrent senders")
	fl.StringVar(&o.Retry, "retry", "none", "retry failed attempts: none, or apple (Apple's production schedule)")
	fl.Float64Var(&o.RetryScale, "retry-scale", sender.DefaultRetryScale, "divide Apple's retry waits by `F` (3600: an hour becomes a second)")
	fl.BoolVar(&o.Duplicate, "duplicate", false, "send each body a second time, same notificationUUID, as Apple sometimes does")
	fl.BoolVar(&o.PrintRoot, "print-root", false, "print the s2s local test root certificate (PEM) and exit")
	fl.BoolVar(&o.JSON, "json", false, "print one JSON object per attempt (load mode: one report)")
	addCAFlag(fl, &o.CAFile)
	fl.BoolVar(&o.Apple, "apple", false, "ask Apple's App Store Server API for a real TEST notification")
	fl.StringVar(&o.Realtime, "realtime", "", "send Retention Messaging real-time requests to the Get Retention Message endpoint at `URL` and validate its answers")
	fl.DurationVar(&o.RealtimeBudget, "realtime-budget", sender.RealtimeBudget, "with --realtime: the time an answer must come within (Apple's)")
	o.creds.addFlags(fl)
	c.MarkFlagsMutuallyExclusive("type", "scenario", "all")
	c.MarkFlagsMutuallyExclusive("subtype", "scenario")
	c.MarkFlagsMutuallyExclusive("subtype", "all")
}

func (o *sendTestOptions) registerCompletions(c *cobra.Command) {
	_ = c.RegisterFlagCompletionFunc("type", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		var out []string
		for _, t := range fixtures.Types() {
			out = append(out, t.Type+"\t"+t.About)
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	})
	_ = c.RegisterFlagCompletionFunc("subtype", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return fixtures.SubtypeNames(o.Type), cobra.ShellCompDirectiveNoFileComp
	})
	_ = c.RegisterFlagCompletionFunc("scenario", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		var out []string
		for _, s := range fixtures.Scenarios() {
			if o.Realtime == "" || s.Realtime {
				out = append(out, s.Name+"\t"+s.About)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	})
	_ = c.RegisterFlagCompletionFunc("environment", cobra.FixedCompletions([]string{"Sandbox", "Production"}, cobra.ShellCompDirectiveNoFileComp))
	_ = c.RegisterFlagCompletionFunc("retry", cobra.FixedCompletions([]string{"none", "apple"}, cobra.ShellCompDirectiveNoFileComp))
}

func (o *sendTestOptions) overrides() fixtures.Overrides {
	return fixtures.Overrides{
		BundleID:              o.BundleID,
		Environment:           o.Environment, // fixtures reads it as decode.ParseServerEnvironment
		ProductID:             o.ProductID,
		OriginalTransactionID: o.OriginalTransactionID,
		AppAppleID:            o.AppAppleID,
		Sets:                  o.Sets,
	}
}

func (o *sendTestOptions) loadMode() bool { return o.Count > 1 || o.Concurrency > 1 }

func (o *sendTestOptions) validate() error {
	if o.Count < 1 || o.Concurrency < 1 {
		return usageErrorf("the values of --count and --concurrency must be at least 1")
	}
	switch o.Retry {
	case "none", "apple":
	default:
		return usageErrorf("unknown --retry %q: use none or apple", o.Retry)
	}
	if !(o.RetryScale > 0) {
		return usageErrorf("the value of --retry-scale must be greater than 0")
	}
	if o.Subtype != "" && o.Type == "" {
		return usageErrorf("a --subtype needs a --type")
	}
	if o.loadMode() {
		switch {
		case o.Scenario != "" || o.All:
			return usageErrorf("load mode (--count, --concurrency) sends one --type; it does not combine with --scenario or --all")
		case o.Retry != "none" || o.Duplicate:
			return usageErrorf("load mode (--count, --concurrency) measures single attempts; it does not combine with --retry or --duplicate")
		}
	}
	if o.Apple {
		if o.URL != "" || o.Type != "" || o.Scenario != "" || o.All || len(o.Sets) > 0 || o.loadMode() || o.Retry != "none" || o.Duplicate || o.PrintRoot {
			return usageErrorf("with --apple, Apple sends its own TEST notification to the URL set in App Store Connect, so send-test takes no URL and no --type, --scenario, --all, --set, --count, --retry, --duplicate or --print-root")
		}
		// As for history and probe --via-apple, so one set of exported variables serves all three.
		if o.BundleID == "" {
			o.BundleID = strings.TrimSpace(o.f.Getenv(envBundleID))
		}
		if o.BundleID == "" {
			return usageErrorf("with --apple, give --bundle-id (or %s): the app whose notification URL Apple should call", envBundleID)
		}
	}
	if err := fixtures.ParseSets(o.Sets); err != nil {
		return &UsageError{Err: err}
	}
	return nil
}

func runSendTest(ctx context.Context, opts *sendTestOptions) error {
	if opts.Realtime != "" {
		return runSendTestRealtime(ctx, opts)
	}
	if err := opts.validate(); err != nil {
		return err
	}
	ios := opts.f.IO
	switch {
	case opts.List:
		return printSendTestList(ios.Out, opts.JSON, helpWidth(opts.f))
	case opts.Apple:
		return runSendTestApple(ctx, opts)
	}
	chain, err := loadSendTestChain(opts.f)
	if err != nil {
		return err
	}
	if opts.PrintRoot {
		fmt.Fprintf(ios.ErrOut, "The s2s local test root (%s). Trust it only in test configurations:\nwhat it signs is simulated, never from Apple.\n", chain.RootPath())
		_, err := ios.Out.Write(chain.RootPEM())
		return err
	}
	// Sign everything before sending anything, so a bad --type or --set fails without side effects.
	batch, err := opts.sign(chain)
	if err != nil {
		return err
	}
	url, err := sendTestURL(opts)
	if err != nil {
		return err
	}
	snd, err := opts.newSender()
	if err != nil {
		return err
	}
	if opts.loadMode() {
		// Every notification after the first is signed afresh: its own notificationUUID and signedDate.
		o, typ := opts.overrides(), cmp.Or(opts.Type, "TEST")
		next := func() ([]byte, error) { return chain.Notification(typ, opts.Subtype, o) }
		return runSendTestLoad(ctx, opts, batch[0], next, url, snd)
	}
	return runSendTestBatch(ctx, opts, batch, url, snd)
}

// runSendTestApple asks Apple for its TEST notification (--apple) and reports its attempts.
func runSendTestApple(ctx context.Context, opts *sendTestOptions) error {
	env := cmp.Or(opts.Environment, fixtures.DefaultEnvironment) // read by appstore.ParseEnvironment
	result, err := runAppleTestNotification(ctx, opts.f, opts.creds, opts.BundleID, env, opts.f.IO.Out)
	if err != nil {
		return err
	}
	if result != appstore.ResultSuccess {
		return fmt.Errorf("Apple could not deliver the TEST notification: its last attempt ended %s", result)
	}
	return nil
}

// loadSendTestChain loads this machine's s2s test chain, creating it (and saying so) the first time.
func loadSendTestChain(f *Factory) (*fixtures.Chain, error) {
	configDir := paths.ConfigDir(f.Getenv)
	chain, err := fixtures.LoadChain(configDir)
	if !errors.Is(err, fs.ErrNotExist) {
		return chain, err
	}
	if chain, err = fixtures.LoadOrCreateChain(configDir); err != nil {
		return nil, err
	}
	fmt.Fprintf(f.IO.ErrOut, "Created the s2s local test signing chain in %s (its root: %s).\n", chain.Path(), chain.RootPath())
	return chain, nil
}

// sign signs what the flags ask for: a scenario's notifications, one of every type, or one.
func (o *sendTestOptions) sign(chain *fixtures.Chain) ([]*fixtures.Signed, error) {
	ov := o.overrides()
	var batch []*fixtures.Signed
	var err error
	switch {
	case o.Scenario != "":
		batch, err = chain.Scenario(o.Scenario, ov)
	case o.All:
		for _, comb := range fixtures.Combinations() {
			s, berr := chain.Build(comb.Type, comb.Subtype, ov)
			if berr != nil {
				err = berr
				break
			}
			batch = append(batch, s)
		}
	default:
		var s *fixtures.Signed
		s, err = chain.Build(cmp.Or(o.Type, "TEST"), o.Subtype, ov)
		batch = []*fixtures.Signed{s}
	}
	return batch, fixturesError(err)
}

// fixturesError makes a fixtures.InputError (a bad --type, --set, --scenario…) a usage error.
func fixturesError(err error) error {
	if ie := (*fixtures.InputError)(nil); errors.As(err, &ie) {
		return &UsageError{Err: err}
	}
	return err
}

// newSender is the sender of send-test: the process's client when it brings its own transport (a
// test's), with Apple's own timeout rather than the client's; otherwise the sender builds one
// (with the --ca trust, and enough idle connections for a burst).
func (o *sendTestOptions) newSender() (*sender.Sender, error) {
	roots, err := trustedCAs(o.f, o.CAFile)
	if err != nil {
		return nil, err
	}
	snd := &sender.Sender{UserAgent: sendTestUserAgent(), RootCAs: roots}
	if o.f.HTTPClient != nil {
		hc := *o.f.HTTPClient()
		hc.Timeout = 0
		if hc.Transport != nil {
			snd.Client = &hc
		}
	}
	return snd, nil
}

func sendTestURL(opts *sendTestOptions) (string, error) {
	if opts.URL != "" {
		if !strings.HasPrefix(opts.URL, "http://") && !strings.HasPrefix(opts.URL, "https://") {
			// listen --forward-to takes these short forms, so users try them here too.
			if _, err := strconv.ParseUint(opts.URL, 10, 16); err == nil {
				return "", usageErrorf("the URL must start with http:// or https:// (got %q); did you mean http://127.0.0.1:%s/?", opts.URL, opts.URL)
			}
			if !strings.Contains(opts.URL, "://") {
				return "", usageErrorf("the URL must start with http:// or https:// (got %q); did you mean http://%s?", opts.URL, opts.URL)
			}
			return "", usageErrorf("the URL must start with http:// or https:// (got %q)", opts.URL)
		}
		return opts.URL, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	running, err := state.Running(ctx, paths.ListenersDir(opts.f.Getenv))
	if err != nil {
		return "", err
	}
	l, others, err := state.Choose(running)
	if err != nil {
		return "", errors.New("no URL given and no running `s2s listen` found: start `s2s listen` in another terminal, or give the URL to send to")
	}
	if len(others) > 0 {
		noteOtherListeners(opts.f.IO.ErrOut, l, others)
	}
	return l.URL, nil
}

// attemptJSON is one line of --json output.
type attemptJSON struct {
	Type             string  `json:"notificationType"`
	Subtype          string  `json:"subtype,omitempty"`
	NotificationUUID string  `json:"notificationUUID"`
	URL              string  `json:"url"`
	Attempt          int     `json:"attempt"`
	Duplicate        bool    `json:"duplicate,omitempty"`
	Status           int     `json:"status,omitempty"`
	Outcome          string  `json:"outcome"`
	OK               bool    `json:"ok"`
	LatencyMs        float64 `json:"latencyMs"`
	Slow             bool    `json:"slow,omitempty"`
	NextRetryMs      float64 `json:"nextRetryMs,omitempty"`
	Error            string  `json:"error,omitempty"`
}

func runSendTestBatch(ctx context.Context, opts *sendTestOptions, batch []*fixtures.Signed, url string, snd *sender.Sender) error {
	ios := opts.f.IO
	retry := sender.Retry{Scale: opts.RetryScale}
	if opts.Retry == "apple" {
		retry.Schedule = sender.AppleRetrySchedule()
	}
	if !opts.JSON {
		fmt.Fprintf(ios.ErrOut, "Sending %s to %s, signed by the s2s local test chain (simulated).\n", plural(len(batch), "notification"), url)
	}
	rep := &batchReporter{opts: opts, url: url, enc: jsonEncoder(ios.Out)}
	for _, s := range batch {
		rep.width = max(rep.width, len(signedLabel(s)))
	}
	var failed int
	for _, s := range batch {
		if err := ctx.Err(); err != nil {
			return err
		}
		results := snd.Deliver(ctx, url, s.Body, retry, func(r sender.Result, next time.Duration) {
			rep.report(s, r, next)
		})
		last := results[len(results)-1]
		if opts.Duplicate && ctx.Err() == nil {
			d := snd.Send(ctx, url, s.Body)
			d.Attempt, d.Duplicate = last.Attempt, true
			rep.report(s, d, 0)
			if !d.OK() {
				failed++
			}
		}
		if !last.OK() {
			failed++
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if failed > 0 {
		if !opts.JSON {
			fmt.Fprintf(ios.ErrOut, "%s not accepted by %s.\n", plural(failed, "delivery was", "deliveries were"), url)
		}
		return &SilentError{Code: ExitError}
	}
	return nil
}

// batchReporter prints each attempt of a batch: a line (or a JSON object) on stdout, what went
// wrong and what Apple would do about it on stderr.
type batchReporter struct {
	opts      *sendTestOptions
	url       string
	enc       *json.Encoder
	width     int  // of the widest TYPE/SUBTYPE label
	explained bool // Apple's retry policy was told once
}

func (b *batchReporter) report(s *fixtures.Signed, r sender.Result, next time.Duration) {
	if b.opts.JSON {
		a := attemptJSON{Type: s.Type, Subtype: s.Subtype, NotificationUUID: s.NotificationUUID, URL: b.url,
			Attempt: r.Attempt, Duplicate: r.Duplicate, Status: r.Status, Outcome: r.Outcome(), OK: r.OK(),
			LatencyMs: millis(r.Latency), Slow: r.Slow(), NextRetryMs: millis(next)}
		if r.Err != nil {
			a.Error = relay.Explain(r.Err, b.url, sender.AppleTimeout)
		}
		_ = b.enc.Encode(a)
	} else {
		b.line(s, r)
	}
	b.explain(r, next)
}

// line is the human line of one attempt.
func (b *batchReporter) line(s *fixtures.Signed, r sender.Result) {
	var notes []string
	if r.Attempt > 1 {
		notes = append(notes, fmt.Sprintf("retry %d of %d", r.Attempt-1, len(sender.AppleRetrySchedule())))
	}
	if r.Duplicate {
		notes = append(notes, "duplicate")
	}
	if !r.OK() {
		notes = append(notes, "not accepted")
	}
	if r.Slow() {
		notes = append(notes, "SLOW")
	}
	line := fmt.Sprintf("%-*s  %s  %-3s  %7s", b.width, signedLabel(s), s.NotificationUUID, r.StatusKey(), latencyText(r.Latency))
	if len(notes) > 0 {
		line += "  " + strings.Join(notes, ", ")
	}
	fmt.Fprintln(b.opts.f.IO.Out, line)
}

// explain says on stderr what went wrong with an attempt and what Apple does next.
func (b *batchReporter) explain(r sender.Result, next time.Duration) {
	errOut, opts := b.opts.f.IO.ErrOut, b.opts
	if r.Err != nil {
		fmt.Fprintf(errOut, "  %s: %s\n", r.Outcome(), termsafe.String(relay.Explain(r.Err, b.url, sender.AppleTimeout)))
	} else if !r.OK() && strings.TrimSpace(r.Response) != "" {
		fmt.Fprintf(errOut, "  the receiver answered %d: %s\n", r.Status, oneLine(r.Response, 160))
	}
	if r.Slow() {
		fmt.Fprintf(errOut, "  warning: the receiver took %s to answer. Apple wants an answer within a few seconds and gives up after about %s (TIMED_OUT, then retries); acknowledge first, process later.\n", latencyText(r.Latency), sender.AppleTimeout)
	}
	switch {
	case next > 0:
		fmt.Fprintf(errOut, "  Apple would retry in %s; retrying in %s (--retry-scale %g)\n", hoursText(sender.AppleRetrySchedule()[r.Attempt-1]), next.Round(time.Millisecond), opts.RetryScale)
	case !r.OK() && opts.Retry == "apple" && !r.Duplicate && r.Attempt > len(sender.AppleRetrySchedule()):
		fmt.Fprintf(errOut, "  Apple gives up after %d attempts; the notification stays available through Get Notification History.\n", r.Attempt)
	case !r.OK() && opts.Retry == "none" && !b.explained:
		b.explained = true
		fmt.Fprintln(errOut, "  Apple counts any answer but 200-206 as a failure and, in Production, retries after 1h, 12h, 24h, 48h and 72h (--retry apple replays that).")
	}
}

func runSendTestLoad(ctx context.Context, opts *sendTestOptions, first *fixtures.Signed, next func() ([]byte, error), url string, snd *sender.Sender) error {
	ios := opts.f.IO
	snd.MaxConns = opts.Concurrency
	if !opts.JSON {
		fmt.Fprintf(ios.ErrOut, "Sending %d × %s to %s with %d concurrent senders (simulated).\n", opts.Count, signedLabel(first), url, opts.Concurrency)
	}
	rep, err := snd.Load(ctx, url, sender.LoadOptions{
		Count: opts.Count, Concurrency: opts.Concurrency, Progress: loadProgress(ios, opts.Count), Every: time.Second,
		Body: func(i int) ([]byte, error) {
			if i == 0 {
				return first.Body, nil
			}
			return next()
		},
	})
	if err != nil && rep.Sent == 0 {
		return err
	}
	if perr := printLoadReport(ios, opts.JSON, url, first, rep); perr != nil {
		return perr
	}
	if rep.Slow > 0 {
		fmt.Fprintf(ios.ErrOut, "warning: %d answers took %s or more; Apple wants an answer within a few seconds and gives up after about %s.\n", rep.Slow, sender.SlowThreshold, sender.AppleTimeout)
	}
	if err != nil {
		return err
	}
	if rep.Failed > 0 {
		return &SilentError{Code: ExitError}
	}
	return nil
}

// loadProgress reports a burst's progress on stderr: one updated line on a terminal, a line per
// report otherwise.
func loadProgress(ios *IOStreams, count int) func(done, ok, failed int) {
	lastDone := -1
	return func(done, ok, failed int) {
		if done == lastDone {
			return
		}
		lastDone = done
		if ios.IsStderrTTY() {
			fmt.Fprintf(ios.ErrOut, "\r%d/%d sent, %d accepted, %d not accepted", done, count, ok, failed)
			if done == count {
				fmt.Fprintln(ios.ErrOut)
			}
			return
		}
		fmt.Fprintf(ios.ErrOut, "%d/%d sent, %d accepted, %d not accepted\n", done, count, ok, failed)
	}
}

// printLoadReport prints a burst's figures on stdout, as text or as one JSON object.
func printLoadReport(ios *IOStreams, asJSON bool, url string, first *fixtures.Signed, rep sender.LoadReport) error {
	if asJSON {
		out := struct {
			URL     string `json:"url"`
			Type    string `json:"notificationType"`
			Subtype string `json:"subtype,omitempty"`
			sender.LoadReport
			ElapsedMs float64            `json:"elapsedMs"`
			Latency   map[string]float64 `json:"latencyMs"`
		}{url, first.Type, first.Subtype, rep, millis(rep.Elapsed), map[string]float64{
			"p50": millis(rep.P50), "p90": millis(rep.P90), "p99": millis(rep.P99), "max": millis(rep.Max)}}
		return jsonEncoder(ios.Out).Encode(out)
	}
	var st []string
	for _, k := range slices.Sorted(maps.Keys(rep.Statuses)) {
		st = append(st, fmt.Sprintf("%s × %d", k, rep.Statuses[k]))
	}
	fmt.Fprintf(ios.Out, "sent      %d of %d in %s (%.1f/s)\n", rep.Sent, rep.Count, rep.Elapsed.Round(time.Millisecond), rep.Throughput)
	fmt.Fprintf(ios.Out, "accepted  %d, not accepted %d\n", rep.OK, rep.Failed)
	fmt.Fprintf(ios.Out, "latency   p50 %s  p90 %s  p99 %s  max %s\n", latencyText(rep.P50), latencyText(rep.P90), latencyText(rep.P99), latencyText(rep.Max))
	fmt.Fprintf(ios.Out, "answers   %s\n", strings.Join(st, ", "))
	return nil
}

// printSendTestList prints the types, scenarios and --set roots, wrapped to width columns as help
// is: the subtypes and descriptions are long enough that one row per type used to be 195 columns.
func printSendTestList(w io.Writer, asJSON bool, width int) error {
	if asJSON {
		return jsonEncoder(w).Encode(struct {
			Types     []fixtures.TypeInfo     `json:"types"`
			Scenarios []fixtures.ScenarioInfo `json:"scenarios"`
			SetRoots  []fixtures.SetRoot      `json:"setRoots"`
		}{fixtures.Types(), fixtures.Scenarios(), fixtures.SetRoots()})
	}
	l := &listWriter{width: width}
	l.types()
	l.lines = append(l.lines, "")
	l.scenarios()
	l.lines = append(l.lines, "")
	l.setRoots()
	_, err := io.WriteString(w, strings.Join(l.lines, "\n")+"\n")
	return err
}

// listWriter lays out send-test --list: rows of a name and words wrapped under themselves.
type listWriter struct {
	width int
	lines []string
}

// row puts name in a column col wide and words after it, wrapped under themselves.
func (l *listWriter) row(col int, name string, words []string) {
	ls := wrapWords(words, l.width, col, col)
	if len(name)+2 > col || len(ls) == 0 {
		l.lines = append(l.lines, name)
	} else {
		ls[0] = name + ls[0][len(name):]
	}
	l.lines = append(l.lines, ls...)
}

// below puts words on lines of their own, indented under the name.
func (l *listWriter) below(indent int, words []string) {
	l.lines = append(l.lines, wrapWords(words, l.width, indent, indent)...)
}

// col is the name column for names: the longest and two spaces, at most half the width.
func (l *listWriter) col(names []string) int {
	n := 0
	for _, s := range names {
		n = max(n, len(s))
	}
	return min(n+2, l.width/2)
}

func (l *listWriter) types() {
	types := fixtures.Types()
	var names []string
	for _, t := range types {
		names = append(names, t.Type)
	}
	col := l.col(names)
	l.row(col, "TYPE", []string{"SUBTYPES,", "and", "what", "it", "means"})
	for _, t := range types {
		var subs []string
		for _, s := range t.Subtypes {
			subs = append(subs, cmp.Or(s, "(none)"))
		}
		l.row(col, t.Type, subs)
		l.below(4, strings.Fields(t.About))
	}
}

// scenarios lists each scenario with its steps and its customer: the originalTransactionId every
// play of it uses, the locale, and whether --realtime can ask about it.
func (l *listWriter) scenarios() {
	var names []string
	for _, sc := range fixtures.Scenarios() {
		names = append(names, sc.Name)
	}
	col := l.col(names)
	l.row(col, "SCENARIO", []string{"ABOUT"})
	for _, sc := range fixtures.Scenarios() {
		var steps []string
		for i, st := range sc.Steps {
			if i > 0 {
				steps = append(steps, "→")
			}
			steps = append(steps, st.String())
		}
		l.row(col, sc.Name, strings.Fields(sc.About))
		l.below(col+2, steps)
		customer := fmt.Sprintf("customer: originalTransactionId %s, locale %s;", sc.OriginalTransactionID, sc.UserLocale)
		if sc.Realtime {
			customer += " --realtime asks about them"
		} else {
			customer += " nothing left to cancel (no --realtime)"
		}
		l.below(col+2, strings.Fields(customer))
	}
}

func (l *listWriter) setRoots() {
	var names []string
	for _, r := range fixtures.SetRoots() {
		names = append(names, r.Name)
	}
	col := l.col(append(names, "--set ROOT"))
	l.row(col, "--set ROOT", []string{"ABOUT"})
	for _, r := range fixtures.SetRoots() {
		l.row(col, r.Name, strings.Fields(r.About))
	}
}

func signedLabel(s *fixtures.Signed) string {
	if s.Subtype == "" {
		return s.Type
	}
	return s.Type + "/" + s.Subtype
}

// hoursText prints Apple's whole-hour waits as "12h" rather than "12h0m0s".
func hoursText(d time.Duration) string {
	if d%time.Hour == 0 {
		return fmt.Sprintf("%dh", d/time.Hour)
	}
	return d.String()
}

func millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func latencyText(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.2fs", d.Seconds())
	case d >= 10*time.Millisecond:
		return fmt.Sprintf("%dms", d.Milliseconds())
	default:
		return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000)
	}
}

// plural is "1 capture", "2 captures"; forms[1], when given, is the plural's own spelling.
func plural(n int, forms ...string) string {
	one, many := forms[0], forms[0]+"s"
	if len(forms) > 1 {
		many = forms[1]
	}
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// oneLine is the start of a receiver's answer on one line: its whitespace folded, the rest
// made terminal-safe (the answer is the receiver's own text) and cut after n characters.
func oneLine(s string, n int) string {
	return termsafe.Limit(strings.Join(strings.Fields(s), " "), n)
}

// sendTestUserAgent names s2s as the sender of simulated notifications, so a receiver's logs tell
// them from Apple's.
func sendTestUserAgent() string {
	return "s2s/" + version.Get().Version + " (send-test; simulated App Store Server Notifications)"
}

// noteOtherListeners says, when several s2s listen/hub run, which one a bare send-test chose and
// how to send to another (give its URL).
func noteOtherListeners(w io.Writer, chosen state.Listener, others []state.Listener) {
	why := "the most recently started"
	if chosen.Hub {
		why = "the running s2s hub; its listeners get what it receives"
	}
	fmt.Fprintf(w, "s2s send-test: sending to %s (%s); also running:", termsafe.String(chosen.URL), why)
	for _, l := range others {
		kind := "listen"
		switch {
		case l.Hub:
			kind = "hub"
		case l.HubFed:
			kind = "listen --hub"
		}
		fmt.Fprintf(w, " %s (%s)", termsafe.String(l.URL), kind)
	}
	fmt.Fprintln(w, "; give a URL to send to another one")
}
