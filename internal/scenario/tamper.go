package scenario

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// Value is one named value of a set: a query parameter or header name and
// the values it is sent with (several for a repeated parameter).
type Value struct {
	Name   string
	Values []string
}

// Values is a mapping of names to a string or a list of strings, in the
// order written.
type Values []Value

func (x *Values) decodeNode(d *decoder, n *yaml.Node, where string) {
	if !d.entries(n, where, "name", strings.EqualFold, func(name string, _, v *yaml.Node) {
		val := Value{Name: name}
		switch v.Kind {
		case yaml.ScalarNode:
			val.Values = []string{v.Value}
		case yaml.SequenceNode:
			for _, c := range v.Content {
				if s, ok := d.scalar(resolve(c), where+"."+name+": a string"); ok {
					val.Values = append(val.Values, s)
				}
			}
			if len(v.Content) == 0 {
				d.errorf(v, "%s.%s: give at least one value (use del to remove it)", where, name)
			}
		default:
			d.errorf(v, "%s.%s: expected a string or a list of strings, got %s", where, name, kind(v))
		}
		*x = append(*x, val)
	}) {
		return
	}
	if *x == nil {
		*x = Values{}
	}
}

// entries calls f for each entry of the mapping n in the order written,
// with its key: a scalar, reported (as what: "name", "key") when it is not
// one, and reported when same says an earlier key was the same. It
// reports n and returns false when n is no mapping.
func (d *decoder) entries(n *yaml.Node, where, what string, same func(a, b string) bool, f func(key string, k, v *yaml.Node)) bool {
	if n.Kind != yaml.MappingNode {
		d.errorf(n, "%s: expected a mapping of %ss to values, got %s", where, what, kind(n))
		return false
	}
	var seen []string
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], resolve(n.Content[i+1])
		key, ok := d.scalar(k, where+": a "+what)
		if !ok {
			continue
		}
		if slices.ContainsFunc(seen, func(s string) bool { return same(s, key) }) {
			d.errorf(k, "%s: %q listed twice", where, key)
			continue
		}
		seen = append(seen, key)
		f(key, k, v)
	}
	return true
}

// JSONValue is one key (a claim name or a JSON Pointer) and the JSON it is
// set to.
type JSONValue struct {
	Key   string
	Value json.RawMessage
}

// JSONValues is a mapping of keys to YAML values, stored as JSON, in the
// order written.
type JSONValues []JSONValue

func (x *JSONValues) decodeNode(d *decoder, n *yaml.Node, where string) {
	equal := func(a, b string) bool { return a == b }
	if !d.entries(n, where, "key", equal, func(key string, _, v *yaml.Node) {
		var val any
		if err := v.Decode(&val); err != nil {
			d.errorf(v, "%s.%s: %v", where, key, err)
			return
		}
		b, err := json.Marshal(val)
		if err != nil {
			d.errorf(v, "%s.%s: value is not JSON-shaped (keys must be strings): %v", where, key, err)
			return
		}
		*x = append(*x, JSONValue{Key: key, Value: b})
	}) {
		return
	}
	if *x == nil {
		*x = JSONValues{}
	}
}

// PointerTokens splits a JSON Pointer (RFC 6901) into its unescaped
// reference tokens: "" is the whole document, "/a~1b/0" is ["a/b", "0"].
func PointerTokens(p string) ([]string, error) {
	if p == "" {
		return nil, nil
	}
	if !strings.HasPrefix(p, "/") {
		return nil, fmt.Errorf("JSON Pointer %q must start with / (or be empty for the whole document)", p)
	}
	toks := strings.Split(p[1:], "/")
	for i, t := range toks {
		for j := 0; j < len(t); j++ {
			if t[j] == '~' && (j+1 == len(t) || (t[j+1] != '0' && t[j+1] != '1')) {
				return nil, fmt.Errorf("JSON Pointer %q: ~ must be followed by 0 or 1 (RFC 6901 §3)", p)
			}
		}
		toks[i] = strings.ReplaceAll(strings.ReplaceAll(t, "~1", "/"), "~0", "~")
	}
	return toks, nil
}

// ClaimPointer is the JSON Pointer a JWT edit key names: a key starting
// with / is a pointer already; any other is a top-level claim name.
func ClaimPointer(key string) string {
	if strings.HasPrefix(key, "/") {
		return key
	}
	return "/" + strings.ReplaceAll(strings.ReplaceAll(key, "~", "~0"), "/", "~1")
}

// isToken reports whether s is an HTTP token (RFC 9110 §5.6.2): what a
// method or header name must be to go on the wire at all.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c > 126 || c <= 32 || strings.ContainsRune("\"(),/:;<=>?@[\\]{}", c) {
			return false
		}
	}
	return true
}

