package http

import (
	"fmt"
	"net/http"
	"unicode"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"

	"github.com/userevents/userevents"
	"github.com/userevents/userevents/auth"
)

// IAM 5.0 actions of users, access keys and login profiles.
const (
	actionCreateUser         = "iam:users:createUserV5"
	actionGetUser            = "iam:users:getUserV5"
	actionListUsers          = "iam:users:listUsersV5"
	actionUpdateUser         = "iam:users:updateUserV5"
	actionDeleteUser         = "iam:users:deleteUserV5"
	actionCreateAccessKey    = "iam:credentials:createCredentialV5"
	actionListAccessKeys     = "iam:credentials:listCredentialsV5"
	actionUpdateAccessKey    = "iam:credentials:updateCredentialV5"
	actionDeleteAccessKey    = "iam:credentials:deleteCredentialV5"
	actionCreateLoginProfile = "iam:users:createLoginProfileV5"
	actionShowLoginProfile   = "iam:users:showLoginProfileV5"
	actionUpdateLoginProfile = "iam:users:updateLoginProfileV5" // inferred
	actionDeleteLoginProfile = "iam:users:deleteLoginProfileV5"
)

func (s *Server) userRoutes() []route {
	const (
		users      = "/v5/users"
		user       = users + "/{user_id}"
		accessKeys = user + "/access-keys"
		accessKey  = accessKeys + "/{access_key_id}"
		profile    = user + "/login-profile"
	)
	createResource := func(c *call) string {
		return userURN(c.principal.AccountID, bodyString(c.body, "name"))
	}
	return []route{
		{method: http.MethodPost, pattern: users, action: actionCreateUser, resource: createResource, handle: s.createUserV5,
			doc: doc{summary: "CreateUserV5: create an IAM user", request: createUserRequest{}, response: userResponse{}, status: http.StatusCreated}},
		{method: http.MethodGet, pattern: users, action: actionListUsers, handle: s.listUsersV5,
			doc: doc{summary: "ListUsersV5: the account's IAM users, or a group's members",
				query: append([]param{{"group_id", "string", false, "only the members of this group"}}, listParams...), response: listUsersResponse{}}},
		{method: http.MethodGet, pattern: user, action: actionGetUser, resource: s.userResource, handle: s.showUserV5,
			doc: doc{summary: "ShowUserV5: one IAM user", response: userExResponse{}}},
		{method: http.MethodPut, pattern: user, action: actionUpdateUser, resource: s.userResource, handle: s.updateUserV5,
			doc: doc{summary: "UpdateUserV5: rename, describe, enable or disable a user", request: updateUserRequest{}, response: userResponse{}}},
		{method: http.MethodDelete, pattern: user, action: actionDeleteUser, resource: s.userResource, handle: s.deleteUserV5,
			doc: doc{summary: "DeleteUserV5: delete a user with its keys, password, memberships and attachments", status: http.StatusNoContent}},

		{method: http.MethodPost, pattern: accessKeys, action: actionCreateAccessKey, resource: s.userResource, handle: s.createAccessKeyV5,
			doc: doc{summary: "CreateAccessKeyV5: create a permanent access key (at most 2 per user)", response: accessKeyResponse{}, status: http.StatusCreated}},
		{method: http.MethodGet, pattern: accessKeys, action: actionListAccessKeys, resource: s.userResource, handle: s.listAccessKeysV5,
			doc: doc{summary: "ListAccessKeysV5: a user's permanent access keys", query: listParams, response: listAccessKeysResponse{}}},
		{method: http.MethodPut, pattern: accessKey, action: actionUpdateAccessKey, resource: s.userResource, handle: s.updateAccessKeyV5,
			doc: doc{summary: "UpdateAccessKeyV5: activate or deactivate an access key", request: updateAccessKeyRequest{}, response: accessKeyMetadataResponse{}}},
		{method: http.MethodDelete, pattern: accessKey, action: actionDeleteAccessKey, resource: s.userResource, handle: s.deleteAccessKeyV5,
			doc: doc{summary: "DeleteAccessKeyV5: delete an access key", status: http.StatusNoContent}},

		{method: http.MethodPost, pattern: profile, action: actionCreateLoginProfile, resource: s.userResource, handle: s.createLoginProfileV5,
			doc: doc{summary: "CreateLoginProfileV5: set a user's first password", request: createLoginProfileRequest{}, response: loginProfileResponse{}, status: http.StatusCreated}},
		{method: http.MethodGet, pattern: profile, action: actionShowLoginProfile, resource: s.userResource, handle: s.showLoginProfileV5,
			doc: doc{summary: "ShowLoginProfileV5: whether and since when a user has a password", response: loginProfileResponse{}}},
		{method: http.MethodPut, pattern: profile, action: actionUpdateLoginProfile, resource: s.userResource, handle: s.updateLoginProfileV5,
			doc: doc{summary: "UpdateLoginProfileV5: change a user's password", request: updateLoginProfileRequest{}, response: loginProfileResponse{}}},
		{method: http.MethodDelete, pattern: profile, action: actionDeleteLoginProfile, resource: s.userResource, handle: s.deleteLoginProfileV5,
			doc: doc{summary: "DeleteLoginProfileV5: remove a user's password", status: http.StatusNoContent}},
	}
}

