package http

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"

	"github.com/userevents/userevents"
	"github.com/userevents/userevents/policy"
)

// IAM 5.0 actions of identity policies and their attachments.
const (
	actionCreatePolicy            = "iam:policies:createV5"
	actionGetPolicy               = "iam:policies:getV5"
	actionListPolicies            = "iam:policies:listV5"
	actionDeletePolicy            = "iam:policies:deleteV5"
	actionCreatePolicyVersion     = "iam:policies:createVersionV5"
	actionGetPolicyVersion        = "iam:policies:getVersionV5"
	actionListPolicyVersions      = "iam:policies:listVersionsV5"
	actionDeletePolicyVersion     = "iam:policies:deleteVersionV5"
	actionSetDefaultPolicyVersion = "iam:policies:setDefaultVersionV5" // inferred
	actionListPolicyEntities      = "iam:policies:listEntitiesV5"      // inferred
	actionAttachUserPolicy        = "iam:users:attachPolicyV5"
	actionDetachUserPolicy        = "iam:users:detachPolicyV5"
	actionListUserPolicies        = "iam:users:listAttachedPoliciesV5"
	actionAttachGroupPolicy       = "iam:groups:attachPolicyV5"         // inferred
	actionDetachGroupPolicy       = "iam:groups:detachPolicyV5"         // inferred
	actionListGroupPolicies       = "iam:groups:listAttachedPoliciesV5" // inferred
)

// maxPolicyDescription bounds a policy description; it is the server's own
// limit, because the IAM 5.0 API documents none.
const maxPolicyDescription = 1000

