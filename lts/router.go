package lts

import (
	"context"

	"github.com/userevents/userevents/export"
)

// Router sends each project's lines to the remote LTS configured for it,
// then to Default, and otherwise to Builtin, the built-in LTS.
type Router struct {
	Projects map[string]*Client // by local project id
	Default  *Client            // nil: projects without an entry use Builtin
	Builtin  export.Sink
}

var _ export.Sink = (*Router)(nil)

func (r *Router) client(projectID string) *Client {
	if c := r.Projects[projectID]; c != nil {
		return c
	}
	return r.Default
}

// Handles reports whether the project delivers to a remote LTS, so that its
// LTS configuration is checked there and not in the built-in LTS.
func (r *Router) Handles(projectID string) bool { return r.client(projectID) != nil }

// CheckLogStream checks the stream in the project's remote LTS. Call it
// only for projects that Handles reports.
func (r *Router) CheckLogStream(ctx context.Context, projectID, groupID, streamID string) error {
	return r.client(projectID).CheckLogStream(ctx, projectID, groupID, streamID)
}

// Send implements export.Sink.
func (r *Router) Send(ctx context.Context, t export.Target, lines []export.Line) error {
	if c := r.client(t.ProjectID); c != nil {
		return c.Send(ctx, t, lines)
	}
	return r.Builtin.Send(ctx, t, lines)
}
