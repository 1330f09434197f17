package report

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
)

// checker is tools/mermaid-check: the real Mermaid parser (the npm package,
// pinned in its package-lock.json) behind a small Node script.
const checker = "../../tools/mermaid-check"

// checked is what the checker says about one diagram.
type checked struct {
	OK       bool     `json:"ok"`
	Type     string   `json:"type"`
	Error    string   `json:"error"`
	Messages []string `json:"messages"`
	Notes    []string `json:"notes"`
}

// checkMermaid runs every diagram through the real Mermaid parser, skipping
// (or failing under CI=true) when Node or the checker's packages are not
// installed.
func checkMermaid(t *testing.T, diagrams []string) (results []checked, exit int) {
	t.Helper()
	node, err := exec.LookPath("node")
	needTool(t, "node", "apt-get install nodejs", err != nil)
	_, err = os.Stat(filepath.Join(checker, "node_modules", "mermaid", "package.json"))
	needTool(t, "the Mermaid parser", "npm ci --prefix tools/mermaid-check", err != nil)
	in, err := json.Marshal(diagrams)
	assert.NilError(t, err)
	stdout, stderr, exit := run(t, in, node, filepath.Join(checker, "check.mjs"))
	if err := json.Unmarshal([]byte(stdout), &results); err != nil || len(results) != len(diagrams) {
		t.Fatalf("mermaid-check exit %d, stdout %q, stderr %q: want one result per diagram (%d)", exit, stdout, stderr, len(diagrams))
	}
	return results, exit
}

// mermaidBlocks returns the body of every ```mermaid block in md, reading
// fences line by line as CommonMark does.
func mermaidBlocks(md string) []string {
	var blocks []string
	var cur *strings.Builder
	for _, line := range strings.SplitAfter(md, "\n") {
		switch {
		case cur == nil && strings.TrimRight(line, "\n") == "```mermaid":
			cur = &strings.Builder{}
		case cur != nil && strings.TrimRight(line, "\n") == "```":
			blocks = append(blocks, cur.String())
			cur = nil
		case cur != nil:
			cur.WriteString(line)
		}
	}
	return blocks
}

// nastyArrowsInReportOrder is nastyArrows in the order the Markdown report
// shows the scenarios: failed ones first.
func nastyArrowsInReportOrder() [][]string {
	var want [][]string
	for _, pass := range []bool{false, true} {
		for i, r := range nastyResults() {
			if r.Passed == pass {
				want = append(want, nastyArrows()[i])
			}
		}
	}
	return want
}

// nastyArrows are the arrows of nastyResults' diagrams, "From->>To: label",
// with every label exactly as the hop had it (newlines become spaces).
func nastyArrows() [][]string {
	long := "pds.retrieve " + strings.TrimSpace(strings.Repeat("long-name ", 30)) + " end"
	return [][]string{
		{ // happy path: nested SSP legs
			"Consumer->>PDS: pds.retrieve",
			"PDS-->>Consumer: 200",
			"Consumer->>SDS: sds.endpoint lookup",
			"SDS-->>Consumer: 200",
			"Consumer->>SSP: ssp.search free slots",
			"SSP->>Provider: provider.search free slots",
			"Provider-->>SSP: 200",
			"SSP-->>Consumer: 200",
			"Consumer->>SSP: ssp.book appointment",
			"SSP->>Provider: provider.book appointment",
			"Provider-->>SSP: 201",
			"SSP-->>Consumer: 201",
		},
		{ // the runner's own hop, with ; # : < > " and ✓ in the names
			`Consumer->>PDS: pds.retrieve #1; <Patient> & "9000000009"`,
			"PDS-->>Consumer: 200",
			"Consumer->>SSP: ssp.book appointment",
			"SSP->>Provider: provider.book: ✓ slot 10:30; room #2 > 1 (runner takes the slot)",
			"Provider--xSSP: ✗ 409 DUPLICATE_REJECTED",
			"SSP--xConsumer: ✗ 409 DUPLICATE_REJECTED",
		},
		{ // all of the above, then a transport error and a long name whose error looks like Mermaid and HTML
			`Consumer->>PDS: pds.retrieve #1; <Patient> & "9000000009"`,
			"PDS-->>Consumer: 200",
			"Consumer->>SSP: ssp.book appointment",
			"SSP->>Provider: provider.book: ✓ slot 10:30; room #2 > 1 (runner takes the slot)",
			"Provider--xSSP: ✗ 409 DUPLICATE_REJECTED",
			"SSP--xConsumer: ✗ 409 DUPLICATE_REJECTED",
			"Consumer->>SDS: sds.lookup second line",
			"SDS--xConsumer: ✗ dial tcp 127.0.0.1:9: connect: connection refused; retry #3",
			"Consumer->>PDS: " + long,
			"PDS--xConsumer: ✗ <html><br/> %% 100% ]]> --> ->> --x end INTERNAL_SERVER_ERROR",
		},
		{ // a transport error alone
			"Consumer->>SDS: sds.lookup second line",
			"SDS--xConsumer: ✗ dial tcp 127.0.0.1:9: connect: connection refused; retry #3",
		},
	}
}

