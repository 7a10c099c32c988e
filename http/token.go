package http

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
	"golang.org/x/crypto/bcrypt"

	"github.com/userevents/userevents"
)

// IAM tokens are self-contained: the claims below, sealed (AES-256-GCM)
// with Server.TokenKeys and base64url-encoded after a format prefix. A
// token is valid while it has not expired, its user exists and is enabled,
// and the user's credential generation still equals the one in the token,
// so that a password, key, membership or policy change ends it. No token
// is stored, and none is ever logged.

const (
	tokensPath  = "/v3/auth/tokens"
	tokenPrefix = "ue1."
	tokenKind   = "iam-token" // distinguishes a token from other sealed values

	// keystoneTime is the time layout of Keystone token bodies.
	keystoneTime = "2006-01-02T15:04:05.000000Z"
)

// tokenClaims is the sealed content of a token.
type tokenClaims struct {
	Kind       string   `json:"kind"`
	UserID     string   `json:"uid"`
	AccountID  string   `json:"aid"`
	Generation int64    `json:"gen"`
	ProjectID  string   `json:"pid,omitempty"` // empty for a token scoped to the account
	Methods    []string `json:"methods"`
	IssuedAt   int64    `json:"iat"` // Unix microseconds
	ExpiresAt  int64    `json:"exp"` // Unix microseconds
}

// isPasswordTokenRequest reports whether r is POST /v3/auth/tokens, whose
// credential is the password in its body.
func isPasswordTokenRequest(r *http.Request) bool {
	rc := chi.RouteContext(r.Context())
	return r.Method == http.MethodPost && rc != nil && rc.RoutePattern() == tokensPath
}

// passwordTokenRequest is the KeystoneCreateUserTokenByPassword body.
type passwordTokenRequest struct {
	Auth struct {
		Identity struct {
			Methods  []string `json:"methods"`
			Password *struct {
				User struct {
					ID       string `json:"id"`
					Name     string `json:"name"`
					Password string `json:"password"`
					Domain   *struct {
						ID   string `json:"id"`
						Name string `json:"name"`
					} `json:"domain"`
				} `json:"user"`
			} `json:"password"`
		} `json:"identity"`
		Scope *struct {
			Project *struct {
				ID   string `json:"id"`
				Name string `json:"name"`
			} `json:"project"`
			Domain *struct {
				ID   string `json:"id"`
				Name string `json:"name"`
			} `json:"domain"`
		} `json:"scope"`
	} `json:"auth"`
}

// decodePasswordTokenRequest decodes and checks the body of a password
// token request. Keystone clients send members this server does not model,
// so unknown members are ignored.
func decodePasswordTokenRequest(body []byte) (*passwordTokenRequest, error) {
	var req passwordTokenRequest
	if err := decodeLenient(body, &req); err != nil {
		return nil, err
	}

	id := req.Auth.Identity
	if !slices.Equal(id.Methods, []string{"password"}) {
		return nil, userevents.Errorf(userevents.EINVALID,
			"auth.identity.methods is %q; this server issues tokens for [\"password\"] only.", id.Methods)
	}
	if id.Password == nil {
		return nil, userevents.Errorf(userevents.EINVALID,
			"auth.identity.password is missing; send {\"user\":{\"name\":…,\"password\":…,\"domain\":{\"name\":…}}}.")
	}

	u := id.Password.User
	if u.Password == "" {
		return nil, userevents.Errorf(userevents.EINVALID, "auth.identity.password.user.password is missing.")
	}
	if u.ID == "" && (u.Name == "" || u.Domain == nil || (u.Domain.Name == "" && u.Domain.ID == "")) {
		return nil, userevents.Errorf(userevents.EINVALID,
			"Name the user by auth.identity.password.user.id, or by user.name with user.domain.name (the account name) or user.domain.id.")
	}

	scope := req.Auth.Scope
	if scope == nil || (scope.Project == nil) == (scope.Domain == nil) {
		return nil, userevents.Errorf(userevents.EINVALID,
			"auth.scope must name either a project ({\"project\":{\"name\":\"cn-north-4\"}} or its id) or the account ({\"domain\":{\"name\":…}}).")
	}
	if p := scope.Project; p != nil && p.ID == "" && p.Name == "" {
		return nil, userevents.Errorf(userevents.EINVALID, "auth.scope.project needs an id or a name.")
	}
	if d := scope.Domain; d != nil && d.ID == "" && d.Name == "" {
		return nil, userevents.Errorf(userevents.EINVALID, "auth.scope.domain needs an id or a name.")
	}
	return &req, nil
}

