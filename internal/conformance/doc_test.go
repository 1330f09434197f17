package conformance

import (
	"flag"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/spine-sandbox/spine-sandbox/internal/journal"
	"github.com/spine-sandbox/spine-sandbox/internal/spinerules"
)

var update = flag.Bool("update", false, "rewrite docs/conformance-checks.md from the Checks table")

const docPath = "../../docs/conformance-checks.md"

// markdown renders the Checks table as docs/conformance-checks.md.
func markdown() string {
	var b strings.Builder
	b.WriteString("# Conformance checks\n\n")
	b.WriteString("Generated from `internal/conformance.Checks` and `internal/spinerules.SSPChecks` by `go test ./internal/conformance -run TestDoc -update`;\n")
	b.WriteString("do not edit the table by hand. Every name a scenario's `expect.checks` may use is in this table.\n\n")
	b.WriteString("The sandbox applies these checks to every request the consumer sends to PDS, SDS and the SSP and records each\n")
	b.WriteString("failed one as a verdict on the journal entry of that hop. When the SSP reports a failure under the same name, its\n")
	b.WriteString("own verdict is kept.\n\n")
	b.WriteString("In strict mode (the default) a request that fails an error check is answered as Spine or the provider would answer\n")
	b.WriteString("it: the \"strict answer\" column says who answers, with which status, code and body shape. Most failures are refused\n")
	b.WriteString("by the mocks themselves (\"mocks/...\"); the sandbox answers the ones no mock enforces before any mock runs, so a\n")
	b.WriteString("refused booking changes nothing. The code is what the journal records: the Spine code, or for the SSP's own shape\n")
	b.WriteString("its message; `<...>` stands for values from the request. Lenient mode (`serve --lenient`, or `lenient: true` in a\n")
	b.WriteString("scenario) records the verdicts and carries on, so one run shows every fault; the mocks' own refusals that keep\n")
	b.WriteString("the SSP from being an open proxy, and PDS, SDS and provider refusals, still apply. Warnings are never answered.\n")
	b.WriteString("Sections refer to the spec files `gpconnect-1.6.md` and `pds-sds-fhir.md`.\n\n")
	b.WriteString("| check | what must hold | section | severity | strict answer |\n|---|---|---|---|---|\n")
	for _, c := range Checks {
		b.WriteString("| `" + c.Name + "` | " + cell(c.What) + " | " + c.Section + " | " + c.Severity + " | " + cell(strictAnswer(c)) + " |\n")
	}
	// The SSP's own checks (internal/spinerules.SSPChecks) that the table above does not
	// hold, so that one table names every check a scenario can expect.
	for _, c := range spinerules.SSPChecks {
		if _, ok := Lookup(c.Name); ok {
			continue
		}
		b.WriteString("| `" + c.Name + "` | " + cell(c.What) + " | gpconnect-1.6.md " + c.Section + " | error | mocks/ssp: " +
			strconv.Itoa(c.Status) + " (" + shapes[journal.SSP] + "), the SSP's own check |\n")
	}
	// The client-certificate checks of serve --tls (TLSChecks).
	for _, c := range TLSChecks {
		b.WriteString("| `" + c.Name + "` | " + cell(c.What) + " | " + c.Section + " | error | " + cell(c.Answer) + " |\n")
	}
	b.WriteString(handWritten)
	return b.String()
}

// handWritten ends the generated part of the file; what follows it (the
// comparison with NHS's test suite) is written by hand and kept by -update.
const handWritten = "\n<!-- The sections below are written by hand; -update keeps them. -->\n"

// strictAnswer is the "strict answer" cell: who, status, code, shape, note.
func strictAnswer(c Check) string {
	if !c.Answered() {
		if c.Answer.Note != "" {
			return "none: recorded only; " + c.Answer.Note
		}
		return "none: recorded only"
	}
	a := c.Answer
	s := a.By + ": " + strconv.Itoa(a.Status) + " " + a.Code + " (" + shapes[a.Shape]
	if a.Code != a.Display {
		s += ", display \"" + a.Display + "\""
	}
	s += ")"
	if a.Note != "" {
		s += "; " + a.Note
	}
	return s
}

// shapes names each party's error body.
var shapes = map[journal.Party]string{
	journal.PDS:      "PDS R4 OperationOutcome",
	journal.SDS:      "SDS OperationOutcome",
	journal.SSP:      "SSP OperationOutcome",
	journal.Provider: "GPConnect-OperationOutcome-1",
}

func cell(s string) string { return strings.ReplaceAll(s, "|", "\\|") }

// TestDoc keeps docs/conformance-checks.md in step with the table: it
// must list every check name and equal what markdown renders.
func TestDoc(t *testing.T) {
	want := markdown()
	if *update {
		out := want
		if old, err := os.ReadFile(docPath); err == nil {
			if _, tail, ok := strings.Cut(string(old), handWritten); ok {
				out += tail
			}
		}
		if err := os.WriteFile(docPath, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/conformance -run TestDoc -update)", err)
	}
	for _, c := range Checks {
		if !strings.Contains(string(got), "`"+c.Name+"`") {
			t.Errorf("%s does not list %s", docPath, c.Name)
		}
	}
	for _, c := range spinerules.SSPChecks {
		if !strings.Contains(string(got), "`"+c.Name+"`") {
			t.Errorf("%s does not list %s", docPath, c.Name)
		}
	}
	if !strings.HasPrefix(string(got), want) {
		t.Errorf("%s is out of date; run go test ./internal/conformance -run TestDoc -update", docPath)
	}
}
