package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/spine-sandbox/spine-sandbox/internal/journal"
	"github.com/spine-sandbox/spine-sandbox/internal/scenario"
)

// adminRoutes is the admin API's route table. gorilla/mux gives the path
// variables; its plain-text 404 and body-less 405 are replaced with JSON.
func (s *Server) adminRoutes() http.Handler {
	r := mux.NewRouter()
	r.HandleFunc("/_admin/health", s.health).Methods("GET")
	r.HandleFunc("/_admin/sessions", s.listSessions).Methods("GET")
	r.HandleFunc("/_admin/sessions", s.createSession).Methods("POST")
	r.HandleFunc("/_admin/sessions/{id}", s.getSession).Methods("GET")
	r.HandleFunc("/_admin/sessions/{id}", s.deleteSession).Methods("DELETE")
	r.HandleFunc("/_admin/sessions/{id}/journal", s.getJournal).Methods("GET")
	r.HandleFunc("/_admin/sessions/{id}/journal", s.clearJournal).Methods("DELETE")
	r.HandleFunc("/_admin/sessions/{id}/events", s.events).Methods("GET")
	r.HandleFunc("/_admin/sessions/{id}/verdict", s.verdict).Methods("GET")
	r.HandleFunc("/_admin/sessions/{id}/run", s.run).Methods("POST")
	r.HandleFunc("/_admin/scenarios", s.listScenarios).Methods("GET")
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSONError(w, http.StatusNotFound, "no admin resource at "+r.URL.Path)
	})
	r.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSONError(w, http.StatusMethodNotAllowed, r.Method+" is not allowed on "+r.URL.Path)
	})
	return r
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func writeJSONError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

func (s *Server) health(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "sessions": len(s.Sessions())})
}

// SessionInfo is the admin API's view of a session.
type SessionInfo struct {
	ID          string    `json:"id"`
	Scenario    string    `json:"scenario"`
	Description string    `json:"description,omitempty"`
	File        string    `json:"file,omitempty"`
	Created     time.Time `json:"created"`
	Lenient     bool      `json:"lenient"`
	Hops        int       `json:"hops"`
	URLs        URLs      `json:"urls"`
}

// Info describes the session.
func (ss *Session) Info() SessionInfo {
	return SessionInfo{
		ID:          ss.ID,
		Scenario:    ss.Scenario.Name,
		Description: ss.Scenario.Description,
		File:        ss.Scenario.File,
		Created:     ss.Created,
		Lenient:     ss.Lenient,
		Hops:        len(ss.Journal.Hops()),
		URLs:        ss.URLs(),
	}
}

func (s *Server) listSessions(w http.ResponseWriter, _ *http.Request) {
	out := []SessionInfo{}
	for _, ss := range s.Sessions() {
		out = append(out, ss.Info())
	}
	writeJSON(w, http.StatusOK, out)
}

// createSession takes a scenario as a YAML body, or the name of a file under
// the scenario folder (?scenario=NAME or a JSON body {"scenario": NAME}); no
// scenario at all means the built-in world.
func (s *Server) createSession(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, "reading body: "+err.Error())
		return
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
			return
		}
		name, body, trimmed = req.Scenario, nil, ""
	}
	var sc *scenario.Scenario
	switch {
	case name != "":
		sc, err = s.namedScenario(name)
	case trimmed != "":
		sc, err = scenario.Load("request body", body)
	default:
		sc = s.cfg.Default
	}
	if err != nil {
		if !writeLoadError(w, err) {
			writeJSONError(w, http.StatusBadRequest, err.Error())
		}
		return
	}
	if req.Lenient && !sc.Lenient {
		c := *sc
		c.Lenient = true
		sc = &c
	}
	if req.ID != "" && !validID(req.ID) {
		writeJSONError(w, http.StatusBadRequest, "session id must be 1–64 letters, digits, '-' or '_'")
		return
	}
	ss, err := s.CreateSession(req.ID, sc)
	if writeLoadError(w, err) {
		return
	}
	if err != nil {
		status := http.StatusConflict
		if errors.Is(err, ErrTooManySessions) {
			status = http.StatusTooManyRequests
		}
		writeJSONError(w, status, err.Error())
		return
	}
	w.Header().Set("Location", "/_admin/sessions/"+ss.ID)
	writeJSON(w, http.StatusCreated, ss.Info())
}

// writeLoadError answers a scenario's problems (file:line:column) with 422
// and reports whether err was such problems.
func writeLoadError(w http.ResponseWriter, err error) bool {
	var le *scenario.LoadError
	if !errors.As(err, &le) {
		return false
	}
	writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"error": "the scenario does not load", "problems": le.Problems})
	return true
}

