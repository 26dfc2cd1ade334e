package cmd

import (
	"errors"

	"github.com/spf13/cobra"
)

// PLACEHOLDER: replaced by the command's real implementation.
func newHistoryCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "history",
		Short: "(not yet built)",
		RunE:  func(*cobra.Command, []string) error { return errors.New("history: not yet built") },
	}
}
