package provider_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/internal/stu3"
	"github.com/spine-sandbox/spine-sandbox/internal/world"
)

const slotInclude = "&status=free&_include=Slot:schedule"

// TestSearchSlots: §4.1's parameter rules and the bundle's content.
func TestSearchSlots(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	all := "&_include:recurse=Schedule:actor:Practitioner&_include:recurse=Schedule:actor:Location&_include:recurse=Location:managingOrganization"
	tests := []struct {
		name   string
		query  string
		status int
		code   gpc.Code
		want   []string
	}{
		{"dates with every include", "start=ge2026-05-12&end=le2026-05-13" + slotInclude + all, 200, "",
			[]string{"Slot/1", "Slot/2", "Slot/3", "Schedule/14", "Practitioner/2", "Location/32", "Organization/7"}},
		{"only Slot:schedule still returns the Organization", "start=ge2026-05-12&end=le2026-05-12" + slotInclude, 200, "",
			[]string{"Slot/1", "Slot/2", "Schedule/14", "Organization/7"}},
		{"dateTimes with %2B offsets, fully inside", "start=ge2026-05-12T10:00:00%2B01:00&end=le2026-05-12T10:15:00%2B01:00" + slotInclude, 200, "",
			[]string{"Slot/1", "Schedule/14", "Organization/7"}},
		{"dateTime in UTC offset", "start=ge2026-05-12T09:00:00%2B00:00&end=le2026-05-12T09:20:00%2B00:00" + slotInclude, 200, "",
			[]string{"Slot/1", "Slot/2", "Schedule/14", "Organization/7"}},
		{"other schedule links only its location", "start=ge2026-05-20&end=le2026-05-20" + slotInclude + all, 200, "",
			[]string{"Slot/6", "Schedule/15", "Location/33", "Organization/7"}},
		{"no slots: empty bundle, no Organization", "start=ge2026-05-15&end=le2026-05-19" + slotInclude + all, 200, "", []string{}},
		{"restricted slot offered to its ODS", "start=ge2026-05-12&end=le2026-05-12" + slotInclude +
			"&searchFilter=https://fhir.nhs.uk/Id/ods-organization-code%7CB99999", 200, "",
			[]string{"Slot/1", "Slot/2", "Slot/5", "Schedule/14", "Organization/7"}},
		{"raw pipe in searchFilter, unknown system ignored", "start=ge2026-05-12&end=le2026-05-12" + slotInclude +
			"&searchFilter=https://fhir.nhs.uk/STU3/CodeSystem/GPConnect-OrganisationType-1|gp-practice&searchFilter=https://example.org/uc-disposition|Dx10", 200, "",
			[]string{"Slot/1", "Slot/2", "Schedule/14", "Organization/7"}},
		{"past search allowed", "start=ge2026-05-10&end=le2026-05-10" + slotInclude, 200, "", []string{"Slot/7", "Schedule/14", "Organization/7"}},
		{"14 days accepted", "start=ge2026-05-12&end=le2026-05-26" + slotInclude, 200, "",
			[]string{"Slot/1", "Slot/2", "Slot/3", "Slot/6", "Slot/8", "Schedule/14", "Schedule/15", "Organization/7"}},
		{"15 days rejected", "start=ge2026-05-11&end=le2026-05-26" + slotInclude, 422, gpc.InvalidParameter, nil},
		{"31 days rejected", "start=ge2026-05-01&end=le2026-06-01" + slotInclude, 422, gpc.InvalidParameter, nil},
		{"negative range", "start=ge2026-05-13&end=le2026-05-12" + slotInclude, 422, gpc.InvalidParameter, nil},
		{"no start", "end=le2026-05-13" + slotInclude, 400, gpc.BadRequest, nil},
		{"no end", "start=ge2026-05-12" + slotInclude, 400, gpc.BadRequest, nil},
		{"start twice", "start=ge2026-05-12&start=ge2026-05-13&end=le2026-05-13" + slotInclude, 400, gpc.BadRequest, nil},
		{"start prefix ne", "start=ne2026-05-12&end=le2026-05-13" + slotInclude, 422, gpc.InvalidParameter, nil},
		{"start without prefix", "start=2026-05-12&end=le2026-05-13" + slotInclude, 422, gpc.InvalidParameter, nil},
		{"end prefix ge", "start=ge2026-05-12&end=ge2026-05-13" + slotInclude, 422, gpc.InvalidParameter, nil},
		{"partial date", "start=ge2026-05&end=le2026-05-13" + slotInclude, 422, gpc.InvalidParameter, nil},
		{"empty date", "start=ge&end=le2026-05-13" + slotInclude, 422, gpc.InvalidParameter, nil},
		{"invalid date", "start=ge2026-02-30&end=le2026-03-01" + slotInclude, 422, gpc.InvalidParameter, nil},
		{"partial dateTime", "start=ge2026-05-12T10:00&end=le2026-05-13" + slotInclude, 422, gpc.InvalidParameter, nil},
		{"dateTime without offset", "start=ge2026-05-12T10:00:00&end=le2026-05-13" + slotInclude, 422, gpc.InvalidParameter, nil},
		{"unencoded + in offset", "start=ge2026-05-12T10:00:00+01:00&end=le2026-05-13" + slotInclude, 422, gpc.InvalidParameter, nil},
		{"no status", "start=ge2026-05-12&end=le2026-05-13&_include=Slot:schedule", 400, gpc.BadRequest, nil},
		{"status busy", "start=ge2026-05-12&end=le2026-05-13&status=busy&_include=Slot:schedule", 422, gpc.InvalidParameter, nil},
		{"no _include", "start=ge2026-05-12&end=le2026-05-13&status=free", 400, gpc.BadRequest, nil},
		{"malformed searchFilter", "start=ge2026-05-12&end=le2026-05-13" + slotInclude + "&searchFilter=A1001", 422, gpc.InvalidParameter, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := f.do(call{path: "/Slot?" + tt.query, interaction: gpc.SearchSlots})
			if tt.status != 200 {
				wantError(t, r, tt.status, tt.code)
				return
			}
			wantOK(t, r, 200, nil)
			assert.DeepEqual(t, bundleTypes(t, r.body), tt.want, "entries")
		})
	}

	t.Run("slot and schedule content", func(t *testing.T) {
		t.Parallel()
		var b stu3.Bundle
		wantOK(t, f.do(call{path: "/Slot?start=ge2026-05-12&end=le2026-05-12" + slotInclude, interaction: gpc.SearchSlots}), 200, &b)
		var s stu3.Slot
		assert.NilError(t, json.Unmarshal(b.Entry[0].Resource, &s))
		assert.Equal(t, s.Start, "2026-05-12T10:00:00+01:00", "slot start")
		assert.Equal(t, s.Status, "free", "status")
		assert.Equal(t, s.Extension[0].URL, gpc.ExtDeliveryChannel, "delivery channel extension")
		assert.Equal(t, s.Extension[0].ValueCode, "In-person", "delivery channel")
		assert.Equal(t, s.ServiceType[0].Text, "General GP Appointment", "serviceType")
		assert.DeepEqual(t, s.Meta.Profile, []string{gpc.ProfileSlot}, "profile")
		var sc stu3.Schedule
		assert.NilError(t, json.Unmarshal(b.Entry[2].Resource, &sc))
		assert.Equal(t, sc.ServiceCategory.Text, "General GP Appointments", "serviceCategory")
		assert.Equal(t, sc.PlanningHorizon.Start, "2026-05-12T10:00:00+01:00", "horizon start")
		assert.Equal(t, sc.PlanningHorizon.End, "2026-05-12T10:20:00+01:00", "horizon end")
		assert.Equal(t, sc.Extension[0].ValueCodeableConcept.Coding[0].Code, "R0260", "practitioner role")
		assert.DeepEqual(t, sc.Actor, []stu3.Reference{{Reference: "Location/32"}, {Reference: "Practitioner/2"}}, "actors")
	})
}

