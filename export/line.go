package export

import (
	"encoding/json"
	"time"

	"github.com/userevents/userevents"
)

// logLine is one event as a log line. Field names are those of the
// Workspace LTS record format: camelCase, except error_code and error_msg,
// which the Workspace documentation spells in snake case. eventId is the
// event's stable id, so a consumer can drop the duplicates that
// at-least-once delivery may produce.
type logLine struct {
	EventID       string `json:"eventId"`
	ProjectID     string `json:"projectId"`
	Username      string `json:"username"`
	WorkspaceID   string `json:"workspaceId,omitempty"`
	EventTraceID  string `json:"eventTraceId,omitempty"`
	EventType     string `json:"eventType"`
	EventTime     string `json:"eventTime"`
	ResourceType  string `json:"resourceType,omitempty"`
	ResourceID    string `json:"resourceId,omitempty"`
	ResourceName  string `json:"resourceName,omitempty"`
	ClientType    string `json:"clientType,omitempty"`
	ClientIP      string `json:"clientIp,omitempty"`
	ClientMAC     string `json:"clientMac,omitempty"`
	ClientVersion string `json:"clientVersion,omitempty"`
	SourceIP      string `json:"sourceIp,omitempty"`
	IsSuccess     *bool  `json:"isSuccess,omitempty"`
	APIURL        string `json:"apiUrl,omitempty"`
	ActionType    string `json:"actionType,omitempty"`
	ErrorCode     string `json:"error_code,omitempty"`
	ErrorMsg      string `json:"error_msg,omitempty"`
	Domain        string `json:"domain,omitempty"`
}

// Line is one log line ready for a sink.
type Line struct {
	DeliveryID int64
	EventID    string
	TimeNs     int64 // log time: the event time, UTC nanoseconds
	Content    string
}

// NewLine renders an event as a log line.
func NewLine(d *userevents.Delivery) Line {
	e := d.Event
	content, _ := json.Marshal(logLine{
		EventID:       e.EventID,
		ProjectID:     e.ProjectID,
		Username:      e.Username,
		WorkspaceID:   e.WorkspaceID,
		EventTraceID:  e.EventTraceID,
		EventType:     e.EventType,
		EventTime:     e.EventTime.UTC().Format(time.RFC3339),
		ResourceType:  e.ResourceType,
		ResourceID:    e.ResourceID,
		ResourceName:  e.ResourceName,
		ClientType:    e.ClientType,
		ClientIP:      e.ClientIP,
		ClientMAC:     e.ClientMAC,
		ClientVersion: e.ClientVersion,
		SourceIP:      e.SourceIP,
		IsSuccess:     e.IsSuccess,
		APIURL:        e.APIURL,
		ActionType:    e.ActionType,
		ErrorCode:     e.ErrorCode,
		ErrorMsg:      e.ErrorMsg,
		Domain:        e.Domain,
	})
	return Line{DeliveryID: d.ID, EventID: e.EventID, TimeNs: e.EventTime.UnixNano(), Content: string(content)}
}
