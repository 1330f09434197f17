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
	w := &walker{d: newTokens(raw)}
	if err := w.walk(reflect.TypeOf(v)); err != nil {
		return nil, fmt.Errorf("stu3: not JSON: %w", err)
	}
	sort.Strings(w.out)
	return w.out, nil
}

var rawMessageType = reflect.TypeFor[json.RawMessage]()

// newTokens reads raw as encoding/json would: duplicate names and invalid
// UTF-8 allowed.
func newTokens(raw []byte) *jsontext.Decoder {
	return jsontext.NewDecoder(bytes.NewReader(raw), jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true))
}

// walker reads a JSON value against a Go type. path is where it is, built
// in place (a string is made only for an element reported), name the
// member name last read.
type walker struct {
	d    *jsontext.Decoder
	path []byte
	name []byte
	out  []string
}

// walk reads the next value, of Go type t, and reports the elements in it
// that t does not have.
func (w *walker) walk(t reflect.Type) error {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	k := w.d.PeekKind()
	switch {
	case t == nil || k != '{' && k != '[':
		return w.d.SkipValue() // only an object or an array can hold an element
	case t == rawMessageType:
		return w.walkRaw()
	}
	switch t.Kind() {
	case reflect.Slice:
		if k == '{' { // lenient: one object for an array
			return w.walk(t.Elem())
		}
		return w.walkArray(t.Elem())
	case reflect.Struct:
		if k == '[' { // lenient: an array for a 0..1 object
			return w.walkArray(t)
		}
		fields := jsonFields(t)
		return w.walkObject(func(name []byte) (reflect.Type, bool) {
			ft, ok := fields[string(name)]
			return ft, ok
		})
	case reflect.Map:
		if k == '{' {
			return w.walkObject(func([]byte) (reflect.Type, bool) { return t.Elem(), true })
		}
	}
	return w.d.SkipValue()
}

// walkArray walks each element of the next value, an array, as a t.
func (w *walker) walkArray(t reflect.Type) error {
	if _, err := w.d.ReadToken(); err != nil {
		return err
	}
	n := len(w.path)
	for i := 0; w.d.PeekKind() != ']'; i++ {
		w.path = strconv.AppendInt(append(w.path[:n], '['), int64(i), 10)
		w.path = append(w.path, ']')
		if err := w.walk(t); err != nil {
			return err
		}
	}
	w.path = w.path[:n]
	_, err := w.d.ReadToken()
	return err
}

// walkObject walks each member of the next value, an object: member says
// a name's type, or that the name is unknown (reported, not descended
// into).
func (w *walker) walkObject(member func(name []byte) (reflect.Type, bool)) error {
	if _, err := w.d.ReadToken(); err != nil {
		return err
	}
	n := len(w.path)
	for w.d.PeekKind() != '}' {
		raw, err := w.d.ReadValue()
		if err != nil {
			return err
		}
		// A name read whole is a valid string; unquoting only replaces
		// invalid UTF-8 by U+FFFD, as encoding/json does.
		w.name, _ = jsontext.AppendUnquote(w.name[:0], raw)
		if n > 0 {
			w.path = append(w.path, '.')
		}
		w.path = append(w.path, w.name...)
		t, ok := member(w.name)
		if !ok {
			w.out = append(w.out, string(w.path))
			t = nil
		}
		if err := w.walk(t); err != nil {
			return err
		}
		w.path = w.path[:n]
	}
	_, err := w.d.ReadToken()
	return err
}

// walkRaw walks a raw resource against its own type when its resourceType
// is one this package knows.
func (w *walker) walkRaw() error {
	v, err := w.d.ReadValue()
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
	d := w.d
	w.d = newTokens(v)
	defer func() { w.d = d }()
	return w.walk(t)
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
