package http_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/userevents/userevents/uetest"
)

const configPath = eventsPath + "/lts-configurations"

// errorBody decodes an error response and fails unless it has both fields.
func errorBody(t *testing.T, body string) (code, msg string) {
	t.Helper()
	var e struct {
		Code string `json:"error_code"`
		Msg  string `json:"error_msg"`
	}
	if err := json.Unmarshal([]byte(body), &e); err != nil || e.Code == "" || e.Msg == "" {
		t.Fatalf("not an error body: %q", body)
	}
	return e.Code, e.Msg
}

func TestSetConfigStrictJSON(t *testing.T) {
	env := uetest.Start(t, uetest.Options{NoWorker: true})
	groupID, streamID := createLogTarget(t, env, "strict")
	ids := `"log_group_id":"` + groupID + `","log_stream_id":"` + streamID + `"`

	tests := []struct {
		name    string
		body    string
		status  int
		mention string
	}{
		{"valid", `{"enable":true,` + ids + `}`, 200, ""},
		{"valid with newline", `{"enable":true,` + ids + "}\n", 200, ""},
		{"key differing in case", `{"enable":true,"Enable":false,` + ids + `}`, 400, "Enable"},
		{"upper-case key only", `{"ENABLE":true}`, 400, "ENABLE"},
		{"duplicate key", `{"enable":true,"enable":false}`, 400, "more than once"},
		{"unknown member", `{"enable":true,"unknown":1,` + ids + `}`, 400, "unknown"},
		{"empty object", `{}`, 400, "enable"},
		{"null enable", `{"enable":null}`, 400, "null"},
		{"string enable", `{"enable":"false"}`, 400, "boolean"},
		{"number enable", `{"enable":1}`, 400, "boolean"},
		{"trailing garbage", `{"enable":false} x`, 400, "invalid"},
		{"two objects", `{"enable":false}{"enable":true}`, 400, "invalid"},
		{"empty body", ``, 400, "empty"},
		{"array body", `[true]`, 400, ""},
		{"enable without ids", `{"enable":true}`, 400, "log_group_id"},
		{"enable without stream", `{"enable":true,"log_group_id":"` + groupID + `"}`, 400, "log_stream_id"},
		{"unknown group", `{"enable":true,"log_group_id":"nope","log_stream_id":"` + streamID + `"}`, 400, "nope"},
		{"stream of another group", `{"enable":true,"log_group_id":"` + groupID + `","log_stream_id":"nope"}`, 400, "nope"},
		{"id too long", `{"enable":true,"log_group_id":"` + strings.Repeat("a", 65) + `","log_stream_id":"x"}`, 400, "64"},
		{"disable without ids", `{"enable":false}`, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := uetest.Do(t, http.MethodPost, env.WorkspaceURL, configPath, nil, tt.body)
			if status != tt.status {
				t.Fatalf("status = %d, want %d: %s", status, tt.status, body)
			}
			if tt.status == 200 {
				return
			}
			code, msg := errorBody(t, body)
			if code != "WKS.0400" && code != "WKS.0001" {
				t.Errorf("error_code = %q", code)
			}
			if !strings.Contains(msg, tt.mention) {
				t.Errorf("error_msg %q does not mention %q", msg, tt.mention)
			}
		})
	}
}

func TestDisableKeepsFalsePresent(t *testing.T) {
	env := uetest.Start(t, uetest.Options{})
	groupID, streamID := createLogTarget(t, env, "toggle")
	enableDelivery(t, env, groupID, streamID)

	now := time.Now().UTC().Truncate(time.Second)
	postEvents(t, env, []testEvent{{EventID: "before", Username: "u-alice", EventType: "LOGIN", EventTime: now.Format(time.RFC3339)}})
	waitForLines(t, env, groupID, streamID, 1)

	status, body := uetest.Do(t, http.MethodPost, env.WorkspaceURL, configPath, nil, `{"enable":false}`)
	if status != 200 {
		t.Fatalf("disable: status %d: %s", status, body)
	}
	status, body = uetest.Do(t, http.MethodGet, env.WorkspaceURL, configPath, nil, "")
	if status != 200 || !strings.Contains(body, `"enable":false`) {
		t.Fatalf("GET after disable = %d %s, want \"enable\":false present", status, body)
	}

	postEvents(t, env, []testEvent{{EventID: "after", Username: "u-alice", EventType: "LOGOUT", EventTime: now.Format(time.RFC3339)}})
	time.Sleep(300 * time.Millisecond) // several worker polls
	lines := waitForLines(t, env, groupID, streamID, 1)
	if strings.Contains(lines[0], `"after"`) {
		t.Fatalf("event accepted after disable was delivered: %s", lines[0])
	}
}

func TestSwitchStreamAppliesToLaterEvents(t *testing.T) {
	env := uetest.Start(t, uetest.Options{NoWorker: true})
	g1, s1 := createLogTarget(t, env, "first")
	g2, s2 := createLogTarget(t, env, "second")
	now := time.Now().UTC().Truncate(time.Second).Format(time.RFC3339)

	enableDelivery(t, env, g1, s1)
	postEvents(t, env, []testEvent{{EventID: "one", Username: "u", EventType: "LOGIN", EventTime: now}})
	enableDelivery(t, env, g2, s2)
	postEvents(t, env, []testEvent{{EventID: "two", Username: "u", EventType: "LOGIN", EventTime: now}})

	startWorker(t, env)
	if l := waitForLines(t, env, g1, s1, 1); !strings.Contains(l[0], `"one"`) {
		t.Errorf("first stream holds %s, want event one", l[0])
	}
	if l := waitForLines(t, env, g2, s2, 1); !strings.Contains(l[0], `"two"`) {
		t.Errorf("second stream holds %s, want event two", l[0])
	}
}

func TestProjectPlaceholderRejected(t *testing.T) {
	env := uetest.Start(t, uetest.Options{NoWorker: true})
	status, body := uetest.Do(t, http.MethodGet, env.WorkspaceURL, "/v2/{project_id}/user-events/lts-configurations", nil, "")
	if status != http.StatusBadRequest {
		t.Fatalf("status = %d, want 400: %s", status, body)
	}
	if _, msg := errorBody(t, body); !strings.Contains(msg, "{project_id}") {
		t.Errorf("message does not explain the placeholder: %s", msg)
	}
}

func TestForeignProjectForbidden(t *testing.T) {
	env := uetest.Start(t, uetest.Options{NoWorker: true})
	status, body := uetest.Do(t, http.MethodGet, env.WorkspaceURL, "/v2/ffffffffffffffffffffffffffffffff/user-events/lts-configurations", nil, "")
	if status != http.StatusForbidden {
		t.Fatalf("status = %d, want 403: %s", status, body)
	}
}
