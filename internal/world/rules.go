package world

import (
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
)

// FindPatient applies the find-a-patient rules (gpconnect-1.6.md §3.2): the
// practice's record for nhs is returned only when it is active, the patient
// is not deceased, restricted, invalidated or superseded on PDS, and the
// NHS number is verified. A never-verified record is verified against PDS
// (date of birth exact, or two of its three parts plus the first three
// letters of the family name and the first initial) and marked verified.
func (w *World) FindPatient(ods, nhs string) (Record, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	p, ok := w.practices[ods]
	if !ok {
		return Record{}, false
	}
	r := p.recordByNHS(nhs)
	if r == nil || r.State != Active {
		return Record{}, false
	}
	pds, ok := w.patients[nhs]
	if !ok || pds.Deceased != "" || pds.Restricted || pds.Invalidated || pds.SupersededBy != "" {
		return Record{}, false
	}
	if r.Unverified {
		if !demographicsMatch(r, pds) {
			return Record{}, false
		}
		r.Unverified = false
	}
	return cloneRecord(*r), true
}

// demographicsMatch is the spec's NHS number verification rule.
func demographicsMatch(r *Record, pds *Patient) bool {
	if r.BirthDate == "" || r.BirthDate == pds.BirthDate {
		return true
	}
	a, b := strings.Split(r.BirthDate, "-"), strings.Split(pds.BirthDate, "-")
	if len(a) != 3 || len(b) != 3 {
		return false
	}
	same := 0
	for i := range a {
		if a[i] == b[i] {
			same++
		}
	}
	if same < 2 || r.Name == nil || pds.Name == nil {
		return false
	}
	return prefixFold(r.Name.Family, pds.Name.Family, 3) && initialMatch(r.Name.Given, pds.Name.Given)
}

func prefixFold(a, b string, n int) bool {
	if len(a) < n || len(b) < n {
		return strings.EqualFold(a, b)
	}
	return strings.EqualFold(a[:n], b[:n])
}

func initialMatch(a, b []string) bool {
	if len(a) == 0 || len(b) == 0 || a[0] == "" || b[0] == "" {
		return false
	}
	return strings.EqualFold(a[0][:1], b[0][:1])
}

// Registration is what a register-patient request asks for.
type Registration struct {
	NHSNumber string
	Name      Name // the official name sent
	BirthDate string
	Gender    string
	Address   []Address
	Telecom   []Telecom
}

// Register creates a temporary registration at a practice, or reactivates an
// inactive record as temporary (gpconnect-1.6.md §3.3). It traces the
// patient on the world's PDS data first.
func (w *World) Register(ods string, reg Registration) (Record, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	p, err := w.practice(ods)
	if err != nil {
		return Record{}, err
	}
	pds, ok := w.patients[reg.NHSNumber]
	switch {
	case !ok:
		return Record{}, gpc.Errorf(gpc.InvalidPatientDemographics, "NHS number %s was not found on PDS", reg.NHSNumber)
	case pds.Invalidated:
		return Record{}, gpc.Errorf(gpc.InvalidNHSNumber, "NHS number %s is invalidated on PDS", reg.NHSNumber)
	case pds.SupersededBy != "":
		return Record{}, gpc.Errorf(gpc.InvalidNHSNumber, "NHS number %s is superseded on PDS by %s", reg.NHSNumber, pds.SupersededBy)
	case pds.Deceased != "":
		return Record{}, gpc.Errorf(gpc.InvalidPatientDemographics, "Patient %s is deceased on PDS", reg.NHSNumber)
	case pds.Restricted:
		return Record{}, gpc.Errorf(gpc.InvalidPatientDemographics, "Patient %s is flagged sensitive on PDS", reg.NHSNumber)
	}
	// Family name must agree with PDS (the test suite answers 400 BAD_REQUEST).
	if pds.Name != nil && !strings.EqualFold(strings.TrimSpace(reg.Name.Family), pds.Name.Family) {
		return Record{}, gpc.Errorf(gpc.BadRequest, "Family name %q does not match the PDS record for %s", reg.Name.Family, reg.NHSNumber)
	}
	if pds.BirthDate != "" && reg.BirthDate != pds.BirthDate {
		r := &Record{Name: &reg.Name, BirthDate: reg.BirthDate}
		if !demographicsMatch(r, pds) {
			return Record{}, gpc.Errorf(gpc.InvalidPatientDemographics, "Birth date %s does not match PDS for %s", reg.BirthDate, reg.NHSNumber)
		}
	}
	now := w.now()
	if r := p.recordByNHS(reg.NHSNumber); r != nil {
		switch r.State {
		case Active:
			return Record{}, gpc.Errorf(gpc.DuplicateRejected, "Patient record already exists with that NHS number (%s)", reg.NHSNumber)
		case Dead:
			return Record{}, gpc.Errorf(gpc.InvalidPatientDemographics, "Patient %s is recorded as deceased at this practice", reg.NHSNumber)
		}
		// Inactive: reactivate as temporary with the sent demographics.
		r.State = Active
		r.RegistrationType = "T"
		r.RegistrationStart = now
		r.Unverified = false
		fillRecord(r, reg, pds)
		r.VersionID++
		return cloneRecord(*r), nil
	}
	r := &Record{
		ID:                p.newID(),
		NHSNumber:         reg.NHSNumber,
		State:             Active,
		RegistrationType:  "T",
		RegistrationStart: now,
		VersionID:         1,
	}
	fillRecord(r, reg, pds)
	p.records[r.ID] = r
	return cloneRecord(*r), nil
}

