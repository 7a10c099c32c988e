package auth_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/signer/algorithm"

	"github.com/userevents/userevents"
	"github.com/userevents/userevents/auth"
)

// listEvents is a ListUserEvents call as the SDK client builds it.
var listEvents = sdkRequest{
	path: eventsPath,
	query: map[string]any{
		"start_time": "2024-05-01T00:00:00Z",
		"end_time":   "2024-05-02T00:00:00Z",
		"username":   "a b+c/é*~",
		"limit":      int32(10),
	},
}

// setLTS is a SetUserEventsLtsConfigurations call as the SDK client builds
// it: the SDK JSON-encodes the body with a trailing newline.
var setLTS = sdkRequest{
	method:  http.MethodPost,
	path:    ltsPath,
	headers: map[string]string{"Content-Type": "application/json;charset=UTF-8"},
	body:    map[string]any{"enable": true, "log_group_id": "g1", "log_stream_id": "s1"},
}

func TestVerifySDKAlgorithms(t *testing.T) {
	tests := []struct {
		name string
		sign signFunc
	}{
		{"hmac sha256", sdkSigner(t, algorithm.HmacSHA256)},
		{"hmac sm3", sdkSigner(t, algorithm.HmacSM3)},
		{"v11 derived", signV11},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startServer(t, newVerifier(permanentKey()))
			for _, sr := range []sdkRequest{listEvents, setLTS} {
				wantVerified(t, srv.do(t, sr.sign(t, srv.URL, tt.sign, testAK, testSK)))
			}
		})
	}
}

func TestVerifyUnsupportedAlgorithms(t *testing.T) {
	for _, alg := range []algorithm.SigningAlgorithm{algorithm.EcdsaP256SHA256, algorithm.SM2SM3} {
		t.Run(string(alg), func(t *testing.T) {
			srv := startServer(t, newVerifier(permanentKey()))
			req := listEvents.sign(t, srv.URL, sdkSigner(t, alg), testAK, testSK)
			wantError(t, srv.do(t, req).err, userevents.EUNAUTHENTICATED, "is not supported")
		})
	}
}

