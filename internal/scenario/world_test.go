package scenario

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/internal/world"
)

func london(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.ParseInLocation("2006-01-02 15:04", s, London)
	assert.NilError(t, err)
	return v
}

func TestDefault(t *testing.T) {
	t.Parallel()
	s := Default()
	assert.Equal(t, s.Name, "builtin", "name")
	now := london(t, "2026-03-02 09:30") // a Monday
	data, err := s.World(now)
	assert.NilError(t, err)

	assert.Equal(t, data.Consumer.ASID, "200000000115", "consumer ASID")
	assert.Equal(t, data.Consumer.ODS, "A1001", "consumer ODS")
	assert.Equal(t, len(data.Consumer.Interactions), len(gpc.Interactions), "consumer interactions (default: all)")

	byNHS := map[string]world.Patient{}
	for _, p := range data.Patients {
		byNHS[p.NHSNumber] = p
	}
	assert.Equal(t, len(data.Patients), 8, "patients")
	// NHS's records: the fields come from them, and PDS serves them whole.
	assert.Equal(t, byNHS["9693632109"].Gender, "female", "9693632109 gender (NHS's record)")
	assert.Equal(t, byNHS["9693632109"].VersionID, 58, "9693632109 version (NHS's record)")
	assert.DeepEqual(t, byNHS["9693632109"].Address[0].Lines, []string{"1 MOUNT AVENUE", "BARTON-UPON-HUMBER", "S HUMBERSIDE"}, "9693632109 address")
	for _, nhs := range []string{"9693632109", "9733162043", "9736363015", "9000000009", "9000000017", "9000000025", "9000000033"} {
		assert.Equal(t, len(byNHS[nhs].Resource) > 0, true, nhs+" carries NHS's record")
	}
	assert.Equal(t, byNHS["9000000025"].Deceased, "2010-10-22", "9000000025 deceased (NHS's record)")
	assert.Equal(t, byNHS["9000000017"].Practice, "Y12345", "9000000017 practice")
	// Where NHS's search data disagrees with its retrieve record, searches
	// see NHS's search record.
	assert.Equal(t, byNHS["9000000025"].Search.BirthDate, "2005-06-16", "9000000025 search birth date (NHS's search record)")
	assert.Equal(t, byNHS["9000000025"].Search.Restricted, true, "9000000025 search record restricted")
	assert.Equal(t, byNHS["9000000009"].Search != nil, true, "9000000009 has NHS's search record")
	assert.Equal(t, byNHS["9693632109"].Search == nil, true, "9693632109 has one record")
	// Ours: restricted and alive, for the journeys NHS's data has no patient for.
	assert.Equal(t, byNHS["9990000018"].Restricted, true, "9990000018 restricted")
	assert.Equal(t, byNHS["9990000018"].Deceased, "", "9990000018 alive")
	assert.Equal(t, len(byNHS["9990000018"].Resource), 0, "9990000018 is built from its fields")
	assert.Equal(t, byNHS["9693632109"].Name.Family, "GARTON", "9693632109 family")
	assert.Equal(t, byNHS["9693632109"].Practice, "A20047", "9693632109 practice")
	assert.Equal(t, byNHS["9733162043"].BirthDate, "1955-05-27", "9733162043 birth date")
	assert.DeepEqual(t, byNHS["9733162043"].Name.Given, []string{"Dean", "Roger"}, "9733162043 given")
	assert.Equal(t, byNHS["9736363015"].Name.Family, "MOONEY", "9736363015 family")
	assert.Equal(t, byNHS["9000000009"].Deceased, "2010-10-22", "9000000009 deceased")
	assert.Equal(t, byNHS["9000000009"].Practice, "Y12345", "9000000009 practice")
	assert.DeepEqual(t, byNHS["9000000009"].Name.Prefix, []string{"Mrs"}, "9000000009 prefix")
	assert.Equal(t, byNHS["9000000025"].Restricted, true, "9000000025 restricted")
	assert.Equal(t, byNHS["9000000025"].Practice, "", "9000000025 practice")
	assert.Equal(t, byNHS["9000000033"].Name == nil, true, "9000000033 has no name")
	assert.Equal(t, byNHS["9000000033"].Practice, "", "9000000033 practice")

	assert.Equal(t, len(data.Practices), 2, "practices")
	want := map[string]struct {
		asid, partyKey string
		records        []string
		slots          int
	}{
		// 10 weekdays in the 14 days from tomorrow; A20047 has 12+6+6 slots
		// a day over two schedules, Y12345 12+6.
		"A20047": {"918999198993", "A20047-821870", []string{"9693632109", "9736363015"}, 240},
		"Y12345": {"200000000116", "Y12345-821871", []string{"9000000009"}, 180},
	}
	for _, p := range data.Practices {
		w := want[p.ODS]
		assert.Equal(t, p.ProviderASID, w.asid, p.ODS+" ASID")
		assert.Equal(t, p.PartyKey, w.partyKey, p.ODS+" party key")
		assert.Equal(t, len(p.Interactions), len(gpc.Interactions), p.ODS+" interactions")
		var recs []string
		for _, r := range p.Records {
			recs = append(recs, r.NHSNumber)
		}
		assert.DeepEqual(t, recs, w.records, p.ODS+" records")
		assert.Equal(t, len(p.Slots), w.slots, p.ODS+" slots")
		assert.Equal(t, len(p.Locations), 2, p.ODS+" locations")
		assert.Equal(t, len(p.Schedules), 2, p.ODS+" schedules")

		first, last := p.Slots[0].Start, p.Slots[0].Start
		ids := map[string]bool{}
		channels := map[string]bool{}
		for _, sl := range p.Slots {
			if sl.Start.Before(first) {
				first = sl.Start
			}
			if sl.Start.After(last) {
				last = sl.Start
			}
			if ids[sl.ID] {
				t.Errorf("%s: slot id %q twice", p.ODS, sl.ID)
			}
			ids[sl.ID] = true
			channels[sl.DeliveryChannel] = true
			if wd := sl.Start.In(London).Weekday(); wd == time.Saturday || wd == time.Sunday {
				t.Errorf("%s: slot %s on a %s", p.ODS, sl.ID, wd)
			}
		}
		assert.Equal(t, first, london(t, "2026-03-03 09:00"), p.ODS+" first slot")
		assert.Equal(t, last.Sub(first) >= 13*24*time.Hour, true, p.ODS+" slots span two weeks")
		assert.Equal(t, len(channels) >= 2, true, p.ODS+" mixed delivery channels")
	}
}

