package scenario

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
)

// tamperBase ends in run.tamper's list; a case appends its items. The
// first item is on line 7.
const tamperBase = `name: t
extends: builtin
run:
  nhs_number: "9693632109"
  tamper:
`

func TestTamperLoads(t *testing.T) {
	t.Parallel()
	s, err := Load("s.yaml", []byte(tamperBase+`    - hop: ssp
      interaction: book appointment
      times: 1
      method: DELETE
      target: "http://127.0.0.1:1/provider/X/STU3/1/gpconnect"
      path: /Appointment/999
      query: {set: {start: not-a-date, "_include": [a, b]}, del: [status]}
      headers: {set: {Ssp-To: "999999999999"}, del: [Ssp-From]}
      content_type: text/plain
      jwt: {set: {aud: "https://wrong.invalid/", exp: 12}, del: [reason_for_request], header: {alg: HS256}, signature: abc}
      body: {set: {/status: proposed, /participant/0: {actor: null}}, del: ["/participant/1"]}
    - {hop: pds, interaction: retrieve, path: /Patient/9000000009}
    - {hop: ssp, reuse_trace_id: true}
`))
	assert.NilError(t, err)
	tp := s.Run.Tamper
	assert.Equal(t, len(tp), 3, "tampers")
	assert.Equal(t, tp[0].InteractionID, gpc.CreateAppointment, "interaction")
	assert.Equal(t, tp[0].ServiceRoot, "http://127.0.0.1:1/provider/X/STU3/1/gpconnect", "target")
	assert.DeepEqual(t, tp[0].Query.Set, Values{{"start", []string{"not-a-date"}}, {"_include", []string{"a", "b"}}}, "query set")
	assert.DeepEqual(t, tp[0].Headers.Del, []string{"Ssp-From"}, "headers del")
	assert.DeepEqual(t, tp[0].JWT.Set, JSONValues{{"aud", json.RawMessage(`"https://wrong.invalid/"`)}, {"exp", json.RawMessage(`12`)}}, "jwt set")
	assert.Equal(t, *tp[0].JWT.Signature, "abc", "signature")
	assert.DeepEqual(t, tp[0].Body.Set, JSONValues{{"/status", json.RawMessage(`"proposed"`)}, {"/participant/0", json.RawMessage(`{"actor":null}`)}}, "body set")
	assert.Equal(t, tp[1].Interaction, "retrieve", "pds request")
	assert.Equal(t, tp[2].ReuseTraceID, true, "reuse")
}

func TestTamperProblems(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, src string
		want      []Problem
	}{
		{"hop required", "    - {method: GET}\n",
			[]Problem{{Line: 6, Column: 7, Message: `scenario.run.tamper[0]: missing required key "hop"`}}},
		{"provider hop refused", "    - {hop: provider, method: GET}\n",
			[]Problem{{Line: 6, Column: 13, Message: "run.tamper[0]: the consumer sends nothing to provider directly; tamper with its requests to pds, sds or ssp"}}},
		{"unknown pds request", "    - {hop: pds, interaction: endpoint, method: GET}\n",
			[]Problem{{Line: 6, Column: 31, Message: `run.tamper[0]: pds has no request "endpoint" (want retrieve or search)`}}},
		{"unknown ssp interaction", "    - {hop: ssp, interaction: fly, method: GET}\n",
			[]Problem{{Line: 6, Column: 31, Message: `run.tamper[0]: unknown interaction "fly" (use a name such as "book appointment" or a URN)`}}},
		{"does nothing", "    - {hop: ssp, times: 2}\n",
			[]Problem{{Line: 6, Column: 7, Message: "run.tamper[0]: the tamper changes nothing (give method, target, path, query, headers, content_type, jwt, body, format or reuse_trace_id)"}}},
		{"jwt on sds", "    - {hop: sds, jwt: {signature: x}}\n",
			[]Problem{{Line: 6, Column: 23, Message: "run.tamper[0]: jwt applies to ssp requests only"}}},
		{"target on pds", "    - {hop: pds, target: http://x}\n",
			[]Problem{{Line: 6, Column: 26, Message: "run.tamper[0]: target applies to ssp requests only"}}},
		{"format on pds", "    - {hop: pds, format: xml}\n",
			[]Problem{{Line: 6, Column: 26, Message: "run.tamper[0]: format applies to ssp requests only"}}},
		{"format json", "    - {hop: ssp, format: json}\n",
			[]Problem{{Line: 6, Column: 26, Message: `run.tamper[0]: format "json": the only format a tamper can switch to is xml (the consumer speaks JSON)`}}},
		{"bad method", "    - {hop: ssp, method: \"GE T\"}\n",
			[]Problem{{Line: 6, Column: 26, Message: `run.tamper[0]: method "GE T" is not an HTTP token`}}},
		{"path without slash", "    - {hop: ssp, path: Appointment}\n",
			[]Problem{{Line: 6, Column: 24, Message: `run.tamper[0]: path "Appointment" must start with /`}}},
		{"negative times", "    - {hop: ssp, method: GET, times: -1}\n",
			[]Problem{{Line: 6, Column: 38, Message: "run.tamper[0]: times must not be negative"}}},
		{"body pointer without slash", "    - {hop: ssp, body: {set: {status: x}}}\n",
			[]Problem{{Line: 6, Column: 30, Message: `run.tamper[0].body.set: JSON Pointer "status" must start with / (or be empty for the whole document)`}}},
		{"body pointer bad escape", "    - {hop: ssp, body: {del: [\"/a~2\"]}}\n",
			[]Problem{{Line: 6, Column: 30, Message: `run.tamper[0].body.del: JSON Pointer "/a~2": ~ must be followed by 0 or 1 (RFC 6901 §3)`}}},
		{"empty body edit", "    - {hop: ssp, body: {}}\n",
			[]Problem{{Line: 6, Column: 24, Message: "run.tamper[0].body: give set or del"}}},
		{"bad header name", "    - {hop: ssp, headers: {set: {\"Bad Name\": x}}}\n",
			[]Problem{{Line: 6, Column: 33, Message: `run.tamper[0].headers.set: "Bad Name" is not a header name`}}},
		{"header value not a string", "    - {hop: ssp, headers: {set: {Ssp-To: {a: b}}}}\n",
			[]Problem{{Line: 6, Column: 42, Message: `scenario.run.tamper[0].headers.set.Ssp-To: expected a string or a list of strings, got a mapping`}}},
		{"query set listed twice", "    - {hop: ssp, query: {set: {a: x, a: y}}}\n",
			[]Problem{{Line: 6, Column: 38, Message: `scenario.run.tamper[0].query.set: "a" listed twice`}}},
		{"reuse contradicts header edit", "    - {hop: ssp, reuse_trace_id: true, headers: {del: [ssp-traceid]}}\n",
			[]Problem{{Line: 6, Column: 34, Message: "run.tamper[0]: reuse_trace_id and a headers edit of Ssp-TraceID contradict each other"}}},
		{"unknown key", "    - {hop: ssp, verb: GET}\n",
			[]Problem{{Line: 6, Column: 18, Message: `scenario.run.tamper[0]: unknown key "verb" (known: hop, interaction, times, reuse_trace_id, headers, content_type, jwt, method, target, path, query, body, format)`}}},
		{"jwt header pointer", "    - {hop: ssp, jwt: {header: {/alg: x}}}\n",
			[]Problem{{Line: 6, Column: 32, Message: `run.tamper[0].jwt.header: "/alg": header fields are plain names`}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			src := tamperBase + tt.src
			got := problems(t, src)
			for i := range tt.want {
				tt.want[i].File = "s.yaml"
			}
			assert.DeepEqual(t, got, tt.want, "problems")
			if t.Failed() {
				showProblems(t, src, got)
			}
		})
	}
}

