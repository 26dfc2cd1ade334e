package subscription

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/s2s-dev/s2s/appstore"
	"github.com/s2s-dev/s2s/decode"
	"github.com/s2s-dev/s2s/relay"
	"github.com/s2s-dev/s2s/store"
)

func listed(uuid string, results ...appstore.SendAttemptResult) Notification {
	n := Notification{Notification: decode.Summary{Subject: decode.Subject{NotificationUUID: uuid}, Label: decode.LabelVerified, SignedDate: time.Unix(1_800_000_000, 0)}}
	for i, r := range results {
		n.SendAttempts = append(n.SendAttempts, appstore.SendAttempt{AttemptDate: appstore.Millis(1_800_000_000_000 + int64(i)*60_000), SendAttemptResult: r})
	}
	return n
}

// One notification Apple lists once that arrived twice is one row with two receptions; one that
// never arrived carries Apple's last result and the fix; an import is not a reception and a
// replay is marked; captures Apple does not list say why.
func TestJoinCaptures(t *testing.T) {
	signed := time.Unix(1_800_000_000, 0)
	v := &View{HistoryStart: signed.Add(-24 * time.Hour), Notifications: []Notification{
		listed("u-twice", appstore.ResultTimedOut, appstore.ResultSuccess),
		listed("u-never", appstore.ResultTLSIssue, appstore.ResultTLSIssue),
		listed("u-replayed", appstore.ResultTimedOut),
	}}
	capture := func(id int64, uuid, method string, trust decode.Label, h http.Header) store.Capture {
		return store.Capture{ID: id, Subject: decode.Subject{NotificationUUID: uuid}, Method: method, Trust: trust, Headers: h,
			SignedDate: signed, ReceivedAt: signed.Add(time.Duration(id) * time.Minute), ResponseStatus: 200}
	}
	replay := http.Header{}
	replay.Set(relay.HeaderReplay, "true")
	JoinCaptures(v, []store.Capture{
		capture(1, "u-twice", "POST", "verified", nil),
		capture(2, "u-twice", "POST", "verified", nil),
		capture(3, "u-replayed", store.MethodImport, "verified", nil),
		capture(4, "u-replayed", "POST", "verified", replay),
		capture(5, "u-local", "POST", "simulated", nil),
		capture(6, "u-old", "POST", "verified", nil),
	})
	twice, never, replayed := v.Notifications[0], v.Notifications[1], v.Notifications[2]
	if twice.NeverReceived || twice.Deliveries() != 2 || len(twice.Received) != 2 || twice.Received[1].CaptureID != 2 {
		t.Errorf("twice: %+v", twice)
	}
	if d, ok := twice.Received[0].Delay(); !ok || d != time.Minute || *twice.Received[0].DelayMs != 60_000 || !twice.Received[0].Late {
		t.Errorf("delay %v %v", d, ok)
	}
	if !never.NeverReceived || never.LastResult != appstore.ResultTLSIssue || !strings.HasPrefix(never.Fix, "Serve TLS 1.2") {
		t.Errorf("never: %+v", never)
	}
	if !replayed.NeverReceived || replayed.ImportedID != 3 || len(replayed.Received) != 1 || !replayed.Received[0].Replayed {
		t.Errorf("replayed: %+v", replayed)
	}
	if len(v.LocalOnly) != 2 || !strings.HasPrefix(v.LocalOnly[0].Reason, "simulated") || v.LocalOnly[1].CaptureID != 6 {
		t.Errorf("local only: %+v", v.LocalOnly)
	}
	// Joining again (after an import) starts over rather than adding twice.
	JoinCaptures(v, []store.Capture{capture(1, "u-twice", "POST", "verified", nil)})
	if len(v.Notifications[0].Received) != 1 || len(v.LocalOnly) != 0 || v.Notifications[2].ImportedID != 0 {
		t.Errorf("second join: %+v", v)
	}
}

// An invalid payload's notificationUUID is not trusted to match a capture.
func TestJoinIgnoresInvalidUUIDs(t *testing.T) {
	n := listed("u")
	n.Notification.Label = decode.LabelInvalid
	v := &View{Notifications: []Notification{n}}
	JoinCaptures(v, []store.Capture{{ID: 1, Subject: decode.Subject{NotificationUUID: "u"}, Method: "POST", Trust: "verified"}})
	if !v.Notifications[0].NeverReceived || len(v.LocalOnly) != 1 {
		t.Errorf("%+v", v)
	}
}

// Apple's rules are checked before any request: the history starts inside what Apple keeps.
func TestRequest(t *testing.T) {
	now := time.Now()
	for _, env := range []decode.Environment{decode.EnvSandbox, decode.EnvProduction} {
		req, err := Request("2000000000000001", env, now)
		if err != nil {
			t.Fatalf("%s: %v", env, err)
		}
		if req.StartDate.Time().Before(now.Add(-appstore.HistoryRetention(env))) || req.EndDate != appstore.ToMillis(now) || req.NotificationType != "" {
			t.Errorf("%s: %+v", env, req)
		}
	}
}
