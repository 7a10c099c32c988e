package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/userevents/userevents"
)

// AppendLogs stores the lines in their streams in one transaction and sets
// Seq on each once it has committed. It returns ENOTFOUND, and stores
// nothing, when a line names a stream that does not exist in its group of
// its project.
func (db *DB) AppendLogs(ctx context.Context, records []*userevents.LogRecord) error {
	if len(records) == 0 {
		return nil
	}
	seqs := make([]int64, len(records))
	err := db.inWriteTx(ctx, func(tx *sql.Tx) error {
		return insertLogLines(ctx, tx, records, seqs)
	})
	if err != nil {
		return fmt.Errorf("append logs: %w", err)
	}
	for i, r := range records {
		r.Seq = seqs[i]
	}
	return nil
}

// insertLogLines stores records in tx after checking their streams, and
// sets seqs[i] to the seq of records[i].
func insertLogLines(ctx context.Context, tx *sql.Tx, records []*userevents.LogRecord, seqs []int64) error {
	if err := checkStreams(ctx, tx, records); err != nil {
		return err
	}
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO log_lines
		(stream_id, time_ns, content, labels) VALUES (?, ?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("prepare insert log lines: %w", err)
	}
	defer stmt.Close()

	for i, r := range records {
		labels, err := encodeStringMap(r.Labels)
		if err != nil {
			return err
		}
		res, err := stmt.ExecContext(ctx, r.StreamID, r.TimeNs, r.Content, labels)
		if err != nil {
			return fmt.Errorf("insert log line: %w", err)
		}
		if seqs[i], err = res.LastInsertId(); err != nil {
			return fmt.Errorf("insert log line: %w", err)
		}
	}
	return nil
}

// checkStreams returns ENOTFOUND unless every record's stream exists in
// the record's group and project.
func checkStreams(ctx context.Context, tx *sql.Tx, records []*userevents.LogRecord) error {
	type streamKey struct{ project, group, stream string }
	checked := make(map[streamKey]bool)
	for _, r := range records {
		k := streamKey{r.ProjectID, r.GroupID, r.StreamID}
		if checked[k] {
			continue
		}
		if err := checkStream(ctx, tx, r.ProjectID, r.GroupID, r.StreamID); err != nil {
			return err
		}
		checked[k] = true
	}
	return nil
}

func checkStream(ctx context.Context, tx *sql.Tx, projectID, groupID, streamID string) error {
	var found int
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM log_streams
		WHERE project_id = ? AND group_id = ? AND id = ?`, projectID, groupID, streamID).Scan(&found)
	if errors.Is(err, sql.ErrNoRows) {
		return logStreamNotFound(groupID, streamID)
	} else if err != nil {
		return fmt.Errorf("query log stream: %w", err)
	}
	return nil
}

// FindLogs returns one page of the stream's lines that match the query and
// the total number that match. It returns ENOTFOUND unless the stream
// exists in that group of the project.
//
// A line matches when three conditions hold. Its time, truncated to the
// millisecond, lies in [StartMs, EndMs], and an EndMs of zero leaves the end
// open. Every keyword occurs in its content, case-sensitively. Each label
// equals the given value. Lines are ordered by (TimeNs, Seq), ascending, or
// descending with Desc. A non-zero AfterSeq returns only the lines that
// follow that line in the chosen order, and EINVALID when the stream has no
// line with that Seq. The total ignores AfterSeq and Limit. A Limit of zero
// or less returns no lines but still the total.
func (db *DB) FindLogs(ctx context.Context, q userevents.LogQuery) ([]*userevents.LogRecord, int, error) {
	records := []*userevents.LogRecord{}
	var total int
	err := db.inReadTx(ctx, func(tx *sql.Tx) error {
		if err := checkStream(ctx, tx, q.ProjectID, q.GroupID, q.StreamID); err != nil {
			return err
		}
		where, args := logWhere(q)
		err := tx.QueryRowContext(ctx, `SELECT count(*) FROM log_lines WHERE `+where, args...).
			Scan(&total)
		if err != nil {
			return fmt.Errorf("count log lines: %w", err)
		}
		if q.Limit <= 0 || total == 0 {
			return nil
		}
		records, err = findLogPage(ctx, tx, q, where, args)
		return err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("find logs: %w", err)
	}
	return records, total, nil
}

// logWhere returns the WHERE clause and arguments for every condition of
// the query except the paging cursor.
func logWhere(q userevents.LogQuery) (string, []any) {
	conds := []string{"stream_id = ?", "time_ns >= ?"}
	args := []any{q.StreamID, q.StartMs * 1e6}
	if q.EndMs != 0 {
		conds = append(conds, "time_ns <= ?")
		args = append(args, q.EndMs*1e6+999_999)
	}
	for _, kw := range q.Keywords {
		conds = append(conds, "instr(content, ?) > 0")
		args = append(args, kw)
	}
	for k, v := range q.Labels {
		conds = append(conds,
			"EXISTS (SELECT 1 FROM json_each(labels) WHERE key = ? AND value = ?)")
		args = append(args, k, v)
	}
	return strings.Join(conds, " AND "), args
}

// findLogPage returns up to q.Limit matching lines past the cursor.
func findLogPage(ctx context.Context, tx *sql.Tx, q userevents.LogQuery, where string, args []any) ([]*userevents.LogRecord, error) {
	order, past := "ASC", ">"
	if q.Desc {
		order, past = "DESC", "<"
	}
	if q.AfterSeq != 0 {
		var timeNs int64
		err := tx.QueryRowContext(ctx, `SELECT time_ns FROM log_lines
			WHERE stream_id = ? AND seq = ?`, q.StreamID, q.AfterSeq).Scan(&timeNs)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, userevents.Errorf(userevents.EINVALID,
				"Paging cursor %d names no line of the log stream; query again without it.",
				q.AfterSeq)
		} else if err != nil {
			return nil, fmt.Errorf("query paging cursor: %w", err)
		}
		where += " AND (time_ns, seq) " + past + " (?, ?)"
		args = append(args, timeNs, q.AfterSeq)
	}
	query := `SELECT seq, time_ns, content, labels FROM log_lines WHERE ` + where +
		` ORDER BY time_ns ` + order + `, seq ` + order + ` LIMIT ?`
	args = append(args, q.Limit)

	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("query log lines: %w", err)
	}
	defer rows.Close()

	records := []*userevents.LogRecord{}
	for rows.Next() {
		r := &userevents.LogRecord{ProjectID: q.ProjectID, GroupID: q.GroupID, StreamID: q.StreamID}
		var labels string
		if err := rows.Scan(&r.Seq, &r.TimeNs, &r.Content, &labels); err != nil {
			return nil, fmt.Errorf("scan log line: %w", err)
		}
		if r.Labels, err = decodeStringMap(labels); err != nil {
			return nil, fmt.Errorf("decode labels of log line %d: %w", r.Seq, err)
		}
		records = append(records, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("query log lines: %w", err)
	}
	return records, nil
}