// bookBody is a booking like the spec's example, for slot 1, patient 1 at
// location 32, edited.
func bookBody(t testing.TB, edit func(a map[string]any)) string {
	t.Helper()
	var a map[string]any
	assert.NilError(t, json.Unmarshal([]byte(bookJSON), &a))
	if edit != nil {
		edit(a)
	}
	b, err := json.Marshal(a)
	assert.NilError(t, err)
	return string(b)
}

const bookJSON = `{
 "resourceType": "Appointment",
 "meta": {"profile": ["https://fhir.nhs.uk/STU3/StructureDefinition/GPConnect-Appointment-1"]},
 "contained": [{"resourceType": "Organization", "id": "1",
   "meta": {"profile": ["https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-GPC-Organization-1"]},
   "identifier": [{"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "A1001"}],
   "type": [{"coding": [{"system": "https://fhir.nhs.uk/STU3/CodeSystem/GPConnect-OrganisationType-1", "code": "urgent-care"}]}],
   "name": "Northgate Urgent Care", "telecom": [{"system": "phone", "value": "0113 496 0000"}]}],
 "extension": [{"url": "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-GPConnect-BookingOrganisation-1", "valueReference": {"reference": "#1"}}],
 "status": "booked",
 "description": "Persistent cough",
 "start": "2026-05-12T10:00:00+01:00",
 "end": "2026-05-12T10:10:00+01:00",
 "slot": [{"reference": "Slot/1"}],
 "created": "2026-05-11T07:55:00+01:00",
 "comment": "Prefers a morning call back.",
 "participant": [
  {"actor": {"reference": "Patient/1"}, "status": "accepted"},
  {"actor": {"reference": "Location/32"}, "status": "accepted"}]
}`

