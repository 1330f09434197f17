package stu3_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/internal/nhsnumber"
	"github.com/spine-sandbox/spine-sandbox/internal/stu3"
)

// The fixtures in testdata/ have the shapes of every example payload of
// GP Connect 1.6 (gpconnect-1.6.md §8), with the sandbox's own values,
// including the examples' mistakes (§4.1 GOTCHA).
func fixtures(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("testdata/*.json")
	assert.NilError(t, err)
	if len(files) != 19 {
		t.Fatalf("found %d fixtures, want 19 (one per spec example)", len(files))
	}
	return files
}

// normalise rewrites the spec examples' lenient shapes into the STU3-correct
// form the encoders write: Organization.telecom/address and Location.telecom
// as arrays, Location.address as one object.
func normalise(v any) any {
	switch n := v.(type) {
	case map[string]any:
		switch n["resourceType"] {
		case "Organization":
			wrap(n, "telecom")
			wrap(n, "address")
		case "Location":
			wrap(n, "telecom")
			if a, ok := n["address"].([]any); ok && len(a) == 1 {
				n["address"] = a[0]
			}
		}
		for k, x := range n {
			n[k] = normalise(x)
		}
	case []any:
		for i, x := range n {
			n[i] = normalise(x)
		}
	}
	return v
}

func wrap(m map[string]any, key string) {
	if o, ok := m[key].(map[string]any); ok {
		m[key] = []any{o}
	}
}

// reencode encodes v, first decoding and re-encoding the raw resources of
// Bundle entries and Parameters, so they too go through their types.
func reencode(t *testing.T, v any) []byte {
	t.Helper()
	deep := func(raw json.RawMessage) json.RawMessage {
		if len(raw) == 0 {
			return raw
		}
		_, r, err := stu3.DecodeResource(raw)
		assert.NilError(t, err)
		return reencode(t, r)
	}
	switch r := v.(type) {
	case *stu3.Bundle:
		for i := range r.Entry {
			r.Entry[i].Resource = deep(r.Entry[i].Resource)
		}
	case *stu3.Parameters:
		for i := range r.Parameter {
			r.Parameter[i].Resource = deep(r.Parameter[i].Resource)
		}
	}
	b, err := json.Marshal(v)
	assert.NilError(t, err)
	return b
}

func TestRoundTripFixtures(t *testing.T) {
	t.Parallel()
	for _, file := range fixtures(t) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			t.Parallel()
			raw, err := os.ReadFile(file)
			assert.NilError(t, err)

			rt, v, err := stu3.DecodeResource(raw)
			assert.NilError(t, err)
			got := reencode(t, v)

			var want any
			assert.NilError(t, json.Unmarshal(raw, &want))
			wantJSON, err := json.Marshal(normalise(want))
			assert.NilError(t, err)

			assert.JSONEqual(t, got, wantJSON, rt+" round trip")

			unknown, err := stu3.UnknownFields(raw, v)
			assert.NilError(t, err)
			assert.DeepEqual(t, unknown, []string(nil), "unknown fields")
		})
	}
}

func TestDecodeResourceTypes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file string
		want string
	}{
		{"book_appt_request.json", "*stu3.Appointment"},
		{"search_for_free_slots_response.json", "*stu3.Bundle"},
		{"register_patient_request.json", "*stu3.Parameters"},
		{"get_capability_statement_response.json", "*stu3.CapabilityStatement"},
		{"read_location_response.json", "*stu3.Location"},
		{"read_organization_response.json", "*stu3.Organization"},
		{"read_practitioner_response.json", "*stu3.Practitioner"},
		{"read_patient_response.json", "*stu3.Patient"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			raw, err := os.ReadFile(filepath.Join("testdata", tt.file))
			assert.NilError(t, err)
			_, v, err := stu3.DecodeResource(raw)
			assert.NilError(t, err)
			assert.Equal(t, typeName(v), tt.want, "type")
		})
	}
}

func typeName(v any) string {
	switch v.(type) {
	case *stu3.Appointment:
		return "*stu3.Appointment"
	case *stu3.Bundle:
		return "*stu3.Bundle"
	case *stu3.Parameters:
		return "*stu3.Parameters"
	case *stu3.CapabilityStatement:
		return "*stu3.CapabilityStatement"
	case *stu3.Location:
		return "*stu3.Location"
	case *stu3.Organization:
		return "*stu3.Organization"
	case *stu3.Practitioner:
		return "*stu3.Practitioner"
	case *stu3.Patient:
		return "*stu3.Patient"
	}
	return "other"
}

func TestDecodeResourceErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		raw      string
		wantType string
		unknown  bool // wraps ErrUnknownResourceType
	}{
		{"not JSON", `{"resourceType":`, "", false},
		{"array", `[]`, "", false},
		{"no resourceType", `{"id":"1"}`, "", true},
		{"empty resourceType", `{"resourceType":""}`, "", true},
		{"unknown resourceType", `{"resourceType":"Encounter"}`, "Encounter", true},
		{"wrong element type", `{"resourceType":"Slot","start":12}`, "Slot", false},
		{"Location with two addresses", `{"resourceType":"Location","address":[{"city":"A"},{"city":"B"}]}`, "Location", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rt, v, err := stu3.DecodeResource([]byte(tt.raw))
			if err == nil {
				t.Fatalf("DecodeResource = %T, want an error", v)
			}
			assert.Equal(t, rt, tt.wantType, "resourceType")
			assert.Equal(t, errors.Is(err, stu3.ErrUnknownResourceType), tt.unknown, "errors.Is(ErrUnknownResourceType)")
		})
	}
}

func TestLenientShapes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		raw  string
		want string
	}{
		{"Organization telecom object", `{"resourceType":"Organization","telecom":{"system":"phone","value":"0113 496 0001"}}`,
			`{"resourceType":"Organization","telecom":[{"system":"phone","value":"0113 496 0001"}]}`},
		{"Organization address object", `{"resourceType":"Organization","address":{"city":"Harrowgate"}}`,
			`{"resourceType":"Organization","address":[{"city":"Harrowgate"}]}`},
		{"Location telecom object", `{"resourceType":"Location","telecom":{"system":"phone","value":"1"}}`,
			`{"resourceType":"Location","telecom":[{"system":"phone","value":"1"}]}`},
		{"Location address array of one", `{"resourceType":"Location","address":[{"city":"Harrowgate"}]}`,
			`{"resourceType":"Location","address":{"city":"Harrowgate"}}`},
		{"Location address empty array", `{"resourceType":"Location","address":[]}`,
			`{"resourceType":"Location"}`},
		{"Location address object stays", `{"resourceType":"Location","name":"Quarry Row","address":{"city":"Harrowgate"}}`,
			`{"resourceType":"Location","name":"Quarry Row","address":{"city":"Harrowgate"}}`},
		{"contained Organization in Appointment", `{"resourceType":"Appointment","contained":[{"resourceType":"Organization","id":"1","telecom":{"value":"1"}}]}`,
			`{"resourceType":"Appointment","contained":[{"resourceType":"Organization","id":"1","telecom":[{"value":"1"}]}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, v, err := stu3.DecodeResource([]byte(tt.raw))
			assert.NilError(t, err)
			got, err := json.Marshal(v)
			assert.NilError(t, err)
			assert.JSONEqual(t, got, []byte(tt.want), "encoded "+string(got))
			unknown, err := stu3.UnknownFields([]byte(tt.raw), v)
			assert.NilError(t, err)
			assert.DeepEqual(t, unknown, []string(nil), "unknown fields")
		})
	}
}

func TestUnknownFields(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		raw  string
		v    any
		want []string
	}{
		{"appointment reason and specialty", `{"resourceType":"Appointment","reason":[{"text":"x"}],"specialty":[],"status":"booked"}`,
			stu3.Appointment{}, []string{"reason", "specialty"}},
		{"nested participant element", `{"resourceType":"Appointment","participant":[{"actor":{"reference":"Patient/1"},"status":"accepted"},{"status":"accepted","period":{}}]}`,
			&stu3.Appointment{}, []string{"participant[1].period"}},
		{"contained organization endpoint", `{"resourceType":"Appointment","contained":[{"resourceType":"Organization","endpoint":[]}]}`,
			stu3.Appointment{}, []string{"contained[0].endpoint"}},
		{"identifier use", `{"resourceType":"Appointment","identifier":[{"use":"usual","system":"s","value":"v"}]}`,
			stu3.Appointment{}, []string{"identifier[0].use"}},
		{"register patient maritalStatus", `{"resourceType":"Parameters","parameter":[{"name":"registerPatient","resource":{"resourceType":"Patient","maritalStatus":{},"_birthDate":{}}}]}`,
			stu3.Parameters{}, []string{"parameter[0].resource._birthDate", "parameter[0].resource.maritalStatus"}},
		{"bundle entry slot specialty", `{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Slot","specialty":[]}},{"fullUrl":"x","foo":1}]}`,
			stu3.Bundle{}, []string{"entry[0].resource.specialty", "entry[1].foo"}},
		{"extension value not used by GP Connect", `{"resourceType":"Slot","extension":[{"url":"u","valueInteger":3}]}`,
			stu3.Slot{}, []string{"extension[0].valueInteger"}},
		{"practitioner telecom forbidden", `{"resourceType":"Practitioner","telecom":[]}`,
			stu3.Practitioner{}, []string{"telecom"}},
		{"lenient object and array shapes accepted", `{"resourceType":"Location","telecom":{"value":"1","x":1},"address":[{"city":"a","y":2}]}`,
			stu3.Location{}, []string{"address[0].y", "telecom.x"}},
		{"an escaped name", `{"resourceType":"Appointment","re\u0061son":[]}`,
			stu3.Appointment{}, []string{"reason"}},
		{"every value of a repeated name", `{"resourceType":"Appointment","participant":[{"period":{}}],"participant":[{"status":"x"}]}`,
			stu3.Appointment{}, []string{"participant[0].period"}},
		{"a name not UTF-8", "{\"resourceType\":\"Appointment\",\"a\xffb\":1}",
			stu3.Appointment{}, []string{"a\uFFFDb"}},
		{"a raw resource's type read after its elements", `{"resourceType":"Bundle","entry":[{"resource":{"specialty":[],"resourceType":"Slot"}}]}`,
			stu3.Bundle{}, []string{"entry[0].resource.specialty"}},
		{"primitives where objects are due", `{"resourceType":"Appointment","participant":[1,"x",null,{"y":true}],"meta":"m"}`,
			stu3.Appointment{}, []string{"participant[3].y"}},
		{"unknown raw resource type not descended", `{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Encounter","anything":1}}]}`,
			stu3.Bundle{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := stu3.UnknownFields([]byte(tt.raw), tt.v)
			assert.NilError(t, err)
			assert.DeepEqual(t, got, tt.want, "unknown fields")
		})
	}
}

