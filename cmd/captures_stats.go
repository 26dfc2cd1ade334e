package cmd

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/s2s-dev/s2s/internal/termsafe"
	"github.com/s2s-dev/s2s/store"
)

type capturesStatsOptions struct {
	*capturesOptions
	JSON bool
}

func newCapturesStatsCmd(co *capturesOptions, runF func(*capturesStatsOptions) error) *cobra.Command {
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
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(o)
			}
			return runCapturesStats(cmd.Context(), o)
		},
	}
	c.Flags().BoolVar(&o.JSON, "json", false, "print the counts as JSON")
	return c
}

func runCapturesStats(ctx context.Context, o *capturesStatsOptions) error {
	st := store.Stats{ByType: map[string]int{}, ByTrust: map[string]int{}, ByDay: map[string]int{}}
	s, err := o.open()
	switch {
	case errors.Is(err, errNoStore):
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
