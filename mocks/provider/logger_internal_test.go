package provider

import (
	"bytes"
	"errors"
	"log"
	"log/slog"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/world"
)

// TestLoggerPassedIn: the mock reports its own failures (an untyped error
// answered 500) to the logger New was given, never to the global log
// package; without one they are discarded. Not parallel: it watches the
// global logger.
func TestLoggerPassedIn(t *testing.T) {
	var global bytes.Buffer
	log.SetOutput(&global)
	t.Cleanup(func() { log.SetOutput(os.Stderr) })
	w := world.New(world.Data{}, "http://127.0.0.1:4000", nil)

	var got bytes.Buffer
	s := New(w, WithLogger(slog.New(slog.NewTextHandler(&got, nil)))).(*server)
	rec, req := httptest.NewRecorder(), httptest.NewRequest("GET", "/x", nil)
	s.writeError(rec, req, errors.New("boom: the cause"))
	assert.Equal(t, rec.Code, 500, "status")
	assert.Contains(t, got.String(), "boom: the cause", "the logger passed in")

	s = New(w).(*server) // no logger: discarded
	rec = httptest.NewRecorder()
	s.writeError(rec, req, errors.New("boom: the cause"))
	assert.Equal(t, rec.Code, 500, "status without a logger")
	assert.Equal(t, global.String(), "", "the global logger")
}
