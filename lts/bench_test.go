package lts_test

// Benchmarks of delivery to a remote LTS: the delivery worker of one
// in-process server sends to the built-in LTS of a second one, through
// lts.Client and real HTTP on loopback. Both servers share the machine's
// cores. Setup happens inside the Benchmark functions, so a plain go test
// never runs it. docs/benchmarks.md has the commands and the figures.

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/userevents/userevents"
	"github.com/userevents/userevents/export"
	"github.com/userevents/userevents/lts"
	"github.com/userevents/userevents/uetest"
)

// benchPair is a server whose delivery is enabled to a stream of a second
// server, with no worker running yet.
type benchPair struct {
	local, remote *uetest.Env
	client        *lts.Client
	sink          *countingSink
}

func newBenchPair(b *testing.B) *benchPair {
	b.Helper()
	quiet := slog.New(slog.DiscardHandler)
	p := &benchPair{
		remote: uetest.Start(b, uetest.Options{NoWorker: true, Logger: quiet}),
		local:  uetest.Start(b, uetest.Options{NoWorker: true, Logger: quiet}),
	}
	ctx := context.Background()
	g := &userevents.LogGroup{ProjectID: uetest.ProjectID, Name: "bench", TTLDays: 7, CreatedAt: time.Now()}
	if err := p.remote.Store.CreateLogGroup(ctx, g); err != nil {
		b.Fatal(err)
	}
	s := &userevents.LogStream{ProjectID: uetest.ProjectID, GroupID: g.ID, Name: "events", TTLDays: 7, CreatedAt: time.Now()}
	if err := p.remote.Store.CreateLogStream(ctx, s); err != nil {
		b.Fatal(err)
	}
	// The configuration goes straight to the store: the remote stream
	// exists, so the check that the API would make adds nothing here.
	cfg := &userevents.LTSConfig{ProjectID: uetest.ProjectID, Enabled: true, LogGroupID: g.ID, LogStreamID: s.ID}
	if err := p.local.Store.SetLTSConfig(ctx, cfg); err != nil {
		b.Fatal(err)
	}
	p.client = &lts.Client{
		ManagementEndpoint: p.remote.LTSURL,
		AccessKey:          uetest.AccessKey,
		SecretKey:          uetest.SecretKey,
		HTTP:               &http.Client{Timeout: 30 * time.Second},
	}
	p.sink = &countingSink{next: p.client}
	return p
}

// countingSink counts the lines and content bytes that the remote stream
// confirmed, and calls confirmed, when set, for each line of a send that
// succeeded.
type countingSink struct {
	next      export.Sink
	lines     atomic.Int64
	bytes     atomic.Int64
	confirmed func(l export.Line, at time.Time)
}

func (s *countingSink) Send(ctx context.Context, t export.Target, lines []export.Line) error {
	err := s.next.Send(ctx, t, lines)
	if err != nil {
		return err
	}
	now := time.Now()
	var n int64
	for _, l := range lines {
		n += int64(len(l.Content))
		if s.confirmed != nil {
			s.confirmed(l, now)
		}
	}
	s.lines.Add(int64(len(lines)))
	s.bytes.Add(n)
	return nil
}

// startWorker runs a delivery worker with the settings of userevents serve
// and the given concurrency; stop cancels it and waits for it to return.
func (p *benchPair) startWorker(concurrency int) (w *export.Worker, stop func()) {
	w = &export.Worker{
		Outbox:      p.local.Store,
		Configs:     p.local.Store,
		Sink:        p.sink,
		Logger:      slog.New(slog.DiscardHandler),
		Owner:       "bench",
		Concurrency: concurrency,
		Lease:       15 * time.Second,
		SendTimeout: 10 * time.Second,
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = w.Run(ctx) })
	return w, func() { cancel(); wg.Wait() }
}

