// Package world holds the state one scenario describes: the consumer system,
// PDS patients, practices with their SDS registrations, and each practice's
// provider records, schedules, slots and appointments. Every business rule
// that changes state (register, book, amend, cancel) lives here and runs
// under one lock, so two consumers booking one slot at once get exactly one
// success and one DUPLICATE_REJECTED, and a rejected change leaves no trace.
package world

import (
	"crypto/sha1"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
)

// Clock returns the current time. Worlds take one so tests can pin time.
type Clock func() time.Time

// World is the live state of one session. It is safe for concurrent use.
// Views of one world at other base URLs (At) share its state.
type World struct {
	*state
	base string // the session's public base URL, for default service roots
}

// state is what every view of a world shares.
type state struct {
	now Clock
	// tmpl is the template the world was made from. Its patients and
	// orders are shared as they are (no rule changes them) and its
	// practices until the world first changes one (practice).
	tmpl *Template

	mu        sync.RWMutex
	consumer  ConsumerSystem
	patients  map[string]*Patient
	pdsOrder  []string // NHS numbers in scenario order, for stable search
	practices map[string]*practice
	odsOrder  []string

	// slotsVersion counts the changes that can change a slot search's
	// answer (Book and Update, the only writers of slots); a cached answer
	// is good while it is unchanged.
	slotsVersion uint64
	// changed is set by the first Register, Book or Update (practice).
	changed bool
}

type practice struct {
	Practice // metadata; the slices below are the live state
	records  map[string]*Record
	slots    map[string]*Slot
	// byStart is every slot ordered by start then id, built once in New
	// (slots are never added and their times never change), so a search
	// finds its window by binary search and costs what it returns, not
	// the size of the practice's book.
	byStart []*Slot
	appts   map[string]*Appointment
	nextID  int
	// borrowed marks a copy whose slots are still its template's (clone
	// shares them, since a booking changes a few of a practice's hundreds
	// of slots): setStatus copies a borrowed slot before changing it, and
	// owned lists the slots copied so far.
	borrowed bool
	owned    map[string]bool
}

// New builds a World from data. base is the public base URL of the session
// (for example http://127.0.0.1:4000/s/abc) and clock the time source; nil
// means time.Now.
func New(data Data, base string, clock Clock) *World {
	return Build(data).World(base, clock)
}

// Template is a world built once from Data and never changed: any number
// of worlds made from it (World) start as its copies. A world shares the
// template's state until it changes it — a practice is copied on the
// world's first change to it (Register, Book, Update) —, so making one
// costs a map of the practices, not a copy of every slot. It is safe for
// concurrent use.
type Template struct {
	st *state // never changed; its clock is unused

	sharedMu sync.Mutex
	shared   map[any]any // Shared's values
}

// Build builds a template from data.
func Build(data Data) *Template {
	w := &World{state: &state{
		consumer:  cloneConsumer(data.Consumer),
		patients:  map[string]*Patient{},
		practices: map[string]*practice{},
	}}
	if w.consumer.Manufacturer == "" {
		w.consumer.Manufacturer = w.consumer.ODS
	}
	for _, p := range data.Patients {
		p := clonePatient(p)
		if p.VersionID == 0 {
			p.VersionID = 1
		}
		w.patients[p.NHSNumber] = &p
		w.pdsOrder = append(w.pdsOrder, p.NHSNumber)
	}
	for _, src := range data.Practices {
		pr := &practice{
			Practice: clonePracticeMeta(src),
			records:  map[string]*Record{},
			slots:    map[string]*Slot{},
			appts:    map[string]*Appointment{},
		}
		if pr.OrganizationID == "" {
			pr.OrganizationID = "1"
		}
		for _, r := range src.Records {
			r := cloneRecord(r)
			if r.State == "" {
				r.State = Active
			}
			if r.RegistrationType == "" {
				r.RegistrationType = "R"
			}
			if r.VersionID == 0 {
				r.VersionID = 1
			}
			pr.records[r.ID] = &r
			pr.bumpID(r.ID)
		}
		for _, s := range src.Slots {
			s := cloneSlot(s)
			if s.Status == "" {
				s.Status = Free
			}
			pr.slots[s.ID] = &s
		}
		pr.byStart = make([]*Slot, 0, len(pr.slots))
		for _, s := range pr.slots {
			pr.byStart = append(pr.byStart, s)
		}
		sort.Slice(pr.byStart, func(i, j int) bool { return slotLess(pr.byStart[i], pr.byStart[j]) })
		for _, a := range src.Appointments {
			a := cloneAppointment(a)
			if a.VersionID == 0 {
				a.VersionID = 1
			}
			pr.appts[a.ID] = &a
			pr.bumpID(a.ID)
		}
		w.practices[pr.ODS] = pr
		w.odsOrder = append(w.odsOrder, pr.ODS)
	}
	return &Template{st: w.state}
}

