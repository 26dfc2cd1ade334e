package tui

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/s2s-dev/s2s/decode"
	"github.com/s2s-dev/s2s/store"
)

// fakeSource is an in-memory Source that records every List call, so tests can check that the
// model pages with keysets and never asks for everything.
type fakeSource struct {
	mu         sync.Mutex
	caps       []store.Capture // ascending ID
	deliveries map[int64][]store.Delivery
	lists      []store.Filter
	gets       []int64

	// t and inUpdate make every read fail the test when it happens inside Update, which must do
	// no I/O (the harness sets inUpdate around each Update call).
	t        testing.TB
	inUpdate atomic.Bool
}

// io is called by every read: a read from inside Update fails the test.
func (f *fakeSource) io(method string) {
	if f.t != nil && f.inUpdate.Load() {
		f.t.Errorf("Source.%s called inside Update: reads belong in Cmds", method)
	}
}

func newFake(caps ...store.Capture) *fakeSource {
	f := &fakeSource{deliveries: map[int64][]store.Delivery{}}
	f.caps = append(f.caps, caps...)
	sort.Slice(f.caps, func(i, j int) bool { return f.caps[i].ID < f.caps[j].ID })
	return f
}

func (f *fakeSource) add(c store.Capture) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.caps = append(f.caps, c)
}

func (f *fakeSource) listCalls() []store.Filter {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]store.Filter(nil), f.lists...)
}

func (f *fakeSource) List(_ context.Context, flt store.Filter) ([]store.Capture, error) {
	f.io("List")
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lists = append(f.lists, flt)
	limit := flt.Limit
	if limit == 0 {
		limit = 100
	}
	var out []store.Capture
	if flt.Ascending {
		for i := range f.caps {
			if c := f.caps[i]; flt.Match(&c) && len(out) < limit {
				c.Body = nil
				out = append(out, c)
			}
		}
		return out, nil
	}
	for i := len(f.caps) - 1; i >= 0 && len(out) < limit; i-- {
		if c := f.caps[i]; flt.Match(&c) {
			c.Body = nil
			out = append(out, c)
		}
	}
	return out, nil
}

func (f *fakeSource) Count(_ context.Context, flt store.Filter) (int, error) {
	f.io("Count")
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for i := range f.caps {
		if flt.Match(&f.caps[i]) {
			n++
		}
	}
	return n, nil
}

func (f *fakeSource) Get(_ context.Context, id int64) (*store.Capture, error) {
	f.io("Get")
	f.mu.Lock()
	defer f.mu.Unlock()
	f.gets = append(f.gets, id)
	for i := range f.caps {
		if f.caps[i].ID == id {
			c := f.caps[i]
			return &c, nil
		}
	}
	return nil, store.ErrNotFound
}

func (f *fakeSource) Stats(context.Context) (store.Stats, error) {
	f.io("Stats")
	f.mu.Lock()
	defer f.mu.Unlock()
	s := store.Stats{Total: len(f.caps), ByType: map[string]int{}, ByTrust: map[string]int{}}
	for _, c := range f.caps {
		s.ByType[c.Type]++
		s.ByTrust[string(c.Trust)]++
		if c.Method != store.MethodImport && c.ReceivedAt.After(s.LastReceivedAt) {
			s.LastReceivedAt = c.ReceivedAt
		}
	}
	return s, nil
}

func (f *fakeSource) Deliveries(_ context.Context, id int64) ([]store.Delivery, error) {
	f.io("Deliveries")
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]store.Delivery(nil), f.deliveries[id]...), nil
}

func (f *fakeSource) Forwardings(_ context.Context, ids []int64) (map[int64]store.Forwarding, error) {
	f.io("Forwardings")
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[int64]store.Forwarding{}
	for _, id := range ids {
		for _, d := range f.deliveries[id] {
			fw := out[id]
			fw.Latest = d
			if d.State == store.DeliverySucceeded || !fw.Accepted() {
				fw.Best = d
			}
			out[id] = fw
		}
	}
	return out, nil
}

