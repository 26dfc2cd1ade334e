package cmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/s2s-dev/s2s/appstore"
	"github.com/s2s-dev/s2s/decode"
	"github.com/s2s-dev/s2s/fixtures"
	"github.com/s2s-dev/s2s/internal/termsafe"
	"github.com/s2s-dev/s2s/store"
)

type historyOptions struct {
	f     *Factory
	creds appleCredentials

	BundleID     string
	Environment  string
	Since, Until string
	Type         string
	Subtype      string
	Transaction  string
	OnlyFailures bool
	JSON         bool
	Import       bool
	StorePath    string
}

func newHistoryCmd(f *Factory, runF func(*historyOptions) error) *cobra.Command {
	opts := &historyOptions{f: f}
	c := &cobra.Command{
		Use:   "history --since TIME [--until TIME] [filters]",
		Short: "Apple's record of the notifications it sent, with every send attempt",
		Long: `history asks Apple's App Store Server API (Get Notification History) which notifications it
sent for an app in a time range, and how each delivery attempt went (SUCCESS, TIMED_OUT,
TLS_ISSUE, …). Apple keeps 180 days of history in Production and 30 days in Sandbox, and retries
a failed notification only in Production, so this is how a missed notification is found again.

Each signed payload is verified and decoded; --import also puts it into the store as a capture
(method IMPORT, path /history), labelled by its real verification, so "s2s replay" can send a
missed notification to your server. Notifications already in the store are not imported twice.

Times are a duration back from now (90m, 24h, 7d), RFC 3339, or a date. Apple's rules are checked
before any request: --subtype needs --type, and --transaction cannot be combined with --type.

The In-App Purchase key comes from --key-id, --issuer-id and --private-key, or from
S2S_KEY_ID, S2S_ISSUER_ID and S2S_PRIVATE_KEY; --bundle-id from S2S_BUNDLE_ID.`,
		Example: `  # What did Apple send to the sandbox URL in the last day?
  s2s history --since 24h --bundle-id com.example.app

  # Production notifications that never reached the server this week, imported for replay
  s2s history --since 7d --environment Production --only-failures --import

  # Everything about one customer's subscription, as JSON lines
  s2s history --since 30d --transaction 2000000123456789 --json

  # Refunds only
  s2s history --since 2026-11-01 --until 2026-11-15 --type REFUND --environment Production`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(opts)
			}
			return runHistory(c.Context(), opts)
		},
	}
	fl := c.Flags()
	fl.StringVar(&opts.BundleID, "bundle-id", "", "the app's bundle ID (default $"+envBundleID+")")
	fl.StringVar(&opts.Environment, "environment", "Sandbox", "Sandbox or Production")
	fl.StringVar(&opts.Since, "since", "", "start of the range (required): 24h, 7d, RFC 3339 or a date")
	fl.StringVar(&opts.Until, "until", "", "end of the range (default now)")
	fl.StringVar(&opts.Type, "type", "", "only this notificationType (REFUND, DID_RENEW, …)")
	fl.StringVar(&opts.Subtype, "subtype", "", "only this subtype (needs --type)")
	fl.StringVar(&opts.Transaction, "transaction", "", "only notifications about the customer with this transaction `ID`")
	fl.BoolVar(&opts.OnlyFailures, "only-failures", false, "only notifications that never reached the server (including ones Apple still retries)")
	fl.BoolVar(&opts.JSON, "json", false, "one JSON object per notification")
	fl.BoolVar(&opts.Import, "import", false, "store each notification as a capture so it can be replayed")
	fl.StringVar(&opts.StorePath, "store", "", "capture store for --import (default $S2S_STORE or the user data directory)")
	opts.creds.addKeyFlags(fl)
	_ = c.RegisterFlagCompletionFunc("environment", cobra.FixedCompletions([]string{"Sandbox", "Production"}, cobra.ShellCompDirectiveNoFileComp))
	_ = c.RegisterFlagCompletionFunc("type", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return fixtures.TypeNames(), cobra.ShellCompDirectiveNoFileComp
	})
	_ = c.RegisterFlagCompletionFunc("subtype", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return fixtures.SubtypeNames(opts.Type), cobra.ShellCompDirectiveNoFileComp
	})
	return c
}

