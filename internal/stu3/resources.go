package stu3

import (
	"encoding/json"
	"strings"
)

// GP Connect identifiers the resources' helpers look for. They are gpc's
// (extBookingOrganisation, systemNHSNumber), written out because
// gpc imports stu3 for the OperationOutcome it builds; the helpers' tests
// use gpc's names, so the two cannot drift apart unnoticed.
const (
	extBookingOrganisation = "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-GPConnect-BookingOrganisation-1"
	systemNHSNumber        = "https://fhir.nhs.uk/Id/nhs-number"
)

// Every resource type encodes its resourceType even when the field was left
// empty, so building one needs no boilerplate: the field is a TypeName
// (resourcetype.go), not a MarshalJSON per type.

// Patient is a CareConnect-GPC-Patient-1 (§3.2, §3.3). Elements the profile
// forbids (maritalStatus, birthPlace, multipleBirth, ...) are absent on
// purpose, so UnknownFields reports them.
type Patient struct {
	ResourceType         TypeName[Patient] `json:"resourceType"`
	ID                   string            `json:"id,omitempty"`
	Meta                 *Meta             `json:"meta,omitempty"`
	Extension            []Extension       `json:"extension,omitempty"`
	Identifier           []Identifier      `json:"identifier,omitempty"`
	Active               *bool             `json:"active,omitempty"`
	Name                 []HumanName       `json:"name,omitempty"`
	Telecom              []ContactPoint    `json:"telecom,omitempty"`
	Gender               string            `json:"gender,omitempty"`
	BirthDate            string            `json:"birthDate,omitempty"`
	Address              []Address         `json:"address,omitempty"`
	Contact              []PatientContact  `json:"contact,omitempty"`
	ManagingOrganization *Reference        `json:"managingOrganization,omitempty"`
}

// PatientContact is one of a patient's contacts (next of kin, ...).
type PatientContact struct {
	Relationship []CodeableConcept `json:"relationship,omitempty"`
	Name         *HumanName        `json:"name,omitempty"`
	Telecom      []ContactPoint    `json:"telecom,omitempty"`
	Address      *Address          `json:"address,omitempty"`
	Gender       string            `json:"gender,omitempty"`
	Organization *Reference        `json:"organization,omitempty"`
	Period       *Period           `json:"period,omitempty"`
}

// Organization is a CareConnect-GPC-Organization-1 (§3.5), also the
// booking organisation contained in an Appointment (§4.2).
type Organization struct {
	ResourceType TypeName[Organization] `json:"resourceType"`
	ID           string                 `json:"id,omitempty"`
	Meta         *Meta                  `json:"meta,omitempty"`
	Extension    []Extension            `json:"extension,omitempty"`
	Identifier   []Identifier           `json:"identifier,omitempty"`
	Active       *bool                  `json:"active,omitempty"`
	Type         []CodeableConcept      `json:"type,omitempty"`
	Name         string                 `json:"name,omitempty"`
	Telecom      List[ContactPoint]     `json:"telecom,omitempty"`
	Address      List[Address]          `json:"address,omitempty"`
	PartOf       *Reference             `json:"partOf,omitempty"`
}

// Practitioner is a CareConnect-GPC-Practitioner-1 (§3.5). It has no
// telecom, address, birthDate, photo or qualification: the profile forbids
// them.
type Practitioner struct {
	ResourceType TypeName[Practitioner] `json:"resourceType"`
	ID           string                 `json:"id,omitempty"`
	Meta         *Meta                  `json:"meta,omitempty"`
	Extension    []Extension            `json:"extension,omitempty"`
	Identifier   []Identifier           `json:"identifier,omitempty"`
	Active       *bool                  `json:"active,omitempty"`
	Name         []HumanName            `json:"name,omitempty"`
	Gender       string                 `json:"gender,omitempty"`
}

// Location is a CareConnect-GPC-Location-1 (§3.5).
type Location struct {
	ResourceType         TypeName[Location] `json:"resourceType"`
	ID                   string             `json:"id,omitempty"`
	Meta                 *Meta              `json:"meta,omitempty"`
	Extension            []Extension        `json:"extension,omitempty"`
	Identifier           []Identifier       `json:"identifier,omitempty"`
	Status               string             `json:"status,omitempty"`
	Name                 string             `json:"name,omitempty"`
	Description          string             `json:"description,omitempty"`
	Telecom              List[ContactPoint] `json:"telecom,omitempty"`
	Address              *Address           `json:"address,omitempty"`
	ManagingOrganization *Reference         `json:"managingOrganization,omitempty"`
}

// UnmarshalJSON accepts Location.address as an object or, leniently, as an
// array of one (read_location_response_example.json, §4.1).
func (r *Location) UnmarshalJSON(b []byte) error {
	type plain Location
	var aux struct {
		plain
		Address json.RawMessage `json:"address,omitempty"`
	}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	addr, err := unmarshalOne[Address](aux.Address, "Location.address")
	if err != nil {
		return err
	}
	*r = Location(aux.plain)
	r.Address = addr
	return nil
}

