package fhirxml

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

const (
	// Namespace is FHIR's XML namespace.
	Namespace      = "http://hl7.org/fhir"
	xhtmlNamespace = "http://www.w3.org/1999/xhtml"

	// maxDepth bounds element nesting. The deepest GP Connect resource
	// (a searchset entry's Appointment with a contained Organization's
	// extension's CodeableConcept's coding) is about 12 levels.
	maxDepth = 64
	// maxElements bounds the elements of one document, so a body of
	// empty elements cannot make a tree many times its size.
	maxElements = 50_000
)

var errTooDeep = fmt.Errorf("fhirxml: elements nested deeper than %d", maxDepth)

// node is one element of the document as read.
type node struct {
	name     xml.Name
	attrs    []xml.Attr
	children []*node
	xhtml    []byte // a Narrative div, as written
}

func (n *node) attr(local string) (string, bool) {
	for _, a := range n.attrs {
		if a.Name.Space == "" && a.Name.Local == local {
			return a.Value, true
		}
	}
	return "", false
}

// XMLToJSON converts one FHIR XML resource to FHIR JSON, the inverse of
// JSONToXML. Whether an element repeats and what JSON kind a primitive has
// come from internal/stu3's types; an element they do not know becomes an
// array only when it occurs more than once, and its value a string. Values
// are not validated beyond that: an integer that is not a number stays a
// string, a second occurrence of a 0..1 element makes an array, so the JSON
// reader that follows judges the resource as it would the same JSON.
//
// It refuses, with an error, what is not FHIR XML: a document that is not
// well-formed, a DTD (no entity is ever expanded), a root outside the FHIR
// namespace, text where FHIR has attributes, unknown attributes, and
// nesting deeper than maxDepth.
func XMLToJSON(body []byte) ([]byte, error) {
	root, err := parse(body)
	if err != nil {
		return nil, err
	}
	if root.name.Space != Namespace {
		return nil, fmt.Errorf("fhirxml: root element <%s> is not in the FHIR namespace %s", root.name.Local, Namespace)
	}
	obj, err := toResource(root)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.Grow(len(body))
	writeJSON(&b, obj)
	return b.Bytes(), nil
}

// parse reads the document into a tree, checking what encoding/xml does
// not: no DTD, no text beside FHIR elements, the depth and element limits.
func parse(body []byte) (*node, error) {
	if t := bytes.TrimLeft(body, " \t\r\n"); len(t) > 0 && t[0] != '<' {
		return nil, errors.New("fhirxml: not XML: the body does not start with <")
	}
	d := xml.NewDecoder(bytes.NewReader(body))
	d.Strict = true
	var (
		root  *node
		stack []*node
		count int
	)
	for {
		start := d.InputOffset()
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("fhirxml: not well-formed XML: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if len(stack) >= maxDepth {
				return nil, errTooDeep
			}
			if count++; count > maxElements {
				return nil, fmt.Errorf("fhirxml: more than %d elements", maxElements)
			}
			n := &node{name: t.Name, attrs: t.Attr}
			switch {
			case root == nil:
				root = n
			case len(stack) == 0:
				return nil, errors.New("fhirxml: more than one root element")
			default:
				p := stack[len(stack)-1]
				p.children = append(p.children, n)
			}
			if t.Name.Space == xhtmlNamespace && t.Name.Local == "div" && len(stack) > 0 {
				end, err := skip(d, len(stack))
				if err != nil {
					return nil, err
				}
				n.xhtml = bytes.TrimSpace(body[start:end])
				continue
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1] // the decoder matched it
		case xml.CharData:
			if len(bytes.TrimSpace(t)) > 0 {
				return nil, errors.New("fhirxml: text content; FHIR XML puts values in value attributes")
			}
		case xml.Directive:
			return nil, errors.New("fhirxml: a DTD or other directive is not allowed in FHIR XML")
		case xml.ProcInst:
			if t.Target != "xml" || root != nil {
				return nil, fmt.Errorf("fhirxml: processing instruction <?%s?> is not allowed", t.Target)
			}
		case xml.Comment:
		}
	}
	if root == nil {
		return nil, errors.New("fhirxml: no root element")
	}
	return root, nil
}

