package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/userevents/userevents"
)

// RunIAM runs the contract of userevents.IAMStore as subtests. open must
// return a new, empty store for each call and close it when the test ends.
func RunIAM(t *testing.T, open func(t *testing.T) userevents.Store) {
	for _, tc := range iamCases {
		t.Run(tc.name, func(t *testing.T) {
			tc.run(t, open(t))
		})
	}
}

var iamCases = []testCase{
	{"IAMUser/round trip", testIAMUserRoundTrip},
	{"IAMUser/list and group filter", testIAMUserList},
	{"IAMUser/update", testIAMUserUpdate},
	{"IAMUser/delete cascades", testIAMUserDelete},
	{"LoginProfile/lifecycle", testLoginProfile},
	{"LoginProfile/bootstrap password", testLoginProfileBootstrap},
	{"AccessKey/quota and metadata", testUserAccessKeys},
	{"AccessKey/update and delete", testUserAccessKeyUpdate},
	{"AccessKey/temporary keys expire", testTemporaryAccessKeys},
	{"Group/round trip", testIAMGroupRoundTrip},
	{"Group/membership", testIAMGroupMembership},
	{"Group/delete cascades", testIAMGroupDelete},
	{"Policy/round trip", testPolicyRoundTrip},
	{"Policy/other account", testPolicyOtherAccount},
	{"Policy/versions", testPolicyVersions},
	{"Policy/delete", testPolicyDelete},
	{"Policy/filters", testPolicyFilters},
	{"Policy/system policy", testSystemPolicy},
	{"Attachment/user", testAttachUser},
	{"Attachment/group", testAttachGroup},
	{"Attachment/effective through groups", testEffectivePolicies},
	{"Attachment/generations", testAttachmentGenerations},
	{"AuthFailures/lock and expiry", testAuthFailures},
}

// Accounts of the IAM contract tests.
const (
	iamAccount      = "a1000000000000000000000000000001"
	iamOtherAccount = "a1000000000000000000000000000002"
)

// newIAMAccounts creates the two accounts of the IAM tests.
func newIAMAccounts(t *testing.T, s userevents.Store) {
	t.Helper()
	createAccount(t, s, iamAccount, "iam-one")
	createAccount(t, s, iamOtherAccount, "iam-two")
}

// newIAMUser creates an enabled user of the account with no password.
func newIAMUser(t *testing.T, s userevents.Store, accountID, name string) *userevents.IAMUser {
	t.Helper()
	u := &userevents.IAMUser{User: userevents.User{AccountID: accountID, Name: name, Enabled: true}}
	requireNoError(t, s.CreateIAMUser(t.Context(), u), "CreateIAMUser()")
	return u
}

func newIAMGroup(t *testing.T, s userevents.Store, accountID, name string) *userevents.Group {
	t.Helper()
	g := &userevents.Group{AccountID: accountID, Name: name}
	requireNoError(t, s.CreateGroup(t.Context(), g), "CreateGroup()")
	return g
}

func newPolicy(t *testing.T, s userevents.Store, accountID, name string) *userevents.Policy {
	t.Helper()
	p := &userevents.Policy{AccountID: accountID, Name: name}
	requireNoError(t, s.CreatePolicy(t.Context(), p, policyDoc(name+"-v1")), "CreatePolicy()")
	return p
}

// policyDoc returns a distinct valid policy document for a label.
func policyDoc(sid string) string {
	return fmt.Sprintf(`{"Version":"5.0","Statement":[{"Sid":%q,"Effect":"Allow","Action":["lts:*"]}]}`, sid)
}

// generation returns the user's credential generation.
func generation(t *testing.T, s userevents.Store, userID string) int64 {
	t.Helper()
	u, err := s.FindIAMUserByID(t.Context(), userID)
	requireNoError(t, err, "FindIAMUserByID()")
	return u.CredentialGeneration
}

// requireBumped fails unless the user's generation grew since before.
func requireBumped(t *testing.T, s userevents.Store, userID string, before int64, what string) int64 {
	t.Helper()
	after := generation(t, s, userID)
	if after <= before {
		t.Fatalf("credential generation after %s = %d, want more than %d", what, after, before)
	}
	return after
}

func userIDs(users []*userevents.IAMUser) []string {
	ids := []string{}
	for _, u := range users {
		ids = append(ids, u.ID)
	}
	return ids
}

func groupIDs(groups []*userevents.Group) []string {
	ids := []string{}
	for _, g := range groups {
		ids = append(ids, g.ID)
	}
	return ids
}

func attachedNames(attached []*userevents.AttachedPolicy) []string {
	names := []string{}
	for _, a := range attached {
		names = append(names, a.Policy.Name)
	}
	return names
}

func testIAMUserRoundTrip(t *testing.T, s userevents.Store) {
	newIAMAccounts(t, s)
	u := &userevents.IAMUser{
		User:        userevents.User{AccountID: iamAccount, Name: "alice", Enabled: true, CreatedAt: at(9, 0, 0, 1)},
		Description: "operator",
	}
	requireNoError(t, s.CreateIAMUser(t.Context(), u), "CreateIAMUser()")
	if len(u.ID) != 32 {
		t.Fatalf("generated user ID = %q, want 32 hex characters", u.ID)
	}

	got, err := s.FindIAMUserByID(t.Context(), u.ID)
	requireNoError(t, err, "FindIAMUserByID()")
	requireEqual(t, "user", *got, *u)
	plain, err := s.FindUserByID(t.Context(), u.ID)
	requireNoError(t, err, "FindUserByID()")
	requireEqual(t, "user through IdentityStore", *plain, u.User)

	dup := &userevents.IAMUser{User: userevents.User{AccountID: iamAccount, Name: "alice"}}
	requireCode(t, s.CreateIAMUser(t.Context(), dup), userevents.ECONFLICT)
	other := &userevents.IAMUser{User: userevents.User{AccountID: iamOtherAccount, Name: "alice"}}
	requireNoError(t, s.CreateIAMUser(t.Context(), other), "CreateIAMUser() in another account")
	missing := &userevents.IAMUser{User: userevents.User{AccountID: "a1000000000000000000000000000009", Name: "bob"}}
	requireCode(t, s.CreateIAMUser(t.Context(), missing), userevents.ENOTFOUND)

	_, err = s.FindIAMUserByID(t.Context(), "ffffffffffffffffffffffffffffffff")
	requireCode(t, err, userevents.ENOTFOUND)
}

