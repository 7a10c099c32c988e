package userevents

import (
	"context"
	"time"
)

// Limits of the IAM API.
const (
	// MaxAccessKeysPerUser is the number of permanent access keys an IAM
	// user may have; Huawei Cloud IAM documents a maximum of two.
	MaxAccessKeysPerUser = 2

	// MaxPolicyVersions is the number of versions a custom identity policy
	// keeps. Creating one more fails until a version is deleted.
	MaxPolicyVersions = 5

	// TokenLifetime is how long an IAM token is valid after it is issued.
	TokenLifetime = 24 * time.Hour

	// MinTemporaryKeyDuration, MaxTemporaryKeyDuration and
	// DefaultTemporaryKeyDuration bound the lifetime of temporary access
	// keys, as the IAM API for obtaining them documents it.
	MinTemporaryKeyDuration     = 15 * time.Minute
	MaxTemporaryKeyDuration     = 24 * time.Hour
	DefaultTemporaryKeyDuration = 15 * time.Minute
)

// Identity policy types, as ListPoliciesV5 names them.
const (
	PolicyTypeCustom = "custom" // created by the account
	PolicyTypeSystem = "system" // built in, shared by every account
)

// Kinds of entity that identity policies are attached to.
const (
	EntityUser  = "user"
	EntityGroup = "group"
)

// IAMUser is a User with the attributes that the IAM API manages.
type IAMUser struct {
	User

	Description string

	// PasswordResetRequired marks a password that the user must change at
	// the next console login. The server stores and shows the flag but
	// does not enforce it, because it has no console.
	PasswordResetRequired bool

	// PasswordSetAt is when the login profile (the password) was created,
	// and zero when none was created through the IAM API.
	PasswordSetAt time.Time

	// CredentialGeneration increases whenever the user's password or
	// enabled state changes, an access key of the user is enabled, disabled
	// or deleted, or the user's groups or effective policies change. A
	// token records the generation it was issued under and stops working
	// once the generation moves on.
	CredentialGeneration int64
}

// UserUpdate changes the fields of a user that are not nil.
type UserUpdate struct {
	Name        *string
	Description *string
	Enabled     *bool
}

// UserFilter selects IAM users of one account. An empty GroupID does not
// filter.
type UserFilter struct {
	AccountID string
	GroupID   string
}

// LoginProfile is the password of an IAM user.
type LoginProfile struct {
	UserID                string
	PasswordHash          string // bcrypt
	PasswordResetRequired bool
	CreatedAt             time.Time
}

// LoginProfileUpdate changes the fields of a login profile that are not nil.
type LoginProfileUpdate struct {
	PasswordHash          *string
	PasswordResetRequired *bool
}

// Group is an IAM user group. Policies attached to a group apply to its
// members.
type Group struct {
	ID          string
	AccountID   string
	Name        string
	Description string
	CreatedAt   time.Time
}

// GroupUpdate changes the fields of a group that are not nil.
type GroupUpdate struct {
	Name        *string
	Description *string
}

// GroupFilter selects groups of one account. An empty UserID does not
// filter; otherwise only the groups the user belongs to are selected.
type GroupFilter struct {
	AccountID string
	UserID    string
}

// Policy is an identity policy: a named series of policy documents, one of
// which, the default version, is in effect.
type Policy struct {
	ID               string
	AccountID        string // empty for system policies
	Type             string // PolicyTypeCustom or PolicyTypeSystem
	Name             string
	Path             string
	Description      string
	DefaultVersionID string // "v1", "v2", …

	// AttachmentCount is the number of users and groups of the account
	// that the policy was looked up for which have it attached.
	AttachmentCount int

	CreatedAt time.Time
	UpdatedAt time.Time // when the default version last changed
}

// PolicyFilter selects the custom policies of one account and the system
// policies. Empty fields do not filter.
type PolicyFilter struct {
	AccountID    string
	Type         string // PolicyTypeCustom or PolicyTypeSystem
	PathPrefix   string
	OnlyAttached bool // only policies attached to a user or group of the account
}

