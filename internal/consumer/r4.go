package consumer

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/samply/golang-fhir-models/fhir-models/fhir"

	"github.com/spine-sandbox/spine-sandbox/internal/stu3"
)

// PDS and SDS answer in FHIR R4, which the consumer decodes with the R4
// models of github.com/samply/golang-fhir-models (fhir-models/fhir). Their
// sharp edges, and what the consumer does about each:
//
//   - They never check resourceType (the types have no such field):
//     decodeR4 reads it in the same pass and checks it, so an
//     OperationOutcome or a Bundle is not taken for a Patient.
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

// r4 is an R4 resource as the consumer decodes it: one pass reads the
// resourceType the model lacks and the model's elements, embedded.
type r4[T any] struct {
	ResourceType string `json:"resourceType"`
	Resource     T      `json:",embed"`
}

// The R4 models the consumer reads, as types of their own: the same
// elements without the models' MarshalJSON (which writes resourceType on
// the way out), since encoding/json v2 embeds only a struct without JSON
// methods. A *T converts to the model's pointer type.
type (
	r4Patient fhir.Patient
	r4Bundle  fhir.Bundle
)

// An SDS Endpoint or Device as the consumer reads it: the model's elements
// but its extensions, which are skipped unread. The consumer reads neither
// (the search matched the interaction and party key; the consumer reads
// the address and identifiers), and a Device lists every interaction of
// its system as an extension: decoding each into the model's Extension, a
// struct of every value[x], was a third of the SDS answers' decoding. An
// extension that is not valid R4 no longer makes its entry unusable.
type (
	r4Endpoint struct {
		fhirEndpoint
		Extension skipped `json:"extension"`
	}
	r4Device struct {
		fhirDevice
		Extension skipped `json:"extension"`
	}
	fhirEndpoint fhir.Endpoint
	fhirDevice   fhir.Device
)

// r4Searchset is an R4 Bundle whose entries' resources are decoded as
// T in the same pass (searchsetOf): the model's elements, its entries
// (shadowing the model's, whose resources stay raw) of a type of their
// own.
type (
	r4Searchset[T any] struct {
		r4Bundle
		Entry []r4SearchEntry[T] `json:"entry,omitempty"`
	}
	r4SearchEntry[T any] struct {
		fhirBundleEntry
		Resource *r4[T] `json:"resource,omitempty"`
	}
	fhirBundleEntry fhir.BundleEntry
)

// skipped is an element read past without decoding it.
type skipped struct{}

func (*skipped) UnmarshalJSONFrom(d *jsontext.Decoder) error { return d.SkipValue() }

// decodeR4 decodes raw, an R4 resource of type want, into a T.
func decodeR4[T any](raw []byte, want string) (*T, error) {
	var r r4[T]
	err := unmarshal(raw, &r)
	var syntax *jsontext.SyntacticError
	switch {
	case errors.As(err, &syntax) || err != nil && !bytes.HasPrefix(bytes.TrimLeft(raw, " \t\r\n"), []byte("{")):
		return nil, fmt.Errorf("stu3: not a JSON resource: %w", err)
	case r.ResourceType != "" && r.ResourceType != want:
		// Even when decoding failed: a resource of another type is why.
		return nil, fmt.Errorf("resourceType %s, want %s", r.ResourceType, want)
	case err != nil:
		return nil, err
	case r.ResourceType == "":
		return nil, fmt.Errorf("%w: resourceType is missing", stu3.ErrUnknownResourceType)
	}
	return &r.Resource, nil
}

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