// fillRecord takes the registration's demographics, falling back to PDS for
// what was not sent (gpconnect-1.6.md §3.3: SHOULD elements).
func fillRecord(r *Record, reg Registration, pds *Patient) {
	name := reg.Name
	r.Name = &name
	r.BirthDate = reg.BirthDate
	r.Gender = reg.Gender
	if r.Gender == "" {
		r.Gender = pds.Gender
	}
	r.Address = slices.Clone(reg.Address)
	if len(r.Address) == 0 {
		r.Address = slices.Clone(pds.Address)
	}
	r.Telecom = slices.Clone(reg.Telecom)
	if len(r.Telecom) == 0 {
		r.Telecom = slices.Clone(pds.Telecom)
	}
}

// Booking is a validated book-appointment request.
type Booking struct {
	Patient             string   // Record id
	Slots               []string // Slot ids
	Start, End          time.Time
	Location            string // Location id of the Location participant
	Practitioner        string // Practitioner id, "" when none was sent
	Description         string
	Comment             string
	Created             time.Time
	Participants        []Participant
	BookingOrganization json.RawMessage
	// BookerODS and BookerOrgType come from the booking organisation; they
	// are checked against the slots' restrictions.
	BookerODS     string
	BookerOrgType string
}

// Book books the slots in b atomically (gpconnect-1.6.md §4.2): either every
// slot turns busy and the appointment is stored, or nothing changes.
func (w *World) Book(ods string, b Booking) (Appointment, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.slotsVersion++ // may change slots; counting a failed attempt too is only a cache miss
	p, err := w.practice(ods)
	if err != nil {
		return Appointment{}, err
	}
	rec, ok := p.records[b.Patient]
	if !ok {
		return Appointment{}, gpc.Errorf(gpc.ReferenceNotFound, "Reference to Patient/%s - no such patient exists at the server", b.Patient)
	}
	if rec.State != Active {
		return Appointment{}, gpc.Errorf(gpc.InvalidResource, "Patient/%s is not an active patient at this practice", b.Patient)
	}
	if len(b.Slots) == 0 {
		return Appointment{}, gpc.Errorf(gpc.InvalidResource, "Appointment has no slot")
	}
	slots := make([]*Slot, 0, len(b.Slots))
	for _, id := range b.Slots {
		s, ok := p.slots[id]
		if !ok {
			if !isNumber(id) && p.numericSlotIDs() {
				// An id unlike any this practice issues is a malformed
				// reference, which NHS's suite expects as 422
				// INVALID_RESOURCE (AppointmentBook.feature "invalid slot
				// reference": Slot/hello); a well-formed unknown id is the
				// spec's REFERENCE_NOT_FOUND (§4.2).
				return Appointment{}, gpc.Errorf(gpc.InvalidResource, "Slot reference Slot/%s is malformed: this practice's slot ids are numbers", id)
			}
			return Appointment{}, gpc.Errorf(gpc.ReferenceNotFound, "Reference to Slot/%s - no such slot exists at the server", id)
		}
		if slices.Contains(slots, s) {
			return Appointment{}, gpc.Errorf(gpc.InvalidResource, "Slot/%s is referenced twice", id)
		}
		slots = append(slots, s)
	}
	slices.SortFunc(slots, func(a, b *Slot) int { return a.Start.Compare(b.Start) })
	first, last := slots[0], slots[len(slots)-1]
	for i := 1; i < len(slots); i++ {
		a, s := slots[i-1], slots[i]
		if !s.Start.Equal(a.End) || s.Schedule != a.Schedule || s.DeliveryChannel != a.DeliveryChannel || s.ServiceType != a.ServiceType {
			return Appointment{}, gpc.Errorf(gpc.InvalidResource, "Slot/%s and Slot/%s are not adjacent slots of the same schedule, delivery channel and type", a.ID, s.ID)
		}
	}
	if !b.Start.Equal(first.Start) || !b.End.Equal(last.End) {
		return Appointment{}, gpc.Errorf(gpc.InvalidResource, "Appointment start/end (%s/%s) do not match the slots (%s/%s)",
			b.Start.Format(time.RFC3339), b.End.Format(time.RFC3339), first.Start.Format(time.RFC3339), last.End.Format(time.RFC3339))
	}
	if first.Start.Before(w.now()) {
		return Appointment{}, gpc.Errorf(gpc.InvalidResource, "Slot/%s starts in the past", first.ID)
	}
	var sched *Schedule
	for i := range p.Schedules {
		if p.Schedules[i].ID == first.Schedule {
			sched = &p.Schedules[i]
		}
	}
	if sched != nil {
		if b.Location != sched.Location {
			return Appointment{}, gpc.Errorf(gpc.InvalidResource, "Location/%s is not the location of the slot's schedule (Location/%s)", b.Location, sched.Location)
		}
		if b.Practitioner != "" && b.Practitioner != sched.Practitioner {
			return Appointment{}, gpc.Errorf(gpc.InvalidResource, "Practitioner/%s is not the practitioner of the slot's schedule", b.Practitioner)
		}
	}
	for _, s := range slots {
		if !s.offeredTo(b.BookerODS, b.BookerOrgType) {
			return Appointment{}, gpc.Errorf(gpc.InvalidResource, "Slot/%s may not be booked by organisation %s", s.ID, b.BookerODS)
		}
	}
	for _, s := range slots {
		if s.Status != Free {
			return Appointment{}, gpc.Errorf(gpc.DuplicateRejected, "Slot/%s is no longer free", s.ID)
		}
	}
	a := &Appointment{
		ID:                  p.newID(),
		VersionID:           1,
		Status:              Booked,
		Patient:             b.Patient,
		Start:               first.Start,
		End:                 last.End,
		Created:             b.Created,
		Description:         b.Description,
		Comment:             b.Comment,
		Participants:        slices.Clone(b.Participants),
		BookingOrganization: slices.Clone(b.BookingOrganization),
		Updated:             w.now(),
	}
	for _, s := range slots {
		p.setStatus(s, Busy)
		a.Slots = append(a.Slots, s.ID)
	}
	p.appts[a.ID] = a
	return cloneAppointment(*a), nil
}

