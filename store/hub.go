package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
)

// HubPending returns up to limit captures of the hub's outbox (stored, not yet acknowledged by
// JetStream) with their bodies, oldest first, after the capture afterID.
func (s *Store) HubPending(ctx context.Context, afterID int64, limit int) ([]Capture, error) {
	if limit <= 0 {
		limit = 100
	}
	return queryAll(ctx, s, "hub outbox", func(sc scanner) (Capture, error) {
		var body []byte
		c, err := scanCapture(sc, &body)
		if body == nil {
			body = []byte{}
		}
		c.Body = body
		return c, err
	}, `SELECT `+captureColumns+`, b.body FROM captures c JOIN capture_bodies b ON b.capture_id = c.id
		WHERE c.hub_pending = 1 AND c.id > ? ORDER BY c.id LIMIT ?`, afterID, limit)
}

// HubPublished takes the captures ids out of the outbox, in one transaction: JetStream has
// acknowledged them.
func (s *Store) HubPublished(ctx context.Context, ids ...int64) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		for _, id := range ids {
			if _, err := s.exec(tx, `UPDATE captures SET hub_pending = 0 WHERE id = ?`, id); err != nil {
				return fmt.Errorf("store: hub published %d: %w", id, err)
			}
		}
		return nil
	}, nil)
}

// HubPendingCount is how many captures wait in the hub's outbox.
func (s *Store) HubPendingCount(ctx context.Context) (int, error) {
	if err := s.readable(); err != nil {
		return 0, err
	}
	var n int
	if err := s.rdb.QueryRowContext(ctx, `SELECT count(*) FROM captures WHERE hub_pending = 1`).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: hub outbox count: %w", err)
	}
	return n, nil
}

// HubMeta returns the value stored under key, creating it with create() the first time: the hub's
// identity and its NATS token outlive restarts, so teammates' URLs and message IDs stay valid.
func (s *Store) HubMeta(ctx context.Context, key string, create func() (string, error)) (string, error) {
	var v string
	err := s.rdb.QueryRowContext(ctx, `SELECT value FROM hub_meta WHERE key = ?`, key).Scan(&v)
	if err == nil {
		return v, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("store: hub meta: %w", err)
	}
	nv, err := create()
	if err != nil {
		return "", err
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		// Another process may have set it meanwhile: the first value wins.
		if _, err := s.exec(tx, `INSERT OR IGNORE INTO hub_meta (key, value) VALUES (?, ?)`, key, nv); err != nil {
			return fmt.Errorf("store: hub meta: %w", err)
		}
		return s.queryRow(tx, `SELECT value FROM hub_meta WHERE key = ?`, key).Scan(&v)
	}, nil)
	return v, err
}

// SetHubMeta stores value under key.
func (s *Store) SetHubMeta(ctx context.Context, key, value string) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		if _, err := s.exec(tx, `INSERT INTO hub_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value); err != nil {
			return fmt.Errorf("store: hub meta: %w", err)
		}
		return nil
	}, nil)
}

// HubMetaValue is the value under key, "" when there is none.
func (s *Store) HubMetaValue(ctx context.Context, key string) (string, error) {
	if err := s.readable(); err != nil {
		return "", err
	}
	var v string
	err := s.rdb.QueryRowContext(ctx, `SELECT value FROM hub_meta WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("store: hub meta: %w", err)
	}
	return v, nil
}

// RandomHex is n random bytes in hex, for identities and tokens.
func RandomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}
