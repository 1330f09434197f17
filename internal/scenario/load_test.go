package scenario

import (
	"errors"
	"strings"
	"testing"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
)

// base is a small valid world; cases append sections or replace lines.
const base = `name: t
consumer:
  asid: "200000000115"
  ods: A1001
patients:
  - nhs_number: "9693632109"
    practice: A20047
practices:
  - ods: A20047
    name: P
    asid: "918999198993"
    party_key: A20047-1
    locations:
      - {id: L1, name: Main}
    practitioners:
      - {id: P1, name: {family: Doe}}
    schedules:
      - {id: S1, location: L1, practitioner: P1}
    records:
      - {id: R1, nhs_number: "9693632109"}
    slots:
      - {id: "100", schedule: S1, start: "+1d 09:00", end: "+1d 09:15"}
`

func problems(t *testing.T, src string) []Problem {
	t.Helper()
	_, err := Load("s.yaml", []byte(src))
	if err == nil {
		t.Fatalf("Load succeeded, want problems")
	}
	var le *LoadError
	if !errors.As(err, &le) {
		t.Fatalf("err = %T %v, want *LoadError", err, err)
	}
	return le.Problems
}

// TestLoadNHSRecord: nhs_record: true fills a patient in from NHS's record.
func TestLoadNHSRecord(t *testing.T) {
	t.Parallel()
	s, err := Load("s.yaml", []byte(strings.Replace(base, "    practice: A20047\n", "    nhs_record: true\n", 1)))
	assert.NilError(t, err)
	p := s.Patients[0]
	assert.Equal(t, p.Name.Family, "GARTON", "family")
	assert.DeepEqual(t, p.Name.Given, []string{"Bill"}, "given")
	assert.Equal(t, string(p.Gender), "female", "gender")
	assert.Equal(t, string(p.BirthDate), "1946-06-23", "birth date")
	assert.Equal(t, string(p.Practice), "A20047", "practice")
	assert.Equal(t, p.Version, 58, "version")
	assert.Equal(t, string(p.Address[0].PostalCode), "DN18 5DW", "postcode")
}

func TestLoadValidBase(t *testing.T) {
	t.Parallel()
	s, err := Load("s.yaml", []byte(base))
	assert.NilError(t, err)
	assert.Equal(t, s.File, "s.yaml", "File")
	assert.Equal(t, string(s.Patients[0].NHSNumber), "9693632109", "NHS number")
}

