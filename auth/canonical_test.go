package auth_test

import (
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/signer/algorithm"

	"github.com/userevents/userevents"
	"github.com/userevents/userevents/auth"
)

// TestVerifyQueryForms signs each query with the SDK over the values it
// means, optionally sends it spelled another way, and checks both that the
// signature verifies or fails and that ParseQuery on the server reads the
// values the client meant.
func TestVerifyQueryForms(t *testing.T) {
	tests := []struct {
		name    string
		signed  map[string]any // values the SDK signs
		sdkWire string         // raw query the SDK must send; empty skips the check
		wire    string         // raw query sent in place of the SDK's; empty sends the SDK's
		want    url.Values     // ParseQuery on the server; nil when verification must fail
	}{
		{
			name:    "colon percent-encoded",
			signed:  map[string]any{"resource_name": "desk:01"},
			sdkWire: "resource_name=desk%3A01",
			want:    url.Values{"resource_name": {"desk:01"}},
		},
		{
			name:   "colon sent raw",
			signed: map[string]any{"resource_name": "desk:01"},
			wire:   "resource_name=desk:01",
			want:   url.Values{"resource_name": {"desk:01"}},
		},
		{
			name:    "space as %20",
			signed:  map[string]any{"username": "ann lee"},
			sdkWire: "username=ann%20lee",
			want:    url.Values{"username": {"ann lee"}},
		},
		{
			name:    "plus sign as %2B",
			signed:  map[string]any{"username": "ann+lee"},
			sdkWire: "username=ann%2Blee",
			want:    url.Values{"username": {"ann+lee"}},
		},
		{
			name:   "raw plus reads as space",
			signed: map[string]any{"username": "ann lee"},
			wire:   "username=ann+lee",
			want:   url.Values{"username": {"ann lee"}},
		},
		{
			name:   "raw plus signed as plus sign",
			signed: map[string]any{"username": "ann+lee"},
			wire:   "username=ann+lee",
		},
		{
			name:    "double encoding decoded once",
			signed:  map[string]any{"resource_name": "desk%3A01"},
			sdkWire: "resource_name=desk%253A01",
			want:    url.Values{"resource_name": {"desk%3A01"}},
		},
		{
			name:   "double-encoded signature with single-encoded wire",
			signed: map[string]any{"resource_name": "desk%3A01"},
			wire:   "resource_name=desk%3A01",
		},
		{
			name:    "utf-8 upper-case hex",
			signed:  map[string]any{"resource_name": "桌面"},
			sdkWire: "resource_name=%E6%A1%8C%E9%9D%A2",
			want:    url.Values{"resource_name": {"桌面"}},
		},
		{
			name:   "utf-8 lower-case hex",
			signed: map[string]any{"resource_name": "桌面"},
			wire:   "resource_name=%e6%a1%8c%e9%9d%a2",
			want:   url.Values{"resource_name": {"桌面"}},
		},
		{
			name: "name that prefixes another",
			signed: map[string]any{
				"start_time":   "2024-05-01T00:00:00Z",
				"end_time":     "2024-05-02T00:00:00Z",
				"event_type":   "LOGIN",
				"event_type-x": "1",
				"limit":        10,
			},
			want: url.Values{
				"start_time":   {"2024-05-01T00:00:00Z"},
				"end_time":     {"2024-05-02T00:00:00Z"},
				"event_type":   {"LOGIN"},
				"event_type-x": {"1"},
				"limit":        {"10"},
			},
		},
		{
			name:    "repeated name out of order",
			signed:  map[string]any{"event_type": []string{"LOGOUT", "LOGIN"}},
			sdkWire: "event_type=LOGOUT&event_type=LOGIN",
			want:    url.Values{"event_type": {"LOGOUT", "LOGIN"}},
		},
		{
			name:   "repeated name reordered after signing",
			signed: map[string]any{"event_type": []string{"LOGOUT", "LOGIN"}},
			wire:   "event_type=LOGIN&event_type=LOGOUT",
			want:   url.Values{"event_type": {"LOGIN", "LOGOUT"}},
		},
		{
			name:    "name case kept",
			signed:  map[string]any{"Limit": 10},
			sdkWire: "Limit=10",
			want:    url.Values{"Limit": {"10"}},
		},
		{
			name:   "name case changed after signing",
			signed: map[string]any{"limit": 10},
			wire:   "Limit=10",
		},
		{
			name:    "bare name",
			signed:  map[string]any{"username": ""},
			sdkWire: "username",
			want:    url.Values{"username": {""}},
		},
		{
			name:   "bare name sent with equals sign",
			signed: map[string]any{"username": ""},
			wire:   "username=",
			want:   url.Values{"username": {""}},
		},
		{
			name:    "bare name and value",
			signed:  map[string]any{"offset": "", "limit": 10},
			sdkWire: "limit=10&offset",
			want:    url.Values{"offset": {""}, "limit": {"10"}},
		},
		{
			name:   "empty parameters skipped",
			signed: map[string]any{"limit": 10},
			wire:   "&limit=10&&",
			want:   url.Values{"limit": {"10"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startServer(t, newVerifier(permanentKey()))
			sr := sdkRequest{path: eventsPath, query: tt.signed}
			req := sr.sign(t, srv.URL, sdkSigner(t, algorithm.HmacSHA256), testAK, testSK)
			if tt.sdkWire != "" && req.URL.RawQuery != tt.sdkWire {
				t.Fatalf("SDK sent query %q, want %q", req.URL.RawQuery, tt.sdkWire)
			}
			if tt.wire != "" {
				req.URL.RawQuery = tt.wire
			}

			res := srv.do(t, req)
			if tt.want == nil {
				wantError(t, res.err, userevents.EUNAUTHENTICATED, "Signature does not match")
				return
			}
			wantVerified(t, res)
			if !reflect.DeepEqual(res.query, tt.want) {
				t.Errorf("ParseQuery(%q) = %v, want %v", res.rawQuery, res.query, tt.want)
			}
		})
	}
}

func TestVerifyMalformedQuery(t *testing.T) {
	tests := []struct {
		name     string
		wire     string
		fragment string
	}{
		{"bad escape in value", "username=%zz", `Value of query parameter "username" has invalid percent-encoding`},
		{"truncated escape in name", "user%4=a", `Query parameter name "user%4" has invalid percent-encoding`},
		{"raw semicolon", "username=a;b", "contains a raw ';'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startServer(t, newVerifier(permanentKey()))
			sr := sdkRequest{path: eventsPath, query: map[string]any{"username": "a"}}
			req := sr.sign(t, srv.URL, sdkSigner(t, algorithm.HmacSHA256), testAK, testSK)
			req.URL.RawQuery = tt.wire
			wantError(t, srv.do(t, req).err, userevents.EINVALID, tt.fragment)
		})
	}
}

