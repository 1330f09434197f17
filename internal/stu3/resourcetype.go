package stu3

import "reflect"

// TypeName is the resourceType element of resource R (the field type of
// every resource's ResourceType). Left empty, it encodes as R's Go type
// name, which is R's FHIR name ("Patient", "Bundle", ...), so building a
// resource needs no boilerplate and json.Marshal of a zero value still
// writes a valid resource.
//
// It is the one place resourceType gets its default. The resource types
// themselves have no MarshalJSON: encoding/json re-compacts and re-checks
// everything a MarshalJSON returns, so a wrapper per level made a searchset
// Bundle (hundreds of nested resources) scan its bytes three or four times.
// A MarshalText on this string-valued field costs one short string.
//
// Decoding takes any string, like a plain string field: DecodeResource
// chooses the type by resourceType before decoding (decode.go), and a
// caller that decodes into a type directly checks ResourceType == "Bundle"
// as before (an untyped constant compares with TypeName[R]).
type TypeName[R any] string

// MarshalText writes n, or R's resource name when n is empty.
func (n TypeName[R]) MarshalText() ([]byte, error) {
	if n == "" {
		return []byte(reflect.TypeFor[R]().Name()), nil
	}
	return []byte(n), nil
}
