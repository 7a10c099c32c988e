package http

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/userevents/userevents"
)

// service selects the error format and code family of a listener's API.
type service int

const (
	serviceWorkspace service = iota + 1
	serviceLTS
	serviceIngest // LTS log ingestion, which has camelCase error bodies
	serviceIAM
)

// errorCode is one row of the error table: the HTTP status and the wire
// error_code per service for one domain code.
type errorCode struct {
	status    int
	workspace string
	lts       string
	ingest    string
	iam       string
}

// errorCodes is the only table from domain error codes to HTTP statuses and
// wire codes. Authentication and routing failures use the API gateway's
// APIG/APIGW codes on every service because the real gateway rejects them
// before a service runs. docs/errors.md lists the same table for clients.
var errorCodes = map[string]errorCode{
	userevents.EEMPTY:           {http.StatusBadRequest, "WKS.0001", "LTS.0001", "SVCSTG.ALS.400.001", "IAM.0001"},
	userevents.EINVALID:         {http.StatusBadRequest, "WKS.0400", "LTS.0400", "SVCSTG.ALS.400.400", "IAM.0400"},
	userevents.ENOTFOUND:        {http.StatusNotFound, "WKS.0404", "LTS.0404", "SVCSTG.ALS.404.404", "IAM.0404"},
	userevents.ECONFLICT:        {http.StatusConflict, "WKS.0409", "LTS.0409", "SVCSTG.ALS.409.409", "IAM.0409"},
	userevents.EQUOTA:           {http.StatusBadRequest, "WKS.0410", "LTS.0410", "SVCSTG.ALS.400.410", "IAM.0410"},
	userevents.EUNAUTHENTICATED: {http.StatusUnauthorized, "APIG.0301", "APIG.0301", "SVCSTG.ALS.401.301", "APIG.0301"},
	userevents.ELOCKED:          {http.StatusUnauthorized, "APIG.0307", "APIG.0307", "SVCSTG.ALS.401.307", "APIG.0307"},
	userevents.EFORBIDDEN:       {http.StatusForbidden, "APIG.0302", "APIG.0302", "SVCSTG.ALS.403.302", "APIG.0302"},
	userevents.ETOOLARGE:        {http.StatusRequestEntityTooLarge, "APIGW.0201", "APIGW.0201", "SVCSTG.ALS.413.201", "APIGW.0201"},
	userevents.EINTERNAL:        {http.StatusInternalServerError, "WKS.0500", "LTS.0500", "SVCSTG.ALS.500.500", "IAM.0500"},
	userevents.EUNAVAILABLE:     {http.StatusServiceUnavailable, "WKS.0503", "LTS.0503", "SVCSTG.ALS.503.503", "IAM.0503"},
	codeRouteNotFound:           {http.StatusNotFound, "APIGW.0101", "APIGW.0101", "APIGW.0101", "APIGW.0101"},
	codeMethodNotAllowed:        {http.StatusMethodNotAllowed, "APIGW.0105", "APIGW.0105", "APIGW.0105", "APIGW.0105"},
}

// Routing codes exist only at the HTTP layer.
const (
	codeRouteNotFound    = "route_not_found"
	codeMethodNotAllowed = "method_not_allowed"
)

// String returns the listener name of a service, as metrics label it.
func (svc service) String() string {
	switch svc {
	case serviceLTS, serviceIngest:
		return "lts"
	case serviceIAM:
		return "iam"
	default:
		return "workspace"
	}
}

func (c errorCode) wire(svc service) string {
	switch svc {
	case serviceLTS:
		return c.lts
	case serviceIngest:
		return c.ingest
	case serviceIAM:
		return c.iam
	default:
		return c.workspace
	}
}

// writeError is the only writer of error bodies. Internal errors are logged
// here, once, with the request id; the client gets a generic message.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, svc service, err error) {
	code := userevents.ErrorCode(err)
	row, ok := errorCodes[code]
	if !ok {
		row = errorCodes[userevents.EINTERNAL]
	}

	log := s.logger(r)
	switch {
	case row.status >= 500:
		log.Error("request failed", "error", err, "status", row.status)
	case code == userevents.EFORBIDDEN || code == userevents.EUNAUTHENTICATED || code == userevents.ELOCKED:
		var e *userevents.Error
		errors.As(err, &e)
		s.Metrics.AuthFailure(code)
		log.Warn("request rejected", "code", code, "reason", e.Message, "status", row.status)
	}

	msg := userevents.ErrorMessage(err)
	if svc == serviceIngest {
		writeJSON(w, row.status, map[string]any{
			"errorCode":    row.wire(svc),
			"errorMessage": msg,
			"result":       nil,
		})
		return
	}
	writeJSON(w, row.status, map[string]string{
		"error_code": row.wire(svc),
		"error_msg":  msg,
	})
}

// writeJSON writes v as the JSON body with the status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		// Every value passed here is built from plain types, so this
		// cannot happen short of a programming error.
		http.Error(w, `{"error_code":"WKS.0500","error_msg":"encode response"}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// logger returns the server's logger with the request id attached.
func (s *Server) logger(r *http.Request) *slog.Logger {
	return s.Logger.With("request_id", requestID(r.Context()))
}