func contained(a map[string]any) map[string]any {
	return a["contained"].([]any)[0].(map[string]any)
}

// TestBookAppointment: §4.2's rules with status and code, and that a
// rejected booking changes nothing.
func TestBookAppointment(t *testing.T) {
	t.Parallel()
	set := func(k string, v any) func(map[string]any) { return func(a map[string]any) { a[k] = v } }
	del := func(k string) func(map[string]any) { return func(a map[string]any) { delete(a, k) } }
	part := func(refs ...string) []any {
		var out []any
		for _, r := range refs {
			out = append(out, map[string]any{"actor": map[string]any{"reference": r}, "status": "accepted"})
		}
		return out
	}
	tests := []struct {
		name   string
		body   string
		status int
		code   gpc.Code
	}{
		{"not an Appointment", `{"resourceType":"Patient"}`, 422, gpc.InvalidResource},
		{"id sent", bookBody(t, set("id", "5")), 422, gpc.InvalidResource},
		{"no profile", bookBody(t, del("meta")), 422, gpc.InvalidResource},
		{"other profile", bookBody(t, set("meta", map[string]any{"profile": []any{"https://example.org/Appointment"}})), 422, gpc.InvalidResource},
		{"status proposed", bookBody(t, set("status", "proposed")), 422, gpc.InvalidResource},
		{"no status", bookBody(t, del("status")), 422, gpc.InvalidResource},
		{"no start", bookBody(t, del("start")), 422, gpc.InvalidResource},
		{"no end", bookBody(t, del("end")), 422, gpc.InvalidResource},
		{"start without offset", bookBody(t, set("start", "2026-05-12T10:00:00")), 422, gpc.InvalidResource},
		{"start not the slot's", bookBody(t, set("start", "2026-05-12T10:05:00+01:00")), 422, gpc.InvalidResource},
		{"no slot", bookBody(t, del("slot")), 422, gpc.InvalidResource},
		{"absolute slot reference", bookBody(t, set("slot", []any{map[string]any{"reference": "https://provider.example/Slot/1"}})), 422, gpc.InvalidResource},
		{"unknown slot", bookBody(t, set("slot", []any{map[string]any{"reference": "Slot/600"}})), 422, gpc.ReferenceNotFound},
		{"busy slot", bookBody(t, func(a map[string]any) {
			a["slot"] = []any{map[string]any{"reference": "Slot/4"}}
			a["start"], a["end"] = "2026-05-12T11:00:00+01:00", "2026-05-12T11:10:00+01:00"
		}), 409, gpc.DuplicateRejected},
		{"past slot", bookBody(t, func(a map[string]any) {
			a["slot"] = []any{map[string]any{"reference": "Slot/7"}}
			a["start"], a["end"] = "2026-05-10T10:00:00+01:00", "2026-05-10T10:10:00+01:00"
		}), 422, gpc.InvalidResource},
		{"slot restricted to another ODS", bookBody(t, func(a map[string]any) {
			a["slot"] = []any{map[string]any{"reference": "Slot/5"}}
			a["start"], a["end"] = "2026-05-12T11:30:00+01:00", "2026-05-12T11:40:00+01:00"
		}), 422, gpc.InvalidResource},
		{"no created", bookBody(t, del("created")), 422, gpc.InvalidResource},
		{"no description", bookBody(t, del("description")), 422, gpc.InvalidResource},
		{"description 101 characters", bookBody(t, set("description", strings.Repeat("d", 101))), 422, gpc.InvalidResource},
		{"comment 501 characters", bookBody(t, set("comment", strings.Repeat("c", 501))), 422, gpc.InvalidResource},
		{"no participants", bookBody(t, del("participant")), 422, gpc.InvalidResource},
		{"participant without status", bookBody(t, set("participant", []any{
			map[string]any{"actor": map[string]any{"reference": "Patient/1"}}, part("Location/32")[0]})), 422, gpc.InvalidResource},
		{"participant without actor", bookBody(t, set("participant", []any{map[string]any{"status": "accepted"}, part("Location/32")[0]})), 422, gpc.InvalidResource},
		{"no Patient participant", bookBody(t, set("participant", part("Location/32"))), 422, gpc.InvalidResource},
		{"two Patient participants", bookBody(t, set("participant", part("Patient/1", "Patient/5", "Location/32"))), 422, gpc.InvalidResource},
		{"no Location participant", bookBody(t, set("participant", part("Patient/1"))), 422, gpc.InvalidResource},
		{"absolute participant reference", bookBody(t, set("participant", part("https://x.example/Patient/1", "Location/32"))), 422, gpc.InvalidResource},
		{"Location not the schedule's", bookBody(t, set("participant", part("Patient/1", "Location/33"))), 422, gpc.InvalidResource},
		{"Practitioner not the schedule's", bookBody(t, set("participant", part("Patient/1", "Location/32", "Practitioner/99"))), 422, gpc.InvalidResource},
		{"unknown patient", bookBody(t, set("participant", part("Patient/404", "Location/32"))), 422, gpc.ReferenceNotFound},
		{"inactive patient", bookBody(t, set("participant", part("Patient/2", "Location/32"))), 422, gpc.InvalidResource},
		{"no booking organisation extension", bookBody(t, set("extension", []any{})), 422, gpc.InvalidResource},
		{"booking organisation not contained", bookBody(t, del("contained")), 422, gpc.InvalidResource},
		{"booking organisation reference not local", bookBody(t, set("extension", []any{map[string]any{"url": gpc.ExtBookingOrganisation, "valueReference": map[string]any{"reference": "Organization/1"}}})), 422, gpc.InvalidResource},
		{"booking organisation without name", bookBody(t, func(a map[string]any) { delete(contained(a), "name") }), 422, gpc.InvalidResource},
		{"booking organisation without telecom", bookBody(t, func(a map[string]any) { delete(contained(a), "telecom") }), 422, gpc.InvalidResource},
		{"booking organisation without ODS code", bookBody(t, func(a map[string]any) { delete(contained(a), "identifier") }), 422, gpc.InvalidResource},
		{"booking organisation type from another system", bookBody(t, func(a map[string]any) {
			contained(a)["type"] = []any{map[string]any{"coding": []any{map[string]any{"system": "https://example.org/types", "code": "gp-practice"}}}}
		}), 422, gpc.InvalidResource},
		{"reason sent", bookBody(t, set("reason", []any{map[string]any{"text": "cough"}})), 422, gpc.InvalidResource},
		{"specialty sent", bookBody(t, set("specialty", []any{map[string]any{"text": "GP"}})), 422, gpc.InvalidResource},
		{"appointmentType sent", bookBody(t, set("appointmentType", map[string]any{"text": "x"})), 422, gpc.InvalidResource},
		{"indication sent", bookBody(t, set("indication", []any{map[string]any{"reference": "Condition/1"}})), 422, gpc.InvalidResource},
		{"supportingInformation sent", bookBody(t, set("supportingInformation", []any{map[string]any{"reference": "Observation/1"}})), 422, gpc.InvalidResource},
		{"incomingReferral sent", bookBody(t, set("incomingReferral", []any{map[string]any{"reference": "ReferralRequest/1"}})), 422, gpc.InvalidResource},
		{"requestedPeriod sent", bookBody(t, set("requestedPeriod", []any{map[string]any{"start": "2026-05-12"}})), 422, gpc.InvalidResource},
		{"identifier.use sent", bookBody(t, set("identifier", []any{map[string]any{"use": "official", "system": "https://x.example", "value": "1"}})), 422, gpc.InvalidResource},
		{"status wrong JSON type", bookBody(t, set("status", 7)), 422, gpc.InvalidResource},
		{"identifier without a value", bookBody(t, set("identifier", []any{map[string]any{"system": "https://x.example"}})), 422, gpc.InvalidResource},
		{"extension the profile does not define", bookBody(t, func(a map[string]any) {
			a["extension"] = append(a["extension"].([]any), map[string]any{"url": "https://example.org/ext", "valueString": "x"})
		}), 422, gpc.InvalidResource},
		{"slot id that is no FHIR id", bookBody(t, set("slot", []any{map[string]any{"reference": "Slot/45555555##"}})), 422, gpc.InvalidResource},
		{"slot id unlike the practice's numbers", bookBody(t, set("slot", []any{map[string]any{"reference": "Slot/hello"}})), 422, gpc.InvalidResource},
		{"participant id that is no FHIR id", bookBody(t, set("participant", part("Patient/1##", "Location/32"))), 422, gpc.InvalidResource},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			slotsBefore, apptsBefore := f.world.Slots(ods), f.world.Appointments(ods)
			r := f.do(call{method: "POST", path: "/Appointment", interaction: gpc.CreateAppointment, body: tt.body})
			wantError(t, r, tt.status, tt.code)
			assert.DeepEqual(t, f.world.Slots(ods), slotsBefore, "slots after a rejected booking")
			assert.DeepEqual(t, f.world.Appointments(ods), apptsBefore, "appointments after a rejected booking")
		})
	}

	// Where the practice's slot ids are not all numbers, an unknown one
	// is only unknown.
	t.Run("unknown slot at a practice with named slot ids", func(t *testing.T) {
		t.Parallel()
		f := newFixtureWith(t, func(d *world.Data) {
			d.Practices[0].Slots = append(d.Practices[0].Slots, world.Slot{ID: "s1", Schedule: "15", Start: at(21, 9, 0), End: at(21, 9, 10),
				Status: world.Free, DeliveryChannel: gpc.ChannelInPerson, ServiceType: "Nurse Appointment"})
		})
		r := f.do(call{method: "POST", path: "/Appointment", interaction: gpc.CreateAppointment,
			body: bookBody(t, set("slot", []any{map[string]any{"reference": "Slot/hello"}}))})
		wantError(t, r, 422, gpc.ReferenceNotFound)
	})
	t.Run("booked", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		r := f.do(call{method: "POST", path: "/Appointment", interaction: gpc.CreateAppointment, body: bookBody(t, nil)})
		var a stu3.Appointment
		wantOK(t, r, 201, &a)
		assert.Equal(t, a.ID, "22", "id")
		assert.Equal(t, r.header.Get("Location"), root+"/Appointment/22/_history/1", "Location")
		assert.Equal(t, r.header.Get("ETag"), `W/"1"`, "ETag")
		assert.Equal(t, r.header.Get("Last-Modified"), "Mon, 11 May 2026 07:00:00 GMT", "Last-Modified")
		assert.Equal(t, a.Description, "Persistent cough", "description")
		assert.Equal(t, a.ServiceCategory.Text, "General GP Appointments", "serviceCategory")
		assert.Equal(t, a.ServiceType[0].Text, "General GP Appointment", "serviceType")
		var urls []string
		for _, e := range a.Extension {
			urls = append(urls, e.URL)
		}
		assert.DeepEqual(t, urls, []string{gpc.ExtBookingOrganisation, gpc.ExtPractitionerRole, gpc.ExtDeliveryChannel}, "extensions")
		assert.Equal(t, a.Contained[0].Name, "Northgate Urgent Care", "contained organisation")
		s, _ := slotByID(f.world, "1")
		assert.Equal(t, s.Status, world.Busy, "slot status after booking")
		// Booking the same slot again is a conflict.
		wantError(t, f.do(call{method: "POST", path: "/Appointment", interaction: gpc.CreateAppointment, body: bookBody(t, nil)}), 409, gpc.DuplicateRejected)
	})

	t.Run("two adjacent slots", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		var a stu3.Appointment
		wantOK(t, f.do(call{method: "POST", path: "/Appointment", interaction: gpc.CreateAppointment, body: bookBody(t, func(a map[string]any) {
			a["slot"] = []any{map[string]any{"reference": "Slot/1"}, map[string]any{"reference": "Slot/2"}}
			a["end"] = "2026-05-12T10:20:00+01:00"
		})}), 201, &a)
		assert.Equal(t, len(a.Slot), 2, "slots")
	})

	t.Run("return=minimal", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		r := f.do(call{method: "POST", path: "/Appointment", interaction: gpc.CreateAppointment, body: bookBody(t, nil),
			header: map[string]string{"Prefer": "return=minimal"}})
		assert.Equal(t, r.status, 201, "status")
		assert.Equal(t, len(r.body), 0, "body length")
		assert.Equal(t, r.header.Get("Location"), root+"/Appointment/22/_history/1", "Location")
	})
}

