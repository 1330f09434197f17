package conformance

import (
	"flag"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/conformance-checks.md from the Checks table")

const docPath = "../../docs/conformance-checks.md"

// markdown renders the Checks table as docs/conformance-checks.md.
func markdown() string {
	var b strings.Builder
	b.WriteString("# Conformance checks\n\n")
	b.WriteString("Generated from `internal/conformance.Checks` by `go test ./internal/conformance -run TestDoc -update`; do not edit by hand.\n\n")
	b.WriteString("The sandbox applies these checks to every request the consumer sends to PDS, SDS and the SSP and records each\n")
	b.WriteString("failed one as a verdict on the journal entry of that hop. They never change an answer: the mocks reject bad\n")
	b.WriteString("requests themselves. When the SSP reports a failure under the same name, its own verdict is kept.\n")
	b.WriteString("Sections refer to the spec files `gpconnect-1.6.md` and `pds-sds-fhir.md`.\n\n")
	b.WriteString("| check | what must hold | section | severity |\n|---|---|---|---|\n")
	for _, c := range Checks {
		b.WriteString("| `" + c.Name + "` | " + strings.ReplaceAll(c.What, "|", "\\|") + " | " + c.Section + " | " + c.Severity + " |\n")
	}
	return b.String()
}

// TestDoc keeps docs/conformance-checks.md in step with the table: it
// must list every check name and equal what markdown renders.
func TestDoc(t *testing.T) {
	want := markdown()
	if *update {
		if err := os.WriteFile(docPath, []byte(want), 0o644); err != nil {
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
	if string(got) != want {
		t.Errorf("%s is out of date; run go test ./internal/conformance -run TestDoc -update", docPath)
	}
}
