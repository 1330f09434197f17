package consumer

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/internal/stu3"
)

// The consumer's actions: gpc-consumer's commands and a scenario's
// run.action are these, done by Session.Do, so the command and the runner
// make the same requests for the same request.
const (
	ActionBook         = "book"
	ActionSlots        = "slots"
	ActionAppointments = "appointments"
	ActionCancel       = "cancel"
	ActionAmend        = "amend"
)

// DefaultAppointmentDays is how far an appointments listing looks ahead
// when no To is given. GP Connect sets no limit on a patient's appointment
// search (gpconnect-1.6.md §4.6 requires only both bounds, neither in the
// past); the 14 days of a slot search (§4.1) do not apply to it.
const DefaultAppointmentDays = 28

// Request is one action and its options.
type Request struct {
	Action    string // one of the Action* names; "" is book
	NHSNumber string
	// ODS is the practice to act at; "" is the registered practice from
	// PDS (for cancel and amend without an NHS number it is required).
	ODS string
	// From and To are the dates searched: free slots (book, slots; with
	// Windows and the rules of searchPlan) or appointments (one search,
	// To defaulting to From + DefaultAppointmentDays). From zero is now.
	From, To time.Time
	Windows  int
	Prefer   Preference
	// Description and Comment go on the booking (book) or replace the
	// appointment's (amend).
	Description, Comment string
	Reason               string // cancel: the cancellation reason ("" a neutral one)
	// AppointmentID is the appointment cancel and amend act on; "" books
	// one first (with the request's range and preferences).
	AppointmentID string
	MaxAttempts   int // book: as BookRequest.MaxAttempts
	Repeat        int // book: how many bookings in this session (0: one)
	// Limit, when positive, bounds each part of the action on its own: a
	// booking, the patient lookup, the change, a listing.
	Limit time.Duration
}

// Result is what an action found or did; Do returns the part it reached
// with an error too.
type Result struct {
	Trace   *Trace // nil when the action traced no patient
	ODS     string // the practice acted at
	Patient *ProviderPatient
	// Booking is the last booking made (book, or cancel and amend that
	// booked first); Bookings how many were made.
	Booking  *Booking
	Bookings int
	// Slots are the free slots of every window searched (slots), each
	// window's in start order.
	Slots        []Slot
	Appointments []*stu3.Appointment // appointments
	Appointment  *Appointment        // cancel, amend: the appointment as changed
}

// Do performs one action in the session.
func (s *Session) Do(ctx context.Context, r Request) (*Result, error) {
	res := &Result{ODS: r.ODS}
	var err error
	switch r.Action {
	case "", ActionBook:
		err = s.doBook(ctx, r, res, max(r.Repeat, 1))
	case ActionSlots:
		err = s.doSlots(ctx, r, res)
	case ActionAppointments:
		err = s.doAppointments(ctx, r, res)
	case ActionCancel, ActionAmend:
		err = s.doChange(ctx, r, res)
	default:
		err = errors.New("consumer: unknown action " + r.Action)
	}
	return res, err
}

// part bounds one part of an action by r.Limit.
func (r Request) part(ctx context.Context) (context.Context, context.CancelFunc) {
	if r.Limit > 0 {
		return context.WithTimeout(ctx, r.Limit)
	}
	return context.WithCancel(ctx)
}

func (r Request) book() BookRequest {
	return BookRequest{NHSNumber: r.NHSNumber, ODS: r.ODS, From: r.From, To: r.To, Windows: r.Windows, Prefer: r.Prefer,
		Description: r.Description, Comment: r.Comment, MaxAttempts: r.MaxAttempts}
}

// doBook books n times (run.repeat), each booking a part of its own.
func (s *Session) doBook(ctx context.Context, r Request, res *Result, n int) error {
	req := r.book()
	for range n {
		pctx, cancel := r.part(ctx)
		b, err := s.Book(pctx, req)
		cancel()
		if err != nil {
			return err
		}
		res.Booking, res.Bookings = b, res.Bookings+1
		res.Trace, res.ODS, res.Patient = b.Trace, b.ODS, b.Patient
	}
	return nil
}

