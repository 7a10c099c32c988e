package http

import (
	"fmt"
	"net/http"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/userevents/userevents"
)

// Workspace actions of the identity-policy model.
const (
	actionSetLTSConfig   = "workspace:userEvents:setLtsConfigurations"
	actionListLTSConfig  = "workspace:userEvents:listLtsConfigurations"
	actionListEvents     = "workspace:userEvents:list"
	actionCreateEvents   = "workspace:userEvents:create"
	actionListLogGroups  = "lts:logGroup:listLogGroup"
	actionListLogStreams = "lts:logStream:listLogStream"
	actionGetLogStream   = "lts:logStream:get"
)

// Workspace returns the handler of the Workspace API listener.
func (s *Server) Workspace() http.Handler {
	const base = "/v2/{project_id}/user-events"
	return s.newRouter(serviceWorkspace, []route{
		{method: http.MethodPost, pattern: base + "/lts-configurations", action: actionSetLTSConfig, handle: s.setLTSConfig,
			doc: doc{summary: "SetUserEventsLtsConfigurations: enable or disable delivery of user events to a log stream",
				request: ltsConfigDoc{}}},
		{method: http.MethodGet, pattern: base + "/lts-configurations", action: actionListLTSConfig, handle: s.listLTSConfig,
			doc: doc{summary: "ListUserEventsLtsConfigurations: the project's delivery setting", response: ltsConfigResponse{}}},
		{method: http.MethodGet, pattern: base, action: actionListEvents, handle: s.listEvents,
			doc: doc{summary: "ListUserEvents: events of at most 30 days, newest first", query: listEventsParams,
				response: listEventsResponse{}}},
		{method: http.MethodPost, pattern: base, action: actionCreateEvents, handle: s.createEvents,
			doc: doc{summary: "Intake: store 1 to 1000 events, acknowledged once durable", request: intakeDoc{},
				response: intakeResponse{}}},
		{method: http.MethodGet, pattern: base + "/delivery-status", action: actionGetDeliveryStatus, handle: s.deliveryStatus,
			doc: doc{summary: "Delivery state: queue depth, oldest pending event, counts and the last error",
				response: deliveryStatusResponse{}}},
		{method: http.MethodGet, pattern: base + "/dead-letters", action: actionListDeadLetters, handle: s.listDeadLetters,
			doc: doc{summary: "Events that no retry could deliver, newest first, with the reason",
				query: deadLetterParams, response: deadLettersResponse{}}},
		{method: http.MethodPost, pattern: base + "/dead-letters/retry", action: actionRetryDeadLetters, handle: s.retryDeadLetters,
			doc: doc{summary: "Queue dead letters for delivery again", request: retryDeadLettersRequest{},
				response: map[string]int{}}},
		// The web console at /console signs in here, because a browser
		// page may only call its own origin and the IAM listener is
		// another one. It is the IAM route: same handler, body and errors.
		{method: http.MethodPost, pattern: tokensPath, handle: s.createToken, errors: serviceIAM,
			doc: doc{summary: "KeystoneCreateUserTokenByPassword, also on this listener as the web console's sign-in",
				request: passwordTokenRequest{}, status: http.StatusCreated}},
	})
}

// ltsConfigRequest is the SetUserEventsLtsConfigurations body. Enable is
// kept raw so that a missing member, null and a string can each be
// distinguished from false.
type ltsConfigRequest struct {
	Enable      jsontext.Value `json:"enable"`
	LogGroupID  *string        `json:"log_group_id"`
	LogStreamID *string        `json:"log_stream_id"`
}

// ltsConfigDoc is the documented shape of ltsConfigRequest.
type ltsConfigDoc struct {
	Enable      bool   `json:"enable"`
	LogGroupID  string `json:"log_group_id"`
	LogStreamID string `json:"log_stream_id"`
}

type ltsConfigResponse struct {
	Enable      bool   `json:"enable"`
	LogGroupID  string `json:"log_group_id,omitempty"`
	LogStreamID string `json:"log_stream_id,omitempty"`
}

func (s *Server) setLTSConfig(c *call) error {
	var req ltsConfigRequest
	if err := decodeStrict(c.body, &req); err != nil {
		return err
	}
	enable, err := requiredBool("enable", req.Enable)
	if err != nil {
		return err
	}
	cfg := &userevents.LTSConfig{ProjectID: c.projectID, Enabled: enable}
	if req.LogGroupID != nil {
		cfg.LogGroupID = *req.LogGroupID
	}
	if req.LogStreamID != nil {
		cfg.LogStreamID = *req.LogStreamID
	}
	if err := validateLTSIDs(cfg); err != nil {
		return err
	}
	if enable {
		if err := s.checkLTSTarget(c, cfg); err != nil {
			return err
		}
	}

	if err := s.Store.SetLTSConfig(c.r.Context(), cfg); err != nil {
		return fmt.Errorf("set lts config: %w", err)
	}
	s.logger(c.r).Info("lts configuration set", "project_id", c.projectID,
		"enable", cfg.Enabled, "log_group_id", cfg.LogGroupID, "log_stream_id", cfg.LogStreamID,
		"user_id", c.principal.UserID)
	c.w.Header().Set("Content-Type", "application/json")
	c.w.WriteHeader(http.StatusOK)
	return nil
}

