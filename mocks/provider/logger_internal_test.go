package provider

import (
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/spine-sandbox/spine-sandbox/internal/mocktest"
	"github.com/spine-sandbox/spine-sandbox/internal/world"
)

// TestLoggerPassedIn: the provider reports its own failures to the logger
// New was given, never to the global log package
// (mocktest.LoggerPassedIn). Not parallel: it watches the global logger.
func TestLoggerPassedIn(t *testing.T) {
	w := world.New(world.Data{}, "http://127.0.0.1:4000", nil)
	mocktest.LoggerPassedIn(t, func(l *slog.Logger, err error) int {
		rec := httptest.NewRecorder()
		New(w, WithLogger(l)).(*server).writeError(rec, httptest.NewRequest("GET", "/x", nil), err)
		return rec.Code
	})
}