func (s *Server) policyRoutes() []route {
	const (
		policies = "/v5/policies"
		pol      = policies + "/{policy_id}"
		versions = pol + "/versions"
		version  = versions + "/{version_id}"
	)
	createResource := func(c *call) string {
		return "iam::" + c.principal.AccountID + ":policy:" + bodyString(c.body, "policy_name")
	}
	attach := func(path, summary string, handle handlerFunc, request any) route {
		// These routes authorize in the handler, on the user or group in
		// the body and with the iam:PolicyURN condition key.
		return route{method: http.MethodPost, pattern: pol + path, handle: handle,
			doc: doc{summary: summary, request: request}}
	}
	return []route{
		{method: http.MethodPost, pattern: policies, action: actionCreatePolicy, resource: createResource, handle: s.createPolicyV5,
			doc: doc{summary: "CreatePolicyV5: create a custom identity policy (Version 5.0) with version v1", request: createPolicyRequest{}, response: policyResponse{}, status: http.StatusCreated}},
		{method: http.MethodGet, pattern: policies, action: actionListPolicies, handle: s.listPoliciesV5,
			doc: doc{summary: "ListPoliciesV5: system policies and the account's custom policies", query: append([]param{
				{"policy_type", "string", false, "custom or system"},
				{"path_prefix", "string", false, "only policies whose path starts with this"},
				{"only_attached", "boolean", false, "only policies attached to a user or group"},
			}, listParams...), response: listPoliciesResponse{}}},
		{method: http.MethodGet, pattern: pol, action: actionGetPolicy, resource: s.policyResource, handle: s.getPolicyV5,
			doc: doc{summary: "GetPolicyV5: one identity policy", response: policyResponse{}}},
		{method: http.MethodDelete, pattern: pol, action: actionDeletePolicy, resource: s.policyResource, handle: s.deletePolicyV5,
			doc: doc{summary: "DeletePolicyV5: delete a custom policy that is attached to nothing", status: http.StatusNoContent}},

		{method: http.MethodPost, pattern: versions, action: actionCreatePolicyVersion, resource: s.policyResource, handle: s.createPolicyVersionV5,
			doc: doc{summary: "CreatePolicyVersionV5: add a version (at most 5 per policy)", request: createPolicyVersionRequest{}, response: policyVersionResponse{}, status: http.StatusCreated}},
		{method: http.MethodGet, pattern: versions, action: actionListPolicyVersions, resource: s.policyResource, handle: s.listPolicyVersionsV5,
			doc: doc{summary: "ListPolicyVersionsV5: the versions of a policy", query: listParams, response: listPolicyVersionsResponse{}}},
		{method: http.MethodGet, pattern: version, action: actionGetPolicyVersion, resource: s.policyResource, handle: s.getPolicyVersionV5,
			doc: doc{summary: "GetPolicyVersionV5: one version with its document", response: policyVersionResponse{}}},
		{method: http.MethodDelete, pattern: version, action: actionDeletePolicyVersion, resource: s.policyResource, handle: s.deletePolicyVersionV5,
			doc: doc{summary: "DeletePolicyVersionV5: delete a version other than the default", status: http.StatusNoContent}},
		{method: http.MethodPost, pattern: version + "/set-default", action: actionSetDefaultPolicyVersion, resource: s.policyResource, handle: s.setDefaultPolicyVersionV5,
			doc: doc{summary: "SetDefaultPolicyVersionV5: make a version the one in effect"}},

		attach("/attach-user", "AttachUserPolicyV5 (action iam:users:attachPolicyV5 on the user): attach a policy to a user",
			s.attachUserPolicyV5, userPolicyRequest{}),
		attach("/detach-user", "DetachUserPolicyV5 (action iam:users:detachPolicyV5 on the user): detach a policy from a user",
			s.detachUserPolicyV5, userPolicyRequest{}),
		attach("/attach-group", "AttachGroupPolicyV5 (action iam:groups:attachPolicyV5 on the group): attach a policy to a group",
			s.attachGroupPolicyV5, groupPolicyRequest{}),
		attach("/detach-group", "DetachGroupPolicyV5 (action iam:groups:detachPolicyV5 on the group): detach a policy from a group",
			s.detachGroupPolicyV5, groupPolicyRequest{}),

		{method: http.MethodGet, pattern: "/v5/users/{user_id}/attached-policies", action: actionListUserPolicies, resource: s.userResource,
			handle: s.listAttachedUserPoliciesV5,
			doc:    doc{summary: "ListAttachedUserPoliciesV5: the policies attached to a user", query: listParams, response: listAttachedPoliciesResponse{}}},
		{method: http.MethodGet, pattern: "/v5/groups/{group_id}/attached-policies", action: actionListGroupPolicies, resource: s.groupResource,
			handle: s.listAttachedGroupPoliciesV5,
			doc:    doc{summary: "ListAttachedGroupPoliciesV5: the policies attached to a group", query: listParams, response: listAttachedPoliciesResponse{}}},
		{method: http.MethodGet, pattern: pol + "/attached-entities", action: actionListPolicyEntities, resource: s.policyResource,
			handle: s.listEntitiesForPolicyV5,
			doc: doc{summary: "ListEntitiesForPolicyV5: the users and groups a policy is attached to",
				query:    append([]param{{"entity_type", "string", false, "user, group or agency"}}, listParams...),
				response: listEntitiesResponse{}}},
	}
}

// policyV5 is the Policy object of the IAM 5.0 API.
type policyV5 struct {
	PolicyType       string `json:"policy_type"`
	PolicyName       string `json:"policy_name"`
	PolicyID         string `json:"policy_id"`
	URN              string `json:"urn"`
	Path             string `json:"path"`
	DefaultVersionID string `json:"default_version_id"`
	AttachmentCount  int    `json:"attachment_count"`
	Description      string `json:"description"`
	CreatedAt        string `json:"created_at"`
	UpdatedAt        string `json:"updated_at"`
}

type policyResponse struct {
	Policy policyV5 `json:"policy"`
}

type listPoliciesResponse struct {
	Policies []policyV5 `json:"policies"`
	PageInfo pageInfo   `json:"page_info"`
}

func newPolicyV5(p *userevents.Policy) policyV5 {
	return policyV5{
		PolicyType:       p.Type,
		PolicyName:       p.Name,
		PolicyID:         p.ID,
		URN:              policyURN(p),
		Path:             p.Path,
		DefaultVersionID: p.DefaultVersionID,
		AttachmentCount:  p.AttachmentCount,
		Description:      p.Description,
		CreatedAt:        iamTime(p.CreatedAt),
		UpdatedAt:        iamTime(p.UpdatedAt),
	}
}

