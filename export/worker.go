// Package export delivers queued user events from the outbox to the log
// stream their project's LTS configuration named when they were accepted.
package export

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/userevents/userevents"
	"github.com/userevents/userevents/metrics"
)

// Worker leases batches from the outbox, sends them to the sink and
// confirms, retries or dead-letters them. A batch leaves the outbox only
// after the sink confirmed it, so a crash at any point can at worst send
// the batch in flight again.
type Worker struct {
	Outbox userevents.OutboxStore
	Sink   Sink
	// Configs, when set, lets the worker move the events of a stream that
	// is gone to the stream the project's configuration names now.
	Configs userevents.LTSConfigStore
	Logger  *slog.Logger

	// Owner names this worker in leases; replicas need distinct owners.
	Owner string
	// BatchSize is the most lines per send; zero means 1000.
	BatchSize int
	// Lease is how long a leased batch stays with this worker before
	// another may take it over; zero means one minute.
	Lease time.Duration
	// SendTimeout bounds one send; zero means 30 seconds.
	SendTimeout time.Duration
	// MinBackoff and MaxBackoff bound the exponential retry delay; zero
	// means 500 ms and 30 seconds, so a stream that recovers is tried again
	// within half a minute.
	MinBackoff time.Duration
	MaxBackoff time.Duration
	// Poll is the longest idle wait between outbox checks; zero means
	// one second.
	Poll time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Metrics records deliveries, retries and dead letters; nil records
	// nothing.
	Metrics *metrics.Metrics

	wakeOnce sync.Once
	wake     chan struct{}
}

// Notify wakes the worker to look at the outbox at once. It never blocks.
func (w *Worker) Notify() {
	select {
	case w.wakeChan() <- struct{}{}:
	default:
	}
}

func (w *Worker) wakeChan() chan struct{} {
	w.wakeOnce.Do(func() { w.wake = make(chan struct{}, 1) })
	return w.wake
}

// Run delivers until ctx is done. A batch in flight when ctx ends is
// finished and confirmed, or released for a retry, before Run returns, so
// a graceful stop never leaves a batch that will be sent twice.
func (w *Worker) Run(ctx context.Context) error {
	w.wakeChan()
	w.Logger.Info("delivery worker started", "owner", w.Owner)
	defer w.Logger.Info("delivery worker stopped", "owner", w.Owner)

	failures := 0
	for {
		if ctx.Err() != nil {
			return nil
		}
		n, err := w.deliverBatch(ctx)
		if err != nil && ctx.Err() != nil {
			return nil // stopped while leasing: not a failure
		}
		if err != nil {
			failures++
			if failures == 1 || failures%100 == 0 {
				w.Logger.Error("outbox access failed", "error", err, "failures", failures)
			}
			w.sleep(ctx, w.backoff(failures))
			continue
		}
		if failures > 0 {
			w.Logger.Info("outbox access recovered", "failures", failures)
			failures = 0
		}
		if n > 0 {
			continue
		}
		w.sleep(ctx, w.idleWait(ctx))
	}
}

// deliverBatch sends one batch and returns its size; zero means nothing
// was due.
func (w *Worker) deliverBatch(ctx context.Context) (int, error) {
	batch, err := w.Outbox.LeaseDeliveries(ctx, w.Owner, w.batchSize(), w.lease())
	if err != nil || len(batch) == 0 {
		return 0, err
	}

	// The send and its confirmation run to completion even when ctx ends,
	// bounded by the send timeout.
	sendCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), w.sendTimeout())
	defer cancel()

	first := batch[0]
	target := Target{ProjectID: first.ProjectID, LogGroupID: first.LogGroupID, LogStreamID: first.LogStreamID}
	lines := make([]Line, len(batch))
	ids := make([]int64, len(batch))
	for i, d := range batch {
		lines[i] = NewLine(d)
		ids[i] = d.ID
	}
	log := w.Logger.With("project_id", target.ProjectID, "log_group_id", target.LogGroupID,
		"log_stream_id", target.LogStreamID, "lines", len(batch))

	sendErr := w.Sink.Send(sendCtx, target, lines)
	if sendErr == nil {
		if err := w.Outbox.CompleteDeliveries(sendCtx, w.Owner, ids); err != nil {
			return 0, err
		}
		w.recordDelivered(batch)
		if first.Attempts > 0 {
			log.Info("delivery recovered", "attempts", first.Attempts+1)
		}
		return len(batch), nil
	}
	if err := w.settle(sendCtx, log, batch, sendErr); err != nil {
		return 0, err
	}
	return len(batch), nil
}

