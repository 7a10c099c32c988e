package policy

import "testing"

// ctx builds a request context from key and value pairs. A key given more
// than once gets several values.
func ctx(pairs ...string) map[string][]string {
	out := map[string][]string{}
	for i := 0; i+1 < len(pairs); i += 2 {
		out[pairs[i]] = append(out[pairs[i]], pairs[i+1])
	}
	return out
}

func TestConditions(t *testing.T) {
	tests := []struct {
		name      string
		condition string // the Condition element
		context   map[string][]string
		want      bool
	}{
		// String operators.
		{"StringEquals match", `{"StringEquals":{"g:UserName":"alice"}}`, ctx("g:UserName", "alice"), true},
		{"StringEquals mismatch", `{"StringEquals":{"g:UserName":"alice"}}`, ctx("g:UserName", "bob"), false},
		{"StringEquals case sensitive", `{"StringEquals":{"g:UserName":"alice"}}`, ctx("g:UserName", "Alice"), false},
		{"StringEquals any value", `{"StringEquals":{"g:UserName":["bob","alice"]}}`, ctx("g:UserName", "alice"), true},
		{"StringEquals missing", `{"StringEquals":{"g:UserName":"alice"}}`, ctx(), false},
		{"StringEquals empty value list", `{"StringEquals":{"g:UserName":"alice"}}`, map[string][]string{"g:UserName": {}}, false},
		{"StringEquals no wildcards", `{"StringEquals":{"g:UserName":"a*"}}`, ctx("g:UserName", "alice"), false},
		{"StringEquals key case insensitive", `{"StringEquals":{"g:username":"alice"}}`, ctx("G:UserName", "alice"), true},
		{"StringEquals json number", `{"StringEquals":{"g:Port":443}}`, ctx("g:Port", "443"), true},
		{"StringNotEquals different", `{"StringNotEquals":{"g:UserName":"alice"}}`, ctx("g:UserName", "bob"), true},
		{"StringNotEquals equal", `{"StringNotEquals":{"g:UserName":"alice"}}`, ctx("g:UserName", "alice"), false},
		{"StringNotEquals equal to one", `{"StringNotEquals":{"g:UserName":["bob","alice"]}}`, ctx("g:UserName", "alice"), false},
		{"StringNotEquals missing", `{"StringNotEquals":{"g:UserName":"alice"}}`, ctx(), true},
		{"StringEqualsIgnoreCase match", `{"StringEqualsIgnoreCase":{"g:UserName":"ALICE"}}`, ctx("g:UserName", "alice"), true},
		{"StringEqualsIgnoreCase mismatch", `{"StringEqualsIgnoreCase":{"g:UserName":"ALICE"}}`, ctx("g:UserName", "bob"), false},
		{"StringNotEqualsIgnoreCase equal", `{"StringNotEqualsIgnoreCase":{"g:UserName":"ALICE"}}`, ctx("g:UserName", "alice"), false},
		{"StringNotEqualsIgnoreCase different", `{"StringNotEqualsIgnoreCase":{"g:UserName":"ALICE"}}`, ctx("g:UserName", "bob"), true},
		{"StringLike star", `{"StringLike":{"g:UserName":"adm*"}}`, ctx("g:UserName", "admin"), true},
		{"StringLike question", `{"StringLike":{"g:UserName":"adm?n"}}`, ctx("g:UserName", "admin"), true},
		{"StringLike case sensitive", `{"StringLike":{"g:UserName":"ADM*"}}`, ctx("g:UserName", "admin"), false},
		{"StringLike mismatch", `{"StringLike":{"g:UserName":"adm*"}}`, ctx("g:UserName", "user"), false},
		{"StringNotLike mismatch", `{"StringNotLike":{"g:UserName":"adm*"}}`, ctx("g:UserName", "user"), true},
		{"StringNotLike match", `{"StringNotLike":{"g:UserName":"adm*"}}`, ctx("g:UserName", "admin"), false},
		{"StringNotLike missing", `{"StringNotLike":{"g:UserName":"adm*"}}`, ctx(), true},
		{"StringMatch star", `{"StringMatch":{"g:UserName":"*-ops"}}`, ctx("g:UserName", "lee-ops"), true},
		{"StringMatch mismatch", `{"StringMatch":{"g:UserName":"*-ops"}}`, ctx("g:UserName", "lee-dev"), false},
		{"StringNotMatch match", `{"StringNotMatch":{"g:UserName":"*-ops"}}`, ctx("g:UserName", "lee-ops"), false},
		{"StringNotMatch mismatch", `{"StringNotMatch":{"g:UserName":"*-ops"}}`, ctx("g:UserName", "lee-dev"), true},
		{"StringStartWith match", `{"StringStartWith":{"g:UserName":"dev-"}}`, ctx("g:UserName", "dev-alice"), true},
		{"StringStartWith mismatch", `{"StringStartWith":{"g:UserName":"dev-"}}`, ctx("g:UserName", "prod-alice"), false},
		{"StringStartWith no wildcards", `{"StringStartWith":{"g:UserName":"d*"}}`, ctx("g:UserName", "dev-alice"), false},
		{"StringEndWith match", `{"StringEndWith":{"g:UserName":"-ops"}}`, ctx("g:UserName", "lee-ops"), true},
		{"StringEndWith mismatch", `{"StringEndWith":{"g:UserName":"-ops"}}`, ctx("g:UserName", "lee-opsx"), false},
		{"StringEndWith missing", `{"StringEndWith":{"g:UserName":"-ops"}}`, ctx(), false},

		// IfExists.
		{"StringEqualsIfExists missing", `{"StringEqualsIfExists":{"g:UserName":"alice"}}`, ctx(), true},
		{"StringEqualsIfExists match", `{"StringEqualsIfExists":{"g:UserName":"alice"}}`, ctx("g:UserName", "alice"), true},
		{"StringEqualsIfExists mismatch", `{"StringEqualsIfExists":{"g:UserName":"alice"}}`, ctx("g:UserName", "bob"), false},
		{"StringNotEqualsIfExists equal", `{"StringNotEqualsIfExists":{"g:UserName":"alice"}}`, ctx("g:UserName", "alice"), false},
		{"StringEndWithIfExists missing", `{"StringEndWithIfExists":{"g:UserName":"specialCharacter"}}`, ctx(), true},
		{"StringEndWithIfExists mismatch", `{"StringEndWithIfExists":{"g:UserName":"specialCharacter"}}`, ctx("g:UserName", "alice"), false},
		{"NumberLessThanIfExists missing", `{"NumberLessThanIfExists":{"g:Count":"5"}}`, ctx(), true},
		{"NumberLessThanIfExists present", `{"NumberLessThanIfExists":{"g:Count":"5"}}`, ctx("g:Count", "7"), false},
		{"DateLessThanIfExists missing", `{"DateLessThanIfExists":{"g:CurrentTime":"2026-01-01T00:00:00Z"}}`, ctx(), true},
		{"BoolIfExists missing", `{"BoolIfExists":{"g:MFAPresent":"true"}}`, ctx(), true},
		{"BoolIfExists false", `{"BoolIfExists":{"g:MFAPresent":"true"}}`, ctx("g:MFAPresent", "false"), false},
		{"IpAddressIfExists missing", `{"IpAddressIfExists":{"g:SourceIp":"192.0.2.0/24"}}`, ctx(), true},
		{"NotIpAddressIfExists inside", `{"NotIpAddressIfExists":{"g:SourceIp":"192.0.2.0/24"}}`, ctx("g:SourceIp", "192.0.2.1"), false},

		// Number operators.
		{"NumberEquals equal", `{"NumberEquals":{"g:Count":"10"}}`, ctx("g:Count", "10.0"), true},
		{"NumberEquals json number", `{"NumberEquals":{"g:Count":1e1}}`, ctx("g:Count", "10"), true},
		{"NumberEquals different", `{"NumberEquals":{"g:Count":"10"}}`, ctx("g:Count", "11"), false},
		{"NumberEquals not a number", `{"NumberEquals":{"g:Count":"10"}}`, ctx("g:Count", "ten"), false},
		{"NumberEquals missing", `{"NumberEquals":{"g:Count":"10"}}`, ctx(), false},
		{"NumberNotEquals different", `{"NumberNotEquals":{"g:Count":"10"}}`, ctx("g:Count", "11"), true},
		{"NumberNotEquals equal", `{"NumberNotEquals":{"g:Count":["9","10"]}}`, ctx("g:Count", "10"), false},
		{"NumberNotEquals missing", `{"NumberNotEquals":{"g:Count":"10"}}`, ctx(), true},
		{"NumberNotEquals not a number", `{"NumberNotEquals":{"g:Count":"10"}}`, ctx("g:Count", "ten"), true},
		{"NumberLessThan less", `{"NumberLessThan":{"g:Count":"5"}}`, ctx("g:Count", "4.5"), true},
		{"NumberLessThan equal", `{"NumberLessThan":{"g:Count":"5"}}`, ctx("g:Count", "5"), false},
		{"NumberLessThan negative", `{"NumberLessThan":{"g:Count":"-1"}}`, ctx("g:Count", "-2"), true},
		{"NumberLessThanEquals equal", `{"NumberLessThanEquals":{"g:Count":"5"}}`, ctx("g:Count", "5"), true},
		{"NumberLessThanEquals greater", `{"NumberLessThanEquals":{"g:Count":"5"}}`, ctx("g:Count", "6"), false},
		{"NumberGreaterThan greater", `{"NumberGreaterThan":{"g:Count":"5"}}`, ctx("g:Count", "6"), true},
		{"NumberGreaterThan equal", `{"NumberGreaterThan":{"g:Count":"5"}}`, ctx("g:Count", "5"), false},
		{"NumberGreaterThan any value", `{"NumberGreaterThan":{"g:Count":["10","5"]}}`, ctx("g:Count", "6"), true},
		{"NumberGreaterThanEquals equal", `{"NumberGreaterThanEquals":{"g:Count":"5"}}`, ctx("g:Count", "5"), true},
		{"NumberGreaterThanEquals less", `{"NumberGreaterThanEquals":{"g:Count":"5"}}`, ctx("g:Count", "4"), false},
		{"NumberGreaterThan infinite request", `{"NumberGreaterThan":{"g:Count":"5"}}`, ctx("g:Count", "+Inf"), false},

		// Date operators.
		{"DateEquals same instant other zone", `{"DateEquals":{"g:CurrentTime":"2026-01-01T08:00:00+08:00"}}`, ctx("g:CurrentTime", "2026-01-01T00:00:00Z"), true},
		{"DateEquals different", `{"DateEquals":{"g:CurrentTime":"2026-01-01T00:00:00Z"}}`, ctx("g:CurrentTime", "2026-01-01T00:00:01Z"), false},
		{"DateNotEquals different", `{"DateNotEquals":{"g:CurrentTime":"2026-01-01T00:00:00Z"}}`, ctx("g:CurrentTime", "2026-01-01T00:00:01Z"), true},
		{"DateNotEquals equal", `{"DateNotEquals":{"g:CurrentTime":"2026-01-01T00:00:00Z"}}`, ctx("g:CurrentTime", "2026-01-01T00:00:00.000Z"), false},
		{"DateLessThan before", `{"DateLessThan":{"g:CurrentTime":"2026-01-01T00:00:00Z"}}`, ctx("g:CurrentTime", "2025-12-31T23:59:59Z"), true},
		{"DateLessThan equal", `{"DateLessThan":{"g:CurrentTime":"2026-01-01T00:00:00Z"}}`, ctx("g:CurrentTime", "2026-01-01T00:00:00Z"), false},
		{"DateLessThan fraction", `{"DateLessThan":{"g:CurrentTime":"2026-01-01T00:00:00.5Z"}}`, ctx("g:CurrentTime", "2026-01-01T00:00:00.25Z"), true},
		{"DateLessThanEquals equal", `{"DateLessThanEquals":{"g:CurrentTime":"2026-01-01T00:00:00Z"}}`, ctx("g:CurrentTime", "2026-01-01T00:00:00Z"), true},
		{"DateLessThanEquals after", `{"DateLessThanEquals":{"g:CurrentTime":"2026-01-01T00:00:00Z"}}`, ctx("g:CurrentTime", "2026-01-01T00:00:01Z"), false},
		{"DateGreaterThan after", `{"DateGreaterThan":{"g:CurrentTime":"2026-01-01T00:00:00Z"}}`, ctx("g:CurrentTime", "2026-01-01T00:00:01Z"), true},
		{"DateGreaterThan offset before", `{"DateGreaterThan":{"g:CurrentTime":"2026-01-01T00:00:00Z"}}`, ctx("g:CurrentTime", "2026-01-01T07:00:00+08:00"), false},
		{"DateGreaterThanEquals equal", `{"DateGreaterThanEquals":{"g:CurrentTime":"2026-01-01T00:00:00Z"}}`, ctx("g:CurrentTime", "2026-01-01T00:00:00Z"), true},
		{"DateGreaterThanEquals before", `{"DateGreaterThanEquals":{"g:CurrentTime":"2026-01-01T00:00:00Z"}}`, ctx("g:CurrentTime", "2025-01-01T00:00:00Z"), false},
		{"DateLessThan not a date", `{"DateLessThan":{"g:CurrentTime":"2026-01-01T00:00:00Z"}}`, ctx("g:CurrentTime", "yesterday"), false},
		{"DateLessThan missing", `{"DateLessThan":{"g:CurrentTime":"2026-01-01T00:00:00Z"}}`, ctx(), false},

		// Bool.
		{"Bool true", `{"Bool":{"g:MFAPresent":"true"}}`, ctx("g:MFAPresent", "true"), true},
		{"Bool any case", `{"Bool":{"g:MFAPresent":"True"}}`, ctx("g:MFAPresent", "TRUE"), true},
		{"Bool json literal", `{"Bool":{"g:MFAPresent":true}}`, ctx("g:MFAPresent", "true"), true},
		{"Bool mismatch", `{"Bool":{"g:MFAPresent":"true"}}`, ctx("g:MFAPresent", "false"), false},
		{"Bool false", `{"Bool":{"g:MFAPresent":"false"}}`, ctx("g:MFAPresent", "false"), true},
		{"Bool not a bool", `{"Bool":{"g:MFAPresent":"true"}}`, ctx("g:MFAPresent", "yes"), false},
		{"Bool missing", `{"Bool":{"g:MFAPresent":"true"}}`, ctx(), false},

		// IP addresses.
		{"IpAddress v4 inside", `{"IpAddress":{"g:SourceIp":"192.0.2.0/24"}}`, ctx("g:SourceIp", "192.0.2.10"), true},
		{"IpAddress v4 outside", `{"IpAddress":{"g:SourceIp":"192.0.2.0/24"}}`, ctx("g:SourceIp", "198.51.100.1"), false},
		{"IpAddress single address", `{"IpAddress":{"g:SourceIp":"192.0.2.10"}}`, ctx("g:SourceIp", "192.0.2.10"), true},
		{"IpAddress single address other", `{"IpAddress":{"g:SourceIp":"192.0.2.10"}}`, ctx("g:SourceIp", "192.0.2.11"), false},
		{"IpAddress host bits in block", `{"IpAddress":{"g:SourceIp":"192.0.2.77/24"}}`, ctx("g:SourceIp", "192.0.2.1"), true},
		{"IpAddress any block", `{"IpAddress":{"g:SourceIp":["10.0.0.0/8","192.0.2.0/24"]}}`, ctx("g:SourceIp", "192.0.2.1"), true},
		{"IpAddress v6 inside", `{"IpAddress":{"g:SourceIp":"2001:db8::/32"}}`, ctx("g:SourceIp", "2001:db8:1::5"), true},
		{"IpAddress v6 outside", `{"IpAddress":{"g:SourceIp":"2001:db8::/32"}}`, ctx("g:SourceIp", "2001:db9::1"), false},
		{"IpAddress v6 zone ignored", `{"IpAddress":{"g:SourceIp":"fe80::/10"}}`, ctx("g:SourceIp", "fe80::1%eth0"), true},
		{"IpAddress v4 not in v6 block", `{"IpAddress":{"g:SourceIp":"::/0"}}`, ctx("g:SourceIp", "192.0.2.1"), false},
		{"IpAddress mapped request", `{"IpAddress":{"g:SourceIp":"192.0.2.0/24"}}`, ctx("g:SourceIp", "::ffff:192.0.2.9"), true},
		{"IpAddress mapped block", `{"IpAddress":{"g:SourceIp":"::ffff:192.0.2.0/120"}}`, ctx("g:SourceIp", "192.0.2.9"), true},
		{"IpAddress not an address", `{"IpAddress":{"g:SourceIp":"0.0.0.0/0"}}`, ctx("g:SourceIp", "localhost"), false},
		{"IpAddress missing", `{"IpAddress":{"g:SourceIp":"0.0.0.0/0"}}`, ctx(), false},
		{"NotIpAddress outside", `{"NotIpAddress":{"g:SourceIp":"192.0.2.0/24"}}`, ctx("g:SourceIp", "198.51.100.1"), true},
		{"NotIpAddress inside", `{"NotIpAddress":{"g:SourceIp":"192.0.2.0/24"}}`, ctx("g:SourceIp", "192.0.2.1"), false},
		{"NotIpAddress inside one", `{"NotIpAddress":{"g:SourceIp":["10.0.0.0/8","192.0.2.0/24"]}}`, ctx("g:SourceIp", "192.0.2.1"), false},
		{"NotIpAddress v6 outside", `{"NotIpAddress":{"g:SourceIp":"2001:db8::/32"}}`, ctx("g:SourceIp", "2001:db9::1"), true},
		{"NotIpAddress missing", `{"NotIpAddress":{"g:SourceIp":"192.0.2.0/24"}}`, ctx(), true},
		{"NotIpAddress not an address", `{"NotIpAddress":{"g:SourceIp":"192.0.2.0/24"}}`, ctx("g:SourceIp", "nonsense"), true},

		// Null.
		{"Null true missing", `{"Null":{"g:UserName":"true"}}`, ctx(), true},
		{"Null true present", `{"Null":{"g:UserName":"true"}}`, ctx("g:UserName", "alice"), false},
		{"Null true empty string present", `{"Null":{"g:UserName":"true"}}`, ctx("g:UserName", ""), false},
		{"Null true no values", `{"Null":{"g:UserName":"true"}}`, map[string][]string{"g:UserName": nil}, true},
		{"Null false present", `{"Null":{"g:UserName":"false"}}`, ctx("g:UserName", "alice"), true},
		{"Null false missing", `{"Null":{"g:UserName":"false"}}`, ctx(), false},
		{"Null both", `{"Null":{"g:UserName":["true","false"]}}`, ctx(), true},

		// Combining keys and operators.
		{"keys all hold", `{"StringEquals":{"g:UserName":"alice","g:ProjectName":"cn-north-4"}}`, ctx("g:UserName", "alice", "g:ProjectName", "cn-north-4"), true},
		{"keys one fails", `{"StringEquals":{"g:UserName":"alice","g:ProjectName":"cn-north-4"}}`, ctx("g:UserName", "alice", "g:ProjectName", "cn-east-3"), false},
		{"operators all hold", `{"StringEquals":{"g:UserName":"alice"},"Bool":{"g:MFAPresent":"true"}}`, ctx("g:UserName", "alice", "g:MFAPresent", "true"), true},
		{"operators one fails", `{"StringEquals":{"g:UserName":"alice"},"Bool":{"g:MFAPresent":"true"}}`, ctx("g:UserName", "alice", "g:MFAPresent", "false"), false},

		// Multi-valued keys.
		{"unqualified any request value", `{"StringEquals":{"g:TagKeys":"env"}}`, ctx("g:TagKeys", "team", "g:TagKeys", "env"), true},
		{"unqualified negated all request values", `{"StringNotEquals":{"g:TagKeys":"env"}}`, ctx("g:TagKeys", "team", "g:TagKeys", "env"), false},
		{"ForAnyValue match", `{"ForAnyValue:StringEquals":{"g:TagKeys":["env","team"]}}`, ctx("g:TagKeys", "owner", "g:TagKeys", "team"), true},
		{"ForAnyValue no match", `{"ForAnyValue:StringEquals":{"g:TagKeys":["env","team"]}}`, ctx("g:TagKeys", "owner"), false},
		{"ForAnyValue missing", `{"ForAnyValue:StringEquals":{"g:TagKeys":["env"]}}`, ctx(), false},
		{"ForAnyValue IfExists missing", `{"ForAnyValue:StringEqualsIfExists":{"g:TagKeys":["env"]}}`, ctx(), true},
		{"ForAnyValue negated one differs", `{"ForAnyValue:StringNotEquals":{"g:RequestTag/owner":["Alice","Jack"]}}`, ctx("g:RequestTag/owner", "Alice", "g:RequestTag/owner", "Eve"), true},
		{"ForAnyValue negated none differs", `{"ForAnyValue:StringNotEquals":{"g:RequestTag/owner":["Alice","Jack"]}}`, ctx("g:RequestTag/owner", "Jack"), false},
		{"ForAllValues all match", `{"ForAllValues:StringEquals":{"g:TagKeys":["env","team"]}}`, ctx("g:TagKeys", "env", "g:TagKeys", "team"), true},
		{"ForAllValues one fails", `{"ForAllValues:StringEquals":{"g:TagKeys":["env","team"]}}`, ctx("g:TagKeys", "env", "g:TagKeys", "owner"), false},
		{"ForAllValues missing", `{"ForAllValues:StringEquals":{"g:TagKeys":["env"]}}`, ctx(), true},
		{"ForAllValues negated all differ", `{"ForAllValues:StringNotEquals":{"g:TagKeys":["env"]}}`, ctx("g:TagKeys", "team", "g:TagKeys", "owner"), true},
		{"ForAllValues negated one equal", `{"ForAllValues:StringNotEquals":{"g:TagKeys":["env"]}}`, ctx("g:TagKeys", "team", "g:TagKeys", "env"), false},
		{"ForAllValues like", `{"ForAllValues:StringLike":{"g:TagKeys":["app-*"]}}`, ctx("g:TagKeys", "app-a", "g:TagKeys", "app-b"), true},
		{"ForAnyValue number", `{"ForAnyValue:NumberGreaterThan":{"g:Sizes":"10"}}`, ctx("g:Sizes", "1", "g:Sizes", "20"), true},
		{"ForAllValues ip", `{"ForAllValues:IpAddress":{"g:Hops":"10.0.0.0/8"}}`, ctx("g:Hops", "10.1.1.1", "g:Hops", "192.0.2.1"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := mustParseTest(t, policyOf(`{"Effect":"Allow","Action":"*","Condition":`+tt.condition+`}`))
			got := Evaluate([]Named{{Name: "p", Doc: d}}, Request{Action: "lts:logGroup:get", Resource: "*", Context: tt.context})
			if got.Allowed != tt.want {
				t.Errorf("condition %s with context %v: allowed = %v, want %v", tt.condition, tt.context, got.Allowed, tt.want)
			}
		})
	}
}
