// Command fakecloudflared is a stand-in for cloudflared in end-to-end tests: build it, name it
// cloudflared, put it first on PATH. $S2S_FAKE_CLOUDFLARED picks the scenario (see tunneltest).
package main

import (
	"os"

	"github.com/s2s-dev/s2s/tunnel/tunneltest"
)

func main() {
	os.Exit(tunneltest.FakeCloudflaredMain(os.Args[1:], os.Stderr))
}
