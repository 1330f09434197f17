package runner

import (
	"fmt"
	"net/http"

	"github.com/spine-sandbox/spine-sandbox/internal/consumer"
	"github.com/spine-sandbox/spine-sandbox/internal/scenario"
)

// Outcome is how a run ended, typed: what expect.outcome is compared with
// (Matches) and what reports print (String). The built-in consumer's comes
// from its result or error (outcomeOf); an external consumer's is read from
// the journal (JournalOutcome).
type Outcome struct {
	// Kind is one of scenario's Outcome* kinds: booked, none, ok,
	// cancelled, amended or error.
	Kind string
	// Hop, Status, Code and Reason say where an error outcome stopped: the
	// service (pds, sds, ssp, provider), the HTTP status (0 for no answer),
	// the Spine code or SSP message, and why the consumer stopped (one of
	// scenario.Reasons; "" when unknown, as for an external consumer).
	Hop    string
	Status int
	Code   string
	Reason string
	// Err is the text of an error that is not the consumer's own (a run
	// that failed in an unexpected way); such an outcome matches nothing.
	Err string
}

// outcomeKind is an outcome of a kind that needs no details.
func outcomeKind(kind string) Outcome { return Outcome{Kind: kind} }

// wantedOutcome is the expected outcome as an Outcome, for messages.
func wantedOutcome(o scenario.Outcome) Outcome {
	if o.Kind == scenario.OutcomeError && o.Error != nil {
		return Outcome{Kind: scenario.OutcomeError, Hop: string(o.Error.Hop), Status: o.Error.Status, Code: o.Error.Code, Reason: string(o.Error.Reason)}
	}
	return Outcome{Kind: o.Kind}
}

// Matches reports whether o meets the expected outcome: the same kind and,
// for an error, the same hop and status; an expected error without a code
// matches any code, and one without a reason any reason.
func (o Outcome) Matches(want scenario.Outcome) bool {
	if o.Kind != want.Kind || o.Err != "" {
		return false
	}
	if want.Kind != scenario.OutcomeError || want.Error == nil {
		return true
	}
	w := want.Error
	return o.Hop == string(w.Hop) && o.Status == w.Status &&
		(w.Code == "" || w.Code == o.Code) && (w.Reason == "" || string(w.Reason) == o.Reason)
}

// String words o as reports show it: "booked", "none", …, or
// "error hop status [code] (reason)", or "error: text" for an error that
// is not the consumer's.
func (o Outcome) String() string {
	switch {
	case o.Kind == "":
		return ""
	case o.Err != "":
		return "error: " + o.Err
	case o.Kind != scenario.OutcomeError:
		return o.Kind
	}
	s := fmt.Sprintf("error %s %d", o.Hop, o.Status)
	if o.Code != "" {
		s += " " + o.Code
	}
	if o.Reason != "" {
		s += " (" + o.Reason + ")"
	}
	return s
}

// MarshalText writes String, so JSON holds the outcome as reports word it.
func (o Outcome) MarshalText() ([]byte, error) { return []byte(o.String()), nil }

// reasons names each kind of consumer failure as expect.outcome's
// error.reason does (scenario.Reasons).
var reasons = map[error]string{
	consumer.ErrInvalidNHSNumber: "invalid-nhs-number",
	consumer.ErrPatientNotFound:  "patient-not-found",
	consumer.ErrNoRecord:         "patient-not-found",
	consumer.ErrInvalidated:      "invalidated",
	consumer.ErrDeceased:         "deceased",
	consumer.ErrRestricted:       "restricted",
	consumer.ErrNoPractice:       "no-practice",
	consumer.ErrUnverified:       "unverified",
	consumer.ErrNoEndpoint:       "no-endpoint",
	consumer.ErrNoDevice:         "no-device",
	consumer.ErrCapability:       "capability",
	consumer.ErrSlotTaken:        "slot-taken",
	consumer.ErrBookingUnknown:   "booking-unknown",
	consumer.ErrRemote:           "remote",
	consumer.ErrTransport:        "transport",
	consumer.ErrBadResponse:      "bad-response",
}

// errorOutcome is the outcome of a consumer error; running out of free
// slots is the outcome none, not an error.
func errorOutcome(err error) Outcome {
	e, ok := consumer.AsError(err)
	if !ok {
		return Outcome{Kind: scenario.OutcomeError, Err: err.Error()}
	}
	if e.Kind == consumer.ErrNoSlots {
		return outcomeKind(scenario.OutcomeNone)
	}
	return Outcome{Kind: scenario.OutcomeError, Hop: e.Hop, Status: e.Status, Code: e.Code, Reason: reasons[e.Kind]}
}

// ok is the status of a request that succeeded.
func ok(status int) bool { return status > 0 && status < http.StatusBadRequest }
