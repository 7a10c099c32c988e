package http_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	iammodel "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/iam/v5/model"

	"github.com/userevents/userevents"
	"github.com/userevents/userevents/uetest"
)

// requireIAMError fails unless err is a service error with the status and
// the IAM listener's error code.
func requireIAMError(t *testing.T, err error, status int, code string) {
	t.Helper()
	se := requireSDKError(t, err, status)
	if se.ErrorCode != code {
		t.Errorf("error_code = %q (%s), want %q", se.ErrorCode, se.ErrorMessage, code)
	}
	if se.RequestId == "" {
		t.Error("X-Request-Id is missing")
	}
}

func TestIAMUsers(t *testing.T) {
	env := uetest.Start(t, uetest.Options{NoWorker: true})
	iam := env.IAMClient()

	desc := "on call"
	created, err := iam.CreateUserV5(&iammodel.CreateUserV5Request{
		Body: &iammodel.CreateUserReqBody{Name: "nina", Description: &desc, Enabled: true},
	})
	requireNoSDKError(t, err, "CreateUserV5")
	if created.HttpStatusCode != http.StatusCreated {
		t.Errorf("CreateUserV5 status = %d, want 201", created.HttpStatusCode)
	}
	u := created.User
	if u.UserName != "nina" || *u.Description != "on call" || !u.Enabled || u.IsRootUser {
		t.Errorf("created user = %+v", u)
	}
	if want := "iam::" + uetest.AccountID + ":user:nina"; u.Urn != want {
		t.Errorf("urn = %q, want %q", u.Urn, want)
	}
	if u.CreatedAt == nil || time.Since(time.Time(*u.CreatedAt)) > time.Minute {
		t.Errorf("created_at = %v, want about now", u.CreatedAt)
	}

	shown, err := iam.ShowUserV5(&iammodel.ShowUserV5Request{UserId: u.UserId})
	requireNoSDKError(t, err, "ShowUserV5")
	if shown.User.UserName != "nina" || shown.User.Tags == nil {
		t.Errorf("shown user = %+v, want nina with an empty tag list", shown.User)
	}

	list, err := iam.ListUsersV5(&iammodel.ListUsersV5Request{})
	requireNoSDKError(t, err, "ListUsersV5")
	var names []string
	for _, lu := range *list.Users {
		names = append(names, lu.UserName)
	}
	if strings.Join(names, ",") != uetest.AccountName+",nina" {
		t.Errorf("users = %q, want the root and nina", names)
	}
	if !(*list.Users)[0].IsRootUser {
		t.Error("the root is not marked is_root_user")
	}

	newName, disabled := "nina2", false
	updated, err := iam.UpdateUserV5(&iammodel.UpdateUserV5Request{UserId: u.UserId,
		Body: &iammodel.UpdateUserReqBody{NewUserName: &newName, Enabled: &disabled}})
	requireNoSDKError(t, err, "UpdateUserV5")
	if updated.User.UserName != "nina2" || updated.User.Enabled {
		t.Errorf("updated user = %+v, want nina2, disabled", updated.User)
	}

	_, err = iam.CreateUserV5(&iammodel.CreateUserV5Request{Body: &iammodel.CreateUserReqBody{Name: "nina2", Enabled: true}})
	requireIAMError(t, err, http.StatusConflict, "IAM.0409")
	_, err = iam.CreateUserV5(&iammodel.CreateUserV5Request{Body: &iammodel.CreateUserReqBody{Name: "9lives", Enabled: true}})
	requireIAMError(t, err, http.StatusBadRequest, "IAM.0400")
	_, err = iam.ShowUserV5(&iammodel.ShowUserV5Request{UserId: "ffffffffffffffffffffffffffffffff"})
	requireIAMError(t, err, http.StatusNotFound, "IAM.0404")
	_, err = iam.DeleteUserV5(&iammodel.DeleteUserV5Request{UserId: uetest.RootUserID})
	requireIAMError(t, err, http.StatusConflict, "IAM.0409")

	deleted, err := iam.DeleteUserV5(&iammodel.DeleteUserV5Request{UserId: u.UserId})
	requireNoSDKError(t, err, "DeleteUserV5")
	if deleted.HttpStatusCode != http.StatusNoContent {
		t.Errorf("DeleteUserV5 status = %d, want 204", deleted.HttpStatusCode)
	}
	_, err = iam.ShowUserV5(&iammodel.ShowUserV5Request{UserId: u.UserId})
	requireIAMError(t, err, http.StatusNotFound, "IAM.0404")
}

