package consumer

import (
	"cmp"
	"errors"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/internal/stu3"
)

// The consumer's slot searchset reader as it was before entryReader
// (8840f17): every entry decoded by encoding/json v2 into a struct, read
// again entry by entry when one does not decode. It is kept as the
// reference TestSlotReaderLikeV2 and FuzzSlotReaderLikeV2 compare
// parseSlots with.

// v2ParseSlots reads a slot searchset. An entry whose resource does not
// decode is the provider's business and skipped, as an unknown resource
// is. The answer is read in one pass, each entry filed as it decodes
// (issue 15); v2 cannot go on after a semantic error in the stream (the
// decoder is left unusable), so an answer with an entry that does not
// decode is read again, each entry from its own bytes.
func v2ParseSlots(raw []byte) (*Slots, error) {
	b, err := v2DecodeSlots(raw, false)
	if err != nil {
		b, err = v2DecodeSlots(raw, true)
	}
	if err != nil || b.ResourceType != "Bundle" {
		return nil, errors.New("answer is not a Bundle")
	}
	return b.Entry.result(), nil
}

// v2SlotSearchset is a slot searchset: the Bundle's own elements as
// stu3.Bundle has them (so they are checked as before), the entries filed
// as they decode.
type v2SlotSearchset struct {
	stu3.Bundle
	Entry v2SlotIndex `json:"entry"`
}

// v2DecodeSlots decodes a slot searchset; careful, each entry is decoded
// from its own bytes and one whose resource does not decode is skipped,
// where otherwise it fails the decode.
func v2DecodeSlots(raw []byte, careful bool) (*v2SlotSearchset, error) {
	b := &v2SlotSearchset{Entry: v2SlotIndex{slotIndex: slotIndex{answer: raw, slots: make([]Slot, 0, slotsHint(raw))}, careful: careful}}
	if err := unmarshal(raw, b); err != nil {
		return nil, err
	}
	return b, nil
}

// v2SlotIndex is a slot searchset's entries as far as the consumer reads
// them, filed as each decodes so no list of all entries is kept: the free
// slots with their own elements, and what they refer to by id.
type v2SlotIndex struct {
	slotIndex // what it files (add), and result; its UnmarshalJSONFrom is v2SlotIndex's
	careful   bool
}

// v2SlotBundleEntry is one entry: its own elements as stu3.BundleEntry has
// them, its resource as a v2SlotResource.
type v2SlotBundleEntry struct {
	stu3.BundleEntry
	Resource v2SlotResource `json:"resource"`
}

// v2SlotResource is one resource of a slot searchset, as far as the
// consumer reads it: the elements it uses of Slot, Schedule, Location,
// Practitioner and Organization in one flat view. Its elements are values,
// not pointers, and its lists are reused from entry to entry (reset), so
// the common entry allocates only its strings; an absent or null element
// reads as empty, as the pointers' nil did.
type v2SlotResource struct {
	ResourceType    string                 `json:"resourceType"`
	ID              string                 `json:"id"`
	Status          string                 `json:"status"`
	Start           string                 `json:"start"`
	End             string                 `json:"end"`
	Schedule        stu3.Reference         `json:"schedule"`
	ServiceType     []stu3.CodeableConcept `json:"serviceType"`
	Extension       []stu3.Extension       `json:"extension"`
	Actor           []stu3.Reference       `json:"actor"`
	ServiceCategory stu3.CodeableConcept   `json:"serviceCategory"`
	Name            slotName               `json:"name"`
}

// reset empties r for the next entry, keeping its lists' room: v2 decodes
// a list into the room a slice has, zeroing each element first.
func (r *v2SlotResource) reset() {
	*r = v2SlotResource{ServiceType: r.ServiceType[:0], Extension: r.Extension[:0], Actor: r.Actor[:0]}
}

// UnmarshalJSONFrom decodes the entries one at a time into one reused
// v2SlotBundleEntry and files each.
func (x *v2SlotIndex) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	if dec.PeekKind() == 'n' {
		return dec.SkipValue()
	}
	if tok, err := dec.ReadToken(); err != nil || tok.Kind() != '[' {
		return cmp.Or(err, errors.New("entry is not a list"))
	}
	e := new(v2SlotBundleEntry)
	for dec.PeekKind() != ']' {
		e.BundleEntry = stu3.BundleEntry{}
		e.Resource.reset()
		raw, ok, err := x.next(dec, e)
		if err != nil {
			return err
		}
		if ok {
			f := e.Resource.flat()
			x.add(&f, raw)
		}
	}
	_, err := dec.ReadToken()
	return err
}

// next decodes the next entry into e and returns its bytes (with the
// separator before it when not careful); ok is false for an entry whose
// resource does not decode, which fails the decode unless careful. The
// entry's own elements must decode either way, as the Bundle's must.
func (x *v2SlotIndex) next(dec *jsontext.Decoder, e *v2SlotBundleEntry) (raw []byte, ok bool, err error) {
	if !x.careful {
		from := dec.InputOffset()
		if err := json.UnmarshalDecode(dec, e); err != nil {
			return nil, false, err
		}
		return x.answer[from:dec.InputOffset()], true, nil
	}
	if raw, err = dec.ReadValue(); err != nil {
		return nil, false, err
	}
	if unmarshal(raw, e) == nil {
		return raw, true, nil
	}
	return nil, false, unmarshal(raw, new(stu3.BundleEntry))
}

// flat is r as the entry reader reads it (slotResource), for slotIndex to
// file: the filing is shared, the reading is what the reference checks.
func (r *v2SlotResource) flat() slotResource {
	f := slotResource{ResourceType: r.ResourceType, ID: r.ID, Status: r.Status, Start: r.Start, End: r.End,
		Schedule: r.Schedule, Actor: r.Actor, Category: r.ServiceCategory.Text, Name: r.Name}
	if ext := stu3.FindExtension(r.Extension, gpc.ExtDeliveryChannel); ext != nil {
		f.Channel = ext.ValueCode
	}
	if len(r.ServiceType) > 0 {
		f.SlotType = r.ServiceType[0].Text
	}
	return f
}
