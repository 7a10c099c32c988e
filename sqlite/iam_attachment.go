package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/userevents/userevents"
)

// attachmentTables names the attachment table and its entity column per
// entity type.
var attachmentTables = map[string]struct{ table, column, entities string }{
	userevents.EntityUser:  {"user_policies", "user_id", "users"},
	userevents.EntityGroup: {"group_policies", "group_id", "iam_groups"},
}

// AttachUserPolicy attaches a policy to a user and ends the user's tokens.
func (db *DB) AttachUserPolicy(ctx context.Context, policyID, userID string) error {
	return db.attach(ctx, userevents.EntityUser, policyID, userID, `id = ?`, userID)
}

// DetachUserPolicy detaches a policy from a user and ends its tokens.
func (db *DB) DetachUserPolicy(ctx context.Context, policyID, userID string) error {
	return db.detach(ctx, userevents.EntityUser, policyID, userID, `id = ?`, userID)
}

// AttachGroupPolicy attaches a policy to a group and ends its members'
// tokens.
func (db *DB) AttachGroupPolicy(ctx context.Context, policyID, groupID string) error {
	return db.attach(ctx, userevents.EntityGroup, policyID, groupID, membersOfGroup, groupID)
}

// DetachGroupPolicy detaches a policy from a group and ends its members'
// tokens.
func (db *DB) DetachGroupPolicy(ctx context.Context, policyID, groupID string) error {
	return db.detach(ctx, userevents.EntityGroup, policyID, groupID, membersOfGroup, groupID)
}

const membersOfGroup = `id IN (SELECT user_id FROM group_members WHERE group_id = ?)`

// attach inserts an attachment unless it exists, and then ends the tokens
// of the users that the condition on users selects.
func (db *DB) attach(ctx context.Context, entityType, policyID, entityID, affected string, args ...any) error {
	t := attachmentTables[entityType]
	return db.inWriteTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO `+t.table+` (`+t.column+`, policy_id, attached_at)
			VALUES (?, ?, ?) ON CONFLICT DO NOTHING`, entityID, policyID, micros(db.now()))
		if isForeignKeyViolation(err) {
			return userevents.Errorf(userevents.ENOTFOUND,
				"Identity policy %q or %s %q does not exist.", policyID, entityType, entityID)
		} else if err != nil {
			return fmt.Errorf("attach policy: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		return bumpGenerations(ctx, tx, affected, args...)
	})
}

// detach deletes an attachment and ends the tokens of the users that the
// condition on users selects.
func (db *DB) detach(ctx context.Context, entityType, policyID, entityID, affected string, args ...any) error {
	t := attachmentTables[entityType]
	return db.inWriteTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM `+t.table+` WHERE `+t.column+` = ? AND policy_id = ?`,
			entityID, policyID)
		if err != nil {
			return fmt.Errorf("detach policy: %w", err)
		}
		notAttached := userevents.Errorf(userevents.ENOTFOUND,
			"Identity policy %q is not attached to %s %q.", policyID, entityType, entityID)
		if err := requireRow(res, notAttached); err != nil {
			return err
		}
		return bumpGenerations(ctx, tx, affected, args...)
	})
}

// FindAttachedPolicies returns the policies attached to a user or group,
// and ENOTFOUND when the entity does not exist.
func (db *DB) FindAttachedPolicies(ctx context.Context, entityType, entityID string) ([]*userevents.AttachedPolicy, error) {
	t, ok := attachmentTables[entityType]
	if !ok {
		return nil, fmt.Errorf("find attached policies: unknown entity type %q", entityType)
	}
	var attached []*userevents.AttachedPolicy
	err := db.inReadTx(ctx, func(tx *sql.Tx) error {
		var accountID string
		err := tx.QueryRowContext(ctx, `SELECT account_id FROM `+t.entities+` WHERE id = ?`, entityID).
			Scan(&accountID)
		if errors.Is(err, sql.ErrNoRows) {
			return userevents.Errorf(userevents.ENOTFOUND, "The %s %q does not exist.", entityType, entityID)
		} else if err != nil {
			return fmt.Errorf("find attached policies: %w", err)
		}

		rows, err := tx.QueryContext(ctx, `SELECT `+policyColumns+`, a.attached_at
			FROM policies p JOIN `+t.table+` a ON a.policy_id = p.id
			WHERE a.`+t.column+` = ? ORDER BY a.attached_at, p.id`, accountID, accountID, entityID)
		if err != nil {
			return fmt.Errorf("find attached policies: %w", err)
		}
		defer rows.Close()
		attached = []*userevents.AttachedPolicy{}
		for rows.Next() {
			var attachedAt int64
			p, err := scanPolicy(rows, &attachedAt)
			if err != nil {
				return fmt.Errorf("find attached policies: %w", err)
			}
			attached = append(attached, &userevents.AttachedPolicy{Policy: p, AttachedAt: fromMicros(attachedAt)})
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return attached, nil
}

// FindPolicyAttachments returns the users and groups of the account that a
// policy is attached to.
func (db *DB) FindPolicyAttachments(ctx context.Context, accountID, policyID string) ([]*userevents.PolicyAttachment, error) {
	rows, err := db.read.QueryContext(ctx, `
		SELECT 'user', up.user_id, up.attached_at FROM user_policies up
			JOIN users u ON u.id = up.user_id WHERE up.policy_id = ? AND u.account_id = ?
		UNION ALL
		SELECT 'group', gp.group_id, gp.attached_at FROM group_policies gp
			JOIN iam_groups g ON g.id = gp.group_id WHERE gp.policy_id = ? AND g.account_id = ?
		ORDER BY 3, 2`, policyID, accountID, policyID, accountID)
	if err != nil {
		return nil, fmt.Errorf("find policy attachments: %w", err)
	}
	defer rows.Close()

	attachments := []*userevents.PolicyAttachment{}
	for rows.Next() {
		var a userevents.PolicyAttachment
		var attachedAt int64
		if err := rows.Scan(&a.EntityType, &a.EntityID, &attachedAt); err != nil {
			return nil, fmt.Errorf("find policy attachments: %w", err)
		}
		a.AttachedAt = fromMicros(attachedAt)
		attachments = append(attachments, &a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find policy attachments: %w", err)
	}
	return attachments, nil
}

// FindEffectivePolicies returns the default documents of the policies that
// apply to a user, in one query so that they come from one snapshot.
func (db *DB) FindEffectivePolicies(ctx context.Context, userID string) ([]*userevents.EffectivePolicy, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT p.id, p.name, v.version, v.document
		FROM policies p JOIN policy_versions v ON v.policy_id = p.id AND v.version = p.default_version
		WHERE p.id IN (SELECT policy_id FROM user_policies WHERE user_id = ?
			UNION SELECT gp.policy_id FROM group_policies gp
				JOIN group_members gm ON gm.group_id = gp.group_id WHERE gm.user_id = ?)
		ORDER BY p.name, p.id`, userID, userID)
	if err != nil {
		return nil, fmt.Errorf("find effective policies: %w", err)
	}
	defer rows.Close()

	policies := []*userevents.EffectivePolicy{}
	for rows.Next() {
		var p userevents.EffectivePolicy
		var version int64
		if err := rows.Scan(&p.PolicyID, &p.PolicyName, &version, &p.Document); err != nil {
			return nil, fmt.Errorf("find effective policies: %w", err)
		}
		p.VersionID = versionID(version)
		policies = append(policies, &p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find effective policies: %w", err)
	}
	return policies, nil
}