func testIAMUserList(t *testing.T, s userevents.Store) {
	newIAMAccounts(t, s)
	alice := newIAMUser(t, s, iamAccount, "alice")
	bob := newIAMUser(t, s, iamAccount, "bob")
	newIAMUser(t, s, iamOtherAccount, "carol")
	g := newIAMGroup(t, s, iamAccount, "ops")
	requireNoError(t, s.AddUserToGroup(t.Context(), g.ID, bob.ID), "AddUserToGroup()")

	all, err := s.FindIAMUsers(t.Context(), userevents.UserFilter{AccountID: iamAccount})
	requireNoError(t, err, "FindIAMUsers()")
	requireEqual(t, "users of the account", userIDs(all), []string{alice.ID, bob.ID})

	members, err := s.FindIAMUsers(t.Context(), userevents.UserFilter{AccountID: iamAccount, GroupID: g.ID})
	requireNoError(t, err, "FindIAMUsers() by group")
	requireEqual(t, "members", userIDs(members), []string{bob.ID})

	none, err := s.FindIAMUsers(t.Context(), userevents.UserFilter{AccountID: "a1000000000000000000000000000009"})
	requireNoError(t, err, "FindIAMUsers() of an unknown account")
	requireEqual(t, "users of an unknown account", userIDs(none), []string{})
}

func testIAMUserUpdate(t *testing.T, s userevents.Store) {
	newIAMAccounts(t, s)
	alice := newIAMUser(t, s, iamAccount, "alice")
	newIAMUser(t, s, iamAccount, "bob")

	name, desc := "alice2", "renamed"
	got, err := s.UpdateUser(t.Context(), alice.ID, userevents.UserUpdate{Name: &name, Description: &desc})
	requireNoError(t, err, "UpdateUser()")
	requireEqual(t, "name", got.Name, "alice2")
	requireEqual(t, "description", got.Description, "renamed")
	requireEqual(t, "generation after rename", got.CredentialGeneration, alice.CredentialGeneration)

	disabled := false
	got, err = s.UpdateUser(t.Context(), alice.ID, userevents.UserUpdate{Enabled: &disabled})
	requireNoError(t, err, "UpdateUser() disable")
	requireEqual(t, "enabled", got.Enabled, false)
	requireBumped(t, s, alice.ID, alice.CredentialGeneration, "disabling")
	stored, err := s.FindIAMUserByID(t.Context(), alice.ID)
	requireNoError(t, err, "FindIAMUserByID()")
	requireEqual(t, "stored user", *stored, *got)

	taken := "bob"
	_, err = s.UpdateUser(t.Context(), alice.ID, userevents.UserUpdate{Name: &taken})
	requireCode(t, err, userevents.ECONFLICT)
	_, err = s.UpdateUser(t.Context(), "ffffffffffffffffffffffffffffffff", userevents.UserUpdate{Name: &name})
	requireCode(t, err, userevents.ENOTFOUND)
}

func testIAMUserDelete(t *testing.T, s userevents.Store) {
	newIAMAccounts(t, s)
	alice := newIAMUser(t, s, iamAccount, "alice")
	g := newIAMGroup(t, s, iamAccount, "ops")
	p := newPolicy(t, s, iamAccount, "read")
	key := &userevents.AccessKey{ID: "AKIAMDELETE000000001", Secret: "sk", UserID: alice.ID, AccountID: iamAccount, Enabled: true}
	requireNoError(t, s.CreateUserAccessKey(t.Context(), key), "CreateUserAccessKey()")
	requireNoError(t, s.AddUserToGroup(t.Context(), g.ID, alice.ID), "AddUserToGroup()")
	requireNoError(t, s.AttachUserPolicy(t.Context(), p.ID, alice.ID), "AttachUserPolicy()")

	requireNoError(t, s.DeleteUser(t.Context(), alice.ID), "DeleteUser()")
	_, err := s.FindIAMUserByID(t.Context(), alice.ID)
	requireCode(t, err, userevents.ENOTFOUND)
	_, err = s.FindAccessKey(t.Context(), key.ID)
	requireCode(t, err, userevents.ENOTFOUND)
	members, err := s.FindIAMUsers(t.Context(), userevents.UserFilter{AccountID: iamAccount, GroupID: g.ID})
	requireNoError(t, err, "FindIAMUsers()")
	requireEqual(t, "members after delete", userIDs(members), []string{})
	attachments, err := s.FindPolicyAttachments(t.Context(), iamAccount, p.ID)
	requireNoError(t, err, "FindPolicyAttachments()")
	requireEqual(t, "attachments after delete", len(attachments), 0)
	requireNoError(t, s.DeletePolicy(t.Context(), p.ID), "DeletePolicy() after its user is gone")

	requireCode(t, s.DeleteUser(t.Context(), alice.ID), userevents.ENOTFOUND)
}

