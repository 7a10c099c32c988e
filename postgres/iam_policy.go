package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/userevents/userevents"
)

// policyColumns are the policy columns and the number of attachments in
// one account, whose id is the argument $1 of the query.
const policyColumns = `p.id, p.account_id, p.type, p.name, p.path, p.description,
	p.default_version, p.created_at, p.updated_at,
	(SELECT count(*) FROM user_policies up JOIN users u ON u.id = up.user_id
		WHERE up.policy_id = p.id AND u.account_id = $1) +
	(SELECT count(*) FROM group_policies gp JOIN iam_groups g ON g.id = gp.group_id
		WHERE gp.policy_id = p.id AND g.account_id = $1) AS attachment_count`

const policySelect = `SELECT ` + policyColumns + ` FROM policies p`

// usersOfPolicy is the condition on users that selects those a policy
// applies to, directly or through a group; its argument $1 is the policy
// id.
const usersOfPolicy = `id IN (SELECT user_id FROM user_policies WHERE policy_id = $1
	UNION SELECT gm.user_id FROM group_policies gp JOIN group_members gm ON gm.group_id = gp.group_id
	WHERE gp.policy_id = $1)`

// membersOfGroup is the condition on users that selects the members of
// the group $1.
const membersOfGroup = `id IN (SELECT user_id FROM group_members WHERE group_id = $1)`

func scanPolicy(row pgx.Row, extra ...any) (*userevents.Policy, error) {
	var p userevents.Policy
	var defaultVersion int64
	dest := append([]any{&p.ID, &p.AccountID, &p.Type, &p.Name, &p.Path, &p.Description,
		&defaultVersion, &p.CreatedAt, &p.UpdatedAt, &p.AttachmentCount}, extra...)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	p.DefaultVersionID = versionID(defaultVersion)
	return &p, nil
}

// versionID formats a version number as the API shows it.
func versionID(n int64) string { return "v" + strconv.FormatInt(n, 10) }

// versionNumber parses a version id such as "v3"; it returns 0 for
// anything else.
func versionNumber(id string) int64 {
	digits, ok := strings.CutPrefix(id, "v")
	if !ok || digits == "" || digits[0] == '0' {
		return 0
	}
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || n <= 0 {
		return 0
	}
	return n
}

// systemPolicyID returns the stable id of the system policy of that name,
// so that every database derives the same id.
func systemPolicyID(name string) string {
	sum := sha256.Sum256([]byte("userevents system policy " + name))
	return hex.EncodeToString(sum[:16])
}

