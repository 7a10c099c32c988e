package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/userevents/userevents"
)

// AppendLogs stores the lines in their streams in one transaction and sets
// Seq on each once it has committed, increasing in the order of records.
// It returns ENOTFOUND, and stores nothing, when a line names a stream that
// does not exist in its group of its project.
func (db *DB) AppendLogs(ctx context.Context, records []*userevents.LogRecord) error {
	if len(records) == 0 {
		return nil
	}
	var seqs []int64
	err := db.inTx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		var err error
		seqs, err = insertLogLines(ctx, tx, records)
		return err
	})
	if err != nil {
		return fmt.Errorf("append logs: %w", err)
	}
	if len(seqs) != len(records) {
		return fmt.Errorf("append logs: stored %d lines of %d", len(seqs), len(records))
	}
	slices.Sort(seqs)
	for i, r := range records {
		r.Seq = seqs[i]
	}
	return nil
}

// insertLogLines stores records in tx after checking their streams and
// returns their seqs in insertion order.
func insertLogLines(ctx context.Context, tx pgx.Tx, records []*userevents.LogRecord) ([]int64, error) {
	if len(records) == 0 {
		return nil, nil
	}
	streams := make([]string, len(records))
	times := make([]int64, len(records))
	contents := make([]string, len(records))
	labels := make([]map[string]string, len(records))
	for i, r := range records {
		streams[i], times[i], contents[i], labels[i] = r.StreamID, r.TimeNs, r.Content, stringMap(r.Labels)
	}
	if err := checkStreams(ctx, tx, records); err != nil {
		return nil, err
	}
	// The rows are inserted in ORDER BY order, and the identity column
	// numbers them as they are inserted, so seq increases with ord.
	rows, err := tx.Query(ctx, `INSERT INTO log_lines (stream_id, time_ns, content, labels)
		SELECT stream_id, time_ns, content, labels
		FROM unnest($1::text[], $2::bigint[], $3::text[], $4::jsonb[]) WITH ORDINALITY
			AS u(stream_id, time_ns, content, labels, ord)
		ORDER BY ord
		RETURNING seq`, streams, times, contents, labels)
	if err != nil {
		return nil, fmt.Errorf("insert log lines: %w", err)
	}
	seqs, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("insert log lines: %w", err)
	}
	return seqs, nil
}

// checkStreams returns ENOTFOUND unless every record's stream exists in
// the record's group and project. It takes a key share lock on each
// stream, so that no stream is deleted before the transaction ends.
func checkStreams(ctx context.Context, tx pgx.Tx, records []*userevents.LogRecord) error {
	type streamKey struct{ project, group, stream string }
	checked := make(map[streamKey]bool)
	for _, r := range records {
		k := streamKey{r.ProjectID, r.GroupID, r.StreamID}
		if checked[k] {
			continue
		}
		if err := checkStream(ctx, tx, r.ProjectID, r.GroupID, r.StreamID, " FOR KEY SHARE"); err != nil {
			return err
		}
		checked[k] = true
	}
	return nil
}

// checkStream returns ENOTFOUND unless the stream exists in the group and
// project. lockClause, such as " FOR KEY SHARE", ends the query.
func checkStream(ctx context.Context, tx pgx.Tx, projectID, groupID, streamID, lockClause string) error {
	var found int
	err := tx.QueryRow(ctx, `SELECT 1 FROM log_streams
		WHERE project_id = $1 AND group_id = $2 AND id = $3`+lockClause,
		projectID, groupID, streamID).Scan(&found)
	if errors.Is(err, pgx.ErrNoRows) {
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
	err := db.inReadTx(ctx, func(tx pgx.Tx) error {
		if err := checkStream(ctx, tx, q.ProjectID, q.GroupID, q.StreamID, ""); err != nil {
			return err
		}
		where, args := logWhere(q)
		err := tx.QueryRow(ctx, `SELECT count(*) FROM log_lines WHERE `+where, args...).Scan(&total)
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
	conds := []string{"stream_id = $1", "time_ns >= $2"}
	args := []any{q.StreamID, q.StartMs * 1e6}
	if q.EndMs != 0 {
		args = append(args, q.EndMs*1e6+999_999)
		conds = append(conds, "time_ns <= $"+strconv.Itoa(len(args)))
	}
	for _, kw := range q.Keywords {
		args = append(args, kw)
		conds = append(conds, "strpos(content, $"+strconv.Itoa(len(args))+") > 0")
	}
	if len(q.Labels) > 0 {
		// Containment of a flat object of strings is equality per key.
		args = append(args, q.Labels)
		conds = append(conds, "labels @> $"+strconv.Itoa(len(args))+"::jsonb")
	}
	return strings.Join(conds, " AND "), args
}

// findLogPage returns up to q.Limit matching lines past the cursor.
func findLogPage(ctx context.Context, tx pgx.Tx, q userevents.LogQuery, where string, args []any) ([]*userevents.LogRecord, error) {
	order, past := "ASC", ">"
	if q.Desc {
		order, past = "DESC", "<"
	}
	if q.AfterSeq != 0 {
		var timeNs int64
		err := tx.QueryRow(ctx, `SELECT time_ns FROM log_lines
			WHERE stream_id = $1 AND seq = $2`, q.StreamID, q.AfterSeq).Scan(&timeNs)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, userevents.Errorf(userevents.EINVALID,
				"Paging cursor %d names no line of the log stream; query again without it.",
				q.AfterSeq)
		} else if err != nil {
			return nil, fmt.Errorf("query paging cursor: %w", err)
		}
		args = append(args, timeNs, q.AfterSeq)
		where += fmt.Sprintf(" AND (time_ns, seq) %s ($%d, $%d)", past, len(args)-1, len(args))
	}
	args = append(args, q.Limit)
	query := `SELECT seq, time_ns, content, labels FROM log_lines WHERE ` + where +
		` ORDER BY time_ns ` + order + `, seq ` + order + ` LIMIT $` + strconv.Itoa(len(args))

	rows, err := tx.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("query log lines: %w", err)
	}
	records, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*userevents.LogRecord, error) {
		r := &userevents.LogRecord{ProjectID: q.ProjectID, GroupID: q.GroupID, StreamID: q.StreamID}
		if err := row.Scan(&r.Seq, &r.TimeNs, &r.Content, &r.Labels); err != nil {
			return nil, err
		}
		r.Labels = nilIfEmpty(r.Labels)
		return r, nil
	})
	if err != nil {
		return nil, fmt.Errorf("query log lines: %w", err)
	}
	return records, nil
}
