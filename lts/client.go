// Package lts is a client for a remote Huawei Cloud LTS endpoint. It checks
// log groups and streams through the management API and writes log lines
// through the ingestion API, signing every request with an AK/SK as the
// official SDK does.
package lts

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/basic"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/signer"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/config"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/request"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/sdkerr"
	ltssdk "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/lts/v2"
	ltsmodel "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/lts/v2/model"

	"github.com/userevents/userevents"
	"github.com/userevents/userevents/export"
)

// Client writes to one remote LTS project. The zero value is not usable;
// set the endpoints and the key.
type Client struct {
	// ManagementEndpoint is the LTS API base URL, such as
	// https://lts.cn-north-4.myhuaweicloud.com.
	ManagementEndpoint string
	// IngestEndpoint is the base URL of the log ingestion API; empty
	// means ManagementEndpoint.
	IngestEndpoint string
	// ProjectID is the remote project; empty means the local project id
	// of each target.
	ProjectID string
	AccessKey string
	SecretKey userevents.Secret

	// HTTP sends ingestion requests; nil means a client with a
	// 30-second timeout.
	HTTP *http.Client
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// LogTimeWindow is how far from now a line's time may be; lines
	// outside it are rejected before sending, since LTS drops or refuses
	// them. Zero means 24 hours.
	LogTimeWindow time.Duration
	// MaxRequestBytes caps the body of one ingestion request; larger
	// batches are split. Zero means 4 MiB.
	MaxRequestBytes int
}

var _ export.Sink = (*Client)(nil)

func (c *Client) project(local string) string {
	if c.ProjectID != "" {
		return c.ProjectID
	}
	return local
}

func (c *Client) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return &http.Client{Timeout: 30 * time.Second}
}

func (c *Client) sdk(projectID string) *ltssdk.LtsClient {
	creds := basic.NewCredentialsBuilder().
		WithAk(c.AccessKey).
		WithSk(string(c.SecretKey)).
		WithProjectId(c.project(projectID)).
		Build()
	cfg := config.DefaultHttpConfig().WithTimeout(30 * time.Second)
	return ltssdk.NewLtsClient(ltssdk.LtsClientBuilder().
		WithEndpoints([]string{c.ManagementEndpoint}).
		WithCredential(creds).
		WithHttpConfig(cfg).
		Build())
}

// CheckLogStream returns nil when the stream exists in the group, an
// EINVALID *userevents.Error naming the missing id when it does not, and
// an EUNAVAILABLE error when the remote LTS cannot be asked.
func (c *Client) CheckLogStream(ctx context.Context, projectID, groupID, streamID string) error {
	resp, err := c.sdk(projectID).ListLogStream(&ltsmodel.ListLogStreamRequest{LogGroupId: groupID})
	var se *sdkerr.ServiceResponseError
	if errors.As(err, &se) && se.StatusCode == http.StatusNotFound {
		return userevents.Errorf(userevents.EINVALID,
			"The log group %q does not exist in the remote LTS project %s; create it there or use another id.",
			groupID, c.project(projectID))
	} else if err != nil {
		return userevents.Errorf(userevents.EUNAVAILABLE,
			"The remote LTS at %s could not be asked about log group %q: %v; check the endpoint and key, then retry.",
			c.ManagementEndpoint, groupID, err)
	}
	if resp.LogStreams != nil {
		for _, s := range *resp.LogStreams {
			if s.LogStreamId != nil && *s.LogStreamId == streamID {
				return nil
			}
		}
	}
	return userevents.Errorf(userevents.EINVALID,
		"The log stream %q does not exist in log group %q of the remote LTS; create it there or use another id.",
		streamID, groupID)
}

type ingestLine struct {
	LogTimeNs int64  `json:"log_time_ns"`
	Log       string `json:"log"`
}

type ingestRequest struct {
	Contents []ingestLine      `json:"contents"`
	Labels   map[string]string `json:"labels"`
}

type ingestResponse struct {
	ErrorCode    string `json:"errorCode"`
	ErrorMessage string `json:"errorMessage"`
}

// ingestSuccess is the errorCode of an accepted ingestion request.
const ingestSuccess = "SVCSTG.ALS.200.200"

// Send implements export.Sink. Lines LTS would never accept (over 1 MiB,
// or a time outside the window) are rejected without sending. The rest go
// in requests of at most MaxRequestBytes through the high-accuracy
// ingestion API, which keeps each line's own time.
func (c *Client) Send(ctx context.Context, t export.Target, lines []export.Line) error {
	result := &export.SendError{Rejected: map[int]string{}}
	window := c.LogTimeWindow
	if window == 0 {
		window = 24 * time.Hour
	}
	now := c.now()

	var pending []int
	for i, l := range lines {
		lt := time.Unix(0, l.TimeNs)
		switch {
		case len(l.Content) > userevents.MaxLogLineBytes:
			result.Rejected[i] = fmt.Sprintf("log line of %d bytes exceeds the LTS limit of 1 MiB", len(l.Content))
		case lt.Before(now.Add(-window)) || lt.After(now.Add(window)):
			result.Rejected[i] = fmt.Sprintf("event time %s is more than %s from now; LTS does not accept it",
				lt.UTC().Format(time.RFC3339), window)
		default:
			pending = append(pending, i)
		}
	}

	for len(pending) > 0 {
		chunk := c.nextChunk(lines, pending)
		pending = pending[len(chunk):]
		rejectedIdx, err := c.post(ctx, t, lines, chunk)
		if rejectedIdx >= 0 {
			// The stream refused one line; it is dead-lettered, and the
			// rest of the chunk is retried without it.
			result.Rejected[chunk[rejectedIdx]] = err.Error()
			result.Err = errors.New("resend after a rejected line")
			break
		}
		if err != nil {
			result.Err = err
			var ra *retryAfterError
			if errors.As(err, &ra) {
				result.RetryAfter = ra.delay
			}
			break
		}
		result.Delivered = append(result.Delivered, chunk...)
	}

	if len(result.Delivered) == len(lines) {
		return nil
	}
	return result
}

