package export_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/userevents/userevents"
	"github.com/userevents/userevents/export"
	"github.com/userevents/userevents/uetest"
)

// faultySink wraps the built-in LTS sink and fails sends on demand, so the
// worker's retry and shutdown paths run against the real store.
type faultySink struct {
	next    export.Sink
	fail    atomic.Int32  // sends left to fail with a retried error
	perm    atomic.Bool   // fail every send with a permanent error
	block   chan struct{} // when set, each send waits for it to close
	entered chan struct{} // receives once per send that starts
	sends   atomic.Int32
}

func (s *faultySink) Send(ctx context.Context, t export.Target, lines []export.Line) error {
	s.sends.Add(1)
	if s.entered != nil {
		s.entered <- struct{}{}
	}
	if s.block != nil {
		<-s.block
	}
	if s.perm.Load() {
		return export.RejectAll(len(lines), "line rejected by the stream")
	}
	if s.fail.Add(-1) >= 0 {
		return errors.New("stream unavailable")
	}
	return s.next.Send(ctx, t, lines)
}

// setup starts a server without its worker, with delivery enabled to a
// fresh stream and n events queued.
func setup(t *testing.T, n int) (*uetest.Env, userevents.LTSConfig) {
	t.Helper()
	env := uetest.Start(t, uetest.Options{NoWorker: true})
	ctx := context.Background()
	g := &userevents.LogGroup{ProjectID: uetest.ProjectID, Name: "g", TTLDays: 7, CreatedAt: time.Now()}
	if err := env.Store.CreateLogGroup(ctx, g); err != nil {
		t.Fatal(err)
	}
	s := &userevents.LogStream{ProjectID: uetest.ProjectID, GroupID: g.ID, Name: "s", TTLDays: 7, CreatedAt: time.Now()}
	if err := env.Store.CreateLogStream(ctx, s); err != nil {
		t.Fatal(err)
	}
	cfg := userevents.LTSConfig{ProjectID: uetest.ProjectID, Enabled: true, LogGroupID: g.ID, LogStreamID: s.ID}
	if err := env.Store.SetLTSConfig(ctx, &cfg); err != nil {
		t.Fatal(err)
	}
	var events []*userevents.Event
	for i := range n {
		events = append(events, &userevents.Event{
			EventID: fmt.Sprintf("e%03d", i), ProjectID: uetest.ProjectID, Username: "u-alice",
			EventType: "LOGIN", EventTime: time.Now().UTC().Truncate(time.Microsecond), ReceivedAt: time.Now(),
		})
	}
	if _, err := env.Store.CreateEvents(ctx, uetest.ProjectID, events); err != nil {
		t.Fatal(err)
	}
	return env, cfg
}

func newWorker(env *uetest.Env, sink export.Sink) *export.Worker {
	return &export.Worker{
		Outbox:     env.Store,
		Sink:       sink,
		Logger:     slog.New(slog.DiscardHandler),
		Owner:      "worker-test",
		BatchSize:  4,
		Poll:       10 * time.Millisecond,
		MinBackoff: time.Millisecond,
		MaxBackoff: 5 * time.Millisecond,
	}
}

// run runs w until stop is called; stop waits for Run to return.
func run(w *export.Worker) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = w.Run(ctx) })
	return func() { cancel(); wg.Wait() }
}

