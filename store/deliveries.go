package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// AddDelivery records a forwarding or replay attempt and sets d.ID. A pending attempt (State
// DeliveryPending with NextRetryAt) is a retry that survives a restart: DueDeliveries finds it.
// A capture that does not exist (deleted meanwhile) gives an error wrapping ErrNotFound.
func (s *Store) AddDelivery(ctx context.Context, d *Delivery) error {
	if d == nil {
		return fmt.Errorf("store: nil delivery")
	}
	row := *d
	if err := checkDelivery(&row); err != nil {
		return err
	}
	var id int64
	return s.write(ctx, func(tx *sql.Tx) error {
		var err error
		id, err = insertDelivery(tx, &row)
		return err
	}, func() { d.ID = id })
}

func insertDelivery(tx *sql.Tx, row *Delivery) (int64, error) {
	res, err := tx.Exec(`INSERT INTO deliveries
		(capture_id, target, attempt, started_at, status, latency_ns, response, error, state, next_retry_at, replay)
		VALUES (?,?,?,?,?,?,?,?,?,?,?)`,
		row.CaptureID, row.Target, row.Attempt, nanos(row.StartedAt), row.Status, int64(row.Latency),
		row.Response, row.Error, row.State, nanos(row.NextRetryAt), row.Replay)
	if isForeignKey(err) {
		return 0, fmt.Errorf("capture %d %w", row.CaptureID, ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("store: add delivery: %w", err)
	}
	return res.LastInsertId()
}

// UpdateDelivery rewrites a delivery's outcome (attempt, start time when non-zero, status,
// latency, response, error, state, retry time) by d.ID; its capture and target stay as recorded.
func (s *Store) UpdateDelivery(ctx context.Context, d *Delivery) error {
	if d == nil {
		return fmt.Errorf("store: nil delivery")
	}
	row := *d
	keepStart := row.StartedAt.IsZero()
	if err := checkDelivery(&row); err != nil {
		return err
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.Exec(`UPDATE deliveries SET attempt = ?,
			started_at = CASE WHEN ? THEN started_at ELSE ? END, status = ?, latency_ns = ?,
			response = ?, error = ?, state = ?, next_retry_at = ? WHERE id = ?`,
			row.Attempt, keepStart, nanos(row.StartedAt), row.Status, int64(row.Latency), row.Response,
			row.Error, row.State, nanos(row.NextRetryAt), row.ID)
		return affectedOne(res, err, "delivery", row.ID)
	}, nil)
}

func checkDelivery(d *Delivery) error {
	switch d.State {
	case DeliveryPending:
		if d.NextRetryAt.IsZero() {
			return fmt.Errorf("store: pending delivery without NextRetryAt")
		}
	case DeliverySucceeded, DeliveryFailed:
		d.NextRetryAt = time.Time{} // only pending rows are due
	default:
		return fmt.Errorf("store: unknown delivery state %q", d.State)
	}
	if d.StartedAt.IsZero() {
		d.StartedAt = time.Now()
	}
	return nil
}

const deliveryColumns = `id, capture_id, target, attempt, started_at, status, latency_ns, response,
	error, state, next_retry_at, replay`

func scanDelivery(sc scanner) (Delivery, error) {
	var (
		d                  Delivery
		started, next, lat int64
	)
	if err := sc.Scan(&d.ID, &d.CaptureID, &d.Target, &d.Attempt, &started, &d.Status, &lat,
		&d.Response, &d.Error, &d.State, &next, &d.Replay); err != nil {
		return Delivery{}, err
	}
	d.StartedAt, d.NextRetryAt, d.Latency = fromNanos(started), fromNanos(next), time.Duration(lat)
	return d, nil
}

func (s *Store) queryDeliveries(ctx context.Context, q string, args ...any) ([]Delivery, error) {
	return queryAll(ctx, s, "deliveries", scanDelivery, q, args...)
}

// Deliveries returns a capture's delivery attempts, oldest first.
func (s *Store) Deliveries(ctx context.Context, captureID int64) ([]Delivery, error) {
	return s.queryDeliveries(ctx, `SELECT `+deliveryColumns+` FROM deliveries WHERE capture_id = ? ORDER BY id`, captureID)
}

