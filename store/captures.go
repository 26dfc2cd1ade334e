package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"time"
)

// Insert stores c and returns only once the transaction holding it is durably committed (fsync),
// or with an error, in which case the receiver must not acknowledge the request. On success it
// sets c.ID, c.BodySize, c.ReceivedAt (when it was zero) and c.DuplicateOf: the first stored
// capture with the same non-empty NotificationUUID, including one earlier in the same batch.
func (s *Store) Insert(ctx context.Context, c *Capture) error {
	if c == nil {
		return errors.New("store: nil capture")
	}
	row := *c
	if row.ReceivedAt.IsZero() {
		row.ReceivedAt = time.Now()
	}
	row.BodySize = len(row.Body)
	headers, err := marshalHeaders(row.Headers)
	if err != nil {
		return err
	}
	var (
		id, dup int64
		again   bool
	)
	err = s.writeSized(ctx, len(row.Body), func(tx *sql.Tx) error {
		var err error
		again = false
		if row.HubOrigin != "" {
			// A message the hub delivers again (no acknowledgement reached it) is the capture
			// already stored.
			err := s.queryRow(tx, qHubOrigin, row.HubOrigin).Scan(&id, &dup)
			if err == nil {
				again = true
				return nil
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("store: hub origin check: %w", err)
			}
		}
		id, dup, err = s.insertCapture(tx, &row, headers)
		return err
	}, func() {
		c.ID, c.DuplicateOf, c.BodySize, c.ReceivedAt, c.HubRedelivery = id, dup, row.BodySize, row.ReceivedAt, again
	})
	return err
}

const (
	qDuplicate = `SELECT id FROM captures WHERE notification_uuid = ? ORDER BY id LIMIT 1`
	// qHubOrigin repeats the partial index's condition (hub_origin <> ''): without it SQLite
	// cannot prove a bound value non-empty, and scans every capture for each hub message.
	qHubOrigin     = `SELECT id, coalesce(duplicate_of, 0) FROM captures WHERE hub_origin = ? AND hub_origin <> ''`
	qInsertCapture = `INSERT INTO captures (
		received_at, method, path, query, headers, remote_addr, source_ip, apple_range, body_size,
		notification_uuid, type, subtype, environment, bundle_id, app_apple_id,
		original_transaction_id, transaction_id, product_id, signed_date,
		trust, trust_class, trust_message, identity_mismatch, duplicate_of,
		response_status, latency_ns, kind, hub_pending, hub_origin, app_account_token
	) VALUES (?,?,?,?,?,?,?,?,?, ?,?,?,?,?,?, ?,?,?,?, ?,?,?,?,?, ?,?,?,?,?,?)`
	qInsertBody  = `INSERT INTO capture_bodies (capture_id, body) VALUES (?, ?)`
	qSetResponse = `UPDATE captures SET response_status = ?, latency_ns = ? WHERE id = ?`
)

// insertCapture writes one capture and its body inside tx; the duplicate check sees every row
// committed before and every row inserted earlier in tx. Statements in a group commit take no
// caller context: a cancelled statement interrupts SQLite, which rolls back the whole
// transaction, everyone's rows included.
func (s *Store) insertCapture(tx *sql.Tx, c *Capture, headers string) (id, dup int64, err error) {
	if c.NotificationUUID != "" {
		err := s.queryRow(tx, qDuplicate, c.NotificationUUID).Scan(&dup)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return 0, 0, fmt.Errorf("store: duplicate check: %w", err)
		}
	}
	res, err := s.exec(tx, qInsertCapture,
		nanos(c.ReceivedAt), c.Method, c.Path, c.Query, headers, c.RemoteAddr, c.SourceIP, c.AppleRange, len(c.Body),
		c.NotificationUUID, c.Type, c.Subtype, string(c.Environment), c.BundleID, c.AppAppleID,
		c.OriginalTransactionID, c.TransactionID, c.ProductID, millis(c.SignedDate),
		string(c.Trust), string(c.TrustClass), c.TrustMessage, c.IdentityMismatch, nullID(dup),
		c.ResponseStatus, int64(c.Latency), string(c.Kind), c.HubPending, c.HubOrigin, c.AppAccountToken)
	if err != nil {
		return 0, 0, fmt.Errorf("store: insert capture: %w", err)
	}
	if id, err = res.LastInsertId(); err != nil {
		return 0, 0, fmt.Errorf("store: insert capture: %w", err)
	}
	body := c.Body
	if body == nil {
		body = []byte{} // NOT NULL: an empty request is stored as an empty blob
	}
	if _, err := s.exec(tx, qInsertBody, id, body); err != nil {
		return 0, 0, fmt.Errorf("store: insert body: %w", err)
	}
	return id, dup, nil
}

