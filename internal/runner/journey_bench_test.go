package runner

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/sandbox"
	"github.com/spine-sandbox/spine-sandbox/internal/scenario"
)

// BenchmarkJourney: the built-in consumer's whole booking journey (the
// happy-path scenario: PDS trace, SDS lookups, metadata, slot search, find
// patient, book — 13 hops through the SSP — then the verdict) in process
// against one sandbox on 127.0.0.1, each journey in a session of its own,
// as `spine-sandbox run` does. journeys/s is the throughput with the
// journeys running GOMAXPROCS×2 at once (issue 15: ≥ 1,000 on 2 cores);
// cpu-µs/journey is the process's CPU (client included) per journey.
func BenchmarkJourney(b *testing.B) { benchmarkJourney(b, false) }

// BenchmarkJourneyDirect is BenchmarkJourney with the consumer's requests
// handed to the sandbox in process (sandbox.Server.Direct) instead of over
// loopback: the same journeys and verdicts without sockets and the HTTP
// wire format — what the sandbox itself costs per journey.
func BenchmarkJourneyDirect(b *testing.B) { benchmarkJourney(b, true) }

func benchmarkJourney(b *testing.B, direct bool) {
	sc, err := scenario.LoadFile("../../scenarios/happy-path.yaml")
	if err != nil {
		b.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(nil)
	srv, err := sandbox.New(sandbox.Config{PublicURL: "http://" + ts.Listener.Addr().String(), FixtureDir: "../../fixtures"})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { srv.Close() })
	ts.Config.Handler = srv
	ts.Start()
	b.Cleanup(ts.Close)
	ht := http.DefaultTransport.(*http.Transport).Clone()
	ht.MaxIdleConnsPerHost = 64
	b.Cleanup(ht.CloseIdleConnections)
	var tr http.RoundTripper = ht
	if direct {
		tr = srv.Direct()
	}
	ctx := context.Background()
	opts := Options{FixtureDir: "../../fixtures"}
	one := func() {
		if res := runOne(ctx, srv, tr, sc, opts); !res.Passed {
			b.Errorf("journey failed: %+v", res.Failures)
		}
	}
	one() // warm up off the clock
	var n atomic.Int64
	b.SetParallelism(2)
	b.ResetTimer()
	c0, t0 := cpuNow(b), time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			one()
			n.Add(1)
		}
	})
	elapsed, cpu := time.Since(t0), cpuNow(b)-c0
	b.ReportMetric(float64(n.Load())/elapsed.Seconds(), "journeys/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(n.Load()), "cpu-µs/journey")
}
