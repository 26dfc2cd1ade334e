package tunnel

import (
	"os"
	"testing"

	"github.com/s2s-dev/s2s/tunnel/tunneltest"
)

// TestMain lets the test binary play cloudflared when the provider under test runs it.
func TestMain(m *testing.M) {
	if os.Getenv(tunneltest.FakeCloudflaredEnv) != "" {
		os.Exit(tunneltest.FakeCloudflaredMain(os.Args[1:], os.Stderr))
	}
	os.Exit(m.Run())
}
