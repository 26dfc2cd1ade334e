package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Faults Open and CheckWritable name, so that a command can say what to do about each.
var (
	// ErrEmptyFile is an existing file of 0 bytes at the store's path: not a store (a copy that
	// failed, a disk that filled), and s2s does not silently start a new store over it.
	ErrEmptyFile = errors.New("the file is empty (0 bytes), not a capture store")
	// ErrCorrupt wraps SQLite's report of a damaged (malformed) database.
	ErrCorrupt = errors.New("the store is damaged")
	// ErrNotWritable wraps a failure to write the store: the file, its directory (where SQLite
	// keeps the -wal and -shm files), a read-only mount or a full disk.
	ErrNotWritable = errors.New("the store cannot be written")
)

// quickCheckLimit is the largest store that gets SQLite's quick_check at CheckWritable (tens of
// milliseconds); a larger one only gets the trial write, so no start reads a whole large store.
const quickCheckLimit = 32 << 20

// CheckWritable makes sure that what a listener acknowledges can be kept, before it takes any:
// a trial insert of a capture with a body (rolled back, so it uses no ID, but it walks and
// writes the same pages as a real one), a committed write (the WAL appended and fsynced), and
// for a store up to 32 MiB SQLite's quick_check. The cost is bounded whatever the store's size.
// It returns ErrReadOnly, or an error wrapping ErrCorrupt or ErrNotWritable.
func (s *Store) CheckWritable(ctx context.Context) error {
	if s.readOnly {
		return ErrReadOnly
	}
	if err := s.readable(); err != nil {
		return err
	}
	if abs, err := filepath.Abs(s.path); err == nil {
		if st, err := os.Stat(abs); err == nil && st.Size() <= quickCheckLimit {
			if err := s.quickCheck(ctx); err != nil {
				return err
			}
		}
	}
	errTrial := errors.New("trial insert")
	trial := &Capture{ReceivedAt: time.Now(), Method: "POST", Path: "/", Body: make([]byte, 19<<10)}
	err := s.write(ctx, func(tx *sql.Tx) error {
		if _, _, err := s.insertCapture(tx, trial, "{}"); err != nil {
			return err
		}
		return errTrial // rolled back to its savepoint
	}, nil)
	if !errors.Is(err, errTrial) {
		return classify(err)
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		// Rewrites the header page with the value it has: a real commit that changes nothing.
		_, err := tx.Exec(fmt.Sprintf("PRAGMA user_version = %d", len(migrations)))
		return err
	}, nil)
	return classify(err)
}

// quickCheck runs SQLite's quick_check and reports its first findings as ErrCorrupt.
func (s *Store) quickCheck(ctx context.Context) error {
	rows, err := s.rdb.QueryContext(ctx, "PRAGMA quick_check(2)")
	if err != nil {
		return classify(fmt.Errorf("store: quick_check: %w", err))
	}
	defer rows.Close()
	var found []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return classify(fmt.Errorf("store: quick_check: %w", err))
		}
		if line != "ok" {
			// The first finding is headed by "*** in database main ***" and a newline.
			_, after, ok := strings.Cut(line, "***\n")
			if ok {
				line = after
			}
			found = append(found, strings.ReplaceAll(line, "\n", "; "))
		}
	}
	if err := rows.Err(); err != nil {
		return classify(fmt.Errorf("store: quick_check: %w", err))
	}
	if len(found) > 0 {
		return fmt.Errorf("%w: quick_check: %s", ErrCorrupt, strings.Join(found, "; "))
	}
	return nil
}

// classify wraps SQLite's and the file system's errors in ErrCorrupt or ErrNotWritable.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB:
			return fmt.Errorf("%w: %w", ErrCorrupt, err)
		case sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_PERM, sqlite3.SQLITE_FULL:
			return fmt.Errorf("%w: %w", ErrNotWritable, err)
		}
	}
	if errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EROFS) {
		return fmt.Errorf("%w: %w", ErrNotWritable, err)
	}
	return err
}

// dirWritable reports whether files can be created in dir, by creating one: unlike permission
// bits, that also answers for root, a read-only mount and an immutable directory.
func dirWritable(dir string) bool {
	f, err := os.CreateTemp(dir, ".s2s-check-*")
	if err != nil {
		return false
	}
	f.Close()
	os.Remove(f.Name())
	return true
}

// waitNotEmpty returns ErrEmptyFile when the file at abs stays 0 bytes for wait.
func waitNotEmpty(abs string, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	for {
		st, err := os.Stat(abs)
		if err != nil || st.Size() > 0 {
			return nil // Open reports a missing file itself
		}
		if time.Now().After(deadline) {
			return ErrEmptyFile
		}
		time.Sleep(20 * time.Millisecond) // another process is filling it; nothing to wait on
	}
}
