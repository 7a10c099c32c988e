package sqlite_test

import (
	"bytes"
	"context"
	"database/sql"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/userevents/userevents"
	"github.com/userevents/userevents/keyring"
	"github.com/userevents/userevents/sqlite"
	"github.com/userevents/userevents/storetest"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) userevents.Store {
		return openDB(t, filepath.Join(t.TempDir(), "userevents.db"))
	})
}

// testKey is the sealing key of every test database.
var testKey = bytes.Repeat([]byte{0x42}, keyring.KeySize)

// openDB opens the database at path and closes it when the test ends.
func openDB(t *testing.T, path string) *sqlite.DB {
	t.Helper()
	sealer, err := keyring.New(testKey)
	if err != nil {
		t.Fatalf("keyring.New() error = %v", err)
	}
	db, err := sqlite.Open(t.Context(), path, sealer, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("Open() error = %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// openRaw opens the database file directly, for checks below the store.
func openRaw(t *testing.T, path string) *sql.DB {
	t.Helper()
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatalf("sql.Open() error = %v", err)
	}
	t.Cleanup(func() { raw.Close() })
	return raw
}

func TestOpenNilSealer(t *testing.T) {
	_, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "db"), nil, nil)
	if err == nil {
		t.Fatal("Open() with a nil sealer succeeded, want an error")
	}
}

func TestOpenMissingDirectory(t *testing.T) {
	sealer, _ := keyring.New(testKey)
	path := filepath.Join(t.TempDir(), "missing", "userevents.db")
	db, err := sqlite.Open(t.Context(), path, sealer, nil)
	if err == nil {
		db.Close()
		t.Fatal("Open() in a missing directory succeeded, want an error")
	}
}

func TestMigrationsAppliedOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "userevents.db")
	for range 3 {
		db := openDB(t, path)
		if err := db.Close(); err != nil {
			t.Fatalf("Close() error = %v", err)
		}
	}

	raw := openRaw(t, path)
	rows, err := raw.Query(`SELECT version_id, count(*) FROM goose_db_version
		WHERE version_id > 0 GROUP BY version_id`)
	if err != nil {
		t.Fatalf("query migration versions: %v", err)
	}
	defer rows.Close()
	var versions int
	for rows.Next() {
		var version, count int
		if err := rows.Scan(&version, &count); err != nil {
			t.Fatalf("scan migration version: %v", err)
		}
		if count != 1 {
			t.Errorf("migration %d recorded %d times, want once", version, count)
		}
		versions++
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("query migration versions: %v", err)
	}
	files, _ := filepath.Glob("migrations/*.sql")
	if versions != len(files) {
		t.Fatalf("migrations recorded = %d, want %d (one per file)", versions, len(files))
	}
}

func TestReopenKeepsData(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "userevents.db")
	db := openDB(t, path)
	cfg := &userevents.LTSConfig{ProjectID: "p", Enabled: true, LogGroupID: "g", LogStreamID: "s"}
	if err := db.SetLTSConfig(ctx, cfg); err != nil {
		t.Fatalf("SetLTSConfig() error = %v", err)
	}
	ev := &userevents.Event{EventID: "e1", EventType: "LOGIN", Username: "u", EventTime: time.Unix(1714557600, 0)}
	if _, err := db.CreateEvents(ctx, "p", []*userevents.Event{ev}); err != nil {
		t.Fatalf("CreateEvents() error = %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("Close() error = %v", err)
	}

	db = openDB(t, path)
	events, total, err := db.FindEvents(ctx, userevents.EventFilter{ProjectID: "p", Limit: 10})
	if err != nil {
		t.Fatalf("FindEvents() error = %v", err)
	}
	if total != 1 || len(events) != 1 || events[0].EventID != "e1" || events[0].Seq != ev.Seq {
		t.Fatalf("FindEvents() after reopen = %d events (total %d), want e1 with seq %d", len(events), total, ev.Seq)
	}
	st, err := db.FindDeliveryStats(ctx, "p")
	if err != nil {
		t.Fatalf("FindDeliveryStats() error = %v", err)
	}
	if st.Pending != 1 {
		t.Fatalf("Pending after reopen = %d, want 1", st.Pending)
	}

	// Seq keeps increasing after a reopen.
	next := &userevents.Event{EventID: "e2", EventType: "LOGIN", Username: "u", EventTime: ev.EventTime}
	if _, err := db.CreateEvents(ctx, "p", []*userevents.Event{next}); err != nil {
		t.Fatalf("CreateEvents() error = %v", err)
	}
	if next.Seq <= ev.Seq {
		t.Fatalf("Seq after reopen = %d, want more than %d", next.Seq, ev.Seq)
	}
}

