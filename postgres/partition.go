package postgres

import (
	"context"
	"fmt"
	"hash/fnv"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/userevents/userevents"
)

// Months that get their own event partition on demand, counted from the
// current month. Events of other months go to events_default, so that a
// client clock far off cannot make the store create partitions without
// bound.
const (
	partitionMonthsBack  = 36
	partitionMonthsAhead = 3
)

// partitionLockTimeout bounds how long partition maintenance waits for a
// table lock. A waiting ACCESS EXCLUSIVE request blocks every later query
// of the table, so it must not wait long behind a slow query.
const partitionLockTimeout = "5s"

// monthStart returns the first instant of t's month in UTC.
func monthStart(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}

// partitionName returns the name of the partition of the month that
// starts at month.
func partitionName(month time.Time) string {
	return fmt.Sprintf("events_p%04d%02d", month.Year(), int(month.Month()))
}

// parsePartitionName returns the month of a partition named by
// partitionName, and false for any other name.
func parsePartitionName(name string) (time.Time, bool) {
	var year, month int
	if n, err := fmt.Sscanf(name, "events_p%04d%02d", &year, &month); err != nil || n != 2 {
		return time.Time{}, false
	}
	if month < 1 || month > 12 || name != fmt.Sprintf("events_p%04d%02d", year, month) {
		return time.Time{}, false
	}
	return time.Date(year, time.Month(month), 1, 0, 0, 0, 0, time.UTC), true
}

// partitionLockID returns the advisory lock that serialises partition
// changes in the current schema among all replicas.
func partitionLockID(schema string) int64 {
	h := fnv.New64a()
	h.Write([]byte("userevents partitions " + schema))
	return int64(h.Sum64())
}

// ensurePartitions creates the missing partitions of the events' months
// that lie in the on-demand window. A partition that cannot be created,
// for instance because a lock wait timed out, is logged and tried again
// with the next batch: its events go to the default partition meanwhile,
// so intake goes on. It returns an error only when ctx ends.
func (db *DB) ensurePartitions(ctx context.Context, events []*userevents.Event) error {
	current := monthStart(db.now())
	first := current.AddDate(0, -partitionMonthsBack, 0)
	last := current.AddDate(0, partitionMonthsAhead, 0)

	var missing []time.Time
	db.partitionsMu.Lock()
	for _, ev := range events {
		m := monthStart(ev.EventTime)
		if m.Before(first) || m.After(last) || db.partitions[m] || slices.Contains(missing, m) {
			continue
		}
		missing = append(missing, m)
	}
	db.partitionsMu.Unlock()

	slices.SortFunc(missing, time.Time.Compare)
	for _, m := range missing {
		if err := db.createPartition(ctx, m); err != nil {
			if ctx.Err() != nil {
				return err
			}
			db.logger.Warn("event partition not created; its events go to the default partition",
				"partition", partitionName(m), "error", err)
		}
	}
	return nil
}

// createPartition creates and attaches the partition of the month unless it
// exists. Events of the month may already be in events_default, because the
// month was outside the window or another replica had dropped its
// partition. They move into the new partition, since PostgreSQL rejects
// attaching a range that the default partition has rows of.
func (db *DB) createPartition(ctx context.Context, month time.Time) error {
	name := partitionName(month)
	next := month.AddDate(0, 1, 0)
	var created bool
	var moved int64
	err := db.inTx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		created, moved = false, 0
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, db.partitionLock); err != nil {
			return err
		}
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, name).Scan(&exists); err != nil {
			return err
		}
		if exists {
			return nil
		}

		// Attaching takes this lock anyway. Taking it first keeps new
		// rows of the month out of the default partition until the new
		// partition is attached.
		steps := []string{
			`SET LOCAL lock_timeout = '` + partitionLockTimeout + `'`,
			`LOCK TABLE events_default IN ACCESS EXCLUSIVE MODE`,
			`CREATE TABLE ` + name + ` (LIKE events INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`,
		}
		for _, sql := range steps {
			if _, err := tx.Exec(ctx, sql); err != nil {
				return err
			}
		}
		tag, err := tx.Exec(ctx, `WITH moved AS (DELETE FROM events_default
			WHERE event_time >= $1 AND event_time < $2 RETURNING *)
			INSERT INTO `+name+` SELECT * FROM moved`, month, next)
		if err != nil {
			return err
		}
		moved = tag.RowsAffected()
		_, err = tx.Exec(ctx, `ALTER TABLE events ATTACH PARTITION `+name+
			` FOR VALUES FROM ('`+month.Format(time.RFC3339)+`') TO ('`+next.Format(time.RFC3339)+`')`)
		created = err == nil
		return err
	})
	if err != nil {
		return fmt.Errorf("create partition %s: %w", name, err)
	}
	if created {
		db.logger.Info("event partition created", "partition", name, "moved_events", moved)
	}
	db.partitionsMu.Lock()
	db.partitions[month] = true
	db.partitionsMu.Unlock()
	return nil
}