func testLoginProfile(t *testing.T, s userevents.Store) {
	newIAMAccounts(t, s)
	alice := newIAMUser(t, s, iamAccount, "alice")
	_, err := s.FindLoginProfile(t.Context(), alice.ID)
	requireCode(t, err, userevents.ENOTFOUND)

	p := &userevents.LoginProfile{UserID: alice.ID, PasswordHash: "hash-1", PasswordResetRequired: true, CreatedAt: at(10, 0, 0, 0)}
	requireNoError(t, s.CreateLoginProfile(t.Context(), p), "CreateLoginProfile()")
	got, err := s.FindLoginProfile(t.Context(), alice.ID)
	requireNoError(t, err, "FindLoginProfile()")
	requireEqual(t, "login profile", *got, *p)
	u, err := s.FindUserByID(t.Context(), alice.ID)
	requireNoError(t, err, "FindUserByID()")
	requireEqual(t, "password hash on the user", u.PasswordHash, "hash-1")
	requireCode(t, s.CreateLoginProfile(t.Context(), p), userevents.ECONFLICT)

	gen := generation(t, s, alice.ID)
	reset := false
	got, err = s.UpdateLoginProfile(t.Context(), alice.ID, userevents.LoginProfileUpdate{PasswordResetRequired: &reset})
	requireNoError(t, err, "UpdateLoginProfile() reset flag")
	requireEqual(t, "reset flag", got.PasswordResetRequired, false)
	requireEqual(t, "generation after the reset flag", generation(t, s, alice.ID), gen)

	hash := "hash-2"
	got, err = s.UpdateLoginProfile(t.Context(), alice.ID, userevents.LoginProfileUpdate{PasswordHash: &hash})
	requireNoError(t, err, "UpdateLoginProfile() password")
	requireEqual(t, "new hash", got.PasswordHash, "hash-2")
	requireEqual(t, "created at after update", got.CreatedAt, p.CreatedAt)
	gen = requireBumped(t, s, alice.ID, gen, "a password change")

	requireNoError(t, s.DeleteLoginProfile(t.Context(), alice.ID), "DeleteLoginProfile()")
	requireBumped(t, s, alice.ID, gen, "deleting the password")
	_, err = s.FindLoginProfile(t.Context(), alice.ID)
	requireCode(t, err, userevents.ENOTFOUND)
	requireCode(t, s.DeleteLoginProfile(t.Context(), alice.ID), userevents.ENOTFOUND)
	_, err = s.UpdateLoginProfile(t.Context(), alice.ID, userevents.LoginProfileUpdate{PasswordHash: &hash})
	requireCode(t, err, userevents.ENOTFOUND)

	missing := &userevents.LoginProfile{UserID: "ffffffffffffffffffffffffffffffff", PasswordHash: "h"}
	requireCode(t, s.CreateLoginProfile(t.Context(), missing), userevents.ENOTFOUND)
}

func testLoginProfileBootstrap(t *testing.T, s userevents.Store) {
	newIAMAccounts(t, s)
	root := &userevents.User{ID: "b1000000000000000000000000000001", AccountID: iamAccount, Name: "iam-one",
		Root: true, PasswordHash: "bootstrap-hash", Enabled: true, CreatedAt: at(8, 0, 0, 0)}
	requireNoError(t, s.CreateUser(t.Context(), root), "CreateUser()")

	got, err := s.FindLoginProfile(t.Context(), root.ID)
	requireNoError(t, err, "FindLoginProfile()")
	requireEqual(t, "hash", got.PasswordHash, "bootstrap-hash")
	requireTimeEqual(t, "created at", got.CreatedAt, root.CreatedAt)
	u, err := s.FindIAMUserByID(t.Context(), root.ID)
	requireNoError(t, err, "FindIAMUserByID()")
	requireEqual(t, "generation of a new user", u.CredentialGeneration, int64(0))
}

func testUserAccessKeys(t *testing.T, s userevents.Store) {
	newIAMAccounts(t, s)
	alice := newIAMUser(t, s, iamAccount, "alice")
	for i := range userevents.MaxAccessKeysPerUser {
		k := &userevents.AccessKey{ID: fmt.Sprintf("AKIAMQUOTA00000000%02d", i), Secret: "sk", UserID: alice.ID,
			AccountID: iamAccount, Enabled: true, CreatedAt: at(9, 0, i, 0)}
		requireNoError(t, s.CreateUserAccessKey(t.Context(), k), "CreateUserAccessKey()")
	}
	extra := &userevents.AccessKey{ID: "AKIAMQUOTA0000000099", Secret: "sk", UserID: alice.ID, AccountID: iamAccount, Enabled: true}
	requireCode(t, s.CreateUserAccessKey(t.Context(), extra), userevents.EQUOTA)

	temp := &userevents.AccessKey{ID: "AKIAMTEMP00000000001", Secret: "sk", UserID: alice.ID, AccountID: iamAccount,
		Enabled: true, SecurityToken: "token", ExpiresAt: time.Now().Add(time.Hour)}
	requireNoError(t, s.CreateTemporaryAccessKey(t.Context(), temp), "CreateTemporaryAccessKey() past the permanent quota")

	keys, err := s.FindAccessKeys(t.Context(), alice.ID)
	requireNoError(t, err, "FindAccessKeys()")
	if len(keys) != userevents.MaxAccessKeysPerUser {
		t.Fatalf("FindAccessKeys() returned %d keys, want the %d permanent ones", len(keys), userevents.MaxAccessKeysPerUser)
	}
	for i, k := range keys {
		requireEqual(t, "key id", k.ID, fmt.Sprintf("AKIAMQUOTA00000000%02d", i))
		requireEqual(t, "secret of a listed key", string(k.Secret), "")
		requireEqual(t, "user", k.UserID, alice.ID)
		requireTimeEqual(t, "created at", k.CreatedAt, at(9, 0, i, 0))
	}
	full, err := s.FindAccessKey(t.Context(), keys[0].ID)
	requireNoError(t, err, "FindAccessKey()")
	requireEqual(t, "secret", string(full.Secret), "sk")

	dup := &userevents.AccessKey{ID: keys[0].ID, Secret: "sk", UserID: newIAMUser(t, s, iamAccount, "bob").ID, AccountID: iamAccount}
	requireCode(t, s.CreateUserAccessKey(t.Context(), dup), userevents.ECONFLICT)
	orphan := &userevents.AccessKey{ID: "AKIAMORPHAN000000001", Secret: "sk", UserID: "ffffffffffffffffffffffffffffffff", AccountID: iamAccount}
	requireCode(t, s.CreateUserAccessKey(t.Context(), orphan), userevents.ENOTFOUND)
}

func testUserAccessKeyUpdate(t *testing.T, s userevents.Store) {
	newIAMAccounts(t, s)
	alice := newIAMUser(t, s, iamAccount, "alice")
	k := &userevents.AccessKey{ID: "AKIAMUPDATE000000001", Secret: "sk", UserID: alice.ID, AccountID: iamAccount, Enabled: true}
	requireNoError(t, s.CreateUserAccessKey(t.Context(), k), "CreateUserAccessKey()")
	gen := generation(t, s, alice.ID)

	got, err := s.UpdateAccessKey(t.Context(), k.ID, false)
	requireNoError(t, err, "UpdateAccessKey()")
	requireEqual(t, "enabled", got.Enabled, false)
	requireEqual(t, "secret", string(got.Secret), "")
	gen = requireBumped(t, s, alice.ID, gen, "disabling a key")
	full, err := s.FindAccessKey(t.Context(), k.ID)
	requireNoError(t, err, "FindAccessKey()")
	requireEqual(t, "stored enabled", full.Enabled, false)

	requireNoError(t, s.DeleteAccessKey(t.Context(), k.ID), "DeleteAccessKey()")
	requireBumped(t, s, alice.ID, gen, "deleting a key")
	_, err = s.FindAccessKey(t.Context(), k.ID)
	requireCode(t, err, userevents.ENOTFOUND)
	requireCode(t, s.DeleteAccessKey(t.Context(), k.ID), userevents.ENOTFOUND)
	_, err = s.UpdateAccessKey(t.Context(), k.ID, true)
	requireCode(t, err, userevents.ENOTFOUND)
}

