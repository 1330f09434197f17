package provider

import (
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/internal/nhsnumber"
	"github.com/spine-sandbox/spine-sandbox/internal/stu3"
)

// Version is the GP Connect specification version this provider implements,
// stated in CapabilityStatement.version (§0 version facts, §3.1).
const Version = "1.6.0"

// metadata answers GET /metadata with the capability statement (§3.1):
// the resources, searches and the register operation this provider serves.
func (s *server) metadata(rw http.ResponseWriter, r *request) error {
	writeAnswer(rw, r.Request, capability())
	return nil
}

// capability is the CapabilityStatement encoded once: it is the same for
// every practice, session and request.
var capability = sync.OnceValue(func() *answer {
	body, err := stu3.Marshal(capabilityStatement())
	if err != nil {
		panic("provider: encoding the CapabilityStatement: " + err.Error())
	}
	return newAnswer(body)
})

// capabilityStatement is what the provider supports (§3.1).
func capabilityStatement() stu3.CapabilityStatement {
	t := true
	f := false
	read := stu3.CapabilityInteraction{Code: "read"}
	search := stu3.CapabilityInteraction{Code: "search-type"}
	token := func(name, doc string) []stu3.CapabilitySearchParam {
		return []stu3.CapabilitySearchParam{{Name: name, Type: "token", Documentation: doc}}
	}
	cs := stu3.CapabilityStatement{
		Version:     Version,
		Name:        "GP Connect",
		Status:      "active",
		Date:        "2022-06-01",
		Publisher:   "spine-sandbox",
		Contact:     []stu3.ContactDetail{{Name: "spine-sandbox"}},
		Description: "This server implements the GP Connect API version " + Version,
		Copyright:   "Copyright NHS Digital 2016-22",
		Kind:        "capability",
		Software:    &stu3.Software{Name: "spine-sandbox fake GP Connect provider", Version: Version, ReleaseDate: "2022-06-01"},
		FHIRVersion: "3.0.1",
		// acceptUnknown "both" as in the spec's example, although this
		// provider rejects elements its profiles forbid (§3.3, §4.2).
		AcceptUnknown: "both",
		Format:        []string{"application/fhir+json", "application/fhir+xml"},
		Rest: []stu3.CapabilityRest{{
			Mode:     "server",
			Security: &stu3.CapabilitySecurity{CORS: &t},
			Resource: []stu3.CapabilityResource{
				{Type: "Patient", Interaction: []stu3.CapabilityInteraction{read, search},
					SearchParam: token("identifier", "NHS Number (i.e. https://fhir.nhs.uk/Id/nhs-number|123456789)")},
				{Type: "Organization", Interaction: []stu3.CapabilityInteraction{read, search},
					SearchParam: token("identifier", "ODS Code (i.e. https://fhir.nhs.uk/Id/ods-organization-code|Y12345)")},
				{Type: "Practitioner", Interaction: []stu3.CapabilityInteraction{read, search},
					SearchParam: token("identifier", "SDS User Id (i.e. https://fhir.nhs.uk/Id/sds-user-id|999999)")},
				{Type: "Location", Interaction: []stu3.CapabilityInteraction{read}},
				{Type: "Appointment", Interaction: []stu3.CapabilityInteraction{read, {Code: "create"}, {Code: "update"}, search},
					UpdateCreate: &f,
					SearchParam:  []stu3.CapabilitySearchParam{{Name: "start", Type: "date", Documentation: "Retrieve a patient's appointments: start=ge{date}&start=le{date}"}}},
				{Type: "Slot", Interaction: []stu3.CapabilityInteraction{search},
					SearchInclude: []string{"Schedule:actor:Location", "Schedule:actor:Practitioner", "Slot:schedule", "Location:managingOrganization"},
					SearchParam: []stu3.CapabilitySearchParam{
						{Name: "start", Type: "date"}, {Name: "end", Type: "date"},
						{Name: "status", Type: "token"}, {Name: "searchFilter", Type: "token"},
					}},
			},
			Operation: []stu3.CapabilityOperation{{Name: "gpc.registerpatient",
				Definition: stu3.Reference{Reference: gpc.OperationRegisterPatient}}},
		}},
	}
	// The profiles of Foundations and Appointment Management, as the
	// spec's example CapabilityStatement lists them (PractitionerRole
	// included); Access Record's are not, this provider serves neither.
	for _, p := range []string{gpc.ProfilePatient, gpc.ProfileOrganization, gpc.ProfilePractitioner, gpc.ProfilePractitionerRole,
		gpc.ProfileLocation, gpc.ProfileOperationOutcome, gpc.ProfileAppointment, gpc.ProfileSchedule, gpc.ProfileSlot} {
		cs.Profile = append(cs.Profile, stu3.Reference{Reference: p})
	}
	return cs
}

