package http_test

import (
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/signer"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/request"
	iamv3 "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/iam/v3"
	iamv3model "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/iam/v3/model"

	"github.com/userevents/userevents/uetest"
)

// testClock is a clock that tests move by hand.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func newTestClock(start time.Time) *testClock { return &testClock{now: start} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// securityTokenRequest returns a temporary key request for the duration.
func securityTokenRequest(seconds int32) *iamv3model.CreateTemporaryAccessKeyByTokenRequest {
	return &iamv3model.CreateTemporaryAccessKeyByTokenRequest{
		Body: &iamv3model.CreateTemporaryAccessKeyByTokenRequestBody{Auth: &iamv3model.TokenAuth{
			Identity: &iamv3model.TokenAuthIdentity{
				Methods: []iamv3model.TokenAuthIdentityMethods{iamv3model.GetTokenAuthIdentityMethodsEnum().TOKEN},
				Token:   &iamv3model.IdentityToken{DurationSeconds: &seconds},
			},
		}},
	}
}

func TestTemporaryKeys(t *testing.T) {
	// The server's clock starts 10 minutes behind, so that after the key
	// expires the SDK's signing time is still within the 15-minute skew.
	clock := newTestClock(time.Now().Add(-10 * time.Minute))
	env := uetest.Start(t, uetest.Options{NoWorker: true, Now: clock.Now})
	createPasswordUser(t, env.IAMClient(), "judy", "Judy-password-1")
	token := issueToken(t, env, "judy", "Judy-password-1", uetest.Region)

	byToken := env.IAMv3ClientWith(iamv3.NewIamCredentialsBuilder().WithXAuthToken(token).Build())
	resp, err := byToken.CreateTemporaryAccessKeyByToken(securityTokenRequest(900))
	requireNoSDKError(t, err, "CreateTemporaryAccessKeyByToken")
	cred := resp.Credential
	if cred.Access == "" || cred.Secret == "" || cred.Securitytoken == "" {
		t.Fatalf("credential = %+v, want an AK, SK and security token", cred)
	}
	expires, err := time.Parse(time.RFC3339Nano, cred.ExpiresAt)
	if err != nil {
		t.Fatalf("expires_at %q: %v", cred.ExpiresAt, err)
	}
	if want := clock.Now().Add(15 * time.Minute); !expires.Equal(want.Truncate(time.Microsecond)) {
		t.Errorf("expires_at = %s, want %s", expires, want)
	}

	temporary := uetest.UserCredentials(cred.Access, cred.Secret, cred.Securitytoken)
	_, err = env.WorkspaceClientWith(temporary).ListUserEvents(listEventsRequest())
	requireNoSDKError(t, err, "ListUserEvents with temporary credentials")
	withoutToken := uetest.UserCredentials(cred.Access, cred.Secret, "")
	_, err = env.WorkspaceClientWith(withoutToken).ListUserEvents(listEventsRequest())
	requireSDKError(t, err, http.StatusUnauthorized)

	clock.Add(16 * time.Minute)
	_, err = env.WorkspaceClientWith(temporary).ListUserEvents(listEventsRequest())
	se := requireSDKError(t, err, http.StatusUnauthorized)
	if !strings.Contains(se.ErrorMessage, "expired") {
		t.Errorf("error_msg %q does not say the key expired", se.ErrorMessage)
	}
}

func TestTemporaryKeysWithAccessKey(t *testing.T) {
	env := uetest.Start(t, uetest.Options{NoWorker: true})
	root := env.IAMv3ClientWith(uetest.GlobalCredentials(uetest.AccessKey, uetest.SecretKey))
	resp, err := root.CreateTemporaryAccessKeyByToken(securityTokenRequest(3600))
	requireNoSDKError(t, err, "CreateTemporaryAccessKeyByToken with an AK/SK")
	cred := resp.Credential

	temporary := uetest.UserCredentials(cred.Access, cred.Secret, cred.Securitytoken)
	_, err = env.WorkspaceClientWith(temporary).ListUserEvents(listEventsRequest())
	requireNoSDKError(t, err, "ListUserEvents with temporary credentials")

	for _, seconds := range []int32{899, 86401} {
		_, err := root.CreateTemporaryAccessKeyByToken(securityTokenRequest(seconds))
		requireSDKError(t, err, http.StatusBadRequest)
	}
}

func TestTemporaryKeyCannotRenewItself(t *testing.T) {
	env := uetest.Start(t, uetest.Options{NoWorker: true})
	root := env.IAMv3ClientWith(uetest.GlobalCredentials(uetest.AccessKey, uetest.SecretKey))
	resp, err := root.CreateTemporaryAccessKeyByToken(securityTokenRequest(900))
	requireNoSDKError(t, err, "CreateTemporaryAccessKeyByToken")
	cred := resp.Credential

	req := request.NewHttpRequestBuilder().
		WithEndpoint(env.IAMURL).
		WithPath("/v3.0/OS-CREDENTIAL/securitytokens").
		WithMethod(http.MethodPost).
		AddHeaderParam("Content-Type", "application/json").
		AddHeaderParam("X-Security-Token", cred.Securitytoken).
		WithBody("application/json", `{"auth":{"identity":{"methods":["token"]}}}`).
		Build()
	headers, err := signer.Sign(req, cred.Access, cred.Secret)
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
	got, err := http.DefaultClient.Do(httpReq)
	if err != nil {
		t.Fatal(err)
	}
	defer got.Body.Close()
	body, _ := io.ReadAll(got.Body)
	if got.StatusCode != http.StatusForbidden {
		t.Fatalf("status %d (%s), want 403", got.StatusCode, body)
	}
	if !strings.Contains(string(body), "cannot obtain new temporary credentials") {
		t.Errorf("body %s does not say why", body)
	}
}

