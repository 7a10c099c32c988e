package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/userevents/userevents"
	"github.com/userevents/userevents/auth"
)

// credentials is the content of DIR/credentials.json: everything a client
// needs to call the server as the account root.
type credentials struct {
	AccountName  string `json:"account_name"`
	AccountID    string `json:"account_id"`
	Region       string `json:"region"`
	ProjectID    string `json:"project_id"`
	AccessKey    string `json:"access_key"`
	SecretKey    string `json:"secret_key"`
	RootUser     string `json:"root_user"`
	RootPassword string `json:"root_password,omitempty"`
}

// bootstrap makes sure the account, its project, the root user and the
// root's access key exist. Values the configuration leaves empty are
// generated; when anything was created, the credentials are written to
// DIR/credentials.json (mode 0600) and printed once to out.
func bootstrap(ctx context.Context, store userevents.Store, cfg Config, out io.Writer, logger *slog.Logger) error {
	now := time.Now().UTC()
	creds := credentials{AccountName: cfg.AccountName, Region: cfg.Region, RootUser: cfg.AccountName}
	created := false

	account, err := store.FindAccountByName(ctx, cfg.AccountName)
	if userevents.ErrorCode(err) == userevents.ENOTFOUND {
		account = &userevents.Account{ID: randomHex(16), Name: cfg.AccountName, CreatedAt: now}
		if err := store.CreateAccount(ctx, account); err != nil {
			return fmt.Errorf("create account: %w", err)
		}
		created = true
		logger.Info("account created", "account_id", account.ID, "account_name", account.Name)
	} else if err != nil {
		return fmt.Errorf("find account: %w", err)
	}
	creds.AccountID = account.ID

	project, made, err := ensureProject(ctx, store, account, cfg, now)
	if err != nil {
		return err
	}
	created = created || made
	creds.ProjectID = project.ID

	root, made, err := ensureRoot(ctx, store, account, cfg, now, &creds)
	if err != nil {
		return err
	}
	created = created || made

	made, err = ensureRootKey(ctx, store, root, cfg, now, &creds)
	if err != nil {
		return err
	}
	created = created || made

	if !created {
		logger.Info("identity ready", "account_name", account.Name, "project_id", project.ID)
		return nil
	}
	return writeCredentials(cfg.DataDir, creds, out)
}

func ensureProject(ctx context.Context, store userevents.Store, account *userevents.Account, cfg Config, now time.Time) (*userevents.Project, bool, error) {
	projects, err := store.FindProjects(ctx, userevents.ProjectFilter{AccountID: account.ID, Name: cfg.Region})
	if err != nil {
		return nil, false, fmt.Errorf("find projects: %w", err)
	}
	if len(projects) > 0 {
		p := projects[0]
		if cfg.ProjectID != "" && cfg.ProjectID != p.ID {
			return nil, false, fmt.Errorf("USEREVENTS_PROJECT_ID %s differs from the stored project %s of region %s; unset it or use a new data directory",
				cfg.ProjectID, p.ID, cfg.Region)
		}
		return p, false, nil
	}
	p := &userevents.Project{ID: cfg.ProjectID, Name: cfg.Region, AccountID: account.ID, CreatedAt: now}
	if p.ID == "" {
		p.ID = randomHex(16)
	}
	if err := store.CreateProject(ctx, p); err != nil {
		return nil, false, fmt.Errorf("create project %s: %w", p.ID, err)
	}
	return p, true, nil
}

func ensureRoot(ctx context.Context, store userevents.Store, account *userevents.Account, cfg Config, now time.Time, creds *credentials) (*userevents.User, bool, error) {
	root, err := store.FindUserByName(ctx, account.ID, account.Name)
	if err == nil {
		return root, false, nil
	} else if userevents.ErrorCode(err) != userevents.ENOTFOUND {
		return nil, false, fmt.Errorf("find root user: %w", err)
	}
	password := cfg.RootPassword
	if password == "" {
		password = auth.RandomAlphanumeric(24)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return nil, false, fmt.Errorf("hash root password: %w", err)
	}
	root = &userevents.User{
		ID:           randomHex(16),
		AccountID:    account.ID,
		Name:         account.Name,
		Root:         true,
		PasswordHash: string(hash),
		Enabled:      true,
		CreatedAt:    now,
	}
	if err := store.CreateUser(ctx, root); err != nil {
		return nil, false, fmt.Errorf("create root user: %w", err)
	}
	creds.RootPassword = password
	return root, true, nil
}

func ensureRootKey(ctx context.Context, store userevents.Store, root *userevents.User, cfg Config, now time.Time, creds *credentials) (bool, error) {
	ak, sk := cfg.AccessKey, cfg.SecretKey
	if ak != "" {
		key, err := store.FindAccessKey(ctx, ak)
		if err == nil {
			if key.UserID != root.ID || string(key.Secret) != sk {
				return false, fmt.Errorf("USEREVENTS_ACCESS_KEY %s exists with another secret or owner; set the matching USEREVENTS_SECRET_KEY", ak)
			}
			creds.AccessKey, creds.SecretKey = ak, sk
			return false, nil
		} else if userevents.ErrorCode(err) != userevents.ENOTFOUND {
			return false, fmt.Errorf("find access key: %w", err)
		}
	} else if creds.RootPassword == "" {
		// The root already existed and no key was configured: its keys
		// were made on an earlier start.
		return false, nil
	} else {
		ak, sk = auth.NewAccessKeyID(), auth.NewSecretKey()
	}
	key := &userevents.AccessKey{
		ID:        ak,
		Secret:    userevents.Secret(sk),
		UserID:    root.ID,
		AccountID: root.AccountID,
		Enabled:   true,
		CreatedAt: now,
	}
	if err := store.CreateAccessKey(ctx, key); err != nil {
		return false, fmt.Errorf("create root access key: %w", err)
	}
	creds.AccessKey, creds.SecretKey = ak, sk
	return true, nil
}

func writeCredentials(dir string, creds credentials, out io.Writer) error {
	body, err := json.MarshalIndent(creds, "", "  ")
	if err != nil {
		return fmt.Errorf("encode credentials: %w", err)
	}
	path := filepath.Join(dir, "credentials.json")
	if err := os.WriteFile(path, append(body, '\n'), 0o600); err != nil {
		return fmt.Errorf("write credentials: %w", err)
	}
	fmt.Fprintf(out, "Created identity (also saved to %s):\n%s\n", path, body)
	return nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
