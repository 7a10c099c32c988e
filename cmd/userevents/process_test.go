package main_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/basic"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/region"
	workspace "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/workspace/v2"
	wsmodel "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/workspace/v2/model"
)

// intakeEvent is one event of an intake request body.
type intakeEvent struct {
	EventID   string `json:"event_id"`
	Username  string `json:"username"`
	EventType string `json:"event_type"`
	EventTime string `json:"event_time"`
}

// intakeBody returns an intake request body with one LOGIN event per id,
// all at the time at.
func intakeBody(ids []string, at time.Time) string {
	items := make([]intakeEvent, len(ids))
	for i, id := range ids {
		items[i] = intakeEvent{EventID: id, Username: "u-alice", EventType: "LOGIN", EventTime: at.Format(time.RFC3339)}
	}
	body, _ := json.Marshal(map[string]any{"items": items})
	return string(body)
}

// enableDelivery points the project's user-event delivery at the stream.
func enableDelivery(t *testing.T, s *server, groupID, streamID string) {
	t.Helper()
	_, err := s.workspaceClient(t).SetUserEventsLtsConfigurations(&wsmodel.SetUserEventsLtsConfigurationsRequest{
		Body: &wsmodel.SetUserEventsLtsConfigurationsRequestBody{
			Enable: true, LogGroupId: &groupID, LogStreamId: &streamID,
		},
	})
	if err != nil {
		t.Fatalf("enable delivery: %v", err)
	}
}

// countEvents returns ListUserEvents' count for the window [from, to].
func countEvents(t *testing.T, s *server, from, to time.Time) int {
	t.Helper()
	limit := int32(0)
	resp, err := s.workspaceClient(t).ListUserEvents(&wsmodel.ListUserEventsRequest{
		StartTime: from.Format(time.RFC3339), EndTime: to.Format(time.RFC3339), Limit: &limit,
	})
	if err != nil {
		t.Fatalf("list user events: %v", err)
	}
	return int(*resp.Count)
}

// missingIDs returns the ids of want that got lacks.
func missingIDs(want map[string]bool, got map[string]int) []string {
	var missing []string
	for id := range want {
		if got[id] == 0 {
			missing = append(missing, id)
		}
	}
	return missing
}

