package scenario_test

import (
	"errors"
	"testing"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/scenario"
)

// TestLoadFaults: a live session's faults are read and checked like a
// scenario's, with the same messages at line and column.
func TestLoadFaults(t *testing.T) {
	tests := []struct {
		name, body string
		want       int    // faults read
		problem    string // the first problem, "" for none
	}{
		{"a YAML list", "- hop: ssp\n  status: 502\n- hop: pds\n  delay: 2s\n", 2, ""},
		{"a JSON list", `[{"hop":"provider","interaction":"book appointment","status":409,"spine_code":"DUPLICATE_REJECTED"}]`, 1, ""},
		{"one fault", `{"hop":"sds","drop":true}`, 1, ""},
		{"a scenario's section", "faults:\n  - hop: ssp\n    status: 503\n", 1, ""},
		{"unknown hop", "- hop: nowhere\n  status: 500\n", 0, "request body:1:8: "},
		{"a fault that does nothing", `[{"hop":"ssp"}]`, 0, "the fault does nothing"},
		{"a misspelt key", "- hop: ssp\n  stauts: 500\n", 0, "request body:2:3: "},
		{"empty", "", 0, "no faults"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs, err := scenario.LoadFaults("request body", []byte(tt.body))
			if tt.problem == "" {
				assert.NilError(t, err)
				assert.Equal(t, len(fs), tt.want, "faults")
				return
			}
			var le *scenario.LoadError
			if !errors.As(err, &le) {
				t.Fatalf("want a LoadError, got %v", err)
			}
			assert.Contains(t, le.Problems[0].String(), tt.problem, "problem")
		})
	}
}

// TestLoadFaultsOnePass: a fault whose value does not decode does not hide
// another fault's combination mistake, and is not reported twice.
func TestLoadFaultsOnePass(t *testing.T) {
	t.Parallel()
	_, err := scenario.LoadFaults("request body", []byte("- hop: ssp\n  status: lots\n- hop: pds\n  interaction: endpoint\n  status: 500\n"))
	var le *scenario.LoadError
	if !errors.As(err, &le) {
		t.Fatalf("want a LoadError, got %v", err)
	}
	assert.Equal(t, le.Error(), "request body:2:11: faults[0].status: expected a whole number, got \"lots\"\n"+
		"request body:4:16: faults: pds has no interaction \"endpoint\" (want retrieve or search)", "problems")
}
