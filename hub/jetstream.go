package hub

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// ErrAuth is a NATS server refusing the credentials given (a wrong or missing token or NKey).
var ErrAuth = errors.New("the NATS server refused the credentials")

// Connect dials a NATS URL (a token or user:password in it) and returns the connection with its
// JetStream context; opts add credentials and trust (NKeyAuth, TrustCAs). Once connected, it
// reconnects for as long as it runs, so a hub restart is a pause.
func Connect(ctx context.Context, url, name string, opts ...nats.Option) (*nats.Conn, jetstream.JetStream, error) {
	nc, err := nats.Connect(url, append([]nats.Option{
		nats.Name(name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250 * time.Millisecond),
		nats.Timeout(10 * time.Second),
		// nats.go's default writes the server's words to stderr as they come, over a TUI
		// and unescaped: they are dropped unless the caller logs them (AsyncErrorLog).
		nats.ErrorHandler(func(*nats.Conn, *nats.Subscription, error) {}),
	}, opts...)...)
	if err != nil {
		if errors.Is(err, nats.ErrAuthorization) || strings.Contains(strings.ToLower(err.Error()), "authorization violation") {
			return nil, nil, fmt.Errorf("%w: %s", ErrAuth, Redact(url))
		}
		if terr := tlsError(err, url); terr != nil {
			return nil, nil, terr
		}
		return nil, nil, fmt.Errorf("connecting to NATS at %s: %w", Redact(url), err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, nil, err
	}
	return nc, js, nil
}

// AsyncErrorLog is the client option that logs the errors the server reports after connecting
// (a permission refused, a slow consumer) to log, whose handler escapes them.
func AsyncErrorLog(log *slog.Logger) nats.Option {
	return nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
		log.Warn("NATS", "error", err.Error())
	})
}

// ConsumerErrorLog is AsyncErrorLog for a listener's connection: until opened is set (after
// Consumer.Open succeeds) a permission violation is left out, since Open reports a refused
// consumer itself, in its own words (ErrConsumerNotAllowed), and the server's raw words before
// it would only confuse.
func ConsumerErrorLog(log *slog.Logger, opened *atomic.Bool) nats.Option {
	return nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
		if !opened.Load() && errors.Is(err, nats.ErrPermissionViolation) {
			return
		}
		log.Warn("NATS", "error", err.Error())
	})
}

// Redact is url without the password or token, for messages.
func Redact(url string) string {
	scheme, rest, ok := strings.Cut(url, "://")
	if !ok {
		return url
	}
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		rest = "***@" + rest[at+1:]
	}
	return scheme + "://" + rest
}

// StreamOptions shape the captures stream.
type StreamOptions struct {
	Name     string        // DefaultStream when empty
	MaxAge   time.Duration // DefaultMaxAge when 0: how long an offline listener can catch up
	MaxBody  int64         // the hub's --max-body: messages are the body plus headers
	Replicas int           // 1 when 0; 3 on a three-node cluster
}

// EnsureStream creates the captures stream, or updates it to o.
func EnsureStream(ctx context.Context, js jetstream.JetStream, o StreamOptions) (jetstream.Stream, error) {
	if o.Name == "" {
		o.Name = DefaultStream
	}
	if o.MaxAge == 0 {
		o.MaxAge = DefaultMaxAge
	}
	if o.Replicas == 0 {
		o.Replicas = 1
	}
	s, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        o.Name,
		Description: "s2s hub captures: the raw body of each notification with its request headers",
		Subjects:    []string{SubjectPrefix + ">"},
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.LimitsPolicy,
		MaxAge:      o.MaxAge,
		MaxMsgSize:  int32(o.MaxBody + headerOverhead),
		Duplicates:  2 * time.Minute,
		Replicas:    o.Replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("creating the JetStream stream %s: %w", o.Name, err)
	}
	return s, nil
}

// MaxMsg is the largest NATS payload a hub with this --max-body needs.
func MaxMsg(maxBody int64) int32 { return int32(maxBody + headerOverhead) }