// TestVerifyPathForms signs each path with the SDK and optionally sends it
// spelled another way.
func TestVerifyPathForms(t *testing.T) {
	tests := []struct {
		name   string
		signed string // path the SDK signs, unescaped as the SDK holds it
		wire   string // escaped path sent in place of the SDK's; empty sends the SDK's
		ok     bool
	}{
		{"trailing slash", ltsPath + "/", "", true},
		{"trailing slash added after signing", eventsPath, eventsPath + "/", true},
		{"trailing slash removed after signing", eventsPath + "/", eventsPath, true},
		{"doubled leading slash", "/" + eventsPath, "", true},
		{"doubled slash inside", "/v2//" + testProject + "/user-events", "", true},
		{"doubled slash collapsed after signing", "/" + eventsPath, eventsPath, false},
		{"doubled slash added after signing", eventsPath, "/" + eventsPath, false},
		{"colon in segment", eventsPath + "/desk:01", "", true},
		{"colon percent-encoded on the wire", eventsPath + "/desk:01", eventsPath + "/desk%3a01", true},
		{"space in segment", eventsPath + "/ann lee", "", true},
		{"utf-8 segment", eventsPath + "/桌面", "", true},
		{"encoded slash stays in its segment", eventsPath + "/a/b", eventsPath + "/a%2Fb", false},
		{"dot segment kept", eventsPath + "/./x", "", true},
		{"dot segment removed after signing", eventsPath + "/./x", eventsPath + "/x", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startServer(t, newVerifier(permanentKey()))
			sr := sdkRequest{path: tt.signed}
			if tt.signed == ltsPath+"/" {
				sr.method, sr.body = "POST", map[string]bool{"enable": true}
			}
			req := sr.sign(t, srv.URL, sdkSigner(t, algorithm.HmacSHA256), testAK, testSK)
			if tt.wire != "" {
				path, err := url.PathUnescape(tt.wire)
				if err != nil {
					t.Fatalf("unescape %q: %v", tt.wire, err)
				}
				req.URL.Path, req.URL.RawPath = path, tt.wire
			}

			res := srv.do(t, req)
			if want := req.URL.EscapedPath(); res.path != want {
				t.Fatalf("server received path %q, want %q", res.path, want)
			}
			if tt.ok {
				wantVerified(t, res)
				return
			}
			wantError(t, res.err, userevents.EUNAUTHENTICATED, "Signature does not match")
		})
	}
}

