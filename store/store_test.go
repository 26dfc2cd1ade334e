package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/s2s-dev/s2s/decode"
)

func TestOpenCreatesPrivateFilesAndConfiguresSQLite(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	path := filepath.Join(dir, "captures.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := testCtx(t)
	if err := s.Insert(ctx, &Capture{Method: "POST", Path: "/"}); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]os.FileMode{dir: 0o700, filepath.Dir(dir): 0o700, path: 0o600, path + "-wal": 0o600} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := st.Mode().Perm(); got != want {
			t.Errorf("%s: mode %v, want %v", p, got, want)
		}
	}
	for _, tc := range []struct {
		db     *sql.DB
		pragma string
		want   string
	}{
		{s.wdb, "journal_mode", "wal"},
		{s.wdb, "synchronous", "2"}, // FULL
		{s.wdb, "foreign_keys", "1"},
		{s.wdb, "busy_timeout", fmt.Sprint(DefaultBusyTimeout.Milliseconds())},
		{s.wdb, "journal_size_limit", "67108864"},
		{s.wdb, "temp_store", "2"}, // MEMORY: the savepoints' sub-journal is never a file
		{s.rdb, "query_only", "1"},
		{s.rdb, "foreign_keys", "1"},
		{s.wdb, "user_version", fmt.Sprint(SchemaVersion())},
	} {
		var got string
		if err := tc.db.QueryRowContext(ctx, "PRAGMA "+tc.pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("PRAGMA %s = %q, want %q", tc.pragma, got, tc.want)
		}
	}
}

func TestInsertSurvivesReopenByteForByte(t *testing.T) {
	path := filepath.Join(t.TempDir(), "captures.db")
	vectors := loadVectors(t)
	allBytes := make([]byte, 512)
	for i := range allBytes {
		allBytes[i] = byte(i) // every byte value, NULs and invalid UTF-8 included
	}
	received := time.Date(2026, 11, 23, 12, 0, 0, 123456789, time.FixedZone("CET", 3600))
	inputs := []*Capture{
		captureOf(vectors[4], received),
		{ReceivedAt: received, Method: "POST", Path: "/x", Query: "a=1&b=%20", Body: allBytes, Trust: "invalid", TrustClass: "format",
			TrustMessage: "not JSON", Headers: http.Header{"X-Multi": {"1", "2"}}, IdentityMismatch: "bundleId com.a != com.b"},
		{ReceivedAt: received, Method: "POST", Path: "/empty", Body: []byte{}, Trust: "invalid"},
		{ReceivedAt: received, Method: "POST", Path: "/nil", Body: nil, Trust: "invalid"},
	}
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := testCtx(t)
	var want []Capture
	for _, c := range inputs {
		if err := s.Insert(ctx, c); err != nil {
			t.Fatal(err)
		}
		if c.ID == 0 || c.BodySize != len(c.Body) {
			t.Fatalf("Insert set ID %d BodySize %d (body %d)", c.ID, c.BodySize, len(c.Body))
		}
		want = append(want, *c)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, w := range want {
		got, err := s.Get(ctx, w.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Body, w.Body) || got.Body == nil {
			t.Errorf("capture %d: body differs (%d bytes, want %d)", w.ID, len(got.Body), len(w.Body))
		}
		if !got.ReceivedAt.Equal(w.ReceivedAt) || !got.SignedDate.Equal(w.SignedDate) {
			t.Errorf("capture %d: times %v %v, want %v %v", w.ID, got.ReceivedAt, got.SignedDate, w.ReceivedAt, w.SignedDate)
		}
		// Compare everything else field by field through a normalised copy.
		g, e := *got, w
		g.Body, e.Body = nil, nil
		g.ReceivedAt, e.ReceivedAt, g.SignedDate, e.SignedDate = time.Time{}, time.Time{}, time.Time{}, time.Time{}
		if e.Headers == nil {
			e.Headers = http.Header{}
		}
		if !reflect.DeepEqual(g, e) {
			t.Errorf("capture %d:\n got %+v\nwant %+v", w.ID, g, e)
		}
	}
	// IDs continue after a reopen.
	c := &Capture{Method: "POST", Path: "/after"}
	if err := s.Insert(ctx, c); err != nil {
		t.Fatal(err)
	}
	if c.ID <= want[len(want)-1].ID {
		t.Errorf("new ID %d not after %d", c.ID, want[len(want)-1].ID)
	}
}

func TestDuplicatesSequential(t *testing.T) {
	s := openTemp(t)
	ctx := testCtx(t)
	v := loadVectors(t)[4]
	first, retry, other, blank1, blank2 := captureOf(v, time.Now()), captureOf(v, time.Now()), captureOf(v, time.Now()), captureOf(v, time.Now()), captureOf(v, time.Now())
	other.NotificationUUID = "another"
	blank1.NotificationUUID, blank2.NotificationUUID = "", ""
	for _, c := range []*Capture{first, retry, other, blank1, blank2} {
		if err := s.Insert(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name string
		c    *Capture
		want int64
	}{
		{"first", first, 0}, {"retry", retry, first.ID}, {"other uuid", other, 0},
		{"no uuid", blank1, 0}, {"no uuid again", blank2, 0},
	} {
		if tc.c.DuplicateOf != tc.want {
			t.Errorf("%s: DuplicateOf %d, want %d", tc.name, tc.c.DuplicateOf, tc.want)
		}
		got, err := s.Get(ctx, tc.c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.DuplicateOf != tc.want {
			t.Errorf("%s: stored DuplicateOf %d, want %d", tc.name, got.DuplicateOf, tc.want)
		}
	}
	// A third delivery still points at the first, not at the retry.
	third := captureOf(v, time.Now())
	if err := s.Insert(ctx, third); err != nil {
		t.Fatal(err)
	}
	if third.DuplicateOf != first.ID {
		t.Errorf("third: DuplicateOf %d, want %d", third.DuplicateOf, first.ID)
	}
}

// holdWriter blocks the writer goroutine inside a job until release is called, so that the
// writes queued meanwhile are committed together in the next batch.
func holdWriter(t *testing.T, s *Store) (release func()) {
	t.Helper()
	entered, gate := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- s.write(context.Background(), func(*sql.Tx) error {
			close(entered)
			<-gate
			return nil
		}, nil)
	}()
	select {
	case <-entered:
	case <-time.After(10 * time.Second):
		t.Fatal("writer never ran the holding job")
	}
	return func() {
		close(gate)
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

// waitQueued polls until n jobs wait in the writer's queue.
func waitQueued(t *testing.T, s *Store, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for len(s.jobs) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d jobs queued, want %d", len(s.jobs), n)
		}
		time.Sleep(time.Millisecond) // polling a queue length, with a deadline
	}
}

func TestDuplicatesWithinOneBatch(t *testing.T) {
	s := openTemp(t)
	ctx := testCtx(t)
	v := loadVectors(t)[4]
	release := holdWriter(t, s)
	const n = 20
	caps := make([]*Capture, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range caps {
		caps[i] = captureOf(v, time.Now())
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.Insert(ctx, caps[i])
		}()
	}
	waitQueued(t, s, n)
	before := s.commits.Load()
	release()
	wg.Wait()
	if got := s.commits.Load() - before; got != 2 { // the holding job's commit, then all n together
		t.Fatalf("%d commits, want 2 (one group commit for the queued inserts)", got)
	}
	sort.Slice(caps, func(i, j int) bool { return caps[i].ID < caps[j].ID })
	for i, c := range caps {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		want := caps[0].ID
		if i == 0 {
			want = 0
		}
		if c.DuplicateOf != want {
			t.Errorf("capture %d: DuplicateOf %d, want %d", c.ID, c.DuplicateOf, want)
		}
	}
}

func TestFailingJobDoesNotFailItsBatch(t *testing.T) {
	s := openTemp(t)
	ctx := testCtx(t)
	release := holdWriter(t, s)
	var wg sync.WaitGroup
	var insertErrs [5]error
	var deliveryErr error
	for i := range insertErrs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			insertErrs[i] = s.Insert(ctx, &Capture{Method: "POST", Path: fmt.Sprint("/", i)})
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		deliveryErr = s.AddDelivery(ctx, &Delivery{CaptureID: 999999, Target: "http://x", Attempt: 1, State: DeliveryFailed})
	}()
	waitQueued(t, s, 6)
	release()
	wg.Wait()
	if !errors.Is(deliveryErr, ErrNotFound) {
		t.Errorf("delivery for a missing capture: %v, want ErrNotFound", deliveryErr)
	}
	for _, err := range insertErrs {
		if err != nil {
			t.Errorf("insert in the same batch failed: %v", err)
		}
	}
	if n, err := s.Count(ctx, Filter{}); err != nil || n != 5 {
		t.Errorf("Count = %d, %v; want 5", n, err)
	}
}

func TestInsertWithCancelledContextStoresNothing(t *testing.T) {
	s := openTemp(t)
	release := holdWriter(t, s)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- s.Insert(ctx, &Capture{Method: "POST", Path: "/"}) }()
	waitQueued(t, s, 1)
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("Insert = %v, want context.Canceled", err)
	}
	release()
	// The writer skips a job whose context ended before its batch began.
	if _, err := s.DeleteAll(testCtx(t)); err != nil { // a write: waits for the queue to drain
		t.Fatal(err)
	}
	if n, _ := s.Count(testCtx(t), Filter{}); n != 0 {
		t.Errorf("Count = %d after a cancelled Insert", n)
	}
}

