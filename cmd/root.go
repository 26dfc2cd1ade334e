// Package cmd holds s2s's command line: one file per command, each with an options struct and a
// run function that take their IO and environment from a Factory, so tests can run them in-process.
package cmd

import (
	"context"
	"fmt"

	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/s2s-dev/s2s/internal/paths"
	"github.com/s2s-dev/s2s/internal/termsafe"
	"github.com/s2s-dev/s2s/internal/version"
)

// Factory is what every command gets from the process: streams, environment, clock, HTTP.
type Factory struct {
	IO         *IOStreams
	Getenv     paths.Getenv
	Now        func() time.Time
	HTTPClient func() *http.Client
}

// NewFactory returns the Factory of the real process.
func NewFactory() *Factory {
	return &Factory{
		IO:         System(),
		Getenv:     os.Getenv,
		Now:        time.Now,
		HTTPClient: func() *http.Client { return &http.Client{Timeout: 30 * time.Second} },
	}
}

// NewRootCmd builds a fresh command tree; nothing is shared between two trees.
func NewRootCmd(f *Factory) *cobra.Command {
	root := &cobra.Command{
		Use:   "s2s",
		Short: "The workbench for Apple's App Store Server Notifications",
		Long: `s2s receives, verifies, decodes, stores, simulates, probes, forwards and replays
Apple's App Store Server Notifications (version 2, and the legacy version 1).

Start with "s2s listen": a local receiver that stores every notification before it answers,
verifies it against Apple Root CA - G3 and shows it in a terminal UI. Then "s2s send-test" to
rehearse any notification type, "s2s decode" for saved payloads, and "s2s probe" to see what
Apple would record for your notification URL.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(f.IO.In)
	root.SetOut(f.IO.Out)
	root.SetErr(f.IO.ErrOut)
	root.SetFlagErrorFunc(flagUsageError)
	root.AddGroup(
		&cobra.Group{ID: "receive", Title: "Receive and inspect"},
		&cobra.Group{ID: "simulate", Title: "Simulate Apple"},
		// Apart from the simulations: these act on the real App Store (connect even changes the
		// app's notification URL), and need your App Store Connect keys.
		&cobra.Group{ID: "apple", Title: "Talk to Apple"},
		&cobra.Group{ID: "other", Title: "Other"},
	)
	// The everyday commands come first in --help; these last.
	root.SetHelpCommandGroupID("other")
	root.SetCompletionCommandGroupID("other")
	for _, c := range []*cobra.Command{newListenCmd(f, nil), newHubCmd(f, nil), newDecodeCmd(f, nil), newCapturesCmd(f)} {
		c.GroupID = "receive"
		root.AddCommand(c)
	}
	for _, c := range []*cobra.Command{newSendTestCmd(f, nil), newProbeCmd(f, nil), newReplayCmd(f, nil)} {
		c.GroupID = "simulate"
		root.AddCommand(c)
	}
	for _, c := range []*cobra.Command{newHistoryCmd(f, nil), newSubscriptionCmd(f, nil), newConnectCmd(f)} {
		c.GroupID = "apple"
		root.AddCommand(c)
	}
	mcpCmd := newMCPCmd(f, nil)
	mcpCmd.GroupID = "other"
	root.AddCommand(mcpCmd)
	version := newVersionCmd(f)
	version.GroupID = "other"
	root.AddCommand(version)
	strictHelpAndCompletion(root)
	typedArgErrors(root)
	return root
}

// typedArgErrors makes every command's argument check return a UsageError in s2s's words
// (inOurWords), so ExitCode knows it by type rather than by cobra's wording (flag errors are typed
// by the root's FlagErrorFunc).
func typedArgErrors(c *cobra.Command) {
	if check := c.Args; check != nil {
		c.Args = func(c *cobra.Command, args []string) error {
			if err := check(c, args); err != nil {
				if ours := inOurWords(c, args, err); ours != err { //nolint:errorlint // identity: was err put in other words?
					return ours
				}
				return &UsageError{Err: err}
			}
			return nil
		}
	}
	for _, sub := range c.Commands() {
		typedArgErrors(sub)
	}
}

// strictHelpAndCompletion makes "s2s completion SHELL" and "s2s help TOPIC" fail with a usage error
// (exit 2) on an unknown shell or topic: cobra's own versions print help and exit 0, which hides a
// typo from a script.
func strictHelpAndCompletion(root *cobra.Command) {
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		switch c.Name() {
		case "completion":
			// Runnable, so cobra checks its arguments (NoArgs) instead of printing help.
			c.RunE = func(c *cobra.Command, _ []string) error { return c.Help() }
		case "help":
			c.Run = nil
			c.RunE = func(c *cobra.Command, args []string) error {
				target, _, err := c.Root().Find(args)
				if target == nil || err != nil {
					return usageErrorf("unknown help topic %q", strings.Join(args, " "))
				}
				target.InitDefaultHelpFlag()
				return target.Help()
			}
		}
	}
}

// Main runs s2s with the process's arguments and returns its exit code.
func Main() int {
	return run(context.Background(), NewFactory(), os.Args[1:])
}

func run(ctx context.Context, f *Factory, args []string) int {
	return execute(ctx, f, NewRootCmd(f), args)
}

// execute runs root with args and maps the outcome to an exit code.
func execute(ctx context.Context, f *Factory, root *cobra.Command, args []string) int {
	root.SetArgs(args)
	v := version.Get()
	// The command the arguments name, for the usage hint; "s2s" when they name none.
	usagePath := root.CommandPath()
	var target *cobra.Command
	if c, _, err := root.Find(args); err == nil {
		usagePath, target = c.CommandPath(), c
	}
	// An interrupted command says what it left undone and nothing more: Ctrl-C needs no message.
	var interrupted error
	keepInterruptions(root, &interrupted)
	// --version shows the commit in brackets unless the version already names it (git describe
	// of an untagged tree is the short hash: "0642eae (0642eae)" says it twice).
	root.Version = v.Version
	if short := v.Commit[:min(7, len(v.Commit))]; len(short) == 7 && !strings.Contains(v.Version, short) {
		root.Version += " (" + short + ")"
	}
	installHelp(root, f)
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := root.ExecuteContext(ctx)
	// Flag-group conflicts and required flags are checked inside cobra, out of reach of the
	// argument wrappers: they are put in s2s's words here, for every command.
	err = inOurWords(target, nil, err)
	if err != nil && !silent(err) {
		// Plain: the message as written, never capitalised or boxed, so a flag or the user's own
		// input ("--at", "\"abc\" is not a capture ID") reads exactly as they typed it.
		fmt.Fprintf(f.IO.ErrOut, "s2s: %s\n", errorText(err))
		if ExitCode(err) == ExitUsage {
			fmt.Fprintf(f.IO.ErrOut, "Run '%s --help' for usage.\n", usagePath)
		}
	}
	if err == nil && interrupted != nil {
		err = interrupted
		// A bare "context canceled" says nothing the user does not know; anything more (what was
		// left undone) is worth a line.
		if !silent(err) && err.Error() != context.Canceled.Error() {
			fmt.Fprintf(f.IO.ErrOut, "s2s: %s\n", errorText(err))
		}
	}
	return ExitCode(err)
}

// keepInterruptions wraps every command so that an error meaning "interrupted" (exit 130) is
// stored in *into and ends the run quietly (execute says what was left undone, if anything).
func keepInterruptions(c *cobra.Command, into *error) {
	if run := c.RunE; run != nil {
		c.RunE = func(cmd *cobra.Command, args []string) error {
			err := run(cmd, args)
			if err != nil && ExitCode(err) == ExitInterrupted {
				*into = err
				return nil
			}
			return err
		}
	}
	for _, sub := range c.Commands() {
		keepInterruptions(sub, into)
	}
}

// errorText is an error's message made safe for the terminal: messages quote what they could not
// accept (a header, a payload field, a server's answer), which came from outside.
func errorText(err error) string { return termsafe.String(err.Error()) }
