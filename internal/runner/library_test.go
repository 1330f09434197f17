package runner

import (
	"context"
	"slices"
	"testing"

	"github.com/spine-sandbox/spine-sandbox/internal/scenario"
)

// TestLibraryExpectationsBite holds the whole scenario library to account:
// every file pins its outcome and its sequence, and for every file a copy
// with the outcome changed, another with the last expected step left out,
// and (where it compares request bodies) another compared with a fixture
// of a different request, fails with that rule. A scenario whose expectations could not fail
// would prove nothing.
func TestLibraryExpectationsBite(t *testing.T) {
	t.Parallel()
	lib, err := scenario.LoadDir("../../scenarios")
	if err != nil {
		t.Fatal(err)
	}
	if len(lib) < 25 {
		t.Fatalf("the library has %d scenarios, want at least 25", len(lib))
	}
	type mutant struct {
		sc   *scenario.Scenario
		rule string
	}
	var mutants []mutant
	for _, sc := range lib {
		ex := sc.Expect
		if ex == nil || ex.Outcome == nil || len(ex.Sequence) == 0 {
			t.Errorf("%s: the library's scenarios pin an outcome and a sequence", sc.File)
			continue
		}
		wrong := *sc
		wex := *ex
		wex.Outcome = otherOutcome(*ex.Outcome)
		wrong.Expect = &wex
		mutants = append(mutants, mutant{&wrong, "outcome"})

		short := *sc
		sex := *ex
		sex.Sequence = slices.Clone(ex.Sequence[:len(ex.Sequence)-1])
		short.Expect = &sex
		mutants = append(mutants, mutant{&short, "sequence"})

		if len(ex.Requests) > 0 {
			// A body compared with another interaction's fixture.
			other := *sc
			oex := *ex
			oex.Requests = slices.Clone(ex.Requests)
			oex.Requests[0].Body = "gpconnect/register_patient_request.json"
			other.Expect = &oex
			mutants = append(mutants, mutant{&other, "request"})
		}
	}
	scs := make([]*scenario.Scenario, len(mutants))
	for i, m := range mutants {
		scs[i] = m.sc
	}
	results := Run(context.Background(), scs, Options{FixtureDir: "../../fixtures"})
	for i, r := range results {
		m := mutants[i]
		var rules []string
		for _, f := range r.Failures {
			rules = append(rules, f.Rule)
		}
		if r.Passed || !slices.Contains(rules, m.rule) {
			t.Errorf("%s with a wrong %s: passed=%v, failures %v; want a %s failure", m.sc.File, m.rule, r.Passed, rules, m.rule)
		}
	}
}

// otherOutcome is an outcome the run cannot have ended with, given that
// it ended with o.
func otherOutcome(o scenario.Outcome) *scenario.Outcome {
	switch {
	case o.Error != nil:
		e := *o.Error
		e.Status++
		return &scenario.Outcome{Kind: o.Kind, Error: &e}
	case o.Kind == scenario.OutcomeBooked:
		return &scenario.Outcome{Kind: scenario.OutcomeNone}
	default:
		return &scenario.Outcome{Kind: scenario.OutcomeBooked}
	}
}