func TestWhenResolve(t *testing.T) {
	t.Parallel()
	// Friday 27 March 2026, 22:30 GMT; UK clocks go forward on Sunday 29th.
	fri := time.Date(2026, 3, 27, 22, 30, 0, 0, time.UTC)
	// Tuesday 30 June 2026 23:30 UTC is already 1 July in London (BST).
	lateJune := time.Date(2026, 6, 30, 23, 30, 0, 0, time.UTC)
	tests := []struct {
		expr string
		now  time.Time
		want time.Time
	}{
		{"+1d 09:00", fri, time.Date(2026, 3, 28, 9, 0, 0, 0, time.UTC)},
		{"+3d 09:00", fri, time.Date(2026, 3, 30, 8, 0, 0, 0, time.UTC)}, // BST
		{"+2d", fri, time.Date(2026, 3, 29, 0, 0, 0, 0, time.UTC)},
		{"-3d", fri, time.Date(2026, 3, 24, 0, 0, 0, 0, time.UTC)},
		{"today 14:00", fri, time.Date(2026, 3, 27, 14, 0, 0, 0, time.UTC)},
		{"Today 9:05", fri, time.Date(2026, 3, 27, 9, 5, 0, 0, time.UTC)},
		{"tomorrow", fri, time.Date(2026, 3, 28, 0, 0, 0, 0, time.UTC)},
		{"next monday 09:00", fri, time.Date(2026, 3, 30, 8, 0, 0, 0, time.UTC)},
		{"next friday", fri, time.Date(2026, 4, 2, 23, 0, 0, 0, time.UTC)}, // a week on, not today
		{"now", fri, fri},
		{"+90m", fri, fri.Add(90 * time.Minute)},
		{"-2h", fri, fri.Add(-2 * time.Hour)},
		{"2026-12-01T09:00:00+00:00", fri, time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)},
		{"2026-06-01", fri, time.Date(2026, 5, 31, 23, 0, 0, 0, time.UTC)},
		{"2026-06-01 09:00", fri, time.Date(2026, 6, 1, 8, 0, 0, 0, time.UTC)},
		{"today", lateJune, time.Date(2026, 6, 30, 23, 0, 0, 0, time.UTC)}, // 1 July 00:00 BST
		{"+1d 09:00", lateJune, time.Date(2026, 7, 2, 8, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			t.Parallel()
			w, err := ParseWhen(tt.expr)
			assert.NilError(t, err)
			got := w.Resolve(tt.now)
			if !got.Equal(tt.want) {
				t.Errorf("Resolve(%s) = %s, want %s", tt.now.Format(time.RFC3339), got.Format(time.RFC3339), tt.want.Format(time.RFC3339))
			}
		})
	}
}