func TestParseQuery(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		want url.Values
	}{
		{"empty", "", url.Values{}},
		{"plus sign reads as space", "username=ann+lee", url.Values{"username": {"ann lee"}}},
		{"encoded plus sign", "username=ann%2Blee", url.Values{"username": {"ann+lee"}}},
		{"decoded once", "resource_name=desk%253A01", url.Values{"resource_name": {"desk%3A01"}}},
		{"lower-case hex", "q=%e6%a1%8c", url.Values{"q": {"桌"}}},
		{"bare name", "username", url.Values{"username": {""}}},
		{"empty name", "=v", url.Values{"": {"v"}}},
		{"equals sign in value", "a=b=c", url.Values{"a": {"b=c"}}},
		{"names are case-sensitive", "Limit=1&limit=2", url.Values{"Limit": {"1"}, "limit": {"2"}}},
		{"repeated name keeps order", "e=2&e=1&e=2", url.Values{"e": {"2", "1", "2"}}},
		{"encoded name", "event%5Ftype=x", url.Values{"event_type": {"x"}}},
		{"empty parameters skipped", "&&a=1&", url.Values{"a": {"1"}}},
		{"invalid utf-8 kept as bytes", "a=%ff", url.Values{"a": {"\xff"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := auth.ParseQuery(tt.raw)
			if err != nil {
				t.Fatalf("ParseQuery(%q): %v", tt.raw, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseQuery(%q) = %v, want %v", tt.raw, got, tt.want)
			}
		})
	}
}

func TestParseQueryErrors(t *testing.T) {
	for _, raw := range []string{"a=%", "a=%2", "a=%g0", "%zz=1", "a=1;b=2", "a;b"} {
		t.Run(raw, func(t *testing.T) {
			_, err := auth.ParseQuery(raw)
			if code := userevents.ErrorCode(err); code != userevents.EINVALID {
				t.Errorf("ParseQuery(%q) error code = %q, want %q (error: %v)",
					raw, code, userevents.EINVALID, err)
			}
		})
	}
}

func TestParseQueryParameterLimit(t *testing.T) {
	raw := strings.Repeat("a=1&", 9999) + "a=1"
	values, err := auth.ParseQuery(raw)
	if err != nil {
		t.Fatalf("ParseQuery of 10000 parameters: %v", err)
	}
	if n := len(values["a"]); n != 10000 {
		t.Errorf("ParseQuery read %d values, want 10000", n)
	}

	_, err = auth.ParseQuery(raw + "&a=1")
	wantError(t, err, userevents.EINVALID, "more than 10000 parameters")
}
