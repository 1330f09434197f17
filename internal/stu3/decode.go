package stu3

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// registry maps each resourceType this package knows to its Go type.
var registry = map[string]reflect.Type{
	"Patient":             reflect.TypeFor[Patient](),
	"Organization":        reflect.TypeFor[Organization](),
	"Practitioner":        reflect.TypeFor[Practitioner](),
	"Location":            reflect.TypeFor[Location](),
	"Slot":                reflect.TypeFor[Slot](),
	"Schedule":            reflect.TypeFor[Schedule](),
	"Appointment":         reflect.TypeFor[Appointment](),
	"Bundle":              reflect.TypeFor[Bundle](),
	"Parameters":          reflect.TypeFor[Parameters](),
	"CapabilityStatement": reflect.TypeFor[CapabilityStatement](),
	"OperationOutcome":    reflect.TypeFor[OperationOutcome](),
}

// ErrUnknownResourceType is wrapped when a resourceType is missing or not
// one of this package's types.
var ErrUnknownResourceType = errors.New("stu3: unknown resourceType")

// DecodeResource decodes raw by its resourceType into a pointer to the
// matching type (*Patient, *Bundle, ...). It returns the resourceType it
// read even when it fails.
func DecodeResource(raw []byte) (resourceType string, v any, err error) {
	resourceType, err = ResourceTypeOf(raw)
	if err != nil {
		return "", nil, err
	}
	t, ok := registry[resourceType]
	if !ok {
		return resourceType, nil, fmt.Errorf("%w %q", ErrUnknownResourceType, resourceType)
	}
	p := reflect.New(t)
	if err := json.Unmarshal(raw, p.Interface()); err != nil {
		return resourceType, nil, fmt.Errorf("stu3: decoding %s: %w", resourceType, err)
	}
	return resourceType, p.Interface(), nil
}

