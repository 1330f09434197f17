package sandbox_test

import (
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/internal/sandbox"
)

// TestOwnProviderLikeProxy: the SSP's direct call to the sandbox's own
// provider (ssp.Local) gives the consumer the answer, and the journal the
// hops, that forwarding through ReverseProxy gave — the provider's
// request as its hop records it, both hops' headers, bodies, statuses,
// codes and verdicts — for answers plain and gzip, a booking, the
// provider's own error, its faults (500, a dropped connection) and the
// SSP's timeout.
func TestOwnProviderLikeProxy(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		scenario string
		request  func(t *testing.T, ss *sandbox.Session) *http.Request
	}{
		{"slot search", "", func(t *testing.T, ss *sandbox.Session) *http.Request {
			return gpcRequest(t, ss, true, gpc.SearchSlots, "GET", slotQuery(ss), "")
		}},
		{"slot search, gzip", "", func(t *testing.T, ss *sandbox.Session) *http.Request {
			req := gpcRequest(t, ss, true, gpc.SearchSlots, "GET", slotQuery(ss), "")
			req.Header.Set("Accept-Encoding", "gzip")
			return req
		}},
		{"booking", "", func(t *testing.T, ss *sandbox.Session) *http.Request {
			return gpcRequest(t, ss, true, gpc.CreateAppointment, "POST", "/Appointment", bookBody(t, ss, freeSlots(ss)[0]))
		}},
		{"the provider's own error", "", func(t *testing.T, ss *sandbox.Session) *http.Request {
			return gpcRequest(t, ss, true, gpc.SearchSlots, "GET", "/Slot?status=free", "")
		}},
		{"provider fault 500", withFaults("  - {hop: provider, interaction: search free slots, status: 500, spine_code: INTERNAL_SERVER_ERROR}\n"), func(t *testing.T, ss *sandbox.Session) *http.Request {
			return gpcRequest(t, ss, true, gpc.SearchSlots, "GET", slotQuery(ss), "")
		}},
		{"provider drops the connection", withFaults("  - {hop: provider, drop: true}\n"), func(t *testing.T, ss *sandbox.Session) *http.Request {
			return gpcRequest(t, ss, true, gpc.SearchSlots, "GET", slotQuery(ss), "")
		}},
		{"slot search in XML", "", func(t *testing.T, ss *sandbox.Session) *http.Request {
			req := gpcRequest(t, ss, true, gpc.SearchSlots, "GET", slotQuery(ss), "")
			req.Header.Set("Accept", "application/fhir+xml")
			return req
		}},
		{"a provider delayed, in time", withFaults("  - {hop: provider, delay: 10ms}\n"), func(t *testing.T, ss *sandbox.Session) *http.Request {
			return gpcRequest(t, ss, true, gpc.SearchSlots, "GET", slotQuery(ss), "")
		}},
		{"the SSP's hop delayed", withFaults("  - {hop: ssp, delay: 10ms}\n"), func(t *testing.T, ss *sandbox.Session) *http.Request {
			req := gpcRequest(t, ss, true, gpc.SearchSlots, "GET", slotQuery(ss), "")
			req.Header.Set("Accept-Encoding", "gzip")
			return req
		}},
		{"the SSP's timeout", "ssp_timeout: 50ms\n" + withFaults("  - {hop: provider, delay: 2s}\n"), func(t *testing.T, ss *sandbox.Session) *http.Request {
			return gpcRequest(t, ss, true, gpc.SearchSlots, "GET", slotQuery(ss), "")
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			run := func(proxy bool) (answer string, hops []string) {
				e := start(t, sandbox.Config{Clock: func() time.Time { return now }})
				if proxy {
					e.Server.ProxyOwnProvider()
				}
				ss := e.session(t, tc.scenario)
				req := tc.request(t, ss)
				req.Header.Set("Ssp-TraceID", "5f0e8c1a-3b4d-4e6f-9a1b-2c3d4e5f6a7b")
				norm := strings.NewReplacer(strings.TrimPrefix(e.URL, "http://"), "HOST", ss.ID, "ID", req.Header.Get("Authorization"), "TOKEN")
				res, err := e.client.Transport.RoundTrip(req) // no transparent gunzip
				assert.NilError(t, err)
				body, _ := io.ReadAll(res.Body)
				res.Body.Close()
				res.Header.Del("Date")
				a, _ := json.Marshal(struct {
					Status int
					Header http.Header
					Body   string
				}{res.StatusCode, res.Header, string(body)})
				for _, h := range ss.Journal.Hops() {
					h.Time, h.Duration = time.Time{}, 0
					b, _ := json.Marshal(h)
					hops = append(hops, anyUUID.ReplaceAllString(norm.Replace(string(b)), "UUID"))
				}
				return anyUUID.ReplaceAllString(norm.Replace(string(a)), "UUID"), hops
			}
			proxyAnswer, proxyHops := run(true)
			answer, hops := run(false)
			assert.Equal(t, answer, proxyAnswer, "the consumer's answer")
			assert.Equal(t, len(hops), len(proxyHops), "hops")
			for i := range min(len(hops), len(proxyHops)) {
				assert.Equal(t, hops[i], proxyHops[i], "hop")
			}
		})
	}
}

// anyUUID is an SSP error's id, which is new for each answer.
var anyUUID = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