// benchEvents returns n events with ids prefix-0, prefix-1 and so on, with
// the fields a Workspace client reports. Each renders as a log line of
// about 550 bytes.
func benchEvents(prefix string, n int, at time.Time) []*userevents.Event {
	types := []string{"LOGIN", "CONNECT", "DISCONNECT", "LOGOUT"}
	ok := true
	events := make([]*userevents.Event, n)
	for i := range events {
		events[i] = &userevents.Event{
			EventID:       prefix + "-" + strconv.Itoa(i),
			ProjectID:     uetest.ProjectID,
			Username:      fmt.Sprintf("user-%04d", i%1000),
			WorkspaceID:   "5c8b3a0e-2f43-4f7d-9a3c-0d1e2f3a4b5c",
			EventTraceID:  fmt.Sprintf("trace-%s-%d", prefix, i),
			EventType:     types[i%len(types)],
			EventTime:     at,
			ResourceType:  "DESKTOP",
			ResourceID:    fmt.Sprintf("0a1b2c3d-0000-4000-8000-%012d", i%2000),
			ResourceName:  fmt.Sprintf("desk-%05d", i%2000),
			ClientType:    "WINDOWS",
			ClientIP:      "192.0.2.10",
			ClientMAC:     "02-00-5E-10-00-01",
			ClientVersion: "2.3.1.1150",
			SourceIP:      "198.51.100.7",
			IsSuccess:     &ok,
			ActionType:    "USER",
			Domain:        "corp.example.com",
			ReceivedAt:    at,
		}
	}
	return events
}

// queue stores n new events in batches of 1000, which with delivery enabled
// also queues them for the remote stream. It reports progress on large
// backlogs, whose setup takes minutes.
func (p *benchPair) queue(b *testing.B, prefix string, n int) {
	b.Helper()
	ctx := context.Background()
	start := time.Now()
	for done := 0; done < n; {
		size := min(1000, n-done)
		events := benchEvents(fmt.Sprintf("%s-%d", prefix, done), size, time.Now().UTC().Truncate(time.Microsecond))
		if _, err := p.local.Store.CreateEvents(ctx, uetest.ProjectID, events); err != nil {
			b.Fatal(err)
		}
		done += size
		if n >= 200_000 && done%100_000 == 0 {
			b.Logf("queued %d of %d events in %s", done, n, time.Since(start).Round(time.Second))
		}
	}
}

