package decode_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/s2s-dev/s2s/decode"
)

const vectors = "../testdata/vectors"

// fixedNow is the clock of every test: a day on which the 2021 and 2023 leaves have expired and
// the 2025 leaf is valid.
var fixedNow = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func clock() time.Time { return fixedNow }

// realVector is one entry of real/index.json.
type realVector struct {
	Kind             string             `json:"kind"`
	File             string             `json:"file"`
	NotificationType *string            `json:"notificationType"`
	Subtype          *string            `json:"subtype"`
	NotificationUUID string             `json:"notificationUUID"`
	Environment      decode.Environment `json:"environment"`
	BundleID         string             `json:"bundleId"`
	AppAppleID       *int64             `json:"appAppleId"`
	Status           *int               `json:"status"`
	SignedDate       *int64             `json:"signedDate"`
	EffectiveTimeMS  int64              `json:"effective_time_ms"`
	LeafSerial       string             `json:"leaf_serial"`
	LeafNotAfter     string             `json:"leaf_not_after"`
	TransactionID    string             `json:"transactionId"`
	OrigTxID         string             `json:"originalTransactionId"`
	ProductID        string             `json:"productId"`
	AutoRenewStatus  *int               `json:"autoRenewStatus"`
	HasTx            bool               `json:"hasSignedTransactionInfo"`
	HasRenewal       bool               `json:"hasSignedRenewalInfo"`
	TxSummary        *struct {
		TransactionID         string             `json:"transactionId"`
		OriginalTransactionID string             `json:"originalTransactionId"`
		ProductID             string             `json:"productId"`
		Type                  string             `json:"type"`
		Environment           decode.Environment `json:"environment"`
		BundleID              string             `json:"bundleId"`
		SignedDate            int64              `json:"signedDate"`
	} `json:"signedTransactionInfo_summary"`
	RenewalSummary *struct {
		OriginalTransactionID string             `json:"originalTransactionId"`
		ProductID             string             `json:"productId"`
		AutoRenewStatus       *int               `json:"autoRenewStatus"`
		Environment           decode.Environment `json:"environment"`
		SignedDate            int64              `json:"signedDate"`
	} `json:"signedRenewalInfo_summary"`
}

