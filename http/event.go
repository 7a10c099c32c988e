package http

import (
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/google/uuid"

	"github.com/userevents/userevents"
)

// userEvent is UserEventRsp of the Workspace API: the shape of an event in
// ListUserEvents responses and in intake requests, which add event_id.
type userEvent struct {
	EventID       string `json:"event_id,omitempty"`
	ProjectID     string `json:"project_id"`
	Username      string `json:"username"`
	WorkspaceID   string `json:"workspace_id"`
	EventTraceID  string `json:"event_trace_id"`
	EventType     string `json:"event_type"`
	EventTime     string `json:"event_time"`
	ResourceType  string `json:"resource_type"`
	ResourceID    string `json:"resource_id"`
	ResourceName  string `json:"resource_name"`
	ClientType    string `json:"client_type"`
	ClientIP      string `json:"client_ip"`
	ClientMAC     string `json:"client_mac"`
	ClientVersion string `json:"client_version"`
	SourceIP      string `json:"source_ip"`
	IsSuccess     *bool  `json:"is_success,omitempty"`
	ErrorCode     string `json:"error_code"`
	ErrorMsg      string `json:"error_msg"`
	ActionType    string `json:"action_type"`
	Domain        string `json:"domain,omitempty"`
	APIURL        string `json:"api_url,omitempty"`
}

func newUserEvent(e *userevents.Event) userEvent {
	return userEvent{
		EventID:       e.EventID,
		ProjectID:     e.ProjectID,
		Username:      e.Username,
		WorkspaceID:   e.WorkspaceID,
		EventTraceID:  e.EventTraceID,
		EventType:     e.EventType,
		EventTime:     FormatTime(e.EventTime),
		ResourceType:  e.ResourceType,
		ResourceID:    e.ResourceID,
		ResourceName:  e.ResourceName,
		ClientType:    e.ClientType,
		ClientIP:      e.ClientIP,
		ClientMAC:     e.ClientMAC,
		ClientVersion: e.ClientVersion,
		SourceIP:      e.SourceIP,
		IsSuccess:     e.IsSuccess,
		ErrorCode:     e.ErrorCode,
		ErrorMsg:      e.ErrorMsg,
		ActionType:    e.ActionType,
		Domain:        e.Domain,
		APIURL:        e.APIURL,
	}
}

type listEventsResponse struct {
	Count int         `json:"count"`
	Items []userEvent `json:"items"`
}

func (s *Server) listEvents(c *call) error {
	filter, err := eventFilter(c)
	if err != nil {
		return err
	}
	events, count, err := s.Store.FindEvents(c.r.Context(), filter)
	if err != nil {
		return fmt.Errorf("find events: %w", err)
	}
	resp := listEventsResponse{Count: count, Items: make([]userEvent, len(events))}
	for i, e := range events {
		resp.Items[i] = newUserEvent(e)
	}
	writeJSON(c.w, http.StatusOK, resp)
	return nil
}