func slotByID(w *world.World, id string) (world.Slot, bool) {
	for _, s := range w.Slots(ods) {
		if s.ID == id {
			return s, true
		}
	}
	return world.Slot{}, false
}

// TestBookConcurrently: 200 consumers booking one slot at once get exactly
// one 201 and 199 409 DUPLICATE_REJECTED.
func TestBookConcurrently(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	body := bookBody(t, nil)
	const n = 200
	statuses := make([]int, n)
	codes := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := f.do(call{method: "POST", path: "/Appointment", interaction: gpc.CreateAppointment, body: body})
			statuses[i], codes[i] = r.status, r.code()
		}()
	}
	wg.Wait()
	created, conflicts := 0, 0
	for i := range n {
		switch {
		case statuses[i] == http.StatusCreated:
			created++
		case statuses[i] == http.StatusConflict && codes[i] == string(gpc.DuplicateRejected):
			conflicts++
		default:
			t.Errorf("request %d: %d %s", i, statuses[i], codes[i])
		}
	}
	assert.Equal(t, created, 1, "201s")
	assert.Equal(t, conflicts, n-1, "409 DUPLICATE_REJECTED")
	assert.Equal(t, len(f.world.Appointments(ods)), 3, "appointments stored")
}

// TestReadAppointment: §4.3.
func TestReadAppointment(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	r := f.do(call{path: "/Appointment/20", interaction: gpc.ReadAppointment})
	var a stu3.Appointment
	wantOK(t, r, 200, &a)
	assert.Equal(t, r.header.Get("ETag"), `W/"1"`, "ETag")
	assert.Equal(t, a.Start, "2026-05-14T09:00:00+01:00", "start")
	assert.Equal(t, a.Created, "2026-05-04T12:00:00+01:00", "created")
	assert.Equal(t, a.ServiceType[0].Text, "General GP Appointment", "serviceType")
	assert.Equal(t, a.ServiceCategory.Text, "General GP Appointments", "serviceCategory")
	wantError(t, f.do(call{path: "/Appointment/404", interaction: gpc.ReadAppointment}), 404, gpc.NoRecordFound)
	wantError(t, f.do(call{path: "/Appointment/21", interaction: gpc.ReadAppointment}), 422, gpc.InvalidResource)
	wantError(t, f.do(call{path: "/Appointment/", interaction: gpc.ReadAppointment}), 404, gpc.NoRecordFound)
}

