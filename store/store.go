// Package store is s2s's durable capture store: an embedded SQLite database (pure-Go driver, no
// cgo) in WAL mode with synchronous=FULL, so a capture that Insert reports as stored survives a
// crash or a power cut, and other processes (`s2s captures list`) can read while `s2s listen`
// writes.
//
// Every write goes through one writer goroutine that commits whatever is queued in a single
// transaction (group commit): one fsync covers many concurrent requests, and each caller is
// woken only after the transaction holding its row is durable.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"modernc.org/sqlite" // also registers the "sqlite" database/sql driver
	sqlite3 "modernc.org/sqlite/lib"
)

var (
	// ErrClosed is returned by every method called after Close.
	ErrClosed = errors.New("store is closed")
	// ErrReadOnly is returned by writes to a store opened read-only (a file this user cannot write).
	ErrReadOnly = errors.New("store is read-only")
)

// DefaultBusyTimeout is how long a statement waits for another process's lock (a `captures rm`
// while `listen` writes) before it fails with SQLITE_BUSY; WithBusyTimeout changes it.
const DefaultBusyTimeout = 5 * time.Second

// Option changes how Open opens a store.
type Option func(*options)

type options struct {
	busyTimeout time.Duration
	// emptyWait is how long Open waits for an existing 0-byte file to be filled by the process
	// that created it a moment ago (a listen and a captures list started together) before
	// calling it ErrEmptyFile.
	emptyWait time.Duration
	// dirWritable answers whether files can be created in a directory; tests inject the fault
	// where they cannot make it.
	dirWritable func(dir string) bool
}

// WithBusyTimeout sets how long a statement waits for another process's lock before it fails
// with SQLITE_BUSY (DefaultBusyTimeout when not given).
func WithBusyTimeout(d time.Duration) Option {
	return func(o *options) { o.busyTimeout = d }
}

const (
	// maxBatch and maxBatchBytes bound one group commit so a flood of large bodies cannot build
	// a transaction (and a WAL file) without end.
	maxBatch      = 512
	maxBatchBytes = 16 << 20
	// readConns is the reader pool; WAL readers never block the writer nor each other.
	readConns = 4
)

// Store is an open capture database. Its methods are safe for concurrent use.
type Store struct {
	path        string
	readOnly    bool
	busyTimeout time.Duration

	wdb *sql.DB // one connection, used only by the writer goroutine (and Open's migrations)
	rdb *sql.DB // query_only pool for reads

	mu     sync.RWMutex // guards closed and sends on jobs against Close
	closed bool
	jobs   chan *job
	done   chan struct{} // closed when the writer goroutine has drained jobs and exited

	closeOnce sync.Once
	closeErr  error

	commits atomic.Int64 // group commits so far; tests use it to see batching happen

	// prepared are the writer's hot statements, compiled once at Open on the single write
	// connection (compiling them for every capture costs as much CPU as executing them).
	// Read-only after Open.
	prepared map[string]*sql.Stmt
}

const (
	qSavepoint  = "SAVEPOINT job"
	qRelease    = "RELEASE job"
	qRollbackTo = "ROLLBACK TO job"
)

// prepare compiles the writer's hot statements; the write pool has one connection, so they stay
// prepared on it.
func (s *Store) prepare() error {
	for _, st := range s.prepared { // an earlier attempt refused with SQLITE_BUSY
		st.Close()
	}
	s.prepared = map[string]*sql.Stmt{}
	for _, q := range []string{qSavepoint, qRelease, qRollbackTo, qDuplicate, qHubOrigin, qInsertCapture, qInsertBody, qSetResponse} {
		st, err := s.wdb.Prepare(q)
		if err != nil {
			return fmt.Errorf("prepare: %w", err)
		}
		s.prepared[q] = st
	}
	return nil
}

// exec runs a write statement in tx, prepared when it is one of the hot ones.
func (s *Store) exec(tx *sql.Tx, q string, args ...any) (sql.Result, error) {
	if st := s.prepared[q]; st != nil {
		return tx.Stmt(st).Exec(args...)
	}
	return tx.Exec(q, args...)
}

func (s *Store) queryRow(tx *sql.Tx, q string, args ...any) *sql.Row {
	if st := s.prepared[q]; st != nil {
		return tx.Stmt(st).QueryRow(args...)
	}
	return tx.QueryRow(q, args...)
}