func TestLoadProblems(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		src  string
		want []Problem // File is always s.yaml
	}{
		{"yaml syntax error", "name: t\ndescription: a\n  b: c\n",
			[]Problem{{Line: 3, Column: 1, Message: "YAML syntax error: mapping values are not allowed in this context"}}},
		{"empty file", "", []Problem{{Line: 1, Column: 1, Message: "empty scenario file"}}},
		{"unknown top-level key", base + "colour: red\n",
			[]Problem{{Line: 23, Column: 1, Message: `scenario: unknown key "colour" (known: name, description, now, lenient, ssp_timeout, extends, consumer, patients, practices, faults, run, expect)`}}},
		{"unknown nested key", strings.Replace(base, "    practice: A20047\n", "    practice: A20047\n    nickname: Bob\n", 1),
			[]Problem{{Line: 8, Column: 5, Message: `scenario.patients[0]: unknown key "nickname" (known: nhs_number, name, birth_date, gender, practice, restricted, deceased, superseded_by, invalidated, address, telecom, version, nhs_record)`}}},
		{"list where a mapping is expected", strings.Replace(base, "  asid: \"200000000115\"\n  ods: A1001\n", "  - asid\n", 1),
			[]Problem{{Line: 3, Column: 3, Message: "scenario.consumer: expected a mapping, got a list"}}},
		{"string where a number is expected", base + "faults:\n  - {hop: pds, status: fourhundred}\n",
			[]Problem{{Line: 24, Column: 24, Message: `scenario.faults[0].status: expected a whole number, got "fourhundred"`}}},
		{"string where a bool is expected", base + "lenient: sometimes\n",
			[]Problem{{Line: 23, Column: 10, Message: `scenario.lenient: expected true or false, got "sometimes"`}}},
		{"missing required field", strings.Replace(base, "    name: P\n", "", 1),
			[]Problem{{Line: 9, Column: 5, Message: `scenario.practices[0]: missing required key "name"`}}},
		{"missing name", strings.Replace(base, "name: t\n", "", 1),
			[]Problem{{Line: 1, Column: 1, Message: `scenario: missing required key "name"`}}},
		{"nhs_record for a number NHS has no record of", strings.Replace(base, `  - nhs_number: "9693632109"`+"\n    practice: A20047\n", `  - {nhs_number: "9990000018", nhs_record: true}`+"\n", 1),
			[]Problem{{Line: 6, Column: 44, Message: `patients: NHS's PDS sandbox has no record for 9990000018 (it has 9000000009, 9000000017, 9000000025, 9000000033, 9693632109, 9733162043, 9736363015)`}}},
		{"nhs_record beside a key it fills in", strings.Replace(base, "    practice: A20047\n", "    practice: A20047\n    nhs_record: true\n", 1),
			[]Problem{{Line: 7, Column: 15, Message: `patients: practice of 9693632109 comes from NHS's record (nhs_record: true); leave it out`}}},
		{"NHS number fails Modulus 11", strings.Replace(base, `  - nhs_number: "9693632109"`, `  - nhs_number: "9693632108"`, 1),
			[]Problem{{Line: 6, Column: 17, Message: `scenario.patients[0].nhs_number: NHS number "9693632108" fails the Modulus 11 check`}}},
		{"NHS number not 10 digits", strings.Replace(base, `  - nhs_number: "9693632109"`, `  - nhs_number: 96936`, 1),
			[]Problem{{Line: 6, Column: 17, Message: `scenario.patients[0].nhs_number: NHS number "96936" must be 10 digits`}}},
		{"ASID not 12 digits", strings.Replace(base, `asid: "918999198993"`, `asid: 91899919899`, 1),
			[]Problem{{Line: 11, Column: 11, Message: `scenario.practices[0].asid: ASID "91899919899" must be 12 digits`}}},
		{"ODS code lower case", strings.Replace(base, "  ods: A1001\n", "  ods: a1001\n", 1),
			[]Problem{{Line: 4, Column: 8, Message: `scenario.consumer.ods: ODS code "a1001" must match ^[0-9A-Z]+$`}}},
		{"patient's practice does not exist", strings.Replace(base, "    practice: A20047\n", "    practice: B99999\n", 1),
			[]Problem{{Line: 7, Column: 15, Message: `patients: practice "B99999" of patient 9693632109 is not in practices`}}},
		{"duplicate NHS number", strings.Replace(base, "practices:\n", "  - nhs_number: \"9693632109\"\npractices:\n", 1),
			[]Problem{{Line: 8, Column: 17, Message: "patients: NHS number 9693632109 listed twice"}}},
		{"duplicate ODS code", base + "  - {ods: A20047, name: Q, asid: \"918999198994\", party_key: A20047-2}\n",
			[]Problem{{Line: 23, Column: 11, Message: `practices: ODS code "A20047" listed twice`}}},
		{"ASID shared with the consumer", base + "  - {ods: B1, name: Q, asid: \"200000000115\", party_key: B1-2}\n",
			[]Problem{{Line: 23, Column: 30, Message: `practices: ASID "200000000115" is already used by the consumer`}}},
		{"duplicate slot id", base + "      - {id: \"100\", schedule: S1, start: \"+2d 09:00\", length: 15m}\n",
			[]Problem{{Line: 23, Column: 14, Message: `practices[A20047].slots: id "100" listed twice`}}},
		{"schedule at a missing location", strings.Replace(base, "location: L1", "location: L9", 1),
			[]Problem{{Line: 18, Column: 28, Message: `practices[A20047].schedules: location "L9" of schedule "S1" is not a location of this practice`}}},
		{"schedule for a missing practitioner", strings.Replace(base, "practitioner: P1", "practitioner: P9", 1),
			[]Problem{{Line: 18, Column: 46, Message: `practices[A20047].schedules: practitioner "P9" of schedule "S1" is not a practitioner of this practice`}}},
		{"slot in a missing schedule", strings.Replace(base, `schedule: S1, start`, `schedule: S2, start`, 1),
			[]Problem{{Line: 22, Column: 31, Message: `practices[A20047].slots: schedule "S2" of slot "100" is not a schedule of this practice`}}},
		{"slot ends before it starts", strings.Replace(base, `end: "+1d 09:15"`, `end: "+1d 08:45"`, 1),
			[]Problem{{Line: 22, Column: 60, Message: `practices[A20047].slots: slot "100" ends (+1d 08:45) before or when it starts (+1d 09:00)`}}},
		{"slot without end or length", strings.Replace(base, `, end: "+1d 09:15"`, ``, 1),
			[]Problem{{Line: 22, Column: 9, Message: `practices[A20047].slots: slot "100" needs end or length`}}},
		{"bad relative date", strings.Replace(base, `start: "+1d 09:00"`, `start: "+1x 09:00"`, 1),
			[]Problem{{Line: 22, Column: 42, Message: `scenario.practices[0].slots[0].start: bad relative date "+1x 09:00" (write e.g. +1d 09:00, today 14:00, next monday 09:00, -3d, now, +2h or 2026-12-01T09:00:00+00:00)`}}},
		{"bad time of day in a date", strings.Replace(base, `start: "+1d 09:00"`, `start: "+1d 25:00"`, 1),
			[]Problem{{Line: 22, Column: 42, Message: `scenario.practices[0].slots[0].start: bad time of day "25:00" in date "+1d 25:00" (want HH:MM)`}}},
		{"bad weekday", strings.Replace(base, `start: "+1d 09:00"`, `start: "next funday"`, 1),
			[]Problem{{Line: 22, Column: 42, Message: `scenario.practices[0].slots[0].start: bad relative date "next funday": "funday" is not a weekday`}}},
		{"bad duration", strings.Replace(base, `end: "+1d 09:15"`, `length: 15 minutes`, 1),
			[]Problem{{Line: 22, Column: 63, Message: `scenario.practices[0].slots[0].length: bad duration "15 minutes" (write e.g. 15m, 1h, 1h30m, 500ms)`}}},
		{"date of birth not yyyy-mm-dd", strings.Replace(base, "    practice: A20047\n", "    practice: A20047\n    birth_date: 23/06/1946\n", 1),
			[]Problem{{Line: 8, Column: 17, Message: `scenario.patients[0].birth_date: date "23/06/1946" is not yyyy-mm-dd`}}},
		{"gender not in the list", strings.Replace(base, "    practice: A20047\n", "    practice: A20047\n    gender: M\n", 1),
			[]Problem{{Line: 8, Column: 13, Message: `scenario.patients[0].gender: "M" is not one of male, female, other, unknown`}}},
		{"unknown interaction", strings.Replace(base, "  ods: A1001\n", "  ods: A1001\n  interactions: [book appointment, teleport patient]\n", 1),
			[]Problem{{Line: 5, Column: 36, Message: `scenario.consumer.interactions[1]: unknown interaction "teleport patient" (use a name such as "book appointment" or a URN)`}}},
		{"unknown delivery channel", strings.Replace(base, `end: "+1d 09:15"}`, `end: "+1d 09:15", channel: Carrier pigeon}`, 1),
			[]Problem{{Line: 22, Column: 82, Message: `scenario.practices[0].slots[0].channel: unknown delivery channel "Carrier pigeon" (want In-person, Telephone or Video)`}}},
		{"unknown hop in faults", base + "faults:\n  - {hop: dns, status: 500}\n",
			[]Problem{{Line: 24, Column: 11, Message: `scenario.faults[0].hop: unknown hop "dns" (want pds, sds, ssp or provider)`}}},
		{"fault at an sds interaction pds does not have", base + "faults:\n  - {hop: pds, interaction: endpoint, status: 500}\n",
			[]Problem{{Line: 24, Column: 29, Message: `faults: pds has no interaction "endpoint" (want retrieve or search)`}}},
		{"fault at an unknown provider interaction", base + "faults:\n  - {hop: provider, interaction: fly, status: 500}\n",
			[]Problem{{Line: 24, Column: 34, Message: `faults: unknown interaction "fly" (use a name such as "book appointment" or a URN)`}}},
		{"fault that does nothing", base + "faults:\n  - {hop: ssp}\n",
			[]Problem{{Line: 24, Column: 5, Message: "faults: the fault does nothing (give status, body, spine_code, delay or drop)"}}},
		{"fault with body and spine_code", base + "faults:\n  - {hop: sds, status: 404, spine_code: NOT_FOUND, body: {a: 1}}\n",
			[]Problem{{Line: 24, Column: 41, Message: "faults: give body or spine_code, not both"}}},
		{"unknown outcome", base + "expect:\n  outcome: maybe\n",
			[]Problem{{Line: 24, Column: 12, Message: `scenario.expect.outcome: unknown outcome "maybe" (want booked, none, ok, cancelled, amended or error: {hop, status, code, reason})`}}},
		{"error outcome without hop", base + "expect:\n  outcome: {error: {status: 404}}\n",
			[]Problem{{Line: 24, Column: 20, Message: `scenario.expect.outcome.error: missing required key "hop"`}}},
		{"unknown step in sequence", base + "expect:\n  sequence: [pds.retrieve, pds.teleport]\n",
			[]Problem{{Line: 24, Column: 28, Message: `scenario.expect.sequence[1]: unknown step "pds.teleport" (want pds.retrieve, pds.search, sds.endpoint, sds.device, sds.ldap mhs, sds.ldap as or provider.<interaction name> such as "provider.book appointment")`}}},
		{"fixture path escaping fixtures/", base + "expect:\n  requests:\n    - {interaction: book appointment, body: ../secret.json}\n",
			[]Problem{{Line: 25, Column: 45, Message: `scenario.expect.requests[0].body: fixture path "../secret.json" must be a clean relative path below fixtures/ (e.g. provider/book.json)`}}},
		{"run to before from", base + "run: {nhs_number: \"9693632109\", from: +3d, to: +1d}\n",
			[]Problem{{Line: 23, Column: 48, Message: "run: to (+1d) must be after from (+3d)"}}},
		{"run book without nhs number", base + "run: {action: book}\n",
			[]Problem{{Line: 23, Column: 6, Message: "run: action book needs nhs_number"}}},
		{"pinned now is relative", strings.Replace(base, "name: t\n", "name: t\nnow: +1d\n", 1),
			[]Problem{{Line: 2, Column: 6, Message: `scenario.now: "+1d" must be an absolute time such as 2026-12-01T09:00:00+00:00`}}},
		{"generator without times", strings.Replace(base, "    slots:\n", "    generate:\n      - {schedule: S1, days: 5}\n    slots:\n", 1),
			[]Problem{{Line: 22, Column: 9, Message: "practices[A20047].generate: give times, or from, until and every"}}},
		{"generator in a missing schedule", strings.Replace(base, "    slots:\n", "    generate:\n      - {schedule: S9, days: 5, times: [\"09:00\"], length: 10m}\n    slots:\n", 1),
			[]Problem{{Line: 22, Column: 20, Message: `practices[A20047].generate: schedule "S9" is not a schedule of this practice`}}},
		{"appointment in a missing slot", strings.Replace(base, "    slots:\n", "    appointments:\n      - {id: A1, patient: R1, slots: [\"999\"]}\n    slots:\n", 1),
			[]Problem{{Line: 22, Column: 38, Message: `practices[A20047].appointments: slot "999" of appointment "A1" is not a listed slot of this practice (generated slots cannot be booked here)`}}},
		{"record's preferred branch is missing", strings.Replace(base, `{id: R1, nhs_number: "9693632109"}`, `{id: R1, nhs_number: "9693632109", preferred_branch: L7}`, 1),
			[]Problem{{Line: 20, Column: 62, Message: `practices[A20047].records: preferred_branch "L7" is not a location of this practice`}}},
		{"unknown extends", strings.Replace(base, "name: t\n", "name: t\nextends: everything\n", 1),
			[]Problem{{Line: 2, Column: 10, Message: `scenario.extends: unknown world "everything" (want builtin)`}}},
		{"refused sender not an ASID", strings.Replace(base, "    party_key: A20047-1\n", "    party_key: A20047-1\n    refuse_senders: [\"12345\"]\n", 1),
			[]Problem{{Line: 13, Column: 22, Message: `scenario.practices[0].refuse_senders[0]: ASID "12345" must be 12 digits`}}},
		{"two documents", base + "---\nname: u\n",
			[]Problem{{Line: 23, Column: 1, Message: "a scenario file holds one YAML document; found a second"}}},
		// One pass: the checks that span values run even when the schema
		// has problems, and skip what did not decode, so one mistake gives
		// one problem and mistakes of different kinds all show.
		{"schema and reference mistakes together", strings.Replace(base, "    practice: A20047\n", "    practice: B99999\n", 1) + "lenient: sometimes\n",
			[]Problem{
				{Line: 7, Column: 15, Message: `patients: practice "B99999" of patient 9693632109 is not in practices`},
				{Line: 23, Column: 10, Message: `scenario.lenient: expected true or false, got "sometimes"`},
			}},
		{"a broken value beside a missing one", strings.Replace(base, "consumer:\n  asid: \"200000000115\"\n  ods: A1001\n", "lenient: sometimes\n", 1),
			[]Problem{
				{Line: 1, Column: 1, Message: `scenario: missing required key "consumer" (or write extends: builtin)`},
				{Line: 2, Column: 10, Message: `scenario.lenient: expected true or false, got "sometimes"`},
			}},
		{"a practices section that is not a list hides no patient", strings.Replace(base, "practices:\n  - ods: A20047\n", "practices: A20047\nx:\n  - ods: A20047\n", 1),
			[]Problem{
				{Line: 8, Column: 12, Message: `scenario.practices: expected a list, got "A20047"`},
				{Line: 9, Column: 1, Message: `scenario: unknown key "x" (known: name, description, now, lenient, ssp_timeout, extends, consumer, patients, practices, faults, run, expect)`},
			}},
		{"a misspelt world brings no dangling references", "name: t\nextends: bultin\npatients:\n  - {nhs_number: \"9693632109\", practice: A20047}\n",
			[]Problem{{Line: 2, Column: 10, Message: `scenario.extends: unknown world "bultin" (want builtin)`}}},
		{"an action that did not decode decides nothing", base + "run: {action: amnd, nhs_number: \"9693632109\", appointment: \"1\"}\nexpect: {slots: 2}\n",
			[]Problem{{Line: 23, Column: 15, Message: `scenario.run.action: "amnd" is not one of book, slots, appointments, cancel, amend`}}},
		{"a schedule that is not a mapping hides no slot", strings.Replace(base, "      - {id: S1, location: L1, practitioner: P1}\n", "      - S1\n", 1),
			[]Problem{{Line: 18, Column: 9, Message: `scenario.practices[0].schedules[0]: expected a mapping, got "S1"`}}},
		{"a consumer that is not a mapping is not missing", strings.Replace(base, "consumer:\n  asid: \"200000000115\"\n  ods: A1001\n", "consumer: 5\n", 1),
			[]Problem{{Line: 2, Column: 11, Message: `scenario.consumer: expected a mapping, got "5"`}}},
		{"a misspelt action is not the default's", base + "run: {action: bok}\n",
			[]Problem{{Line: 23, Column: 15, Message: `scenario.run.action: "bok" is not one of book, slots, appointments, cancel, amend`}}},
		{"a misspelt key is not a missing one", strings.Replace(base, "consumer:\n  asid: \"200000000115\"\n  ods: A1001\n", "extend: builtin\n", 1),
			[]Problem{{Line: 2, Column: 1, Message: `scenario: unknown key "extend" (did you mean "extends"?) (known: name, description, now, lenient, ssp_timeout, extends, consumer, patients, practices, faults, run, expect)`}}},
		{"a generator's bad days are one problem", strings.Replace(base, "    slots:\n", "    generate:\n      - {schedule: S1, days: many, times: [\"09:00\"], length: 10m}\n    slots:\n", 1),
			[]Problem{{Line: 22, Column: 30, Message: `scenario.practices[0].generate[0].days: expected a whole number, got "many"`}}},
		{"every problem is reported, in file order",
			strings.Replace(strings.Replace(base, "  ods: A1001\n", "  ods: a1001\n", 1), "    name: P\n", "    name: P\n    colour: red\n", 1),
			[]Problem{
				{Line: 4, Column: 8, Message: `scenario.consumer.ods: ODS code "a1001" must match ^[0-9A-Z]+$`},
				{Line: 11, Column: 5, Message: `scenario.practices[0]: unknown key "colour" (known: ods, name, address, telecom, asid, party_key, endpoint, interactions, refuse_senders, organization_id, records, locations, practitioners, schedules, slots, generate, appointments, fqdn)`},
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := problems(t, tt.src)
			for i := range tt.want {
				tt.want[i].File = "s.yaml"
			}
			assert.DeepEqual(t, got, tt.want, "problems")
			if t.Failed() {
				showProblems(t, tt.src, got)
			}
		})
	}
}

