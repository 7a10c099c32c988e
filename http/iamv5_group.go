package http

import (
	"fmt"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/userevents/userevents"
)

// IAM 5.0 actions of groups and group membership.
const (
	actionCreateGroup         = "iam:groups:createGroupV5"
	actionGetGroup            = "iam:groups:getGroupV5"
	actionListGroups          = "iam:groups:listGroupsV5"
	actionUpdateGroup         = "iam:groups:updateGroupV5" // inferred
	actionDeleteGroup         = "iam:groups:deleteGroupV5"
	actionAddUserToGroup      = "iam:permissions:addUserToGroupV5"
	actionRemoveUserFromGroup = "iam:permissions:removeUserFromGroupV5"
)

func (s *Server) groupRoutes() []route {
	const (
		groups = "/v5/groups"
		group  = groups + "/{group_id}"
	)
	createResource := func(c *call) string {
		return groupURN(c.principal.AccountID, bodyString(c.body, "group_name"))
	}
	return []route{
		{method: http.MethodPost, pattern: groups, action: actionCreateGroup, resource: createResource, handle: s.createGroupV5,
			doc: doc{summary: "CreateGroupV5: create a user group", request: createGroupRequest{}, response: groupResponse{}, status: http.StatusCreated}},
		{method: http.MethodGet, pattern: groups, action: actionListGroups, handle: s.listGroupsV5,
			doc: doc{summary: "ListGroupsV5: the account's groups, or those of one user",
				query: append([]param{{"user_id", "string", false, "only the groups of this user"}}, listParams...), response: listGroupsResponse{}}},
		{method: http.MethodGet, pattern: group, action: actionGetGroup, resource: s.groupResource, handle: s.showGroupV5,
			doc: doc{summary: "ShowGroupV5: one group", response: groupResponse{}}},
		{method: http.MethodPut, pattern: group, action: actionUpdateGroup, resource: s.groupResource, handle: s.updateGroupV5,
			doc: doc{summary: "UpdateGroupV5: rename or describe a group", request: updateGroupRequest{}, response: groupResponse{}}},
		{method: http.MethodDelete, pattern: group, action: actionDeleteGroup, resource: s.groupResource, handle: s.deleteGroupV5,
			doc: doc{summary: "DeleteGroupV5: delete a group with its memberships and attachments", status: http.StatusNoContent}},
		{method: http.MethodPost, pattern: group + "/add-user", action: actionAddUserToGroup, resource: s.groupResource, handle: s.addUserToGroupV5,
			doc: doc{summary: "AddUserToGroupV5: make a user a member of the group", request: groupMemberRequest{}}},
		{method: http.MethodPost, pattern: group + "/remove-user", action: actionRemoveUserFromGroup, resource: s.groupResource, handle: s.removeUserFromGroupV5,
			doc: doc{summary: "RemoveUserFromGroupV5: end a user's membership", request: groupMemberRequest{}}},
	}
}

// groupV5 is the Group object of the IAM 5.0 API.
type groupV5 struct {
	GroupID     string `json:"group_id"`
	GroupName   string `json:"group_name"`
	CreatedAt   string `json:"created_at"`
	URN         string `json:"urn"`
	Description string `json:"description"`
}

type groupResponse struct {
	Group groupV5 `json:"group"`
}

type listGroupsResponse struct {
	Groups   []groupV5 `json:"groups"`
	PageInfo pageInfo  `json:"page_info"`
}

func newGroupV5(g *userevents.Group) groupV5 {
	return groupV5{
		GroupID:     g.ID,
		GroupName:   g.Name,
		CreatedAt:   iamTime(g.CreatedAt),
		URN:         groupURN(g.AccountID, g.Name),
		Description: g.Description,
	}
}

type createGroupRequest struct {
	GroupName   string  `json:"group_name"`
	Description *string `json:"description"`
}

func (s *Server) createGroupV5(c *call) error {
	var req createGroupRequest
	if err := decodeStrict(c.body, &req); err != nil {
		return err
	}
	if err := validateGroupName("group_name", req.GroupName); err != nil {
		return err
	}
	g := &userevents.Group{AccountID: c.principal.AccountID, Name: req.GroupName, CreatedAt: s.now()}
	if req.Description != nil {
		if err := validateDescription("description", *req.Description); err != nil {
			return err
		}
		g.Description = *req.Description
	}
	if err := s.Store.CreateGroup(c.r.Context(), g); err != nil {
		return err
	}
	s.logger(c.r).Info("group created", "group_id", g.ID, "group_name", g.Name, "by", c.principal.UserID)
	writeJSON(c.w, http.StatusCreated, groupResponse{Group: newGroupV5(g)})
	return nil
}

