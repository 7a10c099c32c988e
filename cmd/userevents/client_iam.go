package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/global"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/sdkerr"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/sdktime"
	iamv5 "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/iam/v5"
	iammodel "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/iam/v5/model"
)

const iamUsage = `Usage:
  userevents iam users list
  userevents iam users create NAME [--password P] [--description D]
  userevents iam users delete NAME_OR_ID
  userevents iam keys list USER
  userevents iam keys create USER        prints the secret access key, once
  userevents iam keys delete USER ACCESS_KEY_ID
  userevents iam groups list
  userevents iam groups create NAME [--description D]
  userevents iam groups delete NAME_OR_ID
  userevents iam groups add-user GROUP USER
  userevents iam groups remove-user GROUP USER
  userevents iam policies list [--type custom|system]
  userevents iam policies create NAME --file POLICY.json [--description D]
  userevents iam policies delete NAME_OR_ID
  userevents iam policies attach|detach POLICY (--user USER | --group GROUP)

Users, groups and policies are given by name or by id. Flags may come
before or after the arguments; after -- everything is an argument.

Every command takes:
  --iam-endpoint URL   IAM endpoint (env USEREVENTS_IAM_ENDPOINT; default http://127.0.0.1:8082)
  --ak, --sk           access key (env HUAWEICLOUD_SDK_AK, HUAWEICLOUD_SDK_SK)
  --profile FILE       credentials file (env USEREVENTS_PROFILE; default ./userevents-data/credentials.json)
  -o table|json        output format; with json, commands that return nothing print nothing
`

// defaultIAMEndpoint is the IAM listener of a server started with the
// default flags.
const defaultIAMEndpoint = "http://127.0.0.1:8082"

// maxIAMPageSize is the largest limit the IAM 5.0 list APIs accept.
const maxIAMPageSize int32 = 200

// iamAdmin runs the IAM administration commands with the SDK's IAM 5.0
// client, signed with global credentials of the resolved access key.
type iamAdmin struct {
	client
	iamEndpoint string
	iam         *iamv5.IamClient
}

// iamCommand is one iam subcommand: its argument synopsis, the number of
// positional arguments it takes and the function that runs it.
type iamCommand struct {
	synopsis string
	nargs    int
	run      func(args []string) error
}

// runIAM runs an iam subcommand such as "users create".
func runIAM(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 1 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
		fmt.Fprint(stdout, iamUsage)
		return nil
	}
	if len(args) < 2 {
		fmt.Fprint(stderr, iamUsage)
		return errUsage
	}
	name := args[0] + " " + args[1]
	a := &iamAdmin{client: client{stdout: stdout, stderr: stderr}}
	fs := flag.NewFlagSet("userevents iam "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	profilePath := a.flags(fs)

	cmd, ok := a.command(name, fs)
	if !ok {
		fmt.Fprintf(stderr, "userevents iam: unknown command %q\n\n%s", name, iamUsage)
		return errUsage
	}
	positional, err := parseInterspersed(fs, args[2:])
	if err != nil {
		return errUsage
	}
	if len(positional) != cmd.nargs {
		return fmt.Errorf("wrong number of arguments (%d) for userevents iam %s; usage: %s",
			len(positional), name, strings.TrimSpace("userevents iam "+name+" "+cmd.synopsis))
	}
	if err := a.resolve(*profilePath, getenv); err != nil {
		return err
	}
	return cmd.run(positional)
}

// flags registers the flags every iam command shares.
func (a *iamAdmin) flags(fs *flag.FlagSet) (profilePath *string) {
	fs.StringVar(&a.iamEndpoint, "iam-endpoint", "", "IAM endpoint (env USEREVENTS_IAM_ENDPOINT; default "+defaultIAMEndpoint+")")
	fs.StringVar(&a.ak, "ak", "", "access key id (env HUAWEICLOUD_SDK_AK)")
	fs.StringVar(&a.sk, "sk", "", "secret access key (env HUAWEICLOUD_SDK_SK)")
	fs.StringVar(&a.output, "o", "table", "output format: table or json")
	return fs.String("profile", "", "credentials file with access_key and secret_key (env USEREVENTS_PROFILE; default ./userevents-data/credentials.json)")
}

