package runner

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/nsf/jsondiff"

	"github.com/spine-sandbox/spine-sandbox/internal/fhirxml"
	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/internal/journal"
	"github.com/spine-sandbox/spine-sandbox/internal/scenario"
)

// Sections of docs/scenario-format.md each rule comes from.
const (
	sectionOutcome  = "scenario-format §expect.outcome"
	sectionSequence = "scenario-format §expect.sequence"
	sectionRequests = "scenario-format §expect.requests"
	sectionChecks   = "scenario-format §expect.checks"
)

// verdict compares what happened with the scenario's expect section.
func verdict(sc *scenario.Scenario, outcome Outcome, hops []journal.Hop, fixtures string) []Failure {
	ex := sc.Expect
	if ex == nil {
		return nil
	}
	var out []Failure
	if ex.Outcome != nil {
		if !outcome.Matches(*ex.Outcome) {
			out = append(out, Failure{Rule: "outcome", Section: sectionOutcome,
				Message: fmt.Sprintf("want %s, got %s", wantedOutcome(*ex.Outcome), outcome)})
		}
	}
	if ex.Sequence != nil {
		want := make([]string, len(ex.Sequence))
		for i, s := range ex.Sequence {
			want[i] = string(s)
		}
		got := Sequence(hops)
		if !slices.Equal(want, got) {
			out = append(out, Failure{Rule: "sequence", Section: sectionSequence,
				Message: fmt.Sprintf("want %d steps, got %d; they differ", len(want), len(got)),
				Diff:    ListDiff(want, got)})
		}
	}
	for _, rq := range ex.Requests {
		if f, bad := compareRequest(rq, hops, fixtures); bad {
			out = append(out, f)
		}
	}
	if ex.Checks != nil {
		out = append(out, checkVerdicts(*ex.Checks, hops)...)
	}
	return out
}

// Sequence is the ordered PDS, SDS and provider hop names of a journal:
// what expect.sequence is compared with. The SSP hops are left out (each
// provider hop went through one), and so is the runner's own slot-taking
// request.
func Sequence(hops []journal.Hop) []string {
	// The sequence is the order requests began, not the order the journal
	// appended them (see journal.InStartOrder).
	hops = journal.InStartOrder(hops)
	var out []string
	for _, h := range hops {
		if !InSequence(h) {
			continue
		}
		out = append(out, h.Name)
	}
	return out
}

// InSequence reports whether h counts in the sequence.
func InSequence(h journal.Hop) bool {
	if h.RequestHeader.Get(takeHeader) != "" {
		return false
	}
	return h.To == journal.PDS || h.To == journal.SDS || h.To == journal.Provider
}

// RunnerHop reports whether h is the runner's own request (the slot taken
// before the consumer books it).
func RunnerHop(h journal.Hop) bool { return h.RequestHeader.Get(takeHeader) != "" }

// ListDiff shows two lists line by line: "  " in both, "- " only wanted,
// "+ " only got (a longest-common-subsequence diff).
func ListDiff(want, got []string) string {
	n, m := len(want), len(got)
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if want[i] == got[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var b strings.Builder
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && want[i] == got[j]:
			fmt.Fprintf(&b, "  %s\n", want[i])
			i, j = i+1, j+1
		case j < m && (i == n || lcs[i][j+1] >= lcs[i+1][j]):
			fmt.Fprintf(&b, "+ %s\n", got[j])
			j++
		default:
			fmt.Fprintf(&b, "- %s\n", want[i])
			i++
		}
	}
	return b.String()
}

