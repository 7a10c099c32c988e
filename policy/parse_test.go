package policy

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/go-json-experiment/json"

	"github.com/userevents/userevents"
)

func TestParseDocument(t *testing.T) {
	d, err := Parse([]byte(`{
		"Version": "5.0",
		"Statement": [
			{
				"Sid": "ReadLogs",
				"Effect": "Allow",
				"Action": ["lts:logStream:searchLog", "lts:*:list*"],
				"Resource": "lts:cn-north-4:*:logStream:*",
				"Condition": {
					"StringEndWithIfExists": {"g:UserName": "-ops"},
					"Bool": {"g:MFAPresent": [true]},
					"NumberLessThan": {"lts:Limit": [100, "2.5"]}
				}
			},
			{
				"Effect": "Deny",
				"NotAction": "workspace:userEvents:list",
				"NotResource": ["iam::acc:user:alice", "obs:::object:bucket/a:b"]
			}
		]
	}`))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}

	want := []Statement{
		{
			Sid:      "ReadLogs",
			Effect:   Allow,
			Action:   []string{"lts:logStream:searchLog", "lts:*:list*"},
			Resource: []string{"lts:cn-north-4:*:logStream:*"},
			Condition: map[string]map[string][]string{
				"StringEndWithIfExists": {"g:UserName": {"-ops"}},
				"Bool":                  {"g:MFAPresent": {"true"}},
				"NumberLessThan":        {"lts:Limit": {"100", "2.5"}},
			},
		},
		{
			Effect:      Deny,
			NotAction:   []string{"workspace:userEvents:list"},
			NotResource: []string{"iam::acc:user:alice", "obs:::object:bucket/a:b"},
		},
	}
	if d.Version != "5.0" {
		t.Errorf("Version = %q, want 5.0", d.Version)
	}
	if !reflect.DeepEqual(d.Statements, want) {
		t.Errorf("Statements =\n%#v\nwant\n%#v", d.Statements, want)
	}
}

func TestParseSingleStatementObject(t *testing.T) {
	d, err := Parse([]byte(`{"Version":"5.0","Statement":{"Effect":"Allow","Action":"*"}}`))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if len(d.Statements) != 1 {
		t.Fatalf("got %d statements, want 1", len(d.Statements))
	}
	if got := d.Statements[0].Action; !reflect.DeepEqual(got, []string{"*"}) {
		t.Errorf("Action = %q, want [*]", got)
	}
}

