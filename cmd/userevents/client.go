package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"reflect"
	"strings"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/basic"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/signer"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/request"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/sdkerr"
	workspace "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/workspace/v2"
)

// client is the configuration of the command-line client: where to send
// requests and the credentials that sign them like the SDK does.
type client struct {
	endpoint  string
	ak        string
	sk        string
	projectID string
	output    string // table or json

	stdout io.Writer
	stderr io.Writer
}

// profile is the credentials file that serve writes on first start; the
// client reads the same fields.
type profile struct {
	ProjectID string `json:"project_id"`
	AccessKey string `json:"access_key"`
	SecretKey string `json:"secret_key"`
}

// clientFlags registers the flags every client command shares. Values
// come from the flags, then the SDK's environment variables, then the
// profile file.
func clientFlags(fs *flag.FlagSet, c *client) (profilePath *string) {
	fs.StringVar(&c.endpoint, "endpoint", "", "Workspace API endpoint (env USEREVENTS_ENDPOINT; default http://127.0.0.1:8080)")
	fs.StringVar(&c.ak, "ak", "", "access key id (env HUAWEICLOUD_SDK_AK)")
	fs.StringVar(&c.sk, "sk", "", "secret access key (env HUAWEICLOUD_SDK_SK)")
	fs.StringVar(&c.projectID, "project-id", "", "project id (env HUAWEICLOUD_SDK_PROJECT_ID)")
	fs.StringVar(&c.output, "o", "table", "output format: table or json")
	return fs.String("profile", "", "credentials file with access_key, secret_key and project_id (env USEREVENTS_PROFILE; default ./userevents-data/credentials.json)")
}

// resolve fills unset values from the environment and the profile file.
func (c *client) resolve(profilePath string, getenv func(string) string) error {
	fill := func(dst *string, env string) {
		if *dst == "" {
			*dst = getenv(env)
		}
	}
	fill(&c.endpoint, "USEREVENTS_ENDPOINT")
	fill(&c.ak, "HUAWEICLOUD_SDK_AK")
	fill(&c.sk, "HUAWEICLOUD_SDK_SK")
	fill(&c.projectID, "HUAWEICLOUD_SDK_PROJECT_ID")
	fill(&profilePath, "USEREVENTS_PROFILE")
	if c.endpoint == "" {
		c.endpoint = "http://127.0.0.1:8080"
	}

	if c.ak == "" || c.sk == "" || c.projectID == "" {
		explicit := profilePath != ""
		if !explicit {
			profilePath = "userevents-data/credentials.json"
		}
		data, err := os.ReadFile(profilePath)
		if err != nil && (explicit || !errors.Is(err, os.ErrNotExist)) {
			return fmt.Errorf("read profile: %w", err)
		}
		if err == nil {
			var p profile
			if err := json.Unmarshal(data, &p); err != nil {
				return fmt.Errorf("profile %s is not valid JSON: %w", profilePath, err)
			}
			if c.ak == "" {
				c.ak = p.AccessKey
			}
			if c.sk == "" {
				c.sk = p.SecretKey
			}
			if c.projectID == "" {
				c.projectID = p.ProjectID
			}
		}
	}

	var missing []string
	for _, v := range []struct{ name, value string }{{"--ak", c.ak}, {"--sk", c.sk}, {"--project-id", c.projectID}} {
		if v.value == "" {
			missing = append(missing, v.name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("missing %s: give the flags, set HUAWEICLOUD_SDK_AK, HUAWEICLOUD_SDK_SK and HUAWEICLOUD_SDK_PROJECT_ID, or point --profile at a credentials file",
			strings.Join(missing, ", "))
	}
	if c.output != "table" && c.output != "json" {
		return fmt.Errorf("-o %q is invalid; use table or json", c.output)
	}
	return nil
}

func (c *client) workspace() *workspace.WorkspaceClient {
	creds := basic.NewCredentialsBuilder().WithAk(c.ak).WithSk(c.sk).WithProjectId(c.projectID).Build()
	return workspace.NewWorkspaceClient(workspace.WorkspaceClientBuilder().
		WithEndpoints([]string{c.endpoint}).
		WithCredential(creds).
		Build())
}

// do sends a request signed with the SDK's own signer, for endpoints the
// SDK has no method for. It returns the body of a 2xx response and an
// error naming the status and the server's message otherwise.
func (c *client) do(method, path string, query map[string]string, body []byte) ([]byte, error) {
	b := request.NewHttpRequestBuilder().
		WithEndpoint(strings.TrimSuffix(c.endpoint, "/")).
		WithPath(path).
		WithMethod(method).
		AddHeaderParam("Content-Type", "application/json").
		AddHeaderParam("X-Project-Id", c.projectID)
	for k, v := range query {
		b.AddQueryParam(k, reflect.ValueOf(v))
	}
	if body != nil {
		b.WithBody("application/json", string(body))
	}
	req := b.Build()
	headers, err := signer.Sign(req, c.ak, c.sk)
	if err != nil {
		return nil, fmt.Errorf("sign request: %w", err)
	}
	for k, v := range headers {
		req.AddHeaderParam(k, v)
	}
	httpReq, err := req.ConvertRequest()
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	resp, err := (&http.Client{Timeout: 2 * time.Minute}).Do(httpReq)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("read response: %w", err)
	}
	if resp.StatusCode >= 300 {
		var e struct {
			Code string `json:"error_code"`
			Msg  string `json:"error_msg"`
		}
		if json.Unmarshal(data, &e) == nil && e.Code != "" {
			return nil, fmt.Errorf("%s %s (request id %s): %s", resp.Status, e.Code, resp.Header.Get("X-Request-Id"), e.Msg)
		}
		return nil, fmt.Errorf("%s: %s", resp.Status, data)
	}
	return data, nil
}

// sdkError shortens an SDK error to its status, code and message.
func sdkError(err error) error {
	var se *sdkerr.ServiceResponseError
	if errors.As(err, &se) {
		return fmt.Errorf("%d %s (request id %s): %s", se.StatusCode, se.ErrorCode, se.RequestId, se.ErrorMessage)
	}
	return err
}

func (c *client) printJSON(v any) error {
	enc := json.NewEncoder(c.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
