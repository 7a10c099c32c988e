package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/userevents/userevents"
)

// FindAuthFailures returns the failure state of a subject.
func (db *DB) FindAuthFailures(ctx context.Context, subject string) (*userevents.AuthFailures, error) {
	f := &userevents.AuthFailures{Subject: subject}
	var lockedUntil *time.Time
	err := db.pool.QueryRow(ctx, `SELECT failures, locked_until FROM auth_failures
		WHERE subject = $1`, subject).Scan(&f.Count, &lockedUntil)
	if errors.Is(err, pgx.ErrNoRows) {
		return f, nil
	} else if err != nil {
		return nil, fmt.Errorf("find auth failures: %w", err)
	}
	f.LockedUntil = timeOrZero(lockedUntil)
	return f, nil
}

// RecordAuthFailure counts a failure in one statement, so that concurrent
// failures on several replicas all count. A failure that arrives after an
// expired lock restarts the count at 1.
func (db *DB) RecordAuthFailure(ctx context.Context, subject string, now time.Time, threshold int, lockFor time.Duration) (*userevents.AuthFailures, error) {
	f := &userevents.AuthFailures{Subject: subject}
	var lockedUntil *time.Time
	err := db.pool.QueryRow(ctx, `INSERT INTO auth_failures AS a (subject, failures, locked_until)
		VALUES ($1, 1, CASE WHEN $2 <= 1 THEN $3::timestamptz END)
		ON CONFLICT (subject) DO UPDATE SET
			failures = CASE WHEN a.locked_until <= $4 THEN 1 ELSE a.failures + 1 END,
			locked_until = CASE
				WHEN a.locked_until > $4 THEN a.locked_until
				WHEN (CASE WHEN a.locked_until IS NOT NULL THEN 1 ELSE a.failures + 1 END) >= $2 THEN $3
				END
		RETURNING failures, locked_until`,
		subject, threshold, now.Add(lockFor), now).Scan(&f.Count, &lockedUntil)
	if err != nil {
		return nil, fmt.Errorf("record auth failure: %w", err)
	}
	f.LockedUntil = timeOrZero(lockedUntil)
	return f, nil
}

// ResetAuthFailures deletes the subject's failure count and lock.
func (db *DB) ResetAuthFailures(ctx context.Context, subject string) error {
	_, err := db.pool.Exec(ctx, `DELETE FROM auth_failures WHERE subject = $1`, subject)
	if err != nil {
		return fmt.Errorf("reset auth failures: %w", err)
	}
	return nil
}
