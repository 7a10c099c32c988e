package postgres

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/userevents/userevents"
)

// eventQuery is an EventFilter resolved for a query.
type eventQuery struct {
	filter    userevents.EventFilter
	projectNo int32
	start     *time.Time // inclusive; nil leaves the range open
	end       *time.Time // inclusive; nil leaves the range open
	types     []string   // filter.EventTypes without repeats
}

// queryArgs collects the arguments of a statement and numbers their
// placeholders.
type queryArgs []any

// add appends v and returns its placeholder, such as $3.
func (a *queryArgs) add(v any) string {
	*a = append(*a, v)
	return "$" + strconv.Itoa(len(*a))
}

// FindEvents returns one page of the events that match the filter, newest
// first by (EventTime, Seq), and the total number that match, both read
// from one snapshot. Start and End are inclusive to the microsecond, and a
// zero Start or End leaves that end open. A negative Offset counts as zero.
// A Limit of zero or less returns no events but still the count.
func (db *DB) FindEvents(ctx context.Context, filter userevents.EventFilter) ([]*userevents.Event, int, error) {
	q := newEventQuery(filter)
	events := []*userevents.Event{}
	if q.start != nil && q.end != nil && q.start.After(*q.end) {
		return events, 0, nil
	}
	var total int
	err := db.inReadTx(ctx, func(tx pgx.Tx) error {
		var ok bool
		var err error
		if q.projectNo, ok, err = db.findProjectNumber(ctx, tx, filter.ProjectID); err != nil || !ok {
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

func newEventQuery(f userevents.EventFilter) *eventQuery {
	q := &eventQuery{filter: f}
	if !f.Start.IsZero() {
		start := f.Start.UTC().Truncate(time.Microsecond)
		q.start = &start
	}
	if !f.End.IsZero() {
		end := f.End.UTC().Truncate(time.Microsecond)
		q.end = &end
	}
	for _, t := range f.EventTypes {
		if !slices.Contains(q.types, t) {
			q.types = append(q.types, t)
		}
	}
	return q
}

// where builds the conditions for the events of the project in [lo, hi)
// or [lo, hi] that match the filter, using types in place of its event
// types. A nil bound leaves that end open.
func (q *eventQuery) where(args *queryArgs, lo, hi *time.Time, hiInclusive bool, types []string) string {
	conds := []string{"project_no = " + args.add(q.projectNo)}
	if lo != nil {
		conds = append(conds, "event_time >= "+args.add(*lo))
	}
	if hi != nil {
		op := " < "
		if hiInclusive {
			op = " <= "
		}
		conds = append(conds, "event_time"+op+args.add(*hi))
	}
	switch len(types) {
	case 0:
	case 1:
		conds = append(conds, "event_type = "+args.add(types[0]))
	default:
		conds = append(conds, "event_type = ANY("+args.add(types)+")")
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
			conds = append(conds, c.column+" = "+args.add(*c.value))
		}
	}
	return strings.Join(conds, " AND ")
}

// count returns the number of matching events. Unless the filter names a
// username or resource, it adds up the hourly counts of the hours that lie
// wholly inside the range, and counts single events only in the partial
// hours at either end.
func (q *eventQuery) count(ctx context.Context, tx pgx.Tx) (int, error) {
	f := q.filter
	var firstHour, endHour *time.Time // endHour is exclusive
	if q.start != nil {
		h := q.start.Truncate(time.Hour)
		if h.Before(*q.start) {
			h = h.Add(time.Hour)
		}
		firstHour = &h
	}
	if q.end != nil {
		h := q.end.Add(time.Microsecond).Truncate(time.Hour)
		endHour = &h
	}
	bucketable := f.Username == nil && f.ResourceID == nil && f.ResourceName == nil
	noWholeHour := firstHour != nil && endHour != nil && !firstHour.Before(*endHour)

	var args queryArgs
	var query string
	if !bucketable || noWholeHour {
		query = `SELECT count(*) FROM events WHERE ` + q.where(&args, q.start, q.end, true, q.types)
	} else {
		parts := []string{q.bucketSum(&args, firstHour, endHour)}
		if q.start != nil && q.start.Before(*firstHour) {
			parts = append(parts, `(SELECT count(*) FROM events WHERE `+
				q.where(&args, q.start, firstHour, false, q.types)+`)`)
		}
		if q.end != nil && !q.end.Before(*endHour) {
			parts = append(parts, `(SELECT count(*) FROM events WHERE `+
				q.where(&args, endHour, q.end, true, q.types)+`)`)
		}
		query = `SELECT ` + strings.Join(parts, " + ")
	}
	var n int
	if err := tx.QueryRow(ctx, query, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count events: %w", err)
	}
	return n, nil
}

// bucketSum returns a subquery that adds up the event_counts rows of the
// hours in [firstHour, endHour) that match the filter's event types and
// domain. A nil bound leaves that end open.
func (q *eventQuery) bucketSum(args *queryArgs, firstHour, endHour *time.Time) string {
	conds := []string{"project_no = " + args.add(q.projectNo)}
	if firstHour != nil {
		conds = append(conds, "hour >= "+args.add(*firstHour))
	}
	if endHour != nil {
		conds = append(conds, "hour < "+args.add(*endHour))
	}
	if len(q.types) > 0 {
		conds = append(conds, "event_type = ANY("+args.add(q.types)+")")
	}
	if q.filter.Domain != nil {
		conds = append(conds, "domain = "+args.add(*q.filter.Domain))
	}
	return `(SELECT coalesce(sum(n), 0) FROM event_counts WHERE ` + strings.Join(conds, " AND ") + `)`
}

// page returns the events of the page that Offset and Limit select.
//
// It first selects the (event_time, seq) keys of the page, which an
// index-only scan of the filter's index can return without reading the
// table, and then reads only the rows of those keys. A large offset thus
// costs index entries, not table rows. With several event types and no
// more selective filter, it merges one ordered scan per type, because one
// scan with event_type = ANY(...) returns the events out of order and
// would have to sort all of them.
func (q *eventQuery) page(ctx context.Context, tx pgx.Tx) ([]*userevents.Event, error) {
	const order = ` ORDER BY event_time DESC, seq DESC`
	f := q.filter
	offset := max(f.Offset, 0)
	var args queryArgs
	project := args.add(q.projectNo)

	var keys string
	if len(q.types) > 1 && f.Username == nil && f.ResourceID == nil && f.ResourceName == nil {
		arms := make([]string, len(q.types))
		for i, t := range q.types {
			arms[i] = `(SELECT event_time, seq FROM events WHERE ` +
				q.where(&args, q.start, q.end, true, []string{t}) + order +
				` LIMIT ` + args.add(offset+f.Limit) + `)`
		}
		keys = `SELECT event_time, seq FROM (` + strings.Join(arms, " UNION ALL ") + `) arms`
	} else {
		keys = `SELECT event_time, seq FROM events WHERE ` +
			q.where(&args, q.start, q.end, true, q.types)
	}
	keys += order + ` LIMIT ` + args.add(f.Limit) + ` OFFSET ` + args.add(offset)

	query := `SELECT ` + eventColumns("e.") + ` FROM (` + keys + `) k
		JOIN events e ON e.project_no = ` + project + ` AND e.event_time = k.event_time
			AND e.seq = k.seq
		ORDER BY k.event_time DESC, k.seq DESC`
	rows, err := tx.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("query events: %w", err)
	}
	events, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*userevents.Event, error) {
		ev, err := scanEvent(row)
		if err != nil {
			return nil, err
		}
		ev.ProjectID = f.ProjectID
		return ev, nil
	})
	if err != nil {
		return nil, fmt.Errorf("query events: %w", err)
	}
	return events, nil
}
