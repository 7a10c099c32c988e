package lts_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/userevents/userevents"
	"github.com/userevents/userevents/export"
	"github.com/userevents/userevents/lts"
	"github.com/userevents/userevents/uetest"
)

// fault is what the proxy does to one ingestion request.
type fault string

const (
	faultNone      fault = ""
	fault500       fault = "500"
	fault429       fault = "429"
	faultTimeout   fault = "timeout"
	faultReset     fault = "reset"
	faultErrorBody fault = "200 with error"
)

// faultProxy forwards to a remote LTS and applies a script of faults to
// ingestion requests, one per request, then passes everything. While down
// is set, it responds to every ingestion request with 503 instead.
type faultProxy struct {
	mu     sync.Mutex
	script []fault
	seen   atomic.Int32
	down   atomic.Bool
	proxy  *httputil.ReverseProxy
}

func (p *faultProxy) next() fault {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.script) == 0 {
		return faultNone
	}
	f := p.script[0]
	p.script = p.script[1:]
	return f
}

func (p *faultProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.Contains(r.URL.Path, "/tenant/contents") {
		p.proxy.ServeHTTP(w, r)
		return
	}
	p.seen.Add(1)
	if p.down.Load() {
		http.Error(w, `{"errorCode":"SVCSTG.ALS.503.503","errorMessage":"service unavailable"}`, 503)
		return
	}
	switch p.next() {
	case fault500:
		http.Error(w, `{"errorCode":"SVCSTG.ALS.500.500","errorMessage":"internal"}`, 500)
	case fault429:
		w.Header().Set("Retry-After", "1")
		http.Error(w, `{"errorCode":"SVCSTG.ALS.429.429","errorMessage":"slow down"}`, 429)
	case faultTimeout:
		time.Sleep(400 * time.Millisecond)
		http.Error(w, "late", 500)
	case faultReset:
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	case faultErrorBody:
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"errorCode":"SVCSTG.ALS.200.501","errorMessage":"write failed","result":null}`)
	default:
		p.proxy.ServeHTTP(w, r)
	}
}

// pair is a local server that delivers to a remote one through a proxy.
type pair struct {
	local, remote *uetest.Env
	proxy         *faultProxy
	client        *lts.Client
	groupID       string
	streamID      string
}

func newPair(t *testing.T, script ...fault) *pair {
	t.Helper()
	p := &pair{
		remote: uetest.Start(t, uetest.Options{NoWorker: true}),
		local:  uetest.Start(t, uetest.Options{NoWorker: true}),
	}
	target, _ := url.Parse(p.remote.LTSURL)
	p.proxy = &faultProxy{script: script, proxy: httputil.NewSingleHostReverseProxy(target)}
	ps := httptest.NewServer(p.proxy)
	t.Cleanup(ps.Close)

	p.client = &lts.Client{
		ManagementEndpoint: ps.URL,
		AccessKey:          uetest.AccessKey,
		SecretKey:          uetest.SecretKey,
		HTTP:               &http.Client{Timeout: 200 * time.Millisecond},
	}
	p.local.Server.RemoteLTS = p.client

	ctx := context.Background()
	g := &userevents.LogGroup{ProjectID: uetest.ProjectID, Name: "remote", TTLDays: 7, CreatedAt: time.Now()}
	if err := p.remote.Store.CreateLogGroup(ctx, g); err != nil {
		t.Fatal(err)
	}
	s := &userevents.LogStream{ProjectID: uetest.ProjectID, GroupID: g.ID, Name: "events", TTLDays: 7, CreatedAt: time.Now()}
	if err := p.remote.Store.CreateLogStream(ctx, s); err != nil {
		t.Fatal(err)
	}
	p.groupID, p.streamID = g.ID, s.ID
	return p
}

func (p *pair) enable(t *testing.T) {
	t.Helper()
	body := fmt.Sprintf(`{"enable":true,"log_group_id":%q,"log_stream_id":%q}`, p.groupID, p.streamID)
	status, resp := uetest.Do(t, http.MethodPost, p.local.WorkspaceURL,
		"/v2/"+uetest.ProjectID+"/user-events/lts-configurations", nil, body)
	if status != 200 {
		t.Fatalf("enable: %d %s", status, resp)
	}
}

func (p *pair) post(t *testing.T, prefix string, n int, at time.Time) []string {
	t.Helper()
	var items, ids []string
	for i := range n {
		id := fmt.Sprintf("%s-%03d", prefix, i)
		ids = append(ids, id)
		items = append(items, fmt.Sprintf(`{"event_id":%q,"username":"u-alice","event_type":"LOGIN","event_time":%q}`,
			id, at.UTC().Format(time.RFC3339)))
	}
	status, resp := uetest.Do(t, http.MethodPost, p.local.WorkspaceURL, "/v2/"+uetest.ProjectID+"/user-events", nil,
		`{"items":[`+strings.Join(items, ",")+`]}`)
	if status != 200 {
		t.Fatalf("intake: %d %s", status, resp)
	}
	return ids
}

func (p *pair) run(t *testing.T) {
	t.Helper()
	p.start(t, func(*export.Worker) {})
}

// start runs a delivery worker, first changed by set, until stop is
// called or the test ends. stop waits for the worker to return.
func (p *pair) start(t *testing.T, set func(*export.Worker)) (stop func()) {
	t.Helper()
	w := &export.Worker{
		Outbox:     p.local.Store,
		Sink:       p.client,
		Logger:     slog.New(slog.DiscardHandler),
		Owner:      "remote-test",
		BatchSize:  20,
		Poll:       10 * time.Millisecond,
		MinBackoff: 5 * time.Millisecond,
		MaxBackoff: 50 * time.Millisecond,
	}
	set(w)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = w.Run(ctx) })
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); wg.Wait() }) }
	t.Cleanup(stop)
	return stop
}

// remoteEventIDs returns the eventIds found in the remote stream.
func (p *pair) remoteEventIDs(t *testing.T) map[string]int {
	t.Helper()
	recs, _, err := p.remote.Store.FindLogs(context.Background(), userevents.LogQuery{
		ProjectID: uetest.ProjectID, GroupID: p.groupID, StreamID: p.streamID,
		StartMs: 0, EndMs: time.Now().Add(48 * time.Hour).UnixMilli(), Limit: userevents.MaxLogQueryLimit,
	})
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]int{}
	for _, r := range recs {
		i := strings.Index(r.Content, `"eventId":"`)
		if i < 0 {
			t.Fatalf("line without eventId: %s", r.Content)
		}
		rest := r.Content[i+len(`"eventId":"`):]
		ids[rest[:strings.IndexByte(rest, '"')]]++
	}
	return ids
}

