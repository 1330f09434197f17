package fhirxml

import (
	"encoding/json"
	"reflect"
	"strings"
	"sync"

	"github.com/spine-sandbox/spine-sandbox/internal/stu3"
)

// kind is what an element is in FHIR's terms, which decides its XML form
// and, coming back, its JSON form.
type kind uint8

const (
	kindString   kind = iota // a primitive written as a JSON string
	kindNumber               // integer, decimal, positiveInt, unsignedInt: a JSON number
	kindBool                 // boolean: a JSON true/false
	kindComplex              // a datatype or backbone element
	kindResource             // a resource inline (contained, entry.resource, parameter.resource)
)

// elem is one element of a complex type, as the Go type of internal/stu3
// declares it.
type elem struct {
	name    string
	kind    kind
	repeats bool
	typ     *complexType // kindComplex only
}

// complexType lists a type's elements in FHIR definition order (the order
// of the Go struct's fields; TestDefinitionOrder holds them to the spec).
type complexType struct {
	elems  []*elem
	byName map[string]*elem
	// urlAttr is set for Extension: its url is an XML attribute
	// (xml.html "extension").
	urlAttr bool
}

func (c *complexType) lookup(name string) *elem {
	if c == nil {
		return nil
	}
	return c.byName[name]
}

var (
	rawMessage    = reflect.TypeFor[json.RawMessage]()
	extensionType = reflect.TypeFor[stu3.Extension]()
	jsonNumber    = reflect.TypeFor[json.Number]()

	schemaMu sync.Mutex
	types    = map[reflect.Type]*complexType{}
	// resources caches each resourceType's type; a nil entry is a
	// resourceType internal/stu3 does not know.
	resources = map[string]*complexType{}
)

// resourceSchema returns the schema of resourceType, or nil when
// internal/stu3 has no type for it (its elements are then converted by
// shape alone, see the package comment).
func resourceSchema(resourceType string) *complexType {
	schemaMu.Lock()
	defer schemaMu.Unlock()
	if c, ok := resources[resourceType]; ok {
		return c
	}
	var c *complexType
	if t, ok := stu3.TypeOf(resourceType); ok {
		c = build(t)
	}
	if len(resources) < 256 { // bounded: resourceType comes from the wire
		resources[resourceType] = c
	}
	return c
}

// build reads t's exported, JSON-tagged fields. Called with schemaMu held;
// a type is registered before its fields are read, so recursive types
// (Extension.extension, Parameter.part) end.
func build(t reflect.Type) *complexType {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if c, ok := types[t]; ok {
		return c
	}
	// A type is complete before resourceSchema returns it and is never
	// written again, so readers need no lock.
	c := &complexType{byName: map[string]*elem{}, urlAttr: t == extensionType}
	types[t] = c
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || name == "resourceType" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		e := &elem{name: name}
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Slice && ft != rawMessage {
			e.repeats = true
			ft = ft.Elem()
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
		}
		switch {
		case ft == rawMessage:
			e.kind = kindResource
		case ft == jsonNumber:
			e.kind = kindNumber
		case ft.Kind() == reflect.Struct && isResource(ft):
			e.kind = kindResource
		case ft.Kind() == reflect.Struct:
			e.kind = kindComplex
			e.typ = build(ft)
		case ft.Kind() == reflect.Bool:
			e.kind = kindBool
		case ft.Kind() >= reflect.Int && ft.Kind() <= reflect.Float64:
			e.kind = kindNumber
		default:
			e.kind = kindString
		}
		c.elems = append(c.elems, e)
		c.byName[name] = e
	}
	return c
}

// isResource reports whether t is a resource: it has a resourceType.
func isResource(t reflect.Type) bool {
	for i := range t.NumField() {
		if name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ","); name == "resourceType" {
			return true
		}
	}
	return false
}
