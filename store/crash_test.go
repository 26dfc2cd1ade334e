package store

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/s2s-dev/s2s/decode"
)

// crashChildEnv makes the test binary act as a writer process for TestKilledWriterLosesNothing.
const crashChildEnv = "S2S_STORE_CRASH_CHILD"

func TestMain(m *testing.M) {
	if path := os.Getenv(crashChildEnv); path != "" {
		os.Exit(crashChild(path))
	}
	code := m.Run()
	benchCleanup()
	os.Exit(code)
}

// crashBody is the body of the capture with the given seed: ~19 KB, different for every seed, so
// a torn or mixed-up row cannot pass for the right one.
func crashBody(seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, 19000+int(seed%64))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// crashChild inserts captures from several goroutines until killed, printing "ack ID SEED" for
// each Insert that returned nil. Nothing else is printed on stdout.
func crashChild(path string) int {
	s, err := Open(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	var (
		mu   sync.Mutex
		out  = bufio.NewWriter(os.Stdout)
		next uint64
	)
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				next++
				seed := next
				mu.Unlock()
				c := &Capture{Method: "POST", Path: "/crash", Subject: decode.Subject{NotificationUUID: strconv.FormatUint(seed, 10)}, Body: crashBody(seed)}
				if err := s.Insert(context.Background(), c); err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(1)
				}
				mu.Lock()
				fmt.Fprintf(out, "ack %d %d\n", c.ID, seed)
				out.Flush() // the acknowledgement leaves the process only after the commit
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return 0
}

// TestKilledWriterLosesNothing kills a writing process with SIGKILL in the middle of a flood of
// inserts; every capture it acknowledged must be in the store afterwards, byte for byte.
func TestKilledWriterLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a writer process")
	}
	path := filepath.Join(t.TempDir(), "captures.db")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	child := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), crashChildEnv+"="+path)
	var stderr bytes.Buffer
	child.Stderr = &stderr
	stdout, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	acks := map[int64]uint64{}
	sc := bufio.NewScanner(stdout)
	const killAfter = 400
	for sc.Scan() {
		var id int64
		var seed uint64
		if _, err := fmt.Sscanf(sc.Text(), "ack %d %d", &id, &seed); err != nil {
			t.Fatalf("child said %q", sc.Text())
		}
		acks[id] = seed
		if len(acks) == killAfter {
			if err := child.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
		}
	}
	waitErr := child.Wait()
	if len(acks) < killAfter {
		t.Fatalf("child stopped after %d acks: %v\n%s", len(acks), waitErr, stderr.String())
	}
	if !strings.Contains(fmt.Sprint(waitErr), "killed") {
		t.Fatalf("child was not killed: %v\n%s", waitErr, stderr.String())
	}

	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for id, seed := range acks {
		c, err := s.Get(ctx, id)
		if err != nil {
			t.Fatalf("acknowledged capture %d: %v", id, err)
		}
		if c.NotificationUUID != strconv.FormatUint(seed, 10) || !bytes.Equal(c.Body, crashBody(seed)) {
			t.Fatalf("capture %d is not the one acknowledged (seed %d)", id, seed)
		}
	}
	n, err := s.Count(ctx, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	var integrity string
	if err := s.wdb.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&integrity); err != nil || integrity != "ok" {
		t.Fatalf("integrity_check: %q %v", integrity, err)
	}
	t.Logf("%d acknowledged before the kill, %d in the store after it", len(acks), n)
}