// userV5 is the User object of the IAM 5.0 API.
type userV5 struct {
	Description string `json:"description"`
	UserName    string `json:"user_name"`
	IsRootUser  bool   `json:"is_root_user"`
	CreatedAt   string `json:"created_at"`
	UserID      string `json:"user_id"`
	URN         string `json:"urn"`
	Enabled     bool   `json:"enabled"`
}

// tagV5 is a resource tag. The server keeps no tags; UserEx lists none.
type tagV5 struct {
	TagKey   string `json:"tag_key"`
	TagValue string `json:"tag_value"`
}

// userExV5 is the UserEx object of ShowUserV5: a userV5 with tags. It
// repeats the fields instead of embedding userV5 so that the OpenAPI
// schema, which skips embedded fields, lists them.
type userExV5 struct {
	Description string  `json:"description"`
	UserName    string  `json:"user_name"`
	IsRootUser  bool    `json:"is_root_user"`
	CreatedAt   string  `json:"created_at"`
	UserID      string  `json:"user_id"`
	URN         string  `json:"urn"`
	Enabled     bool    `json:"enabled"`
	Tags        []tagV5 `json:"tags"`
}

type userResponse struct {
	User userV5 `json:"user"`
}

type userExResponse struct {
	User userExV5 `json:"user"`
}

type listUsersResponse struct {
	Users    []userV5 `json:"users"`
	PageInfo pageInfo `json:"page_info"`
}

func newUserV5(u *userevents.IAMUser) userV5 {
	return userV5{
		Description: u.Description,
		UserName:    u.Name,
		IsRootUser:  u.Root,
		CreatedAt:   iamTime(u.CreatedAt),
		UserID:      u.ID,
		URN:         userURN(u.AccountID, u.Name),
		Enabled:     u.Enabled,
	}
}

type createUserRequest struct {
	Name        string  `json:"name"`
	Description *string `json:"description"`
	Enabled     *bool   `json:"enabled"`
}

func (s *Server) createUserV5(c *call) error {
	var req createUserRequest
	if err := decodeStrict(c.body, &req); err != nil {
		return err
	}
	if err := validateUserName("name", req.Name); err != nil {
		return err
	}
	if req.Enabled == nil {
		return userevents.Errorf(userevents.EINVALID,
			"The member \"enabled\" is required; send true to let the user sign in, or false.")
	}
	u := &userevents.IAMUser{User: userevents.User{
		AccountID: c.principal.AccountID, Name: req.Name, Enabled: *req.Enabled, CreatedAt: s.now(),
	}}
	if req.Description != nil {
		if err := validateDescription("description", *req.Description); err != nil {
			return err
		}
		u.Description = *req.Description
	}
	if err := s.Store.CreateIAMUser(c.r.Context(), u); err != nil {
		return err
	}
	s.logger(c.r).Info("iam user created", "user_id", u.ID, "user_name", u.Name, "by", c.principal.UserID)
	writeJSON(c.w, http.StatusCreated, userResponse{User: newUserV5(u)})
	return nil
}

