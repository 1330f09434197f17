package runner

import (
	"context"
	"encoding/base64"
	"slices"
	"strings"
	"testing"

	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/internal/journal"
	"github.com/spine-sandbox/spine-sandbox/internal/scenario"
)

// TestLibraryExpectationsBite holds the whole scenario library to account:
// every file pins its outcome and its sequence, and for every file a copy
// with the outcome changed, another with the last expected step left out,
// and (where it compares request bodies) another compared with a fixture
// of a different request, fails with that rule. A file with faults or
// tampers must fail without them too. A scenario whose expectations could
// not fail would prove nothing.
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

		if len(sc.Faults) > 0 {
			// The faults left out: what they prove must show.
			calm := *sc
			calm.Faults = nil
			mutants = append(mutants, mutant{&calm, ""})
		}
		if sc.Run != nil && len(sc.Run.Tamper) > 0 {
			// The consumer's requests left as it sends them.
			honest := *sc
			run := *sc.Run
			run.Tamper = nil
			honest.Run = &run
			mutants = append(mutants, mutant{&honest, ""})
		}

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
	opts := Options{FixtureDir: "../../fixtures"}
	results := Run(context.Background(), scs, opts)
	// The run.tls scenarios run only over mutual TLS (skipped above): their
	// mutants run again so.
	var tlsAt []int
	var tlsScs []*scenario.Scenario
	for i, sc := range scs {
		if SkipReason(sc, opts) != "" {
			tlsAt, tlsScs = append(tlsAt, i), append(tlsScs, sc)
		}
	}
	opts.TLS = true
	for j, r := range Run(context.Background(), tlsScs, opts) {
		results[tlsAt[j]] = r
	}
	for i, r := range results {
		m := mutants[i]
		var rules []string
		for _, f := range r.Failures {
			rules = append(rules, f.Rule)
		}
		switch {
		case m.rule == "" && r.Passed:
			t.Errorf("%s passes without its faults or tampers: they prove nothing", m.sc.File)
		case m.rule != "" && (r.Passed || !slices.Contains(rules, m.rule)):
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

// TestBuiltInConsumerIsTheScenarios: the built-in consumer speaks as the
// scenario's consumer system — its ASID in Ssp-From, its organisation in
// the JWT — not as the built-in world's.
func TestBuiltInConsumerIsTheScenarios(t *testing.T) {
	t.Parallel()
	sc, err := scenario.LoadFile("../../scenarios/own-world.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r := Run(context.Background(), []*scenario.Scenario{sc}, Options{FixtureDir: "../../fixtures"})[0]
	if !r.Passed {
		t.Fatalf("own-world.yaml failed: %+v", r.Failures)
	}
	n := 0
	for _, h := range r.Hops {
		if h.To != journal.SSP {
			continue
		}
		n++
		if from := gpc.HeaderValue(h.RequestHeader, "Ssp-From"); from != "200000000999" {
			t.Errorf("%s: Ssp-From %q, want the scenario consumer's 200000000999", h.Name, from)
		}
		tok := strings.TrimPrefix(gpc.HeaderValue(h.RequestHeader, "Authorization"), "Bearer ")
		payload, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[1])
		if !strings.Contains(string(payload), `"value":"B1001"`) {
			t.Errorf("%s: JWT requesting_organization is not B1001: %s", h.Name, payload)
		}
	}
	if n == 0 {
		t.Fatal("no SSP hops")
	}
}