func TestLockoutAfterBadSignatures(t *testing.T) {
	clock := newTestClock(time.Now())
	env := uetest.Start(t, uetest.Options{NoWorker: true, Now: clock.Now})
	iam := env.IAMClient()
	kim := createIAMUser(t, iam, "kim")
	attachUserPolicy(t, iam, findPolicyByName(t, iam, "WorkspaceUserEventsFullAccessPolicy"), kim.id)
	good := env.WorkspaceClientWith(kim.creds)
	bad := env.WorkspaceClientWith(uetest.UserCredentials(kim.ak, "wrong-secret", ""))

	for i := range 5 {
		_, err := bad.ListUserEvents(listEventsRequest())
		se := requireSDKError(t, err, http.StatusUnauthorized)
		if se.ErrorCode != "APIG.0301" {
			t.Fatalf("bad signature %d: error_code = %q, want APIG.0301", i+1, se.ErrorCode)
		}
	}
	_, err := good.ListUserEvents(listEventsRequest())
	se := requireSDKError(t, err, http.StatusUnauthorized)
	if se.ErrorCode != "APIG.0307" {
		t.Errorf("good signature while locked: error_code = %q, want APIG.0307", se.ErrorCode)
	}
	if !strings.Contains(se.ErrorMessage, kim.ak) {
		t.Errorf("error_msg %q does not name the access key", se.ErrorMessage)
	}

	_, err = env.WorkspaceClient().ListUserEvents(listEventsRequest())
	requireNoSDKError(t, err, "ListUserEvents with another key during the lock")

	clock.Add(5*time.Minute + time.Second)
	_, err = good.ListUserEvents(listEventsRequest())
	requireNoSDKError(t, err, "ListUserEvents after the lock")
}

func TestLockoutCountResetsOnSuccess(t *testing.T) {
	env := uetest.Start(t, uetest.Options{NoWorker: true})
	iam := env.IAMClient()
	lee := createIAMUser(t, iam, "lee")
	attachUserPolicy(t, iam, findPolicyByName(t, iam, "WorkspaceUserEventsFullAccessPolicy"), lee.id)
	good := env.WorkspaceClientWith(lee.creds)
	bad := env.WorkspaceClientWith(uetest.UserCredentials(lee.ak, "wrong-secret", ""))

	for round := range 2 {
		for range 4 {
			_, err := bad.ListUserEvents(listEventsRequest())
			requireSDKError(t, err, http.StatusUnauthorized)
		}
		_, err := good.ListUserEvents(listEventsRequest())
		requireNoSDKError(t, err, "ListUserEvents after 4 failures in round "+string(rune('1'+round)))
	}
}

func TestLockoutThresholdConfigurable(t *testing.T) {
	env := uetest.Start(t, uetest.Options{NoWorker: true, LockoutThreshold: 2, LockoutDuration: time.Hour})
	bad := env.WorkspaceClientWith(uetest.UserCredentials(uetest.AccessKey, "wrong-secret", ""))
	for range 2 {
		_, err := bad.ListUserEvents(listEventsRequest())
		requireSDKError(t, err, http.StatusUnauthorized)
	}
	_, err := env.WorkspaceClient().ListUserEvents(listEventsRequest())
	se := requireSDKError(t, err, http.StatusUnauthorized)
	if se.ErrorCode != "APIG.0307" {
		t.Errorf("error_code = %q, want APIG.0307", se.ErrorCode)
	}
}

func TestLockoutAfterWrongPasswords(t *testing.T) {
	clock := newTestClock(time.Now())
	env := uetest.Start(t, uetest.Options{NoWorker: true, Now: clock.Now})
	createPasswordUser(t, env.IAMClient(), "mia", "Mia-password-1")

	for range 5 {
		_, err := anonymousIAMv3(env).KeystoneCreateUserTokenByPassword(passwordTokenRequest("mia", "Mia-password-9", uetest.Region))
		requireSDKError(t, err, http.StatusUnauthorized)
	}
	_, err := anonymousIAMv3(env).KeystoneCreateUserTokenByPassword(passwordTokenRequest("mia", "Mia-password-1", uetest.Region))
	se := requireSDKError(t, err, http.StatusUnauthorized)
	if se.ErrorCode != "APIG.0307" {
		t.Errorf("right password while locked: error_code = %q, want APIG.0307", se.ErrorCode)
	}

	clock.Add(5*time.Minute + time.Second)
	issueToken(t, env, "mia", "Mia-password-1", uetest.Region)
}