func (s *Server) listUsersV5(c *call) error {
	filter := userevents.UserFilter{AccountID: c.principal.AccountID}
	if id := c.query.Get("group_id"); id != "" {
		if _, err := s.accountGroup(c, id); err != nil {
			return err
		}
		filter.GroupID = id
	}
	users, err := s.Store.FindIAMUsers(c.r.Context(), filter)
	if err != nil {
		return fmt.Errorf("find users: %w", err)
	}
	page, info, err := paginate(c, users, func(u *userevents.IAMUser) string { return createdKey(u.CreatedAt, u.ID) })
	if err != nil {
		return err
	}
	resp := listUsersResponse{Users: make([]userV5, len(page)), PageInfo: info}
	for i, u := range page {
		resp.Users[i] = newUserV5(u)
	}
	writeJSON(c.w, http.StatusOK, resp)
	return nil
}

func (s *Server) showUserV5(c *call) error {
	u, err := s.accountUser(c, chi.URLParam(c.r, "user_id"))
	if err != nil {
		return err
	}
	v := newUserV5(u)
	writeJSON(c.w, http.StatusOK, userExResponse{User: userExV5{
		Description: v.Description, UserName: v.UserName, IsRootUser: v.IsRootUser, CreatedAt: v.CreatedAt,
		UserID: v.UserID, URN: v.URN, Enabled: v.Enabled, Tags: []tagV5{},
	}})
	return nil
}

type updateUserRequest struct {
	NewUserName    *string `json:"new_user_name"`
	NewDescription *string `json:"new_description"`
	Enabled        *bool   `json:"enabled"`
}

func (s *Server) updateUserV5(c *call) error {
	var req updateUserRequest
	if err := decodeStrict(c.body, &req); err != nil {
		return err
	}
	if req.NewUserName == nil && req.NewDescription == nil && req.Enabled == nil {
		return userevents.Errorf(userevents.EINVALID,
			"The body changes nothing; send \"new_user_name\", \"new_description\" or \"enabled\".")
	}
	u, err := s.accountUser(c, chi.URLParam(c.r, "user_id"))
	if err != nil {
		return err
	}
	if req.NewUserName != nil {
		if err := validateUserName("new_user_name", *req.NewUserName); err != nil {
			return err
		}
		if u.Root && *req.NewUserName != u.Name {
			return userevents.Errorf(userevents.ECONFLICT,
				"The account root user %s cannot be renamed; its name is the account name.", u.Name)
		}
	}
	if req.NewDescription != nil {
		if err := validateDescription("new_description", *req.NewDescription); err != nil {
			return err
		}
	}
	if u.Root && req.Enabled != nil && !*req.Enabled {
		return userevents.Errorf(userevents.ECONFLICT, "The account root user %s cannot be disabled.", u.Name)
	}

	u, err = s.Store.UpdateUser(c.r.Context(), u.ID, userevents.UserUpdate{
		Name: req.NewUserName, Description: req.NewDescription, Enabled: req.Enabled,
	})
	if err != nil {
		return err
	}
	s.logger(c.r).Info("iam user updated", "user_id", u.ID, "enabled", u.Enabled, "by", c.principal.UserID)
	writeJSON(c.w, http.StatusOK, userResponse{User: newUserV5(u)})
	return nil
}

func (s *Server) deleteUserV5(c *call) error {
	u, err := s.accountUser(c, chi.URLParam(c.r, "user_id"))
	if err != nil {
		return err
	}
	if u.Root {
		return userevents.Errorf(userevents.ECONFLICT, "The account root user %s cannot be deleted.", u.Name)
	}
	if err := s.Store.DeleteUser(c.r.Context(), u.ID); err != nil {
		return err
	}
	s.logger(c.r).Info("iam user deleted", "user_id", u.ID, "user_name", u.Name, "by", c.principal.UserID)
	writeNoContent(c.w)
	return nil
}

