package store

import (
	"errors"
	"net/http"
	"time"

	"github.com/s2s-dev/s2s/decode"
)

// ErrNotFound is returned when no capture or delivery has the asked-for ID.
var ErrNotFound = errors.New("not found")

// Capture is one HTTP request as received, byte for byte, with the decoded summary columns that
// lists and filters need.
type Capture struct {
	ID         int64       `json:"id"`
	ReceivedAt time.Time   `json:"receivedAt"`
	Method     string      `json:"method"`
	Path       string      `json:"path"`
	Query      string      `json:"query,omitempty"`
	Headers    http.Header `json:"headers"`
	RemoteAddr string      `json:"remoteAddr"`           // the TCP peer
	SourceIP   string      `json:"sourceIp,omitempty"`   // the client: the peer, or the tunnel's forwarded-for
	AppleRange string      `json:"appleRange,omitempty"` // the Apple range SourceIP falls in, "" when outside
	Body       []byte      `json:"-"`                    // exact bytes; not in list results
	BodySize   int         `json:"bodySize"`

	// Subject is what the body is about (decoded; empty when it could not be read). Its fields
	// are promoted: c.Type, c.Environment, ...
	decode.Subject
	SignedDate       time.Time    `json:"signedDate,omitzero"`
	Trust            decode.Label `json:"trust"`
	TrustClass       decode.Class `json:"trustClass,omitempty"`
	TrustMessage     string       `json:"trustMessage,omitempty"`
	IdentityMismatch string       `json:"identityMismatch,omitempty"` // expected bundle/app/env not met
	DuplicateOf      int64        `json:"duplicateOf,omitempty"`      // first capture with this notificationUUID

	ResponseStatus int           `json:"responseStatus,omitempty"` // what s2s answered; 0 until known
	Latency        time.Duration `json:"-"`                        // receive to answer; JSON: latencyMs

	// Kind is what the body held (notification, realtime-request, ...); empty for
	// captures stored before s2s recorded it.
	Kind decode.Kind `json:"kind,omitempty"`
	// Answer is the body s2s answered a real-time request with (the file's, or the forward
	// target's), and AnswerProblems what is wrong with it as Apple's response body or its timing;
	// both only from Get, and only for real-time requests.
	Answer         []byte   `json:"-"`
	AnswerProblems []string `json:"answerProblems,omitempty"`

	// HubPending is set by s2s hub: the capture is in the outbox until JetStream acknowledges it.
	HubPending bool `json:"hubPending,omitempty"`
	// HubOrigin names the hub capture this one was received from (HUB-ID/CAPTURE-ID), "" when it
	// arrived over HTTP. Unique in a store: a redelivered message is not a new capture.
	HubOrigin string `json:"hubOrigin,omitempty"`
	// HubRedelivery is set by Insert when a capture with the same HubOrigin was already stored:
	// nothing was written and ID is that capture's.
	HubRedelivery bool `json:"-"`
}

// Delivery is one forwarding (or replay) attempt of a capture to a target.
type Delivery struct {
	ID          int64         `json:"id"`
	CaptureID   int64         `json:"captureId"`
	Target      string        `json:"target"`
	Attempt     int           `json:"attempt"` // 1-based
	StartedAt   time.Time     `json:"startedAt"`
	Status      int           `json:"status,omitempty"`   // HTTP status, 0 when no answer
	Latency     time.Duration `json:"-"`                  // JSON: latencyMs
	Response    string        `json:"response,omitempty"` // start of the response body
	Error       string        `json:"error,omitempty"`
	State       string        `json:"state"`                // DeliveryPending, DeliverySucceeded, DeliveryFailed
	NextRetryAt time.Time     `json:"nextRetryAt,omitzero"` // set while State is pending
	Replay      bool          `json:"replay,omitempty"`     // sent by s2s replay or the TUI, not by forwarding
}

const (
	DeliveryPending   = "pending"   // failed, will be retried at NextRetryAt
	DeliverySucceeded = "succeeded" // 2xx
	DeliveryFailed    = "failed"    // gave up
)

// Stats are counts for `s2s captures stats` and the TUI header.
type Stats struct {
	Total   int            `json:"total"`
	ByType  map[string]int `json:"byType"`
	ByTrust map[string]int `json:"byTrust"`
	ByDay   map[string]int `json:"byDay"` // YYYY-MM-DD (UTC)
	// LastReceivedAt is when the newest capture arrived (imports from Apple's history aside),
	// zero when none did: how long the receiver has heard nothing.
	LastReceivedAt time.Time `json:"lastReceivedAt,omitzero"`
}

// SetSummary fills the decoded columns from a decode.Summary: its Subject, signing date and kind,
// and its verdict (label, class, message), which a capture's JSON names trust, trustClass and
// trustMessage.
func (c *Capture) SetSummary(s decode.Summary) {
	c.Subject, c.SignedDate, c.Kind = s.Subject, s.SignedDate, s.Kind
	c.Trust, c.TrustClass, c.TrustMessage = s.Label, s.Class, s.Message
}
