package auth

import (
	"context"
	"crypto/hmac"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/userevents/userevents"
)

// DefaultSkew is the maximum difference between X-Sdk-Date and the server
// clock when Verifier.Skew is zero.
//
// NOTE: the limit of the Huawei Cloud API gateway is unconfirmed, and 15
// minutes is an assumption.
const DefaultSkew = 15 * time.Minute

// KeyLookup finds access keys for a Verifier.
type KeyLookup interface {
	// FindAccessKey returns the access key whose AK is id, or a
	// *userevents.Error with code ENOTFOUND when there is none.
	FindAccessKey(ctx context.Context, id string) (*userevents.AccessKey, error)
}

// Verifier verifies AK/SK-signed requests. Keys must be set, and the other
// fields may be left zero. A Verifier is safe for concurrent use when its
// KeyLookup is.
type Verifier struct {
	Keys KeyLookup

	// Now returns the current time. Nil means time.Now.
	Now func() time.Time

	// Skew is the maximum difference between X-Sdk-Date and Now, in either
	// direction. Zero or negative means DefaultSkew.
	Skew time.Duration

	// Region and Service, when not empty, are the only region and service
	// accepted in the scope of a V11-HMAC-SHA256 credential. Empty accepts
	// any scope.
	Region  string
	Service string
}

// Verify checks the AK/SK signature of r and returns the access key that
// signed it. body must be the full request body, which the caller has
// already read; Verify does not read r.Body.
//
// Verify returns a *userevents.Error with code EUNAUTHENTICATED when:
//
//   - the Authorization or X-Sdk-Date header is missing or malformed;
//   - X-Sdk-Date is not signed, or is further than Skew from Now;
//   - the AK is unknown;
//   - a signed header is missing, or the signature does not match;
//   - the key is disabled or expired;
//   - X-Security-Token is missing, unsigned or wrong for a temporary key,
//     or present for a permanent one.
//
// The message names what failed. It never contains the secret key, the
// security token or the expected signature. Verify returns code EINVALID
// when the path or query is malformed (see ParseQuery). It returns any
// other error of Keys wrapped, and an internal error when Keys returns no
// key, a key with another AK or a key with an empty secret.
//
// NOTE: a request whose X-Sdk-Content-Sha256 (X-Sdk-Content-Sm3 for
// SDK-HMAC-SM3) header is UNSIGNED-PAYLOAD is verified without its body,
// because the SDK sends that value for any Content-Type other than JSON or
// BSON. A handler that reads such a body reads unauthenticated bytes.
func (v *Verifier) Verify(ctx context.Context, r *http.Request, body []byte) (*userevents.AccessKey, error) {
	a, err := authorization(r)
	if err != nil {
		return nil, err
	}

	now := v.now()
	date, err := v.checkDate(r, a, now)
	if err != nil {
		return nil, err
	}

	key, err := v.findKey(ctx, a.AccessKeyID)
	if err != nil {
		return nil, err
	}

	canonical, err := canonicalRequest(r, a, body)
	if err != nil {
		return nil, err
	}
	want, err := signature(a, string(key.Secret), date, canonical)
	if err != nil {
		return nil, err
	}
	got, _ := hex.DecodeString(a.Signature) // checked by ParseAuthorization
	if !hmac.Equal(got, want) {
		return nil, unauthenticated("Signature does not match the request for access key %s. "+
			"Sign with its secret key and send the method, path, query, signed headers (%s) "+
			"and body exactly as signed. The server's canonical request hash is %s.",
			a.AccessKeyID, strings.Join(a.SignedHeaders, ";"),
			algorithms[a.Algorithm].hashHex(canonical))
	}

	if err := checkKey(r, a, key, now); err != nil {
		return nil, err
	}
	return key, nil
}

// authorization parses the single Authorization header of r.
func authorization(r *http.Request) (*Authorization, error) {
	headers := r.Header.Values("Authorization")
	switch len(headers) {
	case 0:
		return nil, unauthenticated("Authorization header is missing; sign the request with an AK/SK.")
	case 1:
		return ParseAuthorization(headers[0])
	default:
		return nil, unauthenticated("Authorization header appears %d times; send it once.", len(headers))
	}
}