// Access key statuses of the IAM 5.0 API.
const (
	keyActive   = "active"
	keyInactive = "inactive"
)

func keyStatus(enabled bool) string {
	if enabled {
		return keyActive
	}
	return keyInactive
}

// accessKeyMetadataV5 is the AccessKeyMetadata object: a key without its
// secret.
type accessKeyMetadataV5 struct {
	UserID      string `json:"user_id"`
	AccessKeyID string `json:"access_key_id"`
	CreatedAt   string `json:"created_at"`
	Status      string `json:"status"`
}

// accessKeyV5 is the AccessKey object, which only CreateAccessKeyV5
// returns: the metadata and the secret.
type accessKeyV5 struct {
	UserID          string `json:"user_id"`
	AccessKeyID     string `json:"access_key_id"`
	CreatedAt       string `json:"created_at"`
	Status          string `json:"status"`
	SecretAccessKey string `json:"secret_access_key"`
}

type accessKeyResponse struct {
	AccessKey accessKeyV5 `json:"access_key"`
}

type accessKeyMetadataResponse struct {
	AccessKey accessKeyMetadataV5 `json:"access_key"`
}

type listAccessKeysResponse struct {
	AccessKeys []accessKeyMetadataV5 `json:"access_keys"`
	PageInfo   pageInfo              `json:"page_info"`
}

func newAccessKeyMetadataV5(k *userevents.AccessKey) accessKeyMetadataV5 {
	return accessKeyMetadataV5{
		UserID:      k.UserID,
		AccessKeyID: k.ID,
		CreatedAt:   iamTime(k.CreatedAt),
		Status:      keyStatus(k.Enabled),
	}
}

func (s *Server) createAccessKeyV5(c *call) error {
	u, err := s.accountUser(c, chi.URLParam(c.r, "user_id"))
	if err != nil {
		return err
	}
	k := &userevents.AccessKey{
		ID:        auth.NewAccessKeyID(),
		Secret:    userevents.Secret(auth.NewSecretKey()),
		UserID:    u.ID,
		AccountID: u.AccountID,
		Enabled:   true,
		CreatedAt: s.now(),
	}
	if err := s.Store.CreateUserAccessKey(c.r.Context(), k); err != nil {
		return err
	}
	s.logger(c.r).Info("access key created", "user_id", u.ID, "access_key_id", k.ID, "by", c.principal.UserID)
	writeJSON(c.w, http.StatusCreated, accessKeyResponse{AccessKey: accessKeyV5{
		UserID:          k.UserID,
		AccessKeyID:     k.ID,
		CreatedAt:       iamTime(k.CreatedAt),
		Status:          keyStatus(k.Enabled),
		SecretAccessKey: string(k.Secret),
	}})
	return nil
}

func (s *Server) listAccessKeysV5(c *call) error {
	u, err := s.accountUser(c, chi.URLParam(c.r, "user_id"))
	if err != nil {
		return err
	}
	keys, err := s.Store.FindAccessKeys(c.r.Context(), u.ID)
	if err != nil {
		return fmt.Errorf("find access keys: %w", err)
	}
	page, info, err := paginate(c, keys, func(k *userevents.AccessKey) string { return createdKey(k.CreatedAt, k.ID) })
	if err != nil {
		return err
	}
	resp := listAccessKeysResponse{AccessKeys: make([]accessKeyMetadataV5, len(page)), PageInfo: info}
	for i, k := range page {
		resp.AccessKeys[i] = newAccessKeyMetadataV5(k)
	}
	writeJSON(c.w, http.StatusOK, resp)
	return nil
}

