package store

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/s2s-dev/s2s/decode"
)

// vector is one real notification from testdata/vectors/real with the facts its index records.
type vector struct {
	File             string             `json:"file"`
	Kind             string             `json:"kind"`
	NotificationType string             `json:"notificationType"`
	Subtype          string             `json:"subtype"`
	NotificationUUID string             `json:"notificationUUID"`
	Environment      decode.Environment `json:"environment"`
	BundleID         string             `json:"bundleId"`
	AppAppleID       int64              `json:"appAppleId"`
	SignedDate       int64              `json:"signedDate"`

	body []byte // the HTTP body Apple sends: {"signedPayload":"<jws>"}
}

const vectorsDir = "../testdata/vectors"

// loadVectors returns the real notification vectors with their HTTP bodies.
func loadVectors(tb testing.TB) []vector {
	tb.Helper()
	raw, err := os.ReadFile(filepath.Join(vectorsDir, "real", "index.json"))
	if err != nil {
		tb.Fatal(err)
	}
	var all []vector
	if err := json.Unmarshal(raw, &all); err != nil {
		tb.Fatal(err)
	}
	var out []vector
	for _, v := range all {
		if v.Kind != "notification" {
			continue
		}
		jws, err := os.ReadFile(filepath.Join(vectorsDir, v.File))
		if err != nil {
			tb.Fatal(err)
		}
		v.body = []byte(`{"signedPayload":"` + strings.TrimSpace(string(jws)) + `"}`)
		out = append(out, v)
	}
	if len(out) < 10 {
		tb.Fatalf("only %d notification vectors", len(out))
	}
	return out
}

// captureOf builds the capture the receiver would store for a vector.
func captureOf(v vector, received time.Time) *Capture {
	return &Capture{
		ReceivedAt: received,
		Method:     http.MethodPost,
		Path:       "/apple/notifications",
		Headers: http.Header{
			"Content-Type":    {"application/json"},
			"User-Agent":      {"AppStore-Notifications/1.0"},
			"X-Forwarded-For": {"17.58.0.1"},
		},
		RemoteAddr: "127.0.0.1:50123",
		SourceIP:   "17.58.0.1",
		AppleRange: "17.0.0.0/8",
		Body:       v.body,
		Subject: decode.Subject{
			NotificationUUID: v.NotificationUUID,
			Type:             v.NotificationType,
			Subtype:          v.Subtype,
			Environment:      v.Environment,
			BundleID:         v.BundleID,
			AppAppleID:       v.AppAppleID,
		},
		SignedDate:     time.UnixMilli(v.SignedDate).UTC(),
		Trust:          "verified",
		ResponseStatus: 200,
		Latency:        3 * time.Millisecond,
	}
}

// openTemp opens a fresh store in a temporary directory, closed at the end of the test.
func openTemp(tb testing.TB) *Store {
	tb.Helper()
	s, err := Open(filepath.Join(tb.TempDir(), "captures.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func testCtx(tb testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	tb.Cleanup(cancel)
	return ctx
}

// bulkInsert writes captures in large transactions straight through the writer's connection,
// bypassing group commit: it fills benchmark stores in seconds, not the minutes that 100,000
// fsyncs would take. The duplicate check and column mapping are Insert's own.
func bulkInsert(tb testing.TB, s *Store, n int, gen func(i int) *Capture) {
	tb.Helper()
	ctx := context.Background()
	const perTx = 5000
	for start := 0; start < n; start += perTx {
		tx, err := s.wdb.BeginTx(ctx, nil)
		if err != nil {
			tb.Fatal(err)
		}
		for i := start; i < min(start+perTx, n); i++ {
			c := gen(i)
			h, err := marshalHeaders(c.Headers)
			if err != nil {
				tb.Fatal(err)
			}
			if _, _, err := s.insertCapture(tx, c, h); err != nil {
				if err := tx.Rollback(); err != nil {
					tb.Error(err)
				}
				tb.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			tb.Fatal(err)
		}
	}
}

// synthetic generates a varied but deterministic capture population for filters and benchmarks.
var (
	synthTypes = []struct{ typ, sub string }{
		{"DID_RENEW", ""}, {"DID_RENEW", "BILLING_RECOVERY"}, {"SUBSCRIBED", "INITIAL_BUY"},
		{"SUBSCRIBED", "RESUBSCRIBE"}, {"EXPIRED", "VOLUNTARY"}, {"EXPIRED", "BILLING_RETRY"},
		{"DID_CHANGE_RENEWAL_STATUS", "AUTO_RENEW_DISABLED"}, {"DID_CHANGE_RENEWAL_PREF", "UPGRADE"},
		{"DID_FAIL_TO_RENEW", "GRACE_PERIOD"}, {"REFUND", ""}, {"CONSUMPTION_REQUEST", ""},
		{"ONE_TIME_CHARGE", ""}, {"TEST", ""}, {"", ""},
	}
	synthTrust = []decode.Label{"verified", "verified", "verified", "simulated", "invalid", "legacy-v1"}
)

func synthetic(i int, body []byte, base time.Time) *Capture {
	t := synthTypes[i%len(synthTypes)]
	env := decode.EnvSandbox
	if i%4 == 3 {
		env = decode.EnvProduction
	}
	return &Capture{
		ReceivedAt: base.Add(time.Duration(i) * 17 * time.Second),
		Method:     http.MethodPost,
		Path:       "/apple/notifications",
		Headers:    http.Header{"Content-Type": {"application/json"}},
		RemoteAddr: "127.0.0.1:40000",
		SourceIP:   "127.0.0.1",
		Body:       body,
		Subject: decode.Subject{
			NotificationUUID:      fmt.Sprintf("00000000-0000-4000-8000-%012d", i),
			Type:                  t.typ,
			Subtype:               t.sub,
			Environment:           env,
			BundleID:              fmt.Sprintf("com.example.app%d", i%3),
			AppAppleID:            1470168868,
			OriginalTransactionID: fmt.Sprintf("2000000%07d", i%5000),
			TransactionID:         fmt.Sprintf("2000001%07d", i),
			ProductID:             fmt.Sprintf("com.example.sub.%s", []string{"monthly", "yearly", "weekly"}[i%3]),
		},
		SignedDate:     base.Add(time.Duration(i) * 17 * time.Second).Truncate(time.Millisecond),
		Trust:          synthTrust[i%len(synthTrust)],
		ResponseStatus: 200,
		Latency:        2 * time.Millisecond,
	}
}
