package auth_test

import (
	"context"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/signer"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/signer/algorithm"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/request"

	"github.com/userevents/userevents"
	"github.com/userevents/userevents/auth"
)

const (
	testAK      = "AKTESTEXAMPLE00000001"
	testSK      = "sk-test-000"
	testProject = "0123456789abcdef0123456789abcdef"
	testDate    = "20240501T100000Z"

	eventsPath = "/v2/" + testProject + "/user-events"
	ltsPath    = "/v2/" + testProject + "/user-events/lts-configurations"
)

// testTime is testDate as a time; test verifiers use it as their clock.
var testTime = time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)

// keyStore is an in-memory KeyLookup.
type keyStore map[string]*userevents.AccessKey

func (s keyStore) FindAccessKey(_ context.Context, id string) (*userevents.AccessKey, error) {
	if k, ok := s[id]; ok {
		return k, nil
	}
	return nil, userevents.Errorf(userevents.ENOTFOUND, "Access key %s not found.", id)
}

// permanentKey returns the enabled permanent test key.
func permanentKey() *userevents.AccessKey {
	return &userevents.AccessKey{
		ID:        testAK,
		Secret:    testSK,
		UserID:    "user-1",
		AccountID: "account-1",
		Enabled:   true,
		CreatedAt: testTime.Add(-24 * time.Hour),
	}
}

// newVerifier returns a Verifier of keys whose clock is fixed at testTime.
func newVerifier(keys ...*userevents.AccessKey) *auth.Verifier {
	store := keyStore{}
	for _, k := range keys {
		store[k.ID] = k
	}
	return &auth.Verifier{Keys: store, Now: func() time.Time { return testTime }}
}

// signFunc signs an SDK request and returns the headers to add to it.
type signFunc func(req *request.DefaultHttpRequest, ak, sk string) (map[string]string, error)

func sdkSigner(t testing.TB, alg algorithm.SigningAlgorithm) signFunc {
	t.Helper()
	s, err := signer.GetSigner(alg)
	if err != nil {
		t.Fatalf("signer.GetSigner(%s): %v", alg, err)
	}
	return s.Sign
}

// signV11 signs with the SDK's derived signer for service workspace in
// region cn-north-4.
func signV11(req *request.DefaultHttpRequest, ak, sk string) (map[string]string, error) {
	return signer.GetDerivedSigner().Sign(req, ak, sk, "workspace", "cn-north-4")
}

// sdkRequest describes a request as the SDK client builds it before signing.
type sdkRequest struct {
	method string
	path   string

	// query values are passed to the builder as reflect.Value, as the SDK
	// client does; a slice becomes a repeated parameter.
	query map[string]any

	// headers are added to the defaults of defaultHeaders; an empty value
	// removes a default.
	headers map[string]string

	body any // a string is sent as is; anything else is JSON-encoded by the SDK
}

// defaultHeaders are the headers the SDK client sets on a Workspace call,
// with X-Sdk-Date fixed at testDate so the signer does not read the clock.
func defaultHeaders() map[string]string {
	return map[string]string{
		"X-Sdk-Date":   testDate,
		"X-Project-Id": testProject,
		"User-Agent":   "huaweicloud-usdk-go/3.0",
		"Content-Type": "application/json",
	}
}

// build builds sr with the SDK's request builder against endpoint.
func (sr sdkRequest) build(endpoint string) *request.DefaultHttpRequest {
	method := sr.method
	if method == "" {
		method = http.MethodGet
	}
	b := request.NewHttpRequestBuilder().WithMethod(method).WithEndpoint(endpoint).WithPath(sr.path)
	for name, value := range sr.query {
		b.AddQueryParam(name, reflect.ValueOf(value))
	}

	headers := defaultHeaders()
	maps.Copy(headers, sr.headers)
	for name, value := range headers {
		if value != "" {
			b.AddHeaderParam(name, value)
		}
	}
	if sr.body != nil {
		b.WithBody("body", sr.body)
	}
	return b.Build()
}

