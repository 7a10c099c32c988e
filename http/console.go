package http

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/userevents/userevents"
)

// The web console is a static app (HTML, JavaScript and CSS, no build
// step) embedded in the binary and served by the Workspace listener at
// /console. The files are public. The console signs in with POST
// /v3/auth/tokens on the same listener and calls the JSON APIs with the
// token in X-Auth-Token, so every data request goes through the
// authenticated pipeline.

//go:embed console
var consoleFS embed.FS

// consoleCSP allows scripts, styles, images and fetches from the
// listener's own origin only. Without 'unsafe-inline', the browser runs no
// inline script or style attribute, so injected markup cannot run code.
// form-action 'none' blocks the sign-in form from ever being submitted
// as a navigation, where the browser could put the password in a URL.
const consoleCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// consoleTypes are the content types of the console's file extensions.
// They are fixed here, not read from the host's MIME tables, because
// nosniff makes the browser reject a script served with another type.
var consoleTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
}

// consoleFile is one embedded file with its response headers.
type consoleFile struct {
	body        []byte
	contentType string
	etag        string
}

// consoleFiles loads the embedded files by name. It panics when a file has
// an extension without a content type, which only a change to the
// embedded directory can cause.
func consoleFiles() map[string]consoleFile {
	files := map[string]consoleFile{}
	entries, err := fs.ReadDir(consoleFS, "console")
	if err != nil {
		panic("read embedded console: " + err.Error())
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		body, err := consoleFS.ReadFile("console/" + e.Name())
		if err != nil {
			panic("read embedded console: " + err.Error())
		}
		contentType, ok := consoleTypes[path.Ext(e.Name())]
		if !ok {
			panic("embedded console file " + e.Name() + " has no content type")
		}
		sum := sha256.Sum256(body)
		files[e.Name()] = consoleFile{
			body:        body,
			contentType: contentType,
			etag:        `"` + hex.EncodeToString(sum[:8]) + `"`,
		}
	}
	return files
}

// mountConsole adds the console's routes to a router. They are outside the
// API pipeline, like the health probes, so loading the app needs no
// credential.
func (s *Server) mountConsole(r chi.Router) {
	files := consoleFiles()
	r.Get("/console", func(w http.ResponseWriter, req *http.Request) {
		s.serveConsoleFile(w, req, files, "index.html")
	})
	r.Get("/console/{file}", func(w http.ResponseWriter, req *http.Request) {
		s.serveConsoleFile(w, req, files, chi.URLParam(req, "file"))
	})
}

func (s *Server) serveConsoleFile(w http.ResponseWriter, r *http.Request, files map[string]consoleFile, name string) {
	f, ok := files[name]
	if !ok {
		s.writeError(w, r, serviceWorkspace, userevents.Errorf(codeRouteNotFound,
			"Console file %q not found; open /console.", name))
		return
	}
	h := w.Header()
	h.Set("Content-Type", f.contentType)
	h.Set("Content-Security-Policy", consoleCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	// Revalidate on every load, so that a new server version never runs
	// with a cached script of an older one. The ETag makes that cheap.
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", f.etag)
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(f.body))
}
