package http

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/userevents/userevents"
	"github.com/userevents/userevents/auth"
)

// Defaults of the credential lockout. The API gateway of Huawei Cloud
// locks an access key for 5 minutes after more than 5 consecutive
// failures, by the messages it documents.
//
// NOTE: Huawei does not document whether the gateway locks at the fifth or
// the sixth failure. The server locks at the fifth, so the sixth request is
// rejected as locked.
const (
	DefaultLockoutThreshold = 5
	DefaultLockoutDuration  = 5 * time.Minute
)

// authenticate turns the request's credential into a principal. The
// credential is the password in the body of POST /v3/auth/tokens, else the
// AK/SK signature in Authorization, else the X-Auth-Token header. Every
// failure is EUNAUTHENTICATED, or ELOCKED for a locked credential, with a
// message that names what failed.
func (s *Server) authenticate(ctx context.Context, r *http.Request, body []byte) (*userevents.Principal, error) {
	var p *userevents.Principal
	var err error
	switch {
	case isPasswordTokenRequest(r):
		p, err = s.authenticatePassword(ctx, r, body)
	case r.Header.Get("Authorization") != "":
		p, err = s.authenticateSignature(ctx, r, body)
	case r.Header.Get("X-Auth-Token") != "":
		p, err = s.authenticateToken(ctx, r)
	default:
		return nil, userevents.Errorf(userevents.EUNAUTHENTICATED,
			"The request carries no credential; sign it with an AK/SK (SDK-HMAC-SHA256 Authorization and X-Sdk-Date headers) or send an X-Auth-Token from POST /v3/auth/tokens.")
	}
	if err != nil {
		return nil, err
	}

	// The SDK's global credentials send the account id this way, like
	// X-Project-Id for project credentials.
	if d := r.Header.Get("X-Domain-Id"); d != "" && d != p.AccountID {
		return nil, userevents.Errorf(userevents.EFORBIDDEN,
			"The X-Domain-Id header %q is not the caller's account %s; send the account id that GET /v3/auth/domains returns, or leave the header out.",
			d, p.AccountID)
	}
	return p, nil
}

// authenticateSignature verifies an AK/SK signature. A failed check of an
// existing, enabled and unexpired key counts toward its lockout, and a
// success resets the count.
func (s *Server) authenticateSignature(ctx context.Context, r *http.Request, body []byte) (*userevents.Principal, error) {
	a, err := auth.ParseAuthorization(r.Header.Get("Authorization"))
	if err != nil {
		return nil, err
	}
	subject := "ak:" + a.AccessKeyID
	failures, err := s.checkLock(ctx, subject, "Access key "+a.AccessKeyID)
	if err != nil {
		return nil, err
	}

	keys := &keyRecorder{KeyLookup: s.Verifier.Keys}
	verifier := *s.Verifier
	verifier.Keys = keys
	key, err := verifier.Verify(ctx, r, body)
	if err != nil {
		if userevents.ErrorCode(err) == userevents.EUNAUTHENTICATED && keys.usable(s.now()) {
			s.recordFailure(ctx, r, subject)
		}
		return nil, err
	}
	s.resetFailures(ctx, r, failures)

	user, err := s.Store.FindUserByID(ctx, key.UserID)
	if userevents.ErrorCode(err) == userevents.ENOTFOUND {
		return nil, userevents.Errorf(userevents.EUNAUTHENTICATED,
			"The user of access key %s no longer exists; use a key of an existing user.", key.ID)
	} else if err != nil {
		return nil, fmt.Errorf("find user of access key: %w", err)
	}
	p, err := s.principal(ctx, r, user)
	if err != nil {
		return nil, err
	}
	p.AccessKeyID = key.ID
	return p, nil
}

// keyRecorder is a KeyLookup that keeps the key a Verifier found, so that
// a failed verification of an existing key can be distinguished from an
// unknown AK.
type keyRecorder struct {
	auth.KeyLookup
	key *userevents.AccessKey
}

// FindAccessKey implements auth.KeyLookup and records the key it finds.
func (k *keyRecorder) FindAccessKey(ctx context.Context, id string) (*userevents.AccessKey, error) {
	key, err := k.KeyLookup.FindAccessKey(ctx, id)
	if err == nil {
		k.key = key
	}
	return key, err
}

// usable reports whether the recorded key exists, is enabled and has not
// expired. Only failures of such a key count toward a lockout, because a
// disabled or expired key cannot be used anyway.
func (k *keyRecorder) usable(now time.Time) bool {
	return k.key != nil && k.key.Enabled && (k.key.ExpiresAt.IsZero() || now.Before(k.key.ExpiresAt))
}

// authenticateToken accepts an X-Auth-Token on any API. A token scoped to
// a project is accepted only for that project's paths, and a token scoped
// to the account only for APIs without a project in the path.
func (s *Server) authenticateToken(ctx context.Context, r *http.Request) (*userevents.Principal, error) {
	claims, user, err := s.validateToken(ctx, r.Header.Get("X-Auth-Token"), "X-Auth-Token")
	if err != nil {
		return nil, err
	}
	if pid := chi.URLParam(r, "project_id"); pid != "" && pid != "{project_id}" {
		if claims.ProjectID == "" {
			return nil, userevents.Errorf(userevents.EFORBIDDEN,
				"X-Auth-Token is scoped to the account, not to project %s; get a token with \"scope\":{\"project\":{\"id\":%q}}.",
				pid, pid)
		}
		if claims.ProjectID != pid {
			return nil, userevents.Errorf(userevents.EFORBIDDEN,
				"X-Auth-Token is scoped to project %s, not to project %s in the path; get a token scoped to project %s.",
				claims.ProjectID, pid, pid)
		}
	}
	return s.principal(ctx, r, &user.User)
}