// command returns the iam subcommand called name, after registering its
// own flags in fs, and false for an unknown name.
func (a *iamAdmin) command(name string, fs *flag.FlagSet) (iamCommand, bool) {
	switch name {
	case "users list":
		return iamCommand{"", 0, func([]string) error { return a.listUsers() }}, true
	case "users create":
		password := fs.String("password", "", "password of the new user, so that it can sign in; other local users can see it in the process list")
		description := fs.String("description", "", "description of the new user")
		return iamCommand{"NAME [--password P] [--description D]", 1, func(args []string) error {
			return a.createUser(args[0], *password, *description)
		}}, true
	case "users delete":
		return iamCommand{"NAME_OR_ID", 1, func(args []string) error { return a.deleteUser(args[0]) }}, true

	case "keys list":
		return iamCommand{"USER", 1, func(args []string) error { return a.listKeys(args[0]) }}, true
	case "keys create":
		return iamCommand{"USER", 1, func(args []string) error { return a.createKey(args[0]) }}, true
	case "keys delete":
		return iamCommand{"USER ACCESS_KEY_ID", 2, func(args []string) error { return a.deleteKey(args[0], args[1]) }}, true

	case "groups list":
		return iamCommand{"", 0, func([]string) error { return a.listGroups() }}, true
	case "groups create":
		description := fs.String("description", "", "description of the new group")
		return iamCommand{"NAME [--description D]", 1, func(args []string) error {
			return a.createGroup(args[0], *description)
		}}, true
	case "groups delete":
		return iamCommand{"NAME_OR_ID", 1, func(args []string) error { return a.deleteGroup(args[0]) }}, true
	case "groups add-user":
		return iamCommand{"GROUP USER", 2, func(args []string) error { return a.changeMembership(args[0], args[1], true) }}, true
	case "groups remove-user":
		return iamCommand{"GROUP USER", 2, func(args []string) error { return a.changeMembership(args[0], args[1], false) }}, true

	case "policies list":
		policyType := fs.String("type", "", "only policies of this type: custom or system")
		return iamCommand{"[--type custom|system]", 0, func([]string) error { return a.listPolicies(*policyType) }}, true
	case "policies create":
		file := fs.String("file", "", "policy document (JSON, Version 5.0); - reads standard input")
		description := fs.String("description", "", "description of the new policy")
		return iamCommand{"NAME --file POLICY.json [--description D]", 1, func(args []string) error {
			return a.createPolicy(args[0], *file, *description)
		}}, true
	case "policies delete":
		return iamCommand{"NAME_OR_ID", 1, func(args []string) error { return a.deletePolicy(args[0]) }}, true
	case "policies attach", "policies detach":
		user := fs.String("user", "", "user name or id")
		group := fs.String("group", "", "group name or id")
		attach := name == "policies attach"
		return iamCommand{"POLICY (--user USER | --group GROUP)", 1, func(args []string) error {
			return a.changeAttachment(args[0], *user, *group, attach)
		}}, true
	}
	return iamCommand{}, false
}

// parseInterspersed parses flags given before, between or after the
// positional arguments, because the flag package alone stops at the first
// positional one, and returns the positional arguments. Everything after
// "--" is positional, so that a name starting with "-" can be given.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		if parsed := len(args) - len(rest); parsed > 0 && args[parsed-1] == "--" {
			return append(positional, rest...), nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// resolve fills the access key as the other client commands do, and the
