// Package sqlite implements userevents.Store on an embedded SQLite database
// through the pure-Go driver modernc.org/sqlite.
//
// The database runs in WAL mode with synchronous=FULL, so a committed
// transaction survives a power loss. Writes go through one connection, since
// SQLite serialises writers anyway; reads use a separate pool and see a
// consistent snapshot per call.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"path/filepath"
	"runtime"
	"time"

	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/userevents/userevents"
)

var _ userevents.Store = (*DB)(nil)

//go:embed migrations/*.sql
var migrations embed.FS

// busyTimeout is how long a statement waits for a lock held by another
// connection or process before it fails.
const busyTimeout = 10 * time.Second

// DB is a userevents.Store on one SQLite database file. It is safe for
// concurrent use.
type DB struct {
	// Now returns the current time. Open sets it to time.Now. Tests replace
	// it before the first call to control queue times, due times, lease
	// expiry and the ReceivedAt default.
	Now func() time.Time

	write  *sql.DB // one connection; every transaction that writes
	read   *sql.DB // WAL readers
	stmts  stmtCache
	sealer userevents.Sealer
	logger *slog.Logger
}

// Open opens the database file at path, creating it when absent, and
// applies the embedded migrations that it lacks. The directory must exist.
// The sealer encrypts access key secrets at rest and must not be nil.
func Open(ctx context.Context, path string, sealer userevents.Sealer, logger *slog.Logger) (*DB, error) {
	if sealer == nil {
		return nil, errors.New("open database: sealer is nil")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}

	db := &DB{Now: time.Now, sealer: sealer, logger: logger}
	if db.write, err = sql.Open("sqlite", dsn(abs, false)); err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	db.write.SetMaxOpenConns(1)
	db.write.SetMaxIdleConns(1)
	db.write.SetConnMaxLifetime(0)
	db.write.SetConnMaxIdleTime(0)

	if err := db.migrate(ctx); err != nil {
		db.write.Close()
		return nil, err
	}

	// The readers open only after the migrations, so that the first
	// connection to the file is the writer that sets WAL mode.
	if db.read, err = sql.Open("sqlite", dsn(abs, true)); err != nil {
		db.write.Close()
		return nil, fmt.Errorf("open database: %w", err)
	}
	readers := max(4, runtime.GOMAXPROCS(0))
	db.read.SetMaxOpenConns(readers)
	db.read.SetMaxIdleConns(readers)
	if err := db.read.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open database: %w", err)
	}
	logger.Info("database opened", "path", abs)
	return db, nil
}

// dsn returns the driver's connection string for the file at path.
func dsn(path string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Add("_pragma", "foreign_keys(ON)")
	if readOnly {
		q.Add("_pragma", "query_only(ON)")
	} else {
		// BEGIN IMMEDIATE takes the write lock at the start, so a
		// transaction that reads and then writes waits for the lock under
		// busy_timeout instead of failing with SQLITE_BUSY at its first
		// write.
		q.Set("_txlock", "immediate")

		// Intake updates six indexes at random places. A 64 MiB page
		// cache (default 2 MiB) keeps their pages in memory, and a WAL of
		// up to 10000 pages (default 1000) lets a checkpoint write a page
		// that several batches changed only once. In two runs on a loaded
		// 2-core machine, they cut the system time of BenchmarkCreateEvents
		// by more than half.
		q.Add("_pragma", "cache_size(-65536)")
		q.Add("_pragma", "wal_autocheckpoint(10000)")
	}
	u := url.URL{Scheme: "file", Path: path, RawQuery: q.Encode()}
	return u.String()
}

// migrate applies the embedded migrations that the database lacks.
func (db *DB) migrate(ctx context.Context) error {
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return fmt.Errorf("migrate database: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, db.write, fsys)
	if err != nil {
		return fmt.Errorf("migrate database: %w", err)
	}
	results, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("migrate database: %w", err)
	}
	for _, r := range results {
		db.logger.Info("database migration applied",
			"version", r.Source.Version, "duration", r.Duration)
	}
	return nil
}

// Ping checks that both connection pools reach the database.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.write.PingContext(ctx); err != nil {
		return fmt.Errorf("ping database: %w", err)
	}
	if err := db.read.PingContext(ctx); err != nil {
		return fmt.Errorf("ping database: %w", err)
	}
	return nil
}

// Close closes the database. Calls after Close fail.
func (db *DB) Close() error {
	var errs []error
	db.closeStmts()
	if db.read != nil {
		errs = append(errs, db.read.Close())
	}
	errs = append(errs, db.write.Close())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close database: %w", err)
	}
	return nil
}

// now returns the store's clock reading in UTC, truncated to the
// microsecond precision of the stored columns.
func (db *DB) now() time.Time {
	return db.Now().UTC().Truncate(time.Microsecond)
}

// inWriteTx runs fn in an immediate write transaction and commits it when
// fn returns nil.
func (db *DB) inWriteTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	defer tx.Rollback()

	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit transaction: %w", err)
	}
	return nil
}

// inReadTx runs fn in a read transaction, so that every query in fn reads
// the same snapshot of the database.
func (db *DB) inReadTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	defer tx.Rollback()
	return fn(tx)
}

// micros converts t to the stored form: microseconds since the epoch, with
// the zero time stored as 0.
func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

// fromMicros converts a stored time back, with 0 as the zero time.
func fromMicros(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}

// isConstraint reports whether err is a SQLite constraint violation with
// the given extended result code.
func isConstraint(err error, code int) bool {
	var e *sqlite.Error
	return errors.As(err, &e) && e.Code() == code
}

// isUniqueViolation reports whether err is a UNIQUE or PRIMARY KEY
// violation.
func isUniqueViolation(err error) bool {
	return isConstraint(err, sqlite3.SQLITE_CONSTRAINT_UNIQUE) ||
		isConstraint(err, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY)
}

// isForeignKeyViolation reports whether err is a FOREIGN KEY violation.
func isForeignKeyViolation(err error) bool {
	return isConstraint(err, sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY)
}

// boolInt converts b to SQLite's integer booleans.
func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
