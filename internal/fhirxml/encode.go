package fhirxml

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
)

// JSONToXML converts one FHIR JSON resource to FHIR XML: the resource's
// name as the root element in the FHIR namespace, primitives as value
// attributes (with the id and extensions of a "_name" sibling), arrays as
// repeated elements, inline resources wrapped in an element named by their
// resourceType, Narrative div as XHTML, and elements in definition order
// (elements internal/stu3 does not know come after the known ones, sorted
// by name).
func JSONToXML(body []byte) ([]byte, error) {
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, fmt.Errorf("fhirxml: not JSON: %w", err)
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, errors.New("fhirxml: data after the JSON resource")
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("fhirxml: the JSON is not an object")
	}
	w := &writer{}
	w.b.Grow(len(body) * 2)
	if err := w.resource(obj, true); err != nil {
		return nil, err
	}
	return w.b.Bytes(), nil
}

type writer struct {
	b     bytes.Buffer
	depth int
}

func (w *writer) resource(obj map[string]any, root bool) error {
	rt, _ := obj["resourceType"].(string)
	if !isName(rt) {
		return fmt.Errorf("fhirxml: resourceType %q is not a resource name", rt)
	}
	w.b.WriteByte('<')
	w.b.WriteString(rt)
	if root {
		w.b.WriteString(` xmlns="` + Namespace + `"`)
	}
	w.b.WriteByte('>')
	if err := w.members(obj, resourceSchema(rt), true, false); err != nil {
		return err
	}
	w.b.WriteString("</" + rt + ">")
	return nil
}

// members writes obj's elements: those of c in definition order, then any
// c does not know, sorted. In a datatype id (and, in an Extension, url) is
// an attribute and was written with the start tag.
func (w *writer) members(obj map[string]any, c *complexType, isResource, urlAttr bool) error {
	w.depth++
	defer func() { w.depth-- }()
	if w.depth > maxDepth {
		return errTooDeep
	}
	done := map[string]bool{"resourceType": true}
	if !isResource {
		done["id"] = true
		if urlAttr {
			done["url"] = true
		}
	}
	if c != nil {
		for _, e := range c.elems {
			if done[e.name] {
				continue
			}
			v, ok := obj[e.name]
			ext, extOK := obj["_"+e.name]
			done[e.name], done["_"+e.name] = true, true
			if !ok && !extOK {
				continue
			}
			if err := w.elem(e.name, e, v, ext); err != nil {
				return err
			}
		}
	}
	var rest []string
	for k := range obj {
		if done[k] {
			continue
		}
		if name, ok := strings.CutPrefix(k, "_"); ok {
			if _, has := obj[name]; has {
				continue // written with name
			}
			k = name
		}
		rest = append(rest, k)
	}
	sort.Strings(rest)
	for i, k := range rest {
		if i > 0 && rest[i-1] == k {
			continue
		}
		if !isName(k) {
			return fmt.Errorf("fhirxml: %q is not an element name", k)
		}
		if err := w.elem(k, nil, obj[k], obj["_"+k]); err != nil {
			return err
		}
	}
	return nil
}

// elem writes element name once per value: an array repeats it, and its
// "_name" sibling array gives each occurrence its id and extensions.
func (w *writer) elem(name string, e *elem, v, ext any) error {
	vs, many := v.([]any)
	exts, extMany := ext.([]any)
	if !many && !extMany {
		return w.one(name, e, v, ext)
	}
	if !many && v != nil {
		vs = []any{v} // a single value beside an array of "_name": one occurrence
	}
	n := max(len(vs), len(exts))
	for i := range n {
		var x, xe any
		if i < len(vs) {
			x = vs[i]
		}
		if i < len(exts) {
			xe = exts[i]
		}
		if err := w.one(name, e, x, xe); err != nil {
			return err
		}
	}
	return nil
}