// request turns the flags into Apple's request, checking Apple's rules first.
func (o *historyOptions) request(now time.Time, errOut io.Writer) (appstore.NotificationHistoryRequest, decode.Environment, error) {
	var req appstore.NotificationHistoryRequest
	env, err := appstore.ParseEnvironment(o.Environment)
	if err != nil {
		return req, "", usageErrorf("invalid --environment: %v", err)
	}
	if o.Since == "" {
		return req, "", usageErrorf("history needs --since: Apple answers only for a time range (for example --since 24h)")
	}
	since, err := historyParseTime(o.Since, now)
	if err != nil {
		return req, "", usageErrorf("invalid --since %q: %v", o.Since, err)
	}
	until := now
	if o.Until != "" {
		if until, err = historyParseTime(o.Until, now); err != nil {
			return req, "", usageErrorf("invalid --until %q: %v", o.Until, err)
		}
	}
	// "--since 30d" in Sandbox means "all Apple has": by the time the request arrives that start
	// would be a moment too old for Apple, so a start just past the limit is moved inside it.
	oldest := now.Add(-appstore.HistoryRetention(env))
	if since.Before(oldest.Add(time.Minute)) && !since.Before(oldest.Add(-24*time.Hour)) {
		since = oldest.Add(time.Minute)
		fmt.Fprintf(errOut, "Starting at %s, the oldest history Apple keeps in %s.\n", since.UTC().Format(time.RFC3339), env)
	}
	req = appstore.NotificationHistoryRequest{
		StartDate:           appstore.ToMillis(since),
		EndDate:             appstore.ToMillis(until),
		NotificationType:    strings.ToUpper(o.Type),
		NotificationSubtype: strings.ToUpper(o.Subtype),
		TransactionID:       o.Transaction,
		OnlyFailures:        o.OnlyFailures,
	}
	if err := req.Validate(env, now); err != nil {
		return req, "", &UsageError{Err: err}
	}
	return req, env, nil
}

// historyRow is one notification as --json prints it.
type historyRow struct {
	Notification  decode.Summary       `json:"notification"`
	SendAttempts  []historyAttemptJSON `json:"sendAttempts"`
	Delivered     bool                 `json:"delivered"`
	CaptureID     int64                `json:"captureId,omitempty"`
	Imported      bool                 `json:"imported,omitempty"`
	SignedPayload string               `json:"signedPayload"`
}

type historyAttemptJSON struct {
	AttemptDate       time.Time                  `json:"attemptDate"`
	SendAttemptResult appstore.SendAttemptResult `json:"sendAttemptResult"`
	Meaning           string                     `json:"meaning"`
}

func runHistory(ctx context.Context, o *historyOptions) error {
	ios := o.f.IO
	now := o.f.Now()
	if o.BundleID == "" {
		o.BundleID = strings.TrimSpace(o.f.Getenv(envBundleID))
	}
	req, env, err := o.request(now, ios.ErrOut)
	if err != nil {
		return err
	}
	client, _, err := o.creds.appleClient(o.f, "history", o.BundleID, string(env), ios.ErrOut)
	if err != nil {
		return err
	}
	l := &historyListing{o: o, env: env, host: apiHost(client), verifier: appleVerifier(o.f, o.BundleID, env), seen: map[appstore.SendAttemptResult]bool{}}
	if o.Import {
		if l.st, err = store.Open(captureStorePath(o.f, o.StorePath)); err != nil {
			return fmt.Errorf("opening the store for --import: %w", err)
		}
		defer l.st.Close()
	}
	l.tw = tabwriter.NewWriter(ios.Out, 0, 4, 2, ' ', 0)
	l.enc = jsonEncoder(ios.Out)
	if !o.JSON {
		header := "SIGNED (UTC)\tTYPE\tTRUST\tSEND ATTEMPTS"
		if o.Import {
			header += "\tCAPTURE"
		}
		fmt.Fprintln(l.tw, header)
	}
	fmt.Fprintf(ios.ErrOut, "Asking Apple (%s, %s) for notifications from %s to %s…\n", env, o.BundleID,
		req.StartDate.Time().Format(time.RFC3339), req.EndDate.Time().Format(time.RFC3339))
	err = client.NotificationHistory(ctx, req, func(n int, page *appstore.NotificationHistoryResponse) error {
		return l.page(ctx, n, page)
	})
	// A failure before the first page leaves only the error: an empty table would read as "Apple
	// sent nothing".
	if !o.JSON && (err == nil || l.total > 0) {
		if ferr := l.tw.Flush(); err == nil {
			err = ferr
		}
	}
	if err != nil {
		return err
	}
	if !o.JSON && len(l.seen) > 0 {
		writeResultLegend(ios.Out, l.seen)
	}
	fmt.Fprintln(ios.ErrOut, l.summary()+".")
	return nil
}

