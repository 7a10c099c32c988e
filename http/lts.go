package http

import (
	"fmt"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/userevents/userevents"
)

// LTS actions of the identity-policy model.
const (
	actionCreateLogGroup  = "lts:logGroup:createLogGroup"
	actionUpdateLogGroup  = "lts:logGroup:updateLogGroup"
	actionDeleteLogGroup  = "lts:logGroup:deleteLogGroup"
	actionCreateLogStream = "lts:logStream:createLogStream"
	actionUpdateLogStream = "lts:logStream:updateLogStream"
	actionDeleteLogStream = "lts:logStream:deleteLogStream"
	actionSearchLog       = "lts:logStream:searchLog"
	actionReportLog       = "lts:logStream:reportLog"
)

// LTS returns the handler of the built-in LTS listener: management,
// query and ingestion.
func (s *Server) LTS() http.Handler {
	const (
		groups  = "/v2/{project_id}/groups"
		group   = groups + "/{log_group_id}"
		streams = group + "/streams"
		stream  = streams + "/{log_stream_id}"
		ingest  = "/v2/{project_id}/lts/groups/{log_group_id}/streams/{log_stream_id}/tenant/contents"
	)
	groupURN := func(c *call) string { return ltsURN(c, "logGroup", chi.URLParam(c.r, "log_group_id")) }
	streamURN := func(c *call) string { return ltsURN(c, "logStream", chi.URLParam(c.r, "log_stream_id")) }
	routes := []route{
		{method: http.MethodGet, pattern: groups, action: actionListLogGroups, handle: s.listLogGroups,
			doc: doc{summary: "ListLogGroups", response: logGroupsDoc{}}},
		{method: http.MethodPost, pattern: groups, action: actionCreateLogGroup, handle: s.createLogGroup,
			doc: doc{summary: "CreateLogGroup", request: createLogGroupRequest{}, response: map[string]string{}, status: http.StatusCreated}},
		{method: http.MethodPost, pattern: group, action: actionUpdateLogGroup, resource: groupURN, handle: s.updateLogGroup,
			doc: doc{summary: "UpdateLogGroup: change the retention", request: updateTTLRequest{}, response: logGroupResponse{}}},
		{method: http.MethodDelete, pattern: group, action: actionDeleteLogGroup, resource: groupURN, handle: s.deleteLogGroup,
			doc: doc{summary: "DeleteLogGroup, with its streams and lines", status: http.StatusNoContent}},
		{method: http.MethodGet, pattern: streams, action: actionListLogStreams, resource: groupURN, handle: s.listGroupLogStreams,
			doc: doc{summary: "ListLogStream: streams of one group", response: logStreamsDoc{}}},
		{method: http.MethodPost, pattern: streams, action: actionCreateLogStream, resource: groupURN, handle: s.createLogStream,
			doc: doc{summary: "CreateLogStream", request: createLogStreamRequest{}, response: map[string]string{}, status: http.StatusCreated}},
		{method: http.MethodGet, pattern: stream, action: actionGetLogStream, resource: streamURN, handle: s.showLogStream,
			doc: doc{summary: "Show one log stream", response: logStreamResponse{}}},
		{method: http.MethodDelete, pattern: stream, action: actionDeleteLogStream, resource: streamURN, handle: s.deleteLogStream,
			doc: doc{summary: "DeleteLogStream, with its lines", status: http.StatusNoContent}},
		{method: http.MethodPut, pattern: group + "/streams-ttl/{log_stream_id}", action: actionUpdateLogStream, resource: streamURN, handle: s.updateLogStream,
			doc: doc{summary: "UpdateLogStream: change the retention", request: updateTTLRequest{}, response: logStreamResponse{}}},
		{method: http.MethodGet, pattern: "/v2/{project_id}/log-streams", action: actionListLogStreams, handle: s.listLogStreams,
			doc: doc{summary: "ListLogStreams: streams of every group", response: logStreamsDoc{}, query: []param{
				{"log_group_name", "string", false, "exact group name"}, {"log_stream_name", "string", false, "exact stream name"}}}},
		{method: http.MethodPost, pattern: stream + "/content/query", action: actionSearchLog, resource: streamURN, handle: s.queryLogs,
			doc: doc{summary: "ListLogs: lines of one stream in a time range", request: queryLogsRequest{}, response: queryLogsResponse{}}},
		{method: http.MethodPost, pattern: ingest, action: actionReportLog, resource: streamURN, handle: s.reportLogs, errors: serviceIngest,
			doc: doc{summary: "Report logs: lines sharing one time", request: reportLogsRequest{}, response: map[string]string{}}},
		{method: http.MethodPost, pattern: ingest + "/high-accuracy", action: actionReportLog, resource: streamURN, handle: s.reportLogsHighAccuracy, errors: serviceIngest,
			doc: doc{summary: "Report logs, high accuracy: each line with its own time", request: reportLogsHighAccuracyRequest{}, response: map[string]string{}}},
	}
	return s.newRouter(serviceLTS, routes)
}

