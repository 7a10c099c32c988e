package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/userevents/userevents"
)

// FindLTSConfig returns the project's forwarding setting, or a disabled
// LTSConfig with only ProjectID set when none was ever stored.
func (db *DB) FindLTSConfig(ctx context.Context, projectID string) (*userevents.LTSConfig, error) {
	cfg := &userevents.LTSConfig{ProjectID: projectID}
	err := db.pool.QueryRow(ctx, `SELECT enabled, log_group_id, log_stream_id, updated_at
		FROM lts_configs WHERE project_id = $1`, projectID).
		Scan(&cfg.Enabled, &cfg.LogGroupID, &cfg.LogStreamID, &cfg.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return cfg, nil
	} else if err != nil {
		return nil, fmt.Errorf("find lts config: %w", err)
	}
	return cfg, nil
}

// SetLTSConfig replaces the project's forwarding setting. A zero UpdatedAt
// is set to the store's clock. Events stored after it returns, through any
// replica, are queued for the new target; rows already queued keep theirs.
func (db *DB) SetLTSConfig(ctx context.Context, cfg *userevents.LTSConfig) error {
	if cfg.UpdatedAt.IsZero() {
		cfg.UpdatedAt = db.now()
	}
	_, err := db.pool.Exec(ctx, `INSERT INTO lts_configs
		(project_id, enabled, log_group_id, log_stream_id, updated_at)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (project_id) DO UPDATE SET enabled = excluded.enabled,
			log_group_id = excluded.log_group_id, log_stream_id = excluded.log_stream_id,
			updated_at = excluded.updated_at`,
		cfg.ProjectID, cfg.Enabled, cfg.LogGroupID, cfg.LogStreamID, cfg.UpdatedAt)
	if err != nil {
		return fmt.Errorf("set lts config: %w", err)
	}
	return nil
}
