package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/userevents/userevents"
)

const logGroupColumns = `id, project_id, name, alias, ttl_days, tags, created_at`

const logStreamColumns = `s.id, s.project_id, s.group_id, g.name, s.name, s.alias,
	s.ttl_days, s.tags, s.created_at`

// CreateLogGroup stores a new group. It sets an empty ID to a random UUID
// and a zero CreatedAt to the store's clock. It returns ECONFLICT when the
// project already has a group of that name or the ID is taken, and EQUOTA
// when the project already has MaxLogGroups groups.
func (db *DB) CreateLogGroup(ctx context.Context, g *userevents.LogGroup) error {
	if g.ID == "" {
		g.ID = uuid.NewString()
	}
	if g.CreatedAt.IsZero() {
		g.CreatedAt = db.now()
	}
	tags, err := encodeStringMap(g.Tags)
	if err != nil {
		return fmt.Errorf("create log group: %w", err)
	}

	err = db.inWriteTx(ctx, func(tx *sql.Tx) error {
		var nameTaken bool
		var count int
		err := tx.QueryRowContext(ctx, `SELECT
			EXISTS (SELECT 1 FROM log_groups WHERE project_id = ? AND name = ?),
			(SELECT count(*) FROM log_groups WHERE project_id = ?)`,
			g.ProjectID, g.Name, g.ProjectID).Scan(&nameTaken, &count)
		if err != nil {
			return fmt.Errorf("query log groups: %w", err)
		}
		if nameTaken {
			return userevents.Errorf(userevents.ECONFLICT,
				"Log group name %q already exists in the project; choose another name.", g.Name)
		}
		if count >= userevents.MaxLogGroups {
			return userevents.Errorf(userevents.EQUOTA,
				"The project already has %d log groups, the maximum; delete one first.", count)
		}

		_, err = tx.ExecContext(ctx, `INSERT INTO log_groups (`+logGroupColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?)`,
			g.ID, g.ProjectID, g.Name, g.Alias, g.TTLDays, tags, micros(g.CreatedAt))
		if isUniqueViolation(err) {
			return userevents.Errorf(userevents.ECONFLICT,
				"Log group ID %q already exists; use another ID.", g.ID)
		} else if err != nil {
			return fmt.Errorf("insert log group: %w", err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("create log group: %w", err)
	}
	return nil
}

// FindLogGroups returns the project's groups, oldest first, and an empty
// slice when it has none.
func (db *DB) FindLogGroups(ctx context.Context, projectID string) ([]*userevents.LogGroup, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+logGroupColumns+` FROM log_groups
		WHERE project_id = ? ORDER BY created_at, id`, projectID)
	if err != nil {
		return nil, fmt.Errorf("find log groups: %w", err)
	}
	defer rows.Close()

	groups := []*userevents.LogGroup{}
	for rows.Next() {
		g, err := scanLogGroup(rows)
		if err != nil {
			return nil, fmt.Errorf("find log groups: %w", err)
		}
		groups = append(groups, g)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find log groups: %w", err)
	}
	return groups, nil
}

// FindLogGroupByID returns the group, or ENOTFOUND when the project has no
// group with that ID.
func (db *DB) FindLogGroupByID(ctx context.Context, projectID, groupID string) (*userevents.LogGroup, error) {
	row := db.queryRow(ctx, `SELECT `+logGroupColumns+` FROM log_groups
		WHERE project_id = ? AND id = ?`, projectID, groupID)
	g, err := scanLogGroup(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, logGroupNotFound(groupID)
	} else if err != nil {
		return nil, fmt.Errorf("find log group: %w", err)
	}
	return g, nil
}

// UpdateLogGroup sets the group's TTL. It returns ENOTFOUND when the
// project has no group with that ID.
func (db *DB) UpdateLogGroup(ctx context.Context, projectID, groupID string, ttlDays int) error {
	res, err := db.write.ExecContext(ctx, `UPDATE log_groups SET ttl_days = ?
		WHERE project_id = ? AND id = ?`, ttlDays, projectID, groupID)
	if err := checkAffected(res, err, logGroupNotFound(groupID)); err != nil {
		return fmt.Errorf("update log group: %w", err)
	}
	return nil
}

// DeleteLogGroup deletes the group, its streams and their lines. It
// returns ENOTFOUND when the project has no group with that ID.
func (db *DB) DeleteLogGroup(ctx context.Context, projectID, groupID string) error {
	res, err := db.write.ExecContext(ctx, `DELETE FROM log_groups
		WHERE project_id = ? AND id = ?`, projectID, groupID)
	if err := checkAffected(res, err, logGroupNotFound(groupID)); err != nil {
		return fmt.Errorf("delete log group: %w", err)
	}
	return nil
}

// CreateLogStream stores a new stream in its group and sets GroupName. It
// sets an empty ID to a random UUID and a zero CreatedAt to the store's
// clock. It returns ENOTFOUND when the project has no such group, ECONFLICT
// when the group already has a stream of that name or the ID is taken, and
// EQUOTA when the group already has MaxLogStreamsPerGroup streams.
func (db *DB) CreateLogStream(ctx context.Context, s *userevents.LogStream) error {
	if s.ID == "" {
		s.ID = uuid.NewString()
	}
	if s.CreatedAt.IsZero() {
		s.CreatedAt = db.now()
	}
	tags, err := encodeStringMap(s.Tags)
	if err != nil {
		return fmt.Errorf("create log stream: %w", err)
	}

	err = db.inWriteTx(ctx, func(tx *sql.Tx) error {
		var groupName string
		err := tx.QueryRowContext(ctx, `SELECT name FROM log_groups
			WHERE project_id = ? AND id = ?`, s.ProjectID, s.GroupID).Scan(&groupName)
		if errors.Is(err, sql.ErrNoRows) {
			return logGroupNotFound(s.GroupID)
		} else if err != nil {
			return fmt.Errorf("query log group: %w", err)
		}

		var nameTaken bool
		var count int
		err = tx.QueryRowContext(ctx, `SELECT
			EXISTS (SELECT 1 FROM log_streams WHERE group_id = ? AND name = ?),
			(SELECT count(*) FROM log_streams WHERE group_id = ?)`,
			s.GroupID, s.Name, s.GroupID).Scan(&nameTaken, &count)
		if err != nil {
			return fmt.Errorf("query log streams: %w", err)
		}
		if nameTaken {
			return userevents.Errorf(userevents.ECONFLICT,
				"Log stream name %q already exists in the log group; choose another name.", s.Name)
		}
		if count >= userevents.MaxLogStreamsPerGroup {
			return userevents.Errorf(userevents.EQUOTA,
				"The log group already has %d log streams, the maximum; delete one first.", count)
		}

		_, err = tx.ExecContext(ctx, `INSERT INTO log_streams
			(id, project_id, group_id, name, alias, ttl_days, tags, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			s.ID, s.ProjectID, s.GroupID, s.Name, s.Alias, s.TTLDays, tags, micros(s.CreatedAt))
		if isUniqueViolation(err) {
			return userevents.Errorf(userevents.ECONFLICT,
				"Log stream ID %q already exists; use another ID.", s.ID)
		} else if err != nil {
			return fmt.Errorf("insert log stream: %w", err)
		}
		s.GroupName = groupName
		return nil
	})
	if err != nil {
		return fmt.Errorf("create log stream: %w", err)
	}
	return nil
}