// skip reads to the end of the element just started, at depth, without
// recursion, and returns the input offset after its end tag.
func skip(d *xml.Decoder, depth int) (int64, error) {
	open := 1
	for open > 0 {
		tok, err := d.Token()
		if err != nil {
			return 0, fmt.Errorf("fhirxml: not well-formed XML: %w", err)
		}
		switch tok.(type) {
		case xml.StartElement:
			if open++; depth+open > maxDepth {
				return 0, errTooDeep
			}
		case xml.EndElement:
			open--
		case xml.Directive:
			return 0, errors.New("fhirxml: a directive is not allowed in FHIR XML")
		}
	}
	return d.InputOffset(), nil
}

// object is a JSON object that keeps its members' order.
type object []member

type member struct {
	key string
	val any // string, json.Number, bool, nil, object, []any
}

func (o object) has(key string) bool {
	for _, m := range o {
		if m.key == key {
			return true
		}
	}
	return false
}

func toResource(n *node) (object, error) {
	if !isName(n.name.Local) {
		return nil, fmt.Errorf("fhirxml: <%s> is not a resource name", n.name.Local)
	}
	if err := checkAttrs(n); err != nil {
		return nil, err
	}
	obj := object{{"resourceType", n.name.Local}}
	return members(obj, n, resourceSchema(n.name.Local), false)
}

