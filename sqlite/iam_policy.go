package sqlite

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/userevents/userevents"
)

// policyColumns are the policy columns and the number of attachments in
// one account, whose id is the first two arguments of the query.
const policyColumns = `p.id, p.account_id, p.type, p.name, p.path, p.description,
	p.default_version, p.created_at, p.updated_at,
	(SELECT count(*) FROM user_policies up JOIN users u ON u.id = up.user_id
		WHERE up.policy_id = p.id AND u.account_id = ?) +
	(SELECT count(*) FROM group_policies gp JOIN iam_groups g ON g.id = gp.group_id
		WHERE gp.policy_id = p.id AND g.account_id = ?) AS attachment_count`

const policySelect = `SELECT ` + policyColumns + ` FROM policies p`

// usersOfPolicy is the condition on users that selects those a policy
// applies to, directly or through a group; its arguments are the policy id
// twice.
const usersOfPolicy = `id IN (SELECT user_id FROM user_policies WHERE policy_id = ?
	UNION SELECT gm.user_id FROM group_policies gp JOIN group_members gm ON gm.group_id = gp.group_id
	WHERE gp.policy_id = ?)`

func scanPolicy(row scanner, extra ...any) (*userevents.Policy, error) {
	var p userevents.Policy
	var defaultVersion, createdAt, updatedAt int64
	dest := append([]any{&p.ID, &p.AccountID, &p.Type, &p.Name, &p.Path, &p.Description,
		&defaultVersion, &createdAt, &updatedAt, &p.AttachmentCount}, extra...)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	p.DefaultVersionID = versionID(defaultVersion)
	p.CreatedAt = fromMicros(createdAt)
	p.UpdatedAt = fromMicros(updatedAt)
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
	return db.inWriteTx(ctx, func(tx *sql.Tx) error {
		var exists bool
		err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM accounts WHERE id = ?)`, p.AccountID).
			Scan(&exists)
		if err != nil {
			return fmt.Errorf("create policy: %w", err)
		} else if !exists {
			return accountNotFound(p.AccountID)
		}
		return insertPolicy(ctx, tx, p, document)
	})
}

func insertPolicy(ctx context.Context, tx *sql.Tx, p *userevents.Policy, document string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO policies (id, account_id, type, name, path,
		description, default_version, next_version, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, 1, 2, ?, ?)`,
		p.ID, p.AccountID, p.Type, p.Name, p.Path, p.Description, micros(p.CreatedAt),
		micros(p.UpdatedAt))
	if isUniqueViolation(err) {
		return userevents.Errorf(userevents.ECONFLICT,
			"The account already has an identity policy named %q; choose another name.", p.Name)
	} else if err != nil {
		return fmt.Errorf("create policy: %w", err)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO policy_versions (policy_id, version, document, created_at)
		VALUES (?, 1, ?, ?)`, p.ID, document, micros(p.CreatedAt))
	if err != nil {
		return fmt.Errorf("create policy version: %w", err)
	}
	return nil
}

// PutSystemPolicy creates or updates a system policy. Servers call it at
// start for each built-in policy, so a changed built-in document reaches
// existing databases as a new default version.
func (db *DB) PutSystemPolicy(ctx context.Context, name, description, document string) (*userevents.Policy, error) {
	id := systemPolicyID(name)
	err := db.inWriteTx(ctx, func(tx *sql.Tx) error {
		now := db.now()
		current, err := findDefaultVersion(ctx, tx, id)
		if userevents.ErrorCode(err) == userevents.ENOTFOUND {
			p := &userevents.Policy{ID: id, Type: userevents.PolicyTypeSystem, Name: name,
				Description: description, CreatedAt: now, UpdatedAt: now}
			return insertPolicy(ctx, tx, p, document)
		} else if err != nil {
			return err
		}

		_, err = tx.ExecContext(ctx, `UPDATE policies SET description = ? WHERE id = ?`, description, id)
		if err != nil {
			return fmt.Errorf("put system policy: %w", err)
		}
		if current.Document == document {
			return nil
		}
		if _, err := addVersion(ctx, tx, id, document, true, now); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM policy_versions WHERE policy_id = ? AND version NOT IN
			(SELECT version FROM policy_versions WHERE policy_id = ? ORDER BY version DESC LIMIT ?)`,
			id, id, userevents.MaxPolicyVersions)
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

// FindPolicyByID returns a custom policy of the account or a system policy.
func (db *DB) FindPolicyByID(ctx context.Context, accountID, id string) (*userevents.Policy, error) {
	row := db.queryRow(ctx, policySelect+` WHERE p.id = ?
		AND (p.account_id = ? OR p.type = 'system')`, accountID, accountID, id, accountID)
	p, err := scanPolicy(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, policyNotFound(id)
	} else if err != nil {
		return nil, fmt.Errorf("find policy: %w", err)
	}
	return p, nil
}

// FindPolicies returns the account's custom policies and the system
// policies that match the filter.
func (db *DB) FindPolicies(ctx context.Context, filter userevents.PolicyFilter) ([]*userevents.Policy, error) {
	query := `SELECT * FROM (` + policySelect + ` WHERE (p.account_id = ? OR p.type = 'system')) AS q
		WHERE 1 = 1`
	args := []any{filter.AccountID, filter.AccountID, filter.AccountID}
	if filter.Type != "" {
		query += ` AND q.type = ?`
		args = append(args, filter.Type)
	}
	if filter.PathPrefix != "" {
		query += ` AND substr(q.path, 1, length(?)) = ?`
		args = append(args, filter.PathPrefix, filter.PathPrefix)
	}
	if filter.OnlyAttached {
		query += ` AND q.attachment_count > 0`
	}
	rows, err := db.read.QueryContext(ctx, query+` ORDER BY q.type = 'custom', q.created_at, q.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("find policies: %w", err)
	}
	defer rows.Close()

	policies := []*userevents.Policy{}
	for rows.Next() {
		p, err := scanPolicy(rows)
		if err != nil {
			return nil, fmt.Errorf("find policies: %w", err)
		}
		policies = append(policies, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find policies: %w", err)
	}
	return policies, nil
}

// DeletePolicy deletes a custom policy that is attached to nothing.
func (db *DB) DeletePolicy(ctx context.Context, id string) error {
	return db.inWriteTx(ctx, func(tx *sql.Tx) error {
		var attachments int
		err := tx.QueryRowContext(ctx, `SELECT
			(SELECT count(*) FROM user_policies WHERE policy_id = ?) +
			(SELECT count(*) FROM group_policies WHERE policy_id = ?)`, id, id).Scan(&attachments)
		if err != nil {
			return fmt.Errorf("delete policy: %w", err)
		}
		if attachments > 0 {
			return userevents.Errorf(userevents.ECONFLICT,
				"Identity policy %q is attached to %d users or groups; detach it from all of them before deleting it.",
				id, attachments)
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM policies WHERE id = ? AND type = 'custom'`, id)
		if err != nil {
			return fmt.Errorf("delete policy: %w", err)
		}
		return requireRow(res, policyNotFound(id))
	})
}

