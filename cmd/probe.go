package cmd

import (
	"errors"

	"github.com/spf13/cobra"
)

// PLACEHOLDER: replaced by the command's real implementation.
func newProbeCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "probe",
		Short: "(not yet built)",
		RunE:  func(*cobra.Command, []string) error { return errors.New("probe: not yet built") },
	}
}