// TestVerifyMutations changes one part of an SDK-signed request at a time;
// each change must fail verification.
func TestVerifyMutations(t *testing.T) {
	tests := []struct {
		name     string
		sr       sdkRequest
		mutate   func(r *http.Request)
		fragment string
	}{
		{
			name:     "changed body",
			sr:       setLTS,
			mutate:   func(r *http.Request) { setBody(r, `{"enable":false}`+"\n") },
			fragment: "Signature does not match",
		},
		{
			name:     "body newline dropped",
			sr:       setLTS,
			mutate:   func(r *http.Request) { setBody(r, `{"enable":true,"log_group_id":"g1","log_stream_id":"s1"}`) },
			fragment: "Signature does not match",
		},
		{
			name:     "changed query value",
			sr:       listEvents,
			mutate:   func(r *http.Request) { r.URL.RawQuery = strings.Replace(r.URL.RawQuery, "limit=10", "limit=11", 1) },
			fragment: "Signature does not match",
		},
		{
			name:     "added query parameter",
			sr:       listEvents,
			mutate:   func(r *http.Request) { r.URL.RawQuery += "&offset=5" },
			fragment: "Signature does not match",
		},
		{
			name:     "removed query parameter",
			sr:       listEvents,
			mutate:   func(r *http.Request) { r.URL.RawQuery = strings.Replace(r.URL.RawQuery, "&limit=10", "", 1) },
			fragment: "Signature does not match",
		},
		{
			name:     "changed path",
			sr:       listEvents,
			mutate:   func(r *http.Request) { r.URL.Path = "/v2/ffffffffffffffffffffffffffffffff/user-events" },
			fragment: "Signature does not match",
		},
		{
			name:     "changed method",
			sr:       listEvents,
			mutate:   func(r *http.Request) { r.Method = http.MethodDelete },
			fragment: "Signature does not match",
		},
		{
			name:     "changed signed header",
			sr:       listEvents,
			mutate:   func(r *http.Request) { r.Header.Set("X-Project-Id", "ffffffffffffffffffffffffffffffff") },
			fragment: "Signature does not match",
		},
		{
			name:     "signed header sent twice",
			sr:       listEvents,
			mutate:   func(r *http.Request) { r.Header.Add("X-Project-Id", testProject) },
			fragment: "Signature does not match",
		},
		{
			name:     "signed header removed",
			sr:       listEvents,
			mutate:   func(r *http.Request) { r.Header.Del("X-Project-Id") },
			fragment: "Signed header x-project-id is missing",
		},
		{
			name:     "date header removed",
			sr:       listEvents,
			mutate:   func(r *http.Request) { r.Header.Del("X-Sdk-Date") },
			fragment: "X-Sdk-Date header is missing",
		},
		{
			name:     "date changed within the window",
			sr:       listEvents,
			mutate:   func(r *http.Request) { r.Header.Set("X-Sdk-Date", "20240501T100001Z") },
			fragment: "Signature does not match",
		},
		{
			name:     "date not in the SDK layout",
			sr:       listEvents,
			mutate:   func(r *http.Request) { r.Header.Set("X-Sdk-Date", "2024-05-01T10:00:00Z") },
			fragment: "is not a UTC time formatted as 20060102T150405Z",
		},
		{
			name:     "authorization removed",
			sr:       listEvents,
			mutate:   func(r *http.Request) { r.Header.Del("Authorization") },
			fragment: "Authorization header is missing",
		},
		{
			name:     "authorization sent twice",
			sr:       listEvents,
			mutate:   func(r *http.Request) { r.Header.Add("Authorization", r.Header.Get("Authorization")) },
			fragment: "appears 2 times",
		},
		{
			name: "content hash header added",
			sr:   setLTS,
			mutate: func(r *http.Request) {
				r.Header.Set("X-Sdk-Content-Sha256", "UNSIGNED-PAYLOAD")
				setBody(r, `{"enable":false}`)
			},
			fragment: "Signature does not match",
		},
		{
			name:     "unknown access key",
			sr:       listEvents,
			mutate:   func(r *http.Request) { replaceAK(r, "AKUNKNOWN000000000001") },
			fragment: "Access key AKUNKNOWN000000000001 does not exist",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startServer(t, newVerifier(permanentKey()))
			req := tt.sr.sign(t, srv.URL, sdkSigner(t, algorithm.HmacSHA256), testAK, testSK)
			sig := signature(t, req)
			tt.mutate(req)
			wantError(t, srv.do(t, req).err, userevents.EUNAUTHENTICATED, tt.fragment, sig)
		})
	}
}

// replaceAK changes the AK in the Authorization header of r.
func replaceAK(r *http.Request, ak string) {
	header := r.Header.Get("Authorization")
	r.Header.Set("Authorization", strings.Replace(header, "Access="+testAK, "Access="+ak, 1))
}

func TestVerifyWrongSecretKey(t *testing.T) {
	srv := startServer(t, newVerifier(permanentKey()))
	sign := sdkSigner(t, algorithm.HmacSHA256)
	want := signature(t, listEvents.sign(t, srv.URL, sign, testAK, testSK))

	req := listEvents.sign(t, srv.URL, sign, testAK, "sk-wrong-000")
	err := srv.do(t, req).err
	wantError(t, err, userevents.EUNAUTHENTICATED, "Signature does not match", want)
	if !strings.Contains(userevents.ErrorMessage(err), testAK) {
		t.Errorf("message %q does not name the access key", userevents.ErrorMessage(err))
	}
}

