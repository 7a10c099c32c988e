package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/userevents/userevents"
)

// querier is the part of *sql.DB and *sql.Tx that the lookups shared by
// several methods need.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// FindLTSConfig returns the project's forwarding setting, or a disabled
// LTSConfig with only ProjectID set when none was ever stored.
func (db *DB) FindLTSConfig(ctx context.Context, projectID string) (*userevents.LTSConfig, error) {
	cfg, err := findLTSConfig(ctx, cachedReads{db}, projectID)
	if err != nil {
		return nil, fmt.Errorf("find lts config: %w", err)
	}
	return cfg, nil
}

func findLTSConfig(ctx context.Context, q querier, projectID string) (*userevents.LTSConfig, error) {
	cfg := &userevents.LTSConfig{ProjectID: projectID}
	var updatedAt int64
	err := q.QueryRowContext(ctx, `SELECT enabled, log_group_id, log_stream_id, updated_at
		FROM lts_configs WHERE project_id = ?`, projectID).
		Scan(&cfg.Enabled, &cfg.LogGroupID, &cfg.LogStreamID, &updatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return cfg, nil
	} else if err != nil {
		return nil, fmt.Errorf("query lts config: %w", err)
	}
	cfg.UpdatedAt = fromMicros(updatedAt)
	return cfg, nil
}

// SetLTSConfig replaces the project's forwarding setting. A zero UpdatedAt
// is set to the store's clock. Events stored after it returns are queued
// for the new target; rows already queued keep theirs.
func (db *DB) SetLTSConfig(ctx context.Context, cfg *userevents.LTSConfig) error {
	if cfg.UpdatedAt.IsZero() {
		cfg.UpdatedAt = db.now()
	}
	_, err := db.write.ExecContext(ctx, `INSERT INTO lts_configs
		(project_id, enabled, log_group_id, log_stream_id, updated_at)
		VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (project_id) DO UPDATE SET enabled = excluded.enabled,
			log_group_id = excluded.log_group_id, log_stream_id = excluded.log_stream_id,
			updated_at = excluded.updated_at`,
		cfg.ProjectID, boolInt(cfg.Enabled), cfg.LogGroupID, cfg.LogStreamID, micros(cfg.UpdatedAt))
	if err != nil {
		return fmt.Errorf("set lts config: %w", err)
	}
	return nil
}