// SetResponse records what s2s answered for a capture and how long after receipt.
func (s *Store) SetResponse(ctx context.Context, id int64, status int, latency time.Duration) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		res, err := s.exec(tx, qSetResponse, status, int64(latency), id)
		return affectedOne(res, err, "capture", id)
	}, nil)
}

// captureColumns are the columns List and Get read, in scanCapture's order.
const captureColumns = `c.id, c.received_at, c.method, c.path, c.query, c.headers, c.remote_addr,
	c.source_ip, c.apple_range, c.body_size, c.notification_uuid, c.type, c.subtype, c.environment,
	c.bundle_id, c.app_apple_id, c.original_transaction_id, c.transaction_id, c.product_id,
	c.signed_date, c.trust, c.trust_class, c.trust_message, c.identity_mismatch,
	coalesce(c.duplicate_of, 0), c.response_status, c.latency_ns, c.kind, c.hub_pending, c.hub_origin, c.app_account_token`

type scanner interface{ Scan(dest ...any) error }

// queryAll runs a read-only query and scans every row; what names the operation in its errors.
func queryAll[T any](ctx context.Context, s *Store, what string, scan func(scanner) (T, error), q string, args ...any) ([]T, error) {
	if err := s.readable(); err != nil {
		return nil, err
	}
	rows, err := s.rdb.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", what, err)
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("store: %s: %w", what, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: %s: %w", what, err)
	}
	return out, nil
}

func scanCapture(sc scanner, extra ...any) (Capture, error) {
	var (
		c                    Capture
		received, signed, lt int64
		headers              string
	)
	dest := []any{&c.ID, &received, &c.Method, &c.Path, &c.Query, &headers, &c.RemoteAddr,
		&c.SourceIP, &c.AppleRange, &c.BodySize, &c.NotificationUUID, &c.Type, &c.Subtype, &c.Environment,
		&c.BundleID, &c.AppAppleID, &c.OriginalTransactionID, &c.TransactionID, &c.ProductID,
		&signed, &c.Trust, &c.TrustClass, &c.TrustMessage, &c.IdentityMismatch,
		&c.DuplicateOf, &c.ResponseStatus, &lt, &c.Kind, &c.HubPending, &c.HubOrigin, &c.AppAccountToken}
	if err := sc.Scan(append(dest, extra...)...); err != nil {
		return Capture{}, err
	}
	c.ReceivedAt, c.SignedDate, c.Latency = fromNanos(received), fromMillis(signed), time.Duration(lt)
	if err := json.Unmarshal([]byte(headers), &c.Headers); err != nil {
		return Capture{}, fmt.Errorf("store: capture %d: headers: %w", c.ID, err)
	}
	return c, nil
}

