package store

import (
	"context"
	"fmt"
)

// migrations are the schema, one ordered step per version: PRAGMA user_version holds how many have
// been applied. Never edit a released step; append a new one.
var migrations = []string{
	// 1: captures, their bodies, deliveries.
	`
CREATE TABLE captures (
	id                      INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused, so an ID a user noted stays unambiguous after rm
	received_at             INTEGER NOT NULL,                  -- unix nanoseconds, UTC
	method                  TEXT    NOT NULL,
	path                    TEXT    NOT NULL,
	query                   TEXT    NOT NULL DEFAULT '',
	headers                 TEXT    NOT NULL DEFAULT '{}',     -- JSON object of http.Header
	remote_addr             TEXT    NOT NULL DEFAULT '',
	source_ip               TEXT    NOT NULL DEFAULT '',
	apple_range             TEXT    NOT NULL DEFAULT '',
	body_size               INTEGER NOT NULL,
	notification_uuid       TEXT    NOT NULL DEFAULT '',
	type                    TEXT    NOT NULL DEFAULT '',
	subtype                 TEXT    NOT NULL DEFAULT '',
	environment             TEXT    NOT NULL DEFAULT '',
	bundle_id               TEXT    NOT NULL DEFAULT '',
	app_apple_id            INTEGER NOT NULL DEFAULT 0,
	original_transaction_id TEXT    NOT NULL DEFAULT '',
	transaction_id          TEXT    NOT NULL DEFAULT '',
	product_id              TEXT    NOT NULL DEFAULT '',
	signed_date             INTEGER NOT NULL DEFAULT 0,        -- unix milliseconds, 0 when absent
	trust                   TEXT    NOT NULL DEFAULT '',
	trust_class             TEXT    NOT NULL DEFAULT '',
	trust_message           TEXT    NOT NULL DEFAULT '',
	identity_mismatch       TEXT    NOT NULL DEFAULT '',
	duplicate_of            INTEGER REFERENCES captures(id) ON DELETE SET NULL,
	response_status         INTEGER NOT NULL DEFAULT 0,
	latency_ns              INTEGER NOT NULL DEFAULT 0
);

-- Bodies live apart from the summary rows: a 19 KB body in the captures row would spread each
-- row over overflow pages and make every list, count and scan read them.
CREATE TABLE capture_bodies (
	capture_id INTEGER PRIMARY KEY REFERENCES captures(id) ON DELETE CASCADE,
	body       BLOB    NOT NULL
);

-- Every index ends implicitly with the rowid (id), so an equality filter on one of these columns
-- also yields rows in id order: keyset pages (id < ? ORDER BY id DESC) need no sort.
CREATE INDEX captures_uuid        ON captures(notification_uuid);
CREATE INDEX captures_type        ON captures(type);
CREATE INDEX captures_subtype     ON captures(subtype);
CREATE INDEX captures_environment ON captures(environment);
CREATE INDEX captures_trust       ON captures(trust);
CREATE INDEX captures_bundle      ON captures(bundle_id);
CREATE INDEX captures_product     ON captures(product_id);
CREATE INDEX captures_otid        ON captures(original_transaction_id);
CREATE INDEX captures_received    ON captures(received_at);
CREATE INDEX captures_duplicate   ON captures(duplicate_of) WHERE duplicate_of IS NOT NULL;

CREATE TABLE deliveries (
	id            INTEGER PRIMARY KEY AUTOINCREMENT,
	capture_id    INTEGER NOT NULL REFERENCES captures(id) ON DELETE CASCADE,
	target        TEXT    NOT NULL,
	attempt       INTEGER NOT NULL,
	started_at    INTEGER NOT NULL,           -- unix nanoseconds
	status        INTEGER NOT NULL DEFAULT 0,
	latency_ns    INTEGER NOT NULL DEFAULT 0,
	response      TEXT    NOT NULL DEFAULT '',
	error         TEXT    NOT NULL DEFAULT '',
	state         TEXT    NOT NULL,
	next_retry_at INTEGER NOT NULL DEFAULT 0, -- unix nanoseconds, 0 unless pending
	replay        INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX deliveries_capture ON deliveries(capture_id);
CREATE INDEX deliveries_due     ON deliveries(next_retry_at) WHERE state = 'pending';
`,
	// 2: what a capture is (a notification, a Retention Messaging real-time request, ...), and the
	// answer a real-time request got, which matters (Apple shows it to the customer).
	`
ALTER TABLE captures ADD COLUMN kind TEXT NOT NULL DEFAULT ''; -- decode.Kind; '' before schema 2
CREATE TABLE capture_answers (
	capture_id INTEGER PRIMARY KEY REFERENCES captures(id) ON DELETE CASCADE,
	body       BLOB    NOT NULL,
	problems   TEXT    NOT NULL DEFAULT '[]' -- JSON array of sentences; [] when the answer is valid
);
`,
	// 3: s2s hub. The hub's outbox: hub_pending is set in the same transaction as the capture and
	// cleared once JetStream has acknowledged it, so a crash in between republishes at start. A
	// listener fed by a hub records which hub capture each capture is (hub_origin), unique, so a
	// redelivery is not a new capture. hub_meta holds the hub's identity (the prefix of its
	// message IDs), stable across restarts.
	`
ALTER TABLE captures ADD COLUMN hub_pending INTEGER NOT NULL DEFAULT 0;
ALTER TABLE captures ADD COLUMN hub_origin  TEXT    NOT NULL DEFAULT '';
CREATE INDEX captures_hub_pending ON captures(id) WHERE hub_pending = 1;
CREATE UNIQUE INDEX captures_hub_origin ON captures(hub_origin) WHERE hub_origin <> '';
CREATE TABLE hub_meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
);
`,
	// 4: the appAccountToken of a notification's transaction (or renewal info), for the filter
	// key account: ('' before schema 4).
	`
ALTER TABLE captures ADD COLUMN app_account_token TEXT NOT NULL DEFAULT '';
CREATE INDEX captures_account ON captures(app_account_token) WHERE app_account_token <> '';
`,
}

// SchemaVersion is the schema version this build writes.
func SchemaVersion() int { return len(migrations) }

// migrate applies the missing steps in one IMMEDIATE transaction, so two processes opening a new
// file at once cannot both apply them: the second waits for the lock, then sees the new version.
func (s *Store) migrate(ctx context.Context) error {
	current, err := userVersion(ctx, s)
	if err != nil {
		return err
	}
	if current > len(migrations) {
		return fmt.Errorf("schema version %d is newer than this s2s knows (%d): upgrade s2s", current, len(migrations))
	}
	if current == len(migrations) {
		return nil
	}
	if s.readOnly {
		return fmt.Errorf("read-only store has schema version %d, this s2s needs %d: open it writable once", current, len(migrations))
	}
	tx, err := s.wdb.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer func() { _ = tx.Rollback() }() // after Commit there is nothing to roll back
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&current); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for v := current; v < len(migrations); v++ {
		if _, err := tx.ExecContext(ctx, migrations[v]); err != nil {
			return fmt.Errorf("migrate to schema %d: %w", v+1, err)
		}
	}
	// PRAGMA takes no bound parameters; the value is an int this code computed.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", len(migrations))); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return tx.Commit()
}

func userVersion(ctx context.Context, s *Store) (int, error) {
	var v int
	if err := s.wdb.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return v, nil
}
