package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/userevents/userevents"
)

var _ userevents.IAMStore = (*DB)(nil)

const iamUserColumns = `id, account_id, name, root, password_hash, enabled, created_at,
	description, password_reset_required, password_set_at, credential_generation`

func scanIAMUser(row pgx.Row) (*userevents.IAMUser, error) {
	var u userevents.IAMUser
	var passwordSetAt *time.Time
	err := row.Scan(&u.ID, &u.AccountID, &u.Name, &u.Root, &u.PasswordHash, &u.Enabled, &u.CreatedAt,
		&u.Description, &u.PasswordResetRequired, &passwordSetAt, &u.CredentialGeneration)
	if err != nil {
		return nil, err
	}
	u.PasswordSetAt = timeOrZero(passwordSetAt)
	return &u, nil
}

// CreateIAMUser stores a new user with its IAM attributes. It sets an
// empty ID to a random 32-character hex id and a zero CreatedAt to the
// store's clock. It returns ECONFLICT when the ID is taken or the account
// has a user of that name, and ENOTFOUND when the account does not exist.
func (db *DB) CreateIAMUser(ctx context.Context, u *userevents.IAMUser) error {
	if u.ID == "" {
		u.ID = newHexID()
	}
	if u.CreatedAt.IsZero() {
		u.CreatedAt = db.now()
	}
	_, err := db.pool.Exec(ctx, `INSERT INTO users (`+iamUserColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		u.ID, u.AccountID, u.Name, u.Root, u.PasswordHash, u.Enabled, u.CreatedAt,
		u.Description, u.PasswordResetRequired, timeOrNil(u.PasswordSetAt), u.CredentialGeneration)
	switch {
	case hasCode(err, codeUniqueViolation):
		return userNameTaken(u.Name)
	case hasCode(err, codeForeignKeyViolation):
		return accountNotFound(u.AccountID)
	case err != nil:
		return fmt.Errorf("create user: %w", err)
	}
	return nil
}

// FindIAMUserByID returns the user, or ENOTFOUND when no user has that ID.
func (db *DB) FindIAMUserByID(ctx context.Context, id string) (*userevents.IAMUser, error) {
	return findIAMUser(ctx, db.pool, id, "")
}

// querier is the part of *pgxpool.Pool and pgx.Tx that single-row lookups
// shared by several methods need.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// findIAMUser returns the user; lockClause, such as " FOR UPDATE", ends the
// query.
func findIAMUser(ctx context.Context, q querier, id, lockClause string) (*userevents.IAMUser, error) {
	row := q.QueryRow(ctx, `SELECT `+iamUserColumns+` FROM users WHERE id = $1`+lockClause, id)
	u, err := scanIAMUser(row)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, userNotFound(id)
	} else if err != nil {
		return nil, fmt.Errorf("find user: %w", err)
	}
	return u, nil
}

