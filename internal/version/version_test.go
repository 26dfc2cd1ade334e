package version

import (
	"strings"
	"testing"
)

// Values stamped with -ldflags win over the build info (make build sets all three).
func TestStampedValuesWin(t *testing.T) {
	old := [3]string{Version, Commit, Date}
	t.Cleanup(func() { Version, Commit, Date = old[0], old[1], old[2] })
	Version, Commit, Date = "v1.2.3", "0123456789abcdef0123", "2026-01-02T03:04:05Z"
	i := Get()
	if i.Version != "v1.2.3" || i.Commit != "0123456789abcdef0123" || i.Date != "2026-01-02T03:04:05Z" || i.Go == "" {
		t.Fatalf("Get() = %+v", i)
	}
	if got := i.Short(); got != "v1.2.3 (0123456789ab)" {
		t.Errorf("Short() = %q", got)
	}
	if s := i.String(); !strings.HasPrefix(s, "s2s v1.2.3\ncommit: 0123456789abcdef0123\nbuilt:  2026-01-02T03:04:05Z\ngo:     go") {
		t.Errorf("String() = %q", s)
	}
}

// A test binary has no module version: the version falls back to "dev", never to "".
func TestUnstampedFallsBackToDev(t *testing.T) {
	old := Version
	t.Cleanup(func() { Version = old })
	Version = ""
	if v := Get().Version; v == "" {
		t.Fatal("empty version")
	}
}
