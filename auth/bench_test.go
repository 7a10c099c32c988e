package auth_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/signer/algorithm"
)

// BenchmarkVerify measures Verify on SDK-signed requests parsed as a server
// receives them: a ListUserEvents query and a SetUserEventsLtsConfigurations
// body, for each supported algorithm.
func BenchmarkVerify(b *testing.B) {
	algorithms := []struct {
		name string
		sign signFunc
	}{
		{"hmac-sha256", sdkSigner(b, algorithm.HmacSHA256)},
		{"hmac-sm3", sdkSigner(b, algorithm.HmacSM3)},
		{"v11", signV11},
	}
	requests := []struct {
		name string
		sr   sdkRequest
	}{
		{"list", listEvents},
		{"set", setLTS},
	}
	for _, alg := range algorithms {
		for _, rq := range requests {
			b.Run(alg.name+"/"+rq.name, func(b *testing.B) {
				req := rq.sr.sign(b, "http://127.0.0.1:8080", alg.sign, testAK, testSK)
				r, body := serverRequest(b, req)
				v := newVerifier(permanentKey())
				ctx := context.Background()

				b.ReportAllocs()
				for b.Loop() {
					if _, err := v.Verify(ctx, r, body); err != nil {
						b.Fatalf("Verify: %v", err)
					}
				}
			})
		}
	}
}

// serverRequest turns a client request into the request a server handler
// receives, and returns it with its body.
func serverRequest(b *testing.B, req *http.Request) (*http.Request, []byte) {
	b.Helper()
	var body []byte
	if req.Body != nil {
		var err error
		if body, err = io.ReadAll(req.Body); err != nil {
			b.Fatalf("read body: %v", err)
		}
	}
	r := httptest.NewRequest(req.Method, req.URL.String(), nil)
	r.Header = req.Header.Clone()
	return r, body
}