func testTemporaryAccessKeys(t *testing.T, s userevents.Store) {
	newIAMAccounts(t, s)
	alice := newIAMUser(t, s, iamAccount, "alice")
	expired := &userevents.AccessKey{ID: "AKIAMTEMP00000000001", Secret: "sk", UserID: alice.ID, AccountID: iamAccount,
		Enabled: true, SecurityToken: "t1", ExpiresAt: time.Now().Add(-time.Minute)}
	requireNoError(t, s.CreateTemporaryAccessKey(t.Context(), expired), "CreateTemporaryAccessKey() expired")
	live := &userevents.AccessKey{ID: "AKIAMTEMP00000000002", Secret: "sk", UserID: alice.ID, AccountID: iamAccount,
		Enabled: true, SecurityToken: "t2", ExpiresAt: time.Now().Add(time.Hour)}
	requireNoError(t, s.CreateTemporaryAccessKey(t.Context(), live), "CreateTemporaryAccessKey()")

	_, err := s.FindAccessKey(t.Context(), expired.ID)
	requireCode(t, err, userevents.ENOTFOUND)
	got, err := s.FindAccessKey(t.Context(), live.ID)
	requireNoError(t, err, "FindAccessKey()")
	requireEqual(t, "security token", string(got.SecurityToken), "t2")

	permanent := &userevents.AccessKey{ID: "AKIAMTEMP00000000003", Secret: "sk", UserID: alice.ID, AccountID: iamAccount}
	if err := s.CreateTemporaryAccessKey(t.Context(), permanent); err == nil {
		t.Fatal("CreateTemporaryAccessKey() without a token and expiry succeeded, want an error")
	}
	if err := s.CreateUserAccessKey(t.Context(), live); err == nil {
		t.Fatal("CreateUserAccessKey() with a security token succeeded, want an error")
	}
}

func testIAMGroupRoundTrip(t *testing.T, s userevents.Store) {
	newIAMAccounts(t, s)
	g := &userevents.Group{AccountID: iamAccount, Name: "ops", Description: "operators", CreatedAt: at(9, 0, 0, 0)}
	requireNoError(t, s.CreateGroup(t.Context(), g), "CreateGroup()")
	got, err := s.FindGroupByID(t.Context(), g.ID)
	requireNoError(t, err, "FindGroupByID()")
	requireEqual(t, "group", *got, *g)

	requireCode(t, s.CreateGroup(t.Context(), &userevents.Group{AccountID: iamAccount, Name: "ops"}), userevents.ECONFLICT)
	requireNoError(t, s.CreateGroup(t.Context(), &userevents.Group{AccountID: iamOtherAccount, Name: "ops"}),
		"CreateGroup() in another account")
	requireCode(t, s.CreateGroup(t.Context(), &userevents.Group{AccountID: "a1000000000000000000000000000009", Name: "x"}),
		userevents.ENOTFOUND)
	dev := newIAMGroup(t, s, iamAccount, "dev")

	groups, err := s.FindGroups(t.Context(), userevents.GroupFilter{AccountID: iamAccount})
	requireNoError(t, err, "FindGroups()")
	requireEqual(t, "groups", groupIDs(groups), []string{g.ID, dev.ID})

	name, desc := "operators", ""
	got, err = s.UpdateGroup(t.Context(), g.ID, userevents.GroupUpdate{Name: &name, Description: &desc})
	requireNoError(t, err, "UpdateGroup()")
	requireEqual(t, "updated name", got.Name, "operators")
	requireEqual(t, "updated description", got.Description, "")
	taken := "dev"
	_, err = s.UpdateGroup(t.Context(), g.ID, userevents.GroupUpdate{Name: &taken})
	requireCode(t, err, userevents.ECONFLICT)
	_, err = s.UpdateGroup(t.Context(), "ffffffffffffffffffffffffffffffff", userevents.GroupUpdate{Name: &name})
	requireCode(t, err, userevents.ENOTFOUND)
	_, err = s.FindGroupByID(t.Context(), "ffffffffffffffffffffffffffffffff")
	requireCode(t, err, userevents.ENOTFOUND)
}

func testIAMGroupMembership(t *testing.T, s userevents.Store) {
	newIAMAccounts(t, s)
	alice := newIAMUser(t, s, iamAccount, "alice")
	ops := newIAMGroup(t, s, iamAccount, "ops")
	dev := newIAMGroup(t, s, iamAccount, "dev")
	gen := generation(t, s, alice.ID)

	requireNoError(t, s.AddUserToGroup(t.Context(), ops.ID, alice.ID), "AddUserToGroup()")
	gen = requireBumped(t, s, alice.ID, gen, "joining a group")
	requireNoError(t, s.AddUserToGroup(t.Context(), ops.ID, alice.ID), "AddUserToGroup() again")
	requireEqual(t, "generation after joining again", generation(t, s, alice.ID), gen)
	requireNoError(t, s.AddUserToGroup(t.Context(), dev.ID, alice.ID), "AddUserToGroup() second group")
	gen = generation(t, s, alice.ID)

	groups, err := s.FindGroups(t.Context(), userevents.GroupFilter{AccountID: iamAccount, UserID: alice.ID})
	requireNoError(t, err, "FindGroups() of a user")
	requireEqual(t, "groups of the user", groupIDs(groups), []string{ops.ID, dev.ID})

	requireNoError(t, s.RemoveUserFromGroup(t.Context(), ops.ID, alice.ID), "RemoveUserFromGroup()")
	requireBumped(t, s, alice.ID, gen, "leaving a group")
	requireCode(t, s.RemoveUserFromGroup(t.Context(), ops.ID, alice.ID), userevents.ENOTFOUND)
	requireCode(t, s.AddUserToGroup(t.Context(), ops.ID, "ffffffffffffffffffffffffffffffff"), userevents.ENOTFOUND)
	requireCode(t, s.AddUserToGroup(t.Context(), "ffffffffffffffffffffffffffffffff", alice.ID), userevents.ENOTFOUND)
}