// historyListing is s2s history's output as Apple's pages come in, and its counts.
type historyListing struct {
	o        *historyOptions
	env      decode.Environment
	host     string // the API's host, recorded on imported captures
	verifier *decode.Verifier
	st       *store.Store // with --import
	tw       *tabwriter.Writer
	enc      *json.Encoder

	total, undelivered, imported, already int
	seen                                  map[appstore.SendAttemptResult]bool // for the legend
}

// page lists (and with --import stores) the notifications of Apple's page n.
func (l *historyListing) page(ctx context.Context, n int, page *appstore.NotificationHistoryResponse) error {
	l.total += len(page.NotificationHistory)
	more := ""
	if page.HasMore {
		more = ", more to come"
	}
	fmt.Fprintf(l.o.f.IO.ErrOut, "page %d: %s (%d so far%s)\n", n, plural(len(page.NotificationHistory), "notification"), l.total, more)
	for _, item := range page.NotificationHistory {
		row, err := l.row(ctx, item)
		if err != nil {
			return err
		}
		if l.o.JSON {
			if err := l.enc.Encode(row); err != nil {
				return err
			}
			continue
		}
		fmt.Fprintln(l.tw, historyTableLine(row, l.o.Import))
	}
	return nil
}

// row verifies and decodes one of Apple's items (and imports it with --import).
func (l *historyListing) row(ctx context.Context, item appstore.NotificationHistoryItem) (historyRow, error) {
	d := l.verifier.DecodeSignedPayload([]byte(item.SignedPayload))
	sum := d.Summary()
	row := historyRow{Notification: sum, Delivered: item.Delivered(), SignedPayload: item.SignedPayload}
	if !row.Delivered {
		l.undelivered++
	}
	for _, a := range item.SendAttempts {
		l.seen[a.SendAttemptResult] = true
		row.SendAttempts = append(row.SendAttempts, historyAttemptJSON{a.AttemptDate.Time(), a.SendAttemptResult, a.SendAttemptResult.Meaning()})
	}
	if l.st != nil {
		id, fresh, err := importHistoryItem(ctx, l.st, item, sum, l.o.f.Now(), l.env, l.host)
		if err != nil {
			return row, err
		}
		row.CaptureID, row.Imported = id, fresh
		if fresh {
			l.imported++
		} else {
			l.already++
		}
	}
	return row, nil
}

// summary is the closing line: how many, how many never delivered, and what --import did.
func (l *historyListing) summary() string {
	summary := plural(l.total, "notification")
	if l.undelivered > 0 {
		summary += fmt.Sprintf(", %d never delivered", l.undelivered)
	}
	if l.o.Import {
		summary += fmt.Sprintf("; imported %d into %s", l.imported, l.st.Path())
		switch {
		case l.already == 1:
			summary += " (1 was already there)"
		case l.already > 1:
			summary += fmt.Sprintf(" (%d were already there)", l.already)
		}
	}
	return summary
}

