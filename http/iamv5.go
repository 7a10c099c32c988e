package http

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"

	"github.com/userevents/userevents"
)

// The IAM 5.0 API (/v5/…) as the SDK's services/iam/v5 client sends and
// parses it. Every route's action is the identity-policy action that
// Huawei documents in the API's "Authorization Information", except those
// marked as inferred from the naming pattern of the documented ones.

// iamV5Routes returns the routes of the IAM 5.0 API.
func (s *Server) iamV5Routes() []route {
	var routes []route
	routes = append(routes, s.userRoutes()...)
	routes = append(routes, s.groupRoutes()...)
	routes = append(routes, s.policyRoutes()...)
	return routes
}

// iamTime formats a time of an IAM 5.0 response: RFC 3339 in UTC with
// milliseconds, which the SDK's SdkTime parses.
func iamTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// URNs of IAM resources, in the forms Huawei documents:
// iam::<account-id>:user:<user-name>, iam::<account-id>:group:<group-name>,
// iam::<account-id>:policy:<policy-name> and iam::system:policy:<name>.
func userURN(accountID, name string) string  { return "iam::" + accountID + ":user:" + name }
func groupURN(accountID, name string) string { return "iam::" + accountID + ":group:" + name }

func policyURN(p *userevents.Policy) string {
	if p.Type == userevents.PolicyTypeSystem {
		return "iam::system:policy:" + p.Name
	}
	return "iam::" + p.AccountID + ":policy:" + p.Name
}

// accountUser returns the user with the id in the caller's account, and
// ENOTFOUND for an unknown id or another account's user.
func (s *Server) accountUser(c *call, id string) (*userevents.IAMUser, error) {
	u, err := s.Store.FindIAMUserByID(c.r.Context(), id)
	if err == nil && u.AccountID == c.principal.AccountID {
		return u, nil
	} else if err != nil && userevents.ErrorCode(err) != userevents.ENOTFOUND {
		return nil, fmt.Errorf("find user: %w", err)
	}
	return nil, userevents.Errorf(userevents.ENOTFOUND,
		"IAM user %q does not exist in account %s; use a user_id from ListUsersV5.", id, c.principal.AccountName)
}

// accountGroup returns the group with the id in the caller's account.
func (s *Server) accountGroup(c *call, id string) (*userevents.Group, error) {
	g, err := s.Store.FindGroupByID(c.r.Context(), id)
	if err == nil && g.AccountID == c.principal.AccountID {
		return g, nil
	} else if err != nil && userevents.ErrorCode(err) != userevents.ENOTFOUND {
		return nil, fmt.Errorf("find group: %w", err)
	}
	return nil, userevents.Errorf(userevents.ENOTFOUND,
		"Group %q does not exist in account %s; use a group_id from ListGroupsV5.", id, c.principal.AccountName)
}

// accountPolicy returns a custom policy of the caller's account or a
// system policy.
func (s *Server) accountPolicy(c *call, id string) (*userevents.Policy, error) {
	p, err := s.Store.FindPolicyByID(c.r.Context(), c.principal.AccountID, id)
	if userevents.ErrorCode(err) == userevents.ENOTFOUND {
		return nil, userevents.Errorf(userevents.ENOTFOUND,
			"Identity policy %q does not exist in account %s; use a policy_id from ListPoliciesV5.", id, c.principal.AccountName)
	} else if err != nil {
		return nil, fmt.Errorf("find policy: %w", err)
	}
	return p, nil
}

// Resource functions of the routes. Each names the resource by the URN
// Huawei documents for it. When the id in the path or body does not name
// a resource of the caller's account, the URN carries the id instead of a
// name. Then only a statement for all such resources can match, and the
// handler returns 404. Roots are allowed everything, so their
// calls skip the lookup.

func (s *Server) userResource(c *call) string {
	return s.userURNByID(c, chi.URLParam(c.r, "user_id"))
}

func (s *Server) userURNByID(c *call, id string) string {
	if !c.principal.Root {
		if u, err := s.accountUser(c, id); err == nil {
			return userURN(c.principal.AccountID, u.Name)
		}
	}
	return userURN(c.principal.AccountID, id)
}

func (s *Server) groupResource(c *call) string {
	return s.groupURNByID(c, chi.URLParam(c.r, "group_id"))
}

func (s *Server) groupURNByID(c *call, id string) string {
	if !c.principal.Root {
		if g, err := s.accountGroup(c, id); err == nil {
			return groupURN(c.principal.AccountID, g.Name)
		}
	}
	return groupURN(c.principal.AccountID, id)
}

func (s *Server) policyResource(c *call) string {
	id := chi.URLParam(c.r, "policy_id")
	if !c.principal.Root {
		if p, err := s.accountPolicy(c, id); err == nil {
			return policyURN(p)
		}
	}
	return "iam::" + c.principal.AccountID + ":policy:" + id
}

// bodyString returns a string member of a JSON object body, or "" when the
// body is not such an object. Resource functions use it before the handler
// validates the body.
func bodyString(body []byte, member string) string {
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		return ""
	}
	v, _ := m[member].(string)
	return v
}

// pageInfo is the pagination object of IAM 5.0 list responses.
type pageInfo struct {
	NextMarker   *string `json:"next_marker,omitempty"`
	CurrentCount int     `json:"current_count"`
}

// listParams documents the paging query parameters of the list APIs.
var listParams = []param{
	{"limit", "integer", false, "items per page, 1 to 200, default 100"},
	{"marker", "string", false, "next_marker of the previous page"},
}