// CreatePolicy stores a custom policy and its version v1. It sets an empty
// ID to a random 32-character hex id and zero times to the store's clock.
// It returns ECONFLICT when the account has a policy of that name and
// ENOTFOUND when the account does not exist.
func (db *DB) CreatePolicy(ctx context.Context, p *userevents.Policy, document string) error {
	if p.ID == "" {
		p.ID = newHexID()
	}
	if p.CreatedAt.IsZero() {
		p.CreatedAt = db.now()
	}
	if p.UpdatedAt.IsZero() {
		p.UpdatedAt = p.CreatedAt
	}
	p.Type = userevents.PolicyTypeCustom
	p.DefaultVersionID = versionID(1)
	return db.inTx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		var exists bool
		err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM accounts WHERE id = $1)`, p.AccountID).
			Scan(&exists)
		if err != nil {
			return fmt.Errorf("create policy: %w", err)
		} else if !exists {
			return accountNotFound(p.AccountID)
		}
		return insertPolicy(ctx, tx, p, document)
	})
}

func insertPolicy(ctx context.Context, tx pgx.Tx, p *userevents.Policy, document string) error {
	_, err := tx.Exec(ctx, `INSERT INTO policies (id, account_id, type, name, path,
		description, default_version, next_version, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, 1, 2, $7, $8)`,
		p.ID, p.AccountID, p.Type, p.Name, p.Path, p.Description, p.CreatedAt, p.UpdatedAt)
	if hasCode(err, codeUniqueViolation) {
		return userevents.Errorf(userevents.ECONFLICT,
			"The account already has an identity policy named %q; choose another name.", p.Name)
	} else if err != nil {
		return fmt.Errorf("create policy: %w", err)
	}
	_, err = tx.Exec(ctx, `INSERT INTO policy_versions (policy_id, version, document, created_at)
		VALUES ($1, 1, $2, $3)`, p.ID, document, p.CreatedAt)
	if err != nil {
		return fmt.Errorf("create policy version: %w", err)
	}
	return nil
}

// PutSystemPolicy creates or updates a system policy. Servers call it at
// start for each built-in policy, so a changed built-in document reaches
// existing databases as a new default version. Replicas that start at once
// take turns on an advisory lock per policy, so that the policy and each
// new version are stored once.
func (db *DB) PutSystemPolicy(ctx context.Context, name, description, document string) (*userevents.Policy, error) {
	id := systemPolicyID(name)
	err := db.inTx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`,
			"userevents system policy "+id)
		if err != nil {
			return fmt.Errorf("put system policy: lock: %w", err)
		}
		now := db.now()
		current, err := findDefaultVersion(ctx, tx, id)
		if userevents.ErrorCode(err) == userevents.ENOTFOUND {
			p := &userevents.Policy{ID: id, Type: userevents.PolicyTypeSystem, Name: name,
				Description: description, CreatedAt: now, UpdatedAt: now}
			return insertPolicy(ctx, tx, p, document)
		} else if err != nil {
			return err
		}

		_, err = tx.Exec(ctx, `UPDATE policies SET description = $1 WHERE id = $2`, description, id)
		if err != nil {
			return fmt.Errorf("put system policy: %w", err)
		}
		if current.Document == document {
			return nil
		}
		if _, err := addVersion(ctx, tx, id, document, true, now); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM policy_versions WHERE policy_id = $1 AND version NOT IN
			(SELECT version FROM policy_versions WHERE policy_id = $1 ORDER BY version DESC LIMIT $2)`,
			id, userevents.MaxPolicyVersions)
		if err != nil {
			return fmt.Errorf("put system policy: delete old versions: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return db.FindPolicyByID(ctx, "", id)
}

// FindPolicyByID returns a custom policy of the account or a system policy,
// or ENOTFOUND.
func (db *DB) FindPolicyByID(ctx context.Context, accountID, id string) (*userevents.Policy, error) {
	row := db.pool.QueryRow(ctx, policySelect+` WHERE p.id = $2
		AND (p.account_id = $1 OR p.type = 'system')`, accountID, id)
	p, err := scanPolicy(row)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, policyNotFound(id)
	} else if err != nil {
		return nil, fmt.Errorf("find policy: %w", err)
	}
	return p, nil
}

// FindPolicies returns the account's custom policies and the system
// policies that match the filter, system policies first, then oldest
// first.
func (db *DB) FindPolicies(ctx context.Context, filter userevents.PolicyFilter) ([]*userevents.Policy, error) {
	query := `SELECT * FROM (` + policySelect + ` WHERE (p.account_id = $1 OR p.type = 'system')) AS q
		WHERE true`
	args := []any{filter.AccountID}
	if filter.Type != "" {
		args = append(args, filter.Type)
		query += ` AND q.type = $` + strconv.Itoa(len(args))
	}
	if filter.PathPrefix != "" {
		args = append(args, filter.PathPrefix)
		query += ` AND starts_with(q.path, $` + strconv.Itoa(len(args)) + `)`
	}
	if filter.OnlyAttached {
		query += ` AND q.attachment_count > 0`
	}
	rows, err := db.pool.Query(ctx, query+` ORDER BY q.type = 'custom', q.created_at, q.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("find policies: %w", err)
	}
	policies, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*userevents.Policy, error) {
		return scanPolicy(row)
	})
	if err != nil {
		return nil, fmt.Errorf("find policies: %w", err)
	}
	return policies, nil
}

// DeletePolicy deletes a custom policy that is attached to nothing. It
// returns ECONFLICT while the policy is attached, also when an attachment
// made concurrently on another replica wins the race.
func (db *DB) DeletePolicy(ctx context.Context, id string) error {
	return db.inTx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		var attachments int
		err := tx.QueryRow(ctx, `SELECT
			(SELECT count(*) FROM user_policies WHERE policy_id = $1) +
			(SELECT count(*) FROM group_policies WHERE policy_id = $1)`, id).Scan(&attachments)
		if err != nil {
			return fmt.Errorf("delete policy: %w", err)
		}
		attached := func(n int) error {
			return userevents.Errorf(userevents.ECONFLICT,
				"Identity policy %q is attached to %d users or groups; detach it from all of them before deleting it.",
				id, n)
		}
		if attachments > 0 {
			return attached(attachments)
		}
		tag, err := tx.Exec(ctx, `DELETE FROM policies WHERE id = $1 AND type = 'custom'`, id)
		if hasCode(err, codeForeignKeyViolation) {
			return attached(1)
		}
		return checkAffected(tag, err, policyNotFound(id))
	})
}