// eventFilter reads the ListUserEvents query parameters. Unknown
// parameters are ignored, as the real service ignores them.
func eventFilter(c *call) (userevents.EventFilter, error) {
	q := c.query
	f := userevents.EventFilter{ProjectID: c.projectID}
	var err error
	if f.Start, err = queryTime(q, "start_time"); err != nil {
		return f, err
	}
	if f.End, err = queryTime(q, "end_time"); err != nil {
		return f, err
	}
	if f.End.Before(f.Start) {
		return f, userevents.Errorf(userevents.EINVALID,
			"end_time %s is before start_time %s; swap them or widen the range.", q.Get("end_time"), q.Get("start_time"))
	}
	if f.End.Sub(f.Start) > userevents.MaxEventSpan {
		return f, userevents.Errorf(userevents.EINVALID,
			"The range from start_time %s to end_time %s is longer than 30 days; query at most 30 days at a time.",
			q.Get("start_time"), q.Get("end_time"))
	}
	if f.Limit, err = queryInt(q, "limit", userevents.DefaultEventLimit, 0, userevents.MaxEventLimit); err != nil {
		return f, err
	}
	if f.Offset, err = queryInt(q, "offset", 0, 0, 1<<31-1); err != nil {
		return f, err
	}
	for _, name := range []string{"username", "resource_id", "resource_name", "domain", "event_type"} {
		if name != "event_type" {
			if err := repeated(q, name); err != nil {
				return f, err
			}
		}
		for _, v := range q[name] {
			if !utf8.ValidString(v) {
				return f, userevents.Errorf(userevents.EINVALID,
					"The query parameter %s is not valid UTF-8 after percent-decoding; encode the value as UTF-8.", name)
			}
		}
	}
	f.Username = queryString(q, "username")
	f.ResourceID = queryString(q, "resource_id")
	f.ResourceName = queryString(q, "resource_name")
	f.Domain = queryString(q, "domain")
	// A repeated event_type adds to the list, like a comma.
	for _, t := range strings.Split(strings.Join(q["event_type"], ","), ",") {
		if t = strings.TrimSpace(t); t != "" {
			f.EventTypes = append(f.EventTypes, t)
		}
	}
	return f, nil
}

var listEventsParams = []param{
	{"start_time", "string", true, "start of the range, RFC 3339, inclusive"},
	{"end_time", "string", true, "end of the range, RFC 3339, inclusive; at most 30 days after start_time"},
	{"username", "string", false, "exact user name"},
	{"event_type", "string", false, "one or more event types, comma-separated"},
	{"resource_id", "string", false, "exact resource id"},
	{"resource_name", "string", false, "exact resource name"},
	{"domain", "string", false, "exact domain"},
	{"offset", "integer", false, "index of the first item, from 0"},
	{"limit", "integer", false, "items per page, 0 to 1000, default 100"},
}

// intakeDoc is the documented shape of intakeRequest.
type intakeDoc struct {
	Items []userEvent `json:"items"`
}

type intakeRequest struct {
	Items []jsontext.Value `json:"items"`
}

type intakeResponse struct {
	Count      int `json:"count"`
	Duplicates int `json:"duplicates"`
}

// createEvents is the intake endpoint. A batch is accepted or rejected
// whole; a 400 lists every bad event by index and field.
func (s *Server) createEvents(c *call) error {
	var req intakeRequest
	if err := decodeStrict(c.body, &req); err != nil {
		return err
	}
	if len(req.Items) == 0 || len(req.Items) > userevents.MaxIntakeBatch {
		return userevents.Errorf(userevents.EINVALID,
			"The member \"items\" has %d events; send 1 to %d events per request.", len(req.Items), userevents.MaxIntakeBatch)
	}

	events := make([]*userevents.Event, 0, len(req.Items))
	var problems []string
	now := s.now()
	for i, raw := range req.Items {
		e, err := s.parseEvent(c, raw, now)
		if err != nil {
			problems = append(problems, fmt.Sprintf("items[%d]: %s", i, userevents.ErrorMessage(err)))
			if len(problems) == 20 {
				problems = append(problems, "(further errors not listed)")
				break
			}
			continue
		}
		events = append(events, e)
	}
	if len(problems) > 0 {
		return userevents.Errorf(userevents.EINVALID, "The batch was rejected whole; nothing was stored. %s",
			strings.Join(problems, "; "))
	}

	stored, err := s.Store.CreateEvents(c.r.Context(), c.projectID, events)
	if err != nil {
		return fmt.Errorf("create events: %w", err)
	}
	s.Metrics.EventsAccepted(stored, len(events)-stored)
	if s.Notify != nil && stored > 0 {
		s.Notify()
	}
	writeJSON(c.w, http.StatusOK, intakeResponse{Count: stored, Duplicates: len(events) - stored})
	return nil
}

