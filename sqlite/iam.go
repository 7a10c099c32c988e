package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/userevents/userevents"
)

var _ userevents.IAMStore = (*DB)(nil)

const iamUserColumns = `id, account_id, name, root, password_hash, enabled, created_at,
	description, password_reset_required, password_set_at, credential_generation`

func scanIAMUser(row scanner) (*userevents.IAMUser, error) {
	var u userevents.IAMUser
	var createdAt, passwordSetAt int64
	err := row.Scan(&u.ID, &u.AccountID, &u.Name, &u.Root, &u.PasswordHash, &u.Enabled, &createdAt,
		&u.Description, &u.PasswordResetRequired, &passwordSetAt, &u.CredentialGeneration)
	if err != nil {
		return nil, err
	}
	u.CreatedAt = fromMicros(createdAt)
	u.PasswordSetAt = fromMicros(passwordSetAt)
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
	_, err := db.write.ExecContext(ctx, `INSERT INTO users (`+iamUserColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		u.ID, u.AccountID, u.Name, boolInt(u.Root), u.PasswordHash, boolInt(u.Enabled),
		micros(u.CreatedAt), u.Description, boolInt(u.PasswordResetRequired),
		micros(u.PasswordSetAt), u.CredentialGeneration)
	switch {
	case isUniqueViolation(err):
		return userNameTaken(u.Name)
	case isForeignKeyViolation(err):
		return accountNotFound(u.AccountID)
	case err != nil:
		return fmt.Errorf("create user: %w", err)
	}
	return nil
}

// FindIAMUserByID returns the user, or ENOTFOUND when no user has that ID.
func (db *DB) FindIAMUserByID(ctx context.Context, id string) (*userevents.IAMUser, error) {
	return findIAMUser(ctx, db.read, id)
}

func findIAMUser(ctx context.Context, q querier, id string) (*userevents.IAMUser, error) {
	row := q.QueryRowContext(ctx, `SELECT `+iamUserColumns+` FROM users WHERE id = ?`, id)
	u, err := scanIAMUser(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, userNotFound(id)
	} else if err != nil {
		return nil, fmt.Errorf("find user: %w", err)
	}
	return u, nil
}

