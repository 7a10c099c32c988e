package policy

import (
	"bytes"
	"testing"

	"github.com/go-json-experiment/json"

	"github.com/userevents/userevents"
)

// FuzzParse checks that Parse never panics, fails only with EINVALID, and
// that a parsed document, marshalled and parsed again, marshals to the
// same bytes and decides the same way on requests built from it. Random
// bytes rarely form a valid policy, so the fuzzed strings are also placed
// into the Action, Resource and Condition of a policy template.
func FuzzParse(f *testing.F) {
	seeds := []string{
		policyOf(`{"Effect":"Allow","Action":"*"}`),
		`{"Version":"5.0","Statement":{"Effect":"Deny","NotAction":"lts:*","NotResource":"*"}}`,
		policyOf(`{"Sid":"A","Effect":"Allow","Action":["lts:*:list*","lts:logStream:?et"],"Resource":["lts:cn-north-4:*:logGroup:*","*"]}`),
		policyOf(`{"Effect":"Allow","Action":"obs:*","Resource":"obs::acc:object:b/a:b","Condition":{
			"StringEndWithIfExists":{"g:UserName":["specialCharacter"]},"Bool":{"g:MFAPresent":[true]},
			"ForAnyValue:StringNotEquals":{"g:RequestTag/owner":["Alice","Jack"]},
			"IpAddress":{"g:SourceIp":["192.0.2.0/24","2001:db8::/32"]},"Null":{"g:UserId":"false"},
			"NumberGreaterThanEquals":{"g:Count":10},"DateLessThan":{"g:CurrentTime":"2026-01-01T00:00:00Z"}}}`),
		policyOf(`{"Effect":"Allow","Action":"*"},{"Effect":"Deny","Action":"lts:*","Condition":{"NotIpAddress":{"g:SourceIp":"10.0.0.0/8"}}}`),
		`{"Version":"1.1","Statement":[]}`,
		`{"Version":"5.0","Statement":[{"Effect":"Allow","Action":"a","Action":"b"}]}`,
		`{"Version":"5.0","Statement":[{"Effect":"allow","Action":"*","Condition":{"StringEquals":{"g:a":"x","G:A":"y"}}}]}`,
		`[`,
	}
	parts := [][5]string{
		{"lts:*:list*", "lts:*:*:logGroup:*", "StringLike", "g:UserName", "adm*"},
		{"workspace:userEvents:list", "*", "ForAllValues:StringEqualsIgnoreCase", "g:TagKeys", "Env"},
		{"lts:logStream:?et", "lts:cn-north-4:acc:logStream:ID-1", "NotIpAddressIfExists", "g:SourceIp", "2001:db8::/32"},
		{"ecs:*", "ecs::acc:instance:a:b", "DateGreaterThanEquals", "g:CurrentTime", "2026-01-01T08:00:00+08:00"},
		{"*", "obs:*:*:bucket:*", "NumberLessThan", "g:Count", "-2.5e3"},
		{"*:*:*", "*", "Null", "g:MFAPresent", "true"},
	}
	for i, s := range seeds {
		p := parts[i%len(parts)]
		f.Add([]byte(s), p[0], p[1], p[2], p[3], p[4])
	}

	f.Fuzz(func(t *testing.T, data []byte, action, resource, operator, key, value string) {
		checkRoundTrip(t, data)

		templated, err := json.Marshal(map[string]any{
			"Version": "5.0",
			"Statement": []any{map[string]any{
				"Effect":    "Allow",
				"Action":    []string{action},
				"Resource":  []string{resource},
				"Condition": map[string]any{operator: map[string]any{key: []string{value}}},
			}},
		})
		if err != nil {
			return // a fuzzed string is not valid UTF-8
		}
		checkRoundTrip(t, templated)
	})
}

// checkRoundTrip parses data and, if it is a valid policy, checks that it
// survives Marshal and Parse unchanged in form and in decisions.
func checkRoundTrip(t *testing.T, data []byte) {
	t.Helper()
	d, err := Parse(data)
	if err != nil {
		if code := userevents.ErrorCode(err); code != userevents.EINVALID {
			t.Fatalf("Parse error code = %q (%v), want %q", code, err, userevents.EINVALID)
		}
		return
	}

	out, err := json.Marshal(d)
	if err != nil {
		t.Fatalf("Marshal of a parsed document: %v", err)
	}
	again, err := Parse(out)
	if err != nil {
		// Marshal writes every list as an array, which can push a
		// document that was just within the limit over it.
		if compactChars(out) > MaxDocumentChars {
			return
		}
		t.Fatalf("Parse of marshalled document %s: %v", out, err)
	}
	out2, err := json.Marshal(again)
	if err != nil {
		t.Fatalf("second Marshal: %v", err)
	}
	if !bytes.Equal(out, out2) {
		t.Fatalf("marshalled forms differ:\n%s\n%s", out, out2)
	}

	for _, req := range requestsFor(d) {
		first := Evaluate([]Named{{Name: "p", Doc: d}}, req)
		second := Evaluate([]Named{{Name: "p", Doc: again}}, req)
		if first != second {
			t.Fatalf("request %+v: decision %+v before round trip, %+v after", req, first, second)
		}
	}
}

// requestsFor returns requests built from the patterns and condition
// values of d, so that its statements and conditions are exercised, plus a
// few fixed ones.
func requestsFor(d *Document) []Request {
	reqs := []Request{
		{Action: "lts:logGroup:listLogGroup", Resource: "*"},
		{Action: "workspace:userEvents:list", Resource: "*", Context: ctx("g:UserName", "alice", "g:MFAPresent", "true")},
		{Action: "lts:logStream:searchLog", Resource: logStreamURN, Context: ctx("g:SourceIp", "192.0.2.1")},
	}
	context := map[string][]string{}
	for _, s := range d.Statements {
		for _, keys := range s.Condition {
			for key, values := range keys {
				context[key] = values
			}
		}
	}
	for _, s := range d.Statements {
		actions := append(append([]string(nil), s.Action...), s.NotAction...)
		resources := append(append([]string{"*"}, s.Resource...), s.NotResource...)
		for _, a := range actions[:min(len(actions), 3)] {
			for _, r := range resources[:min(len(resources), 3)] {
				reqs = append(reqs, Request{Action: a, Resource: r}, Request{Action: a, Resource: r, Context: context})
			}
		}
		if len(reqs) > 40 {
			break
		}
	}
	return reqs
}
