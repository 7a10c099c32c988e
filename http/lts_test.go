package http_test

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/sdkerr"
	ltsmodel "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/lts/v2/model"

	"github.com/userevents/userevents/uetest"
)

func TestLogGroupLifecycle(t *testing.T) {
	env := uetest.Start(t, uetest.Options{NoWorker: true})
	lts := env.LTSClient()
	groupID, streamID := createLogTarget(t, env, "life")

	groups, err := lts.ListLogGroups(&ltsmodel.ListLogGroupsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(*groups.LogGroups) != 1 || (*groups.LogGroups)[0].LogGroupId != groupID || (*groups.LogGroups)[0].TtlInDays != 30 {
		t.Fatalf("groups = %v", groups)
	}
	streams, err := lts.ListLogStream(&ltsmodel.ListLogStreamRequest{LogGroupId: groupID})
	if err != nil {
		t.Fatal(err)
	}
	if len(*streams.LogStreams) != 1 || *(*streams.LogStreams)[0].LogStreamId != streamID {
		t.Fatalf("streams = %v", streams)
	}
	name := "life"
	all, err := lts.ListLogStreams(&ltsmodel.ListLogStreamsRequest{LogGroupName: &name})
	if err != nil {
		t.Fatal(err)
	}
	if len(*all.LogStreams) != 1 || *(*all.LogStreams)[0].LogGroupId != groupID {
		t.Fatalf("log-streams = %v", all)
	}

	_, err = lts.CreateLogGroup(&ltsmodel.CreateLogGroupRequest{Body: &ltsmodel.CreateLogGroupParams{LogGroupName: "life", TtlInDays: 7}})
	expectSDKError(t, err, 409, "LTS.0409")

	if _, err := lts.DeleteLogStream(&ltsmodel.DeleteLogStreamRequest{LogGroupId: groupID, LogStreamId: streamID}); err != nil {
		t.Fatalf("delete stream: %v", err)
	}
	if _, err := lts.DeleteLogGroup(&ltsmodel.DeleteLogGroupRequest{LogGroupId: groupID}); err != nil {
		t.Fatalf("delete group: %v", err)
	}
	_, err = lts.DeleteLogGroup(&ltsmodel.DeleteLogGroupRequest{LogGroupId: groupID})
	expectSDKError(t, err, 404, "LTS.0404")
}

func expectSDKError(t *testing.T, err error, status int, code string) {
	t.Helper()
	var se *sdkerr.ServiceResponseError
	if !errors.As(err, &se) {
		t.Fatalf("err = %v, want HTTP %d %s", err, status, code)
	}
	if se.StatusCode != status || se.ErrorCode != code {
		t.Fatalf("error = %d %s (%s), want %d %s", se.StatusCode, se.ErrorCode, se.ErrorMessage, status, code)
	}
}

func TestLogNameRules(t *testing.T) {
	env := uetest.Start(t, uetest.Options{NoWorker: true})
	lts := env.LTSClient()
	tests := []struct {
		name string
		ok   bool
	}{
		{"a", true},
		{"日志组-1_x.y", true},
		{strings.Repeat("n", 64), true},
		{strings.Repeat("n", 65), false},
		{"", false},
		{".hidden", false},
		{"_under", false},
		{"dot.", false},
		{"space name", false},
		{"slash/name", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := lts.CreateLogGroup(&ltsmodel.CreateLogGroupRequest{Body: &ltsmodel.CreateLogGroupParams{LogGroupName: tt.name, TtlInDays: 7}})
			if tt.ok && err != nil {
				t.Fatalf("rejected: %v", err)
			}
			if !tt.ok {
				expectSDKError(t, err, 400, "LTS.0400")
			}
		})
	}
	_, err := lts.CreateLogGroup(&ltsmodel.CreateLogGroupRequest{Body: &ltsmodel.CreateLogGroupParams{LogGroupName: "ttl", TtlInDays: 366}})
	expectSDKError(t, err, 400, "LTS.0400")
}

func TestLogGroupQuota(t *testing.T) {
	env := uetest.Start(t, uetest.Options{NoWorker: true})
	lts := env.LTSClient()
	for i := range 100 {
		if _, err := lts.CreateLogGroup(&ltsmodel.CreateLogGroupRequest{Body: &ltsmodel.CreateLogGroupParams{LogGroupName: fmt.Sprint("g", i), TtlInDays: 7}}); err != nil {
			t.Fatalf("group %d: %v", i, err)
		}
	}
	_, err := lts.CreateLogGroup(&ltsmodel.CreateLogGroupRequest{Body: &ltsmodel.CreateLogGroupParams{LogGroupName: "one-too-many", TtlInDays: 7}})
	expectSDKError(t, err, 400, "LTS.0410")
}

