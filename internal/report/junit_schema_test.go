package report

import (
	"bytes"
	"encoding/xml"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/journal"
	"github.com/spine-sandbox/spine-sandbox/internal/runner"
	"github.com/spine-sandbox/spine-sandbox/internal/scenario"
)

// schema is the common JUnit XML schema the reports must validate against
// (issue 5). It lives in testdata because only the tests read it.
const schema = "testdata/junit.xsd"

// nastyDiff has what a real failure's diff can carry and XML cannot take as
// it is: markup characters, a CDATA terminator, an ANSI colour escape, a
// NUL, a byte that is not UTF-8, a non-character, and marks outside ASCII.
const nastyDiff = "  pds.retrieve\n" +
	"- provider.book appointment <Appointment> & \"slot\" ]]> 'x'\n" +
	"+ \x1b[31mssp.book appointment\x1b[0m \x00 bad byte \xff here, \uFFFE\n" +
	"  ✓ passed ✗ failed — “quoted” 予約 🙂\n"

// nastyResults is a realistic run: two passes (one with a runner hop), a
// failure with several reasons and diffs, a transport error, and names and
// messages full of characters that need escaping in XML and in Mermaid.
func nastyResults() []runner.Result {
	taken := http.Header{}
	taken.Set("X-Spine-Sandbox-Runner", "take")
	booked := []journal.Hop{
		{From: journal.Consumer, To: journal.PDS, Name: "pds.retrieve", Interaction: "pds.retrieve", Status: 200},
		{From: journal.Consumer, To: journal.SDS, Name: "sds.endpoint lookup", Interaction: "sds.endpoint", Status: 200},
		{From: journal.SSP, To: journal.Provider, Name: "provider.search free slots", Interaction: "urn:slots", Status: 200},
		{From: journal.Consumer, To: journal.SSP, Name: "ssp.search free slots", Interaction: "urn:slots", Status: 200},
		{From: journal.SSP, To: journal.Provider, Name: "provider.book appointment", Interaction: "urn:book", Status: 201},
		{From: journal.Consumer, To: journal.SSP, Name: "ssp.book appointment", Interaction: "urn:book", Status: 201},
	}
	odd := []journal.Hop{
		{From: journal.Consumer, To: journal.PDS, Name: "pds.retrieve #1; <Patient> & \"9000000009\"", Interaction: "pds.retrieve", Status: 200},
		{From: journal.SSP, To: journal.Provider, Name: "provider.book: ✓ slot 10:30; room #2 > 1", Interaction: "urn:book", Status: 409,
			Code: "DUPLICATE_REJECTED", RequestHeader: taken},
		{From: journal.Consumer, To: journal.SSP, Name: "ssp.book appointment", Interaction: "urn:book", Status: 409, Code: "DUPLICATE_REJECTED"},
		{From: journal.Consumer, To: journal.SDS, Name: "sds.lookup\nsecond line", Interaction: "sds.endpoint", Error: "dial tcp 127.0.0.1:9: connect: connection refused;\r\nretry #3"},
		{From: journal.Consumer, To: journal.PDS, Name: "pds.retrieve " + strings.Repeat("long-name ", 30) + "end", Interaction: "pds.retrieve", Status: 500,
			Code: "INTERNAL_SERVER_ERROR", Error: "<html><br/> %% 100% ]]> --> ->> --x end"},
	}
	return []runner.Result{
		{Scenario: &scenario.Scenario{Name: "happy path", File: "scenarios/happy-path.yaml"}, Passed: true, Hops: booked,
			Outcome: runner.Outcome{Kind: "booked"}, Duration: 1234 * time.Millisecond},
		{Scenario: &scenario.Scenario{Name: "runner takes the slot ✓", File: "scenarios/nested dir/taken.yml"}, Passed: true, Hops: odd[:3],
			Outcome: runner.Outcome{Kind: "error", Hop: "ssp", Status: 409, Code: "DUPLICATE_REJECTED"}, Duration: 7 * time.Millisecond},
		{Scenario: &scenario.Scenario{Name: "bad <one> & \"quoted\" ]]> ✗ 予約", File: `scenarios\win\bad.yaml`, Description: "Fails # on purpose; | piped |"},
			Passed: false, Hops: odd, Outcome: runner.Outcome{Kind: "error", Hop: "pds", Status: 500, Code: "INTERNAL_SERVER_ERROR"}, Duration: 0,
			Failures: []runner.Failure{
				{Rule: "outcome", Section: "scenario-format §expect.outcome", Message: "want booked, got error pds 500 <INTERNAL_SERVER_ERROR> & more"},
				{Rule: "sequence", Section: "scenario-format §expect.sequence", Message: "sequence differs ]]>", Diff: nastyDiff},
				{Rule: "request", Section: "scenario-format §expect.requests", Message: "body\ndiffers", Diff: "```\n{\"a\": \"<b>\"}\n```"},
			}},
		{Scenario: &scenario.Scenario{Name: "transport error", File: "scenarios/transport.yaml"}, Passed: false, Hops: odd[3:4],
			Outcome: runner.Outcome{Kind: "error", Hop: "sds", Status: 0}, Duration: 90 * time.Second,
			Failures: []runner.Failure{{Rule: "run", Section: "scenario-format §run", Message: "consumer: dial tcp: connection refused"}}},
	}
}

