// Package postgres implements userevents.Store on PostgreSQL through
// github.com/jackc/pgx/v5, so that several userevents replicas can share
// one database.
//
// Every replica reads and writes the database directly and keeps no cache
// of identity, configuration or log data, so a change made through one
// replica is seen by all of them at once. A replica keeps two things in
// memory: the numbers of projects, which never change once assigned, and
// the event partitions that it found or created. A partition that another
// replica dropped since costs a slower insert, never a wrong result.
//
// Times that replicas compare with each other, such as lease expiry, come
// from the database server's clock unless DB.Now is set.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/userevents/userevents"
)

var _ userevents.Store = (*DB)(nil)

//go:embed migrations/*.sql
var migrations embed.FS

// migrationLockWait is how long Open waits for another replica that is
// applying migrations, polling once a second.
const migrationLockWait = 5 * time.Minute

// PostgreSQL error codes that the store turns into domain errors or
// retries.
const (
	codeUniqueViolation      = "23505"
	codeForeignKeyViolation  = "23503"
	codeSerializationFailure = "40001"
	codeDeadlockDetected     = "40P01"
)

// DB is a userevents.Store on one PostgreSQL schema. It is safe for
// concurrent use, and any number of processes may open the same database.
type DB struct {
	// Now, when set, is the clock for every time the store records. Tests
	// set it before the first call. Open leaves it nil: queue, due and
	// lease times then come from the database server's clock, so that
	// clock skew between replicas cannot end a lease early, and the other
	// times come from time.Now.
	Now func() time.Time

	pool   *pgxpool.Pool
	sealer userevents.Sealer
	logger *slog.Logger

	// partitionLock is the advisory lock that serialises partition changes
	// among the replicas that use this schema.
	partitionLock int64

	// projects holds the event_projects numbers this process has seen.
	projectsMu sync.Mutex
	projects   map[string]int32

	// partitions holds the months, as their first instant in UTC, whose
	// event partition this process created or found.
	partitionsMu sync.Mutex
	partitions   map[time.Time]bool
}

// Open connects to the database at url, a postgres:// or postgresql://
// URL or a key=value connection string as libpq accepts, and applies the
// embedded migrations that the database lacks. Tables live in the URL's
// search_path schema, by default public. Replicas that start at once apply
// the migrations once: the others wait for them. The sealer encrypts access
// key secrets at rest and must not be nil.
func Open(ctx context.Context, url string, sealer userevents.Sealer, logger *slog.Logger) (*DB, error) {
	if sealer == nil {
		return nil, errors.New("open database: sealer is nil")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// The parser's message may quote the URL with its password.
		return nil, errors.New("open database: invalid PostgreSQL connection URL; " +
			"use the form postgres://user:password@host:5432/database")
	}
	// The time zone only affects how the server formats times as text, as
	// in the JSON copy of an event in the outbox.
	cfg.ConnConfig.RuntimeParams["timezone"] = "UTC"
	// pgx prepares each statement once per connection. After five runs
	// PostgreSQL may switch such a statement to a generic plan, which
	// cannot prune partitions or pick the index for the given time range.
	// On 10,000,000 events, a one-day list took 620 ms with a generic plan
	// and 0.3 ms with a plan made for its parameters (PostgreSQL 15).
	if _, ok := cfg.ConnConfig.RuntimeParams["plan_cache_mode"]; !ok {
		cfg.ConnConfig.RuntimeParams["plan_cache_mode"] = "force_custom_plan"
	}
	cfg.AfterConnect = func(ctx context.Context, conn *pgx.Conn) error {
		conn.TypeMap().RegisterType(&pgtype.Type{
			Name:  "timestamptz",
			OID:   pgtype.TimestamptzOID,
			Codec: &pgtype.TimestamptzCodec{ScanLocation: time.UTC},
		})
		return nil
	}

	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	db := &DB{pool: pool, sealer: sealer, logger: logger, partitions: map[time.Time]bool{},
		projects: map[string]int32{}}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open database: connect to %s:%d: %w",
			cfg.ConnConfig.Host, cfg.ConnConfig.Port, err)
	}
	if err := db.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	if err := db.checkSealer(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	logger.Info("database opened", "host", cfg.ConnConfig.Host, "port", cfg.ConnConfig.Port,
		"database", cfg.ConnConfig.Database)
	return db, nil
}