// FindIAMUsers returns the users of the account, or the members of
// filter.GroupID, oldest first.
func (db *DB) FindIAMUsers(ctx context.Context, filter userevents.UserFilter) ([]*userevents.IAMUser, error) {
	query := `SELECT ` + iamUserColumns + ` FROM users WHERE account_id = $1`
	args := []any{filter.AccountID}
	if filter.GroupID != "" {
		query += ` AND id IN (SELECT user_id FROM group_members WHERE group_id = $2)`
		args = append(args, filter.GroupID)
	}
	rows, err := db.pool.Query(ctx, query+` ORDER BY created_at, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("find users: %w", err)
	}
	users, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*userevents.IAMUser, error) {
		return scanIAMUser(row)
	})
	if err != nil {
		return nil, fmt.Errorf("find users: %w", err)
	}
	return users, nil
}

// UpdateUser changes the fields of the update that are not nil. Changing
// Enabled ends the user's tokens. The user's row stays locked from the
// read to the write, so that a concurrent change on another replica is
// not lost.
func (db *DB) UpdateUser(ctx context.Context, id string, update userevents.UserUpdate) (*userevents.IAMUser, error) {
	var u *userevents.IAMUser
	err := db.inTx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		var err error
		if u, err = findIAMUser(ctx, tx, id, " FOR UPDATE"); err != nil {
			return err
		}
		bump := update.Enabled != nil && *update.Enabled != u.Enabled
		if update.Name != nil {
			u.Name = *update.Name
		}
		if update.Description != nil {
			u.Description = *update.Description
		}
		if update.Enabled != nil {
			u.Enabled = *update.Enabled
		}
		if bump {
			u.CredentialGeneration++
		}
		_, err = tx.Exec(ctx, `UPDATE users SET name = $1, description = $2, enabled = $3,
			credential_generation = $4 WHERE id = $5`,
			u.Name, u.Description, u.Enabled, u.CredentialGeneration, id)
		if hasCode(err, codeUniqueViolation) {
			return userNameTaken(u.Name)
		} else if err != nil {
			return fmt.Errorf("update user: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// DeleteUser deletes the user and its access keys; its login profile goes
// with the row, and its memberships and attachments by cascade.
func (db *DB) DeleteUser(ctx context.Context, id string) error {
	return db.inTx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM access_keys WHERE user_id = $1`, id); err != nil {
			return fmt.Errorf("delete user: delete access keys: %w", err)
		}
		tag, err := tx.Exec(ctx, `DELETE FROM users WHERE id = $1`, id)
		if err != nil {
			return fmt.Errorf("delete user: %w", err)
		}
		return checkAffected(tag, nil, userNotFound(id))
	})
}

// CreateLoginProfile sets the first password of a user. A zero CreatedAt
// is set to the store's clock. It returns ECONFLICT when the user already
// has a password and ENOTFOUND when the user does not exist.
func (db *DB) CreateLoginProfile(ctx context.Context, p *userevents.LoginProfile) error {
	if p.CreatedAt.IsZero() {
		p.CreatedAt = db.now()
	}
	return db.inTx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		u, err := findIAMUser(ctx, tx, p.UserID, " FOR UPDATE")
		if err != nil {
			return err
		}
		if u.PasswordHash != "" {
			return userevents.Errorf(userevents.ECONFLICT,
				"User %q already has a password; change it with UpdateLoginProfileV5 (PUT /v5/users/%s/login-profile).",
				u.Name, u.ID)
		}
		_, err = tx.Exec(ctx, `UPDATE users SET password_hash = $1, password_reset_required = $2,
			password_set_at = $3, credential_generation = credential_generation + 1 WHERE id = $4`,
			p.PasswordHash, p.PasswordResetRequired, p.CreatedAt, p.UserID)
		if err != nil {
			return fmt.Errorf("create login profile: %w", err)
		}
		return nil
	})
}

// FindLoginProfile returns the user's password, or ENOTFOUND when it has
// none. A password set outside the IAM API reports the user's creation
// time as its CreatedAt.
func (db *DB) FindLoginProfile(ctx context.Context, userID string) (*userevents.LoginProfile, error) {
	return findLoginProfile(ctx, db.pool, userID, "")
}

func findLoginProfile(ctx context.Context, q querier, userID, lockClause string) (*userevents.LoginProfile, error) {
	u, err := findIAMUser(ctx, q, userID, lockClause)
	if err != nil {
		return nil, err
	}
	if u.PasswordHash == "" {
		return nil, userevents.Errorf(userevents.ENOTFOUND,
			"User %q has no password (login profile); create one with CreateLoginProfileV5.", u.Name)
	}
	p := &userevents.LoginProfile{
		UserID:                u.ID,
		PasswordHash:          u.PasswordHash,
		PasswordResetRequired: u.PasswordResetRequired,
		CreatedAt:             u.PasswordSetAt,
	}
	if p.CreatedAt.IsZero() {
		p.CreatedAt = u.CreatedAt
	}
	return p, nil
}