func testIAMGroupDelete(t *testing.T, s userevents.Store) {
	newIAMAccounts(t, s)
	alice := newIAMUser(t, s, iamAccount, "alice")
	ops := newIAMGroup(t, s, iamAccount, "ops")
	p := newPolicy(t, s, iamAccount, "read")
	requireNoError(t, s.AddUserToGroup(t.Context(), ops.ID, alice.ID), "AddUserToGroup()")
	requireNoError(t, s.AttachGroupPolicy(t.Context(), p.ID, ops.ID), "AttachGroupPolicy()")
	gen := generation(t, s, alice.ID)

	requireNoError(t, s.DeleteGroup(t.Context(), ops.ID), "DeleteGroup()")
	requireBumped(t, s, alice.ID, gen, "deleting the user's group")
	groups, err := s.FindGroups(t.Context(), userevents.GroupFilter{AccountID: iamAccount, UserID: alice.ID})
	requireNoError(t, err, "FindGroups()")
	requireEqual(t, "groups after delete", groupIDs(groups), []string{})
	effective, err := s.FindEffectivePolicies(t.Context(), alice.ID)
	requireNoError(t, err, "FindEffectivePolicies()")
	requireEqual(t, "effective policies after delete", len(effective), 0)
	requireCode(t, s.DeleteGroup(t.Context(), ops.ID), userevents.ENOTFOUND)
}

func testPolicyRoundTrip(t *testing.T, s userevents.Store) {
	newIAMAccounts(t, s)
	p := &userevents.Policy{AccountID: iamAccount, Name: "lts-read", Path: "team/ops/", Description: "read LTS",
		CreatedAt: at(9, 0, 0, 0)}
	requireNoError(t, s.CreatePolicy(t.Context(), p, policyDoc("one")), "CreatePolicy()")
	want := userevents.Policy{ID: p.ID, AccountID: iamAccount, Type: userevents.PolicyTypeCustom, Name: "lts-read",
		Path: "team/ops/", Description: "read LTS", DefaultVersionID: "v1", CreatedAt: at(9, 0, 0, 0),
		UpdatedAt: at(9, 0, 0, 0)}
	requireEqual(t, "created policy", *p, want)

	got, err := s.FindPolicyByID(t.Context(), iamAccount, p.ID)
	requireNoError(t, err, "FindPolicyByID()")
	requireEqual(t, "policy", *got, want)
	v, err := s.FindPolicyVersion(t.Context(), p.ID, "v1")
	requireNoError(t, err, "FindPolicyVersion()")
	requireEqual(t, "v1 document", v.Document, policyDoc("one"))
	requireEqual(t, "v1 default", v.Default, true)

	dup := &userevents.Policy{AccountID: iamAccount, Name: "lts-read"}
	requireCode(t, s.CreatePolicy(t.Context(), dup, policyDoc("two")), userevents.ECONFLICT)
	missing := &userevents.Policy{AccountID: "a1000000000000000000000000000009", Name: "x"}
	requireCode(t, s.CreatePolicy(t.Context(), missing, policyDoc("x")), userevents.ENOTFOUND)
	_, err = s.FindPolicyByID(t.Context(), iamAccount, "ffffffffffffffffffffffffffffffff")
	requireCode(t, err, userevents.ENOTFOUND)
}

func testPolicyOtherAccount(t *testing.T, s userevents.Store) {
	newIAMAccounts(t, s)
	p := newPolicy(t, s, iamAccount, "read")
	_, err := s.FindPolicyByID(t.Context(), iamOtherAccount, p.ID)
	requireCode(t, err, userevents.ENOTFOUND)
	policies, err := s.FindPolicies(t.Context(), userevents.PolicyFilter{AccountID: iamOtherAccount})
	requireNoError(t, err, "FindPolicies()")
	requireEqual(t, "policies of the other account", len(policies), 0)
	requireNoError(t, s.CreatePolicy(t.Context(), &userevents.Policy{AccountID: iamOtherAccount, Name: "read"}, policyDoc("x")),
		"CreatePolicy() with a name taken in another account")
}

func testPolicyVersions(t *testing.T, s userevents.Store) {
	newIAMAccounts(t, s)
	p := newPolicy(t, s, iamAccount, "read")
	for i := 2; i <= userevents.MaxPolicyVersions; i++ {
		v, err := s.CreatePolicyVersion(t.Context(), p.ID, policyDoc(fmt.Sprint(i)), false)
		requireNoError(t, err, "CreatePolicyVersion()")
		requireEqual(t, "version id", v.ID, fmt.Sprintf("v%d", i))
		requireEqual(t, "default", v.Default, false)
	}
	_, err := s.CreatePolicyVersion(t.Context(), p.ID, policyDoc("extra"), false)
	requireCode(t, err, userevents.EQUOTA)

	requireCode(t, s.DeletePolicyVersion(t.Context(), p.ID, "v1"), userevents.ECONFLICT)
	requireNoError(t, s.SetDefaultPolicyVersion(t.Context(), p.ID, "v3"), "SetDefaultPolicyVersion()")
	requireNoError(t, s.SetDefaultPolicyVersion(t.Context(), p.ID, "v3"), "SetDefaultPolicyVersion() again")
	requireNoError(t, s.DeletePolicyVersion(t.Context(), p.ID, "v1"), "DeletePolicyVersion()")
	requireCode(t, s.DeletePolicyVersion(t.Context(), p.ID, "v1"), userevents.ENOTFOUND)

	v, err := s.CreatePolicyVersion(t.Context(), p.ID, policyDoc("six"), true)
	requireNoError(t, err, "CreatePolicyVersion() after a delete")
	requireEqual(t, "id after a delete", v.ID, "v6")
	requireEqual(t, "default", v.Default, true)

	versions, err := s.FindPolicyVersions(t.Context(), p.ID)
	requireNoError(t, err, "FindPolicyVersions()")
	var ids []string
	var defaults []string
	for _, v := range versions {
		ids = append(ids, v.ID)
		if v.Default {
			defaults = append(defaults, v.ID)
		}
	}
	requireEqual(t, "version ids", ids, []string{"v2", "v3", "v4", "v5", "v6"})
	requireEqual(t, "default versions", defaults, []string{"v6"})
	got, err := s.FindPolicyByID(t.Context(), iamAccount, p.ID)
	requireNoError(t, err, "FindPolicyByID()")
	requireEqual(t, "default version id", got.DefaultVersionID, "v6")

	for _, id := range []string{"v0", "v01", "1", "vx", "v99"} {
		_, err = s.FindPolicyVersion(t.Context(), p.ID, id)
		requireCode(t, err, userevents.ENOTFOUND)
		requireCode(t, s.SetDefaultPolicyVersion(t.Context(), p.ID, id), userevents.ENOTFOUND)
	}
	_, err = s.FindPolicyVersions(t.Context(), "ffffffffffffffffffffffffffffffff")
	requireCode(t, err, userevents.ENOTFOUND)
	_, err = s.CreatePolicyVersion(t.Context(), "ffffffffffffffffffffffffffffffff", policyDoc("x"), true)
	requireCode(t, err, userevents.ENOTFOUND)
}