func TestListFiltersAndCount(t *testing.T) {
	s := openTemp(t)
	ctx := testCtx(t)
	base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	const n = 300
	bulkInsert(t, s, n, func(i int) *Capture { return synthetic(i, []byte(fmt.Sprint("body ", i)), base) })
	var all []*Capture
	for i := range n {
		c := synthetic(i, nil, base)
		c.ID = int64(i + 1)
		all = append(all, c)
	}
	expect := func(pred func(c *Capture) bool) []int64 {
		var ids []int64
		for i := len(all) - 1; i >= 0; i-- {
			if pred(all[i]) {
				ids = append(ids, all[i].ID)
			}
		}
		return ids
	}
	since, until := base.Add(1000*time.Second), base.Add(2000*time.Second)
	for _, tc := range []struct {
		name string
		f    Filter
		pred func(c *Capture) bool
	}{
		{"all", Filter{}, func(*Capture) bool { return true }},
		{"type", Filter{Types: []string{"DID_RENEW"}}, func(c *Capture) bool { return c.Type == "DID_RENEW" }},
		{"type+subtype", Filter{Types: []string{"EXPIRED"}, Subtypes: []string{"VOLUNTARY"}}, func(c *Capture) bool { return c.Type == "EXPIRED" && c.Subtype == "VOLUNTARY" }},
		{"environment", Filter{Environments: []decode.Environment{"Production"}}, func(c *Capture) bool { return c.Environment == "Production" }},
		{"trust", Filter{Trusts: []decode.Label{"invalid"}}, func(c *Capture) bool { return c.Trust == "invalid" }},
		{"bundle", Filter{BundleIDs: []string{"com.example.app2"}}, func(c *Capture) bool { return c.BundleID == "com.example.app2" }},
		{"product", Filter{Products: []string{"com.example.sub.yearly"}}, func(c *Capture) bool { return c.ProductID == "com.example.sub.yearly" }},
		{"original transaction", Filter{OriginalTransactionIDs: []string{"20000000000042"}}, func(c *Capture) bool { return c.OriginalTransactionID == "20000000000042" }},
		{"uuid", Filter{NotificationUUIDs: []string{"00000000-0000-4000-8000-000000000007"}}, func(c *Capture) bool { return c.ID == 8 }},
		{"since/until", Filter{Since: since, Until: until}, func(c *Capture) bool { return !c.ReceivedAt.Before(since) && c.ReceivedAt.Before(until) }},
		{"text in type, any case", Filter{Text: "renewal_pref"}, func(c *Capture) bool { return c.Type == "DID_CHANGE_RENEWAL_PREF" }},
		{"text in product", Filter{Text: "weekly"}, func(c *Capture) bool { return strings.Contains(c.ProductID, "weekly") }},
		{"text in transaction id", Filter{Text: "20000010000123"}, func(c *Capture) bool { return c.TransactionID == "20000010000123" }},
		{"text wildcard is literal", Filter{Text: "%"}, func(*Capture) bool { return false }},
		{"text underscore is literal", Filter{Text: "DID_"}, func(c *Capture) bool { return strings.HasPrefix(c.Type, "DID_") }},
		{"combined", Filter{Types: []string{"DID_RENEW"}, Environments: []decode.Environment{"Sandbox"}, Trusts: []decode.Label{"verified"}}, func(c *Capture) bool {
			return c.Type == "DID_RENEW" && c.Environment == "Sandbox" && c.Trust == "verified"
		}},
		{"nothing", Filter{Types: []string{"NO_SUCH"}}, func(*Capture) bool { return false }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := expect(tc.pred)
			f := tc.f
			f.Limit = -1
			got, err := s.List(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			if ids := idsOf(got); !reflect.DeepEqual(ids, want) && !(len(ids) == 0 && len(want) == 0) {
				t.Errorf("List ids %v, want %v", ids, want)
			}
			for _, c := range got {
				if c.Body != nil || c.BodySize != len(fmt.Sprint("body ", c.ID-1)) {
					t.Errorf("capture %d: List returned body %q, size %d", c.ID, c.Body, c.BodySize)
				}
			}
			count, err := s.Count(ctx, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			if count != len(want) {
				t.Errorf("Count = %d, want %d", count, len(want))
			}
		})
	}
}

func idsOf(cs []Capture) []int64 {
	var ids []int64
	for _, c := range cs {
		ids = append(ids, c.ID)
	}
	return ids
}

func TestKeysetPagination(t *testing.T) {
	s := openTemp(t)
	ctx := testCtx(t)
	base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	bulkInsert(t, s, 103, func(i int) *Capture { return synthetic(i, nil, base) })
	for _, tc := range []struct {
		name string
		f    Filter
	}{
		{"newest first", Filter{Limit: 10}},
		{"oldest first", Filter{Limit: 10, Ascending: true}},
		{"filtered newest first", Filter{Limit: 7, Environments: []decode.Environment{"Sandbox"}}},
		{"filtered oldest first", Filter{Limit: 7, Trusts: []decode.Label{"verified"}, Ascending: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			whole := tc.f
			whole.Limit = -1
			want, err := s.List(ctx, whole)
			if err != nil {
				t.Fatal(err)
			}
			var got []int64
			f := tc.f
			for pages := 0; ; pages++ {
				if pages > 200 {
					t.Fatal("pagination does not end")
				}
				page, err := s.List(ctx, f)
				if err != nil {
					t.Fatal(err)
				}
				if len(page) > tc.f.Limit {
					t.Fatalf("page of %d, limit %d", len(page), tc.f.Limit)
				}
				if len(page) == 0 {
					break
				}
				got = append(got, idsOf(page)...)
				last := page[len(page)-1].ID
				if tc.f.Ascending {
					f.AfterID = last
				} else {
					f.BeforeID = last
				}
			}
			if !reflect.DeepEqual(got, idsOf(want)) {
				t.Errorf("pages %v\nwant %v", got, idsOf(want))
			}
			for i := 1; i < len(got); i++ {
				if (got[i] > got[i-1]) != tc.f.Ascending {
					t.Fatalf("order broken at %d: %v", i, got)
				}
			}
		})
	}
	if page, err := s.List(ctx, Filter{}); err != nil || len(page) != 100 {
		t.Errorf("default limit: %d captures, %v; want 100", len(page), err)
	}
}

func TestSecondStoreReadsWhileFirstWrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "captures.db")
	w, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx := testCtx(t)

	bodyOf := func(uuid string) []byte {
		return bytes.Repeat([]byte(uuid+"|"), 400) // ~15 KB: spans several pages
	}
	const writers, perWriter = 8, 40
	var wg sync.WaitGroup
	writeErrs := make(chan error, writers)
	for g := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWriter {
				uuid := fmt.Sprintf("w%d-%d", g, i)
				if err := w.Insert(ctx, &Capture{Method: "POST", Path: "/", Subject: decode.Subject{NotificationUUID: uuid}, Body: bodyOf(uuid)}); err != nil {
					writeErrs <- err
					return
				}
			}
		}()
	}
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()

	last, reads := 0, 0
	for done := false; !done; {
		select {
		case <-finished:
			done = true // one more pass after the last write
		default:
		}
		n, err := r.Count(ctx, Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if n < last {
			t.Fatalf("count went back from %d to %d", last, n)
		}
		last = n
		page, err := r.List(ctx, Filter{Limit: 5})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range page {
			full, err := r.Get(ctx, c.ID)
			if err != nil {
				t.Fatalf("listed capture %d not readable: %v", c.ID, err)
			}
			if want := bodyOf(c.NotificationUUID); !bytes.Equal(full.Body, want) || c.BodySize != len(want) {
				t.Fatalf("capture %d: half-written body (%d bytes, want %d)", c.ID, len(full.Body), len(want))
			}
		}
		reads++
	}
	close(writeErrs)
	for err := range writeErrs {
		t.Fatal(err)
	}
	if last != writers*perWriter {
		t.Errorf("reader saw %d captures at the end, want %d", last, writers*perWriter)
	}
	t.Logf("%d read passes during the writes", reads)
}

