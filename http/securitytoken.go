package http

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/userevents/userevents"
	"github.com/userevents/userevents/auth"
)

// securityTokenRequest is the CreateTemporaryAccessKeyByToken body.
type securityTokenRequest struct {
	Auth struct {
		Identity struct {
			Methods []string `json:"methods"`
			Token   *struct {
				ID              *string `json:"id"`
				DurationSeconds *int    `json:"duration_seconds"`
			} `json:"token"`
			Policy jsontext.Value `json:"policy"`
		} `json:"identity"`
	} `json:"auth"`
}

// createSecurityToken serves CreateTemporaryAccessKeyByToken: it issues a
// temporary AK/SK and security token for the caller, valid for
// duration_seconds (15 minutes by default, at most 24 hours). The caller
// authenticates with a token or a permanent key; temporary keys cannot
// renew themselves.
func (s *Server) createSecurityToken(c *call) error {
	var req securityTokenRequest
	if err := decodeLenient(c.body, &req); err != nil {
		return err
	}
	duration, err := temporaryKeyDuration(&req)
	if err != nil {
		return err
	}
	if err := s.checkTemporaryKeyCaller(c, &req); err != nil {
		return err
	}

	now := s.now()
	key := &userevents.AccessKey{
		ID:            auth.NewAccessKeyID(),
		Secret:        userevents.Secret(auth.NewSecretKey()),
		UserID:        c.principal.UserID,
		AccountID:     c.principal.AccountID,
		Enabled:       true,
		SecurityToken: userevents.Secret(newSecurityToken()),
		ExpiresAt:     now.Add(duration),
		CreatedAt:     now,
	}
	if err := s.Store.CreateTemporaryAccessKey(c.r.Context(), key); err != nil {
		return fmt.Errorf("create temporary access key: %w", err)
	}
	s.logger(c.r).Info("temporary access key created", "user_id", key.UserID,
		"access_key_id", key.ID, "expires_at", key.ExpiresAt)
	writeJSON(c.w, http.StatusCreated, map[string]any{"credential": map[string]string{
		"access":        key.ID,
		"secret":        string(key.Secret),
		"securitytoken": string(key.SecurityToken),
		"expires_at":    key.ExpiresAt.UTC().Format(keystoneTime),
	}})
	return nil
}

// temporaryKeyDuration checks the method and the optional members of the
// request and returns the requested lifetime.
func temporaryKeyDuration(req *securityTokenRequest) (time.Duration, error) {
	id := req.Auth.Identity
	if !slices.Equal(id.Methods, []string{"token"}) {
		return 0, userevents.Errorf(userevents.EINVALID,
			"auth.identity.methods is %q; this server issues temporary keys for [\"token\"] only, because it has no agencies to assume.",
			id.Methods)
	}
	if len(id.Policy) > 0 && id.Policy.Kind() != 'n' {
		return 0, userevents.Errorf(userevents.EINVALID,
			"auth.identity.policy is not supported; leave it out, and limit the user's permissions with identity policies instead.")
	}
	duration := userevents.DefaultTemporaryKeyDuration
	if id.Token != nil && id.Token.DurationSeconds != nil {
		duration = time.Duration(*id.Token.DurationSeconds) * time.Second
	}
	if duration < userevents.MinTemporaryKeyDuration || duration > userevents.MaxTemporaryKeyDuration {
		return 0, userevents.Errorf(userevents.EINVALID,
			"auth.identity.token.duration_seconds must be from %d to %d (15 minutes to 24 hours).",
			int(userevents.MinTemporaryKeyDuration.Seconds()), int(userevents.MaxTemporaryKeyDuration.Seconds()))
	}
	return duration, nil
}

// checkTemporaryKeyCaller rejects a token id in the body that differs from
// the X-Auth-Token header, and callers signing with a temporary key.
func (s *Server) checkTemporaryKeyCaller(c *call, req *securityTokenRequest) error {
	if t := req.Auth.Identity.Token; t != nil && t.ID != nil && *t.ID != "" && *t.ID != c.r.Header.Get("X-Auth-Token") {
		return userevents.Errorf(userevents.EINVALID,
			"auth.identity.token.id differs from the X-Auth-Token header; send the caller's token in the header only.")
	}
	if c.principal.AccessKeyID == "" {
		return nil
	}
	key, err := s.Store.FindAccessKey(c.r.Context(), c.principal.AccessKeyID)
	if err != nil {
		return fmt.Errorf("find caller's access key: %w", err)
	}
	if !key.ExpiresAt.IsZero() {
		return userevents.Errorf(userevents.EFORBIDDEN,
			"Temporary access key %s cannot obtain new temporary credentials; call with a token or a permanent access key.",
			key.ID)
	}
	return nil
}

// newSecurityToken returns a random security token. The IAM API describes
// its tokens as encrypted credential information; this server's are random
// and are stored sealed beside the temporary key.
func newSecurityToken() string {
	b := make([]byte, 192)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
