package runner

import (
	"bytes"
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/nsf/jsondiff"

	"github.com/spine-sandbox/spine-sandbox/internal/fhirxml"
	"github.com/spine-sandbox/spine-sandbox/internal/journal"
	"github.com/spine-sandbox/spine-sandbox/internal/sandbox"
	"github.com/spine-sandbox/spine-sandbox/internal/scenario"
)

// TestLibraryBodiesRoundTripXML runs the scenario library and converts
// every JSON body the provider answered and every JSON body the consumer
// sent it (GP Connect STU3) to FHIR XML and back: the JSON must come back
// the same (members in any order, numbers as written).
func TestLibraryBodiesRoundTripXML(t *testing.T) {
	t.Parallel()
	lib, err := scenario.LoadDir("../../scenarios")
	if err != nil {
		t.Fatal(err)
	}
	// Whole bodies: a two-week slot search is larger than a hop keeps by
	// default.
	limits := sandbox.Limits{BodyKept: 4 << 20, JournalBytes: 64 << 20}
	results := Run(context.Background(), lib, Options{FixtureDir: "../../fixtures", Parallel: 2, limits: limits})
	seen := map[string]bool{}
	checked, answers := 0, map[string]int{}
	for _, res := range results {
		for _, h := range res.Hops {
			if h.To != journal.Provider {
				continue
			}
			for _, body := range []string{h.RequestBody, h.ResponseBody} {
				b := strings.TrimSpace(body)
				if !strings.HasPrefix(b, "{") || seen[b] {
					continue
				}
				if strings.HasSuffix(b, journal.Truncated) {
					t.Errorf("%s: %s: a body was clipped by the journal, so it cannot be compared", res.Scenario.File, h.Name)
					continue
				}
				seen[b] = true
				roundTripJSON(t, res.Scenario.File+" "+h.Name, []byte(b))
				checked++
				var head struct{ ResourceType string }
				_ = json.Unmarshal([]byte(b), &head)
				answers[head.ResourceType]++
			}
		}
	}
	t.Logf("%d distinct bodies round-tripped: %v", checked, answers)
	for _, rt := range []string{"Bundle", "Appointment", "CapabilityStatement", "OperationOutcome", "Parameters"} {
		if answers[rt] == 0 {
			t.Errorf("the library produced no %s to round-trip", rt)
		}
	}
}

func roundTripJSON(t *testing.T, where string, body []byte) {
	t.Helper()
	x, err := fhirxml.JSONToXML(body)
	if err != nil {
		t.Errorf("%s: JSONToXML: %v", where, err)
		return
	}
	back, err := fhirxml.XMLToJSON(x)
	if err != nil {
		t.Errorf("%s: XMLToJSON: %v\n%s", where, err, x)
		return
	}
	var a, b any
	for _, p := range []struct {
		raw []byte
		v   *any
	}{{body, &a}, {back, &b}} {
		d := json.NewDecoder(bytes.NewReader(p.raw))
		d.UseNumber()
		if err := d.Decode(p.v); err != nil {
			t.Fatalf("%s: not JSON: %v", where, err)
		}
	}
	if !reflect.DeepEqual(a, b) {
		opts := jsondiff.DefaultConsoleOptions()
		_, diff := jsondiff.Compare(back, body, &opts)
		t.Errorf("%s: JSON → XML → JSON differs:\n%s", where, diff)
	}
}