// FindLogStreams returns the project's streams that match the filter, with
// GroupName set, ordered by group then stream creation. It returns an empty
// slice when none match.
func (db *DB) FindLogStreams(ctx context.Context, filter userevents.LogStreamFilter) ([]*userevents.LogStream, error) {
	conds := []string{"s.project_id = ?"}
	args := []any{filter.ProjectID}
	for _, c := range []struct{ column, value string }{
		{"s.group_id", filter.GroupID},
		{"g.name", filter.GroupName},
		{"s.name", filter.StreamName},
	} {
		if c.value != "" {
			conds = append(conds, c.column+" = ?")
			args = append(args, c.value)
		}
	}
	query := `SELECT ` + logStreamColumns + `
		FROM log_streams s JOIN log_groups g ON g.id = s.group_id
		WHERE ` + strings.Join(conds, " AND ") + `
		ORDER BY g.created_at, g.id, s.created_at, s.id`

	rows, err := db.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("find log streams: %w", err)
	}
	defer rows.Close()

	streams := []*userevents.LogStream{}
	for rows.Next() {
		s, err := scanLogStream(rows)
		if err != nil {
			return nil, fmt.Errorf("find log streams: %w", err)
		}
		streams = append(streams, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find log streams: %w", err)
	}
	return streams, nil
}

