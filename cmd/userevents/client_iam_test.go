package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/userevents/userevents/uetest"
)

// iamEnv returns a getenv that points the iam commands at env's IAM
// listener with the test root key.
func iamEnv(env *uetest.Env) func(string) string {
	vars := map[string]string{
		"USEREVENTS_IAM_ENDPOINT": env.IAMURL,
		"HUAWEICLOUD_SDK_AK":      uetest.AccessKey,
		"HUAWEICLOUD_SDK_SK":      uetest.SecretKey,
	}
	return func(k string) string { return vars[k] }
}

// runIAMClient runs "userevents iam ARGS…" as the account root and returns
// its standard output.
func runIAMClient(t *testing.T, env *uetest.Env, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := runIAM(args, iamEnv(env), &out, &errOut)
	return out.String(), err
}

// mustIAM runs an iam command that must succeed.
func mustIAM(t *testing.T, env *uetest.Env, args ...string) string {
	t.Helper()
	out, err := runIAMClient(t, env, args...)
	if err != nil {
		t.Fatalf("iam %s: %v", strings.Join(args, " "), err)
	}
	return out
}

// createKeyWithClient creates an access key of user with "iam keys create
// -o json" and returns its id and secret.
func createKeyWithClient(t *testing.T, env *uetest.Env, user string) (ak, sk string) {
	t.Helper()
	out := mustIAM(t, env, "keys", "create", user, "-o", "json")
	var resp struct {
		AccessKey struct {
			AccessKeyID     string `json:"access_key_id"`
			SecretAccessKey string `json:"secret_access_key"`
		} `json:"access_key"`
	}
	if err := json.Unmarshal([]byte(out), &resp); err != nil {
		t.Fatalf("keys create output %q: %v", out, err)
	}
	if resp.AccessKey.AccessKeyID == "" || resp.AccessKey.SecretAccessKey == "" {
		t.Fatalf("keys create output %q lacks the access key or its secret", out)
	}
	return resp.AccessKey.AccessKeyID, resp.AccessKey.SecretAccessKey
}

// listEventsAs runs "events list" with an access key.
func listEventsAs(env *uetest.Env, ak, sk string) error {
	vars := map[string]string{
		"USEREVENTS_ENDPOINT":        env.WorkspaceURL,
		"HUAWEICLOUD_SDK_AK":         ak,
		"HUAWEICLOUD_SDK_SK":         sk,
		"HUAWEICLOUD_SDK_PROJECT_ID": uetest.ProjectID,
	}
	var out, errOut bytes.Buffer
	return runEvents([]string{"list"}, func(k string) string { return vars[k] }, &out, &errOut)
}

// writePolicy writes a policy document that allows the actions and returns
// its path.
func writePolicy(t *testing.T, actions ...string) string {
	t.Helper()
	doc, err := json.Marshal(map[string]any{
		"Version":   "5.0",
		"Statement": []any{map[string]any{"Effect": "Allow", "Action": actions}},
	})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "policy.json")
	if err := os.WriteFile(path, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func requireForbiddenError(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		t.Fatal("events list succeeded, want a 403")
	}
	if !strings.Contains(err.Error(), "403") {
		t.Errorf("error %q does not carry status 403", err)
	}
	if !strings.Contains(err.Error(), "workspace:userEvents:list") {
		t.Errorf("error %q does not name the denied action", err)
	}
}

