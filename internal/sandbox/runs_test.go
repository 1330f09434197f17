package sandbox_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/sandbox"
)

// TestRunsBoundedAndOwned: POST …/run goroutines are owned by the server —
// at most Limits.MaxRuns at once (429), one per session (409), each
// cancelled when its session is deleted, and Server.Close cancels the rest
// and returns only once they have ended. Before, every POST started a
// goroutine nothing tracked, on context.Background.
func TestRunsBoundedAndOwned(t *testing.T) {
	t.Parallel()
	var started, ended atomic.Int64
	cancelled := make(chan string, 8)
	hook := func(ctx context.Context, ss *sandbox.Session) error {
		started.Add(1)
		defer ended.Add(1)
		<-ctx.Done() // a run that lasts until it is told to stop
		cancelled <- ss.ID
		return ctx.Err()
	}
	e := start(t, sandbox.Config{Run: hook, Limits: sandbox.Limits{MaxRuns: 2}})
	a, b, c := e.session(t, scenarioYAML), e.session(t, scenarioYAML), e.session(t, scenarioYAML)
	run := func(ss *sandbox.Session) response {
		return e.do(t, plain(t, "POST", e.URL+"/_admin/sessions/"+ss.ID+"/run", ""))
	}
	steps := []struct {
		name   string
		ss     *sandbox.Session
		status int
		want   string
	}{
		{"first run", a, 202, `"status": "running"`},
		{"a second run in the same session", a, 409, "already in flight in this session"},
		{"a run in another session", b, 202, `"status": "running"`},
		{"a third run past MaxRuns", c, 429, "too many scenario runs"},
	}
	for _, st := range steps {
		r := run(st.ss)
		assert.Equal(t, r.status, st.status, st.name+": "+r.String())
		assert.Contains(t, string(r.body), st.want, st.name)
	}

	// Deleting a session cancels its run.
	r := e.do(t, plain(t, "DELETE", e.URL+"/_admin/sessions/"+a.ID, ""))
	assert.Equal(t, r.status, 204, "delete: "+r.String())
	select {
	case id := <-cancelled:
		assert.Equal(t, id, a.ID, "run cancelled by the delete")
	case <-time.After(30 * time.Second):
		t.Fatal("deleting the session did not cancel its run")
	}

	// Close cancels b's run and waits for it.
	assert.NilError(t, e.Server.Close())
	assert.Equal(t, ended.Load(), started.Load(), "runs ended when Close returned")
	assert.Equal(t, started.Load(), int64(2), "runs started")
	r = run(c)
	assert.Equal(t, r.status, 503, "run after Close: "+r.String())
	assert.Equal(t, started.Load(), int64(2), "runs started after Close")
}
