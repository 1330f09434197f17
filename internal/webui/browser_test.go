package webui_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/runner"
	"github.com/spine-sandbox/spine-sandbox/internal/sandbox"
	"github.com/spine-sandbox/spine-sandbox/internal/webui"
)

const chromium = "/usr/bin/chromium"

// endStreams lets the admin API's event stream run for a moment and then
// ends it. Headless Chromium's --virtual-time-budget waits for the network
// to go quiet before it advances time, and a server-sent event stream never
// does; once the stream has sent the journal so far, ending it lets the page
// settle and --dump-dom print what the script drew. EventSource reconnects
// after about three seconds, later than the budget.
func endStreams(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/events") {
			ctx, cancel := context.WithTimeout(r.Context(), 500*time.Millisecond)
			defer cancel()
			r = r.WithContext(ctx)
		}
		next.ServeHTTP(w, r)
	})
}

// TestBrowser runs the page in real headless Chromium against a sandbox
// with one passing hop (PDS retrieve, 200) and one failing hop (an SSP call
// with none of the Spine headers, 400), and checks the arrows the script
// drew: in order, with step ids, names, statuses and green/red classes.
func TestBrowser(t *testing.T) {
	if _, err := os.Stat(chromium); err != nil {
		t.Skip("no " + chromium + " on this machine: the in-browser test of the diagram is skipped")
	}
	if testing.Short() {
		t.Skip("starts a browser")
	}
	t.Parallel()
	base := startUI(t)
	pdsRetrieve(t, base)
	// No Ssp-TraceID, Ssp-From, Ssp-To, Ssp-InteractionID or Authorization: the SSP refuses it.
	send(t, "POST", base+"/ssp/"+base+"/provider/A20047/STU3/1/gpconnect/Appointment", nil, http.StatusBadRequest)
	dom := dumpDOM(t, base+"/")

	// The stream was ended on purpose (endStreams), so the page says it is reconnecting.
	assert.Contains(t, dom, "Reconnecting to session default", "status line")
	arrowRe := regexp.MustCompile(`<g class="arrow ([a-z]+) ([a-z]+)[^"]*"[^>]*aria-label="([^"]*)"`)
	var got []string
	for _, m := range arrowRe.FindAllStringSubmatch(dom, -1) {
		got = append(got, m[1]+" "+m[2]+" | "+m[3])
	}
	want := []string{
		"request ok | Arrow 1: step 1a, request, Consumer to PDS, pds.retrieve, passed",
		"reply ok | Arrow 2: step 1b, reply, PDS to Consumer, 200, passed",
		"request bad | Arrow 3: step 7a, request, Consumer to SSP, ssp.unknown interaction, failed",
		"reply bad | Arrow 4: step 7d, reply, SSP to Consumer, 400 MISSING_HEADER_SSP-TRACEID, failed",
	}
	assert.DeepEqual(t, got, want, "arrows in the diagram")
	// The visible labels: step id and name on the request, status on the reply, ✗ on failures.
	for _, text := range []string{
		`<tspan class="step">1a </tspan><tspan>pds.retrieve</tspan>`,
		`<tspan class="step">1b </tspan><tspan>200</tspan>`,
		`<tspan class="step">✗ 7a </tspan>`,
		`<tspan class="step">✗ 7d </tspan><tspan>400 MISSING_HEADER_SSP-TRACEID</tspan>`,
	} {
		assert.Contains(t, dom, text, "arrow label")
	}
	assert.Contains(t, dom, `<p id="empty" hidden="">`, "empty message hidden")
}

