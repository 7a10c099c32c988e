package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/userevents/userevents/uetest"
)

// clientEnv returns a getenv that points the client at env with the test
// root key through the SDK's environment variables.
func clientEnv(env *uetest.Env) func(string) string {
	vars := map[string]string{
		"USEREVENTS_ENDPOINT":        env.WorkspaceURL,
		"HUAWEICLOUD_SDK_AK":         uetest.AccessKey,
		"HUAWEICLOUD_SDK_SK":         uetest.SecretKey,
		"HUAWEICLOUD_SDK_PROJECT_ID": uetest.ProjectID,
	}
	return func(k string) string { return vars[k] }
}

func runClient(t *testing.T, env *uetest.Env, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	var err error
	switch args[0] {
	case "events":
		err = runEvents(args[1:], clientEnv(env), &out, &errOut)
	case "lts":
		err = runLTS(args[1:], clientEnv(env), &out, &errOut)
	}
	return out.String(), err
}

func TestClientPostAndList(t *testing.T) {
	env := uetest.Start(t, uetest.Options{NoWorker: true})
	if _, err := runClient(t, env, "events", "post", "--username", "ann lee", "--type", "LOGIN",
		"--time", "2024-05-01T10:00:00Z", "--event-id", "cli-1", "--success", "true"); err != nil {
		t.Fatalf("post: %v", err)
	}
	out, err := runClient(t, env, "events", "list", "--start", "2024-05-01T00:00:00Z", "--end", "2024-05-02T00:00:00Z")
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	if !strings.Contains(out, "2024-05-01T10:00:00Z") || !strings.Contains(out, "ann lee") {
		t.Errorf("table output lacks the event:\n%s", out)
	}
	out, err = runClient(t, env, "events", "list", "-o", "json", "--start", "2024-05-01T00:00:00Z",
		"--end", "2024-05-02T00:00:00Z", "--username", "ann lee")
	if err != nil {
		t.Fatalf("list json: %v", err)
	}
	var res struct {
		Count int `json:"count"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || res.Count != 1 {
		t.Errorf("json output = %s, want count 1", out)
	}
}

func TestClientImportReportsLineNumbers(t *testing.T) {
	env := uetest.Start(t, uetest.Options{NoWorker: true})
	var lines []string
	for i := range 25 {
		lines = append(lines, fmt.Sprintf(`{"event_id":"imp-%d","username":"u","event_type":"LOGIN","event_time":"2024-05-01T10:00:%02dZ"}`, i, i))
	}
	good := filepath.Join(t.TempDir(), "good.jsonl")
	if err := os.WriteFile(good, []byte(strings.Join(lines, "\n")+"\n\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := runClient(t, env, "events", "import", "--batch", "10", "--quiet", good)
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	if !strings.Contains(out, "imported 25 events, 0 duplicates") {
		t.Errorf("import output = %q", out)
	}
	out, err = runClient(t, env, "events", "import", "--quiet", good)
	if err != nil || !strings.Contains(out, "imported 0 events, 25 duplicates") {
		t.Errorf("second import = %q, %v; want all duplicates", out, err)
	}

	bad := filepath.Join(t.TempDir(), "bad.jsonl")
	content := lines[0] + "\n" + `{"username":"u","event_type":"LOGIN","event_time":"soon"}` + "\n"
	if err := os.WriteFile(bad, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = runClient(t, env, "events", "import", "--quiet", bad)
	if err == nil || !strings.Contains(err.Error(), "line 2") || !strings.Contains(err.Error(), "soon") {
		t.Errorf("bad import error = %v, want it to name line 2 and the value", err)
	}
}

func TestClientLTSSetAndGet(t *testing.T) {
	env := uetest.Start(t, uetest.Options{NoWorker: true})
	if _, err := runClient(t, env, "lts", "set", "--enable", "--group", "nope", "--stream", "nope"); err == nil ||
		!strings.Contains(err.Error(), "400") {
		t.Errorf("enable on unknown ids: err = %v, want a 400", err)
	}
	out, err := runClient(t, env, "lts", "set", "--disable")
	if err != nil {
		t.Fatalf("disable: %v", err)
	}
	if !strings.Contains(out, "enable:        false") {
		t.Errorf("output = %q", out)
	}
	if _, err := runClient(t, env, "lts", "set", "--enable", "--disable"); err == nil {
		t.Errorf("both --enable and --disable accepted")
	}
}

func TestClientMissingCredentials(t *testing.T) {
	var out, errOut bytes.Buffer
	t.Chdir(t.TempDir())
	err := runLTS([]string{"get"}, func(string) string { return "" }, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "--ak") || !strings.Contains(err.Error(), "HUAWEICLOUD_SDK_AK") {
		t.Errorf("err = %v, want it to name the missing values and where to set them", err)
	}
}

func TestPrintableEscapesTerminalControls(t *testing.T) {
	tests := []struct{ in, want string }{
		{"ann lee", "ann lee"},
		{"桌面", "桌面"},
		{"a\nb\r\x1b[31m", `a\u000ab\u000d\u001b[31m`},
		{"evil\u202egnp.exe", `evil\u202egnp.exe`},
	}
	for _, tt := range tests {
		if got := printable(tt.in); got != tt.want {
			t.Errorf("printable(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
