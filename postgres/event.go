package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/userevents/userevents"
)

// eventColumnNames lists the columns that scanEvent reads, in its order.
var eventColumnNames = []string{"seq", "event_id", "username",
	"workspace_id", "event_trace_id", "event_type", "event_time", "resource_type",
	"resource_id", "resource_name", "client_type", "client_ip", "client_mac",
	"client_version", "source_ip", "is_success", "error_code", "error_msg",
	"action_type", "domain", "api_url", "received_at"}

// eventColumns returns the select list that scanEvent reads, each column
// qualified with prefix, such as "e.".
func eventColumns(prefix string) string {
	return prefix + strings.Join(eventColumnNames, ", "+prefix)
}

// createEventsSQL stores one project's batch in one statement, and so in
// one transaction. $1 is the project's number and $2 its id, $3 to $23 are
// one array per column with an element per event, and $24 is the queue
// time or NULL for the server's clock. The statement's steps, each a data-modifying CTE:
//
//   - fresh inserts the ids into event_ids in sorted order, so that two
//     batches that share ids lock them in the same order, and returns
//     those that were not stored yet.
//   - stored inserts the events of the fresh ids in batch order, so that
//     seq increases along the batch.
//   - counted adds them to event_counts, again in key order.
//   - queued puts each one in the outbox when the project's delivery is
//     enabled, reading lts_configs in the statement's snapshot.
//
// The ids of a batch must be distinct; CreateEvents removes repeats first.
const createEventsSQL = `
WITH input AS (
	SELECT * FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
		$8::timestamptz[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[],
		$14::text[], $15::text[], $16::text[], $17::boolean[], $18::text[], $19::text[],
		$20::text[], $21::text[], $22::text[], $23::timestamptz[]) WITH ORDINALITY
	AS u(event_id, username, workspace_id, event_trace_id, event_type, event_time,
		resource_type, resource_id, resource_name, client_type, client_ip, client_mac,
		client_version, source_ip, is_success, error_code, error_msg, action_type, domain,
		api_url, received_at, ord)
), fresh AS (
	INSERT INTO event_ids (project_no, event_id)
	SELECT $1, event_id FROM input ORDER BY event_id
	ON CONFLICT DO NOTHING
	RETURNING event_id
), stored AS (
	INSERT INTO events (project_no, event_id, username, workspace_id, event_trace_id,
		event_type, event_time, resource_type, resource_id, resource_name, client_type,
		client_ip, client_mac, client_version, source_ip, is_success, error_code, error_msg,
		action_type, domain, api_url, received_at)
	SELECT $1, i.event_id, i.username, i.workspace_id, i.event_trace_id, i.event_type,
		i.event_time, i.resource_type, i.resource_id, i.resource_name, i.client_type,
		i.client_ip, i.client_mac, i.client_version, i.source_ip, i.is_success, i.error_code,
		i.error_msg, i.action_type, i.domain, i.api_url, i.received_at
	FROM input i JOIN fresh f ON f.event_id = i.event_id
	ORDER BY i.ord
	RETURNING *
), counted AS (
	INSERT INTO event_counts (project_no, hour, event_type, domain, n)
	SELECT $1, date_trunc('hour', event_time, 'UTC'), event_type, domain, count(*)
	FROM stored GROUP BY 2, 3, 4 ORDER BY 2, 3, 4
	ON CONFLICT (project_no, hour, event_type, domain) DO UPDATE SET n = event_counts.n + excluded.n
), queued AS (
	INSERT INTO deliveries (project_id, group_id, stream_id, event, queued_at, due_at)
	SELECT c.project_id, c.log_group_id, c.log_stream_id, to_json(s), clock.t, clock.t
	FROM stored s, lts_configs c, (SELECT coalesce($24::timestamptz, statement_timestamp()) AS t) clock
	WHERE c.project_id = $2 AND c.enabled
	ORDER BY s.seq
)
SELECT event_id, seq FROM stored`

// CreateEvents stores the events of one project in one transaction and
// returns the number newly stored. It overwrites each event's ProjectID
// with projectID, gives an event without EventID a random UUID and sets a
// zero ReceivedAt to the store's clock. An event whose EventID is already
// stored, or appears earlier in the batch, is skipped and keeps Seq zero.
// The others get their Seq once the transaction has committed. When the
// project's LTSConfig is enabled, each new event is queued for the log
// group and stream that the configuration names when the statement starts.
func (db *DB) CreateEvents(ctx context.Context, projectID string, events []*userevents.Event) (int, error) {
	if len(events) == 0 {
		return 0, nil
	}
	now := db.now()
	batch := make([]*userevents.Event, 0, len(events))
	seen := make(map[string]bool, len(events))
	for _, ev := range events {
		ev.ProjectID = projectID
		ev.Seq = 0
		if ev.EventID == "" {
			ev.EventID = uuid.NewString()
		}
		if ev.ReceivedAt.IsZero() {
			ev.ReceivedAt = now
		}
		if !seen[ev.EventID] {
			seen[ev.EventID] = true
			batch = append(batch, ev)
		}
	}
	if err := db.ensurePartitions(ctx, batch); err != nil {
		return 0, fmt.Errorf("create events: %w", err)
	}
	projectNo, err := db.numberProject(ctx, projectID)
	if err != nil {
		return 0, fmt.Errorf("create events: %w", err)
	}

	args := append([]any{projectNo, projectID}, eventArrays(batch)...)
	args = append(args, db.clock())
	seqs := make(map[string]int64, len(batch))
	err = db.inTx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		clear(seqs)
		rows, err := tx.Query(ctx, createEventsSQL, args...)
		if err != nil {
			return err
		}
		var id string
		var seq int64
		_, err = pgx.ForEachRow(rows, []any{&id, &seq}, func() error {
			seqs[id] = seq
			return nil
		})
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("create events: %w", err)
	}
	for _, ev := range batch {
		ev.Seq = seqs[ev.EventID]
	}
	return len(seqs), nil
}