func testPolicyDelete(t *testing.T, s userevents.Store) {
	newIAMAccounts(t, s)
	p := newPolicy(t, s, iamAccount, "read")
	alice := newIAMUser(t, s, iamAccount, "alice")
	requireNoError(t, s.AttachUserPolicy(t.Context(), p.ID, alice.ID), "AttachUserPolicy()")
	requireCode(t, s.DeletePolicy(t.Context(), p.ID), userevents.ECONFLICT)

	requireNoError(t, s.DetachUserPolicy(t.Context(), p.ID, alice.ID), "DetachUserPolicy()")
	requireNoError(t, s.DeletePolicy(t.Context(), p.ID), "DeletePolicy()")
	_, err := s.FindPolicyByID(t.Context(), iamAccount, p.ID)
	requireCode(t, err, userevents.ENOTFOUND)
	_, err = s.FindPolicyVersions(t.Context(), p.ID)
	requireCode(t, err, userevents.ENOTFOUND)
	requireCode(t, s.DeletePolicy(t.Context(), p.ID), userevents.ENOTFOUND)

	system, err := s.PutSystemPolicy(t.Context(), "TestFullPolicy", "", policyDoc("system"))
	requireNoError(t, err, "PutSystemPolicy()")
	requireCode(t, s.DeletePolicy(t.Context(), system.ID), userevents.ENOTFOUND)
}

func testPolicyFilters(t *testing.T, s userevents.Store) {
	newIAMAccounts(t, s)
	system, err := s.PutSystemPolicy(t.Context(), "TestReadOnlyPolicy", "read only", policyDoc("system"))
	requireNoError(t, err, "PutSystemPolicy()")
	ops := &userevents.Policy{AccountID: iamAccount, Name: "ops", Path: "team/ops/"}
	requireNoError(t, s.CreatePolicy(t.Context(), ops, policyDoc("ops")), "CreatePolicy()")
	dev := &userevents.Policy{AccountID: iamAccount, Name: "dev", Path: "team/dev/"}
	requireNoError(t, s.CreatePolicy(t.Context(), dev, policyDoc("dev")), "CreatePolicy()")
	alice := newIAMUser(t, s, iamAccount, "alice")
	requireNoError(t, s.AttachUserPolicy(t.Context(), dev.ID, alice.ID), "AttachUserPolicy()")
	carol := newIAMUser(t, s, iamOtherAccount, "carol")
	requireNoError(t, s.AttachUserPolicy(t.Context(), system.ID, carol.ID), "AttachUserPolicy() system")

	names := func(filter userevents.PolicyFilter) []string {
		t.Helper()
		filter.AccountID = iamAccount
		policies, err := s.FindPolicies(t.Context(), filter)
		requireNoError(t, err, "FindPolicies()")
		out := []string{}
		for _, p := range policies {
			out = append(out, fmt.Sprintf("%s:%d", p.Name, p.AttachmentCount))
		}
		return out
	}
	requireEqual(t, "all", names(userevents.PolicyFilter{}), []string{"TestReadOnlyPolicy:0", "ops:0", "dev:1"})
	requireEqual(t, "custom", names(userevents.PolicyFilter{Type: userevents.PolicyTypeCustom}), []string{"ops:0", "dev:1"})
	requireEqual(t, "system", names(userevents.PolicyFilter{Type: userevents.PolicyTypeSystem}), []string{"TestReadOnlyPolicy:0"})
	requireEqual(t, "path prefix", names(userevents.PolicyFilter{PathPrefix: "team/o"}), []string{"ops:0"})
	requireEqual(t, "only attached", names(userevents.PolicyFilter{OnlyAttached: true}), []string{"dev:1"})

	other, err := s.FindPolicyByID(t.Context(), iamOtherAccount, system.ID)
	requireNoError(t, err, "FindPolicyByID() system policy")
	requireEqual(t, "attachments of the system policy in the other account", other.AttachmentCount, 1)
}

func testSystemPolicy(t *testing.T, s userevents.Store) {
	newIAMAccounts(t, s)
	p, err := s.PutSystemPolicy(t.Context(), "TestFullPolicy", "all", policyDoc("v1"))
	requireNoError(t, err, "PutSystemPolicy()")
	requireEqual(t, "type", p.Type, userevents.PolicyTypeSystem)
	requireEqual(t, "account", p.AccountID, "")
	requireEqual(t, "default version", p.DefaultVersionID, "v1")

	again, err := s.PutSystemPolicy(t.Context(), "TestFullPolicy", "all of it", policyDoc("v1"))
	requireNoError(t, err, "PutSystemPolicy() unchanged")
	requireEqual(t, "stable id", again.ID, p.ID)
	requireEqual(t, "version after an unchanged put", again.DefaultVersionID, "v1")
	requireEqual(t, "description", again.Description, "all of it")

	alice := newIAMUser(t, s, iamAccount, "alice")
	requireNoError(t, s.AttachUserPolicy(t.Context(), p.ID, alice.ID), "AttachUserPolicy()")
	gen := generation(t, s, alice.ID)
	for i := 2; i <= userevents.MaxPolicyVersions+2; i++ {
		_, err = s.PutSystemPolicy(t.Context(), "TestFullPolicy", "all", policyDoc(fmt.Sprint(i)))
		requireNoError(t, err, "PutSystemPolicy() changed")
	}
	requireBumped(t, s, alice.ID, gen, "changing an attached system policy")
	versions, err := s.FindPolicyVersions(t.Context(), p.ID)
	requireNoError(t, err, "FindPolicyVersions()")
	requireEqual(t, "versions kept", len(versions), userevents.MaxPolicyVersions)
	effective, err := s.FindEffectivePolicies(t.Context(), alice.ID)
	requireNoError(t, err, "FindEffectivePolicies()")
	requireEqual(t, "effective version", effective[0].VersionID, fmt.Sprintf("v%d", userevents.MaxPolicyVersions+2))

	for _, account := range []string{iamAccount, iamOtherAccount} {
		got, err := s.FindPolicyByID(t.Context(), account, p.ID)
		requireNoError(t, err, "FindPolicyByID() of a system policy")
		requireEqual(t, "name", got.Name, "TestFullPolicy")
	}
}