// maxEventField is the longest accepted string member of an event, in bytes.
const maxEventField = 1024

func (s *Server) parseEvent(c *call, raw jsontext.Value, now time.Time) (*userevents.Event, error) {
	var in userEvent
	if err := decodeStrict(raw, &in); err != nil {
		return nil, err
	}
	if err := validateEventFields(&in); err != nil {
		return nil, err
	}
	if in.ProjectID != "" && in.ProjectID != c.projectID {
		return nil, userevents.Errorf(userevents.EINVALID,
			"project_id %q differs from the project %s in the path; omit it or send the same id", in.ProjectID, c.projectID)
	}
	t, ok := ParseTime(in.EventTime)
	if !ok {
		return nil, userevents.Errorf(userevents.EINVALID,
			"event_time %q is not an RFC 3339 time; use the form 2024-05-01T10:00:00Z", in.EventTime)
	}
	if in.ActionType != "" && in.ActionType != "USER" && in.ActionType != "SYSTEM" {
		return nil, userevents.Errorf(userevents.EINVALID,
			"action_type %q is invalid; use USER or SYSTEM", in.ActionType)
	}
	id := in.EventID
	if id == "" {
		id = uuid.NewString()
	}
	return &userevents.Event{
		EventID:       id,
		ProjectID:     c.projectID,
		Username:      in.Username,
		WorkspaceID:   in.WorkspaceID,
		EventTraceID:  in.EventTraceID,
		EventType:     in.EventType,
		EventTime:     t.Truncate(time.Microsecond),
		ResourceType:  in.ResourceType,
		ResourceID:    in.ResourceID,
		ResourceName:  in.ResourceName,
		ClientType:    in.ClientType,
		ClientIP:      in.ClientIP,
		ClientMAC:     in.ClientMAC,
		ClientVersion: in.ClientVersion,
		SourceIP:      in.SourceIP,
		IsSuccess:     in.IsSuccess,
		ErrorCode:     in.ErrorCode,
		ErrorMsg:      in.ErrorMsg,
		ActionType:    in.ActionType,
		Domain:        in.Domain,
		APIURL:        in.APIURL,
		ReceivedAt:    now,
	}, nil
}

// validateEventFields checks the required members and the size and
// encoding of every string member.
func validateEventFields(in *userEvent) error {
	required := []struct{ name, value string }{
		{"event_type", in.EventType},
		{"username", in.Username},
		{"event_time", in.EventTime},
	}
	for _, f := range required {
		if f.value == "" {
			return userevents.Errorf(userevents.EINVALID, "%s is required; send a non-empty string", f.name)
		}
	}
	fields := []struct{ name, value string }{
		{"event_id", in.EventID}, {"username", in.Username}, {"workspace_id", in.WorkspaceID},
		{"event_trace_id", in.EventTraceID}, {"event_type", in.EventType}, {"resource_type", in.ResourceType},
		{"resource_id", in.ResourceID}, {"resource_name", in.ResourceName}, {"client_type", in.ClientType},
		{"client_ip", in.ClientIP}, {"client_mac", in.ClientMAC}, {"client_version", in.ClientVersion},
		{"source_ip", in.SourceIP}, {"error_code", in.ErrorCode}, {"error_msg", in.ErrorMsg},
		{"domain", in.Domain}, {"api_url", in.APIURL},
	}
	for _, f := range fields {
		if len(f.value) > maxEventField {
			return userevents.Errorf(userevents.EINVALID,
				"%s is %d bytes long; send at most %d bytes", f.name, len(f.value), maxEventField)
		}
		if !utf8.ValidString(f.value) {
			return userevents.Errorf(userevents.EINVALID, "%s is not valid UTF-8", f.name)
		}
	}
	if len(in.EventID) > 128 {
		return userevents.Errorf(userevents.EINVALID,
			"event_id is %d bytes long; send at most 128 bytes", len(in.EventID))
	}
	return nil
}
