// Command quickstart drives a running userevents server with the official
// Huawei Cloud Go SDK: it creates a log group and stream, enables delivery
// of user events to them, posts events through intake, lists them back and
// reads them from the stream.
//
//	go run ./examples/quickstart -data ./userevents-data
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/basic"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/signer"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/request"
	lts "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/lts/v2"
	ltsmodel "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/lts/v2/model"
	workspace "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/workspace/v2"
	wsmodel "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/workspace/v2/model"
)

type credentials struct {
	ProjectID string `json:"project_id"`
	AccessKey string `json:"access_key"`
	SecretKey string `json:"secret_key"`
}

func main() {
	data := flag.String("data", "./userevents-data", "the server's data directory, for credentials.json")
	wsURL := flag.String("workspace", "http://127.0.0.1:8080", "Workspace API endpoint")
	ltsURL := flag.String("lts", "http://127.0.0.1:8081", "LTS endpoint")
	flag.Parse()

	raw, err := os.ReadFile(filepath.Join(*data, "credentials.json"))
	if err != nil {
		log.Fatalf("read credentials: %v", err)
	}
	var creds credentials
	if err := json.Unmarshal(raw, &creds); err != nil {
		log.Fatalf("decode credentials: %v", err)
	}
	auth := basic.NewCredentialsBuilder().
		WithAk(creds.AccessKey).WithSk(creds.SecretKey).WithProjectId(creds.ProjectID).Build()
	ws := workspace.NewWorkspaceClient(workspace.WorkspaceClientBuilder().
		WithEndpoints([]string{*wsURL}).WithCredential(auth).Build())
	logs := lts.NewLtsClient(lts.LtsClientBuilder().
		WithEndpoints([]string{*ltsURL}).WithCredential(auth).Build())

	// 1. A log group and a stream in the built-in LTS.
	suffix := strconv.FormatInt(time.Now().Unix(), 10)
	group, err := logs.CreateLogGroup(&ltsmodel.CreateLogGroupRequest{
		Body: &ltsmodel.CreateLogGroupParams{LogGroupName: "workspace-" + suffix, TtlInDays: 30},
	})
	check("create log group", err)
	stream, err := logs.CreateLogStream(&ltsmodel.CreateLogStreamRequest{
		LogGroupId: *group.LogGroupId,
		Body:       &ltsmodel.CreateLogStreamParams{LogStreamName: "user-events"},
	})
	check("create log stream", err)
	fmt.Printf("log group %s, log stream %s\n", *group.LogGroupId, *stream.LogStreamId)

	// 2. Deliver user events to them.
	_, err = ws.SetUserEventsLtsConfigurations(&wsmodel.SetUserEventsLtsConfigurationsRequest{
		Body: &wsmodel.SetUserEventsLtsConfigurationsRequestBody{
			Enable: true, LogGroupId: group.LogGroupId, LogStreamId: stream.LogStreamId,
		},
	})
	check("enable delivery", err)

	// 3. Post three events through intake. The SDK has no method for this
	// endpoint, so the request is signed with the SDK's own signer.
	now := time.Now().UTC().Truncate(time.Second)
	events := fmt.Sprintf(`{"items":[
		{"event_id":"qs-%[1]s-1","username":"alice","event_type":"LOGIN","event_time":%[2]q,"is_success":true},
		{"event_id":"qs-%[1]s-2","username":"alice","event_type":"CONNECT","event_time":%[3]q,"resource_name":"desk-01"},
		{"event_id":"qs-%[1]s-3","username":"alice","event_type":"LOGOUT","event_time":%[4]q}]}`,
		suffix, now.Add(-3*time.Second).Format(time.RFC3339),
		now.Add(-2*time.Second).Format(time.RFC3339), now.Add(-time.Second).Format(time.RFC3339))
	post(*wsURL, creds, "/v2/"+creds.ProjectID+"/user-events", events)

	// 4. List them, newest first.
	user := "alice"
	list, err := ws.ListUserEvents(&wsmodel.ListUserEventsRequest{
		StartTime: now.Add(-time.Hour).Format(time.RFC3339),
		EndTime:   now.Add(time.Hour).Format(time.RFC3339),
		Username:  &user,
	})
	check("list user events", err)
	fmt.Printf("ListUserEvents: count %d\n", *list.Count)
	for _, e := range *list.Items {
		fmt.Printf("  %s %-8s %s\n", *e.EventTime, *e.EventType, *e.Username)
	}

	// 5. Read the stream until the three lines arrived.
	for range 50 {
		resp, err := logs.ListLogs(&ltsmodel.ListLogsRequest{
			LogGroupId:  *group.LogGroupId,
			LogStreamId: *stream.LogStreamId,
			Body: &ltsmodel.QueryLtsLogParams{
				StartTime: strconv.FormatInt(now.Add(-time.Hour).UnixMilli(), 10),
				EndTime:   strconv.FormatInt(now.Add(time.Hour).UnixMilli(), 10),
			},
		})
		check("list logs", err)
		if len(*resp.Logs) >= 3 {
			fmt.Println("ListLogs:")
			for _, l := range *resp.Logs {
				fmt.Println(" ", *l.Content)
			}
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	log.Fatal("the events did not reach the log stream within 5 seconds")
}

func post(endpoint string, creds credentials, path, body string) {
	req := request.NewHttpRequestBuilder().
		WithEndpoint(endpoint).WithPath(path).WithMethod(http.MethodPost).
		AddHeaderParam("Content-Type", "application/json").
		WithBody("application/json", body).Build()
	headers, err := signer.Sign(req, creds.AccessKey, creds.SecretKey)
	check("sign intake request", err)
	for k, v := range headers {
		req.AddHeaderParam(k, v)
	}
	httpReq, err := req.ConvertRequest()
	check("build intake request", err)
	resp, err := http.DefaultClient.Do(httpReq)
	check("post events", err)
	defer resp.Body.Close()
	answer, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		log.Fatalf("post events: %s: %s", resp.Status, answer)
	}
	fmt.Printf("intake: %s\n", answer)
}

func check(what string, err error) {
	if err != nil {
		log.Fatalf("%s: %v", what, err)
	}
}
