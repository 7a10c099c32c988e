package http

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/userevents/userevents"
)

// queryLogsRequest is QueryLtsLogParams of LTS ListLogs.
type queryLogsRequest struct {
	StartTime       string            `json:"start_time"`
	EndTime         string            `json:"end_time"`
	Labels          map[string]string `json:"labels"`
	IsCount         *bool             `json:"is_count"`
	Keywords        *string           `json:"keywords"`
	LineNum         *string           `json:"line_num"`
	Time            *string           `json:"__time__"`
	IsDesc          *bool             `json:"is_desc"`
	ScrollID        *string           `json:"scroll_id"`
	SearchType      *string           `json:"search_type"`
	Limit           *int              `json:"limit"`
	Highlight       *bool             `json:"highlight"`
	IsIterative     *bool             `json:"is_iterative"`
	Query           *string           `json:"query"`
	IsAnalysisQuery *bool             `json:"is_analysis_query"`
}

type logContent struct {
	Content string            `json:"content"`
	LineNum string            `json:"line_num"`
	Labels  map[string]string `json:"labels"`
}

type queryLogsResponse struct {
	Count           int          `json:"count"`
	Logs            []logContent `json:"logs"`
	IsQueryComplete bool         `json:"isQueryComplete"`
}

// queryLogs serves ListLogs. Lines come in time order, oldest first unless
// is_desc is true. For the next page send the line_num of the last line
// received; search_type backwards reverses the order for that page.
func (s *Server) queryLogs(c *call) error {
	var req queryLogsRequest
	if err := decodeLenient(c.body, &req); err != nil {
		return err
	}
	q, err := logQuery(c, &req)
	if err != nil {
		return err
	}
	if _, err := s.Store.FindLogStreamByID(c.r.Context(), q.ProjectID, q.GroupID, q.StreamID); err != nil {
		return err
	}
	records, count, err := s.Store.FindLogs(c.r.Context(), q)
	if err != nil {
		return fmt.Errorf("find logs: %w", err)
	}
	resp := queryLogsResponse{Logs: make([]logContent, len(records)), Count: count}
	for i, rec := range records {
		labels := rec.Labels
		if labels == nil {
			labels = map[string]string{}
		}
		resp.Logs[i] = logContent{Content: rec.Content, LineNum: strconv.FormatInt(rec.Seq, 10), Labels: labels}
	}
	resp.IsQueryComplete = len(records) == count || len(records) < q.Limit
	writeJSON(c.w, http.StatusOK, resp)
	return nil
}

func logQuery(c *call, req *queryLogsRequest) (userevents.LogQuery, error) {
	q := userevents.LogQuery{
		ProjectID: c.projectID,
		GroupID:   chi.URLParam(c.r, "log_group_id"),
		StreamID:  chi.URLParam(c.r, "log_stream_id"),
		Labels:    req.Labels,
		Limit:     userevents.DefaultLogQueryLimit,
	}
	var err error
	if q.StartMs, err = epochMillis("start_time", req.StartTime); err != nil {
		return q, err
	}
	if q.EndMs, err = epochMillis("end_time", req.EndTime); err != nil {
		return q, err
	}
	if q.EndMs < q.StartMs {
		return q, userevents.Errorf(userevents.EINVALID,
			"end_time %d is before start_time %d; swap them.", q.EndMs, q.StartMs)
	}
	if time.Duration(q.EndMs-q.StartMs)*time.Millisecond > userevents.MaxLogQuerySpan {
		return q, userevents.Errorf(userevents.EINVALID,
			"The range from start_time to end_time is longer than 30 days; query at most 30 days at a time.")
	}
	if req.Limit != nil {
		if *req.Limit < 1 || *req.Limit > userevents.MaxLogQueryLimit {
			return q, userevents.Errorf(userevents.EINVALID,
				"limit %d is out of range; use an integer from 1 to %d.", *req.Limit, userevents.MaxLogQueryLimit)
		}
		q.Limit = *req.Limit
	}
	if req.Keywords != nil {
		for _, k := range strings.Fields(*req.Keywords) {
			if k != "AND" && k != "and" {
				q.Keywords = append(q.Keywords, k)
			}
		}
	}
	q.Desc = req.IsDesc != nil && *req.IsDesc
	if req.SearchType != nil && *req.SearchType == "backwards" {
		q.Desc = !q.Desc
	}
	if req.LineNum != nil && *req.LineNum != "" {
		n, err := strconv.ParseInt(*req.LineNum, 10, 64)
		if err != nil || n < 0 {
			return q, userevents.Errorf(userevents.EINVALID,
				"line_num %q is invalid; send the line_num of the last line of the previous page.", *req.LineNum)
		}
		q.AfterSeq = n
	}
	return q, nil
}

