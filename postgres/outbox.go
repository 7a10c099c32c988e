package postgres

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/userevents/userevents"
)

// leaseSQL leases due deliveries of one target in one statement. $1 is the
// clock reading or NULL for the server's clock, $2 the owner, $3 the lease
// in microseconds and $4 the limit.
//
// target locks the oldest due row, and picked locks up to the limit of due
// rows of its target. Both skip rows that a concurrent lease has locked, so
// concurrent leases never share a row. A row that a concurrent lease
// updated and committed after this statement's snapshot is re-checked
// against its new due_at, which lies in the future, and dropped.
const leaseSQL = `
WITH clock AS (
	SELECT coalesce($1::timestamptz, statement_timestamp()) AS now
), target AS (
	SELECT d.project_id, d.group_id, d.stream_id FROM deliveries d, clock
	WHERE d.due_at <= clock.now
	ORDER BY d.due_at, d.id LIMIT 1
	FOR UPDATE OF d SKIP LOCKED
), picked AS (
	SELECT d.id, d.due_at FROM deliveries d, target t, clock
	WHERE d.project_id = t.project_id AND d.group_id = t.group_id
		AND d.stream_id = t.stream_id AND d.due_at <= clock.now
	ORDER BY d.due_at, d.id LIMIT $4
	FOR UPDATE OF d SKIP LOCKED
)
UPDATE deliveries d
SET lease_owner = $2, lease_until = clock.now + $3 * interval '1 microsecond',
	due_at = clock.now + $3 * interval '1 microsecond'
FROM picked, clock
WHERE d.id = picked.id
RETURNING picked.due_at, d.id, d.project_id, d.group_id, d.stream_id, d.attempts,
	d.queued_at, d.last_error, d.event`

