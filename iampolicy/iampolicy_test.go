package iampolicy_test

import (
	"bytes"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/userevents/userevents"
	"github.com/userevents/userevents/iampolicy"
	"github.com/userevents/userevents/keyring"
	"github.com/userevents/userevents/sqlite"
)

const (
	accountID = "a2000000000000000000000000000001"
	projectID = "0123456789abcdef0123456789abcdef"
	listURN   = "*"
	streamURN = "lts:cn-north-4:" + accountID + ":logStream:s1"
)

// fixture is a store with one account, one IAM user and an authorizer.
type fixture struct {
	store *sqlite.DB
	authz *iampolicy.Authorizer
	user  *userevents.IAMUser
	alice *userevents.Principal
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	sealer, err := keyring.New(bytes.Repeat([]byte{7}, keyring.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	store, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "db"), sealer, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if err := store.CreateAccount(t.Context(), &userevents.Account{ID: accountID, Name: "acme"}); err != nil {
		t.Fatal(err)
	}
	u := &userevents.IAMUser{User: userevents.User{AccountID: accountID, Name: "alice", Enabled: true}}
	if err := store.CreateIAMUser(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	return &fixture{
		store: store,
		authz: &iampolicy.Authorizer{Policies: store},
		user:  u,
		alice: &userevents.Principal{AccountID: accountID, AccountName: "acme", UserID: u.ID,
			UserName: "alice", SourceIP: "192.0.2.10"},
	}
}

// attach creates a policy with the document and attaches it to alice.
func (f *fixture) attach(t *testing.T, name, document string) *userevents.Policy {
	t.Helper()
	p := &userevents.Policy{AccountID: accountID, Name: name}
	if err := f.store.CreatePolicy(t.Context(), p, document); err != nil {
		t.Fatal(err)
	}
	if err := f.store.AttachUserPolicy(t.Context(), p.ID, f.user.ID); err != nil {
		t.Fatal(err)
	}
	return p
}

// authorize calls Authorize with a CallContext at the time.
func (f *fixture) authorize(t *testing.T, action, resource string, cc userevents.CallContext) error {
	t.Helper()
	ctx := userevents.WithCallContext(t.Context(), cc)
	return f.authz.Authorize(ctx, f.alice, action, resource)
}

func requireAllowed(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("Authorize() = %v, want allowed", err)
	}
}

// requireDenied fails unless err is a DenialError and returns it.
func requireDenied(t *testing.T, err error) *userevents.DenialError {
	t.Helper()
	var d *userevents.DenialError
	if !errors.As(err, &d) {
		t.Fatalf("Authorize() = %v, want a *userevents.DenialError", err)
	}
	if code := userevents.ErrorCode(err); code != userevents.EFORBIDDEN {
		t.Fatalf("error code = %q, want %q", code, userevents.EFORBIDDEN)
	}
	return d
}

func allow(actions ...string) string {
	return `{"Version":"5.0","Statement":[{"Effect":"Allow","Action":["` + strings.Join(actions, `","`) + `"]}]}`
}

var noon = userevents.CallContext{ProjectID: projectID, Time: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)}

func TestRootAllowed(t *testing.T) {
	f := newFixture(t)
	root := &userevents.Principal{AccountID: accountID, UserID: "root", UserName: "acme", Root: true}
	if err := f.authz.Authorize(t.Context(), root, "lts:logStream:get", streamURN); err != nil {
		t.Fatalf("Authorize(root) = %v, want allowed", err)
	}
}

func TestDefaultDeny(t *testing.T) {
	f := newFixture(t)
	d := requireDenied(t, f.authorize(t, "workspace:userEvents:list", listURN, noon))
	if d.Action != "workspace:userEvents:list" || d.Resource != listURN {
		t.Errorf("denial names %s on %s, want workspace:userEvents:list on *", d.Action, d.Resource)
	}
	if d.PolicyName != "" || d.StatementIndex != -1 || d.Sid != "" {
		t.Errorf("default deny names statement %q/%d/%q, want none", d.PolicyName, d.StatementIndex, d.Sid)
	}
	msg := userevents.ErrorMessage(d)
	if !strings.Contains(msg, "workspace:userEvents:list") || !strings.Contains(msg, "alice") {
		t.Errorf("message %q does not name the action and the user", msg)
	}
}

