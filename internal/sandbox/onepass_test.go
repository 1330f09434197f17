package sandbox_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/sandbox"
)

// TestCreateReportsEveryKind: POST /_admin/sessions answers a scenario
// with mistakes of every kind — schema, reference, conformance check name,
// a world that cannot be built — with one 422 listing all of them, each at
// its line and column, in file order (the same file and the same problems
// as `spine-sandbox check`, cmd/spine-sandbox TestCheckReportsEveryKind).
func TestCreateReportsEveryKind(t *testing.T) {
	t.Parallel()
	e := start(t, sandbox.Config{})
	body := string(readFile(t, "../scenario/testdata/every-kind.yaml"))
	for _, method := range []string{"POST", "PUT"} {
		url := e.URL + "/_admin/sessions"
		if method == "PUT" {
			url += "/every-kind"
		}
		r := e.do(t, plain(t, method, url, body))
		assert.Equal(t, r.status, 422, method+": "+r.String())
		p := problemOf(t, r)
		want := []sandbox.ScenarioProblem{
			{File: "request body", Line: 9, Column: 3, Message: `scenario.consumer: unknown key "colour" (known: asid, ods, name, party_key, manufacturer, interactions, fqdn)`},
			{File: "request body", Line: 12, Column: 15, Message: `patients: practice "B99999" of patient 9693632109 is not in practices`},
			{File: "request body", Line: 21, Column: 30, Message: `practices[A20047].generate[0]: 300,000 slots, over the limit of 200,000 slots per practice`},
			{File: "request body", Line: 23, Column: 60, Message: `practices[A20047].slots: slot "100" ends (+1d 08:45) before or when it starts (+1d 09:00)`},
			{File: "request body", Line: 25, Column: 24, Message: `scenario.faults[0].status: expected a whole number, got "fourhundred"`},
			{File: "request body", Line: 28, Column: 12, Message: `expect.checks.fire[0]: unknown check "JWT_EXPIRD" (did you mean "JWT_EXPIRED"?) (the names are in docs/conformance-checks.md)`},
		}
		assert.DeepEqual(t, p.Problems, want, method+" problems")
		assert.Contains(t, p.Detail, "6 problem(s)", method+" detail")
	}
	assert.Equal(t, len(e.Server.Sessions()), 1, "sessions (the default only)")
}

// TestCloseCancelsRunInFlight: a run started by POST …/run belongs to the
// server: Close cancels its context and returns only once it has ended.
func TestCloseCancelsRunInFlight(t *testing.T) {
	t.Parallel()
	started := make(chan struct{})
	var ended sync.WaitGroup
	var cause error
	ended.Add(1)
	hook := func(ctx context.Context, ss *sandbox.Session) error {
		defer ended.Done()
		close(started)
		select {
		case <-ctx.Done():
			cause = ctx.Err()
			return ctx.Err()
		case <-time.After(time.Minute):
			return errors.New("not cancelled")
		}
	}
	e := start(t, sandbox.Config{Run: hook})
	ss := e.session(t, scenarioYAML)
	r := e.do(t, plain(t, "POST", e.URL+"/_admin/sessions/"+ss.ID+"/run", ""))
	assert.Equal(t, r.status, 202, "run: "+r.String())
	<-started
	assert.Equal(t, ss.Run().Status, sandbox.RunRunning, "before Close")
	closed := time.Now()
	assert.NilError(t, e.Server.Close())
	if time.Since(closed) > 30*time.Second {
		t.Fatal("Close waited for the run's own minute instead of cancelling it")
	}
	ended.Wait() // returns at once: Close waited for the run
	if !errors.Is(cause, context.Canceled) {
		t.Errorf("the run ended with %v, want context.Canceled", cause)
	}
	assert.Equal(t, ss.Run().Status, sandbox.RunFinished, "after Close")
}

// syncBuf is a bytes.Buffer a logger may write to from the run's goroutine
// while the test reads it.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestLogsGoToTheLoggerPassedIn: what the sandbox logs — here a run that
// failed and an admin handler's bug — goes to Config.Logger, not to the
// global log package. Not parallel: it watches the global logger.
func TestLogsGoToTheLoggerPassedIn(t *testing.T) {
	var global bytes.Buffer
	log.SetOutput(&global)
	t.Cleanup(func() { log.SetOutput(os.Stderr) })
	var got syncBuf
	done := make(chan struct{})
	hook := func(context.Context, *sandbox.Session) error {
		defer close(done)
		return errors.New("the consumer gave up: boom")
	}
	e := start(t, sandbox.Config{Run: hook, Logger: slog.New(slog.NewTextHandler(&got, nil)),
		Verdict: func(*sandbox.Session) any { return map[string]any{"passed": false, "outcome": "error"} }})
	ss := e.session(t, scenarioYAML)
	r := e.do(t, plain(t, "POST", e.URL+"/_admin/sessions/"+ss.ID+"/run", ""))
	assert.Equal(t, r.status, 202, "run: "+r.String())
	<-done
	assert.NilError(t, e.Server.Close()) // waits for the run, and its log line
	assert.Contains(t, got.String(), "running the scenario", "the logger passed in")
	assert.Contains(t, got.String(), "the consumer gave up: boom", "the logger passed in")
	assert.Equal(t, global.String(), "", "the global logger")
}

// TestCreateReportsEndpointsWithTheRest: a practice endpoint the sandbox's
// upstream policy refuses is one more problem of the same 422, beside a
// schema mistake of the same file, for a session whose id is still to be
// chosen (POST) and for one named by its path (PUT).
func TestCreateReportsEndpointsWithTheRest(t *testing.T) {
	t.Parallel()
	e := start(t, sandbox.Config{})
	body := endpointScenario("http://169.254.169.254/latest/meta-data") + "colour: red\n"
	for _, req := range [][2]string{{"POST", "/_admin/sessions"}, {"PUT", "/_admin/sessions/ep"}} {
		r := e.do(t, plain(t, req[0], e.URL+req[1], body))
		assert.Equal(t, r.status, 422, req[0]+": "+r.String())
		p := problemOf(t, r)
		if len(p.Problems) != 2 {
			t.Fatalf("%s: want the endpoint and the unknown key, got %s", req[0], r)
		}
		assert.Equal(t, fmt.Sprintf("%d:%d", p.Problems[0].Line, p.Problems[0].Column), "8:15", "the endpoint's position")
		assert.Contains(t, p.Problems[0].Message, "cloud metadata address", "the endpoint's problem")
		assert.Contains(t, p.Problems[1].Message, `unknown key "colour"`, "the schema's problem")
	}
}
