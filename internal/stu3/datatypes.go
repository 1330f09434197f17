// Package stu3 holds the small, exact set of FHIR STU3 (3.0.1) types GP
// Connect 1.6 exchanges between consumer and provider: the Foundations and
// Appointment Management resources, Bundle, Parameters, CapabilityStatement,
// OperationOutcome and the datatypes they use (gpconnect-1.6.md §3–§4, §7).
//
// The R4 models the project uses for PDS and SDS do not cover STU3, and a
// generic FHIR model would hide the point of GP Connect's profiles: a
// resource may carry only the elements listed here. UnknownFields reports
// every element of a JSON body that these types do not know, so the provider
// can reject "additional not allowed elements" with 422 INVALID_RESOURCE.
//
// Decoding is lenient where the spec's own examples are wrong (§4.1
// GOTCHA): Organization.address, Organization.telecom and Location.telecom
// are accepted as a single object, Location.address as an array. Encoding
// always writes the STU3-correct form.
package stu3

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// Coding is a FHIR Coding. It is the one definition: gpc's Coding, which
// its OperationOutcome builders use, is an alias of it.
type Coding struct {
	System  string `json:"system,omitempty"`
	Version string `json:"version,omitempty"`
	Code    string `json:"code,omitempty"`
	Display string `json:"display,omitempty"`
}

// CodeableConcept is a FHIR CodeableConcept (gpc.CodeableConcept is an
// alias of it).
type CodeableConcept struct {
	Coding []Coding `json:"coding,omitempty"`
	Text   string   `json:"text,omitempty"`
}

// Meta is a resource's meta element.
type Meta struct {
	VersionID   string   `json:"versionId,omitempty"`
	LastUpdated string   `json:"lastUpdated,omitempty"`
	Profile     []string `json:"profile,omitempty"`
}

// Extension is a FHIR extension with the value[x] variants GP Connect uses.
// Complex extensions (RegistrationDetails, NHSCommunication) nest further
// extensions instead of a value.
type Extension struct {
	URL                  string           `json:"url"`
	Extension            []Extension      `json:"extension,omitempty"`
	ValueString          string           `json:"valueString,omitempty"`
	ValueCode            string           `json:"valueCode,omitempty"`
	ValueBoolean         *bool            `json:"valueBoolean,omitempty"`
	ValueDateTime        string           `json:"valueDateTime,omitempty"`
	ValueReference       *Reference       `json:"valueReference,omitempty"`
	ValueCodeableConcept *CodeableConcept `json:"valueCodeableConcept,omitempty"`
	ValuePeriod          *Period          `json:"valuePeriod,omitempty"`
}

// FindExtension returns the first extension with url, or nil.
func FindExtension(exts []Extension, url string) *Extension {
	for i := range exts {
		if exts[i].URL == url {
			return &exts[i]
		}
	}
	return nil
}

// Identifier is a FHIR Identifier. GP Connect's profiles forbid use, type,
// period and assigner on the identifiers it exchanges (§4.2).
type Identifier struct {
	Extension []Extension `json:"extension,omitempty"`
	System    string      `json:"system,omitempty"`
	Value     string      `json:"value,omitempty"`
}

// FindIdentifier returns the first identifier with system, or nil.
func FindIdentifier(ids []Identifier, system string) *Identifier {
	for i := range ids {
		if ids[i].System == system {
			return &ids[i]
		}
	}
	return nil
}

// HumanName is a FHIR HumanName.
type HumanName struct {
	Use    string   `json:"use,omitempty"`
	Text   string   `json:"text,omitempty"`
	Family string   `json:"family,omitempty"`
	Given  []string `json:"given,omitempty"`
	Prefix []string `json:"prefix,omitempty"`
	Suffix []string `json:"suffix,omitempty"`
	Period *Period  `json:"period,omitempty"`
}

// ContactPoint is a FHIR ContactPoint (telecom).
type ContactPoint struct {
	System string  `json:"system,omitempty"`
	Value  string  `json:"value,omitempty"`
	Use    string  `json:"use,omitempty"`
	Period *Period `json:"period,omitempty"`
}

// Address is a FHIR Address.
type Address struct {
	Use        string   `json:"use,omitempty"`
	Type       string   `json:"type,omitempty"`
	Text       string   `json:"text,omitempty"`
	Line       []string `json:"line,omitempty"`
	City       string   `json:"city,omitempty"`
	District   string   `json:"district,omitempty"`
	State      string   `json:"state,omitempty"`
	PostalCode string   `json:"postalCode,omitempty"`
	Country    string   `json:"country,omitempty"`
	Period     *Period  `json:"period,omitempty"`
}

// Period is a FHIR Period; times are dateTime strings as sent (§7.2).
type Period struct {
	Start string `json:"start,omitempty"`
	End   string `json:"end,omitempty"`
}

// Reference is a FHIR Reference. GP Connect uses relative references
// ("Slot/1") and local ones ("#1").
type Reference struct {
	Reference string `json:"reference,omitempty"`
	Display   string `json:"display,omitempty"`
}

// Ref returns a relative reference "Type/id".
func Ref(resourceType, id string) Reference {
	return Reference{Reference: resourceType + "/" + id}
}

// Split returns the type and id of a relative reference "Type/id", and false
// for anything else (absolute URLs, local "#id", empty parts, "_history").
func (r Reference) Split() (resourceType, id string, ok bool) {
	typ, id, found := strings.Cut(r.Reference, "/")
	if !found || typ == "" || id == "" || strings.Contains(id, "/") || !isResourceName(typ) {
		return "", "", false
	}
	return typ, id, true
}

func isResourceName(s string) bool {
	if s == "" || s[0] < 'A' || s[0] > 'Z' {
		return false
	}
	for _, r := range s {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z') {
			return false
		}
	}
	return true
}

// List is a 0..* element that decodes from an array or, leniently, from a
// single object (the spec's slot-search example sends
// Organization.telecom/address and Location.telecom as objects, §4.1). It
// always encodes as an array.
type List[T any] []T

// UnmarshalJSON accepts an array or a single object.
func (l *List[T]) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '{' {
		var one T
		if err := json.Unmarshal(b, &one); err != nil {
			return err
		}
		*l = List[T]{one}
		return nil
	}
	var many []T
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*l = many
	return nil
}

// unmarshalOne decodes a 0..1 element that may, leniently, arrive as an
// array of at most one (read_location_response_example.json sends
// Location.address as an array, §4.1).
func unmarshalOne[T any](b json.RawMessage, field string) (*T, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		return nil, nil
	}
	if b[0] == '[' {
		var many []T
		if err := json.Unmarshal(b, &many); err != nil {
			return nil, err
		}
		switch len(many) {
		case 0:
			return nil, nil
		case 1:
			return &many[0], nil
		}
		return nil, fmt.Errorf("stu3: %s has %d values, at most 1 allowed", field, len(many))
	}
	v := new(T)
	if err := json.Unmarshal(b, v); err != nil {
		return nil, err
	}
	return v, nil
}