// DropEventPartitionsBefore deletes every event of the months that end at
// or before t, and returns the number of monthly partitions it dropped. It
// drops those months' partitions whole, deletes the events before the
// start of t's month from the default partition, and removes the deleted
// events' ids and counts, so that a deleted event id may be stored again.
// Queued deliveries keep their copy of the event and are still delivered.
// Each partition goes in its own transaction. After an error, the
// partitions already dropped stay dropped, and the returned count
// includes them.
func (db *DB) DropEventPartitionsBefore(ctx context.Context, t time.Time) (int, error) {
	cut := monthStart(t)
	rows, err := db.pool.Query(ctx, `SELECT c.relname FROM pg_inherits i
		JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = 'events'::regclass`)
	if err != nil {
		return 0, fmt.Errorf("drop event partitions: list partitions: %w", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return 0, fmt.Errorf("drop event partitions: list partitions: %w", err)
	}
	var months []time.Time
	for _, name := range names {
		if m, ok := parsePartitionName(name); ok && m.Before(cut) {
			months = append(months, m)
		}
	}
	slices.SortFunc(months, time.Time.Compare)

	dropped := 0
	for _, m := range months {
		if err := db.dropPartition(ctx, m); err != nil {
			return dropped, fmt.Errorf("drop event partitions: %w", err)
		}
		dropped++
	}
	if err := db.deleteDefaultEventsBefore(ctx, cut); err != nil {
		return dropped, fmt.Errorf("drop event partitions: %w", err)
	}
	return dropped, nil
}

// dropPartition removes the month's partition with its events' ids and
// counts.
func (db *DB) dropPartition(ctx context.Context, month time.Time) error {
	name := partitionName(month)
	var events int64
	err := db.inTx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, db.partitionLock); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `SET LOCAL lock_timeout = '`+partitionLockTimeout+`'`); err != nil {
			return err
		}
		// Detaching first locks out inserts and readers, so the ids and
		// counts below cover exactly the events that go.
		if _, err := tx.Exec(ctx, `ALTER TABLE events DETACH PARTITION `+name); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `DELETE FROM event_ids i USING `+name+` e
			WHERE i.project_no = e.project_no AND i.event_id = e.event_id`)
		if err != nil {
			return err
		}
		events = tag.RowsAffected()
		_, err = tx.Exec(ctx, `DELETE FROM event_counts WHERE hour >= $1 AND hour < $2`,
			month, month.AddDate(0, 1, 0))
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DROP TABLE `+name)
		return err
	})
	if err != nil {
		return fmt.Errorf("drop partition %s: %w", name, err)
	}
	db.partitionsMu.Lock()
	delete(db.partitions, month)
	db.partitionsMu.Unlock()
	db.logger.Info("event partition dropped", "partition", name, "events", events)
	return nil
}

// deleteDefaultEventsBefore deletes the default partition's events before
// cut with their ids, and subtracts them from the counts.
func (db *DB) deleteDefaultEventsBefore(ctx context.Context, cut time.Time) error {
	var events int64
	err := db.inTx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `WITH gone AS (
				DELETE FROM events_default WHERE event_time < $1
				RETURNING project_no, event_id, event_time, event_type, domain
			), ids AS (
				DELETE FROM event_ids i USING gone g
				WHERE i.project_no = g.project_no AND i.event_id = g.event_id
			), counts AS (
				SELECT project_no, date_trunc('hour', event_time, 'UTC') AS hour, event_type,
					domain, count(*) AS n
				FROM gone GROUP BY 1, 2, 3, 4
			), subtracted AS (
				UPDATE event_counts c SET n = c.n - counts.n FROM counts
				WHERE c.project_no = counts.project_no AND c.hour = counts.hour
					AND c.event_type = counts.event_type AND c.domain = counts.domain
			)
			SELECT count(*) FROM gone`, cut).Scan(&events)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM event_counts WHERE hour < $1 AND n <= 0`, cut)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete events of the default partition: %w", err)
	}
	if events > 0 {
		db.logger.Info("old events deleted from the default partition", "before", cut, "events", events)
	}
	return nil
}