// World makes a world from the template at base (the session's public base
// URL) with clock as its time source; nil means time.Now. It starts as the
// template's copy and changes apart from it and from every other world.
func (t *Template) World(base string, clock Clock) *World {
	if clock == nil {
		clock = time.Now
	}
	st := &state{
		now:       clock,
		tmpl:      t,
		consumer:  cloneConsumer(t.st.consumer),
		patients:  t.st.patients,
		pdsOrder:  t.st.pdsOrder,
		practices: make(map[string]*practice, len(t.st.practices)),
		odsOrder:  t.st.odsOrder,
	}
	for ods, p := range t.st.practices {
		st.practices[ods] = p
	}
	return &World{state: st, base: strings.TrimSuffix(base, "/")}
}

// Template returns the template the world was made from.
func (w *World) Template() *Template { return w.tmpl }

// Pristine reports whether the world's slots, records and appointments are
// still exactly its template's: no Register, Book or Update has been
// tried on it. What a world answers while pristine, the template answers
// too (Template.Pristine), so an answer may be shared by every world made
// from the template.
func (w *World) Pristine() bool {
	w.mu.RLock()
	defer w.mu.RUnlock()
	return !w.changed
}

// Pristine returns a world over the template's own state at base: what
// every world made from it reads while it is pristine. Its changes, if
// any were made, would be its own (it copies practices as any world does).
func (t *Template) Pristine(base string) *World { return t.World(base, nil) }

// Shared returns the value kept under key for every world made from the
// template, made by mk on first demand: for answers computed from a
// pristine world (World.Pristine), such as the provider's encoded slot
// searches. Bound what the value holds; the template keeps it as long as
// it lives.
func (t *Template) Shared(key any, mk func() any) any {
	t.sharedMu.Lock()
	defer t.sharedMu.Unlock()
	if v, ok := t.shared[key]; ok {
		return v
	}
	if t.shared == nil {
		t.shared = map[any]any{}
	}
	v := mk()
	t.shared[key] = v
	return v
}

// Now returns the world's current time.
func (w *World) Now() time.Time { return w.now() }

// BaseURL returns the session's public base URL.
func (w *World) BaseURL() string { return w.base }

// At returns a view of the world whose base URL is base: the same state
// (a change through one view is seen through every other), with the
// default service roots built on base. A sandbox that follows its clients'
// Host serves each origin through its own view.
func (w *World) At(base string) *World {
	return &World{state: w.state, base: strings.TrimSuffix(base, "/")}
}

// ServiceRoot is the FHIR service root SDS holds for a practice: its
// configured Endpoint, or the sandbox provider's address for it.
func (w *World) ServiceRoot(p Practice) string {
	if p.Endpoint != "" {
		return p.Endpoint
	}
	return w.base + "/provider/" + p.ODS + "/STU3/1/gpconnect"
}

// Consumer returns the consumer system.
func (w *World) Consumer() ConsumerSystem {
	w.mu.RLock()
	defer w.mu.RUnlock()
	return cloneConsumer(w.consumer)
}

// Patient returns the PDS record with the given NHS number, as stored
// (superseded and invalidated records included).
func (w *World) Patient(nhs string) (Patient, bool) {
	w.mu.RLock()
	defer w.mu.RUnlock()
	p, ok := w.patients[nhs]
	if !ok {
		return Patient{}, false
	}
	return clonePatient(*p), true
}

// Patients returns every PDS record in scenario order.
func (w *World) Patients() []Patient {
	w.mu.RLock()
	defer w.mu.RUnlock()
	out := make([]Patient, 0, len(w.pdsOrder))
	for _, n := range w.pdsOrder {
		out = append(out, clonePatient(*w.patients[n]))
	}
	return out
}

