package runner

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/sandbox"
	"github.com/spine-sandbox/spine-sandbox/internal/scenario"
)

// TestRunSessionThroughTheAdminAPI: POST /_admin/sessions/{id}/run with
// RunSession as the hook makes the built-in consumer book happy-path on the
// live sandbox, and the session's verdict then passes.
func TestRunSessionThroughTheAdminAPI(t *testing.T) {
	t.Parallel()
	ts := httptest.NewUnstartedServer(nil)
	base := "http://" + ts.Listener.Addr().String()
	srv, err := sandbox.New(sandbox.Config{PublicURL: base, ScenarioDir: "../../scenarios", FixtureDir: "../../fixtures",
		Verdict: AdminVerdict("../../fixtures"), Run: RunSession})
	assert.NilError(t, err)
	ts.Config.Handler = srv
	ts.Start()
	t.Cleanup(ts.Close)

	resp, err := http.Post(base+"/_admin/sessions", "application/json", jsonBody(`{"scenario":"happy-path"}`))
	assert.NilError(t, err)
	var info sandbox.SessionInfo
	assert.NilError(t, json.NewDecoder(resp.Body).Decode(&info))
	resp.Body.Close()
	assert.Equal(t, resp.StatusCode, 201, "create")

	verdict := func() VerdictJSON {
		var got VerdictJSON
		resp, err := http.Get(base + "/_admin/sessions/" + info.ID + "/verdict")
		assert.NilError(t, err)
		assert.NilError(t, json.NewDecoder(resp.Body).Decode(&got))
		resp.Body.Close()
		return got
	}
	runStatus := func() string {
		resp, err := http.Get(base + "/_admin/sessions/" + info.ID)
		assert.NilError(t, err)
		var info sandbox.SessionInfo
		assert.NilError(t, json.NewDecoder(resp.Body).Decode(&info))
		resp.Body.Close()
		return info.Run.Status
	}
	// Before any traffic or run there is nothing to judge: pending, not a
	// failure to book.
	got := verdict()
	assert.Equal(t, got.Status, VerdictPending, "status before the run")
	assert.Equal(t, len(got.Failures), 0, "failures before the run")
	assert.Equal(t, runStatus(), sandbox.RunNone, "run status before the run")

	resp, err = http.Post(base+"/_admin/sessions/"+info.ID+"/run", "application/json", nil)
	assert.NilError(t, err)
	resp.Body.Close()
	assert.Equal(t, resp.StatusCode, 202, "run")

	deadline := time.Now().Add(20 * time.Second)
	for got = verdict(); (got.Status == VerdictRunning || got.Status == VerdictPending) && time.Now().Before(deadline); got = verdict() {
		time.Sleep(20 * time.Millisecond)
	}
	assert.Equal(t, runStatus(), sandbox.RunFinished, "run status after the run")
	assert.Equal(t, got.Status, VerdictPassed, "status")
	assert.Equal(t, got.Outcome, "booked", "outcome")
	assert.Equal(t, got.Passed, true, "passed")
	if len(got.Failures) != 0 {
		t.Errorf("failures: %+v", got.Failures)
	}
}

// TestRunSessionExternalConsumer: a scenario for an external consumer has
// nothing for the built-in consumer to do.
func TestRunSessionExternalConsumer(t *testing.T) {
	t.Parallel()
	srv, err := sandbox.New(sandbox.Config{PublicURL: "http://127.0.0.1:1"})
	assert.NilError(t, err)
	ss, err := srv.CreateSession("", mustLoad(t, "name: ext\nextends: builtin\nrun: {consumer: external}\n"))
	assert.NilError(t, err)
	assert.NilError(t, RunSession(context.Background(), ss))
	assert.Equal(t, len(ss.Journal.Hops()), 0, "hops")
}

func jsonBody(s string) *strings.Reader { return strings.NewReader(s) }

func mustLoad(t *testing.T, yaml string) *scenario.Scenario {
	t.Helper()
	sc, err := scenario.Load("test.yaml", []byte(yaml))
	assert.NilError(t, err)
	return sc
}