// ResourceTypeOf returns the resourceType of a JSON resource.
func ResourceTypeOf(raw []byte) (string, error) {
	var head struct {
		ResourceType *string `json:"resourceType"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return "", fmt.Errorf("stu3: not a JSON resource: %w", err)
	}
	if head.ResourceType == nil || *head.ResourceType == "" {
		return "", fmt.Errorf("%w: resourceType is missing", ErrUnknownResourceType)
	}
	return *head.ResourceType, nil
}

// UnknownFields lists, sorted, the JSON paths of elements present in raw
// that v's type does not have, e.g. "reason" or "participant[1].type[0].x".
// v is a value or pointer of one of this package's types (only its type is
// used). It descends into arrays, objects, and raw resources
// (Bundle.entry.resource, Parameters.parameter.resource) whose resourceType
// it knows. It accepts the same lenient shapes the decoders do (an object
// where an array is due and vice versa). It returns an error only when raw
// is not JSON.
//
// It reads raw once as a stream of tokens, building nothing but the paths
// it reports (a generic tree of every value was most of a booking's
// decoding). It reads what encoding/json reads: duplicate names (every
// value of a repeated name is looked into: encoding/json's decoders would
// take the last, and the bytes are what was sent) and invalid UTF-8, whose
// bytes in a name become U+FFFD as encoding/json makes them.
func UnknownFields(raw []byte, v any) ([]string, error) {
	d := jsontext.NewDecoder(bytes.NewReader(raw), jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true))
	var out []string
	if err := walk(d, reflect.TypeOf(v), "", &out); err != nil {
		return nil, fmt.Errorf("stu3: not JSON: %w", err)
	}
	sort.Strings(out)
	return out, nil
}

var rawMessageType = reflect.TypeFor[json.RawMessage]()

// walk reads the next value of d, of Go type t, at path, and adds the paths
// of the elements in it that t does not have to out.
func walk(d *jsontext.Decoder, t reflect.Type, path string, out *[]string) error {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	k := d.PeekKind()
	switch {
	case t == nil || k != '{' && k != '[':
		return d.SkipValue() // only an object or an array can hold an element
	case t == rawMessageType:
		return walkRaw(d, path, out)
	}
	switch t.Kind() {
	case reflect.Slice:
		if k == '{' { // lenient: one object for an array
			return walk(d, t.Elem(), path, out)
		}
		return walkArray(d, t.Elem(), path, out)
	case reflect.Struct:
		if k == '[' { // lenient: an array for a 0..1 object
			return walkArray(d, t, path, out)
		}
		fields := jsonFields(t)
		return walkObject(d, func(name string) (reflect.Type, string, bool) {
			ft, ok := fields[name]
			return ft, join(path, name), ok
		}, out)
	case reflect.Map:
		if k == '{' {
			return walkObject(d, func(name string) (reflect.Type, string, bool) {
				return t.Elem(), join(path, name), true
			}, out)
		}
	}
	return d.SkipValue()
}

// walkArray walks each element of the array next in d as a t.
func walkArray(d *jsontext.Decoder, t reflect.Type, path string, out *[]string) error {
	if _, err := d.ReadToken(); err != nil {
		return err
	}
	for i := 0; d.PeekKind() != ']'; i++ {
		if err := walk(d, t, index(path, i), out); err != nil {
			return err
		}
	}
	_, err := d.ReadToken()
	return err
}

// walkObject walks each member of the object next in d: member says a
// name's type and path, or that the name is unknown (reported, not
// descended into).
func walkObject(d *jsontext.Decoder, member func(name string) (reflect.Type, string, bool), out *[]string) error {
	if _, err := d.ReadToken(); err != nil {
		return err
	}
	for d.PeekKind() != '}' {
		tok, err := d.ReadToken()
		if err != nil {
			return err
		}
		t, path, ok := member(validName(tok.String()))
		if !ok {
			*out = append(*out, path)
			t = nil
		}
		if err := walk(d, t, path, out); err != nil {
			return err
		}
	}
	_, err := d.ReadToken()
	return err
}

// walkRaw walks a raw resource against its own type when its resourceType
// is one this package knows.
func walkRaw(d *jsontext.Decoder, path string, out *[]string) error {
	v, err := d.ReadValue()
	if err != nil || v.Kind() != '{' {
		return err
	}
	var head struct {
		ResourceType jsontext.Value `json:"resourceType"`
	}
	// v was read whole, so it is JSON; resourceType is the last of its
	// name, as a map's would be.
	_ = jsonv2.Unmarshal(v, &head, jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true))
	if head.ResourceType.Kind() != '"' {
		return nil
	}
	rt, err := jsontext.AppendUnquote(nil, head.ResourceType)
	if err != nil {
		return nil
	}
	t, ok := registry[string(rt)]
	if !ok {
		return nil
	}
	return walk(jsontext.NewDecoder(bytes.NewReader(v), jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true)), t, path, out)
}

// validName is s with each byte that is not UTF-8 replaced by U+FFFD, as
// encoding/json decodes a string.
func validName(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for len(s) > 0 {
		r, n := utf8.DecodeRuneInString(s)
		if r == utf8.RuneError && n == 1 {
			b.WriteString("\uFFFD")
		} else {
			b.WriteString(s[:n])
		}
		s = s[n:]
	}
	return b.String()
}

func index(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// jsonFields maps the JSON names of t's exported fields to their types,
// worked out once per type.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	if m, ok := fieldsOf.Load(t); ok {
		return m.(map[string]reflect.Type)
	}
	m := fieldsFor(t)
	fieldsOf.Store(t, m)
	return m
}

// fieldsOf holds jsonFields' maps by type: a handful of this package's
// types, never changed once stored.
var fieldsOf sync.Map

func fieldsFor(t reflect.Type) map[string]reflect.Type {
	m := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		m[name] = f.Type
	}
	return m
}

// TypeOf returns the Go type of resourceType, for packages that read these
// types' shape (internal/fhirxml derives FHIR XML's element order,
// repetition and primitive kinds from it).
func TypeOf(resourceType string) (reflect.Type, bool) {
	t, ok := registry[resourceType]
	return t, ok
}
