package provider_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/internal/stu3"
)

// TestFindPatient: §3.2 — a searchset always; empty for unknown, deceased,
// sensitive and inactive patients; the identifier parameter's errors.
func TestFindPatient(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	find := func(q string) call { return call{path: "/Patient?" + q, interaction: gpc.SearchPatient} }
	nhs := "identifier=https://fhir.nhs.uk/Id/nhs-number%7C"
	tests := []struct {
		name   string
		query  string
		status int
		code   gpc.Code
		want   []string
	}{
		{"active patient", nhs + nhsActive, 200, "", []string{"Patient/1"}},
		{"raw pipe", "identifier=https://fhir.nhs.uk/Id/nhs-number|" + nhsActive, 200, "", []string{"Patient/1"}},
		{"unverified record verified against PDS", nhs + nhsUnverified, 200, "", []string{"Patient/5"}},
		{"_count and _sort ignored", nhs + nhsActive + "&_count=1&_sort=name", 200, "", []string{"Patient/1"}},
		{"not on the system", nhs + nhsNew, 200, "", []string{}},
		{"inactive", nhs + nhsInactive, 200, "", []string{}},
		{"deceased", nhs + nhsDeceased, 200, "", []string{}},
		{"sensitive", nhs + nhsRestricted, 200, "", []string{}},
		{"no identifier", "", 400, gpc.BadRequest, nil},
		{"Identifier wrong case", "Identifier=https://fhir.nhs.uk/Id/nhs-number%7C" + nhsActive, 400, gpc.BadRequest, nil},
		{"two identifiers", nhs + nhsActive + "&" + nhs + nhsNew, 400, gpc.BadRequest, nil},
		{"empty system", "identifier=%7C" + nhsActive, 422, gpc.InvalidParameter, nil},
		{"empty value", nhs, 422, gpc.InvalidParameter, nil},
		{"no separator", "identifier=" + nhsActive, 422, gpc.InvalidParameter, nil},
		{"bad check digit", nhs + "9434765006", 400, gpc.InvalidNHSNumber, nil},
		{"not ten digits", nhs + "12345", 400, gpc.InvalidNHSNumber, nil},
		{"other system", "identifier=https://fhir.nhs.uk/Id/local%7C" + nhsActive, 400, gpc.InvalidIdentifierSystem, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := f.do(find(tt.query))
			if tt.status != 200 {
				wantError(t, r, tt.status, tt.code)
				return
			}
			wantOK(t, r, 200, nil)
			assert.DeepEqual(t, bundleTypes(t, r.body), tt.want, "entries")
		})
	}

	t.Run("patient content", func(t *testing.T) {
		t.Parallel()
		var b stu3.Bundle
		wantOK(t, f.do(find(nhs+nhsActive)), 200, &b)
		var p stu3.Patient
		assert.NilError(t, json.Unmarshal(b.Entry[0].Resource, &p))
		assert.DeepEqual(t, p.Meta.Profile, []string{gpc.ProfilePatient}, "profile")
		assert.Equal(t, p.Meta.VersionID, "1", "versionId")
		assert.Equal(t, p.Name[0].Use, "official", "name.use")
		assert.Equal(t, p.Name[0].Family, "Bennett", "family from PDS")
		assert.Equal(t, p.BirthDate, "1961-03-14", "birthDate")
		assert.Equal(t, p.ManagingOrganization.Reference, "Organization/7", "managingOrganization")
		reg := stu3.FindExtension(p.Extension, gpc.ExtRegistrationDetails)
		if reg == nil {
			t.Fatal("no RegistrationDetails extension")
		}
		branch := stu3.FindExtension(reg.Extension, "preferredBranchSurgery")
		if branch == nil || branch.ValueReference.Reference != "Location/32" {
			t.Errorf("preferredBranchSurgery = %+v", branch)
		}
	})
}

// TestReadPatient: §3.4 — 200 with an ETag, 404 PATIENT_NOT_FOUND for an
// unknown id and for patients Find filters out.
func TestReadPatient(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tests := []struct {
		name, id string
		status   int
	}{
		{"active", "1", 200},
		{"unknown", "999", 404},
		{"inactive", "2", 404},
		{"deceased", "3", 404},
		{"sensitive", "4", 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := f.do(call{path: "/Patient/" + tt.id, interaction: gpc.ReadPatient})
			if tt.status != 200 {
				wantError(t, r, 404, gpc.PatientNotFound)
				return
			}
			var p stu3.Patient
			wantOK(t, r, 200, &p)
			assert.Equal(t, p.ID, "1", "id")
			assert.Equal(t, r.header.Get("ETag"), `W/"1"`, "ETag")
		})
	}
}

