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

func TestConfigRemoteLTSPerProject(t *testing.T) {
	file := filepath.Join(t.TempDir(), "userevents.yaml")
	content := `remote_lts_projects:
  0123456789abcdef0123456789abcdef:
    endpoint: https://lts.cn-north-4.example
    project_id: aaaabbbbccccddddeeeeffff00001111
    access_key: AKREMOTE
    secret_key: sk-remote
  not-a-project:
    endpoint: lts.example
`
	if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := parseServeFlags([]string{"--config", file}, noEnv, &bytes.Buffer{})
	if err == nil {
		t.Fatal("an invalid project entry was accepted")
	}
	for _, want := range []string{"not-a-project", "lts.example", "access_key"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
	r := cfg.RemoteLTSProjects["0123456789abcdef0123456789abcdef"]
	if r.Endpoint != "https://lts.cn-north-4.example" || r.ProjectID != "aaaabbbbccccddddeeeeffff00001111" || r.SecretKey != "sk-remote" {
		t.Errorf("parsed entry = %+v", r)
	}
}
