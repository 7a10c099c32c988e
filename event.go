package userevents

import (
	"context"
	"time"
)

// Limits of the user-events API.
const (
	// MaxEventSpan is the longest interval one ListUserEvents query may span.
	MaxEventSpan = 30 * 24 * time.Hour
	// DefaultEventLimit is the page size when the limit parameter is absent.
	DefaultEventLimit = 100
	// MaxEventLimit is the largest page size.
	MaxEventLimit = 1000
	// MaxIntakeBatch is the largest number of events in one intake request.
	MaxIntakeBatch = 1000
)

// Event is one user event: a login, a connection to a desktop, a logout.
// Field meanings follow UserEventRsp of the Workspace API.
type Event struct {
	// Seq is the store's own increasing id. It orders events that share an
	// EventTime and is zero until the event is stored.
	Seq int64

	// EventID is the stable id of the event. Intake generates one when the
	// client gave none; a second event with the same id in a project is
	// ignored.
	EventID string

	ProjectID     string
	Username      string
	WorkspaceID   string
	EventTraceID  string
	EventType     string
	EventTime     time.Time // UTC, microsecond precision
	ResourceType  string
	ResourceID    string
	ResourceName  string
	ClientType    string
	ClientIP      string
	ClientMAC     string
	ClientVersion string
	SourceIP      string
	IsSuccess     *bool // nil when the reporter did not say
	ErrorCode     string
	ErrorMsg      string
	ActionType    string // USER or SYSTEM
	Domain        string
	APIURL        string

	// ReceivedAt is when intake accepted the event.
	ReceivedAt time.Time
}

// EventFilter selects events of one project. Start and End are both
// inclusive. A nil pointer field does not filter.
type EventFilter struct {
	ProjectID    string
	Start        time.Time
	End          time.Time
	Username     *string
	EventTypes   []string // any of; empty does not filter
	ResourceID   *string
	ResourceName *string
	Domain       *string

	Offset int
	Limit  int // zero returns no items but still the count
}

// EventStore stores user events.
type EventStore interface {
	// CreateEvents stores the events of one project in one transaction.
	// Events whose EventID is already stored in the project are skipped.
	// When delivery is enabled for the project, the same transaction queues
	// each new event for the configured log stream. CreateEvents returns
	// the number of events newly stored and sets Seq on them; it returns
	// only after the transaction is durable.
	CreateEvents(ctx context.Context, projectID string, events []*Event) (int, error)

	// FindEvents returns one page of the events that match the filter,
	// newest first by (EventTime, Seq), and the total number that match.
	FindEvents(ctx context.Context, filter EventFilter) ([]*Event, int, error)
}
