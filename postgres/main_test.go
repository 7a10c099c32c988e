package postgres_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/userevents/userevents/keyring"
	"github.com/userevents/userevents/postgres"
)

// databaseEnv names the environment variable with the URL of the
// PostgreSQL database that the tests create their schemas in.
const databaseEnv = "USEREVENTS_TEST_DATABASE"

// testKey is the sealing key of every test store.
var testKey = bytes.Repeat([]byte{0x42}, keyring.KeySize)

// databaseURL returns the test database's URL, and skips the test when
// none is set.
func databaseURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(databaseEnv)
	if u == "" {
		t.Skip(databaseEnv + " is not set; to run the PostgreSQL tests, set it to a database " +
			"where the tests may create schemas, such as " +
			"postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
	}
	return u
}

// newSchema creates an empty schema for the test, dropped with everything
// in it when the test ends, and returns a URL whose search_path selects
// it. Tests that run in parallel, in one package or several, thus never
// see each other's tables.
func newSchema(t testing.TB) string {
	t.Helper()
	base := databaseURL(t)
	b := make([]byte, 8)
	rand.Read(b)
	schema := "userevents_test_" + hex.EncodeToString(b)
	exec(t, base, `CREATE SCHEMA `+schema)
	t.Cleanup(func() { exec(t, base, `DROP SCHEMA `+schema+` CASCADE`) })
	return schemaURL(t, base, schema)
}

// schemaURL returns base with its search_path set to the schema.
func schemaURL(t testing.TB, base, schema string) string {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %s: %v", databaseEnv, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// exec runs one statement on its own connection to the database at url.
// The timeout is generous for the statements that fill the large
// benchmark data set.
func exec(t testing.TB, url, sql string, args ...any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect to the test database: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// testSealer returns the sealer of every test store.
func testSealer(t testing.TB) *keyring.Keyring {
	t.Helper()
	sealer, err := keyring.New(testKey)
	if err != nil {
		t.Fatalf("keyring.New() error = %v", err)
	}
	return sealer
}

// openDB opens a store on the database at url and closes it when the test
// ends.
func openDB(t testing.TB, url string) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), url, testSealer(t), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("Open() error = %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// query returns the single value of a query run on its own connection.
func query[T any](t testing.TB, url, sql string, args ...any) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect to the test database: %v", err)
	}
	defer conn.Close(ctx)
	var v T
	if err := conn.QueryRow(ctx, sql, args...).Scan(&v); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return v
}
