package http_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/signer"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/request"

	"github.com/userevents/userevents/uetest"
)

type listResult struct {
	Count int `json:"count"`
	Items []struct {
		Username     string `json:"username"`
		EventType    string `json:"event_type"`
		EventTime    string `json:"event_time"`
		ResourceName string `json:"resource_name"`
		EventID      string `json:"event_id"`
	} `json:"items"`
}

func listEvents(t *testing.T, env *uetest.Env, query map[string]string) (int, listResult, string) {
	t.Helper()
	status, body := uetest.Do(t, http.MethodGet, env.WorkspaceURL, eventsPath, query, "")
	var res listResult
	if status == 200 {
		if err := json.Unmarshal([]byte(body), &res); err != nil {
			t.Fatalf("decode list: %v: %s", err, body)
		}
	}
	return status, res, body
}

func TestListInclusiveMicrosecondBounds(t *testing.T) {
	env := uetest.Start(t, uetest.Options{NoWorker: true})
	postEvents(t, env, []testEvent{
		{EventID: "a", Username: "u", EventType: "LOGIN", EventTime: "2024-05-01T09:59:59.999Z"},
		{EventID: "b", Username: "u", EventType: "LOGIN", EventTime: "2024-05-01T10:00:00Z"},
		{EventID: "c", Username: "u", EventType: "LOGIN", EventTime: "2024-05-01T10:00:00.000001Z"},
		{EventID: "d", Username: "u", EventType: "LOGIN", EventTime: "2024-05-01T10:01:01Z"},
		{EventID: "e", Username: "u", EventType: "LOGIN", EventTime: "2024-05-01T10:00:00.5Z"},
		{EventID: "f", Username: "u", EventType: "LOGIN", EventTime: "2024-05-01T10:00:00.500000Z"},
	})

	status, res, body := listEvents(t, env, map[string]string{
		"start_time": "2024-05-01T09:00:00Z", "end_time": "2024-05-01T10:00:00Z",
	})
	if status != 200 {
		t.Fatalf("status %d: %s", status, body)
	}
	var ids []string
	for _, it := range res.Items {
		ids = append(ids, it.EventID)
	}
	if got := strings.Join(ids, ","); got != "b,a" {
		t.Errorf("events up to 10:00:00 = %s, want b,a", got)
	}

	// .5Z and .500000Z are the same instant: a window ending at 10:00:00.5
	// holds both.
	_, res, _ = listEvents(t, env, map[string]string{
		"start_time": "2024-05-01T10:00:00.4Z", "end_time": "2024-05-01T10:00:00.5Z",
	})
	if res.Count != 2 {
		t.Errorf("count in [10:00:00.4, 10:00:00.5] = %d, want 2", res.Count)
	}
	for _, it := range res.Items {
		if it.EventTime != "2024-05-01T10:00:00Z" {
			t.Errorf("event_time printed as %q, want whole seconds UTC", it.EventTime)
		}
	}
}

func TestListTimeParameters(t *testing.T) {
	env := uetest.Start(t, uetest.Options{NoWorker: true})
	postEvents(t, env, []testEvent{{EventID: "x", Username: "u", EventType: "LOGIN", EventTime: "2024-05-01T00:00:00Z"}})

	tests := []struct {
		start  string
		end    string
		status int
	}{
		{"2024-05-01T00:00:00Z", "2024-05-02T00:00:00Z", 200},
		{"2024-05-01T00:00:00.123456Z", "2024-05-02T00:00:00Z", 200},
		{"2024-05-01T08:00:00+08:00", "2024-05-02T00:00:00Z", 200},
		{"2024-05-01T0:00:00Z", "2024-05-02T00:00:00Z", 400},
		{"2024-05-01T00:00:00+-0:+0", "2024-05-02T00:00:00Z", 400},
		{"2024-05-01T08:00:00+24:00", "2024-05-02T00:00:00Z", 400},
		{"2024-05-01T08:00:00+08:60", "2024-05-02T00:00:00Z", 400},
		{"2024-05-01T08:00:00+23:59", "2024-05-02T00:00:00Z", 200},
		{"2024-05-01T00:00:00", "2024-05-02T00:00:00Z", 400},
		{"2024-05-01t00:00:00z", "2024-05-02T00:00:00Z", 400},
		{"2024-05-01T00:00:00Z", "2024-05-02t00:00:00z", 400},
		{"2024-05-01 00:00:00Z", "2024-05-02T00:00:00Z", 400},
		{"2024-05-01T00:00:60Z", "2024-05-02T00:00:00Z", 400},
		{"2024-02-30T00:00:00Z", "2024-05-02T00:00:00Z", 400},
		{"1714521600", "2024-05-02T00:00:00Z", 400},
		{"", "2024-05-02T00:00:00Z", 400},
		{"2024-05-02T00:00:00Z", "2024-05-01T00:00:00Z", 400},
		{"2024-04-01T00:00:00Z", "2024-05-01T00:00:00Z", 200},
		{"2024-04-01T00:00:00Z", "2024-05-01T00:00:01Z", 400},
	}
	for _, tt := range tests {
		t.Run(tt.start+" to "+tt.end, func(t *testing.T) {
			status, res, body := listEvents(t, env, map[string]string{"start_time": tt.start, "end_time": tt.end})
			if status != tt.status {
				t.Fatalf("status = %d, want %d: %s", status, tt.status, body)
			}
			if status == 400 {
				errorBody(t, body)
			}
			if tt.start == "2024-05-01T08:00:00+08:00" && res.Count != 1 {
				t.Errorf("offset start normalised wrongly: count %d, want 1", res.Count)
			}
		})
	}
}

