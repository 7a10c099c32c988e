package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/userevents/userevents"
)

// Open ends of an EventFilter map to these bounds. They are far from the
// int64 limits, so that bucket arithmetic cannot overflow.
const (
	minEventMicros = math.MinInt64 / 4
	maxEventMicros = math.MaxInt64 / 4
)

// eventQuery is an EventFilter resolved for one project's events.
type eventQuery struct {
	filter    userevents.EventFilter
	projectNo int64
	start     int64    // inclusive, microseconds
	end       int64    // inclusive, microseconds
	types     []string // filter.EventTypes without repeats
	index     string   // the index that yields the matching events
}

// FindEvents returns one page of the events that match the filter, newest
// first by (EventTime, Seq), and the total number that match. Start and End
// are inclusive to the microsecond, and a zero Start or End leaves that end
// open. A negative Offset counts as zero. A Limit of zero or less returns
// no events but still the count.
func (db *DB) FindEvents(ctx context.Context, filter userevents.EventFilter) ([]*userevents.Event, int, error) {
	events := []*userevents.Event{}
	var total int
	err := db.inReadTx(ctx, func(tx *sql.Tx) error {
		q, ok, err := newEventQuery(ctx, tx, filter)
		if err != nil || !ok {
			return err
		}
		if total, err = q.count(ctx, tx); err != nil {
			return err
		}
		if filter.Limit <= 0 || max(filter.Offset, 0) >= total {
			return nil
		}
		events, err = q.page(ctx, tx)
		return err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("find events: %w", err)
	}
	return events, total, nil
}

// newEventQuery resolves the filter. It returns false when no event can
// match, because the range is empty or the project has no events.
func newEventQuery(ctx context.Context, tx *sql.Tx, f userevents.EventFilter) (*eventQuery, bool, error) {
	q := &eventQuery{filter: f, start: minEventMicros, end: maxEventMicros}
	if !f.Start.IsZero() {
		q.start = max(f.Start.UnixMicro(), minEventMicros)
	}
	if !f.End.IsZero() {
		q.end = min(f.End.UnixMicro(), maxEventMicros)
	}
	if q.start > q.end {
		return nil, false, nil
	}

	err := tx.QueryRowContext(ctx, `SELECT project_no FROM event_projects
		WHERE project_id = ?`, f.ProjectID).Scan(&q.projectNo)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	} else if err != nil {
		return nil, false, fmt.Errorf("query project number: %w", err)
	}

	for _, t := range f.EventTypes {
		if !slices.Contains(q.types, t) {
			q.types = append(q.types, t)
		}
	}
	q.index = q.chooseIndex()
	return q, true, nil
}

// chooseIndex returns the index to read events from: that of the filter
// likely to match the fewest events. SQLite's planner, lacking statistics,
// otherwise tends to scan events_time in order to skip sorting, which reads
// every event of the range when a username matches only a few.
func (q *eventQuery) chooseIndex() string {
	f := q.filter
	switch {
	case f.Username != nil:
		return "events_username"
	case f.ResourceID != nil:
		return "events_resource_id"
	case f.ResourceName != nil:
		return "events_resource_name"
	case len(q.types) > 0:
		return "events_event_type"
	case f.Domain != nil:
		return "events_domain"
	default:
		return "events_time"
	}
}

// where builds the WHERE conditions and arguments for the events in
// [lo, hi] that match the filter, using types in place of its event types.
func (q *eventQuery) where(lo, hi int64, types []string) (string, []any) {
	conds := []string{"project_no = ?", "event_time >= ?", "event_time <= ?"}
	args := []any{q.projectNo, lo, hi}
	if len(types) > 0 {
		conds = append(conds, "event_type IN ("+bindParams(len(types))+")")
		for _, t := range types {
			args = append(args, t)
		}
	}
	for _, c := range []struct {
		column string
		value  *string
	}{
		{"domain", q.filter.Domain},
		{"username", q.filter.Username},
		{"resource_id", q.filter.ResourceID},
		{"resource_name", q.filter.ResourceName},
	} {
		if c.value != nil {
			conds = append(conds, c.column+" = ?")
			args = append(args, *c.value)
		}
	}
	return strings.Join(conds, " AND "), args
}

// count returns the number of matching events. Unless the filter names a
// username or resource, it adds up the hourly counts of the hours that lie
// wholly inside the range. It then counts single events only in the partial
// hours at either end.
func (q *eventQuery) count(ctx context.Context, tx *sql.Tx) (int, error) {
	f := q.filter
	firstHour := ceilDiv(q.start, hourMicros)
	endHour := floorDiv(q.end+1, hourMicros) // exclusive
	bucketable := f.Username == nil && f.ResourceID == nil && f.ResourceName == nil
	if !bucketable || firstHour >= endHour {
		where, args := q.where(q.start, q.end, q.types)
		return queryCount(ctx, tx, `SELECT count(*) FROM events INDEXED BY `+q.index+
			` WHERE `+where, args)
	}

	headWhere, headArgs := q.where(q.start, firstHour*hourMicros-1, q.types)
	tailWhere, tailArgs := q.where(endHour*hourMicros, q.end, q.types)
	bucketWhere, bucketArgs := q.bucketWhere(firstHour, endHour-1)
	query := `SELECT
		(SELECT count(*) FROM events INDEXED BY ` + q.index + ` WHERE ` + headWhere + `)
		+ (SELECT count(*) FROM events INDEXED BY ` + q.index + ` WHERE ` + tailWhere + `)
		+ (SELECT coalesce(sum(n), 0) FROM event_counts WHERE ` + bucketWhere + `)`
	args := slices.Concat(headArgs, tailArgs, bucketArgs)
	return queryCount(ctx, tx, query, args)
}