// policyVersionV5 is the PolicyVersion object.
type policyVersionV5 struct {
	Document  string `json:"document"`
	VersionID string `json:"version_id"`
	IsDefault bool   `json:"is_default"`
	CreatedAt string `json:"created_at"`
}

type policyVersionResponse struct {
	PolicyVersion policyVersionV5 `json:"policy_version"`
}

type listPolicyVersionsResponse struct {
	Versions []policyVersionV5 `json:"versions"`
	PageInfo pageInfo          `json:"page_info"`
}

func newPolicyVersionV5(v *userevents.PolicyVersion) policyVersionV5 {
	return policyVersionV5{Document: v.Document, VersionID: v.ID, IsDefault: v.Default, CreatedAt: iamTime(v.CreatedAt)}
}

// parseDocument validates a policy document with the 5.0 grammar. The
// stored text is the client's, so GetPolicyVersionV5 returns it unchanged.
func parseDocument(member, document string) error {
	if document == "" {
		return userevents.Errorf(userevents.EINVALID,
			"The member %q is required; send the policy document as a JSON string.", member)
	}
	_, err := policy.Parse([]byte(document))
	return err
}

// customPolicy returns the policy in the path, which must be a custom
// policy because system policies cannot be changed or deleted.
func (s *Server) customPolicy(c *call) (*userevents.Policy, error) {
	p, err := s.accountPolicy(c, chi.URLParam(c.r, "policy_id"))
	if err != nil {
		return nil, err
	}
	if p.Type == userevents.PolicyTypeSystem {
		return nil, userevents.Errorf(userevents.EINVALID,
			"%s is a system policy, which cannot be changed or deleted; create a custom policy instead.", p.Name)
	}
	return p, nil
}

type createPolicyRequest struct {
	PolicyName     string  `json:"policy_name"`
	Path           *string `json:"path"`
	PolicyDocument string  `json:"policy_document"`
	Description    *string `json:"description"`
}

func (s *Server) createPolicyV5(c *call) error {
	var req createPolicyRequest
	if err := decodeStrict(c.body, &req); err != nil {
		return err
	}
	if err := validatePolicyName("policy_name", req.PolicyName); err != nil {
		return err
	}
	p := &userevents.Policy{AccountID: c.principal.AccountID, Name: req.PolicyName, CreatedAt: s.now()}
	if req.Path != nil {
		if err := validatePolicyPath("path", *req.Path); err != nil {
			return err
		}
		p.Path = *req.Path
	}
	if req.Description != nil {
		if n := utf8.RuneCountInString(*req.Description); n > maxPolicyDescription {
			return userevents.Errorf(userevents.EINVALID,
				"The member \"description\" has %d characters; use at most %d.", n, maxPolicyDescription)
		}
		p.Description = *req.Description
	}
	if err := parseDocument("policy_document", req.PolicyDocument); err != nil {
		return err
	}
	if err := s.Store.CreatePolicy(c.r.Context(), p, req.PolicyDocument); err != nil {
		return err
	}
	s.logger(c.r).Info("identity policy created", "policy_id", p.ID, "policy_name", p.Name, "by", c.principal.UserID)
	writeJSON(c.w, http.StatusCreated, policyResponse{Policy: newPolicyV5(p)})
	return nil
}

func (s *Server) listPoliciesV5(c *call) error {
	filter := userevents.PolicyFilter{AccountID: c.principal.AccountID, PathPrefix: c.query.Get("path_prefix")}
	switch t := c.query.Get("policy_type"); t {
	case "", userevents.PolicyTypeCustom, userevents.PolicyTypeSystem:
		filter.Type = t
	default:
		return userevents.Errorf(userevents.EINVALID,
			"The query parameter policy_type=%q must be custom or system.", t)
	}
	if v, ok := c.query["only_attached"]; ok {
		b, err := strconv.ParseBool(v[0])
		if err != nil || (v[0] != "true" && v[0] != "false") {
			return userevents.Errorf(userevents.EINVALID,
				"The query parameter only_attached=%q must be true or false.", v[0])
		}
		filter.OnlyAttached = b
	}

	policies, err := s.Store.FindPolicies(c.r.Context(), filter)
	if err != nil {
		return fmt.Errorf("find policies: %w", err)
	}

	page, info, err := paginate(c, policies, func(p *userevents.Policy) string {
		// Store order: system policies first, then by creation.
		kind := "1"
		if p.Type == userevents.PolicyTypeSystem {
			kind = "0"
		}
		return kind + createdKey(p.CreatedAt, p.ID)
	})
	if err != nil {
		return err
	}
	resp := listPoliciesResponse{Policies: make([]policyV5, len(page)), PageInfo: info}
	for i, p := range page {
		resp.Policies[i] = newPolicyV5(p)
	}
	writeJSON(c.w, http.StatusOK, resp)
	return nil
}

