package export

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"

	"github.com/userevents/userevents"
)

// sender is one of a Worker's delivery loops. It leases, sends and settles
// one batch at a time under its own lease owner.
type sender struct {
	*Worker
	owner string
	// wakeOthers makes a sender that leased a full batch wake another
	// sender, because more deliveries are probably due.
	wakeOthers bool
}

// run leases and sends batches until ctx is done. It checks ctx only
// between batches, so a stop never cuts a batch off between its lease and
// the recording of its outcome.
func (s *sender) run(ctx context.Context) {
	failures := 0
	for {
		if ctx.Err() != nil {
			return
		}
		n, err := s.deliverBatch(ctx)
		if err != nil && ctx.Err() != nil {
			return // stopped while leasing: not a failure
		}
		if err != nil {
			failures++
			if failures == 1 || failures%100 == 0 {
				s.Logger.Error("outbox access failed", "owner", s.owner, "error", err, "failures", failures)
			}
			s.sleep(ctx, s.backoff(failures))
			continue
		}
		if failures > 0 {
			s.Logger.Info("outbox access recovered", "owner", s.owner, "failures", failures)
			failures = 0
		}
		if n > 0 {
			continue
		}
		s.sleep(ctx, s.idleWait(ctx))
	}
}

// deliverBatch sends one batch and returns its size; zero means nothing
// was due.
func (s *sender) deliverBatch(ctx context.Context) (int, error) {
	batch, err := s.Outbox.LeaseDeliveries(ctx, s.owner, s.batchSize(), s.lease())
	if err != nil || len(batch) == 0 {
		return 0, err
	}
	if s.wakeOthers && len(batch) == s.batchSize() {
		s.Notify()
	}

	// The send and its confirmation run to completion even when ctx ends,
	// bounded by the send timeout.
	sendCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.sendTimeout())
	defer cancel()

	first := batch[0]
	target := Target{ProjectID: first.ProjectID, LogGroupID: first.LogGroupID, LogStreamID: first.LogStreamID}
	lines := make([]Line, len(batch))
	ids := make([]int64, len(batch))
	for i, d := range batch {
		lines[i] = NewLine(d)
		ids[i] = d.ID
	}
	log := s.Logger.With("project_id", target.ProjectID, "log_group_id", target.LogGroupID,
		"log_stream_id", target.LogStreamID, "lines", len(batch))

	var sendErr error
	if b, ok := s.Sink.(*BuiltinSink); ok && b.Outbox != nil {
		// Storing and completing in one transaction: nothing left to
		// complete on success.
		sendErr = b.SendComplete(sendCtx, s.owner, target, lines)
		if sendErr == nil {
			ids = nil
		}
	} else {
		sendErr = s.Sink.Send(sendCtx, target, lines)
	}
	if sendErr == nil {
		if err := s.Outbox.CompleteDeliveries(sendCtx, s.owner, ids); err != nil {
			return 0, err
		}
		s.recordDelivered(batch)
		if first.Attempts > 0 {
			log.Info("delivery recovered", "attempts", first.Attempts+1)
		}
		return len(batch), nil
	}
	if err := s.settle(sendCtx, log, batch, sendErr); err != nil {
		return 0, err
	}
	return len(batch), nil
}

