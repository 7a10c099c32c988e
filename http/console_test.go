package http_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	iammodel "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/iam/v5/model"

	"github.com/userevents/userevents/export"
	"github.com/userevents/userevents/uetest"
)

// chromiumPath is where Debian's chromium package installs the browser.
const chromiumPath = "/usr/bin/chromium"

// screenshotPath is the README's picture of the console, relative to this
// package's directory, where go test runs.
const screenshotPath = "../docs/console.png"

func TestConsoleFilesAndHeaders(t *testing.T) {
	env := uetest.Start(t, uetest.Options{NoWorker: true})
	for _, tc := range []struct{ path, contentType string }{
		{"/console", "text/html; charset=utf-8"},
		{"/console/", "text/html; charset=utf-8"},
		{"/console/app.js", "text/javascript; charset=utf-8"},
		{"/console/app.css", "text/css; charset=utf-8"},
		{"/console/favicon.svg", "image/svg+xml"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			resp, body := consoleGet(t, env.WorkspaceURL+tc.path)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d (%s), want 200 without credentials", resp.StatusCode, body)
			}
			if got := resp.Header.Get("Content-Type"); got != tc.contentType {
				t.Errorf("Content-Type = %q, want %q", got, tc.contentType)
			}
			if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options = %q, want nosniff", got)
			}
			csp := resp.Header.Get("Content-Security-Policy")
			for _, directive := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'",
				"connect-src 'self'", "form-action 'none'", "frame-ancestors 'none'"} {
				if !strings.Contains(csp, directive+";") && !strings.HasSuffix(csp, directive) {
					t.Errorf("Content-Security-Policy %q lacks %q", csp, directive)
				}
			}
			if strings.Contains(csp, "unsafe-") {
				t.Errorf("Content-Security-Policy %q allows unsafe sources", csp)
			}
			if strings.HasSuffix(tc.path, ".svg") {
				return // its xmlns is a name, not an address the browser loads
			}
			if strings.Contains(body, "http://") || strings.Contains(body, "https://") {
				t.Errorf("%s refers to another origin", tc.path)
			}
		})
	}

	_, page := consoleGet(t, env.WorkspaceURL+"/console")
	for _, tag := range regexp.MustCompile(`<script[^>]*>`).FindAllString(page, -1) {
		if !strings.Contains(tag, ` src="/console/`) {
			t.Errorf("index.html has an inline script: %s", tag)
		}
	}
	if regexp.MustCompile(`\son[a-z]+=|\sstyle=`).MatchString(page) {
		t.Error("index.html has an inline event handler or style attribute, which the policy blocks")
	}

	resp, _ := consoleGet(t, env.WorkspaceURL+"/console/missing.js")
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown console file: status %d, want 404", resp.StatusCode)
	}
	for _, base := range []string{env.LTSURL, env.IAMURL} {
		if resp, _ := consoleGet(t, base+"/console"); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s/console: status %d, want 404 (Workspace listener only)", base, resp.StatusCode)
		}
	}
}

// consoleGet fetches a URL without credentials and returns the response
// and its body.
func consoleGet(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read %s: %v", url, err)
	}
	return resp, string(body)
}

