package ssp

import (
	"testing"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/spinerules"
)

// TestPipelineOrder: the SSP runs exactly the checks internal/spinerules
// lists (the judge's and the docs' list), in that order.
func TestPipelineOrder(t *testing.T) {
	t.Parallel()
	assert.DeepEqual(t, Checks, spinerules.SSPChecks, "the pipeline's checks")
}
