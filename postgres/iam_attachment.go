package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/userevents/userevents"
)

// attachmentTables names the attachment table, its entity column and the
// entity table per entity type.
var attachmentTables = map[string]struct{ table, column, entities string }{
	userevents.EntityUser:  {"user_policies", "user_id", "users"},
	userevents.EntityGroup: {"group_policies", "group_id", "iam_groups"},
}

// AttachUserPolicy attaches a policy to a user and ends the user's tokens.
func (db *DB) AttachUserPolicy(ctx context.Context, policyID, userID string) error {
	return db.attach(ctx, userevents.EntityUser, policyID, userID, `id = $1`)
}

// DetachUserPolicy detaches a policy from a user and ends its tokens.
func (db *DB) DetachUserPolicy(ctx context.Context, policyID, userID string) error {
	return db.detach(ctx, userevents.EntityUser, policyID, userID, `id = $1`)
}

// AttachGroupPolicy attaches a policy to a group and ends its members'
// tokens.
func (db *DB) AttachGroupPolicy(ctx context.Context, policyID, groupID string) error {
	return db.attach(ctx, userevents.EntityGroup, policyID, groupID, membersOfGroup)
}

// DetachGroupPolicy detaches a policy from a group and ends its members'
// tokens.
func (db *DB) DetachGroupPolicy(ctx context.Context, policyID, groupID string) error {
	return db.detach(ctx, userevents.EntityGroup, policyID, groupID, membersOfGroup)
}

// attach inserts an attachment unless it exists, and then ends the tokens
// of the users that affected, a condition on users whose argument $1 is
// the entity id, selects.
func (db *DB) attach(ctx context.Context, entityType, policyID, entityID, affected string) error {
	t := attachmentTables[entityType]
	return db.inTx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO `+t.table+` (`+t.column+`, policy_id, attached_at)
			VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, entityID, policyID, db.now())
		if hasCode(err, codeForeignKeyViolation) {
			return userevents.Errorf(userevents.ENOTFOUND,
				"Identity policy %q or %s %q does not exist.", policyID, entityType, entityID)
		} else if err != nil {
			return fmt.Errorf("attach policy: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return nil
		}
		return bumpGenerations(ctx, tx, affected, entityID)
	})
}

// detach deletes an attachment and ends the tokens of the users that
// affected selects, as for attach.
func (db *DB) detach(ctx context.Context, entityType, policyID, entityID, affected string) error {
	t := attachmentTables[entityType]
	return db.inTx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM `+t.table+` WHERE `+t.column+` = $1 AND policy_id = $2`,
			entityID, policyID)
		notAttached := userevents.Errorf(userevents.ENOTFOUND,
			"Identity policy %q is not attached to %s %q.", policyID, entityType, entityID)
		if err := checkAffected(tag, err, notAttached); err != nil {
			return err
		}
		return bumpGenerations(ctx, tx, affected, entityID)
	})
}

// FindAttachedPolicies returns the policies attached to a user or group in
// the order they were attached, and ENOTFOUND when the entity does not
// exist.
func (db *DB) FindAttachedPolicies(ctx context.Context, entityType, entityID string) ([]*userevents.AttachedPolicy, error) {
	t, ok := attachmentTables[entityType]
	if !ok {
		return nil, fmt.Errorf("find attached policies: unknown entity type %q", entityType)
	}
	var attached []*userevents.AttachedPolicy
	err := db.inReadTx(ctx, func(tx pgx.Tx) error {
		var accountID string
		err := tx.QueryRow(ctx, `SELECT account_id FROM `+t.entities+` WHERE id = $1`, entityID).
			Scan(&accountID)
		if errors.Is(err, pgx.ErrNoRows) {
			return userevents.Errorf(userevents.ENOTFOUND, "The %s %q does not exist.", entityType, entityID)
		} else if err != nil {
			return fmt.Errorf("find attached policies: %w", err)
		}

		rows, err := tx.Query(ctx, `SELECT `+policyColumns+`, a.attached_at
			FROM policies p JOIN `+t.table+` a ON a.policy_id = p.id
			WHERE a.`+t.column+` = $2 ORDER BY a.attached_at, p.id`, accountID, entityID)
		if err != nil {
			return fmt.Errorf("find attached policies: %w", err)
		}
		attached, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (*userevents.AttachedPolicy, error) {
			a := &userevents.AttachedPolicy{}
			var err error
			a.Policy, err = scanPolicy(row, &a.AttachedAt)
			return a, err
		})
		if err != nil {
			return fmt.Errorf("find attached policies: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return attached, nil
}

// FindPolicyAttachments returns the users and groups of the account that a
// policy is attached to, in the order they were attached.
func (db *DB) FindPolicyAttachments(ctx context.Context, accountID, policyID string) ([]*userevents.PolicyAttachment, error) {
	rows, err := db.pool.Query(ctx, `
		SELECT 'user', up.user_id, up.attached_at FROM user_policies up
			JOIN users u ON u.id = up.user_id WHERE up.policy_id = $1 AND u.account_id = $2
		UNION ALL
		SELECT 'group', gp.group_id, gp.attached_at FROM group_policies gp
			JOIN iam_groups g ON g.id = gp.group_id WHERE gp.policy_id = $1 AND g.account_id = $2
		ORDER BY 3, 2`, policyID, accountID)
	if err != nil {
		return nil, fmt.Errorf("find policy attachments: %w", err)
	}
	attachments, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*userevents.PolicyAttachment, error) {
		var a userevents.PolicyAttachment
		err := row.Scan(&a.EntityType, &a.EntityID, &a.AttachedAt)
		return &a, err
	})
	if err != nil {
		return nil, fmt.Errorf("find policy attachments: %w", err)
	}
	return attachments, nil
}

// FindEffectivePolicies returns the default documents of the policies that
// apply to a user, in one query so that they come from one snapshot.
func (db *DB) FindEffectivePolicies(ctx context.Context, userID string) ([]*userevents.EffectivePolicy, error) {
	rows, err := db.pool.Query(ctx, `SELECT p.id, p.name, v.version, v.document
		FROM policies p JOIN policy_versions v ON v.policy_id = p.id AND v.version = p.default_version
		WHERE p.id IN (SELECT policy_id FROM user_policies WHERE user_id = $1
			UNION SELECT gp.policy_id FROM group_policies gp
				JOIN group_members gm ON gm.group_id = gp.group_id WHERE gm.user_id = $1)
		ORDER BY p.name, p.id`, userID)
	if err != nil {
		return nil, fmt.Errorf("find effective policies: %w", err)
	}
	policies, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*userevents.EffectivePolicy, error) {
		var p userevents.EffectivePolicy
		var version int64
		if err := row.Scan(&p.PolicyID, &p.PolicyName, &version, &p.Document); err != nil {
			return nil, err
		}
		p.VersionID = versionID(version)
		return &p, nil
	})
	if err != nil {
		return nil, fmt.Errorf("find effective policies: %w", err)
	}
	return policies, nil
}