func TestIAMDisabledUser(t *testing.T) {
	env := uetest.Start(t, uetest.Options{NoWorker: true})
	iam := env.IAMClient()
	olga := createIAMUser(t, iam, "olga")
	attachUserPolicy(t, iam, findPolicyByName(t, iam, "WorkspaceUserEventsFullAccessPolicy"), olga.id)

	disabled := false
	_, err := iam.UpdateUserV5(&iammodel.UpdateUserV5Request{UserId: olga.id,
		Body: &iammodel.UpdateUserReqBody{Enabled: &disabled}})
	requireNoSDKError(t, err, "UpdateUserV5")
	_, err = env.WorkspaceClientWith(olga.creds).ListUserEvents(listEventsRequest())
	se := requireSDKError(t, err, http.StatusUnauthorized)
	if !strings.Contains(se.ErrorMessage, "disabled") {
		t.Errorf("error_msg %q does not say the user is disabled", se.ErrorMessage)
	}
	_, err = iam.UpdateUserV5(&iammodel.UpdateUserV5Request{UserId: uetest.RootUserID,
		Body: &iammodel.UpdateUserReqBody{Enabled: &disabled}})
	requireIAMError(t, err, http.StatusConflict, "IAM.0409")
}

func TestIAMPaging(t *testing.T) {
	env := uetest.Start(t, uetest.Options{NoWorker: true})
	iam := env.IAMClient()
	for _, name := range []string{"pa", "pb", "pc"} {
		createIAMUser(t, iam, name)
	}

	var names []string
	var marker *string
	for pages := 0; ; pages++ {
		if pages > 3 {
			t.Fatal("paging does not end")
		}
		resp, err := iam.ListUsersV5(&iammodel.ListUsersV5Request{Limit: ptr(int32(2)), Marker: marker})
		requireNoSDKError(t, err, "ListUsersV5")
		for _, u := range *resp.Users {
			names = append(names, u.UserName)
		}
		if resp.PageInfo.CurrentCount != int32(len(*resp.Users)) {
			t.Errorf("current_count = %d, want %d", resp.PageInfo.CurrentCount, len(*resp.Users))
		}
		if resp.PageInfo.NextMarker == nil {
			break
		}
		marker = resp.PageInfo.NextMarker
	}
	if got := strings.Join(names, ","); got != uetest.AccountName+",pa,pb,pc" {
		t.Errorf("users over all pages = %s", got)
	}

	_, err := iam.ListUsersV5(&iammodel.ListUsersV5Request{Limit: ptr(int32(0))})
	requireIAMError(t, err, http.StatusBadRequest, "IAM.0400")
	_, err = iam.ListUsersV5(&iammodel.ListUsersV5Request{Marker: ptr("not a marker!")})
	requireIAMError(t, err, http.StatusBadRequest, "IAM.0400")
}

func TestIAMAccessKeys(t *testing.T) {
	env := uetest.Start(t, uetest.Options{NoWorker: true})
	iam := env.IAMClient()
	pat := createIAMUser(t, iam, "pat")
	other := createIAMUser(t, iam, "quinn")

	second, err := iam.CreateAccessKeyV5(&iammodel.CreateAccessKeyV5Request{UserId: pat.id})
	requireNoSDKError(t, err, "CreateAccessKeyV5 second key")
	if second.AccessKey.Status.Value() != "active" || len(second.AccessKey.AccessKeyId) != 20 {
		t.Errorf("created key = %+v", second.AccessKey)
	}
	_, err = iam.CreateAccessKeyV5(&iammodel.CreateAccessKeyV5Request{UserId: pat.id})
	requireIAMError(t, err, http.StatusBadRequest, "IAM.0410")

	list, err := iam.ListAccessKeysV5(&iammodel.ListAccessKeysV5Request{UserId: pat.id})
	requireNoSDKError(t, err, "ListAccessKeysV5")
	if len(*list.AccessKeys) != 2 || (*list.AccessKeys)[0].AccessKeyId != pat.ak {
		t.Errorf("keys = %+v, want the two keys, oldest first", *list.AccessKeys)
	}

	inactive := iammodel.GetAccessKeyStatusEnum().INACTIVE
	updated, err := iam.UpdateAccessKeyV5(&iammodel.UpdateAccessKeyV5Request{UserId: pat.id, AccessKeyId: pat.ak,
		Body: &iammodel.UpdateAccessKeyReqBody{Status: &inactive}})
	requireNoSDKError(t, err, "UpdateAccessKeyV5")
	if updated.AccessKey.Status.Value() != "inactive" {
		t.Errorf("status = %q, want inactive", updated.AccessKey.Status.Value())
	}

	_, err = iam.DeleteAccessKeyV5(&iammodel.DeleteAccessKeyV5Request{UserId: other.id, AccessKeyId: pat.ak})
	requireIAMError(t, err, http.StatusNotFound, "IAM.0404")
	_, err = iam.DeleteAccessKeyV5(&iammodel.DeleteAccessKeyV5Request{UserId: pat.id, AccessKeyId: pat.ak})
	requireNoSDKError(t, err, "DeleteAccessKeyV5")
	list, err = iam.ListAccessKeysV5(&iammodel.ListAccessKeysV5Request{UserId: pat.id})
	requireNoSDKError(t, err, "ListAccessKeysV5")
	if len(*list.AccessKeys) != 1 {
		t.Errorf("keys after delete = %d, want 1", len(*list.AccessKeys))
	}
}

