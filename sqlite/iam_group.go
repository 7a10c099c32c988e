package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/userevents/userevents"
)

const groupColumns = `id, account_id, name, description, created_at`

func scanGroup(row scanner) (*userevents.Group, error) {
	var g userevents.Group
	var createdAt int64
	if err := row.Scan(&g.ID, &g.AccountID, &g.Name, &g.Description, &createdAt); err != nil {
		return nil, err
	}
	g.CreatedAt = fromMicros(createdAt)
	return &g, nil
}

// CreateGroup stores a new group. It sets an empty ID to a random
// 32-character hex id and a zero CreatedAt to the store's clock.
func (db *DB) CreateGroup(ctx context.Context, g *userevents.Group) error {
	if g.ID == "" {
		g.ID = newHexID()
	}
	if g.CreatedAt.IsZero() {
		g.CreatedAt = db.now()
	}
	_, err := db.write.ExecContext(ctx, `INSERT INTO iam_groups (`+groupColumns+`)
		VALUES (?, ?, ?, ?, ?)`, g.ID, g.AccountID, g.Name, g.Description, micros(g.CreatedAt))
	switch {
	case isUniqueViolation(err):
		return groupNameTaken(g.Name)
	case isForeignKeyViolation(err):
		return accountNotFound(g.AccountID)
	case err != nil:
		return fmt.Errorf("create group: %w", err)
	}
	return nil
}

// FindGroupByID returns the group, or ENOTFOUND when no group has that ID.
func (db *DB) FindGroupByID(ctx context.Context, id string) (*userevents.Group, error) {
	return findGroup(ctx, db.read, id)
}

func findGroup(ctx context.Context, q querier, id string) (*userevents.Group, error) {
	row := q.QueryRowContext(ctx, `SELECT `+groupColumns+` FROM iam_groups WHERE id = ?`, id)
	g, err := scanGroup(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, groupNotFound(id)
	} else if err != nil {
		return nil, fmt.Errorf("find group: %w", err)
	}
	return g, nil
}

// FindGroups returns the account's groups, or those of filter.UserID,
// oldest first.
func (db *DB) FindGroups(ctx context.Context, filter userevents.GroupFilter) ([]*userevents.Group, error) {
	query := `SELECT ` + groupColumns + ` FROM iam_groups WHERE account_id = ?`
	args := []any{filter.AccountID}
	if filter.UserID != "" {
		query += ` AND id IN (SELECT group_id FROM group_members WHERE user_id = ?)`
		args = append(args, filter.UserID)
	}
	rows, err := db.read.QueryContext(ctx, query+` ORDER BY created_at, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("find groups: %w", err)
	}
	defer rows.Close()

	groups := []*userevents.Group{}
	for rows.Next() {
		g, err := scanGroup(rows)
		if err != nil {
			return nil, fmt.Errorf("find groups: %w", err)
		}
		groups = append(groups, g)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find groups: %w", err)
	}
	return groups, nil
}

// UpdateGroup changes the name or description of a group.
func (db *DB) UpdateGroup(ctx context.Context, id string, update userevents.GroupUpdate) (*userevents.Group, error) {
	var g *userevents.Group
	err := db.inWriteTx(ctx, func(tx *sql.Tx) error {
		var err error
		if g, err = findGroup(ctx, tx, id); err != nil {
			return err
		}
		if update.Name != nil {
			g.Name = *update.Name
		}
		if update.Description != nil {
			g.Description = *update.Description
		}
		_, err = tx.ExecContext(ctx, `UPDATE iam_groups SET name = ?, description = ? WHERE id = ?`,
			g.Name, g.Description, id)
		if isUniqueViolation(err) {
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
	return db.inWriteTx(ctx, func(tx *sql.Tx) error {
		err := bumpGenerations(ctx, tx, `id IN (SELECT user_id FROM group_members WHERE group_id = ?)`, id)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM iam_groups WHERE id = ?`, id)
		if err != nil {
			return fmt.Errorf("delete group: %w", err)
		}
		return requireRow(res, groupNotFound(id))
	})
}

// AddUserToGroup makes the user a member of the group and, when it was
// not one yet, ends its tokens.
func (db *DB) AddUserToGroup(ctx context.Context, groupID, userID string) error {
	return db.inWriteTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO group_members (group_id, user_id, added_at)
			VALUES (?, ?, ?) ON CONFLICT DO NOTHING`, groupID, userID, micros(db.now()))
		if isForeignKeyViolation(err) {
			return userevents.Errorf(userevents.ENOTFOUND,
				"Group %q or user %q does not exist.", groupID, userID)
		} else if err != nil {
			return fmt.Errorf("add user to group: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		return bumpGenerations(ctx, tx, `id = ?`, userID)
	})
}

// RemoveUserFromGroup ends the membership and the user's tokens.
func (db *DB) RemoveUserFromGroup(ctx context.Context, groupID, userID string) error {
	return db.inWriteTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM group_members WHERE group_id = ? AND user_id = ?`,
			groupID, userID)
		if err != nil {
			return fmt.Errorf("remove user from group: %w", err)
		}
		notMember := userevents.Errorf(userevents.ENOTFOUND,
			"User %q is not a member of group %q.", userID, groupID)
		if err := requireRow(res, notMember); err != nil {
			return err
		}
		return bumpGenerations(ctx, tx, `id = ?`, userID)
	})
}

func groupNotFound(id string) error {
	return userevents.Errorf(userevents.ENOTFOUND, "Group %q does not exist.", id)
}

func groupNameTaken(name string) error {
	return userevents.Errorf(userevents.ECONFLICT,
		"The account already has a group named %q; choose another name.", name)
}
