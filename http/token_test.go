package http_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	iamv3 "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/iam/v3"
	iamv3model "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/iam/v3/model"
	iamv5 "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/iam/v5"
	iammodel "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/iam/v5/model"

	"github.com/userevents/userevents/uetest"
)

// createPasswordUser creates a user with a password and full access to
// user events and read access to LTS, and returns its id.
func createPasswordUser(t *testing.T, iam *iamv5.IamClient, name, password string) string {
	t.Helper()
	u := createIAMUser(t, iam, name)
	_, err := iam.CreateLoginProfileV5(&iammodel.CreateLoginProfileV5Request{
		UserId: u.id, Body: &iammodel.CreateLoginProfileReqBody{Password: password},
	})
	requireNoSDKError(t, err, "CreateLoginProfileV5")
	attachUserPolicy(t, iam, findPolicyByName(t, iam, "WorkspaceUserEventsFullAccessPolicy"), u.id)
	attachUserPolicy(t, iam, findPolicyByName(t, iam, "LTSReadOnlyPolicy"), u.id)
	return u.id
}

// anonymousIAMv3 returns an IAM v3 client that sends no credential.
func anonymousIAMv3(env *uetest.Env) *iamv3.IamClient {
	return env.IAMv3ClientWith(iamv3.NewIamCredentialsBuilder().Build())
}

// passwordTokenRequest returns a token request for a user of the test
// account, scoped to the test project by name or, with project "", to the
// account.
func passwordTokenRequest(user, password, project string) *iamv3model.KeystoneCreateUserTokenByPasswordRequest {
	scope := &iamv3model.AuthScope{}
	if project != "" {
		scope.Project = &iamv3model.AuthScopeProject{Name: &project}
	} else {
		name := uetest.AccountName
		scope.Domain = &iamv3model.AuthScopeDomain{Name: &name}
	}
	return &iamv3model.KeystoneCreateUserTokenByPasswordRequest{
		Body: &iamv3model.KeystoneCreateUserTokenByPasswordRequestBody{Auth: &iamv3model.PwdAuth{
			Identity: &iamv3model.PwdIdentity{
				Methods: []iamv3model.PwdIdentityMethods{iamv3model.GetPwdIdentityMethodsEnum().PASSWORD},
				Password: &iamv3model.PwdPassword{User: &iamv3model.PwdPasswordUser{
					Domain: &iamv3model.PwdPasswordUserDomain{Name: uetest.AccountName}, Name: user, Password: password,
				}},
			},
			Scope: scope,
		}},
	}
}

// issueToken gets a token for the user through the SDK.
func issueToken(t *testing.T, env *uetest.Env, user, password, project string) string {
	t.Helper()
	resp, err := anonymousIAMv3(env).KeystoneCreateUserTokenByPassword(passwordTokenRequest(user, password, project))
	requireNoSDKError(t, err, "KeystoneCreateUserTokenByPassword")
	if resp.HttpStatusCode != http.StatusCreated {
		t.Errorf("token status = %d, want 201", resp.HttpStatusCode)
	}
	if resp.XSubjectToken == nil || *resp.XSubjectToken == "" {
		t.Fatal("X-Subject-Token is missing")
	}
	return *resp.XSubjectToken
}

// doWithToken sends a request with an X-Auth-Token and returns the status
// and body.
func doWithToken(t *testing.T, method, url, token, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Auth-Token", token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(data)
}

// eventsURL returns the ListUserEvents URL of the last hour.
func eventsURL(env *uetest.Env) string {
	now := time.Now().UTC()
	return env.WorkspaceURL + eventsPath + "?start_time=" + now.Add(-time.Hour).Format(time.RFC3339) +
		"&end_time=" + now.Format(time.RFC3339)
}

func requireTokenStatus(t *testing.T, what string, status int, body string, want int) {
	t.Helper()
	if status != want {
		t.Fatalf("%s: status %d (%s), want %d", what, status, body, want)
	}
}

