package auth

import (
	"encoding/hex"
	"slices"
	"strings"
	"time"

	"github.com/userevents/userevents"
)

// Signing algorithms, as named in the Authorization header.
const (
	HMACSHA256 = "SDK-HMAC-SHA256" // the SDK's default
	HMACSM3    = "SDK-HMAC-SM3"
	V11        = "V11-HMAC-SHA256" // derived-key signing, used when the SDK client sets a derived predicate
)

// Signing algorithms the SDK can emit that Verify rejects as unsupported.
const (
	ecdsaP256SHA256 = "SDK-ECDSA-P256-SHA256"
	sm2SM3          = "SDK-SM2-SM3"
)

// maxAccessKeyLen bounds the AK read from the header, so that an error
// message that quotes the AK stays short.
const maxAccessKeyLen = 128

// Authorization is the parsed Authorization header of a signed request. The
// SDK algorithms use the form
//
//	SDK-HMAC-SHA256 Access=<AK>, SignedHeaders=<h1>;<h2>, Signature=<hex>
//
// and V11-HMAC-SHA256 uses
//
//	V11-HMAC-SHA256 Credential=<AK>/<yyyymmdd>/<region>/<service>, SignedHeaders=<h1>;<h2>, Signature=<hex>
type Authorization struct {
	Algorithm   string // HMACSHA256, HMACSM3 or V11
	AccessKeyID string

	// Scope is "<yyyymmdd>/<region>/<service>" for V11 and empty for the
	// other algorithms. It is the info input of the key derivation.
	Scope string

	// SignedHeaders are the lower-case names of the signed headers, in the
	// order the client listed them, which is the order of the canonical
	// headers.
	SignedHeaders []string

	Signature string // hex, 32 bytes
}

// ParseAuthorization parses the value of an Authorization header. Parameters
// are separated by commas with optional spaces around them, and each must
// appear exactly once. It returns a *userevents.Error with code
// EUNAUTHENTICATED that names the part that is malformed or missing.
func ParseAuthorization(header string) (*Authorization, error) {
	algorithm, params, found := strings.Cut(strings.TrimSpace(header), " ")
	if !found {
		return nil, malformed("expected an algorithm followed by parameters")
	}
	a := &Authorization{Algorithm: algorithm}

	keyParam := "Access"
	switch algorithm {
	case HMACSHA256, HMACSM3:
	case V11:
		keyParam = "Credential"
	case ecdsaP256SHA256, sm2SM3:
		return nil, unauthenticated("Signing algorithm %s is not supported; sign with %s, %s or %s.",
			algorithm, HMACSHA256, HMACSM3, V11)
	default:
		return nil, unauthenticated("Signing algorithm %s is unknown; sign with %s, %s or %s.",
			quote(algorithm), HMACSHA256, HMACSM3, V11)
	}

	seen := map[string]string{}
	for param := range strings.SplitSeq(params, ",") {
		param = strings.TrimSpace(param)
		name, value, found := strings.Cut(param, "=")
		switch {
		case !found:
			return nil, malformed("parameter " + quote(param) + " has no '='")
		case name != keyParam && name != "SignedHeaders" && name != "Signature":
			return nil, malformed("unexpected parameter " + quote(name) + " for " + algorithm)
		case seen[name] != "":
			return nil, malformed(name + " appears more than once")
		case value == "":
			return nil, malformed(name + " is empty")
		}
		seen[name] = value
	}
	for _, name := range []string{keyParam, "SignedHeaders", "Signature"} {
		if seen[name] == "" {
			return nil, malformed("missing " + name)
		}
	}

	if err := a.parseKey(keyParam, seen[keyParam]); err != nil {
		return nil, err
	}
	if err := a.parseSignedHeaders(seen["SignedHeaders"]); err != nil {
		return nil, err
	}
	if err := a.parseSignature(seen["Signature"]); err != nil {
		return nil, err
	}
	return a, nil
}

// String formats a as an Authorization header value in the layout the SDK
// writes, so that ParseAuthorization(a.String()) returns an equal value.
func (a *Authorization) String() string {
	var b strings.Builder
	b.WriteString(a.Algorithm)
	if a.Algorithm == V11 {
		b.WriteString(" Credential=" + a.AccessKeyID + "/" + a.Scope)
	} else {
		b.WriteString(" Access=" + a.AccessKeyID)
	}
	b.WriteString(", SignedHeaders=" + strings.Join(a.SignedHeaders, ";"))
	b.WriteString(", Signature=" + a.Signature)
	return b.String()
}

// signs reports whether name is among the signed headers.
func (a *Authorization) signs(name string) bool {
	return slices.Contains(a.SignedHeaders, name)
}

func (a *Authorization) parseKey(param, value string) error {
	ak := value
	if a.Algorithm == V11 {
		var found bool
		ak, a.Scope, found = strings.Cut(value, "/")
		if !found {
			return malformed("Credential must be <AK>/<yyyymmdd>/<region>/<service>")
		}
		if err := checkScope(a.Scope); err != nil {
			return err
		}
	}

	if ak == "" {
		return malformed(param + " has an empty access key")
	}
	if len(ak) > maxAccessKeyLen {
		return malformed(param + " has an access key longer than 128 characters")
	}
	if !isPrintableWord(ak) {
		return malformed(param + " has an access key with a character that is not printable ASCII")
	}
	a.AccessKeyID = ak
	return nil
}

// checkScope checks the "<yyyymmdd>/<region>/<service>" part of a V11
// credential.
func checkScope(scope string) error {
	parts := strings.Split(scope, "/")
	if len(parts) != 3 || !isPrintableWord(parts[1]) || !isPrintableWord(parts[2]) {
		return malformed("Credential must be <AK>/<yyyymmdd>/<region>/<service>")
	}
	if _, err := time.Parse(derivedDateLayout, parts[0]); err != nil || len(parts[0]) != 8 {
		return malformed("Credential date " + quote(parts[0]) + " is not a yyyymmdd date")
	}
	return nil
}

func (a *Authorization) parseSignedHeaders(value string) error {
	names := strings.Split(value, ";")
	for i, name := range names {
		switch {
		case !isLowerToken(name):
			return malformed("SignedHeaders entry " + quote(name) +
				" is not a lower-case header name")
		case name == "authorization":
			return malformed("SignedHeaders must not include authorization")
		case slices.Contains(names[:i], name):
			return malformed("SignedHeaders lists " + name + " more than once")
		}
	}
	a.SignedHeaders = names
	return nil
}

// isPrintableWord reports whether s is non-empty printable ASCII without
// spaces.
func isPrintableWord(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return s != ""
}

// isLowerToken reports whether s is a non-empty HTTP field name (an RFC 9110
// token) with no upper-case letters. The SDK lower-cases every name it signs.
func isLowerToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

func (a *Authorization) parseSignature(value string) error {
	sig, err := hex.DecodeString(value)
	if err != nil || len(sig) != signatureLen {
		return malformed("Signature must be 64 hex digits")
	}
	a.Signature = value
	return nil
}

func malformed(detail string) error {
	return unauthenticated("Authorization header is malformed: %s. Expected %q or %q.", detail,
		HMACSHA256+" Access=<AK>, SignedHeaders=<h1>;<h2>, Signature=<hex>",
		V11+" Credential=<AK>/<yyyymmdd>/<region>/<service>, SignedHeaders=<h1>;<h2>, Signature=<hex>")
}

func unauthenticated(format string, args ...any) error {
	return userevents.Errorf(userevents.EUNAUTHENTICATED, format, args...)
}
