package consumer

import (
	"bytes"
	"errors"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/internal/stu3"
)

// entryReader reads one entry of a slot searchset straight off the
// decoder, token by token, keeping what slotResource holds and checking
// the rest as encoding/json v2 checks it when it decodes the entry into
// stu3.BundleEntry's elements and the resource into stu3's types (Slot,
// Schedule, Location, Practitioner): an element of another JSON kind than
// its type's (a number for a string, a string for a list, ...) does not
// decode, null is an absent element, a member the type does not name is
// skipped, a name in another case is such a member. The decoder itself
// refuses what v2 refuses as malformed JSON: a duplicate name, invalid
// UTF-8. TestSlotReaderLikeV2 holds it to the struct decoding it replaces
// (slots_v2ref_test.go), which took 10-28 % longer on the sandbox's 240 slots
// and read an answer twice when one entry did not decode (issue 15).
type entryReader struct {
	dec *jsontext.Decoder
	in  interner
	// bad is set by an element of the wrong kind.
	bad bool
}

// readEntry reads the entry at dec into r: ok is false when its resource
// does not decode (the entry is skipped); err is the decoder's error or,
// when one of the entry's own elements does not decode, errBadEntry.
func readEntry(dec *jsontext.Decoder, r *slotResource, in interner) (ok bool, err error) {
	w := entryReader{dec: dec, in: in}
	resourceBad := false
	err = w.object(func(name []byte) error {
		switch string(name) {
		case "fullUrl":
			return w.str(nil)
		case "search":
			return w.object(func(name []byte) error {
				if string(name) == "mode" {
					return w.str(nil)
				}
				return w.skip()
			})
		case "resource":
			outer := w.bad
			w.bad = false
			err := w.resource(r)
			resourceBad, w.bad = w.bad, outer
			return err
		}
		return w.skip()
	})
	switch {
	case err != nil:
		return false, err
	case w.bad:
		return false, errBadEntry
	}
	return !resourceBad, nil
}

// errBadEntry is an entry whose own elements do not decode.
var errBadEntry = errors.New("a searchset entry's own elements do not decode")

// resource reads into r the elements of a Slot, Schedule, Location or
// Practitioner the consumer uses, and checks the kind of the others of
// their types slotResource's view held (a reference's display, a coding);
// members the view does not name (meta, identifier, ...) are skipped, as
// v2 skipped them.
func (w *entryReader) resource(r *slotResource) error {
	return w.object(func(name []byte) error {
		switch string(name) {
		case "resourceType":
			return w.shared(&r.ResourceType)
		case "id":
			return w.str(&r.ID)
		case "status":
			return w.shared(&r.Status)
		case "start":
			return w.str(&r.Start)
		case "end":
			return w.str(&r.End)
		case "schedule":
			return w.reference(&r.Schedule.Reference)
		case "serviceType":
			first := true
			return w.array(func() error {
				text := (*string)(nil)
				if first {
					text, first = &r.SlotType, false
				}
				return w.codeableConcept(text)
			})
		case "extension":
			found := false
			return w.array(func() error {
				var channel bool
				var code string
				if err := w.extension(&channel, &code); err != nil {
					return err
				}
				if channel && !found {
					r.Channel, found = code, true
				}
				return nil
			})
		case "actor":
			return w.array(func() error {
				var ref string
				if err := w.reference(&ref); err != nil {
					return err
				}
				r.Actor = append(r.Actor, stu3.Reference{Reference: ref})
				return nil
			})
		case "serviceCategory":
			return w.codeableConcept(&r.Category)
		case "name":
			// slotName takes any JSON value and never fails.
			v, err := w.dec.ReadValue()
			if err != nil {
				return err
			}
			return r.Name.UnmarshalJSON(v)
		}
		return w.skip()
	})
}

// reference reads a Reference, its reference into ref when ref is not nil.
func (w *entryReader) reference(ref *string) error {
	return w.object(func(name []byte) error {
		switch string(name) {
		case "reference":
			return w.shared(ref)
		case "display":
			return w.str(nil)
		}
		return w.skip()
	})
}

// codeableConcept reads a CodeableConcept, its text into text when text
// is not nil.
func (w *entryReader) codeableConcept(text *string) error {
	return w.object(func(name []byte) error {
		switch string(name) {
		case "text":
			return w.shared(text)
		case "coding":
			return w.array(w.coding)
		}
		return w.skip()
	})
}

func (w *entryReader) coding() error {
	return w.object(func(name []byte) error {
		switch string(name) {
		case "system", "version", "code", "display":
			return w.str(nil)
		}
		return w.skip()
	})
}

func (w *entryReader) period() error {
	return w.object(func(name []byte) error {
		switch string(name) {
		case "start", "end":
			return w.str(nil)
		}
		return w.skip()
	})
}