// identifierParam reads the single token search parameter "identifier"
// (§3.2 errors, also used by §3.5's finds): missing, differently cased or
// repeated → 400 BAD_REQUEST; empty system or value → 422
// INVALID_PARAMETER; a system other than want → 400
// INVALID_IDENTIFIER_SYSTEM. Other parameters (_count, _sort) are ignored.
func identifierParam(r *request, want string) (string, error) {
	return identifierQuery(r.URL.Query(), want)
}

// identifierQuery is identifierParam of the query q.
func identifierQuery(q url.Values, want string) (string, error) {
	vs := q["identifier"]
	switch {
	case len(vs) == 0:
		for k := range q {
			if strings.EqualFold(k, "identifier") {
				return "", gpc.Errorf(gpc.BadRequest, "Search parameter %q is not supported; the parameter is \"identifier\" (case-sensitive)", k)
			}
		}
		return "", gpc.Errorf(gpc.BadRequest, "Search parameter identifier is required")
	case len(vs) > 1:
		return "", gpc.Errorf(gpc.BadRequest, "Search parameter identifier must be sent exactly once, got %d", len(vs))
	}
	system, value, found := strings.Cut(vs[0], "|")
	if !found || system == "" || value == "" {
		return "", gpc.Errorf(gpc.InvalidParameter, "Search parameter identifier %q must be system|value with both parts present", vs[0])
	}
	if system != want {
		return "", gpc.Errorf(gpc.InvalidIdentifierSystem, "Identifier system %q is not supported here; use %s", system, want)
	}
	return value, nil
}

// findPatient answers GET /Patient?identifier=nhs-number|N (§3.2): always a
// searchset, empty for unknown, deceased, sensitive or inactive patients.
func (s *server) findPatient(rw http.ResponseWriter, r *request) error {
	var (
		nhs string
		err error
	)
	if p := parsedFor(r); p != nil && p.nhs != nil {
		nhs = *p.nhs
	} else if nhs, err = findPatientQuery(r.URL.Query()); err != nil {
		return err
	}
	var found []any
	if rec, ok := s.world.FindPatient(r.practice.ODS, nhs); ok {
		pds, _ := s.world.Patient(nhs)
		found = append(found, patient(r.practice, rec, pds))
	}
	b, err := searchset("", found...)
	if err != nil {
		return err
	}
	s.writeJSON(rw, r.Request, http.StatusOK, b, nil)
	return nil
}

// findPatientQuery applies §3.2's parameter rules: the NHS number
// identifier, with a valid number (400 INVALID_NHS_NUMBER).
func findPatientQuery(q url.Values) (string, error) {
	nhs, err := identifierQuery(q, gpc.SystemNHSNumber)
	if err != nil {
		return "", err
	}
	if !nhsnumber.Valid(nhs) {
		return "", gpc.Errorf(gpc.InvalidNHSNumber, "NHS number %q is not valid (10 digits with a Modulus 11 check digit)", nhs)
	}
	return nhs, nil
}

