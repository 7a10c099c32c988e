package http

import (
	"encoding/json"
	"maps"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/go-json-experiment/json/jsontext"
)

// The OpenAPI document is generated from the route tables, so every route
// served is documented. Schemas come from the request and response types
// by reflection over their json tags.

// param is a documented query parameter.
type param struct {
	name        string
	typ         string // string, integer or boolean
	required    bool
	description string
}

// doc is the documentation of one route.
type doc struct {
	summary  string
	query    []param
	request  any // zero value of the body type, nil for no body
	response any // zero value of the success body type, nil for none
	status   int // success status; zero means 200
}

var (
	openAPIOnce sync.Once
	openAPIBody []byte
)

// openAPI serves the OpenAPI 3 document of all three listeners.
func (s *Server) openAPI(w http.ResponseWriter, _ *http.Request) {
	openAPIOnce.Do(func() {
		var err error
		openAPIBody, err = json.Marshal(s.openAPIDocument())
		if err != nil {
			panic("encode OpenAPI document: " + err.Error())
		}
	})
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(openAPIBody)
}

// listenerRoutes returns the routes of every listener by its name. It
// builds the three routers, which record their route tables.
func (s *Server) listenerRoutes() map[string][]route {
	s.Workspace()
	s.LTS()
	s.IAM()
	out := map[string][]route{}
	s.routeTables.Range(func(k, v any) bool {
		out[k.(service).String()] = v.([]route)
		return true
	})
	return out
}

var pathParam = regexp.MustCompile(`\{([a-z_]+)\}`)

func (s *Server) openAPIDocument() map[string]any {
	paths := map[string]map[string]any{}
	routes := s.listenerRoutes()
	// Listeners go in name order, so that an operation served by more than
	// one (POST /v3/auth/tokens on the IAM and Workspace listeners) is
	// documented the same way on every build: see addListener.
	for _, listener := range slices.Sorted(maps.Keys(routes)) {
		for _, rt := range routes[listener] {
			method := strings.ToLower(rt.method)
			if paths[rt.pattern] == nil {
				paths[rt.pattern] = map[string]any{}
			}
			if op, ok := paths[rt.pattern][method].(map[string]any); ok {
				addListener(op, listener, rt)
				continue
			}
			paths[rt.pattern][method] = operation(listener, rt)
		}
	}

	for _, p := range []string{"/livez", "/readyz", "/metrics", "/openapi.json"} {
		paths[p] = map[string]any{"get": map[string]any{
			"summary":   healthSummaries[p],
			"tags":      []string{"Operations"},
			"security":  []any{},
			"responses": map[string]any{"200": map[string]any{"description": "OK"}},
		}}
	}

	// The console's routes serve embedded files outside the API pipeline,
	// like the probes above, so no route table records them. They are
	// documented by hand, not skipped, so that every served route stays
	// in this document.
	paths["/console"] = map[string]any{"get": consoleOperation(
		"Web console page, unauthenticated; Workspace listener only", nil)}
	paths["/console/{file}"] = map[string]any{"get": consoleOperation(
		"Web console script, stylesheet or icon, unauthenticated; Workspace listener only",
		[]any{map[string]any{"name": "file", "in": "path", "required": true,
			"schema": map[string]any{"type": "string"}}})}

	return map[string]any{
		"openapi": "3.0.3",
		"info": map[string]any{
			"title":   "userevents",
			"version": "1",
			"description": "Huawei Cloud Workspace user events, a built-in LTS and IAM. " +
				"Workspace routes are served on the Workspace listener (default 127.0.0.1:8080), " +
				"LTS routes on the LTS listener (127.0.0.1:8081), IAM routes on the IAM listener (127.0.0.1:8082); " +
				"the health, metrics and OpenAPI routes on all three; the web console (/console) on the Workspace listener.",
		},
		"paths": paths,
		"components": map[string]any{
			"securitySchemes": map[string]any{
				"akSk": map[string]any{"type": "apiKey", "in": "header", "name": "Authorization",
					"description": "SDK-HMAC-SHA256 Access=AK, SignedHeaders=…, Signature=…, with X-Sdk-Date"},
				"authToken": map[string]any{"type": "apiKey", "in": "header", "name": "X-Auth-Token",
					"description": "IAM token: the X-Subject-Token header of POST /v3/auth/tokens. " +
						"A project-scoped token is accepted only on its project's paths."},
			},
			"schemas": map[string]any{"Error": map[string]any{
				"type": "object",
				"properties": map[string]any{
					"error_code": map[string]any{"type": "string"},
					"error_msg":  map[string]any{"type": "string"},
				},
			}},
		},
		// Either scheme authenticates a request: entries of this list are
		// alternatives.
		"security": []any{map[string]any{"akSk": []string{}}, map[string]any{"authToken": []string{}}},
	}
}

