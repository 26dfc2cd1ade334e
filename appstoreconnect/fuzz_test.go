package appstoreconnect

import "testing"

// FuzzParseApps: whatever Apple's API answers, the readers neither panic nor yield an app without
// an id, and an error answer always makes a message.
func FuzzParseApps(f *testing.F) {
	for _, s := range []string{
		`{"data":[{"type":"apps","id":"1","attributes":{"bundleId":"com.example.app","subscriptionStatusUrlForSandbox":null}}]}`,
		`{"data":[{"type":"apps","id":"1","attributes":{"BundleId":"com.example.app"}}]}`,
		`{"data":[{"type":"apps","id":"1","attributes":{"bundleId":"a","bundleId":"b"}}]}`,
		`{"data":[{"type":"apps","id":"1","attributes":{"subscriptionStatusUrl":1}}]}`,
		`{"data":{"type":"apps","id":"1","attributes":{}}}`,
		`{"errors":[{"status":"401","code":"NOT_AUTHORIZED"}]}`,
		`{"data":[]} trailing`, `[]`, ``, `{"data":[null]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		apps, err := parseApps(in)
		if err == nil {
			for _, a := range apps {
				if a.ID == "" {
					t.Fatalf("an app without an id from %q", in)
				}
			}
		}
		if a, err := parseOneApp(in); err == nil && a.ID == "" {
			t.Fatalf("an app without an id from %q", in)
		}
		if parseError(422, in, "GET", "/v1/apps").Error() == "" {
			t.Fatal("an empty error message")
		}
	})
}