// Change is an amend or cancel. Check sees the stored appointment under the
// lock and rejects a request that changes what it may not.
type Change struct {
	Version int // from If-Match
	// Unconditional skips the version check: the request sent no
	// If-Match, and an HTTP server applies a precondition only when one
	// is sent (RFC 9110 §13.1.1).
	Unconditional bool
	Check         func(current Appointment) error
	Description   string
	Comment       string
	// CancelReason, when set, cancels the appointment and frees its slots.
	Cancel       bool
	CancelReason string
}

// Update amends or cancels an appointment (gpconnect-1.6.md §4.4, §4.5). A
// stale version gives 409 FHIR_CONSTRAINT_VIOLATION (unless the change is
// Unconditional), and a past or cancelled appointment 422 INVALID_RESOURCE.
func (w *World) Update(ods, id string, c Change) (Appointment, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.slotsVersion++ // may change slots; counting a failed attempt too is only a cache miss
	p, err := w.practice(ods)
	if err != nil {
		return Appointment{}, err
	}
	a, ok := p.appts[id]
	if !ok {
		return Appointment{}, gpc.Errorf(gpc.NoRecordFound, "No appointment with id %s", id)
	}
	if !c.Unconditional && c.Version != a.VersionID {
		return Appointment{}, gpc.Errorf(gpc.FHIRConstraintViolation, "If-Match version %d does not match the current version %d of Appointment/%s", c.Version, a.VersionID, id)
	}
	if a.Status == Cancelled {
		return Appointment{}, gpc.Errorf(gpc.InvalidResource, "Appointment/%s is cancelled", id)
	}
	if a.Start.Before(w.now()) {
		return Appointment{}, gpc.Errorf(gpc.InvalidResource, "Appointment/%s is in the past", id)
	}
	if c.Check != nil {
		if err := c.Check(cloneAppointment(*a)); err != nil {
			return Appointment{}, err
		}
	}
	if c.Cancel {
		a.Status = Cancelled
		a.CancellationReason = c.CancelReason
		for _, sid := range a.Slots {
			if s, ok := p.slots[sid]; ok {
				p.setStatus(s, Free)
			}
		}
	} else {
		a.Description = c.Description
		a.Comment = c.Comment
	}
	a.VersionID++
	a.Updated = w.now()
	return cloneAppointment(*a), nil
}

