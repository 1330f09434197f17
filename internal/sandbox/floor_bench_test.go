package sandbox_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/internal/sandbox"
)

// Issue 15 states its goals as ratios to a floor measured in the same run,
// because absolute times move with the machine (and this one is shared).
// The floor is a bare net/http handler on a real loopback listener that
// sends the sandbox's own answer bytes, captured from one real search.
//
// Each sub-benchmark reports two costs per request:
//   - ns/op: wall time of a sequential client (one request in flight), and
//   - cpu-µs/op: the process's user+system CPU (getrusage) over the loop,
//     divided by requests.
//
// Both include the in-process client's own cost (the same bytes read the
// same way in every arm), which pulls every ratio towards 1: the plain
// search's x-floor reads about half what BenchmarkSlotSearchServerCPU,
// with its client in another process as the was, measures.

// cpuNow is the process's user+system CPU time so far.
func cpuNow(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// cost runs do in b.Loop and reports cpu-µs/op; it returns CPU and wall
// time per request for ratios.
func cost(b *testing.B, do func()) (cpu, wall time.Duration) {
	do() // warm up connections and caches off the clock
	b.ResetTimer()
	c0, t0 := cpuNow(b), time.Now()
	n := 0
	for b.Loop() {
		do()
		n++
	}
	cpu = (cpuNow(b) - c0) / time.Duration(n)
	wall = time.Since(t0) / time.Duration(n)
	b.ReportMetric(float64(cpu.Nanoseconds())/1e3, "cpu-µs/op")
	return cpu, wall
}

// floorServer is the floor: a bare net/http handler on a loopback listener
// that sends body with the Content-Type and Content-Encoding of hdr, the
// headers it came with.
func floorServer(b *testing.B, body []byte, hdr http.Header) *httptest.Server {
	bare := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		h := rw.Header()
		h.Set("Content-Type", hdr.Get("Content-Type"))
		if ce := hdr.Get("Content-Encoding"); ce != "" {
			h.Set("Content-Encoding", ce)
		}
		rw.Write(body)
	}))
	b.Cleanup(bare.Close)
	return bare
}

// fetch sends req and returns the body exactly as it came off the wire
// (the request sets Accept-Encoding itself, so the transport does not
// decompress).
func fetch(b *testing.B, client *http.Client, req *http.Request) ([]byte, http.Header) {
	res, err := client.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil || res.StatusCode != http.StatusOK {
		b.Fatalf("%s: %d %v %.200s", req.URL, res.StatusCode, err, body)
	}
	return body, res.Header
}

// BenchmarkSlotSearchVsFloor: a one-week slot search for A20047, plain and
// gzip, served by a bare handler (the floor), the provider straight and
// through the SSP; x-floor is CPU per request over the floor's in the same
// run, x-direct the SSP arm over the direct arm; the hop sub-benchmark
// sends direct and SSP requests in turns and reports ssp-over-direct, the
// issue's "the SSP hop adds ≤ 15 %", from the two arms' CPU in that run.
func BenchmarkSlotSearchVsFloor(b *testing.B) {
	for _, enc := range []string{"identity", "gzip"} {
		b.Run(enc, func(b *testing.B) {
			e := start(b, sandbox.Config{})
			ss := e.session(b, "")
			search := func(ssp bool) *http.Request {
				r := gpcRequest(b, ss, ssp, gpc.SearchSlots, "GET", slotQuery(ss), "")
				r.Header.Set("Accept-Encoding", enc)
				r.Header.Set("Ssp-TraceID", gpc.NewUUID())
				return r
			}
			body, hdr := fetch(b, e.client, search(false))
			if got := hdr.Get("Content-Encoding"); (enc == "gzip") != (got == "gzip") {
				b.Fatalf("Content-Encoding %q for Accept-Encoding %s", got, enc)
			}
			bare := floorServer(b, body, hdr)
			floorReq, _ := http.NewRequest("GET", bare.URL+"/Slot", nil)
			floorReq.Header.Set("Accept-Encoding", enc)
			ctx := context.Background()

			var floor, direct time.Duration
			b.Run("floor", func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(body)))
				floor, _ = cost(b, func() { fetch(b, e.client, floorReq.Clone(ctx)) })
			})
			for _, via := range vias {
				b.Run(via.name, func(b *testing.B) {
					// allocs/op, client and server in one process: issue
					// 14's figure (467 -> 343 through the SSP, plain).
					b.ReportAllocs()
					req := search(via.ssp)
					b.SetBytes(int64(len(body)))
					cpu, _ := cost(b, func() {
						r := req.Clone(ctx)
						r.Header.Set("Ssp-TraceID", gpc.NewUUID()) // strict mode refuses a reused one
						fetch(b, e.client, r)
					})
					if floor > 0 {
						b.ReportMetric(float64(cpu)/float64(floor), "x-floor")
					}
					if !via.ssp {
						direct = cpu
					} else if direct > 0 {
						b.ReportMetric(float64(cpu)/float64(direct), "x-direct")
					}
				})
			}
			// The SSP hop's share: the two arms above run one after the
			// other, seconds apart, and this VM's speed drifts by more than
			// the 15 % being measured between them (three runs of one build
			// gave 1.02, 1.38 and 1.33). Here they take turns request by
			// request, each request's CPU read on its own, so a drift
			// weighs on both alike.
			b.Run("hop", func(b *testing.B) {
				reqs := [2]*http.Request{search(false), search(true)}
				send := func(arm int) time.Duration {
					r := reqs[arm].Clone(ctx)
					r.Header.Set("Ssp-TraceID", gpc.NewUUID())
					c0 := cpuNow(b)
					fetch(b, e.client, r)
					return cpuNow(b) - c0
				}
				send(0) // warm up connections and caches off the clock
				send(1)
				var spent [2]time.Duration
				n := 0
				for b.Loop() {
					first := n % 2 // each arm goes first every other time
					spent[first] += send(first)
					spent[1-first] += send(1 - first)
					n++
				}
				b.ReportMetric(float64(spent[0].Nanoseconds())/1e3/float64(n), "direct-cpu-µs/op")
				b.ReportMetric(float64(spent[1].Nanoseconds())/1e3/float64(n), "ssp-cpu-µs/op")
				b.ReportMetric(float64(spent[1])/float64(spent[0]), "ssp-over-direct")
			})
		})
	}
}