// TestBrowserFollowsNewest has more arrows than fit in the view, with
// "Follow new hops" on: the page must scroll to the end and draw the rows
// there. Under virtual time Chromium draws frames deterministically, so this
// does not reproduce the frame-timing race that once left the diagram empty
// in a real browser (the old script passes it too); it guards the
// scroll-then-draw path and the virtualised row window.
func TestBrowserFollowsNewest(t *testing.T) {
	if _, err := os.Stat(chromium); err != nil {
		t.Skip("no " + chromium + " on this machine: the in-browser test of the diagram is skipped")
	}
	if testing.Short() {
		t.Skip("starts a browser")
	}
	t.Parallel()
	base := startUI(t)
	// 1,000 hops (2,000 arrows): the page must still follow to the newest
	// while keeping only the rows in view in the DOM.
	const hops = 1000
	for range hops {
		pdsRetrieve(t, base)
	}
	dom := dumpDOM(t, base+"/")
	labels := regexp.MustCompile(`aria-label="Arrow (\d+):`).FindAllStringSubmatch(dom, -1)
	if len(labels) == 0 {
		t.Fatalf("no arrows drawn after following to the newest hop")
	}
	assert.Equal(t, labels[len(labels)-1][1], "2000", "last arrow drawn")
	if len(labels) > 100 {
		t.Errorf("%d arrows in the DOM for 2,000: rendering is not limited to the rows in view", len(labels))
	}
	assert.Equal(t, labels[0][1] != "1", true, "first rows are left out once scrolled (first drawn: "+labels[0][1]+")")
	top := regexp.MustCompile(`<svg id="rows"[^>]*style="top: (\d+)px;"`).FindStringSubmatch(dom)
	if top == nil || top[1] == "0" {
		t.Errorf("rows SVG not moved to the scrolled rows: %v", top)
	}
}

// startUI starts a sandbox with this package's UI on 127.0.0.1 and returns
// its base URL.
func startUI(t *testing.T) string {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	base := "http://" + ts.Listener.Addr().String()
	srv, err := sandbox.New(sandbox.Config{PublicURL: base, UI: webui.Handler()})
	assert.NilError(t, err)
	ts.Config.Handler = endStreams(srv)
	ts.Start()
	t.Cleanup(ts.Close)
	return base
}

// pdsRetrieve makes one passing hop: a PDS retrieve of the default world's
// patient 9693632109.
func pdsRetrieve(t *testing.T, base string) {
	t.Helper()
	send(t, "GET", base+"/personal-demographics/FHIR/R4/Patient/9693632109", map[string]string{
		"Accept": "application/fhir+json", "X-Request-Id": "60e0b220-8136-4ac5-a4a7-3d1d3c1b2f11"}, http.StatusOK)
}

func send(t *testing.T, method, url string, header map[string]string, want int) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	assert.NilError(t, err)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	assert.NilError(t, err)
	res.Body.Close()
	assert.Equal(t, res.StatusCode, want, method+" "+url)
}

// dumpDOM loads url in headless Chromium and returns the DOM once the
// script has run (two seconds of virtual time after the network is quiet).
func dumpDOM(t *testing.T, url string) string {
	t.Helper()
	return dumpDOMSized(t, url, "1400,1000")
}

// dumpDOMSized is dumpDOM with the window size ("width,height") given.
func dumpDOMSized(t *testing.T, url, size string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
		"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+t.TempDir(), "--window-size="+size, "--virtual-time-budget=2000",
		"--dump-dom", url)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	return string(out)
}