func TestUserPolicyAllows(t *testing.T) {
	f := newFixture(t)
	f.attach(t, "events", allow("workspace:userEvents:*"))
	requireAllowed(t, f.authorize(t, "workspace:userEvents:list", listURN, noon))
	requireDenied(t, f.authorize(t, "lts:logGroup:listLogGroup", listURN, noon))
}

func TestGroupPolicyAllows(t *testing.T) {
	f := newFixture(t)
	g := &userevents.Group{AccountID: accountID, Name: "ops"}
	if err := f.store.CreateGroup(t.Context(), g); err != nil {
		t.Fatal(err)
	}
	p := &userevents.Policy{AccountID: accountID, Name: "lts"}
	if err := f.store.CreatePolicy(t.Context(), p, allow("lts:*")); err != nil {
		t.Fatal(err)
	}
	if err := f.store.AttachGroupPolicy(t.Context(), p.ID, g.ID); err != nil {
		t.Fatal(err)
	}
	requireDenied(t, f.authorize(t, "lts:logStream:get", streamURN, noon))

	if err := f.store.AddUserToGroup(t.Context(), g.ID, f.user.ID); err != nil {
		t.Fatal(err)
	}
	requireAllowed(t, f.authorize(t, "lts:logStream:get", streamURN, noon))

	if err := f.store.RemoveUserFromGroup(t.Context(), g.ID, f.user.ID); err != nil {
		t.Fatal(err)
	}
	requireDenied(t, f.authorize(t, "lts:logStream:get", streamURN, noon))
}

func TestExplicitDenyWins(t *testing.T) {
	f := newFixture(t)
	f.attach(t, "a-all", allow("*"))
	f.attach(t, "b-deny", `{"Version":"5.0","Statement":[
		{"Effect":"Allow","Action":["lts:logGroup:*"]},
		{"Sid":"NoStreams","Effect":"Deny","Action":["lts:logStream:*"]}]}`)

	requireAllowed(t, f.authorize(t, "lts:logGroup:listLogGroup", listURN, noon))
	d := requireDenied(t, f.authorize(t, "lts:logStream:get", streamURN, noon))
	if d.PolicyName != "b-deny" || d.StatementIndex != 1 || d.Sid != "NoStreams" {
		t.Errorf("denial names %q/%d/%q, want b-deny/1/NoStreams", d.PolicyName, d.StatementIndex, d.Sid)
	}
	msg := userevents.ErrorMessage(d)
	if !strings.Contains(msg, `"NoStreams"`) || !strings.Contains(msg, "b-deny") {
		t.Errorf("message %q does not name the deciding statement", msg)
	}
}

func TestResourceMatch(t *testing.T) {
	f := newFixture(t)
	f.attach(t, "one-stream", `{"Version":"5.0","Statement":[{"Effect":"Allow",
		"Action":["lts:logStream:get"],"Resource":["lts:*:`+accountID+`:logStream:s1"]}]}`)
	requireAllowed(t, f.authorize(t, "lts:logStream:get", streamURN, noon))
	requireDenied(t, f.authorize(t, "lts:logStream:get", strings.TrimSuffix(streamURN, "s1")+"s2", noon))
}

