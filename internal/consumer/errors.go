package consumer

import (
	"errors"
	"fmt"
)

// Hops an error can come from: the service that answered (or failed to).
const (
	HopPDS      = "pds"
	HopSDS      = "sds"
	HopSSP      = "ssp"
	HopProvider = "provider"
)

// Kinds of failure the journey distinguishes. Test with errors.Is; the
// *Error that wraps one says where it happened.
var (
	ErrInvalidNHSNumber = errors.New("invalid NHS number")
	ErrPatientNotFound  = errors.New("patient not found on PDS")
	ErrNoRecord         = errors.New("the practice has no record of the patient")
	ErrInvalidated      = errors.New("NHS number invalidated on PDS")
	ErrDeceased         = errors.New("patient is deceased")
	ErrRestricted       = errors.New("patient is restricted (no registered practice available)")
	ErrNoPractice       = errors.New("patient has no registered practice on PDS")
	ErrUnverified       = errors.New("NHS number not verified on PDS")
	ErrNoEndpoint       = errors.New("no SDS endpoint")
	ErrNoDevice         = errors.New("no SDS device (ASID)")
	ErrCapability       = errors.New("provider does not offer what the journey needs")
	ErrNoSlots          = errors.New("no free slots")
	ErrSlotTaken        = errors.New("slot no longer free")
	ErrBookingUnknown   = errors.New("booking outcome unknown")
	ErrRemote           = errors.New("remote error")
	ErrTransport        = errors.New("no answer")
	ErrBadResponse      = errors.New("unreadable response")
)

// Error is a failed step of the journey: the hop that failed, the step id
// (DESIGN.md's table: 1a, 2a, 2c, 3a, 4a, 5a, branch, 6a, ...), the HTTP
// status and the Spine code of the OperationOutcome, if any.
type Error struct {
	Kind        error  // one of the Err* values above
	Hop         string // pds, sds, ssp or provider
	Step        string
	Interaction string // GP Connect interaction ID, for SSP calls
	Status      int    // HTTP status; 0 when there was no answer
	Code        string // Spine code (or the SSP's message) from the OperationOutcome
	Diagnostics string
	Err         error // underlying cause, if any
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("%s step %s: %v", e.Hop, e.Step, e.Kind)
	if e.Status != 0 {
		msg += fmt.Sprintf(": HTTP %d", e.Status)
	}
	if e.Code != "" {
		msg += " " + e.Code
	}
	if e.Diagnostics != "" {
		msg += ": " + e.Diagnostics
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Is makes errors.Is(err, ErrDeceased) and the like work.
func (e *Error) Is(target error) bool { return target == e.Kind }

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// AsError returns err's *Error, if any.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}
