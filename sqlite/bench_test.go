package sqlite_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/userevents/userevents"
	"github.com/userevents/userevents/keyring"
	"github.com/userevents/userevents/sqlite"
)

const benchProject = "0123456789abcdef0123456789abcdef"

// The shape of the generated events: one project, spread evenly over
// benchSpan, with benchUsers users on benchDesktops desktops.
const (
	benchEvents   = 1_000_000
	benchSpan     = 30 * 24 * time.Hour
	benchUsers    = 1000
	benchDesktops = 2000
)

var (
	benchStart   = time.Date(2024, 4, 1, 0, 0, 0, 0, time.UTC)
	benchTypes   = []string{"LOGIN", "LOGOUT", "CONNECT", "DISCONNECT", "RECONNECT", "LOCK"}
	benchDomains = []string{"a.example.local", "b.example.local", "c.example.local"}
)

// benchEvent returns the i-th generated event. rng picks its time within
// its slot, so that some events share a time and others do not.
func benchEvent(rng *rand.Rand, i int) *userevents.Event {
	slot := benchSpan / benchEvents
	at := benchStart.Add(time.Duration(i)*slot + time.Duration(rng.Int64N(int64(slot)))).
		Truncate(time.Millisecond)
	desktop := rng.IntN(benchDesktops)
	return &userevents.Event{
		EventID:      fmt.Sprintf("ev-%08d", i),
		Username:     fmt.Sprintf("user-%04d", rng.IntN(benchUsers)),
		EventType:    benchTypes[rng.IntN(len(benchTypes))],
		EventTime:    at,
		ResourceType: "DESKTOP",
		ResourceID:   fmt.Sprintf("desk-id-%05d", desktop),
		ResourceName: fmt.Sprintf("desk-%05d", desktop),
		ClientType:   "WINDOWS",
		ClientIP:     "192.0.2.10",
		SourceIP:     "198.51.100.7",
		ActionType:   "USER",
		Domain:       benchDomains[rng.IntN(len(benchDomains))],
		WorkspaceID:  "ws-0001",
	}
}

func openBenchDB(b *testing.B, path string) *sqlite.DB {
	b.Helper()
	sealer, err := keyring.New(testKey)
	if err != nil {
		b.Fatalf("keyring.New() error = %v", err)
	}
	db, err := sqlite.Open(b.Context(), path, sealer, nil)
	if err != nil {
		b.Fatalf("Open() error = %v", err)
	}
	return db
}