func (p *pair) waitStats(t *testing.T, ok func(*userevents.DeliveryStats) bool) *userevents.DeliveryStats {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		st, err := p.local.Store.FindDeliveryStats(context.Background(), uetest.ProjectID)
		if err != nil {
			t.Fatal(err)
		}
		if ok(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("delivery did not settle: %+v", st)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestRemoteDeliverySurvivesFaults(t *testing.T) {
	p := newPair(t, fault500, fault429, faultTimeout, faultReset, faultErrorBody, fault500)
	p.enable(t)
	var want []string
	for b := range 3 {
		want = append(want, p.post(t, fmt.Sprint("b", b), 20, time.Now())...)
	}
	p.run(t)

	st := p.waitStats(t, func(s *userevents.DeliveryStats) bool { return s.Delivered == int64(len(want)) })
	if st.Failed < 6 {
		t.Errorf("failed attempts = %d, want at least the 6 injected", st.Failed)
	}
	if st.DeadLetters != 0 {
		t.Errorf("dead letters = %d, want 0", st.DeadLetters)
	}
	got := p.remoteEventIDs(t)
	for _, id := range want {
		if got[id] == 0 {
			t.Errorf("event %s missing from the remote stream", id)
		}
	}
}

func TestRemoteDeadLettersOutOfWindowEvents(t *testing.T) {
	p := newPair(t)
	p.enable(t)
	old := p.post(t, "old", 5, time.Now().Add(-72*time.Hour))
	fresh := p.post(t, "fresh", 5, time.Now())
	p.run(t)

	st := p.waitStats(t, func(s *userevents.DeliveryStats) bool { return s.Delivered == 5 && s.DeadLetters == 5 })
	if st.Pending != 0 {
		t.Errorf("pending = %d, want 0", st.Pending)
	}
	got := p.remoteEventIDs(t)
	for _, id := range fresh {
		if got[id] == 0 {
			t.Errorf("fresh event %s not delivered", id)
		}
	}
	for _, id := range old {
		if got[id] != 0 {
			t.Errorf("out-of-window event %s was sent", id)
		}
	}

	// The dead-lettered events stay listable.
	status, body := uetest.Do(t, http.MethodGet, p.local.WorkspaceURL, "/v2/"+uetest.ProjectID+"/user-events",
		map[string]string{
			"start_time": time.Now().Add(-73 * time.Hour).UTC().Format(time.RFC3339),
			"end_time":   time.Now().Add(-71 * time.Hour).UTC().Format(time.RFC3339),
		}, "")
	if status != 200 || !strings.Contains(body, `"count":5`) {
		t.Errorf("old events listing = %d %s, want count 5", status, body)
	}

	// The API lists the dead letters with their reason and requeues them.
	status, body = uetest.Do(t, http.MethodGet, p.local.WorkspaceURL,
		"/v2/"+uetest.ProjectID+"/user-events/dead-letters", map[string]string{"limit": "10"}, "")
	if status != 200 || !strings.Contains(body, `"count":5`) || !strings.Contains(body, "does not accept it") ||
		!strings.Contains(body, `"event_id":"old-000"`) {
		t.Errorf("dead letters = %d %s", status, body)
	}
	status, body = uetest.Do(t, http.MethodPost, p.local.WorkspaceURL,
		"/v2/"+uetest.ProjectID+"/user-events/dead-letters/retry", nil, `{"target":"original"}`)
	if status != 200 || body != `{"count":5}` {
		t.Errorf("retry dead letters = %d %s, want count 5", status, body)
	}
	// Still outside the window, so they come back as dead letters.
	p.waitStats(t, func(s *userevents.DeliveryStats) bool { return s.DeadLetters == 5 && s.Pending == 0 })
	status, body = uetest.Do(t, http.MethodPost, p.local.WorkspaceURL,
		"/v2/"+uetest.ProjectID+"/user-events/dead-letters/retry", nil, `{"target":"elsewhere"}`)
	if status != 400 || !strings.Contains(body, "elsewhere") {
		t.Errorf("bad target = %d %s, want 400 naming it", status, body)
	}
}

func TestRemoteLineRejectedByServer(t *testing.T) {
	p := newPair(t)
	p.remote.Server.LogTimeWindow = time.Hour // stricter than the client's 24 hours
	p.enable(t)
	stale := p.post(t, "stale", 1, time.Now().Add(-2*time.Hour))
	fresh := p.post(t, "fresh", 4, time.Now())
	p.run(t)

	p.waitStats(t, func(s *userevents.DeliveryStats) bool { return s.Delivered == 4 && s.DeadLetters == 1 })
	got := p.remoteEventIDs(t)
	if got[stale[0]] != 0 {
		t.Errorf("rejected event delivered")
	}
	for _, id := range fresh {
		if got[id] == 0 {
			t.Errorf("event %s not delivered after its neighbour was rejected", id)
		}
	}
}

func TestRemoteConfigChecksRemoteStream(t *testing.T) {
	p := newPair(t)
	body := fmt.Sprintf(`{"enable":true,"log_group_id":%q,"log_stream_id":"missing"}`, p.groupID)
	status, resp := uetest.Do(t, http.MethodPost, p.local.WorkspaceURL,
		"/v2/"+uetest.ProjectID+"/user-events/lts-configurations", nil, body)
	if status != 400 || !strings.Contains(resp, "missing") {
		t.Fatalf("unknown remote stream: %d %s, want 400 naming it", status, resp)
	}
}
