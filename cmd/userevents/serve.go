package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/userevents/userevents"
	"github.com/userevents/userevents/auth"
	"github.com/userevents/userevents/export"
	uehttp "github.com/userevents/userevents/http"
	"github.com/userevents/userevents/iampolicy"
	"github.com/userevents/userevents/keyring"
	"github.com/userevents/userevents/lts"
	"github.com/userevents/userevents/metrics"
	"github.com/userevents/userevents/postgres"
	"github.com/userevents/userevents/sqlite"
)

func newLogger(cfg Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// serve runs the server until ctx is cancelled, then drains in-flight
// requests, stops the delivery worker and closes the store.
func serve(ctx context.Context, cfg Config, stdout, stderr io.Writer) error {
	logger := newLogger(cfg, stderr)
	logger.Info("starting", "version", version, "data", cfg.DataDir)

	unlock, err := lockDataDir(cfg.DataDir)
	if err != nil {
		return err
	}
	defer unlock()
	keys, err := keyring.LoadOrCreate(filepath.Join(cfg.DataDir, "secret.key"))
	if err != nil {
		return fmt.Errorf("load secret key: %w", err)
	}
	store, err := openStore(ctx, cfg, keys, logger)
	if err != nil {
		return err
	}
	defer func() {
		if err := store.Close(); err != nil {
			logger.Error("close database failed", "error", err)
		}
	}()
	if err := iampolicy.PutSystemPolicies(ctx, store); err != nil {
		return err
	}
	if err := bootstrap(ctx, store, cfg, stdout, logger); err != nil {
		return err
	}
	// On SQLite this process holds the data directory's lock, so a leased
	// batch belongs to a process that crashed: send it again now rather
	// than after its lease expires. On PostgreSQL other replicas may hold
	// valid leases, which only expiry may end.
	if lite, ok := store.(*sqlite.DB); ok {
		if n, err := lite.ReleaseLeases(ctx); err != nil {
			return err
		} else if n > 0 {
			logger.Info("released deliveries leased before a crash", "deliveries", n)
		}
	}

	// Bind every listener before serving any, so a taken port fails the
	// start instead of leaving a half-started server.
	listeners := make([]net.Listener, 0, 3)
	defer func() {
		for _, l := range listeners {
			l.Close()
		}
	}()
	for _, addr := range []string{cfg.WorkspaceAddr, cfg.LTSAddr, cfg.IAMAddr} {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("listen on %s: %w", addr, err)
		}
		listeners = append(listeners, l)
	}

	var sink export.Sink = &export.BuiltinSink{Logs: store, Outbox: store}
	var remote *lts.Router
	if cfg.RemoteLTSEndpoint != "" || len(cfg.RemoteLTSProjects) > 0 {
		remote = &lts.Router{Builtin: sink, Projects: map[string]*lts.Client{}}
		if cfg.RemoteLTSEndpoint != "" {
			remote.Default = &lts.Client{
				ManagementEndpoint: cfg.RemoteLTSEndpoint,
				IngestEndpoint:     cfg.RemoteLTSIngestEndpoint,
				ProjectID:          cfg.RemoteLTSProjectID,
				AccessKey:          cfg.RemoteLTSAccessKey,
				SecretKey:          userevents.Secret(cfg.RemoteLTSSecretKey),
				MaxRequestBytes:    cfg.DeliveryMaxRequestBytes,
			}
			logger.Info("delivering to a remote LTS", "endpoint", cfg.RemoteLTSEndpoint)
		}
		for project, r := range cfg.RemoteLTSProjects {
			remote.Projects[project] = &lts.Client{
				ManagementEndpoint: r.Endpoint,
				IngestEndpoint:     r.IngestEndpoint,
				ProjectID:          r.ProjectID,
				AccessKey:          r.AccessKey,
				SecretKey:          userevents.Secret(r.SecretKey),
				MaxRequestBytes:    cfg.DeliveryMaxRequestBytes,
			}
			logger.Info("delivering a project to its own remote LTS", "project_id", project, "endpoint", r.Endpoint)
		}
		sink = remote
	}
	m := metrics.New()
	m.RegisterBacklog(func() (int, time.Time, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return store.DeliveryBacklog(ctx)
	})
	worker := &export.Worker{
		Metrics: m,
		Outbox:  store,
		Configs: store,
		Sink:    sink,
		Logger:  logger.With("component", "delivery"),
		Owner:   fmt.Sprintf("%s-%d", hostname(), os.Getpid()),
		// A batch leased by a killed replica is delivered only once its
		// lease expires, so the lease bounds that delay. A send must end
		// before its lease does, or another worker could send it again.
		Lease:       cfg.DeliveryLease,
		SendTimeout: min(10*time.Second, cfg.DeliveryLease*2/3),
		Concurrency: cfg.DeliveryConcurrency,
		BatchSize:   cfg.DeliveryBatchSize,
		MaxAttempts: cfg.DeliveryMaxAttempts,
	}
	srv := &uehttp.Server{
		Store:      store,
		Verifier:   &auth.Verifier{Keys: store},
		Authorizer: &iampolicy.Authorizer{Policies: store},
		Logger:     logger,
		Notify:     worker.Notify,
		Metrics:    m,
		// Tokens are sealed with the key that seals the stored secrets,
		// so every replica sharing the key file accepts them.
		TokenKeys:        keys,
		LockoutThreshold: lockoutThreshold(cfg.LockoutThreshold),
		LockoutDuration:  cfg.LockoutDuration,
	}
	if remote != nil {
		srv.RemoteLTS = remote
	}
	handlers := []http.Handler{srv.Workspace(), srv.LTS(), srv.IAM()}
	names := []string{"workspace", "lts", "iam"}

	var wg sync.WaitGroup
	workerCtx, stopWorker := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWorker()
	wg.Go(func() {
		if err := worker.Run(workerCtx); err != nil {
			logger.Error("delivery worker stopped", "error", err)
		}
	})

	servers := make([]*http.Server, len(listeners))
	errc := make(chan error, len(listeners))
	for i, l := range listeners {
		servers[i] = &http.Server{
			Handler:           handlers[i],
			ReadHeaderTimeout: 10 * time.Second,
			// A request must arrive whole within a minute, so a client
			// that trickles its body cannot hold a connection forever;
			// 12 MiB in a minute needs about 1.7 Mbit/s.
			ReadTimeout: time.Minute,
			IdleTimeout: 2 * time.Minute,
			ErrorLog:    slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		}
		logger.Info("listening", "listener", names[i], "addr", l.Addr().String())
		go func() {
			if err := servers[i].Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("serve %s: %w", names[i], err)
			}
		}()
	}
	listeners = nil // the servers own them now
	srv.SetReady(true)
	logger.Info("ready")

	var serveErr error
	select {
	case <-ctx.Done():
		logger.Info("stopping", "reason", "signal")
	case serveErr = <-errc:
		logger.Error("listener failed", "error", serveErr)
	}

	srv.SetReady(false)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	for i, s := range servers {
		if err := s.Shutdown(shutdownCtx); err != nil {
			logger.Warn("shutdown incomplete", "listener", names[i], "error", err)
		}
	}
	stopWorker()
	wg.Wait()
	logger.Info("stopped")
	return serveErr
}

func hostname() string {
	h, err := os.Hostname()
	if err != nil {
		return "userevents"
	}
	return h
}

// lockoutThreshold maps the configured threshold, where 0 disables the
// lockout, to uehttp.Server's, where a negative value does.
func lockoutThreshold(n int) int {
	if n == 0 {
		return -1
	}
	return n
}

// openStore opens the PostgreSQL database that cfg.Database names, or else
// the SQLite database in the data directory.
func openStore(ctx context.Context, cfg Config, keys userevents.Sealer, logger *slog.Logger) (userevents.Store, error) {
	if cfg.Database != "" {
		return postgres.Open(ctx, cfg.Database, keys, logger)
	}
	return sqlite.Open(ctx, filepath.Join(cfg.DataDir, "userevents.db"), keys, logger)
}
