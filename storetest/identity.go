package storetest

import (
	"testing"

	"github.com/userevents/userevents"
)

var identityCases = []testCase{
	{"CreateAccount/round trip", testAccountRoundTrip},
	{"CreateAccount/name or id taken", testAccountConflict},
	{"CreateProject/round trip and filters", testProjectRoundTrip},
	{"CreateProject/conflicts", testProjectConflict},
	{"CreateProject/unknown account", testProjectUnknownAccount},
	{"CreateUser/round trip", testUserRoundTrip},
	{"CreateUser/name taken in account", testUserConflict},
	{"CreateAccessKey/secret round trip", testAccessKeyRoundTrip},
	{"CreateAccessKey/temporary key", testAccessKeyTemporary},
	{"CreateAccessKey/ak taken", testAccessKeyConflict},
}

const (
	accountID = "a0000000000000000000000000000001"
	userID    = "b0000000000000000000000000000001"
)

func createAccount(t *testing.T, s userevents.Store, id, name string) *userevents.Account {
	t.Helper()
	a := &userevents.Account{ID: id, Name: name, CreatedAt: at(9, 0, 0, 0)}
	requireNoError(t, s.CreateAccount(t.Context(), a), "CreateAccount()")
	return a
}

// createRoot creates the account accountID and its root user userID.
func createRoot(t *testing.T, s userevents.Store) *userevents.User {
	t.Helper()
	createAccount(t, s, accountID, "userevents")
	u := &userevents.User{
		ID: userID, AccountID: accountID, Name: "userevents", Root: true,
		PasswordHash: "$argon2id$v=19$m=65536,t=3,p=2$c2FsdA$aGFzaA", Enabled: true,
		CreatedAt: at(9, 0, 0, 1),
	}
	requireNoError(t, s.CreateUser(t.Context(), u), "CreateUser()")
	return u
}

func testAccountRoundTrip(t *testing.T, s userevents.Store) {
	a := createAccount(t, s, accountID, "userevents")

	byName, err := s.FindAccountByName(t.Context(), "userevents")
	requireNoError(t, err, "FindAccountByName()")
	requireEqual(t, "account by name", *byName, *a)
	byID, err := s.FindAccountByID(t.Context(), accountID)
	requireNoError(t, err, "FindAccountByID()")
	requireEqual(t, "account by id", *byID, *a)

	_, err = s.FindAccountByName(t.Context(), "nobody")
	requireCode(t, err, userevents.ENOTFOUND)
	_, err = s.FindAccountByID(t.Context(), "ffffffffffffffffffffffffffffffff")
	requireCode(t, err, userevents.ENOTFOUND)
}

func testAccountConflict(t *testing.T, s userevents.Store) {
	createAccount(t, s, accountID, "userevents")
	err := s.CreateAccount(t.Context(), &userevents.Account{ID: "a0000000000000000000000000000002", Name: "userevents"})
	requireCode(t, err, userevents.ECONFLICT)
	err = s.CreateAccount(t.Context(), &userevents.Account{ID: accountID, Name: "another"})
	requireCode(t, err, userevents.ECONFLICT)
}

func testProjectRoundTrip(t *testing.T, s userevents.Store) {
	createAccount(t, s, accountID, "one")
	createAccount(t, s, "a0000000000000000000000000000002", "two")
	north := &userevents.Project{ID: projectA, Name: "cn-north-4", AccountID: accountID, CreatedAt: at(9, 0, 0, 0)}
	east := &userevents.Project{ID: projectB, Name: "cn-east-3", AccountID: accountID, CreatedAt: at(9, 0, 1, 0)}
	other := &userevents.Project{
		ID: "c0000000000000000000000000000001", Name: "cn-north-4",
		AccountID: "a0000000000000000000000000000002", CreatedAt: at(9, 0, 2, 0),
	}
	for _, p := range []*userevents.Project{north, east, other} {
		requireNoError(t, s.CreateProject(t.Context(), p), "CreateProject()")
	}

	got, err := s.FindProjectByID(t.Context(), projectA)
	requireNoError(t, err, "FindProjectByID()")
	requireEqual(t, "project", *got, *north)
	_, err = s.FindProjectByID(t.Context(), "ffffffffffffffffffffffffffffffff")
	requireCode(t, err, userevents.ENOTFOUND)

	tests := []struct {
		name   string
		filter userevents.ProjectFilter
		want   []string
	}{
		{"none", userevents.ProjectFilter{}, []string{projectA, projectB, other.ID}},
		{"account", userevents.ProjectFilter{AccountID: accountID}, []string{projectA, projectB}},
		{"name", userevents.ProjectFilter{Name: "cn-north-4"}, []string{projectA, other.ID}},
		{"account and name", userevents.ProjectFilter{AccountID: accountID, Name: "cn-east-3"},
			[]string{projectB}},
		{"id", userevents.ProjectFilter{ID: other.ID}, []string{other.ID}},
		{"no match", userevents.ProjectFilter{Name: "eu-west-0"}, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			projects, err := s.FindProjects(t.Context(), tt.filter)
			requireNoError(t, err, "FindProjects()")
			ids := []string{}
			for _, p := range projects {
				ids = append(ids, p.ID)
			}
			requireEqual(t, "project ids", ids, tt.want)
		})
	}
}