func (s *Server) getPolicyV5(c *call) error {
	p, err := s.accountPolicy(c, chi.URLParam(c.r, "policy_id"))
	if err != nil {
		return err
	}
	writeJSON(c.w, http.StatusOK, policyResponse{Policy: newPolicyV5(p)})
	return nil
}

func (s *Server) deletePolicyV5(c *call) error {
	p, err := s.customPolicy(c)
	if err != nil {
		return err
	}
	if err := s.Store.DeletePolicy(c.r.Context(), p.ID); err != nil {
		return err
	}
	s.logger(c.r).Info("identity policy deleted", "policy_id", p.ID, "policy_name", p.Name, "by", c.principal.UserID)
	writeNoContent(c.w)
	return nil
}

type createPolicyVersionRequest struct {
	PolicyDocument string `json:"policy_document"`
	SetAsDefault   *bool  `json:"set_as_default"`
}

func (s *Server) createPolicyVersionV5(c *call) error {
	var req createPolicyVersionRequest
	if err := decodeStrict(c.body, &req); err != nil {
		return err
	}
	if err := parseDocument("policy_document", req.PolicyDocument); err != nil {
		return err
	}
	p, err := s.customPolicy(c)
	if err != nil {
		return err
	}
	setDefault := req.SetAsDefault != nil && *req.SetAsDefault
	v, err := s.Store.CreatePolicyVersion(c.r.Context(), p.ID, req.PolicyDocument, setDefault)
	if err != nil {
		return err
	}
	s.logger(c.r).Info("identity policy version created", "policy_id", p.ID, "version_id", v.ID,
		"default", v.Default, "by", c.principal.UserID)
	writeJSON(c.w, http.StatusCreated, policyVersionResponse{PolicyVersion: newPolicyVersionV5(v)})
	return nil
}

func (s *Server) listPolicyVersionsV5(c *call) error {
	p, err := s.accountPolicy(c, chi.URLParam(c.r, "policy_id"))
	if err != nil {
		return err
	}
	versions, err := s.Store.FindPolicyVersions(c.r.Context(), p.ID)
	if err != nil {
		return fmt.Errorf("find policy versions: %w", err)
	}
	page, info, err := paginate(c, versions, func(v *userevents.PolicyVersion) string {
		return fmt.Sprintf("%020s", v.ID[1:]) // "v12" sorts after "v9"
	})
	if err != nil {
		return err
	}
	resp := listPolicyVersionsResponse{Versions: make([]policyVersionV5, len(page)), PageInfo: info}
	for i, v := range page {
		resp.Versions[i] = newPolicyVersionV5(v)
	}
	writeJSON(c.w, http.StatusOK, resp)
	return nil
}

func (s *Server) getPolicyVersionV5(c *call) error {
	p, err := s.accountPolicy(c, chi.URLParam(c.r, "policy_id"))
	if err != nil {
		return err
	}
	v, err := s.Store.FindPolicyVersion(c.r.Context(), p.ID, chi.URLParam(c.r, "version_id"))
	if err != nil {
		return err
	}
	writeJSON(c.w, http.StatusOK, policyVersionResponse{PolicyVersion: newPolicyVersionV5(v)})
	return nil
}

func (s *Server) deletePolicyVersionV5(c *call) error {
	p, err := s.customPolicy(c)
	if err != nil {
		return err
	}
	id := chi.URLParam(c.r, "version_id")
	if err := s.Store.DeletePolicyVersion(c.r.Context(), p.ID, id); err != nil {
		return err
	}
	s.logger(c.r).Info("identity policy version deleted", "policy_id", p.ID, "version_id", id, "by", c.principal.UserID)
	writeNoContent(c.w)
	return nil
}

