// Package gpc is the GP Connect 1.6 vocabulary shared by the sandbox's mocks
// and its consumer: interaction IDs with their method, path and JWT scope,
// identifier systems, the Spine error/warning codes and the typed Error that
// carries one, and the two OperationOutcome shapes (provider and SSP).
package gpc

import (
	"strings"
)

// Interaction identifies one GP Connect interaction by its Ssp-InteractionID
// value (gpconnect-1.6.md §1.6).
type Interaction string

// The Foundations and Appointment Management interactions.
const (
	ReadMetadata       Interaction = "urn:nhs:names:services:gpconnect:fhir:rest:read:metadata-1"
	SearchPatient      Interaction = "urn:nhs:names:services:gpconnect:fhir:rest:search:patient-1"
	ReadPatient        Interaction = "urn:nhs:names:services:gpconnect:fhir:rest:read:patient-1"
	RegisterPatient    Interaction = "urn:nhs:names:services:gpconnect:fhir:operation:gpc.registerpatient-1"
	SearchPractitioner Interaction = "urn:nhs:names:services:gpconnect:fhir:rest:search:practitioner-1"
	ReadPractitioner   Interaction = "urn:nhs:names:services:gpconnect:fhir:rest:read:practitioner-1"
	SearchOrganization Interaction = "urn:nhs:names:services:gpconnect:fhir:rest:search:organization-1"
	ReadOrganization   Interaction = "urn:nhs:names:services:gpconnect:fhir:rest:read:organization-1"
	ReadLocation       Interaction = "urn:nhs:names:services:gpconnect:fhir:rest:read:location-1"
	SearchSlots        Interaction = "urn:nhs:names:services:gpconnect:fhir:rest:search:slot-1"
	CreateAppointment  Interaction = "urn:nhs:names:services:gpconnect:fhir:rest:create:appointment-1"
	ReadAppointment    Interaction = "urn:nhs:names:services:gpconnect:fhir:rest:read:appointment-1"
	AmendAppointment   Interaction = "urn:nhs:names:services:gpconnect:fhir:rest:update:appointment-1"
	CancelAppointment  Interaction = "urn:nhs:names:services:gpconnect:fhir:rest:cancel:appointment-1"
	SearchPatientAppts Interaction = "urn:nhs:names:services:gpconnect:fhir:rest:search:patient_appointments-1"
)

// Scope is a JWT requested_scope value (gpconnect-1.6.md §2.2, §2.3).
type Scope string

// The four base scopes.
const (
	PatientRead       Scope = "patient/*.read"
	PatientWrite      Scope = "patient/*.write"
	OrganizationRead  Scope = "organization/*.read"
	OrganizationWrite Scope = "organization/*.write"
)

// InteractionInfo describes how one interaction is called.
type InteractionInfo struct {
	ID     Interaction
	Name   string // short name used in logs, journals and reports
	Method string
	// Path is the pattern below the service root: literal segments and
	// "{id}" for one non-empty segment.
	Path  string
	Scope Scope
}

// Interactions lists every Foundations and Appointment Management
// interaction in the order of gpconnect-1.6.md §1.6.
var Interactions = []InteractionInfo{
	{ReadMetadata, "read metadata", "GET", "/metadata", OrganizationRead},
	{SearchPatient, "find patient", "GET", "/Patient", PatientRead},
	{ReadPatient, "read patient", "GET", "/Patient/{id}", PatientRead},
	{RegisterPatient, "register patient", "POST", "/Patient/$gpc.registerpatient", PatientWrite},
	{SearchPractitioner, "find practitioner", "GET", "/Practitioner", OrganizationRead},
	{ReadPractitioner, "read practitioner", "GET", "/Practitioner/{id}", OrganizationRead},
	{SearchOrganization, "find organization", "GET", "/Organization", OrganizationRead},
	{ReadOrganization, "read organization", "GET", "/Organization/{id}", OrganizationRead},
	{ReadLocation, "read location", "GET", "/Location/{id}", OrganizationRead},
	{SearchSlots, "search free slots", "GET", "/Slot", OrganizationRead},
	{CreateAppointment, "book appointment", "POST", "/Appointment", PatientWrite},
	{ReadAppointment, "read appointment", "GET", "/Appointment/{id}", PatientRead},
	{AmendAppointment, "amend appointment", "PUT", "/Appointment/{id}", PatientWrite},
	{CancelAppointment, "cancel appointment", "PUT", "/Appointment/{id}", PatientWrite},
	{SearchPatientAppts, "retrieve appointments", "GET", "/Patient/{id}/Appointment", PatientRead},
}

// Lookup returns the description of id, or false when id is not a
// Foundations or Appointment Management interaction.
func Lookup(id Interaction) (InteractionInfo, bool) {
	for _, in := range Interactions {
		if in.ID == id {
			return in, true
		}
	}
	return InteractionInfo{}, false
}

// IsKnown reports whether id is one of Interactions.
func IsKnown(id Interaction) bool {
	_, ok := Lookup(id)
	return ok
}

// Name returns the short name of id, or id itself when unknown.
func (id Interaction) Name() string {
	if in, ok := Lookup(id); ok {
		return in.Name
	}
	return string(id)
}

// Matches reports whether method and path (relative to the service root,
// starting with "/", without query) are how interaction in is called.
func (in InteractionInfo) Matches(method, path string) bool {
	if method != in.Method {
		return false
	}
	return matchPath(in.Path, path)
}

// ForRequest lists the interactions whose method and path match. Amend and
// cancel share theirs, so a PUT to an Appointment yields both.
func ForRequest(method, path string) []Interaction {
	var out []Interaction
	for _, in := range Interactions {
		if in.Matches(method, path) {
			out = append(out, in.ID)
		}
	}
	return out
}

// matchPath reports whether path has pattern's segments, "{id}" standing
// for one that is neither empty nor an operation ("$..."). It compares
// segment by segment without splitting: it runs for every interaction on
// every request the judge and the provider see.
func matchPath(pattern, path string) bool {
	if strings.HasSuffix(path, "/") && len(path) > 1 {
		return false
	}
	p, x := strings.Trim(pattern, "/"), strings.Trim(path, "/")
	for {
		pseg, prest, pmore := strings.Cut(p, "/")
		xseg, xrest, xmore := strings.Cut(x, "/")
		if pseg == "{id}" {
			if xseg == "" || strings.HasPrefix(xseg, "$") {
				return false
			}
		} else if pseg != xseg {
			return false
		}
		if pmore != xmore {
			return false
		}
		if !pmore {
			return true
		}
		p, x = prest, xrest
	}
}
