package http_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/userevents/userevents/uetest"
)

func TestMetricsEndpoint(t *testing.T) {
	env := uetest.Start(t, uetest.Options{})
	groupID, streamID := createLogTarget(t, env, "metrics")
	enableDelivery(t, env, groupID, streamID)
	now := time.Now().UTC().Format(time.RFC3339)
	postEvents(t, env, []testEvent{
		{EventID: "m1", Username: "u", EventType: "LOGIN", EventTime: now},
		{EventID: "m2", Username: "u", EventType: "LOGOUT", EventTime: now},
	})
	waitForLines(t, env, groupID, streamID, 2)
	if resp, err := http.Get(env.WorkspaceURL + eventsPath); err == nil {
		resp.Body.Close()
	}

	resp, err := http.Get(env.WorkspaceURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	text := string(body)
	for _, want := range []string{
		`userevents_http_requests_total{code="200",listener="workspace",method="POST",route="/v2/{project_id}/user-events"} 1`,
		`userevents_events_accepted_total 2`,
		`userevents_delivery_lines_total 2`,
		`userevents_auth_failures_total{reason="unauthenticated"} 1`,
		`userevents_http_request_duration_seconds_bucket{listener="lts"`,
		`userevents_delivery_queue_depth 0`,
		`userevents_delivery_oldest_pending_age_seconds 0`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	for _, secret := range []string{uetest.AccessKey, uetest.ProjectID, "u-alice"} {
		if strings.Contains(text, secret) {
			t.Errorf("metrics contain %q", secret)
		}
	}
}