func cloneConsumer(c ConsumerSystem) ConsumerSystem {
	c.Interactions = slices.Clone(c.Interactions)
	return c
}

func cloneName(n *Name) *Name {
	if n == nil {
		return nil
	}
	c := *n
	c.Prefix = slices.Clone(n.Prefix)
	c.Given = slices.Clone(n.Given)
	return &c
}

func cloneAddresses(as []Address) []Address {
	out := slices.Clone(as)
	for i := range out {
		out[i].Lines = slices.Clone(out[i].Lines)
	}
	return out
}

func cloneAddress(a *Address) *Address {
	if a == nil {
		return nil
	}
	c := *a
	c.Lines = slices.Clone(a.Lines)
	return &c
}

func clonePatient(p Patient) Patient {
	p.Name = cloneName(p.Name)
	p.Address = cloneAddresses(p.Address)
	p.Telecom = slices.Clone(p.Telecom)
	p.Resource = slices.Clone(p.Resource)
	if p.Search != nil {
		s := clonePatient(*p.Search)
		p.Search = &s
	}
	return p
}

func cloneRecord(r Record) Record {
	r.Name = cloneName(r.Name)
	r.Address = cloneAddresses(r.Address)
	r.Telecom = slices.Clone(r.Telecom)
	return r
}

func cloneSlot(s Slot) Slot {
	s.OrgTypes = slices.Clone(s.OrgTypes)
	s.ODSCodes = slices.Clone(s.ODSCodes)
	return s
}

func cloneAppointment(a Appointment) Appointment {
	a.Slots = slices.Clone(a.Slots)
	a.Participants = slices.Clone(a.Participants)
	a.BookingOrganization = slices.Clone(a.BookingOrganization)
	return a
}

func cloneLocations(ls []Location) []Location {
	out := slices.Clone(ls)
	for i := range out {
		out[i].Address = cloneAddress(out[i].Address)
		out[i].Telecom = slices.Clone(out[i].Telecom)
	}
	return out
}

func clonePractitioners(ps []Practitioner) []Practitioner {
	out := slices.Clone(ps)
	for i := range out {
		n := cloneName(&out[i].Name)
		out[i].Name = *n
	}
	return out
}

// clonePracticeMeta copies a practice without its live state.
func clonePracticeMeta(p Practice) Practice {
	c := p
	c.Address = cloneAddress(p.Address)
	c.Telecom = slices.Clone(p.Telecom)
	c.Interactions = slices.Clone(p.Interactions)
	c.RefusedSenders = slices.Clone(p.RefusedSenders)
	c.Locations = cloneLocations(p.Locations)
	c.Practitioners = clonePractitioners(p.Practitioners)
	c.Schedules = slices.Clone(p.Schedules)
	c.Records, c.Slots, c.Appointments = nil, nil, nil
	return c
}

// isNumber reports whether id is a run of ASCII digits.
func isNumber(id string) bool {
	if id == "" {
		return false
	}
	for _, c := range id {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// numericSlotIDs reports whether every slot id of the practice is a number
// (the built-in world's and generated slots' are). It walks every slot, so
// it is for error paths only.
func (p *practice) numericSlotIDs() bool {
	for id := range p.slots {
		if !isNumber(id) {
			return false
		}
	}
	return true
}
