package http_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/sdkerr"
	ltsmodel "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/lts/v2/model"
	wsmodel "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/workspace/v2/model"

	"github.com/userevents/userevents/uetest"
)

const eventsPath = "/v2/" + uetest.ProjectID + "/user-events"

// createLogTarget creates a log group and a stream in it through the SDK.
func createLogTarget(t *testing.T, env *uetest.Env, name string) (groupID, streamID string) {
	t.Helper()
	lts := env.LTSClient()
	g, err := lts.CreateLogGroup(&ltsmodel.CreateLogGroupRequest{
		Body: &ltsmodel.CreateLogGroupParams{LogGroupName: name, TtlInDays: 30},
	})
	if err != nil {
		t.Fatalf("create log group: %v", err)
	}
	s, err := lts.CreateLogStream(&ltsmodel.CreateLogStreamRequest{
		LogGroupId: *g.LogGroupId,
		Body:       &ltsmodel.CreateLogStreamParams{LogStreamName: name + "-stream"},
	})
	if err != nil {
		t.Fatalf("create log stream: %v", err)
	}
	return *g.LogGroupId, *s.LogStreamId
}

func enableDelivery(t *testing.T, env *uetest.Env, groupID, streamID string) {
	t.Helper()
	_, err := env.WorkspaceClient().SetUserEventsLtsConfigurations(&wsmodel.SetUserEventsLtsConfigurationsRequest{
		Body: &wsmodel.SetUserEventsLtsConfigurationsRequestBody{
			Enable: true, LogGroupId: &groupID, LogStreamId: &streamID,
		},
	})
	if err != nil {
		t.Fatalf("enable delivery: %v", err)
	}
}

type testEvent struct {
	EventID      string `json:"event_id,omitempty"`
	Username     string `json:"username"`
	EventType    string `json:"event_type"`
	EventTime    string `json:"event_time"`
	ResourceName string `json:"resource_name,omitempty"`
	IsSuccess    *bool  `json:"is_success,omitempty"`
}

// postEvents posts events through intake and fails the test unless all
// are accepted.
func postEvents(t *testing.T, env *uetest.Env, events []testEvent) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"items": events})
	status, resp := uetest.Do(t, http.MethodPost, env.WorkspaceURL, eventsPath, nil, string(body))
	if status != http.StatusOK {
		t.Fatalf("intake: status %d: %s", status, resp)
	}
}

func TestEndToEndDelivery(t *testing.T) {
	env := uetest.Start(t, uetest.Options{})
	ws := env.WorkspaceClient()

	cfg, err := ws.ListUserEventsLtsConfigurations(&wsmodel.ListUserEventsLtsConfigurationsRequest{})
	if err != nil {
		t.Fatalf("get config before any: %v", err)
	}
	if cfg.Enable == nil || *cfg.Enable {
		t.Fatalf("config before any: enable = %v, want false", cfg.Enable)
	}

	groupID, streamID := createLogTarget(t, env, "workspace-events")
	enableDelivery(t, env, groupID, streamID)
	cfg, err = ws.ListUserEventsLtsConfigurations(&wsmodel.ListUserEventsLtsConfigurationsRequest{})
	if err != nil {
		t.Fatalf("get config: %v", err)
	}
	if !*cfg.Enable || *cfg.LogGroupId != groupID || *cfg.LogStreamId != streamID {
		t.Fatalf("config = %v, want enabled on %s/%s", cfg, groupID, streamID)
	}

	base := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	users := []string{"u-alice", "u-bob", "ann lee"}
	types := []string{"LOGIN", "CONNECT", "DISCONNECT", "LOGOUT"}
	var events []testEvent
	for i := range 25 {
		events = append(events, testEvent{
			EventID:      fmt.Sprintf("evt-%02d", i),
			Username:     users[i%len(users)],
			EventType:    types[i%len(types)],
			EventTime:    base.Add(time.Duration(i/2) * time.Minute).Format(time.RFC3339),
			ResourceName: fmt.Sprintf("desk:%02d", i%5),
		})
	}
	postEvents(t, env, events)

	start, end := base.Add(-time.Minute).Format(time.RFC3339), base.Add(time.Hour).Format(time.RFC3339)
	list := func(req wsmodel.ListUserEventsRequest) *wsmodel.ListUserEventsResponse {
		t.Helper()
		req.StartTime, req.EndTime = start, end
		resp, err := ws.ListUserEvents(&req)
		if err != nil {
			t.Fatalf("list events: %v", err)
		}
		return resp
	}

	t.Run("paging", func(t *testing.T) {
		seen := map[string]bool{}
		var prev time.Time
		for offset := int32(0); offset < 30; offset += 10 {
			limit := int32(10)
			resp := list(wsmodel.ListUserEventsRequest{Offset: &offset, Limit: &limit})
			if *resp.Count != 25 {
				t.Fatalf("count = %d, want 25", *resp.Count)
			}
			for _, it := range *resp.Items {
				key := *it.Username + *it.EventTime + *it.EventType
				if seen[key] {
					t.Fatalf("event %s repeated across pages", key)
				}
				seen[key] = true
				tm, _ := time.Parse(time.RFC3339, *it.EventTime)
				if !prev.IsZero() && tm.After(prev) {
					t.Fatalf("event at %s after %s: not newest first", tm, prev)
				}
				prev = tm
			}
		}
		if len(seen) != 25 {
			t.Fatalf("pages held %d distinct events, want 25", len(seen))
		}
	})

	t.Run("filters", func(t *testing.T) {
		user, types, resource := "ann lee", "LOGIN,LOGOUT", "desk:03"
		if got := *list(wsmodel.ListUserEventsRequest{Username: &user}).Count; got != 8 {
			t.Errorf("username filter count = %d, want 8", got)
		}
		if got := *list(wsmodel.ListUserEventsRequest{EventType: &types}).Count; got != 13 {
			t.Errorf("event_type filter count = %d, want 13", got)
		}
		resp := list(wsmodel.ListUserEventsRequest{ResourceName: &resource})
		if *resp.Count != 5 {
			t.Errorf("resource_name filter count = %d, want 5", *resp.Count)
		}
		for _, it := range *resp.Items {
			if *it.ResourceName != resource {
				t.Errorf("resource_name filter returned %q", *it.ResourceName)
			}
		}
	})

	t.Run("delivered to stream", func(t *testing.T) {
		lines := waitForLines(t, env, groupID, streamID, 25)
		got := map[string]bool{}
		for _, l := range lines {
			var rec map[string]any
			if err := json.Unmarshal([]byte(l), &rec); err != nil {
				t.Fatalf("log line is not JSON: %q", l)
			}
			id, _ := rec["eventId"].(string)
			got[id] = true
			for _, field := range []string{"projectId", "username", "eventType", "eventTime"} {
				if _, ok := rec[field]; !ok {
					t.Errorf("log line lacks %s: %s", field, l)
				}
			}
		}
		for _, e := range events {
			if !got[e.EventID] {
				t.Errorf("event %s not in the stream", e.EventID)
			}
		}
	})
}

