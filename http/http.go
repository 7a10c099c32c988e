// Package http serves the three userevents listeners (Workspace, built-in
// LTS and IAM) over one request pipeline: request id, body limit,
// authentication, authorization, handler and one error writer.
package http

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/userevents/userevents"
	"github.com/userevents/userevents/auth"
	"github.com/userevents/userevents/metrics"
)

// MaxBodyBytes is the largest request body accepted: the API gateway's
// limit for AK/SK-signed requests, 12 MiB.
const MaxBodyBytes = 12 << 20

// Server holds what the handlers of all three listeners share. Fill the
// fields, then call Workspace, LTS and IAM for the listeners' handlers.
type Server struct {
	Store      userevents.Store
	Verifier   *auth.Verifier
	Authorizer userevents.Authorizer
	Logger     *slog.Logger

	// Now is the clock; nil means time.Now.
	Now func() time.Time

	// LogTimeWindow is how far from now an ingested log line's time may
	// be; zero means 24 hours, the LTS rule for reported logs.
	LogTimeWindow time.Duration

	// RemoteLTS, when set, is the LTS that delivery writes to; setting
	// the configuration then checks the group and stream there instead
	// of in the built-in LTS.
	RemoteLTS LogStreamChecker

	// Metrics records request, intake and authentication metrics; nil
	// records nothing.
	Metrics *metrics.Metrics

	// Notify, when set, is called after intake queued events for delivery,
	// so the delivery worker wakes at once.
	Notify func()

	// TokenKeys seals and opens the IAM tokens that POST /v3/auth/tokens
	// issues; nil rejects every X-Auth-Token and token request.
	TokenKeys userevents.Sealer

	// LockoutThreshold is the number of consecutive failed authentications
	// of one access key or one user's password that lock it. Zero means
	// DefaultLockoutThreshold, and a negative value disables the lockout.
	// LockoutDuration is how long the lock lasts; zero means
	// DefaultLockoutDuration.
	LockoutThreshold int
	LockoutDuration  time.Duration

	// PasswordCost is the bcrypt cost of new password hashes; zero means
	// bcrypt.DefaultCost.
	PasswordCost int

	ready       atomic.Bool
	routeTables sync.Map // service → []route, recorded by newRouter
}

// LogStreamChecker checks that a log stream exists in a log group. It
// returns an EINVALID *userevents.Error naming the missing id, or
// EUNAVAILABLE when the LTS cannot be asked.
type LogStreamChecker interface {
	CheckLogStream(ctx context.Context, projectID, groupID, streamID string) error
}

// SetReady marks the server ready (or draining, with false) for /readyz.
func (s *Server) SetReady(ready bool) { s.ready.Store(ready) }

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// call is one authenticated API request as handlers see it.
type call struct {
	w         http.ResponseWriter
	r         *http.Request
	body      []byte
	query     url.Values
	principal *userevents.Principal
	projectID string
	project   *userevents.Project
}

// handlerFunc serves one call. It returns an error instead of writing one.
type handlerFunc func(c *call) error

// route describes one API endpoint for the router and the authorizer.
type route struct {
	method  string
	pattern string
	action  string
	// resource returns the URN that the action applies to; nil means "*".
	resource func(c *call) string
	handle   handlerFunc
	// errors overrides the listener's error format when set.
	errors service
	doc    doc
}