// Practice returns a practice's metadata (no records, slots or
// appointments; use the accessors for those).
func (w *World) Practice(ods string) (Practice, bool) {
	w.mu.RLock()
	defer w.mu.RUnlock()
	p, ok := w.practices[ods]
	if !ok {
		return Practice{}, false
	}
	return clonePracticeMeta(p.Practice), true
}

// Practices returns every practice's metadata in scenario order.
func (w *World) Practices() []Practice {
	w.mu.RLock()
	defer w.mu.RUnlock()
	out := make([]Practice, 0, len(w.odsOrder))
	for _, ods := range w.odsOrder {
		out = append(out, clonePracticeMeta(w.practices[ods].Practice))
	}
	return out
}

// SenderAuthorised reports whether the AS record with ASID asid (the
// consumer's or a practice's) exists and carries interaction in: Spine's
// sender check.
func (w *World) SenderAuthorised(asid string, in gpc.Interaction) bool {
	w.mu.RLock()
	defer w.mu.RUnlock()
	if w.consumer.ASID == asid {
		return slices.Contains(w.consumer.Interactions, in)
	}
	for _, ods := range w.odsOrder {
		if p := w.practices[ods]; p.ProviderASID == asid {
			return slices.Contains(p.Interactions, in)
		}
	}
	return false
}

// ReceiverEndpoint returns the service root registered for the MHS record
// of the practice whose ASID is asid, for interaction in. ok is false when no
// practice has that ASID or its record lacks the interaction.
func (w *World) ReceiverEndpoint(asid string, in gpc.Interaction) (root string, ok bool) {
	w.mu.RLock()
	defer w.mu.RUnlock()
	for _, ods := range w.odsOrder {
		p := w.practices[ods]
		if p.ProviderASID == asid && slices.Contains(p.Interactions, in) {
			return w.ServiceRoot(p.Practice), true
		}
	}
	return "", false
}

// SharingAllowed is Spine's sender→receiver ("FOT") authorisation: false
// when the practice whose provider has ASID to refuses the sender from.
func (w *World) SharingAllowed(from, to string) bool {
	w.mu.RLock()
	defer w.mu.RUnlock()
	for _, ods := range w.odsOrder {
		if p := w.practices[ods]; p.ProviderASID == to && slices.Contains(p.RefusedSenders, from) {
			return false
		}
	}
	return true
}

func (p *practice) bumpID(id string) {
	if n, err := strconv.Atoi(id); err == nil && n >= p.nextID {
		p.nextID = n + 1
	}
}

func (p *practice) newID() string {
	if p.nextID == 0 {
		p.nextID = 1
	}
	for {
		id := strconv.Itoa(p.nextID)
		p.nextID++
		if _, taken := p.records[id]; taken {
			continue
		}
		if _, taken := p.appts[id]; taken {
			continue
		}
		return id
	}
}

// practice returns a practice to change; w.mu is held for writing. A
// practice still shared with the world's template is copied first, and
// the world is no longer pristine (an attempt that fails counts too: it
// costs only a copy and shared answers).
func (w *World) practice(ods string) (*practice, error) {
	w.changed = true
	p, ok := w.practices[ods]
	if !ok {
		return nil, gpc.Errorf(gpc.OrganisationNotFound, "No practice with ODS code %s at this provider", ods)
	}
	if w.tmpl != nil && w.tmpl.st.practices[ods] == p {
		p = p.clone()
		w.practices[ods] = p
	}
	return p, nil
}

// clone copies a practice deeply enough to change it: its records and
// appointments, and its slot index over the same slots, borrowed until
// setStatus changes one.
func (p *practice) clone() *practice {
	c := &practice{
		Practice: p.Practice,
		records:  make(map[string]*Record, len(p.records)),
		slots:    maps.Clone(p.slots),
		byStart:  slices.Clone(p.byStart),
		appts:    make(map[string]*Appointment, len(p.appts)),
		nextID:   p.nextID,
		borrowed: true,
	}
	for id, r := range p.records {
		r := cloneRecord(*r)
		c.records[id] = &r
	}
	for id, a := range p.appts {
		a := cloneAppointment(*a)
		c.appts[id] = &a
	}
	return c
}

