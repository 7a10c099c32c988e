package main_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// outageProxy forwards to a remote LTS. While down is set, it responds to
// every ingestion request with 503.
type outageProxy struct {
	down  atomic.Bool
	proxy *httputil.ReverseProxy
}

func (p *outageProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if p.down.Load() && strings.Contains(r.URL.Path, "/tenant/contents") {
		http.Error(w, `{"errorCode":"SVCSTG.ALS.503.503","errorMessage":"service unavailable"}`, 503)
		return
	}
	p.proxy.ServeHTTP(w, r)
}

// deliveryStatus is the part of the delivery-status response the tests
// read.
type deliveryStatus struct {
	State       string `json:"state"`
	Pending     int    `json:"pending"`
	Delivered   int64  `json:"delivered"`
	DeadLetters int    `json:"dead_letters"`
	LastError   string `json:"last_error"`
}

// callAPI sends a signed request to the Workspace listener and returns
// the status and body.
func callAPI(s *server, method, path, body string) (int, string, error) {
	req, err := signedRequest(method, s.workspaceURL, "/v2/"+testProjectID+path, nil, body)
	if err != nil {
		return 0, "", err
	}
	resp, err := intakeClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	var b strings.Builder
	_, err = bufio.NewReader(resp.Body).WriteTo(&b)
	return resp.StatusCode, b.String(), err
}

func fetchDeliveryStatus(s *server) (deliveryStatus, error) {
	var st deliveryStatus
	status, body, err := callAPI(s, http.MethodGet, "/user-events/delivery-status", "")
	if err != nil {
		return st, err
	}
	if status != http.StatusOK {
		return st, fmt.Errorf("delivery status: %d %s", status, body)
	}
	return st, json.Unmarshal([]byte(body), &st)
}

// metricValue returns the value of an unlabelled metric from the server's
// /metrics.
func metricValue(s *server, name string) (string, error) {
	resp, err := probeClient.Get(s.workspaceURL + "/metrics")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if value, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			return value, nil
		}
	}
	if err := sc.Err(); err != nil {
		return "", err
	}
	return "", fmt.Errorf("metric %s not found", name)
}

// TestSigtermDuringOutageKeepsEvents stops the server with SIGTERM while
// the remote LTS returns 503, then restarts it with the LTS back, and
// checks that every event reaches the remote stream. With retries, the
// events wait in the outbox. With one attempt allowed, they wait in the
// dead letters until an operator retries them.
func TestSigtermDuringOutageKeepsEvents(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		maxAttempts string
		stopWhen    func(deliveryStatus) bool
	}{
		{"retries", "0", func(s deliveryStatus) bool { return s.State == "paused" && s.Pending == 10 }},
		{"one attempt", "1", func(s deliveryStatus) bool { return s.DeadLetters == 10 && s.Pending == 0 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			remote := startServer(t, filepath.Join(t.TempDir(), "remote"), identityEnv())
			groupID, streamID := createLogStream(t, remote, "outage")
			target, err := url.Parse(remote.ltsURL)
			if err != nil {
				t.Fatal(err)
			}
			proxy := &outageProxy{proxy: httputil.NewSingleHostReverseProxy(target)}
			proxy.down.Store(true)
			ps := httptest.NewServer(proxy)
			t.Cleanup(ps.Close)

			env := []string{
				"USEREVENTS_REMOTE_LTS_ENDPOINT=" + ps.URL,
				"USEREVENTS_REMOTE_LTS_ACCESS_KEY=" + testAccessKey,
				"USEREVENTS_REMOTE_LTS_SECRET_KEY=" + testSecretKey,
				"USEREVENTS_DELIVERY_MAX_ATTEMPTS=" + tc.maxAttempts,
			}
			dataDir := filepath.Join(t.TempDir(), "local")
			local := startServer(t, dataDir, append(identityEnv(), env...))
			enableDelivery(t, local, groupID, streamID)

			at := time.Now().UTC().Truncate(time.Second)
			ids := make([]string, 10)
			want := map[string]bool{}
			for i := range ids {
				ids[i] = fmt.Sprintf("outage-%02d", i)
				want[ids[i]] = true
			}
			status, body, err := postEvents(t.Context(), local.workspaceURL, intakeBody(ids, at))
			if err != nil || status != http.StatusOK {
				t.Fatalf("intake: %d %s %v", status, body, err)
			}
			eventually(t, 10*time.Second, func() error {
				st, err := fetchDeliveryStatus(local)
				if err == nil && !tc.stopWhen(st) {
					err = fmt.Errorf("delivery status %+v, not yet the state to stop in", st)
				}
				return err
			})

			if err := local.cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			if code := local.waitExit(t, 15*time.Second); code != 0 {
				t.Fatalf("exit code after SIGTERM = %d, want 0", code)
			}

			proxy.down.Store(false)
			local = startServer(t, dataDir, env)
			if tc.maxAttempts != "0" {
				status, body, err := callAPI(local, http.MethodPost, "/user-events/dead-letters/retry",
					`{"target":"original"}`)
				if err != nil || status != http.StatusOK || body != `{"count":10}` {
					t.Fatalf("retry dead letters: %d %s %v, want count 10", status, body, err)
				}
			}
			eventually(t, 15*time.Second, func() error {
				st, err := fetchDeliveryStatus(local)
				if err == nil && (st.Delivered != 10 || st.Pending != 0 || st.DeadLetters != 0) {
					err = fmt.Errorf("delivery status %+v, want 10 delivered and nothing left", st)
				}
				return err
			})
			from, to := at.Add(-time.Minute), at.Add(time.Minute)
			got := streamEventIDs(t, remote, groupID, streamID, from, to)
			if missing := missingIDs(want, got); len(missing) > 0 {
				t.Errorf("events missing from the remote stream: %v", missing)
			}
			if v, err := metricValue(local, "userevents_delivery_lines_total"); err != nil || v != "10" {
				t.Errorf("userevents_delivery_lines_total after restart = %q %v, want 10", v, err)
			}
			if v, err := metricValue(local, "userevents_delivery_queue_depth"); err != nil || v != "0" {
				t.Errorf("userevents_delivery_queue_depth = %q %v, want 0", v, err)
			}
		})
	}
}

func TestDeliveryFlagsValidated(t *testing.T) {
	t.Parallel()
	p := startProcess(t, t.TempDir(), []string{"USEREVENTS_DELIVERY_BATCH_SIZE=many"}, "config", "check",
		"--delivery-concurrency", "0", "--delivery-max-request-bytes", "-1", "--delivery-max-attempts", "-2")
	if code := p.waitExit(t, 10*time.Second); code == 0 {
		t.Fatal("config check accepted invalid delivery settings")
	}
	out := p.stderr.String()
	for _, want := range []string{
		`USEREVENTS_DELIVERY_BATCH_SIZE "many" is not an integer`,
		"--delivery-concurrency 0 is invalid",
		"--delivery-max-request-bytes -1 is invalid",
		"--delivery-max-attempts -2 is negative",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("config check output lacks %q:\n%s", want, out)
		}
	}
}
