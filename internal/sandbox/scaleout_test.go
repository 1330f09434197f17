package sandbox_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/sandbox"
)

// TestPutSession: PUT /_admin/sessions/{id} creates a session with the
// client's id (201), replaces it (200: a fresh world and journal, its run
// cancelled), refuses a bad id, a second scenario for "default", and a
// create past the cap, through the same guard as POST.
func TestPutSession(t *testing.T) {
	t.Parallel()
	cancelled := make(chan string, 1)
	hook := func(ctx context.Context, ss *sandbox.Session) error {
		<-ctx.Done()
		cancelled <- ss.ID
		return ctx.Err()
	}
	e := start(t, sandbox.Config{ScenarioDir: "../../scenarios", Run: hook, Limits: sandbox.Limits{MaxSessions: 3}})
	put := func(id, body string) response {
		return e.do(t, plain(t, "PUT", e.URL+"/_admin/sessions/"+id, body))
	}
	tests := []struct {
		name, id, body string
		status         int
		want           string
	}{
		{"create by name", "team-a_1", `{"scenario":"happy-path"}`, 201, `"scenario": "happy path"`},
		{"the URLs carry the id", "team-b", "", 201, `/s/team-b/ssp/`},
		{"replace with YAML", "team-b", scenarioYAML, 200, `"scenario": "admin test"`},
		{"bad id", "bad.id", "", 400, "session id must be"},
		{"id too long", strings.Repeat("a", 65), "", 400, "session id must be"},
		{"the body's id is not the path's", "team-b", `{"id":"other"}`, 400, `is not the path's`},
		{"broken YAML", "team-b", "name: x\nextends: builtin\nbogus: 1\n", 422, "bogus"},
		{"a scenario for default", "default", `{"scenario":"happy-path"}`, 409, "serve --scenario"},
		{"reset default", "default", "", 200, `"id": "default"`},
		{"past the cap (default, team-a_1, team-b)", "team-c", "", 429, "too many sessions"},
		{"replacing at the cap", "team-a_1", "", 200, `"scenario": "builtin"`},
	}
	for _, tt := range tests {
		r := put(tt.id, tt.body)
		assert.Equal(t, r.status, tt.status, tt.name+": "+r.String())
		assert.Contains(t, string(r.body), tt.want, tt.name)
	}

	// Replacing ends the old session's run and gives a fresh journal.
	r := e.do(t, plain(t, "POST", e.URL+"/_admin/sessions/team-b/run", ""))
	assert.Equal(t, r.status, 202, "run: "+r.String())
	old, _ := e.Server.Session("team-b")
	e.do(t, pdsGet(t, old.Base+"/personal-demographics/FHIR/R4/Patient/9693632109"))
	assert.Equal(t, old.Journal.Len(), 1, "hops before the replace")
	r = put("team-b", "")
	assert.Equal(t, r.status, 200, "replace: "+r.String())
	select {
	case id := <-cancelled:
		assert.Equal(t, id, "team-b", "the replaced session's run was cancelled")
	case <-time.After(30 * time.Second):
		t.Fatal("replacing the session did not cancel its run")
	}
	fresh, _ := e.Server.Session("team-b")
	assert.Equal(t, fresh.Journal.Len(), 0, "hops after the replace")
}

// TestPutSessionGuarded: PUT goes through the admin guard like POST.
func TestPutSessionGuarded(t *testing.T) {
	t.Parallel()
	const tok = "0123456789abcdef0123456789abcdef"
	e := start(t, sandbox.Config{AdminToken: tok})
	r := e.do(t, plain(t, "PUT", e.URL+"/_admin/sessions/x", ""))
	assert.Equal(t, r.status, 401, "without the token: "+r.String())
	req := plain(t, "PUT", e.URL+"/_admin/sessions/x", "name: x\nextends: builtin\n")
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "text/html")
	r = e.do(t, req)
	assert.Equal(t, r.status, 415, "an HTML body: "+r.String())
	req = plain(t, "PUT", e.URL+"/_admin/sessions/x", "")
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Origin", "https://evil.example")
	r = e.do(t, req)
	assert.Equal(t, r.status, 403, "cross-origin: "+r.String())
}

// TestDrain: a draining replica says so on /_admin/health (503, for the
// load balancer), refuses new sessions and runs with 503, keeps serving
// the sessions it holds, and WaitRuns returns once the runs in flight end.
func TestDrain(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	hook := func(ctx context.Context, ss *sandbox.Session) error {
		select {
		case <-release:
		case <-ctx.Done():
		}
		return nil
	}
	e := start(t, sandbox.Config{Run: hook})
	ss := e.session(t, scenarioYAML)
	other := e.session(t, scenarioYAML)
	r := e.do(t, plain(t, "POST", e.URL+"/_admin/sessions/"+ss.ID+"/run", ""))
	assert.Equal(t, r.status, 202, "run before draining: "+r.String())

	e.Server.Drain()
	steps := []struct {
		name, method, path string
		status             int
		want               string
	}{
		{"health", "GET", "/_admin/health", 503, `"status": "draining"`},
		{"POST a session", "POST", "/_admin/sessions", 503, "draining"},
		{"PUT a session", "PUT", "/_admin/sessions/new-one", 503, "draining"},
		{"a new run", "POST", "/_admin/sessions/" + other.ID + "/run", 503, "draining"},
		{"an open session still serves", "GET", "/_admin/sessions/" + other.ID, 200, other.ID},
	}
	for _, st := range steps {
		r := e.do(t, plain(t, st.method, e.URL+st.path, ""))
		assert.Equal(t, r.status, st.status, st.name+": "+r.String())
		assert.Contains(t, string(r.body), st.want, st.name)
	}

	short, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	assert.Equal(t, e.Server.WaitRuns(short), false, "WaitRuns with a run in flight")
	close(release)
	long, cancel2 := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel2()
	assert.Equal(t, e.Server.WaitRuns(long), true, "WaitRuns once the run ended")
}

// TestPutSessionTooBig: PUT has POST's body budget (413, never parsed), and
// a refused replacement leaves the session it would have replaced.
func TestPutSessionTooBig(t *testing.T) {
	t.Parallel()
	e := start(t, sandbox.Config{Limits: sandbox.Limits{MaxScenarioBytes: 256}})
	r := e.do(t, plain(t, "PUT", e.URL+"/_admin/sessions/keep", ""))
	assert.Equal(t, r.status, 201, "create: "+r.String())
	big := scenarioYAML + "# " + strings.Repeat("x", 300) + "\n"
	r = e.do(t, plain(t, "PUT", e.URL+"/_admin/sessions/keep", big))
	assert.Equal(t, r.status, 413, "an oversized scenario: "+r.String())
	assert.Contains(t, string(r.body), "over the limit of 256 bytes", "413 says the limit")
	_, ok := e.Server.Session("keep")
	assert.Equal(t, ok, true, "the session survives a refused replacement")
}
