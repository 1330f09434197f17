package consumer

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/internal/stu3"
)

// MaxWindowDays is the longest slot search GP Connect allows (§4.1).
const MaxWindowDays = 14

// DefaultWindows is how many windows of MaxWindowDays a slot search tries
// when neither To nor Windows is given.
const DefaultWindows = 4

// window is one slot search: the dates from and to.
type window struct{ from, to time.Time }

// searchPlan is the slot searches of the range [from, to] (the windows
// book tries in turn and slots lists), in the one way both gpc-consumer
// and the runner search (gpconnect-1.6.md §4.1: a search spans at most two
// weeks; §5.1: "repeat with other date ranges if nothing comes back"):
//
//   - from zero is now; to zero is from + days (days 0 or over 14: 14).
//   - With to, the window length is the range's length in calendar days
//     (at least 1, at most 14), and the range is covered by as many
//     windows as it takes, the last one ending on to.
//   - Each window starts the day after the previous one ended.
//   - windows is how many to search in all: at least those covering the
//     range; 0 means those alone when to is given, DefaultWindows when not.
func searchPlan(from, to time.Time, days, windows int, now time.Time) []window {
	if from.IsZero() {
		from = now
	}
	cover := 1
	if to.IsZero() {
		if days <= 0 || days > MaxWindowDays {
			days = MaxWindowDays
		}
		if windows <= 0 {
			windows = DefaultWindows
		}
	} else {
		d := daysBetween(from, to)
		days = min(max(d, 1), MaxWindowDays)
		// A window covers days+1 calendar days (both ends included).
		cover = max((d+days)/(days+1), 1)
	}
	windows = max(windows, cover)
	plan := make([]window, 0, windows)
	for i := range windows {
		end := from.AddDate(0, 0, days)
		if i == cover-1 && !to.IsZero() {
			if left := daysBetween(from, to); left >= 0 && left < days {
				end = from.AddDate(0, 0, left)
			}
		}
		plan = append(plan, window{from, end})
		from = end.AddDate(0, 0, 1)
	}
	return plan
}

// daysBetween is the number of calendar days from a's date to b's, each
// read in its own time zone (a --to date is written in UTC, a run's from
// in the world's zone): what a search's date parameters say.
func daysBetween(a, b time.Time) int {
	ay, am, ad := a.Date()
	by, bm, bd := b.Date()
	return int(time.Date(by, bm, bd, 0, 0, 0, 0, time.UTC).Sub(time.Date(ay, am, ad, 0, 0, 0, 0, time.UTC)).Hours() / 24)
}

// BookRequest says what to book.
type BookRequest struct {
	NHSNumber string
	// ODS is the practice to book at; "" books at the registered practice
	// from PDS. Naming one is booking elsewhere (gpconnect-1.6.md §5.2):
	// PDS still traces the patient.
	ODS string
	// From is the first day searched (zero: today by the clock); To, when
	// set, the last day of the range (then Days is ignored); Days the
	// window length without To (0 or more than 14: 14); Windows how many
	// consecutive windows to search before giving up (0: those covering
	// [From, To], or DefaultWindows without To). searchPlan has the rules.
	From, To time.Time
	Days     int
	Windows  int
	Prefer   Preference
	// Description (≤ 100 characters) and Comment (≤ 500) go on the
	// Appointment; Description "" becomes a neutral text.
	Description, Comment string
	// MaxAttempts bounds booking tries when slots are taken (409
	// DUPLICATE_REJECTED); 0 means 3.
	MaxAttempts int
}

// Preference picks among free slots. Zero values do not filter; the
// patient's preferred branch surgery, when the provider gives one, is tried
// first unless IgnoreBranch (gpconnect-1.6.md §5.2).
type Preference struct {
	At             time.Time // exact start time
	Channel        string    // In-person, Telephone, Video
	PractitionerID string
	LocationID     string
	IgnoreBranch   bool
}

// Booking is a completed booking.
type Booking struct {
	Trace       *Trace
	ODS         string // where it was booked
	Patient     *ProviderPatient
	Slot        Slot
	Appointment *Appointment
	// Reconciled is true when the book call got no answer and the
	// appointment was found by listing the patient's appointments.
	Reconciled bool
	Attempts   int // book calls made
}

