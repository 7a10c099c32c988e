package auth

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestCanonicalURI(t *testing.T) {
	tests := []struct {
		escaped string
		want    string
	}{
		{"", "/"},
		{"/", "/"},
		{"/path", "/path/"},
		{"/path/", "/path/"},
		{"//v2//x", "//v2//x/"},
		{"/v2/desk:01", "/v2/desk%3A01/"},
		{"/v2/desk%3a01", "/v2/desk%3A01/"},
		{"/v2/desk%253A01", "/v2/desk%253A01/"},
		{"/v2/a%2Fb", "/v2/a%2Fb/"},
		{"/v2/a+b", "/v2/a%2Bb/"},
		{"/v2/ann%20lee", "/v2/ann%20lee/"},
		{"/v2/%E6%A1%8C", "/v2/%E6%A1%8C/"},
		{"/v2/-._~*", "/v2/-._~%2A/"},
		{"/./x/../", "/./x/../"},
	}
	for _, tt := range tests {
		got, err := canonicalURI(tt.escaped)
		if err != nil {
			t.Errorf("canonicalURI(%q): %v", tt.escaped, err)
		} else if got != tt.want {
			t.Errorf("canonicalURI(%q) = %q, want %q", tt.escaped, got, tt.want)
		}
	}
}

func TestCanonicalURIInvalidEscape(t *testing.T) {
	for _, escaped := range []string{"/v2/%", "/v2/%zz/x", "/%2"} {
		if _, err := canonicalURI(escaped); err == nil {
			t.Errorf("canonicalURI(%q) returned no error", escaped)
		}
	}
}

func TestCanonicalQuery(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		want string
	}{
		{"empty", "", ""},
		{"sorted by name then value", "b=2&a=2&a=1", "a=1&a=2&b=2"},
		{
			"name that prefixes another",
			"event_type-x=1&limit=10&event_type=LOGIN",
			"event_type=LOGIN&event_type-x=1&limit=10",
		},
		{"upper case sorts first", "limit=1&Limit=2", "Limit=2&limit=1"},
		{"bare name", "username", "username="},
		{"plus sign reads as space", "u=ann+lee", "u=ann%20lee"},
		{"encoded plus sign", "u=ann%2Blee", "u=ann%2Blee"},
		{"decoded once", "r=desk%253A01", "r=desk%253A01"},
		{
			// The canonical query of the SDK's own canonicalQueryString test.
			"values of the SDK test",
			"test=%E4%B8%80+(%26%3D%3F!%23%25.*)&path=/tmp/123&multi=3&multi=1&multi=2&limit=1&enable=true",
			"enable=true&limit=1&multi=1&multi=2&multi=3&path=%2Ftmp%2F123" +
				"&test=%E4%B8%80%20%28%26%3D%3F%21%23%25.%2A%29",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := canonicalQuery(tt.raw)
			if err != nil {
				t.Fatalf("canonicalQuery(%q): %v", tt.raw, err)
			}
			if got != tt.want {
				t.Errorf("canonicalQuery(%q) = %q, want %q", tt.raw, got, tt.want)
			}
		})
	}
}

// TestCanonicalRequestSDKVector checks the whole canonical request of the
// GET case of the SDK's signer test.
func TestCanonicalRequestSDKVector(t *testing.T) {
	r := httptest.NewRequest(http.MethodGet, "https://example.huaweicloud.com/path?limit=1", nil)
	r.Header.Set("X-Sdk-Date", "20060102T150405Z")
	r.Header.Set("TEST_UNDERSCORE", "TEST_VALUE")
	a := &Authorization{Algorithm: HMACSHA256, SignedHeaders: []string{"x-sdk-date"}}

	got, err := canonicalRequest(r, a, nil)
	if err != nil {
		t.Fatalf("canonicalRequest: %v", err)
	}
	want := "GET\n" +
		"/path/\n" +
		"limit=1\n" +
		"x-sdk-date:20060102T150405Z\n" +
		"\n" +
		"x-sdk-date\n" +
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	if string(got) != want {
		t.Errorf("canonical request =\n%s\nwant\n%s", got, want)
	}
}

func TestCanonicalHeaders(t *testing.T) {
	r := httptest.NewRequest(http.MethodGet, "http://127.0.0.1:8080/", nil)
	r.Header.Add("X-Multi", " b ")
	r.Header.Add("X-Multi", "a")
	r.Header.Set("X-Sdk-Date", "20060102T150405Z")

	got, err := appendCanonicalHeaders(nil, r, []string{"host", "x-multi", "x-sdk-date"})
	if err != nil {
		t.Fatalf("appendCanonicalHeaders: %v", err)
	}
	want := "host:127.0.0.1:8080\nx-multi:a\nx-multi:b\nx-sdk-date:20060102T150405Z\n"
	if string(got) != want {
		t.Errorf("canonical headers = %q, want %q", got, want)
	}
}

func TestSM3Digest(t *testing.T) {
	// The "abc" example of GB/T 32905-2016, the SM3 standard.
	const want = "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
	if got := algorithms[HMACSM3].hashHex([]byte("abc")); got != want {
		t.Errorf("SM3(abc) = %s, want %s", got, want)
	}
}
