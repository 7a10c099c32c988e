package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Config is the configuration of userevents serve. Flags override the
// environment, which overrides the defaults.
type Config struct {
	DataDir       string `yaml:"data"`     // embedded database and key file
	Database      string `yaml:"database"` // empty: SQLite in DataDir; postgres://… selects PostgreSQL
	WorkspaceAddr string `yaml:"workspace_addr"`
	LTSAddr       string `yaml:"lts_addr"`
	IAMAddr       string `yaml:"iam_addr"`

	LogFormat string `yaml:"log_format"` // text or json
	LogLevel  string `yaml:"log_level"`  // debug, info, warn or error

	// ShutdownTimeout is how long in-flight requests may take to finish.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`

	// DeliveryLease is how long a leased batch of deliveries stays with
	// this process's worker before another worker may take it over, and so
	// how long a crashed replica's batch waits to be sent again.
	DeliveryLease time.Duration `yaml:"delivery_lease"`
	// DeliveryConcurrency is the number of batches the delivery worker
	// sends at the same time, at least 1.
	DeliveryConcurrency int `yaml:"delivery_concurrency"`
	// DeliveryBatchSize is the maximum number of events in one batch.
	DeliveryBatchSize int `yaml:"delivery_batch_size"`
	// DeliveryMaxRequestBytes is the maximum body size, in bytes, of one
	// request to a remote LTS. Larger batches are split into several
	// requests.
	DeliveryMaxRequestBytes int `yaml:"delivery_max_request_bytes"`
	// DeliveryMaxAttempts is the number of failed sends after which an
	// event moves to the dead letters. Zero retries without limit.
	DeliveryMaxAttempts int `yaml:"delivery_max_attempts"`

	// LockoutThreshold is the number of consecutive failed authentications
	// after which an access key or a user's password is locked for
	// LockoutDuration; 0 disables the lockout.
	LockoutThreshold int           `yaml:"lockout_threshold"`
	LockoutDuration  time.Duration `yaml:"lockout_duration"`

	// Remote LTS that delivery writes to; empty RemoteLTSEndpoint means
	// the built-in LTS.
	RemoteLTSEndpoint       string `yaml:"remote_lts_endpoint"`
	RemoteLTSIngestEndpoint string `yaml:"remote_lts_ingest_endpoint"` // empty: RemoteLTSEndpoint
	RemoteLTSProjectID      string `yaml:"remote_lts_project_id"`      // empty: the local project id
	RemoteLTSAccessKey      string `yaml:"remote_lts_access_key"`
	RemoteLTSSecretKey      string `yaml:"remote_lts_secret_key"`
	// RemoteLTSProjects gives some local projects a remote LTS of their
	// own, by local project id; it is set in the config file only, since
	// it holds secret keys. Other projects use the remote LTS above or,
	// without one, the built-in LTS.
	RemoteLTSProjects map[string]RemoteLTS `yaml:"remote_lts_projects"`

	// Bootstrap identity; empty values are generated on first start.
	AccountName  string `yaml:"account_name"`
	Region       string `yaml:"region"`
	ProjectID    string `yaml:"project_id"`
	AccessKey    string `yaml:"access_key"`
	SecretKey    string `yaml:"secret_key"`
	RootPassword string `yaml:"root_password"`
}

// RemoteLTS is the remote LTS of one project.
type RemoteLTS struct {
	Endpoint       string `yaml:"endpoint"`
	IngestEndpoint string `yaml:"ingest_endpoint"` // empty: Endpoint
	ProjectID      string `yaml:"project_id"`      // empty: the local project id
	AccessKey      string `yaml:"access_key"`
	SecretKey      string `yaml:"secret_key"`
}

// defaultConfig returns the configuration used when nothing is set.
func defaultConfig() Config {
	return Config{
		DataDir:          "./userevents-data",
		WorkspaceAddr:    "127.0.0.1:8080",
		LTSAddr:          "127.0.0.1:8081",
		IAMAddr:          "127.0.0.1:8082",
		LogFormat:        "text",
		LogLevel:         "info",
		ShutdownTimeout:  30 * time.Second,
		DeliveryLease:    15 * time.Second,
		LockoutThreshold: 5,
		LockoutDuration:  5 * time.Minute,
		AccountName:      "userevents",
		Region:           "cn-north-4",

		// Two senders overlap one batch's network round trip with the
		// next batch's lease and rendering.
		DeliveryConcurrency:     2,
		DeliveryBatchSize:       1000,
		DeliveryMaxRequestBytes: 4 << 20,
	}
}

// configFile returns the --config value among args, or USEREVENTS_CONFIG.
// The file is read before the flags are parsed because its values become
// the flags' defaults.
func configFile(args []string, getenv func(string) string) string {
	for i, a := range args {
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if name != "config" || !strings.HasPrefix(a, "-") {
			continue
		}
		if hasValue {
			return value
		}
		if i+1 < len(args) {
			return args[i+1]
		}
	}
	return getenv("USEREVENTS_CONFIG")
}