func (s *Server) setDefaultPolicyVersionV5(c *call) error {
	p, err := s.customPolicy(c)
	if err != nil {
		return err
	}
	id := chi.URLParam(c.r, "version_id")
	if err := s.Store.SetDefaultPolicyVersion(c.r.Context(), p.ID, id); err != nil {
		return err
	}
	s.logger(c.r).Info("identity policy default version set", "policy_id", p.ID, "version_id", id, "by", c.principal.UserID)
	c.w.WriteHeader(http.StatusOK)
	return nil
}

type userPolicyRequest struct {
	UserID string `json:"user_id"`
}

type groupPolicyRequest struct {
	GroupID string `json:"group_id"`
}

// policyTarget decodes the body of an attach or detach request, finds the
// policy and the user or group it names, and authorizes the action on that
// user or group with the iam:PolicyURN condition key.
func (s *Server) policyTarget(c *call, entityType, action string) (*userevents.Policy, string, error) {
	member := "user_id"
	if entityType == userevents.EntityGroup {
		member = "group_id"
	}
	var body map[string]any
	if err := decodeLenient(c.body, &body); err != nil {
		return nil, "", err
	}
	id, _ := body[member].(string)
	if id == "" {
		return nil, "", userevents.Errorf(userevents.EINVALID, "The member %q is required and must be a string.", member)
	}

	var resource string
	if entityType == userevents.EntityUser {
		resource = s.userURNByID(c, id)
	} else {
		resource = s.groupURNByID(c, id)
	}
	policyID := chi.URLParam(c.r, "policy_id")
	policyKey := "iam::" + c.principal.AccountID + ":policy:" + policyID
	p, findErr := s.accountPolicy(c, policyID)
	if findErr == nil {
		policyKey = policyURN(p)
	}
	if err := s.authorizeWith(c, action, resource, map[string][]string{"iam:PolicyURN": {policyKey}}); err != nil {
		return nil, "", err
	}
	if findErr != nil {
		return nil, "", findErr
	}

	if entityType == userevents.EntityUser {
		_, err := s.accountUser(c, id)
		return p, id, err
	}
	_, err := s.accountGroup(c, id)
	return p, id, err
}

func (s *Server) attachUserPolicyV5(c *call) error {
	return s.changeAttachment(c, userevents.EntityUser, actionAttachUserPolicy, s.Store.AttachUserPolicy, "identity policy attached")
}

func (s *Server) detachUserPolicyV5(c *call) error {
	return s.changeAttachment(c, userevents.EntityUser, actionDetachUserPolicy, s.Store.DetachUserPolicy, "identity policy detached")
}

func (s *Server) attachGroupPolicyV5(c *call) error {
	return s.changeAttachment(c, userevents.EntityGroup, actionAttachGroupPolicy, s.Store.AttachGroupPolicy, "identity policy attached")
}

func (s *Server) detachGroupPolicyV5(c *call) error {
	return s.changeAttachment(c, userevents.EntityGroup, actionDetachGroupPolicy, s.Store.DetachGroupPolicy, "identity policy detached")
}

// changeAttachment serves the four attach and detach APIs with the store
// method that makes the change.
func (s *Server) changeAttachment(c *call, entityType, action string,
	change func(ctx context.Context, policyID, entityID string) error, logMessage string) error {
	p, id, err := s.policyTarget(c, entityType, action)
	if err != nil {
		return err
	}
	if err := change(c.r.Context(), p.ID, id); err != nil {
		return err
	}
	s.logger(c.r).Info(logMessage, "policy_id", p.ID, "entity_type", entityType, "entity_id", id,
		"by", c.principal.UserID)
	c.w.WriteHeader(http.StatusOK)
	return nil
}

// attachedPolicyV5 is the AttachedPolicy object.
type attachedPolicyV5 struct {
	PolicyName string `json:"policy_name"`
	PolicyID   string `json:"policy_id"`
	URN        string `json:"urn"`
	AttachedAt string `json:"attached_at"`
}

type listAttachedPoliciesResponse struct {
	AttachedPolicies []attachedPolicyV5 `json:"attached_policies"`
	PageInfo         pageInfo           `json:"page_info"`
}

