package export

import (
	"context"
	"errors"
	"fmt"
	"time"

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
	// when the stream confirmed all of them. A *SendError lists which
	// lines were written and which can never be; any other error means
	// none was written and all are retried.
	Send(ctx context.Context, target Target, lines []Line) error
}

// SendError is the outcome of a send that did not write every line.
// Lines neither in Delivered nor in Rejected are retried.
type SendError struct {
	Delivered []int          // indexes of the lines the stream confirmed
	Rejected  map[int]string // indexes of lines no retry can fix, with the reason
	// RetryAfter, when positive, is the delay the stream asked for
	// before the next attempt.
	RetryAfter time.Duration
	Err        error // the cause of the remaining lines' failure; nil when none remain
}

func (e *SendError) Error() string {
	msg := fmt.Sprintf("%d lines delivered, %d rejected", len(e.Delivered), len(e.Rejected))
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *SendError) Unwrap() error { return e.Err }

// TargetMissingError means the target stream or its group does not exist.
// The worker moves the stream's queued events to the configured stream
// when the configuration names another one; otherwise it retries, so the
// events wait until the stream is restored.
type TargetMissingError struct {
	Target Target
	Err    error
}

func (e *TargetMissingError) Error() string {
	return fmt.Sprintf("log stream %s of group %s not found: %v", e.Target.LogStreamID, e.Target.LogGroupID, e.Err)
}

func (e *TargetMissingError) Unwrap() error { return e.Err }

// RejectAll returns a SendError that rejects every one of n lines with
// the reason.
func RejectAll(n int, reason string) *SendError {
	e := &SendError{Rejected: make(map[int]string, n)}
	for i := range n {
		e.Rejected[i] = reason
	}
	return e
}

// BuiltinSink writes lines to the built-in LTS in the same store.
type BuiltinSink struct {
	Logs userevents.LogStore
	// Outbox, when set, lets the worker store lines and complete their
	// deliveries in one transaction (SendComplete), so that a crash
	// cannot deliver a batch twice.
	Outbox userevents.OutboxStore
}

// SendComplete stores the lines in their stream and completes their
// deliveries, held by owner, in one transaction of the store. A stream
// that does not exist is a *TargetMissingError, and then nothing is
// stored or completed.
func (s *BuiltinSink) SendComplete(ctx context.Context, owner string, t Target, lines []Line) error {
	ids := make([]int64, len(lines))
	for i, l := range lines {
		ids[i] = l.DeliveryID
	}
	err := s.Outbox.CompleteDeliveriesWithLogs(ctx, owner, ids, s.records(t, lines))
	var e *userevents.Error
	if errors.As(err, &e) && e.Code == userevents.ENOTFOUND {
		return &TargetMissingError{Target: t, Err: err}
	}
	return err
}

func (s *BuiltinSink) records(t Target, lines []Line) []*userevents.LogRecord {
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
	return records
}

var _ Sink = (*BuiltinSink)(nil)

// Send implements Sink. A stream that does not exist, perhaps deleted
// after the configuration named it, is a *TargetMissingError.
func (s *BuiltinSink) Send(ctx context.Context, t Target, lines []Line) error {
	err := s.Logs.AppendLogs(ctx, s.records(t, lines))
	var e *userevents.Error
	if errors.As(err, &e) && e.Code == userevents.ENOTFOUND {
		return &TargetMissingError{Target: t, Err: err}
	}
	return err
}
