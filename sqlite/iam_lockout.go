package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/userevents/userevents"
)

// FindAuthFailures returns the failure state of a subject.
func (db *DB) FindAuthFailures(ctx context.Context, subject string) (*userevents.AuthFailures, error) {
	f := &userevents.AuthFailures{Subject: subject}
	var lockedUntil int64
	err := db.queryRow(ctx, `SELECT failures, locked_until FROM auth_failures
		WHERE subject = ?`, subject).Scan(&f.Count, &lockedUntil)
	if errors.Is(err, sql.ErrNoRows) {
		return f, nil
	} else if err != nil {
		return nil, fmt.Errorf("find auth failures: %w", err)
	}
	f.LockedUntil = fromMicros(lockedUntil)
	return f, nil
}

// RecordAuthFailure counts a failure in one statement, so that concurrent
// failures on several replicas all count. A failure that arrives after an
// expired lock restarts the count at 1.
func (db *DB) RecordAuthFailure(ctx context.Context, subject string, now time.Time, threshold int, lockFor time.Duration) (*userevents.AuthFailures, error) {
	nowUS := micros(now)
	lockUntil := micros(now.Add(lockFor))
	f := &userevents.AuthFailures{Subject: subject}
	var lockedUntil int64
	err := db.write.QueryRowContext(ctx, `INSERT INTO auth_failures (subject, failures, locked_until)
		VALUES (?1, 1, CASE WHEN ?2 <= 1 THEN ?3 ELSE 0 END)
		ON CONFLICT (subject) DO UPDATE SET
			failures = CASE WHEN locked_until > 0 AND locked_until <= ?4 THEN 1 ELSE failures + 1 END,
			locked_until = CASE
				WHEN locked_until > ?4 THEN locked_until
				WHEN (CASE WHEN locked_until > 0 THEN 1 ELSE failures + 1 END) >= ?2 THEN ?3
				ELSE 0 END
		RETURNING failures, locked_until`,
		subject, threshold, lockUntil, nowUS).Scan(&f.Count, &lockedUntil)
	if err != nil {
		return nil, fmt.Errorf("record auth failure: %w", err)
	}
	f.LockedUntil = fromMicros(lockedUntil)
	return f, nil
}

// ResetAuthFailures deletes the subject's failure count and lock.
func (db *DB) ResetAuthFailures(ctx context.Context, subject string) error {
	_, err := db.write.ExecContext(ctx, `DELETE FROM auth_failures WHERE subject = ?`, subject)
	if err != nil {
		return fmt.Errorf("reset auth failures: %w", err)
	}
	return nil
}