func TestConsoleSignInOnWorkspaceListener(t *testing.T) {
	env := uetest.Start(t, uetest.Options{NoWorker: true})
	body := `{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"` + uetest.AccountName +
		`","password":"` + uetest.RootPassword + `","domain":{"name":"` + uetest.AccountName + `"}}}},` +
		`"scope":{"project":{"name":"` + uetest.Region + `"}}}}`
	resp, err := http.Post(env.WorkspaceURL+"/v3/auth/tokens", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("status %d (%s), want 201", resp.StatusCode, data)
	}
	token := resp.Header.Get("X-Subject-Token")
	if token == "" {
		t.Fatal("X-Subject-Token is missing")
	}
	var got struct {
		Token struct {
			Project struct {
				ID string `json:"id"`
			} `json:"project"`
		} `json:"token"`
	}
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	if got.Token.Project.ID != uetest.ProjectID {
		t.Errorf("token.project.id = %q, want %s", got.Token.Project.ID, uetest.ProjectID)
	}
	status, listBody := doWithToken(t, http.MethodGet, eventsURL(env), token, "")
	requireTokenStatus(t, "ListUserEvents with the console's token", status, listBody, http.StatusOK)

	// A wrong password gets the IAM listener's error, not a Workspace one.
	wrong := strings.Replace(body, uetest.RootPassword, "Wrong-password-1", 1)
	resp, err = http.Post(env.WorkspaceURL+"/v3/auth/tokens", "application/json", strings.NewReader(wrong))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ = io.ReadAll(resp.Body)
	code, _ := errorBody(t, string(data))
	if resp.StatusCode != http.StatusUnauthorized || code != "APIG.0301" {
		t.Errorf("wrong password: status %d code %q, want 401 APIG.0301", resp.StatusCode, code)
	}
}

// rejectingSink writes lines to the built-in LTS, except those of one user,
// which it rejects as no retry could fix, so that the console has a dead
// letter to show.
type rejectingSink struct {
	next     export.Sink
	username string
}

const rejectReason = "the test sink rejects this user's lines"

func (s *rejectingSink) Send(ctx context.Context, target export.Target, lines []export.Line) error {
	marker := `"username":"` + s.username + `"`
	var pass []export.Line
	var passed []int
	rejected := map[int]string{}
	for i, l := range lines {
		if strings.Contains(l.Content, marker) {
			rejected[i] = rejectReason
			continue
		}
		pass = append(pass, l)
		passed = append(passed, i)
	}
	if len(rejected) == 0 {
		return s.next.Send(ctx, target, lines)
	}
	if len(pass) > 0 {
		if err := s.next.Send(ctx, target, pass); err != nil {
			return err
		}
	}
	return &export.SendError{Delivered: passed, Rejected: rejected}
}

// requireChromium skips the test when Chromium is missing, unless
// USEREVENTS_REQUIRE_CHROMIUM=1 (as in CI) makes that a failure.
func requireChromium(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		msg := fmt.Sprintf("the console test needs Chromium at %s (%v); install it with "+
			"`apt-get install chromium`", chromiumPath, err)
		if os.Getenv("USEREVENTS_REQUIRE_CHROMIUM") == "1" {
			t.Fatal(msg + "; USEREVENTS_REQUIRE_CHROMIUM=1 makes this a failure")
		}
		t.Skip(msg)
	}
}

// browser is a headless Chromium tab driven through chromedp.
type browser struct {
	t   *testing.T
	ctx context.Context

	mu       sync.Mutex
	problems []string // exceptions and Content-Security-Policy violations
}

// startBrowser starts headless Chromium with a fresh profile directory,
// which chromedp creates and removes, and stops it when the test ends.
func startBrowser(t *testing.T) *browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(1280, 900),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}

	b := &browser{t: t, ctx: ctx}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.IsException() || strings.Contains(m.Text, "Content Security Policy") {
				b.mu.Lock()
				b.problems = append(b.problems, m.String())
				b.mu.Unlock()
			}
		}
	}()
	return b
}

// do runs steps in the tab and fails the test with the step's description.
func (b *browser) do(step string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v", step, err)
	}
}

// eval evaluates a JavaScript expression and decodes its value into T.
func eval[T any](b *browser, expression string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](expression))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", expression, err)
	}
	return v
}

// text returns the text of the element with the id.
func (b *browser) text(id string) string {
	b.t.Helper()
	return eval[string](b, "document.getElementById("+jsString(id)+").textContent")
}

// waitText waits until the text of the element with the id satisfies the
// JavaScript condition on t, and fails with the last text seen.
func (b *browser) waitText(id, condition, want string) {
	b.t.Helper()
	expr := "((t) => " + condition + ")(document.getElementById(" + jsString(id) + ").textContent)"
	_, err := chromedp.Run(b.ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(15*time.Second)))
	if err != nil {
		b.t.Fatalf("#%s is %q, want %s: %v", id, b.text(id), want, err)
	}
}