// userAccessKey returns the permanent key in the path, which must belong
// to the user in the path.
func (s *Server) userAccessKey(c *call) (*userevents.AccessKey, error) {
	u, err := s.accountUser(c, chi.URLParam(c.r, "user_id"))
	if err != nil {
		return nil, err
	}
	id := chi.URLParam(c.r, "access_key_id")
	k, err := s.Store.FindAccessKey(c.r.Context(), id)
	if err != nil && userevents.ErrorCode(err) != userevents.ENOTFOUND {
		return nil, fmt.Errorf("find access key: %w", err)
	}
	if err != nil || k.UserID != u.ID || !k.ExpiresAt.IsZero() {
		return nil, userevents.Errorf(userevents.ENOTFOUND,
			"User %s has no permanent access key %q; use an access_key_id from ListAccessKeysV5.", u.Name, id)
	}
	return k, nil
}

type updateAccessKeyRequest struct {
	Status string `json:"status"`
}

func (s *Server) updateAccessKeyV5(c *call) error {
	var req updateAccessKeyRequest
	if err := decodeStrict(c.body, &req); err != nil {
		return err
	}
	if req.Status != keyActive && req.Status != keyInactive {
		return userevents.Errorf(userevents.EINVALID,
			"The member \"status\" is %q; send \"active\" or \"inactive\".", req.Status)
	}
	k, err := s.userAccessKey(c)
	if err != nil {
		return err
	}
	k, err = s.Store.UpdateAccessKey(c.r.Context(), k.ID, req.Status == keyActive)
	if err != nil {
		return err
	}
	s.logger(c.r).Info("access key updated", "user_id", k.UserID, "access_key_id", k.ID,
		"status", req.Status, "by", c.principal.UserID)
	writeJSON(c.w, http.StatusOK, accessKeyMetadataResponse{AccessKey: newAccessKeyMetadataV5(k)})
	return nil
}

func (s *Server) deleteAccessKeyV5(c *call) error {
	k, err := s.userAccessKey(c)
	if err != nil {
		return err
	}
	if err := s.Store.DeleteAccessKey(c.r.Context(), k.ID); err != nil {
		return err
	}
	s.logger(c.r).Info("access key deleted", "user_id", k.UserID, "access_key_id", k.ID, "by", c.principal.UserID)
	writeNoContent(c.w)
	return nil
}

// loginProfileV5 is the LoginProfile object. Passwords do not expire on
// this server, so password_expires_at is left out.
type loginProfileV5 struct {
	UserID                string `json:"user_id"`
	PasswordResetRequired bool   `json:"password_reset_required"`
	CreatedAt             string `json:"created_at"`
}

type loginProfileResponse struct {
	LoginProfile loginProfileV5 `json:"login_profile"`
}

func newLoginProfileResponse(p *userevents.LoginProfile) loginProfileResponse {
	return loginProfileResponse{LoginProfile: loginProfileV5{
		UserID:                p.UserID,
		PasswordResetRequired: p.PasswordResetRequired,
		CreatedAt:             iamTime(p.CreatedAt),
	}}
}

type createLoginProfileRequest struct {
	Password              string `json:"password"`
	PasswordResetRequired bool   `json:"password_reset_required"`
}

func (s *Server) createLoginProfileV5(c *call) error {
	var req createLoginProfileRequest
	if err := decodeStrict(c.body, &req); err != nil {
		return err
	}
	u, err := s.accountUser(c, chi.URLParam(c.r, "user_id"))
	if err != nil {
		return err
	}
	if err := validatePassword(u.Name, req.Password); err != nil {
		return err
	}
	hash, err := s.hashPassword(req.Password)
	if err != nil {
		return err
	}
	p := &userevents.LoginProfile{UserID: u.ID, PasswordHash: hash,
		PasswordResetRequired: req.PasswordResetRequired, CreatedAt: s.now()}
	if err := s.Store.CreateLoginProfile(c.r.Context(), p); err != nil {
		return err
	}
	s.logger(c.r).Info("password set", "user_id", u.ID, "by", c.principal.UserID)
	writeJSON(c.w, http.StatusCreated, newLoginProfileResponse(p))
	return nil
}

