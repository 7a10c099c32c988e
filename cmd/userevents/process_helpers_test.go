package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/basic"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/signer"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/request"
	lts "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/lts/v2"
	ltsmodel "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/lts/v2/model"
	workspace "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/workspace/v2"
)

// Test identity, given to the server through its environment on first
// start so that the test can sign requests.
const (
	testRegion    = "cn-north-4"
	testProjectID = "0123456789abcdef0123456789abcdef"
	testAccessKey = "AKTESTEXAMPLE00000001"
	testSecretKey = "sk-test-000"
)

// binary is the userevents executable that TestMain builds for this run.
var binary string

// buildFlags are extra go build flags. process_race_test.go adds -race when
// the tests run with the race detector.
var buildFlags []string

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "userevents-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "create temporary directory:", err)
		return 1
	}
	defer os.RemoveAll(dir)

	binary = filepath.Join(dir, "userevents")
	args := append([]string{"build", "-o", binary}, buildFlags...)
	build := exec.Command("go", append(args, ".")...)
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build userevents:", err)
		return 1
	}

	// The SDK writes an application id file under $HOME/.huaweicloud. HOME
	// changes only after the build, which finds its caches through it.
	home := filepath.Join(dir, "home")
	if err := os.Mkdir(home, 0o700); err != nil {
		fmt.Fprintln(os.Stderr, "create home directory:", err)
		return 1
	}
	os.Setenv("HOME", home)
	return m.Run()
}

// lockedBuffer collects a child process's output while tests read it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// process is one run of the userevents binary.
type process struct {
	cmd    *exec.Cmd
	stdout *lockedBuffer
	stderr *lockedBuffer
	exited chan struct{} // closed once Wait returned
	state  *os.ProcessState
}

// startProcess runs the binary with args in dir and an environment that
// contains only PATH, HOME and env. The process is killed when the test
// ends, and its output is logged when the test failed.
func startProcess(t *testing.T, dir string, env []string, args ...string) *process {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}, env...)
	p := &process{cmd: cmd, stdout: &lockedBuffer{}, stderr: &lockedBuffer{}, exited: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.stdout, p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start userevents: %v", err)
	}
	go func() {
		_ = cmd.Wait()
		p.state = cmd.ProcessState
		close(p.exited)
	}()
	t.Cleanup(func() {
		p.kill()
		if strings.Contains(p.stderr.String(), "WARNING: DATA RACE") {
			t.Errorf("the race detector reported a data race in userevents (pid %d)", cmd.Process.Pid)
		}
		if t.Failed() {
			t.Logf("userevents %s (pid %d) stderr:\n%s", strings.Join(args, " "), cmd.Process.Pid, p.stderr)
		}
	})
	return p
}

// running reports whether the process has not exited yet.
func (p *process) running() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// kill sends SIGKILL and waits for the process to exit.
func (p *process) kill() {
	if p.running() {
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
	}
	<-p.exited
}

// waitExit waits for the process to exit and returns its exit code, or
// fails the test when it is still running after timeout.
func (p *process) waitExit(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case <-p.exited:
		return p.state.ExitCode()
	case <-time.After(timeout):
		t.Fatalf("userevents still running %s after it should have stopped", timeout)
		return 0
	}
}

// server is a userevents serve process with its three listeners.
type server struct {
	*process
	dataDir      string
	workspaceURL string
	ltsURL       string
	iamURL       string
}

// identityEnv is the environment that makes the first start create the
// test identity.
func identityEnv() []string {
	return []string{
		"USEREVENTS_PROJECT_ID=" + testProjectID,
		"USEREVENTS_ACCESS_KEY=" + testAccessKey,
		"USEREVENTS_SECRET_KEY=" + testSecretKey,
	}
}

// startServer runs userevents serve on dataDir with env and waits until
// the Workspace listener's /readyz returns 200. The ports are chosen free
// just before the start, so another program may take one in between. When
// that happens, the start is retried on new ports.
func startServer(t *testing.T, dataDir string, env []string) *server {
	t.Helper()
	for attempt := 1; ; attempt++ {
		addrs := freeAddrs(t, 3)
		s := &server{
			dataDir:      dataDir,
			workspaceURL: "http://" + addrs[0],
			ltsURL:       "http://" + addrs[1],
			iamURL:       "http://" + addrs[2],
		}
		s.process = startProcess(t, t.TempDir(), env, "serve", "--data", dataDir,
			"--workspace-addr", addrs[0], "--lts-addr", addrs[1], "--iam-addr", addrs[2])
		err := s.waitReady(30 * time.Second)
		if err == nil {
			return s
		}
		s.kill()
		if attempt < 3 && strings.Contains(s.stderr.String(), "address already in use") {
			continue
		}
		t.Fatalf("start userevents: %v\nstderr:\n%s", err, s.stderr)
	}
}