func TestTokenOnEveryListener(t *testing.T) {
	env := uetest.Start(t, uetest.Options{NoWorker: true})
	createPasswordUser(t, env.IAMClient(), "dave", "Dave-password-1")
	token := issueToken(t, env, "dave", "Dave-password-1", uetest.Region)

	status, body := doWithToken(t, http.MethodGet, eventsURL(env), token, "")
	requireTokenStatus(t, "ListUserEvents with a token", status, body, http.StatusOK)
	status, body = doWithToken(t, http.MethodGet, env.LTSURL+"/v2/"+uetest.ProjectID+"/groups", token, "")
	requireTokenStatus(t, "ListLogGroups with a token", status, body, http.StatusOK)
	status, body = doWithToken(t, http.MethodPost, env.LTSURL+"/v2/"+uetest.ProjectID+"/groups", token,
		`{"log_group_name":"nope","ttl_in_days":7}`)
	requireTokenStatus(t, "CreateLogGroup without permission", status, body, http.StatusForbidden)
	status, body = doWithToken(t, http.MethodGet, env.IAMURL+"/v3/auth/domains", token, "")
	requireTokenStatus(t, "ListAuthDomains with a token", status, body, http.StatusOK)

	status, body = doWithToken(t, http.MethodGet, eventsURL(env), token+"x", "")
	requireTokenStatus(t, "a tampered token", status, body, http.StatusUnauthorized)
	status, body = doWithToken(t, http.MethodGet, eventsURL(env), "MIIgarbage", "")
	requireTokenStatus(t, "a foreign token", status, body, http.StatusUnauthorized)
}

func TestTokenScope(t *testing.T) {
	env := uetest.Start(t, uetest.Options{NoWorker: true})
	account := issueToken(t, env, uetest.AccountName, uetest.RootPassword, "")

	status, body := doWithToken(t, http.MethodGet, env.IAMURL+"/v5/users", account, "")
	requireTokenStatus(t, "ListUsersV5 with an account-scoped token", status, body, http.StatusOK)
	status, body = doWithToken(t, http.MethodGet, eventsURL(env), account, "")
	requireTokenStatus(t, "ListUserEvents with an account-scoped token", status, body, http.StatusForbidden)

	_, err := anonymousIAMv3(env).KeystoneCreateUserTokenByPassword(
		passwordTokenRequest(uetest.AccountName, uetest.RootPassword, "cn-east-3"))
	requireSDKError(t, err, http.StatusBadRequest)
}

func TestTokenWrongPassword(t *testing.T) {
	env := uetest.Start(t, uetest.Options{NoWorker: true})
	createPasswordUser(t, env.IAMClient(), "erin", "Erin-password-1")

	for _, tc := range []struct{ name, user, password string }{
		{"wrong password", "erin", "Erin-password-2"},
		{"unknown user", "nobody", "Erin-password-1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := anonymousIAMv3(env).KeystoneCreateUserTokenByPassword(passwordTokenRequest(tc.user, tc.password, uetest.Region))
			se := requireSDKError(t, err, http.StatusUnauthorized)
			if se.ErrorCode != "APIG.0301" {
				t.Errorf("error_code = %q, want APIG.0301", se.ErrorCode)
			}
		})
	}
}

func TestTokenValidate(t *testing.T) {
	env := uetest.Start(t, uetest.Options{NoWorker: true})
	createPasswordUser(t, env.IAMClient(), "frank", "Frank-password-1")
	subject := issueToken(t, env, "frank", "Frank-password-1", uetest.Region)
	caller := issueToken(t, env, uetest.AccountName, uetest.RootPassword, "")

	client := env.IAMv3ClientWith(iamv3.NewIamCredentialsBuilder().WithXAuthToken(caller).Build())
	resp, err := client.KeystoneValidateToken(&iamv3model.KeystoneValidateTokenRequest{XSubjectToken: subject})
	requireNoSDKError(t, err, "KeystoneValidateToken")
	if resp.Token.User.Name != "frank" {
		t.Errorf("user name = %q, want frank", resp.Token.User.Name)
	}
	if resp.Token.Project == nil || resp.Token.Project.Id != uetest.ProjectID {
		t.Errorf("project = %+v, want %s", resp.Token.Project, uetest.ProjectID)
	}
	expires, err := time.Parse(time.RFC3339Nano, resp.Token.ExpiresAt)
	if err != nil {
		t.Fatalf("expires_at %q: %v", resp.Token.ExpiresAt, err)
	}
	if d := time.Until(expires); d < 23*time.Hour || d > 24*time.Hour {
		t.Errorf("token expires in %s, want 24 hours", d)
	}

	_, err = client.KeystoneValidateToken(&iamv3model.KeystoneValidateTokenRequest{XSubjectToken: subject + "x"})
	requireSDKError(t, err, http.StatusNotFound)
}