// LeaseDeliveries leases to owner, until now+lease, up to limit due
// deliveries that share one target stream, with their events. A delivery is
// due when its due time has passed and it is not leased, or its lease has
// expired. The target is that of the oldest due delivery that no concurrent
// lease holds, and the leased deliveries are returned in the order they
// became due, then in queue order. Concurrent calls, from this process or
// another, never lease the same delivery while its lease is valid. It
// returns an empty slice when nothing is due or limit is not positive.
func (db *DB) LeaseDeliveries(ctx context.Context, owner string, limit int, lease time.Duration) ([]*userevents.Delivery, error) {
	deliveries := []*userevents.Delivery{}
	if limit <= 0 {
		return deliveries, nil
	}
	type leased struct {
		due time.Time
		d   *userevents.Delivery
	}
	var rows []leased
	err := db.inTx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		rows = rows[:0]
		r, err := tx.Query(ctx, leaseSQL, db.clock(), owner, lease.Microseconds(), limit)
		if err != nil {
			return err
		}
		var l leased
		var d userevents.Delivery
		var event []byte
		_, err = pgx.ForEachRow(r, []any{&l.due, &d.ID, &d.ProjectID, &d.LogGroupID,
			&d.LogStreamID, &d.Attempts, &d.QueuedAt, &d.LastError, &event}, func() error {
			ev, err := decodeEvent(event)
			if err != nil {
				return fmt.Errorf("delivery %d: %w", d.ID, err)
			}
			ev.ProjectID = d.ProjectID
			delivery := d
			delivery.Event = ev
			rows = append(rows, leased{due: l.due, d: &delivery})
			return nil
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("lease deliveries: %w", err)
	}

	slices.SortFunc(rows, func(a, b leased) int {
		if c := a.due.Compare(b.due); c != 0 {
			return c
		}
		return cmp.Compare(a.d.ID, b.d.ID)
	})
	for _, l := range rows {
		deliveries = append(deliveries, l.d)
	}
	return deliveries, nil
}

// queuedEvent is an event as to_json wrote it into the outbox.
type queuedEvent struct {
	Seq           int64     `json:"seq"`
	EventID       string    `json:"event_id"`
	Username      string    `json:"username"`
	WorkspaceID   string    `json:"workspace_id"`
	EventTraceID  string    `json:"event_trace_id"`
	EventType     string    `json:"event_type"`
	EventTime     time.Time `json:"event_time"`
	ResourceType  string    `json:"resource_type"`
	ResourceID    string    `json:"resource_id"`
	ResourceName  string    `json:"resource_name"`
	ClientType    string    `json:"client_type"`
	ClientIP      string    `json:"client_ip"`
	ClientMAC     string    `json:"client_mac"`
	ClientVersion string    `json:"client_version"`
	SourceIP      string    `json:"source_ip"`
	IsSuccess     *bool     `json:"is_success"`
	ErrorCode     string    `json:"error_code"`
	ErrorMsg      string    `json:"error_msg"`
	ActionType    string    `json:"action_type"`
	Domain        string    `json:"domain"`
	APIURL        string    `json:"api_url"`
	ReceivedAt    time.Time `json:"received_at"`
}

// decodeEvent parses the outbox copy of an event.
func decodeEvent(data []byte) (*userevents.Event, error) {
	var q queuedEvent
	if err := json.Unmarshal(data, &q); err != nil {
		return nil, fmt.Errorf("decode queued event: %w", err)
	}
	return &userevents.Event{
		Seq: q.Seq, EventID: q.EventID, Username: q.Username, WorkspaceID: q.WorkspaceID,
		EventTraceID: q.EventTraceID, EventType: q.EventType, EventTime: q.EventTime.UTC(),
		ResourceType: q.ResourceType, ResourceID: q.ResourceID, ResourceName: q.ResourceName,
		ClientType: q.ClientType, ClientIP: q.ClientIP, ClientMAC: q.ClientMAC,
		ClientVersion: q.ClientVersion, SourceIP: q.SourceIP, IsSuccess: q.IsSuccess,
		ErrorCode: q.ErrorCode, ErrorMsg: q.ErrorMsg, ActionType: q.ActionType,
		Domain: q.Domain, APIURL: q.APIURL, ReceivedAt: q.ReceivedAt.UTC(),
	}, nil
}

// CompleteDeliveries deletes the listed deliveries that owner holds and adds
// them to their projects' delivered counts. Ids that owner does not hold,
// because another worker took over an expired lease or the row is gone, are
// left alone.
func (db *DB) CompleteDeliveries(ctx context.Context, owner string, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	err := db.inTx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `WITH done AS (
				DELETE FROM deliveries WHERE lease_owner = $1 AND id = ANY($2)
				RETURNING project_id
			)
			INSERT INTO delivery_counters (project_id, delivered)
			SELECT project_id, count(*) FROM done GROUP BY project_id ORDER BY project_id
			ON CONFLICT (project_id)
			DO UPDATE SET delivered = delivery_counters.delivered + excluded.delivered`,
			owner, ids)
		return err
	})
	if err != nil {
		return fmt.Errorf("complete deliveries: %w", err)
	}
	return nil
}

// addFailedSQL is the tail of the statements that record failed
// deliveries: it adds the rows of the CTE failed to their projects' failed
// counts and records $3 as the last error, at $4 or the server's clock.
const addFailedSQL = `
INSERT INTO delivery_counters (project_id, failed, last_error, last_error_at)
SELECT project_id, count(*), $3, coalesce($4::timestamptz, statement_timestamp())
FROM failed GROUP BY project_id ORDER BY project_id
ON CONFLICT (project_id) DO UPDATE SET failed = delivery_counters.failed + excluded.failed,
	last_error = excluded.last_error, last_error_at = excluded.last_error_at`

