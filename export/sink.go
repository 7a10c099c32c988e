package export

import (
	"context"
	"errors"
	"fmt"

	"github.com/userevents/userevents"
)

// Target is the log stream a batch is bound for.
type Target struct {
	ProjectID   string
	LogGroupID  string
	LogStreamID string
}

// Sink writes log lines to a log stream.
type Sink interface {
	// Send writes every line to the target stream. It returns nil only
	// when the stream confirmed all of them. A *PermanentError means the
	// lines can never be written as they are; any other error is
	// retried.
	Send(ctx context.Context, target Target, lines []Line) error
}

// PermanentError is a failure that no retry can fix, such as a line that
// LTS rejects for its size or time.
type PermanentError struct {
	Reason string
}

func (e *PermanentError) Error() string { return e.Reason }

// BuiltinSink writes lines to the built-in LTS in the same store.
type BuiltinSink struct {
	Logs userevents.LogStore
}

var _ Sink = (*BuiltinSink)(nil)

// Send implements Sink. A stream that does not exist, perhaps deleted
// after the configuration named it, is a retried error: the lines stay
// queued until an operator restores the stream or the lines are retried
// elsewhere.
func (s *BuiltinSink) Send(ctx context.Context, t Target, lines []Line) error {
	records := make([]*userevents.LogRecord, len(lines))
	for i, l := range lines {
		records[i] = &userevents.LogRecord{
			ProjectID: t.ProjectID,
			GroupID:   t.LogGroupID,
			StreamID:  t.LogStreamID,
			TimeNs:    l.TimeNs,
			Content:   l.Content,
		}
	}
	err := s.Logs.AppendLogs(ctx, records)
	var e *userevents.Error
	if errors.As(err, &e) && e.Code == userevents.ENOTFOUND {
		return fmt.Errorf("log stream %s of group %s not found: %w", t.LogStreamID, t.LogGroupID, err)
	}
	return err
}
