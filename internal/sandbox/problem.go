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

// writeProblem is the one writer of admin errors: every handler, the guard
// and the routing answer a refusal through it.
func writeProblem(w http.ResponseWriter, status int, detail string, problems []ScenarioProblem) {
	w.Header().Set("Content-Type", ProblemContentType)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(Problem{Type: "about:blank", Title: http.StatusText(status), Status: status, Detail: detail, Problems: problems})
}

// writeJSONError is writeProblem without scenario problems; the name stays
// for the many handlers that call it.
func writeJSONError(w http.ResponseWriter, status int, msg string) {
	writeProblem(w, status, msg, nil)
}

// writeLoadError answers a scenario's problems (file:line:column) with 422
// and reports whether err was such problems.
func writeLoadError(w http.ResponseWriter, err error) bool {
	var le *scenario.LoadError
	if !errors.As(err, &le) {
		return false
	}
	writeProblem(w, http.StatusUnprocessableEntity, fmt.Sprintf("the scenario does not load: %d problem(s), each at its file, line and column in problems", len(le.Problems)), scenarioProblems(le.Problems))
	return true
}

func scenarioProblems(ps []scenario.Problem) []ScenarioProblem {
	out := make([]ScenarioProblem, len(ps))
	for i, p := range ps {
		out[i] = ScenarioProblem{File: p.File, Line: p.Line, Column: p.Column, Message: p.Message}
	}
	return out
}
