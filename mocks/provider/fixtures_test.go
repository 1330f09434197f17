package provider_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
)

var update = flag.Bool("update", false, "rewrite the response fixtures in fixtures/gpconnect from the provider's answers")

// fixtureDir holds the request bodies a consumer sends (written by hand in
// the shape of the spec's examples) and the responses the provider gives
// (golden files, refreshed with -update).
var fixtureDir = filepath.Join("..", "..", "fixtures", "gpconnect")

func readFixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtureDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// strip removes what changes between runs and carries no shape: versionIds
// and lastUpdated (§3.2 ids and versions are the provider's to choose).
func strip(v any) any {
	switch x := v.(type) {
	case map[string]any:
		delete(x, "versionId")
		delete(x, "lastUpdated")
		for k, e := range x {
			x[k] = strip(e)
		}
	case []any:
		for i, e := range x {
			x[i] = strip(e)
		}
	}
	return v
}

func normalise(t *testing.T, b []byte) []byte {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, b)
	}
	out, err := json.MarshalIndent(strip(v), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(out, '\n')
}

// matchFixture compares a response with its golden file: a full match,
// since the fixtures are the provider's own answers in the spec's shapes.
func matchFixture(t *testing.T, name string, r response, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("%s: status %d (%s: %s), want %d", name, r.status, r.code(), r.diagnostics(), status)
	}
	got := normalise(t, r.body)
	path := filepath.Join(fixtureDir, name)
	if *update {
		// Written as answered (field order kept, for readers); stripped
		// only when compared.
		var pretty bytes.Buffer
		if err := json.Indent(&pretty, r.body, "", "  "); err != nil {
			t.Fatal(err)
		}
		pretty.WriteByte('\n')
		if err := os.WriteFile(path, pretty.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	assert.JSONEqual(t, got, normalise(t, want), name)
}

// TestFixtures runs the whole journey with the request fixtures — find,
// register (no patient record), slots, book, read, amend, cancel, retrieve —
// and compares every answer with its response fixture. The request
// fixtures keep the spec examples' quirks (name.text that disagrees with
// family/given, a contained organisation type, amend and cancel bodies
// without the provider-added extensions), which the provider must accept.
func TestFixtures(t *testing.T) {
	f := newFixture(t)
	steps := []struct {
		fixture string
		c       call
		status  int
	}{
		{"get_capability_statement_response.json", call{path: "/metadata", interaction: gpc.ReadMetadata}, 200},
		{"find_patient_response.json", call{path: "/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number%7C" + nhsActive, interaction: gpc.SearchPatient}, 200},
		{"read_patient_response.json", call{path: "/Patient/1", interaction: gpc.ReadPatient}, 200},
		{"find_practitioner_response.json", call{path: "/Practitioner?identifier=https://fhir.nhs.uk/Id/sds-user-id%7C111122224444", interaction: gpc.SearchPractitioner}, 200},
		{"read_practitioner_response.json", call{path: "/Practitioner/2", interaction: gpc.ReadPractitioner}, 200},
		{"find_organization_response.json", call{path: "/Organization?identifier=https://fhir.nhs.uk/Id/ods-organization-code%7CA20047", interaction: gpc.SearchOrganization}, 200},
		{"read_organization_response.json", call{path: "/Organization/7", interaction: gpc.ReadOrganization}, 200},
		{"read_location_response.json", call{path: "/Location/32", interaction: gpc.ReadLocation}, 200},
		{"search_for_free_slots_response.json", call{path: "/Slot?status=free&start=ge2026-05-12&end=le2026-05-12&_include=Slot:schedule" +
			"&_include:recurse=Schedule:actor:Practitioner&_include:recurse=Schedule:actor:Location&_include:recurse=Location:managingOrganization" +
			"&searchFilter=https://fhir.nhs.uk/STU3/CodeSystem/GPConnect-OrganisationType-1%7Curgent-care&searchFilter=https://fhir.nhs.uk/Id/ods-organization-code%7CA1001",
			interaction: gpc.SearchSlots}, 200},
		{"register_patient_response.json", call{method: "POST", path: "/Patient/$gpc.registerpatient", interaction: gpc.RegisterPatient,
			body: readFixture(t, "register_patient_request.json")}, 200},
		{"book_appt_response.json", call{method: "POST", path: "/Appointment", interaction: gpc.CreateAppointment,
			body: readFixture(t, "book_appt_request.json")}, 201},
		{"read_appt_response.json", call{path: "/Appointment/23", interaction: gpc.ReadAppointment}, 200},
		{"amend_appt_response.json", call{method: "PUT", path: "/Appointment/23", interaction: gpc.AmendAppointment,
			body: readFixture(t, "amend_appt_request.json"), header: map[string]string{"If-Match": `W/"1"`}}, 200},
		{"cancel_appt_response.json", call{method: "PUT", path: "/Appointment/23", interaction: gpc.CancelAppointment,
			body: readFixture(t, "cancel_appt_request.json"), header: map[string]string{"If-Match": `W/"2"`}}, 200},
	}
	for _, s := range steps {
		matchFixture(t, s.fixture, f.do(s.c), s.status)
	}
	// A second booking for the registered patient, so the retrieval has two
	// appointments like the spec's example: one cancelled, one booked.
	second := strings.NewReplacer(`"Slot/1"`, `"Slot/3"`,
		"2026-05-12T10:00:00+01:00", "2026-05-13T09:00:00+01:00",
		"2026-05-12T10:10:00+01:00", "2026-05-13T09:10:00+01:00").Replace(readFixture(t, "book_appt_request.json"))
	r := f.do(call{method: "POST", path: "/Appointment", interaction: gpc.CreateAppointment, body: second})
	if r.status != 201 {
		t.Fatalf("second booking: %d %s %s", r.status, r.code(), r.diagnostics())
	}
	matchFixture(t, "retrieve_patients_appts_response.json",
		f.do(call{path: "/Patient/22/Appointment?start=ge2026-05-11&start=le2026-05-24", interaction: gpc.SearchPatientAppts}), 200)
}

// TestFixturesAreJSON keeps the hand-written request fixtures parseable and
// free of trailing whitespace surprises.
func TestFixturesAreJSON(t *testing.T) {
	t.Parallel()
	names, err := filepath.Glob(filepath.Join(fixtureDir, "*.json"))
	if err != nil || len(names) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		if !json.Valid(b) || !bytes.HasSuffix(b, []byte("\n")) {
			t.Errorf("%s: not valid JSON ending in a newline", n)
		}
	}
}
