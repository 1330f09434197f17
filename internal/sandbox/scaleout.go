package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/spine-sandbox/spine-sandbox/internal/scenario"
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
func (s *Server) putSession(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["id"]
	if !validID(id) {
		writeJSONError(w, http.StatusBadRequest, "session id must be 1–64 letters, digits, '-' or '_'")
		return
	}
	if s.Draining() {
		writeJSONError(w, http.StatusServiceUnavailable, ErrDraining.Error())
		return
	}
	_, exists := s.Session(id)
	if !exists && s.full() {
		writeJSONError(w, http.StatusTooManyRequests, ErrTooManySessions.Error())
		return
	}
	sc, ok := s.readScenarioRequest(w, r, id)
	if !ok {
		return
	}
	if id == DefaultSession {
		if sc != nil {
			writeJSONError(w, http.StatusConflict, `session "default" runs the scenario serve --scenario gave it; PUT it with an empty body to reset it, or PUT another id`)
			return
		}
		s.DeleteSession(DefaultSession) // resets it
		ss, _ := s.Session(DefaultSession)
		writeJSON(w, http.StatusOK, ss.Info())
		return
	}
	if sc == nil {
		sc = s.cfg.Default
	}
	replaced := s.DeleteSession(id)
	ss, err := s.CreateSession(id, sc)
	if writeLoadError(w, err) {
		return
	}
	if err != nil {
		status := http.StatusConflict // a concurrent PUT of the same id won
		if errors.Is(err, ErrTooManySessions) || errors.Is(err, ErrTooManySlots) {
			status = http.StatusTooManyRequests
		}
		writeJSONError(w, status, err.Error())
		return
	}
	status := http.StatusCreated
	if replaced {
		status = http.StatusOK
	}
	w.Header().Set("Location", "/_admin/sessions/"+ss.ID)
	writeJSON(w, status, ss.Info())
}

// readScenarioRequest reads a create's body as createSession does (the
// size budget before the parse, 413 above it) and returns the scenario it
// names, nil for none (the built-in world). On a problem it has answered
// and returns false. id is the session's id from the path: a JSON body's
// "id", if given, must agree.
func (s *Server) readScenarioRequest(w http.ResponseWriter, r *http.Request, id string) (*scenario.Scenario, bool) {
	limit := s.cfg.Limits.MaxScenarioBytes
	tooBig := fmt.Sprintf("the scenario is over the limit of %d bytes (serve --max-scenario-bytes)", limit)
	if r.ContentLength > limit {
		writeJSONError(w, http.StatusRequestEntityTooLarge, tooBig)
		return nil, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeJSONError(w, http.StatusRequestEntityTooLarge, tooBig)
			return nil, false
		}
		writeJSONError(w, http.StatusBadRequest, "reading body: "+err.Error())
		return nil, false
	}
	name := r.URL.Query().Get("scenario")
	var req struct {
		Scenario string `json:"scenario"`
		ID       string `json:"id"`
		Lenient  bool   `json:"lenient"`
	}
	trimmed := strings.TrimSpace(string(body))
	if strings.HasPrefix(trimmed, "{") {
		if err := json.Unmarshal(body, &req); err != nil {
			writeJSONError(w, http.StatusBadRequest, "JSON body: "+err.Error())
			return nil, false
		}
		if req.ID != "" && req.ID != id {
			writeJSONError(w, http.StatusBadRequest, fmt.Sprintf("the body's id %q is not the path's %q", req.ID, id))
			return nil, false
		}
		name, trimmed = req.Scenario, ""
	}
	var sc *scenario.Scenario
	switch {
	case name != "":
		sc, err = s.namedScenario(name)
	case trimmed != "":
		sc, err = scenario.LoadWith("request body", body, s.ScenarioLimits())
	case req.Lenient:
		sc = s.cfg.Default
	default:
		return nil, true
	}
	if err != nil {
		if !writeLoadError(w, err) {
			writeJSONError(w, http.StatusBadRequest, err.Error())
		}
		return nil, false
	}
	if req.Lenient && !sc.Lenient {
		c := *sc
		c.Lenient = true
		sc = &c
	}
	return sc, true
}
