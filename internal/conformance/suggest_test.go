package conformance_test

import (
	"testing"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/conformance"
	"github.com/spine-sandbox/spine-sandbox/internal/scenario"
)

// TestUnknownCheckSuggests: a misspelt check name in expect.checks names
// the check it is one or two letters off.
func TestUnknownCheckSuggests(t *testing.T) {
	t.Parallel()
	sc, err := scenario.Load("s.yaml", []byte("name: x\nextends: builtin\nexpect:\n  checks: {pass: [JWT_EXP_NOT_IAT_PLUS_30]}\n"))
	assert.NilError(t, err)
	ps := conformance.ScenarioProblems(sc)
	if len(ps) != 1 {
		t.Fatalf("want one problem, got %v", ps)
	}
	assert.Contains(t, ps[0].Message, `unknown check "JWT_EXP_NOT_IAT_PLUS_30" (did you mean "JWT_EXP_NOT_IAT_PLUS_300"?)`, "message")
}
