package http

import (
	"fmt"
	"net/http"

	"github.com/userevents/userevents"
)

// IAM returns the handler of the IAM listener.
func (s *Server) IAM() http.Handler {
	routes := []route{
		// Any authenticated caller may see its own account's projects and
		// domain: the SDK looks the project id up this way before the first
		// call of a client built WithRegion, whatever the caller's policies.
		{method: http.MethodGet, pattern: "/v3/projects", handle: s.listProjects,
			doc: doc{summary: "KeystoneListProjects: the projects of the caller's account, the SDK's project-id lookup",
				query: projectParams, response: listProjectsResponse{}}},
		{method: http.MethodGet, pattern: "/v3/auth/projects", handle: s.listProjects,
			doc: doc{summary: "KeystoneListAuthProjects: the projects of the caller's account",
				query: projectParams, response: listProjectsResponse{}}},
		{method: http.MethodGet, pattern: "/v3/auth/domains", handle: s.listDomains,
			doc: doc{summary: "KeystoneListAuthDomains: the caller's account, the SDK's domain-id lookup for global credentials",
				response: listDomainsResponse{}}},

		// Tokens and temporary keys are the caller's own credentials, so
		// they need no permission. The password in the body is the
		// credential of POST /v3/auth/tokens (see authenticate).
		{method: http.MethodPost, pattern: tokensPath, handle: s.createToken,
			doc: doc{summary: "KeystoneCreateUserTokenByPassword: a 24-hour token in X-Subject-Token",
				query:   []param{{"nocatalog", "string", false, "accepted and ignored; the catalog is always empty"}},
				request: passwordTokenRequest{}, status: http.StatusCreated}},
		{method: http.MethodGet, pattern: tokensPath, handle: s.validateTokenRequest,
			doc: doc{summary: "KeystoneValidateToken: the token in X-Subject-Token, if valid",
				query: []param{{"nocatalog", "string", false, "accepted and ignored"}}}},
		{method: http.MethodPost, pattern: "/v3.0/OS-CREDENTIAL/securitytokens", handle: s.createSecurityToken,
			doc: doc{summary: "CreateTemporaryAccessKeyByToken: a temporary AK/SK and security token for the caller",
				request: securityTokenRequest{}, status: http.StatusCreated}},
	}
	return s.newRouter(serviceIAM, append(routes, s.iamV5Routes()...))
}

// projectParams documents the filters of the project lists. Other Keystone
// filters, such as domain_id and enabled, are ignored.
var projectParams = []param{
	{"name", "string", false, "only the project of this name, which is the region"},
	{"id", "string", false, "only the project of this id"},
}

// keystoneLinks is the links object of a Keystone list response.
type keystoneLinks struct {
	Self     string  `json:"self"`
	Next     *string `json:"next"`
	Previous *string `json:"previous"`
}

type listProjectsResponse struct {
	Projects []projectResponse `json:"projects"`
	Links    keystoneLinks     `json:"links"`
}

type projectResponse struct {
	ID          string            `json:"id"`
	Name        string            `json:"name"`
	DomainID    string            `json:"domain_id"`
	ParentID    string            `json:"parent_id"`
	Description string            `json:"description"`
	Enabled     bool              `json:"enabled"`
	IsDomain    bool              `json:"is_domain"`
	Links       map[string]string `json:"links"`
}

// listProjects serves KeystoneListProjects, filtered by name and id.
func (s *Server) listProjects(c *call) error {
	projects, err := s.Store.FindProjects(c.r.Context(), userevents.ProjectFilter{
		AccountID: c.principal.AccountID,
		Name:      c.query.Get("name"),
		ID:        c.query.Get("id"),
	})
	if err != nil {
		return fmt.Errorf("find projects: %w", err)
	}
	resp := make([]projectResponse, len(projects))
	for i, p := range projects {
		resp[i] = projectResponse{
			ID:       p.ID,
			Name:     p.Name,
			DomainID: p.AccountID,
			ParentID: p.AccountID,
			Enabled:  true,
			Links:    map[string]string{"self": "/v3/projects/" + p.ID},
		}
	}
	writeJSON(c.w, http.StatusOK, listProjectsResponse{Projects: resp, Links: keystoneLinks{Self: "/v3/projects"}})
	return nil
}

type domainResponse struct {
	ID          string            `json:"id"`
	Name        string            `json:"name"`
	Enabled     bool              `json:"enabled"`
	Description string            `json:"description"`
	Links       map[string]string `json:"links"`
}

type listDomainsResponse struct {
	Domains []domainResponse  `json:"domains"`
	Links   map[string]string `json:"links"`
}

// listDomains serves KeystoneListAuthDomains: the caller's own account.
func (s *Server) listDomains(c *call) error {
	writeJSON(c.w, http.StatusOK, listDomainsResponse{
		Domains: []domainResponse{{
			ID:      c.principal.AccountID,
			Name:    c.principal.AccountName,
			Enabled: true,
			Links:   map[string]string{"self": "/v3/domains/" + c.principal.AccountID},
		}},
		Links: map[string]string{"self": "/v3/auth/domains"},
	})
	return nil
}
