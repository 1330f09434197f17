package consumer

import (
	"bytes"
	"cmp"
	"errors"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/spine-sandbox/spine-sandbox/internal/stu3"
)

// parseSlots reads a slot searchset in one pass: the Bundle's own
// elements decoded by encoding/json v2 as stu3.Bundle has them, each entry
// read straight off the decoder by an entryReader and filed as it is read
// (issue 15). An entry whose resource does not decode is the provider's
// business and skipped, as an unknown resource is; an entry whose own
// elements do not decode fails the answer.
func parseSlots(raw []byte) (*Slots, error) {
	b, err := decodeSlots(raw)
	if err != nil || b.ResourceType != "Bundle" {
		return nil, errors.New("answer is not a Bundle")
	}
	return b.Entry.result(), nil
}

// slotSearchset is a slot searchset: the Bundle's own elements as
// stu3.Bundle has them (so they are checked as before), the entries filed
// as they are read.
type slotSearchset struct {
	stu3.Bundle
	Entry slotIndex `json:"entry"`
}

// decodeSlots decodes a slot searchset.
func decodeSlots(raw []byte) (*slotSearchset, error) {
	b := &slotSearchset{Entry: slotIndex{answer: raw, slots: make([]Slot, 0, slotsHint(raw))}}
	if err := unmarshal(raw, b); err != nil {
		return nil, err
	}
	return b, nil
}

// maxSlotsHint bounds the room slotsHint makes (256 KiB of Slots), so a
// huge answer costs no more than that before its slots are read.
const maxSlotsHint = 1 << 10

// bytesPerSlot is about what one free slot takes of a searchset written
// compactly, its share of the included schedules, locations and
// practitioners with it (~470 bytes in the sandbox's own answers).
const bytesPerSlot = 448

// slotsHint is room for the slot list, from the answer's size (the
// sandbox's searchset has no total). A hint only: the list grows as it
// goes when there are more (two copies of a 240-slot list, 128 KiB,
// without it). Counting the Slot resources instead cost 3 % of a
// journey's CPU.
func slotsHint(raw []byte) int {
	return min(len(raw)/bytesPerSlot, maxSlotsHint)
}

// slotIndex is a slot searchset's entries as far as the consumer reads
// them, filed as each is read so no list of all entries is kept: the free
// slots with their own elements, and what they refer to by id.
type slotIndex struct {
	answer []byte // the whole answer: an Organization entry is decoded again from it

	slots         []Slot // in the answer's order
	schedules     map[string]slotSchedule
	locations     map[string]string // id: name
	practitioners map[string]string // id: name
	org           *stu3.Organization
	skipped       int // entries whose resource did not decode
}

type slotSchedule struct {
	category string // serviceCategory text
	actors   []stu3.Reference
}

// slotResource is what the consumer reads of one resource of a slot
// searchset: the elements it uses of Slot, Schedule, Location and
// Practitioner in one flat view. Organization is decoded whole, again,
// from its entry's bytes.
type slotResource struct {
	ResourceType, ID, Status, Start, End string
	Schedule                             stu3.Reference   // schedule (its reference)
	SlotType                             string           // serviceType[0].text
	Channel                              string           // valueCode of the first delivery channel extension
	Actor                                []stu3.Reference // actor (their references)
	Category                             string           // serviceCategory.text
	Name                                 slotName
}

// slotName is name: a string on a Location, a list of HumanName on a
// Practitioner. Its JSON shape says which; one that is neither reads as no
// name, never failing its resource.
type slotName struct {
	text  string
	human []stu3.HumanName
}

func (n *slotName) UnmarshalJSON(raw []byte) error {
	var err error
	switch {
	case bytes.HasPrefix(raw, []byte(`"`)):
		err = unmarshal(raw, &n.text)
	case bytes.HasPrefix(raw, []byte("[")):
		err = unmarshal(raw, &n.human)
	}
	if err != nil {
		*n = slotName{}
	}
	return nil
}