// waitTextIs waits until the element's text equals want.
func (b *browser) waitTextIs(id, want string) {
	b.t.Helper()
	b.waitText(id, "t === "+jsString(want), fmt.Sprintf("%q", want))
}

// waitTextContains waits until the element's text contains part.
func (b *browser) waitTextContains(id, part string) {
	b.t.Helper()
	b.waitText(id, "t.includes("+jsString(part)+")", fmt.Sprintf("text containing %q", part))
}

// typeInto empties an input, then types the value into it. It empties
// the value property in JavaScript because chromedp.Clear resets only the
// value attribute, which no longer shows once the user has typed, and
// chromedp.SetValue (v0.23.1) reported a failure for an empty value.
func (b *browser) typeInto(id, value string) {
	b.t.Helper()
	b.do("empty #"+id, chromedp.Evaluate[chromedp.Void](
		"document.getElementById("+jsString(id)+").value = \"\""))
	if value != "" {
		b.do("type into #"+id, chromedp.SendKeys(chromedp.ID(id), value))
	}
}

func (b *browser) click(id string) {
	b.t.Helper()
	b.do("click #"+id, chromedp.Click(chromedp.ID(id)))
}

// checkProblems fails the test for every uncaught exception and policy
// violation that the page reported.
func (b *browser) checkProblems() {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, p := range b.problems {
		b.t.Errorf("browser console: %s", p)
	}
}

func jsString(s string) string {
	v, _ := json.Marshal(s)
	return string(v)
}

// createConsoleOperator creates an IAM user with a password that may use
// every user-events action and the LTS reads that enabling delivery needs.
func createConsoleOperator(t *testing.T, env *uetest.Env, name, password string) {
	t.Helper()
	iam := env.IAMClient()
	u := createIAMUser(t, iam, name)
	_, err := iam.CreateLoginProfileV5(&iammodel.CreateLoginProfileV5Request{
		UserId: u.id, Body: &iammodel.CreateLoginProfileReqBody{Password: password},
	})
	requireNoSDKError(t, err, "CreateLoginProfileV5")
	policy := createPolicy(t, iam, "ConsoleOperator", allowDoc("workspace:userEvents:*",
		"lts:logGroup:listLogGroup", "lts:logStream:listLogStream", "lts:logStream:get"))
	attachUserPolicy(t, iam, policy, u.id)
}

