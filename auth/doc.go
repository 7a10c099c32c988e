// Package auth verifies the AK/SK request signatures of Huawei Cloud API
// clients, as produced by the official Go SDK (core/auth/signer of
// github.com/huaweicloud/huaweicloud-sdk-go-v3 v0.1.215).
//
// It supports three signing algorithms:
//
//   - SDK-HMAC-SHA256, the SDK's default;
//   - SDK-HMAC-SM3, the same scheme with SM3 in place of SHA-256;
//   - V11-HMAC-SHA256, where the HMAC key is derived with HKDF-SHA256 from
//     the secret key, the access key and a date/region/service scope.
//
// The SDK's SDK-ECDSA-P256-SHA256 and SDK-SM2-SM3 algorithms are rejected as
// unsupported.
//
// A signature covers a canonical request: the method, the path with every
// segment percent-encoded, the query sorted by key and then by value, the
// signed headers, and the SHA-256 (or SM3) of the body. The server rebuilds
// that text from what arrived on the wire, so the path and query are decoded
// exactly once and encoded again in one fixed way. Handlers read the query
// with ParseQuery so that they filter on the values the signature covered.
//
// The package does no network or database I/O: Verifier finds keys through
// a KeyLookup supplied by the caller.
package auth