// setStatus changes a slot's status, copying it first when it is still
// borrowed from the template, so no other world sees the change.
func (p *practice) setStatus(s *Slot, status string) {
	if p.borrowed && !p.owned[s.ID] {
		c := cloneSlot(*s)
		i, found := slices.BinarySearchFunc(p.byStart, &c, func(a, b *Slot) int {
			if slotLess(a, b) {
				return -1
			}
			if slotLess(b, a) {
				return 1
			}
			return 0
		})
		if !found || p.byStart[i] != s {
			i = slices.Index(p.byStart, s) // not reached: slots never move
		}
		p.byStart[i], p.slots[s.ID] = &c, &c
		if p.owned == nil {
			p.owned = map[string]bool{}
		}
		p.owned[s.ID] = true
		s = &c
	}
	s.Status = status
}

// Locations returns a practice's locations.
func (w *World) Locations(ods string) []Location {
	w.mu.RLock()
	defer w.mu.RUnlock()
	if p, ok := w.practices[ods]; ok {
		return cloneLocations(p.Locations)
	}
	return nil
}

// Practitioners returns a practice's practitioners.
func (w *World) Practitioners(ods string) []Practitioner {
	w.mu.RLock()
	defer w.mu.RUnlock()
	if p, ok := w.practices[ods]; ok {
		return clonePractitioners(p.Practitioners)
	}
	return nil
}

// Schedules returns a practice's schedules.
func (w *World) Schedules(ods string) []Schedule {
	w.mu.RLock()
	defer w.mu.RUnlock()
	if p, ok := w.practices[ods]; ok {
		return slices.Clone(p.Schedules)
	}
	return nil
}

// Records returns a practice's patient records, ordered by id.
func (w *World) Records(ods string) []Record {
	w.mu.RLock()
	defer w.mu.RUnlock()
	p, ok := w.practices[ods]
	if !ok {
		return nil
	}
	out := make([]Record, 0, len(p.records))
	for _, r := range p.records {
		out = append(out, cloneRecord(*r))
	}
	sortByID(out, func(r Record) string { return r.ID })
	return out
}

// Record returns a practice's patient record by logical id.
func (w *World) Record(ods, id string) (Record, bool) {
	w.mu.RLock()
	defer w.mu.RUnlock()
	p, ok := w.practices[ods]
	if !ok {
		return Record{}, false
	}
	r, ok := p.records[id]
	if !ok {
		return Record{}, false
	}
	return cloneRecord(*r), true
}

// RecordByNHSNumber returns a practice's record for an NHS number.
func (w *World) RecordByNHSNumber(ods, nhs string) (Record, bool) {
	w.mu.RLock()
	defer w.mu.RUnlock()
	p, ok := w.practices[ods]
	if !ok {
		return Record{}, false
	}
	if r := p.recordByNHS(nhs); r != nil {
		return cloneRecord(*r), true
	}
	return Record{}, false
}

func (p *practice) recordByNHS(nhs string) *Record {
	var found *Record
	for _, r := range p.records {
		if r.NHSNumber == nhs && (found == nil || idLess(r.ID, found.ID)) {
			found = r
		}
	}
	return found
}

// Slots returns every slot of a practice, ordered by start then id.
func (w *World) Slots(ods string) []Slot {
	w.mu.RLock()
	defer w.mu.RUnlock()
	p, ok := w.practices[ods]
	if !ok {
		return nil
	}
	return p.sortedSlots(func(*Slot) bool { return true })
}

// Slot returns one slot of a practice by id.
func (w *World) Slot(ods, id string) (Slot, bool) {
	w.mu.RLock()
	defer w.mu.RUnlock()
	p, ok := w.practices[ods]
	if !ok {
		return Slot{}, false
	}
	s, ok := p.slots[id]
	if !ok {
		return Slot{}, false
	}
	return cloneSlot(*s), true
}

func (p *practice) sortedSlots(keep func(*Slot) bool) []Slot {
	var out []Slot
	for _, s := range p.byStart {
		if keep(s) {
			out = append(out, cloneSlot(*s))
		}
	}
	return out
}

// slotLess orders slots by start, then id.
func slotLess(a, b *Slot) bool {
	if !a.Start.Equal(b.Start) {
		return a.Start.Before(b.Start)
	}
	return idLess(a.ID, b.ID)
}

// SlotQuery selects free slots.
type SlotQuery struct {
	From, To time.Time // slots lying fully inside [From, To]
	// ConsumerODS and OrgType are the consumer's searchFilter values; a slot
	// restricted to other ODS codes or organisation types is not offered.
	ConsumerODS string
	OrgType     string
}