func TestParseWhenRejects(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "+1", "1d", "+1d 9", "+1d 09:60", "next", "next moonday", "yesterday-ish", "2026-13-01", "2026-02-30", "+1y", "soon"} {
		if _, err := ParseWhen(s); err == nil {
			t.Errorf("ParseWhen(%q) succeeded, want an error", s)
		}
	}
}

const genWorld = `name: generators
now: 2026-03-06T10:00:00Z
consumer: {asid: "200000000115", ods: A1001}
practices:
  - ods: B1
    name: B
    asid: "918999198993"
    party_key: B1-1
    locations: [{id: L, name: Main}]
    schedules: [{id: S, location: L}]
    records: [{id: R, nhs_number: "9693632109"}]
    slots:
      - {id: "1", schedule: S, start: "+1d 08:00", length: 10m}
      - {id: "3", schedule: S, start: "+1d 08:10", end: "+1d 08:20"}
    generate:
      - {schedule: S, start: next monday, days: 7, weekdays_only: true, times: ["09:00", "14:30"], length: 10m, channel: video, type: Clinic, org_types: [urgent-care], ods_codes: [A1001]}
      - {schedule: S, days: 2, from: "10:00", until: "11:00", every: 20m}
    appointments:
      - {id: "50", patient: R, slots: ["1", "3"], description: Review}
`

func TestGenerators(t *testing.T) {
	t.Parallel()
	s, err := Load("g.yaml", []byte(genWorld))
	assert.NilError(t, err)
	now, ok := s.PinnedNow()
	assert.Equal(t, ok, true, "pinned")
	assert.Equal(t, now, time.Date(2026, 3, 6, 10, 0, 0, 0, time.UTC), "pinned now")
	data, err := s.World(now)
	assert.NilError(t, err)
	slots := data.Practices[0].Slots

	var got []string
	for _, sl := range slots {
		got = append(got, sl.ID+" "+sl.Start.In(London).Format("Mon 02 15:04")+"-"+sl.End.In(London).Format("15:04")+" "+sl.Status+" "+sl.DeliveryChannel)
	}
	want := []string{
		"1 Sat 07 08:00-08:10 busy ",
		"3 Sat 07 08:10-08:20 busy ",
		// next monday from Friday 6 March is the 9th; 7 days, weekdays only.
		"2 Mon 09 09:00-09:10  Video", "4 Mon 09 14:30-14:40  Video",
		"5 Tue 10 09:00-09:10  Video", "6 Tue 10 14:30-14:40  Video",
		"7 Wed 11 09:00-09:10  Video", "8 Wed 11 14:30-14:40  Video",
		"9 Thu 12 09:00-09:10  Video", "10 Thu 12 14:30-14:40  Video",
		"11 Fri 13 09:00-09:10  Video", "12 Fri 13 14:30-14:40  Video",
		// from +1d for 2 days, weekends included; length defaults to every.
		"13 Sat 07 10:00-10:20  ", "14 Sat 07 10:20-10:40  ", "15 Sat 07 10:40-11:00  ",
		"16 Sun 08 10:00-10:20  ", "17 Sun 08 10:20-10:40  ", "18 Sun 08 10:40-11:00  ",
	}
	assert.DeepEqual(t, got, want, "slots")
	assert.DeepEqual(t, slots[2].OrgTypes, []string{"urgent-care"}, "org types")
	assert.DeepEqual(t, slots[2].ODSCodes, []string{"A1001"}, "ODS codes")
	assert.Equal(t, slots[2].ServiceType, "Clinic", "type")

	a := data.Practices[0].Appointments[0]
	assert.Equal(t, a.Status, world.Booked, "appointment status")
	assert.Equal(t, a.Start, london(t, "2026-03-07 08:00"), "appointment start")
	assert.Equal(t, a.End, london(t, "2026-03-07 08:20"), "appointment end")
	assert.DeepEqual(t, a.Participants, []world.Participant{{Reference: "Patient/R", Status: "accepted"}, {Reference: "Location/L", Status: "accepted"}}, "participants")
}

