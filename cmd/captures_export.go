package cmd

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/s2s-dev/s2s/store"
)

type capturesExportOptions struct {
	*capturesOptions
	ID     int64
	Output string
	JSON   bool
}

func newCapturesExportCmd(co *capturesOptions, runF func(*capturesExportOptions) error) *cobra.Command {
	o := &capturesExportOptions{capturesOptions: co}
	c := &cobra.Command{
		Use:   "export ID",
		Short: "Write a capture's raw body, byte for byte, to standard output or a file",
		Long: `Write the body of a capture exactly as it was received, to standard output or to a file
with -o (created 0600, replaced if it exists). "s2s decode FILE" reads it back.

With --json, the whole request is exported instead: the capture's fields, headers included,
and the body as a string (or as base64 in bodyBase64 when it is not UTF-8).`,
		Example: `  s2s captures export 42 > body.json
  s2s captures export 42 -o body.json && s2s decode body.json

  # Send it to your own server by hand
  s2s captures export 42 | curl -sS -H 'Content-Type: application/json' --data-binary @- http://localhost:3000/apple

  # The request with headers, as JSON
  s2s captures export 42 --json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseCaptureID(args[0])
			if err != nil {
				return err
			}
			o.ID = id
			if runF != nil {
				return runF(o)
			}
			return runCapturesExport(cmd.Context(), o)
		},
	}
	c.Flags().StringVarP(&o.Output, "output", "o", "", "write to FILE instead of standard output")
	c.Flags().BoolVar(&o.JSON, "json", false, "export the request (fields, headers, body) as a JSON document")
	return c
}

func runCapturesExport(ctx context.Context, o *capturesExportOptions) error {
	s, c, err := o.getCapture(ctx, o.ID)
	if err != nil {
		return err
	}
	defer s.Close()
	data := c.Body
	if o.JSON {
		doc := struct {
			store.CaptureJSON
			Body       *string `json:"body,omitempty"`
			BodyBase64 string  `json:"bodyBase64,omitempty"`
		}{CaptureJSON: c.JSON()}
		if utf8.Valid(c.Body) {
			body := string(c.Body)
			doc.Body = &body
		} else {
			doc.BodyBase64 = base64.StdEncoding.EncodeToString(c.Body)
		}
		b, err := json.MarshalIndent(doc, "", "  ")
		if err != nil {
			return err
		}
		data = append(b, '\n')
	}
	if o.Output == "" || o.Output == "-" {
		_, err := o.f.IO.Out.Write(data)
		return err
	}
	if err := os.WriteFile(o.Output, data, 0o600); err != nil {
		return err
	}
	fmt.Fprintf(o.f.IO.ErrOut, "Wrote capture %d (%d bytes) to %s\n", c.ID, len(data), o.Output)
	return nil
}