func epochMillis(field, v string) (int64, error) {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, userevents.Errorf(userevents.EINVALID,
			"%s %q is invalid; send milliseconds since 1970-01-01T00:00:00Z as a string, such as \"1714521600000\".", field, v)
	}
	return n, nil
}

// reportLogsRequest is the body of the LTS log ingestion API.
type reportLogsRequest struct {
	LogTimeNs       *int64            `json:"log_time_ns"`
	Contents        []string          `json:"contents"`
	Labels          map[string]string `json:"labels"`
	TenantProjectID string            `json:"tenant_project_id"`
}

type highAccuracyLine struct {
	LogTimeNs *int64 `json:"log_time_ns"`
	Log       string `json:"log"`
}

type reportLogsHighAccuracyRequest struct {
	Contents        []highAccuracyLine `json:"contents"`
	Labels          map[string]string  `json:"labels"`
	TenantProjectID string             `json:"tenant_project_id"`
}

func (s *Server) reportLogs(c *call) error {
	var req reportLogsRequest
	if err := decodeLenient(c.body, &req); err != nil {
		return err
	}
	if req.LogTimeNs == nil {
		return userevents.Errorf(userevents.EINVALID, "log_time_ns is required; send the log time in UTC nanoseconds.")
	}
	lines := make([]highAccuracyLine, len(req.Contents))
	for i, content := range req.Contents {
		lines[i] = highAccuracyLine{LogTimeNs: req.LogTimeNs, Log: content}
	}
	return s.storeReportedLogs(c, lines, req.Labels)
}

func (s *Server) reportLogsHighAccuracy(c *call) error {
	var req reportLogsHighAccuracyRequest
	if err := decodeLenient(c.body, &req); err != nil {
		return err
	}
	return s.storeReportedLogs(c, req.Contents, req.Labels)
}

// storeReportedLogs checks every line, then stores all of them or none.
// An error names the index of the first bad line so a sender can drop it
// and resend the rest.
func (s *Server) storeReportedLogs(c *call, lines []highAccuracyLine, labels map[string]string) error {
	if len(lines) == 0 {
		return userevents.Errorf(userevents.EINVALID, "contents is empty; send at least one log line.")
	}
	if len(labels) > userevents.MaxLogLabels {
		return userevents.Errorf(userevents.EINVALID,
			"labels has %d entries; send at most %d.", len(labels), userevents.MaxLogLabels)
	}
	window := s.LogTimeWindow
	if window == 0 {
		window = 24 * time.Hour
	}
	now := s.now()
	groupID, streamID := chi.URLParam(c.r, "log_group_id"), chi.URLParam(c.r, "log_stream_id")
	records := make([]*userevents.LogRecord, len(lines))
	for i, l := range lines {
		if l.LogTimeNs == nil {
			return userevents.Errorf(userevents.EINVALID, "contents[%d].log_time_ns is required; send UTC nanoseconds.", i)
		}
		if len(l.Log) > userevents.MaxLogLineBytes {
			return userevents.Errorf(userevents.EINVALID,
				"contents[%d] is %d bytes long; a log line may have at most 1 MiB.", i, len(l.Log))
		}
		t := time.Unix(0, *l.LogTimeNs)
		if t.Before(now.Add(-window)) || t.After(now.Add(window)) {
			return userevents.Errorf(userevents.EINVALID,
				"contents[%d] has log time %s, more than %s from the server time %s; LTS accepts only recent logs.",
				i, t.UTC().Format(time.RFC3339Nano), window, now.Format(time.RFC3339))
		}
		records[i] = &userevents.LogRecord{
			ProjectID: c.projectID,
			GroupID:   groupID,
			StreamID:  streamID,
			TimeNs:    *l.LogTimeNs,
			Content:   l.Log,
			Labels:    labels,
		}
	}
	if err := s.Store.AppendLogs(c.r.Context(), records); err != nil {
		return err
	}
	writeJSON(c.w, http.StatusOK, map[string]any{
		"errorCode":    "SVCSTG.ALS.200.200",
		"errorMessage": "Report success.",
		"result":       nil,
	})
	return nil
}