// RetryDeliveries releases the listed deliveries that owner holds, due
// again at next, counts one more attempt on each, records reason as their
// last error and adds them to their projects' failed counts. Every other
// queued row of the same targets that no worker holds and that would be due
// before next waits until next too, so that a failing stream pauses as a
// whole. Ids that owner does not hold are left alone.
func (db *DB) RetryDeliveries(ctx context.Context, owner string, ids []int64, next time.Time, reason string) error {
	if len(ids) == 0 {
		return nil
	}
	err := db.inTx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `WITH failed AS (
				UPDATE deliveries SET attempts = attempts + 1, due_at = $5,
					lease_owner = NULL, lease_until = NULL, last_error = $3
				WHERE lease_owner = $1 AND id = ANY($2)
				RETURNING project_id
			)`+addFailedSQL,
			owner, ids, reason, db.clock(), next)
		if err != nil {
			return fmt.Errorf("release deliveries: %w", err)
		}
		_, err = tx.Exec(ctx, `UPDATE deliveries SET due_at = $1
			WHERE due_at < $1 AND lease_owner IS NULL
				AND (project_id, group_id, stream_id) IN (
					SELECT project_id, group_id, stream_id FROM deliveries WHERE id = ANY($2))`,
			next, ids)
		if err != nil {
			return fmt.Errorf("pause target: %w", err)
		}
		return nil
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
	err := db.inTx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `WITH failed AS (
				DELETE FROM deliveries WHERE lease_owner = $1 AND id = ANY($2)
				RETURNING *
			), moved AS (
				INSERT INTO dead_letters (id, project_id, group_id, stream_id, event, attempts,
					queued_at, last_error, reason, dead_at)
				SELECT id, project_id, group_id, stream_id, event, attempts + 1, queued_at,
					last_error, $3, coalesce($4::timestamptz, statement_timestamp())
				FROM failed
			)`+addFailedSQL,
			owner, ids, reason, db.clock())
		return err
	})
	if err != nil {
		return fmt.Errorf("dead-letter deliveries: %w", err)
	}
	return nil
}

// FindDeliveryStats returns the delivery state of the project, read from
// one snapshot; all counts are zero for a project that never queued a
// delivery.
func (db *DB) FindDeliveryStats(ctx context.Context, projectID string) (*userevents.DeliveryStats, error) {
	stats := &userevents.DeliveryStats{ProjectID: projectID}
	var oldest, nextAttempt, lastErrorAt *time.Time
	err := db.pool.QueryRow(ctx, `SELECT p.pending, p.oldest, p.next_attempt,
			(SELECT count(*) FROM dead_letters WHERE project_id = $1),
			coalesce(c.delivered, 0), coalesce(c.failed, 0), coalesce(c.last_error, ''),
			c.last_error_at
		FROM (SELECT count(*) AS pending, min(queued_at) AS oldest,
				min(due_at) FILTER (WHERE lease_owner IS NULL) AS next_attempt
			FROM deliveries WHERE project_id = $1) p
		LEFT JOIN delivery_counters c ON c.project_id = $1`, projectID).
		Scan(&stats.Pending, &oldest, &nextAttempt, &stats.DeadLetters, &stats.Delivered,
			&stats.Failed, &stats.LastError, &lastErrorAt)
	if err != nil {
		return nil, fmt.Errorf("find delivery stats: %w", err)
	}
	stats.OldestPending = timeOrZero(oldest)
	stats.NextAttempt = timeOrZero(nextAttempt)
	stats.LastErrorAt = timeOrZero(lastErrorAt)
	return stats, nil
}

// NextDeliveryDue returns when the earliest queued delivery becomes due,
// which for a leased delivery is when its lease expires, and false when the
// outbox is empty.
func (db *DB) NextDeliveryDue(ctx context.Context) (time.Time, bool, error) {
	var due *time.Time
	if err := db.pool.QueryRow(ctx, `SELECT min(due_at) FROM deliveries`).Scan(&due); err != nil {
		return time.Time{}, false, fmt.Errorf("find next delivery due: %w", err)
	}
	if due == nil {
		return time.Time{}, false, nil
	}
	return *due, true, nil
}