// hundredKWorld is the built-in scenario with 100,800 more slots at A20047
// (one a minute, round the clock, for 70 days starting in 20 days), all
// outside the one-day window searched, so both worlds give the same answer
// and any difference is the cost of the slots not returned.
func hundredKWorld(b *testing.B) string {
	src, err := os.ReadFile("../scenario/builtin.yaml")
	if err != nil {
		b.Fatal(err)
	}
	const anchor = `      - {schedule: "2", days: 14, weekdays_only: true, from: "10:30", until: "12:00", every: 15m, channel: Video, type: General Appointment}` + "\n"
	if strings.Count(string(src), anchor) != 1 {
		b.Fatal("builtin.yaml changed: the A20047 generator anchor is not there once")
	}
	extra := `      - {schedule: "1", start: +20d, days: 70, from: "00:00", until: "23:59", every: 1m, channel: In-person, type: General Appointment}` + "\n"
	return strings.Replace(string(src), anchor, anchor+extra, 1)
}

// BenchmarkSlotSearchWorldSize: a one-day search (the first weekday after
// today) through the SSP in the built-in world and in one with 100k more
// slots at the practice; x-builtin is CPU per request over the built-in
// world's in the same run (issue 15: ≤ 2).
func BenchmarkSlotSearchWorldSize(b *testing.B) {
	var builtin time.Duration
	for _, w := range []struct{ name, yaml string }{{"builtin", ""}, {"100k", hundredKWorld(b)}} {
		b.Run(w.name, func(b *testing.B) {
			e := start(b, sandbox.Config{})
			ss := e.session(b, w.yaml)
			if n := len(ss.World.Slots(practiceODS)); w.yaml != "" && n < 100_000 {
				b.Fatalf("the big world has %d slots at %s", n, practiceODS)
			}
			day := ss.World.Now().AddDate(0, 0, 1)
			for day.Weekday() == time.Saturday || day.Weekday() == time.Sunday {
				day = day.AddDate(0, 0, 1)
			}
			d := day.Format("2006-01-02")
			req := gpcRequest(b, ss, true, gpc.SearchSlots, "GET", "/Slot?status=free&start=ge"+d+"&end=le"+d+"&_include=Slot:schedule", "")
			req.Header.Set("Accept-Encoding", "identity")
			ctx := context.Background()
			body, _ := fetch(b, e.client, req.Clone(ctx))
			if !strings.Contains(string(body), `"resourceType":"Slot"`) {
				b.Fatalf("the one-day search found no slots: %.300s", body)
			}
			cpu, _ := cost(b, func() {
				r := req.Clone(ctx)
				r.Header.Set("Ssp-TraceID", gpc.NewUUID())
				fetch(b, e.client, r)
			})
			if w.yaml == "" {
				builtin = cpu
			} else if builtin > 0 {
				b.ReportMetric(float64(cpu)/float64(builtin), "x-builtin")
			}
		})
	}
}

// BenchmarkSlotSearchFullJournal: the one-week gzip search through the SSP
// in a session whose journal never fills (limits far above the run) and in
// ones filled past their limits first (6,000 searches, 12,000 hops, off
// the clock) — the default 8 MB, and the default 5,000 hops with the byte
// bound lifted — so every measured request also drops the oldest hops. x-unbounded is CPU per request over the unbounded
// journal's in the same run.
func BenchmarkSlotSearchFullJournal(b *testing.B) {
	var unbounded time.Duration
	for _, arm := range []struct {
		name string
		lim  sandbox.Limits
		fill int
	}{
		{"unbounded", sandbox.Limits{JournalHops: 1 << 30, JournalBytes: 1 << 40}, 0},
		{"full", sandbox.Limits{}, 6000},                           // the byte bound bites first (~1,500 hops of this search)
		{"full-hops", sandbox.Limits{JournalBytes: 1 << 40}, 6000}, // the 5,000-hop bound
	} {
		b.Run(arm.name, func(b *testing.B) {
			e := start(b, sandbox.Config{Limits: arm.lim})
			ss := e.session(b, "")
			req := gpcRequest(b, ss, true, gpc.SearchSlots, "GET", slotQuery(ss), "")
			req.Header.Set("Accept-Encoding", "gzip")
			ctx := context.Background()
			do := func() {
				r := req.Clone(ctx)
				r.Header.Set("Ssp-TraceID", gpc.NewUUID())
				fetch(b, e.client, r)
			}
			for range arm.fill {
				do()
			}
			if arm.fill > 0 && ss.Journal.Len() >= 2*arm.fill {
				b.Fatalf("the journal kept all %d hops; it was meant to be full", ss.Journal.Len())
			}
			cpu, _ := cost(b, do)
			if arm.fill == 0 {
				unbounded = cpu
			} else if unbounded > 0 {
				b.ReportMetric(float64(cpu)/float64(unbounded), "x-unbounded")
				b.ReportMetric(float64(ss.Journal.Len()), "hops-kept")
			}
		})
	}
}