// newRouter returns a router with the shared middleware, the health probes
// and the routes of one listener.
func (s *Server) newRouter(svc service, routes []route) http.Handler {
	r := chi.NewRouter()
	r.Use(s.withRequestID, s.withMetrics(svc), s.withRecover, middleware.StripSlashes)
	r.Get("/livez", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	r.Get("/readyz", s.readyz)
	r.Method(http.MethodGet, "/metrics", s.Metrics.Handler())
	r.Get("/openapi.json", s.openAPI)
	if svc == serviceWorkspace {
		s.mountConsole(r)
	}
	r.NotFound(func(w http.ResponseWriter, req *http.Request) {
		s.writeError(w, req, svc, userevents.Errorf(codeRouteNotFound,
			"No API is served at %s %s on this listener; check the endpoint and the path.",
			req.Method, req.URL.EscapedPath()))
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, req *http.Request) {
		s.writeError(w, req, svc, userevents.Errorf(codeMethodNotAllowed,
			"Method %s is not allowed on %s; check the HTTP method.", req.Method, req.URL.EscapedPath()))
	})
	s.routeTables.Store(svc, routes)
	for _, rt := range routes {
		format := svc
		if rt.errors != 0 {
			format = rt.errors
		}
		r.Method(rt.method, rt.pattern, s.endpoint(format, rt))
	}
	return r
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if !s.ready.Load() {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "not ready"})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.Store.Ping(ctx); err != nil {
		s.logger(r).Warn("readiness check failed", "error", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "database unavailable"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// endpoint wraps a route in the pipeline: read the body within the limit,
// authenticate, check the project, authorize, then run the handler.
func (s *Server) endpoint(svc service, rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := &call{w: w, r: r}
		if err := s.prepare(c, rt); err != nil {
			s.writeError(w, r, svc, err)
			return
		}
		if err := rt.handle(c); err != nil {
			s.writeError(w, r, svc, err)
		}
	})
}

func (s *Server) prepare(c *call, rt route) error {
	body, err := readBody(c.w, c.r)
	if err != nil {
		return err
	}
	c.body = body

	c.principal, err = s.authenticate(c.r.Context(), c.r, body)
	if err != nil {
		return err
	}
	if len(body) > 0 && unsignedPayload(c.r) {
		return userevents.Errorf(userevents.EINVALID,
			"The body is not covered by the signature because the request says UNSIGNED-PAYLOAD; send the body as application/json so that the signature covers it.")
	}
	c.query, err = auth.ParseQuery(c.r.URL.RawQuery)
	if err != nil {
		return err
	}
	if p := chi.URLParam(c.r, "project_id"); p != "" {
		if err := s.checkProject(c, p); err != nil {
			return err
		}
	}
	if rt.action == "" {
		return nil
	}
	resource := "*"
	if rt.resource != nil {
		resource = rt.resource(c)
	}
	return s.authorize(c, rt.action, resource)
}

// readBody reads the whole body, rejecting one larger than MaxBodyBytes
// before reading it when Content-Length already exceeds it.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	tooLarge := userevents.Errorf(userevents.ETOOLARGE,
		"The request body exceeds %d bytes (12 MiB); send a smaller body, for example fewer events per request.",
		MaxBodyBytes)
	if r.ContentLength > MaxBodyBytes {
		return nil, tooLarge
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	var maxErr *http.MaxBytesError
	if errors.As(err, &maxErr) {
		return nil, tooLarge
	} else if err != nil {
		return nil, userevents.Errorf(userevents.EINVALID, "The request body could not be read: %v; resend the request.", err)
	}
	return body, nil
}

// unsignedPayload reports whether the signature leaves the body out, as
// the SDK's signer does for content types other than JSON and BSON.
func unsignedPayload(r *http.Request) bool {
	for _, h := range []string{"X-Sdk-Content-Sha256", "X-Sdk-Content-Sm3"} {
		if r.Header.Get(h) == "UNSIGNED-PAYLOAD" {
			return true
		}
	}
	return false
}

// checkProject makes sure the path names a project of the caller's account.
func (s *Server) checkProject(c *call, projectID string) error {
	if projectID == "{project_id}" {
		return userevents.Errorf(userevents.EINVALID,
			"The path holds the placeholder {project_id} instead of a project id; give the SDK credentials a project id, or build the client WithRegion so it looks the id up.")
	}
	if h := c.r.Header.Get("X-Project-Id"); h != "" && h != projectID {
		return userevents.Errorf(userevents.EINVALID,
			"The X-Project-Id header %q differs from the project id %q in the path; send the same project id in both.", h, projectID)
	}
	p, err := s.Store.FindProjectByID(c.r.Context(), projectID)
	if userevents.ErrorCode(err) == userevents.ENOTFOUND || (err == nil && p.AccountID != c.principal.AccountID) {
		return userevents.Errorf(userevents.EFORBIDDEN,
			"Project %q does not belong to account %q; use a project id that GET /v3/projects returns for this account.",
			projectID, c.principal.AccountName)
	} else if err != nil {
		return fmt.Errorf("find project: %w", err)
	}
	c.projectID = projectID
	c.project = p
	return nil
}

// withMetrics records each request's route pattern, status and duration,
// and writes the access log line. The line has the path but not the query
// or any header, so no signature or token reaches the log.
func (s *Server) withMetrics(svc service) func(http.Handler) http.Handler {
	listener := svc.String()
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
			next.ServeHTTP(ww, r)
			route := "unmatched"
			if rc := chi.RouteContext(r.Context()); rc != nil && rc.RoutePattern() != "" {
				route = rc.RoutePattern()
			}
			status := ww.Status()
			if status == 0 {
				status = http.StatusOK
			}
			elapsed := time.Since(start)
			s.Metrics.ObserveRequest(listener, route, r.Method, status, elapsed)
			if route != "/livez" && route != "/readyz" && route != "/metrics" {
				s.Logger.Info("request", "request_id", requestID(r.Context()), "listener", listener,
					"method", r.Method, "path", r.URL.EscapedPath(), "route", route, "status", status,
					"duration", elapsed, "bytes", ww.BytesWritten(), "remote", r.RemoteAddr)
			}
		})
	}
}

type requestIDKey struct{}

// withRequestID gives every request a 32-hex id, in the X-Request-Id
// response header and in the context for logs.
func (s *Server) withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b [16]byte
		_, _ = rand.Read(b[:])
		id := hex.EncodeToString(b[:])
		w.Header().Set("X-Request-Id", id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id)))
	})
}

func requestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// withRecover turns a handler panic into a logged 500 with the API's error
// body instead of a dropped connection.
func (s *Server) withRecover(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.writeError(w, r, serviceWorkspace, fmt.Errorf("panic: %v", v))
			}
		}()
		next.ServeHTTP(w, r)
	})
}