func TestVerifyDateWindow(t *testing.T) {
	tests := []struct {
		name     string
		offset   time.Duration // server clock minus signing time
		fragment string        // empty when the request verifies
	}{
		{"same second", 0, ""},
		{"14m59s old", 14*time.Minute + 59*time.Second, ""},
		{"exactly 15m old", 15 * time.Minute, ""},
		{"15m01s old", 15*time.Minute + time.Second, "is 15m1s behind the server time"},
		{"14m59s ahead", -(14*time.Minute + 59*time.Second), ""},
		{"15m01s ahead", -(15*time.Minute + time.Second), "is 15m1s ahead of the server time"},
		{"a day old", 24 * time.Hour, "behind the server time"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newVerifier(permanentKey())
			v.Now = func() time.Time { return testTime.Add(tt.offset) }
			srv := startServer(t, v)
			res := srv.do(t, listEvents.sign(t, srv.URL, sdkSigner(t, algorithm.HmacSHA256), testAK, testSK))
			if tt.fragment == "" {
				wantVerified(t, res)
				return
			}
			wantError(t, res.err, userevents.EUNAUTHENTICATED, tt.fragment)
		})
	}
}

func TestVerifyCustomSkew(t *testing.T) {
	v := newVerifier(permanentKey())
	v.Skew = time.Minute
	v.Now = func() time.Time { return testTime.Add(61 * time.Second) }
	srv := startServer(t, v)
	res := srv.do(t, listEvents.sign(t, srv.URL, sdkSigner(t, algorithm.HmacSHA256), testAK, testSK))
	wantError(t, res.err, userevents.EUNAUTHENTICATED, "the maximum difference is 1m0s")
}

func TestVerifyKeyState(t *testing.T) {
	const token = "token-test-000"
	temporary := func() *userevents.AccessKey {
		k := permanentKey()
		k.SecurityToken = token
		k.ExpiresAt = testTime.Add(time.Hour)
		return k
	}
	tests := []struct {
		name     string
		key      *userevents.AccessKey
		headers  map[string]string // added before signing
		mutate   func(r *http.Request)
		fragment string // empty when the request verifies
	}{
		{
			name: "permanent key",
			key:  permanentKey(),
		},
		{
			name:     "disabled key",
			key:      &userevents.AccessKey{ID: testAK, Secret: testSK, Enabled: false},
			fragment: "is disabled",
		},
		{
			name:     "permanent key with token",
			key:      permanentKey(),
			headers:  map[string]string{"X-Security-Token": token},
			fragment: "X-Security-Token was sent with permanent access key",
		},
		{
			name:    "temporary key with token",
			key:     temporary(),
			headers: map[string]string{"X-Security-Token": token},
		},
		{
			name:     "temporary key without token",
			key:      temporary(),
			fragment: "requires the X-Security-Token header",
		},
		{
			name:     "temporary key with wrong token",
			key:      temporary(),
			headers:  map[string]string{"X-Security-Token": "token-other-000"},
			fragment: "X-Security-Token was not issued with temporary access key",
		},
		{
			name:     "temporary key with token swapped after signing",
			key:      temporary(),
			headers:  map[string]string{"X-Security-Token": "token-other-000"},
			mutate:   func(r *http.Request) { r.Header.Set("X-Security-Token", token) },
			fragment: "Signature does not match",
		},
		{
			name: "temporary key past expiry",
			key: func() *userevents.AccessKey {
				k := temporary()
				k.ExpiresAt = testTime.Add(-time.Second)
				return k
			}(),
			headers:  map[string]string{"X-Security-Token": token},
			fragment: "expired at 2024-05-01T09:59:59Z",
		},
		{
			name: "temporary key expiring now",
			key: func() *userevents.AccessKey {
				k := temporary()
				k.ExpiresAt = testTime
				return k
			}(),
			headers:  map[string]string{"X-Security-Token": token},
			fragment: "expired at",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startServer(t, newVerifier(tt.key))
			sr := listEvents
			sr.headers = tt.headers
			req := sr.sign(t, srv.URL, sdkSigner(t, algorithm.HmacSHA256), testAK, testSK)
			if tt.mutate != nil {
				tt.mutate(req)
			}
			res := srv.do(t, req)
			if tt.fragment == "" {
				wantVerified(t, res)
				return
			}
			wantError(t, res.err, userevents.EUNAUTHENTICATED, tt.fragment, token)
		})
	}
}