func TestTokenRevokedByPasswordChange(t *testing.T) {
	env := uetest.Start(t, uetest.Options{NoWorker: true})
	iam := env.IAMClient()
	id := createPasswordUser(t, iam, "grace", "Grace-password-1")
	token := issueToken(t, env, "grace", "Grace-password-1", uetest.Region)
	status, body := doWithToken(t, http.MethodGet, eventsURL(env), token, "")
	requireTokenStatus(t, "before the change", status, body, http.StatusOK)

	newPassword := "Grace-password-2"
	_, err := iam.UpdateLoginProfileV5(&iammodel.UpdateLoginProfileV5Request{
		UserId: id, Body: &iammodel.UpdateLoginProfileReqBody{Password: &newPassword},
	})
	requireNoSDKError(t, err, "UpdateLoginProfileV5")
	status, body = doWithToken(t, http.MethodGet, eventsURL(env), token, "")
	requireTokenStatus(t, "after the change", status, body, http.StatusUnauthorized)
	if !strings.Contains(body, "revoked") {
		t.Errorf("body %s does not say the token was revoked", body)
	}

	_, err = anonymousIAMv3(env).KeystoneCreateUserTokenByPassword(passwordTokenRequest("grace", "Grace-password-1", uetest.Region))
	requireSDKError(t, err, http.StatusUnauthorized)
	fresh := issueToken(t, env, "grace", newPassword, uetest.Region)
	status, body = doWithToken(t, http.MethodGet, eventsURL(env), fresh, "")
	requireTokenStatus(t, "with a new token", status, body, http.StatusOK)
}

func TestTokenRevokedByUserDeletion(t *testing.T) {
	env := uetest.Start(t, uetest.Options{NoWorker: true})
	iam := env.IAMClient()
	id := createPasswordUser(t, iam, "heidi", "Heidi-password-1")
	token := issueToken(t, env, "heidi", "Heidi-password-1", uetest.Region)

	_, err := iam.DeleteUserV5(&iammodel.DeleteUserV5Request{UserId: id})
	requireNoSDKError(t, err, "DeleteUserV5")
	status, body := doWithToken(t, http.MethodGet, eventsURL(env), token, "")
	requireTokenStatus(t, "after deletion", status, body, http.StatusUnauthorized)
}

func TestTokenRevokedByDetach(t *testing.T) {
	env := uetest.Start(t, uetest.Options{NoWorker: true})
	iam := env.IAMClient()
	id := createPasswordUser(t, iam, "ivan", "Ivan-password-1")
	token := issueToken(t, env, "ivan", "Ivan-password-1", uetest.Region)

	detachUserPolicy(t, iam, findPolicyByName(t, iam, "LTSReadOnlyPolicy"), id)
	status, body := doWithToken(t, http.MethodGet, eventsURL(env), token, "")
	requireTokenStatus(t, "after a permission change", status, body, http.StatusUnauthorized)
}

func TestTokenResponseBody(t *testing.T) {
	env := uetest.Start(t, uetest.Options{NoWorker: true})
	body := `{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"` + uetest.AccountName +
		`","password":"` + uetest.RootPassword + `","domain":{"name":"` + uetest.AccountName + `"}}}},` +
		`"scope":{"project":{"id":"` + uetest.ProjectID + `"}}}}`
	resp, err := http.Post(env.IAMURL+"/v3/auth/tokens?nocatalog=true", "application/json;charset=utf8", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		data, _ := io.ReadAll(resp.Body)
		t.Fatalf("status %d (%s), want 201", resp.StatusCode, data)
	}
	if resp.Header.Get("X-Subject-Token") == "" {
		t.Error("X-Subject-Token is missing")
	}
	var got struct {
		Token struct {
			Methods []string `json:"methods"`
			User    struct {
				ID     string `json:"id"`
				Domain struct {
					ID string `json:"id"`
				} `json:"domain"`
			} `json:"user"`
			Project struct {
				Name string `json:"name"`
			} `json:"project"`
		} `json:"token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if got.Token.User.ID != uetest.RootUserID || got.Token.User.Domain.ID != uetest.AccountID {
		t.Errorf("user = %+v, want the root of the test account", got.Token.User)
	}
	if got.Token.Project.Name != uetest.Region {
		t.Errorf("project name = %q, want %s", got.Token.Project.Name, uetest.Region)
	}
	if len(got.Token.Methods) != 1 || got.Token.Methods[0] != "password" {
		t.Errorf("methods = %q, want [password]", got.Token.Methods)
	}
}
