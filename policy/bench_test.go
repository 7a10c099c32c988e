package policy

import (
	"fmt"
	"testing"
)

// benchPolicies returns five policies of five statements each, mixing
// wildcards, resources, Deny statements and conditions, like the
// policies of a user in a few groups.
func benchPolicies(b *testing.B) []Named {
	b.Helper()
	services := []string{"ecs", "evs", "vpc", "obs", "lts"}
	docs := make([]string, len(services))
	for i, svc := range services {
		docs[i] = policyOf(fmt.Sprintf(`
			{"Sid":"List","Effect":"Allow","Action":["%[1]s:*:list*","%[1]s:*:get*"],"Resource":"*"},
			{"Sid":"NoDelete","Effect":"Deny","Action":"%[1]s:*:delete*","Condition":{"Bool":{"g:MFAPresent":"false"}}},
			{"Sid":"Office","Effect":"Deny","Action":"%[1]s:*","Condition":{
				"NotIpAddress":{"g:SourceIp":["10.0.0.0/8","192.0.2.0/24","2001:db8::/32"]}}},
			{"Sid":"Ops","Effect":"Allow","Action":"%[1]s:*:update*","Resource":"%[1]s:cn-north-4:*:*:*",
				"Condition":{"StringLike":{"g:UserName":"*-ops"},"DateLessThan":{"g:CurrentTime":"2030-01-01T00:00:00Z"}}},
			{"Sid":"Search","Effect":"Allow","Action":"%[1]s:logStream:searchLog","Resource":["%[1]s:*:*:logStream:*"],
				"Condition":{"ForAnyValue:StringEqualsIgnoreCase":{"g:UserName":["lee-ops","kim-ops"]}}}`, svc))
	}
	return named(b, docs...)
}

func BenchmarkEvaluate(b *testing.B) {
	policies := benchPolicies(b)
	req := Request{
		Action:   "lts:logStream:searchLog",
		Resource: logStreamURN,
		Context: map[string][]string{
			"g:UserName":    {"lee-ops"},
			"g:SourceIp":    {"192.0.2.17"},
			"g:MFAPresent":  {"true"},
			"g:CurrentTime": {"2026-03-01T10:00:00Z"},
		},
	}
	want := Decision{Allowed: true, Effect: Allow, PolicyName: "p4", StatementIndex: 4, Sid: "Search"}
	if got := Evaluate(policies, req); got != want {
		b.Fatalf("Evaluate = %+v, want %+v", got, want)
	}

	b.ReportAllocs()
	for b.Loop() {
		Evaluate(policies, req)
	}
}
