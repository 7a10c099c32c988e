package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/userevents/userevents"
)

// idsIn is the condition that matches the ids of a JSON array bound to its
// one parameter, so that a list of any length needs one bind variable.
const idsIn = `id IN (SELECT value FROM json_each(?))`

// LeaseDeliveries leases to owner, until now+lease, up to limit due
// deliveries that share one target stream, with their events. A delivery is
// due when its due time has passed and it is not leased, or its lease has
// expired. The target is that of the delivery that has been due the
// longest, and the leased deliveries are taken in the order they became
// due, then in queue order. It returns an empty slice when nothing is due
// or limit is not positive.
func (db *DB) LeaseDeliveries(ctx context.Context, owner string, limit int, lease time.Duration) ([]*userevents.Delivery, error) {
	deliveries := []*userevents.Delivery{}
	if limit <= 0 {
		return deliveries, nil
	}
	now := db.now()
	until := now.Add(lease)

	err := db.inWriteTx(ctx, func(tx *sql.Tx) error {
		var target userevents.Delivery
		err := tx.QueryRowContext(ctx, `SELECT project_id, group_id, stream_id
			FROM deliveries WHERE due_at <= ? ORDER BY due_at, id LIMIT 1`, micros(now)).
			Scan(&target.ProjectID, &target.LogGroupID, &target.LogStreamID)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		} else if err != nil {
			return fmt.Errorf("query due delivery: %w", err)
		}

		found, err := findDueDeliveries(ctx, tx, &target, now, limit)
		if err != nil || len(found) == 0 {
			return err
		}
		deliveries = found
		ids := make([]int64, len(deliveries))
		for i, d := range deliveries {
			ids[i] = d.ID
		}
		_, err = tx.ExecContext(ctx, `UPDATE deliveries
			SET lease_owner = ?, lease_until = ?, due_at = ? WHERE `+idsIn,
			owner, micros(until), micros(until), idList(ids))
		if err != nil {
			return fmt.Errorf("lease deliveries: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("lease deliveries: %w", err)
	}
	return deliveries, nil
}

// findDueDeliveries returns up to limit deliveries for the target that are
// due at now, with their events.
func findDueDeliveries(ctx context.Context, tx *sql.Tx, target *userevents.Delivery, now time.Time, limit int) ([]*userevents.Delivery, error) {
	rows, err := tx.QueryContext(ctx, `SELECT d.id, d.attempts, d.queued_at, d.last_error, `+
		eventColumns("e.")+`
		FROM deliveries d JOIN events e ON e.seq = d.event_seq
		WHERE d.project_id = ? AND d.group_id = ? AND d.stream_id = ? AND d.due_at <= ?
		ORDER BY d.due_at, d.id LIMIT ?`,
		target.ProjectID, target.LogGroupID, target.LogStreamID, micros(now), limit)
	if err != nil {
		return nil, fmt.Errorf("query due deliveries: %w", err)
	}
	defer rows.Close()

	var deliveries []*userevents.Delivery
	for rows.Next() {
		d := *target
		var queuedAt int64
		if d.Event, err = scanEvent(rows, &d.ID, &d.Attempts, &queuedAt, &d.LastError); err != nil {
			return nil, err
		}
		d.QueuedAt = fromMicros(queuedAt)
		d.Event.ProjectID = d.ProjectID
		deliveries = append(deliveries, &d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("query due deliveries: %w", err)
	}
	return deliveries, nil
}

// CompleteDeliveries deletes the listed deliveries that owner holds and adds
// them to their projects' delivered counts. Ids that owner does not hold,
// because another worker took over an expired lease or the row is gone, are
// left alone.
func (db *DB) CompleteDeliveries(ctx context.Context, owner string, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	err := db.inWriteTx(ctx, func(tx *sql.Tx) error {
		perProject, err := countReturnedProjects(tx.QueryContext(ctx,
			`DELETE FROM deliveries WHERE lease_owner = ? AND `+idsIn+` RETURNING project_id`,
			owner, idList(ids)))
		if err != nil {
			return fmt.Errorf("delete deliveries: %w", err)
		}
		for projectID, n := range perProject {
			_, err := tx.ExecContext(ctx, `INSERT INTO delivery_counters (project_id, delivered)
				VALUES (?, ?)
				ON CONFLICT (project_id) DO UPDATE SET delivered = delivered + excluded.delivered`,
				projectID, n)
			if err != nil {
				return fmt.Errorf("count delivered: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("complete deliveries: %w", err)
	}
	return nil
}

// RetryDeliveries releases the listed deliveries that owner holds, due
// again at next, counts one more attempt on each, records reason as their
// last error and adds them to their projects' failed counts. Ids that owner
// does not hold are left alone. Other unleased rows of the same targets
// that would be due before next are moved to next.
func (db *DB) RetryDeliveries(ctx context.Context, owner string, ids []int64, next time.Time, reason string) error {
	if len(ids) == 0 {
		return nil
	}
	now := db.now()
	err := db.inWriteTx(ctx, func(tx *sql.Tx) error {
		perProject, err := countReturnedProjects(tx.QueryContext(ctx, `UPDATE deliveries
			SET attempts = attempts + 1, due_at = ?, lease_owner = NULL, lease_until = NULL,
				last_error = ?
			WHERE lease_owner = ? AND `+idsIn+` RETURNING project_id`,
			micros(next), reason, owner, idList(ids)))
		if err != nil {
			return fmt.Errorf("release deliveries: %w", err)
		}
		_, err = tx.ExecContext(ctx, `UPDATE deliveries SET due_at = ?
			WHERE due_at < ? AND lease_owner IS NULL
				AND (project_id, group_id, stream_id) IN (
					SELECT project_id, group_id, stream_id FROM deliveries WHERE `+idsIn+`)`,
			micros(next), micros(next), idList(ids))
		if err != nil {
			return fmt.Errorf("pause target: %w", err)
		}
		return addFailed(ctx, tx, perProject, reason, now)
	})
	if err != nil {
		return fmt.Errorf("retry deliveries: %w", err)
	}
	return nil
}

// DeadLetterDeliveries moves the listed deliveries that owner holds to the
// dead letters with the reason, counting the failed attempt on each, and
// adds them to their projects' failed counts. Ids that owner does not hold
// are left alone.
func (db *DB) DeadLetterDeliveries(ctx context.Context, owner string, ids []int64, reason string) error {
	if len(ids) == 0 {
		return nil
	}
	now := db.now()
	err := db.inWriteTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO dead_letters (id, project_id, group_id,
				stream_id, event_seq, attempts, queued_at, last_error, reason, dead_at)
			SELECT id, project_id, group_id, stream_id, event_seq, attempts + 1, queued_at,
				last_error, ?, ?
			FROM deliveries WHERE lease_owner = ? AND `+idsIn,
			reason, micros(now), owner, idList(ids))
		if err != nil {
			return fmt.Errorf("insert dead letters: %w", err)
		}
		perProject, err := countReturnedProjects(tx.QueryContext(ctx,
			`DELETE FROM deliveries WHERE lease_owner = ? AND `+idsIn+` RETURNING project_id`,
			owner, idList(ids)))
		if err != nil {
			return fmt.Errorf("delete deliveries: %w", err)
		}
		return addFailed(ctx, tx, perProject, reason, now)
	})
	if err != nil {
		return fmt.Errorf("dead-letter deliveries: %w", err)
	}
	return nil
}

// addFailed adds the failures to each project's failed count and records
// the reason as its last error.
func addFailed(ctx context.Context, tx *sql.Tx, perProject map[string]int64, reason string, at time.Time) error {
	for projectID, n := range perProject {
		_, err := tx.ExecContext(ctx, `INSERT INTO delivery_counters
				(project_id, failed, last_error, last_error_at)
			VALUES (?, ?, ?, ?)
			ON CONFLICT (project_id) DO UPDATE SET failed = failed + excluded.failed,
				last_error = excluded.last_error, last_error_at = excluded.last_error_at`,
			projectID, n, reason, micros(at))
		if err != nil {
			return fmt.Errorf("count failed: %w", err)
		}
	}
	return nil
}

// countReturnedProjects reads rows of one project_id column and returns how
// many rows each project had.
func countReturnedProjects(rows *sql.Rows, err error) (map[string]int64, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()

	perProject := make(map[string]int64)
	for rows.Next() {
		var projectID string
		if err := rows.Scan(&projectID); err != nil {
			return nil, err
		}
		perProject[projectID]++
	}
	return perProject, rows.Err()
}

// FindDeliveryStats returns the delivery state of the project; all counts
// are zero for a project that never queued a delivery.
func (db *DB) FindDeliveryStats(ctx context.Context, projectID string) (*userevents.DeliveryStats, error) {
	stats := &userevents.DeliveryStats{ProjectID: projectID}
	err := db.inReadTx(ctx, func(tx *sql.Tx) error {
		var oldest, nextDue sql.NullInt64
		var lastErrorAt int64
		err := tx.QueryRowContext(ctx, `SELECT count(*), min(queued_at),
				min(CASE WHEN lease_owner IS NULL THEN due_at END)
			FROM deliveries WHERE project_id = ?`, projectID).Scan(&stats.Pending, &oldest, &nextDue)
		if err != nil {
			return fmt.Errorf("count pending deliveries: %w", err)
		}
		stats.OldestPending = fromMicros(oldest.Int64)
		stats.NextAttempt = fromMicros(nextDue.Int64)

		err = tx.QueryRowContext(ctx, `SELECT count(*) FROM dead_letters
			WHERE project_id = ?`, projectID).Scan(&stats.DeadLetters)
		if err != nil {
			return fmt.Errorf("count dead letters: %w", err)
		}

		err = tx.QueryRowContext(ctx, `SELECT delivered, failed, last_error, last_error_at
			FROM delivery_counters WHERE project_id = ?`, projectID).
			Scan(&stats.Delivered, &stats.Failed, &stats.LastError, &lastErrorAt)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		} else if err != nil {
			return fmt.Errorf("query delivery counters: %w", err)
		}
		stats.LastErrorAt = fromMicros(lastErrorAt)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("find delivery stats: %w", err)
	}
	return stats, nil
}

// NextDeliveryDue returns when the earliest queued delivery becomes due,
// which for a leased delivery is when its lease expires, and false when the
// outbox is empty.
func (db *DB) NextDeliveryDue(ctx context.Context) (time.Time, bool, error) {
	var due sql.NullInt64
	err := db.queryRow(ctx, `SELECT min(due_at) FROM deliveries`).Scan(&due)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("find next delivery due: %w", err)
	}
	if !due.Valid {
		return time.Time{}, false, nil
	}
	return time.UnixMicro(due.Int64).UTC(), true, nil
}

// idList returns ids as a JSON array for idsIn.
func idList(ids []int64) string {
	b, _ := json.Marshal(ids) // a slice of int64 always encodes
	return string(b)
}

// FindDeadLetters returns one page of the project's dead letters, newest
// first, each with its event, and their total number.
func (db *DB) FindDeadLetters(ctx context.Context, projectID string, offset, limit int) ([]*userevents.DeadLetter, int, error) {
	var out []*userevents.DeadLetter
	var total int
	err := db.inReadTx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT count(*) FROM dead_letters WHERE project_id = ?`,
			projectID).Scan(&total)
		if err != nil {
			return fmt.Errorf("count dead letters: %w", err)
		}
		rows, err := tx.QueryContext(ctx, `SELECT d.id, d.group_id, d.stream_id, d.attempts,
				d.queued_at, d.last_error, d.reason, d.dead_at, `+eventColumns("e.")+`
			FROM dead_letters d JOIN events e ON e.seq = d.event_seq
			WHERE d.project_id = ?
			ORDER BY d.dead_at DESC, d.id DESC LIMIT ? OFFSET ?`, projectID, limit, offset)
		if err != nil {
			return fmt.Errorf("query dead letters: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			d := &userevents.DeadLetter{}
			d.ProjectID = projectID
			var queued, dead int64
			d.Event, err = scanEvent(rows, &d.ID, &d.LogGroupID, &d.LogStreamID, &d.Attempts,
				&queued, &d.LastError, &d.Reason, &dead)
			if err != nil {
				return fmt.Errorf("scan dead letter: %w", err)
			}
			d.Event.ProjectID = projectID
			d.QueuedAt, d.DeadAt = fromMicros(queued), fromMicros(dead)
			out = append(out, d)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("query dead letters: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("find dead letters: %w", err)
	}
	return out, total, nil
}

// RequeueDeadLetters moves the project's dead letters back to the outbox,
// due now with no attempts. Empty ids means all of them; empty groupID and
// streamID keep each row's original target.
func (db *DB) RequeueDeadLetters(ctx context.Context, projectID string, ids []int64, groupID, streamID string) (int, error) {
	now := micros(db.now())
	where := `project_id = ?`
	args := []any{projectID}
	if len(ids) > 0 {
		where += ` AND ` + idsIn
		args = append(args, idList(ids))
	}
	var moved int64
	err := db.inWriteTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO deliveries (project_id, group_id, stream_id,
				event_seq, attempts, queued_at, due_at, last_error)
			SELECT project_id,
				CASE WHEN ? = '' THEN group_id ELSE ? END,
				CASE WHEN ? = '' THEN stream_id ELSE ? END,
				event_seq, 0, queued_at, ?, reason
			FROM dead_letters WHERE `+where+` ORDER BY id`,
			append([]any{groupID, groupID, streamID, streamID, now}, args...)...)
		if err != nil {
			return fmt.Errorf("requeue dead letters: %w", err)
		}
		moved, _ = res.RowsAffected()
		_, err = tx.ExecContext(ctx, `DELETE FROM dead_letters WHERE `+where, args...)
		if err != nil {
			return fmt.Errorf("delete dead letters: %w", err)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("requeue dead letters: %w", err)
	}
	return int(moved), nil
}

// RetargetDeliveries moves the project's queued deliveries bound for one
// stream to another, leased or not, due now.
func (db *DB) RetargetDeliveries(ctx context.Context, projectID, fromGroupID, fromStreamID, toGroupID, toStreamID string) (int, error) {
	var moved int64
	err := db.inWriteTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE deliveries
			SET group_id = ?, stream_id = ?, due_at = ?, lease_owner = NULL, lease_until = NULL
			WHERE project_id = ? AND group_id = ? AND stream_id = ?`,
			toGroupID, toStreamID, micros(db.now()), projectID, fromGroupID, fromStreamID)
		if err != nil {
			return err
		}
		moved, _ = res.RowsAffected()
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("retarget deliveries: %w", err)
	}
	return int(moved), nil
}

// ReleaseLeases makes every leased delivery due now and returns how many
// there were. A server calls it at start, when it is the only process
// using the database, so that a batch leased by a process that crashed is
// sent again at once instead of after its lease expires.
func (db *DB) ReleaseLeases(ctx context.Context) (int, error) {
	var n int64
	err := db.inWriteTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE deliveries
			SET lease_owner = NULL, lease_until = NULL, due_at = ?
			WHERE lease_owner IS NOT NULL`, micros(db.now()))
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("release leases: %w", err)
	}
	return int(n), nil
}

// DeliveryBacklog returns the number of queued deliveries and the queue
// time of the oldest.
func (db *DB) DeliveryBacklog(ctx context.Context) (int, time.Time, error) {
	var n int
	var oldest sql.NullInt64
	err := db.queryRow(ctx, `SELECT count(*), min(queued_at) FROM deliveries`).Scan(&n, &oldest)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("count delivery backlog: %w", err)
	}
	return n, fromMicros(oldest.Int64), nil
}
