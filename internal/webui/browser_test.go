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
// It is the test that would have caught the page scrolling to the newest
// hop and leaving the diagram empty.
func TestBrowser(t *testing.T) {
	if _, err := os.Stat(chromium); err != nil {
		t.Skip("no " + chromium + " on this machine: the in-browser test of the diagram is skipped")
	}
	if testing.Short() {
		t.Skip("starts a browser")
	}
	ts := httptest.NewUnstartedServer(nil)
	base := "http://" + ts.Listener.Addr().String()
	srv, err := sandbox.New(sandbox.Config{PublicURL: base, UI: webui.Handler()})
	assert.NilError(t, err)
	ts.Config.Handler = endStreams(srv)
	ts.Start()
	t.Cleanup(ts.Close)

	send := func(method, path string, header map[string]string, want int) {
		t.Helper()
		req, err := http.NewRequest(method, base+path, nil)
		assert.NilError(t, err)
		for k, v := range header {
			req.Header.Set(k, v)
		}
		res, err := http.DefaultClient.Do(req)
		assert.NilError(t, err)
		res.Body.Close()
		assert.Equal(t, res.StatusCode, want, method+" "+path)
	}
	send("GET", "/personal-demographics/FHIR/R4/Patient/9693632109", map[string]string{
		"Accept": "application/fhir+json", "X-Request-Id": "60e0b220-8136-4ac5-a4a7-3d1d3c1b2f11"}, http.StatusOK)
	// No Ssp-TraceID, Ssp-From, Ssp-To, Ssp-InteractionID or Authorization: the SSP refuses it.
	send("POST", "/ssp/"+base+"/provider/A20047/STU3/1/gpconnect/Appointment", nil, http.StatusBadRequest)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
		"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+t.TempDir(), "--window-size=1400,1400", "--virtual-time-budget=2000",
		"--dump-dom", base+"/")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	dom := string(out)

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