func TestVerifyTokenMustBeSigned(t *testing.T) {
	key := permanentKey()
	key.SecurityToken = "token-test-000"
	srv := startServer(t, newVerifier(key))
	req := listEvents.sign(t, srv.URL, sdkSigner(t, algorithm.HmacSHA256), testAK, testSK)
	req.Header.Set("X-Security-Token", "token-test-000")
	wantError(t, srv.do(t, req).err, userevents.EUNAUTHENTICATED,
		"SignedHeaders must include x-security-token", "token-test-000")
}

func TestVerifyUnsignedPayload(t *testing.T) {
	srv := startServer(t, newVerifier(permanentKey()))
	sr := setLTS
	sr.headers = map[string]string{"Content-Type": "application/octet-stream"}
	sr.body = "raw bytes"
	req := sr.sign(t, srv.URL, sdkSigner(t, algorithm.HmacSHA256), testAK, testSK)
	if got := req.Header.Get("X-Sdk-Content-Sha256"); got != "UNSIGNED-PAYLOAD" {
		t.Fatalf("SDK set X-Sdk-Content-Sha256 = %q, want UNSIGNED-PAYLOAD", got)
	}

	wantVerified(t, srv.do(t, req))

	// The body is outside the signature, so a changed body still verifies.
	req = sr.sign(t, srv.URL, sdkSigner(t, algorithm.HmacSHA256), testAK, testSK)
	setBody(req, "other bytes")
	wantVerified(t, srv.do(t, req))
}

func TestVerifyUnsignedPayloadSM3(t *testing.T) {
	srv := startServer(t, newVerifier(permanentKey()))
	sr := setLTS
	sr.headers = map[string]string{"Content-Type": "text/plain"}
	sr.body = "raw bytes"
	req := sr.sign(t, srv.URL, sdkSigner(t, algorithm.HmacSM3), testAK, testSK)
	if got := req.Header.Get("X-Sdk-Content-Sm3"); got != "UNSIGNED-PAYLOAD" {
		t.Fatalf("SDK set X-Sdk-Content-Sm3 = %q, want UNSIGNED-PAYLOAD", got)
	}
	wantVerified(t, srv.do(t, req))
}

func TestVerifyContentHashHeader(t *testing.T) {
	const body = `{"enable":true}`
	srv := startServer(t, newVerifier(permanentKey()))
	sr := setLTS
	sr.body = body

	sum := sha256.Sum256([]byte(body))
	sr.headers = map[string]string{"X-Sdk-Content-Sha256": hex.EncodeToString(sum[:])}
	req := sr.sign(t, srv.URL, sdkSigner(t, algorithm.HmacSHA256), testAK, testSK)
	wantVerified(t, srv.do(t, req))

	sr.headers = map[string]string{"X-Sdk-Content-Sha256": strings.Repeat("0", 64)}
	req = sr.sign(t, srv.URL, sdkSigner(t, algorithm.HmacSHA256), testAK, testSK)
	wantError(t, srv.do(t, req).err, userevents.EUNAUTHENTICATED,
		"is neither UNSIGNED-PAYLOAD nor the hex digest of the body")
}

func TestVerifyDateMustBeSigned(t *testing.T) {
	v := newVerifier(permanentKey())
	r := httptest.NewRequest(http.MethodGet, "http://localhost"+eventsPath, nil)
	r.Header.Set("X-Sdk-Date", testDate)
	r.Header.Set("Authorization", "SDK-HMAC-SHA256 Access="+testAK+
		", SignedHeaders=user-agent, Signature="+strings.Repeat("0", 64))
	_, err := v.Verify(context.Background(), r, nil)
	wantError(t, err, userevents.EUNAUTHENTICATED, "SignedHeaders must include x-sdk-date")
}

