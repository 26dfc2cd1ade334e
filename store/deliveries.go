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
		res, err := tx.Exec(`INSERT INTO deliveries
			(capture_id, target, attempt, started_at, status, latency_ns, response, error, state, next_retry_at, replay)
			VALUES (?,?,?,?,?,?,?,?,?,?,?)`,
			row.CaptureID, row.Target, row.Attempt, nanos(row.StartedAt), row.Status, int64(row.Latency),
			row.Response, row.Error, row.State, nanos(row.NextRetryAt), row.Replay)
		if isForeignKey(err) {
			return fmt.Errorf("capture %d %w", row.CaptureID, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("store: add delivery: %w", err)
		}
		id, err = res.LastInsertId()
		return err
	}, func() { d.ID = id })
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
// overdue first, at most limit (0: 100).
func (s *Store) DueDeliveries(ctx context.Context, now time.Time, limit int) ([]Delivery, error) {
	if limit <= 0 {
		limit = 100
	}
	return s.queryDeliveries(ctx, `SELECT `+deliveryColumns+` FROM deliveries
		WHERE state = 'pending' AND next_retry_at <= ? ORDER BY next_retry_at, id LIMIT ?`,
		nanos(now), limit)
}

// LastDeliveries returns the most recent delivery of each given capture that has one.
func (s *Store) LastDeliveries(ctx context.Context, captureIDs []int64) (map[int64]Delivery, error) {
	out := map[int64]Delivery{}
	// Chunks keep the statement under SQLite's bound-parameter limit for any page size.
	const chunk = 500
	for start := 0; start < len(captureIDs); start += chunk {
		ids := captureIDs[start:min(start+chunk, len(captureIDs))]
		args := make([]any, len(ids))
		for i, id := range ids {
			args[i] = id
		}
		marks := strings.TrimSuffix(strings.Repeat("?,", len(ids)), ",")
		ds, err := s.queryDeliveries(ctx, `SELECT `+deliveryColumns+` FROM deliveries WHERE id IN (
			SELECT max(id) FROM deliveries WHERE capture_id IN (`+marks+`) GROUP BY capture_id)`, args...)
		if err != nil {
			return nil, err
		}
		for _, d := range ds {
			out[d.CaptureID] = d
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
