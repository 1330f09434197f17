package sandbox_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/internal/sandbox"
	"github.com/spine-sandbox/spine-sandbox/internal/world"
)

// The benchmarks compare a GP Connect call made straight to the provider
// path with the same call through the SSP (which checks the headers and
// JWT, then forwards in process), over real HTTP on 127.0.0.1, so the
// difference is what the SSP costs per request.

// vias are the two ways a benchmark sends a GP Connect request: straight to
// the provider's service root, and through the SSP.
var vias = []struct {
	name string
	ssp  bool
}{{"direct", false}, {"ssp", true}}

// BenchmarkSlotSearch: a week's slot search with the schedules included.
func BenchmarkSlotSearch(b *testing.B) {
	for _, via := range vias {
		b.Run(via.name, func(b *testing.B) {
			e := start(b, sandbox.Config{})
			ss := e.session(b, "")
			req := gpcRequest(b, ss, via.ssp, gpc.SearchSlots, "GET", slotQuery(ss), "")
			ctx := context.Background()
			for b.Loop() {
				r := req.Clone(ctx)
				r.Header.Set("Ssp-TraceID", gpc.NewUUID()) // strict mode refuses a reused one
				benchDo(b, e, r, http.StatusOK)
			}
		})
	}
}

// BenchmarkBook: each iteration books a different free slot; when the
// session's slots run out a fresh session is made, off the clock.
func BenchmarkBook(b *testing.B) {
	for _, via := range vias {
		b.Run(via.name, func(b *testing.B) {
			e := start(b, sandbox.Config{})
			var (
				ss     *sandbox.Session
				slots  []world.Slot
				bodies []string
			)
			refill := func() {
				if ss != nil {
					e.Server.DeleteSession(ss.ID)
				}
				ss = e.session(b, "")
				slots = freeSlots(ss)
				bodies = bodies[:0]
				for _, s := range slots {
					bodies = append(bodies, bookBody(b, ss, s))
				}
			}
			refill()
			for b.Loop() {
				if len(bodies) == 0 {
					b.StopTimer()
					refill()
					b.StartTimer()
				}
				req := gpcRequest(b, ss, via.ssp, gpc.CreateAppointment, "POST", "/Appointment", bodies[0])
				bodies = bodies[1:]
				benchDo(b, e, req, http.StatusCreated)
			}
		})
	}
}

func benchDo(b *testing.B, e *env, req *http.Request, want int) {
	res, err := e.client.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != want {
		b.Fatalf("%s: %d %s", req.URL, res.StatusCode, strings.TrimSpace(string(body)))
	}
}