func validID(id string) bool {
	if len(id) == 0 || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// namedScenario loads NAME (with or without .yaml) from the scenario
// folder, refusing anything that would leave it.
func (s *Server) namedScenario(name string) (*scenario.Scenario, error) {
	if s.cfg.ScenarioDir == "" {
		return nil, fmt.Errorf("this sandbox has no scenario folder; send the scenario YAML as the body")
	}
	clean := filepath.ToSlash(filepath.Clean(name))
	if filepath.IsAbs(name) || clean == ".." || strings.HasPrefix(clean, "../") || strings.Contains(name, "\\") {
		return nil, fmt.Errorf("scenario %q: a name under the scenario folder is expected", name)
	}
	if !strings.HasSuffix(clean, ".yaml") && !strings.HasSuffix(clean, ".yml") {
		clean += ".yaml"
	}
	return scenario.LoadFile(filepath.Join(s.cfg.ScenarioDir, filepath.FromSlash(clean)))
}

func (s *Server) sessionOr404(w http.ResponseWriter, r *http.Request) (*Session, bool) {
	id := mux.Vars(r)["id"]
	ss, ok := s.Session(id)
	if !ok {
		writeJSONError(w, http.StatusNotFound, fmt.Sprintf("no session %q", id))
	}
	return ss, ok
}

func (s *Server) getSession(w http.ResponseWriter, r *http.Request) {
	if ss, ok := s.sessionOr404(w, r); ok {
		writeJSON(w, http.StatusOK, ss.Info())
	}
}

func (s *Server) deleteSession(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["id"]
	if !s.DeleteSession(id) {
		writeJSONError(w, http.StatusNotFound, fmt.Sprintf("no session %q", id))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) getJournal(w http.ResponseWriter, r *http.Request) {
	if ss, ok := s.sessionOr404(w, r); ok {
		hops := ss.Journal.Hops()
		if hops == nil {
			hops = []journal.Hop{}
		}
		writeJSON(w, http.StatusOK, map[string]any{"session": ss.ID, "dropped": ss.Journal.Dropped(), "hops": hops})
	}
}

func (s *Server) clearJournal(w http.ResponseWriter, r *http.Request) {
	if ss, ok := s.sessionOr404(w, r); ok {
		ss.Journal.Clear()
		w.WriteHeader(http.StatusNoContent)
	}
}

// events streams the session's hops as server-sent events: first the hops
// already recorded, then each new one as it happens.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	ss, ok := s.sessionOr404(w, r)
	if !ok {
		return
	}
	fl, ok := w.(http.Flusher)
	if !ok {
		writeJSONError(w, http.StatusInternalServerError, "streaming unsupported")
		return
	}
	ch, cancel := ss.Journal.Subscribe(1024)
	defer cancel()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	var last int64
	send := func(h journal.Hop) {
		if h.Seq <= last {
			return
		}
		last = h.Seq
		data, _ := json.Marshal(h)
		fmt.Fprintf(w, "id: %d\nevent: hop\ndata: %s\n\n", h.Seq, data)
	}
	for _, h := range ss.Journal.Hops() {
		send(h)
	}
	fl.Flush()
	ping := time.NewTicker(15 * time.Second)
	defer ping.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-s.ctx.Done(): // Server.Close: shutting down
			return
		case h, ok := <-ch:
			if !ok {
				return
			}
			send(h)
			fl.Flush()
		case <-ping.C:
			fmt.Fprint(w, ": ping\n\n")
			fl.Flush()
		}
	}
}

// verdict answers the same verdict the runner computes, for a session an
// external consumer drove.
func (s *Server) verdict(w http.ResponseWriter, r *http.Request) {
	ss, ok := s.sessionOr404(w, r)
	if !ok {
		return
	}
	if s.cfg.Verdict == nil {
		writeJSONError(w, http.StatusNotImplemented, "this sandbox was started without a verdict function")
		return
	}
	writeJSON(w, http.StatusOK, s.cfg.Verdict(ss))
}

// ScenarioFile is one scenario under the scenario folder, as
// GET /_admin/scenarios lists it: Name is what POST /_admin/sessions takes.
type ScenarioFile struct {
	Name        string `json:"name"`
	Scenario    string `json:"scenario"`
	Description string `json:"description,omitempty"`
}

// listScenarios lists the scenario folder for the live diagram's picker;
// files that do not load are left out (the runner reports them).
func (s *Server) listScenarios(w http.ResponseWriter, _ *http.Request) {
	out := []ScenarioFile{}
	if s.cfg.ScenarioDir != "" {
		scs, err := scenario.LoadDir(s.cfg.ScenarioDir)
		var le *scenario.LoadError
		if err != nil && !errors.As(err, &le) {
			writeJSONError(w, http.StatusInternalServerError, "scenario folder: "+err.Error())
			return
		}
		for _, sc := range scs {
			name := sc.File
			if rel, err := filepath.Rel(s.cfg.ScenarioDir, sc.File); err == nil {
				name = rel
			}
			name = strings.TrimSuffix(strings.TrimSuffix(filepath.ToSlash(name), ".yaml"), ".yml")
			out = append(out, ScenarioFile{Name: name, Scenario: sc.Name, Description: sc.Description})
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// RunTimeout bounds one POST /_admin/sessions/{id}/run.
const RunTimeout = 2 * time.Minute

// run starts the built-in consumer on the session's scenario and answers
// at once; the hops show up in the journal and its event stream. The run
// is owned by the server (runs.go): at most Limits.MaxRuns at once (429),
// one per session (409), cancelled when the session is deleted or the
// server closes.
func (s *Server) run(w http.ResponseWriter, r *http.Request) {
	ss, ok := s.sessionOr404(w, r)
	if !ok {
		return
	}
	if s.cfg.Run == nil {
		writeJSONError(w, http.StatusNotImplemented, "this sandbox was started without a scenario runner")
		return
	}
	err := s.startRun(ss, func(ctx context.Context) {
		if err := s.cfg.Run(ctx, ss); err != nil {
			s.cfg.Logger.Warn("running the scenario", "session", ss.ID, "err", err)
		}
	})
	switch {
	case errors.Is(err, errTooManyRuns):
		writeJSONError(w, http.StatusTooManyRequests, err.Error())
		return
	case errors.Is(err, errRunning):
		writeJSONError(w, http.StatusConflict, err.Error())
		return
	case errors.Is(err, errSessionGone):
		writeJSONError(w, http.StatusNotFound, fmt.Sprintf("no session %q", ss.ID))
		return
	case err != nil:
		writeJSONError(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"session": ss.ID, "status": "running", "events": "/_admin/sessions/" + ss.ID + "/events"})
}