func TestIAMClientUserPolicyGrantsEvents(t *testing.T) {
	env := uetest.Start(t, uetest.Options{NoWorker: true})
	out := mustIAM(t, env, "users", "create", "carol", "--password", "Carol-password-1", "--description", "auditor")
	if !strings.Contains(out, "carol") || !strings.Contains(out, "auditor") {
		t.Errorf("users create output lacks the user:\n%s", out)
	}
	ak, sk := createKeyWithClient(t, env, "carol")
	requireForbiddenError(t, listEventsAs(env, ak, sk))

	out = mustIAM(t, env, "policies", "create", "events-reader", "--file", writePolicy(t, "workspace:userEvents:list"))
	if !strings.Contains(out, "events-reader") || !strings.Contains(out, "custom") {
		t.Errorf("policies create output lacks the policy:\n%s", out)
	}
	out = mustIAM(t, env, "policies", "attach", "events-reader", "--user", "carol")
	if strings.TrimSpace(out) != "attached policy events-reader to user carol" {
		t.Errorf("policies attach output = %q", out)
	}
	if err := listEventsAs(env, ak, sk); err != nil {
		t.Fatalf("events list with the attached policy: %v", err)
	}

	mustIAM(t, env, "policies", "detach", "events-reader", "--user", "carol")
	requireForbiddenError(t, listEventsAs(env, ak, sk))
}

func TestIAMClientGroupPolicyGrantsEvents(t *testing.T) {
	env := uetest.Start(t, uetest.Options{NoWorker: true})
	mustIAM(t, env, "users", "create", "dave")
	ak, sk := createKeyWithClient(t, env, "dave")
	mustIAM(t, env, "groups", "create", "auditors", "--description", "read events")
	mustIAM(t, env, "groups", "add-user", "auditors", "dave")
	mustIAM(t, env, "policies", "attach", "WorkspaceUserEventsReadOnlyPolicy", "--group", "auditors")
	if err := listEventsAs(env, ak, sk); err != nil {
		t.Fatalf("events list as a member of the group: %v", err)
	}

	mustIAM(t, env, "groups", "remove-user", "auditors", "dave")
	requireForbiddenError(t, listEventsAs(env, ak, sk))

	mustIAM(t, env, "policies", "detach", "WorkspaceUserEventsReadOnlyPolicy", "--group", "auditors")
	out := mustIAM(t, env, "groups", "delete", "auditors")
	if !strings.HasPrefix(out, "deleted group auditors (") {
		t.Errorf("groups delete output = %q", out)
	}
	out = mustIAM(t, env, "groups", "list")
	if strings.Contains(out, "auditors") {
		t.Errorf("groups list still shows the deleted group:\n%s", out)
	}
}

func TestIAMClientUsersAndKeys(t *testing.T) {
	env := uetest.Start(t, uetest.Options{NoWorker: true})
	mustIAM(t, env, "users", "create", "erin")

	var list struct {
		Users []struct {
			UserName string `json:"user_name"`
			UserID   string `json:"user_id"`
			IsRoot   bool   `json:"is_root_user"`
		} `json:"users"`
	}
	out := mustIAM(t, env, "users", "list", "-o", "json")
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("users list -o json = %q: %v", out, err)
	}
	var erinID string
	for _, u := range list.Users {
		if u.UserName == "erin" {
			erinID = u.UserID
		}
	}
	if len(list.Users) != 2 || erinID == "" {
		t.Fatalf("users list = %+v, want the root and erin", list.Users)
	}

	ak, _ := createKeyWithClient(t, env, erinID)
	out = mustIAM(t, env, "keys", "list", "erin")
	if !strings.Contains(out, ak) || !strings.Contains(out, "active") {
		t.Errorf("keys list lacks the active key %s:\n%s", ak, out)
	}
	mustIAM(t, env, "keys", "delete", "erin", ak)
	out = mustIAM(t, env, "keys", "list", "erin", "-o", "json")
	if strings.Contains(out, ak) {
		t.Errorf("keys list still shows the deleted key:\n%s", out)
	}

	out = mustIAM(t, env, "users", "delete", erinID)
	if strings.TrimSpace(out) != "deleted user erin ("+erinID+")" {
		t.Errorf("users delete output = %q", out)
	}
	if _, err := runIAMClient(t, env, "users", "delete", "erin"); err == nil ||
		!strings.Contains(err.Error(), `no user has the name or id "erin"`) {
		t.Errorf("deleting a deleted user: err = %v, want it named as not found", err)
	}
}