// FindIAMUsers returns the users of the account, or the members of
// filter.GroupID, oldest first.
func (db *DB) FindIAMUsers(ctx context.Context, filter userevents.UserFilter) ([]*userevents.IAMUser, error) {
	query := `SELECT ` + iamUserColumns + ` FROM users WHERE account_id = ?`
	args := []any{filter.AccountID}
	if filter.GroupID != "" {
		query += ` AND id IN (SELECT user_id FROM group_members WHERE group_id = ?)`
		args = append(args, filter.GroupID)
	}
	rows, err := db.read.QueryContext(ctx, query+` ORDER BY created_at, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("find users: %w", err)
	}
	defer rows.Close()

	users := []*userevents.IAMUser{}
	for rows.Next() {
		u, err := scanIAMUser(rows)
		if err != nil {
			return nil, fmt.Errorf("find users: %w", err)
		}
		users = append(users, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find users: %w", err)
	}
	return users, nil
}

// UpdateUser changes the fields of the update that are not nil. Changing
// Enabled ends the user's tokens.
func (db *DB) UpdateUser(ctx context.Context, id string, update userevents.UserUpdate) (*userevents.IAMUser, error) {
	var u *userevents.IAMUser
	err := db.inWriteTx(ctx, func(tx *sql.Tx) error {
		var err error
		if u, err = findIAMUser(ctx, tx, id); err != nil {
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
		_, err = tx.ExecContext(ctx, `UPDATE users SET name = ?, description = ?, enabled = ?,
			credential_generation = ? WHERE id = ?`,
			u.Name, u.Description, boolInt(u.Enabled), u.CredentialGeneration, id)
		if isUniqueViolation(err) {
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
	return db.inWriteTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM access_keys WHERE user_id = ?`, id); err != nil {
			return fmt.Errorf("delete user: delete access keys: %w", err)
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM users WHERE id = ?`, id)
		if err != nil {
			return fmt.Errorf("delete user: %w", err)
		}
		return requireRow(res, userNotFound(id))
	})
}

// CreateLoginProfile sets the first password of a user. A zero CreatedAt
// is set to the store's clock.
func (db *DB) CreateLoginProfile(ctx context.Context, p *userevents.LoginProfile) error {
	if p.CreatedAt.IsZero() {
		p.CreatedAt = db.now()
	}
	return db.inWriteTx(ctx, func(tx *sql.Tx) error {
		u, err := findIAMUser(ctx, tx, p.UserID)
		if err != nil {
			return err
		}
		if u.PasswordHash != "" {
			return userevents.Errorf(userevents.ECONFLICT,
				"User %q already has a password; change it with UpdateLoginProfileV5 (PUT /v5/users/%s/login-profile).",
				u.Name, u.ID)
		}
		_, err = tx.ExecContext(ctx, `UPDATE users SET password_hash = ?, password_reset_required = ?,
			password_set_at = ?, credential_generation = credential_generation + 1 WHERE id = ?`,
			p.PasswordHash, boolInt(p.PasswordResetRequired), micros(p.CreatedAt), p.UserID)
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
	return findLoginProfile(ctx, db.read, userID)
}

func findLoginProfile(ctx context.Context, q querier, userID string) (*userevents.LoginProfile, error) {
	u, err := findIAMUser(ctx, q, userID)
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
	err := db.inWriteTx(ctx, func(tx *sql.Tx) error {
		var err error
		if p, err = findLoginProfile(ctx, tx, userID); err != nil {
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
		_, err = tx.ExecContext(ctx, `UPDATE users SET password_hash = ?, password_reset_required = ?,
			credential_generation = credential_generation + ? WHERE id = ?`,
			p.PasswordHash, boolInt(p.PasswordResetRequired), bump, userID)
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
	return db.inWriteTx(ctx, func(tx *sql.Tx) error {
		if _, err := findLoginProfile(ctx, tx, userID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = '', password_reset_required = 0,
			password_set_at = 0, credential_generation = credential_generation + 1 WHERE id = ?`, userID)
		if err != nil {
			return fmt.Errorf("delete login profile: %w", err)
		}
		return nil
	})
}