func waitStats(t *testing.T, env *uetest.Env, ok func(*userevents.DeliveryStats) bool) *userevents.DeliveryStats {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, err := env.Store.FindDeliveryStats(context.Background(), uetest.ProjectID)
		if err != nil {
			t.Fatal(err)
		}
		if ok(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("delivery stats never reached the expected state: %+v", st)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func countLines(t *testing.T, env *uetest.Env, cfg userevents.LTSConfig) int {
	t.Helper()
	_, n, err := env.Store.FindLogs(context.Background(), userevents.LogQuery{
		ProjectID: cfg.ProjectID, GroupID: cfg.LogGroupID, StreamID: cfg.LogStreamID,
		StartMs: 0, EndMs: time.Now().Add(time.Hour).UnixMilli(), Limit: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestWorkerRetriesUntilSinkRecovers(t *testing.T) {
	env, cfg := setup(t, 10)
	sink := &faultySink{next: &export.BuiltinSink{Logs: env.Store}}
	sink.fail.Store(5)
	stop := run(newWorker(env, sink))
	defer stop()

	st := waitStats(t, env, func(s *userevents.DeliveryStats) bool { return s.Delivered == 10 })
	if st.Pending != 0 {
		t.Errorf("pending = %d, want 0", st.Pending)
	}
	if st.Failed < 5 {
		t.Errorf("failed attempts = %d, want at least 5", st.Failed)
	}
	if got := countLines(t, env, cfg); got != 10 {
		t.Errorf("stream holds %d lines, want 10", got)
	}
}

func TestWorkerDeadLettersPermanentFailure(t *testing.T) {
	env, cfg := setup(t, 6)
	sink := &faultySink{next: &export.BuiltinSink{Logs: env.Store}}
	sink.perm.Store(true)
	stop := run(newWorker(env, sink))
	defer stop()

	st := waitStats(t, env, func(s *userevents.DeliveryStats) bool { return s.DeadLetters == 6 })
	if st.Pending != 0 || st.Delivered != 0 {
		t.Errorf("pending %d delivered %d, want 0 and 0", st.Pending, st.Delivered)
	}
	if got := countLines(t, env, cfg); got != 0 {
		t.Errorf("stream holds %d lines, want 0", got)
	}
}

func TestWorkerStopFinishesBatchInFlight(t *testing.T) {
	env, cfg := setup(t, 4)
	sink := &faultySink{
		next:    &export.BuiltinSink{Logs: env.Store},
		block:   make(chan struct{}),
		entered: make(chan struct{}, 10),
	}
	stop := run(newWorker(env, sink))

	<-sink.entered // the batch is in flight
	stopped := make(chan struct{})
	go func() { stop(); close(stopped) }()
	time.Sleep(20 * time.Millisecond)
	close(sink.block)
	<-stopped

	st, err := env.Store.FindDeliveryStats(context.Background(), uetest.ProjectID)
	if err != nil {
		t.Fatal(err)
	}
	if st.Delivered != 4 || st.Pending != 0 {
		t.Errorf("after stop: delivered %d pending %d, want 4 and 0", st.Delivered, st.Pending)
	}
	if got := countLines(t, env, cfg); got != 4 {
		t.Errorf("stream holds %d lines, want 4", got)
	}
}

func TestWorkerStopDuringFailureKeepsEvents(t *testing.T) {
	env, cfg := setup(t, 10)
	failing := &faultySink{next: &export.BuiltinSink{Logs: env.Store}}
	failing.fail.Store(1 << 30)
	stop := run(newWorker(env, failing))
	waitStats(t, env, func(s *userevents.DeliveryStats) bool { return s.Failed >= 3 })
	stop()

	st, err := env.Store.FindDeliveryStats(context.Background(), uetest.ProjectID)
	if err != nil {
		t.Fatal(err)
	}
	if st.Pending != 10 {
		t.Fatalf("pending after stop = %d, want all 10 kept", st.Pending)
	}

	// A new worker with a healthy sink delivers every one once the retry
	// delay passes.
	stop = run(newWorker(env, &export.BuiltinSink{Logs: env.Store}))
	defer stop()
	waitStats(t, env, func(s *userevents.DeliveryStats) bool { return s.Delivered == 10 })
	if got := countLines(t, env, cfg); got != 10 {
		t.Errorf("stream holds %d lines, want 10", got)
	}
}

// parallelSink wraps a sink, holds each send for a moment and records the
// largest number of sends in flight at once.
type parallelSink struct {
	next        export.Sink
	inFlight    atomic.Int32
	maxInFlight atomic.Int32
}

func (s *parallelSink) Send(ctx context.Context, t export.Target, lines []export.Line) error {
	n := s.inFlight.Add(1)
	defer s.inFlight.Add(-1)
	for {
		old := s.maxInFlight.Load()
		if n <= old || s.maxInFlight.CompareAndSwap(old, n) {
			break
		}
	}
	time.Sleep(5 * time.Millisecond)
	return s.next.Send(ctx, t, lines)
}

func TestWorkerConcurrentSendersDeliverOnce(t *testing.T) {
	env, cfg := setup(t, 100)
	sink := &parallelSink{next: &export.BuiltinSink{Logs: env.Store}}
	w := newWorker(env, sink)
	w.Concurrency = 4
	stop := run(w)
	defer stop()

	st := waitStats(t, env, func(s *userevents.DeliveryStats) bool { return s.Delivered == 100 })
	if st.Pending != 0 {
		t.Errorf("pending = %d, want 0", st.Pending)
	}
	if got := countLines(t, env, cfg); got != 100 {
		t.Errorf("stream holds %d lines, want each of the 100 events once", got)
	}
	if got := sink.maxInFlight.Load(); got < 2 {
		t.Errorf("at most %d sends were in flight at once, want 2 to 4", got)
	}
	if got := sink.maxInFlight.Load(); got > 4 {
		t.Errorf("%d sends were in flight at once, more than the concurrency of 4", got)
	}
}

func TestWorkerConcurrentStopFinishesBatches(t *testing.T) {
	env, cfg := setup(t, 20)
	sink := &faultySink{
		next:    &export.BuiltinSink{Logs: env.Store},
		block:   make(chan struct{}),
		entered: make(chan struct{}, 20),
	}
	w := newWorker(env, sink)
	w.Concurrency = 3
	stop := run(w)

	for range 3 {
		<-sink.entered // three batches of 4 are in flight
	}
	stopped := make(chan struct{})
	go func() { stop(); close(stopped) }()
	time.Sleep(20 * time.Millisecond)
	close(sink.block)
	<-stopped

	st, err := env.Store.FindDeliveryStats(context.Background(), uetest.ProjectID)
	if err != nil {
		t.Fatal(err)
	}
	if st.Delivered != 12 {
		t.Errorf("after stop: delivered %d, want the 12 in flight", st.Delivered)
	}
	if st.Pending != 8 {
		t.Errorf("after stop: pending %d, want the 8 never leased", st.Pending)
	}
	if got := countLines(t, env, cfg); got != 12 {
		t.Errorf("stream holds %d lines, want 12", got)
	}

	// Nothing stays leased: a new worker delivers the rest at once.
	stop = run(newWorker(env, &export.BuiltinSink{Logs: env.Store}))
	defer stop()
	waitStats(t, env, func(s *userevents.DeliveryStats) bool { return s.Delivered == 20 })
}

func TestWorkerMaxAttemptsDeadLetters(t *testing.T) {
	env, cfg := setup(t, 6)
	sink := &faultySink{next: &export.BuiltinSink{Logs: env.Store}}
	sink.fail.Store(1 << 30)
	w := newWorker(env, sink)
	w.MaxAttempts = 3
	stop := run(w)
	defer stop()

	st := waitStats(t, env, func(s *userevents.DeliveryStats) bool { return s.DeadLetters == 6 })
	if st.Pending != 0 {
		t.Errorf("pending = %d, want 0", st.Pending)
	}
	if st.Failed != 18 {
		t.Errorf("failed attempts = %d, want 3 for each of the 6 events", st.Failed)
	}
	dead, total, err := env.Store.FindDeadLetters(context.Background(), uetest.ProjectID, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if total != 6 {
		t.Fatalf("dead letters = %d, want 6", total)
	}
	for _, d := range dead {
		if d.Reason != "gave up after 3 attempts: stream unavailable" {
			t.Errorf("dead letter %s reason = %q", d.Event.EventID, d.Reason)
		}
		if d.Attempts != 3 {
			t.Errorf("dead letter %s attempts = %d, want 3", d.Event.EventID, d.Attempts)
		}
	}

	// Requeued, they get three attempts again, and the recovered sink
	// takes them all.
	sink.fail.Store(0)
	n, err := env.Store.RequeueDeadLetters(context.Background(), uetest.ProjectID, nil, "", "")
	if err != nil || n != 6 {
		t.Fatalf("requeue = %d, %v; want 6", n, err)
	}
	w.Notify()
	waitStats(t, env, func(s *userevents.DeliveryStats) bool { return s.Delivered == 6 && s.DeadLetters == 0 })
	if got := countLines(t, env, cfg); got != 6 {
		t.Errorf("stream holds %d lines, want 6", got)
	}
}
