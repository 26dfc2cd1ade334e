package cmd

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/s2s-dev/s2s/internal/version"
)

func newVersionCmd(f *Factory) *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "version",
		Short: "Print the version of s2s",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			v := version.Get()
			if asJSON {
				return writeJSON(f.IO.Out, v)
			}
			_, err := fmt.Fprintln(f.IO.Out, v.String())
			return err
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	return c
}
