package scenario

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/spine-sandbox/spine-sandbox/internal/suggest"
)

// Problem is one mistake in a scenario file, where it was written.
type Problem struct {
	File         string
	Line, Column int
	Message      string
}

// String formats p as "file:line:col: message", the form editors jump to.
func (p Problem) String() string {
	return fmt.Sprintf("%s:%d:%d: %s", p.File, p.Line, p.Column, p.Message)
}

// LoadError lists every problem found in a scenario file, in file order.
type LoadError struct {
	Problems []Problem
}

// Error prints one "file:line:col: message" per line.
func (e *LoadError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Pos is a line and column in a scenario file (1-based).
type Pos struct{ Line, Column int }

// At records where a mapping was written and where each of its keys' values
// starts, so checks that run after decoding (cross references, ordering)
// still point at the right place. The decoder fills it.
type At struct {
	Pos
	file string
	keys map[string]Pos
	// items holds where each element of a list of scalars starts, by key,
	// so a problem with one name of a list points at that name.
	items map[string][]Pos
	// broken marks keys whose value did not decode (its problem is
	// reported) or that are required and missing: checks that span values
	// skip them instead of reporting a second, derived problem.
	broken map[string]bool
	// unknown is true when the mapping had a key that is not the schema's
	// (perhaps a misspelt one) or a key twice.
	unknown bool
	// decoded is true when the value was a mapping the decoder read; the
	// zero At of a value that was not (a list where a mapping belongs) is
	// sound for nothing.
	decoded bool
}

// Of returns the position of key's value, or of the mapping when the key
// is absent.
func (a At) Of(key string) Pos {
	if p, ok := a.keys[key]; ok {
		return p
	}
	return a.Pos
}

// Item returns the position of element i of the list at key, or of the
// key's value when it was not a list of scalars.
func (a At) Item(key string, i int) Pos {
	if ps := a.items[key]; i >= 0 && i < len(ps) {
		return ps[i]
	}
	return a.Of(key)
}

// sound reports whether the mapping decoded and each of keys decoded
// without a problem: the values a cross-reference check may trust. A
// scenario built in code (not decoded) is never sound, but such a
// scenario is not validated either.
func (a At) sound(keys ...string) bool {
	if !a.decoded {
		return false
	}
	for _, k := range keys {
		if a.broken[k] {
			return false
		}
	}
	return true
}

// nodeDecoder is implemented by value types that read themselves from a
// node, reporting their own problems (NHS numbers, dates, durations...).
type nodeDecoder interface {
	decodeNode(d *decoder, n *yaml.Node, where string)
}

// decoder walks a YAML tree against the schema types, collecting problems.
type decoder struct {
	file     string
	problems []Problem
	// now is the load's clock reading: relative dates are ordered
	// against it. base is the world extends: builtin starts from (nil
	// when loading the built-in world itself).
	now  time.Time
	base func() *Scenario
	// visits counts the values decoded, aliases once per use; past budget
	// (the document's own nodes plus aliasBudget) decoding stops with one
	// problem, overBudget, so nested aliases cannot multiply the work.
	visits, budget int
	overBudget     bool
}

func (d *decoder) errorf(n *yaml.Node, format string, args ...any) {
	d.problems = append(d.problems, Problem{d.file, n.Line, n.Column, fmt.Sprintf(format, args...)})
}

// errorAt reports a problem at the value of key in the mapping a (at the
// mapping itself when key is "" or absent), in the file a came from.
//
// It is how the checks that span values report, and it keeps a problem
// already reported from being reported again in another form: nothing is
// reported about a value that did not decode (key broken) or about a
// mapping that was not one. A problem with the mapping as a whole ("needs
// end or length", "does nothing") is wholeAt's, which names the keys it
// depends on; with key "" here any value that did not decode, or an
// unknown key, silences it.
func (d *decoder) errorAt(a At, key string, format string, args ...any) {
	if !a.decoded || a.broken[key] || (key == "" && (a.unknown || len(a.broken) > 0)) {
		return
	}
	d.report(a, key, format, args...)
}

// wholeAt reports a problem with the mapping a as a whole, made of the
// values of deps ("needs end or length"), unless one of those did not
// decode or the mapping has an unknown key, which may be the one meant.
func (d *decoder) wholeAt(a At, deps []string, format string, args ...any) {
	if !a.sound(deps...) || a.unknown {
		return
	}
	d.report(a, "", format, args...)
}

func (d *decoder) report(a At, key string, format string, args ...any) {
	p, file := a.Of(key), a.file
	if file == "" {
		file = d.file
	}
	d.problems = append(d.problems, Problem{file, p.Line, p.Column, fmt.Sprintf(format, args...)})
}

var (
	atType          = reflect.TypeFor[At]()
	nodeDecoderType = reflect.TypeFor[nodeDecoder]()
	enumType        = reflect.TypeFor[Enum]()
)

// kind describes a node for messages: "a mapping", "a list", "the string "x"".
func kind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if isNull(n) {
			return "nothing"
		}
		return strconv.Quote(n.Value)
	}
	return "an unexpected YAML node"
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

