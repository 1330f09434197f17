package nhssuite_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
)

// want is what a row expects: an exact status, or only its class
// ("success", "created", "failure"), and the Spine code when one is named.
type want struct {
	status int
	class  string
	code   string
}

func status(n int, code string) want { return want{status: n, code: code} }

var (
	success = want{class: "success"}
	failure = want{class: "failure"}
)

func (w want) negative() bool { return w.class == "failure" || w.status >= 400 }

func (w want) String() string {
	s := w.class
	if w.status != 0 {
		s = fmt.Sprint(w.status)
	}
	if w.code != "" {
		s += " " + w.code
	}
	return s
}

// met reports whether r is what w expects.
func (w want) met(r response) bool {
	switch {
	case w.status != 0 && r.status != w.status,
		w.class == "success" && (r.status < 200 || r.status > 299),
		w.class == "failure" && r.status < 400:
		return false
	}
	return w.code == "" || r.code == w.code
}

// row is one case of NHS's suite: the feature file and scenario it comes
// from (with the example's values), what it sends, what the suite expects,
// and, when the sandbox answers otherwise by decision (spec over suite,
// docs/conformance-checks.md), what it answers instead.
type row struct {
	feature, scenario string
	run               func(s *suite) response
	suite             want
	ours              *want
	check             func(r response) string // a content check of the suite's, "" when it holds
}

func differs(w want) *want { return &w }

// jwtRow is a JWT.feature case: read metadata with the claims edited.
func jwtRow(scenario string, edit func(map[string]any), w want) row {
	return row{feature: "JWT.feature", scenario: scenario, suite: w, run: func(s *suite) response {
		return s.send(gpc.ReadMetadata, "/metadata", "", claims(edit))
	}}
}

func del(k string) func(map[string]any) { return func(c map[string]any) { delete(c, k) } }

func setClaim(k string, v any) func(map[string]any) { return func(c map[string]any) { c[k] = v } }

// times sets iat and exp relative to the sandbox's clock.
func times(s *suite, iat, life int64) func(map[string]any) {
	return func(c map[string]any) {
		at := s.ss.World.Now().Unix() + iat
		c["iat"], c["exp"] = at, at+life
	}
}

func resourceEdit(claim string, f func(map[string]any)) func(map[string]any) {
	return func(c map[string]any) {
		r, _ := c[claim].(map[string]any)
		f(r)
	}
}

