package auth_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/userevents/userevents"
	"github.com/userevents/userevents/auth"
)

// TestVerifySDKVectors verifies the expected Authorization headers of the
// SDK's signer tests (core/auth/signer/*_test.go, SDK v0.1.215) on requests
// built without the SDK: AK AccessKey, SK SecretKey, signed at
// 20060102T150405Z, with an unsigned TEST_UNDERSCORE header.
func TestVerifySDKVectors(t *testing.T) {
	const (
		getURL  = "https://example.huaweicloud.com/path?limit=1"
		postURL = "https://example.huaweicloud.com/path?key=value"
		body    = `{"Name":"test","Id":1}` + "\n"
		scope   = "AccessKey/20060102/test-region-1/demo"
	)
	tests := []struct {
		name          string
		method        string
		url           string
		body          string
		authorization string
	}{
		{
			name:   "hmac sha256 get",
			method: http.MethodGet,
			url:    getURL,
			authorization: "SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders=x-sdk-date, " +
				"Signature=5a2ce64c865e0e6046321c6f3d5a77ba8413eeaf355c3166c03d58d02ac79624",
		},
		{
			name:   "hmac sha256 post",
			method: http.MethodPost,
			url:    postURL,
			body:   body,
			authorization: "SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders=x-sdk-date, " +
				"Signature=cecc2af119b18ab70b4d094c0750f3b42c02f254903179a0fc2cc72fc9db4f59",
		},
		{
			name:   "hmac sm3 get",
			method: http.MethodGet,
			url:    getURL,
			authorization: "SDK-HMAC-SM3 Access=AccessKey, SignedHeaders=x-sdk-date, " +
				"Signature=acdeecf8061419275127135b54532c2c20b683bf9bbb8a32bee021a8c40befd4",
		},
		{
			name:   "hmac sm3 post",
			method: http.MethodPost,
			url:    postURL,
			body:   body,
			authorization: "SDK-HMAC-SM3 Access=AccessKey, SignedHeaders=x-sdk-date, " +
				"Signature=359e49285fe5a469f82b86fd761b1a4a7ee16e3181de7d643c53a30667cde508",
		},
		{
			name:   "v11 get",
			method: http.MethodGet,
			url:    getURL,
			authorization: "V11-HMAC-SHA256 Credential=" + scope + ", SignedHeaders=x-sdk-date, " +
				"Signature=8fd3610508884bb19718317797c7378716a94bc740d97502e569322e366341cc",
		},
		{
			name:   "v11 post",
			method: http.MethodPost,
			url:    postURL,
			body:   body,
			authorization: "V11-HMAC-SHA256 Credential=" + scope + ", SignedHeaders=x-sdk-date, " +
				"Signature=4112f88b92d82dd1e1b7dd142f1e99e4f1762c42ca8fe0968b3045120870a903",
		},
	}
	key := &userevents.AccessKey{ID: "AccessKey", Secret: "SecretKey", Enabled: true}
	v := &auth.Verifier{
		Keys: keyStore{key.ID: key},
		Now:  func() time.Time { return time.Date(2006, 1, 2, 15, 4, 5, 0, time.UTC) },
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, tt.url, strings.NewReader(tt.body))
			r.Header.Set("X-Sdk-Date", "20060102T150405Z")
			r.Header.Set("TEST_UNDERSCORE", "TEST_VALUE")
			if tt.body != "" {
				r.Header.Set("Content-Type", "application/json")
			}
			r.Header.Set("Authorization", tt.authorization)

			got, err := v.Verify(context.Background(), r, []byte(tt.body))
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if got != key {
				t.Errorf("Verify returned key %+v, want %+v", got, key)
			}

			// Change the last hex digit of the signature.
			last := "0"
			if strings.HasSuffix(tt.authorization, "0") {
				last = "1"
			}
			r.Header.Set("Authorization", tt.authorization[:len(tt.authorization)-1]+last)
			_, err = v.Verify(context.Background(), r, []byte(tt.body))
			wantError(t, err, userevents.EUNAUTHENTICATED, "Signature does not match", "SecretKey")
		})
	}
}
