package cmd

import (
	"errors"

	"github.com/spf13/cobra"
)

// PLACEHOLDER: replaced by the command's real implementation.
func newListenCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "listen",
		Short: "(not yet built)",
		RunE:  func(*cobra.Command, []string) error { return errors.New("listen: not yet built") },
	}
}