func testAttachUser(t *testing.T, s userevents.Store) {
	newIAMAccounts(t, s)
	alice := newIAMUser(t, s, iamAccount, "alice")
	read := newPolicy(t, s, iamAccount, "read")
	write := newPolicy(t, s, iamAccount, "write")

	requireNoError(t, s.AttachUserPolicy(t.Context(), write.ID, alice.ID), "AttachUserPolicy()")
	requireNoError(t, s.AttachUserPolicy(t.Context(), read.ID, alice.ID), "AttachUserPolicy()")
	requireNoError(t, s.AttachUserPolicy(t.Context(), read.ID, alice.ID), "AttachUserPolicy() again")

	attached, err := s.FindAttachedPolicies(t.Context(), userevents.EntityUser, alice.ID)
	requireNoError(t, err, "FindAttachedPolicies()")
	requireEqual(t, "attached", attachedNames(attached), []string{"write", "read"})
	requireEqual(t, "attachment count", attached[0].Policy.AttachmentCount, 1)
	if attached[0].AttachedAt.IsZero() {
		t.Fatal("AttachedAt is zero")
	}

	entities, err := s.FindPolicyAttachments(t.Context(), iamAccount, read.ID)
	requireNoError(t, err, "FindPolicyAttachments()")
	requireEqual(t, "entities", len(entities), 1)
	requireEqual(t, "entity", [2]string{entities[0].EntityType, entities[0].EntityID},
		[2]string{userevents.EntityUser, alice.ID})
	other, err := s.FindPolicyAttachments(t.Context(), iamOtherAccount, read.ID)
	requireNoError(t, err, "FindPolicyAttachments() other account")
	requireEqual(t, "entities in the other account", len(other), 0)

	requireNoError(t, s.DetachUserPolicy(t.Context(), write.ID, alice.ID), "DetachUserPolicy()")
	requireCode(t, s.DetachUserPolicy(t.Context(), write.ID, alice.ID), userevents.ENOTFOUND)
	requireCode(t, s.AttachUserPolicy(t.Context(), "ffffffffffffffffffffffffffffffff", alice.ID), userevents.ENOTFOUND)
	requireCode(t, s.AttachUserPolicy(t.Context(), read.ID, "ffffffffffffffffffffffffffffffff"), userevents.ENOTFOUND)
	_, err = s.FindAttachedPolicies(t.Context(), userevents.EntityUser, "ffffffffffffffffffffffffffffffff")
	requireCode(t, err, userevents.ENOTFOUND)
}

func testAttachGroup(t *testing.T, s userevents.Store) {
	newIAMAccounts(t, s)
	ops := newIAMGroup(t, s, iamAccount, "ops")
	read := newPolicy(t, s, iamAccount, "read")

	requireNoError(t, s.AttachGroupPolicy(t.Context(), read.ID, ops.ID), "AttachGroupPolicy()")
	requireNoError(t, s.AttachGroupPolicy(t.Context(), read.ID, ops.ID), "AttachGroupPolicy() again")
	attached, err := s.FindAttachedPolicies(t.Context(), userevents.EntityGroup, ops.ID)
	requireNoError(t, err, "FindAttachedPolicies()")
	requireEqual(t, "attached", attachedNames(attached), []string{"read"})
	entities, err := s.FindPolicyAttachments(t.Context(), iamAccount, read.ID)
	requireNoError(t, err, "FindPolicyAttachments()")
	requireEqual(t, "entity", [2]string{entities[0].EntityType, entities[0].EntityID},
		[2]string{userevents.EntityGroup, ops.ID})

	requireNoError(t, s.DetachGroupPolicy(t.Context(), read.ID, ops.ID), "DetachGroupPolicy()")
	requireCode(t, s.DetachGroupPolicy(t.Context(), read.ID, ops.ID), userevents.ENOTFOUND)
	requireCode(t, s.AttachGroupPolicy(t.Context(), read.ID, "ffffffffffffffffffffffffffffffff"), userevents.ENOTFOUND)
	_, err = s.FindAttachedPolicies(t.Context(), userevents.EntityGroup, "ffffffffffffffffffffffffffffffff")
	requireCode(t, err, userevents.ENOTFOUND)
}