func testProjectConflict(t *testing.T, s userevents.Store) {
	createAccount(t, s, accountID, "one")
	p := &userevents.Project{ID: projectA, Name: "cn-north-4", AccountID: accountID}
	requireNoError(t, s.CreateProject(t.Context(), p), "CreateProject()")

	err := s.CreateProject(t.Context(), &userevents.Project{ID: projectB, Name: "cn-north-4", AccountID: accountID})
	requireCode(t, err, userevents.ECONFLICT)
	err = s.CreateProject(t.Context(), &userevents.Project{ID: projectA, Name: "cn-east-3", AccountID: accountID})
	requireCode(t, err, userevents.ECONFLICT)
}

func testProjectUnknownAccount(t *testing.T, s userevents.Store) {
	err := s.CreateProject(t.Context(), &userevents.Project{ID: projectA, Name: "cn-north-4", AccountID: accountID})
	requireCode(t, err, userevents.ENOTFOUND)
}

func testUserRoundTrip(t *testing.T, s userevents.Store) {
	root := createRoot(t, s)
	plain := &userevents.User{
		ID: "b0000000000000000000000000000002", AccountID: accountID, Name: "ops",
		CreatedAt: at(9, 0, 0, 2),
	}
	requireNoError(t, s.CreateUser(t.Context(), plain), "CreateUser()")

	for _, want := range []*userevents.User{root, plain} {
		byID, err := s.FindUserByID(t.Context(), want.ID)
		requireNoError(t, err, "FindUserByID()")
		requireEqual(t, "user by id", *byID, *want)
		byName, err := s.FindUserByName(t.Context(), accountID, want.Name)
		requireNoError(t, err, "FindUserByName()")
		requireEqual(t, "user by name", *byName, *want)
	}

	_, err := s.FindUserByID(t.Context(), "ffffffffffffffffffffffffffffffff")
	requireCode(t, err, userevents.ENOTFOUND)
	_, err = s.FindUserByName(t.Context(), accountID, "nobody")
	requireCode(t, err, userevents.ENOTFOUND)
	_, err = s.FindUserByName(t.Context(), "a0000000000000000000000000000002", "ops")
	requireCode(t, err, userevents.ENOTFOUND)
}

func testUserConflict(t *testing.T, s userevents.Store) {
	createRoot(t, s)
	err := s.CreateUser(t.Context(), &userevents.User{
		ID: "b0000000000000000000000000000002", AccountID: accountID, Name: "userevents",
	})
	requireCode(t, err, userevents.ECONFLICT)

	createAccount(t, s, "a0000000000000000000000000000002", "two")
	err = s.CreateUser(t.Context(), &userevents.User{
		ID: "b0000000000000000000000000000003", AccountID: "a0000000000000000000000000000002",
		Name: "userevents",
	})
	requireNoError(t, err, "CreateUser() with a name taken in another account")
}

func testAccessKeyRoundTrip(t *testing.T, s userevents.Store) {
	createRoot(t, s)
	k := &userevents.AccessKey{
		ID: "AKTESTEXAMPLE00000001", Secret: "sk-test-000", UserID: userID, AccountID: accountID,
		Enabled: true, CreatedAt: at(9, 0, 0, 3),
	}
	requireNoError(t, s.CreateAccessKey(t.Context(), k), "CreateAccessKey()")

	got, err := s.FindAccessKey(t.Context(), k.ID)
	requireNoError(t, err, "FindAccessKey()")
	requireEqual(t, "secret", string(got.Secret), "sk-test-000")
	requireEqual(t, "access key", *got, *k)

	_, err = s.FindAccessKey(t.Context(), "AKTESTEXAMPLE00000002")
	requireCode(t, err, userevents.ENOTFOUND)
}

func testAccessKeyTemporary(t *testing.T, s userevents.Store) {
	createRoot(t, s)
	k := &userevents.AccessKey{
		ID: "AKTEMPEXAMPLE00000001", Secret: "temporary secret", UserID: userID,
		AccountID: accountID, Enabled: true, SecurityToken: "gQ1jbi1ub3J0aC00...token",
		ExpiresAt: at(12, 0, 0, 0), CreatedAt: at(11, 45, 0, 0),
	}
	requireNoError(t, s.CreateAccessKey(t.Context(), k), "CreateAccessKey()")

	got, err := s.FindAccessKey(t.Context(), k.ID)
	requireNoError(t, err, "FindAccessKey()")
	requireEqual(t, "security token", string(got.SecurityToken), "gQ1jbi1ub3J0aC00...token")
	requireEqual(t, "access key", *got, *k)
}

func testAccessKeyConflict(t *testing.T, s userevents.Store) {
	createRoot(t, s)
	k := &userevents.AccessKey{ID: "AKTESTEXAMPLE00000001", Secret: "one", UserID: userID, AccountID: accountID}
	requireNoError(t, s.CreateAccessKey(t.Context(), k), "CreateAccessKey()")
	dup := &userevents.AccessKey{ID: "AKTESTEXAMPLE00000001", Secret: "two", UserID: userID, AccountID: accountID}
	requireCode(t, s.CreateAccessKey(t.Context(), dup), userevents.ECONFLICT)

	got, err := s.FindAccessKey(t.Context(), k.ID)
	requireNoError(t, err, "FindAccessKey()")
	requireEqual(t, "secret after conflict", string(got.Secret), "one")
}