func TestLoadErrorFormat(t *testing.T) {
	t.Parallel()
	e := &LoadError{Problems: []Problem{{"a.yaml", 3, 7, "first"}, {"a.yaml", 9, 1, "second"}}}
	assert.Equal(t, e.Error(), "a.yaml:3:7: first\na.yaml:9:1: second", "Error()")
}

// NHS numbers and ASIDs are read from the YAML text: an unquoted number
// with a leading zero must keep it (yaml.v3 would read 0123 as octal 83).
func TestLoadKeepsLeadingZeros(t *testing.T) {
	t.Parallel()
	src := strings.Replace(strings.Replace(base,
		`asid: "200000000115"`, `asid: 012345678901`, 1),
		`  - nhs_number: "9693632109"`+"\n    practice: A20047", `  - nhs_number: 0000000116`, 1)
	s, err := Load("s.yaml", []byte(src))
	assert.NilError(t, err)
	assert.Equal(t, string(s.Consumer.ASID), "012345678901", "consumer ASID")
	assert.Equal(t, string(s.Patients[0].NHSNumber), "0000000116", "NHS number")
}

// A local record whose NHS number PDS does not know is legal: it models an
// unverifiable record at the practice.
func TestLoadRecordNotInPDSIsLegal(t *testing.T) {
	t.Parallel()
	src := strings.Replace(base, `{id: R1, nhs_number: "9693632109"}`, `{id: R1, nhs_number: "9000000017", unverified: true}`, 1)
	s, err := Load("s.yaml", []byte(src))
	assert.NilError(t, err)
	assert.Equal(t, s.Practices[0].Records[0].Unverified, true, "unverified")
}

// showProblems logs each problem's line with a caret under its column, so a
// failing position is easy to judge.
func showProblems(t *testing.T, src string, ps []Problem) {
	t.Helper()
	lines := strings.Split(src, "\n")
	for _, p := range ps {
		if p.Line >= 1 && p.Line <= len(lines) && p.Column >= 1 {
			t.Logf("%d:%d\n%s\n%s^", p.Line, p.Column, lines[p.Line-1], strings.Repeat(" ", p.Column-1))
		}
	}
}
