// Package uetest starts a complete userevents server in-process for tests:
// real SQLite in a temporary directory, real HTTP listeners for the three
// APIs, the delivery worker, and official Huawei Cloud SDK clients that
// point at them.
package uetest

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/basic"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/global"
	iamv3 "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/iam/v3"
	iamv5 "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/iam/v5"
	lts "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/lts/v2"
	workspace "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/workspace/v2"
	"golang.org/x/crypto/bcrypt"

	"github.com/userevents/userevents"
	ueauth "github.com/userevents/userevents/auth"
	"github.com/userevents/userevents/export"
	uehttp "github.com/userevents/userevents/http"
	"github.com/userevents/userevents/iampolicy"
	"github.com/userevents/userevents/keyring"
	"github.com/userevents/userevents/metrics"
	"github.com/userevents/userevents/sqlite"
)

// Test identity used by every Env.
const (
	AccountName = "userevents"
	AccountID   = "a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0"
	Region      = "cn-north-4"
	ProjectID   = "0123456789abcdef0123456789abcdef"
	AccessKey   = "AKTESTEXAMPLE00000001"
	SecretKey   = "sk-test-000"
	RootUserID  = "b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1"

	// RootPassword is the root user's password, for IAM tokens.
	RootPassword = "Root-password-1"
)

// Env is a running server and its parts.
type Env struct {
	Store   *sqlite.DB
	Server  *uehttp.Server
	Worker  *export.Worker
	Metrics *metrics.Metrics

	WorkspaceURL string
	LTSURL       string
	IAMURL       string
}

// Options changes how Start builds the server. The zero value is the
// embedded default.
type Options struct {
	// Now, when set, is the clock of the server, the store and the worker.
	Now func() time.Time
	// NoWorker leaves the delivery worker stopped.
	NoWorker bool
	// LockoutThreshold and LockoutDuration set the server's credential
	// lockout; zero means the server's defaults.
	LockoutThreshold int
	LockoutDuration  time.Duration
	// Logger, when set, receives the server's and the worker's logs; nil
	// writes warnings and errors to stderr.
	Logger *slog.Logger
}

// Start starts a server with the test identity and stops it when the test
// ends. It sets HOME to a temporary directory because the SDK writes an
// application id file there.
func Start(t testing.TB, opts Options) *Env {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("HOME", dir)
	ctx := context.Background()
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}

	keys, err := keyring.LoadOrCreate(filepath.Join(dir, "secret.key"))
	if err != nil {
		t.Fatal(err)
	}
	store, err := sqlite.Open(ctx, filepath.Join(dir, "userevents.db"), keys, logger)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if opts.Now != nil {
		store.Now = opts.Now
	}
	seedIdentity(t, store)
	if err := iampolicy.PutSystemPolicies(ctx, store); err != nil {
		t.Fatal(err)
	}

	env := &Env{Store: store, Metrics: metrics.New()}
	env.Metrics.RegisterBacklog(func() (int, time.Time, error) {
		return store.DeliveryBacklog(context.Background())
	})
	env.Worker = &export.Worker{
		Metrics:    env.Metrics,
		Outbox:     store,
		Configs:    store,
		Sink:       &export.BuiltinSink{Logs: store, Outbox: store},
		Logger:     logger,
		Owner:      "test",
		Poll:       50 * time.Millisecond,
		MinBackoff: 10 * time.Millisecond,
		MaxBackoff: 200 * time.Millisecond,
		Now:        opts.Now,
	}
	env.Server = &uehttp.Server{
		Store:      store,
		Verifier:   &ueauth.Verifier{Keys: store, Now: opts.Now},
		Authorizer: &iampolicy.Authorizer{Policies: store, Now: opts.Now},
		Logger:     logger,
		Now:        opts.Now,
		Notify:     env.Worker.Notify,
		Metrics:    env.Metrics,
		TokenKeys:  keys,
		// The lowest bcrypt cost keeps password tests fast.
		PasswordCost:     bcrypt.MinCost,
		LockoutThreshold: opts.LockoutThreshold,
		LockoutDuration:  opts.LockoutDuration,
	}
	env.Server.SetReady(true)

	for _, l := range []struct {
		url *string
		srv *httptest.Server
	}{
		{&env.WorkspaceURL, httptest.NewServer(env.Server.Workspace())},
		{&env.LTSURL, httptest.NewServer(env.Server.LTS())},
		{&env.IAMURL, httptest.NewServer(env.Server.IAM())},
	} {
		*l.url = l.srv.URL
		t.Cleanup(l.srv.Close)
	}

	if !opts.NoWorker {
		ctx, cancel := context.WithCancel(ctx)
		var wg sync.WaitGroup
		wg.Go(func() { _ = env.Worker.Run(ctx) })
		t.Cleanup(func() { cancel(); wg.Wait() })
	}
	return env
}

