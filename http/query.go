package http

import (
	"net/url"
	"strconv"
	"time"

	"github.com/userevents/userevents"
)

// ParseTime parses an RFC 3339 date-time strictly: the layout is
// YYYY-MM-DDThh:mm:ss, an optional fraction of 1 to 9 digits, then Z or an
// offset ±hh:mm. Upper-case T and Z only; every field has its full width.
// Go's time.Parse alone accepts one-digit hours and offsets such as
// +-0:+0, so the grammar is checked here first. Offsets are converted to
// UTC.
func ParseTime(s string) (time.Time, bool) {
	if !validTimeSyntax(s) {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, false
	}
	// An offset can move 0000-01-01 or 9999-12-31 out of the four-digit
	// years, which RFC 3339 cannot print in UTC.
	if y := t.UTC().Year(); y < 1 || y > 9999 {
		return time.Time{}, false
	}
	return t.UTC(), true
}

func validTimeSyntax(s string) bool {
	const head = "dddd-dd-ddTdd:dd:dd"
	if len(s) < len(head)+1 {
		return false
	}
	for i := 0; i < len(head); i++ {
		if !matchLayoutByte(head[i], s[i]) {
			return false
		}
	}
	rest := s[len(head):]
	if rest[0] == '.' {
		n := 1
		for n < len(rest) && isDigit(rest[n]) {
			n++
		}
		if n == 1 || n > 10 {
			return false
		}
		rest = rest[n:]
	}
	switch {
	case rest == "Z":
		return true
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-'):
		// RFC 3339 offsets run from 00:00 to 23:59.
		return isDigit(rest[1]) && isDigit(rest[2]) && rest[3] == ':' && isDigit(rest[4]) && isDigit(rest[5]) &&
			(rest[1] < '2' || rest[1] == '2' && rest[2] <= '3') && rest[4] <= '5'
	default:
		return false
	}
}

func matchLayoutByte(layout, c byte) bool {
	if layout == 'd' {
		return isDigit(c)
	}
	return layout == c
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// FormatTime prints a time as the Workspace API does: UTC, whole seconds,
// YYYY-MM-DDThh:mm:ssZ.
func FormatTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05Z")
}

// repeated returns an error when a single-valued parameter is given more
// than once, so that a request never means one of two values by accident.
func repeated(q url.Values, name string) error {
	if len(q[name]) > 1 {
		return userevents.Errorf(userevents.EINVALID,
			"The query parameter %s is given %d times; give it once.", name, len(q[name]))
	}
	return nil
}

// queryTime reads a required time parameter.
func queryTime(q url.Values, name string) (time.Time, error) {
	if err := repeated(q, name); err != nil {
		return time.Time{}, err
	}
	v, ok := q[name]
	if !ok || len(v) == 0 || v[0] == "" {
		return time.Time{}, userevents.Errorf(userevents.EINVALID,
			"The query parameter %s is required; give a UTC time such as 2024-05-01T00:00:00Z.", name)
	}
	t, ok := ParseTime(v[0])
	if !ok {
		return time.Time{}, userevents.Errorf(userevents.EINVALID,
			"The query parameter %s=%q is not an RFC 3339 time; use the form 2024-05-01T00:00:00Z (optional fraction, Z or an offset such as +08:00).",
			name, v[0])
	}
	return t, nil
}

// queryInt reads an optional integer parameter within [min, max]. A
// parameter present without a value is invalid, not absent.
func queryInt(q url.Values, name string, def, min, max int) (int, error) {
	if err := repeated(q, name); err != nil {
		return 0, err
	}
	v, ok := q[name]
	if !ok || len(v) == 0 {
		return def, nil
	}
	n, err := strconv.Atoi(v[0])
	if err != nil || !isDigit(v[0][0]) && v[0][0] != '-' {
		return 0, userevents.Errorf(userevents.EINVALID,
			"The query parameter %s=%q must be an integer from %d to %d.", name, v[0], min, max)
	}
	if n < min || n > max {
		return 0, userevents.Errorf(userevents.EINVALID,
			"The query parameter %s=%d is out of range; use an integer from %d to %d.", name, n, min, max)
	}
	return n, nil
}

// queryString reads an optional filter parameter. An empty value, as a bare
// key like ?username gives, does not filter.
func queryString(q url.Values, name string) *string {
	v := q.Get(name)
	if v == "" {
		return nil
	}
	return &v
}
