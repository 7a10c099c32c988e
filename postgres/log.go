package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/userevents/userevents"
)

const logGroupColumns = `id, project_id, name, alias, ttl_days, tags, created_at`

const logStreamColumns = `s.id, s.project_id, s.group_id, g.name, s.name, s.alias,
	s.ttl_days, s.tags, s.created_at`

// CreateLogGroup stores a new group. It sets an empty ID to a random UUID
// and a zero CreatedAt to the store's clock. It returns ECONFLICT when the
// project already has a group of that name or the ID is taken, and EQUOTA
// when the project already has MaxLogGroups groups. Concurrent calls for
// one project, through any replica, take turns, so the quota holds.
func (db *DB) CreateLogGroup(ctx context.Context, g *userevents.LogGroup) error {
	if g.ID == "" {
		g.ID = uuid.NewString()
	}
	if g.CreatedAt.IsZero() {
		g.CreatedAt = db.now()
	}
	err := db.inTx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`,
			"userevents log groups "+g.ProjectID)
		if err != nil {
			return fmt.Errorf("lock log groups: %w", err)
		}
		var nameTaken bool
		var count int
		err = tx.QueryRow(ctx, `SELECT
			EXISTS (SELECT 1 FROM log_groups WHERE project_id = $1 AND name = $2),
			(SELECT count(*) FROM log_groups WHERE project_id = $1)`,
			g.ProjectID, g.Name).Scan(&nameTaken, &count)
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

		_, err = tx.Exec(ctx, `INSERT INTO log_groups (`+logGroupColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			g.ID, g.ProjectID, g.Name, g.Alias, g.TTLDays, stringMap(g.Tags), g.CreatedAt)
		if hasCode(err, codeUniqueViolation) {
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
	rows, err := db.pool.Query(ctx, `SELECT `+logGroupColumns+` FROM log_groups
		WHERE project_id = $1 ORDER BY created_at, id`, projectID)
	if err != nil {
		return nil, fmt.Errorf("find log groups: %w", err)
	}
	groups, err := pgx.CollectRows(rows, scanLogGroup)
	if err != nil {
		return nil, fmt.Errorf("find log groups: %w", err)
	}
	return groups, nil
}

// FindLogGroupByID returns the group, or ENOTFOUND when the project has no
// group with that ID.
func (db *DB) FindLogGroupByID(ctx context.Context, projectID, groupID string) (*userevents.LogGroup, error) {
	rows, _ := db.pool.Query(ctx, `SELECT `+logGroupColumns+` FROM log_groups
		WHERE project_id = $1 AND id = $2`, projectID, groupID)
	g, err := pgx.CollectExactlyOneRow(rows, scanLogGroup)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, logGroupNotFound(groupID)
	} else if err != nil {
		return nil, fmt.Errorf("find log group: %w", err)
	}
	return g, nil
}

// UpdateLogGroup sets the group's TTL. It returns ENOTFOUND when the
// project has no group with that ID.
func (db *DB) UpdateLogGroup(ctx context.Context, projectID, groupID string, ttlDays int) error {
	tag, err := db.pool.Exec(ctx, `UPDATE log_groups SET ttl_days = $1
		WHERE project_id = $2 AND id = $3`, ttlDays, projectID, groupID)
	if err := checkAffected(tag, err, logGroupNotFound(groupID)); err != nil {
		return fmt.Errorf("update log group: %w", err)
	}
	return nil
}

// DeleteLogGroup deletes the group, its streams and their lines. It
// returns ENOTFOUND when the project has no group with that ID.
func (db *DB) DeleteLogGroup(ctx context.Context, projectID, groupID string) error {
	tag, err := db.pool.Exec(ctx, `DELETE FROM log_groups
		WHERE project_id = $1 AND id = $2`, projectID, groupID)
	if err := checkAffected(tag, err, logGroupNotFound(groupID)); err != nil {
		return fmt.Errorf("delete log group: %w", err)
	}
	return nil
}

// CreateLogStream stores a new stream in its group and sets GroupName. It
// sets an empty ID to a random UUID and a zero CreatedAt to the store's
// clock. It returns ENOTFOUND when the project has no such group, ECONFLICT
// when the group already has a stream of that name or the ID is taken, and
// EQUOTA when the group already has MaxLogStreamsPerGroup streams. It locks
// the group row, so concurrent calls for one group take turns.
func (db *DB) CreateLogStream(ctx context.Context, s *userevents.LogStream) error {
	if s.ID == "" {
		s.ID = uuid.NewString()
	}
	if s.CreatedAt.IsZero() {
		s.CreatedAt = db.now()
	}
	err := db.inTx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		var groupName string
		err := tx.QueryRow(ctx, `SELECT name FROM log_groups
			WHERE project_id = $1 AND id = $2 FOR NO KEY UPDATE`, s.ProjectID, s.GroupID).
			Scan(&groupName)
		if errors.Is(err, pgx.ErrNoRows) {
			return logGroupNotFound(s.GroupID)
		} else if err != nil {
			return fmt.Errorf("query log group: %w", err)
		}

		var nameTaken bool
		var count int
		err = tx.QueryRow(ctx, `SELECT
			EXISTS (SELECT 1 FROM log_streams WHERE group_id = $1 AND name = $2),
			(SELECT count(*) FROM log_streams WHERE group_id = $1)`,
			s.GroupID, s.Name).Scan(&nameTaken, &count)
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

		_, err = tx.Exec(ctx, `INSERT INTO log_streams
			(id, project_id, group_id, name, alias, ttl_days, tags, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			s.ID, s.ProjectID, s.GroupID, s.Name, s.Alias, s.TTLDays, stringMap(s.Tags), s.CreatedAt)
		if hasCode(err, codeUniqueViolation) {
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
	conds := []string{"s.project_id = $1"}
	args := []any{filter.ProjectID}
	for _, c := range []struct{ column, value string }{
		{"s.group_id", filter.GroupID},
		{"g.name", filter.GroupName},
		{"s.name", filter.StreamName},
	} {
		if c.value != "" {
			args = append(args, c.value)
			conds = append(conds, c.column+" = $"+strconv.Itoa(len(args)))
		}
	}
	rows, err := db.pool.Query(ctx, `SELECT `+logStreamColumns+`
		FROM log_streams s JOIN log_groups g ON g.id = s.group_id
		WHERE `+strings.Join(conds, " AND ")+`
		ORDER BY g.created_at, g.id, s.created_at, s.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("find log streams: %w", err)
	}
	streams, err := pgx.CollectRows(rows, scanLogStream)
	if err != nil {
		return nil, fmt.Errorf("find log streams: %w", err)
	}
	return streams, nil
}

// FindLogStreamByID returns the stream with GroupName set, or ENOTFOUND
// unless the stream exists in that group of the project.
func (db *DB) FindLogStreamByID(ctx context.Context, projectID, groupID, streamID string) (*userevents.LogStream, error) {
	rows, _ := db.pool.Query(ctx, `SELECT `+logStreamColumns+`
		FROM log_streams s JOIN log_groups g ON g.id = s.group_id
		WHERE s.project_id = $1 AND s.group_id = $2 AND s.id = $3`, projectID, groupID, streamID)
	s, err := pgx.CollectExactlyOneRow(rows, scanLogStream)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, logStreamNotFound(groupID, streamID)
	} else if err != nil {
		return nil, fmt.Errorf("find log stream: %w", err)
	}
	return s, nil
}

// UpdateLogStream sets the stream's TTL. It returns ENOTFOUND unless the
// stream exists in that group of the project.
func (db *DB) UpdateLogStream(ctx context.Context, projectID, groupID, streamID string, ttlDays int) error {
	tag, err := db.pool.Exec(ctx, `UPDATE log_streams SET ttl_days = $1
		WHERE project_id = $2 AND group_id = $3 AND id = $4`, ttlDays, projectID, groupID, streamID)
	if err := checkAffected(tag, err, logStreamNotFound(groupID, streamID)); err != nil {
		return fmt.Errorf("update log stream: %w", err)
	}
	return nil
}

// DeleteLogStream deletes the stream and its lines. It returns ENOTFOUND
// unless the stream exists in that group of the project.
func (db *DB) DeleteLogStream(ctx context.Context, projectID, groupID, streamID string) error {
	tag, err := db.pool.Exec(ctx, `DELETE FROM log_streams
		WHERE project_id = $1 AND group_id = $2 AND id = $3`, projectID, groupID, streamID)
	if err := checkAffected(tag, err, logStreamNotFound(groupID, streamID)); err != nil {
		return fmt.Errorf("delete log stream: %w", err)
	}
	return nil
}

func scanLogGroup(row pgx.CollectableRow) (*userevents.LogGroup, error) {
	var g userevents.LogGroup
	err := row.Scan(&g.ID, &g.ProjectID, &g.Name, &g.Alias, &g.TTLDays, &g.Tags, &g.CreatedAt)
	if err != nil {
		return nil, err
	}
	g.Tags = nilIfEmpty(g.Tags)
	return &g, nil
}

func scanLogStream(row pgx.CollectableRow) (*userevents.LogStream, error) {
	var s userevents.LogStream
	err := row.Scan(&s.ID, &s.ProjectID, &s.GroupID, &s.GroupName, &s.Name, &s.Alias,
		&s.TTLDays, &s.Tags, &s.CreatedAt)
	if err != nil {
		return nil, err
	}
	s.Tags = nilIfEmpty(s.Tags)
	return &s, nil
}

// checkAffected returns notFound when the statement succeeded but changed
// no row.
func checkAffected(tag pgconn.CommandTag, err error, notFound error) error {
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
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

// stringMap returns m as a jsonb argument, with nil as an empty object.
func stringMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// nilIfEmpty returns nil for an empty map, the form the store returns for
// no tags or labels.
func nilIfEmpty(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return m
}
