package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/userevents/userevents"
)

const groupColumns = `id, account_id, name, description, created_at`

func scanGroup(row pgx.Row) (*userevents.Group, error) {
	var g userevents.Group
	if err := row.Scan(&g.ID, &g.AccountID, &g.Name, &g.Description, &g.CreatedAt); err != nil {
		return nil, err
	}
	return &g, nil
}

// CreateGroup stores a new group. It sets an empty ID to a random
// 32-character hex id and a zero CreatedAt to the store's clock. It returns
// ECONFLICT when the account has a group of that name and ENOTFOUND when
// the account does not exist.
func (db *DB) CreateGroup(ctx context.Context, g *userevents.Group) error {
	if g.ID == "" {
		g.ID = newHexID()
	}
	if g.CreatedAt.IsZero() {
		g.CreatedAt = db.now()
	}
	_, err := db.pool.Exec(ctx, `INSERT INTO iam_groups (`+groupColumns+`)
		VALUES ($1, $2, $3, $4, $5)`, g.ID, g.AccountID, g.Name, g.Description, g.CreatedAt)
	switch {
	case hasCode(err, codeUniqueViolation):
		return groupNameTaken(g.Name)
	case hasCode(err, codeForeignKeyViolation):
		return accountNotFound(g.AccountID)
	case err != nil:
		return fmt.Errorf("create group: %w", err)
	}
	return nil
}

// FindGroupByID returns the group, or ENOTFOUND when no group has that ID.
func (db *DB) FindGroupByID(ctx context.Context, id string) (*userevents.Group, error) {
	return findGroup(ctx, db.pool, id, "")
}

// findGroup returns the group; lockClause, such as " FOR UPDATE", ends the
// query.
func findGroup(ctx context.Context, q querier, id, lockClause string) (*userevents.Group, error) {
	row := q.QueryRow(ctx, `SELECT `+groupColumns+` FROM iam_groups WHERE id = $1`+lockClause, id)
	g, err := scanGroup(row)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, groupNotFound(id)
	} else if err != nil {
		return nil, fmt.Errorf("find group: %w", err)
	}
	return g, nil
}

// FindGroups returns the account's groups, or those of filter.UserID,
// oldest first.
func (db *DB) FindGroups(ctx context.Context, filter userevents.GroupFilter) ([]*userevents.Group, error) {
	query := `SELECT ` + groupColumns + ` FROM iam_groups WHERE account_id = $1`
	args := []any{filter.AccountID}
	if filter.UserID != "" {
		query += ` AND id IN (SELECT group_id FROM group_members WHERE user_id = $2)`
		args = append(args, filter.UserID)
	}
	rows, err := db.pool.Query(ctx, query+` ORDER BY created_at, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("find groups: %w", err)
	}
	groups, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*userevents.Group, error) {
		return scanGroup(row)
	})
	if err != nil {
		return nil, fmt.Errorf("find groups: %w", err)
	}
	return groups, nil
}

// UpdateGroup changes the name or description of a group.
func (db *DB) UpdateGroup(ctx context.Context, id string, update userevents.GroupUpdate) (*userevents.Group, error) {
	var g *userevents.Group
	err := db.inTx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		var err error
		if g, err = findGroup(ctx, tx, id, " FOR UPDATE"); err != nil {
			return err
		}
		if update.Name != nil {
			g.Name = *update.Name
		}
		if update.Description != nil {
			g.Description = *update.Description
		}
		_, err = tx.Exec(ctx, `UPDATE iam_groups SET name = $1, description = $2 WHERE id = $3`,
			g.Name, g.Description, id)
		if hasCode(err, codeUniqueViolation) {
			return groupNameTaken(g.Name)
		} else if err != nil {
			return fmt.Errorf("update group: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return g, nil
}

// DeleteGroup deletes a group; its memberships and attachments go by
// cascade, and its members' tokens end.
func (db *DB) DeleteGroup(ctx context.Context, id string) error {
	return db.inTx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		if err := bumpGenerations(ctx, tx, membersOfGroup, id); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `DELETE FROM iam_groups WHERE id = $1`, id)
		if err != nil {
			return fmt.Errorf("delete group: %w", err)
		}
		return checkAffected(tag, nil, groupNotFound(id))
	})
}

// AddUserToGroup makes the user a member of the group and, when it was
// not one yet, ends its tokens.
func (db *DB) AddUserToGroup(ctx context.Context, groupID, userID string) error {
	return db.inTx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO group_members (group_id, user_id, added_at)
			VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, groupID, userID, db.now())
		if hasCode(err, codeForeignKeyViolation) {
			return userevents.Errorf(userevents.ENOTFOUND,
				"Group %q or user %q does not exist.", groupID, userID)
		} else if err != nil {
			return fmt.Errorf("add user to group: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return nil
		}
		return bumpGenerations(ctx, tx, `id = $1`, userID)
	})
}

// RemoveUserFromGroup ends the membership and the user's tokens.
func (db *DB) RemoveUserFromGroup(ctx context.Context, groupID, userID string) error {
	return db.inTx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM group_members WHERE group_id = $1 AND user_id = $2`,
			groupID, userID)
		notMember := userevents.Errorf(userevents.ENOTFOUND,
			"User %q is not a member of group %q.", userID, groupID)
		if err := checkAffected(tag, err, notMember); err != nil {
			return err
		}
		return bumpGenerations(ctx, tx, `id = $1`, userID)
	})
}

func groupNotFound(id string) error {
	return userevents.Errorf(userevents.ENOTFOUND, "Group %q does not exist.", id)
}

func groupNameTaken(name string) error {
	return userevents.Errorf(userevents.ECONFLICT,
		"The account already has a group named %q; choose another name.", name)
}