// wrongPassword is the one error for an unknown account, an unknown user,
// a user without a password and a wrong password, so that a caller cannot
// tell which part was wrong.
func wrongPassword() error {
	return userevents.Errorf(userevents.EUNAUTHENTICATED,
		"The account name, user name or password is wrong; check them and retry.")
}

// authenticatePassword checks the password of a token request. Wrong
// passwords count toward a lockout of the user's password.
func (s *Server) authenticatePassword(ctx context.Context, r *http.Request, body []byte) (*userevents.Principal, error) {
	req, err := decodePasswordTokenRequest(body)
	if err != nil {
		return nil, err
	}
	named := req.Auth.Identity.Password.User
	user, err := s.findPasswordUser(ctx, req)
	if err != nil {
		if userevents.ErrorCode(err) == userevents.EUNAUTHENTICATED {
			// Spend the time of a real check, so that the reply time does
			// not tell whether the user exists.
			_ = bcrypt.CompareHashAndPassword(s.dummyHash(), []byte(named.Password))
		}
		return nil, err
	}

	subject := "user:" + user.ID
	failures, err := s.checkLock(ctx, subject, "The password of user "+user.Name)
	if err != nil {
		return nil, err
	}
	hash := user.PasswordHash
	if hash == "" {
		hash = string(s.dummyHash())
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(named.Password)) != nil || user.PasswordHash == "" {
		s.recordFailure(ctx, r, subject)
		return nil, wrongPassword()
	}
	s.resetFailures(ctx, r, failures)
	return s.principal(ctx, r, user)
}

// findPasswordUser finds the user that a token request names. It returns
// wrongPassword when the account or user does not exist.
func (s *Server) findPasswordUser(ctx context.Context, req *passwordTokenRequest) (*userevents.User, error) {
	named := req.Auth.Identity.Password.User
	if named.ID != "" {
		user, err := s.Store.FindUserByID(ctx, named.ID)
		if userevents.ErrorCode(err) == userevents.ENOTFOUND {
			return nil, wrongPassword()
		} else if err != nil {
			return nil, fmt.Errorf("find user: %w", err)
		}
		return user, nil
	}

	var account *userevents.Account
	var err error
	if named.Domain.Name != "" {
		account, err = s.Store.FindAccountByName(ctx, named.Domain.Name)
	} else {
		account, err = s.Store.FindAccountByID(ctx, named.Domain.ID)
	}
	if userevents.ErrorCode(err) == userevents.ENOTFOUND {
		return nil, wrongPassword()
	} else if err != nil {
		return nil, fmt.Errorf("find account: %w", err)
	}
	if named.Domain.Name != "" && named.Domain.ID != "" && named.Domain.ID != account.ID {
		return nil, wrongPassword()
	}
	user, err := s.Store.FindUserByName(ctx, account.ID, named.Name)
	if userevents.ErrorCode(err) == userevents.ENOTFOUND {
		return nil, wrongPassword()
	} else if err != nil {
		return nil, fmt.Errorf("find user: %w", err)
	}
	return user, nil
}

var (
	dummyHashOnce sync.Once
	dummyHashText []byte
)

// dummyHash returns a bcrypt hash of a random-looking password at the
// server's cost, compared against when there is no real hash.
func (s *Server) dummyHash() []byte {
	dummyHashOnce.Do(func() {
		dummyHashText, _ = bcrypt.GenerateFromPassword([]byte("no password matches this one"), s.passwordCost())
	})
	return dummyHashText
}

func (s *Server) passwordCost() int {
	if s.PasswordCost == 0 {
		return bcrypt.DefaultCost
	}
	return s.PasswordCost
}

// hashPassword returns the bcrypt hash of a new password.
func (s *Server) hashPassword(password string) (string, error) {
	hash, err := bcrypt.GenerateFromPassword([]byte(password), s.passwordCost())
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(hash), nil
}

