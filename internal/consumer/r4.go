package consumer

// PDS and SDS answer in FHIR R4, which the consumer decodes with the R4
// models of github.com/samply/golang-fhir-models (fhir-models/fhir). Their
// sharp edges, and what the consumer does about each:
//
//   - They never check resourceType (the types have no such field):
//     decodeAs checks it first (decode.go), so an OperationOutcome or a
//     Bundle is not taken for a Patient.
//   - They drop unknown fields and contained resources silently: the
//     consumer reads only elements the models know (identifiers, names,
//     extensions, addresses, telecoms, generalPractitioner, Endpoint's
//     address, Device's identifiers), and nothing PDS or SDS contains.
//   - Coded elements (gender, name use, telecom system, Endpoint.status,
//     Bundle.type, …) are enums that refuse a code outside their value
//     set: such an answer is not valid R4, and is a bad response as a whole
//     (a Patient) or an entry skipped (a searchset's Endpoint or Device).
//   - Every element is a pointer: str reads an optional string.
//   - R4 only: GP Connect's STU3 resources have their own types (stu3).

// str is *p, or "" for nil.
func str[T ~string](p *T) string {
	if p == nil {
		return ""
	}
	return string(*p)
}

// code is the FHIR code of an optional R4 enum (the models keep codes as
// ints), or "" for nil.
func code[T interface{ Code() string }](p *T) string {
	if p == nil {
		return ""
	}
	return (*p).Code()
}