// UpdateLoginProfile changes the password or the reset flag. A new
// password ends the user's tokens.
func (db *DB) UpdateLoginProfile(ctx context.Context, userID string, update userevents.LoginProfileUpdate) (*userevents.LoginProfile, error) {
	var p *userevents.LoginProfile
	err := db.inTx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		var err error
		if p, err = findLoginProfile(ctx, tx, userID, " FOR UPDATE"); err != nil {
			return err
		}
		bump := 0
		if update.PasswordHash != nil {
			p.PasswordHash = *update.PasswordHash
			bump = 1
		}
		if update.PasswordResetRequired != nil {
			p.PasswordResetRequired = *update.PasswordResetRequired
		}
		_, err = tx.Exec(ctx, `UPDATE users SET password_hash = $1, password_reset_required = $2,
			credential_generation = credential_generation + $3 WHERE id = $4`,
			p.PasswordHash, p.PasswordResetRequired, bump, userID)
		if err != nil {
			return fmt.Errorf("update login profile: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// DeleteLoginProfile removes the user's password and ends its tokens.
func (db *DB) DeleteLoginProfile(ctx context.Context, userID string) error {
	return db.inTx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		if _, err := findLoginProfile(ctx, tx, userID, " FOR UPDATE"); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE users SET password_hash = '', password_reset_required = false,
			password_set_at = NULL, credential_generation = credential_generation + 1 WHERE id = $1`, userID)
		if err != nil {
			return fmt.Errorf("delete login profile: %w", err)
		}
		return nil
	})
}

// CreateUserAccessKey stores a permanent key after checking the user's
// quota in the same transaction. It locks the user's row first, so that
// concurrent calls, on any replica, cannot exceed the quota together.
func (db *DB) CreateUserAccessKey(ctx context.Context, k *userevents.AccessKey) error {
	if k.SecurityToken != "" || !k.ExpiresAt.IsZero() {
		return errors.New("create access key: a permanent key has no security token or expiry")
	}
	return db.inTx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		var locked int
		err := tx.QueryRow(ctx, `SELECT 1 FROM users WHERE id = $1 FOR NO KEY UPDATE`, k.UserID).
			Scan(&locked)
		if errors.Is(err, pgx.ErrNoRows) {
			return userevents.Errorf(userevents.ENOTFOUND,
				"User %q or account %q of the access key does not exist.", k.UserID, k.AccountID)
		} else if err != nil {
			return fmt.Errorf("create access key: lock user: %w", err)
		}
		var n int
		err = tx.QueryRow(ctx, `SELECT count(*) FROM access_keys
			WHERE user_id = $1 AND expires_at IS NULL`, k.UserID).Scan(&n)
		if err != nil {
			return fmt.Errorf("create access key: count keys: %w", err)
		}
		if n >= userevents.MaxAccessKeysPerUser {
			return userevents.Errorf(userevents.EQUOTA,
				"The user already has %d permanent access keys, the maximum; delete one before creating another.", n)
		}
		return db.insertAccessKey(ctx, tx, k)
	})
}

// CreateTemporaryAccessKey stores a temporary key and deletes the user's
// expired temporary keys, which can never authenticate again.
func (db *DB) CreateTemporaryAccessKey(ctx context.Context, k *userevents.AccessKey) error {
	if k.SecurityToken == "" || k.ExpiresAt.IsZero() {
		return errors.New("create temporary access key: the key needs a security token and an expiry")
	}
	return db.inTx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `DELETE FROM access_keys
			WHERE user_id = $1 AND expires_at <= $2`, k.UserID, db.now())
		if err != nil {
			return fmt.Errorf("create temporary access key: delete expired keys: %w", err)
		}
		return db.insertAccessKey(ctx, tx, k)
	})
}

// insertAccessKey stores k with its secret and security token sealed. It
// sets a zero CreatedAt to the store's clock.
func (db *DB) insertAccessKey(ctx context.Context, tx pgx.Tx, k *userevents.AccessKey) error {
	if k.CreatedAt.IsZero() {
		k.CreatedAt = db.now()
	}
	secret, token, err := db.sealKey(k)
	if err != nil {
		return fmt.Errorf("create access key: %w", err)
	}
	_, err = tx.Exec(ctx, `INSERT INTO access_keys
		(id, user_id, account_id, secret, security_token, enabled, expires_at, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		k.ID, k.UserID, k.AccountID, secret, token, k.Enabled, timeOrNil(k.ExpiresAt), k.CreatedAt)
	switch {
	case hasCode(err, codeUniqueViolation):
		return userevents.Errorf(userevents.ECONFLICT, "Access key %q already exists.", k.ID)
	case hasCode(err, codeForeignKeyViolation):
		return userevents.Errorf(userevents.ENOTFOUND,
			"User %q or account %q of the access key does not exist.", k.UserID, k.AccountID)
	case err != nil:
		return fmt.Errorf("create access key: %w", err)
	}
	return nil
}

// FindAccessKeys returns the user's permanent keys without secrets, oldest
// first.
func (db *DB) FindAccessKeys(ctx context.Context, userID string) ([]*userevents.AccessKey, error) {
	rows, err := db.pool.Query(ctx, `SELECT id, user_id, account_id, enabled, created_at
		FROM access_keys WHERE user_id = $1 AND expires_at IS NULL ORDER BY created_at, id`, userID)
	if err != nil {
		return nil, fmt.Errorf("find access keys: %w", err)
	}
	keys, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*userevents.AccessKey, error) {
		return scanKeyMetadata(row)
	})
	if err != nil {
		return nil, fmt.Errorf("find access keys: %w", err)
	}
	return keys, nil
}

func scanKeyMetadata(row pgx.Row) (*userevents.AccessKey, error) {
	var k userevents.AccessKey
	if err := row.Scan(&k.ID, &k.UserID, &k.AccountID, &k.Enabled, &k.CreatedAt); err != nil {
		return nil, err
	}
	return &k, nil
}

// UpdateAccessKey enables or disables a key and ends its user's tokens.
func (db *DB) UpdateAccessKey(ctx context.Context, id string, enabled bool) (*userevents.AccessKey, error) {
	var k *userevents.AccessKey
	err := db.inTx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		row := tx.QueryRow(ctx, `UPDATE access_keys SET enabled = $1 WHERE id = $2
			RETURNING id, user_id, account_id, enabled, created_at`, enabled, id)
		var err error
		k, err = scanKeyMetadata(row)
		if errors.Is(err, pgx.ErrNoRows) {
			return accessKeyNotFound(id)
		} else if err != nil {
			return fmt.Errorf("update access key: %w", err)
		}
		return bumpGenerations(ctx, tx, `id = $1`, k.UserID)
	})
	if err != nil {
		return nil, err
	}
	return k, nil
}

