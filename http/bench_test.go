package http_test

// Benchmarks of the HTTP API against uetest's in-process server: real
// listeners, SQLite in a temporary directory and the delivery worker. All
// setup happens inside the Benchmark functions, so a plain go test never
// runs it. docs/benchmarks.md has the commands and the figures measured.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/signer"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/request"
	ltsmodel "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/lts/v2/model"
	wsmodel "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/workspace/v2/model"

	"github.com/userevents/userevents"
	"github.com/userevents/userevents/uetest"
)

// benchClient keeps enough idle connections for every concurrent client
// of a benchmark, so that no request pays for a new connection.
var benchClient = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}

// benchSignedRequest builds a request signed by the SDK's signer with the
// test root key. Unlike uetest.SignedRequest it returns errors instead of
// failing the benchmark, so that client goroutines may call it.
func benchSignedRequest(method, endpoint, path string, query map[string]string, body string) (*http.Request, error) {
	b := request.NewHttpRequestBuilder().
		WithEndpoint(endpoint).
		WithPath(path).
		WithMethod(method).
		AddHeaderParam("Content-Type", "application/json").
		AddHeaderParam("X-Project-Id", uetest.ProjectID)
	for k, v := range query {
		// The SDK request keeps query values as reflect.Value and drops
		// anything else when it builds the URL.
		b.AddQueryParam(k, reflect.ValueOf(v))
	}
	if body != "" {
		b.WithBody("application/json", body)
	}
	req := b.Build()
	headers, err := signer.Sign(req, uetest.AccessKey, uetest.SecretKey)
	if err != nil {
		return nil, fmt.Errorf("sign request: %w", err)
	}
	for k, v := range headers {
		req.AddHeaderParam(k, v)
	}
	return req.ConvertRequest()
}

// benchDo sends a signed request and returns an error unless the response
// status is 200.
func benchDo(method, endpoint, path string, query map[string]string, body string) error {
	req, err := benchSignedRequest(method, endpoint, path, query, body)
	if err != nil {
		return err
	}
	resp, err := benchClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("read response: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: status %d: %s", method, path, resp.StatusCode, data)
	}
	return nil
}

// benchIntakeBody returns an intake body of n events. With a prefix, the
// events get the ids prefix-0000, prefix-0001 and so on. Without one, the
// server assigns a new id to each event, so the same body can be posted
// again and again.
func benchIntakeBody(prefix string, n int, at time.Time) string {
	type event struct {
		EventID      string `json:"event_id,omitempty"`
		Username     string `json:"username"`
		EventType    string `json:"event_type"`
		EventTime    string `json:"event_time"`
		ResourceName string `json:"resource_name"`
		ClientIP     string `json:"client_ip"`
	}
	types := []string{"LOGIN", "CONNECT", "DISCONNECT", "LOGOUT"}
	items := make([]event, n)
	for i := range items {
		items[i] = event{
			Username:     fmt.Sprintf("user-%04d", i%1000),
			EventType:    types[i%len(types)],
			EventTime:    at.Format(time.RFC3339Nano),
			ResourceName: fmt.Sprintf("desk-%05d", i%2000),
			ClientIP:     "192.0.2.10",
		}
		if prefix != "" {
			items[i].EventID = fmt.Sprintf("%s-%04d", prefix, i)
		}
	}
	body, _ := json.Marshal(map[string]any{"items": items})
	return string(body)
}