// CreateUserAccessKey stores a permanent key after checking the user's
// quota in the same transaction, so that concurrent calls cannot exceed it.
func (db *DB) CreateUserAccessKey(ctx context.Context, k *userevents.AccessKey) error {
	if k.SecurityToken != "" || !k.ExpiresAt.IsZero() {
		return errors.New("create access key: a permanent key has no security token or expiry")
	}
	return db.inWriteTx(ctx, func(tx *sql.Tx) error {
		var n int
		err := tx.QueryRowContext(ctx, `SELECT count(*) FROM access_keys
			WHERE user_id = ? AND expires_at = 0`, k.UserID).Scan(&n)
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
	return db.inWriteTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM access_keys
			WHERE user_id = ? AND expires_at > 0 AND expires_at <= ?`, k.UserID, micros(db.now()))
		if err != nil {
			return fmt.Errorf("create temporary access key: delete expired keys: %w", err)
		}
		return db.insertAccessKey(ctx, tx, k)
	})
}

// insertAccessKey stores k with its secret and security token sealed. It
// sets a zero CreatedAt to the store's clock.
func (db *DB) insertAccessKey(ctx context.Context, tx *sql.Tx, k *userevents.AccessKey) error {
	if k.CreatedAt.IsZero() {
		k.CreatedAt = db.now()
	}
	secret, err := db.sealer.Seal([]byte(k.Secret))
	if err != nil {
		return fmt.Errorf("create access key: seal secret: %w", err)
	}
	var token []byte
	if k.SecurityToken != "" {
		if token, err = db.sealer.Seal([]byte(k.SecurityToken)); err != nil {
			return fmt.Errorf("create access key: seal security token: %w", err)
		}
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO access_keys
		(id, user_id, account_id, secret, security_token, enabled, expires_at, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		k.ID, k.UserID, k.AccountID, secret, token, boolInt(k.Enabled), micros(k.ExpiresAt),
		micros(k.CreatedAt))
	switch {
	case isUniqueViolation(err):
		return userevents.Errorf(userevents.ECONFLICT, "Access key %q already exists.", k.ID)
	case isForeignKeyViolation(err):
		return userevents.Errorf(userevents.ENOTFOUND,
			"User %q or account %q of the access key does not exist.", k.UserID, k.AccountID)
	case err != nil:
		return fmt.Errorf("create access key: %w", err)
	}
	return nil
}

// FindAccessKeys returns the user's permanent keys without secrets.
func (db *DB) FindAccessKeys(ctx context.Context, userID string) ([]*userevents.AccessKey, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT id, user_id, account_id, enabled, created_at
		FROM access_keys WHERE user_id = ? AND expires_at = 0 ORDER BY created_at, id`, userID)
	if err != nil {
		return nil, fmt.Errorf("find access keys: %w", err)
	}
	defer rows.Close()

	keys := []*userevents.AccessKey{}
	for rows.Next() {
		k, err := scanKeyMetadata(rows)
		if err != nil {
			return nil, fmt.Errorf("find access keys: %w", err)
		}
		keys = append(keys, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find access keys: %w", err)
	}
	return keys, nil
}

func scanKeyMetadata(row scanner) (*userevents.AccessKey, error) {
	var k userevents.AccessKey
	var createdAt int64
	if err := row.Scan(&k.ID, &k.UserID, &k.AccountID, &k.Enabled, &createdAt); err != nil {
		return nil, err
	}
	k.CreatedAt = fromMicros(createdAt)
	return &k, nil
}

// UpdateAccessKey enables or disables a key and ends its user's tokens.
func (db *DB) UpdateAccessKey(ctx context.Context, id string, enabled bool) (*userevents.AccessKey, error) {
	var k *userevents.AccessKey
	err := db.inWriteTx(ctx, func(tx *sql.Tx) error {
		row := tx.QueryRowContext(ctx, `UPDATE access_keys SET enabled = ? WHERE id = ?
			RETURNING id, user_id, account_id, enabled, created_at`, boolInt(enabled), id)
		var err error
		k, err = scanKeyMetadata(row)
		if errors.Is(err, sql.ErrNoRows) {
			return accessKeyNotFound(id)
		} else if err != nil {
			return fmt.Errorf("update access key: %w", err)
		}
		return bumpGenerations(ctx, tx, `id = ?`, k.UserID)
	})
	if err != nil {
		return nil, err
	}
	return k, nil
}

// DeleteAccessKey deletes a key and ends its user's tokens.
func (db *DB) DeleteAccessKey(ctx context.Context, id string) error {
	return db.inWriteTx(ctx, func(tx *sql.Tx) error {
		var userID string
		err := tx.QueryRowContext(ctx, `DELETE FROM access_keys WHERE id = ? RETURNING user_id`, id).
			Scan(&userID)
		if errors.Is(err, sql.ErrNoRows) {
			return accessKeyNotFound(id)
		} else if err != nil {
			return fmt.Errorf("delete access key: %w", err)
		}
		return bumpGenerations(ctx, tx, `id = ?`, userID)
	})
}

// bumpGenerations increases the credential generation of the users that
// match cond, a condition on the users table. cond is a constant of the
// caller, never client input.
func bumpGenerations(ctx context.Context, tx *sql.Tx, cond string, args ...any) error {
	_, err := tx.ExecContext(ctx, `UPDATE users SET credential_generation = credential_generation + 1
		WHERE `+cond, args...)
	if err != nil {
		return fmt.Errorf("end tokens: %w", err)
	}
	return nil
}

// requireRow returns notFound unless the statement changed a row.
func requireRow(res sql.Result, notFound error) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("count changed rows: %w", err)
	}
	if n == 0 {
		return notFound
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
