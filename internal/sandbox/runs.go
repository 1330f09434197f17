package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"
)

// runTracker owns the built-in consumer's runs (POST …/run): it bounds how
// many are in flight across the sandbox (Limits.MaxRuns) and lets
// Server.Close wait for every one to end, so none outlives the server.
type runTracker struct {
	mu     sync.Mutex
	active int
	closed bool
	wg     sync.WaitGroup
}

var (
	errTooManyRuns  = errors.New("too many scenario runs in flight; try again when one ends")
	errRunning      = errors.New("a run is already in flight in this session; wait for it to end")
	errSessionGone  = errors.New("the session was removed")
	errShuttingDown = errors.New("the sandbox is shutting down")
)

// RunInfo is the state of a session's built-in consumer run, as GET
// /_admin/sessions/{id} shows it: Status is "none" before any run,
// "running" while one is in flight, "finished" when it ended (Error says
// why it stopped short, if it did).
type RunInfo struct {
	Status  string     `json:"status"`
	Started *time.Time `json:"started,omitempty"`
	Ended   *time.Time `json:"ended,omitempty"`
	Error   string     `json:"error,omitempty"`
}

// Run statuses (RunInfo.Status).
const (
	RunNone     = "none"
	RunRunning  = "running"
	RunFinished = "finished"
)

// Run returns the state of the session's latest built-in consumer run.
func (ss *Session) Run() RunInfo {
	ss.runMu.Lock()
	defer ss.runMu.Unlock()
	if ss.runInfo.Status == "" {
		return RunInfo{Status: RunNone}
	}
	return ss.runInfo
}

// Running reports whether a built-in consumer run is in flight.
func (ss *Session) Running() bool { return ss.Run().Status == RunRunning }

// start runs fn in a goroutine the tracker owns, with a context derived
// from the server's lifetime and the session's (cancelled by Server.Close
// and by the session's close), or says why it cannot.
func (s *Server) startRun(ss *Session, fn func(ctx context.Context) error) error {
	t := &s.runs
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed || s.ctx.Err() != nil {
		return errShuttingDown
	}
	if s.Draining() {
		return ErrDraining
	}
	ss.runMu.Lock()
	defer ss.runMu.Unlock()
	switch {
	case ss.closed:
		return errSessionGone
	case ss.runCancel != nil:
		return errRunning
	case t.active >= s.cfg.Limits.MaxRuns:
		return errTooManyRuns
	}
	ctx, cancel := context.WithTimeout(s.ctx, RunTimeout)
	ss.runCancel = cancel
	ss.runsBegun++
	ss.Journal.Wake()
	started := time.Now().UTC()
	ss.runInfo = RunInfo{Status: RunRunning, Started: &started}
	t.active++
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		var err error
		defer func() {
			cancel()
			ended := time.Now().UTC()
			ss.runMu.Lock()
			ss.runCancel = nil
			ss.runsEnded++
			ss.runInfo.Status, ss.runInfo.Ended = RunFinished, &ended
			if err != nil {
				ss.runInfo.Error = err.Error()
			}
			ss.runMu.Unlock()
			ss.Journal.Wake()
			t.mu.Lock()
			t.active--
			t.mu.Unlock()
		}()
		err = fn(ctx)
	}()
	return nil
}

// closeAndWait refuses new runs and waits for those in flight, whose
// contexts the server's cancel has ended.
func (t *runTracker) closeAndWait() {
	t.mu.Lock()
	t.closed = true
	t.mu.Unlock()
	t.wg.Wait()
}

// close tears the session down: its run, if one is in flight, is
// cancelled and no new one starts. DeleteSession calls it for the session
// it removes or replaces; so must anything else that removes a session.
func (ss *Session) close() {
	ss.runMu.Lock()
	defer ss.runMu.Unlock()
	ss.closed = true
	if ss.runCancel != nil {
		ss.runCancel()
	}
}

// RunState is a session's built-in consumer runs as the event stream
// reports them ("run" events): Run counts the runs begun, Running is true
// while the last one is in flight.
type RunState struct {
	Run     int  `json:"run"`
	Running bool `json:"running"`
}

// runState returns the session's RunState.
func (ss *Session) runState() RunState {
	ss.runMu.Lock()
	defer ss.runMu.Unlock()
	return RunState{Run: ss.runsBegun, Running: ss.runsBegun > ss.runsEnded}
}

// RunVerdict is the gist of the verdict on a session's last run, as the
// session list shows it.
type RunVerdict struct {
	Passed  bool   `json:"passed"`
	Outcome string `json:"outcome"`
}

// keepRunVerdict takes the verdict on the run that just ended (the
// Config.Verdict function, when set) and keeps its gist for the session
// list; the full verdict stays at GET …/verdict.
func (s *Server) keepRunVerdict(ss *Session) {
	if s.cfg.Verdict == nil {
		return
	}
	// Config.Verdict answers any JSON value; its passed and outcome fields
	// are what the admin API documents.
	b, err := json.Marshal(s.cfg.Verdict(ss))
	var v RunVerdict
	if err != nil || json.Unmarshal(b, &v) != nil {
		return
	}
	ss.runMu.Lock()
	ss.lastVerdict = &v
	ss.runMu.Unlock()
}

// lastRun returns the gist of the verdict on the session's last run, nil
// before one has ended.
func (ss *Session) lastRun() *RunVerdict {
	ss.runMu.Lock()
	defer ss.runMu.Unlock()
	return ss.lastVerdict
}
