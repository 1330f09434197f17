package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/consumer"
	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/internal/jwt"
)

// soakChild marks the test binary re-run as `spine-sandbox serve` by
// BenchmarkSoak: the server runs in a process of its own, so its resident
// memory is read alone, without the load generator's.
const soakChild = "SPINE_SANDBOX_SOAK_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(soakChild) != "" {
		os.Exit(Main(strings.Split(os.Getenv(soakChild), "\x1f"), os.Getenv, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// Soak bounds (issue 13): the server's RSS stays under soakMaxRSS for the
// whole run, and over the second half grows by no more than soakMaxGrowth
// (flat: the journal, the trace-id window and every other store are full
// by then and must only turn over).
const (
	soakMaxRSS    = 200 << 20
	soakMaxGrowth = 24 << 20
)

// BenchmarkSoak drives 100,000 mixed requests (SOAK_REQUESTS to change it)
// at a `serve` process of its own over loopback — PDS traces, SDS lookups,
// one-week slot searches through the SSP, and every 25th cycle a whole
// booking journey followed by a cancel (so slots never run out) — by four
// consumers at once, while a fifth client pages through the journal. It
// samples the server's VmRSS four times a second and fails when the peak
// passes soakMaxRSS or the second half grows by more than soakMaxGrowth.
// It reports requests/s, peak RSS and the second half's growth.
func BenchmarkSoak(b *testing.B) {
	total := 100_000
	if v, err := strconv.Atoi(os.Getenv("SOAK_REQUESTS")); err == nil && v > 0 {
		total = v
	}
	for b.Loop() {
		soak(b, total)
	}
}

func soak(b *testing.B, total int) {
	b.Helper()
	base, pid := startServeProcess(b)
	var sent atomic.Int64
	hc := &http.Client{Transport: countingTransport{&sent, &http.Transport{MaxIdleConnsPerHost: 16}}, Timeout: 30 * time.Second}
	cl, err := consumer.New(consumer.Config{
		PDS: base + "/personal-demographics/FHIR/R4", SDS: base + "/spine-directory/FHIR/R4", SSP: base + "/ssp/",
		ASID: "200000000115", HTTPClient: hc, Timeout: 20 * time.Second,
		Identity: jwt.Identity{
			Issuer: "https://soak.invalid/", DeviceID: "soak", DeviceModel: "soak", DeviceVersion: "1",
			OrgODS: "A1001", OrgName: "Soak", PractitionerID: "1", SDSUserID: "UNK", Family: "Soak", Given: []string{"S"},
		},
	})
	if err != nil {
		b.Fatal(err)
	}

	type sample struct {
		sent int64
		rss  int64
	}
	var (
		samplesMu sync.Mutex
		samples   []sample
	)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				rss, err := processRSS(pid)
				if err != nil {
					continue
				}
				samplesMu.Lock()
				samples = append(samples, sample{sent.Load(), rss})
				samplesMu.Unlock()
			}
		}
	})
	journalReads := atomic.Int64{}
	wg.Go(func() { journalReader(ctx, &http.Client{Timeout: 30 * time.Second}, base, &journalReads) })

	errs := make(chan error, 4)
	began := time.Now()
	var workers sync.WaitGroup
	for w := range 4 {
		workers.Go(func() {
			if err := soakWorker(ctx, cl, w, &sent, int64(total)); err != nil {
				errs <- err
				cancel()
			}
		})
	}
	workers.Wait()
	elapsed := time.Since(began)
	cancel()
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}

	var peak, mid, midSent int64
	var secondHalfMax int64
	for _, s := range samples {
		peak = max(peak, s.rss)
		if s.sent <= int64(total)/2 {
			mid, midSent = s.rss, s.sent
		} else {
			secondHalfMax = max(secondHalfMax, s.rss)
		}
	}
	growth := secondHalfMax - mid
	b.ReportMetric(float64(sent.Load())/elapsed.Seconds(), "req/s")
	b.ReportMetric(float64(peak)/(1<<20), "peak-RSS-MB")
	b.ReportMetric(float64(growth)/(1<<20), "2nd-half-growth-MB")
	b.ReportMetric(float64(journalReads.Load()), "journal-pages")
	b.Logf("%d requests in %s (%d journal pages read); RSS %d MB at %d requests, peak %d MB, second half +%d MB (%d samples)",
		sent.Load(), elapsed.Round(time.Millisecond), journalReads.Load(), mid>>20, midSent, peak>>20, growth>>20, len(samples))
	if len(samples) < 4 {
		b.Fatalf("only %d RSS samples: the run was too short to judge", len(samples))
	}
	if peak > soakMaxRSS {
		b.Errorf("peak RSS %d MB, want under %d MB", peak>>20, soakMaxRSS>>20)
	}
	if growth > soakMaxGrowth {
		b.Errorf("RSS grew %d MB over the second half, want at most %d MB (flat)", growth>>20, soakMaxGrowth>>20)
	}
}