func TestUnknownFieldsNotJSON(t *testing.T) {
	t.Parallel()
	if _, err := stu3.UnknownFields([]byte(`{"a":`), stu3.Patient{}); err == nil {
		t.Fatal("UnknownFields of broken JSON: want an error")
	}
}

func TestMarshalSetsResourceType(t *testing.T) {
	t.Parallel()
	tests := []struct {
		v    any
		want string
	}{
		{stu3.Patient{}, "Patient"},
		{&stu3.Organization{}, "Organization"},
		{stu3.Practitioner{}, "Practitioner"},
		{stu3.Location{}, "Location"},
		{stu3.Slot{}, "Slot"},
		{stu3.Schedule{}, "Schedule"},
		{stu3.Appointment{}, "Appointment"},
		{stu3.Bundle{}, "Bundle"},
		{stu3.Parameters{}, "Parameters"},
		{stu3.CapabilityStatement{}, "CapabilityStatement"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			b, err := json.Marshal(tt.v)
			assert.NilError(t, err)
			got, err := stu3.ResourceTypeOf(b)
			assert.NilError(t, err)
			assert.Equal(t, got, tt.want, "resourceType")
		})
	}
}

func TestFindExtensionAndIdentifier(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("testdata/register_patient_response.json")
	assert.NilError(t, err)
	var b stu3.Bundle
	assert.NilError(t, json.Unmarshal(raw, &b))
	res, err := b.Resources()
	assert.NilError(t, err)
	p := res[0].(*stu3.Patient)

	reg := stu3.FindExtension(p.Extension, gpc.ExtRegistrationDetails)
	if reg == nil {
		t.Fatal("no registration details extension")
	}
	typ := stu3.FindExtension(reg.Extension, "registrationType")
	if typ == nil || typ.ValueCodeableConcept == nil {
		t.Fatal("no registrationType")
	}
	assert.Equal(t, typ.ValueCodeableConcept.Coding[0].Code, "T", "registration type")
	assert.Equal(t, stu3.FindExtension(p.Extension, "https://example.test/none") == nil, true, "missing extension is nil")

	id := stu3.FindIdentifier(p.Identifier, gpc.SystemNHSNumber)
	if id == nil {
		t.Fatal("no NHS number")
	}
	assert.Equal(t, len(id.Value), 10, "NHS number length")
	assert.Equal(t, stu3.FindIdentifier(p.Identifier, gpc.SystemODSCode) == nil, true, "missing identifier is nil")
}

