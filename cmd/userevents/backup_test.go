package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/userevents/userevents"
	"github.com/userevents/userevents/keyring"
	"github.com/userevents/userevents/sqlite"
)

func openData(t *testing.T, dir string) *sqlite.DB {
	t.Helper()
	keys, err := keyring.LoadOrCreate(filepath.Join(dir, keyFile))
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(context.Background(), filepath.Join(dir, databaseFile), keys, nil)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func TestBackupWhileOpenAndRestore(t *testing.T) {
	ctx := context.Background()
	data := t.TempDir()
	db := openData(t, data)
	if err := db.CreateAccount(ctx, &userevents.Account{ID: "a", Name: "acct", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateUser(ctx, &userevents.User{ID: "u", AccountID: "a", Name: "acct", Root: true, Enabled: true, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	err := db.CreateAccessKey(ctx, &userevents.AccessKey{ID: "AKBACKUP", Secret: "sk-backup", UserID: "u", AccountID: "a", Enabled: true, CreatedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.CreateEvents(ctx, "p", []*userevents.Event{{EventID: "e1", Username: "u", EventType: "LOGIN", EventTime: time.Now().UTC()}})
	if err != nil {
		t.Fatal(err)
	}

	// The store stays open, as in a running server.
	backupDir := filepath.Join(t.TempDir(), "backup")
	var out, errOut bytes.Buffer
	if err := runBackup(ctx, []string{"--data", data, backupDir}, noEnv, &out, &errOut); err != nil {
		t.Fatalf("backup: %v %s", err, errOut.String())
	}
	_, err = db.CreateEvents(ctx, "p", []*userevents.Event{{EventID: "e2", Username: "u", EventType: "LOGOUT", EventTime: time.Now().UTC()}})
	if err != nil {
		t.Fatal(err)
	}

	// A restore while the directory is in use is refused.
	unlock, err := lockDataDir(data)
	if err != nil {
		t.Fatal(err)
	}
	err = runRestore([]string{"--data", data, backupDir}, noEnv, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "in use") {
		t.Errorf("restore while locked: err = %v, want in use", err)
	}
	unlock()
	db.Close()

	target := t.TempDir()
	if err := runRestore([]string{"--data", target, backupDir}, noEnv, &out, &errOut); err != nil {
		t.Fatalf("restore: %v", err)
	}
	restored := openData(t, target)
	defer restored.Close()
	key, err := restored.FindAccessKey(ctx, "AKBACKUP")
	if err != nil || string(key.Secret) != "sk-backup" {
		t.Errorf("restored key = %v, %v; want the secret readable with the restored key file", key, err)
	}
	events, total, err := restored.FindEvents(ctx, userevents.EventFilter{
		ProjectID: "p", Start: time.Now().Add(-time.Hour), End: time.Now().Add(time.Hour), Limit: 10,
	})
	if err != nil || total != 1 || events[0].EventID != "e1" {
		t.Errorf("restored events = %d (%v), want only e1 from before the backup", total, err)
	}
}
