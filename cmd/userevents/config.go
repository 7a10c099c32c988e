package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"regexp"
	"strings"
	"time"
)

// Config is the configuration of userevents serve. Flags override the
// environment, which overrides the defaults.
type Config struct {
	DataDir       string // embedded database and key file
	Database      string // empty: SQLite in DataDir; postgres://… selects PostgreSQL
	WorkspaceAddr string
	LTSAddr       string
	IAMAddr       string

	LogFormat string // text or json
	LogLevel  string // debug, info, warn or error

	ShutdownTimeout time.Duration // how long in-flight requests may take to finish

	// Remote LTS that delivery writes to; empty RemoteLTSEndpoint means
	// the built-in LTS.
	RemoteLTSEndpoint       string
	RemoteLTSIngestEndpoint string // empty: RemoteLTSEndpoint
	RemoteLTSProjectID      string // empty: the local project id
	RemoteLTSAccessKey      string
	RemoteLTSSecretKey      string

	// Bootstrap identity; empty values are generated on first start.
	AccountName  string
	Region       string
	ProjectID    string
	AccessKey    string
	SecretKey    string
	RootPassword string
}

// defaultConfig returns the configuration used when nothing is set.
func defaultConfig() Config {
	return Config{
		DataDir:         "./userevents-data",
		WorkspaceAddr:   "127.0.0.1:8080",
		LTSAddr:         "127.0.0.1:8081",
		IAMAddr:         "127.0.0.1:8082",
		LogFormat:       "text",
		LogLevel:        "info",
		ShutdownTimeout: 30 * time.Second,
		AccountName:     "userevents",
		Region:          "cn-north-4",
	}
}

func parseServeFlags(args []string, getenv func(string) string, stderr io.Writer) (Config, error) {
	cfg := defaultConfig()
	env := func(name string, dst *string) {
		if v := getenv(name); v != "" {
			*dst = v
		}
	}
	env("USEREVENTS_DATA", &cfg.DataDir)
	env("USEREVENTS_DATABASE", &cfg.Database)
	env("USEREVENTS_WORKSPACE_ADDR", &cfg.WorkspaceAddr)
	env("USEREVENTS_LTS_ADDR", &cfg.LTSAddr)
	env("USEREVENTS_IAM_ADDR", &cfg.IAMAddr)
	env("USEREVENTS_LOG_FORMAT", &cfg.LogFormat)
	env("USEREVENTS_LOG_LEVEL", &cfg.LogLevel)
	env("USEREVENTS_REMOTE_LTS_ENDPOINT", &cfg.RemoteLTSEndpoint)
	env("USEREVENTS_REMOTE_LTS_INGEST_ENDPOINT", &cfg.RemoteLTSIngestEndpoint)
	env("USEREVENTS_REMOTE_LTS_PROJECT_ID", &cfg.RemoteLTSProjectID)
	env("USEREVENTS_REMOTE_LTS_ACCESS_KEY", &cfg.RemoteLTSAccessKey)
	env("USEREVENTS_REMOTE_LTS_SECRET_KEY", &cfg.RemoteLTSSecretKey)
	env("USEREVENTS_ACCOUNT_NAME", &cfg.AccountName)
	env("USEREVENTS_REGION", &cfg.Region)
	env("USEREVENTS_PROJECT_ID", &cfg.ProjectID)
	env("USEREVENTS_ACCESS_KEY", &cfg.AccessKey)
	env("USEREVENTS_SECRET_KEY", &cfg.SecretKey)
	env("USEREVENTS_ROOT_PASSWORD", &cfg.RootPassword)

	fs := flag.NewFlagSet("userevents serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.DataDir, "data", cfg.DataDir, "directory of the embedded database and local state (env USEREVENTS_DATA)")
	fs.StringVar(&cfg.Database, "database", cfg.Database, "database URL; empty means SQLite in the data directory (env USEREVENTS_DATABASE)")
	fs.StringVar(&cfg.WorkspaceAddr, "workspace-addr", cfg.WorkspaceAddr, "Workspace API listen address (env USEREVENTS_WORKSPACE_ADDR)")
	fs.StringVar(&cfg.LTSAddr, "lts-addr", cfg.LTSAddr, "built-in LTS listen address (env USEREVENTS_LTS_ADDR)")
	fs.StringVar(&cfg.IAMAddr, "iam-addr", cfg.IAMAddr, "IAM API listen address (env USEREVENTS_IAM_ADDR)")
	fs.StringVar(&cfg.LogFormat, "log-format", cfg.LogFormat, "log format: text or json (env USEREVENTS_LOG_FORMAT)")
	fs.StringVar(&cfg.LogLevel, "log-level", cfg.LogLevel, "log level: debug, info, warn or error (env USEREVENTS_LOG_LEVEL)")
	fs.StringVar(&cfg.RemoteLTSEndpoint, "remote-lts-endpoint", cfg.RemoteLTSEndpoint, "URL of a remote LTS to deliver to instead of the built-in one (env USEREVENTS_REMOTE_LTS_ENDPOINT)")
	fs.StringVar(&cfg.RemoteLTSIngestEndpoint, "remote-lts-ingest-endpoint", cfg.RemoteLTSIngestEndpoint, "URL of the remote LTS ingestion API; empty means --remote-lts-endpoint (env USEREVENTS_REMOTE_LTS_INGEST_ENDPOINT)")
	fs.StringVar(&cfg.RemoteLTSProjectID, "remote-lts-project-id", cfg.RemoteLTSProjectID, "project id in the remote LTS; empty means the local project id (env USEREVENTS_REMOTE_LTS_PROJECT_ID)")
	fs.StringVar(&cfg.RemoteLTSAccessKey, "remote-lts-access-key", cfg.RemoteLTSAccessKey, "AK for the remote LTS (env USEREVENTS_REMOTE_LTS_ACCESS_KEY)")
	fs.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", cfg.ShutdownTimeout, "time in-flight requests get to finish on SIGTERM")
	if err := fs.Parse(args); err != nil {
		return cfg, errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "userevents serve: unexpected argument %q\n", fs.Arg(0))
		return cfg, errUsage
	}
	return cfg, cfg.Validate()
}

