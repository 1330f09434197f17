package report

import (
	"bytes"
	"context"
	"slices"
	"testing"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/runner"
	"github.com/spine-sandbox/spine-sandbox/internal/scenario"
)

// TestScenarioLibraryReports runs the repository's own scenario library, as
// `spine-sandbox run scenarios/` does, and checks the reports a user gets:
// the JUnit validates against the schema and every diagram in the Markdown
// parses, with a request and a reply arrow per hop. Verdicts do not matter
// here; the scenarios' own tests judge them.
func TestScenarioLibraryReports(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole scenario library")
	}
	t.Parallel()
	scenarios, err := scenario.LoadDir("../../scenarios")
	assert.NilError(t, err)
	if len(scenarios) == 0 {
		t.Fatal("no scenarios under ../../scenarios")
	}
	results := runner.Run(context.Background(), scenarios, runner.Options{FixtureDir: "../../fixtures"})

	var junit bytes.Buffer
	assert.NilError(t, JUnit(&junit, results, time.Second, time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)))
	if code, msgs := validate(t, junit.Bytes()); code != 0 {
		t.Errorf("xmllint exit %d, want 0 (valid):\n%s", code, msgs)
	}

	var md bytes.Buffer
	assert.NilError(t, Markdown(&md, results, time.Second))
	blocks := mermaidBlocks(md.String())
	// A skipped scenario (run.tls without --tls) has no diagram.
	results = slices.DeleteFunc(results, func(r runner.Result) bool { return r.Skipped != "" })
	assert.Equal(t, len(blocks), len(results), "one diagram per scenario run")
	checks, exit := checkMermaid(t, blocks)
	// The Markdown puts failed scenarios first, each group in the order run.
	var ordered []runner.Result
	for _, pass := range []bool{false, true} {
		for _, r := range results {
			if r.Passed == pass {
				ordered = append(ordered, r)
			}
		}
	}
	for i, c := range checks {
		if !c.OK {
			t.Errorf("%s: diagram does not parse: %s\n%s", ordered[i].Scenario.Name, c.Error, blocks[i])
			continue
		}
		assert.Equal(t, len(c.Messages), 2*len(ordered[i].Hops), ordered[i].Scenario.Name+": arrows (a request and a reply per hop)")
	}
	assert.Equal(t, exit, 0, "mermaid-check exit code")
}
