// Package export delivers queued user events from the outbox to the log
// stream their project's LTS configuration named when they were accepted.
package export

import (
	"context"
	"fmt"
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
	// BatchSize is the maximum number of lines per send; zero means 1000.
	BatchSize int
	// Concurrency is the number of batches sent at the same time; zero
	// means 1. Each batch is leased on its own, so no two senders hold
	// the same delivery, but a stream may then receive its lines out of
	// queue order.
	Concurrency int
	// MaxAttempts is the number of failed sends after which a delivery
	// moves to the dead letters instead of being retried; zero means no
	// limit. Lines that the stream rejects for good are dead-lettered at
	// once whatever the limit.
	MaxAttempts int
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

// Run delivers until ctx is done, with Concurrency senders. A batch in
// flight when ctx ends is finished and confirmed, or released for a retry,
// before Run returns, so a graceful stop never leaves a batch that will be
// sent twice.
func (w *Worker) Run(ctx context.Context) error {
	w.wakeChan()
	n := max(w.Concurrency, 1)
	w.Logger.Info("delivery worker started", "owner", w.Owner, "concurrency", n)
	defer w.Logger.Info("delivery worker stopped", "owner", w.Owner)

	var wg sync.WaitGroup
	for i := range n {
		// Each sender leases under its own owner, so that one sender
		// settling its batch never touches rows another has leased.
		owner := w.Owner
		if n > 1 {
			owner = fmt.Sprintf("%s/%d", w.Owner, i+1)
		}
		s := &sender{Worker: w, owner: owner, wakeOthers: n > 1}
		wg.Go(func() { s.run(ctx) })
	}
	wg.Wait()
	return nil
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