// IAM endpoint from USEREVENTS_IAM_ENDPOINT, then builds the SDK client.
func (a *iamAdmin) resolve(profilePath string, getenv func(string) string) error {
	// IAM 5.0 requests are global and carry no project id, but
	// client.resolve requires one. A stand-in satisfies it and is cleared.
	a.projectID = "unused"
	if err := a.client.resolve(profilePath, getenv); err != nil {
		return err
	}
	a.projectID = ""

	if a.iamEndpoint == "" {
		a.iamEndpoint = getenv("USEREVENTS_IAM_ENDPOINT")
	}
	if a.iamEndpoint == "" {
		a.iamEndpoint = defaultIAMEndpoint
	}
	// The SDK would prefix a value without a scheme with https://, which
	// the listeners of a default server do not serve.
	if u, err := url.Parse(a.iamEndpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("--iam-endpoint %q is invalid; give a URL such as %s", a.iamEndpoint, defaultIAMEndpoint)
	}

	creds, err := global.NewCredentialsBuilder().WithAk(a.ak).WithSk(a.sk).SafeBuild()
	if err != nil {
		return fmt.Errorf("build IAM credentials: %w", err)
	}
	hc, err := iamv5.IamClientBuilder().
		WithEndpoints([]string{a.iamEndpoint}).
		WithCredential(creds).
		SafeBuild()
	if err != nil {
		return fmt.Errorf("build IAM client for %s: %w", a.iamEndpoint, err)
	}
	a.iam = iamv5.NewIamClient(hc)
	return nil
}

// Users and access keys.

func (a *iamAdmin) listUsers() error {
	users, err := a.users()
	if err != nil {
		return fmt.Errorf("list users: %w", sdkError(err))
	}
	if a.output == "json" {
		return a.printJSON(map[string]any{"users": users})
	}
	return a.printUsers(users)
}

// createUser creates an enabled user and, when password is set, its login
// profile. A rejected password deletes the new user again, so that the
// command either does all of its work or none of it.
func (a *iamAdmin) createUser(name, password, description string) error {
	body := &iammodel.CreateUserReqBody{Name: name, Enabled: true}
	if description != "" {
		body.Description = &description
	}
	resp, err := a.iam.CreateUserV5(&iammodel.CreateUserV5Request{Body: body})
	if err != nil {
		return fmt.Errorf("create user %s: %w", name, sdkError(err))
	}
	u := resp.User

	if password != "" {
		_, err := a.iam.CreateLoginProfileV5(&iammodel.CreateLoginProfileV5Request{
			UserId: u.UserId,
			Body:   &iammodel.CreateLoginProfileReqBody{Password: password},
		})
		if err != nil {
			err = fmt.Errorf("set password of user %s: %w", name, sdkError(err))
			_, deleteErr := a.iam.DeleteUserV5(&iammodel.DeleteUserV5Request{UserId: u.UserId})
			if deleteErr != nil {
				return fmt.Errorf("%w; the user was created with id %s, and deleting it failed: %w",
					err, u.UserId, sdkError(deleteErr))
			}
			return fmt.Errorf("%w; the user was deleted again", err)
		}
	}

	if a.output == "json" {
		return a.printJSON(resp)
	}
	return a.printUsers([]iammodel.User{*u})
}

func (a *iamAdmin) deleteUser(ref string) error {
	u, err := a.findUser(ref)
	if err != nil {
		return err
	}
	if _, err := a.iam.DeleteUserV5(&iammodel.DeleteUserV5Request{UserId: u.UserId}); err != nil {
		return fmt.Errorf("delete user %s: %w", u.UserName, sdkError(err))
	}
	a.printDone("deleted user %s (%s)", u.UserName, u.UserId)
	return nil
}

func (a *iamAdmin) listKeys(userRef string) error {
	u, err := a.findUser(userRef)
	if err != nil {
		return err
	}
	keys, err := allPages(func(limit int32, marker *string) ([]iammodel.AccessKeyMetadata, *iammodel.PageInfo, error) {
		resp, err := a.iam.ListAccessKeysV5(&iammodel.ListAccessKeysV5Request{UserId: u.UserId, Limit: &limit, Marker: marker})
		if err != nil {
			return nil, nil, fmt.Errorf("list access keys of user %s: %w", u.UserName, sdkError(err))
		}
		return values(resp.AccessKeys), resp.PageInfo, nil
	})
	if err != nil {
		return err
	}
	if a.output == "json" {
		return a.printJSON(map[string]any{"access_keys": keys})
	}
	w := a.table("ACCESS_KEY_ID", "STATUS", "CREATED_AT")
	for _, k := range keys {
		status := ""
		if k.Status != nil {
			status = k.Status.Value()
		}
		fmt.Fprintf(w, "%s\t%s\t%s\n", k.AccessKeyId, status, timeString(k.CreatedAt))
	}
	return w.Flush()
}