// Book runs the whole journey: PDS trace, SDS lookups, capability check,
// slot search over successive windows, find (or register) the patient, and
// book, trying the next slot on 409 DUPLICATE_REJECTED a bounded number of
// times. A booking POST is never retried blindly: after a timeout or lost
// connection it lists the patient's appointments to learn whether it
// happened (DESIGN.md, "The consumer is a real client").
func (s *Session) Book(ctx context.Context, r BookRequest) (*Booking, error) {
	t, err := s.Trace(ctx, r.NHSNumber, r.ODS != "")
	if err != nil {
		return nil, err
	}
	ods := r.ODS
	if ods == "" {
		ods = t.ODS
	}
	if _, err := s.Capability(ctx, ods); err != nil {
		return nil, err
	}
	from, to, slots, err := s.findSlots(ctx, ods, r, nil)
	if err != nil {
		return nil, err
	}
	patient, err := s.patient(ctx, ods, t)
	if err != nil {
		return nil, err
	}
	b := &Booking{Trace: t, ODS: ods, Patient: patient}
	maxAttempts := r.MaxAttempts
	if maxAttempts <= 0 {
		maxAttempts = 3
	}
	var tried []string
	for {
		slot, ok := pick(slots, r.Prefer, patient.PreferredBranch, tried)
		if !ok {
			return nil, &Error{Kind: ErrNoSlots, Hop: HopProvider, Step: "4a", Interaction: string(gpc.SearchSlots),
				Diagnostics: "no free slot matching the preference is left"}
		}
		tried = append(tried, slot.ID)
		b.Attempts++
		appt, err := s.book(ctx, ods, patient.ID, slot, r)
		if err == nil {
			b.Slot, b.Appointment = slot, appt
			return b, nil
		}
		e, _ := AsError(err)
		switch {
		case e != nil && (e.Kind == ErrTransport || e.Status == http.StatusGatewayTimeout):
			// No answer, or the SSP's 504 (the provider did not answer it
			// in time, gpconnect-1.6.md §1.4): did the booking happen?
			// Ask, never re-post.
			found, rerr := s.reconcile(ctx, ods, patient.ID, slot)
			if rerr != nil {
				return nil, rerr
			}
			if found == nil {
				return nil, &Error{Kind: ErrBookingUnknown, Hop: e.Hop, Step: "6a", Interaction: string(gpc.CreateAppointment), Err: err,
					Diagnostics: "the book call got no answer and no appointment for slot " + slot.ID + " is listed"}
			}
			b.Slot, b.Appointment, b.Reconciled = slot, found, true
			return b, nil
		case e != nil && e.Status == http.StatusConflict && e.Code == string(gpc.DuplicateRejected):
			if b.Attempts >= maxAttempts {
				e.Kind = ErrSlotTaken
				return nil, e
			}
			// Taken between search and book (§4.2): search again.
			slots, err = s.searchWindow(ctx, ods, from, to)
			if err != nil {
				return nil, err
			}
		default:
			return nil, err
		}
	}
}