// createToken serves KeystoneCreateUserTokenByPassword. authenticate has
// already checked the password, so only the scope is left to resolve.
func (s *Server) createToken(c *call) error {
	req, err := decodePasswordTokenRequest(c.body)
	if err != nil {
		return err
	}
	user, err := s.Store.FindIAMUserByID(c.r.Context(), c.principal.UserID)
	if err != nil {
		return fmt.Errorf("find user: %w", err)
	}
	project, err := s.tokenScope(c, req)
	if err != nil {
		return err
	}

	now := s.now()
	claims := &tokenClaims{
		Kind:       tokenKind,
		UserID:     user.ID,
		AccountID:  user.AccountID,
		Generation: user.CredentialGeneration,
		Methods:    []string{"password"},
		IssuedAt:   now.UnixMicro(),
		ExpiresAt:  now.Add(userevents.TokenLifetime).UnixMicro(),
	}
	if project != nil {
		claims.ProjectID = project.ID
	}
	token, err := s.sealToken(claims)
	if err != nil {
		return err
	}
	s.logger(c.r).Info("token issued", "user_id", user.ID, "project_id", claims.ProjectID)
	c.w.Header().Set("X-Subject-Token", token)
	writeJSON(c.w, http.StatusCreated, map[string]any{"token": tokenBody(c.principal, user, project, claims)})
	return nil
}

// tokenScope returns the project a token request names, or nil for a
// token scoped to the user's account.
func (s *Server) tokenScope(c *call, req *passwordTokenRequest) (*userevents.Project, error) {
	scope := req.Auth.Scope
	if d := scope.Domain; d != nil {
		if (d.ID != "" && d.ID != c.principal.AccountID) || (d.Name != "" && d.Name != c.principal.AccountName) {
			return nil, userevents.Errorf(userevents.EINVALID,
				"auth.scope.domain must be the user's own account %s (%s).", c.principal.AccountName, c.principal.AccountID)
		}
		return nil, nil
	}

	p := scope.Project
	projects, err := s.Store.FindProjects(c.r.Context(), userevents.ProjectFilter{
		AccountID: c.principal.AccountID, ID: p.ID, Name: p.Name,
	})
	if err != nil {
		return nil, fmt.Errorf("find projects: %w", err)
	}
	if len(projects) == 0 {
		return nil, userevents.Errorf(userevents.EINVALID,
			"auth.scope.project (id %q, name %q) is not a project of account %s; use a project that GET /v3/projects returns.",
			p.ID, p.Name, c.principal.AccountName)
	}
	return projects[0], nil
}

// tokenBody returns the Keystone token object of a token response.
func tokenBody(p *userevents.Principal, user *userevents.IAMUser, project *userevents.Project, claims *tokenClaims) map[string]any {
	domain := map[string]string{"id": p.AccountID, "name": p.AccountName}
	body := map[string]any{
		"methods":    claims.Methods,
		"issued_at":  time.UnixMicro(claims.IssuedAt).UTC().Format(keystoneTime),
		"expires_at": time.UnixMicro(claims.ExpiresAt).UTC().Format(keystoneTime),
		"user": map[string]any{
			"id":                  user.ID,
			"name":                user.Name,
			"domain":              domain,
			"password_expires_at": "",
		},
		"roles":   []any{},
		"catalog": []any{},
	}
	if project != nil {
		body["project"] = map[string]any{"id": project.ID, "name": project.Name, "domain": domain}
	} else {
		body["domain"] = domain
	}
	return body
}