// extension reads an Extension: whether its url is the delivery channel's
// into channel, its valueCode into code, when they are not nil.
func (w *entryReader) extension(channel *bool, code *string) error {
	return w.object(func(name []byte) error {
		switch string(name) {
		case "url":
			return w.url(channel)
		case "valueCode":
			return w.shared(code)
		case "valueString", "valueDateTime":
			return w.str(nil)
		case "valueBoolean":
			return w.boolean()
		case "valueReference":
			return w.reference(nil)
		case "valueCodeableConcept":
			return w.codeableConcept(nil)
		case "valuePeriod":
			return w.period()
		case "extension":
			return w.array(func() error { return w.extension(nil, nil) })
		}
		return w.skip()
	})
}

// object reads an object, calling member with each member's name (valid
// until the next read) with the decoder at its value, which member must
// read. null is an absent element; another kind is one that does not
// decode, and is skipped.
func (w *entryReader) object(member func(name []byte) error) error {
	if ok, err := w.enter('{'); !ok {
		return err
	}
	for w.dec.PeekKind() != '}' {
		name, err := w.name()
		if err != nil {
			return err
		}
		if err := member(name); err != nil {
			return err
		}
	}
	_, err := w.dec.ReadToken()
	return err
}

// array reads a list, calling elem with the decoder at each element,
// which elem must read; null is an absent list, another kind one that
// does not decode.
func (w *entryReader) array(elem func() error) error {
	if ok, err := w.enter('['); !ok {
		return err
	}
	for w.dec.PeekKind() != ']' {
		if err := elem(); err != nil {
			return err
		}
	}
	_, err := w.dec.ReadToken()
	return err
}

// enter reads the start of an object or list (open is '{' or '['): false
// when the element is null (absent) or of another kind (it does not
// decode: w is bad), either of them skipped.
func (w *entryReader) enter(open jsontext.Kind) (bool, error) {
	switch w.dec.PeekKind() {
	case open:
		_, err := w.dec.ReadToken()
		return err == nil, err
	case 'n':
	default:
		w.bad = true
	}
	return false, w.skip()
}

// name reads a member's name, unquoted: the decoder's own bytes unless it
// holds an escape.
func (w *entryReader) name() ([]byte, error) {
	v, err := w.dec.ReadValue()
	if err != nil {
		return nil, err
	}
	return unquoteValue(v)
}

// str reads a string element into s when s is not nil; null leaves it
// empty.
func (w *entryReader) str(s *string) error {
	b, err := w.strBytes(s != nil)
	if b != nil {
		*s = string(b)
	}
	return err
}

// shared is str for a value many entries share (a resource type, a
// status, a reference): one string for all of them.
func (w *entryReader) shared(s *string) error {
	b, err := w.strBytes(s != nil)
	if b != nil {
		*s = w.in.get(b)
	}
	return err
}

// url reads the url element of an extension: whether it is the delivery
// channel's into channel, when channel is not nil.
func (w *entryReader) url(channel *bool) error {
	b, err := w.strBytes(channel != nil)
	if b != nil {
		*channel = string(b) == gpc.ExtDeliveryChannel
	}
	return err
}

// strBytes reads a string element and, with want, returns it unquoted
// (valid until the next read); null and the wrong kind return nil, the
// wrong kind marking w bad.
func (w *entryReader) strBytes(want bool) ([]byte, error) {
	v, err := w.dec.ReadValue()
	if err != nil {
		return nil, err
	}
	switch v.Kind() {
	case '"':
		if want {
			return unquoteValue(v)
		}
	case 'n':
	default:
		w.bad = true
	}
	return nil, nil
}

// boolean reads a boolean element (or null).
func (w *entryReader) boolean() error {
	v, err := w.dec.ReadValue()
	if err != nil {
		return err
	}
	if k := v.Kind(); k != 't' && k != 'f' && k != 'n' {
		w.bad = true
	}
	return nil
}

func (w *entryReader) skip() error { return w.dec.SkipValue() }

// interner hands out one string for the same bytes met again, up to
// maxInterned strings of at most maxInternedLen bytes (a searchset's
// statuses, references and types repeat; its ids and times do not, and are
// read with str).
type interner map[string]string

const (
	maxInterned    = 256
	maxInternedLen = 128
)

func (in interner) get(b []byte) string {
	if s, ok := in[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(in) < maxInterned && len(b) <= maxInternedLen {
		in[s] = s
	}
	return s
}

// unquoteValue is the string v (a JSON string as the decoder read it)
// unquoted: v's own bytes without the quotes when it holds no escape.
func unquoteValue(v jsontext.Value) ([]byte, error) {
	if len(v) >= 2 && bytes.IndexByte(v[1:len(v)-1], '\\') < 0 {
		return v[1 : len(v)-1], nil
	}
	return jsontext.AppendUnquote(nil, v)
}
