package decode

import "testing"

func TestDateNote(t *testing.T) {
	for _, tt := range []struct{ key, value, want string }{
		{"signedDate", "1760592122000", "2025-10-16T05:22:02.000Z"},
		{"expires_date_ms", "1760592122000", "2025-10-16T05:22:02.000Z"},
		{"purchaseDate", "0", ""},
		{"price", "1760592122000", ""},
		{"signedDate", "2025-10-16T05:22:02Z", ""},
		{"signedDate", "NaN", ""},
		{"signedDate", "1e400", ""},
	} {
		if got := DateNote(tt.key, tt.value); got != tt.want {
			t.Errorf("DateNote(%q, %q) = %q, want %q", tt.key, tt.value, got, tt.want)
		}
	}
}
