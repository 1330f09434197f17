package runner

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/scenario"
)

func load(t *testing.T, name, text string) *scenario.Scenario {
	t.Helper()
	sc, err := scenario.Load(name+".yaml", []byte(text))
	assert.NilError(t, err)
	return sc
}

const happy = `name: happy
extends: builtin
run:
  nhs_number: "9693632109"
  from: +1d
  to: +8d
  prefer: {first: true}
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

func TestRunHappyPath(t *testing.T) {
	t.Parallel()
	res := Run(context.Background(), []*scenario.Scenario{load(t, "happy", happy)}, Options{})
	assert.Equal(t, len(res), 1, "results")
	var out bytes.Buffer
	Print(&out, res, time.Second)
	if !res[0].Passed {
		t.Fatalf("happy path failed:\n%s", out.String())
	}
	assert.Equal(t, res[0].Outcome, "booked", "outcome")
	assert.Contains(t, out.String(), "✓ provider.book appointment → 201", "console")
	assert.Contains(t, out.String(), "1 passed, 0 failed", "console")
}