func TestIAMLoginProfile(t *testing.T) {
	env := uetest.Start(t, uetest.Options{NoWorker: true})
	iam := env.IAMClient()
	rita := createIAMUser(t, iam, "rita")

	_, err := iam.ShowLoginProfileV5(&iammodel.ShowLoginProfileV5Request{UserId: rita.id})
	requireIAMError(t, err, http.StatusNotFound, "IAM.0404")
	for _, weak := range []string{"short1", "alllowercaseletters", "rita"} {
		_, err = iam.CreateLoginProfileV5(&iammodel.CreateLoginProfileV5Request{UserId: rita.id,
			Body: &iammodel.CreateLoginProfileReqBody{Password: weak}})
		requireIAMError(t, err, http.StatusBadRequest, "IAM.0400")
	}

	created, err := iam.CreateLoginProfileV5(&iammodel.CreateLoginProfileV5Request{UserId: rita.id,
		Body: &iammodel.CreateLoginProfileReqBody{Password: "Rita-password-1", PasswordResetRequired: true}})
	requireNoSDKError(t, err, "CreateLoginProfileV5")
	if !created.LoginProfile.PasswordResetRequired || created.LoginProfile.UserId != rita.id {
		t.Errorf("login profile = %+v", created.LoginProfile)
	}
	_, err = iam.CreateLoginProfileV5(&iammodel.CreateLoginProfileV5Request{UserId: rita.id,
		Body: &iammodel.CreateLoginProfileReqBody{Password: "Rita-password-2"}})
	requireIAMError(t, err, http.StatusConflict, "IAM.0409")

	reset := false
	updated, err := iam.UpdateLoginProfileV5(&iammodel.UpdateLoginProfileV5Request{UserId: rita.id,
		Body: &iammodel.UpdateLoginProfileReqBody{PasswordResetRequired: &reset}})
	requireNoSDKError(t, err, "UpdateLoginProfileV5")
	if updated.LoginProfile.PasswordResetRequired {
		t.Error("password_reset_required is still true")
	}
	shown, err := iam.ShowLoginProfileV5(&iammodel.ShowLoginProfileV5Request{UserId: rita.id})
	requireNoSDKError(t, err, "ShowLoginProfileV5")
	if shown.LoginProfile.CreatedAt == nil {
		t.Error("created_at is missing")
	}
	issueToken(t, env, "rita", "Rita-password-1", uetest.Region)

	_, err = iam.DeleteLoginProfileV5(&iammodel.DeleteLoginProfileV5Request{UserId: rita.id})
	requireNoSDKError(t, err, "DeleteLoginProfileV5")
	_, err = anonymousIAMv3(env).KeystoneCreateUserTokenByPassword(passwordTokenRequest("rita", "Rita-password-1", uetest.Region))
	requireSDKError(t, err, http.StatusUnauthorized)
	_, err = iam.DeleteLoginProfileV5(&iammodel.DeleteLoginProfileV5Request{UserId: uetest.RootUserID})
	requireIAMError(t, err, http.StatusConflict, "IAM.0409")
}

