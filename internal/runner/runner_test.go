package runner

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
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

// happy is the happy path: a booking with a record at the registered
// practice, its outcome and its sequence.
const happy = "name: happy\n" + bookRun + "expect:\n  outcome: booked\n" + bookSeq

func TestRunHappyPath(t *testing.T) {
	t.Parallel()
	res := Run(context.Background(), []*scenario.Scenario{load(t, "happy", happy)}, Options{})
	assert.Equal(t, len(res), 1, "results")
	var out bytes.Buffer
	Print(&out, res, time.Second)
	if !res[0].Passed {
		t.Fatalf("happy path failed:\n%s", out.String())
	}
	assert.Equal(t, res[0].Outcome.String(), "booked", "outcome")
	assert.Contains(t, out.String(), "✓ provider.book appointment → 201", "console")
	assert.Contains(t, out.String(), "1 passed, 0 failed", "console")
}

// bookSeq is the sequence of a booking with a record at the registered
// practice: the consumer looks each interaction up on SDS before its first
// call (service roots are per interaction).
const bookSeq = `  sequence:
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

const bookRun = `extends: builtin
run:
  nhs_number: "9693632109"
  from: +1d
  to: +8d
  prefer: {first: true}
`

const tamperSspTo = `  tamper:
    - hop: ssp
      interaction: book appointment
      headers: {set: {Ssp-To: "999999999999"}}