func TestReferenceSplit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		ref, typ, id string
		ok           bool
	}{
		{"Slot/1584", "Slot", "1584", true},
		{"Patient/a-b.c", "Patient", "a-b.c", true},
		{"#1", "", "", false},
		{"https://gp.test/STU3/1/Slot/1", "", "", false},
		{"Slot/", "", "", false},
		{"/1", "", "", false},
		{"slot/1", "", "", false},
		{"Appointment/1/_history/2", "", "", false},
		{"", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			t.Parallel()
			typ, id, ok := stu3.Reference{Reference: tt.ref}.Split()
			assert.Equal(t, ok, tt.ok, "ok")
			assert.Equal(t, typ, tt.typ, "type")
			assert.Equal(t, id, tt.id, "id")
		})
	}
	assert.Equal(t, stu3.Ref("Location", "17").Reference, "Location/17", "Ref")
}

func TestBundleBuild(t *testing.T) {
	t.Parallel()
	b := stu3.NewSearchset(gpc.ProfileSearchsetBundle)
	assert.NilError(t, b.Add("https://gp.test/STU3/1/Slot/9", stu3.Slot{ID: "9", Status: "free"}, "match"))
	assert.NilError(t, b.Add("", &stu3.Schedule{ID: "3"}, "include"))
	raw, err := json.Marshal(b)
	assert.NilError(t, err)
	want := `{"resourceType":"Bundle","meta":{"profile":["` + gpc.ProfileSearchsetBundle + `"]},"type":"searchset","entry":[
	  {"fullUrl":"https://gp.test/STU3/1/Slot/9","resource":{"resourceType":"Slot","id":"9","status":"free"},"search":{"mode":"match"}},
	  {"resource":{"resourceType":"Schedule","id":"3"},"search":{"mode":"include"}}]}`
	assert.JSONEqual(t, raw, []byte(want), "bundle")
	res, err := b.Resources()
	assert.NilError(t, err)
	assert.Equal(t, res[1].(*stu3.Schedule).ID, "3", "schedule id")
}

func TestParametersAndCapability(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("testdata/register_patient_request.json")
	assert.NilError(t, err)
	var p stu3.Parameters
	assert.NilError(t, json.Unmarshal(raw, &p))
	assert.Equal(t, len(p.Named("registerPatient")), 1, "registerPatient parameters")
	assert.Equal(t, len(p.Named("RegisterPatient")), 0, "case-sensitive name")

	raw, err = os.ReadFile("testdata/get_capability_statement_response.json")
	assert.NilError(t, err)
	var cs stu3.CapabilityStatement
	assert.NilError(t, json.Unmarshal(raw, &cs))
	assert.Equal(t, cs.FHIRVersion, "3.0.1", "fhirVersion")
	slot := cs.Resource("Slot")
	if slot == nil {
		t.Fatal("no Slot in capability statement")
	}
	assert.Contains(t, strings.Join(slot.SearchInclude, " "), "Slot:schedule", "Slot searchInclude")
	assert.Equal(t, cs.Resource("Encounter") == nil, true, "unknown resource is nil")
}