func TestIAMGroups(t *testing.T) {
	env := uetest.Start(t, uetest.Options{NoWorker: true})
	iam := env.IAMClient()
	sam := createIAMUser(t, iam, "sam")

	desc := "operators"
	created, err := iam.CreateGroupV5(&iammodel.CreateGroupV5Request{
		Body: &iammodel.CreateGroupReqBody{GroupName: "ops", Description: &desc}})
	requireNoSDKError(t, err, "CreateGroupV5")
	g := created.Group
	if g.GroupName != "ops" || *g.Description != "operators" || g.Urn != "iam::"+uetest.AccountID+":group:ops" {
		t.Errorf("created group = %+v", g)
	}
	_, err = iam.CreateGroupV5(&iammodel.CreateGroupV5Request{Body: &iammodel.CreateGroupReqBody{GroupName: "ops"}})
	requireIAMError(t, err, http.StatusConflict, "IAM.0409")

	_, err = iam.AddUserToGroupV5(&iammodel.AddUserToGroupV5Request{GroupId: g.GroupId,
		Body: &iammodel.AddUserToGroupReqBody{UserId: sam.id}})
	requireNoSDKError(t, err, "AddUserToGroupV5")
	members, err := iam.ListUsersV5(&iammodel.ListUsersV5Request{GroupId: &g.GroupId})
	requireNoSDKError(t, err, "ListUsersV5 of the group")
	if len(*members.Users) != 1 || (*members.Users)[0].UserId != sam.id {
		t.Errorf("members = %+v, want sam", *members.Users)
	}
	groups, err := iam.ListGroupsV5(&iammodel.ListGroupsV5Request{UserId: &sam.id})
	requireNoSDKError(t, err, "ListGroupsV5 of the user")
	if len(*groups.Groups) != 1 || (*groups.Groups)[0].GroupId != g.GroupId {
		t.Errorf("groups of sam = %+v, want ops", *groups.Groups)
	}

	newName := "operators"
	updated, err := iam.UpdateGroupV5(&iammodel.UpdateGroupV5Request{GroupId: g.GroupId,
		Body: &iammodel.UpdateGroupReqBody{NewGroupName: &newName}})
	requireNoSDKError(t, err, "UpdateGroupV5")
	if updated.Group.GroupName != "operators" {
		t.Errorf("group name = %q, want operators", updated.Group.GroupName)
	}
	shown, err := iam.ShowGroupV5(&iammodel.ShowGroupV5Request{GroupId: g.GroupId})
	requireNoSDKError(t, err, "ShowGroupV5")
	if shown.Group.GroupName != "operators" {
		t.Errorf("shown group = %+v", shown.Group)
	}

	_, err = iam.RemoveUserFromGroupV5(&iammodel.RemoveUserFromGroupV5Request{GroupId: g.GroupId,
		Body: &iammodel.RemoveUserFromGroupReqBody{UserId: sam.id}})
	requireNoSDKError(t, err, "RemoveUserFromGroupV5")
	_, err = iam.RemoveUserFromGroupV5(&iammodel.RemoveUserFromGroupV5Request{GroupId: g.GroupId,
		Body: &iammodel.RemoveUserFromGroupReqBody{UserId: sam.id}})
	requireIAMError(t, err, http.StatusNotFound, "IAM.0404")

	_, err = iam.DeleteGroupV5(&iammodel.DeleteGroupV5Request{GroupId: g.GroupId})
	requireNoSDKError(t, err, "DeleteGroupV5")
	_, err = iam.ShowGroupV5(&iammodel.ShowGroupV5Request{GroupId: g.GroupId})
	requireIAMError(t, err, http.StatusNotFound, "IAM.0404")
}

