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
func UnknownFields(raw []byte, v any) ([]string, error) {
	var tree any
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if err := d.Decode(&tree); err != nil {
		return nil, fmt.Errorf("stu3: not JSON: %w", err)
	}
	t := reflect.TypeOf(v)
	var out []string
	walk(tree, t, "", &out)
	sort.Strings(out)
	return out, nil
}

var rawMessageType = reflect.TypeFor[json.RawMessage]()

func walk(node any, t reflect.Type, path string, out *[]string) {
	if t == nil {
		return
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == rawMessageType {
		// A raw resource: check it against its own type when known.
		if obj, ok := node.(map[string]any); ok {
			if rt, ok := obj["resourceType"].(string); ok {
				if rtt, ok := registry[rt]; ok {
					walk(node, rtt, path, out)
				}
			}
		}
		return
	}
	switch t.Kind() {
	case reflect.Slice:
		switch n := node.(type) {
		case []any:
			for i, x := range n {
				if composite(x) {
					walk(x, t.Elem(), index(path, i), out)
				}
			}
		case map[string]any: // lenient: one object for an array
			walk(n, t.Elem(), path, out)
		}
	case reflect.Struct:
		switch n := node.(type) {
		case map[string]any:
			fields := jsonFields(t)
			for k, x := range n {
				ft, ok := fields[k]
				if !ok {
					*out = append(*out, join(path, k))
					continue
				}
				if composite(x) {
					walk(x, ft, join(path, k), out)
				}
			}
		case []any: // lenient: an array for a 0..1 object
			for i, x := range n {
				if composite(x) {
					walk(x, t, index(path, i), out)
				}
			}
		}
	case reflect.Map:
		if n, ok := node.(map[string]any); ok {
			for k, x := range n {
				if composite(x) {
					walk(x, t.Elem(), join(path, k), out)
				}
			}
		}
	}
}

// composite says whether node, a decoded JSON value, is an object or an
// array: only those can hold an unknown element, so walk builds no path
// for the rest.
func composite(node any) bool {
	switch node.(type) {
	case map[string]any, []any:
		return true
	}
	return false
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