// createKey creates a permanent access key and prints its secret, which no
// later call returns.
func (a *iamAdmin) createKey(userRef string) error {
	u, err := a.findUser(userRef)
	if err != nil {
		return err
	}
	resp, err := a.iam.CreateAccessKeyV5(&iammodel.CreateAccessKeyV5Request{UserId: u.UserId})
	if err != nil {
		return fmt.Errorf("create access key of user %s: %w", u.UserName, sdkError(err))
	}
	if a.output == "json" {
		return a.printJSON(resp)
	}
	k := resp.AccessKey
	fmt.Fprintf(a.stdout, "user:               %s (%s)\naccess_key_id:      %s\nsecret_access_key:  %s\n",
		u.UserName, u.UserId, k.AccessKeyId, k.SecretAccessKey)
	fmt.Fprintln(a.stderr, "Store the secret access key now: it cannot be shown again.")
	return nil
}

func (a *iamAdmin) deleteKey(userRef, accessKeyID string) error {
	u, err := a.findUser(userRef)
	if err != nil {
		return err
	}
	_, err = a.iam.DeleteAccessKeyV5(&iammodel.DeleteAccessKeyV5Request{UserId: u.UserId, AccessKeyId: accessKeyID})
	if err != nil {
		return fmt.Errorf("delete access key %s of user %s: %w", accessKeyID, u.UserName, sdkError(err))
	}
	a.printDone("deleted access key %s of user %s", accessKeyID, u.UserName)
	return nil
}

// Groups.

func (a *iamAdmin) listGroups() error {
	groups, err := a.groups()
	if err != nil {
		return fmt.Errorf("list groups: %w", sdkError(err))
	}
	if a.output == "json" {
		return a.printJSON(map[string]any{"groups": groups})
	}
	return a.printGroups(groups)
}

func (a *iamAdmin) createGroup(name, description string) error {
	body := &iammodel.CreateGroupReqBody{GroupName: name}
	if description != "" {
		body.Description = &description
	}
	resp, err := a.iam.CreateGroupV5(&iammodel.CreateGroupV5Request{Body: body})
	if err != nil {
		return fmt.Errorf("create group %s: %w", name, sdkError(err))
	}
	if a.output == "json" {
		return a.printJSON(resp)
	}
	return a.printGroups([]iammodel.Group{*resp.Group})
}

func (a *iamAdmin) deleteGroup(ref string) error {
	g, err := a.findGroup(ref)
	if err != nil {
		return err
	}
	if _, err := a.iam.DeleteGroupV5(&iammodel.DeleteGroupV5Request{GroupId: g.GroupId}); err != nil {
		return fmt.Errorf("delete group %s: %w", g.GroupName, sdkError(err))
	}
	a.printDone("deleted group %s (%s)", g.GroupName, g.GroupId)
	return nil
}

// changeMembership adds the user to the group, or removes it with add
// false.
func (a *iamAdmin) changeMembership(groupRef, userRef string, add bool) error {
	g, err := a.findGroup(groupRef)
	if err != nil {
		return err
	}
	u, err := a.findUser(userRef)
	if err != nil {
		return err
	}
	if add {
		_, err = a.iam.AddUserToGroupV5(&iammodel.AddUserToGroupV5Request{GroupId: g.GroupId,
			Body: &iammodel.AddUserToGroupReqBody{UserId: u.UserId}})
		if err != nil {
			return fmt.Errorf("add user %s to group %s: %w", u.UserName, g.GroupName, sdkError(err))
		}
		a.printDone("added user %s to group %s", u.UserName, g.GroupName)
		return nil
	}
	_, err = a.iam.RemoveUserFromGroupV5(&iammodel.RemoveUserFromGroupV5Request{GroupId: g.GroupId,
		Body: &iammodel.RemoveUserFromGroupReqBody{UserId: u.UserId}})
	if err != nil {
		return fmt.Errorf("remove user %s from group %s: %w", u.UserName, g.GroupName, sdkError(err))
	}
	a.printDone("removed user %s from group %s", u.UserName, g.GroupName)
	return nil
}