// CreatePolicyVersion adds a version to a policy.
func (db *DB) CreatePolicyVersion(ctx context.Context, policyID, document string, setDefault bool) (*userevents.PolicyVersion, error) {
	var v *userevents.PolicyVersion
	err := db.inWriteTx(ctx, func(tx *sql.Tx) error {
		var n int
		err := tx.QueryRowContext(ctx, `SELECT count(*) FROM policy_versions WHERE policy_id = ?`, policyID).
			Scan(&n)
		if err != nil {
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
func addVersion(ctx context.Context, tx *sql.Tx, policyID, document string, setDefault bool, now time.Time) (*userevents.PolicyVersion, error) {
	var number int64
	err := tx.QueryRowContext(ctx, `UPDATE policies SET next_version = next_version + 1 WHERE id = ?
		RETURNING next_version - 1`, policyID).Scan(&number)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, policyNotFound(policyID)
	} else if err != nil {
		return nil, fmt.Errorf("create policy version: %w", err)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO policy_versions (policy_id, version, document, created_at)
		VALUES (?, ?, ?, ?)`, policyID, number, document, micros(now))
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
func makeDefault(ctx context.Context, tx *sql.Tx, policyID string, number int64, now time.Time) error {
	_, err := tx.ExecContext(ctx, `UPDATE policies SET default_version = ?, updated_at = ? WHERE id = ?`,
		number, micros(now), policyID)
	if err != nil {
		return fmt.Errorf("set default policy version: %w", err)
	}
	return bumpGenerations(ctx, tx, usersOfPolicy, policyID, policyID)
}

// FindPolicyVersions returns the versions of a policy, oldest first, and
// ENOTFOUND when the policy does not exist.
func (db *DB) FindPolicyVersions(ctx context.Context, policyID string) ([]*userevents.PolicyVersion, error) {
	var versions []*userevents.PolicyVersion
	err := db.inReadTx(ctx, func(tx *sql.Tx) error {
		var defaultVersion int64
		err := tx.QueryRowContext(ctx, `SELECT default_version FROM policies WHERE id = ?`, policyID).
			Scan(&defaultVersion)
		if errors.Is(err, sql.ErrNoRows) {
			return policyNotFound(policyID)
		} else if err != nil {
			return fmt.Errorf("find policy versions: %w", err)
		}
		rows, err := tx.QueryContext(ctx, `SELECT version, document, created_at FROM policy_versions
			WHERE policy_id = ? ORDER BY version`, policyID)
		if err != nil {
			return fmt.Errorf("find policy versions: %w", err)
		}
		defer rows.Close()
		versions = []*userevents.PolicyVersion{}
		for rows.Next() {
			v := &userevents.PolicyVersion{PolicyID: policyID}
			var number, createdAt int64
			if err := rows.Scan(&number, &v.Document, &createdAt); err != nil {
				return fmt.Errorf("find policy versions: %w", err)
			}
			v.ID = versionID(number)
			v.Default = number == defaultVersion
			v.CreatedAt = fromMicros(createdAt)
			versions = append(versions, v)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return versions, nil
}

// FindPolicyVersion returns one version of a policy.
func (db *DB) FindPolicyVersion(ctx context.Context, policyID, id string) (*userevents.PolicyVersion, error) {
	v := &userevents.PolicyVersion{PolicyID: policyID, ID: id}
	var createdAt int64
	err := db.queryRow(ctx, `SELECT v.document, v.created_at, p.default_version = v.version
		FROM policy_versions v JOIN policies p ON p.id = v.policy_id
		WHERE v.policy_id = ? AND v.version = ?`, policyID, versionNumber(id)).
		Scan(&v.Document, &createdAt, &v.Default)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, versionNotFound(policyID, id)
	} else if err != nil {
		return nil, fmt.Errorf("find policy version: %w", err)
	}
	v.CreatedAt = fromMicros(createdAt)
	return v, nil
}

// findDefaultVersion returns the default version of a policy.
func findDefaultVersion(ctx context.Context, q querier, policyID string) (*userevents.PolicyVersion, error) {
	v := &userevents.PolicyVersion{PolicyID: policyID, Default: true}
	var number, createdAt int64
	err := q.QueryRowContext(ctx, `SELECT v.version, v.document, v.created_at
		FROM policy_versions v JOIN policies p ON p.id = v.policy_id AND p.default_version = v.version
		WHERE v.policy_id = ?`, policyID).Scan(&number, &v.Document, &createdAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, policyNotFound(policyID)
	} else if err != nil {
		return nil, fmt.Errorf("find default policy version: %w", err)
	}
	v.ID = versionID(number)
	v.CreatedAt = fromMicros(createdAt)
	return v, nil
}

// DeletePolicyVersion deletes a version other than the default.
func (db *DB) DeletePolicyVersion(ctx context.Context, policyID, id string) error {
	return db.inWriteTx(ctx, func(tx *sql.Tx) error {
		var isDefault bool
		err := tx.QueryRowContext(ctx, `SELECT p.default_version = v.version
			FROM policy_versions v JOIN policies p ON p.id = v.policy_id
			WHERE v.policy_id = ? AND v.version = ?`, policyID, versionNumber(id)).Scan(&isDefault)
		if errors.Is(err, sql.ErrNoRows) {
			return versionNotFound(policyID, id)
		} else if err != nil {
			return fmt.Errorf("delete policy version: %w", err)
		}
		if isDefault {
			return userevents.Errorf(userevents.ECONFLICT,
				"Version %s is the default version of identity policy %q and cannot be deleted; make another version the default first.",
				id, policyID)
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM policy_versions WHERE policy_id = ? AND version = ?`,
			policyID, versionNumber(id))
		if err != nil {
			return fmt.Errorf("delete policy version: %w", err)
		}
		return nil
	})
}

// SetDefaultPolicyVersion makes a version the default. Setting the current
// default again changes nothing.
func (db *DB) SetDefaultPolicyVersion(ctx context.Context, policyID, id string) error {
	return db.inWriteTx(ctx, func(tx *sql.Tx) error {
		var isDefault bool
		number := versionNumber(id)
		err := tx.QueryRowContext(ctx, `SELECT p.default_version = v.version
			FROM policy_versions v JOIN policies p ON p.id = v.policy_id
			WHERE v.policy_id = ? AND v.version = ?`, policyID, number).Scan(&isDefault)
		if errors.Is(err, sql.ErrNoRows) {
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
