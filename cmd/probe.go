package cmd

import (
	"context"
	"crypto/x509"
	"fmt"
	"io"
	"strings"
	"time"

	"charm.land/lipgloss/v2"
	"github.com/spf13/cobra"

	"github.com/s2s-dev/s2s/appstore"
	"github.com/s2s-dev/s2s/decode"
	"github.com/s2s-dev/s2s/fixtures"
	"github.com/s2s-dev/s2s/internal/termsafe"
	"github.com/s2s-dev/s2s/internal/version"
	"github.com/s2s-dev/s2s/probe"
	"github.com/s2s-dev/s2s/sender"
)

type probeOptions struct {
	f *Factory

	URL         string
	Timeout     time.Duration
	CAFile      string
	Retries     int
	JSON        bool
	ViaApple    bool
	BundleID    string
	Environment string
	Apple       appleCredentials

	// Realtime probes a Get Retention Message endpoint (Retention Messaging) with a signed
	// real-time request, timed against RealtimeBudget.
	Realtime       bool
	RealtimeBudget time.Duration
}

func newProbeCmd(f *Factory, runF func(*probeOptions) error) *cobra.Command {
	opts := &probeOptions{f: f}
	c := &cobra.Command{
		Use:   "probe URL",
		Short: "Check a notification URL the way Apple delivers, and say what Apple would record",
		Long: `Probe runs the checks Apple's delivery makes against a notification URL, from this machine:
the URL's form, DNS, the TCP connection, a TLS handshake restricted to what App Transport
Security allows (TLS 1.2 or 1.3, forward-secret ECDHE suites), the certificate (trusted chain,
host name, expiry, SHA-256 or better, RSA >= 2048 or EC >= 256 bits), then a POST of a simulated
TEST notification signed by this machine's s2s test chain, without following redirects. The
answer must be a status in 200-206 within the timeout.

Each step prints a tick (✓), a warning (!) or a cross (✗) with its timing, and a fix for
anything that is not a tick. The verdict is the sendAttemptResult value Apple would record:
SUCCESS, TIMED_OUT, TLS_ISSUE, CIRCULAR_REDIRECT, NO_RESPONSE, SOCKET_ISSUE,
UNSUPPORTED_CHARSET, INVALID_RESPONSE, PREMATURE_CLOSE, UNSUCCESSFUL_HTTP_RESPONSE_CODE or OTHER.

A loopback or private address is a warning, not a failure, so a local HTTPS receiver can be
probed too: trust its certificate authority with --ca.

With --via-apple, s2s also asks Apple (App Store Server API) to send a real TEST notification
to the URL configured in App Store Connect for --bundle-id, and prints Apple's recorded result
beside the local verdict.

With --realtime, URL is a Retention Messaging "Get Retention Message" endpoint: the same
transport checks, then a POST of a real-time request signed by the s2s test chain (as send-test
--realtime signs it, for --environment), cut at --realtime-budget (700ms, Apple's) as Apple cuts
it. SUCCESS then means what Apple needs: HTTP 200 with a valid response body (exactly one of
message, alternateProduct, promotionalOffer, advancedCommerceInfo, Apple's exact keys) within
the budget; TIMED_OUT an answer over the budget; INVALID_RESPONSE a body Apple cannot use;
UNSUCCESSFUL_HTTP_RESPONSE_CODE any status but 200.

Exit status: 0 when Apple would record SUCCESS (and, with --via-apple, Apple did), 3 otherwise,
1 when the probe could not run, 2 for bad flags.`,
		Example: `  # Check a public notification URL
  s2s probe https://example.com/apple/notifications

  # A local HTTPS receiver whose certificate comes from a development CA
  s2s probe https://localhost:8443/apple --ca ./dev-ca.pem

  # Only the verdict, for a script
  s2s probe https://example.com/apple/notifications --json | jq -r .verdict

  # Give a flaky server two more chances and ten seconds each
  s2s probe https://example.com/apple/notifications --retries 2 --timeout 10s

  # A Retention Messaging endpoint: transport, a timed real-time request, its answer
  s2s probe --realtime https://example.com/apple/retention

  # Compare with what Apple itself records
  s2s probe https://example.com/apple/notifications --via-apple \
      --bundle-id com.example.app --environment Sandbox --key-id ABC123DEFG \
      --issuer-id 57246542-96fe-1a63-e053-0824d011072a \
      --private-key ./AuthKey_ABC123DEFG.p8`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.URL = args[0]
			if runF != nil {
				return runF(opts)
			}
			return runProbe(cmd.Context(), opts)
		},
	}
	fl := c.Flags()
	fl.DurationVar(&opts.Timeout, "timeout", probe.DefaultTimeout, "time allowed for each attempt, from the DNS lookup to the end of the answer")
	addCAFlag(fl, &opts.CAFile)
	fl.IntVar(&opts.Retries, "retries", 0, "retry up to N times after NO_RESPONSE, SOCKET_ISSUE, TIMED_OUT or a 5xx")
	fl.BoolVar(&opts.JSON, "json", false, "print the report as JSON")
	fl.BoolVar(&opts.ViaApple, "via-apple", false, "also ask Apple to send a real TEST notification and show its recorded result")
	fl.StringVar(&opts.BundleID, "bundle-id", "", "the app's bundle ID (for the simulated notification, and required by --via-apple; env S2S_BUNDLE_ID)")
	fl.StringVar(&opts.Environment, "environment", "Sandbox", "Sandbox or Production")
	fl.BoolVar(&opts.Realtime, "realtime", false, "probe a Retention Messaging Get Retention Message endpoint with a timed, signed real-time request")
	fl.DurationVar(&opts.RealtimeBudget, "realtime-budget", sender.RealtimeBudget, "with --realtime: the time the whole answer must come within (Apple's)")
	opts.Apple.addFlags(fl)
	fl.Lookup("apple-wait").Usage = "with --via-apple, how long to wait for Apple to record its send attempt"
	return c
}

