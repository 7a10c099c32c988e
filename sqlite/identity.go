package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/userevents/userevents"
)

// newHexID returns a random id of 32 lower-case hex characters, the form of
// IAM account, project and user ids.
func newHexID() string {
	return strings.ReplaceAll(uuid.NewString(), "-", "")
}

// CreateAccount stores a new account. It sets an empty ID to a random
// 32-character hex id and a zero CreatedAt to the store's clock. It returns
// ECONFLICT when the name or the ID is taken.
func (db *DB) CreateAccount(ctx context.Context, a *userevents.Account) error {
	if a.ID == "" {
		a.ID = newHexID()
	}
	if a.CreatedAt.IsZero() {
		a.CreatedAt = db.now()
	}
	_, err := db.write.ExecContext(ctx, `INSERT INTO accounts (id, name, created_at)
		VALUES (?, ?, ?)`, a.ID, a.Name, micros(a.CreatedAt))
	if isUniqueViolation(err) {
		return userevents.Errorf(userevents.ECONFLICT,
			"Account name %q or ID %q already exists; choose another.", a.Name, a.ID)
	} else if err != nil {
		return fmt.Errorf("create account: %w", err)
	}
	return nil
}

// FindAccountByName returns the account, or ENOTFOUND when no account has
// that name.
func (db *DB) FindAccountByName(ctx context.Context, name string) (*userevents.Account, error) {
	return db.findAccount(ctx, "name", name)
}

// FindAccountByID returns the account, or ENOTFOUND when no account has
// that ID.
func (db *DB) FindAccountByID(ctx context.Context, id string) (*userevents.Account, error) {
	return db.findAccount(ctx, "id", id)
}

// findAccount returns the account whose column equals value; column is a
// constant of the caller, never client input.
func (db *DB) findAccount(ctx context.Context, column, value string) (*userevents.Account, error) {
	var a userevents.Account
	var createdAt int64
	err := db.queryRow(ctx, `SELECT id, name, created_at FROM accounts
		WHERE `+column+` = ?`, value).Scan(&a.ID, &a.Name, &createdAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, userevents.Errorf(userevents.ENOTFOUND,
			"Account with %s %q does not exist.", column, value)
	} else if err != nil {
		return nil, fmt.Errorf("find account: %w", err)
	}
	a.CreatedAt = fromMicros(createdAt)
	return &a, nil
}

// CreateProject stores a new project. It sets an empty ID to a random
// 32-character hex id and a zero CreatedAt to the store's clock. It returns
// ECONFLICT when the ID is taken or the account already has a project of
// that name, and ENOTFOUND when the account does not exist.
func (db *DB) CreateProject(ctx context.Context, p *userevents.Project) error {
	if p.ID == "" {
		p.ID = newHexID()
	}
	if p.CreatedAt.IsZero() {
		p.CreatedAt = db.now()
	}
	_, err := db.write.ExecContext(ctx, `INSERT INTO projects (id, account_id, name, created_at)
		VALUES (?, ?, ?, ?)`, p.ID, p.AccountID, p.Name, micros(p.CreatedAt))
	switch {
	case isUniqueViolation(err):
		return userevents.Errorf(userevents.ECONFLICT,
			"Project ID %q, or project name %q in the account, already exists; choose another.",
			p.ID, p.Name)
	case isForeignKeyViolation(err):
		return accountNotFound(p.AccountID)
	case err != nil:
		return fmt.Errorf("create project: %w", err)
	}
	return nil
}

