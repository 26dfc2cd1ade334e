// Package testfs injects file-system faults for the tests of several packages (the store's own,
// and the binary's end-to-end tests).
package testfs

import (
	"os"
	"os/exec"
	"runtime"
	"testing"
)

// MakeDirReadOnly makes dir unwritable for this process and those it starts until the test ends:
// chmod for a normal user; root ignores permission bits, so it sets the immutable attribute
// (Linux) instead, or the test is skipped.
func MakeDirReadOnly(t testing.TB, dir string) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("Windows has no read-only directories in this sense")
	}
	if os.Geteuid() != 0 {
		if err := os.Chmod(dir, 0o500); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := os.Chmod(dir, 0o700); err != nil {
				t.Error(err)
			}
		})
		return
	}
	if out, err := exec.Command("chattr", "+i", dir).CombinedOutput(); err != nil {
		t.Skipf("running as root, which ignores permission bits, and cannot make %s immutable (chattr: %v %s)", dir, err, out)
	}
	t.Cleanup(func() { _ = exec.Command("chattr", "-i", dir).Run() /* best effort: only set when chattr +i worked */ })
}