// Slot is a GPConnect-Slot-1 (§4.1). specialty is forbidden and absent.
type Slot struct {
	ResourceType TypeName[Slot]    `json:"resourceType"`
	ID           string            `json:"id,omitempty"`
	Meta         *Meta             `json:"meta,omitempty"`
	Extension    []Extension       `json:"extension,omitempty"`
	Identifier   []Identifier      `json:"identifier,omitempty"`
	ServiceType  []CodeableConcept `json:"serviceType,omitempty"`
	Schedule     *Reference        `json:"schedule,omitempty"`
	Status       string            `json:"status,omitempty"`
	Start        string            `json:"start,omitempty"`
	End          string            `json:"end,omitempty"`
}

// Schedule is a GPConnect-Schedule-1 (§4.1).
type Schedule struct {
	ResourceType    TypeName[Schedule] `json:"resourceType"`
	ID              string             `json:"id,omitempty"`
	Meta            *Meta              `json:"meta,omitempty"`
	Extension       []Extension        `json:"extension,omitempty"`
	Identifier      []Identifier       `json:"identifier,omitempty"`
	ServiceCategory *CodeableConcept   `json:"serviceCategory,omitempty"`
	Actor           []Reference        `json:"actor,omitempty"`
	PlanningHorizon *Period            `json:"planningHorizon,omitempty"`
	Comment         string             `json:"comment,omitempty"`
}

// Appointment is a GPConnect-Appointment-1 (§4.2–§4.6). reason, specialty,
// appointmentType, indication, supportingInformation, incomingReferral and
// requestedPeriod are forbidden and absent, so UnknownFields reports them.
// Contained holds the booking organisation (contained[0], id "1").
type Appointment struct {
	ResourceType    TypeName[Appointment]    `json:"resourceType"`
	ID              string                   `json:"id,omitempty"`
	Meta            *Meta                    `json:"meta,omitempty"`
	Contained       []Organization           `json:"contained,omitempty"`
	Extension       []Extension              `json:"extension,omitempty"`
	Identifier      []Identifier             `json:"identifier,omitempty"`
	Status          string                   `json:"status,omitempty"`
	ServiceCategory *CodeableConcept         `json:"serviceCategory,omitempty"`
	ServiceType     []CodeableConcept        `json:"serviceType,omitempty"`
	Description     string                   `json:"description,omitempty"`
	Start           string                   `json:"start,omitempty"`
	End             string                   `json:"end,omitempty"`
	MinutesDuration *int                     `json:"minutesDuration,omitempty"`
	Slot            []Reference              `json:"slot,omitempty"`
	Created         string                   `json:"created,omitempty"`
	Comment         string                   `json:"comment,omitempty"`
	Participant     []AppointmentParticipant `json:"participant,omitempty"`
}

// AppointmentParticipant is one participant: the patient, the location and
// optionally the practitioner (§4.2).
type AppointmentParticipant struct {
	Type     []CodeableConcept `json:"type,omitempty"`
	Actor    *Reference        `json:"actor,omitempty"`
	Required string            `json:"required,omitempty"`
	Status   string            `json:"status,omitempty"`
}

// ContainedOrganization returns the contained resource with id (without
// "#"), or nil.
func (r *Appointment) ContainedOrganization(id string) *Organization {
	for i := range r.Contained {
		if r.Contained[i].ID == id {
			return &r.Contained[i]
		}
	}
	return nil
}

// BookingOrganization returns the contained Organization that the
// BookingOrganisation extension references ("#1", §4.2), or nil when the
// extension is missing, not a local reference, or dangling.
func (r *Appointment) BookingOrganization() *Organization {
	ext := FindExtension(r.Extension, extBookingOrganisation)
	if ext == nil || ext.ValueReference == nil {
		return nil
	}
	id, ok := strings.CutPrefix(ext.ValueReference.Reference, "#")
	if !ok || id == "" {
		return nil
	}
	return r.ContainedOrganization(id)
}

// Participants returns the participants whose actor is a relative reference
// to resourceType ("Patient", "Location", "Practitioner").
func (r *Appointment) Participants(resourceType string) []AppointmentParticipant {
	var out []AppointmentParticipant
	for _, p := range r.Participant {
		if p.Actor == nil {
			continue
		}
		if typ, _, ok := p.Actor.Split(); ok && typ == resourceType {
			out = append(out, p)
		}
	}
	return out
}

// NHSNumber returns the value of the patient's NHS number identifier, or "".
func (r *Patient) NHSNumber() string {
	if id := FindIdentifier(r.Identifier, systemNHSNumber); id != nil {
		return id.Value
	}
	return ""
}

// OfficialName returns the patient's name with use "official" (§3.2: exactly
// one), or nil.
func (r *Patient) OfficialName() *HumanName {
	for i := range r.Name {
		if r.Name[i].Use == "official" {
			return &r.Name[i]
		}
	}
	return nil
}

// OperationOutcome is the STU3 OperationOutcome: the provider's and the
// SSP's error bodies, which gpc builds (gpc.ProviderOutcome, gpc.SSPOutcome;
// gpc.OperationOutcome is an alias of it), read back by the consumer.
type OperationOutcome struct {
	ResourceType string  `json:"resourceType"`
	ID           string  `json:"id,omitempty"`
	Meta         *Meta   `json:"meta,omitempty"`
	Issue        []Issue `json:"issue"`
}

// Issue is one OperationOutcome issue.
type Issue struct {
	Severity    string           `json:"severity"`
	Code        string           `json:"code"`
	Details     *CodeableConcept `json:"details,omitempty"`
	Diagnostics string           `json:"diagnostics,omitempty"`
}