// FuzzDecodeResource proves DecodeResource and UnknownFields never panic,
// whatever the body, and that UnknownFields finds nothing unknown in what
// the types themselves encode (Bundle and Parameters excepted: they keep
// their entries' resources raw).
func FuzzDecodeResource(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.json")
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err == nil {
			f.Add(raw)
		}
	}
	f.Add([]byte(`{"resourceType":"Location","address":[[]],"telecom":{"x":[]}}`))
	f.Add([]byte(`{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Bundle","entry":{}}}]}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		for _, v := range []any{stu3.Patient{}, &stu3.Bundle{}, stu3.Location{}, stu3.Appointment{}} {
			_, _ = stu3.UnknownFields(raw, v)
		}
		_, v, err := stu3.DecodeResource(raw)
		if err != nil {
			return
		}
		enc, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("encoding a decoded %T: %v", v, err)
		}
		switch v.(type) {
		case *stu3.Bundle, *stu3.Parameters:
			return
		}
		if unknown, err := stu3.UnknownFields(enc, v); err != nil || len(unknown) > 0 {
			t.Fatalf("UnknownFields of own encoding %s = %v, %v", enc, unknown, err)
		}
	})
}

func TestAppointmentHelpers(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("testdata/read_appt_response.json")
	assert.NilError(t, err)
	var a stu3.Appointment
	assert.NilError(t, json.Unmarshal(raw, &a))

	org := a.BookingOrganization()
	if org == nil {
		t.Fatal("BookingOrganization = nil")
	}
	assert.Equal(t, org.ID, "1", "booking organisation id")
	assert.Equal(t, org.Name, "Quarry Row Surgery", "booking organisation name")
	assert.Equal(t, len(a.Participants("Patient")), 1, "patient participants")
	assert.Equal(t, len(a.Participants("Location")), 1, "location participants")
	assert.Equal(t, len(a.Participants("Practitioner")), 1, "practitioner participants")
	assert.Equal(t, len(a.Participants("Slot")), 0, "slot participants")

	tests := []struct {
		name string
		ref  string
	}{
		{"dangling", "#2"},
		{"not local", "Organization/1"},
		{"empty", "#"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := stu3.Appointment{
				Contained: []stu3.Organization{{ID: "1"}},
				Extension: []stu3.Extension{{URL: gpc.ExtBookingOrganisation, ValueReference: &stu3.Reference{Reference: tt.ref}}},
			}
			assert.Equal(t, b.BookingOrganization() == nil, true, "BookingOrganization is nil")
		})
	}
	assert.Equal(t, (&stu3.Appointment{}).BookingOrganization() == nil, true, "no extension")
}

func TestPatientHelpers(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("testdata/read_patient_response.json")
	assert.NilError(t, err)
	var p stu3.Patient
	assert.NilError(t, json.Unmarshal(raw, &p))
	assert.Equal(t, p.NHSNumber(), "9730001502", "NHS number")
	assert.Equal(t, nhsnumber.Valid(p.NHSNumber()), true, "fixture NHS number passes Modulus 11")
	n := p.OfficialName()
	if n == nil {
		t.Fatal("OfficialName = nil")
	}
	assert.Equal(t, n.Family, "Pemberton", "family")
	empty := stu3.Patient{Name: []stu3.HumanName{{Use: "usual"}}}
	assert.Equal(t, empty.NHSNumber(), "", "no NHS number")
	assert.Equal(t, empty.OfficialName() == nil, true, "no official name")
}

// TestHelpersUseGPCsIdentifiers: stu3 writes out the two GP Connect
// identifiers its helpers look for (gpc imports stu3, not the reverse);
// they must be gpc's.
func TestHelpersUseGPCsIdentifiers(t *testing.T) {
	t.Parallel()
	p := stu3.Patient{Identifier: []stu3.Identifier{{System: gpc.SystemNHSNumber, Value: "9730001502"}}}
	assert.Equal(t, p.NHSNumber(), "9730001502", "NHS number under gpc.SystemNHSNumber")
	a := stu3.Appointment{Contained: []stu3.Organization{{ID: "1", Name: "Booker"}},
		Extension: []stu3.Extension{{URL: gpc.ExtBookingOrganisation, ValueReference: &stu3.Reference{Reference: "#1"}}}}
	org := a.BookingOrganization()
	assert.Equal(t, org != nil && org.Name == "Booker", true, "booking organisation under gpc.ExtBookingOrganisation")
}

// BenchmarkUnknownFields: the check of a booking's Appointment body.
func BenchmarkUnknownFields(b *testing.B) {
	raw, err := os.ReadFile("testdata/book_appt_request.json")
	assert.NilError(b, err)
	b.ReportAllocs()
	for b.Loop() {
		if unknown, err := stu3.UnknownFields(raw, stu3.Appointment{}); err != nil || len(unknown) > 0 {
			b.Fatal(unknown, err)
		}
	}
}
