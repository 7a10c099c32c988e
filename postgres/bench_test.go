package postgres_test

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/userevents/userevents"
	"github.com/userevents/userevents/export"
	"github.com/userevents/userevents/postgres"
)

// Environment variables of the benchmarks.
const (
	// largeBenchEnv, set to 1, enables BenchmarkFindEvents, which first
	// stores largeBenchEvents events and takes several minutes for it.
	largeBenchEnv = "USEREVENTS_BENCH_LARGE"
	// largeBenchSchemaEnv names a schema that keeps the large data set
	// between runs: it is filled when empty and never dropped. Unset, the
	// data set lives in a temporary schema.
	largeBenchSchemaEnv = "USEREVENTS_BENCH_SCHEMA"
)

// The shape of the generated events: one project, spread evenly over
// benchSpan, with benchUsers users on benchDesktops desktops.
const (
	largeBenchEvents = 10_000_000
	benchSpan        = 30 * 24 * time.Hour
	benchUsers       = 10_000
	benchDesktops    = 5_000
)

var (
	benchTypes   = []string{"LOGIN", "LOGOUT", "CONNECT", "DISCONNECT", "RECONNECT", "LOCK"}
	benchDomains = []string{"a.example.local", "b.example.local", "c.example.local"}
)

// benchStart returns the start of the generated events' span: 35 days
// before today, so that the span crosses a month boundary and lies in the
// window of months that get partitions.
func benchStart() time.Time {
	return time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -35)
}