// logGroupsDoc and logStreamsDoc are the documented list responses.
type logGroupsDoc struct {
	LogGroups []logGroupResponse `json:"log_groups"`
}

type logStreamsDoc struct {
	LogStreams []logStreamResponse `json:"log_streams"`
}

type tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

type createLogGroupRequest struct {
	LogGroupName      string  `json:"log_group_name"`
	TTLInDays         *int    `json:"ttl_in_days"`
	Tags              []tag   `json:"tags"`
	LogGroupNameAlias *string `json:"log_group_name_alias"`
}

type logGroupResponse struct {
	CreationTime      int64             `json:"creation_time"`
	LogGroupName      string            `json:"log_group_name"`
	LogGroupID        string            `json:"log_group_id"`
	TTLInDays         int               `json:"ttl_in_days"`
	Tag               map[string]string `json:"tag,omitempty"`
	LogGroupNameAlias string            `json:"log_group_name_alias,omitempty"`
}

func newLogGroupResponse(g *userevents.LogGroup) logGroupResponse {
	return logGroupResponse{
		CreationTime:      g.CreatedAt.UnixMilli(),
		LogGroupName:      g.Name,
		LogGroupID:        g.ID,
		TTLInDays:         g.TTLDays,
		Tag:               g.Tags,
		LogGroupNameAlias: g.Alias,
	}
}

func (s *Server) createLogGroup(c *call) error {
	var req createLogGroupRequest
	if err := decodeLenient(c.body, &req); err != nil {
		return err
	}
	if err := validateLogName("log_group_name", req.LogGroupName); err != nil {
		return err
	}
	ttl, err := ttlDays(req.TTLInDays)
	if err != nil {
		return err
	}
	tags, err := tagMap(req.Tags)
	if err != nil {
		return err
	}
	g := &userevents.LogGroup{
		ID:        uuid.NewString(),
		ProjectID: c.projectID,
		Name:      req.LogGroupName,
		TTLDays:   ttl,
		Tags:      tags,
		CreatedAt: s.now(),
	}
	if req.LogGroupNameAlias != nil {
		g.Alias = *req.LogGroupNameAlias
	}
	if err := s.Store.CreateLogGroup(c.r.Context(), g); err != nil {
		return err
	}
	s.logger(c.r).Info("log group created", "project_id", c.projectID, "log_group_id", g.ID, "name", g.Name)
	writeJSON(c.w, http.StatusCreated, map[string]string{"log_group_id": g.ID})
	return nil
}

func (s *Server) listLogGroups(c *call) error {
	groups, err := s.Store.FindLogGroups(c.r.Context(), c.projectID)
	if err != nil {
		return fmt.Errorf("find log groups: %w", err)
	}
	resp := make([]logGroupResponse, len(groups))
	for i, g := range groups {
		resp[i] = newLogGroupResponse(g)
	}
	writeJSON(c.w, http.StatusOK, map[string]any{"log_groups": resp})
	return nil
}

type updateTTLRequest struct {
	TTLInDays *int `json:"ttl_in_days"`
}

func (s *Server) updateLogGroup(c *call) error {
	var req updateTTLRequest
	if err := decodeLenient(c.body, &req); err != nil {
		return err
	}
	if req.TTLInDays == nil {
		return userevents.Errorf(userevents.EINVALID, "ttl_in_days is required; send an integer from 1 to 365.")
	}
	ttl, err := ttlDays(req.TTLInDays)
	if err != nil {
		return err
	}
	groupID := chi.URLParam(c.r, "log_group_id")
	if err := s.Store.UpdateLogGroup(c.r.Context(), c.projectID, groupID, ttl); err != nil {
		return err
	}
	g, err := s.Store.FindLogGroupByID(c.r.Context(), c.projectID, groupID)
	if err != nil {
		return err
	}
	writeJSON(c.w, http.StatusOK, newLogGroupResponse(g))
	return nil
}