// processCPU returns the CPU time, user and system, that this process has
// used so far.
func processCPU(b *testing.B) time.Duration {
	b.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// waitDrained waits until the remote stream confirmed want lines in all
// and the outbox is empty, and returns when it first saw both. It reads
// the outbox only once the lines are confirmed, because counting a large
// outbox takes CPU time from the worker being measured.
func (p *benchPair) waitDrained(b *testing.B, want int64, timeout time.Duration) time.Time {
	b.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d lines confirmed after %s", p.sink.lines.Load(), want, timeout)
		}
		if p.sink.lines.Load() < want {
			time.Sleep(5 * time.Millisecond)
			continue
		}
		n, _, err := p.local.Store.DeliveryBacklog(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		if n == 0 {
			return time.Now()
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// BenchmarkRemoteDelivery measures delivery throughput: each iteration
// queues 50,000 events with the worker stopped, then times the worker
// until the outbox is empty.
func BenchmarkRemoteDelivery(b *testing.B) {
	for _, concurrency := range []int{1, 2, 4} {
		b.Run(fmt.Sprintf("concurrency=%d", concurrency), func(b *testing.B) {
			const n = 50_000
			p := newBenchPair(b)
			var elapsed, cpu time.Duration
			i := 0
			for b.Loop() {
				b.StopTimer()
				p.queue(b, fmt.Sprintf("it%d", i), n)
				i++
				b.StartTimer()

				start, startCPU := time.Now(), processCPU(b)
				_, stop := p.startWorker(concurrency)
				elapsed += p.waitDrained(b, int64(i*n), 10*time.Minute).Sub(start)
				cpu += processCPU(b) - startCPU
				stop()
			}
			lines := float64(p.sink.lines.Load())
			b.ReportMetric(lines/elapsed.Seconds(), "events/s")
			b.ReportMetric(float64(p.sink.bytes.Load())/elapsed.Seconds()/1e6, "MB/s")
			b.ReportMetric(float64(cpu.Microseconds())/lines, "cpu-µs/event")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// BenchmarkRemoteDrainBacklog measures how long a backlog takes to drain
// after an outage: the events are queued with the worker stopped, 100,000
// of them or 1,000,000 with USEREVENTS_BENCH_LARGE=1, then the worker
// starts with the default concurrency of userevents serve. Run it with
// -benchtime 1x.
func BenchmarkRemoteDrainBacklog(b *testing.B) {
	n := 100_000
	if os.Getenv("USEREVENTS_BENCH_LARGE") == "1" {
		n = 1_000_000
	}
	b.Run(fmt.Sprintf("events=%d", n), func(b *testing.B) {
		p := newBenchPair(b)
		var elapsed, cpu time.Duration
		i := 0
		for b.Loop() {
			b.StopTimer()
			queueStart := time.Now()
			p.queue(b, fmt.Sprintf("it%d", i), n)
			i++
			b.Logf("queued %d events in %s", n, time.Since(queueStart).Round(time.Second))
			b.StartTimer()

			start, startCPU := time.Now(), processCPU(b)
			_, stop := p.startWorker(2)
			elapsed += p.waitDrained(b, int64(i*n), 30*time.Minute).Sub(start)
			cpu += processCPU(b) - startCPU
			stop()
		}
		lines := float64(p.sink.lines.Load())
		b.ReportMetric(elapsed.Seconds()/float64(b.N), "s/drain")
		b.ReportMetric(lines/elapsed.Seconds(), "events/s")
		b.ReportMetric(float64(cpu.Microseconds())/lines, "cpu-µs/event")
		b.ReportMetric(0, "ns/op")
	})
}

// BenchmarkRemoteDeliveryLag measures the lag at a steady load: for 5
// seconds, one batch of events is stored every 20 ms, at 1,000, 5,000 or
// 10,000 events/s, while the worker runs and is woken after each batch as
// intake wakes it. The lag of an event runs from the commit that stored it
// to the remote stream's confirmation of its line. The rate reported is
// the one reached, which is lower than the one asked for when storing the
// batches takes longer than 20 ms. Run it with -benchtime 1x.
func BenchmarkRemoteDeliveryLag(b *testing.B) {
	for _, rate := range []int{1000, 5000, 10_000} {
		b.Run(fmt.Sprintf("rate=%d", rate), func(b *testing.B) {
			benchmarkLag(b, rate)
		})
	}
}

func benchmarkLag(b *testing.B, rate int) {
	const (
		interval = 20 * time.Millisecond
		duration = 5 * time.Second
	)
	batch := rate * int(interval) / int(time.Second)
	batches := int(duration / interval)
	p := newBenchPair(b)
	var mu sync.Mutex
	committed := map[string]time.Time{}
	confirmed := map[string]time.Time{}
	p.sink.confirmed = func(l export.Line, at time.Time) {
		mu.Lock()
		defer mu.Unlock()
		if _, ok := confirmed[l.EventID]; !ok {
			confirmed[l.EventID] = at
		}
	}
	w, stop := p.startWorker(2)
	defer stop()

	ctx := context.Background()
	var loadTime time.Duration
	i := 0
	for b.Loop() {
		start := time.Now()
		tick := time.NewTicker(interval)
		for k := range batches {
			events := benchEvents(fmt.Sprintf("lag%d-%d", i, k), batch, time.Now().UTC().Truncate(time.Microsecond))
			if _, err := p.local.Store.CreateEvents(ctx, uetest.ProjectID, events); err != nil {
				b.Fatal(err)
			}
			now := time.Now()
			mu.Lock()
			for _, e := range events {
				committed[e.EventID] = now
			}
			mu.Unlock()
			w.Notify()
			<-tick.C
		}
		tick.Stop()
		loadTime += time.Since(start)
		i++
		p.waitDrained(b, int64(i*batches*batch), time.Minute)
	}

	mu.Lock()
	defer mu.Unlock()
	lags := make([]time.Duration, 0, len(committed))
	for id, c := range committed {
		at, ok := confirmed[id]
		if !ok {
			b.Fatalf("event %s stored but never confirmed", id)
		}
		// The worker may confirm a line in the moment between the commit
		// and CreateEvents returning; that lag counts as zero.
		lags = append(lags, max(at.Sub(c), 0))
	}
	slices.Sort(lags)
	at := func(q float64) float64 {
		return float64(lags[int(q*float64(len(lags)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(float64(len(committed))/loadTime.Seconds(), "events/s")
	b.ReportMetric(at(0.5), "p50-ms")
	b.ReportMetric(at(0.99), "p99-ms")
	b.ReportMetric(at(1), "max-ms")
	b.ReportMetric(0, "ns/op")
}
