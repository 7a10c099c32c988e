package auth

import (
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/userevents/userevents"
)

// maxQueryParams is the largest number of '&'-separated parts ParseQuery
// reads. It bounds the memory one request line can make the parser use.
const maxQueryParams = 10000

// ParseQuery decodes a raw query string exactly as Verify reads it when it
// builds the canonical query, so a handler that uses it filters on the
// values the signature covered.
//
// Parameters are separated by '&', and empty parameters are skipped. A
// parameter with no '=' has the value "". Names and values are
// percent-decoded once, with upper- or lower-case hex, and '+' reads as a
// space, as in application/x-www-form-urlencoded and Go's url.ParseQuery.
// The SDK itself never sends a raw '+': it sends a space as %20 and a plus
// sign as %2B. Names are case-sensitive because the SDK signs them as sent,
// so "Limit" and "limit" are different parameters. Values of a repeated name
// keep their order on the wire.
//
// ParseQuery returns a *userevents.Error with code EINVALID in three cases:
//
//   - a name or value has invalid percent-encoding;
//   - the query contains a raw ';', which some servers read as a separator
//     and others do not;
//   - the query has more than 10000 '&'-separated parts, which is also the
//     limit of Go's url.ParseQuery.
func ParseQuery(raw string) (url.Values, error) {
	if strings.Count(raw, "&") >= maxQueryParams {
		return nil, userevents.Errorf(userevents.EINVALID,
			"Query has more than %d parameters; send fewer.", maxQueryParams)
	}

	values := url.Values{}
	for param := range strings.SplitSeq(raw, "&") {
		if param == "" {
			continue
		}
		if strings.Contains(param, ";") {
			return nil, userevents.Errorf(userevents.EINVALID,
				"Query parameter %s contains a raw ';'; encode it as %%3B.", quote(param))
		}

		rawName, rawValue, _ := strings.Cut(param, "=")
		name, err := url.QueryUnescape(rawName)
		if err != nil {
			return nil, userevents.Errorf(userevents.EINVALID,
				"Query parameter name %s has invalid percent-encoding; encode '%%' as %%25.",
				quote(rawName))
		}
		value, err := url.QueryUnescape(rawValue)
		if err != nil {
			return nil, userevents.Errorf(userevents.EINVALID,
				"Value of query parameter %s has invalid percent-encoding; encode '%%' as %%25.",
				quote(name))
		}
		values[name] = append(values[name], value)
	}
	return values, nil
}

// appendCanonicalQuery appends the canonical query string of values to b.
// Names are sorted by byte value, and so are the values of each name. Each
// pair is written as name=value with both sides escaped, and pairs are
// joined by '&'. A parameter with an empty value is written as "name=".
func appendCanonicalQuery(b []byte, values url.Values) []byte {
	for i, name := range slices.Sorted(maps.Keys(values)) {
		sorted := slices.Sorted(slices.Values(values[name]))
		for j, value := range sorted {
			if i > 0 || j > 0 {
				b = append(b, '&')
			}
			b = appendEscaped(b, name)
			b = append(b, '=')
			b = appendEscaped(b, value)
		}
	}
	return b
}

// appendCanonicalURI appends the canonical URI of an escaped request path to
// b. Each '/'-separated segment is percent-decoded once and escaped again,
// so an encoded slash (%2F) stays inside its segment. Empty segments are
// kept, so "//v2" differs from "/v2". A '/' is appended unless the path
// already ends with one, so "/x" and "/x/" have the same canonical URI.
//
// It returns a *userevents.Error with code EINVALID when a segment has
// invalid percent-encoding.
func appendCanonicalURI(b []byte, escapedPath string) ([]byte, error) {
	for i, segment := range strings.Split(escapedPath, "/") {
		if i > 0 {
			b = append(b, '/')
		}
		decoded, err := url.PathUnescape(segment)
		if err != nil {
			return nil, userevents.Errorf(userevents.EINVALID,
				"Request path %s has invalid percent-encoding; encode '%%' as %%25.",
				quote(escapedPath))
		}
		b = appendEscaped(b, decoded)
	}
	if len(b) == 0 || b[len(b)-1] != '/' {
		b = append(b, '/')
	}
	return b, nil
}

// canonicalURI returns the canonical URI of an escaped request path; see
// appendCanonicalURI.
func canonicalURI(escapedPath string) (string, error) {
	b, err := appendCanonicalURI(nil, escapedPath)
	return string(b), err
}

// canonicalQuery returns the canonical query string of a raw query; see
// ParseQuery and appendCanonicalQuery.
func canonicalQuery(rawQuery string) (string, error) {
	values, err := ParseQuery(rawQuery)
	if err != nil {
		return "", err
	}
	return string(appendCanonicalQuery(nil, values)), nil
}

const upperHex = "0123456789ABCDEF"

// appendEscaped appends s to b with every byte other than the RFC 3986
// unreserved characters (A-Z a-z 0-9 - . _ ~) written as %XX in upper-case
// hex. The signer escapes path segments, query names and query values this
// way, so a space is %20 and never '+'.
func appendEscaped(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isUnreserved(c) {
			b = append(b, c)
			continue
		}
		b = append(b, '%', upperHex[c>>4], upperHex[c&0x0f])
	}
	return b
}

func isUnreserved(c byte) bool {
	switch {
	case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		return true
	case c == '-', c == '.', c == '_', c == '~':
		return true
	}
	return false
}

// quote returns s in Go quoted form for an error message, cut to 64 bytes so
// that a long input does not flood the message.
func quote(s string) string {
	const maxLen = 64
	if len(s) <= maxLen {
		return strconv.Quote(s)
	}
	return strconv.Quote(s[:maxLen]) + " (truncated)"
}
