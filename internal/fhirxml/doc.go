// Package fhirxml converts FHIR STU3 resources between their JSON and XML
// representations (https://hl7.org/fhir/STU3/xml.html), so the provider
// can speak application/fhir+xml at its edge while every rule stays on
// the JSON path it already validates (gpconnect-1.6.md §1.3: XML SHOULD be
// supported).
//
// XML does not say which elements repeat or whether a primitive is a
// string, a number or a boolean; JSON does not say in which order elements
// come. Both facts are read, by reflection, from the Go types of
// internal/stu3 — the one description of GP Connect's resources the
// provider decodes and validates with — rather than from a generated
// table: a field added there is converted correctly at once, and a table
// beside the types could drift from them unnoticed. A slice field repeats,
// a struct field is complex, a json.RawMessage or a type with a
// resourceType is an inline resource, bool is a JSON boolean and integers
// are JSON numbers; the order of a struct's fields is FHIR's definition
// order (TestDefinitionOrder checks each against the STU3 definitions).
//
// An element the types do not know (one a GP Connect profile forbids, say)
// is converted by its shape: from XML, an array only when it occurs more
// than once, a string when it has a value attribute, an object otherwise;
// to XML, after the known elements, sorted by name. Such an element is
// refused by the provider either way (UnknownFields), so its exact shape
// does not change an answer.
//
// Hostile XML: encoding/xml never expands external entities and, in strict
// mode, knows only XML's five predefined ones; a DTD is refused outright;
// nesting is bounded by maxDepth and the elements of one document by
// maxElements. Body size is the caller's limit.
package fhirxml