// validateTokenRequest serves KeystoneValidateToken: it returns the body of
// the token in X-Subject-Token, which must belong to the caller's account.
// An invalid subject token is 404, as in Keystone.
func (s *Server) validateTokenRequest(c *call) error {
	subject := c.r.Header.Get("X-Subject-Token")
	if subject == "" {
		return userevents.Errorf(userevents.EINVALID,
			"The X-Subject-Token header is missing; send the token to validate in it.")
	}
	claims, user, err := s.validateToken(c.r.Context(), subject, "X-Subject-Token")
	if userevents.ErrorCode(err) == userevents.EUNAUTHENTICATED {
		return userevents.Errorf(userevents.ENOTFOUND, "%s", userevents.ErrorMessage(err))
	} else if err != nil {
		return err
	}
	if user.AccountID != c.principal.AccountID {
		return userevents.Errorf(userevents.ENOTFOUND,
			"X-Subject-Token is not a valid token of account %s.", c.principal.AccountName)
	}

	var project *userevents.Project
	if claims.ProjectID != "" {
		if project, err = s.Store.FindProjectByID(c.r.Context(), claims.ProjectID); err != nil {
			return fmt.Errorf("find project of token: %w", err)
		}
	}
	owner := &userevents.Principal{AccountID: c.principal.AccountID, AccountName: c.principal.AccountName}
	c.w.Header().Set("X-Subject-Token", subject)
	writeJSON(c.w, http.StatusOK, map[string]any{"token": tokenBody(owner, user, project, claims)})
	return nil
}

// sealToken encodes and seals token claims.
func (s *Server) sealToken(claims *tokenClaims) (string, error) {
	if s.TokenKeys == nil {
		return "", userevents.Errorf(userevents.EUNAVAILABLE,
			"This server is not configured to issue tokens; sign requests with an AK/SK instead.")
	}
	plain, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("encode token: %w", err)
	}
	sealed, err := s.TokenKeys.Seal(plain)
	if err != nil {
		return "", fmt.Errorf("seal token: %w", err)
	}
	return tokenPrefix + base64.RawURLEncoding.EncodeToString(sealed), nil
}

// validateToken opens a token and checks that it is still valid. header
// names where the token came from, for messages. Every failure is
// EUNAUTHENTICATED.
func (s *Server) validateToken(ctx context.Context, token, header string) (*tokenClaims, *userevents.IAMUser, error) {
	claims, err := s.openToken(token, header)
	if err != nil {
		return nil, nil, err
	}
	if now := s.now(); !now.Before(time.UnixMicro(claims.ExpiresAt)) {
		return nil, nil, userevents.Errorf(userevents.EUNAUTHENTICATED,
			"%s expired at %s; get a new token from POST /v3/auth/tokens.",
			header, time.UnixMicro(claims.ExpiresAt).UTC().Format(time.RFC3339))
	}

	user, err := s.Store.FindIAMUserByID(ctx, claims.UserID)
	if userevents.ErrorCode(err) == userevents.ENOTFOUND {
		return nil, nil, userevents.Errorf(userevents.EUNAUTHENTICATED,
			"The user of %s no longer exists; get a token for an existing user.", header)
	} else if err != nil {
		return nil, nil, fmt.Errorf("find user of token: %w", err)
	}
	if user.AccountID != claims.AccountID || user.CredentialGeneration != claims.Generation {
		return nil, nil, userevents.Errorf(userevents.EUNAUTHENTICATED,
			"%s was revoked because the password, access keys, groups, permissions or state of user %s changed after it was issued; get a new token.",
			header, user.Name)
	}
	if !user.Enabled {
		return nil, nil, userevents.Errorf(userevents.EUNAUTHENTICATED,
			"User %s is disabled; ask the account administrator to enable it.", user.Name)
	}
	return claims, user, nil
}

// openToken decodes and opens a token of this server.
func (s *Server) openToken(token, header string) (*tokenClaims, error) {
	invalid := userevents.Errorf(userevents.EUNAUTHENTICATED,
		"%s is not a valid token of this server; get one from POST /v3/auth/tokens on the IAM endpoint.", header)
	if s.TokenKeys == nil {
		return nil, userevents.Errorf(userevents.EUNAUTHENTICATED,
			"This server is not configured for tokens; sign the request with an AK/SK (SDK-HMAC-SHA256).")
	}
	encoded, ok := strings.CutPrefix(strings.TrimSpace(token), tokenPrefix)
	if !ok {
		return nil, invalid
	}
	sealed, err := base64.RawURLEncoding.DecodeString(encoded)
	if err != nil {
		return nil, invalid
	}
	plain, err := s.TokenKeys.Open(sealed)
	if err != nil {
		return nil, invalid
	}
	var claims tokenClaims
	if err := json.Unmarshal(plain, &claims); err != nil || claims.Kind != tokenKind {
		return nil, invalid
	}
	return &claims, nil
}
