package fhirxml

import (
	"strings"
	"testing"
)

// stu3Order is the definition order of each type's elements in FHIR STU3
// (3.0.1, the resource and datatype pages), keyed by the Go type's name.
// value[x] stands for every valueX choice. It is a test, not a table the
// converter reads: the converter follows the Go types, and this holds the
// Go types to the spec.
var stu3Order = func() map[string][]string {
	resource := []string{"id", "meta", "implicitRules", "language"}
	domain := append(append([]string{}, resource...), "text", "contained", "extension", "modifierExtension")
	element := []string{"id", "extension", "modifierExtension"}
	with := func(base []string, names string) []string {
		return append(append([]string{}, base...), strings.Fields(names)...)
	}
	return map[string][]string{
		"Patient": with(domain, "identifier active name telecom gender birthDate deceased[x] address maritalStatus "+
			"multipleBirth[x] photo contact animal communication generalPractitioner managingOrganization link"),
		"PatientContact": with(element, "relationship name telecom address gender organization period"),
		"Organization":   with(domain, "identifier active type name alias telecom address partOf contact endpoint"),
		"Practitioner":   with(domain, "identifier active name telecom address gender birthDate photo qualification communication"),
		"Location": with(domain, "identifier status operationalStatus name alias description mode type telecom address "+
			"physicalType position managingOrganization partOf endpoint"),
		"Slot":     with(domain, "identifier serviceCategory serviceType specialty appointmentType schedule status start end overbooked comment"),
		"Schedule": with(domain, "identifier active serviceCategory serviceType specialty actor planningHorizon comment"),
		"Appointment": with(domain, "identifier status serviceCategory serviceType specialty appointmentType reason indication "+
			"priority description supportingInformation start end minutesDuration slot created comment incomingReferral participant requestedPeriod"),
		"AppointmentParticipant": with(element, "type actor required status"),
		"Bundle":                 with(resource, "identifier type total link entry signature"),
		"BundleLink":             with(element, "relation url"),
		"BundleEntry":            with(element, "link fullUrl resource search request response"),
		"BundleSearch":           with(element, "mode score"),
		"Parameters":             with(resource, "parameter"),
		"Parameter":              with(element, "name value[x] resource part"),
		"CapabilityStatement": with(domain, "url version name title status experimental date publisher contact description "+
			"useContext jurisdiction purpose copyright kind instantiates software implementation fhirVersion acceptUnknown format "+
			"patchFormat implementationGuide profile rest messaging document"),
		"ContactDetail":         with(element, "name telecom"),
		"Software":              with(element, "name version releaseDate"),
		"Implementation":        with(element, "description url"),
		"CapabilityRest":        with(element, "mode documentation security resource interaction searchParam operation compartment"),
		"CapabilitySecurity":    with(element, "cors service description certificate"),
		"CapabilityResource":    with(element, "type profile documentation interaction versioning readHistory updateCreate conditionalCreate conditionalRead conditionalUpdate conditionalDelete referencePolicy searchInclude searchRevInclude searchParam"),
		"CapabilityInteraction": with(element, "code documentation"),
		"CapabilitySearchParam": with(element, "name definition type documentation"),
		"CapabilityOperation":   with(element, "name definition"),
		"OperationOutcome":      with(domain, "issue"),
		"Issue":                 with(element, "severity code details diagnostics location expression"),
		"Meta":                  with(element, "versionId lastUpdated profile security tag"),
		"Extension":             with(element, "url value[x]"),
		"Identifier":            with(element, "use type system value period assigner"),
		"HumanName":             with(element, "use text family given prefix suffix period"),
		"ContactPoint":          with(element, "system value use rank period"),
		"Address":               with(element, "use type text line city district state postalCode country period"),
		"Period":                with(element, "start end"),
		"Reference":             with(element, "reference identifier display"),
		"Coding":                with(element, "system version code display userSelected"),
		"CodeableConcept":       with(element, "coding text"),
	}
}()

// choice maps valueString, deceasedBoolean, ... to their value[x] name.
func choice(name string, def []string) string {
	for _, d := range def {
		if p, ok := strings.CutSuffix(d, "[x]"); ok && strings.HasPrefix(name, p) && len(name) > len(p) &&
			name[len(p)] >= 'A' && name[len(p)] <= 'Z' {
			return d
		}
	}
	return name
}

// TestDefinitionOrder: the fields of every internal/stu3 type the
// converter reads come in FHIR's definition order, so the XML it writes
// has its elements in the order FHIR XML requires (xml.html); a field
// added out of order, or a type with no order here, fails.
func TestDefinitionOrder(t *testing.T) {
	for _, rt := range []string{"Patient", "Organization", "Practitioner", "Location", "Slot", "Schedule",
		"Appointment", "Bundle", "Parameters", "CapabilityStatement", "OperationOutcome"} {
		if resourceSchema(rt) == nil {
			t.Fatalf("internal/stu3 has no type for %s", rt)
		}
	}
	schemaMu.Lock()
	defer schemaMu.Unlock()
	for gt, c := range types {
		def, ok := stu3Order[gt.Name()]
		if !ok {
			t.Errorf("%s (%s): no STU3 definition order in stu3Order", gt.Name(), gt)
			continue
		}
		last, lastName := -1, ""
		for _, e := range c.elems {
			if c.urlAttr && e.name == "url" {
				continue // an attribute: written with the start tag
			}
			name := choice(e.name, def)
			pos := -1
			for i, d := range def {
				if d == name {
					pos = i
				}
			}
			switch {
			case pos < 0:
				t.Errorf("%s.%s is not an element of STU3 %s", gt.Name(), e.name, gt.Name())
			case pos < last:
				t.Errorf("%s.%s comes after %s, but STU3 defines it before", gt.Name(), e.name, lastName)
			case pos == last && !strings.HasSuffix(name, "[x]"):
				t.Errorf("%s.%s twice", gt.Name(), e.name)
			default:
				last, lastName = pos, e.name
			}
		}
	}
	if len(types) < 30 {
		t.Errorf("only %d types were read", len(types))
	}
}