func TestStartProbesAndIdentity(t *testing.T) {
	t.Parallel()
	dataDir := filepath.Join(t.TempDir(), "data")
	s := startServer(t, dataDir, nil)

	for _, base := range []string{s.workspaceURL, s.ltsURL, s.iamURL} {
		for _, path := range []string{"/livez", "/readyz"} {
			status, err := probe(base + path)
			if err != nil {
				t.Fatalf("GET %s%s: %v", base, path, err)
			}
			if status != http.StatusOK {
				t.Errorf("GET %s%s: status %d, want 200", base, path, status)
			}
		}
	}

	credsPath := filepath.Join(dataDir, "credentials.json")
	info, err := os.Stat(credsPath)
	if err != nil {
		t.Fatalf("credentials file after first start: %v", err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Errorf("credentials file mode = %o, want 600", perm)
	}
	raw, err := os.ReadFile(credsPath)
	if err != nil {
		t.Fatal(err)
	}
	var creds struct {
		Region       string `json:"region"`
		ProjectID    string `json:"project_id"`
		AccessKey    string `json:"access_key"`
		SecretKey    string `json:"secret_key"`
		RootPassword string `json:"root_password"`
	}
	if err := json.Unmarshal(raw, &creds); err != nil {
		t.Fatalf("decode credentials file: %v\n%s", err, raw)
	}
	if creds.Region != testRegion {
		t.Errorf("credentials region = %q, want %q", creds.Region, testRegion)
	}
	if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(creds.ProjectID) {
		t.Errorf("generated project id %q is not 32 lower-case hex characters", creds.ProjectID)
	}
	if !regexp.MustCompile(`^[A-Z0-9]{20}$`).MatchString(creds.AccessKey) {
		t.Errorf("generated access key %q is not 20 upper-case letters and digits", creds.AccessKey)
	}
	if creds.SecretKey == "" || creds.RootPassword == "" {
		t.Errorf("credentials file lacks a generated secret key or root password:\n%s", raw)
	}
	if !strings.Contains(s.stdout.String(), creds.AccessKey) {
		t.Errorf("first start did not print the generated identity. stdout:\n%s", s.stdout)
	}

	// The SDK looks the project id up by region name on the IAM listener
	// when the credentials carry none.
	auth := basic.NewCredentialsBuilder().
		WithAk(creds.AccessKey).WithSk(creds.SecretKey).WithIamEndpointOverride(s.iamURL).Build()
	hc, err := workspace.WorkspaceClientBuilder().
		WithRegion(region.NewRegion(testRegion, s.workspaceURL)).WithCredential(auth).SafeBuild()
	if err != nil {
		t.Fatalf("build workspace client with region lookup: %v", err)
	}
	if auth.ProjectId != creds.ProjectID {
		t.Errorf("SDK project id lookup found %q, want %q", auth.ProjectId, creds.ProjectID)
	}
	cfg, err := workspace.NewWorkspaceClient(hc).ListUserEventsLtsConfigurations(
		&wsmodel.ListUserEventsLtsConfigurationsRequest{})
	if err != nil {
		t.Fatalf("ListUserEventsLtsConfigurations with the generated key: %v", err)
	}
	if cfg.Enable == nil || *cfg.Enable {
		t.Errorf("LTS configuration before any: enable = %v, want false", cfg.Enable)
	}

	s.cmd.Process.Signal(syscall.SIGTERM)
	if code := s.waitExit(t, 15*time.Second); code != 0 {
		t.Fatalf("first run exit code = %d, want 0", code)
	}

	// Back-date the file, so that a rewrite on the second start shows in
	// its modification time even when it writes the same bytes.
	old := time.Now().Add(-time.Hour).Truncate(time.Second)
	if err := os.Chtimes(credsPath, old, old); err != nil {
		t.Fatal(err)
	}
	s = startServer(t, dataDir, nil)
	info, err = os.Stat(credsPath)
	if err != nil {
		t.Fatalf("credentials file after second start: %v", err)
	}
	if !info.ModTime().Equal(old) {
		t.Errorf("second start rewrote the credentials file (modified %s)", info.ModTime())
	}
	if again, _ := os.ReadFile(credsPath); string(again) != string(raw) {
		t.Errorf("credentials file changed on second start:\n%s", again)
	}
	if strings.Contains(s.stdout.String(), creds.SecretKey) {
		t.Errorf("second start printed the secret key again. stdout:\n%s", s.stdout)
	}

	// The stored secret key still verifies signatures after the restart.
	auth = basic.NewCredentialsBuilder().
		WithAk(creds.AccessKey).WithSk(creds.SecretKey).WithProjectId(creds.ProjectID).Build()
	hc, err = workspace.WorkspaceClientBuilder().
		WithEndpoints([]string{s.workspaceURL}).WithCredential(auth).SafeBuild()
	if err != nil {
		t.Fatal(err)
	}
	_, err = workspace.NewWorkspaceClient(hc).ListUserEventsLtsConfigurations(
		&wsmodel.ListUserEventsLtsConfigurationsRequest{})
	if err != nil {
		t.Errorf("ListUserEventsLtsConfigurations after restart: %v", err)
	}
}

func TestSigtermDrainsAndStops(t *testing.T) {
	t.Parallel()
	dataDir := filepath.Join(t.TempDir(), "data")
	s := startServer(t, dataDir, identityEnv())

	// An intake request whose body is still arriving when SIGTERM comes.
	// The body is far larger than the client's write buffer, so its first
	// part reaches the server before the signal.
	at := time.Now().UTC().Truncate(time.Second)
	ids := make([]string, 1000)
	for i := range ids {
		ids[i] = fmt.Sprintf("drain-%04d", i)
	}
	body := intakeBody(ids, at)
	req, err := signedRequest(http.MethodPost, s.workspaceURL, "/v2/"+testProjectID+"/user-events", nil, body)
	if err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	req.Body, req.GetBody = pr, nil
	type result struct {
		status int
		body   string
		err    error
	}
	done := make(chan result, 1)
	go func() {
		resp, err := intakeClient.Do(req)
		if err != nil {
			done <- result{err: err}
			return
		}
		defer resp.Body.Close()
		data, err := io.ReadAll(resp.Body)
		done <- result{status: resp.StatusCode, body: string(data), err: err}
	}()

	split := len(body) - 100
	if _, err := pw.Write([]byte(body[:split])); err != nil {
		t.Fatalf("send first part of the body: %v", err)
	}
	time.Sleep(200 * time.Millisecond)
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if !s.running() {
		t.Fatalf("userevents exited with code %d while a request was in flight", s.state.ExitCode())
	}
	if _, err := pw.Write([]byte(body[split:])); err != nil {
		t.Fatalf("send rest of the body: %v", err)
	}
	pw.Close()

	r := <-done
	if r.err != nil {
		t.Fatalf("in-flight intake request: %v", r.err)
	}
	if r.status != http.StatusOK {
		t.Errorf("in-flight intake request: status %d, want 200: %s", r.status, r.body)
	}
	if code := s.waitExit(t, 15*time.Second); code != 0 {
		t.Errorf("exit code after SIGTERM = %d, want 0", code)
	}
	logs := s.stderr.String()
	for _, msg := range []string{"msg=stopping", "msg=stopped"} {
		if !strings.Contains(logs, msg) {
			t.Errorf("log lacks %s:\n%s", msg, logs)
		}
	}

	s = startServer(t, dataDir, nil)
	if n := countEvents(t, s, at.Add(-time.Minute), at.Add(time.Minute)); n != len(ids) {
		t.Errorf("after restart: ListUserEvents count = %d, want %d", n, len(ids))
	}
}

func TestSigkillAfterAckLosesNothing(t *testing.T) {
	t.Parallel()
	dataDir := filepath.Join(t.TempDir(), "data")
	s := startServer(t, dataDir, identityEnv())
	groupID, streamID := createLogStream(t, s, "durability")
	enableDelivery(t, s, groupID, streamID)

	at := time.Now().UTC().Truncate(time.Second)
	want := map[string]bool{}
	for i := range 100 {
		id := fmt.Sprintf("ack-%03d", i)
		status, resp, err := postEvents(context.Background(), s.workspaceURL, intakeBody([]string{id}, at))
		if err != nil {
			t.Fatalf("intake %s: %v", id, err)
		}
		if status != http.StatusOK {
			t.Fatalf("intake %s: status %d: %s", id, status, resp)
		}
		want[id] = true
	}
	s.kill()

	s = startServer(t, dataDir, nil)
	if n := countEvents(t, s, at.Add(-time.Minute), at.Add(time.Minute)); n != len(want) {
		t.Errorf("after SIGKILL: ListUserEvents count = %d, want %d", n, len(want))
	}

	var got map[string]int
	eventually(t, 30*time.Second, func() error {
		got = streamEventIDs(t, s, groupID, streamID, at.Add(-time.Hour), at.Add(time.Hour))
		if missing := missingIDs(want, got); len(missing) > 0 {
			return fmt.Errorf("%d of %d acknowledged events not in the stream, such as %s",
				len(missing), len(want), missing[0])
		}
		return nil
	})
	for id := range got {
		if !want[id] {
			t.Errorf("stream holds event %s that was never posted", id)
		}
	}
}

func TestSigkillLoopKeepsAcknowledgedEvents(t *testing.T) {
	t.Parallel()
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 0))
	t.Logf("random seed %d", seed)

	const (
		rounds    = 8
		posters   = 4
		batchSize = 20
	)
	dataDir := filepath.Join(t.TempDir(), "data")
	s := startServer(t, dataDir, identityEnv())
	groupID, streamID := createLogStream(t, s, "kill-loop")
	enableDelivery(t, s, groupID, streamID)

	at := time.Now().UTC().Truncate(time.Second)
	var (
		mu         sync.Mutex
		next       int
		acked      = map[string]bool{} // stored: the request got a 200
		unanswered = map[string]bool{} // unknown: the request got no response
		rejected   []string            // any other status, which should not happen
	)
	nextBatch := func() []string {
		mu.Lock()
		defer mu.Unlock()
		ids := make([]string, batchSize)
		for i := range ids {
			ids[i] = fmt.Sprintf("loop-%06d", next)
			next++
		}
		return ids
	}
	record := func(ids []string, status int, resp string, err error) {
		mu.Lock()
		defer mu.Unlock()
		for _, id := range ids {
			switch {
			case err != nil:
				unanswered[id] = true
			case status == http.StatusOK:
				acked[id] = true
			}
		}
		if err == nil && status != http.StatusOK {
			rejected = append(rejected, fmt.Sprintf("status %d: %s", status, resp))
		}
	}

	for round := range rounds {
		if round > 0 {
			s = startServer(t, dataDir, nil)
		}
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for range posters {
			url := s.workspaceURL
			wg.Go(func() {
				// A request without a response means the server is gone,
				// so the poster stops instead of counting refused
				// connections as unanswered events.
				for ctx.Err() == nil {
					ids := nextBatch()
					status, resp, err := postEvents(ctx, url, intakeBody(ids, at))
					record(ids, status, resp, err)
					if err != nil {
						return
					}
				}
			})
		}
		time.Sleep(time.Duration(100+rng.IntN(501)) * time.Millisecond)
		s.kill()
		cancel()
		wg.Wait()
	}

	if len(rejected) > 0 {
		t.Errorf("%d intake requests got an error status, such as %s", len(rejected), rejected[0])
	}
	if len(acked) == 0 {
		t.Fatal("no intake request was acknowledged, so the loop tested nothing")
	}
	t.Logf("%d events acknowledged, %d without a response, over %d SIGKILLs",
		len(acked), len(unanswered), rounds)

	s = startServer(t, dataDir, nil)
	n := countEvents(t, s, at.Add(-time.Minute), at.Add(time.Minute))
	if n < len(acked) || n > len(acked)+len(unanswered) {
		t.Errorf("ListUserEvents count = %d, want %d acknowledged plus at most %d unanswered",
			n, len(acked), len(unanswered))
	}

	var got map[string]int
	eventually(t, 30*time.Second, func() error {
		got = streamEventIDs(t, s, groupID, streamID, at.Add(-time.Hour), at.Add(time.Hour))
		if missing := missingIDs(acked, got); len(missing) > 0 {
			return fmt.Errorf("%d of %d acknowledged events not in the stream, such as %s",
				len(missing), len(acked), missing[0])
		}
		return nil
	})
	for id := range got {
		if !acked[id] && !unanswered[id] {
			t.Errorf("stream holds event %s, whose request was rejected or never sent", id)
		}
	}
}

