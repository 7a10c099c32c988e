package sqlite

import (
	"bytes"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/userevents/userevents/keyring"
)

func TestConnectionPragmas(t *testing.T) {
	sealer, err := keyring.New(bytes.Repeat([]byte{1}, keyring.KeySize))
	if err != nil {
		t.Fatalf("keyring.New() error = %v", err)
	}
	db, err := Open(t.Context(), filepath.Join(t.TempDir(), "userevents.db"), sealer, nil)
	if err != nil {
		t.Fatalf("Open() error = %v", err)
	}
	defer db.Close()

	tests := []struct {
		pool   string
		conn   *sql.DB
		pragma string
		want   string
	}{
		{"write", db.write, "journal_mode", "wal"},
		{"write", db.write, "synchronous", "2"}, // FULL
		{"write", db.write, "foreign_keys", "1"},
		{"write", db.write, "busy_timeout", "10000"},
		{"read", db.read, "journal_mode", "wal"},
		{"read", db.read, "synchronous", "2"},
		{"read", db.read, "query_only", "1"},
	}
	for _, tt := range tests {
		var got string
		if err := tt.conn.QueryRow("PRAGMA " + tt.pragma).Scan(&got); err != nil {
			t.Fatalf("PRAGMA %s on %s pool: %v", tt.pragma, tt.pool, err)
		}
		if got != tt.want {
			t.Errorf("PRAGMA %s on %s pool = %s, want %s", tt.pragma, tt.pool, got, tt.want)
		}
	}
}