// numberProject returns the project's number in event_projects, assigning
// the next one when the project has none yet. Numbers never change, so the
// process keeps those it has seen.
func (db *DB) numberProject(ctx context.Context, projectID string) (int32, error) {
	db.projectsMu.Lock()
	no, ok := db.projects[projectID]
	db.projectsMu.Unlock()
	if ok {
		return no, nil
	}
	// DO UPDATE, unlike DO NOTHING, returns the row that another
	// transaction inserted first.
	err := db.pool.QueryRow(ctx, `INSERT INTO event_projects (project_id) VALUES ($1)
		ON CONFLICT (project_id) DO UPDATE SET project_id = excluded.project_id
		RETURNING project_no`, projectID).Scan(&no)
	if err != nil {
		return 0, fmt.Errorf("number project: %w", err)
	}
	db.rememberProject(projectID, no)
	return no, nil
}

// findProjectNumber returns the project's number, and false when the
// project has no events.
func (db *DB) findProjectNumber(ctx context.Context, q pgx.Tx, projectID string) (int32, bool, error) {
	db.projectsMu.Lock()
	no, ok := db.projects[projectID]
	db.projectsMu.Unlock()
	if ok {
		return no, true, nil
	}
	err := q.QueryRow(ctx, `SELECT project_no FROM event_projects WHERE project_id = $1`,
		projectID).Scan(&no)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false, nil
	} else if err != nil {
		return 0, false, fmt.Errorf("query project number: %w", err)
	}
	db.rememberProject(projectID, no)
	return no, true, nil
}

func (db *DB) rememberProject(projectID string, no int32) {
	db.projectsMu.Lock()
	db.projects[projectID] = no
	db.projectsMu.Unlock()
}

// eventArrays returns the arguments $3 to $23 of createEventsSQL: one
// slice per column, with an element per event.
func eventArrays(events []*userevents.Event) []any {
	n := len(events)
	text := func(field func(*userevents.Event) string) []string {
		out := make([]string, n)
		for i, ev := range events {
			out[i] = field(ev)
		}
		return out
	}
	eventTimes := make([]time.Time, n)
	receivedAt := make([]time.Time, n)
	success := make([]*bool, n)
	for i, ev := range events {
		eventTimes[i] = ev.EventTime
		receivedAt[i] = ev.ReceivedAt
		success[i] = ev.IsSuccess
	}
	return []any{
		text(func(e *userevents.Event) string { return e.EventID }),
		text(func(e *userevents.Event) string { return e.Username }),
		text(func(e *userevents.Event) string { return e.WorkspaceID }),
		text(func(e *userevents.Event) string { return e.EventTraceID }),
		text(func(e *userevents.Event) string { return e.EventType }),
		eventTimes,
		text(func(e *userevents.Event) string { return e.ResourceType }),
		text(func(e *userevents.Event) string { return e.ResourceID }),
		text(func(e *userevents.Event) string { return e.ResourceName }),
		text(func(e *userevents.Event) string { return e.ClientType }),
		text(func(e *userevents.Event) string { return e.ClientIP }),
		text(func(e *userevents.Event) string { return e.ClientMAC }),
		text(func(e *userevents.Event) string { return e.ClientVersion }),
		text(func(e *userevents.Event) string { return e.SourceIP }),
		success,
		text(func(e *userevents.Event) string { return e.ErrorCode }),
		text(func(e *userevents.Event) string { return e.ErrorMsg }),
		text(func(e *userevents.Event) string { return e.ActionType }),
		text(func(e *userevents.Event) string { return e.Domain }),
		text(func(e *userevents.Event) string { return e.APIURL }),
		receivedAt,
	}
}

// scanEvent reads one row selected with eventColumns, preceded by the
// columns that the extra destinations receive. It leaves ProjectID empty.
func scanEvent(row pgx.Row, extra ...any) (*userevents.Event, error) {
	var ev userevents.Event
	dest := append(extra, &ev.Seq, &ev.EventID, &ev.Username, &ev.WorkspaceID,
		&ev.EventTraceID, &ev.EventType, &ev.EventTime, &ev.ResourceType, &ev.ResourceID,
		&ev.ResourceName, &ev.ClientType, &ev.ClientIP, &ev.ClientMAC, &ev.ClientVersion,
		&ev.SourceIP, &ev.IsSuccess, &ev.ErrorCode, &ev.ErrorMsg, &ev.ActionType, &ev.Domain,
		&ev.APIURL, &ev.ReceivedAt)
	if err := row.Scan(dest...); err != nil {
		return nil, fmt.Errorf("scan event: %w", err)
	}
	return &ev, nil
}
