package report

import (
	"bytes"
	"context"
	"encoding/json"
	"html"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
)

// chromium is Debian's Chromium, as the web UI's browser tests use it.
const chromium = "/usr/bin/chromium"

// rendered is what tools/mermaid-check/render.html says about one diagram.
type rendered struct {
	OK       bool     `json:"ok"`
	Error    string   `json:"error"`
	Messages []string `json:"messages"`
}

var outRe = regexp.MustCompile(`(?s)<pre id="out">(.*?)</pre>`)

// renderMermaid draws the diagrams with Mermaid in headless Chromium and
// returns the message labels it drew. The page and Mermaid are local files;
// the flags keep Chromium off the network (see internal/webui's tests).
func renderMermaid(t *testing.T, diagrams []string) []rendered {
	t.Helper()
	page, err := filepath.Abs(filepath.Join(checker, "render.html"))
	assert.NilError(t, err)
	in, err := json.Marshal(diagrams)
	assert.NilError(t, err)
	u := url.URL{Scheme: "file", Path: page, Fragment: string(in)}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
		"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+t.TempDir(), "--virtual-time-budget=10000", "--dump-dom", u.String())
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	m := outRe.FindSubmatch(out)
	if m == nil {
		t.Fatalf("no pre#out in the page Chromium dumped:\n%s", out)
	}
	text := html.UnescapeString(string(m[1]))
	var results []rendered
	if err := json.Unmarshal([]byte(text), &results); err != nil || len(results) != len(diagrams) {
		t.Fatalf("render.html said %q: want one result per diagram (%d)", text, len(diagrams))
	}
	return results
}

// TestMarkdownMermaidRenders draws the Markdown report's diagrams with
// Mermaid in a real browser, as a Markdown viewer would, with Mermaid's
// strict security level (its HTML sanitiser on): every label must be drawn
// exactly as the hop had it, entity codes turned back into # ; < >.
func TestMarkdownMermaidRenders(t *testing.T) {
	if _, err := os.Stat(chromium); err != nil {
		t.Skip("no " + chromium + " on this machine: drawing the diagrams in a browser is skipped")
	}
	if testing.Short() {
		t.Skip("starts a browser")
	}
	_, err := os.Stat(filepath.Join(checker, "node_modules", "mermaid", "dist", "mermaid.min.js"))
	needTool(t, "the Mermaid package", "npm ci --prefix tools/mermaid-check", err != nil)
	t.Parallel()
	var buf bytes.Buffer
	assert.NilError(t, Markdown(&buf, nastyResults(), time.Second))
	blocks := mermaidBlocks(buf.String())
	broken := "sequenceDiagram\n    Consumer->>PDS: retry; again\n"
	results := renderMermaid(t, append(blocks, broken))
	for i, want := range nastyArrowsInReportOrder() {
		r := results[i]
		if !r.OK {
			t.Errorf("diagram %d does not render: %s\n%s", i, r.Error, blocks[i])
			continue
		}
		labels := make([]string, len(want))
		for j, arrow := range want {
			_, labels[j], _ = strings.Cut(arrow, ": ")
		}
		assert.DeepEqual(t, r.Messages, labels, "labels drawn in diagram "+blocks[i])
	}
	last := results[len(results)-1]
	assert.Equal(t, last.OK, false, "a broken diagram does not render")
	assert.Contains(t, last.Error, "Parse error on line 2", "render error")
}