func TestConditionKeys(t *testing.T) {
	tests := []struct {
		name      string
		condition string
		cc        userevents.CallContext
		allowed   bool
	}{
		{"user name", `{"StringEquals":{"g:UserName":["alice"]}}`, noon, true},
		{"other user name", `{"StringEquals":{"g:UserName":["bob"]}}`, noon, false},
		{"user id", `{"StringEquals":{"g:UserId":["USERID"]}}`, noon, true},
		{"domain name", `{"StringEquals":{"g:DomainName":["acme"]}}`, noon, true},
		{"domain id", `{"StringEquals":{"g:DomainId":["` + accountID + `"]}}`, noon, true},
		{"principal type", `{"StringEquals":{"g:PrincipalType":["User"]}}`, noon, true},
		{"principal urn", `{"StringEquals":{"g:PrincipalUrn":["iam::` + accountID + `:user:alice"]}}`, noon, true},
		{"source ip in range", `{"IpAddress":{"g:SourceIp":["192.0.2.0/24"]}}`, noon, true},
		{"source ip outside", `{"IpAddress":{"g:SourceIp":["198.51.100.0/24"]}}`, noon, false},
		{"before deadline", `{"DateLessThan":{"g:CurrentTime":["2026-05-01T13:00:00Z"]}}`, noon, true},
		{"after deadline", `{"DateLessThan":{"g:CurrentTime":["2026-05-01T11:00:00Z"]}}`, noon, false},
		{"no mfa", `{"Bool":{"g:MFAPresent":["false"]}}`, noon, true},
		{"mfa required", `{"Bool":{"g:MFAPresent":["true"]}}`, noon, false},
		{"project", `{"StringEquals":{"g:ProjectId":["` + projectID + `"]}}`, noon, true},
		{"project on a global call", `{"StringEquals":{"g:ProjectId":["` + projectID + `"]}}`,
			userevents.CallContext{Time: noon.Time}, false},
		{"extra key", `{"StringEquals":{"iam:PolicyURN":["iam::system:policy:X"]}}`,
			userevents.CallContext{Time: noon.Time, Keys: map[string][]string{"iam:PolicyURN": {"iam::system:policy:X"}}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			condition := strings.ReplaceAll(tt.condition, "USERID", f.user.ID)
			f.attach(t, "conditional", `{"Version":"5.0","Statement":[{"Effect":"Allow",
				"Action":["workspace:userEvents:list"],"Condition":`+condition+`}]}`)
			err := f.authorize(t, "workspace:userEvents:list", listURN, tt.cc)
			if tt.allowed {
				requireAllowed(t, err)
			} else {
				requireDenied(t, err)
			}
		})
	}
}

func TestDefaultVersionChangeApplies(t *testing.T) {
	f := newFixture(t)
	p := f.attach(t, "events", allow("workspace:userEvents:list"))
	requireAllowed(t, f.authorize(t, "workspace:userEvents:list", listURN, noon))

	_, err := f.store.CreatePolicyVersion(t.Context(), p.ID, allow("lts:*"), true)
	if err != nil {
		t.Fatal(err)
	}
	requireDenied(t, f.authorize(t, "workspace:userEvents:list", listURN, noon))
	if err := f.store.SetDefaultPolicyVersion(t.Context(), p.ID, "v1"); err != nil {
		t.Fatal(err)
	}
	requireAllowed(t, f.authorize(t, "workspace:userEvents:list", listURN, noon))
}

func TestCurrentTimeWithoutCallContext(t *testing.T) {
	f := newFixture(t)
	f.authz.Now = func() time.Time { return noon.Time }
	f.attach(t, "until-one", `{"Version":"5.0","Statement":[{"Effect":"Allow","Action":["*"],
		"Condition":{"DateLessThan":{"g:CurrentTime":["2026-05-01T13:00:00Z"]}}}]}`)
	requireAllowed(t, f.authz.Authorize(t.Context(), f.alice, "workspace:userEvents:list", listURN))
	f.authz.Now = func() time.Time { return noon.Time.Add(2 * time.Hour) }
	requireDenied(t, f.authz.Authorize(t.Context(), f.alice, "workspace:userEvents:list", listURN))
}

func TestCorruptDocumentIsInternal(t *testing.T) {
	f := newFixture(t)
	f.attach(t, "corrupt", `{"Version":"1.1","Statement":[]}`)
	err := f.authorize(t, "workspace:userEvents:list", listURN, noon)
	if code := userevents.ErrorCode(err); code != userevents.EINTERNAL {
		t.Fatalf("error code = %q (%v), want %q", code, err, userevents.EINTERNAL)
	}
}
