package appstoretest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/s2s-dev/s2s/appstore"
)

const payloads = "../../testdata/vectors/apple-lib-payloads"

// TestAnswersHaveApplesShape compares every answer of the stand-in with the response of the same
// endpoint in Apple's library tests: the same keys, recursively, with the same JSON types.
func TestAnswersHaveApplesShape(t *testing.T) {
	key, err := appstore.LoadPrivateKey("../../testdata/vectors/apple-lib-mock/certs/testSigningKey.p8")
	if err != nil {
		t.Fatal(err)
	}
	creds := appstore.Credentials{KeyID: "K", IssuerID: "I", BundleID: "com.example", Key: key}
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			t.Error(err)
		}
	}))
	defer receiver.Close()
	srv := Start(t, Options{KeyID: "K", IssuerID: "I", BundleID: "com.example", PublicKey: key.Public(), NotificationURL: receiver.URL, PageSize: 1})
	for range 2 {
		// The vector's history page has a NO_RESPONSE-then-SUCCESS record.
		if _, err := srv.AddNotification(Notification{Type: "DID_RENEW", TransactionID: "3749183"},
			appstore.SendAttempt{AttemptDate: 1, SendAttemptResult: appstore.ResultNoResponse},
			appstore.SendAttempt{AttemptDate: 2, SendAttemptResult: appstore.ResultSuccess}); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	call := func(method, path string, body any) (int, []byte) {
		t.Helper()
		var rd io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		}
		req, _ := http.NewRequestWithContext(ctx, method, srv.URL+path, rd)
		tok, err := creds.SignToken(time.Now(), 0)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}

	_, tokBody := call("POST", "/inApps/v1/notifications/test", nil)
	var tok appstore.TestNotificationToken
	if err := json.Unmarshal(tokBody, &tok); err != nil {
		t.Fatal(err)
	}
	select {
	case <-srv.Delivered():
	case <-ctx.Done():
		t.Fatal("no delivery")
	}
	now := time.Now()
	histReq := appstore.NotificationHistoryRequest{StartDate: appstore.ToMillis(now.Add(-time.Hour)), EndDate: appstore.ToMillis(now.Add(time.Minute)), NotificationType: "DID_RENEW"}

	tests := []struct {
		vector     string
		wantStatus int
		method     string
		path       string
		body       any
	}{
		{"requestTestNotificationResponse.json", 200, "POST", "/inApps/v1/notifications/test", nil},
		{"getTestNotificationStatusResponse.json", 200, "GET", "/inApps/v1/notifications/test/" + tok.TestNotificationToken, nil},
		{"getNotificationHistoryResponse.json", 200, "POST", "/inApps/v1/notifications/history", histReq},
		{"getAllSubscriptionStatusesResponse.json", 200, "GET", "/inApps/v1/subscriptions/3749183", nil},
		{"transactionIdNotFoundError.json", 404, "GET", "/inApps/v1/transactions/1", nil},
		{"transactionHistoryResponse.json", 200, "GET", "/inApps/v2/history/3749183", nil},
	}
	for _, tt := range tests {
		t.Run(tt.vector, func(t *testing.T) {
			want, err := os.ReadFile(filepath.Join(payloads, tt.vector))
			if err != nil {
				t.Fatal(err)
			}
			status, got := call(tt.method, tt.path, tt.body)
			if status != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", status, tt.wantStatus, got)
			}
			var w, g any
			if err := json.Unmarshal(want, &w); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(got, &g); err != nil {
				t.Fatalf("answer is not JSON: %s", got)
			}
			if diff := shapeDiff("", w, g); diff != "" {
				t.Errorf("answer differs from Apple's shape: %s\nanswer: %s", diff, got)
			}
		})
	}
	// A 429 carries Apple's body and its Retry-After in milliseconds.
	srv.InjectFaults("", RateLimited(now.Add(time.Second)))
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/inApps/v1/transactions/1", nil)
	tokStr, _ := creds.SignToken(time.Now(), 0)
	req.Header.Set("Authorization", "Bearer "+tokStr)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	want, _ := os.ReadFile(filepath.Join(payloads, "apiTooManyRequestsException.json"))
	var w, g any
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 429 || shapeDiff("", w, g) != "" || g.(map[string]any)["errorCode"] != float64(4290000) {
		t.Errorf("429 answer: %d %s", resp.StatusCode, b)
	}
	if ra := resp.Header.Get("Retry-After"); len(ra) != 13 {
		t.Errorf("Retry-After %q is not UNIX milliseconds", ra)
	}
}

// shapeDiff reports the first place where got lacks a key of want or has another JSON type.
func shapeDiff(path string, want, got any) string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return path + ": not an object"
		}
		keys := make([]string, 0, len(w))
		for k := range w {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			gv, ok := g[k]
			if !ok {
				return path + "." + k + ": missing"
			}
			if d := shapeDiff(path+"."+k, w[k], gv); d != "" {
				return d
			}
		}
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) == 0 {
			return path + ": not a non-empty array"
		}
		return shapeDiff(path+"[0]", w[0], g[0])
	default:
		if jsonType(want) != jsonType(got) {
			return path + ": " + jsonType(got) + ", want " + jsonType(want)
		}
	}
	return ""
}

func jsonType(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "bool"
	case nil:
		return "null"
	}
	return "other"
}