func TestLogIngestion(t *testing.T) {
	env := uetest.Start(t, uetest.Options{NoWorker: true})
	groupID, streamID := createLogTarget(t, env, "ingest")
	path := fmt.Sprintf("/v2/%s/lts/groups/%s/streams/%s/tenant/contents", uetest.ProjectID, groupID, streamID)
	now := time.Now().UnixNano()

	status, body := uetest.Do(t, http.MethodPost, env.LTSURL, path, nil,
		fmt.Sprintf(`{"log_time_ns":%d,"contents":["alpha one","beta two"],"labels":{"host":"h1"}}`, now))
	if status != 200 || !strings.Contains(body, `"errorCode":"SVCSTG.ALS.200.200"`) {
		t.Fatalf("ingest = %d %s", status, body)
	}
	status, body = uetest.Do(t, http.MethodPost, env.LTSURL, path+"/high-accuracy", nil,
		fmt.Sprintf(`{"contents":[{"log_time_ns":%d,"log":"gamma one"}],"labels":{"host":"h2"}}`, now))
	if status != 200 {
		t.Fatalf("ingest high accuracy = %d %s", status, body)
	}

	old := time.Now().Add(-25 * time.Hour).UnixNano()
	status, body = uetest.Do(t, http.MethodPost, env.LTSURL, path, nil,
		fmt.Sprintf(`{"log_time_ns":%d,"contents":["stale"],"labels":{}}`, old))
	if status != 400 || !strings.Contains(body, `"errorCode"`) || !strings.Contains(body, "contents[0]") {
		t.Fatalf("stale line = %d %s, want 400 naming contents[0]", status, body)
	}

	query := func(params ltsmodel.QueryLtsLogParams) []string {
		t.Helper()
		params.StartTime = fmt.Sprint(time.Now().Add(-time.Hour).UnixMilli())
		params.EndTime = fmt.Sprint(time.Now().Add(time.Hour).UnixMilli())
		resp, err := env.LTSClient().ListLogs(&ltsmodel.ListLogsRequest{LogGroupId: groupID, LogStreamId: streamID, Body: &params})
		if err != nil {
			t.Fatalf("list logs: %v", err)
		}
		var out []string
		for _, l := range *resp.Logs {
			out = append(out, *l.Content)
		}
		return out
	}
	if got := query(ltsmodel.QueryLtsLogParams{}); len(got) != 3 {
		t.Errorf("all lines = %q, want 3", got)
	}
	kw := "one"
	if got := query(ltsmodel.QueryLtsLogParams{Keywords: &kw}); len(got) != 2 {
		t.Errorf("keyword one = %q, want 2 lines", got)
	}
	if got := query(ltsmodel.QueryLtsLogParams{Labels: map[string]string{"host": "h2"}}); len(got) != 1 || got[0] != "gamma one" {
		t.Errorf("label host=h2 = %q, want gamma one", got)
	}
}

func TestRoutingErrors(t *testing.T) {
	env := uetest.Start(t, uetest.Options{NoWorker: true})
	for _, tt := range []struct {
		method, path string
		status       int
		code         string
	}{
		{http.MethodGet, "/v2/" + uetest.ProjectID + "/nothing-here", 404, "APIGW.0101"},
		{http.MethodDelete, eventsPath, 405, "APIGW.0105"},
		{http.MethodPut, configPath, 405, "APIGW.0105"},
	} {
		resp, err := http.DefaultClient.Do(uetest.SignedRequest(t, tt.method, env.WorkspaceURL, tt.path, nil, ""))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.status || resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s %s = %d %s", tt.method, tt.path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		if len(resp.Header.Get("X-Request-Id")) != 32 {
			t.Errorf("%s %s: X-Request-Id %q", tt.method, tt.path, resp.Header.Get("X-Request-Id"))
		}
	}
}

func TestBodyTooLarge(t *testing.T) {
	env := uetest.Start(t, uetest.Options{NoWorker: true})
	big := `{"enable":false,"log_group_id":"` + strings.Repeat("x", 13<<20) + `"}`
	status, body := uetest.Do(t, http.MethodPost, env.WorkspaceURL, configPath, nil, big)
	if status != http.StatusRequestEntityTooLarge {
		t.Fatalf("status = %d, want 413", status)
	}
	if code, _ := errorBody(t, body); code != "APIGW.0201" {
		t.Errorf("error_code = %s", code)
	}
}

func TestUnsignedAndBadlySigned(t *testing.T) {
	env := uetest.Start(t, uetest.Options{NoWorker: true})
	resp, err := http.Get(env.WorkspaceURL + configPath)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("unsigned: %d, want 401", resp.StatusCode)
	}

	req := uetest.SignedRequest(t, http.MethodGet, env.WorkspaceURL, eventsPath,
		map[string]string{"start_time": "2024-05-01T00:00:00Z", "end_time": "2024-05-02T00:00:00Z"}, "")
	req.URL.RawQuery += "&limit=5" // not covered by the signature
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("tampered query: %d, want 401", resp.StatusCode)
	}
}

func TestUnsignedPayloadRejected(t *testing.T) {
	env := uetest.Start(t, uetest.Options{NoWorker: true})
	req := uetest.SignedRequestWithType(t, http.MethodPost, env.WorkspaceURL, configPath, "text/plain", nil, `{"enable":false}`)
	if req.Header.Get("X-Sdk-Content-Sha256") != "UNSIGNED-PAYLOAD" {
		t.Fatalf("the SDK signed the text/plain body; the test needs an unsigned payload")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("status = %d, want 400", resp.StatusCode)
	}
}
