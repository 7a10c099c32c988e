package lts_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/userevents/userevents"
	"github.com/userevents/userevents/export"
	"github.com/userevents/userevents/metrics"
	"github.com/userevents/userevents/uetest"
)

// deliveryState returns the state that the delivery-status API reports.
func (p *pair) deliveryState(t *testing.T) string {
	t.Helper()
	status, body := uetest.Do(t, http.MethodGet, p.local.WorkspaceURL,
		"/v2/"+uetest.ProjectID+"/user-events/delivery-status", nil, "")
	if status != 200 {
		t.Fatalf("delivery status: %d %s", status, body)
	}
	var st struct {
		State string `json:"state"`
	}
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatalf("decode delivery status %s: %v", body, err)
	}
	return st.State
}

// deliveredLines returns the value of the delivered-lines counter.
func deliveredLines(t *testing.T, m *metrics.Metrics) float64 {
	t.Helper()
	families, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() == "userevents_delivery_lines_total" {
			return f.GetMetric()[0].GetCounter().GetValue()
		}
	}
	t.Fatal("userevents_delivery_lines_total not registered")
	return 0
}

// assertAllDelivered checks that each id is in the remote stream.
func (p *pair) assertAllDelivered(t *testing.T, ids []string) {
	t.Helper()
	got := p.remoteEventIDs(t)
	if len(got) != len(ids) {
		t.Errorf("remote stream holds %d distinct events, want %d", len(got), len(ids))
	}
	for _, id := range ids {
		if got[id] == 0 {
			t.Errorf("event %s missing from the remote stream", id)
		}
	}
}

func TestRemoteStopInBackoffKeepsEvents(t *testing.T) {
	p := newPair(t)
	p.proxy.down.Store(true)
	p.enable(t)
	ids := p.post(t, "outage", 10, time.Now())

	// A backoff long enough for the paused state to be seen.
	stop := p.start(t, func(w *export.Worker) {
		w.MinBackoff, w.MaxBackoff = 300*time.Millisecond, time.Second
		w.Concurrency = 2
	})
	deadline := time.Now().Add(10 * time.Second)
	for p.deliveryState(t) != "paused" {
		if time.Now().After(deadline) {
			t.Fatal("delivery never reached the paused state")
		}
		time.Sleep(10 * time.Millisecond)
	}
	stop()

	st, err := p.local.Store.FindDeliveryStats(context.Background(), uetest.ProjectID)
	if err != nil {
		t.Fatal(err)
	}
	if st.Pending != 10 {
		t.Fatalf("pending after stop = %d, want all 10 kept", st.Pending)
	}
	if st.Delivered != 0 {
		t.Errorf("delivered after stop = %d, want 0", st.Delivered)
	}

	p.proxy.down.Store(false)
	m := metrics.New()
	p.start(t, func(w *export.Worker) { w.Metrics = m })
	p.waitStats(t, func(s *userevents.DeliveryStats) bool { return s.Delivered == 10 && s.Pending == 0 })
	p.assertAllDelivered(t, ids)
	if got := deliveredLines(t, m); got != 10 {
		t.Errorf("delivered-lines counter = %v, want 10", got)
	}
}

func TestRemoteMaxAttemptsDeadLettersThenRetry(t *testing.T) {
	p := newPair(t)
	p.proxy.down.Store(true)
	p.enable(t)
	ids := p.post(t, "noretry", 10, time.Now())

	stop := p.start(t, func(w *export.Worker) { w.MaxAttempts = 1 })
	st := p.waitStats(t, func(s *userevents.DeliveryStats) bool { return s.DeadLetters == 10 })
	if st.Pending != 0 {
		t.Errorf("pending = %d, want 0", st.Pending)
	}
	if st.Failed != 10 {
		t.Errorf("failed attempts = %d, want 1 for each of the 10 events", st.Failed)
	}
	status, body := uetest.Do(t, http.MethodGet, p.local.WorkspaceURL,
		"/v2/"+uetest.ProjectID+"/user-events/dead-letters", map[string]string{"limit": "100"}, "")
	if status != 200 || !strings.Contains(body, `"count":10`) {
		t.Errorf("dead letters = %d %s, want count 10", status, body)
	}
	if !strings.Contains(body, "gave up after 1 attempt: LTS returned 503") {
		t.Errorf("dead letters do not give the attempts and the last error: %s", body)
	}
	stop()
	if got := len(p.remoteEventIDs(t)); got != 0 {
		t.Errorf("remote stream holds %d events while it answered 503", got)
	}

	// After a restart with the stream back, a retry of the dead letters
	// delivers every event.
	p.proxy.down.Store(false)
	m := metrics.New()
	p.start(t, func(w *export.Worker) { w.MaxAttempts, w.Metrics = 1, m })
	status, body = uetest.Do(t, http.MethodPost, p.local.WorkspaceURL,
		"/v2/"+uetest.ProjectID+"/user-events/dead-letters/retry", nil, `{"target":"original"}`)
	if status != 200 || body != `{"count":10}` {
		t.Fatalf("retry dead letters = %d %s, want count 10", status, body)
	}
	p.waitStats(t, func(s *userevents.DeliveryStats) bool {
		return s.Delivered == 10 && s.Pending == 0 && s.DeadLetters == 0
	})
	p.assertAllDelivered(t, ids)
	if got := deliveredLines(t, m); got != 10 {
		t.Errorf("delivered-lines counter = %v, want 10", got)
	}
}
