package http_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"

	"github.com/userevents/userevents/uetest"
)

type openAPIDoc struct {
	OpenAPI string                                `json:"openapi"`
	Paths   map[string]map[string]json.RawMessage `json:"paths"`
}

func fetchOpenAPI(t *testing.T, base string) openAPIDoc {
	t.Helper()
	resp, err := http.Get(base + "/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var d openAPIDoc
	if err := json.NewDecoder(resp.Body).Decode(&d); err != nil {
		t.Fatalf("decode openapi.json: %v", err)
	}
	return d
}

func TestOpenAPIMatchesRoutes(t *testing.T) {
	env := uetest.Start(t, uetest.Options{NoWorker: true})
	d := fetchOpenAPI(t, env.WorkspaceURL)
	if !strings.HasPrefix(d.OpenAPI, "3.") {
		t.Fatalf("openapi = %q, want 3.x", d.OpenAPI)
	}
	for _, base := range []string{env.LTSURL, env.IAMURL} {
		if other := fetchOpenAPI(t, base); len(other.Paths) != len(d.Paths) {
			t.Errorf("%s serves %d paths, workspace %d", base, len(other.Paths), len(d.Paths))
		}
	}

	served := map[string]bool{}
	for _, h := range []http.Handler{env.Server.Workspace(), env.Server.LTS(), env.Server.IAM()} {
		err := chi.Walk(h.(chi.Routes), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
			route = strings.TrimSuffix(route, "/")
			served[strings.ToLower(method)+" "+route] = true
			if _, ok := d.Paths[route][strings.ToLower(method)]; !ok {
				t.Errorf("%s %s is served but not documented", method, route)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for path, ops := range d.Paths {
		for method, op := range ops {
			if !served[method+" "+path] {
				t.Errorf("%s %s is documented but not served", method, path)
			}
			var o struct {
				Summary string `json:"summary"`
			}
			_ = json.Unmarshal(op, &o)
			if o.Summary == "" && !strings.HasPrefix(path, "/v3") && !strings.HasPrefix(path, "/v5") {
				t.Errorf("%s %s has no summary", method, path)
			}
		}
	}
}
