package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/userevents/userevents/keyring"
	"github.com/userevents/userevents/sqlite"
)

const backupUsage = `Usage:
  userevents backup [--data DIR] OUT     copy the embedded database and its key to the new directory OUT, while the server runs
  userevents restore [--data DIR] FROM   replace the database and key in DIR with the backup FROM; stop the server first
`

// Files of a data directory that a backup holds. The key file is needed
// because secret keys in the database are encrypted with it.
const (
	databaseFile = "userevents.db"
	keyFile      = "secret.key"
)

// runBackup copies the database with sqlite.Backup and the key file into a
// new directory.
func runBackup(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("userevents backup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", dataDirDefault(getenv), "data directory of the server (env USEREVENTS_DATA)")
	if err := fs.Parse(args); err != nil || fs.NArg() != 1 {
		fmt.Fprint(stderr, backupUsage)
		return errUsage
	}
	out := fs.Arg(0)
	if err := os.Mkdir(out, 0o700); err != nil {
		return fmt.Errorf("create backup directory: %w", err)
	}
	if err := sqlite.Backup(ctx, filepath.Join(*data, databaseFile), filepath.Join(out, databaseFile)); err != nil {
		return err
	}
	if err := copyFile(filepath.Join(*data, keyFile), filepath.Join(out, keyFile)); err != nil {
		return fmt.Errorf("copy key file: %w", err)
	}
	fmt.Fprintf(stdout, "backed up %s to %s\n", *data, out)
	return nil
}

// runRestore replaces the database and key of a data directory with a
// backup. The server must be stopped: the database file is replaced, and a
// running server would keep writing to the old one.
func runRestore(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("userevents restore", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", dataDirDefault(getenv), "data directory of the server (env USEREVENTS_DATA)")
	if err := fs.Parse(args); err != nil || fs.NArg() != 1 {
		fmt.Fprint(stderr, backupUsage)
		return errUsage
	}
	from := fs.Arg(0)
	for _, name := range []string{databaseFile, keyFile} {
		if _, err := os.Stat(filepath.Join(from, name)); err != nil {
			return fmt.Errorf("%s is not a backup: %w", from, err)
		}
	}
	if _, err := keyring.LoadOrCreate(filepath.Join(from, keyFile)); err != nil {
		return fmt.Errorf("backup key: %w", err)
	}
	unlock, err := lockDataDir(*data)
	if err != nil {
		return err
	}
	defer unlock()

	for _, suffix := range []string{"-wal", "-shm"} {
		if err := os.Remove(filepath.Join(*data, databaseFile+suffix)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove old database journal: %w", err)
		}
	}
	for _, name := range []string{databaseFile, keyFile} {
		tmp := filepath.Join(*data, name+".restore")
		if err := copyFile(filepath.Join(from, name), tmp); err != nil {
			return fmt.Errorf("copy %s: %w", name, err)
		}
		if err := os.Rename(tmp, filepath.Join(*data, name)); err != nil {
			return fmt.Errorf("replace %s: %w", name, err)
		}
	}
	fmt.Fprintf(stdout, "restored %s from %s\n", *data, from)
	return nil
}

func dataDirDefault(getenv func(string) string) string {
	if v := getenv("USEREVENTS_DATA"); v != "" {
		return v
	}
	return defaultConfig().DataDir
}

// copyFile copies src to a new file dst with mode 0600 and syncs it.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