func TestIAMClientRejectedPasswordKeepsNoUser(t *testing.T) {
	env := uetest.Start(t, uetest.Options{NoWorker: true})
	_, err := runIAMClient(t, env, "users", "create", "frank", "--password", "short")
	if err == nil || !strings.Contains(err.Error(), "400 IAM.0400") {
		t.Fatalf("err = %v, want the server's 400 IAM.0400", err)
	}
	if !strings.Contains(err.Error(), "deleted again") {
		t.Errorf("err = %v, want it to say the user was deleted again", err)
	}
	if out := mustIAM(t, env, "users", "list"); strings.Contains(out, "frank") {
		t.Errorf("users list shows the user whose password was rejected:\n%s", out)
	}
}

func TestIAMClientServerErrors(t *testing.T) {
	env := uetest.Start(t, uetest.Options{NoWorker: true})
	_, err := runIAMClient(t, env, "users", "create", "1bad")
	if err == nil || !strings.Contains(err.Error(), "400 IAM.0400") || !strings.Contains(err.Error(), "1bad") {
		t.Errorf("invalid name: err = %v, want status, error_code and the error_msg naming the value", err)
	}
	_, err = runIAMClient(t, env, "users", "delete", uetest.AccountName)
	if err == nil || !strings.Contains(err.Error(), "409") {
		t.Errorf("deleting the root: err = %v, want a 409", err)
	}

	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte(`{"Version":`), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = runIAMClient(t, env, "policies", "create", "p", "--file", bad)
	if err == nil || !strings.Contains(err.Error(), "not valid JSON") {
		t.Errorf("truncated policy file: err = %v, want it named invalid JSON", err)
	}
	_, err = runIAMClient(t, env, "policies", "attach", "WorkspaceUserEventsReadOnlyPolicy")
	if err == nil || !strings.Contains(err.Error(), "--user and --group") {
		t.Errorf("attach without a target: err = %v", err)
	}
	_, err = runIAMClient(t, env, "users", "create")
	if err == nil || !strings.Contains(err.Error(), "usage: userevents iam users create NAME") {
		t.Errorf("create without a name: err = %v, want the usage", err)
	}
}

func TestIAMClientIDWinsOverName(t *testing.T) {
	env := uetest.Start(t, uetest.Options{NoWorker: true})
	var created struct {
		Group struct {
			GroupID string `json:"group_id"`
		} `json:"group"`
	}
	out := mustIAM(t, env, "groups", "create", "first", "-o", "json")
	if err := json.Unmarshal([]byte(out), &created); err != nil || created.Group.GroupID == "" {
		t.Fatalf("groups create -o json = %q, %v", out, err)
	}
	firstID := created.Group.GroupID
	mustIAM(t, env, "groups", "create", firstID)

	mustIAM(t, env, "groups", "delete", firstID)
	out = mustIAM(t, env, "groups", "list")
	if strings.Contains(out, "first") || !strings.Contains(out, firstID) {
		t.Errorf("groups delete ID removed the wrong group; left:\n%s", out)
	}
}

func TestIAMClientPolicyTypeFilter(t *testing.T) {
	env := uetest.Start(t, uetest.Options{NoWorker: true})
	mustIAM(t, env, "policies", "create", "mine", "--file", writePolicy(t, "lts:*"))
	out := mustIAM(t, env, "policies", "list", "--type", "custom")
	if !strings.Contains(out, "mine") || strings.Contains(out, "system") {
		t.Errorf("policies list --type custom:\n%s", out)
	}
	out = mustIAM(t, env, "policies", "list", "--type", "system", "-o", "json")
	if strings.Contains(out, `"mine"`) || !strings.Contains(out, "LTSReadOnlyPolicy") {
		t.Errorf("policies list --type system:\n%s", out)
	}
	if _, err := runIAMClient(t, env, "policies", "list", "--type", "managed"); err == nil {
		t.Error("policies list --type managed accepted")
	}

	out = mustIAM(t, env, "policies", "delete", "mine")
	if !strings.HasPrefix(out, "deleted policy mine (") {
		t.Errorf("policies delete output = %q", out)
	}
}