var projectIDPattern = regexp.MustCompile(`^[0-9a-f]{32}$`)

// Validate reports every problem of the configuration at once.
func (c Config) Validate() error {
	var errs []error
	for _, a := range []struct{ name, addr string }{
		{"--workspace-addr", c.WorkspaceAddr}, {"--lts-addr", c.LTSAddr}, {"--iam-addr", c.IAMAddr},
	} {
		if _, _, err := net.SplitHostPort(a.addr); err != nil {
			errs = append(errs, fmt.Errorf("%s %q is not a host:port address", a.name, a.addr))
		}
	}
	if c.DataDir == "" {
		errs = append(errs, errors.New("--data is empty; give a directory for the database"))
	}
	if c.Database != "" && !strings.HasPrefix(c.Database, "postgres://") && !strings.HasPrefix(c.Database, "postgresql://") {
		errs = append(errs, fmt.Errorf("--database must be empty (SQLite) or a postgres:// URL"))
	}
	if c.Database != "" {
		errs = append(errs, errors.New("--database: PostgreSQL is not supported by this build yet; leave it empty for SQLite"))
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("--log-format %q is invalid; use text or json", c.LogFormat))
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.LogLevel)); err != nil {
		errs = append(errs, fmt.Errorf("--log-level %q is invalid; use debug, info, warn or error", c.LogLevel))
	}
	if c.ProjectID != "" && !projectIDPattern.MatchString(c.ProjectID) {
		errs = append(errs, fmt.Errorf("USEREVENTS_PROJECT_ID %q must be 32 lower-case hex characters", c.ProjectID))
	}
	if (c.AccessKey == "") != (c.SecretKey == "") {
		errs = append(errs, errors.New("set USEREVENTS_ACCESS_KEY and USEREVENTS_SECRET_KEY together, or neither"))
	}
	if c.RemoteLTSEndpoint != "" {
		for _, u := range []struct{ name, value string }{
			{"--remote-lts-endpoint", c.RemoteLTSEndpoint}, {"--remote-lts-ingest-endpoint", c.RemoteLTSIngestEndpoint},
		} {
			if u.value != "" && !strings.HasPrefix(u.value, "http://") && !strings.HasPrefix(u.value, "https://") {
				errs = append(errs, fmt.Errorf("%s %q must be an http:// or https:// URL", u.name, u.value))
			}
		}
		if c.RemoteLTSAccessKey == "" || c.RemoteLTSSecretKey == "" {
			errs = append(errs, errors.New("a remote LTS needs --remote-lts-access-key and USEREVENTS_REMOTE_LTS_SECRET_KEY"))
		}
	}
	if c.AccountName == "" || c.Region == "" {
		errs = append(errs, errors.New("USEREVENTS_ACCOUNT_NAME and USEREVENTS_REGION must not be empty"))
	}
	return errors.Join(errs...)
}
