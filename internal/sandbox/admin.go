package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/spine-sandbox/spine-sandbox/internal/conformance"
	"github.com/spine-sandbox/spine-sandbox/internal/journal"
	"github.com/spine-sandbox/spine-sandbox/internal/scenario"
	"github.com/spine-sandbox/spine-sandbox/internal/suggest"
)

// adminRoutes is the admin API's route table. gorilla/mux gives the path
// variables; its plain-text 404 and body-less 405 are replaced with JSON.
func (s *Server) adminRoutes() http.Handler {
	r := mux.NewRouter()
	route := func(path, method string, h handlerFunc) { r.Handle(path, s.handle(h)).Methods(method) }
	route("/_admin/health", "GET", s.health)
	route("/_admin/sessions", "GET", s.listSessions)
	route("/_admin/sessions", "POST", s.createSession)
	route("/_admin/sessions/{id}", "GET", s.getSession)
	route("/_admin/sessions/{id}", "DELETE", s.deleteSession)
	route("/_admin/sessions/{id}", "PUT", s.putSession) // scaleout.go
	route("/_admin/sessions/{id}/journal", "GET", s.getJournal)
	route("/_admin/sessions/{id}/journal", "DELETE", s.clearJournal)
	route("/_admin/sessions/{id}/events", "GET", s.events)
	route("/_admin/sessions/{id}/verdict", "GET", s.verdict)
	route("/_admin/sessions/{id}/run", "POST", s.run)
	route("/_admin/sessions/{id}/faults", "GET", s.getFaults)       // faultsapi.go
	route("/_admin/sessions/{id}/faults", "POST", s.addFaults)      // faultsapi.go
	route("/_admin/sessions/{id}/faults", "DELETE", s.deleteFaults) // faultsapi.go
	route("/_admin/scenarios", "GET", s.listScenarios)
	route("/_admin/metrics", "GET", s.metricsHandler()) // metrics.go
	r.NotFoundHandler = s.handle(func(_ http.ResponseWriter, r *http.Request) error {
		return errorf(http.StatusNotFound, "no admin resource at %s", r.URL.Path)
	})
	r.MethodNotAllowedHandler = s.handle(func(_ http.ResponseWriter, r *http.Request) error {
		return errorf(http.StatusMethodNotAllowed, "%s is not allowed on %s", r.Method, r.URL.Path)
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

func (s *Server) health(w http.ResponseWriter, _ *http.Request) error {
	if s.Draining() { // scaleout.go: a load balancer stops sending new sessions here
		writeJSON(w, http.StatusServiceUnavailable, Health{Status: "draining", Sessions: len(s.Sessions())})
		return nil
	}
	writeJSON(w, http.StatusOK, Health{Status: "ok", Sessions: len(s.Sessions())})
	return nil
}

// SessionInfo is the admin API's view of a session.
type SessionInfo struct {
	ID          string    `json:"id"`
	Scenario    string    `json:"scenario"`
	Description string    `json:"description,omitempty"`
	File        string    `json:"file,omitempty"`
	Created     time.Time `json:"created"`
	// LastUsed is the last request to the session's services or admin
	// resources; Expires is when it goes (the default session is reset)
	// unless used before: LastUsed plus the server's session TTL.
	LastUsed time.Time `json:"last_used"`
	Expires  time.Time `json:"expires"`
	Lenient  bool      `json:"lenient"`
	Hops     int       `json:"hops"`
	Dropped  int64     `json:"dropped"` // hops the journal dropped to respect its limits
	URLs     URLs      `json:"urls"`

	// LastRun is the verdict on the session's last built-in consumer run
	// (POST …/run), once it has ended; the live diagram's session picker
	// shows it.
	LastRun *RunVerdict `json:"last_run,omitempty"`
	// Run is the built-in consumer's latest run (POST …/run).
	Run RunInfo `json:"run"`
}

// Info describes the session.
func (ss *Session) Info() SessionInfo {
	return SessionInfo{
		ID:          ss.ID,
		Scenario:    ss.Scenario.Name,
		Description: ss.Scenario.Description,
		File:        ss.Scenario.File,
		Created:     ss.Created,
		LastUsed:    ss.LastUsed(),
		Expires:     ss.Expires(),
		Lenient:     ss.Lenient,
		Hops:        ss.Journal.Len(), // not Hops(): that would decode every body
		Dropped:     ss.Journal.Dropped(),
		URLs:        ss.URLs(),
		LastRun:     ss.lastRun(),
		Run:         ss.Run(),
	}
}

func (s *Server) listSessions(w http.ResponseWriter, r *http.Request) error {
	out := []SessionInfo{}
	for _, ss := range s.Sessions() {
		out = append(out, s.infoFor(r, ss))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// createSession takes a scenario as a YAML body, or the name of a file under
// the scenario folder (?scenario=NAME or a JSON body {"scenario": NAME}); no
// scenario at all means the built-in world. Budgets are checked before the
// work they guard: the session cap before the body is read, the body's
// size before it is parsed (413, never a truncated parse, never an echo),
// the slots at load, before any world is built.
func (s *Server) createSession(w http.ResponseWriter, r *http.Request) error {
	if s.Draining() {
		return refuse(http.StatusServiceUnavailable, ErrDraining)
	}
	if s.full() {
		return refuse(http.StatusTooManyRequests, ErrTooManySessions)
	}
	sc, bodyID, err := s.readScenarioRequest(w, r, "")
	if err != nil {
		return err
	}
	if sc == nil {
		sc = s.cfg.Default
	}
	if bodyID != "" && !validID(bodyID) {
		return errorf(http.StatusBadRequest, "session id must be 1–64 letters, digits, '-' or '_'")
	}
	ss, err := s.CreateSession(bodyID, sc)
	if err != nil {
		return createError(err)
	}
	w.Header().Set("Location", "/_admin/sessions/"+ss.ID)
	writeJSON(w, http.StatusCreated, s.infoFor(r, ss))
	return nil
}

// readScenarioRequest reads a create's body (POST and PUT alike): the size
// budget before the parse (413 above it, never a truncated parse, never an
// echo), then a YAML scenario, or JSON {"scenario": NAME, "id": ID,
// "lenient": bool}, or ?scenario=NAME. It returns the scenario (nil for
// none: the built-in world) and the JSON body's id, or the refusal. A
// scenario is loaded in one pass (loadOptions) for the session it will be
// — id, the path's (PUT), else the JSON body's, else one still to be
// chosen —: every problem of every kind in one 422.
func (s *Server) readScenarioRequest(w http.ResponseWriter, r *http.Request, id string) (*scenario.Scenario, string, error) {
	limit := s.cfg.Limits.MaxScenarioBytes
	tooBig := errorf(http.StatusRequestEntityTooLarge, "the scenario is over the limit of %d bytes (serve --max-scenario-bytes)", limit)
	if r.ContentLength > limit {
		return nil, "", tooBig
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, "", tooBig
		}
		return nil, "", errorf(http.StatusBadRequest, "reading body: %v", err)
	}
	name := r.URL.Query().Get("scenario")
	var req SessionRequest
	trimmed := strings.TrimSpace(string(body))
	if strings.HasPrefix(trimmed, "{") {
		if err := json.Unmarshal(body, &req); err != nil {
			return nil, "", errorf(http.StatusBadRequest, "JSON body: %v", err)
		}
		name, trimmed = req.Scenario, ""
	}
	if id == "" {
		id = req.ID
	}
	var sc *scenario.Scenario
	switch {
	case name != "":
		sc, err = s.namedScenario(name, id)
	case trimmed != "":
		sc, err = s.parsed.load("request body", body, s.loadOptions(id))
	case req.Lenient:
		sc = s.cfg.Default
	default:
		return nil, req.ID, nil
	}
	if err != nil {
		var unknown *unknownScenarioError
		var le *scenario.LoadError
		switch {
		case errors.As(err, &le):
			return nil, "", err
		case errors.As(err, &unknown):
			return nil, "", refuse(http.StatusNotFound, err)
		default:
			return nil, "", refuse(http.StatusBadRequest, err)
		}
	}
	if req.Lenient && !sc.Lenient {
		c := *sc
		c.Lenient = true
		sc = &c
	}
	return sc, req.ID, nil
}

// createError is the refusal of a CreateSession error: the scenario's
// problems (422), a cap (429), the id taken (409).
func createError(err error) error {
	var le *scenario.LoadError
	switch {
	case errors.As(err, &le):
		return err
	case errors.Is(err, ErrTooManySessions) || errors.Is(err, ErrTooManySlots):
		return refuse(http.StatusTooManyRequests, err)
	default:
		return refuse(http.StatusConflict, err)
	}
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
func (s *Server) namedScenario(name, id string) (*scenario.Scenario, error) {
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
	path := filepath.Join(s.cfg.ScenarioDir, filepath.FromSlash(clean))
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, &unknownScenarioError{name: name, hint: suggest.Hint(strings.TrimSuffix(strings.TrimSuffix(name, ".yaml"), ".yml"), s.scenarioNames())}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return s.parsed.load(path, data, s.loadOptions(id))
}

// unknownScenarioError is a scenario name with no file under the scenario
// folder: 404, with the nearest name when there is one.
type unknownScenarioError struct{ name, hint string }

func (e *unknownScenarioError) Error() string {
	return fmt.Sprintf("no scenario %q in the scenario folder%s; GET /_admin/scenarios lists them", e.name, e.hint)
}

// scenarioNames are the names POST /_admin/sessions takes: the folder's
// .yaml and .yml files, without the extension, with slashes.
func (s *Server) scenarioNames() []string {
	var out []string
	_ = filepath.WalkDir(s.cfg.ScenarioDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		ext := filepath.Ext(p)
		if ext != ".yaml" && ext != ".yml" {
			return nil
		}
		if rel, err := filepath.Rel(s.cfg.ScenarioDir, p); err == nil {
			out = append(out, strings.TrimSuffix(filepath.ToSlash(rel), ext))
		}
		return nil
	})
	return out
}

// ScenarioLimits are the server's limits as the scenario loader takes
// them: what a scenario loaded for this sandbox must fit in.
func (s *Server) ScenarioLimits() scenario.Limits {
	return s.cfg.Limits.Scenario()
}

// loadOptions are what a scenario sent to the admin API for session id is
// loaded with: the server's limits and clock, the conformance check names
// and its practice endpoints against the upstream policy (endpointProblems),
// so one load reports every problem the session could be refused for. An
// id still to be chosen ("") has a provider path no endpoint can name.
func (s *Server) loadOptions(id string) scenario.Options {
	prefix := "/s/" + id
	switch id {
	case DefaultSession:
		prefix = ""
	case "":
		prefix = "/s/{id}"
	}
	endpoints := func(sc *scenario.Scenario) []scenario.Problem {
		return s.endpointProblems(sc, prefix+ProviderPath+"/")
	}
	return scenario.Options{Limits: s.ScenarioLimits(), Now: s.cfg.Clock, CheckNames: conformance.ScenarioChecks(),
		More: []func(*scenario.Scenario) []scenario.Problem{endpoints}}
}

// noSession is the refusal for an id no session has.
func noSession(id string) error {
	return errorf(http.StatusNotFound, "no session %q", id)
}

// sessionFor returns the session the path names, marked used, or the 404.
func (s *Server) sessionFor(r *http.Request) (*Session, error) {
	id := mux.Vars(r)["id"]
	ss, ok := s.Session(id)
	if !ok {
		return nil, noSession(id)
	}
	s.touch(ss)
	return ss, nil
}

func (s *Server) getSession(w http.ResponseWriter, r *http.Request) error {
	ss, err := s.sessionFor(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.infoFor(r, ss))
	return nil
}

func (s *Server) deleteSession(w http.ResponseWriter, r *http.Request) error {
	id := mux.Vars(r)["id"]
	if !s.DeleteSession(id) {
		return noSession(id)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// getJournal answers one page of the session's journal, oldest first:
//
//	GET /_admin/sessions/{id}/journal?since=SEQ&limit=N&hop=NAME&interaction=ID&status=S
//
// since (default 0) keeps the hops with seq > SEQ; limit is the page size,
// 1 to 1000 (default 100). The filters, each optional and exact: hop is the
// hop's name ("pds.retrieve", "ssp.search free slots", "provider.book
// appointment"), interaction its interaction (a GP Connect interaction ID,
// or the name for PDS and SDS), status its status ("409", "0" for a
// dropped connection) or a class ("4xx"). A bad value answers 400.
//
// The answer is {"session", "dropped", "next", "hops"}: dropped counts the
// hops the journal dropped to respect its limits, next is the seq to pass
// as since for the next page (null when no more hops match now). A body
// that is a JSON object or array is a JSON value, any other a string
// (journal.View), as in the event stream.
//
// The page is streamed hop by hop, each body decoded only as it is written,
// so a read costs about one page of memory whatever the journal holds.
func (s *Server) getJournal(w http.ResponseWriter, r *http.Request) error {
	ss, err := s.sessionFor(r)
	if err != nil {
		return err
	}
	q, err := parseJournalQuery(r.URL.Query())
	if err != nil {
		return refuse(http.StatusBadRequest, err)
	}
	dropped := ss.Journal.Dropped()
	page, more := ss.Journal.Page(q.since, q.limit, q.match)
	next := "null"
	if more {
		next = strconv.FormatInt(page[len(page)-1].Seq(), 10)
	}
	id, _ := json.Marshal(ss.ID)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	fmt.Fprintf(w, "{\n  \"session\": %s,\n  \"dropped\": %d,\n  \"next\": %s,\n  \"hops\": [", id, dropped, next)
	// One hop's JSON at a time, in a buffer reused for each.
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("    ", "  ")
	for i, e := range page {
		buf.Reset()
		if err := enc.Encode(e.View()); err != nil {
			// The page has begun: the stream ends short, and the log says why.
			s.cfg.Logger.Warn("encoding a journal hop", "session", ss.ID, "seq", e.Seq(), "err", err)
			return nil
		}
		sep := ",\n    "
		if i == 0 {
			sep = "\n    "
		}
		if _, err := io.WriteString(w, sep); err != nil {
			return nil // the reader went away
		}
		if _, err := w.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n"))); err != nil {
			return nil
		}
	}
	end := "]\n}\n"
	if len(page) > 0 {
		end = "\n  ]\n}\n"
	}
	_, _ = io.WriteString(w, end)
	return nil
}

// MaxJournalPage is the largest page GET …/journal answers (limit=).
const MaxJournalPage = 1000

// journalQuery is a parsed GET …/journal query.
type journalQuery struct {
	since int64
	limit int
	match func(*journal.Hop) bool // nil: every hop
}

func parseJournalQuery(v url.Values) (journalQuery, error) {
	q := journalQuery{limit: 100}
	if s := v.Get("since"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			return q, fmt.Errorf("since=%q: want a hop's seq, a whole number >= 0", s)
		}
		q.since = n
	}
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxJournalPage {
			return q, fmt.Errorf("limit=%q: want a whole number from 1 to %d", s, MaxJournalPage)
		}
		q.limit = n
	}
	var tests []func(*journal.Hop) bool
	if name := v.Get("hop"); name != "" {
		tests = append(tests, func(h *journal.Hop) bool { return h.Name == name })
	}
	if in := v.Get("interaction"); in != "" {
		tests = append(tests, func(h *journal.Hop) bool { return h.Interaction == in })
	}
	if s := v.Get("status"); s != "" {
		st, err := parseStatus(s)
		if err != nil {
			return q, err
		}
		tests = append(tests, st)
	}
	if len(tests) > 0 {
		q.match = func(h *journal.Hop) bool {
			for _, t := range tests {
				if !t(h) {
					return false
				}
			}
			return true
		}
	}
	return q, nil
}

// parseStatus reads status=: "409" (exact; "0" is a dropped connection) or
// a class "1xx" to "5xx".
func parseStatus(s string) (func(*journal.Hop) bool, error) {
	if len(s) == 3 && s[0] >= '1' && s[0] <= '5' && strings.EqualFold(s[1:], "xx") {
		lo := int(s[0]-'0') * 100
		return func(h *journal.Hop) bool { return h.Status >= lo && h.Status < lo+100 }, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > 999 {
		return nil, fmt.Errorf("status=%q: want a status such as 409, 0 for a dropped connection, or a class such as 4xx", s)
	}
	return func(h *journal.Hop) bool { return h.Status == n }, nil
}

func (s *Server) clearJournal(w http.ResponseWriter, r *http.Request) error {
	ss, err := s.sessionFor(r)
	if err != nil {
		return err
	}
	ss.Journal.Clear()
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// eventBatch is how many hops an event stream takes from the journal at a
// time.
const eventBatch = 64

// events streams the session's hops as server-sent events (event "hop",
// data one journal.View): first the hops already recorded, then each new
// one as it happens; with them the hops in flight (event "start") and the
// session's runs (event "run"), below.
//
// Nothing is queued per reader: on a notification from the journal the
// stream reads the hops after the last one it sent, by seq. Hops the
// journal dropped before a slow reader got to them are skipped (the
// journal's dropped count says how many went). Each write has
// Limits.EventWriteTimeout; a reader that does not take it in time is
// dropped (the handler returns and the connection closes). The stream also
// ends when the server closes (Server.Close), so shutdown is not held up.
func (s *Server) events(w http.ResponseWriter, r *http.Request) error {
	ss, err := s.sessionFor(r)
	if err != nil {
		return err
	}
	s.streamEvents(w, r, ss)
	return nil
}

// streamEvents is the event stream of events; it ends when the reader goes
// away or is too slow, or the server closes.
func (s *Server) streamEvents(w http.ResponseWriter, r *http.Request, ss *Session) {
	// The controller reaches the connection through wrappers (Unwrap); a
	// writer that cannot flush ends the stream at the first send.
	rc := http.NewResponseController(w)
	timeout := s.cfg.Limits.EventWriteTimeout
	// deadline bounds the writes that follow; a writer that cannot have
	// one (none in this server) is used without.
	deadline := func() { _ = rc.SetWriteDeadline(time.Now().Add(timeout)) }
	wake, cancel := ss.Journal.Subscribe()
	defer cancel()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	deadline()
	w.WriteHeader(http.StatusOK)
	enc := json.NewEncoder(w) // compact: one line per hop, as SSE data needs
	var last int64
	// Besides hops: event "start" (a journal.Start) for each request begun
	// and not yet recorded, sent after the hops so that a start never
	// follows the hop that ends it; event "run" (a RunState) when the
	// session's built-in consumer run begins or ends, after the hops it
	// made. Neither is queued: the journal keeps the starts in flight, the
	// session its run counts.
	var lastStart int64
	var sentRun RunState
	event := func(name string, v any) bool {
		deadline()
		if _, err := fmt.Fprintf(w, "event: %s\ndata: ", name); err != nil {
			return false
		}
		if err := enc.Encode(v); err != nil {
			return false
		}
		_, err := io.WriteString(w, "\n")
		return err == nil
	}
	sendStarts := func() bool {
		for _, st := range ss.Journal.InFlight(lastStart) {
			if !event("start", st) {
				return false
			}
			lastStart = st.ID
		}
		if rs := ss.runState(); rs != sentRun {
			if !event("run", rs) {
				return false
			}
			sentRun = rs
		}
		return true
	}
	// send writes every hop after last; false when the reader is gone or
	// too slow.
	send := func() bool {
		for {
			page, more := ss.Journal.Page(last, eventBatch, nil)
			for _, e := range page {
				deadline()
				if _, err := fmt.Fprintf(w, "id: %d\nevent: hop\ndata: ", e.Seq()); err != nil {
					return false
				}
				if err := enc.Encode(e.View()); err != nil {
					return false
				}
				if _, err := io.WriteString(w, "\n"); err != nil {
					return false
				}
				last = e.Seq()
			}
			if !more && !sendStarts() {
				return false
			}
			deadline()
			if err := rc.Flush(); err != nil {
				return false
			}
			if !more {
				return true
			}
		}
	}
	if !send() {
		return
	}
	ping := time.NewTicker(15 * time.Second)
	defer ping.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-s.ctx.Done():
			return
		case _, ok := <-wake:
			if !ok || !send() {
				return
			}
		case <-ping.C:
			deadline()
			if _, err := io.WriteString(w, ": ping\n\n"); err != nil {
				return
			}
			if err := rc.Flush(); err != nil {
				return
			}
		}
	}
}

// verdict answers the same verdict the runner computes, for a session an
// external consumer drove.
func (s *Server) verdict(w http.ResponseWriter, r *http.Request) error {
	ss, err := s.sessionFor(r)
	if err != nil {
		return err
	}
	if s.cfg.Verdict == nil {
		return errorf(http.StatusNotImplemented, "this sandbox was started without a verdict function")
	}
	writeJSON(w, http.StatusOK, s.cfg.Verdict(ss))
	return nil
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
func (s *Server) listScenarios(w http.ResponseWriter, _ *http.Request) error {
	out := []ScenarioFile{}
	if s.cfg.ScenarioDir != "" {
		scs, err := scenario.LoadDir(s.cfg.ScenarioDir)
		var le *scenario.LoadError
		if err != nil && !errors.As(err, &le) {
			return errorf(http.StatusInternalServerError, "scenario folder: %v", err)
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
	return nil
}

// RunTimeout bounds one POST /_admin/sessions/{id}/run.
const RunTimeout = 2 * time.Minute

// run starts the built-in consumer on the session's scenario and answers
// at once; the hops show up in the journal and its event stream. The run
// is owned by the server (runs.go): at most Limits.MaxRuns at once (429),
// one per session (409), cancelled when the session is deleted or the
// server closes.
func (s *Server) run(w http.ResponseWriter, r *http.Request) error {
	ss, err := s.sessionFor(r)
	if err != nil {
		return err
	}
	if s.cfg.Run == nil {
		return errorf(http.StatusNotImplemented, "this sandbox was started without a scenario runner")
	}
	if rn := ss.Scenario.Run; rn == nil || rn.Consumer == "external" {
		what := "has no run: section"
		if rn != nil {
			what = "is for an external consumer (run: {consumer: external})"
		}
		return errorf(http.StatusConflict, "scenario %q %s, so the built-in consumer has nothing to do; drive the session with your own consumer and read GET /_admin/sessions/%s/verdict, or create the session from a scenario whose run: the built-in consumer does", ss.Scenario.Name, what, ss.ID)
	}
	err = s.startRun(ss, func(ctx context.Context) error {
		err := s.cfg.Run(ctx, ss)
		if err != nil {
			s.cfg.Logger.Warn("running the scenario", "session", ss.ID, "err", err)
		}
		s.keepRunVerdict(ss)
		return err
	})
	switch {
	case errors.Is(err, errTooManyRuns):
		return refuse(http.StatusTooManyRequests, err)
	case errors.Is(err, errRunning):
		return refuse(http.StatusConflict, err)
	case errors.Is(err, errSessionGone):
		return noSession(ss.ID)
	case err != nil:
		return refuse(http.StatusServiceUnavailable, err)
	}
	writeJSON(w, http.StatusAccepted, RunStarted{Session: ss.ID, Status: RunRunning, Events: "/_admin/sessions/" + ss.ID + "/events"})
	return nil
}