// Get returns one capture with its body, or an error wrapping ErrNotFound.
func (s *Store) Get(ctx context.Context, id int64) (*Capture, error) {
	if err := s.readable(); err != nil {
		return nil, err
	}
	var (
		body, answer []byte
		problems     sql.NullString
	)
	row := s.rdb.QueryRowContext(ctx, `SELECT `+captureColumns+`, b.body, a.body, a.problems
		FROM captures c JOIN capture_bodies b ON b.capture_id = c.id LEFT JOIN capture_answers a ON a.capture_id = c.id
		WHERE c.id = ?`, id)
	c, err := scanCapture(row, &body, &answer, &problems)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("capture %d %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("store: get capture %d: %w", id, err)
	}
	if body == nil {
		body = []byte{}
	}
	c.Body = body
	c.Answer = answer
	if problems.Valid && answer == nil {
		c.Answer = []byte{} // an answer was recorded, and it was empty
	}
	if problems.Valid {
		if err := json.Unmarshal([]byte(problems.String), &c.AnswerProblems); err != nil {
			return nil, fmt.Errorf("store: capture %d: answer problems: %w", id, err)
		}
	}
	return &c, nil
}

// SetAnswer records the body s2s answered a real-time request with and what is wrong with it
// (nil: nothing).
func (s *Store) SetAnswer(ctx context.Context, id int64, body []byte, problems []string) error {
	if body == nil {
		body = []byte{}
	}
	if problems == nil {
		problems = []string{}
	}
	p, err := json.Marshal(problems)
	if err != nil {
		return err
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		_, err := s.exec(tx, `INSERT INTO capture_answers (capture_id, body, problems) VALUES (?, ?, ?)
			ON CONFLICT (capture_id) DO UPDATE SET body = excluded.body, problems = excluded.problems`, id, body, string(p))
		return err
	}, nil)
}

// List returns the captures f selects, without bodies (BodySize is set): newest first, or oldest
// first with f.Ascending. For the next page pass the last ID of this one as f.BeforeID (newest
// first) or f.AfterID (ascending).
func (s *Store) List(ctx context.Context, f Filter) ([]Capture, error) {
	where, args := f.where()
	order := "DESC"
	if f.Ascending {
		order = "ASC"
	}
	q := `SELECT ` + captureColumns + ` FROM captures c` + where + ` ORDER BY c.id ` + order
	switch limit := f.Limit; {
	case limit == 0:
		q += " LIMIT 100"
	case limit > 0:
		q += " LIMIT ?"
		args = append(args, limit)
	}
	return queryAll(ctx, s, "list", func(sc scanner) (Capture, error) { return scanCapture(sc) }, q, args...)
}

// Count returns how many captures f selects (Limit is ignored; BeforeID and AfterID apply).
func (s *Store) Count(ctx context.Context, f Filter) (int, error) {
	if err := s.readable(); err != nil {
		return 0, err
	}
	where, args := f.where()
	var n int
	if err := s.rdb.QueryRowContext(ctx, `SELECT count(*) FROM captures c`+where, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count: %w", err)
	}
	return n, nil
}

// Delete removes the given captures with their bodies and deliveries and returns how many
// existed. Captures that were duplicates of a deleted one lose their DuplicateOf link.
func (s *Store) Delete(ctx context.Context, ids ...int64) (int, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	var n int
	err := s.writeBulk(ctx, func(tx *sql.Tx) error {
		n = 0
		for _, id := range ids {
			res, err := tx.Exec(`DELETE FROM captures WHERE id = ?`, id)
			if err != nil {
				return fmt.Errorf("store: delete capture %d: %w", id, err)
			}
			k, err := res.RowsAffected()
			if err != nil {
				return fmt.Errorf("store: delete capture %d: %w", id, err)
			}
			n += int(k)
		}
		return nil
	}, nil)
	if err != nil {
		return 0, err
	}
	return n, nil
}

// DeleteAll removes every capture (and every delivery) and returns how many captures there were.
// IDs keep counting from where they were.
func (s *Store) DeleteAll(ctx context.Context) (int, error) {
	var n int
	err := s.writeBulk(ctx, func(tx *sql.Tx) error {
		res, err := tx.Exec(`DELETE FROM captures`)
		if err != nil {
			return fmt.Errorf("store: delete all: %w", err)
		}
		k, err := res.RowsAffected()
		n = int(k)
		return err
	}, nil)
	if err != nil {
		return 0, err
	}
	return n, nil
}