// findSlots searches successive windows (searchPlan) until one has a slot
// matching the hard preferences.
func (s *Session) findSlots(ctx context.Context, ods string, r BookRequest, tried []string) (from, to time.Time, slots []Slot, err error) {
	plan := searchPlan(r.From, r.To, r.Days, r.Windows, s.c.cfg.Now())
	for _, w := range plan {
		from, to = w.from, w.to
		slots, err = s.searchWindow(ctx, ods, from, to)
		if err != nil {
			return from, to, nil, err
		}
		if _, ok := pick(slots, r.Prefer, "", tried); ok {
			return from, to, slots, nil
		}
	}
	return from, to, nil, &Error{Kind: ErrNoSlots, Hop: HopProvider, Step: "4a", Interaction: string(gpc.SearchSlots), Status: http.StatusOK,
		Diagnostics: "no free slot in " + itoa(len(plan)) + " windows from " + plan[0].from.Format(time.DateOnly) + " to " + to.Format(time.DateOnly)}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func (s *Session) searchWindow(ctx context.Context, ods string, from, to time.Time) ([]Slot, error) {
	res, err := s.SearchSlots(ctx, ods, from, to)
	if err != nil {
		return nil, err
	}
	// Slots in the past may be searched but not booked (§4.1).
	now := s.c.cfg.Now()
	return slices.DeleteFunc(res.Slots, func(sl Slot) bool { return !sl.StartTime.After(now) }), nil
}

// pick returns the slot to book: the first (in start order) matching p and
// not yet tried, the preferred branch's first if it has one.
func pick(slots []Slot, p Preference, branch string, tried []string) (Slot, bool) {
	var other *Slot
	for i := range slots {
		sl := &slots[i]
		switch {
		case slices.Contains(tried, sl.ID):
		case !p.At.IsZero() && !sl.StartTime.Equal(p.At):
		case p.Channel != "" && sl.Channel != p.Channel:
		case p.PractitionerID != "" && sl.PractitionerID != p.PractitionerID:
		case p.LocationID != "" && sl.LocationID != p.LocationID:
		case branch != "" && !p.IgnoreBranch && sl.LocationID == branch:
			return *sl, true
		case other == nil:
			other = sl
		}
	}
	if other == nil {
		return Slot{}, false
	}
	return *other, true
}

// patient finds the patient at the practice (cached in the session), and
// registers them when the provider has no record (§5.1).
func (s *Session) patient(ctx context.Context, ods string, t *Trace) (*ProviderPatient, error) {
	key := ods + "|" + t.NHSNumber
	if p, ok := s.patients[key]; ok {
		return p, nil
	}
	p, err := s.FindPatient(ctx, ods, t.NHSNumber)
	if err != nil {
		return nil, err
	}
	if p == nil {
		if p, err = s.RegisterPatient(ctx, ods, t); err != nil {
			return nil, err
		}
	}
	s.patients[key] = p
	return p, nil
}

func (s *Session) book(ctx context.Context, ods, patientID string, slot Slot, r BookRequest) (*Appointment, error) {
	ep, err := s.Endpoint(ctx, ods, gpc.CreateAppointment)
	if err != nil {
		return nil, err
	}
	body, err := json.Marshal(s.appointment(patientID, slot, r))
	if err != nil {
		return nil, err
	}
	c := s.c.sspCall("6a", ep, http.MethodPost, "/Appointment", nil, body, nil)
	resp, err := s.c.do(ctx, c)
	if err != nil {
		return nil, err
	}
	defer resp.release()
	return decodeAppointment(c, resp)
}

// appointment builds the GPConnect-Appointment-1 to book (§4.2): the
// booking organisation contained as #1 with ODS, name, telecom and the
// org type sent in the slot search; participants patient, the schedule's
// location and practitioner, all accepted.
func (s *Session) appointment(patientID string, slot Slot, r BookRequest) stu3.Appointment {
	id := s.c.cfg.Identity
	desc := r.Description
	if desc == "" {
		desc = "Appointment booked through GP Connect"
	}
	if len([]rune(desc)) > 100 {
		desc = string([]rune(desc)[:100])
	}
	comment := r.Comment
	if len([]rune(comment)) > 500 {
		comment = string([]rune(comment)[:500])
	}
	a := stu3.Appointment{
		ResourceType: "Appointment",
		Meta:         &stu3.Meta{Profile: []string{gpc.ProfileAppointment}},
		Contained: []stu3.Organization{{
			ResourceType: "Organization", ID: "1",
			Meta:       &stu3.Meta{Profile: []string{gpc.ProfileOrganization}},
			Identifier: []stu3.Identifier{{System: gpc.SystemODSCode, Value: id.OrgODS}},
			Type:       []stu3.CodeableConcept{{Coding: []stu3.Coding{{System: gpc.SystemOrgType, Code: gpc.OrgTypeGPPractice}}}},
			Name:       id.OrgName,
			Telecom:    stu3.List[stu3.ContactPoint]{{System: "phone", Value: s.c.cfg.OrgTelecom}},
		}},
		Extension:   []stu3.Extension{{URL: gpc.ExtBookingOrganisation, ValueReference: &stu3.Reference{Reference: "#1"}}},
		Status:      "booked",
		Description: desc,
		Start:       slot.Start,
		End:         slot.End,
		Slot:        []stu3.Reference{stu3.Ref("Slot", slot.ID)},
		Created:     s.c.cfg.Now().UTC().Format("2006-01-02T15:04:05+00:00"),
		Comment:     comment,
		Participant: []stu3.AppointmentParticipant{
			{Actor: ptr(stu3.Ref("Patient", patientID)), Status: "accepted"},
			{Actor: ptr(stu3.Ref("Location", slot.LocationID)), Status: "accepted"},
		},
	}
	if slot.PractitionerID != "" {
		a.Participant = append(a.Participant, stu3.AppointmentParticipant{Actor: ptr(stu3.Ref("Practitioner", slot.PractitionerID)), Status: "accepted"})
	}
	return a
}

func ptr[T any](v T) *T { return &v }

// reconcile lists the patient's appointments on the slot's day and returns
// the booked one holding the slot, or nil.
func (s *Session) reconcile(ctx context.Context, ods, patientID string, slot Slot) (*Appointment, error) {
	day := slot.StartTime
	list, err := s.patientAppointments(ctx, "6r", ods, patientID, day, day)
	if err != nil {
		return nil, err
	}
	want := stu3.Ref("Slot", slot.ID).Reference
	for _, a := range list {
		if a.Status != "booked" {
			continue
		}
		for _, ref := range a.Slot {
			if ref.Reference == want {
				etag := ""
				if a.Meta != nil && a.Meta.VersionID != "" {
					etag = `W/"` + a.Meta.VersionID + `"`
				}
				return &Appointment{Resource: a, ETag: etag}, nil
			}
		}
	}
	return nil, nil
}