// xmllint returns the path of xmllint, skipping (or failing under CI=true)
// when it is not installed.
func xmllint(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("xmllint")
	needTool(t, "xmllint", "apt-get install libxml2-utils", err != nil)
	return path
}

// validate runs xmllint on doc against the schema and returns its exit code
// and what it printed about the document.
func validate(t *testing.T, doc []byte) (code int, messages string) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "junit.xml")
	assert.NilError(t, os.WriteFile(file, doc, 0o644))
	_, stderr, code := run(t, nil, xmllint(t), "--noout", "--nonet", "--schema", schema, file)
	return code, stderr
}

func TestJUnitValidatesAgainstSchema(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	assert.NilError(t, JUnit(&buf, nastyResults(), 92*time.Second, time.Date(2026, 3, 2, 9, 0, 0, 0, time.FixedZone("BST", 3600))))
	code, msgs := validate(t, buf.Bytes())
	if code != 0 {
		t.Fatalf("xmllint exit %d, want 0 (valid):\n%s\ndocument:\n%s", code, msgs, buf.String())
	}
	assert.Contains(t, msgs, "validates", "xmllint verdict")

	// What was escaped comes back as it was, but for what XML cannot hold:
	// control characters, invalid bytes and non-characters become U+FFFD.
	var got JUnitSuites
	assert.NilError(t, xml.Unmarshal(buf.Bytes(), &got))
	s := got.Suites[0]
	assert.Equal(t, s.Timestamp, "2026-03-02T08:00:00", "timestamp in UTC")
	assert.Equal(t, s.Tests, 4, "tests")
	assert.Equal(t, s.Failures, 2, "failures")
	assert.Equal(t, s.Errors, 0, "errors")
	bad := s.Cases[2]
	assert.Equal(t, bad.Name, "bad <one> & \"quoted\" ]]> ✗ 予約", "name")
	assert.Equal(t, bad.Classname, "scenario.scenarios.win.bad", "classname")
	assert.Equal(t, bad.Time, "0.000", "time")
	wantDiff := strings.NewReplacer("\x1b", "\uFFFD", "\x00", "\uFFFD", "\xff", "\uFFFD", "\uFFFE", "\uFFFD").Replace(nastyDiff)
	assert.Contains(t, bad.Failure.Text, "sequence [scenario-format §expect.sequence]: sequence differs ]]>\n"+wantDiff, "diff kept")
	assert.Equal(t, bad.Failure.Message, "outcome: want booked, got error pds 500 <INTERNAL_SERVER_ERROR> & more; "+
		"sequence: sequence differs ]]>; request: body\ndiffers", "message")
	// system-out is the console's sequence: every hop with its mark, what
	// it answered (here the hop's error) and the outcome.
	assert.Contains(t, bad.SystemOut, "✗ pds.retrieve "+strings.Repeat("long-name ", 30)+"end → <html><br/> %% 100% ]]> --> ->> --x end\n", "sequence in system-out")
	assert.Contains(t, bad.SystemOut, "outcome: error pds 500 INTERNAL_SERVER_ERROR\n", "outcome in system-out")
	assert.Equal(t, s.Cases[3].Time, "90.000", "time of the slow case")
}

