package sandbox

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/scenario"
)

// TestOneWriter: whatever an admin handler returns, writeError alone
// answers it as a problem: a scenario's problems 422 with each of them, a
// refusal its status, detail and headers (errors.Is still finds its cause),
// and anything else a generic 500 whose cause goes to the server's logger,
// never to the client.
func TestOneWriter(t *testing.T) {
	t.Parallel()
	var logged bytes.Buffer
	s := &Server{cfg: Config{Logger: slog.New(slog.NewTextHandler(&logged, nil))}}
	cause := errors.New("the cause")
	tests := []struct {
		name   string
		err    error
		status int
		detail string
		header string
	}{
		{"a scenario's problems", &scenario.LoadError{Problems: []scenario.Problem{{File: "f", Line: 1, Column: 2, Message: "m"}}}, 422, "the scenario does not load: 1 problem(s)", ""},
		{"a refusal", errorf(http.StatusConflict, "taken: %s", "x"), 409, "taken: x", ""},
		{"a refusal with its cause", fmt.Errorf("wrapped: %w", refuse(http.StatusTooManyRequests, cause)), 429, "the cause", ""},
		{"a refusal with a header", &apiError{status: 401, detail: "token", header: http.Header{"Www-Authenticate": {"Bearer"}}}, 401, "token", "Bearer"},
		{"a bug", errors.New("secret: /var/lib/x"), 500, "internal error", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			s.handle(func(http.ResponseWriter, *http.Request) error { return tt.err }).ServeHTTP(rec, httptest.NewRequest("GET", "/_admin/x", nil))
			assert.Equal(t, rec.Code, tt.status, "status")
			assert.Equal(t, rec.Header().Get("Content-Type"), ProblemContentType, "Content-Type")
			assert.Contains(t, rec.Body.String(), tt.detail, "detail")
			assert.Equal(t, rec.Header().Get("WWW-Authenticate"), tt.header, "WWW-Authenticate")
			if bytes.Contains(rec.Body.Bytes(), []byte("secret")) {
				t.Errorf("the answer leaks the cause: %s", rec.Body)
			}
		})
	}
	assert.Equal(t, errors.Is(refuse(429, cause), cause), true, "errors.Is finds a refusal's cause")
	assert.Contains(t, logged.String(), "secret: /var/lib/x", "the bug's cause, in the log")
	if bytes.Count(logged.Bytes(), []byte("\n")) != 1 {
		t.Errorf("want one log line, for the bug only: %q", logged.String())
	}
}

// TestMetricsScrapesBounded: a scrape past maxScrapes in flight is refused
// with a 503 problem from the one writer, not the client library's plain
// text.
func TestMetricsScrapesBounded(t *testing.T) {
	t.Parallel()
	s, err := New(Config{PublicURL: "http://127.0.0.1:4000"})
	assert.NilError(t, err)
	t.Cleanup(func() { s.Close() })
	get := func() *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest("GET", "/_admin/metrics", nil))
		return rec
	}
	assert.Equal(t, get().Code, 200, "a scrape")
	for range maxScrapes {
		s.metrics.scrapes <- struct{}{} // scrapes in flight
	}
	rec := get()
	assert.Equal(t, rec.Code, 503, "a scrape past the bound")
	assert.Equal(t, rec.Header().Get("Content-Type"), ProblemContentType, "Content-Type")
	<-s.metrics.scrapes
	assert.Equal(t, get().Code, 200, "a scrape once one ended")
}