func TestListPagingParameters(t *testing.T) {
	env := uetest.Start(t, uetest.Options{NoWorker: true})
	var events []testEvent
	for i := range 30 {
		// Every event shares one time, so only the store sequence orders them.
		events = append(events, testEvent{EventID: fmt.Sprint(i), Username: "u", EventType: "LOGIN", EventTime: "2024-05-01T12:00:00Z"})
	}
	postEvents(t, env, events)
	window := func(extra map[string]string) map[string]string {
		q := map[string]string{"start_time": "2024-05-01T00:00:00Z", "end_time": "2024-05-02T00:00:00Z"}
		for k, v := range extra {
			q[k] = v
		}
		return q
	}

	seen := map[string]bool{}
	for offset := 0; offset < 30; offset += 7 {
		_, res, _ := listEvents(t, env, window(map[string]string{"limit": "7", "offset": fmt.Sprint(offset)}))
		for _, it := range res.Items {
			if seen[it.EventID] {
				t.Fatalf("event %s repeated at offset %d", it.EventID, offset)
			}
			seen[it.EventID] = true
		}
	}
	if len(seen) != 30 {
		t.Errorf("paging saw %d events, want 30", len(seen))
	}

	tests := []struct {
		name   string
		query  map[string]string
		status int
		items  int
	}{
		{"default limit", nil, 200, 30},
		{"limit zero counts only", map[string]string{"limit": "0"}, 200, 0},
		{"limit 1000", map[string]string{"limit": "1000"}, 200, 30},
		{"limit 1001", map[string]string{"limit": "1001"}, 400, 0},
		{"negative limit", map[string]string{"limit": "-1"}, 400, 0},
		{"negative offset", map[string]string{"offset": "-1"}, 400, 0},
		{"bare offset", map[string]string{"offset": ""}, 400, 0},
		{"text offset", map[string]string{"offset": "ten"}, 400, 0},
		{"offset past end", map[string]string{"offset": "100"}, 200, 0},
		{"bare username", map[string]string{"username": ""}, 200, 30},
		{"unknown parameter", map[string]string{"event_type-x": "1"}, 200, 30},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, res, body := listEvents(t, env, window(tt.query))
			if status != tt.status {
				t.Fatalf("status = %d, want %d: %s", status, tt.status, body)
			}
			if status == 200 && (len(res.Items) != tt.items || res.Count != 30) {
				t.Errorf("items %d count %d, want %d and 30", len(res.Items), res.Count, tt.items)
			}
		})
	}
}

func TestListFilterEncoding(t *testing.T) {
	env := uetest.Start(t, uetest.Options{NoWorker: true})
	names := []string{"desk:01", "desk%3A01", "桌面", "ann lee", "ann+lee"}
	var events []testEvent
	for i, n := range names {
		events = append(events, testEvent{EventID: fmt.Sprint(i), Username: n, EventType: "LOGIN",
			EventTime: "2024-05-01T12:00:00Z", ResourceName: n})
	}
	postEvents(t, env, events)

	for _, n := range names {
		t.Run(n, func(t *testing.T) {
			for _, field := range []string{"resource_name", "username"} {
				_, res, body := listEvents(t, env, map[string]string{
					"start_time": "2024-05-01T00:00:00Z", "end_time": "2024-05-02T00:00:00Z", field: n,
				})
				if res.Count != 1 || res.Items[0].ResourceName != n {
					t.Errorf("%s=%q matched %s", field, n, body)
				}
			}
		})
	}
}

