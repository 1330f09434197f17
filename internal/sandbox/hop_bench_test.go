package sandbox_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/internal/sandbox"
)

// discard is a ResponseWriter that keeps the status and drops the body,
// so that BenchmarkSearchInProcess measures the sandbox's handler alone.
type discard struct {
	h      http.Header
	status int
	n      int
}

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) WriteHeader(code int)        { d.status = code }
func (d *discard) Write(b []byte) (int, error) { d.n += len(b); return len(b), nil }
func (d *discard) Flush()                      {}

// BenchmarkSearchInProcess: the one-week gzip search handed to the
// sandbox's handler in process, straight to the provider and through the
// SSP: no client, no sockets, so the difference between the arms is the
// SSP hop's own work (ns/op and allocs/op), without the loopback's noise.
// The request's context names a server whose whole handler is the
// sandbox, as net/http's does for serve, so the hops keep the maps
// net/http's server made, and the SSP forwards the consumer's own map, as
// they do over the listener.
func BenchmarkSearchInProcess(b *testing.B) {
	for _, via := range vias {
		b.Run(via.name, func(b *testing.B) {
			e := start(b, sandbox.Config{})
			ss := e.session(b, "")
			req := gpcRequest(b, ss, via.ssp, gpc.SearchSlots, "GET", slotQuery(ss), "")
			req.Header.Set("Accept-Encoding", "gzip")
			req.RequestURI = req.URL.RequestURI()
			req.RemoteAddr = "127.0.0.1:1"
			ctx := context.WithValue(context.Background(), http.ServerContextKey, &http.Server{Handler: e.Server})
			b.ReportAllocs()
			for b.Loop() {
				r := req.Clone(ctx)
				r.Header.Set("Ssp-TraceID", gpc.NewUUID())
				w := &discard{h: http.Header{}}
				e.Server.ServeHTTP(w, r)
				if w.status != http.StatusOK && w.status != 0 {
					b.Fatalf("status %d", w.status)
				}
			}
		})
	}
}