// PolicyVersion is one version of a policy's document. Versions are
// immutable: a changed document is a new version.
type PolicyVersion struct {
	PolicyID  string
	ID        string // "v1", "v2", …; never reused within a policy
	Document  string // JSON, as the client sent it
	Default   bool
	CreatedAt time.Time
}

// AttachedPolicy is a policy attached to a user or a group.
type AttachedPolicy struct {
	Policy     *Policy
	AttachedAt time.Time
}

// PolicyAttachment is a user or group that a policy is attached to.
type PolicyAttachment struct {
	EntityType string // EntityUser or EntityGroup
	EntityID   string
	AttachedAt time.Time
}

// EffectivePolicy is the default version of a policy that applies to a
// user, attached to the user directly or to one of its groups.
type EffectivePolicy struct {
	PolicyID   string
	PolicyName string
	VersionID  string
	Document   string
}

// AuthFailures is the state of consecutive failed authentications of one
// credential, such as an access key or a user's password. The zero value
// means no recent failure.
type AuthFailures struct {
	Subject     string
	Count       int
	LockedUntil time.Time // zero when not locked
}

// IAMStore stores the IAM entities beyond the bootstrap identity: user
// attributes, passwords, access keys, groups, identity policies and their
// attachments, and the lockout state of credentials.
//
// Some changes can take permissions away from a user: disabling it,
// changing or removing its password, changing or deleting an access key,
// joining or leaving a group, and attaching, detaching or changing the
// default version of a policy. Each such change increases the
// CredentialGeneration of every user it affects, in the same transaction.
type IAMStore interface {
	// CreateIAMUser stores a new user with its IAM attributes. It sets an
	// empty ID and a zero CreatedAt like CreateUser, and returns ECONFLICT
	// when the account has a user of that name.
	CreateIAMUser(ctx context.Context, u *IAMUser) error
	// FindIAMUserByID returns ENOTFOUND when no user has that ID.
	FindIAMUserByID(ctx context.Context, id string) (*IAMUser, error)
	// FindIAMUsers returns the matching users, oldest first.
	FindIAMUsers(ctx context.Context, filter UserFilter) ([]*IAMUser, error)
	// UpdateUser returns the updated user, ENOTFOUND when it does not
	// exist and ECONFLICT when the new name is taken.
	UpdateUser(ctx context.Context, id string, update UserUpdate) (*IAMUser, error)
	// DeleteUser deletes the user with its access keys, login profile,
	// group memberships and policy attachments. It returns ENOTFOUND when
	// the user does not exist.
	DeleteUser(ctx context.Context, id string) error

	// CreateLoginProfile sets the user's first password. It returns
	// ENOTFOUND when the user does not exist and ECONFLICT when it already
	// has a login profile.
	CreateLoginProfile(ctx context.Context, p *LoginProfile) error
	// FindLoginProfile returns ENOTFOUND when the user has no password.
	FindLoginProfile(ctx context.Context, userID string) (*LoginProfile, error)
	// UpdateLoginProfile returns ENOTFOUND when the user has no password.
	UpdateLoginProfile(ctx context.Context, userID string, update LoginProfileUpdate) (*LoginProfile, error)
	// DeleteLoginProfile removes the password. It returns ENOTFOUND when
	// the user has none.
	DeleteLoginProfile(ctx context.Context, userID string) error

	// CreateUserAccessKey stores a new permanent access key of a user. It
	// returns EQUOTA when the user already has MaxAccessKeysPerUser
	// permanent keys, ECONFLICT when the AK is taken and ENOTFOUND when the
	// user does not exist.
	CreateUserAccessKey(ctx context.Context, k *AccessKey) error
	// CreateTemporaryAccessKey stores a key with a security token and an
	// expiry, and deletes the user's temporary keys that have expired.
	CreateTemporaryAccessKey(ctx context.Context, k *AccessKey) error
	// FindAccessKeys returns the user's permanent keys, oldest first,
	// without their secrets.
	FindAccessKeys(ctx context.Context, userID string) ([]*AccessKey, error)
	// UpdateAccessKey enables or disables a key and returns it without its
	// secret. It returns ENOTFOUND when the AK does not exist.
	UpdateAccessKey(ctx context.Context, id string, enabled bool) (*AccessKey, error)
	// DeleteAccessKey returns ENOTFOUND when the AK does not exist.
	DeleteAccessKey(ctx context.Context, id string) error

	// CreateGroup stores a new group, setting an empty ID and a zero
	// CreatedAt. It returns ECONFLICT when the account has a group of that
	// name.
	CreateGroup(ctx context.Context, g *Group) error
	// FindGroupByID returns ENOTFOUND when no group has that ID.
	FindGroupByID(ctx context.Context, id string) (*Group, error)
	// FindGroups returns the matching groups, oldest first.
	FindGroups(ctx context.Context, filter GroupFilter) ([]*Group, error)
	// UpdateGroup returns the updated group, ENOTFOUND when it does not
	// exist and ECONFLICT when the new name is taken.
	UpdateGroup(ctx context.Context, id string, update GroupUpdate) (*Group, error)
	// DeleteGroup deletes the group with its memberships and policy
	// attachments. It returns ENOTFOUND when the group does not exist.
	DeleteGroup(ctx context.Context, id string) error
	// AddUserToGroup makes the user a member; adding a member again does
	// nothing. It returns ENOTFOUND when the user or group does not exist.
	AddUserToGroup(ctx context.Context, groupID, userID string) error
	// RemoveUserFromGroup returns ENOTFOUND when the user is not a member.
	RemoveUserFromGroup(ctx context.Context, groupID, userID string) error

	// CreatePolicy stores a new custom policy whose version v1, holding
	// the document, is the default. It sets an empty ID and zero times,
	// and returns ECONFLICT when the account has a policy of that name.
	CreatePolicy(ctx context.Context, p *Policy, document string) error
	// PutSystemPolicy creates the system policy of that name, or, when its
	// default document differs, adds the document as a new default
	// version, deleting the oldest version past MaxPolicyVersions. It
	// returns the stored policy. Its ID is stable for the name.
	PutSystemPolicy(ctx context.Context, name, description, document string) (*Policy, error)
	// FindPolicyByID returns a custom policy of the account or a system
	// policy, with AttachmentCount counted in the account. It returns
	// ENOTFOUND for an unknown ID and for another account's policy.
	FindPolicyByID(ctx context.Context, accountID, id string) (*Policy, error)
	// FindPolicies returns the matching policies, system policies first,
	// then oldest first.
	FindPolicies(ctx context.Context, filter PolicyFilter) ([]*Policy, error)
	// DeletePolicy deletes a custom policy with its versions. It returns
	// ENOTFOUND when no such policy exists and ECONFLICT while the policy
	// is attached to a user or group.
	DeletePolicy(ctx context.Context, id string) error

	// CreatePolicyVersion adds a version, the default one when setDefault
	// is true. It returns EQUOTA when the policy already has
	// MaxPolicyVersions versions and ENOTFOUND when it does not exist.
	CreatePolicyVersion(ctx context.Context, policyID, document string, setDefault bool) (*PolicyVersion, error)
	// FindPolicyVersions returns the versions, oldest first.
	FindPolicyVersions(ctx context.Context, policyID string) ([]*PolicyVersion, error)
	// FindPolicyVersion returns ENOTFOUND when the version does not exist.
	FindPolicyVersion(ctx context.Context, policyID, versionID string) (*PolicyVersion, error)
	// DeletePolicyVersion returns ENOTFOUND when the version does not
	// exist and ECONFLICT for the default version.
	DeletePolicyVersion(ctx context.Context, policyID, versionID string) error
	// SetDefaultPolicyVersion returns ENOTFOUND when the version does not
	// exist.
	SetDefaultPolicyVersion(ctx context.Context, policyID, versionID string) error

	// AttachUserPolicy attaches a policy to a user; attaching it again
	// does nothing. It returns ENOTFOUND when either does not exist.
	AttachUserPolicy(ctx context.Context, policyID, userID string) error
	// DetachUserPolicy returns ENOTFOUND when the policy is not attached.
	DetachUserPolicy(ctx context.Context, policyID, userID string) error
	// AttachGroupPolicy attaches a policy to a group; attaching it again
	// does nothing. It returns ENOTFOUND when either does not exist.
	AttachGroupPolicy(ctx context.Context, policyID, groupID string) error
	// DetachGroupPolicy returns ENOTFOUND when the policy is not attached.
	DetachGroupPolicy(ctx context.Context, policyID, groupID string) error
	// FindAttachedPolicies returns the policies attached to a user or a
	// group (entityType EntityUser or EntityGroup), in the order they were
	// attached. AttachmentCount is counted in the entity's account.
	FindAttachedPolicies(ctx context.Context, entityType, entityID string) ([]*AttachedPolicy, error)
	// FindPolicyAttachments returns the users and groups of the account
	// that the policy is attached to, in the order they were attached.
	FindPolicyAttachments(ctx context.Context, accountID, policyID string) ([]*PolicyAttachment, error)
	// FindEffectivePolicies returns the default versions of the policies
	// attached to the user and to its groups, each policy once, ordered by
	// policy name and then ID.
	FindEffectivePolicies(ctx context.Context, userID string) ([]*EffectivePolicy, error)

	// FindAuthFailures returns the failure state of a subject, the zero
	// AuthFailures with Subject set when none is stored.
	FindAuthFailures(ctx context.Context, subject string) (*AuthFailures, error)
	// RecordAuthFailure counts one failed authentication of the subject at
	// now. When the count reaches threshold, the subject is locked until
	// now+lockFor. A failure after an expired lock starts a new count.
	// RecordAuthFailure returns the new state.
	RecordAuthFailure(ctx context.Context, subject string, now time.Time, threshold int, lockFor time.Duration) (*AuthFailures, error)
	// ResetAuthFailures deletes the subject's failure count and lock.
	ResetAuthFailures(ctx context.Context, subject string) error
}