// base is the fixed "now" of every test: times and goldens never depend on the clock.
var base = time.Date(2025, 10, 16, 5, 30, 0, 0, time.UTC)

// cet is a fixed local zone so the Summary shows local time and UTC apart.
var cet = time.FixedZone("CEST", 2*3600)

// lifeOfASubscription mirrors the real sandbox vectors 05-19 (one subscription of one app) plus a
// TEST, a production one and an invalid one: the shapes a developer sees.
func lifeOfASubscription() []store.Capture {
	type ev struct {
		typ, sub      string
		trust         decode.Label
		class         decode.Class
		env           decode.Environment
		product, otid string
		signed        time.Time
	}
	const otid, product = "2000001034582925", "com.getsession.org.pro_sub"
	evs := []ev{
		{"TEST", "", "verified", "", "Sandbox", "", "", time.Date(2025, 9, 5, 1, 24, 32, 0, time.UTC)},
		{"DID_RENEW", "", "verified", "", "Sandbox", product, otid, time.Date(2025, 10, 1, 7, 8, 38, 0, time.UTC)},
		{"EXPIRED", "VOLUNTARY", "verified", "", "Sandbox", product, otid, time.Date(2025, 10, 1, 7, 33, 32, 0, time.UTC)},
		{"SUBSCRIBED", "RESUBSCRIBE", "verified", "", "Sandbox", product, otid, time.Date(2025, 10, 2, 7, 6, 16, 0, time.UTC)},
		{"DID_CHANGE_RENEWAL_STATUS", "AUTO_RENEW_DISABLED", "verified", "", "Sandbox", product, otid, time.Date(2025, 10, 2, 7, 7, 35, 0, time.UTC)},
		{"DID_FAIL_TO_RENEW", "GRACE_PERIOD", "simulated", "", "Sandbox", "com.example.monthly", "7000000000000001", time.Date(2025, 10, 10, 9, 0, 0, 0, time.UTC)},
		{"CONSUMPTION_REQUEST", "", "verified", "", "Production", "com.jrjj.keysns.coins", "570001177702520", time.Date(2023, 6, 28, 8, 38, 32, 0, time.UTC)},
		{"REFUND", "", "verified", "", "Sandbox", product, otid, time.Date(2025, 10, 16, 5, 22, 2, 0, time.UTC)},
		{"DID_RENEW", "", "invalid", "chain", "Sandbox", "com.example.monthly", "7000000000000001", time.Date(2025, 10, 16, 5, 25, 0, 0, time.UTC)},
	}
	caps := make([]store.Capture, len(evs))
	for i, e := range evs {
		id := int64(i + 1)
		body := fmt.Sprintf(`{"signedPayload":"eyJhbGciOiJFUzI1NiJ9.capture-%d.sig"}`, id)
		caps[i] = store.Capture{
			ID: id, ReceivedAt: base.Add(time.Duration(i-len(evs)) * time.Minute), Method: "POST", Path: "/apple/notifications",
			Headers:    http.Header{"Content-Type": {"application/json"}, "User-Agent": {"AppStore-Notifications/1.0"}},
			RemoteAddr: "127.0.0.1:50123", SourceIP: "17.58.0.10", AppleRange: "17.0.0.0/8",
			Body: []byte(body), BodySize: len(body),
			Subject: decode.Subject{
				NotificationUUID: fmt.Sprintf("a0b1c2d3-0000-4000-8000-%012d", id), Type: e.typ, Subtype: e.sub,
				Environment: e.env, BundleID: "com.loki-project.loki-messenger", AppAppleID: 1470168868,
				OriginalTransactionID: e.otid, TransactionID: fmt.Sprintf("20000010%08d", id), ProductID: e.product,
			},
			SignedDate: e.signed, Trust: e.trust, TrustClass: e.class, ResponseStatus: 200, Latency: time.Duration(id) * time.Millisecond,
		}
		if e.trust == "invalid" {
			caps[i].TrustMessage = "the certificate chain does not lead to Apple Root CA - G3"
			caps[i].AppleRange = ""
			caps[i].SourceIP = "203.0.113.9"
		}
	}
	return caps
}