// Identity policies.

func (a *iamAdmin) listPolicies(policyType string) error {
	if policyType != "" && policyType != "custom" && policyType != "system" {
		return fmt.Errorf("--type %q is invalid; use custom or system", policyType)
	}
	policies, err := a.policies()
	if err != nil {
		return fmt.Errorf("list policies: %w", sdkError(err))
	}
	if policyType != "" {
		kept := []iammodel.Policy{}
		for _, p := range policies {
			if p.PolicyType != nil && p.PolicyType.Value() == policyType {
				kept = append(kept, p)
			}
		}
		policies = kept
	}
	if a.output == "json" {
		return a.printJSON(map[string]any{"policies": policies})
	}
	return a.printPolicies(policies)
}

// createPolicy creates a custom policy from a document file. The server
// validates the document. This function rejects only a file that is not
// JSON, so that the error can name the file.
func (a *iamAdmin) createPolicy(name, file, description string) error {
	if file == "" {
		return errors.New("--file is required: give the policy document, or - to read it from standard input")
	}
	in, _, err := openInput(file)
	if err != nil {
		return fmt.Errorf("read policy document: %w", err)
	}
	document, err := io.ReadAll(in)
	in.Close()
	if err != nil {
		return fmt.Errorf("read policy document %s: %w", file, err)
	}
	if !json.Valid(document) {
		return fmt.Errorf("policy document %s is not valid JSON; fix it and rerun", file)
	}

	body := &iammodel.CreatePolicyReqBody{PolicyName: name, PolicyDocument: strings.TrimSpace(string(document))}
	if description != "" {
		body.Description = &description
	}
	resp, err := a.iam.CreatePolicyV5(&iammodel.CreatePolicyV5Request{Body: body})
	if err != nil {
		return fmt.Errorf("create policy %s: %w", name, sdkError(err))
	}
	if a.output == "json" {
		return a.printJSON(resp)
	}
	return a.printPolicies([]iammodel.Policy{*resp.Policy})
}

func (a *iamAdmin) deletePolicy(ref string) error {
	p, err := a.findPolicy(ref)
	if err != nil {
		return err
	}
	if _, err := a.iam.DeletePolicyV5(&iammodel.DeletePolicyV5Request{PolicyId: p.PolicyId}); err != nil {
		return fmt.Errorf("delete policy %s: %w", p.PolicyName, sdkError(err))
	}
	a.printDone("deleted policy %s (%s)", p.PolicyName, p.PolicyId)
	return nil
}

// changeAttachment attaches the policy to exactly one of the user and the
// group, or detaches it with attach false.
func (a *iamAdmin) changeAttachment(policyRef, userRef, groupRef string, attach bool) error {
	if (userRef == "") == (groupRef == "") {
		return errors.New("give exactly one of --user and --group")
	}
	p, err := a.findPolicy(policyRef)
	if err != nil {
		return err
	}

	var target string
	var send func() error
	if userRef != "" {
		u, err := a.findUser(userRef)
		if err != nil {
			return err
		}
		target = "user " + u.UserName
		send = func() error {
			if attach {
				_, err := a.iam.AttachUserPolicyV5(&iammodel.AttachUserPolicyV5Request{PolicyId: p.PolicyId,
					Body: &iammodel.AttachUserPolicyReqBody{UserId: u.UserId}})
				return err
			}
			_, err := a.iam.DetachUserPolicyV5(&iammodel.DetachUserPolicyV5Request{PolicyId: p.PolicyId,
				Body: &iammodel.DetachUserPolicyReqBody{UserId: u.UserId}})
			return err
		}
	} else {
		g, err := a.findGroup(groupRef)
		if err != nil {
			return err
		}
		target = "group " + g.GroupName
		send = func() error {
			if attach {
				_, err := a.iam.AttachGroupPolicyV5(&iammodel.AttachGroupPolicyV5Request{PolicyId: p.PolicyId,
					Body: &iammodel.AttachGroupPolicyReqBody{GroupId: g.GroupId}})
				return err
			}
			_, err := a.iam.DetachGroupPolicyV5(&iammodel.DetachGroupPolicyV5Request{PolicyId: p.PolicyId,
				Body: &iammodel.DetachGroupPolicyReqBody{GroupId: g.GroupId}})
			return err
		}
	}

	verb, done, preposition := "attach", "attached", "to"
	if !attach {
		verb, done, preposition = "detach", "detached", "from"
	}
	if err := send(); err != nil {
		return fmt.Errorf("%s policy %s %s %s: %w", verb, p.PolicyName, preposition, target, sdkError(err))
	}
	a.printDone("%s policy %s %s %s", done, p.PolicyName, preposition, target)
	return nil
}

