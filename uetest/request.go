package uetest

import (
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/signer"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/request"
)

// SignedRequest builds a request signed by the SDK's own SDK-HMAC-SHA256
// signer with the test root key, for APIs the SDK has no method for. A
// non-empty body is sent as application/json exactly as given.
func SignedRequest(t testing.TB, method, endpoint, path string, query map[string]string, body string) *http.Request {
	t.Helper()
	return SignedRequestWithType(t, method, endpoint, path, "application/json", query, body)
}

// SignedRequestWithType is SignedRequest with another Content-Type. The
// SDK's signer leaves the body out of the signature for types other than
// JSON and BSON and marks this with X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD.
func SignedRequestWithType(t testing.TB, method, endpoint, path, contentType string, query map[string]string, body string) *http.Request {
	t.Helper()
	b := request.NewHttpRequestBuilder().
		WithEndpoint(endpoint).
		WithPath(path).
		WithMethod(method).
		AddHeaderParam("Content-Type", contentType)
	if strings.Contains(path, ProjectID) {
		// The SDK sends the credential's project id this way.
		b.AddHeaderParam("X-Project-Id", ProjectID)
	}
	for k, v := range query {
		// The SDK's request type holds query values as reflect.Value and
		// skips anything else when it builds the URL.
		b.AddQueryParam(k, reflect.ValueOf(v))
	}
	if body != "" {
		b.WithBody(contentType, body)
	}
	req := b.Build()
	headers, err := signer.Sign(req, AccessKey, SecretKey)
	if err != nil {
		t.Fatalf("sign request: %v", err)
	}
	for k, v := range headers {
		req.AddHeaderParam(k, v)
	}
	httpReq, err := req.ConvertRequest()
	if err != nil {
		t.Fatalf("convert request: %v", err)
	}
	return httpReq
}

// Do sends a signed request and returns the status and body.
func Do(t testing.TB, method, endpoint, path string, query map[string]string, body string) (int, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(SignedRequest(t, method, endpoint, path, query, body))
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	return resp.StatusCode, string(data)
}