func resolve(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// scalar returns n's text when it is a scalar, reporting a problem naming
// what was expected otherwise. NHS numbers and ASIDs are read this way, so
// an unquoted 0123 keeps its leading zero.
func (d *decoder) scalar(n *yaml.Node, want string) (string, bool) {
	if n.Kind != yaml.ScalarNode {
		d.errorf(n, "expected %s, got %s", want, kind(n))
		return "", false
	}
	return n.Value, true
}

// decode fills v from n. where names the value in messages; enum holds the
// allowed values of an Enum field (from its struct tag).
func (d *decoder) decode(n *yaml.Node, v reflect.Value, where string, enum []string) {
	if d.visits++; d.budget > 0 && d.visits > d.budget {
		if !d.overBudget {
			d.overBudget = true
			d.errorf(n, "%s: the YAML aliases expand to more than %s values; write the values out or alias less", where, thousands(d.budget))
		}
		return
	}
	n = resolve(n)
	if v.CanAddr() && v.Addr().Type().Implements(nodeDecoderType) {
		if isNull(n) {
			return
		}
		v.Addr().Interface().(nodeDecoder).decodeNode(d, n, where)
		return
	}
	if v.Type() == enumType {
		if isNull(n) {
			return
		}
		s, ok := d.scalar(n, "one of "+strings.Join(enum, ", "))
		if !ok {
			return
		}
		if !slices.Contains(enum, s) {
			d.errorf(n, "%s: %q is not one of %s", where, s, strings.Join(enum, ", "))
			return
		}
		v.SetString(s)
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if isNull(n) {
			return
		}
		p := reflect.New(v.Type().Elem())
		d.decode(n, p.Elem(), where, enum)
		v.Set(p)
	case reflect.Struct:
		d.decodeStruct(n, v, where)
	case reflect.Slice:
		if isNull(n) {
			return
		}
		if n.Kind != yaml.SequenceNode {
			d.errorf(n, "%s: expected a list, got %s", where, kind(n))
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, c := range n.Content {
			d.decode(c, s.Index(i), fmt.Sprintf("%s[%d]", where, i), enum)
		}
		v.Set(s)
	case reflect.String:
		if isNull(n) {
			return
		}
		s, ok := d.scalar(n, where+": a string")
		if ok {
			v.SetString(s)
		}
	case reflect.Int:
		if isNull(n) {
			return
		}
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
			d.errorf(n, "%s: expected a whole number, got %s", where, kind(n))
			return
		}
		i, err := strconv.ParseInt(n.Value, 0, 64)
		if err != nil {
			d.errorf(n, "%s: expected a whole number, got %s", where, kind(n))
			return
		}
		v.SetInt(i)
	case reflect.Bool:
		if isNull(n) {
			return
		}
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
			d.errorf(n, "%s: expected true or false, got %s", where, kind(n))
			return
		}
		v.SetBool(n.Value == "true" || n.Value == "True" || n.Value == "TRUE")
	default:
		panic("scenario: no decoder for " + v.Type().String())
	}
}