// FindProjects returns the projects that match the filter, oldest first,
// and an empty slice when none match.
func (db *DB) FindProjects(ctx context.Context, filter userevents.ProjectFilter) ([]*userevents.Project, error) {
	conds := []string{"1 = 1"}
	var args []any
	for _, c := range []struct{ column, value string }{
		{"account_id", filter.AccountID},
		{"name", filter.Name},
		{"id", filter.ID},
	} {
		if c.value != "" {
			conds = append(conds, c.column+" = ?")
			args = append(args, c.value)
		}
	}
	rows, err := db.read.QueryContext(ctx, `SELECT id, account_id, name, created_at
		FROM projects WHERE `+strings.Join(conds, " AND ")+` ORDER BY created_at, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("find projects: %w", err)
	}
	defer rows.Close()

	projects := []*userevents.Project{}
	for rows.Next() {
		p, err := scanProject(rows)
		if err != nil {
			return nil, fmt.Errorf("find projects: %w", err)
		}
		projects = append(projects, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find projects: %w", err)
	}
	return projects, nil
}

// FindProjectByID returns the project, or ENOTFOUND when no project has
// that ID.
func (db *DB) FindProjectByID(ctx context.Context, id string) (*userevents.Project, error) {
	row := db.queryRow(ctx, `SELECT id, account_id, name, created_at
		FROM projects WHERE id = ?`, id)
	p, err := scanProject(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, userevents.Errorf(userevents.ENOTFOUND, "Project %q does not exist.", id)
	} else if err != nil {
		return nil, fmt.Errorf("find project: %w", err)
	}
	return p, nil
}

func scanProject(row scanner) (*userevents.Project, error) {
	var p userevents.Project
	var createdAt int64
	if err := row.Scan(&p.ID, &p.AccountID, &p.Name, &createdAt); err != nil {
		return nil, err
	}
	p.CreatedAt = fromMicros(createdAt)
	return &p, nil
}

// CreateUser stores a new user with PasswordHash as given. It sets an empty
// ID to a random 32-character hex id and a zero CreatedAt to the store's
// clock. It returns ECONFLICT when the ID is taken or the account already
// has a user of that name, and ENOTFOUND when the account does not exist.
func (db *DB) CreateUser(ctx context.Context, u *userevents.User) error {
	if u.ID == "" {
		u.ID = newHexID()
	}
	if u.CreatedAt.IsZero() {
		u.CreatedAt = db.now()
	}
	_, err := db.write.ExecContext(ctx, `INSERT INTO users
		(id, account_id, name, root, password_hash, enabled, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`,
		u.ID, u.AccountID, u.Name, boolInt(u.Root), u.PasswordHash, boolInt(u.Enabled),
		micros(u.CreatedAt))
	switch {
	case isUniqueViolation(err):
		return userevents.Errorf(userevents.ECONFLICT,
			"User ID %q, or user name %q in the account, already exists; choose another.",
			u.ID, u.Name)
	case isForeignKeyViolation(err):
		return accountNotFound(u.AccountID)
	case err != nil:
		return fmt.Errorf("create user: %w", err)
	}
	return nil
}

// FindUserByID returns the user, or ENOTFOUND when no user has that ID.
func (db *DB) FindUserByID(ctx context.Context, id string) (*userevents.User, error) {
	row := db.queryRow(ctx, `SELECT id, account_id, name, root, password_hash,
		enabled, created_at FROM users WHERE id = ?`, id)
	u, err := scanUser(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, userevents.Errorf(userevents.ENOTFOUND, "User %q does not exist.", id)
	} else if err != nil {
		return nil, fmt.Errorf("find user: %w", err)
	}
	return u, nil
}

// FindUserByName returns the account's user of that name, or ENOTFOUND
// when the account has none.
func (db *DB) FindUserByName(ctx context.Context, accountID, name string) (*userevents.User, error) {
	row := db.queryRow(ctx, `SELECT id, account_id, name, root, password_hash,
		enabled, created_at FROM users WHERE account_id = ? AND name = ?`, accountID, name)
	u, err := scanUser(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, userevents.Errorf(userevents.ENOTFOUND,
			"User %q does not exist in the account.", name)
	} else if err != nil {
		return nil, fmt.Errorf("find user: %w", err)
	}
	return u, nil
}

func scanUser(row scanner) (*userevents.User, error) {
	var u userevents.User
	var createdAt int64
	err := row.Scan(&u.ID, &u.AccountID, &u.Name, &u.Root, &u.PasswordHash, &u.Enabled, &createdAt)
	if err != nil {
		return nil, err
	}
	u.CreatedAt = fromMicros(createdAt)
	return &u, nil
}

// CreateAccessKey stores a new key with its secret and security token
// sealed. It sets a zero CreatedAt to the store's clock. It returns
// ECONFLICT when the AK is taken and ENOTFOUND when the user or account
// does not exist.
func (db *DB) CreateAccessKey(ctx context.Context, k *userevents.AccessKey) error {
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

	_, err = db.write.ExecContext(ctx, `INSERT INTO access_keys
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

// FindAccessKey returns the key with its secret and security token
// decrypted, or ENOTFOUND when the AK does not exist.
func (db *DB) FindAccessKey(ctx context.Context, id string) (*userevents.AccessKey, error) {
	k := userevents.AccessKey{ID: id}
	var secret, token []byte
	var expiresAt, createdAt int64
	err := db.queryRow(ctx, `SELECT user_id, account_id, secret, security_token,
		enabled, expires_at, created_at FROM access_keys WHERE id = ?`, id).
		Scan(&k.UserID, &k.AccountID, &secret, &token, &k.Enabled, &expiresAt, &createdAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, userevents.Errorf(userevents.ENOTFOUND, "Access key %q does not exist.", id)
	} else if err != nil {
		return nil, fmt.Errorf("find access key: %w", err)
	}

	plain, err := db.sealer.Open(secret)
	if err != nil {
		return nil, fmt.Errorf("find access key %q: open secret: %w", id, err)
	}
	k.Secret = userevents.Secret(plain)
	if token != nil {
		if plain, err = db.sealer.Open(token); err != nil {
			return nil, fmt.Errorf("find access key %q: open security token: %w", id, err)
		}
		k.SecurityToken = userevents.Secret(plain)
	}
	k.ExpiresAt = fromMicros(expiresAt)
	k.CreatedAt = fromMicros(createdAt)
	return &k, nil
}

func accountNotFound(accountID string) error {
	return userevents.Errorf(userevents.ENOTFOUND, "Account %q does not exist.", accountID)
}