// job is one unit of work for the writer goroutine. fn runs inside the batch's transaction under
// its own savepoint, so a failing job is rolled back alone; after runs only once the transaction
// is committed (that is where results become visible to the caller).
type job struct {
	ctx   context.Context
	size  int  // bytes the job writes, roughly: its body
	bulk  bool // may change any number of pages (see dsn's temp_store)
	fn    func(tx *sql.Tx) error
	after func()
	errc  chan error

	// A caller that gave up (its context ended) must not have its values written behind its
	// back; a caller whose job was committed just as it gave up still learns of the success.
	mu        sync.Mutex
	abandoned bool
	applied   bool
}

// Open opens (creating it and its parent directories when missing) the store at path and brings
// its schema up to date. A file this user cannot write is opened read-only: reads work, writes
// return ErrReadOnly.
func Open(path string, opts ...Option) (*Store, error) {
	o := options{busyTimeout: DefaultBusyTimeout, emptyWait: time.Second, dirWritable: dirWritable}
	for _, opt := range opts {
		opt(&o)
	}
	if path == "" {
		return nil, errors.New("store: empty path")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	readOnly, immutable, err := prepareFile(abs, o)
	if err != nil {
		return nil, err
	}
	s := &Store{path: path, readOnly: readOnly, busyTimeout: o.busyTimeout}

	mode := "rw"
	if readOnly {
		mode = "ro"
	}
	if immutable {
		mode = "immutable"
	}
	if s.wdb, err = sql.Open("sqlite", dsn(abs, mode, false, o.busyTimeout)); err != nil {
		return nil, fmt.Errorf("store %s: %w", path, err)
	}
	s.wdb.SetMaxOpenConns(1)
	s.wdb.SetMaxIdleConns(1)
	s.wdb.SetConnMaxLifetime(0)
	s.wdb.SetConnMaxIdleTime(0)
	// Opening a new file races with another process opening it (listen and captures list started
	// together): switching it to WAL and running recovery can answer SQLITE_BUSY without waiting
	// on the busy timeout, so the whole first contact is retried for as long as that timeout.
	if err := s.retryBusy(func() error { return s.migrate(context.Background()) }); err != nil {
		s.wdb.Close()
		return nil, fmt.Errorf("store %s: %w", path, classify(err))
	}
	if s.rdb, err = sql.Open("sqlite", dsn(abs, mode, true, o.busyTimeout)); err != nil {
		s.wdb.Close()
		return nil, fmt.Errorf("store %s: %w", path, err)
	}
	s.rdb.SetMaxOpenConns(readConns)
	s.rdb.SetMaxIdleConns(readConns)

	s.done = make(chan struct{})
	if readOnly {
		close(s.done)
	} else {
		if err := s.retryBusy(s.prepare); err != nil {
			s.rdb.Close()
			s.wdb.Close()
			return nil, fmt.Errorf("store %s: %w", path, err)
		}
		s.jobs = make(chan *job, maxBatch)
		go s.writer()
	}
	return s, nil
}

// prepareFile creates the parent directories (0700) and, when missing, the database file (0600)
// so that SQLite never creates them with the process umask. It reports whether the store can
// only be read: the file cannot be written, or its directory (where SQLite keeps the -wal and
// -shm files) cannot. Such a store is opened immutable when SQLite could not create the -shm
// file it needs to read a WAL database: a read-only mount or directory still reads. An existing
// file of 0 bytes is ErrEmptyFile, not a new store.
func prepareFile(abs string, o options) (readOnly, immutable bool, err error) {
	dir := filepath.Dir(abs)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return false, false, fmt.Errorf("store: %w", err)
	}
	f, err := os.OpenFile(abs, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		// A new file's directory entry must reach the disk too, or a crash could leave
		// committed captures in a file that no longer has a name.
		closeErr := f.Close()
		syncDir(dir)
		if closeErr != nil {
			return false, false, fmt.Errorf("store: %w", closeErr)
		}
		return false, false, nil
	}
	if _, statErr := os.Stat(abs); statErr != nil {
		return false, false, fmt.Errorf("store: %w", classify(err))
	}
	if err := waitNotEmpty(abs, o.emptyWait); err != nil {
		return false, false, err
	}
	dw := o.dirWritable(dir)
	f, err = os.OpenFile(abs, os.O_RDWR, 0)
	switch {
	case err == nil:
		if err := f.Close(); err != nil {
			return false, false, fmt.Errorf("store: %w", err)
		}
		readOnly = !dw
	case errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EROFS):
		readOnly = true
	default:
		return false, false, fmt.Errorf("store: %w", err)
	}
	if readOnly && !dw {
		if _, err := os.Stat(abs + "-shm"); err != nil {
			immutable = true
		}
	}
	return readOnly, immutable, nil
}

func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync() // best effort: some file systems refuse fsync on directories
	d.Close()
}