// migrate applies the embedded migrations that the schema lacks, holding a
// PostgreSQL advisory lock so that concurrent callers apply them once.
func (db *DB) migrate(ctx context.Context) error {
	var schema *string
	if err := db.pool.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return fmt.Errorf("migrate database: %w", err)
	}
	if schema == nil {
		return errors.New("migrate database: no schema of search_path exists; create it or fix search_path")
	}
	db.partitionLock = partitionLockID(*schema)

	// The lock is per schema, so that deployments in separate schemas of
	// one database do not wait for each other.
	h := fnv.New64a()
	h.Write([]byte("userevents migrations " + *schema))
	locker, err := lock.NewPostgresSessionLocker(
		lock.WithLockID(int64(h.Sum64())),
		lock.WithLockTimeout(1, uint64(migrationLockWait/time.Second)))
	if err != nil {
		return fmt.Errorf("migrate database: %w", err)
	}
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return fmt.Errorf("migrate database: %w", err)
	}
	sqlDB := stdlib.OpenDBFromPool(db.pool)
	defer sqlDB.Close()
	p, err := goose.NewProvider(goose.DialectPostgres, sqlDB, fsys, goose.WithSessionLocker(locker))
	if err != nil {
		return fmt.Errorf("migrate database: %w", err)
	}
	results, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("migrate database: %w", err)
	}
	for _, r := range results {
		db.logger.Info("database migration applied", "schema", *schema,
			"version", r.Source.Version, "duration", r.Duration)
	}
	return nil
}

// sealingCheck is the constant that sealing_check holds sealed.
const sealingCheck = "userevents sealing check"

// checkSealer stores sealingCheck sealed when the database has no sealed
// value yet, and otherwise checks that the sealer opens the stored one.
func (db *DB) checkSealer(ctx context.Context) error {
	sealed, err := db.sealer.Seal([]byte(sealingCheck))
	if err != nil {
		return fmt.Errorf("check secret key: %w", err)
	}
	_, err = db.pool.Exec(ctx, `INSERT INTO sealing_check (id, sealed) VALUES (1, $1)
		ON CONFLICT (id) DO NOTHING`, sealed)
	if err != nil {
		return fmt.Errorf("check secret key: %w", err)
	}
	if err := db.pool.QueryRow(ctx, `SELECT sealed FROM sealing_check`).Scan(&sealed); err != nil {
		return fmt.Errorf("check secret key: %w", err)
	}
	plain, err := db.sealer.Open(sealed)
	if err != nil || string(plain) != sealingCheck {
		return errors.New("open database: the secret key differs from the one that sealed " +
			"the secrets in this database; give every replica a copy of the first replica's key file")
	}
	return nil
}

// Ping checks that the database is reachable.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.pool.Ping(ctx); err != nil {
		return fmt.Errorf("ping database: %w", err)
	}
	return nil
}

// Close closes every connection of the pool, waiting for those in use to
// be released. Calls after Close fail.
func (db *DB) Close() error {
	db.pool.Close()
	return nil
}

// now returns the store's clock reading in UTC, truncated to the
// microsecond precision of timestamptz.
func (db *DB) now() time.Time {
	now := time.Now
	if db.Now != nil {
		now = db.Now
	}
	return now().UTC().Truncate(time.Microsecond)
}

// clock returns the argument for a time that replicas compare: db.now()
// when Now is set, and nil otherwise, which the SQL turns into the
// server's statement_timestamp() through coalesce.
func (db *DB) clock() any {
	if db.Now == nil {
		return nil
	}
	return db.now()
}

// inTx runs fn in a transaction and commits it when fn returns nil. It
// runs fn again, up to three times in all, when PostgreSQL aborted the
// transaction to resolve a deadlock or a serialization failure.
func (db *DB) inTx(ctx context.Context, opts pgx.TxOptions, fn func(tx pgx.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := pgx.BeginTxFunc(ctx, db.pool, opts, fn)
		if attempt < 3 && (hasCode(err, codeDeadlockDetected) || hasCode(err, codeSerializationFailure)) {
			db.logger.Warn("transaction retried", "attempt", attempt, "error", err)
			continue
		}
		return err
	}
}

// inReadTx runs fn in a read-only transaction, so that every query in fn
// reads the same snapshot of the database.
func (db *DB) inReadTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return db.inTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, fn)
}

// hasCode reports whether err is a PostgreSQL error with the SQLSTATE code.
func hasCode(err error, code string) bool {
	var e *pgconn.PgError
	return errors.As(err, &e) && e.Code == code
}

// constraintOf returns the name of the constraint that err violated, or ""
// when err is no PostgreSQL error.
func constraintOf(err error) string {
	var e *pgconn.PgError
	if errors.As(err, &e) {
		return e.ConstraintName
	}
	return ""
}

// timeOrNil converts t to a query argument, with the zero time as NULL.
func timeOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// timeOrZero converts a nullable column back, with NULL as the zero time.
func timeOrZero(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}