func seedIdentity(t testing.TB, store userevents.Store) {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(store.CreateAccount(ctx, &userevents.Account{ID: AccountID, Name: AccountName, CreatedAt: now}))
	must(store.CreateProject(ctx, &userevents.Project{ID: ProjectID, Name: Region, AccountID: AccountID, CreatedAt: now}))
	hash, err := bcrypt.GenerateFromPassword([]byte(RootPassword), bcrypt.MinCost)
	must(err)
	must(store.CreateUser(ctx, &userevents.User{
		ID: RootUserID, AccountID: AccountID, Name: AccountName, Root: true, PasswordHash: string(hash),
		Enabled: true, CreatedAt: now,
	}))
	must(store.CreateAccessKey(ctx, &userevents.AccessKey{
		ID: AccessKey, Secret: SecretKey, UserID: RootUserID, AccountID: AccountID, Enabled: true, CreatedAt: now,
	}))
}

// Credentials returns SDK credentials of the account root with the
// project id set.
func Credentials() *basic.Credentials {
	return basic.NewCredentialsBuilder().
		WithAk(AccessKey).
		WithSk(SecretKey).
		WithProjectId(ProjectID).
		Build()
}

// WorkspaceClient returns an SDK Workspace client for the server.
func (e *Env) WorkspaceClient() *workspace.WorkspaceClient {
	return workspace.NewWorkspaceClient(workspace.WorkspaceClientBuilder().
		WithEndpoints([]string{e.WorkspaceURL}).
		WithCredential(Credentials()).
		Build())
}

// LTSClient returns an SDK LTS client for the server.
func (e *Env) LTSClient() *lts.LtsClient {
	return lts.NewLtsClient(lts.LtsClientBuilder().
		WithEndpoints([]string{e.LTSURL}).
		WithCredential(Credentials()).
		Build())
}

// UserCredentials returns SDK credentials of an access key with the
// project id set. A non-empty securityToken makes them temporary
// credentials.
func UserCredentials(ak, sk, securityToken string) *basic.Credentials {
	b := basic.NewCredentialsBuilder().WithAk(ak).WithSk(sk).WithProjectId(ProjectID)
	if securityToken != "" {
		b = b.WithSecurityToken(securityToken)
	}
	return b.Build()
}

// GlobalCredentials returns SDK credentials of an access key for the
// global IAM APIs.
func GlobalCredentials(ak, sk string) *global.Credentials {
	return global.NewCredentialsBuilder().WithAk(ak).WithSk(sk).Build()
}

// WorkspaceClientWith returns an SDK Workspace client with the credentials.
func (e *Env) WorkspaceClientWith(cred auth.ICredential) *workspace.WorkspaceClient {
	return workspace.NewWorkspaceClient(workspace.WorkspaceClientBuilder().
		WithEndpoints([]string{e.WorkspaceURL}).
		WithCredential(cred).
		Build())
}

// LTSClientWith returns an SDK LTS client with the credentials.
func (e *Env) LTSClientWith(cred auth.ICredential) *lts.LtsClient {
	return lts.NewLtsClient(lts.LtsClientBuilder().
		WithEndpoints([]string{e.LTSURL}).
		WithCredential(cred).
		Build())
}

// IAMClient returns an SDK IAM 5.0 client with the root's credentials.
func (e *Env) IAMClient() *iamv5.IamClient {
	return e.IAMClientWith(GlobalCredentials(AccessKey, SecretKey))
}

// IAMClientWith returns an SDK IAM 5.0 client with the credentials.
func (e *Env) IAMClientWith(cred auth.ICredential) *iamv5.IamClient {
	return iamv5.NewIamClient(iamv5.IamClientBuilder().
		WithEndpoints([]string{e.IAMURL}).
		WithCredential(cred).
		Build())
}

// IAMv3ClientWith returns an SDK IAM v3 client, for tokens and temporary
// keys, with the credentials. iamv3.NewIamCredentialsBuilder makes
// credentials of an X-Auth-Token.
func (e *Env) IAMv3ClientWith(cred auth.ICredential) *iamv3.IamClient {
	return iamv3.NewIamClient(iamv3.IamClientBuilder().
		WithEndpoints([]string{e.IAMURL}).
		WithCredential(cred).
		Build())
}
