package webui_test

import (
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/sandbox"
	"github.com/spine-sandbox/spine-sandbox/internal/webui"
)

// TestBrowserWithAdminToken: with an admin token, the page opened as
// /?token=… in real headless Chromium gets the token as a cookie, is sent
// to "/" without it, and lists sessions and draws the journal through its
// event stream (EventSource sends no headers, only the cookie). Opened
// without the token, the admin API refuses it.
func TestBrowserWithAdminToken(t *testing.T) {
	if _, err := os.Stat(chromium); err != nil {
		t.Skip("no " + chromium + " on this machine: the in-browser test of the diagram is skipped")
	}
	if testing.Short() {
		t.Skip("starts a browser")
	}
	t.Parallel()
	const token = "0123456789abcdef0123456789abcdef"
	ts := httptest.NewUnstartedServer(nil)
	base := "http://" + ts.Listener.Addr().String()
	srv, err := sandbox.New(sandbox.Config{PublicURL: base, UI: webui.Handler(), AdminToken: token})
	assert.NilError(t, err)
	ts.Config.Handler = endStreams(srv)
	ts.Start()
	t.Cleanup(ts.Close)
	pdsRetrieve(t, base)

	dom := dumpDOM(t, base+"/?token="+token)
	assert.Contains(t, dom, `aria-label="Arrow 1: step 1a, request, Consumer to PDS, pds.retrieve, passed"`, "arrow drawn from the event stream")
	assert.Contains(t, dom, `<option value="default">default — builtin</option>`, "sessions listed")

	// Without the token the admin API answers 401: no session list, no
	// arrows. Which failure the status line shows last depends on which of
	// the page's requests ends last.
	dom = dumpDOM(t, base+"/")
	status := regexp.MustCompile(`<p id="status" role="status">([^<]*)</p>`).FindStringSubmatch(dom)
	if status == nil || !regexp.MustCompile(`HTTP 401|^Disconnected from session default\.$`).MatchString(status[1]) {
		t.Errorf("status line without the token: %v", status)
	}
	if strings.Contains(dom, `aria-label="Arrow 1`) || strings.Contains(dom, "default — builtin") {
		t.Errorf("the page read the admin API without the token")
	}
}