// Listing every page and finding by name or id.

// users returns every user of the account. Errors are the SDK's own, so
// that callers can tell a denied list apart.
func (a *iamAdmin) users() ([]iammodel.User, error) {
	return allPages(func(limit int32, marker *string) ([]iammodel.User, *iammodel.PageInfo, error) {
		resp, err := a.iam.ListUsersV5(&iammodel.ListUsersV5Request{Limit: &limit, Marker: marker})
		if err != nil {
			return nil, nil, err
		}
		return values(resp.Users), resp.PageInfo, nil
	})
}

func (a *iamAdmin) groups() ([]iammodel.Group, error) {
	return allPages(func(limit int32, marker *string) ([]iammodel.Group, *iammodel.PageInfo, error) {
		resp, err := a.iam.ListGroupsV5(&iammodel.ListGroupsV5Request{Limit: &limit, Marker: marker})
		if err != nil {
			return nil, nil, err
		}
		return values(resp.Groups), resp.PageInfo, nil
	})
}

// policies returns the system policies and the account's custom policies.
// Errors are the SDK's own.
func (a *iamAdmin) policies() ([]iammodel.Policy, error) {
	return allPages(func(limit int32, marker *string) ([]iammodel.Policy, *iammodel.PageInfo, error) {
		resp, err := a.iam.ListPoliciesV5(&iammodel.ListPoliciesV5Request{Limit: &limit, Marker: marker})
		if err != nil {
			return nil, nil, err
		}
		return values(resp.Policies), resp.PageInfo, nil
	})
}

// findUser returns the user whose id or name is ref. A caller that may act
// on users but not list them, such as one whose policy names the users it
// manages, can still give an id: ref is then passed on as the id, with no
// name known, and the server checks it.
func (a *iamAdmin) findUser(ref string) (iammodel.User, error) {
	users, err := a.users()
	if isForbidden(err) {
		return iammodel.User{UserId: ref, UserName: ref}, nil
	} else if err != nil {
		return iammodel.User{}, fmt.Errorf("look up user %s: list users: %w", ref, sdkError(err))
	}
	return pick("user", "users", ref, users, func(u iammodel.User) (string, string) { return u.UserId, u.UserName })
}

// findGroup returns the group whose id or name is ref, and ref as the id
// when the caller may not list groups, as findUser does.
func (a *iamAdmin) findGroup(ref string) (iammodel.Group, error) {
	groups, err := a.groups()
	if isForbidden(err) {
		return iammodel.Group{GroupId: ref, GroupName: ref}, nil
	} else if err != nil {
		return iammodel.Group{}, fmt.Errorf("look up group %s: list groups: %w", ref, sdkError(err))
	}
	return pick("group", "groups", ref, groups, func(g iammodel.Group) (string, string) { return g.GroupId, g.GroupName })
}

// findPolicy returns the policy whose id or name is ref, and ref as the id
// when the caller may not list policies, as findUser does.
func (a *iamAdmin) findPolicy(ref string) (iammodel.Policy, error) {
	policies, err := a.policies()
	if isForbidden(err) {
		return iammodel.Policy{PolicyId: ref, PolicyName: ref}, nil
	} else if err != nil {
		return iammodel.Policy{}, fmt.Errorf("look up policy %s: list policies: %w", ref, sdkError(err))
	}
	return pick("policy", "policies", ref, policies, func(p iammodel.Policy) (string, string) { return p.PolicyId, p.PolicyName })
}