func (s *Server) deleteLogGroup(c *call) error {
	groupID := chi.URLParam(c.r, "log_group_id")
	if err := s.Store.DeleteLogGroup(c.r.Context(), c.projectID, groupID); err != nil {
		return err
	}
	s.logger(c.r).Info("log group deleted", "project_id", c.projectID, "log_group_id", groupID)
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}

type createLogStreamRequest struct {
	LogStreamName      string  `json:"log_stream_name"`
	TTLInDays          *int    `json:"ttl_in_days"`
	Tags               []tag   `json:"tags"`
	LogStreamNameAlias *string `json:"log_stream_name_alias"`
}

type logStreamResponse struct {
	CreationTime       int64             `json:"creation_time"`
	LogStreamID        string            `json:"log_stream_id"`
	LogStreamName      string            `json:"log_stream_name"`
	LogStreamNameAlias string            `json:"log_stream_name_alias,omitempty"`
	LogGroupID         string            `json:"log_group_id,omitempty"`
	Tag                map[string]string `json:"tag"`
	FilterCount        int               `json:"filter_count"`
	TTLInDays          int               `json:"ttl_in_days"`
	WhetherLogStorage  bool              `json:"whether_log_storage"`
	IsFavorite         bool              `json:"is_favorite"`
}

func newLogStreamResponse(st *userevents.LogStream, withGroup bool) logStreamResponse {
	r := logStreamResponse{
		CreationTime:       st.CreatedAt.UnixMilli(),
		LogStreamID:        st.ID,
		LogStreamName:      st.Name,
		LogStreamNameAlias: st.Alias,
		Tag:                st.Tags,
		TTLInDays:          st.TTLDays,
		WhetherLogStorage:  true,
	}
	if r.Tag == nil {
		r.Tag = map[string]string{}
	}
	if withGroup {
		r.LogGroupID = st.GroupID
	}
	return r
}

func (s *Server) createLogStream(c *call) error {
	var req createLogStreamRequest
	if err := decodeLenient(c.body, &req); err != nil {
		return err
	}
	if err := validateLogName("log_stream_name", req.LogStreamName); err != nil {
		return err
	}
	groupID := chi.URLParam(c.r, "log_group_id")
	g, err := s.Store.FindLogGroupByID(c.r.Context(), c.projectID, groupID)
	if err != nil {
		return err
	}
	ttl := g.TTLDays
	if req.TTLInDays != nil {
		if ttl, err = ttlDays(req.TTLInDays); err != nil {
			return err
		}
	}
	tags, err := tagMap(req.Tags)
	if err != nil {
		return err
	}
	st := &userevents.LogStream{
		ID:        uuid.NewString(),
		ProjectID: c.projectID,
		GroupID:   groupID,
		Name:      req.LogStreamName,
		TTLDays:   ttl,
		Tags:      tags,
		CreatedAt: s.now(),
	}
	if req.LogStreamNameAlias != nil {
		st.Alias = *req.LogStreamNameAlias
	}
	if err := s.Store.CreateLogStream(c.r.Context(), st); err != nil {
		return err
	}
	s.logger(c.r).Info("log stream created", "project_id", c.projectID,
		"log_group_id", groupID, "log_stream_id", st.ID, "name", st.Name)
	writeJSON(c.w, http.StatusCreated, map[string]string{"log_stream_id": st.ID})
	return nil
}

func (s *Server) listGroupLogStreams(c *call) error {
	groupID := chi.URLParam(c.r, "log_group_id")
	if _, err := s.Store.FindLogGroupByID(c.r.Context(), c.projectID, groupID); err != nil {
		return err
	}
	return s.writeLogStreams(c, userevents.LogStreamFilter{ProjectID: c.projectID, GroupID: groupID}, false)
}

func (s *Server) listLogStreams(c *call) error {
	filter := userevents.LogStreamFilter{
		ProjectID:  c.projectID,
		GroupName:  c.query.Get("log_group_name"),
		StreamName: c.query.Get("log_stream_name"),
	}
	return s.writeLogStreams(c, filter, true)
}