// loadConfigFile overlays cfg with a YAML (or JSON) file. Unknown keys
// are errors, so a misspelt setting is not silently ignored.
func loadConfigFile(path string, cfg *Config) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read config file: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
		// The decoder names Go types ("field x not found in type
		// main.Config"); the reader of this message sees only the keys.
		msg := strings.ReplaceAll(err.Error(), " in type main.Config", "")
		msg = strings.ReplaceAll(msg, "not found", "is not a known key")
		return fmt.Errorf("config file %s: %s; the keys are the flag names with _ for -", path, msg)
	}
	return nil
}

// parseServeFlags builds the configuration: defaults, then the config
// file, then the environment, then the flags.
func parseServeFlags(args []string, getenv func(string) string, stderr io.Writer) (Config, error) {
	cfg := defaultConfig()
	path := configFile(args, getenv)
	if path != "" {
		if err := loadConfigFile(path, &cfg); err != nil {
			return cfg, err
		}
	}
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
	var envErrs []error
	if v := getenv("USEREVENTS_LOCKOUT_THRESHOLD"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			envErrs = append(envErrs, fmt.Errorf("USEREVENTS_LOCKOUT_THRESHOLD %q is not an integer", v))
		}
		cfg.LockoutThreshold = n
	}
	if v := getenv("USEREVENTS_LOCKOUT_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			envErrs = append(envErrs, fmt.Errorf("USEREVENTS_LOCKOUT_DURATION %q is not a duration such as 5m", v))
		}
		cfg.LockoutDuration = d
	}
	if v := getenv("USEREVENTS_DELIVERY_LEASE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			envErrs = append(envErrs, fmt.Errorf("USEREVENTS_DELIVERY_LEASE %q is not a duration such as 15s", v))
		}
		cfg.DeliveryLease = d
	}
	for _, v := range []struct {
		name string
		dst  *int
	}{
		{"USEREVENTS_DELIVERY_CONCURRENCY", &cfg.DeliveryConcurrency},
		{"USEREVENTS_DELIVERY_BATCH_SIZE", &cfg.DeliveryBatchSize},
		{"USEREVENTS_DELIVERY_MAX_REQUEST_BYTES", &cfg.DeliveryMaxRequestBytes},
		{"USEREVENTS_DELIVERY_MAX_ATTEMPTS", &cfg.DeliveryMaxAttempts},
	} {
		if s := getenv(v.name); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil {
				envErrs = append(envErrs, fmt.Errorf("%s %q is not an integer", v.name, s))
				continue
			}
			*v.dst = n
		}
	}

	fs := flag.NewFlagSet("userevents serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.String("config", path, "YAML or JSON configuration file whose keys are the flag names with _ for - (env USEREVENTS_CONFIG)")
	fs.StringVar(&cfg.DataDir, "data", cfg.DataDir, "directory of the embedded database and local state (env USEREVENTS_DATA)")
	fs.StringVar(&cfg.Database, "database", cfg.Database, "PostgreSQL URL such as postgres://user:password@host:5432/db; empty means SQLite in the data directory (env USEREVENTS_DATABASE)")
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
	fs.DurationVar(&cfg.DeliveryLease, "delivery-lease", cfg.DeliveryLease, "how long a batch being delivered stays with this process before another replica may take it over (env USEREVENTS_DELIVERY_LEASE)")
	fs.IntVar(&cfg.DeliveryConcurrency, "delivery-concurrency", cfg.DeliveryConcurrency, "number of batches delivered at the same time (env USEREVENTS_DELIVERY_CONCURRENCY)")
	fs.IntVar(&cfg.DeliveryBatchSize, "delivery-batch-size", cfg.DeliveryBatchSize, "maximum number of events in one delivered batch (env USEREVENTS_DELIVERY_BATCH_SIZE)")
	fs.IntVar(&cfg.DeliveryMaxRequestBytes, "delivery-max-request-bytes", cfg.DeliveryMaxRequestBytes, "maximum body size in bytes of one request to a remote LTS; larger batches are split (env USEREVENTS_DELIVERY_MAX_REQUEST_BYTES)")
	fs.IntVar(&cfg.DeliveryMaxAttempts, "delivery-max-attempts", cfg.DeliveryMaxAttempts, "failed sends after which an event moves to the dead letters; 0 retries without limit (env USEREVENTS_DELIVERY_MAX_ATTEMPTS)")
	fs.IntVar(&cfg.LockoutThreshold, "lockout-threshold", cfg.LockoutThreshold, "consecutive failed authentications that lock an access key or a password; 0 disables the lockout (env USEREVENTS_LOCKOUT_THRESHOLD)")
	fs.DurationVar(&cfg.LockoutDuration, "lockout-duration", cfg.LockoutDuration, "how long a locked access key or password stays locked (env USEREVENTS_LOCKOUT_DURATION)")
	if err := fs.Parse(args); err != nil {
		return cfg, errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "userevents serve: unexpected argument %q\n", fs.Arg(0))
		return cfg, errUsage
	}
	return cfg, errors.Join(append(envErrs, cfg.Validate())...)
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
		// The value may hold a password, so the message does not repeat it.
		errs = append(errs, errors.New("--database must be empty (SQLite) or a postgres:// or postgresql:// URL"))
	}
	if c.DeliveryLease <= 0 {
		errs = append(errs, fmt.Errorf("--delivery-lease %s must be positive", c.DeliveryLease))
	}
	for _, v := range []struct {
		flag  string
		value int
	}{
		{"--delivery-concurrency", c.DeliveryConcurrency},
		{"--delivery-batch-size", c.DeliveryBatchSize},
		{"--delivery-max-request-bytes", c.DeliveryMaxRequestBytes},
	} {
		if v.value < 1 {
			errs = append(errs, fmt.Errorf("%s %d is invalid; use a positive integer", v.flag, v.value))
		}
	}
	if c.DeliveryMaxAttempts < 0 {
		errs = append(errs, fmt.Errorf("--delivery-max-attempts %d is negative; use 0 to retry without limit", c.DeliveryMaxAttempts))
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
	for project, r := range c.RemoteLTSProjects {
		name := "remote_lts_projects." + project
		if !projectIDPattern.MatchString(project) {
			errs = append(errs, fmt.Errorf("%s: the key must be a local project id of 32 lower-case hex characters", name))
		}
		for _, u := range []struct{ field, value string }{{"endpoint", r.Endpoint}, {"ingest_endpoint", r.IngestEndpoint}} {
			if (u.value != "" || u.field == "endpoint") && !strings.HasPrefix(u.value, "http://") && !strings.HasPrefix(u.value, "https://") {
				errs = append(errs, fmt.Errorf("%s.%s %q must be an http:// or https:// URL", name, u.field, u.value))
			}
		}
		if r.AccessKey == "" || r.SecretKey == "" {
			errs = append(errs, fmt.Errorf("%s needs access_key and secret_key", name))
		}
	}
	if c.LockoutThreshold < 0 {
		errs = append(errs, fmt.Errorf("--lockout-threshold %d is negative; use 0 to disable the lockout", c.LockoutThreshold))
	}
	if c.LockoutThreshold > 0 && c.LockoutDuration <= 0 {
		errs = append(errs, fmt.Errorf("--lockout-duration %s must be positive while the lockout is enabled", c.LockoutDuration))
	}
	if c.AccountName == "" || c.Region == "" {
		errs = append(errs, errors.New("USEREVENTS_ACCOUNT_NAME and USEREVENTS_REGION must not be empty"))
	}
	return errors.Join(errs...)
}

