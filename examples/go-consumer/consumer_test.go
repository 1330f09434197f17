package goconsumer

import (
	"context"
	"testing"

	spinesandbox "github.com/spine-sandbox/spine-sandbox"
)

// The scenario the test runs, inline: the built-in world, and what the
// journey must look like.
const scenario = `
name: consumer under test
extends: builtin
expect:
  outcome: booked
  sequence:
    - pds.retrieve
    - sds.endpoint
    - sds.device
    - provider.read metadata
    - sds.endpoint
    - sds.device
    - provider.search free slots
    - sds.endpoint
    - sds.device
    - provider.find patient
    - sds.endpoint
    - sds.device
    - provider.book appointment
`

// TestAgainstTheSandbox: our consumer finds the registered practice on
// PDS, the sandbox's reference consumer books there through SDS and the
// SSP, and the sandbox's verdict judges the whole journal.
func TestAgainstTheSandbox(t *testing.T) {
	sb := spinesandbox.Start(t, spinesandbox.WithScenarioYAML([]byte(scenario)))
	spine := Spine{PDS: sb.PDSURL(), SDS: sb.SDSURL(), SSP: sb.SSPURL(), ASID: sb.Consumer().ASID}

	ods, err := spine.RegisteredPractice(context.Background(), "9693632109")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ods, "A20047"; got != want {
		t.Fatalf("registered practice: got %q, want %q", got, want)
	}
	if err := sb.Reset(); err != nil { // the verdict judges the booking alone
		t.Fatal(err)
	}

	b, err := sb.Book(context.Background(), "9693632109")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := b.ODS, ods; got != want {
		t.Errorf("booked at %q, want %q", got, want)
	}
	if v := sb.Verdict(); !v.Passed {
		for _, f := range v.Failures {
			t.Error(f)
		}
		t.Fatalf("outcome %s", v.Outcome)
	}
	for _, h := range sb.Journal() {
		t.Logf("%s -> %s %s %d", h.From, h.To, h.Name, h.Status)
	}
}