// CreatePolicyVersion adds a version to a policy. It locks the policy's
// row first, so that concurrent calls cannot exceed MaxPolicyVersions
// together.
func (db *DB) CreatePolicyVersion(ctx context.Context, policyID, document string, setDefault bool) (*userevents.PolicyVersion, error) {
	var v *userevents.PolicyVersion
	err := db.inTx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		var n int
		err := tx.QueryRow(ctx, `SELECT (SELECT count(*) FROM policy_versions WHERE policy_id = p.id)
			FROM policies p WHERE p.id = $1 FOR UPDATE`, policyID).Scan(&n)
		if errors.Is(err, pgx.ErrNoRows) {
			return policyNotFound(policyID)
		} else if err != nil {
			return fmt.Errorf("create policy version: %w", err)
		}
		if n >= userevents.MaxPolicyVersions {
			return userevents.Errorf(userevents.EQUOTA,
				"Identity policy %q already has %d versions, the maximum; delete a version that is not the default first.",
				policyID, n)
		}
		v, err = addVersion(ctx, tx, policyID, document, setDefault, db.now())
		return err
	})
	if err != nil {
		return nil, err
	}
	return v, nil
}

// addVersion inserts the policy's next version and, when setDefault is
// true, makes it the default and ends the tokens of the users the policy
// applies to.
func addVersion(ctx context.Context, tx pgx.Tx, policyID, document string, setDefault bool, now time.Time) (*userevents.PolicyVersion, error) {
	var number int64
	err := tx.QueryRow(ctx, `UPDATE policies SET next_version = next_version + 1 WHERE id = $1
		RETURNING next_version - 1`, policyID).Scan(&number)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, policyNotFound(policyID)
	} else if err != nil {
		return nil, fmt.Errorf("create policy version: %w", err)
	}
	_, err = tx.Exec(ctx, `INSERT INTO policy_versions (policy_id, version, document, created_at)
		VALUES ($1, $2, $3, $4)`, policyID, number, document, now)
	if err != nil {
		return nil, fmt.Errorf("create policy version: %w", err)
	}
	v := &userevents.PolicyVersion{PolicyID: policyID, ID: versionID(number), Document: document,
		Default: setDefault, CreatedAt: now}
	if setDefault {
		if err := makeDefault(ctx, tx, policyID, number, now); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// makeDefault makes a version the default and ends the tokens of the users
// the policy applies to.
func makeDefault(ctx context.Context, tx pgx.Tx, policyID string, number int64, now time.Time) error {
	_, err := tx.Exec(ctx, `UPDATE policies SET default_version = $1, updated_at = $2 WHERE id = $3`,
		number, now, policyID)
	if err != nil {
		return fmt.Errorf("set default policy version: %w", err)
	}
	return bumpGenerations(ctx, tx, usersOfPolicy, policyID)
}

// FindPolicyVersions returns the versions of a policy, oldest first, and
// ENOTFOUND when the policy does not exist.
func (db *DB) FindPolicyVersions(ctx context.Context, policyID string) ([]*userevents.PolicyVersion, error) {
	var versions []*userevents.PolicyVersion
	err := db.inReadTx(ctx, func(tx pgx.Tx) error {
		var defaultVersion int64
		err := tx.QueryRow(ctx, `SELECT default_version FROM policies WHERE id = $1`, policyID).
			Scan(&defaultVersion)
		if errors.Is(err, pgx.ErrNoRows) {
			return policyNotFound(policyID)
		} else if err != nil {
			return fmt.Errorf("find policy versions: %w", err)
		}
		rows, err := tx.Query(ctx, `SELECT version, document, created_at FROM policy_versions
			WHERE policy_id = $1 ORDER BY version`, policyID)
		if err != nil {
			return fmt.Errorf("find policy versions: %w", err)
		}
		versions, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (*userevents.PolicyVersion, error) {
			v := &userevents.PolicyVersion{PolicyID: policyID}
			var number int64
			if err := row.Scan(&number, &v.Document, &v.CreatedAt); err != nil {
				return nil, err
			}
			v.ID = versionID(number)
			v.Default = number == defaultVersion
			return v, nil
		})
		if err != nil {
			return fmt.Errorf("find policy versions: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return versions, nil
}

// FindPolicyVersion returns one version of a policy, or ENOTFOUND.
func (db *DB) FindPolicyVersion(ctx context.Context, policyID, id string) (*userevents.PolicyVersion, error) {
	v := &userevents.PolicyVersion{PolicyID: policyID, ID: id}
	err := db.pool.QueryRow(ctx, `SELECT v.document, v.created_at, p.default_version = v.version
		FROM policy_versions v JOIN policies p ON p.id = v.policy_id
		WHERE v.policy_id = $1 AND v.version = $2`, policyID, versionNumber(id)).
		Scan(&v.Document, &v.CreatedAt, &v.Default)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, versionNotFound(policyID, id)
	} else if err != nil {
		return nil, fmt.Errorf("find policy version: %w", err)
	}
	return v, nil
}

// findDefaultVersion returns the default version of a policy.
func findDefaultVersion(ctx context.Context, q querier, policyID string) (*userevents.PolicyVersion, error) {
	v := &userevents.PolicyVersion{PolicyID: policyID, Default: true}
	var number int64
	err := q.QueryRow(ctx, `SELECT v.version, v.document, v.created_at
		FROM policy_versions v JOIN policies p ON p.id = v.policy_id AND p.default_version = v.version
		WHERE v.policy_id = $1`, policyID).Scan(&number, &v.Document, &v.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, policyNotFound(policyID)
	} else if err != nil {
		return nil, fmt.Errorf("find default policy version: %w", err)
	}
	v.ID = versionID(number)
	return v, nil
}

// DeletePolicyVersion deletes a version other than the default. It returns
// ENOTFOUND when the version does not exist and ECONFLICT for the default.
func (db *DB) DeletePolicyVersion(ctx context.Context, policyID, id string) error {
	return db.inTx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		var isDefault bool
		err := tx.QueryRow(ctx, `SELECT p.default_version = v.version
			FROM policy_versions v JOIN policies p ON p.id = v.policy_id
			WHERE v.policy_id = $1 AND v.version = $2 FOR UPDATE OF p`, policyID, versionNumber(id)).
			Scan(&isDefault)
		if errors.Is(err, pgx.ErrNoRows) {
			return versionNotFound(policyID, id)
		} else if err != nil {
			return fmt.Errorf("delete policy version: %w", err)
		}
		if isDefault {
			return userevents.Errorf(userevents.ECONFLICT,
				"Version %s is the default version of identity policy %q and cannot be deleted; make another version the default first.",
				id, policyID)
		}
		_, err = tx.Exec(ctx, `DELETE FROM policy_versions WHERE policy_id = $1 AND version = $2`,
			policyID, versionNumber(id))
		if err != nil {
			return fmt.Errorf("delete policy version: %w", err)
		}
		return nil
	})
}

// SetDefaultPolicyVersion makes a version the default. Setting the current
// default again changes nothing. It returns ENOTFOUND when the version
// does not exist.
func (db *DB) SetDefaultPolicyVersion(ctx context.Context, policyID, id string) error {
	return db.inTx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		var isDefault bool
		number := versionNumber(id)
		err := tx.QueryRow(ctx, `SELECT p.default_version = v.version
			FROM policy_versions v JOIN policies p ON p.id = v.policy_id
			WHERE v.policy_id = $1 AND v.version = $2 FOR UPDATE OF p`, policyID, number).Scan(&isDefault)
		if errors.Is(err, pgx.ErrNoRows) {
			return versionNotFound(policyID, id)
		} else if err != nil {
			return fmt.Errorf("set default policy version: %w", err)
		}
		if isDefault {
			return nil
		}
		return makeDefault(ctx, tx, policyID, number, db.now())
	})
}

func policyNotFound(id string) error {
	return userevents.Errorf(userevents.ENOTFOUND, "Identity policy %q does not exist.", id)
}

func versionNotFound(policyID, id string) error {
	return userevents.Errorf(userevents.ENOTFOUND,
		"Identity policy %q has no version %q; list its versions with ListPolicyVersionsV5.", policyID, id)
}