// An ordering that held at load (against the pinned clock) can break at
// another now; World says so instead of building a slot that ends before
// it starts.
func TestWorldOrderingBreaksAtAnotherNow(t *testing.T) {
	t.Parallel()
	src := strings.Replace(base, `start: "+1d 09:00", end: "+1d 09:15"`, `start: "+2d 09:00", end: "next monday 09:15"`, 1)
	src = strings.Replace(src, "name: t\n", "name: t\nnow: 2026-03-07T12:00:00Z\n", 1) // Saturday: +2d is Monday too
	s, err := Load("s.yaml", []byte(src))
	assert.NilError(t, err)
	_, err = s.World(time.Date(2026, 3, 8, 12, 0, 0, 0, time.UTC)) // Sunday: +2d is Tuesday
	if err == nil {
		t.Fatal("World succeeded, want an ordering error")
	}
	var le *LoadError
	if !errors.As(err, &le) {
		t.Fatalf("error %T, want a *LoadError at the slot's line and column", err)
	}
	assert.Equal(t, err.Error(), `s.yaml:23:60: practices[A20047].slots: slot "100" ends (next monday 09:15) before or when it starts (+2d 09:00) at 2026-03-08T12:00:00Z`, "error")
}

func TestPinnedNowAbsent(t *testing.T) {
	t.Parallel()
	s, err := Load("s.yaml", []byte(base))
	assert.NilError(t, err)
	_, ok := s.PinnedNow()
	assert.Equal(t, ok, false, "pinned")
}

func TestExtendsBuiltin(t *testing.T) {
	t.Parallel()
	s, err := LoadFile("../../scenarios/register-branch.yaml")
	assert.NilError(t, err)
	assert.Equal(t, len(s.Patients), 8, "patients from the built-in world")
	assert.Equal(t, len(s.Practices), 2, "practices from the built-in world")
	assert.Equal(t, string(s.Run.NHSNumber), "9733162043", "run NHS number")
	assert.Equal(t, s.Expect.Outcome.Kind, OutcomeBooked, "outcome")
	want := []Step{StepPDSRetrieve}
	for _, in := range []gpc.Interaction{gpc.ReadMetadata, gpc.SearchSlots, gpc.SearchPatient, gpc.RegisterPatient, gpc.CreateAppointment} {
		want = append(want, StepSDSEndpoint, StepSDSDevice, ProviderStep(in))
	}
	assert.DeepEqual(t, s.Expect.Sequence, want, "sequence")
}

func TestReservedSections(t *testing.T) {
	t.Parallel()
	src := base + `faults:
  - {hop: provider, interaction: book appointment, status: 409, spine_code: DUPLICATE_REJECTED, times: 1}
  - {hop: sds, interaction: device, status: 200, body: {resourceType: Bundle, total: 0}}
  - {hop: pds, body: {fixture: pds/not-found.json}, status: 404}
  - {hop: ssp, delay: 2s, drop: true}
run:
  action: book
  nhs_number: "9693632109"
  ods: A20047
  from: +1d
  to: +8d
  search_windows: 2
  prefer: {time: "+1d 09:00", channel: telephone, practitioner: P1}
  book_retries: 1
  repeat: 2
  take_slot_before_book: true
  timeout: 5s
expect:
  outcome: {error: {hop: provider, status: 409, code: DUPLICATE_REJECTED}}
  requests:
    - {interaction: "urn:nhs:names:services:gpconnect:fhir:rest:create:appointment-1", body: provider/book.json, ignore: [id, meta]}
  checks: {pass: [JWT_EXP_NOT_IAT_PLUS_300], fire: [SOME_CHECK]}
`
	s, err := Load("s.yaml", []byte(src))
	assert.NilError(t, err)
	f := s.Faults
	assert.Equal(t, f[0].Target, gpc.CreateAppointment, "fault 0 target")
	assert.Equal(t, f[0].Times, 1, "fault 0 times")
	assert.Equal(t, string(f[1].Body.JSON), `{"resourceType":"Bundle","total":0}`, "fault 1 inline body")
	assert.Equal(t, f[2].Body.Fixture, FixturePath("pds/not-found.json"), "fault 2 fixture")
	assert.Equal(t, f[3].Delay.D(), 2*time.Second, "fault 3 delay")
	assert.Equal(t, f[3].Drop, true, "fault 3 drop")
	r := s.Run
	assert.Equal(t, r.Consumer, Enum("builtin"), "run consumer default")
	assert.Equal(t, r.Prefer.Channel, Channel(gpc.ChannelTelephone), "prefer channel, case-insensitive")
	assert.Equal(t, r.Timeout.D(), 5*time.Second, "timeout")
	assert.Equal(t, r.Repeat, 2, "repeat")
	e := s.Expect
	assert.Equal(t, e.Outcome.Kind, OutcomeError, "outcome")
	assert.DeepEqual(t, *e.Outcome.Error, ErrorOutcome{At: e.Outcome.Error.At, Hop: HopProvider, Status: 409, Code: "DUPLICATE_REJECTED"}, "error outcome")
	assert.Equal(t, e.Requests[0].Interaction, Interaction(gpc.CreateAppointment), "request interaction by URN")
	assert.DeepEqual(t, e.Checks.Fire, []string{"SOME_CHECK"}, "checks fire")
}

