package http

import (
	"regexp"
	"testing"
	"time"
)

// strictRFC3339 is the grammar ParseTime accepts, written independently
// of its hand-written checker.
var strictRFC3339 = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$`)

func FuzzParseTime(f *testing.F) {
	for _, seed := range []string{
		"2024-05-01T00:00:00Z", "2024-05-01T00:00:00.123456789Z", "2024-05-01T08:00:00+08:00",
		"2024-05-01T0:00:00Z", "2024-05-01T00:00:00+-0:+0", "2024-05-01t00:00:00z", "2024-02-30T00:00:00Z",
		"2024-05-01T00:00:00.Z", "2024-05-01T00:00:00.1234567890Z", "", "Z", "2024-05-01T24:00:00Z",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := ParseTime(s)
		if !ok {
			return
		}
		if !strictRFC3339.MatchString(s) {
			t.Fatalf("ParseTime accepted %q, which is outside the strict grammar", s)
		}
		want, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatalf("ParseTime accepted %q, which time.Parse rejects: %v", s, err)
		}
		if !got.Equal(want) || got.Location() != time.UTC {
			t.Fatalf("ParseTime(%q) = %v, want %v in UTC", s, got, want)
		}
		again, ok := ParseTime(got.Format(time.RFC3339Nano))
		if !ok || !again.Equal(got) {
			t.Fatalf("ParseTime does not accept its own output for %q", s)
		}
	})
}

func FuzzQueryInt(f *testing.F) {
	for _, seed := range []string{"0", "1000", "-1", "", "1e3", "０", "99999999999999999999", " 5"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, v string) {
		n, err := queryInt(map[string][]string{"limit": {v}}, "limit", 100, 0, 1000)
		if err == nil && (n < 0 || n > 1000) {
			t.Fatalf("queryInt(%q) = %d, outside [0, 1000]", v, n)
		}
	})
}