// readPatient answers GET /Patient/{id} (§3.4): 404 PATIENT_NOT_FOUND for
// an unknown id and, as the demonstrator does, for a patient Find would
// filter out (sensitive, deceased, inactive).
func (s *server) readPatient(rw http.ResponseWriter, r *request) error {
	id := lastSegment(r.path)
	rec, ok := s.world.Record(r.practice.ODS, id)
	if ok {
		rec, ok = s.world.FindPatient(r.practice.ODS, rec.NHSNumber)
	}
	if !ok || rec.ID != id {
		return gpc.Errorf(gpc.PatientNotFound, "No patient with id %s at this practice", id)
	}
	pds, _ := s.world.Patient(rec.NHSNumber)
	res := patient(r.practice, rec, pds)
	s.writeJSON(rw, r.Request, http.StatusOK, res, etag(res.Meta.VersionID))
	return nil
}

// findPractitioner answers GET /Practitioner?identifier=sds-user-id|X
// (§3.5).
func (s *server) findPractitioner(rw http.ResponseWriter, r *request) error {
	id, err := identifierParam(r, gpc.SystemSDSUserID)
	if err != nil {
		return err
	}
	var found []any
	for _, pr := range s.world.Practitioners(r.practice.ODS) {
		if pr.SDSUserID == id {
			found = append(found, practitioner(pr))
		}
	}
	b, err := searchset("", found...)
	if err != nil {
		return err
	}
	s.writeJSON(rw, r.Request, http.StatusOK, b, nil)
	return nil
}

// readPractitioner answers GET /Practitioner/{id} (§3.5).
func (s *server) readPractitioner(rw http.ResponseWriter, r *request) error {
	id := lastSegment(r.path)
	for _, pr := range s.world.Practitioners(r.practice.ODS) {
		if pr.ID == id {
			res := practitioner(pr)
			s.writeJSON(rw, r.Request, http.StatusOK, res, etag(res.Meta.VersionID))
			return nil
		}
	}
	return gpc.Errorf(gpc.PractitionerNotFound, "No practitioner with id %s at this practice", id)
}

// findOrganization answers GET /Organization?identifier=ods|X (§3.5): the
// practice itself when X is its ODS code.
func (s *server) findOrganization(rw http.ResponseWriter, r *request) error {
	ods, err := identifierParam(r, gpc.SystemODSCode)
	if err != nil {
		return err
	}
	var found []any
	if ods == r.practice.ODS {
		found = append(found, organization(r.practice))
	}
	b, err := searchset("", found...)
	if err != nil {
		return err
	}
	s.writeJSON(rw, r.Request, http.StatusOK, b, nil)
	return nil
}

// readOrganization answers GET /Organization/{id} (§3.5).
func (s *server) readOrganization(rw http.ResponseWriter, r *request) error {
	id := lastSegment(r.path)
	if id != r.practice.OrganizationID {
		return gpc.Errorf(gpc.OrganisationNotFound, "No organization with id %s at this provider", id)
	}
	res := organization(r.practice)
	s.writeJSON(rw, r.Request, http.StatusOK, res, etag(res.Meta.VersionID))
	return nil
}

// readLocation answers GET /Location/{id} (§3.5); an unknown id is 404
// NO_RECORD_FOUND, one of the two codes the spec allows.
func (s *server) readLocation(rw http.ResponseWriter, r *request) error {
	id := lastSegment(r.path)
	for _, l := range s.world.Locations(r.practice.ODS) {
		if l.ID == id {
			res := location(r.practice, l)
			s.writeJSON(rw, r.Request, http.StatusOK, res, etag(res.Meta.VersionID))
			return nil
		}
	}
	return gpc.Errorf(gpc.NoRecordFound, "No location with id %s at this practice", id)
}

func lastSegment(path string) string {
	return path[strings.LastIndex(path, "/")+1:]
}