// historyTableLine is one row of the table: signed date, type/subtype, trust label, attempts.
func historyTableLine(r historyRow, withCapture bool) string {
	s := r.Notification
	date := "(no date)"
	if !s.SignedDate.IsZero() {
		date = s.SignedDate.UTC().Format("2006-01-02 15:04:05")
	}
	// Apple's answer is remote text: every field is made terminal-safe (a tab would also break
	// the table).
	kind := termsafe.String(s.Type)
	if kind == "" {
		kind = "?"
	}
	if s.Subtype != "" {
		kind += "/" + termsafe.String(s.Subtype)
	}
	trust := string(s.Label)
	if s.Class != "" {
		trust += "(" + string(s.Class) + ")"
	}
	if s.Label == decode.LabelInvalid {
		// Promise 2: decoded fields of an invalid payload only under a clear marker.
		kind = "UNVERIFIED " + kind
	}
	attempts := make([]string, 0, len(r.SendAttempts))
	for _, a := range r.SendAttempts {
		attempts = append(attempts, fmt.Sprintf("%s %s", termsafe.String(string(a.SendAttemptResult)), a.AttemptDate.UTC().Format("01-02 15:04")))
	}
	if len(attempts) == 0 {
		attempts = append(attempts, "(none yet)")
	}
	line := strings.Join([]string{date, kind, trust, strings.Join(attempts, " → ")}, "\t")
	if withCapture {
		c := "#" + strconv.FormatInt(r.CaptureID, 10)
		if !r.Imported {
			c += " (already stored)"
		}
		line += "\t" + c
	}
	return line
}

// writeResultLegend explains every result that appeared, in Apple's order, with the fix.
func writeResultLegend(w io.Writer, seen map[appstore.SendAttemptResult]bool) {
	fmt.Fprintln(w)
	for _, info := range appstore.SendAttemptResults() {
		if !seen[info.Result] {
			continue
		}
		fmt.Fprintf(w, "%s: %s", info.Result, info.Meaning)
		if info.Result != appstore.ResultSuccess {
			fmt.Fprintf(w, " %s", info.Fix)
		}
		fmt.Fprintln(w)
		delete(seen, info.Result)
	}
	for r := range seen {
		// A result this version does not know is Apple's text: shown through the sanitiser.
		fmt.Fprintf(w, "%s: %s\n", termsafe.String(string(r)), termsafe.String(r.Meaning()))
	}
}

// importHistoryItem stores one notification as Apple would have POSTed it, unless a capture with
// the same notificationUUID is already in the store (received live, or imported before). It
// returns the capture's ID and whether it was inserted now.
func importHistoryItem(ctx context.Context, st *store.Store, item appstore.NotificationHistoryItem, sum decode.Summary, now time.Time, env decode.Environment, host string) (int64, bool, error) {
	if sum.NotificationUUID != "" {
		existing, err := st.List(ctx, store.Filter{NotificationUUIDs: []string{sum.NotificationUUID}, Limit: 1, Ascending: true})
		if err != nil {
			return 0, false, fmt.Errorf("--import: %w", err)
		}
		if len(existing) > 0 {
			return existing[0].ID, false, nil
		}
	}
	body, err := json.Marshal(map[string]string{"signedPayload": item.SignedPayload})
	if err != nil {
		return 0, false, err
	}
	c := &store.Capture{
		ReceivedAt: now,
		Method:     store.MethodImport,
		Path:       "/history",
		Headers: http.Header{
			"Content-Type":    {"application/json"},
			"X-S2s-Import":    {"App Store Server API, Get Notification History (" + string(env) + ")"},
			"X-S2s-Delivered": {strconv.FormatBool(item.Delivered())},
		},
		RemoteAddr: host,
		Body:       body,
	}
	c.SetSummary(sum)
	if err := st.Insert(ctx, c); err != nil {
		return 0, false, fmt.Errorf("--import: %w", err)
	}
	return c.ID, true, nil
}

// historyParseTime reads --since/--until: a duration back from now (Go syntax plus days, "7d"),
// RFC 3339, or a local date or date-time.
func historyParseTime(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if days, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.ParseFloat(days, 64); err == nil && n >= 0 {
			return now.Add(-time.Duration(n * float64(24*time.Hour))), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
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
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n > 100_000_000_000 {
		return time.UnixMilli(n), nil
	}
	return time.Time{}, errors.New("use a duration back from now (90m, 24h, 7d), RFC 3339 (2026-11-23T09:00:00Z), a date (2026-11-23) or UNIX milliseconds")
}
