package policy

import (
	"fmt"
	"testing"
)

// mustParseTest parses a policy document or fails the test.
func mustParseTest(t testing.TB, doc string) *Document {
	t.Helper()
	d, err := Parse([]byte(doc))
	if err != nil {
		t.Fatalf("Parse(%s): %v", doc, err)
	}
	return d
}

// named parses the documents and names them p0, p1 and so on.
func named(t testing.TB, docs ...string) []Named {
	t.Helper()
	out := make([]Named, len(docs))
	for i, doc := range docs {
		out[i] = Named{Name: fmt.Sprintf("p%d", i), Doc: mustParseTest(t, doc)}
	}
	return out
}

// policyOf wraps statements, given as JSON objects, in a 5.0 document.
func policyOf(statements string) string {
	return `{"Version":"5.0","Statement":[` + statements + `]}`
}

const (
	logGroupURN  = "lts:cn-north-4:0123456789abcdef0123456789abcdef:logGroup:3f1c2a9e-0000-4000-8000-000000000001"
	logStreamURN = "lts:cn-north-4:0123456789abcdef0123456789abcdef:logStream:3f1c2a9e-0000-4000-8000-000000000002"
)

func TestEvaluate(t *testing.T) {
	defaultDeny := Decision{StatementIndex: -1}
	allow := func(policy string, index int, sid string) Decision {
		return Decision{Allowed: true, Effect: Allow, PolicyName: policy, StatementIndex: index, Sid: sid}
	}
	deny := func(policy string, index int, sid string) Decision {
		return Decision{Effect: Deny, PolicyName: policy, StatementIndex: index, Sid: sid}
	}

	tests := []struct {
		name     string
		policies []string
		req      Request
		want     Decision
	}{
		{
			name:     "allow exact action",
			policies: []string{policyOf(`{"Sid":"List","Effect":"Allow","Action":"workspace:userEvents:list"}`)},
			req:      Request{Action: "workspace:userEvents:list", Resource: "*"},
			want:     allow("p0", 0, "List"),
		},
		{
			name: "no policies",
			req:  Request{Action: "workspace:userEvents:list", Resource: "*"},
			want: defaultDeny,
		},
		{
			name:     "default deny other action",
			policies: []string{policyOf(`{"Effect":"Allow","Action":"workspace:userEvents:list"}`)},
			req:      Request{Action: "workspace:userEvents:setLtsConfigurations", Resource: "*"},
			want:     defaultDeny,
		},
		{
			name:     "action prefix is not a match",
			policies: []string{policyOf(`{"Effect":"Allow","Action":"workspace:userEvents:list"}`)},
			req:      Request{Action: "workspace:userEvents:listLtsConfigurations", Resource: "*"},
			want:     defaultDeny,
		},
		{
			name: "deny in later policy wins",
			policies: []string{
				policyOf(`{"Effect":"Allow","Action":"*"}`),
				policyOf(`{"Effect":"Allow","Action":"lts:*"},{"Sid":"NoDelete","Effect":"Deny","Action":"lts:*:delete*"}`),
			},
			req:  Request{Action: "lts:logGroup:deleteLogGroup", Resource: logGroupURN},
			want: deny("p1", 1, "NoDelete"),
		},
		{
			name: "deny before allow wins",
			policies: []string{
				policyOf(`{"Effect":"Deny","Action":"lts:logGroup:deleteLogGroup"}`),
				policyOf(`{"Effect":"Allow","Action":"*"}`),
			},
			req:  Request{Action: "lts:logGroup:deleteLogGroup", Resource: logGroupURN},
			want: deny("p0", 0, ""),
		},
		{
			name: "first allow reported",
			policies: []string{
				policyOf(`{"Effect":"Deny","Action":"ecs:*"},{"Sid":"A","Effect":"Allow","Action":"lts:*"},{"Sid":"B","Effect":"Allow","Action":"*"}`),
				policyOf(`{"Effect":"Allow","Action":"lts:logGroup:*"}`),
			},
			req:  Request{Action: "lts:logGroup:listLogGroup", Resource: "*"},
			want: allow("p0", 1, "A"),
		},
		{
			name:     "not action allows others",
			policies: []string{policyOf(`{"Effect":"Allow","NotAction":["lts:*"]}`)},
			req:      Request{Action: "workspace:userEvents:list", Resource: "*"},
			want:     allow("p0", 0, ""),
		},
		{
			name:     "not action excludes listed",
			policies: []string{policyOf(`{"Effect":"Allow","NotAction":["lts:*"]}`)},
			req:      Request{Action: "lts:logGroup:listLogGroup", Resource: "*"},
			want:     defaultDeny,
		},
		{
			name:     "deny not action spares listed",
			policies: []string{policyOf(`{"Effect":"Allow","Action":"*"},{"Effect":"Deny","NotAction":"workspace:userEvents:list*"}`)},
			req:      Request{Action: "workspace:userEvents:listLtsConfigurations", Resource: "*"},
			want:     allow("p0", 0, ""),
		},
		{
			name:     "deny not action denies others",
			policies: []string{policyOf(`{"Effect":"Allow","Action":"*"},{"Effect":"Deny","NotAction":"workspace:userEvents:list*"}`)},
			req:      Request{Action: "workspace:userEvents:setLtsConfigurations", Resource: "*"},
			want:     deny("p0", 1, ""),
		},
		{
			name:     "resource match",
			policies: []string{policyOf(`{"Effect":"Allow","Action":"lts:*","Resource":["lts:*:*:logGroup:*"]}`)},
			req:      Request{Action: "lts:logGroup:updateLogGroup", Resource: logGroupURN},
			want:     allow("p0", 0, ""),
		},
		{
			name:     "resource other type",
			policies: []string{policyOf(`{"Effect":"Allow","Action":"lts:*","Resource":["lts:*:*:logGroup:*"]}`)},
			req:      Request{Action: "lts:logStream:searchLog", Resource: logStreamURN},
			want:     defaultDeny,
		},
		{
			name:     "resource other region",
			policies: []string{policyOf(`{"Effect":"Allow","Action":"lts:*","Resource":["lts:cn-east-3:*:logGroup:*"]}`)},
			req:      Request{Action: "lts:logGroup:updateLogGroup", Resource: logGroupURN},
			want:     defaultDeny,
		},
		{
			name:     "not resource allows others",
			policies: []string{policyOf(`{"Effect":"Allow","Action":"lts:*","NotResource":["lts:*:*:logStream:*"]}`)},
			req:      Request{Action: "lts:logGroup:updateLogGroup", Resource: logGroupURN},
			want:     allow("p0", 0, ""),
		},
		{
			name:     "not resource excludes listed",
			policies: []string{policyOf(`{"Effect":"Allow","Action":"lts:*","NotResource":["lts:*:*:logStream:*"]}`)},
			req:      Request{Action: "lts:logStream:searchLog", Resource: logStreamURN},
			want:     defaultDeny,
		},
		{
			name:     "no resource type with urn statement",
			policies: []string{policyOf(`{"Effect":"Allow","Action":"lts:*","Resource":["lts:*:*:logGroup:*"]}`)},
			req:      Request{Action: "lts:logGroup:listLogGroup", Resource: "*"},
			want:     defaultDeny,
		},
		{
			name:     "no resource type with star resource",
			policies: []string{policyOf(`{"Effect":"Allow","Action":"lts:*","Resource":["lts:*:*:logGroup:*","*"]}`)},
			req:      Request{Action: "lts:logGroup:listLogGroup", Resource: "*"},
			want:     allow("p0", 0, ""),
		},
		{
			name:     "no resource type with not resource urn",
			policies: []string{policyOf(`{"Effect":"Allow","Action":"lts:*","NotResource":["lts:*:*:logGroup:*"]}`)},
			req:      Request{Action: "lts:logGroup:listLogGroup", Resource: "*"},
			want:     allow("p0", 0, ""),
		},
		{
			name:     "no resource type with not resource star",
			policies: []string{policyOf(`{"Effect":"Allow","Action":"lts:*","NotResource":["*"]}`)},
			req:      Request{Action: "lts:logGroup:listLogGroup", Resource: "*"},
			want:     defaultDeny,
		},
		{
			name:     "empty resource means star",
			policies: []string{policyOf(`{"Effect":"Allow","Action":"workspace:*","Resource":"*"}`)},
			req:      Request{Action: "workspace:userEvents:list"},
			want:     allow("p0", 0, ""),
		},
		{
			name:     "star resource matches urn",
			policies: []string{policyOf(`{"Effect":"Allow","Action":"lts:*","Resource":"*"}`)},
			req:      Request{Action: "lts:logGroup:updateLogGroup", Resource: logGroupURN},
			want:     allow("p0", 0, ""),
		},
		{
			name:     "action question mark",
			policies: []string{policyOf(`{"Effect":"Allow","Action":"lts:logStream:?et"}`)},
			req:      Request{Action: "lts:logStream:get", Resource: "*"},
			want:     allow("p0", 0, ""),
		},
		{
			name:     "action question mark one character only",
			policies: []string{policyOf(`{"Effect":"Allow","Action":"lts:logStream:?et"}`)},
			req:      Request{Action: "lts:logStream:reget", Resource: "*"},
			want:     defaultDeny,
		},
		{
			name:     "action star in middle",
			policies: []string{policyOf(`{"Effect":"Allow","Action":"lts:*:list*"}`)},
			req:      Request{Action: "lts:logStream:listLogStream", Resource: "*"},
			want:     allow("p0", 0, ""),
		},
		{
			name:     "action case insensitive in policy",
			policies: []string{policyOf(`{"Effect":"Allow","Action":"WORKSPACE:USEREVENTS:LIST"}`)},
			req:      Request{Action: "workspace:userEvents:list", Resource: "*"},
			want:     allow("p0", 0, ""),
		},
		{
			name:     "action case insensitive in request",
			policies: []string{policyOf(`{"Effect":"Deny","Action":"lts:logGroup:deleteLogGroup"}`)},
			req:      Request{Action: "LTS:LOGGROUP:DELETELOGGROUP", Resource: logGroupURN},
			want:     deny("p0", 0, ""),
		},
		{
			name:     "urn type case insensitive",
			policies: []string{policyOf(`{"Effect":"Allow","Action":"lts:*","Resource":"LTS:CN-NORTH-4:*:LOGGROUP:3f1c2a9e-0000-4000-8000-000000000001"}`)},
			req:      Request{Action: "lts:logGroup:updateLogGroup", Resource: logGroupURN},
			want:     allow("p0", 0, ""),
		},
		{
			name:     "urn path case sensitive",
			policies: []string{policyOf(`{"Effect":"Allow","Action":"lts:*","Resource":"lts:*:*:logGroup:3F1C2A9E-*"}`)},
			req:      Request{Action: "lts:logGroup:updateLogGroup", Resource: logGroupURN},
			want:     defaultDeny,
		},
		{
			name:     "urn path with colons",
			policies: []string{policyOf(`{"Effect":"Allow","Action":"obs:*","Resource":"obs:*:*:object:bucket/a:*"}`)},
			req:      Request{Action: "obs:object:getObject", Resource: "obs::acc:object:bucket/a:b:c"},
			want:     allow("p0", 0, ""),
		},
		{
			name:     "urn question mark",
			policies: []string{policyOf(`{"Effect":"Allow","Action":"lts:*","Resource":"lts:cn-north-?:*:logGroup:*"}`)},
			req:      Request{Action: "lts:logGroup:updateLogGroup", Resource: logGroupURN},
			want:     allow("p0", 0, ""),
		},
		{
			name:     "deny with failing condition ignored",
			policies: []string{policyOf(`{"Effect":"Allow","Action":"*"},{"Effect":"Deny","Action":"*","Condition":{"Bool":{"g:MFAPresent":"false"}}}`)},
			req:      Request{Action: "lts:logGroup:listLogGroup", Resource: "*", Context: map[string][]string{"g:MFAPresent": {"true"}}},
			want:     allow("p0", 0, ""),
		},
		{
			name:     "deny with holding condition",
			policies: []string{policyOf(`{"Effect":"Allow","Action":"*"},{"Effect":"Deny","Action":"*","Condition":{"Bool":{"g:MFAPresent":"false"}}}`)},
			req:      Request{Action: "lts:logGroup:listLogGroup", Resource: "*", Context: map[string][]string{"g:MFAPresent": {"false"}}},
			want:     deny("p0", 1, ""),
		},
		{
			name:     "empty action",
			policies: []string{policyOf(`{"Effect":"Allow","Action":"*"}`)},
			req:      Request{Action: "", Resource: "*"},
			want:     defaultDeny,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Evaluate(named(t, tt.policies...), tt.req)
			if got != tt.want {
				t.Errorf("Evaluate = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestEvaluateNilDocument(t *testing.T) {
	policies := append([]Named{{Name: "empty"}}, named(t, policyOf(`{"Effect":"Allow","Action":"*"}`))...)
	got := Evaluate(policies, Request{Action: "lts:logGroup:listLogGroup", Resource: "*"})
	if !got.Allowed || got.PolicyName != "p0" {
		t.Errorf("Evaluate = %+v, want allowed by p0", got)
	}
}

func TestEvaluateBuiltDocument(t *testing.T) {
	valid := &Document{Version: Version, Statements: []Statement{
		{Sid: "S", Effect: Allow, Action: []string{"lts:*"}, Resource: []string{"lts:*:*:logGroup:*"}},
	}}
	got := Evaluate([]Named{{Name: "built", Doc: valid}}, Request{Action: "lts:logGroup:get", Resource: logGroupURN})
	want := Decision{Allowed: true, Effect: Allow, PolicyName: "built", StatementIndex: 0, Sid: "S"}
	if got != want {
		t.Errorf("Evaluate with valid built document = %+v, want %+v", got, want)
	}

	invalid := &Document{Version: Version, Statements: []Statement{
		{Effect: Allow, Action: []string{"*"}},
		{Effect: "allow", Action: []string{"*"}},
	}}
	got = Evaluate([]Named{{Name: "broken", Doc: invalid}}, Request{Action: "lts:logGroup:get", Resource: "*"})
	want = Decision{Effect: Deny, PolicyName: "broken", StatementIndex: -1}
	if got != want {
		t.Errorf("Evaluate with invalid built document = %+v, want %+v", got, want)
	}
}

func TestSystemPolicies(t *testing.T) {
	tests := []struct {
		policy   Named
		action   string
		resource string
		want     bool
	}{
		{WorkspaceUserEventsFullAccess, "workspace:userEvents:list", "*", true},
		{WorkspaceUserEventsFullAccess, "workspace:userEvents:setLtsConfigurations", "*", true},
		{WorkspaceUserEventsFullAccess, "workspace:desktops:list", "*", false},
		{WorkspaceUserEventsFullAccess, "lts:logGroup:listLogGroup", "*", false},
		{WorkspaceUserEventsReadOnlyAccess, "workspace:userEvents:list", "*", true},
		{WorkspaceUserEventsReadOnlyAccess, "workspace:userEvents:listLtsConfigurations", "*", true},
		{WorkspaceUserEventsReadOnlyAccess, "workspace:userEvents:setLtsConfigurations", "*", false},
		{WorkspaceUserEventsReadOnlyAccess, "workspace:userEvents:create", "*", false},
		{LTSFullAccess, "lts:logGroup:createLogGroup", logGroupURN, true},
		{LTSFullAccess, "lts:logStream:reportLog", logStreamURN, true},
		{LTSFullAccess, "workspace:userEvents:list", "*", false},
		{LTSReadOnlyAccess, "lts:logGroup:listLogGroup", "*", true},
		{LTSReadOnlyAccess, "lts:logStream:listLogStream", logGroupURN, true},
		{LTSReadOnlyAccess, "lts:logStream:get", logStreamURN, true},
		{LTSReadOnlyAccess, "lts:logStream:searchLog", logStreamURN, true},
		{LTSReadOnlyAccess, "lts:logGroup:createLogGroup", logGroupURN, false},
		{LTSReadOnlyAccess, "lts:logStream:reportLog", logStreamURN, false},
		{LTSReadOnlyAccess, "lts:logGroup:deleteLogGroup", logGroupURN, false},
	}
	for _, tt := range tests {
		t.Run(tt.policy.Name+" "+tt.action, func(t *testing.T) {
			got := Evaluate([]Named{tt.policy}, Request{Action: tt.action, Resource: tt.resource})
			if got.Allowed != tt.want {
				t.Errorf("Allowed = %v, want %v (%+v)", got.Allowed, tt.want, got)
			}
		})
	}

	all := SystemPolicies()
	if len(all) != 4 {
		t.Fatalf("SystemPolicies returned %d policies, want 4", len(all))
	}
	seen := map[string]bool{}
	for _, p := range all {
		if p.Doc == nil || p.Name == "" || seen[p.Name] {
			t.Errorf("system policy %q is unnamed, repeated or has no document", p.Name)
		}
		seen[p.Name] = true
	}
}

func TestCompileBuiltDocument(t *testing.T) {
	allowAll := Statement{Effect: Allow, Action: []string{"*"}}
	tests := []struct {
		name string
		doc  Document
		want []string
	}{
		{"no version", Document{Statements: []Statement{allowAll}}, []string{`Version is ""`, `"5.0"`}},
		{"no statements", Document{Version: Version}, []string{"no statements"}},
		{"empty action list", Document{Version: Version, Statements: []Statement{{Effect: Allow, Action: []string{}}}},
			[]string{"Statement[0].Action is empty"}},
		{"empty resource list", Document{Version: Version, Statements: []Statement{{Effect: Allow, Action: []string{"*"}, NotResource: []string{}}}},
			[]string{"Statement[0].NotResource is empty"}},
		{"condition without values", Document{Version: Version, Statements: []Statement{allowAll, {Effect: Deny, Action: []string{"*"},
			Condition: map[string]map[string][]string{"StringEquals": {"g:UserName": nil}}}}},
			[]string{`Statement[1].Condition.StringEquals["g:UserName"] has no values`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := compile(&tt.doc)
			checkInvalid(t, err, tt.want...)
		})
	}
}

func TestEvaluateIgnoresChangesAfterParse(t *testing.T) {
	policies := named(t, policyOf(`{"Effect":"Allow","Action":"lts:logGroup:get"}`))
	policies[0].Doc.Statements[0].Action[0] = "*"
	policies[0].Doc.Statements[0].Effect = Deny

	got := Evaluate(policies, Request{Action: "lts:logGroup:get", Resource: "*"})
	if !got.Allowed {
		t.Errorf("Evaluate after changing the parsed statement = %+v, want allowed as parsed", got)
	}
	got = Evaluate(policies, Request{Action: "lts:logGroup:delete", Resource: "*"})
	if got.Allowed {
		t.Errorf("Evaluate of an action only the changed statement covers = %+v, want denied", got)
	}
}