// bucketWhere builds the WHERE conditions and arguments for the
// event_counts rows of the hours in [firstHour, lastHour] that match the
// filter's event types and domain.
func (q *eventQuery) bucketWhere(firstHour, lastHour int64) (string, []any) {
	conds := []string{"project_no = ?", "hour >= ?", "hour <= ?"}
	args := []any{q.projectNo, firstHour, lastHour}
	if len(q.types) > 0 {
		conds = append(conds, "event_type IN ("+bindParams(len(q.types))+")")
		for _, t := range q.types {
			args = append(args, t)
		}
	}
	if q.filter.Domain != nil {
		conds = append(conds, "domain = ?")
		args = append(args, *q.filter.Domain)
	}
	return strings.Join(conds, " AND "), args
}

func queryCount(ctx context.Context, tx *sql.Tx, query string, args []any) (int, error) {
	var n int
	if err := tx.QueryRowContext(ctx, query, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count events: %w", err)
	}
	return n, nil
}

// page returns the events of the page that Offset and Limit select. It
// first finds their seq values through the chosen index alone, then reads
// only those rows.
func (q *eventQuery) page(ctx context.Context, tx *sql.Tx) ([]*userevents.Event, error) {
	seqs, err := q.pageSeqs(ctx, tx)
	if err != nil || len(seqs) == 0 {
		return []*userevents.Event{}, err
	}

	rows, err := tx.QueryContext(ctx, `SELECT `+eventColumns("")+` FROM events
		WHERE seq IN (SELECT value FROM json_each(?))`, idList(seqs))
	if err != nil {
		return nil, fmt.Errorf("query events: %w", err)
	}
	defer rows.Close()

	bySeq := make(map[int64]*userevents.Event, len(seqs))
	for rows.Next() {
		ev, err := scanEvent(rows)
		if err != nil {
			return nil, err
		}
		ev.ProjectID = q.filter.ProjectID
		bySeq[ev.Seq] = ev
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("query events: %w", err)
	}

	events := make([]*userevents.Event, 0, len(seqs))
	for _, seq := range seqs {
		if ev, ok := bySeq[seq]; ok {
			events = append(events, ev)
		}
	}
	return events, nil
}

// pageSeqs returns the seq values of the page's events in page order. With
// several event types and no more selective filter, it merges one ordered
// read of events_event_type per type, because a single read with IN would
// have to sort every matching event.
func (q *eventQuery) pageSeqs(ctx context.Context, tx *sql.Tx) ([]int64, error) {
	const order = ` ORDER BY event_time DESC, seq DESC`
	offset := max(q.filter.Offset, 0)
	var query string
	var args []any
	if q.index == "events_event_type" && len(q.types) > 1 {
		arms := make([]string, len(q.types))
		for i, t := range q.types {
			where, armArgs := q.where(q.start, q.end, []string{t})
			arms[i] = `SELECT * FROM (SELECT seq, event_time FROM events INDEXED BY events_event_type
				WHERE ` + where + order + ` LIMIT ?)`
			args = append(append(args, armArgs...), offset+q.filter.Limit)
		}
		query = `SELECT seq FROM (` + strings.Join(arms, " UNION ALL ") + `)` + order + ` LIMIT ? OFFSET ?`
	} else {
		where, whereArgs := q.where(q.start, q.end, q.types)
		query = `SELECT seq FROM events INDEXED BY ` + q.index + ` WHERE ` + where + order + ` LIMIT ? OFFSET ?`
		args = whereArgs
	}
	args = append(args, q.filter.Limit, offset)

	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("query event page: %w", err)
	}
	defer rows.Close()
	var seqs []int64
	for rows.Next() {
		var seq int64
		if err := rows.Scan(&seq); err != nil {
			return nil, fmt.Errorf("query event page: %w", err)
		}
		seqs = append(seqs, seq)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("query event page: %w", err)
	}
	return seqs, nil
}

// scanEvent reads one row selected with eventColumns, preceded by the
// columns that the extra destinations receive. It leaves ProjectID empty,
// because events store only the project's number.
func scanEvent(row scanner, extra ...any) (*userevents.Event, error) {
	var (
		ev                    userevents.Event
		eventTime, receivedAt int64
		success               sql.NullInt64
	)
	dest := append(extra, &ev.Seq, &ev.EventID, &ev.Username, &ev.WorkspaceID,
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

// bindParams returns n comma-separated bind parameters.
func bindParams(n int) string {
	return "?" + strings.Repeat(", ?", n-1)
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
