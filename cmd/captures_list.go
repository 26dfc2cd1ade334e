package cmd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/s2s-dev/s2s/decode"
	"github.com/s2s-dev/s2s/fixtures"
	"github.com/s2s-dev/s2s/internal/termsafe"
	"github.com/s2s-dev/s2s/store"
)

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

func newCapturesListCmd(co *capturesOptions, runF func(*capturesListOptions) error) *cobra.Command {
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
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(o)
			}
			return runCapturesList(cmd.Context(), o)
		},
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
	_ = c.RegisterFlagCompletionFunc("trust", cobra.FixedCompletions(store.TrustLabels(), cobra.ShellCompDirectiveNoFileComp))
	return c
}

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

func runCapturesList(ctx context.Context, o *capturesListOptions) error {
	f, err := o.filter()
	if err != nil {
		return err
	}
	ios := o.f.IO
	s, err := o.open()
	if errors.Is(err, errNoStore) {
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
		return writeJSON(ios.Out, listJSON(caps, fwd))
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
		answer := answerOf(c)
		if len(fwd) > 0 {
			answer += "\t" + orDash(termsafe.String(fwd[c.ID].Outcome()))
		}
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", c.ID, c.ReceivedAt.Local().Format("2006-01-02 15:04:05"),
			orDash(typeOf(c)), orDash(c.Environment), orDash(c.ProductID), trustOf(c), answer, noteOf(c))
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

// listItem is one capture of captures list --json: the capture, and its forwarding when it
// was forwarded or replayed.
type listItem struct {
	store.CaptureJSON
	Forwarding *forwardingJSON `json:"forwarding,omitempty"`
}

// forwardingJSON is the FORWARD column as data: the outcome in words, the best delivery (the
// latest accepted one, else the latest) and the latest attempt.
type forwardingJSON struct {
	Outcome string         `json:"outcome"`
	Best    store.Delivery `json:"best"`
	Latest  store.Delivery `json:"latest"`
}

func listJSON(caps []store.Capture, fwd map[int64]store.Forwarding) []listItem {
	out := make([]listItem, len(caps))
	for i, c := range caps {
		out[i].CaptureJSON = c.JSON()
		if f, ok := fwd[c.ID]; ok {
			out[i].Forwarding = &forwardingJSON{Outcome: f.Outcome(), Best: f.Best, Latest: f.Latest}
		}
	}
	return out
}

// typeOf is the TYPE column: a real-time request has no notificationType, and a dash would make
// it look like junk, so it is named as listen's lines name it.
func typeOf(c store.Capture) string {
	if c.Kind == decode.KindRealtimeRequest {
		return "REAL-TIME REQUEST"
	}
	if c.Subtype != "" {
		return c.Type + "/" + c.Subtype
	}
	return c.Type
}

func trustOf(c store.Capture) string {
	if c.TrustClass != "" {
		return string(c.Trust) + "/" + string(c.TrustClass)
	}
	return orDash(c.Trust)
}

func answerOf(c store.Capture) string {
	if c.ResponseStatus == 0 {
		return "-"
	}
	return strconv.Itoa(c.ResponseStatus)
}

func noteOf(c store.Capture) string {
	var notes []string
	if c.DuplicateOf != 0 {
		notes = append(notes, fmt.Sprintf("duplicate of %d", c.DuplicateOf))
	}
	if c.HubOrigin != "" {
		notes = append(notes, "via hub")
	}
	if c.IdentityMismatch != "" {
		notes = append(notes, "identity mismatch")
	}
	return strings.Join(notes, ", ")
}