func TestSteps(t *testing.T) {
	t.Parallel()
	assert.Equal(t, ProviderStep(gpc.CreateAppointment), Step("provider.book appointment"), "provider step")
	assert.Equal(t, len(Steps()), 6+len(gpc.Interactions), "vocabulary size")
	st, ok := ParseStep("provider.search  free slots")
	assert.Equal(t, ok, true, "ParseStep ok")
	assert.Equal(t, st, ProviderStep(gpc.SearchSlots), "ParseStep")
	_, ok = ParseStep("ssp.book appointment")
	assert.Equal(t, ok, false, "ssp is not a step")
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	assert.NilError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	assert.NilError(t, os.WriteFile(path, []byte(content), 0o644))
}

func TestLoadDir(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "b.yaml"), strings.Replace(base, "name: t", "name: b", 1))
	writeFile(t, filepath.Join(dir, "a", "c.yml"), strings.Replace(base, "name: t", "name: c", 1))
	writeFile(t, filepath.Join(dir, "notes.txt"), "not a scenario")
	ss, err := LoadDir(dir)
	assert.NilError(t, err)
	var names []string
	for _, s := range ss {
		names = append(names, s.Name)
	}
	assert.DeepEqual(t, names, []string{"c", "b"}, "scenarios in path order")

	writeFile(t, filepath.Join(dir, "z.yaml"), "name: z\ncolour: red\n")
	ss, err = LoadDir(dir)
	var le *LoadError
	if !errors.As(err, &le) {
		t.Fatalf("err = %v, want *LoadError", err)
	}
	assert.Equal(t, len(ss), 2, "good scenarios still returned")
	assert.Equal(t, le.Problems[0].File, filepath.Join(dir, "z.yaml"), "problem file")
}

func TestCheck(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	bad := filepath.Join(dir, "sub", "bad.yaml")
	writeFile(t, good, base)
	writeFile(t, bad, strings.Replace(base, "  ods: A1001\n", "  ods: a1001\n  colour: red\n", 1))

	var out bytes.Buffer
	assert.NilError(t, Check([]string{good}, &out, Options{}))
	assert.Equal(t, out.String(), "ok  "+good+"\n", "output for a good file")

	out.Reset()
	err := Check([]string{dir, filepath.Join(dir, "missing.yaml")}, &out, Options{})
	if err == nil {
		t.Fatal("Check succeeded, want an error")
	}
	assert.Equal(t, err.Error(), "2 scenario file(s) failed", "error")
	want := "ok  " + good + "\n" +
		"FAIL " + bad + "\n" +
		"    " + bad + `:4:8: scenario.consumer.ods: ODS code "a1001" must match ^[0-9A-Z]+$` + "\n" +
		"    " + bad + `:5:3: scenario.consumer: unknown key "colour" (known: asid, ods, name, party_key, manufacturer, interactions, fqdn)` + "\n" +
		"FAIL " + filepath.Join(dir, "missing.yaml") + ": stat " + filepath.Join(dir, "missing.yaml") + ": no such file or directory\n"
	assert.Equal(t, out.String(), want, "output")
}

func TestCheckEmptyFolder(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var out bytes.Buffer
	err := Check([]string{dir}, &out, Options{})
	if err == nil {
		t.Fatal("Check succeeded, want an error")
	}
	assert.Equal(t, out.String(), "FAIL "+dir+": no *.yaml or *.yml files\n", "output")
}

func TestCheckRepositoryScenarios(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	if err := Check([]string{"../../scenarios"}, &out, Options{}); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
}

// The annotated example in docs/scenario-format.md must stay a valid
// scenario.
func TestDocumentedExampleLoads(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("../../docs/scenario-format.md")
	assert.NilError(t, err)
	_, rest, ok := strings.Cut(string(doc), "## Complete annotated example\n\n```yaml\n")
	if !ok {
		t.Fatal("docs/scenario-format.md has no annotated example")
	}
	example, _, _ := strings.Cut(rest, "```")
	s, err := Load("scenario-format.md", []byte(example))
	assert.NilError(t, err)
	data, err := s.World(time.Date(2026, 3, 2, 8, 30, 0, 0, time.UTC))
	assert.NilError(t, err)
	assert.Equal(t, len(data.Patients), 5, "patients")
	assert.Equal(t, len(data.Practices[0].Slots), 1+10*12+5*3, "listed and generated slots")
}
