package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/userevents/userevents"
)

// hourMicros is the width of one event_counts bucket in microseconds.
const hourMicros = int64(time.Hour / time.Microsecond)

// Open ends of an EventFilter map to these bounds. They are far from the
// int64 limits, so that bucket arithmetic cannot overflow.
const (
	minEventMicros = math.MinInt64 / 4
	maxEventMicros = math.MaxInt64 / 4
)

// eventColumnNames lists the columns that scanEvent reads, in its order.
var eventColumnNames = []string{"seq", "project_id", "event_id", "username",
	"workspace_id", "event_trace_id", "event_type", "event_time", "resource_type",
	"resource_id", "resource_name", "client_type", "client_ip", "client_mac",
	"client_version", "source_ip", "is_success", "error_code", "error_msg",
	"action_type", "domain", "api_url", "received_at"}

// eventColumns returns the select list that scanEvent reads, each column
// qualified with prefix, such as "e.".
func eventColumns(prefix string) string {
	return prefix + strings.Join(eventColumnNames, ", "+prefix)
}

const insertEventSQL = `INSERT INTO events (project_id, event_id, username, workspace_id,
	event_trace_id, event_type, event_time, resource_type, resource_id, resource_name,
	client_type, client_ip, client_mac, client_version, source_ip, is_success, error_code,
	error_msg, action_type, domain, api_url, received_at)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (project_id, event_id) DO NOTHING`

const queueDeliverySQL = `INSERT INTO deliveries
	(project_id, group_id, stream_id, event_seq, queued_at, due_at)
	VALUES (?, ?, ?, ?, ?, ?)`

const addEventCountSQL = `INSERT INTO event_counts (project_id, hour, event_type, domain, n)
	VALUES (?, ?, ?, ?, ?)
	ON CONFLICT (project_id, hour, event_type, domain) DO UPDATE SET n = n + excluded.n`

// countKey identifies one event_counts row of a project.
type countKey struct {
	hour      int64
	eventType string
	domain    string
}