func (s *Server) listGroupsV5(c *call) error {
	filter := userevents.GroupFilter{AccountID: c.principal.AccountID}
	if id := c.query.Get("user_id"); id != "" {
		if _, err := s.accountUser(c, id); err != nil {
			return err
		}
		filter.UserID = id
	}
	groups, err := s.Store.FindGroups(c.r.Context(), filter)
	if err != nil {
		return fmt.Errorf("find groups: %w", err)
	}
	page, info, err := paginate(c, groups, func(g *userevents.Group) string { return createdKey(g.CreatedAt, g.ID) })
	if err != nil {
		return err
	}
	resp := listGroupsResponse{Groups: make([]groupV5, len(page)), PageInfo: info}
	for i, g := range page {
		resp.Groups[i] = newGroupV5(g)
	}
	writeJSON(c.w, http.StatusOK, resp)
	return nil
}

func (s *Server) showGroupV5(c *call) error {
	g, err := s.accountGroup(c, chi.URLParam(c.r, "group_id"))
	if err != nil {
		return err
	}
	writeJSON(c.w, http.StatusOK, groupResponse{Group: newGroupV5(g)})
	return nil
}

type updateGroupRequest struct {
	NewGroupName        *string `json:"new_group_name"`
	NewGroupDescription *string `json:"new_group_description"`
}

func (s *Server) updateGroupV5(c *call) error {
	var req updateGroupRequest
	if err := decodeStrict(c.body, &req); err != nil {
		return err
	}
	if req.NewGroupName != nil {
		if err := validateGroupName("new_group_name", *req.NewGroupName); err != nil {
			return err
		}
	}
	if req.NewGroupDescription != nil {
		if err := validateDescription("new_group_description", *req.NewGroupDescription); err != nil {
			return err
		}
	}
	g, err := s.accountGroup(c, chi.URLParam(c.r, "group_id"))
	if err != nil {
		return err
	}
	g, err = s.Store.UpdateGroup(c.r.Context(), g.ID, userevents.GroupUpdate{
		Name: req.NewGroupName, Description: req.NewGroupDescription,
	})
	if err != nil {
		return err
	}
	s.logger(c.r).Info("group updated", "group_id", g.ID, "by", c.principal.UserID)
	writeJSON(c.w, http.StatusOK, groupResponse{Group: newGroupV5(g)})
	return nil
}

func (s *Server) deleteGroupV5(c *call) error {
	g, err := s.accountGroup(c, chi.URLParam(c.r, "group_id"))
	if err != nil {
		return err
	}
	if err := s.Store.DeleteGroup(c.r.Context(), g.ID); err != nil {
		return err
	}
	s.logger(c.r).Info("group deleted", "group_id", g.ID, "group_name", g.Name, "by", c.principal.UserID)
	writeNoContent(c.w)
	return nil
}

type groupMemberRequest struct {
	UserID string `json:"user_id"`
}

// groupMember decodes a membership request and returns the group in the
// path and the user in the body, both of the caller's account.
func (s *Server) groupMember(c *call) (*userevents.Group, *userevents.IAMUser, error) {
	var req groupMemberRequest
	if err := decodeStrict(c.body, &req); err != nil {
		return nil, nil, err
	}
	if req.UserID == "" {
		return nil, nil, userevents.Errorf(userevents.EINVALID, "The member \"user_id\" is required.")
	}
	g, err := s.accountGroup(c, chi.URLParam(c.r, "group_id"))
	if err != nil {
		return nil, nil, err
	}
	u, err := s.accountUser(c, req.UserID)
	if err != nil {
		return nil, nil, err
	}
	return g, u, nil
}

func (s *Server) addUserToGroupV5(c *call) error {
	g, u, err := s.groupMember(c)
	if err != nil {
		return err
	}
	if err := s.Store.AddUserToGroup(c.r.Context(), g.ID, u.ID); err != nil {
		return err
	}
	s.logger(c.r).Info("user added to group", "group_id", g.ID, "user_id", u.ID, "by", c.principal.UserID)
	c.w.WriteHeader(http.StatusOK)
	return nil
}

func (s *Server) removeUserFromGroupV5(c *call) error {
	g, u, err := s.groupMember(c)
	if err != nil {
		return err
	}
	if err := s.Store.RemoveUserFromGroup(c.r.Context(), g.ID, u.ID); err != nil {
		return err
	}
	s.logger(c.r).Info("user removed from group", "group_id", g.ID, "user_id", u.ID, "by", c.principal.UserID)
	c.w.WriteHeader(http.StatusOK)
	return nil
}