// TestBrowserRunScenario loads the page with ?run=happy-path&hop=2: the
// page presses its own "Run scenario" button (create a session for the
// scenario, switch to it, POST …/run), the built-in consumer books, and the
// arrows arrive through the event stream; ?hop=2 shows arrow 2's hop in the
// details panel.
func TestBrowserRunScenario(t *testing.T) {
	if _, err := os.Stat(chromium); err != nil {
		t.Skip("no " + chromium + " on this machine: the in-browser test of the diagram is skipped")
	}
	if testing.Short() {
		t.Skip("starts a browser")
	}
	t.Parallel()
	done := make(chan struct{})
	var once sync.Once
	ts := httptest.NewUnstartedServer(nil)
	base := "http://" + ts.Listener.Addr().String()
	srv, err := sandbox.New(sandbox.Config{PublicURL: base, UI: webui.Handler(), ScenarioDir: "../../scenarios",
		FixtureDir: "../../fixtures", Run: func(ctx context.Context, ss *sandbox.Session) error {
			defer once.Do(func() { close(done) })
			return runner.RunSession(ctx, ss)
		}})
	assert.NilError(t, err)
	// The run session's stream ends shortly after the run is done (see
	// endStreams), so virtual time can advance with every hop sent.
	ts.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/events") && !strings.Contains(r.URL.Path, "/default/") {
			ctx, cancel := context.WithTimeout(r.Context(), 20*time.Second)
			defer cancel()
			go func() {
				select {
				case <-done:
					time.Sleep(300 * time.Millisecond)
					cancel()
				case <-ctx.Done():
				}
			}()
			r = r.WithContext(ctx)
		}
		endStreamsIfDefault(srv).ServeHTTP(w, r)
	})
	ts.Start()
	t.Cleanup(ts.Close)

	dom := dumpDOMSized(t, base+"/?run=happy-path&hop=2&speed=0", "1400,4000") // real time: --dump-dom does not wait for pacing
	arrowRe := regexp.MustCompile(`<g class="arrow ([a-z]+) ([a-z]+)[^"]*"[^>]*aria-label="([^"]*)"`)
	var got []string
	for _, m := range arrowRe.FindAllStringSubmatch(dom, -1) {
		sl := stepAndLabel.FindStringSubmatch(m[3])
		if sl == nil {
			t.Fatalf("arrow label %q", m[3])
		}
		got = append(got, m[1]+" "+m[2]+" "+sl[1]+" "+sl[2])
	}
	// The booking sequence of gpconnect-1.6.md §4, every arrow green: the
	// SDS lookups (2a–2d) repeat before each SSP call.
	sds := []string{"request ok 2a sds.endpoint", "reply ok 2b 200", "request ok 2c sds.device", "reply ok 2d 200"}
	ssp := func(n, name, status string) []string {
		return []string{"request ok " + n + "a ssp." + name, "request ok " + n + "b provider." + name,
			"reply ok " + n + "c " + status, "reply ok " + n + "d " + status}
	}
	want := []string{"request ok 1a pds.retrieve", "reply ok 1b 200"}
	want = append(want, sds...)
	want = append(want, ssp("3", "read metadata", "200")...)
	want = append(want, sds...)
	want = append(want, ssp("4", "search free slots", "200")...)
	want = append(want, sds...)
	want = append(want, ssp("5", "find patient", "200")...)
	want = append(want, sds...)
	want = append(want, ssp("6", "book appointment", "201")...)
	assert.DeepEqual(t, got, want, "arrows of the happy path")
	assert.Contains(t, dom, `<g class="arrow request ok selected"`, "arrow 1 (hop #1) selected")
	assert.Contains(t, dom, `<g class="arrow reply ok selected"`, "arrow 2 (hop #1) selected")
	assert.Equal(t, strings.Count(dom, " selected\""), 2, "arrows selected")
	// ?hop=2 shows arrow 2's hop — the PDS retrieve — in the details panel.
	for _, text := range []string{
		`<dt>Hop</dt><dd>#1: Consumer → PDS</dd>`, `<dt>Steps</dt><dd>1a / 1b</dd>`,
		`<dt>Interaction</dt><dd>pds.retrieve</dd>`, `<span class="badge ok">✓ passed</span>`,
	} {
		assert.Contains(t, dom, text, "details panel")
	}
	assert.Contains(t, dom, `<p id="details-hint" hidden="">`, "hint hidden once a hop is shown")
	// The journal sends a JSON body as a JSON value: shown pretty-printed,
	// not as "[object Object]".
	// (GARTON Bill is NHS's record, whose first key is address.)
	assert.Contains(t, dom, "<h3>Response body</h3><pre>{\n  \"address\": [", "the PDS retrieve's response body in the details panel")
	assert.Contains(t, dom, "\n  \"id\": \"9693632109\",\n", "the PDS retrieve's response body in the details panel")
	// The picker switched to the new session, which runs happy path.
	if !regexp.MustCompile(`<option value="[0-9a-f]{16}">[0-9a-f]{16} — happy path</option>`).MatchString(dom) {
		t.Errorf("session picker has no happy path session")
	}
	if !strings.Contains(dom, `<option value="happy-path" title="A patient with a record at their registered practice`) ||
		!strings.Contains(dom, `">happy-path — happy path</option>`) {
		t.Errorf("scenario picker has no happy-path option with its description")
	}
}

// stepAndLabel takes "1a" and "pds.retrieve" out of "Arrow 1: step 1a, request,
// Consumer to PDS, pds.retrieve, passed".
var stepAndLabel = regexp.MustCompile(`^Arrow \d+: step (\w+), \w+, \w+ to \w+, (.*), (?:passed|failed)$`)

// endStreamsIfDefault ends the default session's event stream as endStreams
// does (the page connects to it before it runs a scenario).
func endStreamsIfDefault(next http.Handler) http.Handler {
	ended := endStreams(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/sessions/default/") {
			ended.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}