// CreateEvents stores the events of one project in one transaction and
// returns the number newly stored. It overwrites each event's ProjectID
// with projectID, gives an event without EventID a random UUID and sets a
// zero ReceivedAt to the store's clock. An event whose EventID is already
// stored, or appears earlier in the batch, is skipped and keeps Seq zero;
// the others get their Seq once the transaction has committed. When the
// project's LTSConfig is enabled, each new event is queued for the log
// group and stream that the configuration names inside the transaction.
func (db *DB) CreateEvents(ctx context.Context, projectID string, events []*userevents.Event) (int, error) {
	if len(events) == 0 {
		return 0, nil
	}
	now := db.now()
	for _, ev := range events {
		ev.ProjectID = projectID
		if ev.EventID == "" {
			ev.EventID = uuid.NewString()
		}
		if ev.ReceivedAt.IsZero() {
			ev.ReceivedAt = now
		}
	}

	seqs := make([]int64, len(events))
	var stored int
	err := db.inWriteTx(ctx, func(tx *sql.Tx) error {
		cfg, err := findLTSConfig(ctx, tx, projectID)
		if err != nil {
			return err
		}
		if stored, err = insertEvents(ctx, tx, events, seqs); err != nil {
			return err
		}
		if err := addEventCounts(ctx, tx, projectID, events, seqs); err != nil {
			return err
		}
		if cfg.Enabled {
			return queueDeliveries(ctx, tx, cfg, seqs, now)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("create events: %w", err)
	}

	for i, ev := range events {
		ev.Seq = seqs[i]
	}
	return stored, nil
}

// insertEvents inserts the events, skipping stored ids, and records the seq
// of each newly stored event in seqs. It returns the number stored.
func insertEvents(ctx context.Context, tx *sql.Tx, events []*userevents.Event, seqs []int64) (int, error) {
	stmt, err := tx.PrepareContext(ctx, insertEventSQL)
	if err != nil {
		return 0, fmt.Errorf("prepare insert events: %w", err)
	}
	defer stmt.Close()

	var stored int
	for i, ev := range events {
		var success any
		if ev.IsSuccess != nil {
			success = boolInt(*ev.IsSuccess)
		}
		res, err := stmt.ExecContext(ctx,
			ev.ProjectID, ev.EventID, ev.Username, ev.WorkspaceID, ev.EventTraceID,
			ev.EventType, ev.EventTime.UnixMicro(), ev.ResourceType, ev.ResourceID,
			ev.ResourceName, ev.ClientType, ev.ClientIP, ev.ClientMAC, ev.ClientVersion,
			ev.SourceIP, success, ev.ErrorCode, ev.ErrorMsg, ev.ActionType, ev.Domain,
			ev.APIURL, micros(ev.ReceivedAt))
		if err != nil {
			return 0, fmt.Errorf("insert event %q: %w", ev.EventID, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return 0, fmt.Errorf("insert event %q: %w", ev.EventID, err)
		}
		if n == 0 {
			continue
		}
		if seqs[i], err = res.LastInsertId(); err != nil {
			return 0, fmt.Errorf("insert event %q: %w", ev.EventID, err)
		}
		stored++
	}
	return stored, nil
}

// addEventCounts adds the newly stored events, those with a non-zero seq,
// to the hourly counts.
func addEventCounts(ctx context.Context, tx *sql.Tx, projectID string, events []*userevents.Event, seqs []int64) error {
	counts := make(map[countKey]int64)
	for i, ev := range events {
		if seqs[i] == 0 {
			continue
		}
		k := countKey{floorDiv(ev.EventTime.UnixMicro(), hourMicros), ev.EventType, ev.Domain}
		counts[k]++
	}
	if len(counts) == 0 {
		return nil
	}

	stmt, err := tx.PrepareContext(ctx, addEventCountSQL)
	if err != nil {
		return fmt.Errorf("prepare count events: %w", err)
	}
	defer stmt.Close()
	for k, n := range counts {
		if _, err := stmt.ExecContext(ctx, projectID, k.hour, k.eventType, k.domain, n); err != nil {
			return fmt.Errorf("count events: %w", err)
		}
	}
	return nil
}

// queueDeliveries inserts one outbox row, due now, for each non-zero seq.
func queueDeliveries(ctx context.Context, tx *sql.Tx, cfg *userevents.LTSConfig, seqs []int64, now time.Time) error {
	stmt, err := tx.PrepareContext(ctx, queueDeliverySQL)
	if err != nil {
		return fmt.Errorf("prepare queue deliveries: %w", err)
	}
	defer stmt.Close()

	at := micros(now)
	for _, seq := range seqs {
		if seq == 0 {
			continue
		}
		_, err := stmt.ExecContext(ctx, cfg.ProjectID, cfg.LogGroupID, cfg.LogStreamID, seq, at, at)
		if err != nil {
			return fmt.Errorf("queue delivery: %w", err)
		}
	}
	return nil
}

// FindEvents returns one page of the events that match the filter, newest
// first by (EventTime, Seq), and the total number that match. Start and End
// are inclusive to the microsecond; a zero Start or End leaves that end
// open. A negative Offset counts as zero, and a Limit of zero or less
// returns no events but still the count.
func (db *DB) FindEvents(ctx context.Context, filter userevents.EventFilter) ([]*userevents.Event, int, error) {
	start, end := eventRange(filter)
	if start > end {
		return []*userevents.Event{}, 0, nil
	}

	events := []*userevents.Event{}
	var total int
	err := db.inReadTx(ctx, func(tx *sql.Tx) error {
		var err error
		if total, err = countEvents(ctx, tx, filter, start, end); err != nil {
			return err
		}
		if filter.Limit <= 0 || total == 0 {
			return nil
		}
		events, err = findEventPage(ctx, tx, filter, start, end)
		return err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("find events: %w", err)
	}
	return events, total, nil
}

// eventRange returns the filter's inclusive bounds in microseconds.
func eventRange(f userevents.EventFilter) (start, end int64) {
	start, end = minEventMicros, maxEventMicros
	if !f.Start.IsZero() {
		start = max(f.Start.UnixMicro(), minEventMicros)
	}
	if !f.End.IsZero() {
		end = min(f.End.UnixMicro(), maxEventMicros)
	}
	return start, end
}

// findEventPage returns the page of matching events that the filter's
// Offset and Limit select.
func findEventPage(ctx context.Context, tx *sql.Tx, f userevents.EventFilter, start, end int64) ([]*userevents.Event, error) {
	where, args := eventWhere(f, start, end, true)
	query := `SELECT ` + eventColumns("") + ` FROM events WHERE ` + where +
		` ORDER BY event_time DESC, seq DESC LIMIT ? OFFSET ?`
	args = append(args, f.Limit, max(f.Offset, 0))

	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("query events: %w", err)
	}
	defer rows.Close()

	events := make([]*userevents.Event, 0, min(f.Limit, userevents.MaxEventLimit))
	for rows.Next() {
		ev, err := scanEvent(rows)
		if err != nil {
			return nil, err
		}
		events = append(events, ev)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("query events: %w", err)
	}
	return events, nil
}

// countEvents returns the number of events that match the filter. Unless
// the filter names a username or resource, it adds up the hourly counts of
// the hours that lie wholly inside the range and counts single events only
// in the partial hours at either end.
func countEvents(ctx context.Context, tx *sql.Tx, f userevents.EventFilter, start, end int64) (int, error) {
	firstHour := ceilDiv(start, hourMicros)
	endHour := floorDiv(end+1, hourMicros) // exclusive
	bucketable := f.Username == nil && f.ResourceID == nil && f.ResourceName == nil
	if !bucketable || firstHour >= endHour {
		where, args := eventWhere(f, start, end, true)
		return queryCount(ctx, tx, `SELECT count(*) FROM events WHERE `+where, args)
	}

	headWhere, headArgs := eventWhere(f, start, firstHour*hourMicros-1, true)
	tailWhere, tailArgs := eventWhere(f, endHour*hourMicros, end, true)
	bucketWhere, bucketArgs := eventWhere(f, firstHour, endHour-1, false)
	query := `SELECT (SELECT count(*) FROM events WHERE ` + headWhere + `)
		+ (SELECT count(*) FROM events WHERE ` + tailWhere + `)
		+ (SELECT coalesce(sum(n), 0) FROM event_counts WHERE ` + bucketWhere + `)`
	args := append(append(headArgs, tailArgs...), bucketArgs...)
	return queryCount(ctx, tx, query, args)
}

func queryCount(ctx context.Context, tx *sql.Tx, query string, args []any) (int, error) {
	var n int
	if err := tx.QueryRowContext(ctx, query, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count events: %w", err)
	}
	return n, nil
}

// eventWhere returns the WHERE clause and its arguments for the filter over
// the inclusive range [lo, hi]. With events true the clause applies to the
// events table and the range is in microseconds; otherwise it applies to
// event_counts, the range is in hours, and only the event type and domain
// filters are used.
func eventWhere(f userevents.EventFilter, lo, hi int64, events bool) (string, []any) {
	timeColumn := "hour"
	if events {
		timeColumn = "event_time"
	}
	conds := []string{"project_id = ?", timeColumn + " >= ?", timeColumn + " <= ?"}
	args := []any{f.ProjectID, lo, hi}

	if len(f.EventTypes) > 0 {
		conds = append(conds, "event_type IN (?"+strings.Repeat(", ?", len(f.EventTypes)-1)+")")
		for _, t := range f.EventTypes {
			args = append(args, t)
		}
	}
	if f.Domain != nil {
		conds = append(conds, "domain = ?")
		args = append(args, *f.Domain)
	}
	if events {
		for _, c := range []struct {
			column string
			value  *string
		}{
			{"username", f.Username},
			{"resource_id", f.ResourceID},
			{"resource_name", f.ResourceName},
		} {
			if c.value != nil {
				conds = append(conds, c.column+" = ?")
				args = append(args, *c.value)
			}
		}
	}
	return strings.Join(conds, " AND "), args
}

// scanEvent reads one row selected with eventColumns, preceded by the
// columns that the extra destinations receive.
func scanEvent(row scanner, extra ...any) (*userevents.Event, error) {
	var (
		ev                    userevents.Event
		eventTime, receivedAt int64
		success               sql.NullInt64
	)
	dest := append(extra, &ev.Seq, &ev.ProjectID, &ev.EventID, &ev.Username, &ev.WorkspaceID,
		&ev.EventTraceID, &ev.EventType, &eventTime, &ev.ResourceType, &ev.ResourceID,
		&ev.ResourceName, &ev.ClientType, &ev.ClientIP, &ev.ClientMAC, &ev.ClientVersion,
		&ev.SourceIP, &success, &ev.ErrorCode, &ev.ErrorMsg, &ev.ActionType, &ev.Domain,
		&ev.APIURL, &receivedAt)
	if err := row.Scan(dest...); err != nil {
		return nil, fmt.Errorf("scan event: %w", err)
	}
	ev.EventTime = time.UnixMicro(eventTime).UTC()
	ev.ReceivedAt = fromMicros(receivedAt)
	if success.Valid {
		b := success.Int64 != 0
		ev.IsSuccess = &b
	}
	return &ev, nil
}

// floorDiv returns a/b rounded toward negative infinity, for b > 0.
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// ceilDiv returns a/b rounded toward positive infinity, for b > 0.
func ceilDiv(a, b int64) int64 {
	return -floorDiv(-a, b)
}