// Missing returns the IDs among ids that no capture has, in the order given (so a command can
// refuse a partial `rm` before deleting anything).
func (s *Store) Missing(ctx context.Context, ids ...int64) ([]int64, error) {
	if err := s.readable(); err != nil {
		return nil, err
	}
	var missing []int64
	for _, id := range ids {
		var one int
		err := s.rdb.QueryRowContext(ctx, `SELECT 1 FROM captures WHERE id = ?`, id).Scan(&one)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			missing = append(missing, id)
		case err != nil:
			return nil, fmt.Errorf("store: %w", err)
		}
	}
	return missing, nil
}

// Stats counts captures by notification type ("" for captures without one), trust label and
// UTC day, in one read transaction so the figures agree with each other.
func (s *Store) Stats(ctx context.Context) (Stats, error) {
	if err := s.readable(); err != nil {
		return Stats{}, err
	}
	st := Stats{ByType: map[string]int{}, ByTrust: map[string]int{}, ByDay: map[string]int{}}
	tx, err := s.rdb.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return Stats{}, fmt.Errorf("store: stats: %w", err)
	}
	defer func() { _ = tx.Rollback() }() // after Commit there is nothing to roll back
	if err := tx.QueryRow(`SELECT count(*) FROM captures`).Scan(&st.Total); err != nil {
		return Stats{}, fmt.Errorf("store: stats: %w", err)
	}
	// Newest first along the received_at index, stopping at the first arrival.
	var last int64
	err = tx.QueryRow(`SELECT received_at FROM captures WHERE method <> ? ORDER BY received_at DESC LIMIT 1`, MethodImport).Scan(&last)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return Stats{}, fmt.Errorf("store: stats: %w", err)
	}
	st.LastReceivedAt = fromNanos(last)
	for _, g := range []struct {
		q string
		m map[string]int
	}{
		{`SELECT type, count(*) FROM captures GROUP BY type`, st.ByType},
		{`SELECT trust, count(*) FROM captures GROUP BY trust`, st.ByTrust},
		{`SELECT date(received_at / 1000000000, 'unixepoch'), count(*) FROM captures GROUP BY 1`, st.ByDay},
	} {
		if err := groupCounts(ctx, tx, g.q, g.m); err != nil {
			return Stats{}, err
		}
	}
	return st, nil
}

func groupCounts(ctx context.Context, tx *sql.Tx, q string, m map[string]int) error {
	rows, err := tx.QueryContext(ctx, q)
	if err != nil {
		return fmt.Errorf("store: stats: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			k sql.NullString
			n int
		)
		if err := rows.Scan(&k, &n); err != nil {
			return fmt.Errorf("store: stats: %w", err)
		}
		m[k.String] = n
	}
	return rows.Err()
}

// SortedKeys returns a stats map's keys, the largest count first, then by name.
func SortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	return keys
}

func marshalHeaders(h http.Header) (string, error) {
	if h == nil {
		return "{}", nil
	}
	b, err := json.Marshal(h)
	if err != nil {
		return "", fmt.Errorf("store: headers: %w", err)
	}
	return string(b), nil
}

// affectedOne turns an UPDATE's result into ErrNotFound when no row matched.
func affectedOne(res sql.Result, err error, what string, id int64) error {
	if err != nil {
		return fmt.Errorf("store: update %s %d: %w", what, id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("store: update %s %d: %w", what, id, err)
	}
	if n == 0 {
		return fmt.Errorf("%s %d %w", what, id, ErrNotFound)
	}
	return nil
}

// nanos stores times as unix nanoseconds; the zero time is 0 so "absent" round-trips.
func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// millis stores payload dates in Apple's resolution; the range covers any date a forged payload
// can claim, where nanoseconds would overflow.
func millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMillis(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.UnixMilli(n).UTC()
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}