// DeleteAccessKey deletes a key and ends its user's tokens.
func (db *DB) DeleteAccessKey(ctx context.Context, id string) error {
	return db.inTx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		var userID string
		err := tx.QueryRow(ctx, `DELETE FROM access_keys WHERE id = $1 RETURNING user_id`, id).
			Scan(&userID)
		if errors.Is(err, pgx.ErrNoRows) {
			return accessKeyNotFound(id)
		} else if err != nil {
			return fmt.Errorf("delete access key: %w", err)
		}
		return bumpGenerations(ctx, tx, `id = $1`, userID)
	})
}

// bumpGenerations increases the credential generation of the users that
// match cond, a condition on the users table whose one argument is $1.
// cond is a constant of the caller, never client input.
func bumpGenerations(ctx context.Context, tx pgx.Tx, cond string, arg any) error {
	_, err := tx.Exec(ctx, `UPDATE users SET credential_generation = credential_generation + 1
		WHERE `+cond, arg)
	if err != nil {
		return fmt.Errorf("end tokens: %w", err)
	}
	return nil
}

func userNotFound(id string) error {
	return userevents.Errorf(userevents.ENOTFOUND, "User %q does not exist.", id)
}

func userNameTaken(name string) error {
	return userevents.Errorf(userevents.ECONFLICT,
		"The account already has a user named %q; choose another name.", name)
}

func accessKeyNotFound(id string) error {
	return userevents.Errorf(userevents.ENOTFOUND, "Access key %q does not exist.", id)
}