func TestTakenPortFailsStart(t *testing.T) {
	t.Parallel()
	for _, flag := range []string{"--workspace-addr", "--lts-addr", "--iam-addr"} {
		t.Run(flag, func(t *testing.T) {
			t.Parallel()
			occupied, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer occupied.Close()
			addrs := freeAddrs(t, 3)
			flags := map[string]string{"--workspace-addr": addrs[0], "--lts-addr": addrs[1], "--iam-addr": addrs[2]}
			flags[flag] = occupied.Addr().String()

			args := []string{"serve", "--data", filepath.Join(t.TempDir(), "data")}
			for name, addr := range flags {
				args = append(args, name, addr)
			}
			// The limit leaves room for the first start's bcrypt hash of the
			// root password, which is slow in a binary built with -race.
			start := time.Now()
			p := startProcess(t, t.TempDir(), identityEnv(), args...)
			code := p.waitExit(t, 20*time.Second)
			if elapsed := time.Since(start); elapsed > 10*time.Second {
				t.Errorf("start with an occupied port took %s to fail", elapsed)
			}
			if code == 0 {
				t.Errorf("exit code = 0, want non-zero")
			}
			stderr := p.stderr.String()
			want := "listen on " + occupied.Addr().String()
			if !strings.Contains(stderr, want) || !strings.Contains(stderr, "address already in use") {
				t.Errorf("stderr does not report %q with \"address already in use\":\n%s", want, stderr)
			}
		})
	}
}

func TestInvalidFlagsReportedTogether(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := startProcess(t, dir, nil, "serve", "--log-format", "xml", "--workspace-addr", "nope")
	if code := p.waitExit(t, 10*time.Second); code == 0 {
		t.Errorf("exit code = 0, want non-zero")
	}
	stderr := p.stderr.String()
	for _, want := range []string{`--log-format "xml"`, `--workspace-addr "nope"`} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr does not report %s:\n%s", want, stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "userevents-data")); err == nil {
		t.Errorf("an invalid configuration still created the default data directory")
	}
}
