package auth_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/userevents/userevents"
	"github.com/userevents/userevents/auth"
)

func TestParseAuthorization(t *testing.T) {
	sig := strings.Repeat("ab", 32)
	tests := []struct {
		name   string
		header string
		want   auth.Authorization
	}{
		{
			name:   "sdk layout",
			header: "SDK-HMAC-SHA256 Access=" + testAK + ", SignedHeaders=user-agent;x-project-id;x-sdk-date, Signature=" + sig,
			want: auth.Authorization{
				Algorithm:     auth.HMACSHA256,
				AccessKeyID:   testAK,
				SignedHeaders: []string{"user-agent", "x-project-id", "x-sdk-date"},
				Signature:     sig,
			},
		},
		{
			name:   "no spaces after commas",
			header: "SDK-HMAC-SM3 Access=" + testAK + ",SignedHeaders=x-sdk-date,Signature=" + sig,
			want: auth.Authorization{
				Algorithm:     auth.HMACSM3,
				AccessKeyID:   testAK,
				SignedHeaders: []string{"x-sdk-date"},
				Signature:     sig,
			},
		},
		{
			name:   "parameters in another order",
			header: "SDK-HMAC-SHA256 Signature=" + sig + ", Access=" + testAK + ", SignedHeaders=host;x-sdk-date",
			want: auth.Authorization{
				Algorithm:     auth.HMACSHA256,
				AccessKeyID:   testAK,
				SignedHeaders: []string{"host", "x-sdk-date"},
				Signature:     sig,
			},
		},
		{
			name:   "upper-case hex signature",
			header: "SDK-HMAC-SHA256 Access=" + testAK + ", SignedHeaders=x-sdk-date, Signature=" + strings.ToUpper(sig),
			want: auth.Authorization{
				Algorithm:     auth.HMACSHA256,
				AccessKeyID:   testAK,
				SignedHeaders: []string{"x-sdk-date"},
				Signature:     strings.ToUpper(sig),
			},
		},
		{
			name:   "v11 credential",
			header: "V11-HMAC-SHA256 Credential=" + testAK + "/20240501/cn-north-4/workspace, SignedHeaders=x-sdk-date, Signature=" + sig,
			want: auth.Authorization{
				Algorithm:     auth.V11,
				AccessKeyID:   testAK,
				Scope:         "20240501/cn-north-4/workspace",
				SignedHeaders: []string{"x-sdk-date"},
				Signature:     sig,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := auth.ParseAuthorization(tt.header)
			if err != nil {
				t.Fatalf("ParseAuthorization: %v", err)
			}
			if !reflect.DeepEqual(*got, tt.want) {
				t.Errorf("ParseAuthorization = %+v, want %+v", *got, tt.want)
			}
			again, err := auth.ParseAuthorization(got.String())
			if err != nil {
				t.Fatalf("ParseAuthorization(%q): %v", got.String(), err)
			}
			if !reflect.DeepEqual(again, got) {
				t.Errorf("round trip through String = %+v, want %+v", again, got)
			}
		})
	}
}

func TestParseAuthorizationErrors(t *testing.T) {
	sig := strings.Repeat("ab", 32)
	base := "SDK-HMAC-SHA256 Access=" + testAK + ", SignedHeaders=x-sdk-date, Signature=" + sig
	tests := []struct {
		name     string
		header   string
		fragment string
	}{
		{"empty", "", "expected an algorithm followed by parameters"},
		{"algorithm only", "SDK-HMAC-SHA256", "expected an algorithm followed by parameters"},
		{"unknown algorithm", "AWS4-HMAC-SHA256 Credential=x", `Signing algorithm "AWS4-HMAC-SHA256" is unknown`},
		{"ecdsa", "SDK-ECDSA-P256-SHA256 Access=x", "SDK-ECDSA-P256-SHA256 is not supported"},
		{"sm2", "SDK-SM2-SM3 Access=x", "SDK-SM2-SM3 is not supported"},
		{"missing signature", "SDK-HMAC-SHA256 Access=" + testAK + ", SignedHeaders=x-sdk-date", "missing Signature"},
		{"missing access", "SDK-HMAC-SHA256 SignedHeaders=x-sdk-date, Signature=" + sig, "missing Access"},
		{"duplicate parameter", base + ", Signature=" + sig, "Signature appears more than once"},
		{"unknown parameter", base + ", Region=x", `unexpected parameter "Region"`},
		{"credential with sdk algorithm", "SDK-HMAC-SHA256 Credential=x/20240501/r/s, SignedHeaders=x-sdk-date, Signature=" + sig, `unexpected parameter "Credential"`},
		{"access with v11", "V11-HMAC-SHA256 Access=" + testAK + ", SignedHeaders=x-sdk-date, Signature=" + sig, `unexpected parameter "Access"`},
		{"parameter without equals sign", base + ", junk", `parameter "junk" has no '='`},
		{"empty value", "SDK-HMAC-SHA256 Access=, SignedHeaders=x-sdk-date, Signature=" + sig, "Access is empty"},
		{"short signature", strings.TrimSuffix(base, "ab"), "Signature must be 64 hex digits"},
		{"non-hex signature", strings.Replace(base, "Signature=ab", "Signature=zz", 1), "Signature must be 64 hex digits"},
		{"upper-case signed header", strings.Replace(base, "x-sdk-date", "X-Sdk-Date", 1), `entry "X-Sdk-Date" is not a lower-case header name`},
		{"empty signed header", strings.Replace(base, "x-sdk-date", "host;;x-sdk-date", 1), `entry "" is not a lower-case header name`},
		{"repeated signed header", strings.Replace(base, "x-sdk-date", "host;host;x-sdk-date", 1), "lists host more than once"},
		{"signed authorization", strings.Replace(base, "x-sdk-date", "authorization;x-sdk-date", 1), "must not include authorization"},
		{"access key with space", strings.Replace(base, "Access="+testAK, "Access=AK X", 1), "not printable ASCII"},
		{"access key too long", strings.Replace(base, testAK, strings.Repeat("A", 129), 1), "longer than 128 characters"},
		{"v11 credential without scope", "V11-HMAC-SHA256 Credential=" + testAK + ", SignedHeaders=x-sdk-date, Signature=" + sig, "Credential must be"},
		{"v11 scope missing service", "V11-HMAC-SHA256 Credential=" + testAK + "/20240501/cn-north-4, SignedHeaders=x-sdk-date, Signature=" + sig, "Credential must be"},
		{"v11 scope with bad date", "V11-HMAC-SHA256 Credential=" + testAK + "/2024-05-01/cn-north-4/workspace, SignedHeaders=x-sdk-date, Signature=" + sig, `Credential date "2024-05-01" is not a yyyymmdd date`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := auth.ParseAuthorization(tt.header)
			wantError(t, err, userevents.EUNAUTHENTICATED, tt.fragment)
		})
	}
}