func (s *Server) listAttachedUserPoliciesV5(c *call) error {
	u, err := s.accountUser(c, chi.URLParam(c.r, "user_id"))
	if err != nil {
		return err
	}
	return s.writeAttachedPolicies(c, userevents.EntityUser, u.ID)
}

func (s *Server) listAttachedGroupPoliciesV5(c *call) error {
	g, err := s.accountGroup(c, chi.URLParam(c.r, "group_id"))
	if err != nil {
		return err
	}
	return s.writeAttachedPolicies(c, userevents.EntityGroup, g.ID)
}

func (s *Server) writeAttachedPolicies(c *call, entityType, id string) error {
	attached, err := s.Store.FindAttachedPolicies(c.r.Context(), entityType, id)
	if err != nil {
		return fmt.Errorf("find attached policies: %w", err)
	}
	page, info, err := paginate(c, attached, func(a *userevents.AttachedPolicy) string {
		return createdKey(a.AttachedAt, a.Policy.ID)
	})
	if err != nil {
		return err
	}
	resp := listAttachedPoliciesResponse{AttachedPolicies: make([]attachedPolicyV5, len(page)), PageInfo: info}
	for i, a := range page {
		resp.AttachedPolicies[i] = attachedPolicyV5{
			PolicyName: a.Policy.Name, PolicyID: a.Policy.ID, URN: policyURN(a.Policy), AttachedAt: iamTime(a.AttachedAt),
		}
	}
	writeJSON(c.w, http.StatusOK, resp)
	return nil
}

type policyUserV5 struct {
	UserID     string `json:"user_id"`
	AttachedAt string `json:"attached_at"`
}

type policyGroupV5 struct {
	GroupID    string `json:"group_id"`
	AttachedAt string `json:"attached_at"`
}

type policyAgencyV5 struct {
	AgencyID   string `json:"agency_id"`
	AttachedAt string `json:"attached_at"`
}

// listEntitiesResponse lists agencies too, always empty, because the
// server has no agencies.
type listEntitiesResponse struct {
	PolicyAgencies []policyAgencyV5 `json:"policy_agencies"`
	PolicyGroups   []policyGroupV5  `json:"policy_groups"`
	PolicyUsers    []policyUserV5   `json:"policy_users"`
	PageInfo       pageInfo         `json:"page_info"`
}

func (s *Server) listEntitiesForPolicyV5(c *call) error {
	entityType := c.query.Get("entity_type")
	switch entityType {
	case "", userevents.EntityUser, userevents.EntityGroup, "agency":
	default:
		return userevents.Errorf(userevents.EINVALID,
			"The query parameter entity_type=%q must be user, group or agency.", entityType)
	}
	p, err := s.accountPolicy(c, chi.URLParam(c.r, "policy_id"))
	if err != nil {
		return err
	}
	all, err := s.Store.FindPolicyAttachments(c.r.Context(), c.principal.AccountID, p.ID)
	if err != nil {
		return fmt.Errorf("find policy attachments: %w", err)
	}
	var entities []*userevents.PolicyAttachment
	for _, a := range all {
		if entityType == "" || a.EntityType == entityType {
			entities = append(entities, a)
		}
	}
	page, info, err := paginate(c, entities, func(a *userevents.PolicyAttachment) string {
		return createdKey(a.AttachedAt, a.EntityID)
	})
	if err != nil {
		return err
	}

	resp := listEntitiesResponse{
		PolicyAgencies: []policyAgencyV5{}, PolicyGroups: []policyGroupV5{}, PolicyUsers: []policyUserV5{}, PageInfo: info,
	}
	for _, a := range page {
		if a.EntityType == userevents.EntityUser {
			resp.PolicyUsers = append(resp.PolicyUsers, policyUserV5{UserID: a.EntityID, AttachedAt: iamTime(a.AttachedAt)})
		} else {
			resp.PolicyGroups = append(resp.PolicyGroups, policyGroupV5{GroupID: a.EntityID, AttachedAt: iamTime(a.AttachedAt)})
		}
	}
	writeJSON(c.w, http.StatusOK, resp)
	return nil
}