// FreeSlots returns the free slots of a practice that lie fully inside the
// query's range and that the consumer may book, ordered by start.
func (w *World) FreeSlots(ods string, q SlotQuery) []Slot {
	w.mu.RLock()
	defer w.mu.RUnlock()
	p, ok := w.practices[ods]
	if !ok {
		return nil
	}
	// Only slots starting in [From, To] can lie inside the range.
	i, _ := slices.BinarySearchFunc(p.byStart, q.From, func(s *Slot, t time.Time) int { return s.Start.Compare(t) })
	var out []Slot
	for _, s := range p.byStart[i:] {
		if s.Start.After(q.To) {
			break
		}
		if s.Status == Free && !s.End.After(q.To) && s.offeredTo(q.ConsumerODS, q.OrgType) {
			out = append(out, cloneSlot(*s))
		}
	}
	return out
}

// SlotsVersion changes whenever a slot search's answer may change: a
// provider may reuse an answer computed after reading the same version.
func (w *World) SlotsVersion() uint64 {
	w.mu.RLock()
	defer w.mu.RUnlock()
	return w.slotsVersion
}

func (s *Slot) offeredTo(ods, orgType string) bool {
	if len(s.ODSCodes) > 0 && !slices.Contains(s.ODSCodes, ods) {
		return false
	}
	if len(s.OrgTypes) > 0 && !slices.Contains(s.OrgTypes, orgType) {
		return false
	}
	return true
}

// Appointment returns an appointment by id.
func (w *World) Appointment(ods, id string) (Appointment, bool) {
	w.mu.RLock()
	defer w.mu.RUnlock()
	p, ok := w.practices[ods]
	if !ok {
		return Appointment{}, false
	}
	a, ok := p.appts[id]
	if !ok {
		return Appointment{}, false
	}
	return cloneAppointment(*a), true
}

// Appointments returns every appointment of a practice, ordered by id.
func (w *World) Appointments(ods string) []Appointment {
	w.mu.RLock()
	defer w.mu.RUnlock()
	p, ok := w.practices[ods]
	if !ok {
		return nil
	}
	out := make([]Appointment, 0, len(p.appts))
	for _, a := range p.appts {
		out = append(out, cloneAppointment(*a))
	}
	sortByID(out, func(a Appointment) string { return a.ID })
	return out
}

// PatientAppointments returns the appointments (cancelled included) of one
// patient record whose start lies in [from, to), ordered by start.
func (w *World) PatientAppointments(ods, patientID string, from, to time.Time) []Appointment {
	w.mu.RLock()
	defer w.mu.RUnlock()
	p, ok := w.practices[ods]
	if !ok {
		return nil
	}
	var out []Appointment
	for _, a := range p.appts {
		if a.Patient == patientID && !a.Start.Before(from) && a.Start.Before(to) {
			out = append(out, cloneAppointment(*a))
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Start.Equal(out[j].Start) {
			return out[i].Start.Before(out[j].Start)
		}
		return idLess(out[i].ID, out[j].ID)
	})
	return out
}

func idLess(a, b string) bool {
	na, ea := strconv.Atoi(a)
	nb, eb := strconv.Atoi(b)
	if ea == nil && eb == nil {
		return na < nb
	}
	return a < b
}

func sortByID[T any](xs []T, id func(T) string) {
	sort.Slice(xs, func(i, j int) bool { return idLess(id(xs[i]), id(xs[j])) })
}

// String describes the world briefly, for logs.
func (w *World) String() string {
	w.mu.RLock()
	defer w.mu.RUnlock()
	return fmt.Sprintf("world{%d patients, %d practices}", len(w.patients), len(w.practices))
}

// MHSID is the uniqueIdentifier of a practice's MHS record for one
// interaction — what SDS publishes as nhsMHSId and the SSP quotes as the
// CPA id when a target URL varies from the endpoint. The world does not
// store one, so both derive it here, stably, in the 20-hex-digit shape of
// NHS's captures.
func MHSID(ods string, in gpc.Interaction) string {
	sum := sha1.Sum([]byte("spine-sandbox/sds/mhs/Endpoint|" + strings.ToUpper(ods) + "|" + string(in)))
	return fmt.Sprintf("%x", sum[:10])
}
