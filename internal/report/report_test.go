package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/journal"
	"github.com/spine-sandbox/spine-sandbox/internal/runner"
	"github.com/spine-sandbox/spine-sandbox/internal/scenario"
)

// results are two hand-made results: one passed booking, one failed at the
// provider with a diff.
func results() []runner.Result {
	ok := []journal.Hop{
		{From: journal.Consumer, To: journal.PDS, Name: "pds.retrieve", Interaction: "pds.retrieve", Status: 200},
		{From: journal.SSP, To: journal.Provider, Name: "provider.book appointment", Interaction: "urn:book", Status: 201},
		{From: journal.Consumer, To: journal.SSP, Name: "ssp.book appointment", Interaction: "urn:book", Status: 201},
	}
	bad := []journal.Hop{
		{From: journal.Consumer, To: journal.PDS, Name: "pds.retrieve", Interaction: "pds.retrieve", Status: 200},
		{From: journal.Consumer, To: journal.SSP, Name: "ssp.book appointment", Interaction: "urn:book", Status: 502, Code: "INTERNAL_SERVER_ERROR",
			RequestHeader: http.Header{}},
	}
	return []runner.Result{
		{Scenario: &scenario.Scenario{Name: "good one", File: "scenarios/good.yaml"}, Passed: true, Hops: ok, Outcome: runner.Outcome{Kind: "booked"}, Duration: 1500 * time.Millisecond},
		{Scenario: &scenario.Scenario{Name: "bad <one> & \"quoted\"", File: "scenarios/sub/bad.yaml"}, Passed: false, Hops: bad, Outcome: runner.Outcome{Kind: "error", Hop: "ssp", Status: 502},
			Failures: []runner.Failure{
				{Rule: "outcome", Section: "scenario-format §expect.outcome", Message: "want booked, got error ssp 502"},
				{Rule: "sequence", Section: "scenario-format §expect.sequence", Message: "sequence differs", Diff: "  pds.retrieve\n- provider.book appointment\n"},
			}},
	}
}

func TestJUnitParsesBack(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	assert.NilError(t, JUnit(&buf, results(), 2*time.Second, time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)))
	var got JUnitSuites
	assert.NilError(t, xml.Unmarshal(buf.Bytes(), &got))
	assert.Equal(t, got.Tests, 2, "tests")
	assert.Equal(t, got.Failures, 1, "failures")
	assert.Equal(t, len(got.Suites), 1, "suites")
	s := got.Suites[0]
	assert.Equal(t, s.Time, "2.000", "suite time")
	assert.Equal(t, s.Timestamp, "2026-03-02T09:00:00", "timestamp")
	assert.Equal(t, len(s.Cases), 2, "cases")
	assert.Equal(t, s.Cases[0].Name, "good one", "name")
	assert.Equal(t, s.Cases[0].Classname, "scenario.scenarios.good", "classname")
	assert.Equal(t, s.Cases[0].Time, "1.500", "time")
	if s.Cases[0].Failure != nil {
		t.Fatalf("passed case has a failure: %+v", s.Cases[0].Failure)
	}
	f := s.Cases[1].Failure
	if f == nil {
		t.Fatal("failed case has no <failure>")
	}
	assert.Equal(t, s.Cases[1].Name, `bad <one> & "quoted"`, "escaped name")
	assert.Equal(t, f.Message, "outcome: want booked, got error ssp 502; sequence: sequence differs", "message")
	assert.Equal(t, f.Type, "expectation", "type")
	assert.Contains(t, f.Text, "- provider.book appointment", "diff in text")
	assert.Contains(t, f.Text, "sequence [scenario-format §expect.sequence]", "section in text")
}