// registerBody is a register request like the spec's example, edited.
func registerBody(t *testing.T, edit func(p map[string]any)) string {
	t.Helper()
	p := map[string]any{
		"resourceType": "Patient",
		"meta":         map[string]any{"profile": []any{gpc.ProfilePatient}},
		"identifier":   []any{map[string]any{"system": gpc.SystemNHSNumber, "value": nhsNew}},
		"name":         []any{map[string]any{"use": "official", "family": "Okafor", "given": []any{"Grace"}, "prefix": []any{"Miss"}}},
		"gender":       "female",
		"birthDate":    "1985-09-09",
		"telecom":      []any{map[string]any{"system": "phone", "value": "0113 496 0202", "use": "home"}},
		"address":      []any{map[string]any{"use": "home", "line": []any{"9 Canal Wharf"}, "city": "Leeds", "postalCode": "LS11 5PS"}},
	}
	if edit != nil {
		edit(p)
	}
	b, err := json.Marshal(map[string]any{"resourceType": "Parameters", "parameter": []any{map[string]any{"name": "registerPatient", "resource": p}}})
	assert.NilError(t, err)
	return string(b)
}

// TestRegisterPatient: §3.3 — content rules and error table, success shape,
// and no state change on rejection.
func TestRegisterPatient(t *testing.T) {
	t.Parallel()
	set := func(k string, v any) func(map[string]any) { return func(p map[string]any) { p[k] = v } }
	del := func(k string) func(map[string]any) { return func(p map[string]any) { delete(p, k) } }
	nhsID := func(n string) []any { return []any{map[string]any{"system": gpc.SystemNHSNumber, "value": n}} }
	official := func(family, given string) []any {
		n := map[string]any{"use": "official"}
		if family != "" {
			n["family"] = family
		}
		if given != "" {
			n["given"] = []any{given}
		}
		return []any{n}
	}
	tests := []struct {
		name   string
		body   string
		status int
		code   gpc.Code
	}{
		{"not Parameters", `{"resourceType":"Patient"}`, 422, gpc.InvalidResource},
		{"malformed JSON", `{"resourceType":`, 400, gpc.BadRequest},
		{"no registerPatient", `{"resourceType":"Parameters","parameter":[]}`, 422, gpc.InvalidResource},
		{"wrong case parameter", strings.Replace(registerBody(t, nil), "registerPatient", "RegisterPatient", 1), 422, gpc.InvalidResource},
		{"duplicate registerPatient", strings.Replace(registerBody(t, nil), `"parameter":[`, `"parameter":[{"name":"registerPatient","resource":{"resourceType":"Patient"}},`, 1), 400, gpc.BadRequest},
		{"extra parameter", strings.Replace(registerBody(t, nil), `"parameter":[`, `"parameter":[{"name":"other","valueString":"x"},`, 1), 422, gpc.InvalidResource},
		{"resource not a Patient", `{"resourceType":"Parameters","parameter":[{"name":"registerPatient","resource":{"resourceType":"Practitioner"}}]}`, 422, gpc.InvalidResource},
		{"no profile", registerBody(t, del("meta")), 422, gpc.InvalidResource},
		{"no identifier", registerBody(t, del("identifier")), 400, gpc.InvalidNHSNumber},
		{"identifier without system", registerBody(t, set("identifier", []any{map[string]any{"value": nhsNew}})), 400, gpc.BadRequest},
		{"invalid NHS number", registerBody(t, set("identifier", nhsID("9434765006"))), 400, gpc.InvalidNHSNumber},
		{"no official name", registerBody(t, set("name", []any{map[string]any{"use": "usual", "family": "Okafor", "given": []any{"Grace"}}})), 400, gpc.BadRequest},
		{"no family name", registerBody(t, set("name", official("", "Grace"))), 400, gpc.BadRequest},
		{"no given name", registerBody(t, set("name", official("Okafor", ""))), 400, gpc.BadRequest},
		{"two official names", registerBody(t, set("name", append(official("Okafor", "Grace"), official("Okafor", "G")...))), 422, gpc.InvalidResource},
		{"no birthDate", registerBody(t, del("birthDate")), 400, gpc.BadRequest},
		{"invalid address use", registerBody(t, set("address", []any{map[string]any{"use": "work", "city": "Leeds"}})), 422, gpc.InvalidResource},
		{"two home addresses", registerBody(t, set("address", []any{map[string]any{"use": "home"}, map[string]any{"use": "home"}})), 422, gpc.InvalidResource},
		{"two home phones", registerBody(t, set("telecom", []any{
			map[string]any{"system": "phone", "value": "1", "use": "home"}, map[string]any{"system": "phone", "value": "2", "use": "home"}})), 400, gpc.BadRequest},
		{"two emails", registerBody(t, set("telecom", []any{
			map[string]any{"system": "email", "value": "a@example.com"}, map[string]any{"system": "email", "value": "b@example.com"}})), 400, gpc.BadRequest},
		{"two nhsCommunication", registerBody(t, set("extension", []any{
			map[string]any{"url": gpc.ExtNHSCommunication}, map[string]any{"url": gpc.ExtNHSCommunication}})), 422, gpc.InvalidResource},
		{"not allowed element maritalStatus", registerBody(t, set("maritalStatus", map[string]any{"text": "single"})), 422, gpc.InvalidResource},
		{"not allowed element active", registerBody(t, set("active", true)), 422, gpc.InvalidResource},
		{"not allowed element contact", registerBody(t, set("contact", []any{map[string]any{"gender": "male"}})), 422, gpc.InvalidResource},
		{"not allowed element managingOrganization", registerBody(t, set("managingOrganization", map[string]any{"reference": "Organization/7"})), 422, gpc.InvalidResource},
		{"family not matching PDS", registerBody(t, set("name", official("Smith", "Grace"))), 400, gpc.BadRequest},
		{"not on PDS", registerBody(t, set("identifier", nhsID(nhsNotOnPDS))), 400, gpc.InvalidPatientDemographics},
		{"deceased on PDS", registerBody(t, func(p map[string]any) {
			p["identifier"] = nhsID(nhsDeadNew)
			p["name"] = official("Hale", "Ian")
			p["birthDate"] = "1940-02-02"
		}), 400, gpc.InvalidPatientDemographics},
		{"sensitive", registerBody(t, func(p map[string]any) {
			p["identifier"] = nhsID(nhsRestricted)
			p["name"] = official("Park", "Nadia")
			p["birthDate"] = "1990-11-20"
		}), 400, gpc.InvalidPatientDemographics},
		{"already registered and active", registerBody(t, func(p map[string]any) {
			p["identifier"] = nhsID(nhsActive)
			p["name"] = official("Bennett", "Olivia")
			p["birthDate"] = "1961-03-14"
		}), 409, gpc.DuplicateRejected},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			before := f.world.Records(ods)
			r := f.do(call{method: "POST", path: "/Patient/$gpc.registerpatient", interaction: gpc.RegisterPatient, body: tt.body})
			wantError(t, r, tt.status, tt.code)
			assert.DeepEqual(t, f.world.Records(ods), before, "records after a rejected registration")
		})
	}

	t.Run("new temporary registration", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		var b stu3.Bundle
		wantOK(t, f.do(call{method: "POST", path: "/Patient/$gpc.registerpatient", interaction: gpc.RegisterPatient, body: registerBody(t, nil)}), 200, &b)
		assert.Equal(t, b.Type, "searchset", "type")
		assert.DeepEqual(t, b.Meta.Profile, []string{gpc.ProfileSearchsetBundle}, "bundle profile")
		var p stu3.Patient
		assert.NilError(t, json.Unmarshal(b.Entry[0].Resource, &p))
		assert.Equal(t, p.ID, "22", "new logical id")
		reg := stu3.FindExtension(p.Extension, gpc.ExtRegistrationDetails)
		typ := stu3.FindExtension(reg.Extension, "registrationType")
		assert.Equal(t, typ.ValueCodeableConcept.Coding[0].Code, "T", "registration type")
		period := stu3.FindExtension(reg.Extension, "registrationPeriod")
		assert.Equal(t, period.ValuePeriod.Start, "2026-05-11T08:00:00+01:00", "registration start")
		// Find now returns the patient.
		r := f.do(call{path: "/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number%7C" + nhsNew, interaction: gpc.SearchPatient})
		assert.DeepEqual(t, bundleTypes(t, r.body), []string{"Patient/22"}, "find after register")
	})

	t.Run("a nickname beside the official name", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		var b stu3.Bundle
		wantOK(t, f.do(call{method: "POST", path: "/Patient/$gpc.registerpatient", interaction: gpc.RegisterPatient, body: registerBody(t, func(p map[string]any) {
			p["name"] = append(p["name"].([]any), map[string]any{"use": "nickname", "family": "Okafor", "given": []any{"Gracie"}})
		})}), 200, &b)
		var p stu3.Patient
		assert.NilError(t, json.Unmarshal(b.Entry[0].Resource, &p))
		assert.Equal(t, p.Name[0].Given[0], "Grace", "the official name is kept")
	})

	t.Run("inactive record reactivated as temporary", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		var b stu3.Bundle
		wantOK(t, f.do(call{method: "POST", path: "/Patient/$gpc.registerpatient", interaction: gpc.RegisterPatient, body: registerBody(t, func(p map[string]any) {
			p["identifier"] = nhsID(nhsInactive)
			p["name"] = official("Reid", "Samuel")
			p["birthDate"] = "1978-07-02"
			p["gender"] = "male"
		})}), 200, &b)
		var p stu3.Patient
		assert.NilError(t, json.Unmarshal(b.Entry[0].Resource, &p))
		assert.Equal(t, p.ID, "2", "reactivated id")
		assert.Equal(t, p.Meta.VersionID, "2", "versionId")
	})
}

