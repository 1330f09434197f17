package ssp_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/mocks/ssp"
)

// BenchmarkProxy measures what the SSP adds to one request: a trivial
// provider handler called directly, and the same handler behind the SSP
// through an in-process RoundTripper (no network on either side).
func BenchmarkProxy(b *testing.B) {
	provider := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/fhir+json;charset=utf-8")
		io.WriteString(w, `{"resourceType":"Bundle","type":"searchset","total":0}`)
	})
	root := "http://sandbox.invalid/provider/A20047/STU3/1/gpconnect"
	target := root + "/Slot?start=ge2026-03-02&end=le2026-03-09&status=free&_include=Slot:schedule"
	headers := sspHeaders(gpc.SearchSlots)
	newRequest := func(uri string) *http.Request {
		r := httptest.NewRequest(http.MethodGet, uri, nil)
		for k, vs := range headers {
			r.Header[k] = vs
		}
		return r
	}
	run := func(b *testing.B, h http.Handler, uri string) {
		b.ReportAllocs()
		for b.Loop() {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, newRequest(uri))
			if rec.Code != http.StatusOK {
				b.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
		}
	}
	b.Run("direct", func(b *testing.B) {
		run(b, provider, "/provider/A20047/STU3/1/gpconnect/Slot?start=ge2026-03-02&end=le2026-03-09&status=free&_include=Slot:schedule")
	})
	b.Run("ssp", func(b *testing.B) {
		h := ssp.New(ssp.Config{World: newWorld(root, ""), Prefix: "/ssp/", Transport: handlerTransport{provider}})
		run(b, h, "/ssp/"+target)
	})
}
