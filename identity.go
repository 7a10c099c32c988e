package userevents

import (
	"context"
	"log/slog"
	"time"
)

// Account is a Huawei Cloud account (an IAM domain). Its root user may do
// everything in the account.
type Account struct {
	ID        string // 32 lower-case hex characters
	Name      string
	CreatedAt time.Time
}

// Project is a region-scoped project of an account. Its name is the region
// id, such as cn-north-4.
type Project struct {
	ID        string // 32 lower-case hex characters
	Name      string
	AccountID string
	CreatedAt time.Time
}

// User is an IAM user. The account root is a user with Root set whose name
// is the account name.
type User struct {
	ID           string
	AccountID    string
	Name         string
	Root         bool
	PasswordHash string // empty when the user cannot sign in with a password
	Enabled      bool
	CreatedAt    time.Time
}

// AccessKey is an AK/SK pair. Temporary keys also carry a security token
// and an expiry.
type AccessKey struct {
	ID            string // the AK
	Secret        Secret // the SK
	UserID        string
	AccountID     string
	Enabled       bool
	SecurityToken Secret    // empty for permanent keys
	ExpiresAt     time.Time // zero for permanent keys
	CreatedAt     time.Time
}

// Secret is a secret value such as an SK or a password. It redacts itself
// in logs and in fmt output.
type Secret string

// LogValue keeps secrets out of slog output.
func (Secret) LogValue() slog.Value { return slog.StringValue("REDACTED") }

// String keeps secrets out of fmt output; use string(s) for the value.
func (Secret) String() string { return "REDACTED" }

// ProjectFilter selects projects. Empty fields do not filter.
type ProjectFilter struct {
	AccountID string
	Name      string
	ID        string
}

// IdentityStore stores accounts, projects, users and keys. Secrets are
// encrypted at rest by the store.
type IdentityStore interface {
	// CreateAccount returns ECONFLICT when the name or id is taken.
	CreateAccount(ctx context.Context, a *Account) error
	// FindAccountByName returns ENOTFOUND when no such account exists.
	FindAccountByName(ctx context.Context, name string) (*Account, error)
	FindAccountByID(ctx context.Context, id string) (*Account, error)

	// CreateProject returns ECONFLICT when the id is taken or the account
	// already has a project of that name.
	CreateProject(ctx context.Context, p *Project) error
	FindProjects(ctx context.Context, filter ProjectFilter) ([]*Project, error)
	// FindProjectByID returns ENOTFOUND when no such project exists.
	FindProjectByID(ctx context.Context, id string) (*Project, error)

	// CreateUser returns ECONFLICT when the account has a user of that name.
	CreateUser(ctx context.Context, u *User) error
	FindUserByID(ctx context.Context, id string) (*User, error)
	// FindUserByName returns ENOTFOUND when the account has no such user.
	FindUserByName(ctx context.Context, accountID, name string) (*User, error)

	// CreateAccessKey returns ECONFLICT when the AK is taken.
	CreateAccessKey(ctx context.Context, k *AccessKey) error
	// FindAccessKey returns ENOTFOUND when the AK does not exist.
	FindAccessKey(ctx context.Context, id string) (*AccessKey, error)
}

// Principal is the authenticated caller of a request.
type Principal struct {
	AccountID   string
	AccountName string
	UserID      string
	UserName    string
	Root        bool
	AccessKeyID string // empty for token callers
	SourceIP    string
}

// Authorizer decides whether a principal may perform an action on a
// resource. It returns nil when allowed and an EFORBIDDEN *Error naming the
// action and resource when not.
type Authorizer interface {
	Authorize(ctx context.Context, p *Principal, action, resource string) error
}

// Sealer encrypts secrets before a store writes them and decrypts them on
// read.
type Sealer interface {
	Seal(plaintext []byte) ([]byte, error)
	Open(ciphertext []byte) ([]byte, error)
}