// checkDate checks the X-Sdk-Date header of r against now and returns its
// value, which is part of the string to sign.
func (v *Verifier) checkDate(r *http.Request, a *Authorization, now time.Time) (string, error) {
	values := r.Header.Values("X-Sdk-Date")
	switch len(values) {
	case 0:
		return "", unauthenticated("X-Sdk-Date header is missing; send the signing time in "+
			"UTC, formatted as %s.", dateLayout)
	case 1:
	default:
		return "", unauthenticated("X-Sdk-Date header appears %d times; send it once.", len(values))
	}
	date := strings.TrimSpace(values[0])
	t, err := time.Parse(dateLayout, date)
	if err != nil || len(date) != len(dateLayout) {
		return "", unauthenticated("X-Sdk-Date %s is not a UTC time formatted as %s.",
			quote(date), dateLayout)
	}
	if !a.signs("x-sdk-date") {
		return "", unauthenticated("SignedHeaders must include x-sdk-date.")
	}

	skew := v.Skew
	if skew <= 0 {
		skew = DefaultSkew
	}
	if d := now.Sub(t); d > skew {
		return "", unauthenticated("X-Sdk-Date %s is %s behind the server time %s; the maximum "+
			"difference is %s. Check the client clock and sign again.",
			date, d, now.UTC().Format(dateLayout), skew)
	} else if -d > skew {
		return "", unauthenticated("X-Sdk-Date %s is %s ahead of the server time %s; the maximum "+
			"difference is %s. Check the client clock and sign again.",
			date, -d, now.UTC().Format(dateLayout), skew)
	}

	if a.Algorithm == V11 {
		if err := v.checkScope(a, date); err != nil {
			return "", err
		}
	}
	return date, nil
}

// checkScope checks the date, region and service of a V11 credential scope.
func (v *Verifier) checkScope(a *Authorization, date string) error {
	scopeDate, rest, _ := strings.Cut(a.Scope, "/")
	region, service, _ := strings.Cut(rest, "/")
	if scopeDate != date[:len(derivedDateLayout)] {
		return unauthenticated("Credential date %s does not match X-Sdk-Date %s; sign again.",
			scopeDate, date)
	}
	if v.Region != "" && region != v.Region {
		return unauthenticated("Credential region %s is not %s; sign for region %s.",
			quote(region), v.Region, v.Region)
	}
	if v.Service != "" && service != v.Service {
		return unauthenticated("Credential service %s is not %s; sign for service %s.",
			quote(service), v.Service, v.Service)
	}
	return nil
}

// findKey looks up the access key with AK id.
func (v *Verifier) findKey(ctx context.Context, id string) (*userevents.AccessKey, error) {
	key, err := v.Keys.FindAccessKey(ctx, id)
	if userevents.ErrorCode(err) == userevents.ENOTFOUND {
		return nil, unauthenticated("Access key %s does not exist; check the AK.", id)
	} else if err != nil {
		return nil, fmt.Errorf("find access key: %w", err)
	}

	// These are faults of the store. An empty SK would let anyone sign, so
	// it must not turn into a successful login.
	if key == nil {
		return nil, errors.New("find access key: lookup returned no key and no error")
	} else if key.ID != id {
		return nil, fmt.Errorf("find access key: lookup of %s returned access key %s", id, key.ID)
	} else if key.Secret == "" {
		return nil, fmt.Errorf("find access key: access key %s has an empty secret", id)
	}
	return key, nil
}