func TestSecretsNotInFile(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	db := openDB(t, filepath.Join(dir, "userevents.db"))
	const secret = "sk-plaintext-marker-7f3a9c"
	const token = "token-plaintext-marker-2b8e"
	mustCreateKeyOwner(t, db)
	k := &userevents.AccessKey{
		ID: "AKTESTEXAMPLE00000001", Secret: secret, SecurityToken: token,
		UserID: "u1", AccountID: "a1", Enabled: true,
	}
	if err := db.CreateAccessKey(ctx, k); err != nil {
		t.Fatalf("CreateAccessKey() error = %v", err)
	}

	// Check the WAL while open, then the checkpointed file after Close.
	requireNotInFiles(t, dir, secret, token)
	if err := db.Close(); err != nil {
		t.Fatalf("Close() error = %v", err)
	}
	requireNotInFiles(t, dir, secret, token)

	db = openDB(t, filepath.Join(dir, "userevents.db"))
	got, err := db.FindAccessKey(ctx, k.ID)
	if err != nil {
		t.Fatalf("FindAccessKey() error = %v", err)
	}
	if string(got.Secret) != secret || string(got.SecurityToken) != token {
		t.Fatal("FindAccessKey() after reopen did not return the original secret and token")
	}
}

func mustCreateKeyOwner(t *testing.T, db *sqlite.DB) {
	t.Helper()
	if err := db.CreateAccount(t.Context(), &userevents.Account{ID: "a1", Name: "acct"}); err != nil {
		t.Fatalf("CreateAccount() error = %v", err)
	}
	if err := db.CreateUser(t.Context(), &userevents.User{ID: "u1", AccountID: "a1", Name: "acct"}); err != nil {
		t.Fatalf("CreateUser() error = %v", err)
	}
}

// requireNotInFiles fails the test when any file in dir contains one of
// the values.
func requireNotInFiles(t *testing.T, dir string, values ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("read directory: %v", err)
	}
	var read int
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatalf("read %s: %v", e.Name(), err)
		}
		read += len(data)
		for _, v := range values {
			if bytes.Contains(data, []byte(v)) {
				t.Fatalf("%s contains the plaintext %q", e.Name(), v)
			}
		}
	}
	if read == 0 {
		t.Fatal("the database directory holds no data")
	}
}

// clock is a settable time source for DB.Now.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