func loadRealIndex(t testing.TB) []realVector {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(vectors, "real", "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	var idx []realVector
	if err := json.Unmarshal(b, &idx); err != nil {
		t.Fatal(err)
	}
	if len(idx) != 27 {
		t.Fatalf("real/index.json lists %d vectors, want 27", len(idx))
	}
	return idx
}

func readVector(t testing.TB, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(vectors, rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRealVectors: every JWS signed by Apple verifies at its effective time, with the identity
// the index gives enforced, and decodes to the fields the index lists.
func TestRealVectors(t *testing.T) {
	for _, vec := range loadRealIndex(t) {
		t.Run(filepath.Base(vec.File), func(t *testing.T) {
			opts := decode.Options{Clock: clock, BundleID: vec.BundleID, Environment: vec.Environment}
			if vec.AppAppleID != nil {
				opts.AppAppleID = *vec.AppAppleID
			}
			wantSource := "signedDate"
			if vec.SignedDate == nil {
				// Early-2022 data without signedDate: checked at the index's effective time.
				opts.At = time.UnixMilli(vec.EffectiveTimeMS)
				wantSource = "at"
			}
			d := decode.NewVerifier(opts).Decode(readVector(t, vec.File))
			ver := d.Verification
			if ver.Label != decode.LabelVerified {
				t.Fatalf("label %s/%s: %s", ver.Label, ver.Class, ver.Message)
			}
			if ver.TimeSource != wantSource || !ver.EffectiveTime.Equal(time.UnixMilli(vec.EffectiveTimeMS)) {
				t.Errorf("checked at %s (%s), want %d (%s)", ver.EffectiveTime, ver.TimeSource, vec.EffectiveTimeMS, wantSource)
			}
			if ver.Leaf == nil || ver.Leaf.Serial != vec.LeafSerial {
				t.Errorf("leaf %+v, want serial %s", ver.Leaf, vec.LeafSerial)
			}
			if ver.Root != "Apple Root CA - G3" {
				t.Errorf("root %q", ver.Root)
			}
			s := d.Summary()
			if s.Environment != vec.Environment || s.BundleID != vec.BundleID {
				t.Errorf("summary env %q bundle %q, want %q %q", s.Environment, s.BundleID, vec.Environment, vec.BundleID)
			}
			switch vec.Kind {
			case "notification":
				checkNotification(t, d, vec)
			case "transaction":
				if d.Kind != decode.KindTransaction {
					t.Fatalf("kind %s", d.Kind)
				}
				tx := d.Transaction
				if tx.TransactionID != vec.TransactionID || tx.OriginalTransactionID != vec.OrigTxID || tx.ProductID != vec.ProductID {
					t.Errorf("transaction %+v", tx)
				}
			case "renewalInfo":
				if d.Kind != decode.KindRenewalInfo {
					t.Fatalf("kind %s", d.Kind)
				}
				r := d.RenewalInfo
				if r.OriginalTransactionID != vec.OrigTxID || r.ProductID != vec.ProductID {
					t.Errorf("renewal info %+v", r)
				}
				if vec.AutoRenewStatus != nil && (r.AutoRenewStatus == nil || *r.AutoRenewStatus != *vec.AutoRenewStatus) {
					t.Errorf("autoRenewStatus %v, want %d", r.AutoRenewStatus, *vec.AutoRenewStatus)
				}
			default:
				t.Fatalf("unknown kind %q in the index", vec.Kind)
			}
		})
	}
}

func checkNotification(t *testing.T, d *decode.Decoded, vec realVector) {
	t.Helper()
	if d.Kind != decode.KindNotification || d.Notification == nil {
		t.Fatalf("kind %s", d.Kind)
	}
	n := d.Notification
	if string(n.NotificationType) != *vec.NotificationType || n.NotificationUUID != vec.NotificationUUID {
		t.Errorf("type %s uuid %s", n.NotificationType, n.NotificationUUID)
	}
	if !n.NotificationType.Known() {
		t.Errorf("type %s not known", n.NotificationType)
	}
	if vec.Subtype != nil && string(n.Subtype) != *vec.Subtype || vec.Subtype == nil && n.Subtype != "" {
		t.Errorf("subtype %q", n.Subtype)
	}
	if n.Data == nil {
		t.Fatal("no data")
	}
	if vec.AppAppleID != nil && n.Data.AppAppleID != *vec.AppAppleID || vec.AppAppleID == nil && n.Data.AppAppleID != 0 {
		t.Errorf("appAppleId %d", n.Data.AppAppleID)
	}
	if vec.Status != nil && n.Data.Status != *vec.Status {
		t.Errorf("status %d, want %d", n.Data.Status, *vec.Status)
	}
	if (d.SignedTransactionInfo != nil) != vec.HasTx || (d.SignedRenewalInfo != nil) != vec.HasRenewal {
		t.Fatalf("nested: transaction %v renewal %v", d.SignedTransactionInfo != nil, d.SignedRenewalInfo != nil)
	}
	if vec.TxSummary != nil {
		nt := d.SignedTransactionInfo
		if nt.Own.Label != decode.LabelVerified || d.Verification.Nested["signedTransactionInfo"].Label != decode.LabelVerified {
			t.Errorf("nested transaction %s: %s", nt.Own.Label, nt.Own.Message)
		}
		tx, want := nt.Transaction, vec.TxSummary
		if tx.TransactionID != want.TransactionID || tx.OriginalTransactionID != want.OriginalTransactionID ||
			tx.ProductID != want.ProductID || tx.Type != want.Type || tx.Environment != want.Environment ||
			tx.BundleID != want.BundleID || int64(tx.SignedDate) != want.SignedDate {
			t.Errorf("nested transaction %+v, want %+v", tx, want)
		}
		s := d.Summary()
		if s.TransactionID != want.TransactionID || s.OriginalTransactionID != want.OriginalTransactionID || s.ProductID != want.ProductID {
			t.Errorf("summary %+v", s)
		}
	}
	if vec.RenewalSummary != nil {
		nr := d.SignedRenewalInfo
		if nr.Own.Label != decode.LabelVerified {
			t.Errorf("nested renewal %s: %s", nr.Own.Label, nr.Own.Message)
		}
		r, want := nr.RenewalInfo, vec.RenewalSummary
		if r.OriginalTransactionID != want.OriginalTransactionID || r.ProductID != want.ProductID ||
			r.Environment != want.Environment || int64(r.SignedDate) != want.SignedDate {
			t.Errorf("nested renewal %+v, want %+v", r, want)
		}
	}
}

// TestRealVectorsUnderNow: with --now, data signed by a leaf that has since expired fails with the
// chain class; data signed by the current leaf still verifies.
func TestRealVectorsUnderNow(t *testing.T) {
	v := decode.NewVerifier(decode.Options{Now: true, Clock: clock})
	for _, vec := range loadRealIndex(t) {
		t.Run(filepath.Base(vec.File), func(t *testing.T) {
			notAfter, err := time.Parse(time.RFC3339, vec.LeafNotAfter)
			if err != nil {
				t.Fatal(err)
			}
			d := v.Decode(readVector(t, vec.File))
			ver := d.Verification
			if ver.TimeSource != "now" || !ver.EffectiveTime.Equal(fixedNow) {
				t.Errorf("checked at %s (%s)", ver.EffectiveTime, ver.TimeSource)
			}
			if fixedNow.Before(notAfter) {
				if ver.Label != decode.LabelVerified {
					t.Fatalf("label %s/%s: %s", ver.Label, ver.Class, ver.Message)
				}
				return
			}
			if ver.Label != decode.LabelInvalid || ver.Class != decode.ClassChain {
				t.Fatalf("label %s/%s, want invalid/chain", ver.Label, ver.Class)
			}
			wantDay := notAfter.Format("2006-01-02")
			if !strings.Contains(ver.Message, "leaf certificate expired on "+wantDay) || !strings.Contains(ver.Message, "--now") {
				t.Errorf("message %q does not name the expiry %s and --now", ver.Message, wantDay)
			}
			if ver.Leaf == nil || ver.Leaf.Serial != vec.LeafSerial {
				t.Errorf("leaf %+v", ver.Leaf)
			}
		})
	}
}

// TestVector02Message: the notification without signedDate is checked at the current time, like
// Apple's libraries do, and the message says why it failed and which --at to try.
func TestVector02Message(t *testing.T) {
	d := decode.NewVerifier(decode.Options{Clock: clock}).Decode(readVector(t, "real/02-notification-2022-03-04-DID_RENEW-sandbox.jws"))
	ver := d.Verification
	if ver.Label != decode.LabelInvalid || ver.Class != decode.ClassChain || ver.TimeSource != "now-fallback" {
		t.Fatalf("got %s/%s (%s)", ver.Label, ver.Class, ver.TimeSource)
	}
	for _, want := range []string{"leaf certificate expired on 2023-09-24", "this payload has no signedDate, so it was checked at the current time", "try --at 2022-03-04T09:43:28Z"} {
		if !strings.Contains(ver.Message, want) {
			t.Errorf("message %q lacks %q", ver.Message, want)
		}
	}
	// Its nested objects carry their own signedDate and verify.
	if n := ver.Nested["signedTransactionInfo"]; n == nil || n.Label != decode.LabelVerified {
		t.Errorf("nested transaction %+v", n)
	}
	if n := ver.Nested["signedRenewalInfo"]; n == nil || n.Label != decode.LabelVerified {
		t.Errorf("nested renewal %+v", n)
	}
}

// TestAppleMockVectors: Apple's own library test data behaves as its README says, with the test
// CA trusted as an extra root (which makes the good ones simulated, never verified).
func TestAppleMockVectors(t *testing.T) {
	roots, err := decode.ParseRootsPEM(readVector(t, "apple-lib-mock/certs/testCA.pem"))
	if err != nil {
		t.Fatal(err)
	}
	der, err := decode.ParseRootsPEM(readVector(t, "apple-lib-mock/certs/testCA.der"))
	if err != nil || !der[0].Equal(roots[0]) {
		t.Fatalf("testCA.der: %v", err)
	}
	cases := []struct {
		file     string
		opts     decode.Options
		label    decode.Label
		class    decode.Class
		kind     decode.Kind
		contains string
	}{
		{"signed/testNotification.jws", decode.Options{Environment: "Sandbox", BundleID: "com.example"}, decode.LabelSimulated, "", decode.KindNotification, "not by Apple"},
		{"signed/testNotification.jws", decode.Options{Environment: "Production", BundleID: "com.example", AppAppleID: 1234}, decode.LabelInvalid, decode.ClassEnvironment, decode.KindNotification, "Sandbox environment, not Production"},
		{"signed/testNotification.jws", decode.Options{Environment: "Production", BundleID: "com.example", AppAppleID: 1235}, decode.LabelInvalid, decode.ClassIdentity, decode.KindNotification, "appAppleId 1234, not 1235"},
		{"signed/transactionInfo.jws", decode.Options{Environment: "Sandbox", BundleID: "com.example"}, decode.LabelSimulated, "", decode.KindTransaction, ""},
		{"signed/transactionInfo.jws", decode.Options{Environment: "Sandbox", BundleID: "com.example.x"}, decode.LabelInvalid, decode.ClassIdentity, decode.KindTransaction, `bundle ID "com.example", not "com.example.x"`},
		{"signed/renewalInfo.jws", decode.Options{Environment: "Sandbox", BundleID: "com.example"}, decode.LabelSimulated, "", decode.KindRenewalInfo, ""},
		{"signed/wrongBundleId.jws", decode.Options{Environment: "Sandbox", BundleID: "com.example"}, decode.LabelInvalid, decode.ClassIdentity, decode.KindNotification, "com.example.wrong"},
		{"signed/missingX5CHeaderClaim.jws", decode.Options{Environment: "Sandbox", BundleID: "com.example"}, decode.LabelInvalid, decode.ClassChain, decode.KindNotification, "no x5c"},
	}
	for _, c := range cases {
		t.Run(c.file+"/"+string(c.opts.Environment)+"/"+c.opts.BundleID, func(t *testing.T) {
			c.opts.ExtraRoots, c.opts.Clock = roots, clock
			d := decode.NewVerifier(c.opts).Decode(readVector(t, "apple-lib-mock/"+c.file))
			ver := d.Verification
			if ver.Label != c.label || ver.Class != c.class {
				t.Fatalf("got %s/%s (%s), want %s/%s", ver.Label, ver.Class, ver.Message, c.label, c.class)
			}
			if c.kind != "" && d.Kind != c.kind {
				t.Errorf("kind %s, want %s", d.Kind, c.kind)
			}
			if !strings.Contains(ver.Message, c.contains) {
				t.Errorf("message %q lacks %q", ver.Message, c.contains)
			}
			if c.label == decode.LabelSimulated && ver.RootSHA256 != decode.Fingerprint(roots[0]) {
				t.Errorf("root fingerprint %s", ver.RootSHA256)
			}
		})
		// Without the test root, nothing of Apple's test data is trusted.
		t.Run(c.file+"/no-root", func(t *testing.T) {
			d := decode.NewVerifier(decode.Options{Clock: clock}).Decode(readVector(t, "apple-lib-mock/"+c.file))
			if d.Verification.Label != decode.LabelInvalid || d.Verification.Class != decode.ClassChain {
				t.Fatalf("got %s/%s", d.Verification.Label, d.Verification.Class)
			}
		})
	}
}

// TestAppleMockWrongOIDCertificates: Apple's wrong-OID test certificates fail the chain with the
// reason named, before any signature is looked at.
func TestAppleMockWrongOIDCertificates(t *testing.T) {
	load := func(name string) string {
		certs, err := decode.ParseRootsPEM(readVector(t, "apple-lib-mock/certs/"+name))
		if err != nil {
			t.Fatal(err)
		}
		return b64(certs[0].Raw)
	}
	roots, _ := decode.ParseRootsPEM(readVector(t, "apple-lib-mock/certs/testCA.pem"))
	v := decode.NewVerifier(decode.Options{ExtraRoots: roots, At: time.Unix(1761962975, 0)})
	payload := []byte(`{"environment":"Sandbox","bundleId":"com.example","signedDate":1672956154000,"transactionId":"1"}`)
	for _, c := range []struct{ leaf, inter, want string }{
		{"testInvalidOIDLeaf.pem", "testIntermediate.pem", "leaf certificate lacks Apple's App Store signing marker"},
		{"testInvalidIntermediateLeaf.pem", "testInvalidOIDIntermediate.pem", "intermediate certificate lacks Apple's WWDR marker"},
	} {
		header := map[string]any{"alg": "ES256", "x5c": []string{load(c.leaf), load(c.inter), load("testCA.pem")}}
		d := v.Decode([]byte(encodeUnsigned(header, payload)))
		if d.Verification.Label != decode.LabelInvalid || d.Verification.Class != decode.ClassChain || !strings.Contains(d.Verification.Message, c.want) {
			t.Errorf("%s: got %s/%s %q", c.leaf, d.Verification.Label, d.Verification.Class, d.Verification.Message)
		}
	}
	// The good test chain at a time after the test root expired (2042) fails as expired.
	v = decode.NewVerifier(decode.Options{ExtraRoots: roots, At: time.Unix(2280946846, 0)})
	d := v.Decode(readVector(t, "apple-lib-mock/signed/transactionInfo.jws"))
	if d.Verification.Class != decode.ClassChain || !strings.Contains(d.Verification.Message, "expired") {
		t.Errorf("in 2042: %s/%s %q", d.Verification.Label, d.Verification.Class, d.Verification.Message)
	}
}

// TestXcodeVectors: StoreKit Testing data is unsigned-xcode, and accepted only where Xcode data is
// acceptable.
func TestXcodeVectors(t *testing.T) {
	files := map[string]decode.Kind{
		"xcode-signed-transaction.jws":     decode.KindTransaction,
		"xcode-signed-renewal-info.jws":    decode.KindRenewalInfo,
		"xcode-signed-app-transaction.jws": decode.KindAppTransaction,
	}
	const bundle = "com.example.naturelab.backyardbirds.example"
	for file, kind := range files {
		b := readVector(t, "apple-lib-mock/xcode/"+file)
		for _, c := range []struct {
			name  string
			opts  decode.Options
			label decode.Label
			class decode.Class
		}{
			{"default", decode.Options{}, decode.LabelXcode, ""},
			{"xcode", decode.Options{Environment: "Xcode", BundleID: bundle}, decode.LabelXcode, ""},
			{"sandbox", decode.Options{Environment: "Sandbox"}, decode.LabelInvalid, decode.ClassEnvironment},
			{"production", decode.Options{Environment: "Production"}, decode.LabelInvalid, decode.ClassEnvironment},
		} {
			t.Run(file+"/"+c.name, func(t *testing.T) {
				c.opts.Clock = clock
				d := decode.NewVerifier(c.opts).Decode(b)
				if d.Kind != kind {
					t.Errorf("kind %s, want %s", d.Kind, kind)
				}
				if d.Verification.Label != c.label || d.Verification.Class != c.class {
					t.Fatalf("got %s/%s %q", d.Verification.Label, d.Verification.Class, d.Verification.Message)
				}
			})
		}
		if kind == decode.KindTransaction || kind == decode.KindAppTransaction {
			d := decode.NewVerifier(decode.Options{Environment: "Xcode", BundleID: "com.other"}).Decode(b)
			if d.Verification.Class != decode.ClassIdentity {
				t.Errorf("%s with another bundle: %s/%s", file, d.Verification.Label, d.Verification.Class)
			}
		}
	}
	// Fractional Xcode dates are truncated to whole milliseconds, as Apple's libraries do.
	d := decode.NewVerifier(decode.Options{}).Decode(readVector(t, "apple-lib-mock/xcode/xcode-signed-transaction.jws"))
	if d.Transaction.PurchaseDate != 1697679936049 || d.Transaction.ExpiresDate != 1700358336049 || d.Transaction.BundleID != bundle {
		t.Errorf("transaction %+v", d.Transaction)
	}
	a := decode.NewVerifier(decode.Options{}).Decode(readVector(t, "apple-lib-mock/xcode/xcode-signed-app-transaction.jws"))
	if a.AppTransaction.OriginalPurchaseDate != -62135769600000 || a.AppTransaction.ReceiptType != "Xcode" {
		t.Errorf("app transaction %+v", a.AppTransaction)
	}
}
