package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/spine-sandbox/spine-sandbox/internal/scenario"
)

// Problem is the one error shape of the admin API (and of the sandbox's own
// routing errors): an RFC 9457 problem detail, sent as
// application/problem+json. Type is "about:blank" (the status says what
// kind of problem it is), Title the status's text, Detail what went wrong
// and what to do about it. Problems lists a scenario's mistakes, each at
// its file, line and column, when the problem is a scenario that does not
// load (422).
type Problem struct {
	Type     string            `json:"type"`
	Title    string            `json:"title"`
	Status   int               `json:"status"`
	Detail   string            `json:"detail"`
	Problems []ScenarioProblem `json:"problems,omitempty"`
}

// ScenarioProblem is one mistake in a scenario, where an editor jumps to.
type ScenarioProblem struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	Column  int    `json:"column"`
	Message string `json:"message"`
}

// ProblemContentType is the media type of a Problem.
const ProblemContentType = "application/problem+json"

// handlerFunc is the shape of every admin handler, as of the mocks': it
// answers a success itself and returns an error for a refusal, which
// Server.handle alone writes (writeError). A handler returns an error only
// before it has written anything; once a stream has begun (the journal,
// the event stream), a failure ends it quietly.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// apiError is an admin refusal: its status and a detail that says what went
// wrong and what to do about it. header, when set, is added to the answer
// (WWW-Authenticate on a 401).
type apiError struct {
	status int
	detail string
	header http.Header
	err    error // the cause, for errors.Is; nil for none
}

func (e *apiError) Error() string { return e.detail }
func (e *apiError) Unwrap() error { return e.err }

// errorf is a refusal with status.
func errorf(status int, format string, args ...any) error {
	return &apiError{status: status, detail: fmt.Sprintf(format, args...)}
}

// refuse is a refusal with status whose detail is err's text; err stays
// reachable through errors.Is.
func refuse(status int, err error) error {
	return &apiError{status: status, detail: err.Error(), err: err}
}

// handle adapts h to http.Handler: an error it returns is written by
// writeError.
func (s *Server) handle(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.writeError(w, r, err)
		}
	})
}

// writeError is the one place an admin error becomes an answer: a
// scenario's problems are 422 with each at its file, line and column; a
// refusal (errorf) its status; anything else a bug, logged in full through
// the server's logger and answered with a generic 500.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var le *scenario.LoadError
	var ae *apiError
	switch {
	case errors.As(err, &le):
		writeProblem(w, http.StatusUnprocessableEntity, fmt.Sprintf("the scenario does not load: %d problem(s), each at its file, line and column in problems", len(le.Problems)), scenarioProblems(le.Problems))
	case errors.As(err, &ae):
		for k, vs := range ae.header {
			w.Header()[k] = vs
		}
		writeProblem(w, ae.status, ae.detail, nil)
	default:
		s.cfg.Logger.Error("admin API", "method", r.Method, "path", r.URL.Path, "err", err)
		writeProblem(w, http.StatusInternalServerError, "internal error: the sandbox's log has the details", nil)
	}
}

// writeProblem writes a problem: writeError's, and the sandbox's routing
// errors' outside the admin API (writeJSONError).
func writeProblem(w http.ResponseWriter, status int, detail string, problems []ScenarioProblem) {
	w.Header().Set("Content-Type", ProblemContentType)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(Problem{Type: "about:blank", Title: http.StatusText(status), Status: status, Detail: detail, Problems: problems})
}

// writeJSONError is writeProblem without scenario problems, for the
// sandbox's routing outside the admin API.
func writeJSONError(w http.ResponseWriter, status int, msg string) {
	writeProblem(w, status, msg, nil)
}

func scenarioProblems(ps []scenario.Problem) []ScenarioProblem {
	out := make([]ScenarioProblem, len(ps))
	for i, p := range ps {
		out[i] = ScenarioProblem{File: p.File, Line: p.Line, Column: p.Column, Message: p.Message}
	}
	return out
}