// TestMarkdownMermaidParses renders the Markdown report of a realistic run
// and checks every sequenceDiagram with the real Mermaid parser: each must
// parse, and the arrows Mermaid reads must carry exactly the labels meant
// (a '#' Mermaid takes for a comment would parse but drop the rest).
func TestMarkdownMermaidParses(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	assert.NilError(t, Markdown(&buf, nastyResults(), 92*time.Second))
	blocks := mermaidBlocks(buf.String())
	assert.Equal(t, len(blocks), len(nastyResults()), "one mermaid block per scenario")
	results, exit := checkMermaid(t, blocks)
	want := nastyArrowsInReportOrder()
	var notes []string
	for _, r := range results {
		notes = append(notes, r.Notes...)
	}
	assert.Contains(t, strings.Join(notes, "\n"), "SDS,Consumer: no response: dial tcp 127.0.0.1:9: connect: connection refused; retry #3",
		"the note on a failed hop, as Mermaid read it")
	for i, r := range results {
		if !r.OK {
			t.Errorf("diagram %d does not parse: %s\n%s", i, r.Error, blocks[i])
			continue
		}
		assert.Equal(t, r.Type, "sequence", "diagram type")
		assert.DeepEqual(t, r.Messages, want[i], "arrows Mermaid read in diagram "+blocks[i])
	}
	assert.Equal(t, exit, 0, "mermaid-check exit code")
}

// TestMermaidCheckRejects proves the check can fail: broken diagrams,
// including what the writer emitted before its escaping was fixed, are
// reported invalid with Mermaid's own parse error, and a message cut short
// by '#' shows in the arrows it reads.
func TestMermaidCheckRejects(t *testing.T) {
	t.Parallel()
	head := "sequenceDiagram\n    participant Consumer\n    participant PDS\n"
	cases := []struct {
		name, diagram string
		ok            bool
		says          string
	}{
		{"raw semicolon in a message", head + "    Consumer->>PDS: retry; again\n", false, "Parse error on line 4"},
		{"carriage return in a message", head + "    Consumer->>PDS: one\r two\n", false, "Parse error on line 5"},
		{"arrow with no target", head + "    Consumer->>: pds.retrieve\n", false, "Parse error on line 4"},
		{"unknown arrow", head + "    Consumer=>>PDS: pds.retrieve\n", false, "Parse error on line 4"},
		{"not a diagram", "sequence diagram\n    Consumer->>PDS: x\n", false, "No diagram type detected"},
		{"unclosed block", head + "    loop every minute\n    Consumer->>PDS: x\n", false, "Parse error"},
		{"raw # drops the rest", head + "    Consumer->>PDS: room #2 booked\n", true, "Consumer->>PDS: room"},
		{"escaped # is kept", head + "    Consumer->>PDS: room #35;2 booked\n", true, "Consumer->>PDS: room #2 booked"},
	}
	// One run of the checker for all of them: each Node start loads Mermaid.
	diagrams := make([]string, len(cases))
	for i, tc := range cases {
		diagrams[i] = tc.diagram
	}
	results, exit := checkMermaid(t, diagrams)
	assert.Equal(t, exit, 1, "exit code when a diagram does not parse")
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := results[i]
			assert.Equal(t, r.OK, tc.ok, "parses; error: "+r.Error)
			if tc.ok {
				assert.DeepEqual(t, r.Messages, []string{tc.says}, "arrows")
				return
			}
			assert.Contains(t, r.Error, tc.says, "parse error")
		})
	}
}