func TestParseInterspersed(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		positional []string
		password   string
	}{
		{"flag after argument", []string{"carol", "--password", "P-1"}, []string{"carol"}, "P-1"},
		{"flag before argument", []string{"--password=P-1", "carol"}, []string{"carol"}, "P-1"},
		{"flag between arguments", []string{"a", "--password", "P-1", "b"}, []string{"a", "b"}, "P-1"},
		{"terminator", []string{"--password", "P-1", "--", "-dash", "--password"}, []string{"-dash", "--password"}, "P-1"},
		{"no arguments", nil, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := flag.NewFlagSet("test", flag.ContinueOnError)
			password := fs.String("password", "", "")
			got, err := parseInterspersed(fs, tt.args)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.positional) {
				t.Errorf("positional = %q, want %q", got, tt.positional)
			}
			if *password != tt.password {
				t.Errorf("password = %q, want %q", *password, tt.password)
			}
		})
	}
}

func TestIAMClientMissingCredentials(t *testing.T) {
	var out, errOut bytes.Buffer
	t.Chdir(t.TempDir())
	err := runIAM([]string{"users", "list"}, func(string) string { return "" }, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "--ak") {
		t.Errorf("err = %v, want it to name the missing access key", err)
	}
	if err != nil && strings.Contains(err.Error(), "--project-id") {
		t.Errorf("err = %v asks for a project id, which IAM calls do not use", err)
	}
}

func TestIAMClientEndpointNeedsScheme(t *testing.T) {
	for _, endpoint := range []string{"127.0.0.1:8082", "localhost:8082", "http://"} {
		vars := map[string]string{
			"USEREVENTS_IAM_ENDPOINT": endpoint,
			"HUAWEICLOUD_SDK_AK":      uetest.AccessKey,
			"HUAWEICLOUD_SDK_SK":      uetest.SecretKey,
		}
		var out, errOut bytes.Buffer
		err := runIAM([]string{"users", "list"}, func(k string) string { return vars[k] }, &out, &errOut)
		if err == nil || !strings.Contains(err.Error(), "--iam-endpoint") {
			t.Errorf("endpoint %q: err = %v, want it rejected as invalid", endpoint, err)
		}
	}
}

func TestIAMClientIDsWithoutListPermission(t *testing.T) {
	env := uetest.Start(t, uetest.Options{NoWorker: true})
	mustIAM(t, env, "users", "create", "uma")
	umaAK, umaSK := createKeyWithClient(t, env, "uma")
	mustIAM(t, env, "policies", "create", "key-admin", "--file",
		writePolicy(t, "iam:credentials:createCredentialV5", "iam:credentials:listCredentialsV5"))
	mustIAM(t, env, "policies", "attach", "key-admin", "--user", "uma")

	var created struct {
		User struct {
			UserID string `json:"user_id"`
		} `json:"user"`
	}
	out := mustIAM(t, env, "users", "create", "vic", "-o", "json")
	if err := json.Unmarshal([]byte(out), &created); err != nil || created.User.UserID == "" {
		t.Fatalf("users create -o json = %q, %v", out, err)
	}

	vars := map[string]string{
		"USEREVENTS_IAM_ENDPOINT": env.IAMURL,
		"HUAWEICLOUD_SDK_AK":      umaAK,
		"HUAWEICLOUD_SDK_SK":      umaSK,
	}
	asUma := func(args ...string) (string, error) {
		var out, errOut bytes.Buffer
		err := runIAM(args, func(k string) string { return vars[k] }, &out, &errOut)
		return out.String(), err
	}
	if _, err := asUma("users", "list"); err == nil || !strings.Contains(err.Error(), "403") {
		t.Fatalf("users list without permission: err = %v, want a 403", err)
	}
	if _, err := asUma("keys", "create", created.User.UserID); err != nil {
		t.Errorf("keys create by id without the list permission: %v", err)
	}
	if _, err := asUma("keys", "create", "vic"); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("keys create by name without the list permission: err = %v, want the server's 404", err)
	}
}
