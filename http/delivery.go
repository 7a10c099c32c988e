package http

import (
	"fmt"
	"net/http"
	"time"

	"github.com/userevents/userevents"
)

// Delivery actions; these operations are this server's own, so their
// names follow the Workspace naming style.
const (
	actionGetDeliveryStatus = "workspace:userEvents:getDeliveryStatus"
	actionListDeadLetters   = "workspace:userEvents:listDeadLetters"
	actionRetryDeadLetters  = "workspace:userEvents:retryDeadLetters"
)

// Delivery states reported by the delivery-status endpoint.
const (
	deliveryDisabled   = "disabled"   // delivery is off and nothing is queued
	deliveryIdle       = "idle"       // nothing is queued
	deliveryDelivering = "delivering" // events are queued and due
	deliveryPaused     = "paused"     // the last send failed; the next attempt is later
)

type deliveryStatusResponse struct {
	State                   string `json:"state"`
	Enable                  bool   `json:"enable"`
	LogGroupID              string `json:"log_group_id,omitempty"`
	LogStreamID             string `json:"log_stream_id,omitempty"`
	Pending                 int    `json:"pending"`
	OldestPendingTime       string `json:"oldest_pending_time,omitempty"`
	OldestPendingAgeSeconds int64  `json:"oldest_pending_age_seconds"`
	NextAttemptTime         string `json:"next_attempt_time,omitempty"`
	Delivered               int64  `json:"delivered"`
	Failed                  int64  `json:"failed"`
	DeadLetters             int    `json:"dead_letters"`
	LastError               string `json:"last_error,omitempty"`
	LastErrorTime           string `json:"last_error_time,omitempty"`
}

func (s *Server) deliveryStatus(c *call) error {
	ctx := c.r.Context()
	cfg, err := s.Store.FindLTSConfig(ctx, c.projectID)
	if err != nil {
		return fmt.Errorf("find lts config: %w", err)
	}
	st, err := s.Store.FindDeliveryStats(ctx, c.projectID)
	if err != nil {
		return fmt.Errorf("find delivery stats: %w", err)
	}
	now := s.now()
	resp := deliveryStatusResponse{
		Enable:      cfg.Enabled,
		LogGroupID:  cfg.LogGroupID,
		LogStreamID: cfg.LogStreamID,
		Pending:     st.Pending,
		Delivered:   st.Delivered,
		Failed:      st.Failed,
		DeadLetters: st.DeadLetters,
		LastError:   st.LastError,
	}
	switch {
	case st.Pending == 0 && !cfg.Enabled:
		resp.State = deliveryDisabled
	case st.Pending == 0:
		resp.State = deliveryIdle
	case !st.NextAttempt.IsZero() && st.NextAttempt.After(now):
		resp.State = deliveryPaused
	default:
		resp.State = deliveryDelivering
	}
	if !st.OldestPending.IsZero() {
		resp.OldestPendingTime = st.OldestPending.UTC().Format(time.RFC3339Nano)
		resp.OldestPendingAgeSeconds = int64(now.Sub(st.OldestPending).Seconds())
	}
	if !st.NextAttempt.IsZero() {
		resp.NextAttemptTime = st.NextAttempt.UTC().Format(time.RFC3339Nano)
	}
	if !st.LastErrorAt.IsZero() {
		resp.LastErrorTime = st.LastErrorAt.UTC().Format(time.RFC3339Nano)
	}
	writeJSON(c.w, http.StatusOK, resp)
	return nil
}

type deadLetterResponse struct {
	ID          int64     `json:"id"`
	Reason      string    `json:"reason"`
	DeadTime    string    `json:"dead_time"`
	Attempts    int       `json:"attempts"`
	LastError   string    `json:"last_error,omitempty"`
	LogGroupID  string    `json:"log_group_id"`
	LogStreamID string    `json:"log_stream_id"`
	Event       userEvent `json:"event"`
}

type deadLettersResponse struct {
	Count int                  `json:"count"`
	Items []deadLetterResponse `json:"items"`
}

var deadLetterParams = []param{
	{"offset", "integer", false, "index of the first item, from 0"},
	{"limit", "integer", false, "items per page, 0 to 1000, default 100"},
}

func (s *Server) listDeadLetters(c *call) error {
	limit, err := queryInt(c.query, "limit", userevents.DefaultEventLimit, 0, userevents.MaxEventLimit)
	if err != nil {
		return err
	}
	offset, err := queryInt(c.query, "offset", 0, 0, 1<<31-1)
	if err != nil {
		return err
	}
	letters, total, err := s.Store.FindDeadLetters(c.r.Context(), c.projectID, offset, limit)
	if err != nil {
		return fmt.Errorf("find dead letters: %w", err)
	}
	resp := deadLettersResponse{Count: total, Items: make([]deadLetterResponse, len(letters))}
	for i, d := range letters {
		resp.Items[i] = deadLetterResponse{
			ID:          d.ID,
			Reason:      d.Reason,
			DeadTime:    d.DeadAt.UTC().Format(time.RFC3339Nano),
			Attempts:    d.Attempts,
			LastError:   d.LastError,
			LogGroupID:  d.LogGroupID,
			LogStreamID: d.LogStreamID,
			Event:       newUserEvent(d.Event),
		}
	}
	writeJSON(c.w, http.StatusOK, resp)
	return nil
}

// retryDeadLettersRequest selects dead letters to requeue. Without ids,
// every dead letter of the project is requeued. Target "current" (the
// default) sends them to the stream the configuration names now, which is
// what an operator wants after moving delivery to a working stream;
// "original" sends each to the stream it failed on, after that stream was
// fixed.
type retryDeadLettersRequest struct {
	IDs    []int64 `json:"ids"`
	Target string  `json:"target"`
}

func (s *Server) retryDeadLetters(c *call) error {
	req := retryDeadLettersRequest{}
	if len(c.body) > 0 {
		if err := decodeStrict(c.body, &req); err != nil {
			return err
		}
	}
	groupID, streamID := "", ""
	switch req.Target {
	case "", "current":
		cfg, err := s.Store.FindLTSConfig(c.r.Context(), c.projectID)
		if err != nil {
			return fmt.Errorf("find lts config: %w", err)
		}
		if !cfg.Enabled {
			return userevents.Errorf(userevents.EINVALID,
				"Delivery is disabled, so there is no current stream to retry to; enable delivery first, or send \"target\": \"original\".")
		}
		groupID, streamID = cfg.LogGroupID, cfg.LogStreamID
	case "original":
	default:
		return userevents.Errorf(userevents.EINVALID,
			"target %q is invalid; use \"current\" or \"original\".", req.Target)
	}
	n, err := s.Store.RequeueDeadLetters(c.r.Context(), c.projectID, req.IDs, groupID, streamID)
	if err != nil {
		return fmt.Errorf("requeue dead letters: %w", err)
	}
	s.logger(c.r).Info("dead letters requeued", "project_id", c.projectID, "count", n,
		"log_group_id", groupID, "log_stream_id", streamID, "user_id", c.principal.UserID)
	if s.Notify != nil && n > 0 {
		s.Notify()
	}
	writeJSON(c.w, http.StatusOK, map[string]int{"count": n})
	return nil
}