// requiredBool reads a JSON member that must be present and true or false.
func requiredBool(name string, v jsontext.Value) (bool, error) {
	switch v.Kind() {
	case 't':
		return true, nil
	case 'f':
		return false, nil
	case 0:
		return false, userevents.Errorf(userevents.EINVALID,
			"The member %q is required; send %q: true or %q: false.", name, name, name)
	default:
		return false, userevents.Errorf(userevents.EINVALID,
			"The member %q is %s but must be a boolean; send %q: true or %q: false.", name, v.String(), name, name)
	}
}

func validateLTSIDs(cfg *userevents.LTSConfig) error {
	for _, f := range []struct{ name, value string }{
		{"log_group_id", cfg.LogGroupID},
		{"log_stream_id", cfg.LogStreamID},
	} {
		if len(f.value) > 64 {
			return userevents.Errorf(userevents.EINVALID,
				"The member %q is %d characters long; an LTS id has 1 to 64 characters.", f.name, len(f.value))
		}
		if cfg.Enabled && f.value == "" {
			return userevents.Errorf(userevents.EINVALID,
				"The member %q is required when enable is true; send the id of an existing log group and a log stream in it.", f.name)
		}
	}
	return nil
}

// checkLTSTarget checks the three LTS permissions that setting a target
// depends on, then that the group exists and the stream belongs to it.
// Permissions come first so that a caller without them learns nothing
// about which ids exist.
func (s *Server) checkLTSTarget(c *call, cfg *userevents.LTSConfig) error {
	groupURN := ltsURN(c, "logGroup", cfg.LogGroupID)
	streamURN := ltsURN(c, "logStream", cfg.LogStreamID)
	if err := s.authorize(c, actionListLogGroups, "*"); err != nil {
		return err
	}
	if err := s.authorize(c, actionListLogStreams, groupURN); err != nil {
		return err
	}
	if err := s.authorize(c, actionGetLogStream, streamURN); err != nil {
		return err
	}

	ctx := c.r.Context()
	if s.RemoteLTS != nil && handlesProject(s.RemoteLTS, c.projectID) {
		return s.RemoteLTS.CheckLogStream(ctx, c.projectID, cfg.LogGroupID, cfg.LogStreamID)
	}
	_, err := s.Store.FindLogGroupByID(ctx, c.projectID, cfg.LogGroupID)
	if userevents.ErrorCode(err) == userevents.ENOTFOUND {
		return userevents.Errorf(userevents.EINVALID,
			"The log group %q does not exist in project %s; create it, or use an id from GET /v2/%s/groups on LTS.",
			cfg.LogGroupID, c.projectID, c.projectID)
	} else if err != nil {
		return fmt.Errorf("find log group: %w", err)
	}
	_, err = s.Store.FindLogStreamByID(ctx, c.projectID, cfg.LogGroupID, cfg.LogStreamID)
	if userevents.ErrorCode(err) == userevents.ENOTFOUND {
		return userevents.Errorf(userevents.EINVALID,
			"The log stream %q does not exist in log group %q; create it, or use an id from GET /v2/%s/groups/%s/streams on LTS.",
			cfg.LogStreamID, cfg.LogGroupID, c.projectID, cfg.LogGroupID)
	} else if err != nil {
		return fmt.Errorf("find log stream: %w", err)
	}
	return nil
}

func (s *Server) listLTSConfig(c *call) error {
	cfg, err := s.Store.FindLTSConfig(c.r.Context(), c.projectID)
	if err != nil {
		return fmt.Errorf("find lts config: %w", err)
	}
	writeJSON(c.w, http.StatusOK, ltsConfigResponse{
		Enable:      cfg.Enabled,
		LogGroupID:  cfg.LogGroupID,
		LogStreamID: cfg.LogStreamID,
	})
	return nil
}

// ltsURN returns the identity-policy URN of an LTS resource of the call's
// project: lts:<region>:<account id>:<type>:<id>.
func ltsURN(c *call, kind, id string) string {
	return fmt.Sprintf("lts:%s:%s:%s:%s", c.project.Name, c.principal.AccountID, kind, id)
}

// handlesProject reports whether the checker covers the project: a checker
// with a Handles method may leave some projects to the built-in LTS.
func handlesProject(checker LogStreamChecker, projectID string) bool {
	if h, ok := checker.(interface{ Handles(projectID string) bool }); ok {
		return h.Handles(projectID)
	}
	return true
}