func TestVerifyV11Scope(t *testing.T) {
	tests := []struct {
		name     string
		region   string
		service  string
		fragment string // empty when the request verifies
	}{
		{"any scope", "", "", ""},
		{"matching scope", "cn-north-4", "workspace", ""},
		{"other region", "cn-east-3", "", "Credential region \"cn-north-4\" is not cn-east-3"},
		{"other service", "", "lts", "Credential service \"workspace\" is not lts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newVerifier(permanentKey())
			v.Region, v.Service = tt.region, tt.service
			srv := startServer(t, v)
			res := srv.do(t, listEvents.sign(t, srv.URL, signV11, testAK, testSK))
			if tt.fragment == "" {
				wantVerified(t, res)
				return
			}
			wantError(t, res.err, userevents.EUNAUTHENTICATED, tt.fragment)
		})
	}
}

func TestVerifyV11ScopeDate(t *testing.T) {
	srv := startServer(t, newVerifier(permanentKey()))
	req := listEvents.sign(t, srv.URL, signV11, testAK, testSK)
	header := req.Header.Get("Authorization")
	req.Header.Set("Authorization", strings.Replace(header, "/20240501/", "/20240430/", 1))
	wantError(t, srv.do(t, req).err, userevents.EUNAUTHENTICATED,
		"Credential date 20240430 does not match X-Sdk-Date 20240501T100000Z")
}

// failingLookup is a KeyLookup whose store is down.
type failingLookup struct{ err error }

func (l failingLookup) FindAccessKey(context.Context, string) (*userevents.AccessKey, error) {
	return nil, l.err
}

func TestVerifyLookupFailure(t *testing.T) {
	down := userevents.Errorf(userevents.EUNAVAILABLE, "Store is down.")
	v := &auth.Verifier{Keys: failingLookup{down}, Now: func() time.Time { return testTime }}
	srv := startServer(t, v)
	err := srv.do(t, listEvents.sign(t, srv.URL, sdkSigner(t, algorithm.HmacSHA256), testAK, testSK)).err
	if !errors.Is(err, down) {
		t.Fatalf("Verify error = %v, want the lookup error wrapped", err)
	}
	if code := userevents.ErrorCode(err); code != userevents.EUNAVAILABLE {
		t.Errorf("error code = %q, want %q", code, userevents.EUNAVAILABLE)
	}
}

func TestVerifyEmptySecretIsInternal(t *testing.T) {
	key := permanentKey()
	key.Secret = ""
	srv := startServer(t, newVerifier(key))
	err := srv.do(t, listEvents.sign(t, srv.URL, sdkSigner(t, algorithm.HmacSHA256), testAK, testSK)).err
	if code := userevents.ErrorCode(err); code != userevents.EINTERNAL {
		t.Fatalf("error code = %q, want %q (error: %v)", code, userevents.EINTERNAL, err)
	}
}

func TestVerifySignedHost(t *testing.T) {
	srv := startServer(t, newVerifier(permanentKey()))
	host := strings.TrimPrefix(srv.URL, "http://")

	// The SDK signs host only when the caller sets a Host header itself,
	// and then signs the caller's value.
	sr := listEvents
	sr.headers = map[string]string{"Host": host}
	req := sr.sign(t, srv.URL, sdkSigner(t, algorithm.HmacSHA256), testAK, testSK)
	if !strings.Contains(req.Header.Get("Authorization"), "SignedHeaders=host;") {
		t.Fatalf("SDK did not sign host: %s", req.Header.Get("Authorization"))
	}
	wantVerified(t, srv.do(t, req))

	sr.headers = map[string]string{"Host": "workspace.cn-north-4.myhuaweicloud.com"}
	req = sr.sign(t, srv.URL, sdkSigner(t, algorithm.HmacSHA256), testAK, testSK)
	wantError(t, srv.do(t, req).err, userevents.EUNAUTHENTICATED, "Signature does not match")
}
