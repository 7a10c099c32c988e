package auth

import (
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/userevents/userevents"
)

func FuzzParseAuthorization(f *testing.F) {
	sig := strings.Repeat("0f", 32)
	f.Add("SDK-HMAC-SHA256 Access=AKTESTEXAMPLE00000001, SignedHeaders=user-agent;x-project-id;x-sdk-date, Signature=" + sig)
	f.Add("SDK-HMAC-SM3 Access=AK,SignedHeaders=host;x-sdk-date,Signature=" + strings.ToUpper(sig))
	f.Add("V11-HMAC-SHA256 Credential=AK/20240501/cn-north-4/workspace, SignedHeaders=x-sdk-date, Signature=" + sig)
	f.Add("V11-HMAC-SHA256 Credential=AK/2024050/r/s, SignedHeaders=x-sdk-date, Signature=" + sig)
	f.Add("SDK-HMAC-SHA256 Access=, SignedHeaders=;, Signature=")
	f.Add("SDK-HMAC-SHA256 Access=a=b, Access=c, SignedHeaders=X, Signature=zz")
	f.Add("SDK-ECDSA-P256-SHA256 Access=AK")
	f.Add(" , = ")
	f.Add("")

	f.Fuzz(func(t *testing.T, header string) {
		a, err := ParseAuthorization(header)
		if err != nil {
			if code := userevents.ErrorCode(err); code != userevents.EUNAUTHENTICATED {
				t.Fatalf("error code = %q, want %q", code, userevents.EUNAUTHENTICATED)
			}
			return
		}

		if _, ok := algorithms[a.Algorithm]; !ok {
			t.Fatalf("accepted algorithm %q", a.Algorithm)
		}
		if !isPrintableWord(a.AccessKeyID) {
			t.Fatalf("accepted access key %q", a.AccessKeyID)
		}
		if len(a.SignedHeaders) == 0 {
			t.Fatal("accepted an empty SignedHeaders")
		}
		for _, name := range a.SignedHeaders {
			if !isLowerToken(name) {
				t.Fatalf("accepted signed header %q", name)
			}
		}

		again, err := ParseAuthorization(a.String())
		if err != nil {
			t.Fatalf("ParseAuthorization(%q) after String: %v", a.String(), err)
		}
		if !reflect.DeepEqual(again, a) {
			t.Fatalf("round trip through String = %+v, want %+v", again, a)
		}
	})
}

func FuzzParseQuery(f *testing.F) {
	f.Add("start_time=2024-05-01T00%3A00%3A00Z&end_time=2024-05-02T00%3A00%3A00Z&limit=10")
	f.Add("username=ann+lee&username=ann%2Blee&username=ann%20lee")
	f.Add("resource_name=desk%253A01&resource_name=desk:01")
	f.Add("event_type=LOGIN&event_type-x=1&Limit=10&limit=9")
	f.Add("username&offset&=v&&a==b")
	f.Add("q=%e6%a1%8c%E9%9D%A2&r=%ff")
	f.Add("a=%zz")
	f.Add("a=1;b=2")

	f.Fuzz(func(t *testing.T, raw string) {
		values, err := ParseQuery(raw)
		if err != nil {
			if code := userevents.ErrorCode(err); code != userevents.EINVALID {
				t.Fatalf("error code = %q, want %q", code, userevents.EINVALID)
			}
			return
		}

		// Whatever ParseQuery accepts, Go's url.ParseQuery reads the same
		// way, so handlers that use either see the same values.
		std, err := url.ParseQuery(raw)
		if err != nil {
			t.Fatalf("url.ParseQuery(%q) rejected what ParseQuery accepted: %v", raw, err)
		}
		if !reflect.DeepEqual(values, std) {
			t.Fatalf("ParseQuery(%q) = %v, url.ParseQuery = %v", raw, values, std)
		}

		// The canonical query parses back to the same values, sorted, and
		// is its own canonical form.
		canonical := string(appendCanonicalQuery(nil, values))
		again, err := ParseQuery(canonical)
		if err != nil {
			t.Fatalf("ParseQuery(%q) of a canonical query: %v", canonical, err)
		}
		if len(again) != len(values) {
			t.Fatalf("canonical query %q has %d names, want %d", canonical, len(again), len(values))
		}
		for name, vs := range values {
			if want := slices.Sorted(slices.Values(vs)); !slices.Equal(again[name], want) {
				t.Fatalf("canonical query %q has %q=%q, want %q", canonical, name, again[name], want)
			}
		}
		if twice := string(appendCanonicalQuery(nil, again)); twice != canonical {
			t.Fatalf("canonical query of %q is %q, want it unchanged", canonical, twice)
		}
	})
}

func FuzzCanonicalURI(f *testing.F) {
	f.Add("/v2/0123456789abcdef0123456789abcdef/user-events")
	f.Add("/v2/0123456789abcdef0123456789abcdef/user-events/lts-configurations/")
	f.Add("//v2//x")
	f.Add("/v2/desk:01/desk%3a01/desk%253A01/a%2Fb/a+b")
	f.Add("/v2/%E6%A1%8C%e9%9d%a2/./..")
	f.Add("")
	f.Add("%")
	f.Add("/%zz")

	f.Fuzz(func(t *testing.T, escaped string) {
		got, err := canonicalURI(escaped)
		if err != nil {
			if code := userevents.ErrorCode(err); code != userevents.EINVALID {
				t.Fatalf("error code = %q, want %q", code, userevents.EINVALID)
			}
			return
		}

		if !strings.HasSuffix(got, "/") {
			t.Fatalf("canonicalURI(%q) = %q, want a trailing '/'", escaped, got)
		}
		for i := 0; i < len(got); i++ {
			c := got[i]
			switch {
			case isUnreserved(c), c == '/':
			case c == '%' && i+2 < len(got) && isUpperHex(got[i+1]) && isUpperHex(got[i+2]):
				i += 2
			default:
				t.Fatalf("canonicalURI(%q) = %q, with %q at %d", escaped, got, c, i)
			}
		}

		// Segments are kept, each decoding to what it decoded to before.
		in, out := strings.Split(escaped, "/"), strings.Split(got, "/")
		if !strings.HasSuffix(escaped, "/") {
			in = append(in, "")
		}
		if len(in) != len(out) {
			t.Fatalf("canonicalURI(%q) = %q, with %d segments, want %d", escaped, got, len(out), len(in))
		}
		for i := range in {
			a, _ := url.PathUnescape(in[i])
			b, _ := url.PathUnescape(out[i])
			if a != b {
				t.Fatalf("segment %d of %q decodes to %q in the canonical URI %q, want %q",
					i, escaped, b, got, a)
			}
		}

		if twice, err := canonicalURI(got); err != nil || twice != got {
			t.Fatalf("canonicalURI(%q) = %q, %v; want it unchanged", got, twice, err)
		}
	})
}

func isUpperHex(c byte) bool {
	return '0' <= c && c <= '9' || 'A' <= c && c <= 'F'
}