func runProbe(ctx context.Context, opts *probeOptions) error {
	f := opts.f
	if err := opts.check(); err != nil {
		return err
	}
	var extra []*x509.Certificate
	if path := caFile(f, opts.CAFile); path != "" {
		var err error
		if extra, err = readCAFile("--ca", path); err != nil {
			return err
		}
	}
	body, err := probeBody(f, opts)
	if err != nil {
		return err
	}

	po := probe.Options{
		URL:        opts.URL,
		Body:       body,
		Timeout:    opts.Timeout,
		ExtraRoots: extra,
		Retries:    opts.Retries,
		Now:        f.Now,
		UserAgent:  "s2s-probe/" + version.Get().Version,
	}
	if opts.Realtime {
		po.Realtime = &probe.Realtime{Budget: opts.RealtimeBudget}
	}
	report := probe.Run(ctx, po)
	if err := ctx.Err(); err != nil {
		return err
	}

	if !opts.JSON {
		writeProbeReport(f.IO.Out, report, f.IO.ColorOut())
	}
	if opts.ViaApple {
		return opts.compareWithApple(ctx, report)
	}
	if opts.JSON {
		if err := writeJSON(f.IO.Out, report); err != nil {
			return err
		}
	}
	if !report.OK() {
		return &ResultError{Err: fmt.Errorf("Apple would record %s", report.Verdict), Silent: true}
	}
	return nil
}

// check reads the flags (and $S2S_BUNDLE_ID); every mistake is a usage error found before
// anything is sent.
func (opts *probeOptions) check() error {
	if opts.Timeout <= 0 {
		return usageErrorf("the --timeout must be positive, not %s", opts.Timeout)
	}
	if opts.Retries < 0 {
		return usageErrorf("the number of --retries must be 0 or more, not %d", opts.Retries)
	}
	env, ok := decode.ParseServerEnvironment(opts.Environment)
	if !ok {
		return usageErrorf("the --environment must be Sandbox or Production, not %q", opts.Environment)
	}
	opts.Environment = string(env)
	if opts.BundleID == "" {
		opts.BundleID = opts.f.Getenv(envBundleID)
	}
	if opts.Realtime {
		if opts.ViaApple {
			return usageErrorf("--via-apple asks Apple for a TEST notification; it does not combine with --realtime (Apple offers no test of a real-time URL but the sandbox performance test)")
		}
		if opts.RealtimeBudget <= 0 {
			return usageErrorf("the value of --realtime-budget must be greater than 0 (Apple's is %s)", sender.RealtimeBudget)
		}
	}
	if opts.ViaApple && opts.BundleID == "" {
		return usageErrorf("asking Apple (--via-apple) needs --bundle-id (or %s): Apple sends the TEST notification to that app's configured URL", envBundleID)
	}
	return nil
}