func TestConsoleInBrowser(t *testing.T) {
	requireChromium(t)
	env := uetest.Start(t, uetest.Options{NoWorker: true})
	env.Worker.Sink = &rejectingSink{next: env.Worker.Sink, username: "mallory"}
	startWorker(t, env)

	const user, password = "operator", "Operator-password-1"
	createConsoleOperator(t, env, user, password)
	groupID, streamID := createLogTarget(t, env, "console")

	// 25 events in the last 24 hours, plus one of two days ago that the
	// default range leaves out. The newest is carol's.
	now := time.Now().UTC().Truncate(time.Second)
	var events []testEvent
	for i := range 20 {
		events = append(events, testEvent{EventID: fmt.Sprintf("dave-%02d", i), Username: "dave",
			EventType: "CONNECT", EventTime: now.Add(-5*time.Hour + time.Duration(i)*time.Minute).Format(time.RFC3339)})
	}
	failed := false
	events = append(events,
		testEvent{EventID: "alice-1", Username: "alice", EventType: "LOGIN",
			EventTime: now.Add(-50 * time.Minute).Format(time.RFC3339)},
		testEvent{EventID: "alice-2", Username: "alice", EventType: "CONNECT", ResourceName: "desk-01",
			EventTime: now.Add(-40 * time.Minute).Format(time.RFC3339)},
		testEvent{EventID: "bob-1", Username: "bob", EventType: "LOGIN", IsSuccess: &failed,
			EventTime: now.Add(-30 * time.Minute).Format(time.RFC3339)},
		testEvent{EventID: "alice-3", Username: "alice", EventType: "LOGOUT",
			EventTime: now.Add(-20 * time.Minute).Format(time.RFC3339)},
		testEvent{EventID: "carol-1", Username: "carol", EventType: "LOGIN", ResourceName: "desk-02",
			EventTime: now.Add(-10 * time.Minute).Format(time.RFC3339)},
		testEvent{EventID: "old-1", Username: "alice", EventType: "LOGIN",
			EventTime: now.Add(-48 * time.Hour).Format(time.RFC3339)},
	)
	postEvents(t, env, events)

	b := startBrowser(t)

	// Sign in: the events of the last 24 hours show, newest first.
	b.do("open the console", chromedp.Navigate(env.WorkspaceURL+"/console"))
	b.do("fill in the sign-in form",
		chromedp.WaitVisible(chromedp.ID("sign-in-form")),
		chromedp.SendKeys(chromedp.ID("sign-in-account"), uetest.AccountName),
		chromedp.SendKeys(chromedp.ID("sign-in-user"), user),
		chromedp.SendKeys(chromedp.ID("sign-in-password"), password),
	)
	if region := eval[string](b, `document.getElementById("sign-in-region").value`); region != uetest.Region {
		t.Errorf("region field = %q, want %s", region, uetest.Region)
	}
	b.click("sign-in-submit")
	b.waitTextIs("events-count", "25 events")
	b.waitTextIs("events-range", "(showing 1–25, newest first)")
	signedIn := b.text("who")
	if !strings.Contains(signedIn, user) {
		t.Errorf("signed-in line = %q, want the user name %s", signedIn, user)
	}
	if !strings.Contains(signedIn, uetest.ProjectID) {
		t.Errorf("signed-in line = %q, want the project id %s", signedIn, uetest.ProjectID)
	}
	if first := eval[string](b, `document.querySelector("#events-rows tr").textContent`); !strings.Contains(first, "carol") {
		t.Errorf("first row = %q, want carol's, the newest event", first)
	}
	if rows := eval[int](b, `document.querySelectorAll("#events-rows tr.failed").length`); rows != 1 {
		t.Errorf("rows marked failed = %d, want 1 (bob's sign-in)", rows)
	}

	if os.Getenv("USEREVENTS_UPDATE_SCREENSHOT") == "1" {
		png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot: %v", err)
		}
		if err := os.WriteFile(screenshotPath, png, 0o644); err != nil {
			t.Fatalf("write screenshot: %v", err)
		}
		t.Logf("wrote %s (%d bytes)", screenshotPath, len(png))
	}

	// The token is kept in sessionStorage and sent in a header: no request
	// the page made has the token or the password in its URL.
	token := eval[string](b, `JSON.parse(sessionStorage.getItem("userevents.console.session")).token`)
	if !strings.HasPrefix(token, "ue1.") {
		t.Errorf("token in sessionStorage = %q, want a token of this server", token)
	}
	if n := eval[int](b, `localStorage.length`); n != 0 {
		t.Errorf("localStorage has %d items, want none", n)
	}
	urls := eval[[]string](b, `performance.getEntriesByType("resource").map((e) => e.name).concat([location.href])`)
	for _, u := range urls {
		if strings.Contains(u, token) || strings.Contains(u, password) {
			t.Errorf("URL %s carries a secret", u)
		}
	}

	// Paging: 20 per page, then the older page.
	b.do("choose 20 per page", chromedp.SetValue(chromedp.ID("events-limit"), "20"))
	b.click("events-search")
	b.waitTextIs("events-range", "(showing 1–20, newest first)")
	b.click("events-next")
	b.waitTextIs("events-range", "(showing 21–25, newest first)")
	if rows := eval[int](b, `document.querySelectorAll("#events-rows tr").length`); rows != 5 {
		t.Errorf("rows on the second page = %d, want 5", rows)
	}

	// Filters change the count.
	b.typeInto("events-username", "alice")
	b.click("events-search")
	b.waitTextIs("events-count", "3 events")
	b.typeInto("events-username", "")
	b.typeInto("events-types", "LOGIN, LOGOUT")
	b.click("events-search")
	b.waitTextIs("events-count", "4 events")
	b.typeInto("events-types", "")
	b.typeInto("events-resource", "desk-02")
	b.click("events-search")
	b.waitTextIs("events-count", "1 event")

	// LTS configuration: a wrong stream shows the server's message, the
	// right one is saved.
	b.click("tab-lts")
	b.waitTextIs("lts-current-enable", "disabled")
	b.click("lts-enable-on")
	b.typeInto("lts-group", groupID)
	b.typeInto("lts-stream", "no-such-stream")
	b.click("lts-save")
	b.waitTextContains("lts-error", `The log stream "no-such-stream" does not exist in log group`)
	b.typeInto("lts-stream", streamID)
	b.click("lts-save")
	b.waitTextIs("lts-message", "Saved: delivery is enabled.")
	b.waitTextIs("lts-current-enable", "enabled")
	b.waitTextIs("lts-current-group", groupID)
	b.waitTextIs("lts-current-stream", streamID)
	if got := b.text("lts-error"); got != "" {
		t.Errorf("LTS error after a successful save = %q, want none", got)
	}

	code, body := uetest.Do(t, http.MethodGet, env.WorkspaceURL, eventsPath+"/lts-configurations", nil, "")
	var cfg struct {
		Enable      bool   `json:"enable"`
		LogGroupID  string `json:"log_group_id"`
		LogStreamID string `json:"log_stream_id"`
	}
	if err := json.Unmarshal([]byte(body), &cfg); code != http.StatusOK || err != nil {
		t.Fatalf("ListUserEventsLtsConfigurations: %d %s", code, body)
	}
	if !cfg.Enable || cfg.LogGroupID != groupID || cfg.LogStreamID != streamID {
		t.Errorf("configuration = %+v, want enabled on %s/%s", cfg, groupID, streamID)
	}

	// Delivery: one event is delivered and one becomes a dead letter.
	postEvents(t, env, []testEvent{
		{EventID: "erin-1", Username: "erin", EventType: "LOGIN", EventTime: now.Format(time.RFC3339)},
		{EventID: "mallory-1", Username: "mallory", EventType: "LOGIN", EventTime: now.Format(time.RFC3339)},
	})
	waitStatus(t, env, func(st deliveryStatus) bool {
		return st.Delivered == 1 && st.DeadLetters == 1 && st.Pending == 0
	})
	b.click("tab-delivery")
	b.waitTextIs("delivery-state", "idle")
	b.waitTextIs("delivery-pending", "0")
	b.waitTextIs("delivery-delivered", "1")
	b.waitTextIs("delivery-dead", "1")
	b.waitTextIs("delivery-oldest", "—")
	b.waitTextIs("dead-count", "1 dead letter")
	b.waitTextContains("dead-rows", rejectReason)
	b.waitTextContains("dead-rows", "LOGIN mallory")
	b.waitTextContains("dead-rows", groupID+" / "+streamID)

	// Retry all queues the dead letter again; the sink rejects it again.
	b.click("dead-retry")
	b.waitTextIs("dead-message", "1 dead letter queued again.")
	waitStatus(t, env, func(st deliveryStatus) bool { return st.DeadLetters == 1 && st.Pending == 0 })
	b.click("delivery-refresh")
	b.waitTextIs("delivery-dead", "1")
	b.waitTextIs("delivery-delivered", "1")

	// Signing out removes the token from sessionStorage.
	b.click("sign-out")
	b.do("wait for the sign-in form", chromedp.WaitVisible(chromedp.ID("sign-in-form")))
	if n := eval[int](b, `sessionStorage.length`); n != 0 {
		t.Errorf("sessionStorage has %d items after signing out, want none", n)
	}
	b.checkProblems()
}