func TestMigrations(t *testing.T) {
	dir := t.TempDir()
	ctx := testCtx(t)

	t.Run("empty file", func(t *testing.T) {
		// An existing 0-byte file is not a store (a failed copy, a full disk): Open says so and
		// leaves it alone rather than starting a new store over it.
		path := filepath.Join(dir, "empty.db")
		if err := os.WriteFile(path, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if s, err := Open(path, func(o *options) { o.emptyWait = 0 }); !errors.Is(err, ErrEmptyFile) {
			if err == nil {
				s.Close()
			}
			t.Fatalf("Open of a 0-byte file: %v, want ErrEmptyFile", err)
		}
		if st, err := os.Stat(path); err != nil || st.Size() != 0 {
			t.Errorf("the empty file was changed: %v %v", st, err)
		}
	})

	t.Run("new file", func(t *testing.T) {
		path := filepath.Join(dir, "new.db")
		s, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		// Another process opening it now must not find it empty.
		if st, err := os.Stat(path); err != nil || st.Size() == 0 {
			t.Errorf("a new store is still empty once open: %v %v", st, err)
		}
		c := &Capture{Method: "POST", Path: "/"}
		if err := s.Insert(ctx, c); err != nil {
			t.Fatal(err)
		}
		if v, _ := userVersion(ctx, s); v != SchemaVersion() {
			t.Errorf("user_version %d, want %d", v, SchemaVersion())
		}
		s.Close()
		s, err = Open(path) // reopening an up-to-date store changes nothing
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if _, err := s.Get(ctx, c.ID); err != nil {
			t.Errorf("capture lost on reopen: %v", err)
		}
	})

	t.Run("two processes migrate a new file at once", func(t *testing.T) {
		path := filepath.Join(dir, "race.db")
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s, err := Open(path)
				if err == nil {
					err = s.Insert(ctx, &Capture{Method: "POST", Path: "/"})
					s.Close()
				}
				errs[i] = err
			}()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Error(err)
			}
		}
	})

	t.Run("newer schema refused", func(t *testing.T) {
		path := filepath.Join(dir, "newer.db")
		s, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.wdb.Exec(fmt.Sprintf("PRAGMA user_version = %d", SchemaVersion()+1)); err != nil {
			t.Fatal(err)
		}
		s.Close()
		if _, err := Open(path); err == nil || !strings.Contains(err.Error(), "newer") {
			t.Errorf("Open of a newer schema: %v", err)
		}
	})

	t.Run("not a database", func(t *testing.T) {
		path := filepath.Join(dir, "notes.txt")
		if err := os.WriteFile(path, bytes.Repeat([]byte("not sqlite\n"), 100), 0o600); err != nil {
			t.Fatal(err)
		}
		if s, err := Open(path); err == nil {
			s.Close()
			t.Error("Open of a text file succeeded")
		}
	})
}

