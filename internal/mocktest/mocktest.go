// Package mocktest is what the mocks' tests share: NHS's recorded answers,
// replayed against a mock (NHSAnswers), the verdicts a mock reports
// (Verdicts, Reported), and the check that a mock reports its own failures to the
// logger it is given (LoggerPassedIn). Only tests import it.
package mocktest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/spinerules"
)

// NHSAnswers are requests sent to one of NHS's own services (its PDS
// sandbox, its SDS service in mock-LDAP mode) and its answers, as kept in
// a mock's testdata/nhs/answers.json (docs/fidelity.md says how they were
// recorded).
type NHSAnswers struct {
	About string    `json:"about"`
	Cases []NHSCase `json:"cases"`
}

// NHSCase is one recorded request and NHS's answer to it.
type NHSCase struct {
	Name    string            `json:"name"`
	Path    string            `json:"path"` // under the service's base URL
	Headers map[string]string `json:"headers"`
	NHS     NHSAnswer         `json:"nhs"`
}

// NHSAnswer is NHS's answer: its status, the headers compared (names in
// lower case) and its body.
type NHSAnswer struct {
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers"`
	JSON    json.RawMessage   `json:"json"`
}

// recordedHeaders are the answer headers a recording keeps.
var recordedHeaders = []string{"content-type", "etag", "x-request-id", "x-correlation-id"}

// LoadNHSAnswers reads recorded answers from path.
func LoadNHSAnswers(t testing.TB, path string) *NHSAnswers {
	t.Helper()
	raw, err := os.ReadFile(path)
	assert.NilError(t, err)
	var a NHSAnswers
	assert.NilError(t, json.Unmarshal(raw, &a))
	return &a
}

// Send sends c's recorded request to the service at base and returns the
// answer, its body read.
func Send(t testing.TB, base string, c NHSCase) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, strings.TrimSuffix(base, "/")+"/"+c.Path, nil)
	assert.NilError(t, err)
	for k, v := range c.Headers {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", c.Name, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	assert.NilError(t, err)
	return res, body
}

// Live replaces every recorded answer with the one a running copy of NHS's
// service at base gives now.
func (a *NHSAnswers) Live(t testing.TB, base string) {
	t.Helper()
	for i := range a.Cases {
		c := &a.Cases[i]
		res, body := Send(t, base, *c)
		c.NHS = NHSAnswer{Status: res.StatusCode, Headers: map[string]string{}, JSON: json.RawMessage(body)}
		for _, h := range recordedHeaders {
			if v := res.Header.Get(h); v != "" {
				c.NHS.Headers[h] = v
			}
		}
	}
}

// Write writes the answers to path, as LoadNHSAnswers reads them.
func (a *NHSAnswers) Write(t testing.TB, path string) {
	t.Helper()
	out, err := json.MarshalIndent(a, "", "  ")
	assert.NilError(t, err)
	assert.NilError(t, os.WriteFile(path, append(out, '\n'), 0o644))
}

// LoggerPassedIn checks that a mock reports its own failures (an untyped
// error, answered 500) to the logger it is given, never to the global log
// package, and drops them without one. fail makes the mock with logger
// (nil: none given) and has it answer one request with err, returning the
// status. Not for parallel tests: it watches the global logger.
func LoggerPassedIn(t *testing.T, fail func(logger *slog.Logger, err error) int) {
	t.Helper()
	var global bytes.Buffer
	log.SetOutput(&global)
	t.Cleanup(func() { log.SetOutput(os.Stderr) })
	cause := errors.New("boom: the cause")

	var got bytes.Buffer
	assert.Equal(t, fail(slog.New(slog.NewTextHandler(&got, nil)), cause), http.StatusInternalServerError, "status")
	assert.Contains(t, got.String(), cause.Error(), "the logger passed in")
	assert.Equal(t, fail(nil, cause), http.StatusInternalServerError, "status without a logger")
	assert.Equal(t, global.String(), "", "the global logger")
}

// Verdicts collects what a mock reports through its hook (Report, a
// spinerules.Report), for Reported; it is safe for concurrent use.
type Verdicts struct {
	mu sync.Mutex
	vs []spinerules.Verdict
}

// Report is the hook to hand the mock.
func (v *Verdicts) Report(_ *http.Request, vs []spinerules.Verdict) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.vs = append(v.vs, vs...)
}

// Reported is Reported over the verdicts collected so far.
func (v *Verdicts) Reported(t testing.TB) (checks, failing []string, message string) {
	t.Helper()
	v.mu.Lock()
	defer v.mu.Unlock()
	return Reported(t, v.vs)
}

// Reported sums up the verdicts a mock reported for one request
// (spinerules.Report): the checks in order, the failed ones, and the first
// failure's message. Each verdict must carry its rule's section.
func Reported(t testing.TB, vs []spinerules.Verdict) (checks, failing []string, message string) {
	t.Helper()
	checks, failing = []string{}, []string{}
	for _, v := range vs {
		checks = append(checks, v.Check)
		r, _ := spinerules.RuleNamed(v.Check)
		assert.Equal(t, v.Section, r.Section, v.Check+" section")
		if !v.Passed {
			failing = append(failing, v.Check)
			if message == "" {
				message = v.Message
			}
		}
	}
	return checks, failing, message
}
