package webui_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
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
	const hops = 30 // 60 arrows of 56 px: far more than the view
	for range hops {
		pdsRetrieve(t, base)
	}
	dom := dumpDOM(t, base+"/")
	labels := regexp.MustCompile(`aria-label="Arrow (\d+):`).FindAllStringSubmatch(dom, -1)
	if len(labels) == 0 {
		t.Fatalf("no arrows drawn after following to the newest hop")
	}
	assert.Equal(t, labels[len(labels)-1][1], "60", "last arrow drawn")
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
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
		"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+t.TempDir(), "--window-size=1400,1000", "--virtual-time-budget=2000",
		"--dump-dom", url)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	return string(out)
}
