package http

import (
	"fmt"
	"net/http"

	"github.com/userevents/userevents"
)

// IAM returns the handler of the IAM listener.
func (s *Server) IAM() http.Handler {
	return s.newRouter(serviceIAM, []route{
		// Any authenticated caller may see its own account's projects and
		// domain: the SDK looks the project id up this way before the first
		// call of a client built WithRegion, whatever the caller's policies.
		{method: http.MethodGet, pattern: "/v3/projects", handle: s.listProjects},
		{method: http.MethodGet, pattern: "/v3/auth/projects", handle: s.listProjects},
		{method: http.MethodGet, pattern: "/v3/auth/domains", handle: s.listDomains},
	})
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
	writeJSON(c.w, http.StatusOK, map[string]any{
		"projects": resp,
		"links":    map[string]any{"self": "/v3/projects", "next": nil, "previous": nil},
	})
	return nil
}

// listDomains serves KeystoneListAuthDomains: the caller's own account.
func (s *Server) listDomains(c *call) error {
	writeJSON(c.w, http.StatusOK, map[string]any{
		"domains": []map[string]any{{
			"id":          c.principal.AccountID,
			"name":        c.principal.AccountName,
			"enabled":     true,
			"description": "",
			"links":       map[string]string{"self": "/v3/domains/" + c.principal.AccountID},
		}},
		"links": map[string]any{"self": "/v3/auth/domains"},
	})
	return nil
}
