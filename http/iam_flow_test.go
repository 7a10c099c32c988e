package http_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/basic"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/sdkerr"
	iamv5 "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/iam/v5"
	iammodel "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/iam/v5/model"
	ltsmodel "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/lts/v2/model"
	wsmodel "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/workspace/v2/model"

	"github.com/userevents/userevents/uetest"
)

// iamUser is an IAM user created through the SDK, with one access key.
type iamUser struct {
	id, ak, sk string
	creds      *basic.Credentials
}

// createIAMUser creates an enabled user and an access key for it with the
// root's IAM client.
func createIAMUser(t *testing.T, iam *iamv5.IamClient, name string) iamUser {
	t.Helper()
	u, err := iam.CreateUserV5(&iammodel.CreateUserV5Request{
		Body: &iammodel.CreateUserReqBody{Name: name, Enabled: true},
	})
	if err != nil {
		t.Fatalf("CreateUserV5(%s): %v", name, err)
	}
	k, err := iam.CreateAccessKeyV5(&iammodel.CreateAccessKeyV5Request{UserId: u.User.UserId})
	if err != nil {
		t.Fatalf("CreateAccessKeyV5(%s): %v", name, err)
	}
	ak, sk := k.AccessKey.AccessKeyId, k.AccessKey.SecretAccessKey
	return iamUser{id: u.User.UserId, ak: ak, sk: sk, creds: uetest.UserCredentials(ak, sk, "")}
}

// createPolicy creates a custom identity policy and returns its id.
func createPolicy(t *testing.T, iam *iamv5.IamClient, name, document string) string {
	t.Helper()
	p, err := iam.CreatePolicyV5(&iammodel.CreatePolicyV5Request{
		Body: &iammodel.CreatePolicyReqBody{PolicyName: name, PolicyDocument: document},
	})
	if err != nil {
		t.Fatalf("CreatePolicyV5(%s): %v", name, err)
	}
	return p.Policy.PolicyId
}

func attachUserPolicy(t *testing.T, iam *iamv5.IamClient, policyID, userID string) {
	t.Helper()
	_, err := iam.AttachUserPolicyV5(&iammodel.AttachUserPolicyV5Request{
		PolicyId: policyID, Body: &iammodel.AttachUserPolicyReqBody{UserId: userID},
	})
	if err != nil {
		t.Fatalf("AttachUserPolicyV5: %v", err)
	}
}

func detachUserPolicy(t *testing.T, iam *iamv5.IamClient, policyID, userID string) {
	t.Helper()
	_, err := iam.DetachUserPolicyV5(&iammodel.DetachUserPolicyV5Request{
		PolicyId: policyID, Body: &iammodel.DetachUserPolicyReqBody{UserId: userID},
	})
	if err != nil {
		t.Fatalf("DetachUserPolicyV5: %v", err)
	}
}

// allowDoc returns a policy document that allows the actions.
func allowDoc(actions ...string) string {
	return `{"Version":"5.0","Statement":[{"Effect":"Allow","Action":["` + strings.Join(actions, `","`) + `"]}]}`
}

// requireSDKError fails unless err is a service error with the status, and
// returns it.
func requireSDKError(t *testing.T, err error, status int) *sdkerr.ServiceResponseError {
	t.Helper()
	var se *sdkerr.ServiceResponseError
	if !errors.As(err, &se) {
		t.Fatalf("error = %v, want a service error with status %d", err, status)
	}
	if se.StatusCode != status {
		t.Fatalf("status = %d (%s: %s), want %d", se.StatusCode, se.ErrorCode, se.ErrorMessage, status)
	}
	return se
}

// requireForbidden fails unless err is a 403 whose message names the
// action.
func requireForbidden(t *testing.T, err error, action string) {
	t.Helper()
	se := requireSDKError(t, err, http.StatusForbidden)
	if se.ErrorCode != "APIG.0302" {
		t.Errorf("error_code = %q, want APIG.0302", se.ErrorCode)
	}
	if !strings.Contains(se.ErrorMessage, action) {
		t.Errorf("error_msg %q does not name %s", se.ErrorMessage, action)
	}
}

func requireNoSDKError(t *testing.T, err error, call string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", call, err)
	}
}

func listEventsRequest() *wsmodel.ListUserEventsRequest {
	now := time.Now().UTC()
	return &wsmodel.ListUserEventsRequest{
		StartTime: now.Add(-time.Hour).Format(time.RFC3339),
		EndTime:   now.Format(time.RFC3339),
	}
}