var healthSummaries = map[string]string{
	"/livez":        "Liveness probe, unauthenticated",
	"/readyz":       "Readiness probe, unauthenticated: 503 while starting or draining",
	"/metrics":      "Prometheus metrics, unauthenticated",
	"/openapi.json": "This OpenAPI document, unauthenticated",
}

// addListener adds a further listener of the same method and path to its
// operation: the listener's tag, and the route's summary in the
// description when it differs from the operation's.
func addListener(op map[string]any, listener string, rt route) {
	op["tags"] = append(op["tags"].([]string), listener)
	if rt.doc.summary == "" || rt.doc.summary == op["summary"] {
		return
	}
	note := "On the " + listener + " listener: " + rt.doc.summary + "."
	if d, ok := op["description"].(string); ok && d != "" {
		note = d + "\n\n" + note
	}
	op["description"] = note
}

// consoleOperation documents a GET route of the web console.
func consoleOperation(summary string, params []any) map[string]any {
	op := map[string]any{
		"summary":  summary,
		"tags":     []string{"Console"},
		"security": []any{},
		"responses": map[string]any{
			"200": map[string]any{"description": "The file, with a Content-Security-Policy header"},
			"404": map[string]any{"description": "No such console file"},
		},
	}
	if params != nil {
		op["parameters"] = params
	}
	return op
}

func operation(listener string, rt route) map[string]any {
	op := map[string]any{
		"summary": rt.doc.summary,
		"tags":    []string{listener},
	}
	if rt.action != "" {
		op["description"] = "Identity-policy action: " + rt.action
	}
	if passwordAuthenticated(rt) {
		op["security"] = []any{}
		op["description"] = "No AK/SK signature or token: the password in the body is the credential."
	}
	var params []any
	for _, m := range pathParam.FindAllStringSubmatch(rt.pattern, -1) {
		params = append(params, map[string]any{
			"name": m[1], "in": "path", "required": true, "schema": map[string]any{"type": "string"},
		})
	}
	for _, q := range rt.doc.query {
		params = append(params, map[string]any{
			"name": q.name, "in": "query", "required": q.required, "description": q.description,
			"schema": map[string]any{"type": q.typ},
		})
	}
	if len(params) > 0 {
		op["parameters"] = params
	}
	if rt.doc.request != nil {
		op["requestBody"] = map[string]any{
			"required": true,
			"content":  map[string]any{"application/json": map[string]any{"schema": schemaOf(reflect.TypeOf(rt.doc.request))}},
		}
	}
	status := rt.doc.status
	if status == 0 {
		status = http.StatusOK
	}
	success := map[string]any{"description": http.StatusText(status)}
	if rt.doc.response != nil {
		success["content"] = map[string]any{"application/json": map[string]any{"schema": schemaOf(reflect.TypeOf(rt.doc.response))}}
	}
	errorResponse := map[string]any{
		"description": "Error; see docs/errors.md",
		"content":     map[string]any{"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Error"}}},
	}
	op["responses"] = map[string]any{
		strconv.Itoa(status): success,
		"default":            errorResponse,
	}
	return op
}

// passwordAuthenticated reports whether the route takes its credential from
// the password in the body, so that it needs no security scheme. It checks
// the same method and pattern as authenticate.
func passwordAuthenticated(rt route) bool {
	return rt.method == http.MethodPost && rt.pattern == tokensPath
}

var rawJSONType = reflect.TypeOf(jsontext.Value(nil))

// schemaOf returns the JSON schema of a Go type as encoded by its json tags.
func schemaOf(t reflect.Type) map[string]any {
	if t == rawJSONType {
		return map[string]any{}
	}
	switch t.Kind() {
	case reflect.Pointer:
		return schemaOf(t.Elem())
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int32, reflect.Int64:
		return map[string]any{"type": "integer"}
	case reflect.Slice:
		return map[string]any{"type": "array", "items": schemaOf(t.Elem())}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": schemaOf(t.Elem())}
	case reflect.Struct:
		props := map[string]any{}
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "" || name == "-" || !f.IsExported() {
				continue
			}
			props[name] = schemaOf(f.Type)
		}
		return map[string]any{"type": "object", "properties": props}
	default:
		return map[string]any{}
	}
}
