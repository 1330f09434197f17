package scenario_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/scenario"
)

// TestAuthoringHelp: the loader's messages help an author fix the file:
// "did you mean" for misspelt keys, interactions and the world's ODS codes
// and NHS numbers, a real-date error worded as such, a tab named.
func TestAuthoringHelp(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, yaml, want string }{
		{"misspelt key", "name: x\nextends: builtin\nexpct: {outcome: booked}\n", `unknown key "expct" (did you mean "expect"?)`},
		{"misspelt nested key", "name: x\nextends: builtin\nrun:\n  nhs_numbr: \"9693632109\"\n", `unknown key "nhs_numbr" (did you mean "nhs_number"?)`},
		{"misspelt interaction", "name: x\nextends: builtin\nfaults:\n  - {hop: provider, interaction: book apointment, status: 500}\n", `unknown interaction "book apointment" (did you mean "book appointment"?)`},
		{"misspelt practice", "name: x\nextends: builtin\npatients:\n  - {nhs_number: \"9693632109\", name: {given: [A], family: B}, birth_date: 1981-02-01, gender: male, practice: A20074}\n", `practice "A20074" of patient 9693632109 is not in practices (did you mean "A20047"?)`},
		{"not a real date", "name: x\nextends: builtin\npatients:\n  - {nhs_number: \"9693632109\", name: {given: [A], family: B}, birth_date: 1981-02-30, gender: male, practice: A20047}\n", `"1981-02-30" is not a real date: February 1981 has 28 days`},
		{"no such month", "name: x\nextends: builtin\npatients:\n  - {nhs_number: \"9693632109\", name: {given: [A], family: B}, birth_date: 1981-13-01, gender: male, practice: A20047}\n", `"1981-13-01" is not a real date: there is no month 13`},
		{"not a date at all", "name: x\nextends: builtin\npatients:\n  - {nhs_number: \"9693632109\", name: {given: [A], family: B}, birth_date: 01/02/1981, gender: male, practice: A20047}\n", `date "01/02/1981" is not yyyy-mm-dd`},
		{"a tab", "name: x\nextends: builtin\nrun:\n\tnhs_number: \"9693632109\"\n", "a tab character near here: YAML indents with spaces only"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := scenario.Load("s.yaml", []byte(tt.yaml))
			var le *scenario.LoadError
			if !errors.As(err, &le) {
				t.Fatalf("want problems, got %v", err)
			}
			assert.Contains(t, le.Error(), tt.want, "problems")
		})
	}
}

// TestExtendsBuiltinListsWarn: with extends: builtin a patients or
// practices list replaces the built-in one whole (documented in
// docs/scenario-format.md); the loader says so as a warning, which check
// prints without failing, and a run.ods (or run.nhs_number) near one of
// the world's is pointed out.
func TestExtendsBuiltinListsWarn(t *testing.T) {
	t.Parallel()
	sc, err := scenario.Load("s.yaml", []byte("name: x\nextends: builtin\npatients:\n  - {nhs_number: \"9693632109\", name: {given: [A], family: B}, birth_date: 1981-02-01, gender: male, practice: A20047}\nrun:\n  nhs_number: \"9693632109\"\n  ods: A20074\n"))
	assert.NilError(t, err)
	var got []string
	for _, w := range sc.Warnings() {
		got = append(got, w.String())
	}
	all := strings.Join(got, "\n")
	assert.Contains(t, all, "s.yaml:4:3: patients: with extends: builtin this list replaces the built-in world's 8 patients whole", "patients warning")
	assert.Contains(t, all, "s.yaml:7:8: run.ods A20074 is not one of the world's practices (did you mean A20047?)", "ODS warning")
	assert.Equal(t, len(got), 2, "warnings: "+all)

	sc, err = scenario.Load("s.yaml", []byte("name: x\nextends: builtin\nrun:\n  nhs_number: \"9693632109\"\n"))
	assert.NilError(t, err)
	assert.Equal(t, len(sc.Warnings()), 0, "no warnings for a file that only extends")

	var out strings.Builder
	assert.NilError(t, scenario.Check([]string{"../../scenarios/own-world.yaml"}, &out, scenario.Options{}))
}