// benchDeliverTo creates a log group and a stream through the SDK and
// enables delivery of the project's user events to them.
func benchDeliverTo(b *testing.B, env *uetest.Env) (groupID, streamID string) {
	b.Helper()
	logs := env.LTSClient()
	g, err := logs.CreateLogGroup(&ltsmodel.CreateLogGroupRequest{
		Body: &ltsmodel.CreateLogGroupParams{LogGroupName: "bench", TtlInDays: 7},
	})
	if err != nil {
		b.Fatalf("create log group: %v", err)
	}
	s, err := logs.CreateLogStream(&ltsmodel.CreateLogStreamRequest{
		LogGroupId: *g.LogGroupId,
		Body:       &ltsmodel.CreateLogStreamParams{LogStreamName: "bench-stream"},
	})
	if err != nil {
		b.Fatalf("create log stream: %v", err)
	}
	_, err = env.WorkspaceClient().SetUserEventsLtsConfigurations(&wsmodel.SetUserEventsLtsConfigurationsRequest{
		Body: &wsmodel.SetUserEventsLtsConfigurationsRequestBody{
			Enable: true, LogGroupId: g.LogGroupId, LogStreamId: s.LogStreamId,
		},
	})
	if err != nil {
		b.Fatalf("enable delivery: %v", err)
	}
	return *g.LogGroupId, *s.LogStreamId
}

// percentile returns the q-quantile (0 < q ≤ 1) of sorted by the
// nearest-rank method.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(rank, 0)]
}

// reportLatencies reports the p50 and p99 of the latencies in
// milliseconds, with the given metric name prefix.
func reportLatencies(b *testing.B, prefix string, latencies []time.Duration) {
	b.Helper()
	slices.Sort(latencies)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(percentile(latencies, 0.50)), prefix+"p50-ms")
	b.ReportMetric(ms(percentile(latencies, 0.99)), prefix+"p99-ms")
}

// BenchmarkIntake posts batches of 1000 new events through the intake
// endpoint, one batch per iteration, from 1 or 4 concurrent clients, with
// delivery off and on. With delivery on, each event also gets an outbox
// row and the worker writes the lines to the built-in LTS at the same
// time, competing for the one SQLite writer.
func BenchmarkIntake(b *testing.B) {
	for _, delivery := range []bool{false, true} {
		for _, clients := range []int{1, 4} {
			b.Run(fmt.Sprintf("delivery=%t/clients=%d", delivery, clients), func(b *testing.B) {
				benchmarkIntake(b, delivery, clients)
			})
		}
	}
}