// traceFor traces r's patient, when named, for the practice to act at.
func (s *Session) traceFor(ctx context.Context, r Request, res *Result) error {
	if r.NHSNumber == "" {
		return nil
	}
	t, err := s.Trace(ctx, r.NHSNumber, r.ODS != "")
	if err != nil {
		return err
	}
	res.Trace = t
	if res.ODS == "" {
		res.ODS = t.ODS
	}
	return nil
}

// doSlots traces the patient (when named) for their practice, looks the
// practice up on SDS, reads its capability statement and searches free
// slots in every window of the plan (gpconnect-1.6.md §3.1, §4.1).
func (s *Session) doSlots(ctx context.Context, r Request, res *Result) error {
	ctx, cancel := r.part(ctx)
	defer cancel()
	if err := s.traceFor(ctx, r, res); err != nil {
		return err
	}
	if _, err := s.Capability(ctx, res.ODS); err != nil {
		return err
	}
	for _, w := range searchPlan(r.From, r.To, 0, r.Windows, s.c.cfg.Now()) {
		found, err := s.SearchSlots(ctx, res.ODS, w.from, w.to)
		if err != nil {
			return err
		}
		res.Slots = append(res.Slots, found.Slots...)
	}
	return nil
}

// findPatient traces the patient and finds them at the practice, as a
// consumer must before it can name their appointments (§4.6); no record
// there is ErrNoRecord.
func (s *Session) findPatient(ctx context.Context, r Request, res *Result) error {
	if err := s.traceFor(ctx, r, res); err != nil {
		return err
	}
	p, err := s.FindPatient(ctx, res.ODS, res.Trace.NHSNumber)
	if err != nil {
		return err
	}
	if p == nil {
		return &Error{Kind: ErrNoRecord, Hop: HopProvider, Step: "5a", Interaction: string(gpc.SearchPatient), Status: http.StatusOK,
			Diagnostics: "practice " + res.ODS + " has no record of NHS number " + res.Trace.NHSNumber}
	}
	res.Patient = p
	return nil
}

// doAppointments finds the patient at the practice and lists their
// appointments from From (now) to To (DefaultAppointmentDays on), one
// search (§4.6).
func (s *Session) doAppointments(ctx context.Context, r Request, res *Result) error {
	ctx, cancel := r.part(ctx)
	defer cancel()
	if r.NHSNumber == "" {
		return errors.New("consumer: appointments needs an NHS number")
	}
	if err := s.findPatient(ctx, r, res); err != nil {
		return err
	}
	from, to := r.From, r.To
	if from.IsZero() {
		from = s.c.cfg.Now()
	}
	if to.IsZero() {
		to = from.AddDate(0, 0, DefaultAppointmentDays)
	}
	list, err := s.PatientAppointments(ctx, res.ODS, res.Patient.ID, from, to)
	if err != nil {
		return err
	}
	res.Appointments = list
	return nil
}

// doChange cancels or amends an appointment: AppointmentID, after finding
// the patient at the practice when an NHS number is given, or one it books
// first (gpconnect-1.6.md §4.4, §4.5).
func (s *Session) doChange(ctx context.Context, r Request, res *Result) error {
	id := r.AppointmentID
	if id == "" {
		// The booking's description and comment are the book action's;
		// the request's are the amendment's.
		book := r
		book.Description, book.Comment = "", ""
		if err := s.doBook(ctx, book, res, 1); err != nil {
			return err
		}
		id = res.Booking.Appointment.ID()
	} else if r.NHSNumber != "" {
		pctx, cancel := r.part(ctx)
		err := s.findPatient(pctx, r, res)
		cancel()
		if err != nil {
			return err
		}
	}
	if res.ODS == "" {
		return errors.New("consumer: " + r.Action + " needs a practice (ODS) or an NHS number")
	}
	ctx, cancel := r.part(ctx)
	defer cancel()
	var a *Appointment
	var err error
	if r.Action == ActionCancel {
		a, err = s.CancelAppointment(ctx, res.ODS, id, r.Reason)
	} else {
		a, err = s.AmendAppointment(ctx, res.ODS, id, r.Description, r.Comment)
	}
	if err != nil {
		return err
	}
	res.Appointment = a
	return nil
}
