package http_test

import (
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/userevents/userevents/uetest"
)

// BenchmarkSignedVersusUnsigned measures, in one run on one listener, the
// rate of signed GET …/lts-configurations calls (signature check, key and
// user lookup, authorization, a store read) against the unauthenticated
// /livez handler, which passes the same middleware. It reports both rates
// and their ratio.
//
//	go test -run '^$' -bench SignedVersusUnsigned -benchtime 5s ./http/
func BenchmarkSignedVersusUnsigned(b *testing.B) {
	env := uetest.Start(b, uetest.Options{NoWorker: true})
	signed, err := benchSignedRequest(http.MethodGet, env.WorkspaceURL, configPath, nil, "")
	if err != nil {
		b.Fatal(err)
	}

	// One signed request is replayed: its X-Sdk-Date stays inside the
	// 15-minute window for the run, and the server verifies it in full
	// every time.
	rate := func(b *testing.B, newRequest func() *http.Request) float64 {
		start := time.Now()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				resp, err := benchClient.Do(newRequest())
				if err != nil {
					b.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Errorf("status %d", resp.StatusCode)
					return
				}
			}
		})
		return float64(b.N) / time.Since(start).Seconds()
	}

	var signedRate, unsignedRate float64
	b.Run("signed", func(b *testing.B) {
		signedRate = rate(b, func() *http.Request { return signed.Clone(signed.Context()) })
		b.ReportMetric(signedRate, "req/s")
	})
	b.Run("unsigned", func(b *testing.B) {
		unsignedRate = rate(b, func() *http.Request {
			req, _ := http.NewRequest(http.MethodGet, env.WorkspaceURL+"/livez", nil)
			return req
		})
		b.ReportMetric(unsignedRate, "req/s")
	})
	if unsignedRate > 0 {
		b.ReportMetric(100*signedRate/unsignedRate, "signed-%-of-unsigned")
	}
}
