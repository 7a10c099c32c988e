package http_test

import (
	"encoding/json"
	"net/http"
	"slices"
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
			if o.Summary == "" {
				t.Errorf("%s %s has no summary", method, path)
			}
		}
	}
}

func TestOpenAPISecurity(t *testing.T) {
	env := uetest.Start(t, uetest.Options{NoWorker: true})
	resp, err := http.Get(env.IAMURL + "/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var d struct {
		Security   []map[string][]string `json:"security"`
		Components struct {
			SecuritySchemes map[string]struct {
				Type string `json:"type"`
				In   string `json:"in"`
				Name string `json:"name"`
			} `json:"securitySchemes"`
		} `json:"components"`
		Paths map[string]map[string]struct {
			Security *[]any `json:"security"`
		} `json:"paths"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&d); err != nil {
		t.Fatalf("decode openapi.json: %v", err)
	}

	token := d.Components.SecuritySchemes["authToken"]
	if token.Type != "apiKey" || token.In != "header" || token.Name != "X-Auth-Token" {
		t.Errorf("authToken scheme = %+v, want an apiKey in header X-Auth-Token", token)
	}
	var alternatives []string
	for _, requirement := range d.Security {
		for name := range requirement {
			alternatives = append(alternatives, name)
		}
		if len(requirement) != 1 {
			t.Errorf("security requirement %v combines schemes; each must be an alternative", requirement)
		}
	}
	if len(alternatives) != 2 || !slices.Contains(alternatives, "akSk") || !slices.Contains(alternatives, "authToken") {
		t.Errorf("top-level security = %v, want akSk or authToken", d.Security)
	}

	public := []struct{ method, path string }{
		{"post", "/v3/auth/tokens"},
		{"get", "/livez"},
		{"get", "/readyz"},
		{"get", "/metrics"},
		{"get", "/openapi.json"},
		{"get", "/console"},
		{"get", "/console/{file}"},
	}
	for _, p := range public {
		op, ok := d.Paths[p.path][p.method]
		if !ok {
			t.Errorf("%s %s is not documented", p.method, p.path)
			continue
		}
		if op.Security == nil || len(*op.Security) != 0 {
			t.Errorf("%s %s: security = %v, want [] (no credential)", p.method, p.path, op.Security)
		}
	}
	for _, p := range []struct{ method, path string }{{"get", "/v3/auth/tokens"}, {"get", "/v5/users"}} {
		if op := d.Paths[p.path][p.method]; op.Security != nil {
			t.Errorf("%s %s: security = %v, want the top-level schemes", p.method, p.path, *op.Security)
		}
	}
}