// changeBody is the stored appointment 20 as a consumer would send it back,
// edited.
func changeBody(t *testing.T, f *fixture, edit func(a map[string]any)) string {
	t.Helper()
	r := f.do(call{path: "/Appointment/20", interaction: gpc.ReadAppointment})
	var a map[string]any
	assert.NilError(t, json.Unmarshal(r.body, &a))
	if edit != nil {
		edit(a)
	}
	b, err := json.Marshal(a)
	assert.NilError(t, err)
	return string(b)
}

func cancelled(reason string) func(map[string]any) {
	return func(a map[string]any) {
		a["status"] = "cancelled"
		if reason != "" {
			a["extension"] = append(a["extension"].([]any), map[string]any{"url": gpc.ExtCancellationReason, "valueString": reason})
		}
	}
}

func both(fs ...func(map[string]any)) func(map[string]any) {
	return func(a map[string]any) {
		for _, f := range fs {
			f(a)
		}
	}
}

// TestAmendAndCancel: §4.4 and §4.5 — If-Match, what may change, and that
// a rejected change leaves the appointment and slots untouched.
func TestAmendAndCancel(t *testing.T) {
	t.Parallel()
	set := func(k string, v any) func(map[string]any) { return func(a map[string]any) { a[k] = v } }
	amend := func(body string, ifMatch string) call {
		return call{method: "PUT", path: "/Appointment/20", interaction: gpc.AmendAppointment, body: body, header: map[string]string{"If-Match": ifMatch}}
	}
	cancel := func(body string, ifMatch string) call {
		c := amend(body, ifMatch)
		c.interaction = gpc.CancelAppointment
		return c
	}
	tests := []struct {
		name   string
		c      func(t *testing.T, f *fixture) call
		status int
		code   gpc.Code
	}{
		// Without If-Match the provider applies no version check but every
		// other rule (NHS's suite amends without one).
		{"amend without If-Match changes start", func(t *testing.T, f *fixture) call {
			return amend(changeBody(t, f, set("start", "2026-05-14T09:05:00+01:00")), "")
		}, 422, gpc.InvalidResource},
		{"amend stale ETag", func(t *testing.T, f *fixture) call { return amend(changeBody(t, f, set("description", "x")), `W/"7"`) }, 409, gpc.FHIRConstraintViolation},
		{"amend start", func(t *testing.T, f *fixture) call {
			return amend(changeBody(t, f, set("start", "2026-05-14T09:05:00+01:00")), `W/"1"`)
		}, 422, gpc.InvalidResource},
		{"amend participants", func(t *testing.T, f *fixture) call {
			return amend(changeBody(t, f, set("participant", []any{
				map[string]any{"actor": map[string]any{"reference": "Patient/5"}, "status": "accepted"},
				map[string]any{"actor": map[string]any{"reference": "Location/32"}, "status": "accepted"}})), `W/"1"`)
		}, 422, gpc.InvalidResource},
		{"amend slot", func(t *testing.T, f *fixture) call {
			return amend(changeBody(t, f, set("slot", []any{map[string]any{"reference": "Slot/1"}})), `W/"1"`)
		}, 422, gpc.InvalidResource},
		{"amend description too long", func(t *testing.T, f *fixture) call {
			return amend(changeBody(t, f, set("description", strings.Repeat("d", 101))), `W/"1"`)
		}, 422, gpc.InvalidResource},
		{"amend adds reason", func(t *testing.T, f *fixture) call {
			return amend(changeBody(t, f, set("reason", []any{map[string]any{"text": "x"}})), `W/"1"`)
		}, 422, gpc.InvalidResource},
		{"amend to cancelled", func(t *testing.T, f *fixture) call { return amend(changeBody(t, f, cancelled("ill")), `W/"1"`) }, 422, gpc.InvalidResource},
		{"amend id mismatch", func(t *testing.T, f *fixture) call { return amend(changeBody(t, f, set("id", "21")), `W/"1"`) }, 400, gpc.BadRequest},
		{"amend unknown appointment", func(t *testing.T, f *fixture) call {
			c := amend(changeBody(t, f, func(a map[string]any) { delete(a, "id") }), `W/"1"`)
			c.path = "/Appointment/404"
			return c
		}, 404, gpc.NoRecordFound},
		{"amend past appointment", func(t *testing.T, f *fixture) call {
			c := amend(changeBody(t, f, func(a map[string]any) { delete(a, "id") }), `W/"1"`)
			c.path = "/Appointment/21"
			return c
		}, 422, gpc.InvalidResource},
		{"cancel without reason", func(t *testing.T, f *fixture) call { return cancel(changeBody(t, f, cancelled("")), `W/"1"`) }, 422, gpc.InvalidParameter},
		{"cancel with status booked", func(t *testing.T, f *fixture) call {
			return cancel(changeBody(t, f, func(a map[string]any) {
				cancelled("ill")(a)
				a["status"] = "booked"
			}), `W/"1"`)
		}, 422, gpc.InvalidParameter},
		{"cancel changes description", func(t *testing.T, f *fixture) call {
			return cancel(changeBody(t, f, both(cancelled("ill"), set("description", "other"))), `W/"1"`)
		}, 422, gpc.InvalidResource},
		{"cancel changes end", func(t *testing.T, f *fixture) call {
			return cancel(changeBody(t, f, both(cancelled("ill"), set("end", "2026-05-14T09:20:00+01:00"))), `W/"1"`)
		}, 422, gpc.InvalidResource},
		{"cancel with a misspelt reason extension", func(t *testing.T, f *fixture) call {
			return cancel(changeBody(t, f, func(a map[string]any) {
				a["status"] = "cancelled"
				a["extension"] = append(a["extension"].([]any), map[string]any{"url": gpc.ExtCancellationReason + "-010", "valueString": "ill"})
			}), `W/"1"`)
		}, 422, gpc.InvalidResource},
		{"cancel stale ETag", func(t *testing.T, f *fixture) call { return cancel(changeBody(t, f, cancelled("ill")), `W/"2"`) }, 409, gpc.FHIRConstraintViolation},
		{"cancel without If-Match changes comment", func(t *testing.T, f *fixture) call {
			return cancel(changeBody(t, f, both(cancelled("ill"), set("comment", "other"))), "")
		}, 422, gpc.InvalidResource},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			c := tt.c(t, f)
			slotsBefore, apptsBefore := f.world.Slots(ods), f.world.Appointments(ods)
			wantError(t, f.do(c), tt.status, tt.code)
			assert.DeepEqual(t, f.world.Slots(ods), slotsBefore, "slots after a rejected change")
			assert.DeepEqual(t, f.world.Appointments(ods), apptsBefore, "appointments after a rejected change")
		})
	}

	// An appointment the practice made itself has no booking organisation,
	// and one made a moment ago has a created time finer than the whole
	// seconds the provider shows: echoing what was read changes neither.
	held := func(d *world.Data) {
		a := &d.Practices[0].Appointments[0]
		a.BookingOrganization = nil
		a.Created = a.Created.Add(123456789 * time.Nanosecond)
	}
	t.Run("amend and cancel an appointment without a booking organisation", func(t *testing.T) {
		t.Parallel()
		f := newFixtureWith(t, held)
		var a stu3.Appointment
		wantOK(t, f.do(amend(changeBody(t, f, set("description", "Knee pain review, bring scan")), `W/"1"`)), 200, &a)
		assert.Equal(t, a.Description, "Knee pain review, bring scan", "description")
		wantOK(t, f.do(cancel(changeBody(t, f, cancelled("Patient feels better")), `W/"2"`)), 200, &a)
		assert.Equal(t, a.Status, "cancelled", "status")
	})
	t.Run("amend and cancel without If-Match", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		var a stu3.Appointment
		wantOK(t, f.do(amend(changeBody(t, f, set("description", "Knee pain review, bring scan")), "")), 200, &a)
		assert.Equal(t, a.Description, "Knee pain review, bring scan", "description")
		wantOK(t, f.do(cancel(changeBody(t, f, cancelled("Patient feels better")), "")), 200, &a)
		assert.Equal(t, a.Status, "cancelled", "status")
	})
	t.Run("amend adds a booking organisation the appointment has not", func(t *testing.T) {
		t.Parallel()
		f := newFixtureWith(t, held)
		withOrg := changeBody(t, newFixture(t), nil) // the same appointment, as read with its organisation
		var org map[string]any
		assert.NilError(t, json.Unmarshal([]byte(withOrg), &org))
		body := changeBody(t, f, both(set("contained", org["contained"]), set("extension", org["extension"])))
		before := f.world.Appointments(ods)
		wantError(t, f.do(amend(body, `W/"1"`)), 422, gpc.InvalidResource)
		assert.DeepEqual(t, f.world.Appointments(ods), before, "appointments after the rejected amend")
	})
	t.Run("amend drops the booking organisation", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		body := changeBody(t, f, func(a map[string]any) {
			var keep []any
			for _, e := range a["extension"].([]any) {
				if e.(map[string]any)["url"] != gpc.ExtBookingOrganisation {
					keep = append(keep, e)
				}
			}
			a["extension"] = keep
		})
		wantError(t, f.do(amend(body, `W/"1"`)), 422, gpc.InvalidResource)
	})

	t.Run("amend then cancel", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		var a stu3.Appointment
		r := f.do(amend(changeBody(t, f, both(set("description", "Knee pain review, bring scan"), set("comment", "Wheelchair access"))), `W/"1"`))
		wantOK(t, r, 200, &a)
		assert.Equal(t, a.Description, "Knee pain review, bring scan", "description")
		assert.Equal(t, a.Comment, "Wheelchair access", "comment")
		assert.Equal(t, a.Meta.VersionID, "2", "versionId")
		assert.Equal(t, r.header.Get("ETag"), `W/"2"`, "ETag")
		wantError(t, f.do(amend(changeBody(t, f, set("description", "again")), `W/"1"`)), 409, gpc.FHIRConstraintViolation)

		r = f.do(cancel(changeBody(t, f, cancelled("Patient feels better")), `W/"2"`))
		wantOK(t, r, 200, &a)
		assert.Equal(t, a.Status, "cancelled", "status")
		assert.Equal(t, a.Meta.VersionID, "3", "versionId")
		reason := stu3.FindExtension(a.Extension, gpc.ExtCancellationReason)
		if reason == nil || reason.ValueString != "Patient feels better" {
			t.Errorf("cancellation reason = %+v", reason)
		}
		s, _ := slotByID(f.world, "9")
		assert.Equal(t, s.Status, world.Free, "slot after cancel")
		// A cancelled appointment cannot be amended.
		wantError(t, f.do(amend(changeBody(t, f, set("status", "booked")), `W/"3"`)), 422, gpc.InvalidResource)
	})
}

