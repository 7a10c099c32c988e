package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/userevents/userevents"
)

// hourMicros is the width of one event_counts bucket in microseconds.
const hourMicros = int64(time.Hour / time.Microsecond)

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

const insertEventSQL = `INSERT INTO events (project_no, event_id, username, workspace_id,
	event_trace_id, event_type, event_time, resource_type, resource_id, resource_name,
	client_type, client_ip, client_mac, client_version, source_ip, is_success, error_code,
	error_msg, action_type, domain, api_url, received_at)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (project_no, event_id) DO NOTHING`

const queueDeliverySQL = `INSERT INTO deliveries
	(project_id, group_id, stream_id, event_seq, queued_at, due_at)
	VALUES (?, ?, ?, ?, ?, ?)`

const addEventCountSQL = `INSERT INTO event_counts (project_no, hour, event_type, domain, n)
	VALUES (?, ?, ?, ?, ?)
	ON CONFLICT (project_no, hour, event_type, domain) DO UPDATE SET n = n + excluded.n`

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
// stored, or appears earlier in the batch, is skipped and keeps Seq zero.
// The others get their Seq once the transaction has committed. When the
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
		projectNo, err := numberProject(ctx, tx, projectID)
		if err != nil {
			return err
		}
		if stored, err = insertEvents(ctx, tx, projectNo, events, seqs); err != nil {
			return err
		}
		if err := addEventCounts(ctx, tx, projectNo, events, seqs); err != nil {
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

// numberProject returns the project's number in event_projects, assigning
// the next one when the project has none yet.
func numberProject(ctx context.Context, tx *sql.Tx, projectID string) (int64, error) {
	_, err := tx.ExecContext(ctx, `INSERT INTO event_projects (project_id) VALUES (?)
		ON CONFLICT (project_id) DO NOTHING`, projectID)
	if err != nil {
		return 0, fmt.Errorf("number project: %w", err)
	}
	var projectNo int64
	err = tx.QueryRowContext(ctx, `SELECT project_no FROM event_projects
		WHERE project_id = ?`, projectID).Scan(&projectNo)
	if err != nil {
		return 0, fmt.Errorf("number project: %w", err)
	}
	return projectNo, nil
}

// insertEvents inserts the events, skipping stored ids, and records the seq
// of each newly stored event in seqs. It returns the number stored.
func insertEvents(ctx context.Context, tx *sql.Tx, projectNo int64, events []*userevents.Event, seqs []int64) (int, error) {
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
			projectNo, ev.EventID, ev.Username, ev.WorkspaceID, ev.EventTraceID,
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
func addEventCounts(ctx context.Context, tx *sql.Tx, projectNo int64, events []*userevents.Event, seqs []int64) error {
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
		if _, err := stmt.ExecContext(ctx, projectNo, k.hour, k.eventType, k.domain, n); err != nil {
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