func rows() []row {
	var out []row
	add := func(rs ...row) { out = append(out, rs...) }

	// JWT.feature: every case reads metadata.
	add(row{feature: "JWT.feature", scenario: "JWT - Bearer Token - not base 64 encoded", suite: status(400, ""), run: func(s *suite) response {
		return s.send(gpc.ReadMetadata, "/metadata", "", func(r *spec) {
			r.auth = `Bearer {"alg":"none","typ":"JWT"}.{"iss":"https://consumer.suite.test/"}.`
		})
	}})
	add(
		jwtRow("JWT - Requesting System URL - missing", del("iss"), status(400, "")),
		jwtRow("JWT - Expiry Time - missing", del("exp"), status(400, "")),
		jwtRow("JWT - Creation Time - missing", del("iat"), status(400, "")),
		jwtRow("JWT - Reason For Request - missing", del("reason_for_request"), status(400, "")),
		jwtRow("JWT - Authorization Server Token URL - missing", del("aud"), status(400, "")),
		jwtRow("JWT - Requesting Device - missing", del("requesting_device"), status(400, "")),
		jwtRow("JWT - Requesting Device - invalid", resourceEdit("requesting_device", func(d map[string]any) { d["invalidField"] = "Assurance Testing" }), status(422, "")),
		jwtRow("JWT - Requesting Device - Resource Type - invalid", resourceEdit("requesting_device", func(d map[string]any) { d["resourceType"] = "InvalidResourceType" }), status(422, "")),
		jwtRow("JWT - Requesting Identity - missing", del("requesting_practitioner"), status(400, "")),
		jwtRow("JWT - Requesting Identity - UNK value", resourceEdit("requesting_practitioner", func(p map[string]any) {
			p["identifier"] = []any{map[string]any{"system": gpc.SystemSDSUserID, "value": "UNK"}}
		}), status(200, "")),
		jwtRow("JWT - Missing sdsRoleProfile and guid", resourceEdit("requesting_practitioner", func(p map[string]any) {
			p["identifier"] = []any{map[string]any{"system": gpc.SystemSDSUserID, "value": "G1234567"}}
		}), status(200, "")),
		jwtRow("JWT - Requesting Identity - Resource Type - invalid", resourceEdit("requesting_practitioner", func(p map[string]any) { p["resourceType"] = "InvalidResourceType" }), status(422, "")),
		jwtRow("JWT - Requested Scope - missing", del("requested_scope"), status(400, "")),
		jwtRow("JWT - Requested Scope - Metadata - incorrect", setClaim("requested_scope", "badScope"), status(400, "")),
		jwtRow("JWT - Requesting Organization - Backward Compatability for RC5", resourceEdit("requesting_organization", func(o map[string]any) {
			o["identifier"] = []any{map[string]any{"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "A1001"}}
		}), success),
	)
	for _, tc := range []struct {
		scenario  string
		iat, life int64
		w         want
	}{
		{"JWT - Expiry Time - greater than 300 seconds", -2, 301, status(400, "")},
		{"JWT - Expiry Time - less than 300 seconds", -2, 299, status(400, "")},
		{"JWT - Expiry Time - before Creation Time", -2, -1, status(400, "")},
		{"JWT - Creation Time - in the future", 200, 300, status(200, "")},
		{"JWT - Everything normal test", 0, 300, status(200, "")},
		{"JWT - Consumer clock is slow 600s", -600, 300, status(400, "")},
	} {
		add(row{feature: "JWT.feature", scenario: tc.scenario, suite: tc.w, run: func(s *suite) response {
			return s.send(gpc.ReadMetadata, "/metadata", "", claims(times(s, tc.iat, tc.life)))
		}})
	}

	// Http.feature: the suite sends these to the provider; through the
	// SSP every one fails too, except OPTIONS, which the SSP answers as a
	// CORS preflight (SSP.feature), so that row goes straight to the
	// provider as the suite sends it.
	for _, tc := range []struct{ scenario, method, path string }{
		{"Http GET from invalid endpoint", "GET", "/metadatas"},
		{"Http POST to invalid endpoint", "POST", "/metadatas"},
		{"Http PUT to invalid endpoint", "PUT", "/metadatas"},
		{"Http PATCH to valid endpoint", "PATCH", "/metadata"},
		{"Http DELETE to valid endpoint", "DELETE", "/metadata"},
		{"Http OPTIONS to valid endpoint", "OPTIONS", "/metadata"},
		{"Http incorrect case on url fhir resource", "GET", "/Metadata"},
	} {
		add(row{feature: "Http.feature", scenario: tc.scenario, suite: failure, run: func(s *suite) response {
			return s.send(gpc.ReadMetadata, tc.path, "", method(tc.method), func(r *spec) { r.direct = tc.method == "OPTIONS" })
		}})
	}

	// SSP.feature: CORS through the SSP for every Foundations and
	// Appointment Management interaction; the TLS rows are tested apart
	// (internal/sandbox tls_test.go).
	for _, tc := range []struct {
		interaction gpc.Interaction
		name, path  string
		methods     []string
	}{
		{gpc.SearchOrganization, "OrganizationSearch", "/Organization", []string{"GET"}},
		{gpc.ReadOrganization, "OrganizationRead", "/Organization/1", []string{"GET"}},
		{gpc.SearchPractitioner, "PractitionerSearch", "/Practitioner", []string{"GET"}},
		{gpc.ReadPractitioner, "PractitionerRead", "/Practitioner/1", []string{"GET"}},
		{gpc.SearchPatient, "PatientSearch", "/Patient", []string{"GET"}},
		{gpc.ReadPatient, "PatientRead", "/Patient/1", []string{"GET"}},
		{gpc.ReadLocation, "LocationRead", "/Location/1", []string{"GET"}},
		{gpc.RegisterPatient, "RegisterPatient", "/Patient/$gpc.registerpatient", []string{"POST"}},
		{gpc.SearchSlots, "SearchForFreeSlots", "/Slot", []string{"GET"}},
		{gpc.CreateAppointment, "AppointmentCreate", "/Appointment", []string{"POST"}},
		{gpc.SearchPatientAppts, "AppointmentSearch", "/Patient/1/Appointment", []string{"GET"}},
		{gpc.AmendAppointment, "AppointmentAmend", "/Appointment/1", []string{"GET", "PUT"}},
		{gpc.CancelAppointment, "AppointmentCancel", "/Appointment/1", []string{"GET", "PUT"}},
		{gpc.ReadAppointment, "AppointmentRead", "/Appointment/1", []string{"GET", "PUT"}},
		{gpc.ReadMetadata, "MetadataRead", "/metadata", []string{"GET"}},
	} {
		add(row{feature: "SSP.feature", scenario: "SSP - CORS: " + tc.name, suite: success,
			run: func(s *suite) response { return s.send(tc.interaction, tc.path, "", method("OPTIONS")) },
			check: func(r response) string {
				got := r.header.Get("Access-Control-Request-Method")
				for _, m := range tc.methods {
					if !strings.Contains(got, m) {
						return "Access-Control-Request-Method " + got + " lacks " + m
					}
				}
				return ""
			}})
	}
	add(row{feature: "SSP.feature", scenario: "SSP - To ASID - Invalid", suite: status(400, "BAD_REQUEST"),
		ours: differs(status(403, "PARTYKEY_INTERACTION_CHECK_FAILED_MESSAGERECEIVER_123456789123")),
		run: func(s *suite) response {
			return s.send(gpc.ReadMetadata, "/metadata", "", func(r *spec) { r.header["Ssp-To"] = []string{"123456789123"} })
		}})

	// FHIR.feature: the Foundations CapabilityStatement.
	metadata := func(scenario string, check func(body string) string) row {
		return row{feature: "FHIR.feature", scenario: scenario, suite: success,
			run:   func(s *suite) response { return s.send(gpc.ReadMetadata, "/metadata", "") },
			check: func(r response) string { return check(string(r.body)) }}
	}
	add(
		metadata("Foundations CapabilityStatement profile supported fhir version", func(b string) string {
			if !strings.Contains(b, `"fhirVersion":"3.0.1"`) {
				return "fhirVersion is not 3.0.1"
			}
			return ""
		}),
		metadata("Foundations CapabilityStatement profile supports the RegisterPatient operation", func(b string) string {
			if !strings.Contains(b, `"name":"gpc.registerpatient"`) {
				return "no gpc.registerpatient operation"
			}
			return ""
		}),
	)
	for _, p := range []string{gpc.ProfilePatient, gpc.ProfileOrganization, gpc.ProfilePractitioner, gpc.ProfilePractitionerRole,
		gpc.ProfileLocation, gpc.ProfileOperationOutcome, gpc.ProfileAppointment, gpc.ProfileSchedule, gpc.ProfileSlot} {
		// The scenario also wants gpc.getstructuredrecord (Access Record
		// Structured, out of scope); only the profile is checked here.
		add(metadata("Foundations CapabilityStatement returns correct profile versions: "+p[strings.LastIndex(p, "/")+1:], func(b string) string {
			if !strings.Contains(b, `{"reference":"`+p+`"}`) {
				return "profile " + p + " not declared"
			}
			return ""
		}))
	}

	add(bookRows()...)
	add(readRows()...)
	add(amendRows()...)
	add(cancelRows()...)
	add(registerRows()...)
	add(patientRows()...)
	add(slotRows()...)
	add(retrieveRows()...)
	add(organizationRows()...)
	add(practitionerRows()...)
	add(locationRows()...)
	return out
}

func locationRows() []row {
	read := func(scenario, id string, w want, mods ...mod) row {
		return row{feature: "LocationRead.feature", scenario: scenario, suite: w, run: func(s *suite) response {
			return s.send(gpc.ReadLocation, "/Location/"+id, "", mods...)
		}}
	}
	orgSearch := func(scenario, query string, w want, mods ...mod) row {
		return row{feature: "OrganizationSearch.feature", scenario: scenario, suite: w, run: func(s *suite) response {
			return s.send(gpc.SearchOrganization, "/Organization"+query, "", mods...)
		}}
	}
	ods := func(v string) string { return "identifier=" + gpc.SystemODSCode + "%7C" + v }
	rs := []row{
		read("Location read successful request validate the response contains logical identifier: SIT1", "1", success),
		read("Location read successful request validate the response contains logical identifier: SIT2", "2", success),
		read("Location Read using the _format parameter to request response format: JSON", "1?_format=application/fhir%2Bjson", success),
		read("Location read should contain ETag", "1", success),
		read("Location read invalid response check caching headers exist", "1", status(400, "BAD_REQUEST"), header("Ssp-InteractionID", string(gpc.ReadPractitioner))),
		orgSearch("Organization search success: unknownORG", "?"+ods("unknownORG"), success),
		orgSearch("Organization search success: ORG1", "?"+ods(practiceODS), success),
		orgSearch("Organization search failure due to no identifier parameter", "", failure),
		orgSearch("Organization search add _format parameter to request and check for correct response format: JSON", "?"+ods(practiceODS)+"&_format=application/fhir%2Bjson", success, header("Accept", "")),
		orgSearch("Organization search include count and sort parameters", "?"+ods(practiceODS)+"&_count=1", success),
		orgSearch("Organization search invalid response check caching headers exist", "?"+ods(practiceODS), status(400, "BAD_REQUEST"), header("Ssp-InteractionID", string(gpc.ReadPractitioner))),
	}
	for _, id := range []string{"mfpBm", "231Zcr64", "th.as.e", "11dd4.45-23", "40-95-3", "a-tm.mss..s"} {
		rs = append(rs, read("Location Read with valid identifier which does not exist on providers system: "+id, id, status(404, "")))
	}
	return rs
}

func practitionerRows() []row {
	const sds = "G8133401" // the built-in world's practitioner 1 at A20047
	read := func(scenario, id string, w want, mods ...mod) row {
		return row{feature: "PractitionerRead.feature", scenario: scenario, suite: w, run: func(s *suite) response {
			return s.send(gpc.ReadPractitioner, "/Practitioner/"+id, "", mods...)
		}}
	}
	search := func(scenario, query string, w want, mods ...mod) row {
		return row{feature: "PractitionerSearch.feature", scenario: scenario, suite: w, run: func(s *suite) response {
			return s.send(gpc.SearchPractitioner, "/Practitioner"+query, "", mods...)
		}}
	}
	id := func(v string) string { return "identifier=" + gpc.SystemSDSUserID + "%7C" + v }
	badRequest := status(400, "BAD_REQUEST")
	rs := []row{
		read("Practitioner read successful request validate all of response", "1", success),
		read("Practitioner read valid response check caching headers exist", "1", success),
		read("Practitioner read invalid response check caching headers exist", "1", badRequest, header("Ssp-InteractionID", string(gpc.ReadLocation))),
		search("Practitioner search success and validate the practitioner identifiers", "?"+id(sds), success),
		search("Practitioner search with failure due to invalid identifier: no value", "?"+id(""), status(422, "INVALID_PARAMETER")),
		search("Practitioner search with failure due to invalid identifier: no system", "?identifier=%7C"+sds, status(422, "INVALID_PARAMETER")),
		search("Practitioner search without the identifier parameter", "", failure),
		search("Practitioner search where identifier contains the incorrect case or spelling: Identifier", "?Identifier="+gpc.SystemSDSUserID+"%7C"+sds, badRequest),
		search("Practitioner search multiple identifier parameter failure", "?"+id(sds)+"&"+id(sds), badRequest),
		search("Practitioner search multiple multiple identifiers for different practitioner parameter failure", "?"+id(sds)+"&"+id("G8133402"), badRequest),
		search("Practitioner search include count and sort parameters", "?"+id(sds)+"&_sort=practitioner.coding&_count=1", success),
		search("Practitioner search invalid response check caching headers exist", "?"+id(sds), badRequest, header("Ssp-InteractionID", string(gpc.ReadPractitioner))),
		search("Practitioner search with unknown identifier", "?"+id("UNKNOWN999"), success),
	}
	for _, v := range []string{"aaBA", "1ZEc2", "z.as.dd", "1.1.22", "40-9", "nd-skdm.mks--s"} {
		rs = append(rs, read("Practitioner Read with valid identifier which does not exist on providers system: "+v, v, status(404, "")))
	}
	return rs
}

func retrieveRows() []row {
	// Record 1 at A20047 has a booking made first when book is set.
	retrieve := func(scenario string, w want, book bool, query func(s *suite) string, mods ...mod) row {
		return row{feature: "AppointmentRetrieve.feature", scenario: scenario, suite: w, run: func(s *suite) response {
			s.reset()
			if book {
				if r := s.book(nil); r.status != http.StatusCreated {
					return r
				}
			}
			return s.send(gpc.SearchPatientAppts, "/Patient/"+recordID+"/Appointment?"+query(s), "", mods...)
		}}
	}
	day := func(s *suite, n int, layout string) string {
		return s.ss.World.Now().In(london()).AddDate(0, 0, n).Format(layout)
	}
	period := func(days int) func(s *suite) string {
		return func(s *suite) string {
			return "start=ge" + day(s, 0, time.DateOnly) + "&start=le" + day(s, days, time.DateOnly)
		}
	}
	fixed := func(q string) func(*suite) string { return func(*suite) string { return q } }
	invalidParam := status(422, "INVALID_PARAMETER")
	rs := []row{
		retrieve("Appointment retrieve success valid id where appointment resource returned is not required", success, false, period(1)),
		retrieve("Appointment retrieve multiple appointment retrived", success, true, period(14)),
		retrieve("Appointment retrieve accept header to request response format: JSON", success, true, period(14)),
		retrieve("Appointment retrieve bundle valid resources returned in the response", success, true, period(14)),
		retrieve("Appointment retrieve valid response check caching headers exist", success, false, period(1)),
		retrieve("Appointment retrieve and response should contain valid booking orgainzation", success, true, period(14)),
		retrieve("Appointment retrieve with only one start parameter: le2030-03-03", invalidParam, false, fixed("start=le2030-03-03")),
		retrieve("Appointment retrieve with only one start parameter: ge2030-03-03", invalidParam, false, fixed("start=ge2030-03-03")),
		retrieve("Appointment retreive with date parameters in the past: 2010-02-03, 2010-03-03", invalidParam, false, fixed("start=2010-02-03&start=2010-03-03")),
		retrieve("Appointment retreive with date parameters in the past: 2010-03-03, 2030-03-30", invalidParam, false, fixed("start=2010-03-03&start=2030-03-30")),
		retrieve("Appointment retreive with end date before start date", invalidParam, true, fixed("start=ge2030-03-03&start=le2030-01-01")),
		retrieve("Appointment retrieve sending additional valid parameters in the request", success, false, fixed("start=ge2030-03-03&start=le2030-03-30&_sort=date")),
		retrieve("Appointment retrieve invalid response check caching headers exist", status(400, "BAD_REQUEST"), false, period(14),
			header("Ssp-InteractionID", string(gpc.SearchOrganization)+" ")),
	}
	for _, scope := range []string{"organization/*.write", "patient/*.write"} {
		rs = append(rs, retrieve("Appointment retrieve JWT patient type request invalid: "+scope, status(400, "BAD_REQUEST"), true, period(14), claims(setClaim("requested_scope", scope))))
	}
	for _, f := range [][2]string{
		{time.DateOnly, "2006"}, {time.DateOnly, "2006-01"}, {time.DateOnly, "2006-01-02T15:04:05"}, {time.DateOnly, "2006-01-02T15:04:05Z"},
		{"2006", time.DateOnly}, {"2006-01", time.DateOnly}, {"2006-01-02T15:04:05", time.DateOnly}, {"2006-01-02T15:04:05Z", time.DateOnly},
	} {
		rs = append(rs, retrieve("Appointment retrieve invalid date format: "+f[0]+", "+f[1], invalidParam, false, func(s *suite) string {
			return "start=ge" + day(s, 0, f[0]) + "&start=le" + day(s, 14, f[1])
		}))
	}
	for _, p := range [][2]string{{"ge", "lt"}, {"ge", "gt"}, {"ge", "eq"}, {"ge", "ge"}, {"lt", "le"}, {"gt", "le"}, {"eqs", "le"}, {"le", "le"}, {"random123", "random123"}} {
		rs = append(rs, retrieve("Appointment retrieve invalid date prefix: "+p[0]+", "+p[1], invalidParam, false, func(s *suite) string {
			return "start=" + p[0] + day(s, 0, time.DateOnly) + "&start=" + p[1] + day(s, 14, time.DateOnly)
		}))
	}
	for _, id := range []string{"null", "dd"} {
		rs = append(rs, row{feature: "AppointmentRetrieve.feature", scenario: "Appointment retrieve fail due to invalid patient logical id: " + id, suite: status(404, ""),
			run: func(s *suite) response {
				return s.send(gpc.SearchPatientAppts, "/Patient/"+id+"/Appointment?start=ge2030-03-30&start=le2030-04-30", "")
			}})
	}
	return rs
}

func organizationRows() []row {
	read := func(scenario, id string, w want) row {
		return row{feature: "OrganizationRead.feature", scenario: scenario, suite: w, run: func(s *suite) response {
			return s.send(gpc.ReadOrganization, "/Organization/"+id, "")
		}}
	}
	rs := []row{read("Organization Read successful request validate all of response", "1", success)}
	for _, id := range []string{"ddBm", "1Zcr4", "z.as.e", "1.1445.23", "40-9223", "nc-sfem.mks--s"} {
		rs = append(rs, read("Organization Read with valid identifier which does not exist on providers system: "+id, id, status(404, "ORGANISATION_NOT_FOUND")))
	}
	return rs
}

func patientRows() []row {
	const active = "9693632109" // the suite's patient2: an active record
	search := func(scenario, query string, w want) row {
		return row{feature: "PatientSearch.feature", scenario: scenario, suite: w, run: func(s *suite) response {
			return s.send(gpc.SearchPatient, "/Patient"+query, "")
		}}
	}
	id := func(v string) string { return "identifier=" + gpc.SystemNHSNumber + "%7C" + v }
	invalidParam := status(422, "INVALID_PARAMETER")
	badRequest := status(400, "BAD_REQUEST")
	read := func(scenario, logicalID string, w want) row {
		return row{feature: "PatientRead.feature", scenario: scenario, suite: w, run: func(s *suite) response {
			return s.send(gpc.ReadPatient, "/Patient/"+logicalID, "")
		}}
	}
	rs := []row{
		search("Returned patients should contain a logical identifier", "?"+id(active), success),
		search("Provider should return an error when no system is supplied in the identifier parameter", "?identifier="+active, invalidParam),
		search("Provider should return an error when a blank system is supplied in the identifier parameter", "?identifier=%7C"+active, invalidParam),
		search("When a patient is not found on the provider system an empty bundle should be returned", "?"+id("9000000009"), success),
		search("Patient search should fail if no identifier parameter is include", "", badRequest),
		search("The identifier parameter should be rejected if the case is incorrect", "?Identifier="+gpc.SystemNHSNumber+"%7C"+active, badRequest),
		search("The response should be an error if no value is sent in the identifier parameter", "?identifier="+gpc.SystemNHSNumber+"%7C", invalidParam),
		search("The patient search endpoint should accept the accept header: JSON", "?"+id(active), success),
		search("Patient search response does not return deceased patient", "?"+id("9000000009"), success),
		search("System should error if multiple parameters valid or invalid are sent: patient2, patient2", "?"+id(active)+"&"+id(active), badRequest),
		search("System should error if multiple parameters valid or invalid are sent: patient1, patient2", "?"+id("9736363015")+"&"+id(active), badRequest),
		search("System should error if multiple parameters valid or invalid are sent: patient2, patient1", "?"+id(active)+"&"+id("9736363015"), badRequest),
		search("Patient Search include count and sort parameters", "?"+id(active)+"&_count=1&_sort=status", success),
		search("Patient search valid response check caching headers exist", "?"+id(active), success),
		search("Patient search invalid response check caching headers exist", "?Identifier="+gpc.SystemNHSNumber+"%7C"+active, badRequest),
		search("When a patient on the provider system has sensitive flag", "?"+id("9000000025"), success),
		read("Read patient should contain correct logical identifier", recordID, success),
		read("Read patient using the Accept header to request response format: JSON", recordID, success),
		read("Patient read valid response check caching headers exist", recordID, success),
		read("Patient read invalid response check caching headers exist", "AABa", status(404, "")),
	}
	for _, v := range []string{"SomthingIncorrectWhichIsNotTheOnProviderSystem", "4543567638475665845564986758479086840564796854665748763454"} {
		rs = append(rs, read("Read patient 404 if patient not found: "+v, v, status(404, "PATIENT_NOT_FOUND")))
	}
	for _, v := range []string{"aaBA", "1ZEc2", "z.as.dd", "1.1.22", "40-9", "nd-skdm.mks--s"} {
		rs = append(rs, read("Patient Read with valid identifier which does not exist on providers system: "+v, v, status(404, "")))
	}
	return rs
}

func slotRows() []row {
	// The suite's "required parameters": start=ge{tomorrow}, end=le{+days},
	// status=free, _include=Slot:schedule and two searchFilters.
	query := func(s *suite, startP, start, endP, end string, drop ...string) string {
		q := map[string]string{"start": startP + start, "end": endP + end, "status": "free", "_include": "Slot:schedule"}
		for _, d := range drop {
			delete(q, d)
		}
		out := ""
		for _, k := range []string{"start", "end", "status", "_include"} {
			if v, ok := q[k]; ok {
				out += "&" + k + "=" + strings.ReplaceAll(v, "+", "%2B")
			}
		}
		out += "&searchFilter=" + gpc.SystemODSCode + "%7CA1001&searchFilter=https://fhir.nhs.uk/STU3/CodeSystem/GPConnect-OrganisationType-1%7Curgent-care"
		return "/Slot?" + out[1:]
	}
	day := func(s *suite, n int) string {
		return s.ss.World.Now().In(london()).AddDate(0, 0, n).Format(time.DateOnly)
	}
	slots := func(scenario string, w want, q func(s *suite) string) row {
		return row{feature: "SearchForFreeSlots.feature", scenario: scenario, suite: w, run: func(s *suite) response {
			return s.send(gpc.SearchSlots, q(s), "")
		}}
	}
	invalidParam := status(422, "INVALID_PARAMETER")
	var rs []row
	for _, tc := range []struct {
		days int
		w    want
	}{{8, success}, {0, success}, {14, success}, {15, invalidParam}, {31, invalidParam}, {-1, invalidParam}} {
		name := "Searching for free slots with valid parameters should return success"
		if tc.w.negative() {
			name = "Searching for free slots with invalid date range should return error"
		}
		rs = append(rs, slots(fmt.Sprintf("%s: %d days", name, tc.days), tc.w, func(s *suite) string {
			return query(s, "ge", day(s, 1), "le", day(s, 1+tc.days))
		}))
	}
	for _, keys := range [][]string{{"start", "end"}, {"start"}, {"status"}} {
		rs = append(rs, slots("Searching for free slots should fail due to missing parameters: "+strings.Join(keys, ","), status(400, "BAD_REQUEST"), func(s *suite) string {
			return query(s, "ge", day(s, 1), "le", day(s, 4), keys...)
		}))
	}
	for _, p := range [][2]string{{"lt", "gt"}, {"gt", "gt"}, {"lt", "lt"}, {"le", "ge"}, {"eq", "eq"}, {"gt", "lt"}, {"ne", "ne"}, {"gt", "ne"}, {"ne", "lt"}, {"ge", "ne"}, {"ne", "le"}} {
		rs = append(rs, slots("Searching for free slots with invalid or unknown prefixes: "+p[0]+", "+p[1], status(422, ""), func(s *suite) string {
			return query(s, p[0], day(s, 0), p[1], day(s, 3))
		}))
	}
	for _, kv := range [][2]string{{"start", "invalidStartDate"}, {"start", ""}, {"end", "invalidEnddate"}, {"end", ""}, {"status", "busy"}} {
		rs = append(rs, slots("Searching for free slots should fail due to invalid parameter values: "+kv[0]+"="+kv[1], invalidParam, func(s *suite) string {
			q := query(s, "ge", day(s, 1), "le", day(s, 4))
			i := strings.Index(q, kv[0]+"=")
			j := strings.Index(q[i:], "&")
			return q[:i] + kv[0] + "=" + kv[1] + q[i+j:]
		}))
	}
	dt := func(s *suite, n int, layout string) string {
		return s.ss.World.Now().In(london()).AddDate(0, 0, n).Format(layout)
	}
	const offset, plain, zulu = "2006-01-02T15:04:05-07:00", "2006-01-02T15:04:05", "2006-01-02T15:04:05Z"
	for _, f := range []struct {
		start, end string
		w          want
	}{
		{time.DateOnly, time.DateOnly, success}, {offset, offset, success}, {offset, time.DateOnly, success}, {time.DateOnly, offset, success},
		{plain, plain, invalidParam}, {zulu, plain, invalidParam}, {plain, zulu, invalidParam}, {"2006", "2006-01", invalidParam}, {"2006-01", "2006", invalidParam},
	} {
		name := "Searching for free slots with valid partial dateTime strings"
		if f.w.negative() {
			name = "Searching for free slots with invalid partial dateTime strings"
		}
		rs = append(rs, slots(name+": "+f.start+", "+f.end, f.w, func(s *suite) string {
			return query(s, "ge", dt(s, 0, f.start), "le", dt(s, 3, f.end))
		}))
	}
	rs = append(rs,
		slots("Searching for free slots with other searchFilter system", success, func(s *suite) string {
			return query(s, "ge", day(s, 1), "le", day(s, 4)) + "&searchFilter=TypeCategory%7COtherTypeCategory"
		}),
		slots("Searching for free slots with valid prefixes", success, func(s *suite) string {
			return query(s, "ge", day(s, 0), "le", day(s, 3)) + "&searchFilter=FilterCategory-7%7COtherConsumerCategory&searchFilter=https://fhir.nhs.uk/Id/otherIdentifier%7CotherID"
		}),
	)
	return rs
}

func london() *time.Location {
	l, err := time.LoadLocation("Europe/London")
	if err != nil {
		return time.UTC
	}
	return l
}

func bookRows() []row {
	book := func(scenario string, w want, edit func(a map[string]any), mods ...mod) row {
		return row{feature: "AppointmentBook.feature", scenario: scenario, suite: w, run: func(s *suite) response {
			s.reset()
			return s.book(edit, mods...)
		}}
	}
	participants := func(keep ...string) func(map[string]any) {
		return func(a map[string]any) {
			var out []any
			for _, p := range a["participant"].([]any) {
				ref := p.(map[string]any)["actor"].(map[string]any)["reference"].(string)
				for _, k := range keep {
					if strings.HasPrefix(ref, k+"/") {
						out = append(out, p)
					}
				}
			}
			a["participant"] = out
		}
	}
	invalid := status(422, "INVALID_RESOURCE")
	created := status(201, "")
	rs := []row{
		book("Book single appointment for patient", created, nil),
		book("Book appointment prefer header set to representation", created, nil, header("Prefer", "return=representation")),
		book("Book appointment prefer header set to minimal", created, nil, header("Prefer", "return=minimal")),
		book("Book appointment accept header to request response format: JSON", created, nil),
		book("Book Appointment without practitioner participant", created, participants("Patient", "Location")),
		book("Book Appointment and remove manadatory resources from the appointment booking: Patient", invalid, participants("Location", "Practitioner")),
		book("Book Appointment and remove manadatory resources from the appointment booking: Location", invalid, participants("Patient", "Practitioner")),
		book("Book Appointment and remove all participants", invalid, func(a map[string]any) { delete(a, "participant") }),
		book("Book appointment for patient and send extra fields in the resource", invalid, func(a map[string]any) { a["invalidField"] = "Assurance Testing" }),
		book("Book appointment with missing start element in appointment resource", invalid, func(a map[string]any) { delete(a, "start") }),
		book("Book appointment with missing end element in appointment resource", invalid, func(a map[string]any) { delete(a, "end") }),
		book("Book appointment with missing status element in appointment resource", invalid, func(a map[string]any) { delete(a, "status") }),
		book("Book appointment with missing slot element in appointment resource", invalid, func(a map[string]any) { delete(a, "slot") }),
		book("Book Appointment and remove identifier value from the appointment booking", invalid, func(a map[string]any) {
			a["identifier"] = []any{map[string]any{"system": "https://fhir.nhs.uk/Id/gpconnect-appointment-identifier"}}
		}),
		book("Book Appointment and remove participant status from the appointment booking", status(422, "INVALID_RESOURCE"), func(a map[string]any) {
			for _, p := range a["participant"].([]any) {
				delete(p.(map[string]any), "status")
			}
		}),
		book("Book appointment and send an invalid bundle resource", invalid, func(a map[string]any) { a["resourceType"] = "Bundle" }),
		book("Book appointment and send an invalid appointment resource", invalid, func(a map[string]any) {
			for k := range a {
				if k != "resourceType" {
					delete(a, k)
				}
			}
		}),
		book("Book appointment with name removed from booking organization", invalid, func(a map[string]any) {
			delete(a["contained"].([]any)[0].(map[string]any), "name")
		}),
		book("Book appointment with telecom removed from booking organization", invalid, func(a map[string]any) {
			delete(a["contained"].([]any)[0].(map[string]any), "telecom")
		}),
		book("Book appointment with a description", created, func(a map[string]any) { a["description"] = "customDescription" }),
		book("Book appointment with a description and comment", created, func(a map[string]any) {
			a["description"], a["comment"] = "customDescription", "customComment"
		}),
		book("Book appointment with a comment", created, func(a map[string]any) { a["comment"] = "customComment" }),
		book("Book appointment without a comment", created, func(a map[string]any) { delete(a, "comment") }),
		book("Book appointment and send a reason in the appointment", invalid, func(a map[string]any) {
			a["reason"] = []any{map[string]any{"coding": []any{map[string]any{"system": "http://snomed.info/sct", "code": "17436001"}}}}
		}),
		book("Book appointment with typeCode in appointment resource", invalid, func(a map[string]any) {
			a["specialty"] = []any{map[string]any{"text": "General practice"}}
		}),
		book("Book single appointment for patient with invalid reference", invalid, func(a map[string]any) {
			a["extension"].([]any)[0].(map[string]any)["valueReference"] = map[string]any{"reference": "https://test1.supplier.thirdparty.nhs.uk/A11111/STU3/1/GPConnect/Organization/1"}
		}),
		book("Book appointment invalid response check caching headers exist", invalid, func(a map[string]any) { delete(a, "slot") }),
		{feature: "AppointmentBook.feature", scenario: "Book appointment re-using an already booked slot", suite: status(409, "DUPLICATE_REJECTED"), run: func(s *suite) response {
			s.reset()
			body := encode(s.t, s.bookBody())
			if r := s.send(gpc.CreateAppointment, "/Appointment", body); r.status != http.StatusCreated {
				return r
			}
			return s.send(gpc.CreateAppointment, "/Appointment", body)
		}},
	}
	// The suite's booking adds the slot's serviceType, participant types
	// and, per example, an organisation type, the delivery channel and the
	// practitioner role.
	for _, opt := range [][3]bool{{false, false, false}, {false, false, true}, {false, true, false}, {false, true, true},
		{true, false, false}, {true, false, true}, {true, true, false}, {true, true, true}} {
		rs = append(rs, book(fmt.Sprintf("Book single appointment for patient with optional elements: org type %t, channel %t, prac role %t", opt[0], opt[1], opt[2]),
			created, func(a map[string]any) {
				a["serviceType"] = []any{map[string]any{"text": "General GP Appointment"}}
				for _, p := range a["participant"].([]any) {
					p.(map[string]any)["type"] = []any{map[string]any{"coding": []any{map[string]any{
						"system": "http://hl7.org/fhir/v3/ParticipationType", "code": "PART", "display": "Participation"}}}}
				}
				if opt[0] {
					a["contained"].([]any)[0].(map[string]any)["type"] = []any{map[string]any{"coding": []any{map[string]any{
						"system": "https://fhir.nhs.uk/STU3/CodeSystem/GPConnect-OrganisationType-1", "code": "urgent-care", "display": "Urgent Care"}}}}
				}
				if opt[1] {
					appendTo(a, "extension", map[string]any{"url": gpc.ExtDeliveryChannel, "valueCode": "In-person"})
				}
				if opt[2] {
					appendTo(a, "extension", map[string]any{"url": gpc.ExtPractitionerRole, "valueCodeableConcept": map[string]any{"coding": []any{map[string]any{
						"system": "https://fhir.nhs.uk/STU3/CodeSystem/CareConnect-SDSJobRoleName-1", "code": "R0260", "display": "General Medical Practitioner"}}}})
				}
			}))
	}
	for _, ref := range []string{"Slot/45555g55555", "Slot/45555555##", "Slot/hello", "https://test1.supplier.thirdparty.nhs.uk/A11111/STU3/1/GPConnect/Slot/#12345"} {
		rs = append(rs, book("Book appointment with invalid slot reference: "+ref, invalid, func(a map[string]any) {
			a["slot"] = []any{map[string]any{"reference": ref}}
		}))
	}
	return rs
}

func readRows() []row {
	read := func(scenario string, id func(string) string, w want) row {
		return row{feature: "AppointmentRead.feature", scenario: scenario, suite: w, run: func(s *suite) response {
			a := s.booked()
			return s.send(gpc.ReadAppointment, "/Appointment/"+id(a["id"].(string)), "")
		}}
	}
	same := func(id string) string { return id }
	to := func(v string) func(string) string { return func(string) string { return v } }
	return []row{
		read("I perform a successful Read appointment", same, success),
		read("Read appointment valid response check caching headers exist", same, success),
		read("Read appointment invalid appointment id: Invalid4321", to("Invalid4321"), status(404, "")),
		read("Read appointment invalid appointment id: 8888888888", to("8888888888"), status(404, "")),
		read("Read appointment invalid appointment id: (empty)", to(""), status(404, "")),
		read("Read appointment invalid response check caching headers exist", to("555555"), status(404, "")),
	}
}

func amendRows() []row {
	amend := func(scenario string, w want, edit func(a map[string]any), mods ...mod) row {
		return row{feature: "AppointmentAmend.feature", scenario: scenario, suite: w, run: func(s *suite) response {
			a := s.booked()
			if edit != nil {
				edit(a)
			}
			return s.change(gpc.AmendAppointment, a, mods...)
		}}
	}
	description := func(a map[string]any) { a["description"] = "customDescription" }
	invalid := status(422, "INVALID_RESOURCE")
	return []row{
		amend("I perform a successful amend appointment and check the returned appointment resources are in the future", success, description),
		amend("Amend appointment and update element which cannot be updated", want{class: "failure", code: "INVALID_RESOURCE"}, func(a map[string]any) { a["priority"] = 1 }),
		amend("Amend appointment using the accept header to request response format: JSON", success, description),
		amend("Amend appointment prefer header set to representation", success, func(a map[string]any) { a["comment"] = "customComment" }, header("Prefer", "return=representation")),
		amend("Amend appointment prefer header set to minimal", success, nil, header("Prefer", "return=minimal")),
		amend("Amend appointment send an update with an invalid if-match header", status(409, ""), func(a map[string]any) { a["comment"] = "customComment" }, header("If-Match", "invalidEtag")),
		{feature: "AppointmentAmend.feature", scenario: "Amend appointment set etag and check etag is the same in the returned amended appointment", suite: success, run: func(s *suite) response {
			a := s.booked()
			description(a)
			v := a["meta"].(map[string]any)["versionId"].(string)
			return s.change(gpc.AmendAppointment, a, header("If-Match", `W/"`+v+`"`))
		}},
		amend("Amend appointment and send an invalid bundle resource", invalid, func(a map[string]any) { a["resourceType"] = "Bundle" }),
		amend("Amend appointment and send an invalid appointment resource", invalid, func(a map[string]any) { a["invalidField"] = "Assurance Testing" }),
		amend("Amend appointment valid response check caching headers exist", success, description),
		amend("Amend appointment invalid response check caching headers exist", status(422, ""), func(a map[string]any) { a["invalidField"] = "Assurance Testing" }),
		amend("Amend appointment and update cancellation reason", want{class: "failure", code: "INVALID_RESOURCE"}, func(a map[string]any) {
			exts, _ := a["extension"].([]any)
			a["extension"] = append(exts, map[string]any{"url": gpc.ExtCancellationReason, "valueString": "double booked"})
		}),
		amend("Amend appointment with Comment and Description", success, func(a map[string]any) {
			a["description"], a["comment"] = "customDescription", "customComment"
		}),
		amend("Amend appointment and update to absolute reference", invalid, func(a map[string]any) {
			for _, e := range a["extension"].([]any) {
				if m := e.(map[string]any); m["url"] == gpc.ExtBookingOrganisation {
					m["valueReference"] = map[string]any{"reference": "https://test1.supplier.thirdparty.nhs.uk/A11111/STU3/1/GPConnect/Organization/1"}
				}
			}
		}),
		amend("Successfully amend comment and description on an appointment when sending in ServiceCategory and serviceType", success, func(a map[string]any) {
			a["description"], a["comment"] = "TestChangedDescription", "TestChangedComment"
		}),
		amend("Successfully amend appointment ensuring backwards compatibility with consumers that do not send ServiceCategory And serviceType expect success", success, func(a map[string]any) {
			a["description"], a["comment"] = "TestChangedDescription", "TestChangedComment"
			delete(a, "serviceCategory")
			delete(a, "serviceType")
		}),
		{feature: "AppointmentAmend.feature", scenario: "I perform amend appointment with participants with absoulte references", suite: invalid, run: func(s *suite) response {
			a := s.booked()
			cancelled(a, gpc.ExtCancellationReason, "double booked")
			for _, t := range []string{"Location", "Practitioner", "Patient"} {
				appendTo(a, "participant", map[string]any{"actor": map[string]any{"reference": "https://test1.supplier.thirdparty.nhs.uk/A11111/STU3/1/GPConnect/" + t + "/2"}, "status": "accepted"})
			}
			return s.change(gpc.CancelAppointment, a)
		}},
	}
}

func cancelRows() []row {
	cancel := func(scenario string, w want, edit func(a map[string]any), mods ...mod) row {
		return row{feature: "AppointmentCancel.feature", scenario: scenario, suite: w, run: func(s *suite) response {
			a := s.booked()
			cancelled(a, gpc.ExtCancellationReason, "double booked")
			if edit != nil {
				edit(a)
			}
			return s.change(gpc.CancelAppointment, a, mods...)
		}}
	}
	invalid := status(422, "INVALID_RESOURCE")
	participant := func(ref string) func(map[string]any) {
		return func(a map[string]any) {
			appendTo(a, "participant", map[string]any{"actor": map[string]any{"reference": ref}, "status": "accepted"})
		}
	}
	rs := []row{
		cancel("I perform a successful cancel appointment", success, nil),
		cancel("I perform a successful cancel appointment and amend the comment", invalid, func(a map[string]any) { a["comment"] = "RANDOM COMMENT" }),
		cancel("I perform cancel appointment and update the description", want{class: "failure", code: "INVALID_RESOURCE"}, func(a map[string]any) { a["description"] = "RANDOM DESCRIPTION" }),
		cancel("I perform cancel appointment and add participants", invalid, func(a map[string]any) {
			participant("location/2")(a)
			participant("Patient/2")(a)
			participant("Practitioner/2")(a)
		}),
		cancel("I perform cancel appointment and update the type text", invalid, func(a map[string]any) { a["appointmentType"] = map[string]any{"text": "RANDOM TYPE TEXT"} }),
		cancel("Cancel appointment using the accept header to request response format: JSON", success, nil),
		cancel("Cancel appointment verify resource is not updated when an out of date ETag value is provided", status(409, "FHIR_CONSTRAINT_VIOLATION"), nil, header("If-Match", "invalidEtag")),
		cancel("Cancel appointment prefer header set to representation", success, nil, header("Prefer", "return=representation")),
		cancel("Cancel appointment prefer header set to minimal", success, nil, header("Prefer", "return=minimal")),
		cancel("Cancel appointment valid response check caching headers exist", success, nil),
		cancel("I cancel appointment for patient with absoulute reference", want{class: "failure", code: "INVALID_RESOURCE"}, func(a map[string]any) {
			for _, e := range a["extension"].([]any) {
				if m := e.(map[string]any); m["url"] == gpc.ExtBookingOrganisation {
					m["valueReference"] = map[string]any{"reference": "https://test1.supplier.thirdparty.nhs.uk/A11111/STU3/1/GPConnect/Organization/1"}
				}
			}
		}),
		cancel("I perform cancel appointment with participants with absoulte references", invalid, func(a map[string]any) {
			for _, t := range []string{"Location", "Practitioner", "Patient"} {
				participant("https://test1.supplier.thirdparty.nhs.uk/A11111/STU3/1/GPConnect/" + t + "/2")(a)
			}
		}),
		cancel("Successfully Cancel an appointment that has serviceCategory populated", success, nil),
		{feature: "AppointmentCancel.feature", scenario: "Cancel appointment verify resource is updated when an valid ETag value is provided", suite: success, run: func(s *suite) response {
			a := s.booked()
			cancelled(a, gpc.ExtCancellationReason, "double booked")
			v := a["meta"].(map[string]any)["versionId"].(string)
			return s.change(gpc.CancelAppointment, a, header("If-Match", `W/"`+v+`"`))
		}},
		{feature: "AppointmentCancel.feature", scenario: "Amend a cancelled appointment", suite: want{class: "failure", code: "INVALID_RESOURCE"}, run: func(s *suite) response {
			a := s.booked()
			orig := encode(s.t, a)
			cancelled(a, gpc.ExtCancellationReason, "double booked")
			if r := s.change(gpc.CancelAppointment, a); r.status != http.StatusOK {
				return r
			}
			id := a["id"].(string)
			return s.send(gpc.AmendAppointment, "/Appointment/"+id, orig)
		}},
	}
	for _, reason := range []string{"Test cancellation reason 1", "test reason for cancel 2"} {
		rs = append(rs, row{feature: "AppointmentCancel.feature", scenario: "Cancel appointment check cancellation reason is equal to the request cancellation reason: " + reason, suite: success,
			run: func(s *suite) response {
				a := s.booked()
				cancelled(a, gpc.ExtCancellationReason, reason)
				return s.change(gpc.CancelAppointment, a)
			}})
	}
	for _, url := range []string{"", "http://fhir.nhs.uk/StructuraeDefinition/extension-gpconnect-appointment-cancellation-reason-1-010"} {
		rs = append(rs, row{feature: "AppointmentCancel.feature", scenario: "Cancel appointment invalid cancellation extension url: " + url, suite: invalid,
			run: func(s *suite) response {
				a := s.booked()
				cancelled(a, url, "Too busy")
				return s.change(gpc.CancelAppointment, a)
			}})
	}
	for _, scenario := range []string{"Cancel appointment missing cancellation extension reason", "Cancel appointment invalid response check caching headers exist"} {
		rs = append(rs, row{feature: "AppointmentCancel.feature", scenario: scenario, suite: status(422, "INVALID_PARAMETER"),
			run: func(s *suite) response {
				a := s.booked()
				cancelled(a, gpc.ExtCancellationReason, "")
				return s.change(gpc.CancelAppointment, a)
			}})
	}
	return rs
}

func registerRows() []row {
	register := func(scenario string, w want, edit func(p map[string]any)) row {
		return row{feature: "PatientRegister.feature", scenario: scenario, suite: w, run: func(s *suite) response {
			s.reset()
			return s.send(gpc.RegisterPatient, "/Patient/$gpc.registerpatient", registerBody(s.t, edit))
		}}
	}
	telecom := func(use string) map[string]any {
		if use == "Email" {
			return map[string]any{"system": "email", "value": "abc.d@mail.com", "use": "temp"}
		}
		return map[string]any{"system": "phone", "value": "01234567891", "use": strings.ToLower(use)}
	}
	tempAddress := map[string]any{"use": "temp", "line": []any{"1 Trevelyan Square", "Boar Lane"}, "city": "Leeds", "postalCode": "LS1 6AE"}
	badRequest := status(400, "BAD_REQUEST")
	invalid := status(422, "INVALID_RESOURCE")
	rs := []row{
		register("Register patient without sending identifier within patient", status(400, "INVALID_NHS_NUMBER"), func(p map[string]any) { delete(p, "identifier") }),
		register("Register patient without gender element", success, func(p map[string]any) { delete(p, "gender") }),
		register("Register patient without date of birth element", badRequest, func(p map[string]any) { delete(p, "birthDate") }),
		register("Register Patient and use the Accept Header to request response format: JSON", success, nil),
		register("Register patient with no official name", badRequest, func(p map[string]any) { delete(p, "name") }),
		register("Register patient no family names", badRequest, func(p map[string]any) {
			p["name"] = []any{map[string]any{"use": "official", "given": []any{"Dean"}}}
		}),
		register("Register patient containing identifier without mandatory system elements", badRequest, func(p map[string]any) {
			appendTo(p, "identifier", map[string]any{"value": "NoSystem"})
		}),
		register("Register patient with additional valid elements: Address", success, func(p map[string]any) { appendTo(p, "address", tempAddress) }),
		register("Register patient with additional valid elements: Name", success, func(p map[string]any) {
			appendTo(p, "name", map[string]any{"use": "nickname", "family": "AdditionalFamily", "given": []any{"AdditionalGiven"}})
		}),
		register("Register patient with additional valid elements: Telecom", success, func(p map[string]any) { appendTo(p, "telecom", telecom("Home")) }),
		register("Register patient with invalid additional valid elements: Active", invalid, func(p map[string]any) { p["active"] = true }),
		register("Register patient with invalid additional valid elements: Births", invalid, func(p map[string]any) { p["multipleBirthBoolean"] = true }),
		register("Register patient with invalid additional valid elements: CareProvider", invalid, func(p map[string]any) {
			p["generalPractitioner"] = []any{map[string]any{"display": "Test Care Provider"}}
		}),
		register("Register patient with invalid additional valid elements: Contact", invalid, func(p map[string]any) {
			p["contact"] = []any{map[string]any{"name": map[string]any{"use": "anonymous", "family": "TestFamily"}}}
		}),
		register("Register patient with invalid additional valid elements: ManagingOrg", invalid, func(p map[string]any) {
			p["managingOrganization"] = map[string]any{"display": "Test Managing Org"}
		}),
		register("Register patient with invalid additional valid elements: Marital", invalid, func(p map[string]any) {
			p["maritalStatus"] = map[string]any{"coding": []any{map[string]any{"code": "M"}}}
		}),
		register("Register patient with Address and Telecom", success, func(p map[string]any) {
			appendTo(p, "address", tempAddress)
			appendTo(p, "telecom", telecom("Home"))
		}),
		register("Register patient with Multiple Address not allowed and Telecom", invalid, func(p map[string]any) {
			appendTo(p, "address", tempAddress)
			appendTo(p, "address", tempAddress)
			appendTo(p, "telecom", telecom("Home"))
		}),
		register("Register patient with Address Telecom and nhsCommunication", success, func(p map[string]any) {
			appendTo(p, "address", tempAddress)
			appendTo(p, "telecom", telecom("Home"))
			appendTo(p, "extension", map[string]any{"url": gpc.ExtNHSCommunication, "extension": []any{
				map[string]any{"url": "language", "valueCodeableConcept": map[string]any{"coding": []any{map[string]any{"system": "https://fhir.nhs.uk/STU3/CodeSystem/CareConnect-HumanLanguage-1", "code": "en"}}}},
			}})
		}),
		register("Register patient with invalid bundle resource type", invalid, nil),
		register("Register patient with invalid patient resource type", invalid, func(p map[string]any) { p["resourceType"] = "Patientx" }),
		register("Register patient with invalid patient resource with additional element", invalid, func(p map[string]any) { p["invalidField"] = "Assurance Testing" }),
		{feature: "PatientRegister.feature", scenario: "Register patient with duplicate patient resource parameters", suite: badRequest, run: func(s *suite) response {
			s.reset()
			b := registerBody(s.t, nil)
			i := strings.Index(b, `{"name":"registerPatient"`)
			param := b[i : len(b)-2]
			return s.send(gpc.RegisterPatient, "/Patient/$gpc.registerpatient", b[:len(b)-2]+","+param+"]}")
		}},
		{feature: "PatientRegister.feature", scenario: "Register patient which already exists on the system as a temporary patient", suite: status(409, "DUPLICATE_REJECTED"), run: func(s *suite) response {
			s.reset()
			if r := s.send(gpc.RegisterPatient, "/Patient/$gpc.registerpatient", registerBody(s.t, nil)); r.status != http.StatusOK {
				return r
			}
			return s.send(gpc.RegisterPatient, "/Patient/$gpc.registerpatient", registerBody(s.t, nil))
		}},
		register("Register patient1 which already exists on the system as a normal patient", status(409, "DUPLICATE_REJECTED"), func(p map[string]any) {
			p["identifier"] = []any{map[string]any{"system": gpc.SystemNHSNumber, "value": "9693632109"}}
			p["name"] = []any{map[string]any{"use": "official", "family": "GARTON", "given": []any{"Bill"}}}
			p["birthDate"] = "1946-06-23"
		}),
		register("Register patient which is not the Spine", status(400, "INVALID_PATIENT_DEMOGRAPHICS"), func(p map[string]any) {
			p["identifier"] = []any{map[string]any{"system": gpc.SystemNHSNumber, "value": "9999999999"}}
		}),
	}
	// The invalid bundle row sends the Parameters as another resource type.
	rs[19].run = func(s *suite) response {
		s.reset()
		return s.send(gpc.RegisterPatient, "/Patient/$gpc.registerpatient", strings.Replace(registerBody(s.t, nil), `"resourceType":"Parameters"`, `"resourceType":"Bundle"`, 1))
	}
	for _, n := range []int{1, 2, 5} {
		rs = append(rs, register(fmt.Sprintf("Register Patient with multiple given names: %d", n), success, func(p map[string]any) {
			name := p["name"].([]any)[0].(map[string]any)
			for i := range n {
				name["given"] = append(name["given"].([]any), fmt.Sprintf("Given%d", i))
			}
		}))
	}
	for _, nhs := range []string{"34555##4", "hello", "999999999", "9000000008", "90000000090"} {
		rs = append(rs, register("Register patient with an invalid NHS number: "+nhs, status(400, "INVALID_NHS_NUMBER"), func(p map[string]any) {
			p["identifier"] = []any{map[string]any{"system": gpc.SystemNHSNumber, "value": nhs}}
		}))
	}
	uses := []string{"Home", "Work", "Mobile", "Temp", "Email"}
	for _, u1 := range uses {
		for _, u2 := range uses {
			w := success
			if u1 == u2 {
				w = badRequest
			}
			rs = append(rs, register("Register patient with Address and "+map[bool]string{true: "Invalid", false: "Valid"}[u1 == u2]+" Telecom elements: "+u1+", "+u2, w, func(p map[string]any) {
				appendTo(p, "address", tempAddress)
				appendTo(p, "telecom", telecom(u1))
				appendTo(p, "telecom", telecom(u2))
			}))
		}
	}
	return rs
}

// TestNHSSuite sends every row through the sandbox's SSP to its provider
// and checks the answer: the suite's status and Spine code, or the
// sandbox's own where it differs by decision. It logs the agreement with
// the suite, negative and positive rows apart.
func TestNHSSuite(t *testing.T) {
	s := newSuite(t)
	start := time.Now()
	var agreeNeg, neg, agreePos, pos int
	for _, rw := range rows() {
		t.Run(rw.feature+"/"+rw.scenario, func(t *testing.T) {
			s.t = t
			r := rw.run(s)
			problem := ""
			if rw.check != nil && r.status < 300 {
				problem = rw.check(r)
			}
			agrees := rw.suite.met(r) && problem == ""
			if rw.suite.negative() {
				neg++
				if agrees {
					agreeNeg++
				}
			} else {
				pos++
				if agrees {
					agreePos++
				}
			}
			w := rw.suite
			if rw.ours != nil {
				w = *rw.ours
			}
			if w.code == "" && r.status >= 400 {
				// The suite names no code: the sandbox's own is still
				// pinned, so that a changed answer shows.
				w.code = ourCode(rw, r)
			}
			if !w.met(r) || problem != "" {
				t.Errorf("got %d %s %s, want %s (suite: %s)\n%.400s", r.status, r.code, problem, w, rw.suite, r.body)
			}
		})
	}
	s.t = t
	t.Logf("agreement with NHS's suite: negative %d/%d (%.1f%%), positive %d/%d (%.1f%%), %d rows in %s",
		agreeNeg, neg, 100*float64(agreeNeg)/float64(max(neg, 1)), agreePos, pos, 100*float64(agreePos)/float64(max(pos, 1)),
		neg+pos, time.Since(start).Round(time.Millisecond))
}

// ourCode is the Spine code the sandbox answers a failing row with where
// the suite names none: by status for the provider's answers, and the
// code of the party that refuses for the few rows others answer.
func ourCode(rw row, r response) string {
	switch {
	case rw.feature == "Http.feature" && r.status == http.StatusMethodNotAllowed:
		return "405: Method Not Allowed" // the SSP's own 405 (§1.5)
	case rw.feature == "Http.feature" && r.status == http.StatusUnsupportedMediaType:
		return "Unsupported_Media_Type" // the SSP's own 415 (§1.5)
	}
	switch r.status {
	case http.StatusBadRequest:
		return "BAD_REQUEST"
	case http.StatusNotFound:
		switch rw.feature {
		case "PatientRead.feature", "AppointmentRetrieve.feature":
			return "PATIENT_NOT_FOUND"
		case "PractitionerRead.feature":
			return "PRACTITIONER_NOT_FOUND"
		}
		return "NO_RECORD_FOUND"
	case http.StatusConflict:
		return "FHIR_CONSTRAINT_VIOLATION"
	case http.StatusUnprocessableEntity:
		if strings.HasPrefix(rw.feature, "SearchForFreeSlots") || strings.HasPrefix(rw.feature, "AppointmentRetrieve") {
			return "INVALID_PARAMETER"
		}
		return "INVALID_RESOURCE"
	}
	return ""
}