// compareRequest compares the body of the first request of the interaction
// the consumer sent (to the SSP) with the fixture. A fixture named *.xml is
// FHIR XML: the body sent must be FHIR XML too, and both are compared as
// the JSON they convert to (internal/fhirxml), by the same rules.
func compareRequest(rq scenario.Request, hops []journal.Hop, fixtures string) (Failure, bool) {
	fail := func(format string, args ...any) (Failure, bool) {
		return Failure{Rule: "request", Section: sectionRequests, Message: fmt.Sprintf("request %s: ", gpc.Interaction(rq.Interaction).Name()) + fmt.Sprintf(format, args...)}, true
	}
	var body string
	found := false
	for _, h := range hops {
		if h.Interaction == string(rq.Interaction) && h.From == journal.Consumer && !RunnerHop(h) {
			body, found = h.RequestBody, true
			break
		}
	}
	if !found {
		return fail("the consumer never sent it")
	}
	want, err := os.ReadFile(filepath.Join(fixtures, filepath.FromSlash(string(rq.Body))))
	if err != nil {
		return fail("fixture: %v", err)
	}
	got := []byte(body)
	if strings.HasSuffix(string(rq.Body), ".xml") {
		if got, err = fhirxml.XMLToJSON(got); err != nil {
			return fail("the body sent is not FHIR XML, as fixture %s is: %v", rq.Body, err)
		}
		if want, err = fhirxml.XMLToJSON(want); err != nil {
			return fail("fixture %s is not FHIR XML: %v", rq.Body, err)
		}
	}
	gotJSON, err := strip(got, rq.Ignore)
	if err != nil {
		return fail("the body sent is not JSON: %v", err)
	}
	wantJSON, err := strip(want, rq.Ignore)
	if err != nil {
		return fail("fixture %s is not JSON: %v", rq.Body, err)
	}
	opts := jsondiff.DefaultConsoleOptions()
	opts.Added = jsondiff.Tag{Begin: "+[", End: "]"}
	opts.Removed = jsondiff.Tag{Begin: "-[", End: "]"}
	opts.Changed = jsondiff.Tag{Begin: "~[", End: "]"}
	diff, text := jsondiff.Compare(gotJSON, wantJSON, &opts)
	switch {
	case diff == jsondiff.FullMatch:
		return Failure{}, false
	case diff == jsondiff.SupersetMatch && rq.Match == "superset":
		return Failure{}, false
	}
	f, _ := fail("body differs from fixture %s (match %s): %s", rq.Body, matchName(rq.Match), diff)
	f.Diff = text
	return f, true
}

func matchName(m scenario.Enum) string {
	if m == "" {
		return "exact"
	}
	return string(m)
}

// strip decodes JSON, removes the ignored dot paths (descending into every
// element of a list on the way) and encodes it again.
func strip(b []byte, ignore []string) ([]byte, error) {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, err
	}
	for _, p := range ignore {
		v = remove(v, strings.Split(p, "."))
	}
	return json.Marshal(v)
}

func remove(v any, path []string) any {
	switch x := v.(type) {
	case map[string]any:
		if len(path) == 1 {
			delete(x, path[0])
		} else if c, ok := x[path[0]]; ok {
			x[path[0]] = remove(c, path[1:])
		}
	case []any:
		if i, err := strconv.Atoi(path[0]); err == nil && i >= 0 && i < len(x) {
			if len(path) == 1 {
				return append(x[:i:i], x[i+1:]...)
			}
			x[i] = remove(x[i], path[1:])
			return x
		}
		for i := range x {
			x[i] = remove(x[i], path)
		}
	}
	return v
}

// checkVerdicts: a check in pass must not have failed on any hop; one in
// fire must have failed on at least one.
func checkVerdicts(c scenario.Checks, hops []journal.Hop) []Failure {
	// The first failure of each check: where it fired, its spec section
	// and what it said.
	type firing struct{ hop, section, message string }
	failed := map[string]firing{}
	for _, h := range journal.InStartOrder(hops) {
		for _, v := range h.Checks {
			if _, seen := failed[v.Check]; !v.Passed && !seen {
				failed[v.Check] = firing{h.Name, v.Section, v.Message}
			}
		}
	}
	var out []Failure
	for _, name := range c.Pass {
		if f, ok := failed[name]; ok {
			out = append(out, Failure{Rule: "checks.pass", Section: sectionChecks,
				Message: fmt.Sprintf("check %s fired but must pass: on %s (%s): %s", name, f.hop, f.section, f.message)})
		}
	}
	for _, name := range c.Fire {
		if _, ok := failed[name]; !ok {
			out = append(out, Failure{Rule: "checks.fire", Section: sectionChecks, Message: fmt.Sprintf("check %s never fired but must", name)})
		}
	}
	return out
}