// dsn builds a SQLite URI for the driver. mode=rw never creates the file (prepareFile did);
// journal_mode=WAL is persistent in the file and only set by the writer. mode "immutable" is a
// read-only open that takes no locks and needs no -shm file.
func dsn(abs, mode string, reader bool, busyTimeout time.Duration) string {
	q := url.Values{}
	if mode == "immutable" {
		mode = "ro"
		q.Set("immutable", "1")
	}
	q.Set("mode", mode)
	q.Set("_busy_timeout", fmt.Sprint(busyTimeout.Milliseconds()))
	q.Set("_foreign_keys", "1")
	q.Set("_synchronous", "FULL")
	if !reader && mode == "rw" {
		q.Set("_journal_mode", "WAL")
		// BEGIN IMMEDIATE takes the write lock up front, so a busy database makes the writer
		// wait (busy_timeout) instead of failing a half-done transaction on lock upgrade.
		q.Set("_txlock", "immediate")
		// After a burst, the WAL file shrinks back to this size once checkpointed.
		q.Add("_pragma", "journal_size_limit(67108864)")
		// Each job of a group commit runs under its own savepoint, and SQLite keeps the pages a
		// savepoint may roll back in a sub-journal: a temporary file by default, opened, written
		// page by page (two write calls each) and deleted for every transaction, a fifth of the
		// store's CPU time. In memory it costs no system call and holds, for each job, the
		// pages it changes that existed before it: a capture changes a dozen or so (its table
		// and index leaves), about 1 MB for a batch of a few dozen and at most ~30 MB for a
		// full one (maxBatch). A job that may change the whole store (Delete, DeleteAll) is
		// bulk: its batch keeps the sub-journal in a file, as before. Durability is the WAL's.
		q.Add("_pragma", "temp_store(memory)")
	}
	if reader {
		q.Set("_query_only", "1")
	}
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: q.Encode()}
	return u.String()
}

// Path is the path the store was opened with.
func (s *Store) Path() string { return s.path }

// ReadOnly reports whether the file could only be opened for reading; writes then fail with
// ErrReadOnly (`s2s listen` refuses to start on such a store).
func (s *Store) ReadOnly() bool { return s.readOnly }

// Close finishes the writes already queued, then closes the database. Calls after the first
// return the first call's result.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		if s.jobs != nil {
			close(s.jobs)
		}
		s.mu.Unlock()
		<-s.done
		var errs []error
		if !s.readOnly {
			// Keeps the query planner's statistics fresh at a cost bounded by analysis_limit.
			_, _ = s.wdb.Exec("PRAGMA analysis_limit=400; PRAGMA optimize")
		}
		errs = append(errs, s.rdb.Close(), s.wdb.Close())
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}

// write runs fn in the writer's next group commit and waits until that transaction is durable.
// after runs (on the writer goroutine, before write returns) only if the commit succeeded.
func (s *Store) write(ctx context.Context, fn func(tx *sql.Tx) error, after func()) error {
	return s.writeSized(ctx, 0, fn, after)
}

// writeSized is write for a job that writes about size bytes (a capture's body).
func (s *Store) writeSized(ctx context.Context, size int, fn func(tx *sql.Tx) error, after func()) error {
	return s.run(ctx, &job{ctx: ctx, size: size, fn: fn, after: after, errc: make(chan error, 1)})
}

// writeBulk is write for a job that may change any number of pages (deleting captures): its
// batch keeps SQLite's sub-journal in a file, so the memory it takes stays bounded.
func (s *Store) writeBulk(ctx context.Context, fn func(tx *sql.Tx) error, after func()) error {
	return s.run(ctx, &job{ctx: ctx, bulk: true, fn: fn, after: after, errc: make(chan error, 1)})
}

// run queues j for the writer and waits for its result.
func (s *Store) run(ctx context.Context, j *job) error {
	if s.readOnly {
		return ErrReadOnly
	}
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return ErrClosed
	}
	select {
	case s.jobs <- j:
	case <-ctx.Done():
		s.mu.RUnlock()
		return ctx.Err()
	}
	s.mu.RUnlock()
	select {
	case err := <-j.errc:
		return err
	case <-ctx.Done():
		j.mu.Lock()
		applied := j.applied
		j.abandoned = !applied
		j.mu.Unlock()
		if applied {
			return <-j.errc // committed: the result is on its way
		}
		// The job may still be committed: that is safe (Apple retries, the retry is recorded as
		// a duplicate); what must never happen is reporting success without a commit.
		return ctx.Err()
	}
}

