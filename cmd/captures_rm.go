package cmd

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/s2s-dev/s2s/store"
)

type capturesRmOptions struct {
	*capturesOptions
	IDs  []int64
	All  bool
	Yes  bool
	JSON bool
}

func newCapturesRmCmd(co *capturesOptions, runF func(*capturesRmOptions) error) *cobra.Command {
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
			ids, err := parseCaptureIDs(args)
			if err != nil {
				return err
			}
			o.IDs = append(o.IDs, ids...)
			if runF != nil {
				return runF(o)
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
	if errors.Is(err, errNoStore) {
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