// pick returns the item whose id is ref, else the one item whose name is
// ref. Ids win because they are what the API takes and are unique. Several
// items of the name, such as a custom policy named like a system policy,
// are an error listing their ids, so that no command acts on a guess.
func pick[T any](kind, kinds, ref string, items []T, idName func(T) (id, name string)) (T, error) {
	var zero T
	var named []T
	var ids []string
	for _, it := range items {
		id, name := idName(it)
		if id == ref {
			return it, nil
		}
		if name == ref {
			named = append(named, it)
			ids = append(ids, id)
		}
	}
	switch len(named) {
	case 0:
		return zero, fmt.Errorf("no %s has the name or id %q; see userevents iam %s list", kind, ref, kinds)
	case 1:
		return named[0], nil
	default:
		return zero, fmt.Errorf("%d %s are named %q (ids %s); give the id instead",
			len(named), kinds, ref, strings.Join(ids, ", "))
	}
}

// allPages calls list with the marker of each next page until the last
// page, and returns the items of every page, never nil.
func allPages[T any](list func(limit int32, marker *string) ([]T, *iammodel.PageInfo, error)) ([]T, error) {
	all := []T{}
	var marker *string
	for {
		items, page, err := list(maxIAMPageSize, marker)
		if err != nil {
			return nil, err
		}
		all = append(all, items...)
		if page == nil || page.NextMarker == nil || *page.NextMarker == "" {
			return all, nil
		}
		if marker != nil && *marker == *page.NextMarker {
			return nil, fmt.Errorf("the server returned next_marker %q for its own page; stopping", *marker)
		}
		marker = page.NextMarker
	}
}

// isForbidden reports whether err is the server's 403.
func isForbidden(err error) bool {
	var se *sdkerr.ServiceResponseError
	return errors.As(err, &se) && se.StatusCode == http.StatusForbidden
}

// values returns the slice a list response points to, or nil.
func values[T any](p *[]T) []T {
	if p == nil {
		return nil
	}
	return *p
}

// Output.

func (a *iamAdmin) table(headers ...string) *tabwriter.Writer {
	w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, strings.Join(headers, "\t"))
	return w
}

// printDone reports a change that returned no body, in table output only.
func (a *iamAdmin) printDone(format string, args ...any) {
	if a.output == "table" {
		fmt.Fprintf(a.stdout, format+"\n", args...)
	}
}

func (a *iamAdmin) printUsers(users []iammodel.User) error {
	w := a.table("NAME", "USER_ID", "ENABLED", "ROOT", "CREATED_AT", "DESCRIPTION")
	for _, u := range users {
		fmt.Fprintf(w, "%s\t%s\t%t\t%t\t%s\t%s\n", u.UserName, u.UserId, u.Enabled, u.IsRootUser,
			timeString(u.CreatedAt), stringValue(u.Description))
	}
	return w.Flush()
}

func (a *iamAdmin) printGroups(groups []iammodel.Group) error {
	w := a.table("NAME", "GROUP_ID", "CREATED_AT", "DESCRIPTION")
	for _, g := range groups {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", g.GroupName, g.GroupId, timeString(g.CreatedAt), stringValue(g.Description))
	}
	return w.Flush()
}

func (a *iamAdmin) printPolicies(policies []iammodel.Policy) error {
	w := a.table("NAME", "POLICY_ID", "TYPE", "DEFAULT_VERSION", "ATTACHMENTS")
	for _, p := range policies {
		policyType := ""
		if p.PolicyType != nil {
			policyType = p.PolicyType.Value()
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", p.PolicyName, p.PolicyId, policyType, p.DefaultVersionId,
			strconv.Itoa(int(p.AttachmentCount)))
	}
	return w.Flush()
}

func timeString(t *sdktime.SdkTime) string {
	if t == nil {
		return ""
	}
	return t.String()
}

func stringValue(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
