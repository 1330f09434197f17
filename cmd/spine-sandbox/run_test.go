package main

import (
	"bytes"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
)

// mine are the scenario files the run command's tests rely on passing.
var mine = []string{"deceased", "restricted", "not-found", "invalid-number", "another-practice", "ssp-502", "provider-500-book", "slot-taken",
	"repeat-cache", "book-request-body"}

func TestRunPassesAndWritesReports(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	args := []string{"run", "-v", "--parallel", "4", "--fixtures", filepath.Join("..", "..", "fixtures"),
		"--junit", filepath.Join(dir, "junit.xml"), "--markdown", filepath.Join(dir, "report.md"), "--json", filepath.Join(dir, "report.json")}
	for _, m := range mine {
		args = append(args, filepath.Join("..", "..", "scenarios", m+".yaml"))
	}
	var out, errb bytes.Buffer
	code := Main(args, noenv, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errb.String())
	}
	assert.Contains(t, out.String(), "10 passed, 0 failed in ", "summary")
	assert.Contains(t, out.String(), "PASS slot taken before book", "scenario line")
	assert.Contains(t, out.String(), "⚡ provider.book appointment → 409 DUPLICATE_REJECTED", "the taken slot's 409, as planned")
	if strings.Contains(out.String(), "✗") {
		t.Errorf("a passing run marks a hop ✗ (a real failure):\n%s", out.String())
	}
	b, err := os.ReadFile(filepath.Join(dir, "junit.xml"))
	assert.NilError(t, err)
	var suites struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
	}
	assert.NilError(t, xml.Unmarshal(b, &suites))
	assert.Equal(t, suites.Tests, 10, "junit tests")
	assert.Equal(t, suites.Failures, 0, "junit failures")
	md, err := os.ReadFile(filepath.Join(dir, "report.md"))
	assert.NilError(t, err)
	assert.Equal(t, strings.Count(string(md), "```mermaid"), 10, "diagrams")
	js, err := os.ReadFile(filepath.Join(dir, "report.json"))
	assert.NilError(t, err)
	assert.Contains(t, string(js), `"journal"`, "json journal")
}

// TestRunMutations: a copy of a passing scenario with one expectation
// broken makes run exit 1 and say why.
func TestRunMutations(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile(filepath.Join("..", "..", "scenarios", "provider-500-book.yaml"))
	assert.NilError(t, err)
	orig := string(src)
	tests := []struct {
		name     string
		from, to string
		fixture  string
		want     []string
	}{
		{"wrong expected outcome", "code: INTERNAL_SERVER_ERROR}}", "code: DUPLICATE_REJECTED}}", "",
			[]string{"✗ outcome [scenario-format §expect.outcome]: want error provider 500 DUPLICATE_REJECTED, got error provider 500 INTERNAL_SERVER_ERROR"}},
		{"wrong sequence", "    - provider.find patient\n", "", "",
			[]string{"✗ sequence [scenario-format §expect.sequence]", "      + provider.find patient"}},
		{"differing fixture", "expect:\n", "expect:\n  requests:\n    - {interaction: book appointment, body: book.json, match: superset}\n",
			`{"resourceType": "Appointment", "status": "proposed"}`,
			[]string{"✗ request [scenario-format §expect.requests]: request book appointment: body differs from fixture book.json (match superset)", `"status": ~["booked" => "proposed"]`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if !strings.Contains(orig, tt.from) {
				t.Fatalf("scenario has no %q to mutate", tt.from)
			}
			dir := t.TempDir()
			file := filepath.Join(dir, "mutant.yaml")
			assert.NilError(t, os.WriteFile(file, []byte(strings.Replace(orig, tt.from, tt.to, 1)), 0o644))
			if tt.fixture != "" {
				assert.NilError(t, os.WriteFile(filepath.Join(dir, "book.json"), []byte(tt.fixture), 0o644))
			}
			var out, errb bytes.Buffer
			code := Main([]string{"run", "--fixtures", dir, file}, noenv, &out, &errb)
			assert.Equal(t, code, 1, "exit code")
			for _, w := range tt.want {
				assert.Contains(t, out.String(), w, "stdout")
			}
			assert.Contains(t, out.String(), "0 passed, 1 failed", "summary")
		})
	}
}

func TestRunUsageErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no paths", []string{"run"}, "usage: spine-sandbox run"},
		{"unknown flag", []string{"run", "--nope", "x"}, "flag provided but not defined"},
		{"negative parallel", []string{"run", "--parallel", "-1", "x"}, "--parallel must not be negative"},
		{"missing path", []string{"run", "no/such/scenario.yaml"}, "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out, errb bytes.Buffer
			assert.Equal(t, Main(tt.args, noenv, &out, &errb), 2, "exit code")
			assert.Contains(t, errb.String(), tt.want, "stderr")
		})
	}
}

func TestRunBrokenScenarioExits1(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "broken.yaml")
	assert.NilError(t, os.WriteFile(file, []byte("name: broken\nextends: builtin\nrun: {nhs_number: \"123\"}\n"), 0o644))
	var out, errb bytes.Buffer
	assert.Equal(t, Main([]string{"run", file}, noenv, &out, &errb), 1, "exit code")
	assert.Contains(t, errb.String(), "broken.yaml:3:", "position")
}

// TestRunOutputModes: by default one line per passing scenario and the
// whole story of a failing one; -q only the failing ones, -v every hop;
// the summary names each failed scenario with its first failed rule and
// the closing line stays "N passed, N failed in …"; flags may follow the
// paths; no colour when stdout is not a terminal.
func TestRunOutputModes(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile(filepath.Join("..", "..", "scenarios", "provider-500-book.yaml"))
	assert.NilError(t, err)
	dir := t.TempDir()
	bad := filepath.Join(dir, "mutant.yaml")
	assert.NilError(t, os.WriteFile(bad, []byte(strings.Replace(string(src), "code: INTERNAL_SERVER_ERROR}}", "code: DUPLICATE_REJECTED}}", 1)), 0o644))
	good := filepath.Join("..", "..", "scenarios", "provider-500-book.yaml")
	slow := filepath.Join("..", "..", "scenarios", "pds-slow.yaml")
	fixtures := filepath.Join("..", "..", "fixtures")
	run := func(args ...string) string {
		var out, errb bytes.Buffer
		code := Main(append([]string{"run"}, args...), func(string) string { return "" }, &out, &errb)
		assert.Equal(t, code, 1, "exit code of "+strings.Join(args, " ")+": "+errb.String())
		return out.String()
	}
	def := run(good, bad, "--fixtures", fixtures) // flags after the paths
	assert.Contains(t, def, "PASS provider 500 on book ("+good+") ", "one line for the passing scenario")
	assert.Contains(t, def, "⚡ 1 planned failure(s)\n", "its planned failure, counted")
	if strings.Count(def, "provider.book appointment → 500") != 1 {
		t.Errorf("the passing scenario's hops are printed by default:\n%s", def)
	}
	assert.Contains(t, def, "✗ outcome [scenario-format §expect.outcome]", "the failing scenario's failure")
	assert.Contains(t, def, "failed:\n  ✗ provider 500 on book ("+bad+"): outcome: want error provider 500 DUPLICATE_REJECTED", "summary names the failed scenario and its first rule")
	assert.Contains(t, def, "\n1 passed, 1 failed in ", "closing line")
	if strings.Contains(def, "\x1b[") {
		t.Errorf("colour on a stdout that is not a terminal:\n%q", def)
	}

	quiet := run("-q", "--fixtures", fixtures, good, bad)
	if strings.Contains(quiet, "PASS") {
		t.Errorf("-q prints a passing scenario:\n%s", quiet)
	}
	assert.Contains(t, quiet, "FAIL provider 500 on book", "-q prints the failing one")

	verbose := run(slow, "-v", bad, "--fixtures", fixtures)
	assert.Contains(t, verbose, "⚡ pds.retrieve → no answer in time [fault injected as planned: delay 1s; the consumer gave up waiting]", "-v: the delay fault, labelled as a delay")
}