func (s *Server) showLoginProfileV5(c *call) error {
	u, err := s.accountUser(c, chi.URLParam(c.r, "user_id"))
	if err != nil {
		return err
	}
	p, err := s.Store.FindLoginProfile(c.r.Context(), u.ID)
	if err != nil {
		return err
	}
	writeJSON(c.w, http.StatusOK, newLoginProfileResponse(p))
	return nil
}

type updateLoginProfileRequest struct {
	Password              *string `json:"password"`
	PasswordResetRequired *bool   `json:"password_reset_required"`
}

func (s *Server) updateLoginProfileV5(c *call) error {
	var req updateLoginProfileRequest
	if err := decodeStrict(c.body, &req); err != nil {
		return err
	}
	if req.Password == nil && req.PasswordResetRequired == nil {
		return userevents.Errorf(userevents.EINVALID,
			"The body changes nothing; send \"password\", \"password_reset_required\" or both.")
	}
	u, err := s.accountUser(c, chi.URLParam(c.r, "user_id"))
	if err != nil {
		return err
	}
	update := userevents.LoginProfileUpdate{PasswordResetRequired: req.PasswordResetRequired}
	if req.Password != nil {
		if err := validatePassword(u.Name, *req.Password); err != nil {
			return err
		}
		hash, err := s.hashPassword(*req.Password)
		if err != nil {
			return err
		}
		update.PasswordHash = &hash
	}
	p, err := s.Store.UpdateLoginProfile(c.r.Context(), u.ID, update)
	if err != nil {
		return err
	}
	s.logger(c.r).Info("login profile updated", "user_id", u.ID, "password_changed", req.Password != nil,
		"by", c.principal.UserID)
	writeJSON(c.w, http.StatusOK, newLoginProfileResponse(p))
	return nil
}

func (s *Server) deleteLoginProfileV5(c *call) error {
	u, err := s.accountUser(c, chi.URLParam(c.r, "user_id"))
	if err != nil {
		return err
	}
	if u.Root {
		return userevents.Errorf(userevents.ECONFLICT,
			"The password of the account root user %s cannot be removed; change it with UpdateLoginProfileV5 instead.", u.Name)
	}
	if err := s.Store.DeleteLoginProfile(c.r.Context(), u.ID); err != nil {
		return err
	}
	s.logger(c.r).Info("password removed", "user_id", u.ID, "by", c.principal.UserID)
	writeNoContent(c.w)
	return nil
}

// Password limits of this server.
const (
	minPasswordLength = 8
	maxPasswordLength = 128
)

// validatePassword checks a new password: 8 to 128 characters of at least
// two of the kinds upper-case letter, lower-case letter, digit and other,
// and neither the user name nor the user name reversed.
//
// NOTE: this is the server's own rule, modelled on the kind of default
// password policy Huawei Cloud IAM applies; Huawei's exact default was not
// checked, and the password policy APIs are not served.
func validatePassword(userName, password string) error {
	n := utf8.RuneCountInString(password)
	if n < minPasswordLength || n > maxPasswordLength {
		return userevents.Errorf(userevents.EINVALID,
			"The password has %d characters; use %d to %d.", n, minPasswordLength, maxPasswordLength)
	}
	var upper, lower, digit, other bool
	for _, r := range password {
		switch {
		case unicode.IsUpper(r):
			upper = true
		case unicode.IsLower(r):
			lower = true
		case unicode.IsDigit(r):
			digit = true
		default:
			other = true
		}
	}
	kinds := 0
	for _, k := range []bool{upper, lower, digit, other} {
		if k {
			kinds++
		}
	}
	if kinds < 2 {
		return userevents.Errorf(userevents.EINVALID,
			"The password uses one kind of character; mix at least two of upper-case letters, lower-case letters, digits and special characters.")
	}
	if password == userName || password == reverse(userName) {
		return userevents.Errorf(userevents.EINVALID, "The password must not be the user name or the user name reversed.")
	}
	return nil
}

func reverse(s string) string {
	r := []rune(s)
	for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
		r[i], r[j] = r[j], r[i]
	}
	return string(r)
}
