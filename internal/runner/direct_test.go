package runner

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/spine-sandbox/spine-sandbox/internal/journal"
	"github.com/spine-sandbox/spine-sandbox/internal/sandbox"
	"github.com/spine-sandbox/spine-sandbox/internal/scenario"
)

// TestDirectSameJourneys: BenchmarkJourneyDirect measures what the
// benchmark over loopback does. The scenarios run in process
// (sandbox.Server.Direct) give the verdicts and the hops they give over
// loopback: the same steps, statuses, request header names, checks, Spine
// codes and body sizes. (TLS and LDAP are not the direct transport's.)
func TestDirectSameJourneys(t *testing.T) {
	t.Parallel()
	// Scenarios of every kind of answer: booked, registered, refused by
	// each service, faults (a dropped connection, a 502), a second window,
	// a slot taken, a cancel. Not those timed in milliseconds (the
	// provider timeout's 500 ms consumer timeout): under -race on a loaded
	// machine they time out over loopback alone.
	var scs []*scenario.Scenario
	for _, name := range []string{"happy-path", "register-branch", "slots-later-window", "pds-drop-once", "sds-503-once",
		"provider-500-book", "ssp-400-target-url", "ssp-400-reused-traceid", "ssp-502", "slot-taken", "action-cancel",
		"deceased", "provider-409-book-always"} {
		sc, err := scenario.LoadFile("../../scenarios/" + name + ".yaml")
		if err != nil {
			t.Fatal(err)
		}
		scs = append(scs, sc)
	}
	ts := httptest.NewUnstartedServer(nil)
	srv, err := sandbox.New(sandbox.Config{PublicURL: "http://" + ts.Listener.Addr().String(), FixtureDir: "../../fixtures"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	ts.Config.Handler = srv
	ts.Start()
	t.Cleanup(ts.Close)
	loop := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(loop.CloseIdleConnections)
	opts := Options{FixtureDir: "../../fixtures"}
	for _, sc := range scs {
		name := sc.Name
		overLoop := runOne(context.Background(), srv, loop, sc, opts)
		direct := runOne(context.Background(), srv, srv.Direct(), sc, opts)
		if overLoop.Passed != direct.Passed || sessionFree(overLoop.Outcome.String()) != sessionFree(direct.Outcome.String()) {
			t.Errorf("%s: loopback passed=%v %q, direct passed=%v %q (%v)", name, overLoop.Passed, overLoop.Outcome, direct.Passed, direct.Outcome, direct.Failures)
		}
		a, b := hopFacts(overLoop.Hops), hopFacts(direct.Hops)
		if !slices.Equal(a, b) {
			t.Errorf("%s: hops differ\nloopback:\n%s\ndirect:\n%s", name, strings.Join(a, "\n"), strings.Join(b, "\n"))
		}
	}
}

func hopFacts(hops []journal.Hop) []string {
	var out []string
	for _, h := range hops {
		var keys []string
		for k := range h.RequestHeader {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		var checks []string
		for _, c := range h.Checks {
			checks = append(checks, fmt.Sprintf("%s=%v", c.Check, c.Passed))
		}
		out = append(out, sessionFree(fmt.Sprintf("%s→%s %s %d %s req[%s] checks[%s] body %d/%d", h.From, h.To, h.Name, h.Status, h.Code,
			strings.Join(keys, ","), strings.Join(checks, ","), len(h.RequestBody), len(h.ResponseBody))))
	}
	return out
}

var sessionPath = regexp.MustCompile(`/s/[0-9a-f]+/`)

// sessionFree sets a session's id aside in a text.
func sessionFree(s string) string { return sessionPath.ReplaceAllString(s, "/s/ID/") }