// TestPractitionerOrganizationLocation: §3.5 finds and reads.
func TestPractitionerOrganizationLocation(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tests := []struct {
		name   string
		c      call
		status int
		code   gpc.Code
		want   []string // bundle entries, or nil for a read
	}{
		{"find practitioner", call{path: "/Practitioner?identifier=https://fhir.nhs.uk/Id/sds-user-id%7C111122224444", interaction: gpc.SearchPractitioner}, 200, "", []string{"Practitioner/2"}},
		{"find practitioner none", call{path: "/Practitioner?identifier=https://fhir.nhs.uk/Id/sds-user-id%7C000", interaction: gpc.SearchPractitioner}, 200, "", []string{}},
		{"find practitioner wrong system", call{path: "/Practitioner?identifier=https://fhir.nhs.uk/Id/nhs-number%7C1", interaction: gpc.SearchPractitioner}, 400, gpc.InvalidIdentifierSystem, nil},
		{"find practitioner no identifier", call{path: "/Practitioner", interaction: gpc.SearchPractitioner}, 400, gpc.BadRequest, nil},
		{"read practitioner", call{path: "/Practitioner/2", interaction: gpc.ReadPractitioner}, 200, "", nil},
		{"read practitioner unknown", call{path: "/Practitioner/9", interaction: gpc.ReadPractitioner}, 404, gpc.PractitionerNotFound, nil},
		{"find organization", call{path: "/Organization?identifier=https://fhir.nhs.uk/Id/ods-organization-code%7CA20047", interaction: gpc.SearchOrganization}, 200, "", []string{"Organization/7"}},
		{"find organization other ODS", call{path: "/Organization?identifier=https://fhir.nhs.uk/Id/ods-organization-code%7CY12345", interaction: gpc.SearchOrganization}, 200, "", []string{}},
		{"find organization empty value", call{path: "/Organization?identifier=https://fhir.nhs.uk/Id/ods-organization-code%7C", interaction: gpc.SearchOrganization}, 422, gpc.InvalidParameter, nil},
		{"read organization", call{path: "/Organization/7", interaction: gpc.ReadOrganization}, 200, "", nil},
		{"read organization unknown", call{path: "/Organization/1", interaction: gpc.ReadOrganization}, 404, gpc.OrganisationNotFound, nil},
		{"read location", call{path: "/Location/32", interaction: gpc.ReadLocation}, 200, "", nil},
		{"read location unknown", call{path: "/Location/99", interaction: gpc.ReadLocation}, 404, gpc.NoRecordFound, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := f.do(tt.c)
			if tt.status != 200 {
				wantError(t, r, tt.status, tt.code)
				return
			}
			wantOK(t, r, 200, nil)
			if tt.want != nil {
				assert.DeepEqual(t, bundleTypes(t, r.body), tt.want, "entries")
				return
			}
			assert.Equal(t, r.header.Get("ETag"), `W/"1"`, "ETag")
		})
	}
}