// checkConfig implements "userevents config check": it builds the serve
// configuration from the same sources and reports every problem at once,
// including a data directory that cannot be written and a listen address
// that is taken.
func checkConfig(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := parseServeFlags(args, getenv, stderr)
	if errors.Is(err, errUsage) {
		return err
	}
	var problems []error
	if err != nil {
		problems = append(problems, err)
	}
	if cfg.Database == "" && cfg.DataDir != "" {
		if err := checkWritableDir(cfg.DataDir); err != nil {
			problems = append(problems, err)
		}
	}
	for _, addr := range []string{cfg.WorkspaceAddr, cfg.LTSAddr, cfg.IAMAddr} {
		if _, _, err := net.SplitHostPort(addr); err != nil {
			continue // already reported
		}
		l, err := net.Listen("tcp", addr)
		if err != nil {
			problems = append(problems, fmt.Errorf("cannot listen on %s: %w", addr, err))
			continue
		}
		l.Close()
	}
	if len(problems) == 0 {
		fmt.Fprintln(stdout, "configuration is valid")
		return nil
	}
	fmt.Fprintln(stderr, "configuration problems:")
	for _, p := range problems {
		for _, line := range strings.Split(p.Error(), "\n") {
			fmt.Fprintln(stderr, "  -", line)
		}
	}
	return errUsage
}

// checkWritableDir reports whether dir exists or can be created, and can
// be written.
func checkWritableDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("data directory %s cannot be created: %w", dir, err)
	}
	f, err := os.CreateTemp(dir, ".check-*")
	if err != nil {
		return fmt.Errorf("data directory %s is not writable: %w", dir, err)
	}
	f.Close()
	return os.Remove(f.Name())
}
