// Package hub carries captures from s2s hub to developers' listeners over NATS JetStream: the
// hub publishes every capture it stored (an outbox: published until acknowledged, marked, and
// republished after a crash), and a listener consumes them with a durable consumer. Messages are
// untrusted input for the listener: bounded, parsed strictly, and their body verified again.
package hub

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/s2s-dev/s2s/store"
)

// Stream and subjects: one subject per capture under SubjectPrefix.
const (
	DefaultStream = "S2S_CAPTURES"
	SubjectPrefix = "s2s.captures."
	DefaultMaxAge = 7 * 24 * time.Hour
	// headerOverhead is room for the request's headers beside the body: the receiver reads at
	// most 64 KiB of them, and JSON may write a byte as six (\u00XX).
	headerOverhead = 512 << 10
)

// Message headers. Nats-Msg-Id (the hub capture identity) lets JetStream drop a republished
// capture; the listener's store keeps it unique beyond JetStream's window.
const (
	hOrigin     = "S2s-Origin"      // HUB-ID/CAPTURE-ID
	hReceivedAt = "S2s-Received-At" // RFC 3339, nanoseconds
	hMethod     = "S2s-Method"
	hPath       = "S2s-Path"
	hQuery      = "S2s-Query"
	hRemote     = "S2s-Remote-Addr"
	hSource     = "S2s-Source-Ip"
	hHeaders    = "S2s-Headers" // JSON object of the request's http.Header
	hSummary    = "S2s-Summary" // the hub's decoded summary, JSON: for people, never trusted
)

// Origin is a hub capture's identity.
func Origin(hubID string, captureID int64) string {
	return hubID + "/" + strconv.FormatInt(captureID, 10)
}

// Encode turns a stored capture into the message the hub publishes.
func Encode(hubID string, c *store.Capture) (*nats.Msg, error) {
	m := nats.NewMsg(SubjectPrefix + strconv.FormatInt(c.ID, 10))
	m.Data = c.Body
	headers, err := json.Marshal(c.Headers)
	if err != nil {
		return nil, err
	}
	summary, err := json.Marshal(struct {
		Type, Subtype, Environment, BundleID, Trust string
	}{c.Type, c.Subtype, string(c.Environment), c.BundleID, string(c.Trust)})
	if err != nil {
		return nil, err
	}
	origin := Origin(hubID, c.ID)
	m.Header.Set(nats.MsgIdHdr, origin)
	m.Header.Set(hOrigin, origin)
	m.Header.Set(hReceivedAt, c.ReceivedAt.UTC().Format(time.RFC3339Nano))
	m.Header.Set(hMethod, c.Method)
	m.Header.Set(hPath, c.Path)
	m.Header.Set(hQuery, c.Query)
	m.Header.Set(hRemote, c.RemoteAddr)
	m.Header.Set(hSource, c.SourceIP)
	m.Header.Set(hHeaders, string(headers))
	m.Header.Set(hSummary, string(summary))
	return m, nil
}

// Decode reads a message into a capture to store, strictly: every header present exactly once,
// the origin well formed, the body within maxBody. Its summary is left empty: the listener
// verifies the body itself.
func Decode(h nats.Header, data []byte, maxBody int64) (*store.Capture, error) {
	if int64(len(data)) > maxBody {
		return nil, fmt.Errorf("body of %d bytes over --max-body %d", len(data), maxBody)
	}
	get := func(k string, required bool) (string, error) {
		v := h.Values(k)
		switch {
		case len(v) == 0 && !required:
			return "", nil
		case len(v) != 1:
			return "", fmt.Errorf("header %s: want exactly one value, got %d", k, len(v))
		case len(v[0]) > headerOverhead:
			return "", fmt.Errorf("header %s: too long", k)
		}
		return v[0], nil
	}
	var (
		c   store.Capture
		err error
		vs  [9]string
	)
	for i, k := range []string{hOrigin, hReceivedAt, hMethod, hPath, hQuery, hRemote, hSource, hHeaders, hSummary} {
		if vs[i], err = get(k, k == hOrigin || k == hReceivedAt || k == hMethod); err != nil {
			return nil, err
		}
	}
	hubID, id, ok := strings.Cut(vs[0], "/")
	n, perr := strconv.ParseInt(id, 10, 64)
	if !ok || hubID == "" || !validID(hubID) || perr != nil || n <= 0 {
		return nil, fmt.Errorf("header %s %q is not HUB-ID/CAPTURE-ID", hOrigin, vs[0])
	}
	if mid := h.Get(nats.MsgIdHdr); mid != "" && mid != vs[0] {
		return nil, errors.New("message ID and origin differ")
	}
	c.HubOrigin = vs[0]
	if c.ReceivedAt, err = time.Parse(time.RFC3339Nano, vs[1]); err != nil {
		return nil, fmt.Errorf("header %s: %w", hReceivedAt, err)
	}
	c.Method, c.Path, c.Query, c.RemoteAddr, c.SourceIP = vs[2], vs[3], vs[4], vs[5], vs[6]
	if vs[7] != "" {
		dec := json.NewDecoder(strings.NewReader(vs[7]))
		var hd http.Header
		if err := dec.Decode(&hd); err != nil || dec.More() {
			return nil, fmt.Errorf("header %s is not a JSON object of header lists", hHeaders)
		}
		c.Headers = hd
	}
	c.Body = data
	if c.Body == nil {
		c.Body = []byte{}
	}
	return &c, nil
}

func validID(s string) bool {
	if len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}