// TestJUnitSchemaRejects proves the schema check can fail: each document
// breaks one rule the common JUnit format has, and xmllint must say so
// (exit 3 is "does not validate"; 1 is "not even well-formed XML").
func TestJUnitSchemaRejects(t *testing.T) {
	t.Parallel()
	const ok = `<testsuites name="s" tests="1" failures="0" time="1.000">
<testsuite name="s" tests="1" failures="0" errors="0" skipped="0" time="1.000" timestamp="2026-03-02T09:00:00">
<testcase name="c" classname="scenario.c" time="1.000"></testcase>
</testsuite>
</testsuites>`
	for _, tc := range []struct {
		name, old, new string
		code           int
		says           string
	}{
		{"testcase without a name", `<testcase name="c" `, `<testcase `, 3, "The attribute 'name' is required"},
		{"testsuite without tests", `<testsuite name="s" tests="1" `, `<testsuite name="s" `, 3, "The attribute 'tests' is required"},
		{"negative failure count", `failures="0" errors`, `failures="-1" errors`, 3, "'-1' is not a valid value"},
		{"time with a unit", `classname="scenario.c" time="1.000"`, `classname="scenario.c" time="1s"`, 3, "'1s' is not a valid value"},
		{"timestamp not ISO 8601", `timestamp="2026-03-02T09:00:00"`, `timestamp="2 March 2026"`, 3, "is not accepted by the pattern"},
		{"failure outside a testcase", `</testsuite>`, `<failure message="m"/></testsuite>`, 3, "failure': This element is not expected"},
		{"failure after system-out", `></testcase>`, `><system-out>x</system-out><failure/></testcase>`, 3, "failure': This element is not expected"},
		{"two skipped", `></testcase>`, `><skipped/><skipped/></testcase>`, 3, "skipped': This element is not expected"},
		{"unknown attribute", `<testcase name="c"`, `<testcase nmae="x" name="c"`, 3, "The attribute 'nmae' is not allowed"},
		{"wrong root", `<testsuites name="s" tests="1" failures="0" time="1.000">`, `<results>`, 1, "mismatch"},
		{"unescaped ampersand", `name="c"`, `name="a & b"`, 1, "xmlParseEntityRef"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			doc := strings.Replace(ok, tc.old, tc.new, 1)
			if doc == ok {
				t.Fatalf("the test's replacement %q did not apply", tc.old)
			}
			code, msgs := validate(t, []byte(doc))
			assert.Equal(t, code, tc.code, "xmllint exit code; it said:\n"+msgs)
			assert.Contains(t, msgs, tc.says, "xmllint message")
		})
	}
	t.Run("the unbroken document validates", func(t *testing.T) {
		t.Parallel()
		code, msgs := validate(t, []byte(ok))
		assert.Equal(t, code, 0, "xmllint exit code; it said:\n"+msgs)
	})
}

// TestJUnitBlankName: the schema requires a testcase name, so a scenario
// with a blank one is named after its file (or "unnamed scenario").
func TestJUnitBlankName(t *testing.T) {
	t.Parallel()
	res := []runner.Result{
		{Scenario: &scenario.Scenario{Name: "  ", File: "scenarios/blank.yaml"}, Passed: true},
		{Scenario: &scenario.Scenario{}, Passed: true},
	}
	var buf bytes.Buffer
	assert.NilError(t, JUnit(&buf, res, time.Second, time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)))
	var got JUnitSuites
	assert.NilError(t, xml.Unmarshal(buf.Bytes(), &got))
	assert.Equal(t, got.Suites[0].Cases[0].Name, "scenarios/blank.yaml", "named after the file")
	assert.Equal(t, got.Suites[0].Cases[1].Name, "unnamed scenario", "no name, no file")
	if code, msgs := validate(t, buf.Bytes()); code != 0 {
		t.Fatalf("xmllint exit %d, want 0 (valid):\n%s\ndocument:\n%s", code, msgs, buf.String())
	}
}
