package cmd

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/s2s-dev/s2s/appstore"
	"github.com/s2s-dev/s2s/decode"
	"github.com/s2s-dev/s2s/internal/termsafe"
	"github.com/s2s-dev/s2s/store"
	"github.com/s2s-dev/s2s/subscription"
)

type subscriptionOptions struct {
	f     *Factory
	creds appleCredentials

	TransactionID string
	BundleID      string
	Environment   string
	JSON          bool
	Import        bool
	StorePath     string
	Roots         []string
}

func newSubscriptionCmd(f *Factory, runF func(*subscriptionOptions) error) *cobra.Command {
	opts := &subscriptionOptions{f: f}
	c := &cobra.Command{
		Use:   "subscription TRANSACTION_ID",
		Short: "Apple's view of one customer beside yours: what Apple sent, what arrived, the status now",
		Long: `subscription asks Apple's App Store Server API about the customer who made TRANSACTION_ID (any
of their transaction IDs or the original one) and puts the answers beside the capture store:

  - Get All Subscription Statuses: the status of each subscription now (ACTIVE, EXPIRED,
    BILLING_RETRY, BILLING_GRACE_PERIOD, REVOKED), with its last transaction and renewal info;
  - Get Transaction History: every transaction, oldest first;
  - Get Notification History for the customer: every notification Apple sent in the history it
    keeps (30 days in Sandbox, 180 in Production), with each send attempt.

Each notification is joined with the store by notificationUUID: received (capture ID, when, how
long after it was signed, what s2s answered; a notification Apple sent more than once shows one
row with every reception), or NEVER RECEIVED with Apple's last attempt result and what to fix.
Captures about the customer that Apple does not list (simulated, replayed, older) are shown as
such. Everything Apple returns is signed and is verified and labelled like any payload.

--import stores the notifications that never arrived as captures (as "s2s history --import"
does), so "s2s replay" can deliver them. --root trusts a test root (a stand-in of the API signs
with one); what chains to it is labelled simulated.

The In-App Purchase key comes from --key-id, --issuer-id and --private-key, or from
S2S_KEY_ID, S2S_ISSUER_ID and S2S_PRIVATE_KEY; --bundle-id from S2S_BUNDLE_ID.`,
		Example: `  # Did Apple send this customer's renewal, and did it arrive?
  s2s subscription 2000000123456789 --bundle-id com.example.app

  # Production, as JSON
  s2s subscription 2000000123456789 --environment Production --json

  # Store what never arrived, then deliver it to the running s2s listen
  s2s subscription 2000000123456789 --import
  s2s replay 42`,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageErrorf("subscription needs one TRANSACTION_ID (any transaction or original transaction ID of the customer)")
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			opts.TransactionID = args[0]
			if runF != nil {
				return runF(opts)
			}
			return runSubscription(c.Context(), opts)
		},
	}
	fl := c.Flags()
	fl.StringVar(&opts.BundleID, "bundle-id", "", "the app's bundle ID (default $"+envBundleID+")")
	fl.StringVar(&opts.Environment, "environment", "Sandbox", "Sandbox or Production")
	fl.BoolVar(&opts.JSON, "json", false, "print one JSON object")
	fl.BoolVar(&opts.Import, "import", false, "store the notifications that never arrived so they can be replayed")
	fl.StringVar(&opts.StorePath, "store", "", "capture store (default $S2S_STORE or the user data directory)")
	fl.StringArrayVar(&opts.Roots, "root", nil, "also trust the root certificate in the PEM file; payloads chaining to it are simulated (repeatable)")
	opts.creds.addKeyFlags(fl)
	_ = c.RegisterFlagCompletionFunc("environment", cobra.FixedCompletions([]string{"Sandbox", "Production"}, cobra.ShellCompDirectiveNoFileComp))
	return c
}