func TestClockDrivesOutbox(t *testing.T) {
	ctx := t.Context()
	db := openDB(t, filepath.Join(t.TempDir(), "userevents.db"))
	c := &clock{now: time.Date(2024, 5, 2, 0, 0, 0, 0, time.UTC)}
	db.Now = c.Now

	cfg := &userevents.LTSConfig{ProjectID: "p", Enabled: true, LogGroupID: "g", LogStreamID: "s"}
	if err := db.SetLTSConfig(ctx, cfg); err != nil {
		t.Fatalf("SetLTSConfig() error = %v", err)
	}
	if !cfg.UpdatedAt.Equal(c.now) {
		t.Fatalf("UpdatedAt = %s, want the clock's %s", cfg.UpdatedAt, c.now)
	}
	ev := &userevents.Event{EventID: "e1", EventType: "LOGIN", Username: "u", EventTime: c.now.Add(-time.Hour)}
	if _, err := db.CreateEvents(ctx, "p", []*userevents.Event{ev}); err != nil {
		t.Fatalf("CreateEvents() error = %v", err)
	}
	if !ev.ReceivedAt.Equal(c.now) {
		t.Fatalf("ReceivedAt = %s, want the clock's %s", ev.ReceivedAt, c.now)
	}

	leased, err := db.LeaseDeliveries(ctx, "w1", 10, time.Minute)
	if err != nil || len(leased) != 1 {
		t.Fatalf("LeaseDeliveries() = %d deliveries, %v; want 1", len(leased), err)
	}
	if !leased[0].QueuedAt.Equal(c.now) {
		t.Fatalf("QueuedAt = %s, want the clock's %s", leased[0].QueuedAt, c.now)
	}
	due, ok, err := db.NextDeliveryDue(ctx)
	if err != nil || !ok || !due.Equal(c.now.Add(time.Minute)) {
		t.Fatalf("NextDeliveryDue() = %s, %v, %v; want the lease expiry %s", due, ok, err, c.now.Add(time.Minute))
	}

	// One microsecond before expiry the lease holds; at expiry it lapses.
	c.now = c.now.Add(time.Minute - time.Microsecond)
	if got, _ := db.LeaseDeliveries(ctx, "w2", 10, time.Minute); len(got) != 0 {
		t.Fatalf("LeaseDeliveries() before expiry = %d deliveries, want 0", len(got))
	}
	c.now = c.now.Add(time.Microsecond)
	got, err := db.LeaseDeliveries(ctx, "w2", 10, time.Minute)
	if err != nil || len(got) != 1 || got[0].ID != leased[0].ID {
		t.Fatalf("LeaseDeliveries() at expiry = %d deliveries, %v; want the expired one", len(got), err)
	}

	if err := db.RetryDeliveries(ctx, "w2", []int64{got[0].ID}, c.now.Add(time.Hour), "down"); err != nil {
		t.Fatalf("RetryDeliveries() error = %v", err)
	}
	st, err := db.FindDeliveryStats(ctx, "p")
	if err != nil {
		t.Fatalf("FindDeliveryStats() error = %v", err)
	}
	if !st.LastErrorAt.Equal(c.now) || !st.OldestPending.Equal(leased[0].QueuedAt) {
		t.Fatalf("stats = %+v, want LastErrorAt %s and OldestPending %s", st, c.now, leased[0].QueuedAt)
	}
}

func TestEmptyEventIDGetsOne(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "userevents.db"))
	a := &userevents.Event{EventType: "LOGIN", Username: "u", EventTime: time.Now()}
	b := &userevents.Event{EventType: "LOGIN", Username: "u", EventTime: time.Now()}
	n, err := db.CreateEvents(t.Context(), "p", []*userevents.Event{a, b})
	if err != nil {
		t.Fatalf("CreateEvents() error = %v", err)
	}
	if n != 2 || a.EventID == "" || a.EventID == b.EventID {
		t.Fatalf("CreateEvents() stored %d with ids %q and %q, want 2 with distinct ids", n, a.EventID, b.EventID)
	}
}

func TestCanceledContext(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "userevents.db"))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	ev := &userevents.Event{EventID: "e1", EventType: "LOGIN", Username: "u", EventTime: time.Now()}
	if _, err := db.CreateEvents(ctx, "p", []*userevents.Event{ev}); err == nil {
		t.Fatal("CreateEvents() with a canceled context succeeded, want an error")
	}
	if ev.Seq != 0 {
		t.Fatalf("Seq after failed CreateEvents() = %d, want 0", ev.Seq)
	}
	_, total, err := db.FindEvents(t.Context(), userevents.EventFilter{ProjectID: "p"})
	if err != nil || total != 0 {
		t.Fatalf("FindEvents() after failed CreateEvents() = total %d, %v; want 0", total, err)
	}
}