// principal returns the principal of an enabled user.
func (s *Server) principal(ctx context.Context, r *http.Request, user *userevents.User) (*userevents.Principal, error) {
	if !user.Enabled {
		return nil, userevents.Errorf(userevents.EUNAUTHENTICATED,
			"User %s is disabled; ask the account administrator to enable it.", user.Name)
	}
	account, err := s.Store.FindAccountByID(ctx, user.AccountID)
	if err != nil {
		return nil, fmt.Errorf("find account of user: %w", err)
	}
	return &userevents.Principal{
		AccountID:   account.ID,
		AccountName: account.Name,
		UserID:      user.ID,
		UserName:    user.Name,
		Root:        user.Root,
		SourceIP:    sourceIP(r),
	}, nil
}

// checkLock returns ELOCKED while the subject is locked, and otherwise its
// failure state, which is nil when the lockout is disabled. credential
// names the credential in the message, such as "Access key AK…".
func (s *Server) checkLock(ctx context.Context, subject, credential string) (*userevents.AuthFailures, error) {
	if s.lockoutThreshold() < 0 {
		return nil, nil
	}
	f, err := s.Store.FindAuthFailures(ctx, subject)
	if err != nil {
		return nil, fmt.Errorf("find auth failures: %w", err)
	}
	if now := s.now(); now.Before(f.LockedUntil) {
		return nil, userevents.Errorf(userevents.ELOCKED,
			"Incorrect IAM authentication information: the limit of failed attempts was reached. %s is locked until %s after %d consecutive failed authentications; retry after that time with the correct credential.",
			credential, f.LockedUntil.UTC().Format(time.RFC3339), f.Count)
	}
	return f, nil
}

// recordFailure counts a failed authentication of the subject. The request
// fails anyway, so a store error is only logged.
func (s *Server) recordFailure(ctx context.Context, r *http.Request, subject string) {
	threshold := s.lockoutThreshold()
	if threshold < 0 {
		return
	}
	f, err := s.Store.RecordAuthFailure(ctx, subject, s.now(), threshold, s.lockoutDuration())
	if err != nil {
		s.logger(r).Error("record auth failure failed", "subject", subject, "error", err)
		return
	}
	if f.Count == threshold && !f.LockedUntil.IsZero() {
		s.logger(r).Warn("credential locked", "subject", subject, "failures", f.Count,
			"locked_until", f.LockedUntil)
	}
}

// resetFailures deletes the failure count that preceded a success.
func (s *Server) resetFailures(ctx context.Context, r *http.Request, f *userevents.AuthFailures) {
	if f == nil || f.Count == 0 {
		return
	}
	if err := s.Store.ResetAuthFailures(ctx, f.Subject); err != nil {
		s.logger(r).Error("reset auth failures failed", "subject", f.Subject, "error", err)
	}
}

func (s *Server) lockoutThreshold() int {
	if s.LockoutThreshold == 0 {
		return DefaultLockoutThreshold
	}
	return s.LockoutThreshold
}

func (s *Server) lockoutDuration() time.Duration {
	if s.LockoutDuration <= 0 {
		return DefaultLockoutDuration
	}
	return s.LockoutDuration
}

// authorize checks one action of the call's principal.
func (s *Server) authorize(c *call, action, resource string) error {
	return s.authorizeWith(c, action, resource, nil)
}

// authorizeWith checks one action with extra condition keys, such as
// iam:PolicyURN. It logs each denial with the principal, the action, the
// resource and the policy statement that decided it.
func (s *Server) authorizeWith(c *call, action, resource string, keys map[string][]string) error {
	ctx := userevents.WithCallContext(c.r.Context(), userevents.CallContext{
		ProjectID: c.projectID,
		Time:      s.now(),
		Keys:      keys,
	})
	err := s.Authorizer.Authorize(ctx, c.principal, action, resource)
	if userevents.ErrorCode(err) != userevents.EFORBIDDEN {
		return err
	}

	attrs := []any{"user_id", c.principal.UserID, "user_name", c.principal.UserName,
		"account_id", c.principal.AccountID, "action", action, "resource", resource}
	var d *userevents.DenialError
	if errors.As(err, &d) {
		attrs = append(attrs, "policy", d.PolicyName, "statement", d.StatementIndex, "sid", d.Sid)
	}
	s.logger(c.r).Warn("permission denied", attrs...)
	return err
}

func sourceIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// RootOnly is the Authorizer that allows every action to an account root
// and none to IAM users, for setups without identity policies. Servers use
// iampolicy.Authorizer.
type RootOnly struct{}

// Authorize implements userevents.Authorizer.
func (RootOnly) Authorize(_ context.Context, p *userevents.Principal, action, resource string) error {
	if p.Root {
		return nil
	}
	return userevents.Errorf(userevents.EFORBIDDEN,
		"User %s is not allowed to perform %s on %s; attach an identity policy that allows it.",
		p.UserName, action, resource)
}
