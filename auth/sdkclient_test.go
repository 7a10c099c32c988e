package auth_test

import (
	"testing"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/basic"
	workspace "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/workspace/v2"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/workspace/v2/model"

	"github.com/userevents/userevents"
	"github.com/userevents/userevents/auth"
)

// newWorkspaceClient returns the SDK's Workspace client for endpoint. The
// SDK writes an application id under $HOME on first use, so HOME points at
// a temporary directory.
func newWorkspaceClient(t *testing.T, endpoint, token string) *workspace.WorkspaceClient {
	t.Helper()
	t.Setenv("HOME", t.TempDir())
	builder := basic.NewCredentialsBuilder().WithAk(testAK).WithSk(testSK).WithProjectId(testProject)
	if token != "" {
		builder = builder.WithSecurityToken(token)
	}
	creds, err := builder.SafeBuild()
	if err != nil {
		t.Fatalf("build credentials: %v", err)
	}
	hc, err := workspace.WorkspaceClientBuilder().WithEndpoints([]string{endpoint}).
		WithCredential(creds).SafeBuild()
	if err != nil {
		t.Fatalf("build workspace client: %v", err)
	}
	return workspace.NewWorkspaceClient(hc)
}

// TestVerifyWorkspaceClient sends real SDK client calls, signed with the
// real clock, to a server that verifies them.
func TestVerifyWorkspaceClient(t *testing.T) {
	srv := startServer(t, &auth.Verifier{Keys: keyStore{testAK: permanentKey()}})
	client := newWorkspaceClient(t, srv.URL, "")

	username := "a b+c/é*~%3A"
	resourceName := ""
	limit := int32(10)
	_, err := client.ListUserEvents(&model.ListUserEventsRequest{
		StartTime:    "2024-05-01T00:00:00Z",
		EndTime:      "2024-05-02T00:00:00Z",
		Username:     &username,
		ResourceName: &resourceName,
		Limit:        &limit,
	})
	res := srv.last(t)
	wantVerified(t, res)
	if err != nil {
		t.Fatalf("ListUserEvents: %v", err)
	}
	if got := res.query.Get("username"); got != username {
		t.Errorf("server read username %q, want %q", got, username)
	}
	if got, ok := res.query["resource_name"]; !ok || len(got) != 1 || got[0] != "" {
		t.Errorf("server read resource_name %q, want one empty value", got)
	}

	groupID, streamID := "e56e2131-0000-0000-0000-000000000001", "049a351d-0000-0000-0000-000000000002"
	_, err = client.SetUserEventsLtsConfigurations(&model.SetUserEventsLtsConfigurationsRequest{
		Body: &model.SetUserEventsLtsConfigurationsRequestBody{
			Enable:      true,
			LogGroupId:  &groupID,
			LogStreamId: &streamID,
		},
	})
	wantVerified(t, srv.last(t))
	if err != nil {
		t.Fatalf("SetUserEventsLtsConfigurations: %v", err)
	}
}

func TestVerifyWorkspaceClientTemporaryKey(t *testing.T) {
	const token = "token-test-000"
	key := permanentKey()
	key.SecurityToken = token
	srv := startServer(t, &auth.Verifier{Keys: keyStore{testAK: key}})

	client := newWorkspaceClient(t, srv.URL, token)
	_, err := client.ListUserEventsLtsConfigurations(&model.ListUserEventsLtsConfigurationsRequest{})
	wantVerified(t, srv.last(t))
	if err != nil {
		t.Fatalf("ListUserEventsLtsConfigurations: %v", err)
	}

	client = newWorkspaceClient(t, srv.URL, "token-other-000")
	_, err = client.ListUserEventsLtsConfigurations(&model.ListUserEventsLtsConfigurationsRequest{})
	wantError(t, srv.last(t).err, userevents.EUNAUTHENTICATED, "X-Security-Token was not issued", token)
	if err == nil {
		t.Fatal("ListUserEventsLtsConfigurations with a wrong token returned no error")
	}
}