func TestIAMPolicies(t *testing.T) {
	env := uetest.Start(t, uetest.Options{NoWorker: true})
	iam := env.IAMClient()

	_, err := iam.CreatePolicyV5(&iammodel.CreatePolicyV5Request{Body: &iammodel.CreatePolicyReqBody{
		PolicyName: "bad", PolicyDocument: `{"Version":"1.1","Statement":[]}`}})
	requireIAMError(t, err, http.StatusBadRequest, "IAM.0400")

	path := "team/ops/"
	created, err := iam.CreatePolicyV5(&iammodel.CreatePolicyV5Request{Body: &iammodel.CreatePolicyReqBody{
		PolicyName: "events", Path: &path, PolicyDocument: allowDoc("workspace:userEvents:list")}})
	requireNoSDKError(t, err, "CreatePolicyV5")
	p := created.Policy
	if p.PolicyType.Value() != "custom" || p.DefaultVersionId != "v1" || p.Path != path ||
		p.Urn != "iam::"+uetest.AccountID+":policy:events" {
		t.Errorf("created policy = %+v", p)
	}

	for i := 2; i <= userevents.MaxPolicyVersions; i++ {
		_, err := iam.CreatePolicyVersionV5(&iammodel.CreatePolicyVersionV5Request{PolicyId: p.PolicyId,
			Body: &iammodel.CreatePolicyVersionReqBody{PolicyDocument: allowDoc("workspace:userEvents:*")}})
		requireNoSDKError(t, err, "CreatePolicyVersionV5")
	}
	_, err = iam.CreatePolicyVersionV5(&iammodel.CreatePolicyVersionV5Request{PolicyId: p.PolicyId,
		Body: &iammodel.CreatePolicyVersionReqBody{PolicyDocument: allowDoc("lts:*")}})
	requireIAMError(t, err, http.StatusBadRequest, "IAM.0410")

	_, err = iam.DeletePolicyVersionV5(&iammodel.DeletePolicyVersionV5Request{PolicyId: p.PolicyId, VersionId: "v1"})
	requireIAMError(t, err, http.StatusConflict, "IAM.0409")
	_, err = iam.SetDefaultPolicyVersionV5(&iammodel.SetDefaultPolicyVersionV5Request{PolicyId: p.PolicyId, VersionId: "v3"})
	requireNoSDKError(t, err, "SetDefaultPolicyVersionV5")
	_, err = iam.DeletePolicyVersionV5(&iammodel.DeletePolicyVersionV5Request{PolicyId: p.PolicyId, VersionId: "v1"})
	requireNoSDKError(t, err, "DeletePolicyVersionV5")

	versions, err := iam.ListPolicyVersionsV5(&iammodel.ListPolicyVersionsV5Request{PolicyId: p.PolicyId})
	requireNoSDKError(t, err, "ListPolicyVersionsV5")
	var ids []string
	for _, v := range *versions.Versions {
		ids = append(ids, v.VersionId)
		if v.IsDefault != (v.VersionId == "v3") {
			t.Errorf("version %s is_default = %v", v.VersionId, v.IsDefault)
		}
	}
	if strings.Join(ids, ",") != "v2,v3,v4,v5" {
		t.Errorf("versions = %q, want v2 to v5", ids)
	}
	v, err := iam.GetPolicyVersionV5(&iammodel.GetPolicyVersionV5Request{PolicyId: p.PolicyId, VersionId: "v3"})
	requireNoSDKError(t, err, "GetPolicyVersionV5")
	if v.PolicyVersion.Document != allowDoc("workspace:userEvents:*") {
		t.Errorf("document = %s", v.PolicyVersion.Document)
	}
	got, err := iam.GetPolicyV5(&iammodel.GetPolicyV5Request{PolicyId: p.PolicyId})
	requireNoSDKError(t, err, "GetPolicyV5")
	if got.Policy.DefaultVersionId != "v3" {
		t.Errorf("default_version_id = %q, want v3", got.Policy.DefaultVersionId)
	}

	custom := iammodel.GetListPoliciesV5RequestPolicyTypeEnum().CUSTOM
	list, err := iam.ListPoliciesV5(&iammodel.ListPoliciesV5Request{PolicyType: &custom})
	requireNoSDKError(t, err, "ListPoliciesV5 custom")
	if len(*list.Policies) != 1 || (*list.Policies)[0].PolicyId != p.PolicyId {
		t.Errorf("custom policies = %+v", *list.Policies)
	}
	system := iammodel.GetListPoliciesV5RequestPolicyTypeEnum().SYSTEM
	list, err = iam.ListPoliciesV5(&iammodel.ListPoliciesV5Request{PolicyType: &system})
	requireNoSDKError(t, err, "ListPoliciesV5 system")
	if len(*list.Policies) != 4 {
		t.Errorf("system policies = %d, want 4", len(*list.Policies))
	}
	for _, sp := range *list.Policies {
		if sp.PolicyType.Value() != "system" || !strings.HasPrefix(sp.Urn, "iam::system:policy:") {
			t.Errorf("system policy = %+v", sp)
		}
	}
	_, err = iam.CreatePolicyVersionV5(&iammodel.CreatePolicyVersionV5Request{PolicyId: (*list.Policies)[0].PolicyId,
		Body: &iammodel.CreatePolicyVersionReqBody{PolicyDocument: allowDoc("*")}})
	requireIAMError(t, err, http.StatusBadRequest, "IAM.0400")
	_, err = iam.DeletePolicyV5(&iammodel.DeletePolicyV5Request{PolicyId: (*list.Policies)[0].PolicyId})
	requireIAMError(t, err, http.StatusBadRequest, "IAM.0400")

	deleted, err := iam.DeletePolicyV5(&iammodel.DeletePolicyV5Request{PolicyId: p.PolicyId})
	requireNoSDKError(t, err, "DeletePolicyV5")
	if deleted.HttpStatusCode != http.StatusNoContent {
		t.Errorf("DeletePolicyV5 status = %d, want 204", deleted.HttpStatusCode)
	}
}