func TestIntakeValidation(t *testing.T) {
	env := uetest.Start(t, uetest.Options{NoWorker: true})
	good := `{"username":"u","event_type":"LOGIN","event_time":"2024-05-01T00:00:00Z"}`
	tests := []struct {
		name    string
		body    string
		mention []string
	}{
		{"no items", `{"items":[]}`, []string{"1 to 1000"}},
		{"missing items", `{}`, []string{"items"}},
		{"missing fields", `{"items":[` + good + `,{"username":"u"}]}`, []string{"items[1]", "event_type"}},
		{"bad time", `{"items":[{"username":"u","event_type":"LOGIN","event_time":"yesterday"}]}`, []string{"items[0]", "yesterday"}},
		{"string is_success", `{"items":[{"username":"u","event_type":"LOGIN","event_time":"2024-05-01T00:00:00Z","is_success":"yes"}]}`, []string{"items[0]", "is_success"}},
		{"unknown member", `{"items":[{"username":"u","user_name":"v","event_type":"LOGIN","event_time":"2024-05-01T00:00:00Z"}]}`, []string{"user_name"}},
		{"two bad events", `{"items":[{"username":"u"},` + good + `,{"event_type":"x"}]}`, []string{"items[0]", "items[2]"}},
		{"bad action type", `{"items":[{"username":"u","event_type":"LOGIN","event_time":"2024-05-01T00:00:00Z","action_type":"ROBOT"}]}`, []string{"action_type"}},
		{"other project", `{"items":[{"project_id":"ffffffffffffffffffffffffffffffff","username":"u","event_type":"LOGIN","event_time":"2024-05-01T00:00:00Z"}]}`, []string{"project_id"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := uetest.Do(t, http.MethodPost, env.WorkspaceURL, eventsPath, nil, tt.body)
			if status != 400 {
				t.Fatalf("status = %d, want 400: %s", status, body)
			}
			_, msg := errorBody(t, body)
			for _, m := range tt.mention {
				if !strings.Contains(msg, m) {
					t.Errorf("message %q does not mention %q", msg, m)
				}
			}
		})
	}

	// Nothing of a rejected batch was stored.
	_, res, _ := listEvents(t, env, map[string]string{"start_time": "2024-05-01T00:00:00Z", "end_time": "2024-05-02T00:00:00Z"})
	if res.Count != 0 {
		t.Errorf("rejected batches stored %d events", res.Count)
	}
}

func TestIntakeIdempotent(t *testing.T) {
	env := uetest.Start(t, uetest.Options{NoWorker: true})
	body := `{"items":[{"event_id":"e1","username":"u","event_type":"LOGIN","event_time":"2024-05-01T00:00:00Z"},
		{"event_id":"e2","username":"u","event_type":"LOGOUT","event_time":"2024-05-01T00:01:00Z"}]}`
	for i, want := range []string{`{"count":2,"duplicates":0}`, `{"count":0,"duplicates":2}`} {
		status, resp := uetest.Do(t, http.MethodPost, env.WorkspaceURL, eventsPath, nil, body)
		if status != 200 || resp != want {
			t.Errorf("post %d = %d %s, want 200 %s", i+1, status, resp, want)
		}
	}
	_, res, _ := listEvents(t, env, map[string]string{"start_time": "2024-05-01T00:00:00Z", "end_time": "2024-05-02T00:00:00Z"})
	if res.Count != 2 {
		t.Errorf("stored %d events, want 2", res.Count)
	}
}

func TestListRepeatedParameters(t *testing.T) {
	env := uetest.Start(t, uetest.Options{NoWorker: true})
	postEvents(t, env, []testEvent{
		{EventID: "r1", Username: "u", EventType: "LOGIN", EventTime: "2024-05-01T10:00:00Z"},
		{EventID: "r2", Username: "u", EventType: "LOGOUT", EventTime: "2024-05-01T11:00:00Z"},
	})
	window := "start_time=2024-05-01T00:00:00Z&end_time=2024-05-02T00:00:00Z"
	for _, tt := range []struct {
		query  string
		status int
		count  string
	}{
		{window + "&limit=1&limit=2", 400, ""},
		{window + "&username=u&username=v", 400, ""},
		{"start_time=2024-05-01T12:00:00Z&" + window, 400, ""},
		{window + "&event_type=LOGOUT&event_type=LOGIN", 200, `"count":2`},
		{window + "&limit=%2B5", 400, ""},
		{window + "&username=a%FF", 400, ""},
		{window + "&event_type=%FE", 400, ""},
	} {
		values, _ := url.ParseQuery(tt.query)
		req := signedWithValues(t, env.WorkspaceURL, eventsPath, values)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.status || !strings.Contains(string(body), tt.count) {
			t.Errorf("%s = %d %s, want %d", tt.query, resp.StatusCode, body, tt.status)
		}
	}
}

// signedWithValues signs a GET with the SDK's signer, sending a repeated
// key as the SDK sends a slice parameter.
func signedWithValues(t *testing.T, endpoint, path string, values url.Values) *http.Request {
	t.Helper()
	b := request.NewHttpRequestBuilder().WithEndpoint(endpoint).WithPath(path).WithMethod(http.MethodGet).
		AddHeaderParam("Content-Type", "application/json")
	for k, v := range values {
		if len(v) == 1 {
			b.AddQueryParam(k, reflect.ValueOf(v[0]))
		} else {
			b.AddQueryParam(k, reflect.ValueOf(v))
		}
	}
	req := b.Build()
	headers, err := signer.Sign(req, uetest.AccessKey, uetest.SecretKey)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.AddHeaderParam(k, v)
	}
	httpReq, err := req.ConvertRequest()
	if err != nil {
		t.Fatal(err)
	}
	return httpReq
}
