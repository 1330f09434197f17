package sandbox_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/sandbox"
)

// problemOf decodes r as the admin API's one error shape, failing the test
// when it is not: application/problem+json with type, title, status (the
// response's) and a detail.
func problemOf(t testing.TB, r response) sandbox.Problem {
	t.Helper()
	assert.Equal(t, r.header.Get("Content-Type"), sandbox.ProblemContentType, "Content-Type of "+r.String())
	var p sandbox.Problem
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatalf("not a problem: %v: %s", err, r)
	}
	assert.Equal(t, p.Status, r.status, "problem status")
	assert.Equal(t, p.Type, "about:blank", "problem type")
	assert.Equal(t, p.Title, http.StatusText(r.status), "problem title")
	if p.Detail == "" {
		t.Errorf("problem without detail: %s", r)
	}
	return p
}

// TestProblems: every refusal of the admin API is one shape, the scenario's
// mistakes snake_case with file, line and column, an unknown scenario name
// a 404 with the nearest name.
func TestProblems(t *testing.T) {
	t.Parallel()
	e := start(t, sandbox.Config{ScenarioDir: "../../scenarios"})
	tests := []struct {
		name, method, path, body string
		status                   int
		want                     string
	}{
		{"unknown route", "GET", "/_admin/nothing", "", 404, "no admin resource"},
		{"wrong method", "PATCH", "/_admin/sessions", "", 405, "not allowed"},
		{"unknown session", "GET", "/_admin/sessions/ghost", "", 404, `no session \"ghost\"`},
		{"misspelt scenario name", "POST", "/_admin/sessions", `{"scenario":"happy-pth"}`, 404, `did you mean \"happy-path\"?`},
		{"scenario name far from any", "POST", "/_admin/sessions?scenario=zzzzzzzzzz", "", 404, `no scenario \"zzzzzzzzzz\"`},
		{"scenario that does not load", "POST", "/_admin/sessions", "name: x\nextends: builtin\nbogus: 1\n", 422, `"file": "request body"`},
		{"bad JSON", "POST", "/_admin/sessions", `{"scenario":`, 400, "JSON body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(t, plain(t, tt.method, e.URL+tt.path, tt.body))
			assert.Equal(t, r.status, tt.status, "status: "+r.String())
			p := problemOf(t, r)
			assert.Contains(t, string(r.body), tt.want, "body")
			if tt.status == 422 {
				if len(p.Problems) == 0 || p.Problems[0].Line < 1 || p.Problems[0].Column < 1 || p.Problems[0].Message == "" {
					t.Errorf("want problems with line, column and message: %s", r)
				}
				for _, k := range []string{`"line"`, `"column"`, `"message"`} {
					assert.Contains(t, string(r.body), k, "snake_case key")
				}
			}
		})
	}
}
