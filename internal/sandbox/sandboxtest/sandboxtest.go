// Package sandboxtest runs a whole sandbox in process on 127.0.0.1 for
// tests, with one session running a scenario.
package sandboxtest

import (
	"net/http/httptest"
	"testing"

	"github.com/spine-sandbox/spine-sandbox/internal/journal"
	"github.com/spine-sandbox/spine-sandbox/internal/sandbox"
	"github.com/spine-sandbox/spine-sandbox/internal/scenario"
)

// Sandbox is a running sandbox and the session a test uses.
type Sandbox struct {
	URL           string // the server's base URL
	PDS, SDS, SSP string // the session's base URLs
	Server        *sandbox.Server
	Session       *sandbox.Session
}

// Hops returns the session's journal.
func (s *Sandbox) Hops() []journal.Hop { return s.Session.Journal.Hops() }

// Start runs the sandbox with a session for scenarioYAML ("" = the built-in
// world) and stops it when the test ends.
func Start(t testing.TB, scenarioYAML string) *Sandbox {
	t.Helper()
	return StartWith(t, sandbox.Config{}, scenarioYAML)
}

// StartWith is Start with cfg's fields (PublicURL is the test server's),
// e.g. the Upstreams a scenario's practice endpoints need.
func StartWith(t testing.TB, cfg sandbox.Config, scenarioYAML string) *Sandbox {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	url := "http://" + ts.Listener.Addr().String()
	cfg.PublicURL = url
	srv, err := sandbox.New(cfg)
	if err != nil {
		t.Fatalf("sandbox: %v", err)
	}
	t.Cleanup(func() { srv.Close() })
	ts.Config.Handler = srv
	ts.Start()
	t.Cleanup(ts.Close)
	sc := scenario.Default()
	if scenarioYAML != "" {
		sc, err = scenario.Load(t.Name()+".yaml", []byte(scenarioYAML))
		if err != nil {
			t.Fatalf("scenario: %v", err)
		}
	}
	ss, err := srv.CreateSession("", sc)
	if err != nil {
		t.Fatalf("session: %v", err)
	}
	u := ss.URLs()
	return &Sandbox{URL: url, PDS: u.PDS, SDS: u.SDS, SSP: u.SSP, Server: srv, Session: ss}
}