// settle records the outcome of a send that failed in whole or in part:
// confirmed lines are completed, rejected ones dead-lettered with their
// reason, and the rest scheduled for a retry.
func (w *Worker) settle(ctx context.Context, log *slog.Logger, batch []*userevents.Delivery, sendErr error) error {
	var missing *TargetMissingError
	if errors.As(sendErr, &missing) {
		moved, err := w.retarget(ctx, log, missing.Target)
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
		if err := w.Outbox.CompleteDeliveries(ctx, w.Owner, delivered); err != nil {
			return err
		}
		w.recordDelivered(confirmed)
	}

	byReason := map[string][]int64{}
	for i, reason := range se.Rejected {
		settled[i] = true
		byReason[reason] = append(byReason[reason], batch[i].ID)
	}
	for reason, ids := range byReason {
		log.Error("delivery dead-lettered", "reason", reason, "dead_lines", len(ids), "event_id", batch[0].Event.EventID)
		if err := w.Outbox.DeadLetterDeliveries(ctx, w.Owner, ids, reason); err != nil {
			return err
		}
		w.Metrics.DeadLettered(len(ids))
	}

	var retry []int64
	for i, d := range batch {
		if !settled[i] {
			retry = append(retry, d.ID)
		}
	}
	if len(retry) == 0 {
		return nil
	}
	attempt := batch[0].Attempts + 1
	delay := max(w.backoff(attempt), se.RetryAfter)
	reason := "send failed"
	if se.Err != nil {
		reason = se.Err.Error()
	}
	log.Warn("delivery failed, will retry", "error", reason, "attempt", attempt,
		"retry_lines", len(retry), "retry_in", delay)
	w.Metrics.DeliveryRetried(len(retry))
	return w.Outbox.RetryDeliveries(ctx, w.Owner, retry, w.now().Add(delay), reason)
}

// retarget moves the queued events of a stream that is gone to the stream
// the project's configuration names, when it names another enabled one.
// It reports whether it moved them.
func (w *Worker) retarget(ctx context.Context, log *slog.Logger, t Target) (bool, error) {
	if w.Configs == nil {
		return false, nil
	}
	cfg, err := w.Configs.FindLTSConfig(ctx, t.ProjectID)
	if err != nil {
		return false, err
	}
	if !cfg.Enabled || (cfg.LogGroupID == t.LogGroupID && cfg.LogStreamID == t.LogStreamID) {
		return false, nil
	}
	n, err := w.Outbox.RetargetDeliveries(ctx, t.ProjectID, t.LogGroupID, t.LogStreamID, cfg.LogGroupID, cfg.LogStreamID)
	if err != nil {
		return false, err
	}
	log.Warn("log stream gone, queued events moved to the configured stream",
		"moved", n, "to_log_group_id", cfg.LogGroupID, "to_log_stream_id", cfg.LogStreamID)
	return true, nil
}

// recordDelivered records confirmed deliveries and their lag from intake.
func (w *Worker) recordDelivered(batch []*userevents.Delivery) {
	if w.Metrics == nil {
		return
	}
	now := w.now()
	lags := make([]time.Duration, len(batch))
	for i, d := range batch {
		lags[i] = now.Sub(d.Event.ReceivedAt)
	}
	w.Metrics.Delivered(lags)
}

// idleWait returns how long to wait when nothing is due: until the next
// queued delivery is due, at most Poll.
func (w *Worker) idleWait(ctx context.Context) time.Duration {
	wait := w.poll()
	due, ok, err := w.Outbox.NextDeliveryDue(ctx)
	if err != nil || !ok {
		return wait
	}
	if d := due.Sub(w.now()); d < wait {
		return max(d, time.Millisecond)
	}
	return wait
}

func (w *Worker) sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	case <-w.wakeChan():
	}
}

// backoff returns the delay before retry number attempt: exponential from
// MinBackoff, capped at MaxBackoff, with full jitter over its upper half.
func (w *Worker) backoff(attempt int) time.Duration {
	minB, maxB := w.MinBackoff, w.MaxBackoff
	if minB == 0 {
		minB = 500 * time.Millisecond
	}
	if maxB == 0 {
		maxB = 30 * time.Second
	}
	d := minB
	for i := 1; i < attempt && d < maxB; i++ {
		d *= 2
	}
	d = min(d, maxB)
	return d/2 + rand.N(d/2+1)
}

func (w *Worker) now() time.Time {
	if w.Now != nil {
		return w.Now()
	}
	return time.Now()
}

func (w *Worker) batchSize() int       { return orDefault(w.BatchSize, 1000) }
func (w *Worker) lease() time.Duration { return orDefault(w.Lease, time.Minute) }
func (w *Worker) poll() time.Duration  { return orDefault(w.Poll, time.Second) }
func (w *Worker) sendTimeout() time.Duration {
	return orDefault(w.SendTimeout, 30*time.Second)
}

func orDefault[T int | time.Duration](v, def T) T {
	if v == 0 {
		return def
	}
	return v
}
