package http

import (
	"context"
	"fmt"
	"net"
	"net/http"

	"github.com/userevents/userevents"
)

// authenticate turns the request's credential into a principal. Every
// failure is EUNAUTHENTICATED with a message that says what was wrong.
func (s *Server) authenticate(ctx context.Context, r *http.Request, body []byte) (*userevents.Principal, error) {
	if r.Header.Get("Authorization") == "" {
		if r.Header.Get("X-Auth-Token") != "" {
			return nil, userevents.Errorf(userevents.EUNAUTHENTICATED,
				"X-Auth-Token is not accepted on this server yet; sign the request with an AK/SK (SDK-HMAC-SHA256).")
		}
		return nil, userevents.Errorf(userevents.EUNAUTHENTICATED,
			"The request carries no credential; sign it with an AK/SK (SDK-HMAC-SHA256 Authorization and X-Sdk-Date headers).")
	}

	key, err := s.Verifier.Verify(ctx, r, body)
	if err != nil {
		return nil, err
	}
	user, err := s.Store.FindUserByID(ctx, key.UserID)
	if userevents.ErrorCode(err) == userevents.ENOTFOUND {
		return nil, userevents.Errorf(userevents.EUNAUTHENTICATED,
			"The user of access key %s no longer exists; use a key of an existing user.", key.ID)
	} else if err != nil {
		return nil, fmt.Errorf("find user of access key: %w", err)
	}
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
		AccessKeyID: key.ID,
		SourceIP:    sourceIP(r),
	}, nil
}

// authorize checks one action of the call's principal and logs a denial
// with the principal, action and resource.
func (s *Server) authorize(c *call, action, resource string) error {
	err := s.Authorizer.Authorize(c.r.Context(), c.principal, action, resource)
	if err != nil && userevents.ErrorCode(err) == userevents.EFORBIDDEN {
		s.logger(c.r).Warn("permission denied",
			"user_id", c.principal.UserID, "user_name", c.principal.UserName,
			"action", action, "resource", resource)
	}
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
// and none to IAM users.
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