// sign signs sr with sign and the AK/SK, and returns the request the SDK
// would send to endpoint.
func (sr sdkRequest) sign(t testing.TB, endpoint string, sign signFunc, ak, sk string) *http.Request {
	t.Helper()
	req := sr.build(endpoint)
	headers, err := sign(req, ak, sk)
	if err != nil {
		t.Fatalf("sign request: %v", err)
	}
	for name, value := range headers {
		req.AddHeaderParam(name, value)
	}
	hr, err := req.ConvertRequest()
	if err != nil {
		t.Fatalf("convert signed request: %v", err)
	}
	return hr
}

// signature returns the Signature parameter of a signed request.
func signature(t *testing.T, req *http.Request) string {
	t.Helper()
	a, err := auth.ParseAuthorization(req.Header.Get("Authorization"))
	if err != nil {
		t.Fatalf("parse the SDK's Authorization header: %v", err)
	}
	return a.Signature
}

// setBody replaces the body of a client request.
func setBody(req *http.Request, body string) {
	req.Body = io.NopCloser(strings.NewReader(body))
	req.ContentLength = int64(len(body))
	req.GetBody = nil
}

// verifyResult is what the test server saw and what Verify returned.
type verifyResult struct {
	key      *userevents.AccessKey
	err      error
	rawQuery string
	query    url.Values // ParseQuery of rawQuery; nil when it failed
	path     string     // the escaped path as received
}

// verifyServer is an HTTP server on loopback that calls Verify on each
// request, so requests reach Verify as net/http parses them off the wire.
type verifyServer struct {
	*httptest.Server
	results chan verifyResult
}

func startServer(t *testing.T, v *auth.Verifier) *verifyServer {
	t.Helper()
	s := &verifyServer{results: make(chan verifyResult, 1)}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		res := verifyResult{rawQuery: r.URL.RawQuery, path: r.URL.EscapedPath()}
		res.key, res.err = v.Verify(r.Context(), r, body)
		res.query, _ = auth.ParseQuery(r.URL.RawQuery)
		s.results <- res

		w.Header().Set("Content-Type", "application/json")
		if res.err != nil {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"error_code":"APIG.0301","error_msg":"verify failed"}`)
			return
		}
		io.WriteString(w, "{}")
	}))
	t.Cleanup(s.Close)
	return s
}

// do sends req and returns what the server's Verify returned.
func (s *verifyServer) do(t *testing.T, req *http.Request) verifyResult {
	t.Helper()
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatalf("send request: %v", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return s.last(t)
}

// last returns the result of the request the server handled last.
func (s *verifyServer) last(t *testing.T) verifyResult {
	t.Helper()
	select {
	case res := <-s.results:
		return res
	case <-time.After(10 * time.Second):
		t.Fatal("server handled no request")
		return verifyResult{}
	}
}

// wantVerified fails the test unless res verified as the test key.
func wantVerified(t *testing.T, res verifyResult) {
	t.Helper()
	if res.err != nil {
		t.Fatalf("Verify: %v (query %q, path %q)", res.err, res.rawQuery, res.path)
	}
	if res.key == nil || res.key.ID != testAK {
		t.Fatalf("Verify returned key %+v, want %s", res.key, testAK)
	}
}

// wantError fails the test unless err has code and its message contains
// fragment. It also checks that the message leaks no secret.
func wantError(t *testing.T, err error, code, fragment string, secrets ...string) {
	t.Helper()
	if got := userevents.ErrorCode(err); got != code {
		t.Fatalf("error code = %q, want %q (error: %v)", got, code, err)
	}
	msg := userevents.ErrorMessage(err)
	if !strings.Contains(msg, fragment) {
		t.Errorf("message %q does not contain %q", msg, fragment)
	}
	for _, secret := range append(secrets, testSK) {
		if strings.Contains(msg, secret) {
			t.Errorf("message %q contains the secret value %q", msg, secret)
		}
	}
}
