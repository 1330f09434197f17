package consumer

import (
	"bytes"
	"fmt"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/spine-sandbox/spine-sandbox/internal/stu3"
)

// The consumer decodes every answer with encoding/json v2
// (github.com/go-json-experiment/json, the Go team's mirror of the
// standard library's encoding/json/v2): one pass over the bytes, where
// encoding/json first validates the whole input and then decodes it, and
// again for every json.RawMessage and Unmarshaler below (issue 15: decoding
// was 58 % of a journey's CPU). It honours the UnmarshalJSON methods of the
// samply R4 models and of stu3. Where it differs from encoding/json, it is
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
// Such an answer is a bad response as a whole, or an entry skipped where
// an entry that does not decode is skipped. Unknown elements are ignored,
// as before.
func unmarshal(raw []byte, v any) error {
	return json.Unmarshal(raw, v)
}

// resourceTypeOf reads the resourceType of the resource raw, scanning no
// further than that member (FHIR puts it first by convention; members
// before it are skipped): the typed decode that follows reads and checks
// the whole resource, once.
func resourceTypeOf(raw []byte) (string, error) {
	d := jsontext.NewDecoder(bytes.NewBuffer(raw))
	if tok, err := d.ReadToken(); err != nil || tok.Kind() != '{' {
		return "", notJSON(err)
	}
	for d.PeekKind() == '"' {
		name, err := d.ReadToken()
		if err != nil {
			return "", notJSON(err)
		}
		if name.String() != "resourceType" {
			if err := d.SkipValue(); err != nil {
				return "", notJSON(err)
			}
			continue
		}
		v, err := d.ReadToken()
		switch {
		case err != nil:
			return "", notJSON(err)
		case v.Kind() != '"':
			return "", notJSON(fmt.Errorf("resourceType is %s, not a string", v.Kind()))
		case v.String() == "":
			return "", fmt.Errorf("%w: resourceType is missing", stu3.ErrUnknownResourceType)
		}
		return v.String(), nil
	}
	if _, err := d.ReadToken(); err != nil { // the object's end, or a syntax error
		return "", notJSON(err)
	}
	return "", fmt.Errorf("%w: resourceType is missing", stu3.ErrUnknownResourceType)
}

func notJSON(err error) error {
	if err == nil {
		return fmt.Errorf("stu3: not a JSON resource: not an object")
	}
	return fmt.Errorf("stu3: not a JSON resource: %w", err)
}

// decodeAs decodes raw into v, a resource of type want, after checking
// raw's resourceType.
func decodeAs(raw []byte, want string, v any) error {
	got, err := resourceTypeOf(raw)
	if err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("resourceType %s, want %s", got, want)
	}
	return unmarshal(raw, v)
}
