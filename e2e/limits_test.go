package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// peakRSS is a process's peak resident memory (VmHWM), in bytes.
func peakRSS(t *testing.T, pid int) int64 {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				t.Fatalf("VmHWM %q: %v", rest, err)
			}
			return kb << 10
		}
	}
	t.Fatalf("no VmHWM in /proc/%d/status", pid)
	return 0
}

// TestListenMemoryBoundedUnderStalledUploads: 400 connections each send a body one byte short of
// --max-body and stall. The memory they hold stays within the body budget (peak RSS under
// 256 MB, where it reached ~500 MB), and a genuine notification posted meanwhile is answered
// 200: the stalled uploads give way to it.
func TestListenMemoryBoundedUnderStalledUploads(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("peak RSS is read from /proc/PID/status (VmHWM), which only Linux has")
	}
	const (
		conns = 400
		size  = 1 << 20 // --max-body's default; each upload sends all but the last byte
		limit = 256 << 20
	)
	l := StartListener(t, t.TempDir())
	addr := strings.TrimSuffix(strings.TrimPrefix(l.URL, "http://"), "/")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	head := fmt.Appendf(nil, "POST /apple HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", addr, size)
	body := bytes.Repeat([]byte("x"), size-1)
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		open    []net.Conn
		dialErr error
	)
	t.Cleanup(func() {
		for _, c := range open {
			c.Close()
		}
	})
	for range conns {
		wg.Go(func() {
			var d net.Dialer
			c, err := d.DialContext(ctx, "tcp", addr)
			mu.Lock()
			if err != nil {
				dialErr = err
			} else {
				open = append(open, c)
			}
			mu.Unlock()
			if err != nil {
				return
			}
			_ = c.SetWriteDeadline(time.Now().Add(50 * time.Second))
			// s2s may cut this upload off to make room for others: the write then fails, as it should.
			_, _ = c.Write(append(head[:len(head):len(head)], body...))
		})
	}
	wg.Wait() // every upload sent all but its last byte, or was cut off
	if dialErr != nil {
		t.Fatalf("dial: %v", dialErr)
	}

	// Apple's notification, from the same address as the stalled uploads. How long it takes is
	// logged for the README's figure, not asserted.
	start := time.Now()
	if code, err := Post(ctx, l.URL, Body(RealNotifications(t)[4].JWS)); err != nil || code != 200 {
		t.Fatalf("a genuine notification during %d stalled uploads: %d %v; stderr: %s", conns, code, err, l.stderr)
	}
	took := time.Since(start)
	peak := peakRSS(t, l.cmd.Process.Pid)
	t.Logf("peak RSS with %d stalled uploads of %d bytes: %d MB; the genuine notification was answered 200 in %s", conns, size-1, peak>>20, took.Round(time.Millisecond))
	if peak > limit {
		t.Errorf("peak RSS %d MB with %d stalled uploads, want under %d MB", peak>>20, conns, limit>>20)
	}
}
