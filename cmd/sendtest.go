package cmd

import (
	"errors"

	"github.com/spf13/cobra"
)

// PLACEHOLDER: replaced by the command's real implementation.
func newSendTestCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "send-test",
		Short: "(not yet built)",
		RunE:  func(*cobra.Command, []string) error { return errors.New("send-test: not yet built") },
	}
}