// DueDeliveries returns pending deliveries whose NextRetryAt is at or before now, the most
// overdue first, at most limit (0: 100), leaving out those to the targets in except (a forwarder's
// targets that have no room now, whose queued rows would otherwise fill every page).
func (s *Store) DueDeliveries(ctx context.Context, now time.Time, limit int, except ...string) ([]Delivery, error) {
	if limit <= 0 {
		limit = 100
	}
	q := `SELECT ` + deliveryColumns + ` FROM deliveries WHERE state = 'pending' AND next_retry_at <= ?`
	args := []any{nanos(now)}
	if len(except) > 0 {
		q += ` AND target NOT IN (?` + strings.Repeat(`,?`, len(except)-1) + `)`
		for _, t := range except {
			args = append(args, t)
		}
	}
	return s.queryDeliveries(ctx, q+` ORDER BY next_retry_at, id LIMIT ?`, append(args, limit)...)
}

// Forwarding sums up a capture's deliveries for a list: its best outcome and its latest attempt,
// so that a failed replay of a notification that was delivered does not read as never delivered.
type Forwarding struct {
	Best   Delivery // the latest accepted (2xx) delivery; the latest attempt when none was accepted
	Latest Delivery // the most recent attempt, forward or replay
}

// Accepted reports whether any delivery of the capture was accepted.
func (f Forwarding) Accepted() bool { return f.Best.State == DeliverySucceeded }

// Outcome is the forwarding outcome in a few words, for the list columns: the best status, and
// when a later attempt did not succeed, what became of it ("200 · replay failed", "200 · retrying").
// "" when there was no attempt.
func (f Forwarding) Outcome() string {
	if f.Latest.ID == 0 && f.Latest.CaptureID == 0 {
		return ""
	}
	best := outcomeWord(f.Best)
	if !f.Accepted() || f.Latest.ID == f.Best.ID || f.Latest.State == DeliverySucceeded {
		return best
	}
	return best + " · " + laterWord(f.Latest)
}

func outcomeWord(d Delivery) string {
	switch {
	case d.Status != 0:
		return fmt.Sprint(d.Status)
	case d.State == DeliveryPending:
		return "retrying"
	}
	return "error"
}

// laterWord says what became of an attempt made after the notification was delivered.
func laterWord(d Delivery) string {
	what := "retry"
	if d.Replay {
		what = "replay"
	}
	if d.State == DeliveryPending {
		return what + " pending"
	}
	if d.Status != 0 {
		return fmt.Sprintf("%s %d", what, d.Status)
	}
	return what + " failed"
}

// Forwardings returns the Forwarding of each given capture that has a delivery.
func (s *Store) Forwardings(ctx context.Context, captureIDs []int64) (map[int64]Forwarding, error) {
	out := map[int64]Forwarding{}
	// Chunks keep the statement under SQLite's bound-parameter limit for any page size.
	const chunk = 400
	for start := 0; start < len(captureIDs); start += chunk {
		ids := captureIDs[start:min(start+chunk, len(captureIDs))]
		args := make([]any, 0, 2*len(ids))
		for _, id := range ids {
			args = append(args, id)
		}
		args = append(args, args...)
		marks := strings.TrimSuffix(strings.Repeat("?,", len(ids)), ",")
		ds, err := s.queryDeliveries(ctx, `SELECT `+deliveryColumns+` FROM deliveries WHERE id IN (
			SELECT max(id) FROM deliveries WHERE capture_id IN (`+marks+`) GROUP BY capture_id
			UNION SELECT max(id) FROM deliveries WHERE capture_id IN (`+marks+`) AND state = 'succeeded' GROUP BY capture_id)
			ORDER BY id`, args...)
		if err != nil {
			return nil, err
		}
		// In id order: the last row of a capture is its latest; a succeeded row is its best.
		for _, d := range ds {
			f := out[d.CaptureID]
			f.Latest = d
			if d.State == DeliverySucceeded || !f.Accepted() {
				f.Best = d
			}
			out[d.CaptureID] = f
		}
	}
	return out, nil
}

func isForeignKey(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
	}
	return false
}