// CallContext is the information about a call that an Authorizer uses
// besides its principal, action and resource. The HTTP layer puts it in
// the context passed to Authorize.
type CallContext struct {
	ProjectID string    // the project in the path, empty for global APIs
	Time      time.Time // the server's clock at the call

	// Keys are extra condition keys of the action, such as iam:PolicyURN
	// for attaching a policy.
	Keys map[string][]string
}

type callContextKey struct{}

// WithCallContext returns a context that carries cc.
func WithCallContext(ctx context.Context, cc CallContext) context.Context {
	return context.WithValue(ctx, callContextKey{}, cc)
}

// CallContextFrom returns the CallContext of ctx, and false when it has
// none.
func CallContextFrom(ctx context.Context) (CallContext, bool) {
	cc, ok := ctx.Value(callContextKey{}).(CallContext)
	return cc, ok
}

// DenialError is the EFORBIDDEN error of an Authorizer that evaluated
// identity policies. It names the statement that decided the denial, for
// the server's log. ErrorCode and ErrorMessage see the wrapped *Error.
type DenialError struct {
	Action   string
	Resource string

	// PolicyName, StatementIndex and Sid identify the Deny statement that
	// matched. For a denial because no statement allowed the action they
	// are "", -1 and "".
	PolicyName     string
	StatementIndex int
	Sid            string

	Err *Error
}

// Error returns the text of the wrapped *Error.
func (e *DenialError) Error() string { return e.Err.Error() }

// Unwrap returns the *Error that the client is shown.
func (e *DenialError) Unwrap() error { return e.Err }