// nextChunk returns the longest prefix of pending whose request body stays
// within MaxRequestBytes, and at least one line.
func (c *Client) nextChunk(lines []export.Line, pending []int) []int {
	limit := c.MaxRequestBytes
	if limit == 0 {
		limit = 4 << 20
	}
	size := 64
	for n, i := range pending {
		size += len(lines[i].Content) + len(lines[i].Content)/8 + 48 // JSON escaping estimate
		if n > 0 && size > limit {
			return pending[:n]
		}
	}
	return pending
}

type retryAfterError struct {
	err   error
	delay time.Duration
}

func (e *retryAfterError) Error() string { return e.err.Error() }
func (e *retryAfterError) Unwrap() error { return e.err }

// contentsIndex finds "contents[N]" in an LTS error message, the line the
// server refused.
var contentsIndex = regexp.MustCompile(`contents\[(\d+)\]`)

// post sends one chunk. When the server rejects a single line for good it
// returns that line's position in chunk and the reason; otherwise it
// returns -1 and nil or a retried error.
func (c *Client) post(ctx context.Context, t export.Target, lines []export.Line, chunk []int) (int, error) {
	body := ingestRequest{Labels: map[string]string{}}
	for _, i := range chunk {
		body.Contents = append(body.Contents, ingestLine{LogTimeNs: lines[i].TimeNs, Log: lines[i].Content})
	}
	data, err := json.Marshal(body)
	if err != nil {
		return -1, fmt.Errorf("encode ingestion request: %w", err)
	}
	req, err := c.signedRequest(ctx, t, data)
	if err != nil {
		return -1, err
	}
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return -1, fmt.Errorf("post to LTS: %w", err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var out ingestResponse
	_ = json.Unmarshal(raw, &out)

	switch {
	case resp.StatusCode == http.StatusOK && (out.ErrorCode == "" || out.ErrorCode == ingestSuccess):
		return -1, nil
	case resp.StatusCode == http.StatusOK:
		// A 200 whose body carries an error code did not store the lines.
		return -1, fmt.Errorf("LTS returned 200 with error %s: %s", out.ErrorCode, out.ErrorMessage)
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		err := fmt.Errorf("LTS returned %d %s: %s", resp.StatusCode, out.ErrorCode, snippet(out.ErrorMessage, raw))
		if d := retryAfter(resp.Header.Get("Retry-After"), c.now()); d > 0 {
			return -1, &retryAfterError{err: err, delay: d}
		}
		return -1, err
	case resp.StatusCode == http.StatusBadRequest || resp.StatusCode == http.StatusRequestEntityTooLarge:
		msg := snippet(out.ErrorMessage, raw)
		if m := contentsIndex.FindStringSubmatch(msg); m != nil {
			if n, err := strconv.Atoi(m[1]); err == nil && n < len(chunk) {
				return n, fmt.Errorf("LTS rejected the line: %s", msg)
			}
		}
		return -1, fmt.Errorf("LTS returned %d %s: %s", resp.StatusCode, out.ErrorCode, msg)
	case resp.StatusCode == http.StatusNotFound:
		return -1, &export.TargetMissingError{Target: t,
			Err: fmt.Errorf("LTS returned 404 %s: %s", out.ErrorCode, snippet(out.ErrorMessage, raw))}
	default:
		// 401 and 403 mean a wrong key or permission: an operator must
		// act, and the lines wait for that.
		return -1, fmt.Errorf("LTS returned %d %s: %s", resp.StatusCode, out.ErrorCode, snippet(out.ErrorMessage, raw))
	}
}

func (c *Client) signedRequest(ctx context.Context, t export.Target, body []byte) (*http.Request, error) {
	project := c.project(t.ProjectID)
	base := c.IngestEndpoint
	if base == "" {
		base = c.ManagementEndpoint
	}
	path := fmt.Sprintf("/v2/%s/lts/groups/%s/streams/%s/tenant/contents/high-accuracy", project, t.LogGroupID, t.LogStreamID)
	sdkReq := request.NewHttpRequestBuilder().
		WithEndpoint(strings.TrimSuffix(base, "/")).
		WithPath(path).
		WithMethod(http.MethodPost).
		AddHeaderParam("Content-Type", "application/json;charset=UTF-8").
		AddHeaderParam("X-Project-Id", project).
		WithBody("application/json", string(body)).
		Build()
	headers, err := signer.Sign(sdkReq, c.AccessKey, string(c.SecretKey))
	if err != nil {
		return nil, fmt.Errorf("sign ingestion request: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(base, "/")+path, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("build ingestion request: %w", err)
	}
	for k, v := range sdkReq.GetHeaderParams() {
		req.Header.Set(k, v)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	return req, nil
}

// retryAfter parses a Retry-After header: seconds or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil && n > 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return t.Sub(now)
	}
	return 0
}

func snippet(msg string, raw []byte) string {
	if msg != "" {
		return msg
	}
	s := string(raw)
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
