package provider

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"

	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/internal/stu3"
)

// CheckRequest applies the rules gpconnect-1.6.md sets for a request of
// interaction in that can be judged from the request alone — its headers,
// query and body, without the practice's state or clock: the find patient
// identifier (§3.2), the register patient Parameters (§3.3), the slot
// search parameters (§4.1), the Appointment of book, amend and cancel
// (§4.2, §4.4, §4.5; If-Match is judged apart: conformance FHIR_IF_MATCH_SENT) and the appointment search's dates
// (§4.6). It returns the *gpc.Error this provider answers such a request
// with, or nil; the handlers apply the same functions, so the two cannot
// disagree. Interactions without such rules give nil.
func CheckRequest(in gpc.Interaction, h http.Header, q url.Values, body []byte) error {
	_, err := Parse(in, h, "", q, body)
	return err
}

// Parsed is what Parse made of a request — the find patient NHS number, the
// slot search, the decoded Appointment — with what it was made from: the
// interaction, the Content-Type, the raw query and the body. The sandbox's
// SSP judges a request with Parse and hands its Parsed on with the request
// it forwards to this provider in process (WithParsed); the provider then
// reads the request from it rather than parsing it again, and only when
// the request it got is the one it was made from (parsedFor): the parse is
// a function of those four alone.
type Parsed struct {
	in    gpc.Interaction
	ctype string
	query string
	body  []byte

	nhs     *string           // SearchPatient
	slots   slotSearch        // SearchSlots, when slotsOK
	slotsOK bool              // slots holds a valid search
	appt    *stu3.Appointment // CreateAppointment, AmendAppointment, CancelAppointment: the body decoded
}

// Parse is CheckRequest, which also returns what it made of the request
// (nil when the interaction has no rules), for WithParsed. rawQuery is the
// query q was parsed from.
func Parse(in gpc.Interaction, h http.Header, rawQuery string, q url.Values, body []byte) (*Parsed, error) {
	p := &Parsed{in: in, ctype: gpc.Get(h, "Content-Type"), query: rawQuery, body: body}
	switch in {
	case gpc.SearchPatient:
		nhs, err := findPatientQuery(q)
		if err == nil {
			p.nhs = &nhs
		}
		return p, err
	case gpc.SearchSlots:
		s, err := parseSlotSearch(q)
		p.slots, p.slotsOK = s, err == nil
		return p, err
	case gpc.SearchPatientAppts:
		_, err := appointmentRange(q)
		return nil, err
	case gpc.RegisterPatient:
		body, err := requestJSON(h, body)
		if err != nil {
			return nil, err
		}
		_, err = registration(body)
		return nil, err
	case gpc.CreateAppointment, gpc.AmendAppointment, gpc.CancelAppointment:
		body, err := requestJSON(h, body)
		if err != nil {
			return nil, err
		}
		a, err := decodeAppointmentBody(body)
		if err != nil {
			return nil, err
		}
		p.appt = &a
		switch in {
		case gpc.CreateAppointment:
			_, err = bookingRules(a)
		case gpc.AmendAppointment:
			if _, err = checkAppointment(a, false); err == nil {
				err = amendRules(a)
			}
		default:
			if _, err = checkAppointment(a, false); err == nil {
				_, err = cancelRules(a)
			}
		}
		return p, err
	}
	return nil, nil
}

// ParsedKey is the context key of a request's *Parsed: WithParsed sets
// it, and a context of the caller's own may answer it instead (the
// sandbox's in-process forward does, in the context it makes anyway).
type ParsedKey struct{}

// WithParsed returns ctx carrying p, for the request the provider is to
// read from p (Parsed).
func WithParsed(ctx context.Context, p *Parsed) context.Context {
	return context.WithValue(ctx, ParsedKey{}, p)
}

// parsedFor is the Parsed r carries when it was made from r's interaction,
// Content-Type and query (the caller compares the body it reads), else nil.
func parsedFor(r *request) *Parsed {
	p, _ := r.Context().Value(ParsedKey{}).(*Parsed)
	if p == nil || p.in != r.interaction || p.query != r.URL.RawQuery || p.ctype != gpc.Get(r.Header, "Content-Type") {
		return nil
	}
	return p
}

// jsonBody is readBody's rule for a JSON body already read: one that is
// not JSON is 400 BAD_REQUEST (§6.2).
func jsonBody(body []byte) error {
	if !json.Valid(body) {
		return gpc.Errorf(gpc.BadRequest, "Request body is not valid JSON")
	}
	return nil
}