`

// TestVerdicts runs scenarios whose expectations are right or wrong in
// one way each, and checks the verdict names the broken rule.
func TestVerdicts(t *testing.T) {
	t.Parallel()
	fixtures := t.TempDir()
	write := func(name, body string) {
		assert.NilError(t, os.MkdirAll(filepath.Join(fixtures, "book"), 0o755))
		assert.NilError(t, os.WriteFile(filepath.Join(fixtures, "book", name), []byte(body), 0o644))
	}
	write("subset.json", `{"resourceType": "Appointment", "status": "booked"}`)
	write("differs.json", `{"resourceType": "Appointment", "status": "cancelled"}`)
	write("notjson.json", `{`)
	cases := []struct {
		name     string
		yaml     string
		wantRule string // "" when the scenario must pass
		wantText string // in the failure message or diff
	}{
		{"right expectations pass", bookRun + "expect:\n  outcome: booked\n" + bookSeq, "", ""},
		{"wrong outcome", bookRun + "expect:\n  outcome: {error: {hop: pds, status: 404, code: RESOURCE_NOT_FOUND}}\n", "outcome",
			"want error pds 404 RESOURCE_NOT_FOUND, got booked"},
		{"wrong sequence", bookRun + "expect:\n  sequence: [pds.retrieve, sds.endpoint, sds.device, provider.read metadata, provider.book appointment]\n", "sequence",
			"+ provider.search free slots"},
		{"request superset of the fixture", bookRun + "expect:\n  requests:\n    - {interaction: book appointment, body: book/subset.json, match: superset}\n", "", ""},
		{"request differs from the fixture", bookRun + "expect:\n  requests:\n    - {interaction: book appointment, body: book/differs.json, match: superset}\n", "request",
			"body differs from fixture book/differs.json"},
		{"exact match refuses extra fields", bookRun + "expect:\n  requests:\n    - {interaction: book appointment, body: book/subset.json}\n", "request",
			"match exact"},
		{"fixture missing", bookRun + "expect:\n  requests:\n    - {interaction: book appointment, body: book/none.json}\n", "request", "fixture:"},
		{"fixture not JSON", bookRun + "expect:\n  requests:\n    - {interaction: book appointment, body: book/notjson.json}\n", "request", "is not JSON"},
		{"request never sent", bookRun + "expect:\n  requests:\n    - {interaction: cancel appointment, body: book/subset.json}\n", "request", "never sent"},
		{"check that must fire did not", bookRun + "expect:\n  checks: {fire: [JWT_EXP_NOT_IAT_PLUS_300]}\n", "checks.fire", "never fired"},
		{"check that must pass fired", "extends: builtin\nrun:\n  nhs_number: \"9693632109\"\n  tamper: [{hop: ssp, interaction: book appointment, reuse_trace_id: true}]\nexpect:\n  checks: {pass: [JOURNEY_TRACEID_REUSED]}\n", "checks.pass",
			"check JOURNEY_TRACEID_REUSED fired but must pass: on ssp.book appointment (gpconnect-1.6.md §1.3): Ssp-TraceID '"},
		{"external consumer does nothing", "extends: builtin\nrun: {consumer: external}\nexpect:\n  outcome: none\n  sequence: []\n", "", ""},
		{"expected error without code matches any code", "extends: builtin\nrun: {nhs_number: \"9111231130\"}\nexpect:\n  outcome: {error: {hop: pds, status: 404}}\n", "", ""},
		{"no free slot in the window is outcome none", "extends: builtin\nrun: {nhs_number: \"9693632109\", from: +40d, to: +47d}\nexpect:\n  outcome: none\n", "", ""},
		// Reasons tell apart errors with the same hop and status.
		{"right reason passes", "extends: builtin\nrun: {nhs_number: \"9000000009\"}\nexpect:\n  outcome: {error: {hop: pds, status: 200, reason: deceased}}\n", "", ""},
		{"wrong reason fails", "extends: builtin\nrun: {nhs_number: \"9000000009\"}\nexpect:\n  outcome: {error: {hop: pds, status: 200, reason: restricted}}\n", "outcome",
			"want error pds 200 (restricted), got error pds 200 (deceased)"},
		{"reason with a code", "extends: builtin\nrun: {nhs_number: \"9111231130\"}\nexpect:\n  outcome: {error: {hop: pds, status: 404, code: RESOURCE_NOT_FOUND, reason: invalidated}}\n", "outcome",
			"want error pds 404 RESOURCE_NOT_FOUND (invalidated), got error pds 404 RESOURCE_NOT_FOUND (patient-not-found)"},
		// run.tamper (issue 5): the SSP's answers to faulty requests.
		{"tampered Ssp-To is refused by the SSP", bookRun + tamperSspTo +
			"expect:\n  outcome: {error: {hop: ssp, status: 403, code: PARTYKEY_INTERACTION_CHECK_FAILED_MESSAGERECEIVER_999999999999}}\n", "", ""},
		{"tampered Ssp-To with a wrong expected code fails", bookRun + tamperSspTo +
			"expect:\n  outcome: {error: {hop: ssp, status: 403, code: ASID_CHECK_FAILED_MESSAGESENDER_200000000115}}\n", "outcome",
			"want error ssp 403 ASID_CHECK_FAILED_MESSAGESENDER_200000000115, got error ssp 403 PARTYKEY_INTERACTION_CHECK_FAILED_MESSAGERECEIVER_999999999999"},
		{"reused trace id is refused and the journey check fires", bookRun + "  tamper: [{hop: ssp, interaction: book appointment, reuse_trace_id: true}]\n" +
			"expect:\n  outcome: {error: {hop: ssp, status: 400, code: REUSED_HEADER_SSP-TRACEID}}\n  checks: {fire: [JOURNEY_TRACEID_REUSED]}\n", "", ""},
		{"tamper pointer naming nothing is a run failure", bookRun + "  tamper: [{hop: ssp, interaction: book appointment, body: {del: [/nothing]}}]\n", "run",
			`run.tamper[0] on ssp book appointment: body: del /nothing: no member "nothing"`},
		{"tamper that never matched is a run failure", bookRun + "  tamper: [{hop: ssp, interaction: cancel appointment, method: GET}]\nexpect:\n  outcome: booked\n", "run",
			"run.tamper[0] (ssp cancel appointment) matched no request the consumer sent"},
	}
	scs := make([]*scenario.Scenario, len(cases))
	for i, c := range cases {
		scs[i] = load(t, c.name, "name: "+c.name+"\n"+c.yaml)
	}
	res := Run(context.Background(), scs, Options{Parallel: 4, FixtureDir: fixtures})
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := res[i]
			var out bytes.Buffer
			Print(&out, res[i:i+1], time.Second)
			if c.wantRule == "" {
				if !r.Passed {
					t.Fatalf("want pass, got:\n%s", out.String())
				}
				return
			}
			if r.Passed {
				t.Fatalf("want failure %s, got pass:\n%s", c.wantRule, out.String())
			}
			assert.Equal(t, r.Failures[0].Rule, c.wantRule, "rule")
			assert.Contains(t, r.Failures[0].Message+"\n"+r.Failures[0].Diff, c.wantText, "failure")
			assert.Contains(t, out.String(), "0 passed, 1 failed", "summary")
		})
	}
}

func TestListDiff(t *testing.T) {
	t.Parallel()
	got := ListDiff([]string{"a", "b", "c"}, []string{"a", "x", "c", "d"})
	assert.Equal(t, got, "  a\n+ x\n- b\n  c\n+ d\n", "diff")
}

func TestStripIgnoresPathsInListsToo(t *testing.T) {
	t.Parallel()
	b, err := strip([]byte(`{"id":"1","meta":{"lastUpdated":"x","v":1},"slot":[{"id":"a","r":1},{"id":"b"}]}`), []string{"id", "meta.lastUpdated", "slot.id"})
	assert.NilError(t, err)
	assert.Equal(t, string(b), `{"meta":{"v":1},"slot":[{"r":1},{}]}`, "stripped")
}

func TestCancelledContextEndsInAnError(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res := Run(ctx, []*scenario.Scenario{load(t, "happy", happy)}, Options{Parallel: 1})
	assert.Equal(t, res[0].Passed, false, "passed")
	assert.Equal(t, res[0].Failures[0].Rule, "outcome", "rule")
	assert.Equal(t, res[0].Outcome.String(), "error pds 0 (transport)", "outcome")
}

func TestOutcomeMatches(t *testing.T) {
	t.Parallel()
	errorWant := func(hop string, status int, code, reason string) scenario.Outcome {
		return scenario.Outcome{Kind: scenario.OutcomeError, Error: &scenario.ErrorOutcome{Hop: scenario.Hop(hop), Status: status, Code: code, Reason: scenario.Enum(reason)}}
	}
	errorGot := func(hop string, status int, code, reason string) Outcome {
		return Outcome{Kind: scenario.OutcomeError, Hop: hop, Status: status, Code: code, Reason: reason}
	}
	cases := []struct {
		want  scenario.Outcome
		got   Outcome
		match bool
	}{
		{scenario.Outcome{Kind: "booked"}, outcomeKind("booked"), true},
		{scenario.Outcome{Kind: "booked"}, outcomeKind("none"), false},
		{scenario.Outcome{Kind: "none"}, errorGot("pds", 200, "", "deceased"), false},
		{errorWant("pds", 200, "", ""), outcomeKind("none"), false},
		{errorWant("pds", 200, "", ""), errorGot("pds", 200, "", "deceased"), true},
		{errorWant("pds", 200, "", "deceased"), errorGot("pds", 200, "", "deceased"), true},
		{errorWant("pds", 200, "", "restricted"), errorGot("pds", 200, "", "deceased"), false},
		{errorWant("pds", 404, "", ""), errorGot("pds", 404, "RESOURCE_NOT_FOUND", "patient-not-found"), true},
		{errorWant("pds", 404, "", "patient-not-found"), errorGot("pds", 404, "RESOURCE_NOT_FOUND", "patient-not-found"), true},
		{errorWant("pds", 404, "INVALIDATED_RESOURCE", ""), errorGot("pds", 404, "RESOURCE_NOT_FOUND", "patient-not-found"), false},
		{errorWant("pds", 404, "", ""), errorGot("sds", 404, "", ""), false},
		{errorWant("pds", 404, "", ""), errorGot("pds", 400, "", ""), false},
		{errorWant("ssp", 403, "", "remote"), errorGot("ssp", 403, "X", ""), false}, // an external consumer's outcome has no reason
		{errorWant("ssp", 405, "", ""), errorGot("ssp", 405, "405: Method Not Allowed", "remote"), true},
		{errorWant("ssp", 405, "405: Method Not Allowed", ""), errorGot("ssp", 405, "405: Method Not Allowed", "remote"), true},
		{errorWant("ssp", 405, "405: Method Allowed", ""), errorGot("ssp", 405, "405: Method Not Allowed", "remote"), false},
		{errorWant("ssp", 405, "405:", ""), errorGot("ssp", 405, "405: Method Not Allowed", "remote"), false},
		// An error that is not the consumer's matches nothing.
		{errorWant("pds", 0, "", ""), Outcome{Kind: scenario.OutcomeError, Err: "boom"}, false},
	}
	for _, c := range cases {
		assert.Equal(t, c.got.Matches(c.want), c.match, wantedOutcome(c.want).String()+" vs "+c.got.String())
	}
}

// TestOutcomeString: reports word outcomes as they always have.
func TestOutcomeString(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		o    Outcome
		want string
	}{
		{outcomeKind("booked"), "booked"},
		{Outcome{Kind: "error", Hop: "pds", Status: 0, Reason: "transport"}, "error pds 0 (transport)"},
		{Outcome{Kind: "error", Hop: "ssp", Status: 405, Code: "405: Method Not Allowed", Reason: "remote"}, "error ssp 405 405: Method Not Allowed (remote)"},
		{Outcome{Kind: "error", Hop: "ssp", Status: 403, Code: "X"}, "error ssp 403 X"},
		{Outcome{Kind: "error", Err: "boom"}, "error: boom"},
		{Outcome{}, ""},
	} {
		assert.Equal(t, c.o.String(), c.want, c.want)
		b, err := json.Marshal(c.o)
		assert.NilError(t, err)
		assert.Equal(t, string(b), strconv.Quote(c.want), "JSON of "+c.want)
	}
}

// Every consumer failure kind has a reason the scenario schema accepts,
// and every accepted reason is reachable.
func TestReasonsMatchTheSchema(t *testing.T) {
	t.Parallel()
	var got []string
	for _, r := range reasons {
		got = append(got, r)
	}
	slices.Sort(got)
	got = slices.Compact(got) // a provider without the record is patient-not-found too
	want := slices.Sorted(slices.Values(scenario.Reasons))
	assert.DeepEqual(t, got, want, "reasons")
}

// TestActionScenarios runs the repository's scenario for each non-booking
// action as written (it must pass) and with one expectation made wrong
// (it must fail on that rule): the mutation check of issue 5.
func TestActionScenarios(t *testing.T) {
	t.Parallel()
	cases := []struct {
		file, from, to, wantRule, wantText string
	}{
		{"action-slots.yaml", "  slots: 4\n", "  slots: 5\n", "slots", "want 5, got 4"},
		{"action-appointments.yaml", "  appointments: 2\n", "  appointments: 1\n", "appointments", "want 1, got 2"},
		{"action-cancel.yaml", "outcome: cancelled", "outcome: amended", "outcome", "want amended, got cancelled"},
		{"action-amend-existing.yaml", `appointment: "90"`, `appointment: "99"`, "outcome", "want amended, got error provider 404"},
	}
	var scs []*scenario.Scenario
	for _, c := range cases {
		b, err := os.ReadFile(filepath.Join("..", "..", "scenarios", c.file))
		assert.NilError(t, err)
		scs = append(scs, load(t, c.file, string(b)))
		if !strings.Contains(string(b), c.from) {
			t.Fatalf("%s does not contain %q", c.file, c.from)
		}
		scs = append(scs, load(t, "mutated "+c.file, strings.Replace(string(b), c.from, c.to, 1)))
	}
	res := Run(context.Background(), scs, Options{Parallel: 4})
	for i, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			good, bad := res[2*i], res[2*i+1]
			var out bytes.Buffer
			Print(&out, []Result{good, bad}, time.Second)
			if !good.Passed || bad.Passed {
				t.Fatalf("want the scenario to pass and its mutation to fail:\n%s", out.String())
			}
			assert.Equal(t, bad.Failures[0].Rule, c.wantRule, "rule")
			assert.Contains(t, bad.Failures[0].Message, c.wantText, "failure")
		})
	}
}