// settle records the outcome of a send that failed in whole or in part:
// confirmed lines are completed, rejected ones dead-lettered with their
// reason, and the rest scheduled for a retry unless they used up
// MaxAttempts.
func (s *sender) settle(ctx context.Context, log *slog.Logger, batch []*userevents.Delivery, sendErr error) error {
	var missing *TargetMissingError
	if errors.As(sendErr, &missing) {
		moved, err := s.retarget(ctx, log, missing.Target)
		if err != nil || moved {
			return err
		}
	}
	var se *SendError
	if !errors.As(sendErr, &se) {
		se = &SendError{Err: sendErr}
	}
	settled := make(map[int]bool, len(batch))

	var delivered []int64
	var confirmed []*userevents.Delivery
	for _, i := range se.Delivered {
		settled[i] = true
		delivered = append(delivered, batch[i].ID)
		confirmed = append(confirmed, batch[i])
	}
	if len(delivered) > 0 {
		if err := s.Outbox.CompleteDeliveries(ctx, s.owner, delivered); err != nil {
			return err
		}
		s.recordDelivered(confirmed)
	}

	byReason := map[string][]int64{}
	for i, reason := range se.Rejected {
		settled[i] = true
		byReason[reason] = append(byReason[reason], batch[i].ID)
	}
	for reason, ids := range byReason {
		log.Error("delivery dead-lettered", "reason", reason, "dead_lines", len(ids), "event_id", batch[0].Event.EventID)
		if err := s.Outbox.DeadLetterDeliveries(ctx, s.owner, ids, reason); err != nil {
			return err
		}
		s.Metrics.DeadLettered(len(ids))
	}

	var unsettled []*userevents.Delivery
	for i, d := range batch {
		if !settled[i] {
			unsettled = append(unsettled, d)
		}
	}
	reason := "send failed"
	if se.Err != nil {
		reason = se.Err.Error()
	}
	unsettled, err := s.giveUp(ctx, log, unsettled, reason)
	if err != nil || len(unsettled) == 0 {
		return err
	}

	retry := make([]int64, len(unsettled))
	for i, d := range unsettled {
		retry[i] = d.ID
	}
	attempt := unsettled[0].Attempts + 1
	delay := max(s.backoff(attempt), se.RetryAfter)
	log.Warn("delivery failed, will retry", "error", reason, "attempt", attempt,
		"retry_lines", len(retry), "retry_in", delay)
	s.Metrics.DeliveryRetried(len(retry))
	return s.Outbox.RetryDeliveries(ctx, s.owner, retry, s.now().Add(delay), reason)
}

// giveUp moves to the dead letters each delivery whose latest failed send
// was its MaxAttempts-th or a later one, with the number of attempts and
// the last error as the reason. It returns the others, to be retried.
func (s *sender) giveUp(ctx context.Context, log *slog.Logger, failed []*userevents.Delivery, lastError string) ([]*userevents.Delivery, error) {
	if s.MaxAttempts <= 0 {
		return failed, nil
	}
	var retry []*userevents.Delivery
	exhausted := map[int][]int64{} // ids by number of attempts
	for _, d := range failed {
		if attempts := d.Attempts + 1; attempts >= s.MaxAttempts {
			exhausted[attempts] = append(exhausted[attempts], d.ID)
		} else {
			retry = append(retry, d)
		}
	}

	for _, attempts := range slices.Sorted(maps.Keys(exhausted)) {
		ids := exhausted[attempts]
		reason := fmt.Sprintf("gave up after %d attempts: %s", attempts, lastError)
		if attempts == 1 {
			reason = "gave up after 1 attempt: " + lastError
		}
		log.Error("delivery dead-lettered", "reason", reason, "dead_lines", len(ids), "attempt", attempts)
		if err := s.Outbox.DeadLetterDeliveries(ctx, s.owner, ids, reason); err != nil {
			return nil, err
		}
		s.Metrics.DeadLettered(len(ids))
	}
	return retry, nil
}

// retarget moves the queued events of a stream that is gone to the stream
// the project's configuration names, when it names another enabled one.
// It reports whether it moved them.
func (s *sender) retarget(ctx context.Context, log *slog.Logger, t Target) (bool, error) {
	if s.Configs == nil {
		return false, nil
	}
	cfg, err := s.Configs.FindLTSConfig(ctx, t.ProjectID)
	if err != nil {
		return false, err
	}
	if !cfg.Enabled || (cfg.LogGroupID == t.LogGroupID && cfg.LogStreamID == t.LogStreamID) {
		return false, nil
	}
	n, err := s.Outbox.RetargetDeliveries(ctx, t.ProjectID, t.LogGroupID, t.LogStreamID, cfg.LogGroupID, cfg.LogStreamID)
	if err != nil {
		return false, err
	}
	log.Warn("log stream gone, queued events moved to the configured stream",
		"moved", n, "to_log_group_id", cfg.LogGroupID, "to_log_stream_id", cfg.LogStreamID)
	return true, nil
}