func testEffectivePolicies(t *testing.T, s userevents.Store) {
	newIAMAccounts(t, s)
	alice := newIAMUser(t, s, iamAccount, "alice")
	bob := newIAMUser(t, s, iamAccount, "bob")
	ops := newIAMGroup(t, s, iamAccount, "ops")
	dev := newIAMGroup(t, s, iamAccount, "dev")
	direct := newPolicy(t, s, iamAccount, "b-direct")
	shared := newPolicy(t, s, iamAccount, "a-shared")
	groupOnly := newPolicy(t, s, iamAccount, "c-group")
	_, err := s.CreatePolicyVersion(t.Context(), shared.ID, policyDoc("shared-v2"), true)
	requireNoError(t, err, "CreatePolicyVersion()")

	requireNoError(t, s.AddUserToGroup(t.Context(), ops.ID, alice.ID), "AddUserToGroup()")
	requireNoError(t, s.AddUserToGroup(t.Context(), dev.ID, alice.ID), "AddUserToGroup()")
	requireNoError(t, s.AttachUserPolicy(t.Context(), direct.ID, alice.ID), "AttachUserPolicy()")
	requireNoError(t, s.AttachUserPolicy(t.Context(), shared.ID, alice.ID), "AttachUserPolicy()")
	requireNoError(t, s.AttachGroupPolicy(t.Context(), shared.ID, ops.ID), "AttachGroupPolicy()")
	requireNoError(t, s.AttachGroupPolicy(t.Context(), groupOnly.ID, dev.ID), "AttachGroupPolicy()")

	effective, err := s.FindEffectivePolicies(t.Context(), alice.ID)
	requireNoError(t, err, "FindEffectivePolicies()")
	var got []string
	for _, p := range effective {
		got = append(got, p.PolicyName+"@"+p.VersionID)
	}
	requireEqual(t, "effective policies", got, []string{"a-shared@v2", "b-direct@v1", "c-group@v1"})
	requireEqual(t, "document of the default version", effective[0].Document, policyDoc("shared-v2"))
	requireEqual(t, "policy id", effective[1].PolicyID, direct.ID)

	none, err := s.FindEffectivePolicies(t.Context(), bob.ID)
	requireNoError(t, err, "FindEffectivePolicies() of a user without policies")
	requireEqual(t, "policies of bob", len(none), 0)
}

func testAttachmentGenerations(t *testing.T, s userevents.Store) {
	newIAMAccounts(t, s)
	alice := newIAMUser(t, s, iamAccount, "alice")
	bob := newIAMUser(t, s, iamAccount, "bob")
	ops := newIAMGroup(t, s, iamAccount, "ops")
	p := newPolicy(t, s, iamAccount, "read")
	requireNoError(t, s.AddUserToGroup(t.Context(), ops.ID, alice.ID), "AddUserToGroup()")
	gen := generation(t, s, alice.ID)
	bobGen := generation(t, s, bob.ID)

	requireNoError(t, s.AttachGroupPolicy(t.Context(), p.ID, ops.ID), "AttachGroupPolicy()")
	gen = requireBumped(t, s, alice.ID, gen, "attaching a policy to the user's group")
	requireEqual(t, "generation of a non-member", generation(t, s, bob.ID), bobGen)

	v, err := s.CreatePolicyVersion(t.Context(), p.ID, policyDoc("v2"), false)
	requireNoError(t, err, "CreatePolicyVersion()")
	requireEqual(t, "generation after a non-default version", generation(t, s, alice.ID), gen)
	requireNoError(t, s.SetDefaultPolicyVersion(t.Context(), p.ID, v.ID), "SetDefaultPolicyVersion()")
	gen = requireBumped(t, s, alice.ID, gen, "changing the default version")
	_, err = s.CreatePolicyVersion(t.Context(), p.ID, policyDoc("v3"), true)
	requireNoError(t, err, "CreatePolicyVersion() default")
	gen = requireBumped(t, s, alice.ID, gen, "adding a default version")

	requireNoError(t, s.DetachGroupPolicy(t.Context(), p.ID, ops.ID), "DetachGroupPolicy()")
	gen = requireBumped(t, s, alice.ID, gen, "detaching from the user's group")
	requireNoError(t, s.AttachUserPolicy(t.Context(), p.ID, alice.ID), "AttachUserPolicy()")
	gen = requireBumped(t, s, alice.ID, gen, "attaching to the user")
	requireNoError(t, s.AttachUserPolicy(t.Context(), p.ID, alice.ID), "AttachUserPolicy() again")
	requireEqual(t, "generation after attaching again", generation(t, s, alice.ID), gen)
	requireNoError(t, s.DetachUserPolicy(t.Context(), p.ID, alice.ID), "DetachUserPolicy()")
	requireBumped(t, s, alice.ID, gen, "detaching from the user")
	requireEqual(t, "generation of bob at the end", generation(t, s, bob.ID), bobGen)
}

func testAuthFailures(t *testing.T, s userevents.Store) {
	const subject = "ak:AKIAMLOCK0000000001"
	now := at(12, 0, 0, 0)
	f, err := s.FindAuthFailures(t.Context(), subject)
	requireNoError(t, err, "FindAuthFailures()")
	requireEqual(t, "initial state", *f, userevents.AuthFailures{Subject: subject})

	for i := 1; i <= 4; i++ {
		f, err = s.RecordAuthFailure(t.Context(), subject, now, 5, 5*time.Minute)
		requireNoError(t, err, "RecordAuthFailure()")
		requireEqual(t, "count", f.Count, i)
		requireEqual(t, "locked until before the threshold", f.LockedUntil, time.Time{})
	}
	f, err = s.RecordAuthFailure(t.Context(), subject, now, 5, 5*time.Minute)
	requireNoError(t, err, "RecordAuthFailure() fifth")
	requireTimeEqual(t, "locked until", f.LockedUntil, now.Add(5*time.Minute))
	stored, err := s.FindAuthFailures(t.Context(), subject)
	requireNoError(t, err, "FindAuthFailures()")
	requireEqual(t, "stored state", *stored, *f)

	f, err = s.RecordAuthFailure(t.Context(), subject, now.Add(time.Minute), 5, 5*time.Minute)
	requireNoError(t, err, "RecordAuthFailure() while locked")
	requireTimeEqual(t, "lock kept", f.LockedUntil, now.Add(5*time.Minute))

	later := now.Add(6 * time.Minute)
	f, err = s.RecordAuthFailure(t.Context(), subject, later, 5, 5*time.Minute)
	requireNoError(t, err, "RecordAuthFailure() after the lock")
	requireEqual(t, "count after the lock", f.Count, 1)
	requireEqual(t, "unlocked", f.LockedUntil, time.Time{})

	requireNoError(t, s.ResetAuthFailures(t.Context(), subject), "ResetAuthFailures()")
	f, err = s.FindAuthFailures(t.Context(), subject)
	requireNoError(t, err, "FindAuthFailures() after reset")
	requireEqual(t, "state after reset", *f, userevents.AuthFailures{Subject: subject})

	f, err = s.RecordAuthFailure(t.Context(), "user:threshold-one", now, 1, time.Minute)
	requireNoError(t, err, "RecordAuthFailure() threshold 1")
	requireTimeEqual(t, "locked at once", f.LockedUntil, now.Add(time.Minute))
}