// fakeDecoder returns a fixed decoded notification per capture, with its transaction and
// renewal info decoded in place, as the verifier would give it.
func fakeDecoder(caps []store.Capture) Decoder {
	byBody := map[string]*store.Capture{}
	for i := range caps {
		byBody[string(caps[i].Body)] = &caps[i]
	}
	return func(body []byte) *decode.Decoded {
		c, ok := byBody[string(body)]
		if !ok {
			bad := decode.Verification{Label: decode.LabelInvalid, Class: decode.ClassFormat, Message: "not an App Store payload"}
			return &decode.Decoded{Kind: decode.KindUnknown, Raw: body, Verification: bad, Own: bad}
		}
		ver := decode.Verification{Label: decode.Label(c.Trust), Class: decode.Class(c.TrustClass), Message: "fixture"}
		return decodedNotification(ver,
			fmt.Sprintf(`{"notificationType":%q,"subtype":%q,"notificationUUID":%q,"version":"2.0","signedDate":%d,`+
				`"data":{"environment":%q,"bundleId":%q,"appAppleId":%d,"status":1,"signedTransactionInfo":"x.tx.sig","signedRenewalInfo":"x.ri.sig"}}`,
				c.Type, c.Subtype, c.NotificationUUID, c.SignedDate.UnixMilli(), c.Environment, c.BundleID, c.AppAppleID),
			fmt.Sprintf(`{"transactionId":%q,"originalTransactionId":%q,"productId":%q,"purchaseDate":%d,"expiresDate":%d,"price":2990,"currency":"EUR","inAppOwnershipType":"PURCHASED"}`,
				c.TransactionID, c.OriginalTransactionID, c.ProductID, c.SignedDate.Add(-time.Hour).UnixMilli(), c.SignedDate.Add(30*24*time.Hour).UnixMilli()),
			fmt.Sprintf(`{"autoRenewStatus":0,"autoRenewProductId":%q,"renewalDate":%d}`, c.ProductID, c.SignedDate.Add(30*24*time.Hour).UnixMilli()))
	}
}

// decodedNotification builds what the verifier gives for a notification whose payload, nested
// transaction and renewal info are the JSON given, every part with the verdict ver: the typed
// fields and the exact payloads, so the Summary and the Decoded tab read them as they would a
// real one. An empty transaction or renewal info is left out.
func decodedNotification(ver decode.Verification, payload, transaction, renewal string) *decode.Decoded {
	d := &decode.Decoded{Kind: decode.KindNotification, Own: ver, Verification: ver, Payload: []byte(payload)}
	mustUnmarshal(payload, &d.Notification)
	d.Verification.Nested = map[string]*decode.Verification{}
	if transaction != "" {
		d.SignedTransactionInfo = &decode.Decoded{Kind: decode.KindTransaction, Own: ver, Verification: ver, Payload: []byte(transaction)}
		mustUnmarshal(transaction, &d.SignedTransactionInfo.Transaction)
		d.Verification.Nested["signedTransactionInfo"] = &ver
	}
	if renewal != "" {
		d.SignedRenewalInfo = &decode.Decoded{Kind: decode.KindRenewalInfo, Own: ver, Verification: ver, Payload: []byte(renewal)}
		mustUnmarshal(renewal, &d.SignedRenewalInfo.RenewalInfo)
		d.Verification.Nested["signedRenewalInfo"] = &ver
	}
	return d
}

func mustUnmarshal(js string, v any) {
	if err := json.Unmarshal([]byte(js), v); err != nil {
		panic(fmt.Sprintf("%v: %s", err, js))
	}
}
