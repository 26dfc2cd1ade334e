package cmd

import (
	"bytes"
	"context"
	"fmt"
	"io"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/spf13/cobra"

	"github.com/s2s-dev/s2s/internal/paths"
	"github.com/s2s-dev/s2s/internal/state"
	"github.com/s2s-dev/s2s/internal/version"
	"github.com/s2s-dev/s2s/mcpserver"
)

type mcpOptions struct {
	f          *Factory
	StorePath  string
	AllowURL   []string
	AllowApple bool
}

func newMCPCmd(f *Factory, runF func(*mcpOptions) error) *cobra.Command {
	o := &mcpOptions{f: f}
	c := &cobra.Command{
		Use:   "mcp",
		Short: "Serve the Model Context Protocol over stdio, for coding agents",
		Long: `Serve the Model Context Protocol (MCP) on standard input and output, the way agents start
local servers: an agent can list and show captures, decode and verify payloads, send test
notifications, replay captures, probe URLs and ask whether a listener runs.

Every tool runs the s2s command that does the job (with --json) on the same store, config and
running listener as the other commands. Sends go only to the running listener, its forward
targets and loopback URLs unless --allow-url allows a host. No tool deletes captures.
Nothing but the protocol is written to stdout; messages go to stderr. See docs/mcp.md.`,
		Example: `  # Register with an agent client: command "s2s", args ["mcp"]
  s2s mcp
  s2s mcp --store ./captures.db --allow-url staging.example.com`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(o)
			}
			return runMCP(cmd.Context(), o)
		},
	}
	fl := c.Flags()
	fl.StringVar(&o.StorePath, "store", "", "capture store PATH (default: $S2S_STORE or the user data directory)")
	fl.StringArrayVar(&o.AllowURL, "allow-url", nil, "also let sending tools reach this host: example.com, host:port or *.example.com (repeatable)")
	fl.BoolVar(&o.AllowApple, "allow-apple", false, "offer notification_history, which calls Apple's App Store Server API")
	return c
}

func runMCP(ctx context.Context, o *mcpOptions) error {
	f := o.f
	getenv := f.Getenv
	if o.StorePath != "" {
		getenv = func(k string) string {
			if k == "S2S_STORE" {
				return o.StorePath
			}
			return f.Getenv(k)
		}
	}
	var types bytes.Buffer
	if err := printSendTestList(&types, true, 0); err != nil {
		return err
	}
	srv, err := mcpserver.New(mcpserver.Config{
		Version:    version.Get().Version,
		AllowURL:   o.AllowURL,
		AllowApple: o.AllowApple,
		TypesJSON:  types.Bytes(),
		Listener:   func() (state.Listener, error) { return state.Read(paths.ListenersDir(getenv)) },
		// Each tool call runs a fresh command tree on buffers: the same code path as the
		// command line, and nothing of it reaches the protocol's stdout.
		Run: func(ctx context.Context, args []string, stdin []byte) mcpserver.Outcome {
			var out, errOut bytes.Buffer
			sub := &Factory{IO: &IOStreams{In: bytes.NewReader(stdin), Out: &out, ErrOut: &errOut, noColor: true},
				Getenv: getenv, Now: f.Now, HTTPClient: f.HTTPClient}
			code := run(ctx, sub, args)
			return mcpserver.Outcome{Stdout: out.Bytes(), Stderr: errOut.Bytes(), Exit: code}
		},
	})
	if err != nil {
		return &UsageError{Err: err}
	}
	fmt.Fprintln(f.IO.ErrOut, "s2s mcp: serving the Model Context Protocol on stdio")
	t := &mcp.IOTransport{Reader: readCloser{f.IO.In}, Writer: writeCloser{f.IO.Out}}
	if err := srv.Run(ctx, t); err != nil && ctx.Err() == nil {
		return err
	}
	return nil
}

// readCloser and writeCloser give the command's streams the Close the transport wants; closing
// them is the process's business, not the server's.
type readCloser struct{ io.Reader }

func (readCloser) Close() error { return nil }

type writeCloser struct{ io.Writer }

func (writeCloser) Close() error { return nil }
