// Package sandboxtest is the repository's own test helper: a thin wrapper
// over the public package spinesandbox that also hands tests the server
// and session inside it. Code outside this module uses spinesandbox.Start.
package sandboxtest

import (
	"testing"

	spinesandbox "github.com/spine-sandbox/spine-sandbox"
	"github.com/spine-sandbox/spine-sandbox/internal/journal"
	"github.com/spine-sandbox/spine-sandbox/internal/publichook"
	"github.com/spine-sandbox/spine-sandbox/internal/sandbox"
)

// Sandbox is a running sandbox and the session a test uses.
type Sandbox struct {
	*spinesandbox.Sandbox
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
// e.g. the Upstreams a scenario's practices' endpoints need.
func StartWith(t testing.TB, cfg sandbox.Config, scenarioYAML string) *Sandbox {
	t.Helper()
	opts := []spinesandbox.Option{publichook.Configure(func(c *sandbox.Config) { *c = cfg }).(spinesandbox.Option)}
	if scenarioYAML != "" {
		opts = append(opts, spinesandbox.WithScenarioYAML([]byte(scenarioYAML)))
	}
	sb := spinesandbox.Start(t, opts...)
	srv, ss := publichook.Internals(sb)
	u := ss.URLs()
	return &Sandbox{Sandbox: sb, URL: sb.URL(), PDS: u.PDS, SDS: u.SDS, SSP: u.SSP, Server: srv, Session: ss}
}
