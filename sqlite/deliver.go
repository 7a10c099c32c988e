package sqlite

import (
	"context"
	"database/sql"
	"fmt"

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
	err := db.inWriteTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx,
			`DELETE FROM deliveries WHERE lease_owner = ? AND `+idsIn+` RETURNING id, project_id`,
			owner, idList(ids))
		if err != nil {
			return fmt.Errorf("delete deliveries: %w", err)
		}
		held := make(map[int64]bool, len(ids))
		perProject := make(map[string]int64)
		for rows.Next() {
			var id int64
			var projectID string
			if err := rows.Scan(&id, &projectID); err != nil {
				rows.Close()
				return fmt.Errorf("delete deliveries: %w", err)
			}
			held[id] = true
			perProject[projectID]++
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("delete deliveries: %w", err)
		}

		var keep []*userevents.LogRecord
		for i, id := range ids {
			if held[id] {
				keep = append(keep, records[i])
			}
		}
		if err := insertLogLines(ctx, tx, keep, make([]int64, len(keep))); err != nil {
			return err
		}
		for projectID, n := range perProject {
			_, err := tx.ExecContext(ctx, `INSERT INTO delivery_counters (project_id, delivered)
				VALUES (?, ?)
				ON CONFLICT (project_id) DO UPDATE SET delivered = delivered + excluded.delivered`,
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
