package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Backup writes a consistent copy of the database file at dbPath to
// outPath with VACUUM INTO. It opens its own connection, so it
// may run while a server writes to the database: WAL mode gives the copy
// one snapshot, and writers are not blocked. outPath must not exist.
func Backup(ctx context.Context, dbPath, outPath string) error {
	if _, err := os.Stat(dbPath); err != nil {
		return fmt.Errorf("backup: database %s: %w", dbPath, err)
	}
	if _, err := os.Stat(outPath); err == nil {
		return fmt.Errorf("backup: %s already exists; choose a new file", outPath)
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("backup: %w", err)
	}
	abs, err := filepath.Abs(dbPath)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	// VACUUM INTO writes only the new file, but SQLite refuses it on a
	// query_only connection, so this one is a normal connection.
	db, err := sql.Open("sqlite", dsn(abs, false))
	if err != nil {
		return fmt.Errorf("backup: open database: %w", err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `VACUUM INTO ?`, outPath); err != nil {
		return fmt.Errorf("backup: copy database: %w", err)
	}
	// SQLite creates the file with the process umask; the copy holds the
	// same sealed secrets as the original, so only the owner may read it.
	if err := os.Chmod(outPath, 0o600); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	return nil
}
