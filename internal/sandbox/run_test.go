package sandbox_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/sandbox"
)

// TestAdminScenarios: GET /_admin/scenarios lists the scenario folder by the
// names POST /_admin/sessions takes, and is an empty list without a folder.
func TestAdminScenarios(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		dir  string
		want map[string]string // name → scenario; nil means an empty list
	}{
		{"no folder", "", nil},
		{"the scenarios folder", "../../scenarios", map[string]string{"happy-path": "happy path"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := start(t, sandbox.Config{ScenarioDir: tt.dir})
			r := e.do(t, plain(t, "GET", e.URL+"/_admin/scenarios", ""))
			assert.Equal(t, r.status, 200, "status: "+r.String())
			assert.Equal(t, r.header.Get("Content-Type"), "application/json", "Content-Type")
			var list []sandbox.ScenarioFile
			assert.NilError(t, json.Unmarshal(r.body, &list))
			if tt.want == nil {
				assert.Equal(t, string(r.body), "[]\n", "body")
				return
			}
			got := map[string]sandbox.ScenarioFile{}
			for _, f := range list {
				got[f.Name] = f
			}
			for name, sc := range tt.want {
				assert.Equal(t, got[name].Scenario, sc, "scenario of "+name)
				assert.Contains(t, got[name].Description, "booked into the first free slot", "description of "+name)
			}
			if len(list) < 20 {
				t.Errorf("only %d scenarios listed", len(list))
			}
		})
	}
}

// TestAdminRun: POST /_admin/sessions/{id}/run answers 202 and hands the
// session to the Run hook; 404 for an unknown session; 501 without a hook.
func TestAdminRun(t *testing.T) {
	t.Parallel()
	ran := make(chan string, 1)
	hook := func(ctx context.Context, ss *sandbox.Session) error {
		if _, ok := ctx.Deadline(); !ok {
			t.Errorf("run context has no deadline")
		}
		ran <- ss.ID
		return nil
	}
	with := start(t, sandbox.Config{Run: hook})
	without := start(t, sandbox.Config{})
	ss := with.session(t, scenarioYAML)
	other := without.session(t, scenarioYAML)
	bare := with.session(t, "")
	tests := []struct {
		name   string
		e      *env
		url    string
		status int
		want   string
	}{
		{"runs", with, "/_admin/sessions/" + ss.ID + "/run", 202, `"status": "running"`},
		{"unknown session", with, "/_admin/sessions/ghost/run", 404, `no session \"ghost\"`},
		{"no run hook", without, "/_admin/sessions/" + other.ID + "/run", 501, `without a scenario runner`},
		{"a scenario without run:", with, "/_admin/sessions/" + bare.ID + "/run", 409, `has no run: section`},
		{"unknown session without hook", without, "/_admin/sessions/ghost/run", 404, `no session \"ghost\"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.e.do(t, plain(t, "POST", tt.e.URL+tt.url, ""))
			assert.Equal(t, r.status, tt.status, "status: "+r.String())
			assert.Contains(t, string(r.body), tt.want, "body")
			if tt.status >= 400 {
				p := problemOf(t, r)
				assert.Equal(t, p.Status, tt.status, "problem status")
				return
			}
			assert.Equal(t, r.header.Get("Content-Type"), "application/json", "Content-Type")
		})
	}
	select {
	case id := <-ran:
		assert.Equal(t, id, ss.ID, "session handed to the hook")
	case <-time.After(5 * time.Second):
		t.Fatal("the run hook was not called")
	}
	r := with.do(t, plain(t, "GET", with.URL+"/_admin/sessions/"+ss.ID+"/run", ""))
	assert.Equal(t, r.status, 405, "GET run")
}
