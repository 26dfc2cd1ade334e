package cmd

import (
	"errors"

	"github.com/spf13/cobra"
)

// PLACEHOLDER: replaced by the command's real implementation.
func newDecodeCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "decode",
		Short: "(not yet built)",
		RunE:  func(*cobra.Command, []string) error { return errors.New("decode: not yet built") },
	}
}