// waitReady polls the Workspace listener's /readyz until it returns 200.
func (s *server) waitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		if !s.running() {
			return fmt.Errorf("userevents exited with code %d before it was ready", s.state.ExitCode())
		}
		if status, err := probe(s.workspaceURL + "/readyz"); err == nil && status == http.StatusOK {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("/readyz did not return 200 within %s", timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// freeAddrs returns n loopback addresses whose ports were free a moment ago.
func freeAddrs(t *testing.T, n int) []string {
	t.Helper()
	addrs := make([]string, n)
	for i := range addrs {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("find a free port: %v", err)
		}
		addrs[i] = l.Addr().String()
		defer l.Close()
	}
	return addrs
}

var probeClient = &http.Client{Timeout: 5 * time.Second}

// probe sends an unauthenticated GET and returns the status.
func probe(url string) (int, error) {
	resp, err := probeClient.Get(url)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

// sdkCredentials returns the test identity's SDK credentials.
func sdkCredentials() *basic.Credentials {
	return basic.NewCredentialsBuilder().
		WithAk(testAccessKey).WithSk(testSecretKey).WithProjectId(testProjectID).Build()
}

func (s *server) workspaceClient(t *testing.T) *workspace.WorkspaceClient {
	t.Helper()
	hc, err := workspace.WorkspaceClientBuilder().
		WithEndpoints([]string{s.workspaceURL}).WithCredential(sdkCredentials()).SafeBuild()
	if err != nil {
		t.Fatalf("build workspace client: %v", err)
	}
	return workspace.NewWorkspaceClient(hc)
}

func (s *server) ltsClient(t *testing.T) *lts.LtsClient {
	t.Helper()
	hc, err := lts.LtsClientBuilder().
		WithEndpoints([]string{s.ltsURL}).WithCredential(sdkCredentials()).SafeBuild()
	if err != nil {
		t.Fatalf("build lts client: %v", err)
	}
	return lts.NewLtsClient(hc)
}

// intakeClient sends intake requests. Its timeout only bounds a request to
// a server that stopped responding.
var intakeClient = &http.Client{Timeout: 30 * time.Second}

// postEvents signs an intake request with the SDK's signer and the test
// identity, sends it and returns the status and body. An error means no
// response arrived, so the events may or may not be stored.
func postEvents(ctx context.Context, workspaceURL, body string) (int, string, error) {
	req, err := signedRequest(http.MethodPost, workspaceURL, "/v2/"+testProjectID+"/user-events", nil, body)
	if err != nil {
		return 0, "", err
	}
	resp, err := intakeClient.Do(req.WithContext(ctx))
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, "", fmt.Errorf("read intake response: %w", err)
	}
	return resp.StatusCode, string(data), nil
}

// signedRequest builds a request signed by the SDK's SDK-HMAC-SHA256
// signer with the test identity, the way the SDK itself signs, for calls
// the SDK has no method for.
func signedRequest(method, endpoint, path string, query map[string]string, body string) (*http.Request, error) {
	b := request.NewHttpRequestBuilder().
		WithEndpoint(endpoint).
		WithPath(path).
		WithMethod(method).
		AddHeaderParam("Content-Type", "application/json").
		AddHeaderParam("X-Project-Id", testProjectID)
	for k, v := range query {
		// The SDK request keeps query values as reflect.Value and drops
		// anything else when it builds the URL.
		b.AddQueryParam(k, reflect.ValueOf(v))
	}
	if body != "" {
		b.WithBody("application/json", body)
	}
	req := b.Build()
	headers, err := signer.Sign(req, testAccessKey, testSecretKey)
	if err != nil {
		return nil, fmt.Errorf("sign request: %w", err)
	}
	for k, v := range headers {
		req.AddHeaderParam(k, v)
	}
	return req.ConvertRequest()
}

// createLogStream creates a log group and a stream in it through the SDK
// and returns their ids.
func createLogStream(t *testing.T, s *server, name string) (groupID, streamID string) {
	t.Helper()
	client := s.ltsClient(t)
	g, err := client.CreateLogGroup(&ltsmodel.CreateLogGroupRequest{
		Body: &ltsmodel.CreateLogGroupParams{LogGroupName: name, TtlInDays: 7},
	})
	if err != nil {
		t.Fatalf("create log group: %v", err)
	}
	st, err := client.CreateLogStream(&ltsmodel.CreateLogStreamRequest{
		LogGroupId: *g.LogGroupId,
		Body:       &ltsmodel.CreateLogStreamParams{LogStreamName: name + "-stream"},
	})
	if err != nil {
		t.Fatalf("create log stream: %v", err)
	}
	return *g.LogGroupId, *st.LogStreamId
}

// streamEventIDs reads every line of the stream whose log time lies in
// [from, to] through ListLogs, following line_num from page to page, and
// returns how often each eventId occurs.
func streamEventIDs(t *testing.T, s *server, groupID, streamID string, from, to time.Time) map[string]int {
	t.Helper()
	client := s.ltsClient(t)
	ids := map[string]int{}
	lineNum := ""
	for {
		limit := int32(5000)
		params := &ltsmodel.QueryLtsLogParams{
			StartTime: strconv.FormatInt(from.UnixMilli(), 10),
			EndTime:   strconv.FormatInt(to.UnixMilli(), 10),
			Limit:     &limit,
		}
		if lineNum != "" {
			params.LineNum = &lineNum
		}
		resp, err := client.ListLogs(&ltsmodel.ListLogsRequest{
			LogGroupId: groupID, LogStreamId: streamID, Body: params,
		})
		if err != nil {
			t.Fatalf("list logs: %v", err)
		}
		for _, l := range *resp.Logs {
			ids[eventIDOf(t, *l.Content)]++
			lineNum = *l.LineNum
		}
		if len(*resp.Logs) < int(limit) {
			return ids
		}
	}
}

// eventIDOf returns the eventId member of a delivered log line.
func eventIDOf(t *testing.T, line string) string {
	t.Helper()
	var rec struct {
		EventID string `json:"eventId"`
	}
	if err := json.Unmarshal([]byte(line), &rec); err != nil || rec.EventID == "" {
		t.Fatalf("log line is not JSON with an eventId: %s", line)
	}
	return rec.EventID
}

// eventually calls check every 100 ms until it returns nil or timeout
// passes, and then fails the test with the last error.
func eventually(t *testing.T, timeout time.Duration, check func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %v", timeout, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