// RetryDelivery starts the retry of the pending delivery prevID: in one transaction it retires
// prevID (state failed; a queued row of attempt 0 is deleted) and records next, the new attempt,
// setting next.ID. If prevID is no
// longer pending (a replay took it over, in this process or another), nothing is written and it
// returns false: exactly one of the retry and the replay delivers.
func (s *Store) RetryDelivery(ctx context.Context, prevID int64, next *Delivery) (bool, error) {
	if next == nil {
		return false, fmt.Errorf("store: nil delivery")
	}
	row := *next
	if err := checkDelivery(&row); err != nil {
		return false, err
	}
	var (
		id    int64
		taken bool
	)
	err := s.write(ctx, func(tx *sql.Tx) error {
		// A queued row (attempt 0: no attempt made yet, it waited in the store for a free slot)
		// is replaced by the first attempt, not kept beside it as a failure.
		res, err := tx.Exec(`DELETE FROM deliveries WHERE id = ? AND state = 'pending' AND attempt = 0`, prevID)
		if err != nil {
			return fmt.Errorf("store: retry delivery %d: %w", prevID, err)
		}
		deleted, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if deleted == 0 {
			res, err = tx.Exec(`UPDATE deliveries SET state = 'failed', next_retry_at = 0 WHERE id = ? AND state = 'pending'`, prevID)
		}
		if err != nil {
			return fmt.Errorf("store: retry delivery %d: %w", prevID, err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			taken = true
			return err
		}
		id, err = insertDelivery(tx, &row)
		return err
	}, func() { next.ID = id })
	return !taken && err == nil, err
}

// TakeOver is what TakeOverPending found for a capture and target.
type TakeOver struct {
	Taken    []Delivery // pending retries now retired in favour of the replay, as they were
	Accepted *Delivery  // the latest delivery the target accepted (2xx), if any
	// InFlight is an attempt being made right now (recorded pending without an outcome yet): the
	// replay must not go ahead, or the target would get the notification twice.
	InFlight *Delivery
}

// TakeOverNote is added to the error of a pending retry a replay took over.
const TakeOverNote = "taken over by a replay"

// TakeOverPending prepares a replay of a capture to one target, atomically with respect to every
// forwarder on the store (in this process or another): unless an attempt is in flight, it retires
// the pending retries of that capture to that target, so that their scheduled attempts are not
// made (RetryDelivery finds them taken) and the replay is the one delivery. It also reports
// whether the target has already accepted the capture. If the replay fails, RestorePending puts
// the retries back. An attempt recorded without an outcome counts as in flight until its
// NextRetryAt (its start, the timeout and the backoff) has passed at now; after that it was cut
// short (a crash, a shutdown) and is taken over like any pending retry.
func (s *Store) TakeOverPending(ctx context.Context, captureID int64, target string, now time.Time) (TakeOver, error) {
	var out TakeOver
	err := s.write(ctx, func(tx *sql.Tx) error {
		out = TakeOver{}
		rows, err := tx.Query(`SELECT `+deliveryColumns+` FROM deliveries WHERE capture_id = ? AND target = ? ORDER BY id`, captureID, target)
		if err != nil {
			return fmt.Errorf("store: take over: %w", err)
		}
		var pending []Delivery
		for rows.Next() {
			d, err := scanDelivery(rows)
			if err != nil {
				rows.Close()
				return fmt.Errorf("store: take over: %w", err)
			}
			switch {
			case d.State == DeliverySucceeded:
				out.Accepted = &d
			case d.State == DeliveryPending && d.Error == "" && d.NextRetryAt.After(now):
				out.InFlight = &d
			case d.State == DeliveryPending:
				pending = append(pending, d)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("store: take over: %w", err)
		}
		if out.InFlight != nil {
			return nil
		}
		for _, d := range pending {
			note := TakeOverNote
			if d.Error != "" {
				note = d.Error + "; " + note
			}
			if _, err := tx.Exec(`UPDATE deliveries SET state = 'failed', next_retry_at = 0, error = ? WHERE id = ?`,
				note, d.ID); err != nil {
				return fmt.Errorf("store: take over: %w", err)
			}
		}
		out.Taken = pending
		return nil
	}, nil)
	return out, err
}

// RestorePending puts back retries TakeOverPending retired, for a replay that did not deliver:
// the forwarder then makes them as scheduled (or at once, if their time has passed).
func (s *Store) RestorePending(ctx context.Context, taken []Delivery) error {
	if len(taken) == 0 {
		return nil
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		for _, d := range taken {
			if _, err := tx.Exec(`UPDATE deliveries SET state = 'pending', next_retry_at = ?, error = ? WHERE id = ? AND state = 'failed'`,
				nanos(d.NextRetryAt), d.Error, d.ID); err != nil {
				return fmt.Errorf("store: restore delivery %d: %w", d.ID, err)
			}
		}
		return nil
	}, nil)
}