type field struct {
	key      string
	index    int
	required bool
	enum     []string
}

func fieldsOf(t reflect.Type) []field {
	var fs []field
	for i := range t.NumField() {
		sf := t.Field(i)
		key, _, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
		if key == "" || key == "-" {
			continue
		}
		f := field{key: key, index: i, required: sf.Tag.Get("scenario") == "required"}
		if e := sf.Tag.Get("enum"); e != "" {
			f.enum = strings.Split(e, ",")
		}
		fs = append(fs, f)
	}
	return fs
}

// decodeStruct reads a mapping into a schema struct: every key must be one
// of the struct's (STYLE.md lesson 12: unknown keys are errors), no key may
// repeat, and required keys must be present and not empty.
func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, where string) {
	fs := fieldsOf(v.Type())
	if n.Kind != yaml.MappingNode {
		d.errorf(n, "%s: expected a mapping, got %s", where, kind(n))
		return
	}
	at := At{Pos: Pos{n.Line, n.Column}, file: d.file, keys: map[string]Pos{}, decoded: true}
	// broken is made on the first key that needs it: most mappings decode
	// whole, and a file may hold a hundred thousand of them.
	breaks := func(key string) {
		if at.broken == nil {
			at.broken = map[string]bool{}
		}
		at.broken[key] = true
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], resolve(n.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			d.errorf(k, "%s: expected a key, got %s", where, kind(k))
			at.unknown = true
			continue
		}
		if k.Value == "<<" {
			d.errorf(k, "%s: merge keys (<<) are not supported", where)
			at.unknown = true
			continue
		}
		fi := slices.IndexFunc(fs, func(f field) bool { return f.key == k.Value })
		if fi < 0 {
			keys := make([]string, len(fs))
			for j, f := range fs {
				keys[j] = f.key
			}
			d.errorf(k, "%s: unknown key %q%s (known: %s)", where, k.Value, suggest.Hint(k.Value, keys), strings.Join(keys, ", "))
			at.unknown = true
			continue
		}
		if seen[k.Value] {
			d.errorf(k, "%s: key %q repeated", where, k.Value)
			at.unknown = true
			continue
		}
		seen[k.Value] = true
		f := fs[fi]
		if !isNull(val) {
			at.keys[f.key] = Pos{val.Line, val.Column}
		}
		if f.required && (isNull(val) || (val.Kind == yaml.ScalarNode && val.Value == "")) {
			d.errorf(val, "%s: %s must not be empty", where, f.key)
			breaks(f.key)
			continue
		}
		before := len(d.problems)
		d.decode(val, v.Field(f.index), where+"."+f.key, f.enum)
		if len(d.problems) > before || d.overBudget {
			breaks(f.key)
		}
		if val.Kind == yaml.SequenceNode && len(val.Content) > 0 && resolve(val.Content[0]).Kind == yaml.ScalarNode {
			if at.items == nil {
				at.items = map[string][]Pos{}
			}
			ps := make([]Pos, len(val.Content))
			for j, c := range val.Content {
				ps[j] = Pos{c.Line, c.Column}
			}
			at.items[f.key] = ps
		}
	}
	for _, f := range fs {
		if f.required && !seen[f.key] {
			d.errorf(n, "%s: missing required key %q", where, f.key)
			breaks(f.key)
		}
	}
	for i := range v.NumField() {
		if v.Field(i).Type() == atType {
			v.Field(i).Set(reflect.ValueOf(at))
		}
	}
}

func reflectValue(p any) reflect.Value { return reflect.ValueOf(p).Elem() }