func TestIAMAttachments(t *testing.T) {
	env := uetest.Start(t, uetest.Options{NoWorker: true})
	iam := env.IAMClient()
	tom := createIAMUser(t, iam, "tom")
	g, err := iam.CreateGroupV5(&iammodel.CreateGroupV5Request{Body: &iammodel.CreateGroupReqBody{GroupName: "readers"}})
	requireNoSDKError(t, err, "CreateGroupV5")
	groupID := g.Group.GroupId
	policyID := createPolicy(t, iam, "events", allowDoc("workspace:userEvents:list"))

	attachUserPolicy(t, iam, policyID, tom.id)
	attachUserPolicy(t, iam, policyID, tom.id)
	_, err = iam.AttachGroupPolicyV5(&iammodel.AttachGroupPolicyV5Request{PolicyId: policyID,
		Body: &iammodel.AttachGroupPolicyReqBody{GroupId: groupID}})
	requireNoSDKError(t, err, "AttachGroupPolicyV5")

	attached, err := iam.ListAttachedUserPoliciesV5(&iammodel.ListAttachedUserPoliciesV5Request{UserId: tom.id})
	requireNoSDKError(t, err, "ListAttachedUserPoliciesV5")
	if len(*attached.AttachedPolicies) != 1 || (*attached.AttachedPolicies)[0].PolicyName != "events" {
		t.Errorf("attached to tom = %+v", *attached.AttachedPolicies)
	}
	groupAttached, err := iam.ListAttachedGroupPoliciesV5(&iammodel.ListAttachedGroupPoliciesV5Request{GroupId: groupID})
	requireNoSDKError(t, err, "ListAttachedGroupPoliciesV5")
	if len(*groupAttached.AttachedPolicies) != 1 {
		t.Errorf("attached to the group = %+v", *groupAttached.AttachedPolicies)
	}

	entities, err := iam.ListEntitiesForPolicyV5(&iammodel.ListEntitiesForPolicyV5Request{PolicyId: policyID})
	requireNoSDKError(t, err, "ListEntitiesForPolicyV5")
	if len(*entities.PolicyUsers) != 1 || (*entities.PolicyUsers)[0].UserId != tom.id ||
		len(*entities.PolicyGroups) != 1 || (*entities.PolicyGroups)[0].GroupId != groupID ||
		len(*entities.PolicyAgencies) != 0 {
		t.Errorf("entities = users %+v, groups %+v", *entities.PolicyUsers, *entities.PolicyGroups)
	}
	users := iammodel.GetListEntitiesForPolicyV5RequestEntityTypeEnum().USER
	entities, err = iam.ListEntitiesForPolicyV5(&iammodel.ListEntitiesForPolicyV5Request{PolicyId: policyID, EntityType: &users})
	requireNoSDKError(t, err, "ListEntitiesForPolicyV5 users")
	if len(*entities.PolicyUsers) != 1 || len(*entities.PolicyGroups) != 0 {
		t.Errorf("user entities = %+v, groups %+v", *entities.PolicyUsers, *entities.PolicyGroups)
	}
	got, err := iam.GetPolicyV5(&iammodel.GetPolicyV5Request{PolicyId: policyID})
	requireNoSDKError(t, err, "GetPolicyV5")
	if got.Policy.AttachmentCount != 2 {
		t.Errorf("attachment_count = %d, want 2", got.Policy.AttachmentCount)
	}

	_, err = iam.DeletePolicyV5(&iammodel.DeletePolicyV5Request{PolicyId: policyID})
	requireIAMError(t, err, http.StatusConflict, "IAM.0409")
	detachUserPolicy(t, iam, policyID, tom.id)
	_, err = iam.DetachUserPolicyV5(&iammodel.DetachUserPolicyV5Request{PolicyId: policyID,
		Body: &iammodel.DetachUserPolicyReqBody{UserId: tom.id}})
	requireIAMError(t, err, http.StatusNotFound, "IAM.0404")
	_, err = iam.DetachGroupPolicyV5(&iammodel.DetachGroupPolicyV5Request{PolicyId: policyID,
		Body: &iammodel.DetachGroupPolicyReqBody{GroupId: groupID}})
	requireNoSDKError(t, err, "DetachGroupPolicyV5")
	_, err = iam.AttachUserPolicyV5(&iammodel.AttachUserPolicyV5Request{PolicyId: "ffffffffffffffffffffffffffffffff",
		Body: &iammodel.AttachUserPolicyReqBody{UserId: tom.id}})
	requireIAMError(t, err, http.StatusNotFound, "IAM.0404")
	_, err = iam.DeletePolicyV5(&iammodel.DeletePolicyV5Request{PolicyId: policyID})
	requireNoSDKError(t, err, "DeletePolicyV5 after detaching")
}

