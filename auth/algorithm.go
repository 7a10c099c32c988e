package auth

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"

	"github.com/tjfoc/gmsm/sm3"
)

const (
	// signatureLen is the length in bytes of every supported signature,
	// because SHA-256 and SM3 digests are both 32 bytes.
	signatureLen = 32

	dateLayout        = "20060102T150405Z" // X-Sdk-Date, always UTC
	derivedDateLayout = "20060102"         // date in a V11 scope

	// unsignedPayload in the content-hash header replaces the body hash, so
	// the body is not covered by the signature.
	unsignedPayload = "UNSIGNED-PAYLOAD"
)

// algorithm contains what differs between the supported signing algorithms.
type algorithm struct {
	newHash func() hash.Hash

	// contentHeader, when present on the request, replaces the body hash
	// in the canonical request. The SDK sets it to UNSIGNED-PAYLOAD when
	// the Content-Type is neither JSON nor BSON.
	contentHeader string
}

// NOTE: sm3.New of github.com/tjfoc/gmsm v1.4.1, the SM3 the SDK signs
// with, hashes the bytes passed to Sum along with the message. Only
// Sum(nil) and crypto/hmac, which passes an empty slice, are used here, and
// both give standard SM3 digests.
var algorithms = map[string]algorithm{
	HMACSHA256: {newHash: sha256.New, contentHeader: "X-Sdk-Content-Sha256"},
	HMACSM3:    {newHash: sm3.New, contentHeader: "X-Sdk-Content-Sm3"},
	V11:        {newHash: sha256.New, contentHeader: "X-Sdk-Content-Sha256"},
}

// hashHex returns the lower-case hex digest of data under alg.
func (alg algorithm) hashHex(data []byte) string {
	h := alg.newHash()
	h.Write(data)
	return hex.EncodeToString(h.Sum(nil))
}

// signature computes the signature of a canonical request signed at date
// (the X-Sdk-Date value) with secret, the SK of a.AccessKeyID.
//
// The string to sign is the algorithm, the date, for V11 the scope, and the
// hex digest of the canonical request, joined by newlines. SDK algorithms
// use the SK as the HMAC key. V11 uses the hex text of HKDF-SHA256 with the
// SK as secret, the AK as salt and the scope as info.
func signature(a *Authorization, secret, date string, canonicalRequest []byte) ([]byte, error) {
	alg := algorithms[a.Algorithm]
	stringToSign := a.Algorithm + "\n" + date + "\n"
	key := []byte(secret)

	if a.Algorithm == V11 {
		stringToSign += a.Scope + "\n"
		derived, err := hkdf.Key(sha256.New, key, []byte(a.AccessKeyID), a.Scope, sha256.Size)
		if err != nil {
			return nil, fmt.Errorf("derive signing key: %w", err)
		}
		key = []byte(hex.EncodeToString(derived))
	}
	stringToSign += alg.hashHex(canonicalRequest)

	mac := hmac.New(alg.newHash, key)
	mac.Write([]byte(stringToSign))
	return mac.Sum(nil), nil
}
