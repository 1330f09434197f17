package sandbox

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/gorilla/mux"
)

// Scaling out (README "Scaling out"): identical replicas behind a load
// balancer that hashes on the session id in the path. A session must be
// addressable before it exists, so the client picks its id (PUT); and a
// replica that is going away says so on /_admin/health (Drain) so the load
// balancer stops sending it new sessions while its runs finish.

// ErrDraining is returned for a new session or run while the replica
// drains (SIGTERM): the load balancer should send it elsewhere.
var ErrDraining = errors.New("this replica is draining (shutting down): it takes no new sessions or runs; retry on another replica")

// Drain makes the replica report draining on GET /_admin/health (503) and
// refuse new sessions and runs (503). Sessions already open keep serving;
// runs in flight go on (WaitRuns). Drain cannot be undone: it precedes
// Close.
func (s *Server) Drain() { s.draining.Store(true) }

// Draining reports whether Drain was called.
func (s *Server) Draining() bool { return s.draining.Load() }

// runPoll is how often WaitRuns looks at the runs in flight: a run lasts
// seconds, so a poll costs nothing and needs no goroutine to own.
const runPoll = 20 * time.Millisecond

// WaitRuns waits until no built-in consumer run is in flight or ctx ends,
// and reports whether the runs all ended. Call it after Drain, which stops
// new runs from starting.
func (s *Server) WaitRuns(ctx context.Context) bool {
	t := time.NewTicker(runPoll)
	defer t.Stop()
	for {
		s.runs.mu.Lock()
		n := s.runs.active
		s.runs.mu.Unlock()
		if n == 0 {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
		}
	}
}

// putSession creates or replaces the session with the id in the path:
//
//	PUT /_admin/sessions/{id}
//
// with the bodies POST takes (a YAML scenario, {"scenario": NAME,
// "lenient": bool}, or nothing for the built-in world) and the same
// budgets. 201 when it creates, 200 when it replaces: the old session is
// removed first (its run cancelled, its journal gone), then the new one is
// built under the same caps as any create. A body that is refused (too
// big, not a scenario) leaves the old session as it was; a new world the
// caps refuse (429) leaves none. The default session is the
// replica's own, configured by serve --scenario: PUT may only reset it
// (an empty body), never give it another scenario (409).
func (s *Server) putSession(w http.ResponseWriter, r *http.Request) error {
	id := mux.Vars(r)["id"]
	if !validID(id) {
		return errorf(http.StatusBadRequest, "session id must be 1–64 letters, digits, '-' or '_'")
	}
	if s.Draining() {
		return refuse(http.StatusServiceUnavailable, ErrDraining)
	}
	_, exists := s.Session(id)
	if !exists && s.full() {
		return refuse(http.StatusTooManyRequests, ErrTooManySessions)
	}
	sc, bodyID, err := s.readScenarioRequest(w, r, id)
	if err != nil {
		return err
	}
	if bodyID != "" && bodyID != id {
		return errorf(http.StatusBadRequest, "the body's id %q is not the path's %q", bodyID, id)
	}
	if id == DefaultSession {
		if sc != nil {
			return errorf(http.StatusConflict, `session "default" runs the scenario serve --scenario gave it; PUT it with an empty body to reset it, or PUT another id`)
		}
		s.DeleteSession(DefaultSession) // resets it
		ss, _ := s.Session(DefaultSession)
		writeJSON(w, http.StatusOK, s.infoFor(r, ss))
		return nil
	}
	if sc == nil {
		sc = s.cfg.Default
	}
	replaced := s.DeleteSession(id)
	ss, err := s.CreateSession(id, sc) // a concurrent PUT of the same id may win: 409
	if err != nil {
		return createError(err)
	}
	status := http.StatusCreated
	if replaced {
		status = http.StatusOK
	}
	w.Header().Set("Location", "/_admin/sessions/"+ss.ID)
	writeJSON(w, status, s.infoFor(r, ss))
	return nil
}