func runSubscription(ctx context.Context, o *subscriptionOptions) error {
	ios := o.f.IO
	now := o.f.Now()
	id, env, roots, err := o.check(now)
	if err != nil {
		return err
	}
	if o.BundleID == "" {
		o.BundleID = strings.TrimSpace(o.f.Getenv(envBundleID))
	}
	client, _, err := o.creds.appleClient(o.f, "subscription", o.BundleID, string(env), ios.ErrOut)
	if err != nil {
		return err
	}
	verifier := appleVerifier(o.f, o.BundleID, env, roots...)

	fmt.Fprintf(ios.ErrOut, "Asking Apple (%s, %s) about the customer of transaction %s…\n", env, o.BundleID, id)
	view, err := subscription.Fetch(ctx, client, verifier, subscription.Options{
		TransactionID: id, BundleID: o.BundleID, Now: now,
		Progress: func(s string) { fmt.Fprintln(ios.ErrOut, s) },
	})
	if err != nil {
		return err
	}

	path := captureStorePath(o.f, o.StorePath)
	st, err := o.openStore(path)
	if err != nil {
		return err
	}
	imported := 0
	if st != nil {
		defer st.Close()
		view.Store = st.Path()
		if err := view.Join(ctx, st); err != nil {
			return err
		}
		if o.Import {
			if imported, err = importNeverReceived(ctx, st, view, o.f.Now(), env, apiHost(client)); err != nil {
				return err
			}
		}
	} else {
		subscription.JoinCaptures(view, nil)
	}

	if o.JSON {
		enc := jsonEncoder(ios.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(view)
	}
	writeSubscriptionView(ios.Out, view)
	fmt.Fprintln(ios.ErrOut, o.summary(view, st, path, imported)+".")
	return nil
}

// check reads the transaction ID, --environment and --root; every mistake is a usage error (or
// an unreadable root) found before Apple is asked.
func (o *subscriptionOptions) check(now time.Time) (id string, env decode.Environment, roots []*x509.Certificate, err error) {
	id = strings.TrimSpace(o.TransactionID)
	if err := appstore.ValidateTransactionID(id); err != nil {
		return "", "", nil, &UsageError{Err: err}
	}
	if env, err = appstore.ParseEnvironment(o.Environment); err != nil {
		return "", "", nil, usageErrorf("invalid --environment: %v", err)
	}
	if _, err := subscription.Request(id, env, now); err != nil {
		return "", "", nil, &UsageError{Err: err}
	}
	roots, err = loadRoots(o.Roots)
	return id, env, roots, err
}

// openStore is the capture store the view is joined with: created with --import, else nil when
// there is none yet.
func (o *subscriptionOptions) openStore(path string) (*store.Store, error) {
	if o.Import {
		st, err := store.Open(path)
		if err != nil {
			return nil, fmt.Errorf("opening the store for --import: %w", err)
		}
		return st, nil
	}
	st, err := openExistingStore(path)
	if errors.Is(err, errNoStore) {
		return nil, nil
	}
	return st, err
}

// summary is the closing line: how many transactions and notifications, how many never arrived,
// and what --import did.
func (o *subscriptionOptions) summary(view *subscription.View, st *store.Store, path string, imported int) string {
	missing := 0
	for _, n := range view.Notifications {
		if n.NeverReceived {
			missing++
		}
	}
	summary := fmt.Sprintf("%s, %s, %s never received", plural(len(view.Transactions), "transaction"), plural(len(view.Notifications), "notification"), strconv.Itoa(missing))
	if st == nil {
		summary += " (no capture store yet at " + path + ")"
	}
	if o.Import {
		summary += fmt.Sprintf("; imported %d into %s", imported, st.Path())
		if imported > 0 {
			summary += ": send them with s2s replay ID"
		}
	}
	return summary
}

// importNeverReceived stores each notification that never arrived, as history --import does, and
// joins again so the view shows the imported captures.
func importNeverReceived(ctx context.Context, st *store.Store, view *subscription.View, now time.Time, env decode.Environment, host string) (int, error) {
	n := 0
	fresh := map[int64]bool{}
	for i := range view.Notifications {
		no := &view.Notifications[i]
		if !no.NeverReceived || no.ImportedID != 0 {
			continue
		}
		id, isNew, err := importHistoryItem(ctx, st, no.Item, no.Notification, now, env, host)
		if err != nil {
			return n, err
		}
		if isNew {
			n++
			fresh[id] = true
		}
	}
	if n == 0 {
		return 0, nil
	}
	if err := view.Join(ctx, st); err != nil {
		return n, err
	}
	for i := range view.Notifications {
		if fresh[view.Notifications[i].ImportedID] {
			view.Notifications[i].Imported = true
		}
	}
	return n, nil
}

// subscriptionForTUI is the Timeline's a (Apple's view of a customer, joined with st) and i
// (import a notification that never arrived), when the In-App Purchase key and a bundle ID
// (--bundle-id or S2S_BUNDLE_ID) are configured; nil, nil otherwise. Retries and debug lines go to
// logw, never over the screen.
func subscriptionForTUI(f *Factory, bundleID, environment string, roots []*x509.Certificate, st *store.Store, logw io.Writer) (
	func(ctx context.Context, otid string) (*subscription.View, error), func(ctx context.Context, n subscription.Notification) (int64, error)) {
	if bundleID == "" {
		bundleID = strings.TrimSpace(f.Getenv(envBundleID))
	}
	creds, err := appleCredentials{}.resolve(f.Getenv, "the Timeline's Apple view")
	if bundleID == "" || err != nil || st == nil {
		return nil, nil
	}
	env, err := appstore.ParseEnvironment(environment)
	if err != nil {
		env = decode.EnvSandbox // listen's Xcode or empty environment: Apple's sandbox
	}
	client, _, err := creds.appleClient(f, "the Timeline's Apple view", bundleID, string(env), logw)
	if err != nil {
		return nil, nil
	}
	verifier := appleVerifier(f, bundleID, env, roots...)
	view := func(ctx context.Context, otid string) (*subscription.View, error) {
		v, err := subscription.Fetch(ctx, client, verifier, subscription.Options{TransactionID: otid, BundleID: bundleID, Now: f.Now()})
		if err != nil {
			return nil, err
		}
		v.Store = st.Path()
		return v, v.Join(ctx, st)
	}
	imp := func(ctx context.Context, n subscription.Notification) (int64, error) {
		id, _, err := importHistoryItem(ctx, st, n.Item, n.Notification, f.Now(), env, apiHost(client))
		return id, err
	}
	return view, imp
}

const subTime = "2006-01-02 15:04:05"

func subDate(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(subTime)
}

// subLabel is the trust label with its class, e.g. "invalid(chain)".
func subLabel(s decode.Summary) string {
	l := string(s.Label)
	if l == "" {
		l = string(decode.LabelInvalid)
	}
	if s.Class != "" {
		l += "(" + string(s.Class) + ")"
	}
	return l
}

// subKind is TYPE/SUBTYPE, marked when the payload is not verified or simulated.
func subKind(s decode.Summary) string {
	k := s.Type
	if k == "" {
		k = "?"
	}
	if s.Subtype != "" {
		k += "/" + s.Subtype
	}
	k = termsafe.String(k)
	if s.Label == decode.LabelInvalid || s.Label == "" {
		k = "UNVERIFIED " + k
	}
	return k
}

// writeSubscriptionView is the compact text view: status, transactions, then the notification
// timeline with Apple's attempts beside what arrived here.
func writeSubscriptionView(w io.Writer, v *subscription.View) {
	fmt.Fprintf(w, "Customer of transaction %s — %s, %s\n", termsafe.String(v.TransactionID), termsafe.String(v.BundleID), v.Environment)
	if len(v.OriginalTransactionIDs) > 0 {
		fmt.Fprintf(w, "Original transaction IDs: %s\n", termsafe.String(strings.Join(v.OriginalTransactionIDs, ", ")))
	}
	writeSubscriptionStatuses(w, v)
	writeSubscriptionTransactions(w, v)
	writeSubscriptionNotifications(w, v)
}

// writeSubscriptionStatuses is the STATUS NOW section: each subscription's status, last
// transaction and renewal.
func writeSubscriptionStatuses(w io.Writer, v *subscription.View) {
	fmt.Fprintln(w, "\nSTATUS NOW (Apple)")
	if len(v.Statuses) == 0 {
		fmt.Fprintln(w, "  no auto-renewable subscription")
	}
	for _, s := range v.Statuses {
		fmt.Fprintf(w, "  group %s  %s  %s — %s\n", termsafe.String(s.SubscriptionGroup), termsafe.String(s.OriginalTransactionID), s.StatusName, s.Meaning)
		t := s.Transaction
		fmt.Fprintf(w, "    last transaction %s %s, purchased %s, expires %s  [%s]\n", termsafe.String(t.TransactionID),
			termsafe.String(t.ProductID), subDate(t.PurchaseDate), subDate(t.ExpiresDate), subLabel(t))
		r := s.Renewal
		renew := renewalWords(r)
		fmt.Fprintf(w, "    renewal: %s  [%s]\n", renew, subLabel(r.Summary))
	}
}

// renewalWords says what the renewal info says: auto-renew, to what, when, billing retry, grace.
func renewalWords(r subscription.Renewal) string {
	renew := "auto-renew unknown"
	if r.AutoRenewStatus != nil {
		renew = "auto-renew off"
		if *r.AutoRenewStatus == 1 {
			renew = "auto-renew on"
		}
	}
	if r.AutoRenewProductID != "" {
		renew += " to " + termsafe.String(r.AutoRenewProductID)
	}
	if !r.RenewalDate.IsZero() {
		renew += ", renews " + subDate(r.RenewalDate)
	}
	if r.IsInBillingRetryPeriod != nil && *r.IsInBillingRetryPeriod {
		renew += ", in billing retry"
	}
	if !r.GracePeriodExpiresDate.IsZero() {
		renew += ", grace period until " + subDate(r.GracePeriodExpiresDate)
	}
	return renew
}

// writeSubscriptionTransactions is the TRANSACTIONS section, oldest first.
func writeSubscriptionTransactions(w io.Writer, v *subscription.View) {
	fmt.Fprintf(w, "\nTRANSACTIONS (Apple, %d, oldest first)\n", len(v.Transactions))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, t := range v.Transactions {
		what := termsafe.String(t.ProductID)
		if t.TransactionReason != "" {
			what += " " + termsafe.String(t.TransactionReason)
		}
		if !t.RevocationDate.IsZero() {
			what += " REVOKED " + subDate(t.RevocationDate)
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\texpires %s\t%s\n", subDate(t.PurchaseDate), termsafe.String(t.TransactionID), what, subDate(t.ExpiresDate), subLabel(t.Summary))
	}
	_ = tw.Flush()
}

// writeSubscriptionNotifications is the NOTIFICATIONS section: Apple's history and the captures
// it does not list, in one timeline, with the legend of Apple's send attempt results.
func writeSubscriptionNotifications(w io.Writer, v *subscription.View) {
	fmt.Fprintf(w, "\nNOTIFICATIONS (Apple's history from %s, %d) beside this store\n", subDate(v.HistoryStart), len(v.Notifications))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  SIGNED (UTC)\tTYPE\tTRUST\tAPPLE'S ATTEMPTS\tHERE")
	// Apple's notifications and the captures Apple does not list, in one timeline by signed date.
	type row struct {
		at   time.Time
		line string
	}
	var rows []row
	seen := map[appstore.SendAttemptResult]bool{}
	for _, n := range v.Notifications {
		attempts := make([]string, 0, len(n.SendAttempts))
		for _, a := range n.SendAttempts {
			seen[a.SendAttemptResult] = true
			attempts = append(attempts, termsafe.String(string(a.SendAttemptResult))+" "+a.AttemptDate.Time().Format("01-02 15:04"))
		}
		if len(attempts) == 0 {
			attempts = append(attempts, "(none yet)")
		}
		rows = append(rows, row{n.Notification.SignedDate, fmt.Sprintf("  %s\t%s\t%s\t%s\t%s\n", subDate(n.Notification.SignedDate), subKind(n.Notification), subLabel(n.Notification),
			strings.Join(attempts, " → "), hereColumn(n))})
	}
	for _, l := range v.LocalOnly {
		rows = append(rows, row{l.Notification.SignedDate, fmt.Sprintf("  %s\t%s\t%s\t%s\t#%d received %s; %s\n", subDate(l.Notification.SignedDate), subKind(l.Notification), subLabel(l.Notification),
			"not in Apple's history", l.CaptureID, subDate(l.ReceivedAt), l.Reason)})
	}
	slices.SortStableFunc(rows, func(a, b row) int { return a.at.Compare(b.at) })
	for _, r := range rows {
		fmt.Fprint(tw, r.line)
	}
	_ = tw.Flush()
	if len(seen) > 0 {
		writeResultLegend(w, seen)
	}
}

// hereColumn says what arrived of a notification Apple lists.
func hereColumn(n subscription.Notification) string {
	var parts []string
	deliveries := n.Deliveries()
	for _, r := range n.Received {
		s := fmt.Sprintf("#%d %s", r.CaptureID, subDate(r.ReceivedAt))
		if d, ok := r.Delay(); ok {
			late := ""
			if r.Late {
				late = ", LATE"
			}
			s += " (" + store.FormatDelay(d) + " after signing" + late + ")"
		}
		if r.ResponseStatus != 0 {
			s += fmt.Sprintf(" answered %d", r.ResponseStatus)
		}
		if r.Replayed {
			s += " replayed"
		}
		parts = append(parts, s)
	}
	var out string
	switch {
	case n.NeverReceived:
		out = "NEVER RECEIVED"
		if n.LastResult != "" && n.LastResult != appstore.ResultSuccess {
			out += " (Apple's last attempt: " + termsafe.String(string(n.LastResult)) + ")"
		} else if n.LastResult == appstore.ResultSuccess {
			out += " (Apple says delivered: to another URL or server?)"
		}
	case deliveries > 1:
		out = fmt.Sprintf("received %d times", deliveries)
	default:
		out = "received"
	}
	if len(parts) > 0 {
		out += ": " + strings.Join(parts, "; ")
	}
	if n.ImportedID != 0 {
		if n.Imported {
			out += fmt.Sprintf("; imported as #%d", n.ImportedID)
		} else {
			out += fmt.Sprintf("; imported #%d", n.ImportedID)
		}
	}
	return out
}
