package http_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	ltsmodel "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/lts/v2/model"

	"github.com/userevents/userevents/uetest"
)

type deliveryStatus struct {
	State       string `json:"state"`
	Pending     int    `json:"pending"`
	Delivered   int64  `json:"delivered"`
	DeadLetters int    `json:"dead_letters"`
	LastError   string `json:"last_error"`
	NextAttempt string `json:"next_attempt_time"`
}

func status(t *testing.T, env *uetest.Env) deliveryStatus {
	t.Helper()
	code, body := uetest.Do(t, http.MethodGet, env.WorkspaceURL, eventsPath+"/delivery-status", nil, "")
	if code != 200 {
		t.Fatalf("delivery-status: %d %s", code, body)
	}
	var st deliveryStatus
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatal(err)
	}
	return st
}

func waitStatus(t *testing.T, env *uetest.Env, ok func(deliveryStatus) bool) deliveryStatus {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		st := status(t, env)
		if ok(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("delivery status never reached the expected state: %+v", st)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestDeletedStreamPausesThenConfigurationFixes(t *testing.T) {
	env := uetest.Start(t, uetest.Options{NoWorker: true})
	if st := status(t, env); st.State != "disabled" {
		t.Errorf("state before any configuration = %q, want disabled", st.State)
	}
	groupID, streamID := createLogTarget(t, env, "doomed")
	enableDelivery(t, env, groupID, streamID)
	now := time.Now().UTC().Format(time.RFC3339)
	postEvents(t, env, []testEvent{
		{EventID: "k1", Username: "u", EventType: "LOGIN", EventTime: now},
		{EventID: "k2", Username: "u", EventType: "LOGOUT", EventTime: now},
	})
	if _, err := env.LTSClient().DeleteLogStream(&ltsmodel.DeleteLogStreamRequest{LogGroupId: groupID, LogStreamId: streamID}); err != nil {
		t.Fatal(err)
	}

	startWorker(t, env)
	st := waitStatus(t, env, func(s deliveryStatus) bool { return s.State == "paused" })
	if st.Pending != 2 || !strings.Contains(st.LastError, "not found") || st.NextAttempt == "" {
		t.Errorf("paused status = %+v, want 2 pending and a not-found error", st)
	}

	// Pointing the configuration at a new stream moves the queued events
	// there.
	newGroup, newStream := createLogTarget(t, env, "fresh")
	enableDelivery(t, env, newGroup, newStream)
	env.Worker.Notify()
	waitStatus(t, env, func(s deliveryStatus) bool { return s.State == "idle" && s.Delivered == 2 })
	lines := waitForLines(t, env, newGroup, newStream, 2)
	if !strings.Contains(strings.Join(lines, ""), `"k1"`) {
		t.Errorf("new stream lacks the queued events: %q", lines)
	}
}
