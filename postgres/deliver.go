package postgres

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/userevents/userevents"
)

// CompleteDeliveriesWithLogs stores the lines of the deliveries that owner
// holds in the built-in LTS and deletes those deliveries, counting them as
// delivered, in one transaction.
func (db *DB) CompleteDeliveriesWithLogs(ctx context.Context, owner string, ids []int64, records []*userevents.LogRecord) error {
	if len(ids) != len(records) {
		return fmt.Errorf("complete deliveries with logs: %d ids and %d records", len(ids), len(records))
	}
	if len(ids) == 0 {
		return nil
	}
	err := db.inTx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `DELETE FROM deliveries WHERE lease_owner = $1 AND id = ANY($2)
			RETURNING id, project_id`, owner, ids)
		if err != nil {
			return fmt.Errorf("delete deliveries: %w", err)
		}
		held := make(map[int64]bool, len(ids))
		perProject := make(map[string]int64)
		var id int64
		var projectID string
		_, err = pgx.ForEachRow(rows, []any{&id, &projectID}, func() error {
			held[id] = true
			perProject[projectID]++
			return nil
		})
		if err != nil {
			return fmt.Errorf("delete deliveries: %w", err)
		}

		var keep []*userevents.LogRecord
		for i, id := range ids {
			if held[id] {
				keep = append(keep, records[i])
			}
		}
		if _, err := insertLogLines(ctx, tx, keep); err != nil {
			return err
		}
		// Counters are updated in project order, as CompleteDeliveries does, so that
		// two replicas never wait on each other's counter rows.
		for _, projectID := range slices.Sorted(maps.Keys(perProject)) {
			n := perProject[projectID]
			_, err := tx.Exec(ctx, `INSERT INTO delivery_counters (project_id, delivered)
				VALUES ($1, $2)
				ON CONFLICT (project_id)
				DO UPDATE SET delivered = delivery_counters.delivered + excluded.delivered`,
				projectID, n)
			if err != nil {
				return fmt.Errorf("count delivered: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("complete deliveries with logs: %w", err)
	}
	return nil
}