func (s *Server) writeLogStreams(c *call, filter userevents.LogStreamFilter, withGroup bool) error {
	streams, err := s.Store.FindLogStreams(c.r.Context(), filter)
	if err != nil {
		return fmt.Errorf("find log streams: %w", err)
	}
	resp := make([]logStreamResponse, len(streams))
	for i, st := range streams {
		resp[i] = newLogStreamResponse(st, withGroup)
	}
	writeJSON(c.w, http.StatusOK, map[string]any{"log_streams": resp})
	return nil
}

func (s *Server) showLogStream(c *call) error {
	st, err := s.Store.FindLogStreamByID(c.r.Context(), c.projectID,
		chi.URLParam(c.r, "log_group_id"), chi.URLParam(c.r, "log_stream_id"))
	if err != nil {
		return err
	}
	writeJSON(c.w, http.StatusOK, newLogStreamResponse(st, true))
	return nil
}

func (s *Server) updateLogStream(c *call) error {
	var req updateTTLRequest
	if err := decodeLenient(c.body, &req); err != nil {
		return err
	}
	if req.TTLInDays == nil {
		return userevents.Errorf(userevents.EINVALID, "ttl_in_days is required; send an integer from 1 to 365.")
	}
	ttl, err := ttlDays(req.TTLInDays)
	if err != nil {
		return err
	}
	groupID, streamID := chi.URLParam(c.r, "log_group_id"), chi.URLParam(c.r, "log_stream_id")
	if err := s.Store.UpdateLogStream(c.r.Context(), c.projectID, groupID, streamID, ttl); err != nil {
		return err
	}
	st, err := s.Store.FindLogStreamByID(c.r.Context(), c.projectID, groupID, streamID)
	if err != nil {
		return err
	}
	writeJSON(c.w, http.StatusOK, newLogStreamResponse(st, true))
	return nil
}

func (s *Server) deleteLogStream(c *call) error {
	groupID, streamID := chi.URLParam(c.r, "log_group_id"), chi.URLParam(c.r, "log_stream_id")
	if err := s.Store.DeleteLogStream(c.r.Context(), c.projectID, groupID, streamID); err != nil {
		return err
	}
	s.logger(c.r).Info("log stream deleted", "project_id", c.projectID,
		"log_group_id", groupID, "log_stream_id", streamID)
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}

// validateLogName applies the LTS name rules: 1 to 64 characters of
// letters, digits, Chinese characters, '-', '_' and '.', not starting with
// '.' or '_' and not ending with '.'.
func validateLogName(field, name string) error {
	n := utf8.RuneCountInString(name)
	if n == 0 {
		return userevents.Errorf(userevents.EINVALID, "%s is required; send a name of 1 to 64 characters.", field)
	}
	if n > userevents.MaxLogNameLength || !utf8.ValidString(name) {
		return userevents.Errorf(userevents.EINVALID,
			"%s %q is %d characters long; use 1 to 64 characters.", field, name, n)
	}
	for _, r := range name {
		ok := r < utf8.RuneSelf && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.", r)) ||
			unicode.Is(unicode.Han, r)
		if !ok {
			return userevents.Errorf(userevents.EINVALID,
				"%s %q contains %q; use only letters, digits, Chinese characters, '-', '_' and '.'.", field, name, r)
		}
	}
	if name[0] == '.' || name[0] == '_' || name[len(name)-1] == '.' {
		return userevents.Errorf(userevents.EINVALID,
			"%s %q must not start with '.' or '_' or end with '.'; rename it.", field, name)
	}
	return nil
}

func ttlDays(v *int) (int, error) {
	if v == nil {
		return userevents.DefaultTTLDays, nil
	}
	if *v < userevents.MinTTLDays || *v > userevents.MaxTTLDays {
		return 0, userevents.Errorf(userevents.EINVALID,
			"ttl_in_days %d is out of range; use an integer from 1 to 365.", *v)
	}
	return *v, nil
}

func tagMap(tags []tag) (map[string]string, error) {
	if len(tags) == 0 {
		return nil, nil
	}
	m := make(map[string]string, len(tags))
	for i, t := range tags {
		if t.Key == "" {
			return nil, userevents.Errorf(userevents.EINVALID, "tags[%d].key is empty; give every tag a key.", i)
		}
		if _, dup := m[t.Key]; dup {
			return nil, userevents.Errorf(userevents.EINVALID, "tags[%d].key %q repeats an earlier tag; use each key once.", i, t.Key)
		}
		m[t.Key] = t.Value
	}
	return m, nil
}