func TestParseAccepts(t *testing.T) {
	tests := []struct {
		name string
		doc  string
	}{
		{"all actions", `{"Version":"5.0","Statement":[{"Effect":"Allow","Action":"*"}]}`},
		{"service wildcard", `{"Version":"5.0","Statement":[{"Effect":"Allow","Action":"lts:*"}]}`},
		{"question mark", `{"Version":"5.0","Statement":[{"Effect":"Allow","Action":"lts:logStream:?et"}]}`},
		{"resource star", `{"Version":"5.0","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`},
		{"global urn", `{"Version":"5.0","Statement":[{"Effect":"Allow","Action":"iam:users:get","Resource":"iam::acc:user:alice"}]}`},
		{"urn empty type", `{"Version":"5.0","Statement":[{"Effect":"Allow","Action":"sts:*","Resource":"sts::acc::assumed-agency:a/b"}]}`},
		{"empty sid", `{"Version":"5.0","Statement":[{"Sid":"","Effect":"Deny","Action":"*"}]}`},
		{"empty condition", `{"Version":"5.0","Statement":[{"Effect":"Deny","Action":"*","Condition":{}}]}`},
		{"qualified operators", `{"Version":"5.0","Statement":[{"Effect":"Deny","Action":"*","Condition":{
			"ForAnyValue:StringNotEquals":{"g:TagKeys":["a"]},
			"ForAllValues:StringLikeIfExists":{"g:TagKeys":["a*"]}}}]}`},
		{"ipv6 block", `{"Version":"5.0","Statement":[{"Effect":"Allow","Action":"*","Condition":{"IpAddress":{"g:SourceIp":["2001:db8::/32","::1"]}}}]}`},
		{"date with offset", `{"Version":"5.0","Statement":[{"Effect":"Allow","Action":"*","Condition":{"DateLessThan":{"g:CurrentTime":"2026-01-01T08:00:00.5+08:00"}}}]}`},
		{"escaped strings", `{"Version":"5.0","Statement":[{"Effect":"Allow","Action":"lts:logGroup:\u0067et"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Parse([]byte(tt.doc)); err != nil {
				t.Errorf("Parse: %v", err)
			}
		})
	}
}

// actionsDoc returns a valid policy whose Action lists n copies of an
// action of 20 characters, separated by formatting whitespace.
func actionsDoc(n int) string {
	actions := make([]string, n)
	for i := range actions {
		actions[i] = `"lts:logGroup:getAbc"`
	}
	return "{\n  \"Version\": \"5.0\",\n  \"Statement\": [{\"Effect\": \"Allow\", \"Action\": [\n    " +
		strings.Join(actions, ",\n    ") + "\n  ]}]\n}"
}

func TestParseSizeLimit(t *testing.T) {
	// Each further action adds 22 characters: 21 for the string, 1 comma.
	single := compactChars([]byte(actionsDoc(1)))
	n := (MaxDocumentChars-single)/22 + 1
	fits := actionsDoc(n)
	if got := compactChars([]byte(fits)); got > MaxDocumentChars || got+22 <= MaxDocumentChars {
		t.Fatalf("test document has %d characters; want the most that fit in %d", got, MaxDocumentChars)
	}
	if len(fits) <= MaxDocumentChars {
		t.Fatalf("test document has %d bytes; it must exceed the limit with its whitespace", len(fits))
	}
	if _, err := Parse([]byte(fits)); err != nil {
		t.Errorf("Parse of a formatted policy within the limit: %v", err)
	}

	_, err := Parse([]byte(actionsDoc(n + 1)))
	checkInvalid(t, err, "6144", "characters")

	_, err = Parse([]byte(strings.Repeat(" ", maxDocumentBytes) + `{}`))
	checkInvalid(t, err, "bytes")
}

func TestParseErrors(t *testing.T) {
	stmt := func(body string) string {
		return `{"Version":"5.0","Statement":[{` + body + `}]}`
	}
	cond := func(c string) string {
		return stmt(`"Effect":"Allow","Action":"*","Condition":` + c)
	}
	tests := []struct {
		name string
		doc  string
		want []string // substrings of the message
	}{
		{"empty input", ``, []string{"not valid JSON"}},
		{"truncated", `{"Version":`, []string{"not valid JSON"}},
		{"trailing data", `{"Version":"5.0"} x`, []string{"not valid JSON", "'x'"}},
		{"invalid utf8", "{\"Version\":\"\xff\"}", []string{"not valid JSON", "UTF-8"}},
		{"top level array", `[]`, []string{"JSON array", "Version and Statement"}},
		{"top level string", `"x"`, []string{"JSON string"}},
		{"no version", `{"Statement":[{"Effect":"Allow","Action":"*"}]}`, []string{"no Version", `"5.0"`}},
		{"version 1.1", `{"Version":"1.1","Statement":[{"Effect":"Allow","Action":"*"}]}`, []string{`Version is "1.1"`, `"5.0"`}},
		{"version number", `{"Version":5.0,"Statement":[{"Effect":"Allow","Action":"*"}]}`, []string{"Version is a JSON number", `"5.0"`}},
		{"version null", `{"Version":null,"Statement":[{"Effect":"Allow","Action":"*"}]}`, []string{"Version is a JSON null"}},
		{"unknown top element", `{"Version":"5.0","Id":"x","Statement":[]}`, []string{`unknown element "Id"`, "Version and Statement"}},
		{"lower case version", `{"version":"5.0"}`, []string{`unknown element "version"`, "case"}},
		{"duplicate version", `{"Version":"5.0","Version":"5.0"}`, []string{"Version appears more than once"}},
		{"no statement", `{"Version":"5.0"}`, []string{"no Statement"}},
		{"statement null", `{"Version":"5.0","Statement":null}`, []string{"Statement is a JSON null"}},
		{"statement string", `{"Version":"5.0","Statement":"x"}`, []string{"Statement is a JSON string"}},
		{"statement empty", `{"Version":"5.0","Statement":[]}`, []string{"Statement is an empty array"}},
		{"statement item not object", `{"Version":"5.0","Statement":[{"Effect":"Allow","Action":"*"},1]}`, []string{"Statement[1] is a JSON number"}},
		{"unknown statement element", stmt(`"Effect":"Allow","Action":"*","Principal":{"IAM":["x"]}`), []string{`Statement[0] has the unknown element "Principal"`}},
		{"lower case effect", stmt(`"effect":"Allow","Action":"*"`), []string{`Statement[0] has the unknown element "effect"`}},
		{"duplicate action", stmt(`"Effect":"Allow","Action":"a:b:c","Action":"*"`), []string{"Statement[0].Action appears more than once"}},
		{"duplicate condition key", cond(`{"StringEquals":{"g:UserName":"a","g:UserName":"b"}}`), []string{`Statement[0].Condition.StringEquals["g:UserName"] appears more than once`}},
		{"sid number", stmt(`"Sid":1,"Effect":"Allow","Action":"*"`), []string{"Statement[0].Sid is a JSON number"}},
		{"no effect", stmt(`"Action":"*"`), []string{"Statement[0] has no Effect", `"Allow"`}},
		{"effect lower case", stmt(`"Effect":"allow","Action":"*"`), []string{`Statement[0].Effect is "allow"`, `"Allow" or "Deny"`}},
		{"effect array", stmt(`"Effect":["Allow"],"Action":"*"`), []string{"Statement[0].Effect is a JSON array"}},
		{"action and not action", stmt(`"Effect":"Allow","Action":"*","NotAction":"lts:*"`), []string{"Statement[0] has both Action and NotAction"}},
		{"no action", stmt(`"Effect":"Allow"`), []string{"Statement[0] has neither Action nor NotAction"}},
		{"action empty array", stmt(`"Effect":"Allow","Action":[]`), []string{"Statement[0].Action is an empty array"}},
		{"action number", stmt(`"Effect":"Allow","Action":1`), []string{"Statement[0].Action is a JSON number"}},
		{"action item number", stmt(`"Effect":"Allow","Action":["*",1]`), []string{"Statement[0].Action[1] is a JSON number"}},
		{"action empty string", stmt(`"Effect":"Allow","Action":[""]`), []string{`Statement[0].Action[0] "" is empty`}},
		{"action space", stmt(`"Effect":"Allow","Action":["ecs:servers:get list"]`), []string{`Statement[0].Action[0] "ecs:servers:get list" contains ' '`}},
		{"action four parts", stmt(`"Effect":"Allow","Action":["a:b:c:d"]`), []string{`Statement[0].Action[0] "a:b:c:d" has more than three parts`}},
		{"action empty part", stmt(`"Effect":"Allow","Action":["lts::get"]`), []string{`Statement[0].Action[0] "lts::get" has an empty part`}},
		{"action no operation", stmt(`"Effect":"Allow","Action":["*","lts:logGroup"]`), []string{`Statement[0].Action[1] "lts:logGroup" names no operation`}},
		{"not action invalid", stmt(`"Effect":"Deny","NotAction":["lts"]`), []string{`Statement[0].NotAction[0] "lts" names no operation`}},
		{"resource and not resource", stmt(`"Effect":"Allow","Action":"*","Resource":"*","NotResource":"*"`), []string{"Statement[0] has both Resource and NotResource"}},
		{"resource not urn", stmt(`"Effect":"Allow","Action":"*","Resource":"lts:logGroup"`), []string{`Statement[0].Resource[0] "lts:logGroup" is not a URN`, "service:region:account-id:type:path"}},
		{"resource no service", stmt(`"Effect":"Allow","Action":"*","Resource":[":r:a:t:p"]`), []string{`Statement[0].Resource[0] ":r:a:t:p" has no service`}},
		{"resource no path", stmt(`"Effect":"Allow","Action":"*","Resource":["lts:r:a:t:"]`), []string{`Statement[0].Resource[0] "lts:r:a:t:" has no resource path`}},
		{"resource control char", stmt(`"Effect":"Allow","Action":"*","Resource":["lts:r:a:t:p\n"]`), []string{`Statement[0].Resource[0] "lts:r:a:t:p\n" contains a control character`}},
		{"not resource empty", stmt(`"Effect":"Allow","Action":"*","NotResource":[]`), []string{"Statement[0].NotResource is an empty array"}},
		{"second statement", `{"Version":"5.0","Statement":[{"Effect":"Allow","Action":"*"},{"Effect":"Deny","Action":"x"}]}`, []string{`Statement[1].Action[0] "x" names no operation`}},
		{"condition array", cond(`[]`), []string{"Statement[0].Condition is a JSON array"}},
		{"operator not object", cond(`{"StringEquals":"x"}`), []string{"Statement[0].Condition.StringEquals is a JSON string"}},
		{"unknown operator", cond(`{"StringEqual":{"g:UserName":"a"}}`), []string{`unsupported operator "StringEqual"`}},
		{"operator lower case", cond(`{"stringequals":{"g:UserName":"a"}}`), []string{`unsupported operator "stringequals"`}},
		{"unknown qualifier", cond(`{"ForEachValue:StringEquals":{"g:UserName":"a"}}`), []string{`unsupported operator "ForEachValue:StringEquals"`}},
		{"start with not", cond(`{"StringNotStartWith":{"g:UserName":"a"}}`), []string{`unsupported operator "StringNotStartWith"`}},
		{"null if exists", cond(`{"NullIfExists":{"g:UserName":"true"}}`), []string{`operator "NullIfExists"`, "plain Null"}},
		{"null qualified", cond(`{"ForAllValues:Null":{"g:UserName":"true"}}`), []string{`operator "ForAllValues:Null"`}},
		{"operator without keys", cond(`{"StringEquals":{}}`), []string{"Statement[0].Condition.StringEquals has no condition keys"}},
		{"key without prefix", cond(`{"StringEquals":{"UserName":"a"}}`), []string{`Statement[0].Condition.StringEquals has the key "UserName"`, "prefix:name"}},
		{"key empty name", cond(`{"StringEquals":{"g:":"a"}}`), []string{`has the key "g:"`}},
		{"keys differ in case", cond(`{"StringEquals":{"g:UserName":"a","g:username":"b"}}`), []string{`"g:UserName" and "g:username"`, "case-insensitive"}},
		{"keys differ in case apart", cond(`{"StringEquals":{"g:UserName":"a","g:Zone":"z","g:username":"b"}}`), []string{`"g:UserName" and "g:username"`}},
		{"values empty", cond(`{"StringEquals":{"g:UserName":[]}}`), []string{`Statement[0].Condition.StringEquals["g:UserName"] is an empty array`}},
		{"value object", cond(`{"StringEquals":{"g:UserName":{"a":"b"}}}`), []string{`Statement[0].Condition.StringEquals["g:UserName"] has a JSON object value`}},
		{"value null", cond(`{"StringEquals":{"g:UserName":["a",null]}}`), []string{`["g:UserName"] has a JSON null value`}},
		{"value nested array", cond(`{"StringEquals":{"g:UserName":[["a"]]}}`), []string{`["g:UserName"] has a JSON array value`}},
		{"number invalid", cond(`{"NumberEquals":{"g:Count":["1","ten"]}}`), []string{`Statement[0].Condition.NumberEquals["g:Count"] value "ten" is not a number`}},
		{"number nan", cond(`{"NumberLessThan":{"g:Count":"NaN"}}`), []string{`value "NaN" is not a number`}},
		{"number infinite", cond(`{"NumberLessThan":{"g:Count":"Inf"}}`), []string{`value "Inf" is not a number`}},
		{"date without time", cond(`{"DateLessThan":{"g:CurrentTime":"2026-01-01"}}`), []string{`Statement[0].Condition.DateLessThan["g:CurrentTime"] value "2026-01-01" is not an RFC 3339 time`}},
		{"bool invalid", cond(`{"Bool":{"g:MFAPresent":"yes"}}`), []string{`Statement[0].Condition.Bool["g:MFAPresent"] value "yes" is not a boolean`}},
		{"bool number", cond(`{"Bool":{"g:MFAPresent":1}}`), []string{`value "1" is not a boolean`}},
		{"null invalid", cond(`{"Null":{"g:UserName":"maybe"}}`), []string{`Statement[0].Condition.Null["g:UserName"] value "maybe" is not a boolean`}},
		{"ip invalid", cond(`{"IpAddress":{"g:SourceIp":"300.1.1.1"}}`), []string{`Statement[0].Condition.IpAddress["g:SourceIp"] value "300.1.1.1" is not an IP address or CIDR block`}},
		{"ip bad prefix", cond(`{"NotIpAddress":{"g:SourceIp":"10.0.0.0/33"}}`), []string{`value "10.0.0.0/33" is not an IP address`}},
		{"ip zone", cond(`{"IpAddress":{"g:SourceIp":"fe80::1%eth0"}}`), []string{`value "fe80::1%eth0" is not an IP address`}},
		{"qualified value checked", cond(`{"ForAnyValue:NumberEqualsIfExists":{"g:Count":"x"}}`), []string{`ForAnyValue:NumberEqualsIfExists["g:Count"] value "x" is not a number`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Parse([]byte(tt.doc))
			if d != nil {
				t.Errorf("Parse returned a document with an error")
			}
			checkInvalid(t, err, tt.want...)
		})
	}
}

// checkInvalid checks that err is an EINVALID *userevents.Error whose
// message contains each of want.
func checkInvalid(t *testing.T, err error, want ...string) {
	t.Helper()
	var uerr *userevents.Error
	if !errors.As(err, &uerr) {
		t.Fatalf("error %v (%T) is not a *userevents.Error", err, err)
	}
	if uerr.Code != userevents.EINVALID {
		t.Errorf("code = %q, want %q", uerr.Code, userevents.EINVALID)
	}
	for _, w := range want {
		if !strings.Contains(uerr.Message, w) {
			t.Errorf("message %q does not contain %q", uerr.Message, w)
		}
	}
}

func TestMarshalJSON(t *testing.T) {
	d, err := Parse([]byte(`{"Statement":{"Action":"lts:*","Effect":"Deny","Sid":"",
		"Condition":{"Bool":{"g:MFAPresent":false}}},"Version":"5.0"}`))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	out, err := json.Marshal(d)
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	const want = `{"Version":"5.0","Statement":[{"Effect":"Deny","Action":["lts:*"],"Condition":{"Bool":{"g:MFAPresent":["false"]}}}]}`
	if string(out) != want {
		t.Errorf("Marshal =\n%s\nwant\n%s", out, want)
	}

	again, err := Parse(out)
	if err != nil {
		t.Fatalf("Parse of marshalled document: %v", err)
	}
	if !reflect.DeepEqual(again.Statements, d.Statements) {
		t.Errorf("statements after round trip =\n%#v\nwant\n%#v", again.Statements, d.Statements)
	}
}

func TestUnmarshalJSON(t *testing.T) {
	var holder struct {
		Policy Document `json:"policy"`
	}
	err := json.Unmarshal([]byte(`{"policy":{"Version":"5.0","Statement":[{"Effect":"Allow","Action":"lts:*"}]}}`), &holder)
	if err != nil {
		t.Fatalf("Unmarshal: %v", err)
	}
	got := Evaluate([]Named{{Name: "p", Doc: &holder.Policy}}, Request{Action: "lts:logGroup:get", Resource: "*"})
	if !got.Allowed {
		t.Errorf("decision with unmarshalled policy = %+v, want allowed", got)
	}

	err = json.Unmarshal([]byte(`{"policy":{"Version":"1.1","Statement":[]}}`), &holder)
	if code := userevents.ErrorCode(err); code != userevents.EINVALID {
		t.Errorf("error code of invalid policy = %q (%v), want %q", code, err, userevents.EINVALID)
	}
}