func TestIAMActionsNeedPermissions(t *testing.T) {
	env := uetest.Start(t, uetest.Options{NoWorker: true})
	root := env.IAMClient()
	uma := createIAMUser(t, root, "uma")
	iam := env.IAMClientWith(uetest.GlobalCredentials(uma.ak, uma.sk))

	_, err := iam.ListUsersV5(&iammodel.ListUsersV5Request{})
	requireForbidden(t, err, "iam:users:listUsersV5")
	_, err = iam.CreateUserV5(&iammodel.CreateUserV5Request{Body: &iammodel.CreateUserReqBody{Name: "dev-1", Enabled: true}})
	requireForbidden(t, err, "iam:users:createUserV5")

	attachUserPolicy(t, root, createPolicy(t, root, "dev-admin", `{"Version":"5.0","Statement":[
		{"Effect":"Allow","Action":["iam:users:createUserV5","iam:users:getUserV5"],
		 "Resource":["iam::`+uetest.AccountID+`:user:dev-*"]}]}`), uma.id)
	created, err := iam.CreateUserV5(&iammodel.CreateUserV5Request{Body: &iammodel.CreateUserReqBody{Name: "dev-1", Enabled: true}})
	requireNoSDKError(t, err, "CreateUserV5 dev-1")
	_, err = iam.ShowUserV5(&iammodel.ShowUserV5Request{UserId: created.User.UserId})
	requireNoSDKError(t, err, "ShowUserV5 dev-1")
	_, err = iam.CreateUserV5(&iammodel.CreateUserV5Request{Body: &iammodel.CreateUserReqBody{Name: "ops-1", Enabled: true}})
	requireForbidden(t, err, "iam:users:createUserV5")
	_, err = iam.ShowUserV5(&iammodel.ShowUserV5Request{UserId: uma.id})
	requireForbidden(t, err, "iam:users:getUserV5")

	events := createPolicy(t, root, "events", allowDoc("workspace:userEvents:list"))
	lts := findPolicyByName(t, root, "LTSFullAccessPolicy")
	attachUserPolicy(t, root, createPolicy(t, root, "attach-events", `{"Version":"5.0","Statement":[
		{"Effect":"Allow","Action":["iam:users:attachPolicyV5"],
		 "Condition":{"StringEquals":{"iam:PolicyURN":["iam::`+uetest.AccountID+`:policy:events"]}}}]}`), uma.id)
	_, err = iam.AttachUserPolicyV5(&iammodel.AttachUserPolicyV5Request{PolicyId: events,
		Body: &iammodel.AttachUserPolicyReqBody{UserId: created.User.UserId}})
	requireNoSDKError(t, err, "AttachUserPolicyV5 of the allowed policy")
	_, err = iam.AttachUserPolicyV5(&iammodel.AttachUserPolicyV5Request{PolicyId: lts,
		Body: &iammodel.AttachUserPolicyReqBody{UserId: created.User.UserId}})
	requireForbidden(t, err, "iam:users:attachPolicyV5")
}

