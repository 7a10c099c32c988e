package userevents

import (
	"context"
	"time"
)

// Quotas and limits of the built-in LTS, as Huawei Cloud LTS documents them.
const (
	MaxLogGroups          = 100 // per project
	MaxLogStreamsPerGroup = 100
	MaxLogNameLength      = 64
	MinTTLDays            = 1
	MaxTTLDays            = 365
	DefaultTTLDays        = 30
	MaxLogLineBytes       = 1 << 20 // one ingested line
	MaxLogLabels          = 100
	MaxLogQueryLimit      = 5000
	DefaultLogQueryLimit  = 50
	MaxLogQuerySpan       = 30 * 24 * time.Hour
)

// LTSConfig is a project's setting for forwarding user events to a log
// stream. The zero value means delivery is disabled.
type LTSConfig struct {
	ProjectID   string
	Enabled     bool
	LogGroupID  string
	LogStreamID string
	UpdatedAt   time.Time
}

// LTSConfigStore stores the forwarding setting of each project.
type LTSConfigStore interface {
	// FindLTSConfig returns the project's setting, or a disabled LTSConfig
	// when none was ever set.
	FindLTSConfig(ctx context.Context, projectID string) (*LTSConfig, error)

	// SetLTSConfig replaces the project's setting. Events accepted after
	// it returns follow the new setting; events already queued keep their
	// target.
	SetLTSConfig(ctx context.Context, cfg *LTSConfig) error
}

// LogGroup is a built-in LTS log group.
type LogGroup struct {
	ID        string // 36-character UUID
	ProjectID string
	Name      string
	Alias     string
	TTLDays   int
	Tags      map[string]string
	CreatedAt time.Time
}

// LogStream is a built-in LTS log stream inside a log group.
type LogStream struct {
	ID        string // 36-character UUID
	ProjectID string
	GroupID   string
	GroupName string // filled by FindLogStreams
	Name      string
	Alias     string
	TTLDays   int
	Tags      map[string]string
	CreatedAt time.Time
}

// LogStreamFilter selects log streams of one project. Empty fields do not
// filter.
type LogStreamFilter struct {
	ProjectID  string
	GroupID    string
	GroupName  string
	StreamName string
}

// LogRecord is one line stored in a built-in log stream.
type LogRecord struct {
	Seq       int64 // the store's increasing id, set when stored
	ProjectID string
	GroupID   string
	StreamID  string
	TimeNs    int64 // log time, UTC nanoseconds
	Content   string
	Labels    map[string]string
}

// LogQuery selects lines of one stream. Start and End are inclusive, in
// milliseconds since the epoch as LTS expresses them.
type LogQuery struct {
	ProjectID string
	GroupID   string
	StreamID  string
	StartMs   int64
	EndMs     int64
	Keywords  []string          // each must occur in the line, case-sensitive
	Labels    map[string]string // each must match exactly
	Desc      bool              // newest first
	AfterSeq  int64             // paging cursor: lines past this Seq in the chosen order
	Limit     int
}

// LogStore stores built-in LTS groups, streams and their lines.
type LogStore interface {
	// CreateLogGroup stores a new group. It returns ECONFLICT when the
	// name is taken and EQUOTA past MaxLogGroups.
	CreateLogGroup(ctx context.Context, g *LogGroup) error
	FindLogGroups(ctx context.Context, projectID string) ([]*LogGroup, error)
	// FindLogGroupByID returns ENOTFOUND when no such group exists.
	FindLogGroupByID(ctx context.Context, projectID, groupID string) (*LogGroup, error)
	// UpdateLogGroup sets the group's TTL. It returns ENOTFOUND when no
	// such group exists.
	UpdateLogGroup(ctx context.Context, projectID, groupID string, ttlDays int) error
	// DeleteLogGroup deletes the group, its streams and their lines.
	DeleteLogGroup(ctx context.Context, projectID, groupID string) error

	// CreateLogStream stores a new stream. It returns ENOTFOUND for an
	// unknown group, ECONFLICT for a taken name and EQUOTA past
	// MaxLogStreamsPerGroup.
	CreateLogStream(ctx context.Context, s *LogStream) error
	FindLogStreams(ctx context.Context, filter LogStreamFilter) ([]*LogStream, error)
	// FindLogStreamByID returns ENOTFOUND unless the stream exists in the
	// group.
	FindLogStreamByID(ctx context.Context, projectID, groupID, streamID string) (*LogStream, error)
	UpdateLogStream(ctx context.Context, projectID, groupID, streamID string, ttlDays int) error
	DeleteLogStream(ctx context.Context, projectID, groupID, streamID string) error

	// AppendLogs stores lines in their streams in one transaction. It
	// returns ENOTFOUND when a stream does not exist.
	AppendLogs(ctx context.Context, records []*LogRecord) error
	// FindLogs returns one page of matching lines and the total match
	// count.
	FindLogs(ctx context.Context, q LogQuery) ([]*LogRecord, int, error)
}