// FindDeadLetters returns one page of the project's dead letters, newest
// first, each with its event, and their total number, read from one
// snapshot. A negative limit returns every dead letter past offset.
func (db *DB) FindDeadLetters(ctx context.Context, projectID string, offset, limit int) ([]*userevents.DeadLetter, int, error) {
	letters := []*userevents.DeadLetter{}
	var total int
	var limitArg any
	if limit >= 0 {
		limitArg = limit
	}
	err := db.inReadTx(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `SELECT count(*) FROM dead_letters WHERE project_id = $1`,
			projectID).Scan(&total)
		if err != nil {
			return fmt.Errorf("count dead letters: %w", err)
		}
		rows, err := tx.Query(ctx, `SELECT id, group_id, stream_id, attempts, queued_at,
				last_error, reason, dead_at, event
			FROM dead_letters WHERE project_id = $1
			ORDER BY dead_at DESC, id DESC LIMIT $2 OFFSET $3`, projectID, limitArg, max(offset, 0))
		if err != nil {
			return fmt.Errorf("query dead letters: %w", err)
		}
		letters, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (*userevents.DeadLetter, error) {
			d := &userevents.DeadLetter{}
			d.ProjectID = projectID
			var event []byte
			err := row.Scan(&d.ID, &d.LogGroupID, &d.LogStreamID, &d.Attempts, &d.QueuedAt,
				&d.LastError, &d.Reason, &d.DeadAt, &event)
			if err != nil {
				return nil, err
			}
			if d.Event, err = decodeEvent(event); err != nil {
				return nil, fmt.Errorf("dead letter %d: %w", d.ID, err)
			}
			d.Event.ProjectID = projectID
			return d, nil
		})
		return err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("find dead letters: %w", err)
	}
	return letters, total, nil
}

// RequeueDeadLetters moves the project's dead letters back to the outbox,
// due now with no attempts and their reason as the last error, and returns
// how many moved. Empty ids means all of them. Empty groupID and streamID
// keep each row's original target; otherwise they replace it.
func (db *DB) RequeueDeadLetters(ctx context.Context, projectID string, ids []int64, groupID, streamID string) (int, error) {
	var idsArg any
	if len(ids) > 0 {
		idsArg = ids
	}
	var moved int64
	err := db.inTx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `WITH dead AS (
				DELETE FROM dead_letters
				WHERE project_id = $1 AND ($2::bigint[] IS NULL OR id = ANY($2))
				RETURNING *
			)
			INSERT INTO deliveries (project_id, group_id, stream_id, event, attempts,
				queued_at, due_at, last_error)
			SELECT project_id,
				CASE WHEN $3 = '' AND $4 = '' THEN group_id ELSE $3 END,
				CASE WHEN $3 = '' AND $4 = '' THEN stream_id ELSE $4 END,
				event, 0, queued_at, coalesce($5::timestamptz, statement_timestamp()), reason
			FROM dead ORDER BY id`,
			projectID, idsArg, groupID, streamID, db.clock())
		moved = tag.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("requeue dead letters: %w", err)
	}
	return int(moved), nil
}

// RetargetDeliveries moves the project's queued deliveries bound for one
// stream to another, leased or not, due now, and returns how many moved.
// A worker that held one of them can no longer complete, retry or
// dead-letter it.
func (db *DB) RetargetDeliveries(ctx context.Context, projectID, fromGroupID, fromStreamID, toGroupID, toStreamID string) (int, error) {
	var moved int64
	err := db.inTx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE deliveries
			SET group_id = $1, stream_id = $2, due_at = coalesce($3::timestamptz, statement_timestamp()),
				lease_owner = NULL, lease_until = NULL
			WHERE project_id = $4 AND group_id = $5 AND stream_id = $6`,
			toGroupID, toStreamID, db.clock(), projectID, fromGroupID, fromStreamID)
		moved = tag.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("retarget deliveries: %w", err)
	}
	return int(moved), nil
}