// soakWorker repeats one consumer's cycle until total requests are sent.
func soakWorker(ctx context.Context, cl *consumer.Client, w int, sent *atomic.Int64, total int64) error {
	nhs := []string{"9693632109", "9736363015"}[w%2]
	for cycle := 0; sent.Load() < total; cycle++ {
		if ctx.Err() != nil {
			return nil
		}
		s := cl.NewSession()
		tr, err := s.Trace(ctx, nhs, false)
		if err != nil {
			return fmt.Errorf("worker %d cycle %d: trace: %w", w, cycle, err)
		}
		if _, err := s.Endpoint(ctx, tr.ODS, gpc.SearchSlots); err != nil {
			return fmt.Errorf("worker %d cycle %d: sds: %w", w, cycle, err)
		}
		day := time.Now().AddDate(0, 0, 1+cycle%7)
		if _, err := s.SearchSlots(ctx, tr.ODS, day, day.AddDate(0, 0, 7)); err != nil {
			return fmt.Errorf("worker %d cycle %d: slots: %w", w, cycle, err)
		}
		if cycle%25 != w {
			continue
		}
		bk, err := s.Book(ctx, consumer.BookRequest{NHSNumber: nhs, Days: 7, MaxAttempts: 5})
		if err != nil {
			return fmt.Errorf("worker %d cycle %d: book: %w", w, cycle, err)
		}
		if _, err := s.CancelAppointment(ctx, bk.ODS, bk.Appointment.ID(), "soak"); err != nil {
			return fmt.Errorf("worker %d cycle %d: cancel: %w", w, cycle, err)
		}
	}
	return nil
}

// journalReader pages through the default session's journal, from the
// start each time it reaches the end, as a CI job's report step would.
func journalReader(ctx context.Context, hc *http.Client, base string, reads *atomic.Int64) {
	since := int64(0)
	for ctx.Err() == nil {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s/_admin/sessions/default/journal?since=%d&limit=100", base, since), nil)
		resp, err := hc.Do(req)
		if err != nil {
			continue
		}
		var page struct {
			Next *int64 `json:"next"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&page)
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		reads.Add(1)
		if page.Next == nil {
			since = 0
			time.Sleep(50 * time.Millisecond)
			continue
		}
		since = *page.Next
	}
}

// startServeProcess runs this test binary as `spine-sandbox serve` on a
// free loopback port and returns its base URL and process id; the process
// is killed when the benchmark ends.
func startServeProcess(b *testing.B) (string, int) {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	args := []string{"serve", "--addr", addr, "--ldap-addr", "", "--scenarios-dir", "../../scenarios", "--fixtures-dir", "../../fixtures"}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), soakChild+"="+strings.Join(args, "\x1f"))
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.Contains(line, "listening on") {
		b.Fatalf("serve did not start: %q %v", line, err)
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	return "http://" + addr, cmd.Process.Pid
}

// processRSS reads a process's resident set size from /proc (Linux).
func processRSS(pid int) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no VmRSS for process %d", pid)
}

// countingTransport counts every request the consumers send.
type countingTransport struct {
	n    *atomic.Int64
	next http.RoundTripper
}

func (c countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.next.RoundTrip(r)
}