// BenchmarkCreateEvents measures intake in batches of 1000 new events,
// with delivery off and on.
func BenchmarkCreateEvents(b *testing.B) {
	for _, outbox := range []bool{false, true} {
		b.Run(fmt.Sprintf("outbox=%t", outbox), func(b *testing.B) {
			db := openBenchDB(b, filepath.Join(b.TempDir(), "userevents.db"))
			defer db.Close()
			if outbox {
				cfg := &userevents.LTSConfig{ProjectID: benchProject, Enabled: true,
					LogGroupID: "g", LogStreamID: "s"}
				if err := db.SetLTSConfig(b.Context(), cfg); err != nil {
					b.Fatalf("SetLTSConfig() error = %v", err)
				}
			}
			rng := rand.New(rand.NewPCG(1, 2))
			next := 0
			batch := make([]*userevents.Event, 1000)
			for b.Loop() {
				b.StopTimer()
				for j := range batch {
					batch[j] = benchEvent(rng, next%benchEvents)
					batch[j].EventID = fmt.Sprintf("ev-%09d", next)
					next++
				}
				b.StartTimer()
				n, err := db.CreateEvents(b.Context(), benchProject, batch)
				if err != nil || n != len(batch) {
					b.Fatalf("CreateEvents() = %d, %v; want %d", n, err, len(batch))
				}
			}
			b.ReportMetric(float64(next)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// The 1,000,000-event database is built once per test binary run, on the
// first benchmark that needs it, and removed by TestMain.
var (
	benchDataOnce sync.Once
	benchDataDir  string
	benchDataErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if benchDataDir != "" {
		os.RemoveAll(benchDataDir)
	}
	os.Exit(code)
}

// benchDataPath returns the path of the database with benchEvents events.
func benchDataPath(b *testing.B) string {
	benchDataOnce.Do(func() {
		if benchDataDir, benchDataErr = os.MkdirTemp("", "userevents-bench-"); benchDataErr != nil {
			return
		}
		path := filepath.Join(benchDataDir, "userevents.db")
		start := time.Now()
		if benchDataErr = fillBenchDB(b, path); benchDataErr != nil {
			return
		}
		elapsed := time.Since(start)
		var size int64
		if info, err := os.Stat(path); err == nil {
			size = info.Size()
		}
		b.Logf("stored %d events in batches of 1000 in %s (%.0f events/s), database file %d MiB",
			benchEvents, elapsed.Round(time.Second), benchEvents/elapsed.Seconds(), size>>20)
	})
	if benchDataErr != nil {
		b.Fatalf("build benchmark database: %v", benchDataErr)
	}
	return filepath.Join(benchDataDir, "userevents.db")
}

func fillBenchDB(b *testing.B, path string) error {
	db := openBenchDB(b, path)
	defer db.Close()
	rng := rand.New(rand.NewPCG(3, 4))
	batch := make([]*userevents.Event, 0, 1000)
	for i := range benchEvents {
		batch = append(batch, benchEvent(rng, i))
		if len(batch) == cap(batch) || i == benchEvents-1 {
			if _, err := db.CreateEvents(b.Context(), benchProject, batch); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	return nil
}

// BenchmarkFindEvents measures one ListUserEvents page of 100 over the
// 1,000,000 stored events and reports the latency percentiles. Each case
// draws a random window and filter value per call.
func BenchmarkFindEvents(b *testing.B) {
	db := openBenchDB(b, benchDataPath(b))
	defer db.Close()

	window := func(rng *rand.Rand, span time.Duration) (time.Time, time.Time) {
		start := benchStart.Add(time.Duration(rng.Int64N(int64(benchSpan - span + 1))))
		return start, start.Add(span)
	}
	user := func(rng *rand.Rand) *string {
		s := fmt.Sprintf("user-%04d", rng.IntN(benchUsers))
		return &s
	}
	cases := []struct {
		name   string
		filter func(rng *rand.Rand, f *userevents.EventFilter)
	}{
		{"span=30d", func(rng *rand.Rand, f *userevents.EventFilter) {
			f.Start, f.End = benchStart, benchStart.Add(benchSpan)
		}},
		{"span=1d", func(rng *rand.Rand, f *userevents.EventFilter) {
			f.Start, f.End = window(rng, 24*time.Hour)
		}},
		{"span=1h", func(rng *rand.Rand, f *userevents.EventFilter) {
			f.Start, f.End = window(rng, time.Hour)
		}},
		{"span=30d/offset=900", func(rng *rand.Rand, f *userevents.EventFilter) {
			f.Start, f.End = benchStart, benchStart.Add(benchSpan)
			f.Offset = 900
		}},
		{"span=7d/username", func(rng *rand.Rand, f *userevents.EventFilter) {
			f.Start, f.End = window(rng, 7*24*time.Hour)
			f.Username = user(rng)
		}},
		{"span=30d/username", func(rng *rand.Rand, f *userevents.EventFilter) {
			f.Start, f.End = benchStart, benchStart.Add(benchSpan)
			f.Username = user(rng)
		}},
		{"span=30d/event_type", func(rng *rand.Rand, f *userevents.EventFilter) {
			f.Start, f.End = benchStart, benchStart.Add(benchSpan)
			f.EventTypes = []string{benchTypes[rng.IntN(len(benchTypes))]}
		}},
		{"span=7d/event_type=2", func(rng *rand.Rand, f *userevents.EventFilter) {
			f.Start, f.End = window(rng, 7*24*time.Hour)
			f.EventTypes = []string{benchTypes[rng.IntN(3)], benchTypes[3+rng.IntN(3)]}
		}},
		{"span=30d/resource_id", func(rng *rand.Rand, f *userevents.EventFilter) {
			f.Start, f.End = benchStart, benchStart.Add(benchSpan)
			id := fmt.Sprintf("desk-id-%05d", rng.IntN(benchDesktops))
			f.ResourceID = &id
		}},
		{"span=30d/resource_name", func(rng *rand.Rand, f *userevents.EventFilter) {
			f.Start, f.End = benchStart, benchStart.Add(benchSpan)
			name := fmt.Sprintf("desk-%05d", rng.IntN(benchDesktops))
			f.ResourceName = &name
		}},
		{"span=30d/domain", func(rng *rand.Rand, f *userevents.EventFilter) {
			f.Start, f.End = benchStart, benchStart.Add(benchSpan)
			f.Domain = &benchDomains[rng.IntN(len(benchDomains))]
		}},
		{"span=1d/domain+event_type", func(rng *rand.Rand, f *userevents.EventFilter) {
			f.Start, f.End = window(rng, 24*time.Hour)
			f.Domain = &benchDomains[rng.IntN(len(benchDomains))]
			f.EventTypes = []string{benchTypes[rng.IntN(len(benchTypes))]}
		}},
		{"span=30d/username+event_type", func(rng *rand.Rand, f *userevents.EventFilter) {
			f.Start, f.End = benchStart, benchStart.Add(benchSpan)
			f.Username = user(rng)
			f.EventTypes = []string{benchTypes[rng.IntN(len(benchTypes))]}
		}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			rng := rand.New(rand.NewPCG(5, 6))
			var latencies []time.Duration
			for b.Loop() {
				f := userevents.EventFilter{ProjectID: benchProject, Limit: userevents.DefaultEventLimit}
				c.filter(rng, &f)
				start := time.Now()
				events, total, err := db.FindEvents(b.Context(), f)
				latencies = append(latencies, time.Since(start))
				if err != nil {
					b.Fatalf("FindEvents() error = %v", err)
				}
				if total > 0 && len(events) == 0 && f.Offset < total {
					b.Fatalf("FindEvents() = no events of %d", total)
				}
			}
			reportPercentiles(b, latencies)
		})
	}
}

// reportPercentiles reports the 50th and 99th percentile latencies in
// milliseconds.
func reportPercentiles(b *testing.B, latencies []time.Duration) {
	slices.Sort(latencies)
	at := func(p float64) float64 {
		i := int(p * float64(len(latencies)-1))
		return float64(latencies[i].Microseconds()) / 1000
	}
	b.ReportMetric(at(0.50), "p50-ms")
	b.ReportMetric(at(0.99), "p99-ms")
}