// compareWithApple (--via-apple) asks Apple for a TEST notification and sets what Apple recorded
// beside the local verdict; the probe succeeds only when both say success.
func (opts *probeOptions) compareWithApple(ctx context.Context, report *probe.Report) error {
	f := opts.f
	apple := &appleProbeResult{BundleID: opts.BundleID, Environment: opts.Environment}
	progress := f.IO.Out
	if opts.JSON {
		progress = f.IO.ErrOut
	} else {
		fmt.Fprintln(f.IO.Out)
	}
	var err error
	apple.Result, err = runAppleTestNotification(ctx, f, opts.Apple, opts.BundleID, opts.Environment, progress)
	if err != nil {
		apple.Error = err.Error()
	}
	if opts.JSON {
		if werr := writeJSON(f.IO.Out, probeJSON{Report: report, Apple: apple}); werr != nil {
			return werr
		}
	} else {
		writeAppleComparison(f.IO.Out, report, apple)
	}
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("asking Apple for a TEST notification: %w", err)
	}
	if !report.OK() || apple.Result != probe.Success {
		return &ResultError{Err: fmt.Errorf("local verdict %s, Apple recorded %s", report.Verdict, apple.Result), Silent: true}
	}
	return nil
}

// probeBody is a TEST notification signed by this machine's test chain: the body shape Apple
// sends, which a receiver can decode (and, trusting the test root, verify as "simulated"). With
// --realtime it is a real-time request, signed as send-test --realtime signs one.
func probeBody(f *Factory, opts *probeOptions) ([]byte, error) {
	chain, err := fixtures.LoadDefault(f.Getenv)
	if err != nil {
		return nil, fmt.Errorf("loading the local test signing chain: %w", err)
	}
	if opts.Realtime {
		r, err := chain.RealtimeRequest(fixtures.Overrides{Environment: opts.Environment})
		if err != nil {
			return nil, fmt.Errorf("signing the real-time request: %w", err)
		}
		return r.Body, nil
	}
	body, err := chain.Notification("TEST", "", fixtures.Overrides{BundleID: opts.BundleID, Environment: opts.Environment})
	if err != nil {
		return nil, fmt.Errorf("signing the TEST notification: %w", err)
	}
	return body, nil
}

// appleProbeResult is what Apple recorded for its own TEST notification.
type appleProbeResult struct {
	BundleID    string                     `json:"bundleId"`
	Environment string                     `json:"environment"`
	Result      appstore.SendAttemptResult `json:"sendAttemptResult,omitempty"`
	Error       string                     `json:"error,omitempty"`
}

// probeJSON is the report with Apple's result beside it (--via-apple --json).
type probeJSON struct {
	*probe.Report
	Apple *appleProbeResult `json:"apple,omitempty"`
}

// probeStyles colour the probe's report; the zero value prints plain text.
type probeStyles struct{ ok, warn, bad, dim, bold lipgloss.Style }

func newProbeStyles(color bool) probeStyles {
	if !color {
		return probeStyles{}
	}
	return probeStyles{
		ok:   lipgloss.NewStyle().Foreground(lipgloss.Green),
		warn: lipgloss.NewStyle().Foreground(lipgloss.Yellow),
		bad:  lipgloss.NewStyle().Foreground(lipgloss.Red),
		dim:  lipgloss.NewStyle().Faint(true),
		bold: lipgloss.NewStyle().Bold(true),
	}
}