// checkAttrs refuses attributes FHIR XML does not have: id, url (an
// Extension's) and value are handled by the caller; namespace
// declarations are fine.
func checkAttrs(n *node, allowed ...string) error {
	for _, a := range n.attrs {
		if a.Name.Space == "xmlns" || a.Name.Space == "" && a.Name.Local == "xmlns" {
			continue
		}
		if a.Name.Space == "" && contains(allowed, a.Name.Local) {
			continue
		}
		return fmt.Errorf("fhirxml: <%s> has an attribute %s that FHIR XML does not define", n.name.Local, qname(a.Name))
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// members adds n's child elements to obj, grouped by name in the order
// they first occur.
func members(obj object, n *node, c *complexType, urlAttr bool) (object, error) {
	var order []string
	groups := map[string][]*node{}
	for _, ch := range n.children {
		if ch.xhtml == nil && ch.name.Space != Namespace {
			return nil, fmt.Errorf("fhirxml: <%s> is not in the FHIR namespace", ch.name.Local)
		}
		name := ch.name.Local
		if _, ok := groups[name]; !ok {
			order = append(order, name)
		}
		groups[name] = append(groups[name], ch)
	}
	for _, name := range order {
		if obj.has(name) || obj.has("_"+name) {
			return nil, fmt.Errorf("fhirxml: <%s> has %s both as an attribute and as an element", n.name.Local, name)
		}
		group := groups[name]
		e := c.lookup(name)
		repeats := len(group) > 1 || e != nil && e.repeats
		var vals, exts []any
		anyExt := false
		for _, ch := range group {
			v, ext, err := value(ch, e)
			if err != nil {
				return nil, err
			}
			vals, exts = append(vals, v), append(exts, ext)
			anyExt = anyExt || ext != nil
		}
		if repeats {
			obj = append(obj, member{name, vals})
			if anyExt {
				obj = append(obj, member{"_" + name, exts})
			}
			continue
		}
		if vals[0] != nil || exts[0] == nil {
			obj = append(obj, member{name, vals[0]})
		}
		if exts[0] != nil {
			obj = append(obj, member{"_" + name, exts[0]})
		}
	}
	return obj, nil
}

// value converts one element: a primitive gives its value and, when it has
// an id or extensions, the object of its "_name" sibling.
func value(n *node, e *elem) (v any, ext any, err error) {
	if n.xhtml != nil {
		return string(n.xhtml), nil, nil
	}
	name := n.name.Local
	k, known := kindString, e != nil
	if known {
		k = e.kind
	}
	_, hasValue := n.attr("value")
	if k == kindResource || !known && !hasValue && isWrapper(n) {
		if err := checkAttrs(n); err != nil {
			return nil, nil, err
		}
		if len(n.children) != 1 {
			return nil, nil, fmt.Errorf("fhirxml: <%s> must hold exactly one resource", name)
		}
		r, err := toResource(n.children[0])
		return r, nil, err
	}
	if known && k == kindComplex || !known && !hasValue {
		urlAttr := known && e.typ != nil && e.typ.urlAttr || name == "extension" || name == "modifierExtension"
		allowed := []string{"id"}
		if urlAttr {
			allowed = append(allowed, "url")
		}
		if err := checkAttrs(n, allowed...); err != nil {
			return nil, nil, err
		}
		obj := object{}
		for _, a := range allowed {
			if s, ok := n.attr(a); ok {
				obj = append(obj, member{a, s})
			}
		}
		var c *complexType
		if known {
			c = e.typ
		}
		o, err := members(obj, n, c, urlAttr)
		return o, nil, err
	}
	// A primitive: value and id attributes, extension children only.
	if err := checkAttrs(n, "id", "value"); err != nil {
		return nil, nil, err
	}
	if s, ok := n.attr("value"); ok {
		v = primitive(s, k)
	}
	var xo object
	if id, ok := n.attr("id"); ok {
		xo = append(xo, member{"id", id})
	}
	var xs []any
	for _, ch := range n.children {
		if ch.name.Local != "extension" || ch.xhtml != nil {
			return nil, nil, fmt.Errorf("fhirxml: primitive <%s> may hold only extensions, not <%s>", name, ch.name.Local)
		}
		x, _, err := value(ch, extensionElem)
		if err != nil {
			return nil, nil, err
		}
		xs = append(xs, x)
	}
	if len(xs) > 0 {
		xo = append(xo, member{"extension", xs})
	}
	if xo != nil {
		ext = xo
	}
	if !hasValue && xo == nil {
		return nil, nil, fmt.Errorf("fhirxml: primitive <%s> has no value, id or extension", name)
	}
	return v, ext, nil
}

// isWrapper reports whether n, an element the schema does not know, looks
// like one that holds a resource: one child, named like a resource.
func isWrapper(n *node) bool {
	if len(n.children) != 1 || len(n.attrs) > 0 {
		return false
	}
	c := n.children[0].name.Local
	return c != "" && c[0] >= 'A' && c[0] <= 'Z'
}

// primitive gives s its JSON kind; a value that does not fit the kind
// stays a string for the JSON reader to refuse.
func primitive(s string, k kind) any {
	switch k {
	case kindBool:
		switch s {
		case "true":
			return true
		case "false":
			return false
		}
	case kindNumber:
		if isJSONNumber(s) {
			return json.Number(s)
		}
	}
	return s
}

// isJSONNumber reports whether s is a number in JSON's grammar (FHIR's
// integer and decimal are subsets of it).
func isJSONNumber(s string) bool {
	if s == "" || s[0] != '-' && (s[0] < '0' || s[0] > '9') || strings.TrimSpace(s) != s {
		return false
	}
	var n json.Number
	return json.Unmarshal([]byte(s), &n) == nil
}

// writeJSON writes v compactly, keeping object member order.
func writeJSON(b *bytes.Buffer, v any) {
	switch x := v.(type) {
	case object:
		b.WriteByte('{')
		for i, m := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			writeString(b, m.key)
			b.WriteByte(':')
			writeJSON(b, m.val)
		}
		b.WriteByte('}')
	case []any:
		b.WriteByte('[')
		for i, y := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSON(b, y)
		}
		b.WriteByte(']')
	case string:
		writeString(b, x)
	case json.Number:
		b.WriteString(x.String())
	case bool:
		if x {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case nil:
		b.WriteString("null")
	}
}

func writeString(b *bytes.Buffer, s string) {
	q, _ := json.Marshal(s) // a string always encodes
	b.Write(q)
}

// AsJSON returns body as FHIR JSON when it is FHIR XML (its first
// non-space byte is '<' and it converts), and body itself otherwise: for
// readers of recorded answers, such as the journal's Spine code, that
// take either representation.
func AsJSON(body []byte) []byte {
	if t := bytes.TrimLeft(body, " \t\r\n"); len(t) == 0 || t[0] != '<' {
		return body
	}
	if j, err := XMLToJSON(body); err == nil {
		return j
	}
	return body
}
