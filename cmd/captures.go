package cmd

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/s2s-dev/s2s/internal/paths"
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
	o.addFlags(c)
	c.AddCommand(
		newCapturesListCmd(o, nil),
		newCapturesShowCmd(o, nil),
		newCapturesExportCmd(o, nil),
		newCapturesRmCmd(o, nil),
		newCapturesStatsCmd(o, nil),
	)
	return c
}

// addFlags adds the flags every subcommand shares to c and the commands below it.
func (o *capturesOptions) addFlags(c *cobra.Command) {
	c.PersistentFlags().StringVar(&o.StorePath, "store", "", "capture store PATH (default: $S2S_STORE or the user data directory)")
}

// captureStorePath is the store file a command works on: its --store flag, else $S2S_STORE or
// the user data directory.
func captureStorePath(f *Factory, flag string) string {
	if flag != "" {
		return flag
	}
	return paths.StorePath(f.Getenv)
}

// errNoStore means the store file does not exist yet: reading commands treat it as empty rather
// than creating a file as a side effect.
var errNoStore = errors.New("no capture store")

// openExistingStore opens the store at path for a command that reads it, or errNoStore.
func openExistingStore(path string) (*store.Store, error) {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, errNoStore
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

// parseCaptureIDs reads capture ID arguments; the first that is not one is a usage error.
func parseCaptureIDs(args []string) ([]int64, error) {
	ids := make([]int64, 0, len(args))
	for _, a := range args {
		id, err := parseCaptureID(a)
		if err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, nil
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
	if d, ok := parseAgo(s); ok {
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

func parseAgo(s string) (time.Duration, bool) {
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