// checkKey checks the state of a key whose signature matched. The key must
// be enabled and unexpired. A temporary key needs its signed security token,
// and a permanent key must come without one.
func checkKey(r *http.Request, a *Authorization, key *userevents.AccessKey, now time.Time) error {
	if !key.Enabled {
		return unauthenticated("Access key %s is disabled; use an enabled access key.", key.ID)
	}
	if !key.ExpiresAt.IsZero() && !now.Before(key.ExpiresAt) {
		return unauthenticated("Access key %s expired at %s; obtain new temporary credentials.",
			key.ID, key.ExpiresAt.UTC().Format(time.RFC3339))
	}

	tokens := r.Header.Values("X-Security-Token")
	if key.SecurityToken == "" {
		if len(tokens) > 0 {
			return unauthenticated("X-Security-Token was sent with permanent access key %s; "+
				"send it only with temporary credentials.", key.ID)
		}
		return nil
	}

	switch {
	case len(tokens) == 0:
		return unauthenticated("Temporary access key %s requires the X-Security-Token header "+
			"issued with it.", key.ID)
	case len(tokens) > 1:
		return unauthenticated("X-Security-Token header appears %d times; send it once.", len(tokens))
	case !a.signs("x-security-token"):
		return unauthenticated("SignedHeaders must include x-security-token for temporary "+
			"access key %s.", key.ID)
	}
	token := strings.TrimSpace(tokens[0])
	if subtle.ConstantTimeCompare([]byte(token), []byte(key.SecurityToken)) != 1 {
		return unauthenticated("X-Security-Token was not issued with temporary access key %s; "+
			"send the token issued with this AK/SK.", key.ID)
	}
	return nil
}

func (v *Verifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

// canonicalRequest builds the canonical request of r: the method, the
// canonical URI, the canonical query, the canonical headers, the signed
// header list and the payload hash, joined by newlines. Each canonical
// header line ends with its own newline, so an empty line comes before the
// signed header list.
func canonicalRequest(r *http.Request, a *Authorization, body []byte) ([]byte, error) {
	b := make([]byte, 0, 512)
	b = append(b, r.Method...)
	b = append(b, '\n')

	b, err := appendCanonicalURI(b, r.URL.EscapedPath())
	if err != nil {
		return nil, err
	}
	b = append(b, '\n')

	query, err := ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, err
	}
	b = appendCanonicalQuery(b, query)
	b = append(b, '\n')

	if b, err = appendCanonicalHeaders(b, r, a.SignedHeaders); err != nil {
		return nil, err
	}
	b = append(b, '\n')

	for i, name := range a.SignedHeaders {
		if i > 0 {
			b = append(b, ';')
		}
		b = append(b, name...)
	}
	b = append(b, '\n')

	payload, err := payloadHash(r, algorithms[a.Algorithm], body)
	if err != nil {
		return nil, err
	}
	return append(b, payload...), nil
}

// appendCanonicalHeaders appends "name:value\n" for each signed header, in
// the order signed, with the value trimmed of surrounding whitespace. A
// header sent more than once gives one line per value, sorted by value. The
// host header is r.Host, because net/http moves Host out of r.Header.
func appendCanonicalHeaders(b []byte, r *http.Request, names []string) ([]byte, error) {
	for _, name := range names {
		values := []string{r.Host}
		if name != "host" {
			values = r.Header.Values(name)
		}
		if len(values) == 0 || name == "host" && r.Host == "" {
			return nil, unauthenticated("Signed header %s is missing from the request; send "+
				"every header listed in SignedHeaders.", name)
		}

		if len(values) > 1 {
			trimmed := make([]string, len(values))
			for i, value := range values {
				trimmed[i] = strings.TrimSpace(value)
			}
			values = slices.Sorted(slices.Values(trimmed))
		}
		for _, value := range values {
			b = append(b, name...)
			b = append(b, ':')
			b = append(b, strings.TrimSpace(value)...)
			b = append(b, '\n')
		}
	}
	return b, nil
}

// payloadHash returns the last line of the canonical request, which is the
// value of the algorithm's content-hash header when the request carries it
// and the hex digest of body otherwise. A content-hash header other than
// UNSIGNED-PAYLOAD must be the digest of body, so that the signature cannot
// cover a body other than the one sent.
func payloadHash(r *http.Request, alg algorithm, body []byte) (string, error) {
	values := r.Header.Values(alg.contentHeader)
	switch len(values) {
	case 0:
		return alg.hashHex(body), nil
	case 1:
	default:
		return "", unauthenticated("%s header appears %d times; send it once.",
			alg.contentHeader, len(values))
	}

	value := strings.TrimSpace(values[0])
	if value != unsignedPayload && !strings.EqualFold(value, alg.hashHex(body)) {
		return "", unauthenticated("%s %s is neither %s nor the hex digest of the body; "+
			"send the body that was signed.", alg.contentHeader, quote(value), unsignedPayload)
	}
	return value, nil
}
