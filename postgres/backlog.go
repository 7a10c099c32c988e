package postgres

import (
	"context"
	"fmt"
	"time"
)

// DeliveryBacklog returns the number of queued deliveries and the queue
// time of the oldest.
func (db *DB) DeliveryBacklog(ctx context.Context) (int, time.Time, error) {
	var n int
	var oldest *time.Time
	err := db.pool.QueryRow(ctx, `SELECT count(*), min(queued_at) FROM deliveries`).Scan(&n, &oldest)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("count delivery backlog: %w", err)
	}
	if oldest == nil {
		return n, time.Time{}, nil
	}
	return n, oldest.UTC(), nil
}
