package cmd

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/s2s-dev/s2s/decode"
	"github.com/s2s-dev/s2s/receiver"
	"github.com/s2s-dev/s2s/store"
)

// realtimeListenOptions are listen's flags for Retention Messaging real-time requests.
type realtimeListenOptions struct {
	ResponseFile string
	Budget       time.Duration
	hub          bool // s2s hub's flags: it has no --forward-to, and alone answers Apple

	config receiver.Realtime // filled by load
}

// addFlags adds the flags, worded for s2s hub when hub is set.
func (o *realtimeListenOptions) addFlags(fs *pflag.FlagSet, hub bool) {
	o.hub = hub
	usage := "answer Retention Messaging real-time requests with the JSON body in `FILE` (checked at start); with --forward-to, your server's answer is passed through instead"
	if hub {
		usage = "answer Retention Messaging real-time requests with the JSON body in `FILE` (checked at start): the hub alone answers Apple; listeners fed by it only observe the requests (their --forward-to answers are not sent to Apple)"
	}
	fs.StringVar(&o.ResponseFile, "realtime-response", "", usage)
	fs.DurationVar(&o.Budget, "realtime-budget", receiver.DefaultRealtimeBudget, "flag answers to real-time requests slower than this (Apple's)")
}

// load reads and validates --realtime-response: a body Apple could not use is refused at start.
func (o *realtimeListenOptions) load(f *Factory) error {
	if o.Budget <= 0 {
		return usageErrorf("--realtime-budget must be greater than 0 (Apple's is %s)", receiver.DefaultRealtimeBudget)
	}
	o.config.Budget = o.Budget
	if o.hub {
		o.config.NoBodyFix = "start s2s hub with --realtime-response FILE (the hub alone answers Apple; listeners fed by it only observe)"
	}
	if o.ResponseFile == "" {
		return nil
	}
	fh, err := os.Open(o.ResponseFile)
	if err != nil {
		return usageErrorf("--realtime-response: %v", err)
	}
	defer fh.Close()
	body, err := io.ReadAll(io.LimitReader(fh, decode.MaxRealtimeResponse+1))
	if err != nil {
		return usageErrorf("--realtime-response: %v", err)
	}
	if _, problems := decode.ValidateRealtimeResponse(body); len(problems) > 0 {
		return usageErrorf("--realtime-response %s is not a response body Apple can use: %s", o.ResponseFile, strings.Join(problems, "; "))
	}
	o.config.Response = body
	_ = f
	return nil
}

// realtimeAnswerNote is the one-line verdict on a real-time request's answer, for the line
// printer. A capture this listener did not answer (one a hub received, and answered) has no
// answer here to call valid or invalid; ok tells the printer which style to use.
func realtimeAnswerNote(c *store.Capture) (note string, ok bool) {
	problems := c.AnswerProblems
	switch {
	case c.ResponseStatus == 0 && c.HubOrigin != "":
		return "answer: none here (answered by the hub)", true
	case c.ResponseStatus == 0:
		return "answer: none recorded", true
	case len(problems) == 0:
		return "answer valid", true
	}
	s := "answer INVALID: " + problems[0]
	if len(problems) > 1 {
		s += fmt.Sprintf(" (+%d more)", len(problems)-1)
	}
	return s, false
}