func (d *decoder) validateTamper(i int, t *Tamper) {
	where := fmt.Sprintf("run.tamper[%d]", i)
	switch t.Hop {
	case HopPDS, HopSDS:
		if t.Interaction != "" && !slices.Contains(hopInteractions[t.Hop], t.Interaction) {
			d.errorAt(t.At, "interaction", "%s: %s has no request %q (want %s or %s)", where, t.Hop, t.Interaction, hopInteractions[t.Hop][0], hopInteractions[t.Hop][1])
		}
		for _, k := range []struct {
			key string
			set bool
		}{{"target", t.ServiceRoot != ""}, {"jwt", t.JWT != nil}, {"reuse_trace_id", t.ReuseTraceID}, {"format", t.Format != ""}} {
			if k.set {
				d.errorAt(t.At, k.key, "%s: %s applies to ssp requests only", where, k.key)
			}
		}
	case HopSSP:
		if t.Interaction != "" {
			in, ok := ParseInteraction(t.Interaction)
			if !ok {
				d.errorAt(t.At, "interaction", "%s: unknown interaction %q%s (use a name such as \"book appointment\" or a URN)", where, t.Interaction, interactionHint(t.Interaction))
			}
			t.InteractionID = in
		}
	default:
		d.errorAt(t.At, "hop", "%s: the consumer sends nothing to %s directly; tamper with its requests to pds, sds or ssp", where, t.Hop)
	}
	if t.Times < 0 {
		d.errorAt(t.At, "times", "%s: times must not be negative", where)
	}
	if t.Method != "" && !isToken(t.Method) {
		d.errorAt(t.At, "method", "%s: method %q is not an HTTP token", where, t.Method)
	}
	if t.Path != "" && !strings.HasPrefix(t.Path, "/") {
		d.errorAt(t.At, "path", "%s: path %q must start with /", where, t.Path)
	}
	if t.Headers != nil {
		d.validateEdits(where+".headers", t.Headers, true)
		if t.ReuseTraceID && (slices.ContainsFunc(t.Headers.Set, func(v Value) bool { return strings.EqualFold(v.Name, "Ssp-TraceID") }) ||
			slices.ContainsFunc(t.Headers.Del, func(n string) bool { return strings.EqualFold(n, "Ssp-TraceID") })) {
			d.errorAt(t.At, "reuse_trace_id", "%s: reuse_trace_id and a headers edit of Ssp-TraceID contradict each other", where)
		}
	}
	if t.Query != nil {
		d.validateEdits(where+".query", t.Query, false)
	}
	if j := t.JWT; j != nil {
		for _, v := range j.Set {
			d.pointer(j.At, "set", where+".jwt.set", ClaimPointer(v.Key))
		}
		for _, k := range j.Del {
			d.pointer(j.At, "del", where+".jwt.del", ClaimPointer(k))
		}
		for _, v := range j.Header {
			if strings.HasPrefix(v.Key, "/") {
				d.errorAt(j.At, "header", "%s.jwt.header: %q: header fields are plain names", where, v.Key)
			}
		}
		if len(j.Set) == 0 && len(j.Del) == 0 && len(j.Header) == 0 && j.Signature == nil {
			d.wholeAt(j.At, []string{"set", "del", "header", "signature"}, "%s.jwt: give set, del, header or signature", where)
		}
	}
	if b := t.Body; b != nil {
		for _, v := range b.Set {
			d.pointer(b.At, "set", where+".body.set", v.Key)
		}
		for _, k := range b.Del {
			if k == "" {
				d.errorAt(b.At, "del", "%s.body.del: the whole document cannot be deleted (set \"\" to replace it)", where)
				continue
			}
			d.pointer(b.At, "del", where+".body.del", k)
		}
		if len(b.Set) == 0 && len(b.Del) == 0 {
			d.wholeAt(b.At, []string{"set", "del"}, "%s.body: give set or del", where)
		}
	}
	if t.Format != "" && t.Format != "xml" {
		d.errorAt(t.At, "format", "%s: format %q: the only format a tamper can switch to is xml (the consumer speaks JSON)", where, t.Format)
	}
	if !t.ReuseTraceID && t.Headers == nil && t.ContentType == "" && t.JWT == nil && t.Method == "" &&
		t.ServiceRoot == "" && t.Path == "" && t.Query == nil && t.Body == nil && t.Format == "" {
		d.wholeAt(t.At, []string{"method", "target", "path", "query", "headers", "content_type", "jwt", "body", "format", "reuse_trace_id"}, "%s: the tamper changes nothing (give method, target, path, query, headers, content_type, jwt, body, format or reuse_trace_id)", where)
	}
}

func (d *decoder) pointer(at At, key, where, p string) {
	if _, err := PointerTokens(p); err != nil {
		d.errorAt(at, key, "%s: %v", where, err)
	}
}

func (d *decoder) validateEdits(where string, e *Edits, header bool) {
	for _, v := range e.Set {
		if header && !isToken(v.Name) {
			d.errorAt(e.At, "set", "%s.set: %q is not a header name", where, v.Name)
		}
		if v.Name == "" {
			d.errorAt(e.At, "set", "%s.set: a name must not be empty", where)
		}
	}
	for _, n := range e.Del {
		if n == "" {
			d.errorAt(e.At, "del", "%s.del: a name must not be empty", where)
		}
	}
	if len(e.Set) == 0 && len(e.Del) == 0 {
		d.wholeAt(e.At, []string{"set", "del"}, "%s: give set or del", where)
	}
}