func TestIAMPolicyGrantsAndDenies(t *testing.T) {
	env := uetest.Start(t, uetest.Options{NoWorker: true})
	iam := env.IAMClient()
	alice := createIAMUser(t, iam, "alice")
	ws := env.WorkspaceClientWith(alice.creds)
	lts := env.LTSClientWith(alice.creds)

	_, err := ws.ListUserEvents(listEventsRequest())
	requireForbidden(t, err, "workspace:userEvents:list")
	_, err = lts.ListLogGroups(&ltsmodel.ListLogGroupsRequest{})
	requireForbidden(t, err, "lts:logGroup:listLogGroup")

	events := createPolicy(t, iam, "events-read", allowDoc("workspace:userEvents:list"))
	attachUserPolicy(t, iam, events, alice.id)
	_, err = ws.ListUserEvents(listEventsRequest())
	requireNoSDKError(t, err, "ListUserEvents with a policy")
	_, err = lts.ListLogGroups(&ltsmodel.ListLogGroupsRequest{})
	requireForbidden(t, err, "lts:logGroup:listLogGroup")

	system := findPolicyByName(t, iam, "LTSReadOnlyPolicy")
	attachUserPolicy(t, iam, system, alice.id)
	_, err = lts.ListLogGroups(&ltsmodel.ListLogGroupsRequest{})
	requireNoSDKError(t, err, "ListLogGroups with the system policy")

	deny := createPolicy(t, iam, "no-events", `{"Version":"5.0","Statement":[
		{"Sid":"NoEvents","Effect":"Deny","Action":["workspace:userEvents:*"]}]}`)
	attachUserPolicy(t, iam, deny, alice.id)
	_, err = ws.ListUserEvents(listEventsRequest())
	requireForbidden(t, err, "workspace:userEvents:list")
	se := requireSDKError(t, err, http.StatusForbidden)
	if !strings.Contains(se.ErrorMessage, `"NoEvents"`) || !strings.Contains(se.ErrorMessage, "no-events") {
		t.Errorf("error_msg %q does not name the deny statement", se.ErrorMessage)
	}

	detachUserPolicy(t, iam, deny, alice.id)
	_, err = ws.ListUserEvents(listEventsRequest())
	requireNoSDKError(t, err, "ListUserEvents after detaching the deny")
}

// findPolicyByName returns the id of a listed policy.
func findPolicyByName(t *testing.T, iam *iamv5.IamClient, name string) string {
	t.Helper()
	resp, err := iam.ListPoliciesV5(&iammodel.ListPoliciesV5Request{})
	requireNoSDKError(t, err, "ListPoliciesV5")
	for _, p := range *resp.Policies {
		if p.PolicyName == name {
			return p.PolicyId
		}
	}
	t.Fatalf("policy %s is not listed", name)
	return ""
}

func TestSetLTSConfigNeedsEveryDependency(t *testing.T) {
	env := uetest.Start(t, uetest.Options{NoWorker: true})
	iam := env.IAMClient()
	groupID, streamID := createLogTarget(t, env, "deps")
	set := &wsmodel.SetUserEventsLtsConfigurationsRequest{Body: &wsmodel.SetUserEventsLtsConfigurationsRequestBody{
		Enable: true, LogGroupId: &groupID, LogStreamId: &streamID,
	}}
	actions := []string{
		"workspace:userEvents:setLtsConfigurations",
		"lts:logGroup:listLogGroup",
		"lts:logStream:listLogStream",
		"lts:logStream:get",
	}

	for i, missing := range actions {
		t.Run(missing, func(t *testing.T) {
			u := createIAMUser(t, iam, "deps-"+string(rune('a'+i)))
			var granted []string
			for _, a := range actions {
				if a != missing {
					granted = append(granted, a)
				}
			}
			attachUserPolicy(t, iam, createPolicy(t, iam, "deps-"+string(rune('a'+i)), allowDoc(granted...)), u.id)
			_, err := env.WorkspaceClientWith(u.creds).SetUserEventsLtsConfigurations(set)
			requireForbidden(t, err, missing)
		})
	}

	u := createIAMUser(t, iam, "deps-all")
	attachUserPolicy(t, iam, createPolicy(t, iam, "deps-all", allowDoc(actions...)), u.id)
	_, err := env.WorkspaceClientWith(u.creds).SetUserEventsLtsConfigurations(set)
	requireNoSDKError(t, err, "SetUserEventsLtsConfigurations with all four actions")
}

func TestGroupPolicyGrants(t *testing.T) {
	env := uetest.Start(t, uetest.Options{NoWorker: true})
	iam := env.IAMClient()
	bob := createIAMUser(t, iam, "bob")
	ws := env.WorkspaceClientWith(bob.creds)

	g, err := iam.CreateGroupV5(&iammodel.CreateGroupV5Request{Body: &iammodel.CreateGroupReqBody{GroupName: "readers"}})
	requireNoSDKError(t, err, "CreateGroupV5")
	groupID := g.Group.GroupId
	_, err = iam.AttachGroupPolicyV5(&iammodel.AttachGroupPolicyV5Request{
		PolicyId: findPolicyByName(t, iam, "WorkspaceUserEventsReadOnlyPolicy"),
		Body:     &iammodel.AttachGroupPolicyReqBody{GroupId: groupID},
	})
	requireNoSDKError(t, err, "AttachGroupPolicyV5")

	_, err = ws.ListUserEvents(listEventsRequest())
	requireForbidden(t, err, "workspace:userEvents:list")

	_, err = iam.AddUserToGroupV5(&iammodel.AddUserToGroupV5Request{
		GroupId: groupID, Body: &iammodel.AddUserToGroupReqBody{UserId: bob.id},
	})
	requireNoSDKError(t, err, "AddUserToGroupV5")
	_, err = ws.ListUserEvents(listEventsRequest())
	requireNoSDKError(t, err, "ListUserEvents as a group member")
	_, err = ws.ListUserEventsLtsConfigurations(&wsmodel.ListUserEventsLtsConfigurationsRequest{})
	requireNoSDKError(t, err, "ListUserEventsLtsConfigurations as a group member")

	_, err = iam.RemoveUserFromGroupV5(&iammodel.RemoveUserFromGroupV5Request{
		GroupId: groupID, Body: &iammodel.RemoveUserFromGroupReqBody{UserId: bob.id},
	})
	requireNoSDKError(t, err, "RemoveUserFromGroupV5")
	_, err = ws.ListUserEvents(listEventsRequest())
	requireForbidden(t, err, "workspace:userEvents:list")
}

