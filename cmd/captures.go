package cmd

import (
	"errors"

	"github.com/spf13/cobra"
)

// PLACEHOLDER: replaced by the command's real implementation.
func newCapturesCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "captures",
		Short: "(not yet built)",
		RunE:  func(*cobra.Command, []string) error { return errors.New("captures: not yet built") },
	}
}
