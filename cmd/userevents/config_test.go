package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func noEnv(string) string { return "" }

func TestConfigPrecedence(t *testing.T) {
	file := filepath.Join(t.TempDir(), "userevents.yaml")
	content := "data: /from/file\nlog_level: debug\nshutdown_timeout: 5s\nworkspace_addr: 127.0.0.1:9000\n"
	if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"USEREVENTS_LOG_LEVEL": "warn", "USEREVENTS_CONFIG": file}
	cfg, err := parseServeFlags([]string{"--workspace-addr", "127.0.0.1:9100"}, func(k string) string { return env[k] }, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DataDir != "/from/file" {
		t.Errorf("data = %q, want the file's value", cfg.DataDir)
	}
	if cfg.ShutdownTimeout != 5*time.Second {
		t.Errorf("shutdown_timeout = %s, want 5s from the file", cfg.ShutdownTimeout)
	}
	if cfg.LogLevel != "warn" {
		t.Errorf("log level = %q, want the environment over the file", cfg.LogLevel)
	}
	if cfg.WorkspaceAddr != "127.0.0.1:9100" {
		t.Errorf("workspace addr = %q, want the flag over the file", cfg.WorkspaceAddr)
	}
}

func TestConfigFileUnknownKey(t *testing.T) {
	file := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(file, []byte("data: x\nlog_levle: debug\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := parseServeFlags([]string{"--config=" + file}, noEnv, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "log_levle") {
		t.Errorf("err = %v, want it to name the unknown key", err)
	}
}

func TestConfigCheckReportsEveryProblem(t *testing.T) {
	var out, errOut bytes.Buffer
	err := checkConfig([]string{"--log-format", "xml", "--workspace-addr", "nope", "--log-level", "loud",
		"--data", t.TempDir()}, noEnv, &out, &errOut)
	if err == nil {
		t.Fatal("check passed a bad configuration")
	}
	for _, want := range []string{"--log-format \"xml\"", "--workspace-addr \"nope\"", "--log-level \"loud\""} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("report lacks %s:\n%s", want, errOut.String())
		}
	}
}

func TestConfigCheckValid(t *testing.T) {
	var out, errOut bytes.Buffer
	err := checkConfig([]string{"--data", t.TempDir(), "--workspace-addr", "127.0.0.1:0",
		"--lts-addr", "127.0.0.1:0", "--iam-addr", "127.0.0.1:0"}, noEnv, &out, &errOut)
	if err != nil || !strings.Contains(out.String(), "configuration is valid") {
		t.Errorf("check = %v, %q %q", err, out.String(), errOut.String())
	}
}