func benchmarkIntake(b *testing.B, delivery bool, clients int) {
	env := uetest.Start(b, uetest.Options{})
	if delivery {
		benchDeliverTo(b, env)
	}
	body := benchIntakeBody("", userevents.MaxIntakeBatch, time.Now().UTC())
	if err := benchDo(http.MethodPost, env.WorkspaceURL, eventsPath, nil, body); err != nil {
		b.Fatalf("warm-up intake: %v", err)
	}

	var (
		next     atomic.Int64
		firstErr atomic.Value
		wg       sync.WaitGroup
	)
	b.ResetTimer()
	for range clients {
		wg.Go(func() {
			for next.Add(1) <= int64(b.N) {
				if err := benchDo(http.MethodPost, env.WorkspaceURL, eventsPath, nil, body); err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	if err := firstErr.Load(); err != nil {
		b.Fatalf("intake: %v", err)
	}
	events := float64(b.N) * userevents.MaxIntakeBatch
	b.ReportMetric(events/b.Elapsed().Seconds(), "events/s")
}

// Shape of the events BenchmarkListEventsHTTP stores: spread evenly over
// the last listBenchSpan, with listBenchUsers users on listBenchDesktops desktops.
const (
	listBenchEvents   = 100_000
	listBenchSpan     = 29 * 24 * time.Hour
	listBenchUsers    = 1000
	listBenchDesktops = 2000
)

// seedListEvents stores listBenchEvents events through the store, in batches
// of 1000, all ending before end.
func seedListEvents(b *testing.B, store userevents.EventStore, end time.Time) {
	b.Helper()
	types := []string{"LOGIN", "LOGOUT", "CONNECT", "DISCONNECT", "RECONNECT", "LOCK"}
	step := listBenchSpan / listBenchEvents
	start := end.Add(-listBenchSpan)
	batch := make([]*userevents.Event, 0, userevents.MaxIntakeBatch)
	for i := range listBenchEvents {
		desktop := (i * 7919) % listBenchDesktops
		batch = append(batch, &userevents.Event{
			EventID:      fmt.Sprintf("list-%06d", i),
			Username:     fmt.Sprintf("user-%04d", (i*31)%listBenchUsers),
			EventType:    types[i%len(types)],
			EventTime:    start.Add(time.Duration(i) * step).Truncate(time.Microsecond),
			ResourceType: "DESKTOP",
			ResourceID:   fmt.Sprintf("desk-id-%05d", desktop),
			ResourceName: fmt.Sprintf("desk-%05d", desktop),
			ClientIP:     "192.0.2.10",
			ActionType:   "USER",
			Domain:       "example.local",
			ReceivedAt:   end,
		})
		if len(batch) == cap(batch) {
			if _, err := store.CreateEvents(context.Background(), uetest.ProjectID, batch); err != nil {
				b.Fatalf("seed events: %v", err)
			}
			batch = batch[:0]
		}
	}
}

// BenchmarkListEventsHTTP measures ListUserEvents over HTTP, from the
// signed request to the last byte of the response, over 100,000 stored
// events spread over 29 days. Each case reports the p50 and p99 latency.
func BenchmarkListEventsHTTP(b *testing.B) {
	env := uetest.Start(b, uetest.Options{NoWorker: true})
	end := time.Now().UTC().Truncate(time.Second)
	seedListEvents(b, env.Store, end)

	window := map[string]string{
		"start_time": end.Add(-listBenchSpan).Format(time.RFC3339),
		"end_time":   end.Format(time.RFC3339),
	}
	with := func(extra map[string]string) map[string]string {
		q := map[string]string{}
		for k, v := range window {
			q[k] = v
		}
		for k, v := range extra {
			q[k] = v
		}
		return q
	}
	cases := []struct {
		name  string
		query map[string]string
	}{
		{"all", with(nil)},
		{"all/limit=1000", with(map[string]string{"limit": "1000"})},
		{"all/offset=50000", with(map[string]string{"offset": "50000"})},
		{"username", with(map[string]string{"username": "user-0042"})},
		{"event_type", with(map[string]string{"event_type": "LOGIN,LOGOUT"})},
		{"resource_name", with(map[string]string{"resource_name": "desk-00042"})},
		{"one_hour", map[string]string{
			"start_time": end.Add(-36 * time.Hour).Format(time.RFC3339),
			"end_time":   end.Add(-35 * time.Hour).Format(time.RFC3339),
		}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			latencies := make([]time.Duration, 0, 1024)
			for b.Loop() {
				req, err := benchSignedRequest(http.MethodGet, env.WorkspaceURL, eventsPath, c.query, "")
				if err != nil {
					b.Fatal(err)
				}
				start := time.Now()
				resp, err := benchClient.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				_, err = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				latencies = append(latencies, time.Since(start))
				if err != nil || resp.StatusCode != http.StatusOK {
					b.Fatalf("list events: status %d, error %v", resp.StatusCode, err)
				}
			}
			reportLatencies(b, "", latencies)
		})
	}
}

// Load of BenchmarkDeliveryLag: lagBatches batches of lagBatchSize events,
// one every lagInterval, that is 5,000 events per second for 5 seconds.
const (
	lagBatches   = 250
	lagBatchSize = 100
	lagInterval  = 20 * time.Millisecond
	lagPoll      = 5 * time.Millisecond
)

// BenchmarkDeliveryLag posts a steady 5,000 events per second with
// delivery to the built-in LTS enabled and measures, per event, the time
// from the intake response to the line being visible in the log stream.
// Visibility is checked by querying the store's FindLogs every 5 ms, so
// each lag is accurate to about 5 ms and leaves out the ListLogs HTTP
// round trip. Each iteration is one 5-second run; use -benchtime 1x.
func BenchmarkDeliveryLag(b *testing.B) {
	env := uetest.Start(b, uetest.Options{})
	groupID, streamID := benchDeliverTo(b, env)

	var lags []time.Duration
	for run := range b.N {
		lags = append(lags, runDeliveryLag(b, env, groupID, streamID, run)...)
	}
	reportLatencies(b, "lag-", lags)
	b.ReportMetric(float64(slices.Max(lags))/float64(time.Millisecond), "lag-max-ms")
	b.ReportMetric(0, "ns/op")
}

// runDeliveryLag runs one paced load and returns the lag of every event.
// Batch i carries the event time base+i ms, so that the poller can start
// each query at the oldest batch it has not fully seen.
func runDeliveryLag(b *testing.B, env *uetest.Env, groupID, streamID string, run int) []time.Duration {
	b.Helper()
	base := time.Now().UTC().Truncate(time.Second)
	bodies := make([]string, lagBatches)
	batchOf := make(map[string]int, lagBatches*lagBatchSize)
	for i := range bodies {
		prefix := fmt.Sprintf("lag-%d-%03d", run, i)
		bodies[i] = benchIntakeBody(prefix, lagBatchSize, base.Add(time.Duration(i)*time.Millisecond))
		for j := range lagBatchSize {
			batchOf[fmt.Sprintf("%s-%04d", prefix, j)] = i
		}
	}

	// Times are offsets from start on the monotonic clock.
	start := time.Now()
	ackAt := make([]atomic.Int64, lagBatches)
	var firstErr atomic.Value
	var wg sync.WaitGroup
	wg.Go(func() {
		// Each batch has its own goroutine, so a slow response does not
		// delay the batches after it.
		ticker := time.NewTicker(lagInterval)
		defer ticker.Stop()
		for i := range bodies {
			wg.Go(func() {
				if err := benchDo(http.MethodPost, env.WorkspaceURL, eventsPath, nil, bodies[i]); err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
				ackAt[i].Store(int64(time.Since(start)))
			})
			if i < len(bodies)-1 {
				<-ticker.C
			}
		}
	})

	seenAt := make(map[string]time.Duration, len(batchOf))
	unseen := make([]int, lagBatches) // events of each batch not seen yet
	for i := range unseen {
		unseen[i] = lagBatchSize
	}
	oldest := 0
	deadline := time.Now().Add(60 * time.Second)
	for oldest < lagBatches && time.Now().Before(deadline) {
		records, _, err := env.Store.FindLogs(context.Background(), userevents.LogQuery{
			ProjectID: uetest.ProjectID,
			GroupID:   groupID,
			StreamID:  streamID,
			StartMs:   base.Add(time.Duration(oldest) * time.Millisecond).UnixMilli(),
			Limit:     userevents.MaxLogQueryLimit,
		})
		if err != nil {
			b.Fatalf("find logs: %v", err)
		}
		now := time.Since(start)
		for _, r := range records {
			id := benchEventID(b, r.Content)
			batch, ok := batchOf[id]
			if _, seen := seenAt[id]; !ok || seen {
				continue
			}
			seenAt[id] = now
			unseen[batch]--
		}
		for oldest < lagBatches && unseen[oldest] == 0 {
			oldest++
		}
		time.Sleep(lagPoll)
	}
	wg.Wait()
	if err := firstErr.Load(); err != nil {
		b.Fatalf("intake: %v", err)
	}
	if len(seenAt) != len(batchOf) {
		b.Fatalf("%d of %d events reached the stream within 60 s", len(seenAt), len(batchOf))
	}

	lags := make([]time.Duration, 0, len(seenAt))
	for id, seen := range seenAt {
		// A line can become visible before the client has read the
		// intake response. Its lag then counts as zero.
		lags = append(lags, max(seen-time.Duration(ackAt[batchOf[id]].Load()), 0))
	}
	return lags
}

// benchEventID returns the eventId of a delivered log line.
func benchEventID(b *testing.B, line string) string {
	var rec struct {
		EventID string `json:"eventId"`
	}
	if err := json.Unmarshal([]byte(line), &rec); err != nil || !strings.HasPrefix(rec.EventID, "lag-") {
		b.Fatalf("log line without a benchmark eventId: %s", line)
	}
	return rec.EventID
}
