package sandbox_test

import (
	"strings"
	"testing"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/internal/sandbox"
)

// TestMetrics: GET /_admin/metrics answers Prometheus text with the
// sessions, the hops by service and status class, the journals' bytes, the
// refusals by check and the latency histograms, behind the admin token.
func TestMetrics(t *testing.T) {
	t.Parallel()
	const tok = "0123456789abcdef0123456789abcdef"
	e := start(t, sandbox.Config{AdminToken: tok})
	ss := e.session(t, "")
	wantStatus(t, e.do(t, pdsGet(t, ss.Base+"/personal-demographics/FHIR/R4/Patient/9693632109")), 200, "")
	wantStatus(t, e.do(t, gpcRequest(t, ss, true, gpc.SearchSlots, "GET", slotQuery(ss), "")), 200, "")
	// Refused by the SSP: a TraceID that is not a UUID.
	req := gpcRequest(t, ss, true, gpc.SearchSlots, "GET", slotQuery(ss), "")
	req.Header.Set("Ssp-TraceID", "not-a-uuid")
	r := e.do(t, req)
	assert.Equal(t, r.status >= 400, true, "the SSP refused a bad TraceID: "+r.String())

	scrape := func() string {
		req := plain(t, "GET", e.URL+"/_admin/metrics", "")
		req.Header.Set("Authorization", "Bearer "+tok)
		r := e.do(t, req)
		assert.Equal(t, r.status, 200, "metrics: "+r.String())
		assert.Contains(t, r.header.Get("Content-Type"), "text/plain", "metrics content type")
		return string(r.body)
	}
	body := scrape()
	for _, want := range []string{
		"spine_sandbox_sessions 2\n", // default and ss
		`spine_sandbox_hops_total{service="pds",status="2xx"} 1` + "\n",
		`spine_sandbox_hops_total{service="ssp",status="2xx"} 1` + "\n",
		`spine_sandbox_hops_total{service="provider",status="2xx"} 1` + "\n", // the SSP's forward
		`spine_sandbox_hops_total{service="ssp",status="4xx"} 1` + "\n",
		`spine_sandbox_refusals_total{check="SSP_TRACEID_UUID"} 1` + "\n",
		`spine_sandbox_request_duration_seconds_count{service="ssp"} 2` + "\n",
		`spine_sandbox_request_duration_seconds_bucket{service="pds",le="+Inf"} 1` + "\n",
		"spine_sandbox_draining 0\n",
	} {
		assert.Contains(t, body, want, "metrics")
	}
	if strings.Contains(body, "spine_sandbox_journal_bytes 0\n") || !strings.Contains(body, "spine_sandbox_journal_bytes ") {
		t.Errorf("journal bytes: want a positive gauge, got\n%s", body)
	}

	// The series do not grow with the sessions: no label is a session id.
	lines := strings.Count(body, "\n")
	for range 20 {
		e.session(t, "")
	}
	after := scrape()
	assert.Equal(t, strings.Count(after, "\n"), lines, "lines in a scrape after 20 more sessions")
	assert.Contains(t, after, "spine_sandbox_sessions 22\n", "sessions")

	r = e.do(t, plain(t, "GET", e.URL+"/_admin/metrics", ""))
	assert.Equal(t, r.status, 401, "metrics without the token: "+r.String())
}

// TestMetricsPerServer: two servers in one process keep their own counts
// (a registry each, not the library's global one).
func TestMetricsPerServer(t *testing.T) {
	t.Parallel()
	a, b := start(t, sandbox.Config{}), start(t, sandbox.Config{})
	ss := a.session(t, "")
	wantStatus(t, a.do(t, pdsGet(t, ss.Base+"/personal-demographics/FHIR/R4/Patient/9693632109")), 200, "")
	ra := a.do(t, plain(t, "GET", a.URL+"/_admin/metrics", ""))
	rb := b.do(t, plain(t, "GET", b.URL+"/_admin/metrics", ""))
	assert.Contains(t, string(ra.body), `spine_sandbox_hops_total{service="pds",status="2xx"} 1`, "a's hops")
	if strings.Contains(string(rb.body), "spine_sandbox_hops_total{") {
		t.Errorf("b counted a's hops:\n%s", rb.body)
	}
}

// BenchmarkMetricsScrape: one GET /_admin/metrics with the sandbox full
// (1,000 sessions): the gauges' pass over the sessions is the only part
// that grows with them.
func BenchmarkMetricsScrape(b *testing.B) {
	e := start(b, sandbox.Config{})
	for range sandbox.DefaultLimits.MaxSessions - 1 {
		e.session(b, "")
	}
	for b.Loop() {
		r := e.do(b, plain(b, "GET", e.URL+"/_admin/metrics", ""))
		if r.status != 200 || !strings.Contains(string(r.body), "spine_sandbox_sessions 1000\n") {
			b.Fatalf("scrape: %s", r)
		}
	}
}
