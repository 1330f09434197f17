package scenario

import (
	"fmt"
	"slices"

	"github.com/spine-sandbox/spine-sandbox/internal/suggest"
)

// UnknownChecks lists the names in the scenario's expect.checks that are
// not in names, each at its own line and column with the nearest known
// name: expectations naming no check would hold vacuously. The known names
// are handed in (Options.CheckNames, conformance.ScenarioChecks) because
// internal/conformance imports this package. Empty names are validate's to
// report.
func (s *Scenario) UnknownChecks(names []string) []Problem {
	if s == nil || s.Expect == nil || s.Expect.Checks == nil {
		return nil
	}
	c := s.Expect.Checks
	file := c.At.file
	if file == "" {
		file = s.File
	}
	var out []Problem
	for _, list := range []struct {
		key   string
		names []string
	}{{"pass", c.Pass}, {"fire", c.Fire}} {
		for i, name := range list.names {
			if name == "" || slices.Contains(names, name) {
				continue
			}
			at := c.At.Item(list.key, i)
			out = append(out, Problem{file, at.Line, at.Column,
				fmt.Sprintf("expect.checks.%s[%d]: unknown check %q%s (the names are in docs/conformance-checks.md)", list.key, i, name, suggest.Hint(name, names))})
		}
	}
	return out
}