// FindLogStreamByID returns the stream with GroupName set, or ENOTFOUND
// unless the stream exists in that group of the project.
func (db *DB) FindLogStreamByID(ctx context.Context, projectID, groupID, streamID string) (*userevents.LogStream, error) {
	row := db.queryRow(ctx, `SELECT `+logStreamColumns+`
		FROM log_streams s JOIN log_groups g ON g.id = s.group_id
		WHERE s.project_id = ? AND s.group_id = ? AND s.id = ?`, projectID, groupID, streamID)
	s, err := scanLogStream(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, logStreamNotFound(groupID, streamID)
	} else if err != nil {
		return nil, fmt.Errorf("find log stream: %w", err)
	}
	return s, nil
}

// UpdateLogStream sets the stream's TTL. It returns ENOTFOUND unless the
// stream exists in that group of the project.
func (db *DB) UpdateLogStream(ctx context.Context, projectID, groupID, streamID string, ttlDays int) error {
	res, err := db.write.ExecContext(ctx, `UPDATE log_streams SET ttl_days = ?
		WHERE project_id = ? AND group_id = ? AND id = ?`, ttlDays, projectID, groupID, streamID)
	if err := checkAffected(res, err, logStreamNotFound(groupID, streamID)); err != nil {
		return fmt.Errorf("update log stream: %w", err)
	}
	return nil
}

// DeleteLogStream deletes the stream and its lines. It returns ENOTFOUND
// unless the stream exists in that group of the project.
func (db *DB) DeleteLogStream(ctx context.Context, projectID, groupID, streamID string) error {
	res, err := db.write.ExecContext(ctx, `DELETE FROM log_streams
		WHERE project_id = ? AND group_id = ? AND id = ?`, projectID, groupID, streamID)
	if err := checkAffected(res, err, logStreamNotFound(groupID, streamID)); err != nil {
		return fmt.Errorf("delete log stream: %w", err)
	}
	return nil
}

// scanner is the part of *sql.Row and *sql.Rows that scanning needs.
type scanner interface {
	Scan(dest ...any) error
}

func scanLogGroup(row scanner) (*userevents.LogGroup, error) {
	var g userevents.LogGroup
	var tags string
	var createdAt int64
	err := row.Scan(&g.ID, &g.ProjectID, &g.Name, &g.Alias, &g.TTLDays, &tags, &createdAt)
	if err != nil {
		return nil, err
	}
	if g.Tags, err = decodeStringMap(tags); err != nil {
		return nil, fmt.Errorf("decode tags of log group %q: %w", g.ID, err)
	}
	g.CreatedAt = fromMicros(createdAt)
	return &g, nil
}

func scanLogStream(row scanner) (*userevents.LogStream, error) {
	var s userevents.LogStream
	var tags string
	var createdAt int64
	err := row.Scan(&s.ID, &s.ProjectID, &s.GroupID, &s.GroupName, &s.Name, &s.Alias,
		&s.TTLDays, &tags, &createdAt)
	if err != nil {
		return nil, err
	}
	if s.Tags, err = decodeStringMap(tags); err != nil {
		return nil, fmt.Errorf("decode tags of log stream %q: %w", s.ID, err)
	}
	s.CreatedAt = fromMicros(createdAt)
	return &s, nil
}

// checkAffected returns notFound when the statement succeeded but changed
// no row.
func checkAffected(res sql.Result, err error, notFound error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return notFound
	}
	return nil
}

func logGroupNotFound(groupID string) error {
	return userevents.Errorf(userevents.ENOTFOUND,
		"Log group %q does not exist in the project; check the log group ID.", groupID)
}

func logStreamNotFound(groupID, streamID string) error {
	return userevents.Errorf(userevents.ENOTFOUND,
		"Log stream %q does not exist in log group %q; check both IDs.", streamID, groupID)
}

// encodeStringMap returns m as a JSON object, with nil as "{}".
func encodeStringMap(m map[string]string) (string, error) {
	if len(m) == 0 {
		return "{}", nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return "", fmt.Errorf("encode map: %w", err)
	}
	return string(b), nil
}

// decodeStringMap parses a JSON object of strings, returning nil for an
// empty object.
func decodeStringMap(s string) (map[string]string, error) {
	var m map[string]string
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, err
	}
	if len(m) == 0 {
		return nil, nil
	}
	return m, nil
}