// TestPatientAppointments: §4.6.
func TestPatientAppointments(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tests := []struct {
		name   string
		path   string
		status int
		code   gpc.Code
		want   []string
	}{
		{"today onwards", "/Patient/1/Appointment?start=ge2026-05-11&start=le2026-05-25", 200, "", []string{"Appointment/20"}},
		{"range ending the day of the appointment", "/Patient/1/Appointment?start=ge2026-05-11&start=le2026-05-14", 200, "", []string{"Appointment/20"}},
		{"nothing in range", "/Patient/1/Appointment?start=ge2026-05-15&start=le2026-05-25", 200, "", []string{}},
		{"order of bounds does not matter", "/Patient/1/Appointment?start=le2026-05-25&start=ge2026-05-11", 200, "", []string{"Appointment/20"}},
		{"start in the past", "/Patient/1/Appointment?start=ge2026-05-01&start=le2026-05-25", 422, gpc.InvalidParameter, nil},
		{"missing upper bound", "/Patient/1/Appointment?start=ge2026-05-11", 422, gpc.InvalidParameter, nil},
		{"missing both", "/Patient/1/Appointment", 422, gpc.InvalidParameter, nil},
		{"time part", "/Patient/1/Appointment?start=ge2026-05-11T09:00:00%2B01:00&start=le2026-05-25", 422, gpc.InvalidParameter, nil},
		{"prefix eq", "/Patient/1/Appointment?start=eq2026-05-11&start=le2026-05-25", 422, gpc.InvalidParameter, nil},
		{"invalid date", "/Patient/1/Appointment?start=ge2026-05-11&start=le2026-13-01", 422, gpc.InvalidParameter, nil},
		{"end before start", "/Patient/1/Appointment?start=ge2026-05-20&start=le2026-05-12", 422, gpc.InvalidParameter, nil},
		{"unknown patient", "/Patient/404/Appointment?start=ge2026-05-11&start=le2026-05-25", 404, gpc.PatientNotFound, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := f.do(call{path: tt.path, interaction: gpc.SearchPatientAppts})
			if tt.status != 200 {
				wantError(t, r, tt.status, tt.code)
				return
			}
			wantOK(t, r, 200, nil)
			assert.DeepEqual(t, bundleTypes(t, r.body), tt.want, "entries")
		})
	}
}
