package cmd

import (
	"errors"

	"github.com/spf13/cobra"
)

// PLACEHOLDER: replaced by the command's real implementation.
func newReplayCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "replay",
		Short: "(not yet built)",
		RunE:  func(*cobra.Command, []string) error { return errors.New("replay: not yet built") },
	}
}