// writeProbeReport prints one line per step, a fix under each warning or failure, then the verdict.
// Details and reasons quote what the server answered (headers, body, certificate names): every
// text goes through termsafe, before any colour.
func writeProbeReport(w io.Writer, r *probe.Report, color bool) {
	ts := termsafe.String
	st := newProbeStyles(color)
	titleWidth := 0
	for _, s := range r.Steps {
		titleWidth = max(titleWidth, len([]rune(s.Title)))
	}
	indent := strings.Repeat(" ", 4+titleWidth+2+8+2)
	if r.Realtime != nil {
		fmt.Fprintf(w, "Probing %s (real-time request, budget %s)\n\n", ts(r.URL), time.Duration(r.Realtime.Budget))
	} else {
		fmt.Fprintf(w, "Probing %s\n\n", ts(r.URL))
	}
	for _, s := range r.Steps {
		mark := map[probe.Status]string{probe.StatusOK: st.ok.Render("✓"), probe.StatusWarn: st.warn.Render("!"), probe.StatusFail: st.bad.Render("✗")}[s.Status]
		dur := ""
		if s.Duration > 0 {
			dur = s.Duration.String()
		}
		title := s.Title + strings.Repeat(" ", titleWidth-len([]rune(s.Title)))
		fmt.Fprintf(w, "  %s %s  %s  %s\n", mark, ts(title), st.dim.Render(fmt.Sprintf("%8s", dur)), ts(s.Detail))
		if s.Fix != "" && s.Status != probe.StatusOK {
			fmt.Fprintf(w, "%sfix: %s\n", indent, ts(s.Fix))
		}
	}
	verdict := string(r.Verdict)
	if r.HTTPStatus != 0 && r.Verdict != probe.Success {
		verdict += fmt.Sprintf(" (HTTP %d)", r.HTTPStatus)
	}
	verdictStyle := st.ok
	if !r.OK() {
		verdictStyle = st.bad
	}
	fmt.Fprintf(w, "\nVerdict: %s  %s\n", verdictStyle.Inherit(st.bold).Render(ts(verdict)), ts(r.Meaning))
	if !r.OK() {
		fmt.Fprintf(w, "Reason:  %s\n", ts(r.Reason))
		if r.Fix != "" {
			fmt.Fprintf(w, "Fix:     %s\n", ts(r.Fix))
		}
	} else if n := r.Warnings(); n > 0 {
		fmt.Fprintf(w, "%d warning%s above: Apple would deliver, but read them.\n", n, map[bool]string{true: "", false: "s"}[n == 1])
	}
	if r.Realtime != nil {
		writeProbeRealtimeAnswer(w, r.Realtime)
	}
	if len(r.Attempts) > 1 {
		parts := make([]string, len(r.Attempts))
		for i, a := range r.Attempts {
			parts[i] = string(a.Verdict)
			if a.HTTPStatus != 0 && a.Verdict != probe.Success {
				parts[i] += fmt.Sprintf(" (%d)", a.HTTPStatus)
			}
		}
		fmt.Fprintf(w, "Attempts: %s\n", ts(strings.Join(parts, ", ")))
	}
}

func writeAppleComparison(w io.Writer, r *probe.Report, a *appleProbeResult) {
	fmt.Fprintln(w)
	fmt.Fprintf(w, "Local probe:  %s\n", termsafe.String(string(r.Verdict)))
	if a.Error != "" {
		fmt.Fprintf(w, "Apple:        (no result: %s)\n", termsafe.String(a.Error))
		return
	}
	fmt.Fprintf(w, "Apple:        %s  (to the URL configured in App Store Connect for %s, %s)\n", termsafe.String(string(a.Result)),
		termsafe.String(a.BundleID), termsafe.String(a.Environment))
	switch {
	case a.Result == r.Verdict:
		fmt.Fprintln(w, "They agree.")
	case a.Result == probe.Success && !r.OK():
		fmt.Fprintln(w, "They differ: Apple delivered, so the probed URL may not be the configured one, or the local failure is specific to this machine (a --ca trust, the test chain's signature refused by the receiver).")
	default:
		fmt.Fprintln(w, "They differ: check that the probed URL is the one configured in App Store Connect for this environment.")
	}
}

// writeProbeRealtimeAnswer prints the body a real-time endpoint answered, made terminal-safe and
// cut as send-test cuts it; bytes that are not UTF-8 are only counted (--json has them exactly).
func writeProbeRealtimeAnswer(w io.Writer, ra *probe.RealtimeAnswer) {
	switch {
	case ra.Answer != nil && *ra.Answer != "":
		fmt.Fprintf(w, "Answer:\n%s\n", indentLines(termsafe.Text(cutAnswer(*ra.Answer)), "  "))
	case ra.AnswerBase64 != "":
		b, _ := ra.AnswerJSON.Bytes()
		fmt.Fprintf(w, "Answer:  %d bytes that are not UTF-8 text (--json has them, base64)\n", len(b))
	}
}