// benchEvent returns a generated event with the id and time.
func benchEvent(rng *rand.Rand, id string, at time.Time) *userevents.Event {
	desktop := rng.IntN(benchDesktops)
	return &userevents.Event{
		EventID:      id,
		Username:     fmt.Sprintf("user-%05d", rng.IntN(benchUsers)),
		EventType:    benchTypes[rng.IntN(len(benchTypes))],
		EventTime:    at.Truncate(time.Millisecond),
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

// BenchmarkCreateEvents measures intake in batches of 1000 new events, with
// delivery off and on, from one client and from four at once.
func BenchmarkCreateEvents(b *testing.B) {
	for _, outbox := range []bool{false, true} {
		for _, clients := range []int{1, 4} {
			b.Run(fmt.Sprintf("outbox=%t/clients=%d", outbox, clients), func(b *testing.B) {
				db := openDB(b, newSchema(b))
				if outbox {
					enableDelivery(b, db)
				}
				var mu sync.Mutex
				next := 0
				batchOf := func(rng *rand.Rand) []*userevents.Event {
					mu.Lock()
					first := next
					next += 1000
					mu.Unlock()
					batch := make([]*userevents.Event, 1000)
					for j := range batch {
						at := time.Now().Add(-time.Duration(rng.IntN(3600)) * time.Second)
						batch[j] = benchEvent(rng, fmt.Sprintf("ev-%09d", first+j), at)
					}
					return batch
				}
				b.SetParallelism(clients) // GOMAXPROCS × clients goroutines
				b.RunParallel(func(pb *testing.PB) {
					rng := rand.New(rand.NewPCG(rand.Uint64(), 1))
					for pb.Next() {
						batch := batchOf(rng)
						n, err := db.CreateEvents(context.Background(), testProject, batch)
						if err != nil || n != len(batch) {
							b.Errorf("CreateEvents() = %d, %v; want %d", n, err, len(batch))
							return
						}
					}
				})
				b.ReportMetric(float64(next)/b.Elapsed().Seconds(), "events/s")
			})
		}
	}
}

// BenchmarkFindEvents measures one ListUserEvents page of 100 over
// largeBenchEvents stored events and reports the latency percentiles. Each
// case draws a random window and filter value per call.
func BenchmarkFindEvents(b *testing.B) {
	if os.Getenv(largeBenchEnv) != "1" {
		b.Skip(largeBenchEnv + " is not 1; set it to run this benchmark, which first stores " +
			"10,000,000 events and takes several minutes")
	}
	db := openDB(b, largeBenchURL(b))
	start := benchStart()

	window := func(rng *rand.Rand, span time.Duration) (time.Time, time.Time) {
		from := start.Add(time.Duration(rng.Int64N(int64(benchSpan - span + 1))))
		return from, from.Add(span)
	}
	user := func(rng *rand.Rand) *string {
		s := fmt.Sprintf("user-%05d", rng.IntN(benchUsers))
		return &s
	}
	all := func(f *userevents.EventFilter) { f.Start, f.End = start, start.Add(benchSpan) }
	cases := []struct {
		name   string
		filter func(rng *rand.Rand, f *userevents.EventFilter)
	}{
		{"span=30d", func(rng *rand.Rand, f *userevents.EventFilter) { all(f) }},
		{"span=1d", func(rng *rand.Rand, f *userevents.EventFilter) {
			f.Start, f.End = window(rng, 24*time.Hour)
		}},
		{"span=1h", func(rng *rand.Rand, f *userevents.EventFilter) {
			f.Start, f.End = window(rng, time.Hour)
		}},
		{"span=30d/offset=900", func(rng *rand.Rand, f *userevents.EventFilter) {
			all(f)
			f.Offset = 900
		}},
		{"span=30d/offset=100000", func(rng *rand.Rand, f *userevents.EventFilter) {
			all(f)
			f.Offset = 100_000
		}},
		{"span=7d/username", func(rng *rand.Rand, f *userevents.EventFilter) {
			f.Start, f.End = window(rng, 7*24*time.Hour)
			f.Username = user(rng)
		}},
		{"span=30d/username", func(rng *rand.Rand, f *userevents.EventFilter) {
			all(f)
			f.Username = user(rng)
		}},
		{"span=30d/event_type", func(rng *rand.Rand, f *userevents.EventFilter) {
			all(f)
			f.EventTypes = []string{benchTypes[rng.IntN(len(benchTypes))]}
		}},
		{"span=7d/event_type=2", func(rng *rand.Rand, f *userevents.EventFilter) {
			f.Start, f.End = window(rng, 7*24*time.Hour)
			f.EventTypes = []string{benchTypes[rng.IntN(3)], benchTypes[3+rng.IntN(3)]}
		}},
		{"span=30d/resource_id", func(rng *rand.Rand, f *userevents.EventFilter) {
			all(f)
			id := fmt.Sprintf("desk-id-%05d", rng.IntN(benchDesktops))
			f.ResourceID = &id
		}},
		{"span=30d/resource_name", func(rng *rand.Rand, f *userevents.EventFilter) {
			all(f)
			name := fmt.Sprintf("desk-%05d", rng.IntN(benchDesktops))
			f.ResourceName = &name
		}},
		{"span=30d/domain", func(rng *rand.Rand, f *userevents.EventFilter) {
			all(f)
			f.Domain = &benchDomains[rng.IntN(len(benchDomains))]
		}},
		{"span=1d/domain+event_type", func(rng *rand.Rand, f *userevents.EventFilter) {
			f.Start, f.End = window(rng, 24*time.Hour)
			f.Domain = &benchDomains[rng.IntN(len(benchDomains))]
			f.EventTypes = []string{benchTypes[rng.IntN(len(benchTypes))]}
		}},
		{"span=30d/username+event_type", func(rng *rand.Rand, f *userevents.EventFilter) {
			all(f)
			f.Username = user(rng)
			f.EventTypes = []string{benchTypes[rng.IntN(len(benchTypes))]}
		}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			rng := rand.New(rand.NewPCG(5, 6))
			var latencies []time.Duration
			for b.Loop() {
				f := userevents.EventFilter{ProjectID: testProject, Limit: userevents.DefaultEventLimit}
				c.filter(rng, &f)
				began := time.Now()
				events, total, err := db.FindEvents(b.Context(), f)
				latencies = append(latencies, time.Since(began))
				if err != nil {
					b.Fatalf("FindEvents() error = %v", err)
				}
				if f.Offset < total && len(events) == 0 {
					b.Fatalf("FindEvents() = no events of %d", total)
				}
			}
			reportPercentiles(b, latencies)
		})
	}
}

// largeBenchURL returns the URL of a schema with largeBenchEvents events,
// storing them first when the schema has none.
func largeBenchURL(b *testing.B) string {
	b.Helper()
	var url string
	if name := os.Getenv(largeBenchSchemaEnv); name != "" {
		base := databaseURL(b)
		exec(b, base, `CREATE SCHEMA IF NOT EXISTS `+name)
		url = schemaURL(b, base, name)
	} else {
		url = newSchema(b)
	}
	db := openDB(b, url)
	if n := query[int64](b, url, `SELECT count(*) FROM event_ids`); n >= largeBenchEvents {
		return url
	}
	began := time.Now()
	fillLarge(b, db, url)
	b.Logf("stored %d events in %s", largeBenchEvents, time.Since(began).Round(time.Second))
	return url
}

// fillLarge stores largeBenchEvents events with server-side INSERT …
// SELECT generate_series statements, bypassing CreateEvents for speed but
// writing what it would: the events, their ids and their hourly counts.
func fillLarge(b *testing.B, db *postgres.DB, url string) {
	b.Helper()
	start := benchStart()
	// One event through the store per month creates the partitions.
	var seeds []*userevents.Event
	for m := monthOf(start, 0); m.Before(start.Add(benchSpan)); m = m.AddDate(0, 1, 0) {
		seeds = append(seeds, &userevents.Event{EventID: "seed-" + m.Format("200601"),
			EventTime: m.Add(time.Hour), EventType: "LOGIN"})
	}
	if _, err := db.CreateEvents(b.Context(), testProject, seeds); err != nil {
		b.Fatalf("CreateEvents() of the partition seeds error = %v", err)
	}

	no := query[int32](b, url, `SELECT project_no FROM event_projects WHERE project_id = $1`, testProject)

	// abs(hashint8(i + k)) gives each row reproducible pseudo-random
	// choices; the event time grows with i, with up to a slot of jitter.
	// Each chunk is one statement, so a fill that was stopped resumes
	// after the last whole chunk.
	const chunk = 1_000_000
	slot := benchSpan.Microseconds() / largeBenchEvents
	done := query[int64](b, url, `SELECT count(*) FROM events WHERE event_id LIKE 'ev-%'`)
	for first := done; first < largeBenchEvents; first += chunk {
		exec(b, url, `INSERT INTO events (project_no, event_id, username, workspace_id,
				event_type, event_time, resource_type, resource_id, resource_name, client_type,
				client_ip, source_ip, action_type, domain, received_at)
			SELECT $1, 'ev-' || lpad(i::text, 9, '0'),
				'user-' || lpad((abs(hashint8(i)) % $5)::text, 5, '0'),
				'ws-0001',
				($7::text[])[1 + abs(hashint8(i + 1)) % 6],
				date_trunc('milliseconds', $4::timestamptz
					+ (i * $6 + abs(hashint8(i + 2)) % $6) * interval '1 microsecond'),
				'DESKTOP',
				'desk-id-' || lpad((abs(hashint8(i + 3)) % $8)::text, 5, '0'),
				'desk-' || lpad((abs(hashint8(i + 3)) % $8)::text, 5, '0'),
				'WINDOWS', '192.0.2.10', '198.51.100.7', 'USER',
				($9::text[])[1 + abs(hashint8(i + 4)) % 3],
				now()
			FROM generate_series($2::bigint, $3::bigint) i`,
			no, first, min(first+chunk, largeBenchEvents)-1, start, benchUsers, slot,
			benchTypes, benchDesktops, benchDomains)
	}
	exec(b, url, `INSERT INTO event_ids (project_no, event_id)
		SELECT project_no, event_id FROM events WHERE event_id LIKE 'ev-%'`)
	exec(b, url, `INSERT INTO event_counts (project_no, hour, event_type, domain, n)
		SELECT project_no, date_trunc('hour', event_time, 'UTC'), event_type, domain, count(*)
		FROM events WHERE event_id LIKE 'ev-%' GROUP BY 1, 2, 3, 4
		ON CONFLICT (project_no, hour, event_type, domain) DO UPDATE SET n = event_counts.n + excluded.n`)
	// Index-only scans need the visibility map that VACUUM writes.
	exec(b, url, `VACUUM (ANALYZE) events, event_ids, event_counts`)
}

// BenchmarkDeliveryTwoReplicas measures delivery of 10,000 queued events
// to the built-in LTS by the export workers of two stores on one database,
// as two replicas run them.
func BenchmarkDeliveryTwoReplicas(b *testing.B) {
	url := newSchema(b)
	replicas := []*postgres.DB{openDB(b, url), openDB(b, url)}
	db := replicas[0]
	group := &userevents.LogGroup{ProjectID: testProject, Name: "bench", TTLDays: 7}
	if err := db.CreateLogGroup(b.Context(), group); err != nil {
		b.Fatalf("CreateLogGroup() error = %v", err)
	}
	stream := &userevents.LogStream{ProjectID: testProject, GroupID: group.ID, Name: "bench", TTLDays: 7}
	if err := db.CreateLogStream(b.Context(), stream); err != nil {
		b.Fatalf("CreateLogStream() error = %v", err)
	}
	err := db.SetLTSConfig(b.Context(), &userevents.LTSConfig{ProjectID: testProject, Enabled: true,
		LogGroupID: group.ID, LogStreamID: stream.ID})
	if err != nil {
		b.Fatalf("SetLTSConfig() error = %v", err)
	}

	const perRound = 10_000
	rng := rand.New(rand.NewPCG(7, 8))
	delivered := 0
	for round := 0; b.Loop(); round++ {
		b.StopTimer()
		for i := 0; i < perRound; i += 1000 {
			batch := make([]*userevents.Event, 1000)
			for j := range batch {
				batch[j] = benchEvent(rng, fmt.Sprintf("r%d-%06d", round, i+j), time.Now())
			}
			if _, err := db.CreateEvents(b.Context(), testProject, batch); err != nil {
				b.Fatalf("CreateEvents() error = %v", err)
			}
		}
		b.StartTimer()

		ctx, cancel := context.WithCancel(b.Context())
		var wg sync.WaitGroup
		for i, replica := range replicas {
			w := &export.Worker{
				Outbox: replica, Sink: &export.BuiltinSink{Logs: replica},
				Logger: slog.New(slog.DiscardHandler), Owner: fmt.Sprintf("replica-%d", i),
				Lease: 30 * time.Second, Poll: 10 * time.Millisecond,
			}
			wg.Go(func() { w.Run(ctx) })
		}
		for {
			st, err := db.FindDeliveryStats(b.Context(), testProject)
			if err != nil {
				b.Fatalf("FindDeliveryStats() error = %v", err)
			}
			if st.Pending == 0 {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		cancel()
		wg.Wait()
		delivered += perRound
	}
	b.ReportMetric(float64(delivered)/b.Elapsed().Seconds(), "deliveries/s")
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