func TestDeletedKeyAndUserAreUnauthenticated(t *testing.T) {
	env := uetest.Start(t, uetest.Options{NoWorker: true})
	iam := env.IAMClient()
	carol := createIAMUser(t, iam, "carol")
	attachUserPolicy(t, iam, findPolicyByName(t, iam, "WorkspaceUserEventsFullAccessPolicy"), carol.id)
	_, err := env.WorkspaceClientWith(carol.creds).ListUserEvents(listEventsRequest())
	requireNoSDKError(t, err, "ListUserEvents")

	k, err := iam.CreateAccessKeyV5(&iammodel.CreateAccessKeyV5Request{UserId: carol.id})
	requireNoSDKError(t, err, "CreateAccessKeyV5 second key")
	second := uetest.UserCredentials(k.AccessKey.AccessKeyId, k.AccessKey.SecretAccessKey, "")

	_, err = iam.UpdateAccessKeyV5(&iammodel.UpdateAccessKeyV5Request{
		UserId: carol.id, AccessKeyId: carol.ak,
		Body: &iammodel.UpdateAccessKeyReqBody{Status: ptr(iammodel.GetAccessKeyStatusEnum().INACTIVE)},
	})
	requireNoSDKError(t, err, "UpdateAccessKeyV5 inactive")
	_, err = env.WorkspaceClientWith(carol.creds).ListUserEvents(listEventsRequest())
	requireSDKError(t, err, http.StatusUnauthorized)

	_, err = iam.DeleteAccessKeyV5(&iammodel.DeleteAccessKeyV5Request{UserId: carol.id, AccessKeyId: carol.ak})
	requireNoSDKError(t, err, "DeleteAccessKeyV5")
	_, err = env.WorkspaceClientWith(carol.creds).ListUserEvents(listEventsRequest())
	se := requireSDKError(t, err, http.StatusUnauthorized)
	if se.ErrorCode != "APIG.0301" {
		t.Errorf("error_code = %q, want APIG.0301", se.ErrorCode)
	}
	_, err = env.WorkspaceClientWith(second).ListUserEvents(listEventsRequest())
	requireNoSDKError(t, err, "ListUserEvents with the second key")

	_, err = iam.DeleteUserV5(&iammodel.DeleteUserV5Request{UserId: carol.id})
	requireNoSDKError(t, err, "DeleteUserV5")
	_, err = env.WorkspaceClientWith(second).ListUserEvents(listEventsRequest())
	requireSDKError(t, err, http.StatusUnauthorized)
}

func ptr[T any](v T) *T { return &v }

func TestDenialLogNamesStatement(t *testing.T) {
	var logs syncBuffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	env := uetest.Start(t, uetest.Options{NoWorker: true, Logger: logger})
	iam := env.IAMClient()
	vic := createIAMUser(t, iam, "vic")
	attachUserPolicy(t, iam, createPolicy(t, iam, "guard", `{"Version":"5.0","Statement":[
		{"Effect":"Allow","Action":["*"]},
		{"Sid":"NoList","Effect":"Deny","Action":["workspace:userEvents:list"]}]}`), vic.id)

	_, err := env.WorkspaceClientWith(vic.creds).ListUserEvents(listEventsRequest())
	requireForbidden(t, err, "workspace:userEvents:list")

	var denial map[string]any
	for line := range strings.SplitSeq(logs.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && m["msg"] == "permission denied" {
			denial = m
		}
	}
	if denial == nil {
		t.Fatalf("no permission denied line in the log:\n%s", logs.String())
	}
	want := map[string]any{"user_name": "vic", "user_id": vic.id, "action": "workspace:userEvents:list",
		"resource": "*", "policy": "guard", "statement": float64(1), "sid": "NoList"}
	for k, v := range want {
		if denial[k] != v {
			t.Errorf("log attribute %s = %v, want %v", k, denial[k], v)
		}
	}
}

// syncBuffer is a bytes.Buffer that the server's goroutines may write to
// while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