// reset empties r for the next entry, keeping its actor list's room.
func (r *slotResource) reset() {
	*r = slotResource{Actor: r.Actor[:0]}
}

// UnmarshalJSONFrom reads the entries one at a time into one reused
// slotResource and files each.
func (x *slotIndex) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	if dec.PeekKind() == 'n' {
		return dec.SkipValue()
	}
	if tok, err := dec.ReadToken(); err != nil || tok.Kind() != '[' {
		return cmp.Or(err, errors.New("entry is not a list"))
	}
	r, in := new(slotResource), interner{}
	for dec.PeekKind() != ']' {
		r.reset()
		from := dec.InputOffset()
		ok, err := readEntry(dec, r, in)
		if err != nil {
			return err
		}
		if !ok {
			x.skipped++
			continue
		}
		x.add(r, x.answer[from:dec.InputOffset()])
	}
	_, err := dec.ReadToken()
	return err
}

// add files one entry's resource r; raw is the entry's JSON, perhaps with
// the separator before it.
func (x *slotIndex) add(r *slotResource, raw []byte) {
	if x.schedules == nil {
		x.schedules, x.locations, x.practitioners = map[string]slotSchedule{}, map[string]string{}, map[string]string{}
	}
	switch r.ResourceType {
	case "Slot":
		if sl, ok := r.slot(); ok {
			x.slots = append(x.slots, sl)
		}
	case "Schedule":
		x.schedules[r.ID] = slotSchedule{category: r.Category, actors: slices.Clone(r.Actor)}
	case "Location":
		x.locations[r.ID] = r.Name.text
	case "Practitioner":
		x.practitioners[r.ID] = ""
		if len(r.Name.human) > 0 {
			n := r.Name.human[0]
			x.practitioners[r.ID] = strings.TrimSpace(strings.Join(append(append(append([]string{}, n.Prefix...), n.Given...), n.Family), " "))
		}
	case "Organization":
		// The one resource Slots carries whole, as the stu3 type; one
		// that does not decode as it is left out.
		var e struct {
			Resource stu3.Organization `json:"resource"`
		}
		if unmarshal(bytes.TrimLeft(raw, ", \t\r\n"), &e) == nil {
			x.org = &e.Resource
		}
	}
}

// slot reads a Slot's own elements; false when it is not free or its
// times do not parse.
func (r *slotResource) slot() (Slot, bool) {
	if r.Status != "free" {
		return Slot{}, false
	}
	x := Slot{ID: r.ID, Start: r.Start, End: r.End, Channel: r.Channel, SlotType: r.SlotType}
	var err1, err2 error
	x.StartTime, err1 = time.Parse(time.RFC3339, r.Start)
	x.EndTime, err2 = time.Parse(time.RFC3339, r.End)
	if err1 != nil || err2 != nil {
		return Slot{}, false
	}
	if _, id, ok := r.Schedule.Split(); ok {
		x.ScheduleID = id
	}
	return x, true
}

// result is the free slots with their schedule's type, location and
// practitioner, sorted by start; a slot whose schedule has no Location is
// left out (a booking needs it, §4.2).
func (x *slotIndex) result() *Slots {
	out := &Slots{Slots: x.slots[:0:len(x.slots)], Organization: x.org} // filtered in place
	if out.Slots == nil {
		out.Slots = []Slot{}
	}
	for _, sl := range x.slots {
		if sch, ok := x.schedules[sl.ScheduleID]; ok {
			sl.ScheduleType = sch.category
			for _, a := range sch.actors {
				typ, id, ok := a.Split()
				switch {
				case !ok:
				case typ == "Location":
					sl.LocationID = id
					sl.LocationName = x.locations[id]
				case typ == "Practitioner":
					sl.PractitionerID = id
					sl.Practitioner = x.practitioners[id]
				}
			}
		}
		if sl.LocationID != "" {
			out.Slots = append(out.Slots, sl)
		}
	}
	sort.SliceStable(out.Slots, func(i, j int) bool { return out.Slots[i].StartTime.Before(out.Slots[j].StartTime) })
	return out
}