// Limits of the limit query parameter, as the IAM 5.0 API documents them.
const (
	defaultPageLimit = 100
	maxPageLimit     = 200
)

// paginate returns the page of items that the limit and marker query
// parameters select, and its page_info. key must return, for each item, a
// string that increases along items. The marker is the base64url form of
// the last key of a page, so a page stays correct when items before or
// after it are deleted.
//
// NOTE: lists are read whole from the store and paged here, which is
// cheap at the sizes of IAM lists (users, groups and policies of one
// account) but not meant for thousands of entries.
func paginate[T any](c *call, items []T, key func(T) string) ([]T, pageInfo, error) {
	limit := defaultPageLimit
	if v, ok := c.query["limit"]; ok {
		n, err := strconv.Atoi(v[0])
		if err != nil || n < 1 || n > maxPageLimit {
			return nil, pageInfo{}, userevents.Errorf(userevents.EINVALID,
				"The query parameter limit=%q must be an integer from 1 to %d.", v[0], maxPageLimit)
		}
		limit = n
	}

	start := 0
	if v, ok := c.query["marker"]; ok {
		after, err := base64.RawURLEncoding.DecodeString(v[0])
		if err != nil || len(v[0]) < 4 || len(v[0]) > 400 {
			return nil, pageInfo{}, userevents.Errorf(userevents.EINVALID,
				"The query parameter marker=%q is not a marker of this list; send the next_marker of the previous page.", v[0])
		}
		for start < len(items) && key(items[start]) <= string(after) {
			start++
		}
	}

	end := min(start+limit, len(items))
	info := pageInfo{CurrentCount: end - start}
	if end < len(items) {
		next := base64.RawURLEncoding.EncodeToString([]byte(key(items[end-1])))
		info.NextMarker = &next
	}
	return items[start:end], info, nil
}

// createdKey is a paging key for items ordered by creation time, then id.
func createdKey(t time.Time, id string) string {
	return fmt.Sprintf("%020d/%s", t.UnixMicro(), id)
}

// validateDescription checks a user or group description: 0 to 255
// characters without @ # % & < > \ $ ^ *.
func validateDescription(member, s string) error {
	if n := utf8.RuneCountInString(s); n > 255 {
		return userevents.Errorf(userevents.EINVALID,
			"The member %q has %d characters; a description has at most 255.", member, n)
	}
	if i := strings.IndexAny(s, `@#%&<>\$^*`); i >= 0 {
		return userevents.Errorf(userevents.EINVALID,
			"The member %q contains %q, which a description must not contain (@ # %% & < > \\ $ ^ *).", member, s[i])
	}
	return nil
}

// validateUserName checks an IAM user name: 1 to 64 letters, digits,
// underscores, hyphens, periods and spaces, not starting with a digit.
func validateUserName(member, name string) error {
	ok := name != "" && len(name) <= 64 && !('0' <= name[0] && name[0] <= '9')
	for _, r := range name {
		if !isASCIIAlnum(r) && !strings.ContainsRune("_-. ", r) {
			ok = false
		}
	}
	if !ok {
		return userevents.Errorf(userevents.EINVALID,
			"The member %q is %q; a user name has 1 to 64 letters, digits, underscores, hyphens, periods and spaces, and does not start with a digit.",
			member, name)
	}
	return nil
}

// validateGroupName checks a group name: 1 to 128 letters (Chinese
// included), digits, spaces, underscores, hyphens and braces.
func validateGroupName(member, name string) error {
	n := utf8.RuneCountInString(name)
	ok := n >= 1 && n <= 128
	for _, r := range name {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !strings.ContainsRune(" _-{}", r) {
			ok = false
		}
	}
	if !ok {
		return userevents.Errorf(userevents.EINVALID,
			"The member %q is %q; a group name has 1 to 128 letters, digits, spaces, underscores, hyphens and braces.",
			member, name)
	}
	return nil
}

// validatePolicyName checks a policy name: 1 to 128 letters, digits and
// the characters _ + = . @ -.
func validatePolicyName(member, name string) error {
	ok := name != "" && len(name) <= 128
	for _, r := range name {
		if !isASCIIAlnum(r) && !strings.ContainsRune("_+=.@-", r) {
			ok = false
		}
	}
	if !ok {
		return userevents.Errorf(userevents.EINVALID,
			"The member %q is %q; a policy name has 1 to 128 letters, digits and the characters _ + = . @ -.",
			member, name)
	}
	return nil
}

// validatePolicyPath checks a policy path: empty, or segments of letters,
// digits and . , + @ = _ - that each end with a slash, such as "foo/bar/",
// 512 characters at most.
func validatePolicyPath(member, path string) error {
	ok := len(path) <= 512 && (path == "" || strings.HasSuffix(path, "/"))
	for seg := range strings.SplitSeq(strings.TrimSuffix(path, "/"), "/") {
		if path != "" && seg == "" {
			ok = false
		}
		for _, r := range seg {
			if !isASCIIAlnum(r) && !strings.ContainsRune(".,+@=_-", r) {
				ok = false
			}
		}
	}
	if !ok {
		return userevents.Errorf(userevents.EINVALID,
			"The member %q is %q; a path is empty or segments of letters, digits and . , + @ = _ - that each end with a slash, such as \"team/ops/\".",
			member, path)
	}
	return nil
}

func isASCIIAlnum(r rune) bool {
	return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9'
}

// writeNoContent writes status 204, as the IAM 5.0 delete APIs do.
func writeNoContent(w http.ResponseWriter) {
	w.WriteHeader(http.StatusNoContent)
}
