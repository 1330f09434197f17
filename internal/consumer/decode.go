package consumer

import "github.com/go-json-experiment/json"

// The consumer decodes every answer with encoding/json v2
// (github.com/go-json-experiment/json, the Go team's mirror of the
// standard library's encoding/json/v2): one pass over the bytes, where
// encoding/json validates the whole input before decoding it, and again
// each value it hands to an UnmarshalJSON method (issue 15: decoding was
// 58 % of a journey's CPU). It honours the UnmarshalJSON methods of the
// samply R4 models' codes and of stu3. Where it differs from encoding/json, it is
// stricter in ways FHIR asks for:
//
//   - Member names match case-sensitively: FHIR JSON names are
//     case-sensitive ("resourceType", not "ResourceType"); encoding/json
//     took any case, so a misspelt element was read as the real one.
//   - A duplicate member name is an error: FHIR JSON has no repeated
//     properties (repetition is an array), and which of two values counts
//     is up to the parser (RFC 8259 §4) — an answer that depends on it is
//     not one to act on.
//   - Invalid UTF-8 is an error: FHIR JSON is UTF-8 (RFC 8259 §8.1);
//     encoding/json replaced bad bytes with U+FFFD silently.
//
// A duplicate name or invalid UTF-8 anywhere makes the answer malformed
// JSON, a bad response as a whole as a syntax error always was; a name in
// another case is an unknown element. Unknown elements are ignored, as
// before.
func unmarshal(raw []byte, v any) error {
	return json.Unmarshal(raw, v)
}