// writer is the single goroutine that owns the write connection. While one transaction is
// being committed (fsync), new jobs queue up in the channel; the next batch takes them all.
func (s *Store) writer() {
	defer close(s.done)
	batch := make([]*job, 0, maxBatch)
	for {
		j, ok := <-s.jobs
		if !ok {
			return
		}
		batch = append(batch[:0], j)
		bytes := j.size
	fill:
		for len(batch) < maxBatch && bytes < maxBatchBytes {
			select {
			case j, ok := <-s.jobs:
				if !ok {
					break fill
				}
				batch = append(batch, j)
				bytes += j.size
			default:
				break fill
			}
		}
		s.commit(batch)
	}
}

// commit runs a batch in one transaction. Each job gets its own savepoint, so one job's failure
// (a delivery for a capture that was deleted) does not fail the others; a failed commit fails
// them all.
func (s *Store) commit(batch []*job) {
	errs := make([]error, len(batch))
	live := 0
	for i, j := range batch {
		if err := j.ctx.Err(); err != nil {
			errs[i] = err
			continue
		}
		live++
	}
	if live == 0 {
		deliver(batch, errs)
		return
	}
	if hasBulk(batch, errs) {
		// temp_store applies from the next BEGIN: this batch's sub-journal goes to a file.
		if _, err := s.wdb.Exec("PRAGMA temp_store = FILE"); err != nil {
			fillErr(errs, fmt.Errorf("store: %w", err))
			deliver(batch, errs)
			return
		}
		defer func() {
			// Should this fail, later batches journal to a file: slower, never wrong.
			_, _ = s.wdb.Exec("PRAGMA temp_store = MEMORY")
		}()
	}
	// The batch does not use any caller's context: one cancelled request must not abort the
	// transaction carrying everyone else's rows.
	tx, err := s.wdb.BeginTx(context.Background(), nil)
	if err != nil {
		fillErr(errs, fmt.Errorf("store: begin: %w", err))
		deliver(batch, errs)
		return
	}
	for i, j := range batch {
		if errs[i] != nil {
			continue
		}
		if _, err := s.exec(tx, qSavepoint); err != nil {
			errs[i] = fmt.Errorf("store: %w", err)
			continue
		}
		if err := j.fn(tx); err != nil {
			errs[i] = err
			if _, rbErr := s.exec(tx, qRollbackTo); rbErr != nil {
				// The transaction itself is gone (SQLite rolls back on I/O errors): fail all.
				_ = tx.Rollback()
				fillErr(errs, fmt.Errorf("store: %w (rollback: %w)", err, rbErr))
				deliver(batch, errs)
				return
			}
		}
		if _, err := s.exec(tx, qRelease); err != nil {
			_ = tx.Rollback()
			fillErr(errs, fmt.Errorf("store: %w", err))
			deliver(batch, errs)
			return
		}
	}
	if err := tx.Commit(); err != nil {
		fillErr(errs, fmt.Errorf("store: commit: %w", err))
		deliver(batch, errs)
		return
	}
	s.commits.Add(1)
	for i, j := range batch {
		if errs[i] != nil {
			continue
		}
		j.mu.Lock()
		if !j.abandoned {
			if j.after != nil {
				j.after()
			}
			j.applied = true
		}
		j.mu.Unlock()
	}
	deliver(batch, errs)
}

// hasBulk reports whether a job of the batch still to run is bulk.
func hasBulk(batch []*job, errs []error) bool {
	for i, j := range batch {
		if errs[i] == nil && j.bulk {
			return true
		}
	}
	return false
}

// fillErr sets err for every job that has not failed on its own.
func fillErr(errs []error, err error) {
	for i := range errs {
		if errs[i] == nil {
			errs[i] = err
		}
	}
}

func deliver(batch []*job, errs []error) {
	for i, j := range batch {
		j.errc <- errs[i]
	}
}

// retryBusy runs fn until it does not fail with SQLITE_BUSY or SQLITE_LOCKED, for at most the
// busy timeout.
func (s *Store) retryBusy(fn func() error) error {
	deadline := time.Now().Add(s.busyTimeout)
	wait := 5 * time.Millisecond
	for {
		err := fn()
		if err == nil || !isBusy(err) || time.Now().After(deadline) {
			return err
		}
		time.Sleep(wait) // backing off from another process's lock; there is nothing to wait on
		wait = min(2*wait, 100*time.Millisecond)
	}
}

func isBusy(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	code := se.Code() & 0xff // primary result code; extended codes carry detail above it
	return code == sqlite3.SQLITE_BUSY || code == sqlite3.SQLITE_LOCKED
}

// readable returns ErrClosed after Close, so reads fail with a clear error.
func (s *Store) readable() error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	return nil
}