// waitForLines polls ListLogs until the stream holds want lines and
// returns their contents.
func waitForLines(t *testing.T, env *uetest.Env, groupID, streamID string, want int) []string {
	t.Helper()
	lts := env.LTSClient()
	now := time.Now()
	deadline := now.Add(10 * time.Second)
	for {
		var lines []string
		lineNum := ""
		for {
			limit := int32(10)
			params := &ltsmodel.QueryLtsLogParams{
				StartTime: strconv.FormatInt(now.Add(-48*time.Hour).UnixMilli(), 10),
				EndTime:   strconv.FormatInt(now.Add(time.Hour).UnixMilli(), 10),
				Limit:     &limit,
			}
			if lineNum != "" {
				params.LineNum = &lineNum
			}
			resp, err := lts.ListLogs(&ltsmodel.ListLogsRequest{LogGroupId: groupID, LogStreamId: streamID, Body: params})
			if err != nil {
				t.Fatalf("list logs: %v", err)
			}
			for _, l := range *resp.Logs {
				lines = append(lines, *l.Content)
				lineNum = *l.LineNum
			}
			if len(*resp.Logs) < int(limit) {
				break
			}
		}
		if len(lines) >= want || time.Now().After(deadline) {
			if len(lines) != want {
				t.Fatalf("stream holds %d lines, want %d", len(lines), want)
			}
			return lines
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestSeedExampleRequest(t *testing.T) {
	env := uetest.Start(t, uetest.Options{})
	body := `{
  "enable" : true,
  "log_group_id" : "e56e2131-8fa5-42dc-8f26-17b18fd3ec9e",
  "log_stream_id" : "049a351d-5164-4bb2-af41-b7e3f3437c80"
}`
	status, resp := uetest.Do(t, http.MethodPost, env.WorkspaceURL, eventsPath+"/lts-configurations", nil, body)
	if status != http.StatusBadRequest {
		t.Fatalf("status = %d, want 400 for an unknown log group: %s", status, resp)
	}
	if !strings.Contains(resp, "e56e2131-8fa5-42dc-8f26-17b18fd3ec9e") {
		t.Errorf("error does not name the unknown group: %s", resp)
	}

	// The same body once the group and stream exist under those names'
	// ids is accepted: create them, then send the example with the ids
	// substituted.
	groupID, streamID := createLogTarget(t, env, "example")
	body = strings.NewReplacer("e56e2131-8fa5-42dc-8f26-17b18fd3ec9e", groupID,
		"049a351d-5164-4bb2-af41-b7e3f3437c80", streamID).Replace(body)
	status, resp = uetest.Do(t, http.MethodPost, env.WorkspaceURL, eventsPath+"/lts-configurations", nil, body)
	if status != http.StatusOK {
		t.Fatalf("status = %d, want 200: %s", status, resp)
	}
}

func TestSDKErrorFields(t *testing.T) {
	env := uetest.Start(t, uetest.Options{})
	_, err := env.WorkspaceClient().ListUserEvents(&wsmodel.ListUserEventsRequest{StartTime: "yesterday", EndTime: "2024-05-02T00:00:00Z"})
	var se *sdkerr.ServiceResponseError
	if !errors.As(err, &se) {
		t.Fatalf("err = %v, want a ServiceResponseError", err)
	}
	if se.StatusCode != 400 || se.ErrorCode != "WKS.0400" || len(se.RequestId) != 32 {
		t.Errorf("error = status %d code %q request id %q", se.StatusCode, se.ErrorCode, se.RequestId)
	}
	if !strings.Contains(se.ErrorMessage, "start_time") || !strings.Contains(se.ErrorMessage, "yesterday") {
		t.Errorf("message does not name the field and value: %s", se.ErrorMessage)
	}
}

// startWorker runs the environment's delivery worker until the test ends.
func startWorker(t *testing.T, env *uetest.Env) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = env.Worker.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}
