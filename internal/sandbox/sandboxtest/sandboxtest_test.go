package sandboxtest_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/sandbox"
	"github.com/spine-sandbox/spine-sandbox/internal/sandbox/sandboxtest"
)

// get reads url with the X-Request-ID PDS requires.
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	assert.NilError(t, err)
	req.Header.Set("X-Request-ID", "60e0b220-8136-4ac5-8a8b-6f5c3b9a2e11")
	res, err := http.DefaultClient.Do(req)
	assert.NilError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	assert.NilError(t, err)
	return res.StatusCode, string(b)
}

// TestStart: the sandbox listens on 127.0.0.1, the session's URLs are
// under /s/{id}/, and its journal records what reaches it.
func TestStart(t *testing.T) {
	t.Parallel()
	sb := sandboxtest.Start(t, "")
	if !strings.HasPrefix(sb.URL, "http://127.0.0.1:") {
		t.Errorf("URL %q is not on 127.0.0.1", sb.URL)
	}
	base := sb.URL + "/s/" + sb.Session.ID
	assert.Equal(t, sb.PDS, base+sandbox.PDSPath, "PDS")
	assert.Equal(t, sb.SDS, base+sandbox.SDSPath, "SDS")
	assert.Equal(t, sb.SSP, base+sandbox.SSPPath, "SSP")
	assert.Equal(t, sb.Session.Scenario.Name, "builtin", "scenario")
	if got, ok := sb.Server.Session(sb.Session.ID); !ok || got != sb.Session {
		t.Fatal("the session is not the server's")
	}

	status, body := get(t, sb.PDS+"/Patient/9693632109")
	assert.Equal(t, status, 200, "PDS: "+body)
	assert.Contains(t, body, "GARTON", "patient")
	status, _ = get(t, sb.URL+"/_admin/health")
	assert.Equal(t, status, 200, "health")
	hops := sb.Hops()
	if len(hops) != 1 || hops[0].Name != "pds.retrieve" || hops[0].Status != 200 {
		t.Fatalf("hops: %+v", hops)
	}
}

// TestStartScenario: the YAML's faults apply to the session only.
func TestStartScenario(t *testing.T) {
	t.Parallel()
	sb := sandboxtest.Start(t, "name: flaky pds\nextends: builtin\nfaults:\n  - {hop: pds, status: 503}\n")
	assert.Equal(t, sb.Session.Scenario.Name, "flaky pds", "scenario")
	status, _ := get(t, sb.PDS+"/Patient/9693632109")
	assert.Equal(t, status, 503, "faulted session")
	status, _ = get(t, sb.URL+sandbox.PDSPath+"/Patient/9693632109")
	assert.Equal(t, status, 200, "default session")
	assert.Equal(t, len(sb.Hops()), 1, "session hops")
	assert.Equal(t, sb.Hops()[0].Fault, "pds fault: status 503", "fault")
}