func TestMermaid(t *testing.T) {
	t.Parallel()
	r := results()
	got := Mermaid(r[0].Hops)
	want := "sequenceDiagram\n" +
		"    participant Consumer\n    participant PDS\n    participant SDS\n    participant SSP\n    participant Provider\n" +
		"    Consumer->>PDS: pds.retrieve\n" +
		"    PDS-->>Consumer: 200\n" +
		"    Consumer->>SSP: ssp.book appointment\n" +
		"    SSP->>Provider: provider.book appointment\n" +
		"    Provider-->>SSP: 201\n" +
		"    SSP-->>Consumer: 201\n"
	assert.Equal(t, got, want, "diagram")
	failed := Mermaid(r[1].Hops)
	assert.Contains(t, failed, "    rect rgb(251, 225, 228)\n    SSP--xConsumer: ✗ 502 INTERNAL_SERVER_ERROR\n    Note over SSP,Consumer: answered 502\n    end\n", "failed hop on a red band with a note")
}

func TestMarkdown(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	assert.NilError(t, Markdown(&buf, results(), time.Second))
	md := buf.String()
	assert.Contains(t, md, "1 passed, 1 failed in 1s", "summary")
	assert.Contains(t, md, "| good one | passed | booked | 1.5s |", "table row")
	assert.Contains(t, md, "## ✗ bad <one>", "heading")
	assert.Contains(t, md, "```diff\n  pds.retrieve\n- provider.book appointment\n```", "diff block")
	assert.Equal(t, strings.Count(md, "```mermaid\nsequenceDiagram\n"), 2, "one diagram per scenario")
	// Failures first; a passing scenario's diagram folded away.
	bad, good := strings.Index(md, "## ✗ bad <one>"), strings.Index(md, "## ✓ good one")
	if bad < 0 || good < 0 || bad > good {
		t.Errorf("failed scenario at %d, passed at %d: want the failure first", bad, good)
	}
	assert.Contains(t, md[good:], "\n<details><summary>Sequence diagram</summary>\n\n```mermaid\nsequenceDiagram\n", "passing diagram folded")
	assert.Equal(t, strings.Count(md, "<details>"), 1, "folded diagrams")
}

func TestJSONHasTheJournal(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	assert.NilError(t, JSON(&buf, results(), time.Second))
	var got JSONReport
	assert.NilError(t, json.Unmarshal(buf.Bytes(), &got))
	assert.Equal(t, got.Passed, 1, "passed")
	assert.Equal(t, got.Failed, 1, "failed")
	assert.Equal(t, len(got.Scenarios[0].Journal), 3, "journal hops")
	assert.DeepEqual(t, got.Scenarios[0].Sequence, []string{"pds.retrieve", "provider.book appointment"}, "sequence")
	assert.Equal(t, got.Scenarios[1].Failures[1].Rule, "sequence", "failure rule")
}

// TestMarkdownStructure checks that names, messages and diffs cannot break
// the report's Markdown: a table row per scenario, one-line headings and
// list items, and a diff fence longer than any backtick run in the diff.
func TestMarkdownStructure(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	assert.NilError(t, Markdown(&buf, nastyResults(), time.Second))
	md := buf.String()
	assert.Contains(t, md, "2 passed, 2 failed in 1s", "summary")
	assert.Contains(t, md, "| runner takes the slot ✓ | passed | error ssp 409 DUPLICATE_REJECTED | 7ms |\n", "table row")
	assert.Contains(t, md, "\n## ✗ bad <one> & \"quoted\" ]]> ✗ 予約\n\nFails # on purpose; | piped |\n", "heading and description")
	assert.Contains(t, md, "- **request** (scenario-format §expect.requests): body differs\n", "list item on one line")
	assert.Contains(t, md, "\n````diff\n```\n{\"a\": \"<b>\"}\n```\n````\n", "longer fence around a diff holding a code block")
	assert.Contains(t, md, "\n```diff\n  pds.retrieve\n", "plain fence otherwise")
	assert.Equal(t, strings.Count(md, "\n| "), 1+4, "header and one row per scenario")
	assert.Equal(t, len(mermaidBlocks(md)), 4, "diagrams")
}
