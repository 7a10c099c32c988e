package lts_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/userevents/userevents"
	"github.com/userevents/userevents/export"
	"github.com/userevents/userevents/lts"
	"github.com/userevents/userevents/uetest"
)

// otherProject is a second project of the test account whose events stay
// in the built-in LTS.
const otherProject = "fedcba9876543210fedcba9876543210"

func TestRouterSendsEachProjectToItsLTS(t *testing.T) {
	p := newPair(t)
	router := &lts.Router{
		Projects: map[string]*lts.Client{uetest.ProjectID: p.client},
		Builtin:  &export.BuiltinSink{Logs: p.local.Store},
	}
	p.local.Server.RemoteLTS = router
	ctx := context.Background()
	err := p.local.Store.CreateProject(ctx, &userevents.Project{
		ID: otherProject, Name: "cn-south-1", AccountID: uetest.AccountID, CreatedAt: time.Now(),
	})
	if err != nil {
		t.Fatal(err)
	}

	// The other project's configuration is checked in the built-in LTS.
	status, body := uetest.Do(t, http.MethodPost, p.local.LTSURL, "/v2/"+otherProject+"/groups", nil,
		`{"log_group_name":"local","ttl_in_days":7}`)
	if status != http.StatusCreated {
		t.Fatalf("create group: %d %s", status, body)
	}
	var g struct {
		LogGroupID string `json:"log_group_id"`
	}
	_ = json.Unmarshal([]byte(body), &g)
	status, body = uetest.Do(t, http.MethodPost, p.local.LTSURL, "/v2/"+otherProject+"/groups/"+g.LogGroupID+"/streams", nil,
		`{"log_stream_name":"local-stream"}`)
	if status != http.StatusCreated {
		t.Fatalf("create stream: %d %s", status, body)
	}
	var s struct {
		LogStreamID string `json:"log_stream_id"`
	}
	_ = json.Unmarshal([]byte(body), &s)
	status, body = uetest.Do(t, http.MethodPost, p.local.WorkspaceURL, "/v2/"+otherProject+"/user-events/lts-configurations", nil,
		fmt.Sprintf(`{"enable":true,"log_group_id":%q,"log_stream_id":%q}`, g.LogGroupID, s.LogStreamID))
	if status != http.StatusOK {
		t.Fatalf("enable built-in delivery for the other project: %d %s", status, body)
	}

	// The routed project's configuration is checked in its remote LTS.
	p.enable(t)
	remoteIDs := p.post(t, "remote", 5, time.Now())
	status, body = uetest.Do(t, http.MethodPost, p.local.WorkspaceURL, "/v2/"+otherProject+"/user-events", nil,
		fmt.Sprintf(`{"items":[{"event_id":"local-1","username":"u","event_type":"LOGIN","event_time":%q}]}`,
			time.Now().UTC().Format(time.RFC3339)))
	if status != http.StatusOK {
		t.Fatalf("intake for the other project: %d %s", status, body)
	}

	p.start(t, func(w *export.Worker) { w.Sink = router })
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := p.remoteEventIDs(t)
		recs, _, err := p.local.Store.FindLogs(ctx, userevents.LogQuery{
			ProjectID: otherProject, GroupID: g.LogGroupID, StreamID: s.LogStreamID,
			EndMs: time.Now().Add(time.Hour).UnixMilli(), Limit: 10,
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) == len(remoteIDs) && len(recs) == 1 {
			if !strings.Contains(recs[0].Content, `"local-1"`) {
				t.Errorf("built-in stream holds %s", recs[0].Content)
			}
			if got["local-1"] != 0 {
				t.Errorf("the other project's event reached the remote LTS")
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("remote holds %d of %d events, built-in stream %d of 1", len(got), len(remoteIDs), len(recs))
		}
		time.Sleep(20 * time.Millisecond)
	}
}