func TestIAMAccountIsolation(t *testing.T) {
	env := uetest.Start(t, uetest.Options{NoWorker: true})
	iam := env.IAMClient()
	victim := createIAMUser(t, iam, "victim")
	policyID := createPolicy(t, iam, "private", allowDoc("lts:*"))

	const otherAccount, otherRoot = "c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0", "d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0"
	ctx := t.Context()
	if err := env.Store.CreateAccount(ctx, &userevents.Account{ID: otherAccount, Name: "other"}); err != nil {
		t.Fatal(err)
	}
	hash, _ := bcrypt.GenerateFromPassword([]byte("Other-password-1"), bcrypt.MinCost)
	if err := env.Store.CreateUser(ctx, &userevents.User{ID: otherRoot, AccountID: otherAccount, Name: "other",
		Root: true, Enabled: true, PasswordHash: string(hash)}); err != nil {
		t.Fatal(err)
	}
	if err := env.Store.CreateAccessKey(ctx, &userevents.AccessKey{ID: "AKOTHERACCOUNT000001", Secret: "other-sk",
		UserID: otherRoot, AccountID: otherAccount, Enabled: true}); err != nil {
		t.Fatal(err)
	}
	other := env.IAMClientWith(uetest.GlobalCredentials("AKOTHERACCOUNT000001", "other-sk"))

	_, err := other.ShowUserV5(&iammodel.ShowUserV5Request{UserId: victim.id})
	requireIAMError(t, err, http.StatusNotFound, "IAM.0404")
	_, err = other.DeleteUserV5(&iammodel.DeleteUserV5Request{UserId: victim.id})
	requireIAMError(t, err, http.StatusNotFound, "IAM.0404")
	_, err = other.GetPolicyV5(&iammodel.GetPolicyV5Request{PolicyId: policyID})
	requireIAMError(t, err, http.StatusNotFound, "IAM.0404")
	list, err := other.ListUsersV5(&iammodel.ListUsersV5Request{})
	requireNoSDKError(t, err, "ListUsersV5 of the other account")
	if len(*list.Users) != 1 || (*list.Users)[0].UserId != otherRoot {
		t.Errorf("users of the other account = %+v", *list.Users)
	}
	_, err = other.AttachUserPolicyV5(&iammodel.AttachUserPolicyV5Request{PolicyId: policyID,
		Body: &iammodel.AttachUserPolicyReqBody{UserId: otherRoot}})
	requireIAMError(t, err, http.StatusNotFound, "IAM.0404")

	token := issueTokenFor(t, env, "other", "other", "Other-password-1")
	status, body := doWithToken(t, http.MethodGet, eventsURL(env), token, "")
	requireTokenStatus(t, "another account's token on this project", status, body, http.StatusForbidden)
}

// issueTokenFor gets an account-scoped token for a user of any account.
func issueTokenFor(t *testing.T, env *uetest.Env, account, user, password string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"auth": map[string]any{
		"identity": map[string]any{"methods": []string{"password"}, "password": map[string]any{
			"user": map[string]any{"name": user, "password": password, "domain": map[string]any{"name": account}}}},
		"scope": map[string]any{"domain": map[string]any{"name": account}},
	}})
	resp, err := http.Post(env.IAMURL+"/v3/auth/tokens", "application/json", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("token for %s/%s: status %d", account, user, resp.StatusCode)
	}
	return resp.Header.Get("X-Subject-Token")
}

func TestIAMErrorBody(t *testing.T) {
	env := uetest.Start(t, uetest.Options{NoWorker: true})
	status, body := uetest.Do(t, http.MethodGet, env.IAMURL, "/v5/users/ffffffffffffffffffffffffffffffff", nil, "")
	if status != http.StatusNotFound {
		t.Fatalf("status %d, want 404", status)
	}
	var e map[string]string
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		t.Fatalf("body %s: %v", body, err)
	}
	if e["error_code"] != "IAM.0404" || e["error_msg"] == "" || len(e) != 2 {
		t.Errorf("error body = %s, want error_code IAM.0404 and error_msg", body)
	}

	resp, err := http.Get(env.IAMURL + "/v5/users")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("unauthenticated ListUsersV5: status %d, want 401", resp.StatusCode)
	}
}

func TestIAMUpdatesRejectUnknownOrEmptyBodies(t *testing.T) {
	env := uetest.Start(t, uetest.Options{NoWorker: true})
	for _, tt := range []struct {
		method, path, body, mention string
	}{
		{http.MethodPut, "/v5/users/" + uetest.RootUserID + "/login-profile", `{"login_profile":{"password":"Bob-password-2"}}`, "login_profile"},
		{http.MethodPut, "/v5/users/" + uetest.RootUserID + "/login-profile", `{}`, "changes nothing"},
		{http.MethodPut, "/v5/users/" + uetest.RootUserID, `{"user":{"description":"x"}}`, "user"},
		{http.MethodPut, "/v5/users/" + uetest.RootUserID, `{}`, "changes nothing"},
	} {
		status, body := uetest.Do(t, tt.method, env.IAMURL, tt.path, nil, tt.body)
		if status != http.StatusBadRequest || !strings.Contains(body, tt.mention) {
			t.Errorf("%s %s %s = %d %s, want 400 mentioning %q", tt.method, tt.path, tt.body, status, body, tt.mention)
		}
	}
}