func TestTamperRefusedForExternalConsumer(t *testing.T) {
	t.Parallel()
	got := problems(t, "name: t\nextends: builtin\nrun:\n  consumer: external\n  tamper: [{hop: ssp, method: GET}]\n")
	assert.DeepEqual(t, got, []Problem{{"s.yaml", 5, 11, "run: tamper edits the built-in consumer's requests; an external consumer sends its own"}}, "problems")
}

func TestPointerTokens(t *testing.T) {
	t.Parallel()
	got, err := PointerTokens("/a~1b/~0c/0")
	assert.NilError(t, err)
	assert.DeepEqual(t, got, []string{"a/b", "~c", "0"}, "tokens")
	assert.Equal(t, ClaimPointer("a/b~"), "/a~1b~0", "claim pointer")
	assert.Equal(t, ClaimPointer("/x/y"), "/x/y", "pointer kept")
}

func TestOutcomeReason(t *testing.T) {
	t.Parallel()
	s, err := Load("s.yaml", []byte("name: t\nextends: builtin\nexpect:\n  outcome: {error: {hop: pds, status: 200, reason: deceased}}\n"))
	assert.NilError(t, err)
	assert.Equal(t, s.Expect.Outcome.Error.Reason, Enum("deceased"), "reason")
	got := problems(t, "name: t\nextends: builtin\nexpect:\n  outcome: {error: {hop: pds, status: 200, reason: dead}}\n")
	assert.DeepEqual(t, got, []Problem{{"s.yaml", 4, 52, `scenario.expect.outcome.error.reason: "dead" is not one of ` + strings.Join(Reasons, ", ")}}, "problems")
	for _, o := range []string{OutcomeCancelled, OutcomeAmended} {
		s, err := Load("s.yaml", []byte("name: t\nextends: builtin\nexpect: {outcome: "+o+"}\n"))
		assert.NilError(t, err)
		assert.Equal(t, s.Expect.Outcome.Kind, o, "outcome")
	}
}

func TestActionProblems(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, src string
		want      []Problem
	}{
		{"slots needs a patient or a practice", "run: {action: slots}\n",
			[]Problem{{Line: 3, Column: 6, Message: "run: action slots needs nhs_number (to trace the registered practice) or ods"}}},
		{"appointment only for cancel and amend", "run: {nhs_number: \"9693632109\", appointment: \"90\"}\n",
			[]Problem{{Line: 3, Column: 46, Message: "run: appointment is for the cancel and amend actions, not book"}}},
		{"slots count needs the slots action", "run: {nhs_number: \"9693632109\"}\nexpect: {slots: 3}\n",
			[]Problem{{Line: 4, Column: 17, Message: "expect.slots counts what run.action slots finds; this run does not do slots"}}},
		{"negative appointments count", "run: {action: appointments, nhs_number: \"9693632109\"}\nexpect: {appointments: -1}\n",
			[]Problem{{Line: 4, Column: 24, Message: "expect.appointments must not be negative"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			src := "name: t\nextends: builtin\n" + tt.src
			got := problems(t, src)
			for i := range tt.want {
				tt.want[i].File = "s.yaml"
			}
			assert.DeepEqual(t, got, tt.want, "problems")
			if t.Failed() {
				showProblems(t, src, got)
			}
		})
	}
	s, err := Load("s.yaml", []byte("name: t\nextends: builtin\nrun: {action: slots, ods: A20047}\nexpect: {outcome: ok, slots: 0}\n"))
	assert.NilError(t, err)
	assert.Equal(t, *s.Expect.Slots, 0, "slots")
}