func (w *writer) one(name string, e *elem, v, ext any) error {
	switch x := v.(type) {
	case map[string]any:
		_, hasType := x["resourceType"].(string)
		if (e != nil && e.kind == kindResource) || (e == nil && hasType) {
			w.b.WriteString("<" + name + ">")
			w.depth++
			defer func() { w.depth-- }()
			if w.depth > maxDepth {
				return errTooDeep
			}
			if err := w.resource(x, false); err != nil {
				return err
			}
			w.b.WriteString("</" + name + ">")
			return nil
		}
		var c *complexType
		if e != nil {
			c = e.typ
		}
		urlAttr := (c != nil && c.urlAttr) || name == "extension" || name == "modifierExtension"
		w.b.WriteString("<" + name)
		if id, ok := x["id"]; ok {
			if err := w.attr("id", id); err != nil {
				return err
			}
		}
		if u, ok := x["url"]; ok && urlAttr {
			if err := w.attr("url", u); err != nil {
				return err
			}
		}
		w.b.WriteByte('>')
		if err := w.members(x, c, false, urlAttr); err != nil {
			return err
		}
		w.b.WriteString("</" + name + ">")
		return nil
	case []any:
		return fmt.Errorf("fhirxml: %s: an array inside an array", name)
	}
	if s, ok := v.(string); ok && name == "div" {
		return w.xhtml(s)
	}
	// A primitive (or null, when only its "_name" sibling has content).
	w.b.WriteString("<" + name)
	var extObj map[string]any
	if ext != nil {
		var ok bool
		if extObj, ok = ext.(map[string]any); !ok {
			return fmt.Errorf("fhirxml: _%s is not an object", name)
		}
		if id, ok := extObj["id"]; ok {
			if err := w.attr("id", id); err != nil {
				return err
			}
		}
	}
	if v != nil {
		if err := w.attr("value", v); err != nil {
			return fmt.Errorf("fhirxml: %s: %w", name, err)
		}
	}
	exts, _ := extObj["extension"].([]any)
	if len(exts) == 0 {
		w.b.WriteString("/>")
		return nil
	}
	w.b.WriteByte('>')
	w.depth++
	defer func() { w.depth-- }()
	if err := w.elem("extension", extensionElem, exts, nil); err != nil {
		return err
	}
	w.b.WriteString("</" + name + ">")
	return nil
}

// extensionElem is the schema of a primitive's extensions.
var extensionElem = &elem{name: "extension", kind: kindComplex, repeats: true}

func (w *writer) attr(name string, v any) error {
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case json.Number:
		s = x.String()
	case bool:
		s = "false"
		if x {
			s = "true"
		}
	default:
		return fmt.Errorf("fhirxml: %s is not a primitive value", name)
	}
	w.b.WriteString(" " + name + `="`)
	_ = xml.EscapeText(&w.b, []byte(s))
	w.b.WriteByte('"')
	return nil
}

// xhtml writes a Narrative div as XHTML (xml.html "narrative"): it must be
// one well-formed div element; the XHTML namespace is declared on it.
func (w *writer) xhtml(s string) error {
	d := xml.NewDecoder(strings.NewReader(s))
	d.Strict = true
	var stack []string
	started := false
	for {
		tok, err := d.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("fhirxml: div is not XHTML: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if len(stack) == 0 && (started || t.Name.Local != "div" || t.Name.Space != "") {
				return errors.New("fhirxml: a narrative must be one <div> element")
			}
			started = true
			if len(stack) >= maxDepth {
				return errTooDeep
			}
			qn := qname(t.Name)
			stack = append(stack, qn)
			w.b.WriteString("<" + qn)
			hasNS := false
			for _, a := range t.Attr {
				if a.Name.Space == "" && a.Name.Local == "xmlns" {
					if len(stack) == 1 {
						hasNS = true
						if a.Value != xhtmlNamespace {
							return errors.New("fhirxml: div is not in the XHTML namespace")
						}
					}
				}
				w.b.WriteString(" " + qname(a.Name) + `="`)
				_ = xml.EscapeText(&w.b, []byte(a.Value))
				w.b.WriteByte('"')
			}
			if len(stack) == 1 && !hasNS {
				w.b.WriteString(` xmlns="` + xhtmlNamespace + `"`)
			}
			w.b.WriteByte('>')
		case xml.EndElement:
			if len(stack) == 0 || stack[len(stack)-1] != qname(t.Name) {
				return errors.New("fhirxml: div is not well-formed XHTML")
			}
			stack = stack[:len(stack)-1]
			w.b.WriteString("</" + qname(t.Name) + ">")
		case xml.CharData:
			if len(stack) == 0 {
				if len(bytes.TrimSpace(t)) > 0 {
					return errors.New("fhirxml: text outside the narrative's div")
				}
				continue
			}
			_ = xml.EscapeText(&w.b, t)
		case xml.Comment:
		default:
			return errors.New("fhirxml: a narrative may hold only XHTML elements and text")
		}
	}
	if !started || len(stack) != 0 {
		return errors.New("fhirxml: div is not well-formed XHTML")
	}
	return nil
}

func qname(n xml.Name) string {
	if n.Space == "" {
		return n.Local
	}
	return n.Space + ":" + n.Local
}

// isName reports whether s is a FHIR element or resource name, so it can
// be written as an XML name as it is.
func isName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
		case (r >= '0' && r <= '9' || r == '_' || r == '-') && i > 0:
		default:
			return false
		}
	}
	return true
}