func TestDeliveries(t *testing.T) {
	path := filepath.Join(t.TempDir(), "captures.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := testCtx(t)
	c1, c2, c3 := &Capture{Method: "POST", Path: "/1"}, &Capture{Method: "POST", Path: "/2"}, &Capture{Method: "POST", Path: "/3"}
	for _, c := range []*Capture{c1, c2, c3} {
		if err := s.Insert(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	d1 := &Delivery{CaptureID: c1.ID, Target: "http://127.0.0.1:3000/a", Attempt: 1, StartedAt: now.Add(-time.Minute),
		Status: 503, Latency: 12 * time.Millisecond, Response: "busy", State: DeliveryPending, NextRetryAt: now.Add(-time.Second)}
	d2 := &Delivery{CaptureID: c2.ID, Target: "http://127.0.0.1:3000/a", Attempt: 1, StartedAt: now, Error: "connection refused",
		State: DeliveryPending, NextRetryAt: now.Add(time.Hour)}
	d3 := &Delivery{CaptureID: c1.ID, Target: "http://127.0.0.1:4000/b", Attempt: 1, StartedAt: now, Status: 200,
		State: DeliverySucceeded, Replay: true}
	d4 := &Delivery{CaptureID: c3.ID, Target: "http://127.0.0.1:3000/a", Attempt: 2, StartedAt: now, Status: 500,
		State: DeliveryPending, NextRetryAt: now.Add(-time.Hour)}
	for _, d := range []*Delivery{d1, d2, d3, d4} {
		if err := s.AddDelivery(ctx, d); err != nil {
			t.Fatal(err)
		}
		if d.ID == 0 {
			t.Fatal("AddDelivery set no ID")
		}
	}

	for _, tc := range []struct {
		name  string
		d     *Delivery
		wants string
	}{
		{"pending without retry time", &Delivery{CaptureID: c1.ID, Target: "x", Attempt: 1, State: DeliveryPending}, "NextRetryAt"},
		{"unknown state", &Delivery{CaptureID: c1.ID, Target: "x", Attempt: 1, State: "maybe"}, "state"},
		{"missing capture", &Delivery{CaptureID: 424242, Target: "x", Attempt: 1, State: DeliveryFailed}, "capture 424242 not found"},
	} {
		if err := s.AddDelivery(ctx, tc.d); err == nil || !strings.Contains(err.Error(), tc.wants) {
			t.Errorf("%s: AddDelivery = %v, want an error about %q", tc.name, err, tc.wants)
		}
	}

	// Pending retries survive a restart.
	s.Close()
	if s, err = Open(path); err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	due, err := s.DueDeliveries(ctx, now, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := deliveryIDs(due); !reflect.DeepEqual(got, []int64{d4.ID, d1.ID}) {
		t.Errorf("due %v, want [%d %d] (most overdue first)", got, d4.ID, d1.ID)
	}
	if due, _ := s.DueDeliveries(ctx, now, 1); len(due) != 1 {
		t.Errorf("limit 1: %d due", len(due))
	}
	if !due[1].NextRetryAt.Equal(d1.NextRetryAt) || due[1].Response != "busy" || due[1].Status != 503 || due[1].Latency != d1.Latency {
		t.Errorf("due delivery read back as %+v", due[1])
	}

	// The retry succeeds: the row leaves the due list.
	d1.Attempt, d1.Status, d1.State, d1.Response, d1.StartedAt = 2, 200, DeliverySucceeded, "ok", now.Add(time.Second)
	if err := s.UpdateDelivery(ctx, d1); err != nil {
		t.Fatal(err)
	}
	if due, _ := s.DueDeliveries(ctx, now.Add(2*time.Hour), 10); !reflect.DeepEqual(deliveryIDs(due), []int64{d4.ID, d2.ID}) {
		t.Errorf("due later %v, want [%d %d]", deliveryIDs(due), d4.ID, d2.ID)
	}
	if err := s.UpdateDelivery(ctx, &Delivery{ID: 99999, State: DeliveryFailed}); !errors.Is(err, ErrNotFound) {
		t.Errorf("UpdateDelivery of a missing row: %v", err)
	}

	list, err := s.Deliveries(ctx, c1.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ID != d1.ID || list[0].State != DeliverySucceeded || !list[0].NextRetryAt.IsZero() ||
		!list[0].StartedAt.Equal(now.Add(time.Second)) || list[1].ID != d3.ID || !list[1].Replay {
		t.Errorf("deliveries of capture %d: %+v", c1.ID, list)
	}
	// An update without a start time keeps the recorded one.
	d3.StartedAt, d3.Error = time.Time{}, "note"
	if err := s.UpdateDelivery(ctx, d3); err != nil {
		t.Fatal(err)
	}
	if list, _ := s.Deliveries(ctx, c1.ID); !list[1].StartedAt.Equal(now) || list[1].Error != "note" {
		t.Errorf("update without StartedAt: %+v", list[1])
	}
	if list, _ := s.Deliveries(ctx, 777); len(list) != 0 {
		t.Errorf("deliveries of a missing capture: %+v", list)
	}

	last, err := s.Forwardings(ctx, []int64{c1.ID, c2.ID, 777})
	if err != nil {
		t.Fatal(err)
	}
	if len(last) != 2 || last[c1.ID].Latest.ID != d3.ID || last[c2.ID].Latest.ID != d2.ID {
		t.Errorf("Forwardings = %+v", last)
	}

	// Deleting a capture deletes its deliveries.
	if _, err := s.Delete(ctx, c1.ID); err != nil {
		t.Fatal(err)
	}
	if list, _ := s.Deliveries(ctx, c1.ID); len(list) != 0 {
		t.Errorf("deliveries survived their capture: %+v", list)
	}
}

func deliveryIDs(ds []Delivery) []int64 {
	var ids []int64
	for _, d := range ds {
		ids = append(ids, d.ID)
	}
	return ids
}

func TestForwardingsManyIDs(t *testing.T) {
	s := openTemp(t)
	ctx := testCtx(t)
	base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	bulkInsert(t, s, 1200, func(i int) *Capture { return synthetic(i, nil, base) })
	ids := make([]int64, 1200)
	for i := range ids {
		ids[i] = int64(i + 1)
	}
	for _, id := range []int64{1, 600, 1200} {
		if err := s.AddDelivery(ctx, &Delivery{CaptureID: id, Target: "t", Attempt: 1, State: DeliveryFailed}); err != nil {
			t.Fatal(err)
		}
	}
	last, err := s.Forwardings(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	if len(last) != 3 || last[1].Latest.CaptureID != 1 || last[600].Latest.CaptureID != 600 || last[1200].Best.CaptureID != 1200 {
		t.Errorf("Forwardings over chunks: %+v", last)
	}
}

func TestSetResponse(t *testing.T) {
	s := openTemp(t)
	ctx := testCtx(t)
	c := &Capture{Method: "POST", Path: "/", IdentityMismatch: "environment Production != Sandbox"}
	if err := s.Insert(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := s.SetResponse(ctx, c.ID, 503, 42*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.ResponseStatus != 503 || got.Latency != 42*time.Millisecond || got.IdentityMismatch == "" {
		t.Errorf("got %+v", got)
	}
	if err := s.SetResponse(ctx, 12345, 200, 0); !errors.Is(err, ErrNotFound) {
		t.Errorf("SetResponse of a missing capture: %v", err)
	}
}

func TestDelete(t *testing.T) {
	s := openTemp(t)
	ctx := testCtx(t)
	v := loadVectors(t)[4]
	first, dup, other := captureOf(v, time.Now()), captureOf(v, time.Now()), &Capture{Method: "POST", Path: "/"}
	for _, c := range []*Capture{first, dup, other} {
		if err := s.Insert(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	if missing, err := s.Missing(ctx, first.ID, 999, other.ID, 1000); err != nil || !reflect.DeepEqual(missing, []int64{999, 1000}) {
		t.Errorf("Missing = %v, %v", missing, err)
	}
	n, err := s.Delete(ctx, first.ID, 999)
	if err != nil || n != 1 {
		t.Fatalf("Delete = %d, %v; want 1", n, err)
	}
	if _, err := s.Get(ctx, first.ID); !errors.Is(err, ErrNotFound) || err.Error() != fmt.Sprintf("capture %d not found", first.ID) {
		t.Errorf("Get of a deleted capture: %v", err)
	}
	got, err := s.Get(ctx, dup.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.DuplicateOf != 0 {
		t.Errorf("duplicate still points at deleted capture %d", got.DuplicateOf)
	}
	var bodies int
	if err := s.rdb.QueryRowContext(ctx, "SELECT count(*) FROM capture_bodies").Scan(&bodies); err != nil || bodies != 2 {
		t.Errorf("%d bodies left, want 2 (%v)", bodies, err)
	}
	if n, err := s.DeleteAll(ctx); err != nil || n != 2 {
		t.Errorf("DeleteAll = %d, %v; want 2", n, err)
	}
	if n, _ := s.Count(ctx, Filter{}); n != 0 {
		t.Errorf("Count after DeleteAll = %d", n)
	}
	// IDs are never reused, so an ID someone wrote down cannot name a different capture.
	c := &Capture{Method: "POST", Path: "/"}
	if err := s.Insert(ctx, c); err != nil {
		t.Fatal(err)
	}
	if c.ID <= other.ID {
		t.Errorf("ID %d reused (last was %d)", c.ID, other.ID)
	}
	if n, err := s.Delete(ctx); err != nil || n != 0 {
		t.Errorf("Delete() = %d, %v", n, err)
	}
}

func TestStats(t *testing.T) {
	s := openTemp(t)
	ctx := testCtx(t)
	day := func(d, h int) time.Time { return time.Date(2026, 11, d, h, 30, 0, 0, time.UTC) }
	for _, c := range []*Capture{
		{ReceivedAt: day(21, 23), Subject: decode.Subject{Type: "DID_RENEW"}, Trust: "verified"},
		{ReceivedAt: day(22, 0), Subject: decode.Subject{Type: "DID_RENEW"}, Trust: "verified"},
		{ReceivedAt: day(22, 1), Subject: decode.Subject{Type: "TEST"}, Trust: "simulated"},
		// 23:30 in UTC-5 is the 23rd in UTC: days are counted in UTC.
		{ReceivedAt: time.Date(2026, 11, 22, 23, 30, 0, 0, time.FixedZone("EST", -5*3600)), Subject: decode.Subject{Type: ""}, Trust: "invalid"},
	} {
		c.Method, c.Path = "POST", "/"
		if err := s.Insert(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	imported := &Capture{ReceivedAt: day(24, 9), Method: MethodImport, Path: "/history", Subject: decode.Subject{Type: "TEST"}, Trust: "simulated"}
	if err := s.Insert(ctx, imported); err != nil {
		t.Fatal(err)
	}
	st, err := s.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := Stats{
		Total:   5,
		ByType:  map[string]int{"DID_RENEW": 2, "TEST": 2, "": 1},
		ByTrust: map[string]int{"verified": 2, "simulated": 2, "invalid": 1},
		ByDay:   map[string]int{"2026-11-21": 1, "2026-11-22": 2, "2026-11-23": 1, "2026-11-24": 1},
		// The newest arrival: the import after it is not one.
		LastReceivedAt: time.Date(2026, 11, 23, 4, 30, 0, 0, time.UTC),
	}
	if !reflect.DeepEqual(st, want) {
		t.Errorf("Stats = %+v\nwant %+v", st, want)
	}
	if keys := SortedKeys(st.ByType); !reflect.DeepEqual(keys, []string{"DID_RENEW", "TEST", ""}) {
		t.Errorf("SortedKeys = %q", keys)
	}
	empty := openTemp(t)
	if st, err := empty.Stats(ctx); err != nil || st.Total != 0 || st.ByDay == nil || !st.LastReceivedAt.IsZero() {
		t.Errorf("empty Stats = %+v, %v", st, err)
	}
}

func TestErrorsSurface(t *testing.T) {
	ctx := testCtx(t)

	t.Run("closed store", func(t *testing.T) {
		s := openTemp(t)
		c := &Capture{Method: "POST", Path: "/"}
		if err := s.Insert(ctx, c); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
		if err := s.Insert(ctx, &Capture{Method: "POST"}); !errors.Is(err, ErrClosed) {
			t.Errorf("Insert after Close = %v", err)
		}
		if _, err := s.Get(ctx, c.ID); !errors.Is(err, ErrClosed) {
			t.Errorf("Get after Close = %v", err)
		}
		if _, err := s.List(ctx, Filter{}); !errors.Is(err, ErrClosed) {
			t.Errorf("List after Close = %v", err)
		}
	})

	t.Run("read-only file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "captures.db")
		s, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		c := &Capture{Method: "POST", Path: "/", Body: []byte("kept")}
		if err := s.Insert(ctx, c); err != nil {
			t.Fatal(err)
		}
		s.Close()
		makeReadOnly(t, path)

		s, err = Open(path)
		if err != nil {
			t.Fatalf("Open of a read-only store: %v", err)
		}
		defer s.Close()
		if !s.ReadOnly() {
			t.Error("ReadOnly() = false")
		}
		if err := s.Insert(ctx, &Capture{Method: "POST", Path: "/"}); !errors.Is(err, ErrReadOnly) {
			t.Errorf("Insert = %v, want ErrReadOnly", err)
		}
		if _, err := s.Delete(ctx, c.ID); !errors.Is(err, ErrReadOnly) {
			t.Errorf("Delete = %v, want ErrReadOnly", err)
		}
		got, err := s.Get(ctx, c.ID)
		if err != nil || string(got.Body) != "kept" {
			t.Errorf("reading a read-only store: %v", err)
		}
	})

	t.Run("locked by another process", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "captures.db")
		s, err := Open(path, WithBusyTimeout(50*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		other, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		holding := make(chan struct{})
		release := make(chan struct{})
		go func() {
			if err := other.write(ctx, func(*sql.Tx) error { close(holding); <-release; return nil }, nil); err != nil {
				t.Error(err)
			}
		}()
		<-holding
		err = s.Insert(ctx, &Capture{Method: "POST", Path: "/"})
		close(release)
		if err == nil || !strings.Contains(err.Error(), "SQLITE_BUSY") {
			t.Errorf("Insert while another store holds the write lock = %v, want SQLITE_BUSY", err)
		}
	})
}

// makeReadOnly makes path unwritable for this process: chmod for a normal user; root ignores
// permissions, so it also sets the immutable attribute when it can.
func makeReadOnly(t *testing.T, path string) {
	t.Helper()
	if err := os.Chmod(path, 0o400); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() != 0 {
		return
	}
	if out, err := exec.Command("chattr", "+i", path).CombinedOutput(); err != nil {
		t.Skipf("running as root and cannot make %s immutable: %v %s", path, err, out)
	}
	t.Cleanup(func() { _ = exec.Command("chattr", "-i", path).Run() /* best effort: only set when chattr +i worked */ })
}

func TestOpenPathsNeedingEscapes(t *testing.T) {
	ctx := testCtx(t)
	for _, name := range []string{"with space.db", "hash#mark.db", "question?mark.db", "per%25cent.db", "ünï.db"} {
		path := filepath.Join(t.TempDir(), "dir with ?#%", name)
		s, err := Open(path)
		if err != nil {
			t.Fatalf("%q: %v", name, err)
		}
		c := &Capture{Method: "POST", Path: "/", Body: []byte(name)}
		if err := s.Insert(ctx, c); err != nil {
			t.Fatalf("%q: %v", name, err)
		}
		s.Close()
		// The file is where the caller said, not at a path SQLite cut at '?' or '#'.
		if _, err := os.Stat(path); err != nil {
			t.Fatalf("%q: %v", name, err)
		}
		s, err = Open(path)
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.Get(ctx, c.ID)
		s.Close()
		if err != nil || string(got.Body) != name {
			t.Errorf("%q: read back %v", name, err)
		}
	}
}

// TestCloseWhileInserting: Close racing with a flood of Inserts neither hangs nor loses a capture
// whose Insert returned nil; the others get ErrClosed.
func TestCloseWhileInserting(t *testing.T) {
	path := filepath.Join(t.TempDir(), "captures.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := testCtx(t)
	var (
		mu    sync.Mutex
		acked []int64
		wg    sync.WaitGroup
	)
	started := make(chan struct{})
	var once sync.Once
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				c := &Capture{Method: "POST", Path: "/", Body: []byte("x")}
				err := s.Insert(ctx, c)
				if errors.Is(err, ErrClosed) {
					return
				}
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				acked = append(acked, c.ID)
				if len(acked) == 50 {
					once.Do(func() { close(started) })
				}
				mu.Unlock()
			}
		}()
	}
	<-started
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	s, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	missing, err := s.Missing(ctx, acked...)
	if err != nil || len(missing) > 0 {
		t.Errorf("%d of %d acknowledged captures missing after Close: %v", len(missing), len(acked), err)
	}
}

func TestBatchesAreBoundedByBytes(t *testing.T) {
	s := openTemp(t)
	ctx := testCtx(t)
	release := holdWriter(t, s)
	body := bytes.Repeat([]byte("x"), 6<<20)
	const n = 5
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.Insert(ctx, &Capture{Method: "POST", Path: "/", Body: body})
		}()
	}
	waitQueued(t, s, n)
	before := s.commits.Load()
	release()
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	// 6 MiB bodies against a 16 MiB budget: the holding job, then 3 bodies, then 2.
	if got := s.commits.Load() - before; got != 3 {
		t.Errorf("%d commits, want 3", got)
	}
}

// TestTakeOverPending: a replay's take-over and a forwarder's retry of the same pending delivery
// exclude each other, so exactly one of them delivers; a failed replay puts the retry back, and
// an attempt in flight is not taken over.
func TestTakeOverPending(t *testing.T) {
	s := openTemp(t)
	ctx := testCtx(t)
	c := &Capture{Method: "POST", Path: "/", Body: []byte("{}"), ReceivedAt: time.Now()}
	if err := s.Insert(ctx, c); err != nil {
		t.Fatal(err)
	}
	const target = "http://localhost:3000"
	due := time.Now().Add(time.Minute)
	prev := &Delivery{CaptureID: c.ID, Target: target, Attempt: 1, State: DeliveryPending, NextRetryAt: due, Error: "refused; retry 1 of 5"}
	if err := s.AddDelivery(ctx, prev); err != nil {
		t.Fatal(err)
	}
	to, err := s.TakeOverPending(ctx, c.ID, target, time.Now())
	if err != nil || len(to.Taken) != 1 || to.InFlight != nil || to.Accepted != nil {
		t.Fatalf("TakeOverPending = %+v, %v", to, err)
	}
	next := &Delivery{CaptureID: c.ID, Target: target, Attempt: 2, State: DeliveryPending, NextRetryAt: due}
	if ok, err := s.RetryDelivery(ctx, prev.ID, next); ok || err != nil || next.ID != 0 {
		t.Fatalf("RetryDelivery of a taken-over retry = %v, %v (id %d); want false, nothing written", ok, err, next.ID)
	}
	if err := s.RestorePending(ctx, to.Taken); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.RetryDelivery(ctx, prev.ID, next); !ok || err != nil || next.ID == 0 {
		t.Fatalf("RetryDelivery of a restored retry = %v, %v; want true", ok, err)
	}
	// next is in flight (pending, no outcome yet): a replay must wait for it.
	if to, err := s.TakeOverPending(ctx, c.ID, target, time.Now()); err != nil || to.InFlight == nil || len(to.Taken) != 0 {
		t.Fatalf("TakeOverPending during an attempt = %+v, %v", to, err)
	}
	// Past its NextRetryAt the attempt was cut short (a crash): a replay takes it over.
	if to, err := s.TakeOverPending(ctx, c.ID, target, due.Add(time.Second)); err != nil || to.InFlight != nil || len(to.Taken) != 1 {
		t.Fatalf("TakeOverPending of an attempt cut short = %+v, %v", to, err)
	}
	if err := s.RestorePending(ctx, []Delivery{*next}); err != nil {
		t.Fatal(err)
	}
	next.State, next.Status = DeliverySucceeded, 200
	if err := s.UpdateDelivery(ctx, next); err != nil {
		t.Fatal(err)
	}
	if to, err := s.TakeOverPending(ctx, c.ID, target, time.Now()); err != nil || to.Accepted == nil || to.Accepted.ID != next.ID {
		t.Fatalf("TakeOverPending after success = %+v, %v", to, err)
	}
}

// TestForwardingBestAndLatest: a capture delivered with 200 and then replayed while the target is
// down keeps its 200 in the list, with the failed replay beside it, not "error" as if never
// delivered.
func TestForwardingBestAndLatest(t *testing.T) {
	s := openTemp(t)
	ctx := testCtx(t)
	c := &Capture{Method: "POST", Path: "/", Body: []byte("{}"), ReceivedAt: time.Now()}
	if err := s.Insert(ctx, c); err != nil {
		t.Fatal(err)
	}
	add := func(d Delivery) {
		d.CaptureID, d.Target = c.ID, "http://localhost:3000"
		if err := s.AddDelivery(ctx, &d); err != nil {
			t.Fatal(err)
		}
	}
	outcome := func() string {
		t.Helper()
		fw, err := s.Forwardings(ctx, []int64{c.ID})
		if err != nil {
			t.Fatal(err)
		}
		return fw[c.ID].Outcome()
	}
	add(Delivery{Attempt: 1, State: DeliveryFailed, Error: "refused"})
	if got := outcome(); got != "error" {
		t.Errorf("after a failure: %q", got)
	}
	add(Delivery{Attempt: 2, State: DeliverySucceeded, Status: 200})
	if got := outcome(); got != "200" {
		t.Errorf("after the retry succeeded: %q", got)
	}
	add(Delivery{Attempt: 1, State: DeliveryFailed, Error: "refused", Replay: true})
	if got := outcome(); got != "200 · replay failed" {
		t.Errorf("after a failed replay: %q, want the best and the latest", got)
	}
	add(Delivery{Attempt: 1, State: DeliveryFailed, Status: 500, Replay: true})
	if got := outcome(); got != "200 · replay 500" {
		t.Errorf("after a replay answered 500: %q", got)
	}
	add(Delivery{Attempt: 1, State: DeliverySucceeded, Status: 204, Replay: true})
	if got := outcome(); got != "204" {
		t.Errorf("after a replay succeeded: %q", got)
	}
}

// A listener fed by a hub looks up each message's origin before storing it: the lookup must use
// the unique index, not scan every capture the listener holds.
func TestHubOriginLookupUsesItsIndex(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "captures.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rows, err := s.rdb.QueryContext(testCtx(t), "EXPLAIN QUERY PLAN "+qHubOrigin, "hub/1")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, notUsed int
		var detail string
		if err := rows.Scan(&id, &parent, &notUsed, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(plan) != 1 || !strings.Contains(plan[0], "INDEX captures_hub_origin") {
		t.Fatalf("query plan %q: want a search of captures_hub_origin", plan)
	}
}

// TestBulkWritesJournalToAFile: group commits keep SQLite's sub-journal in memory, except a batch
// holding a job that may change the whole store (Delete, DeleteAll): its sub-journal goes to a
// file, as SQLite's default has it, so deleting a large store cannot take its size in memory.
func TestBulkWritesJournalToAFile(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	var got []string
	seen := func(tx *sql.Tx) error {
		var v string
		if err := tx.QueryRow("PRAGMA temp_store").Scan(&v); err != nil {
			return err
		}
		got = append(got, v)
		return nil
	}
	if err := s.write(ctx, seen, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.writeBulk(ctx, seen, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.write(ctx, seen, nil); err != nil {
		t.Fatal(err)
	}
	if want := []string{"2", "1", "2"}; !slices.Equal(got, want) { // MEMORY, FILE, MEMORY again
		t.Fatalf("temp_store in a job, a bulk job, a job: %q, want %q", got, want)
	}
}
