package provider

import (
	"encoding/json"
	"net/http"
	"net/url"

	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
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
	switch in {
	case gpc.SearchPatient:
		_, err := findPatientQuery(q)
		return err
	case gpc.SearchSlots:
		_, err := parseSlotSearch(q)
		return err
	case gpc.SearchPatientAppts:
		_, err := appointmentRange(q)
		return err
	case gpc.RegisterPatient:
		body, err := requestJSON(h, body)
		if err != nil {
			return err
		}
		_, err = registration(body)
		return err
	case gpc.CreateAppointment, gpc.AmendAppointment, gpc.CancelAppointment:
		body, err := requestJSON(h, body)
		if err != nil {
			return err
		}
		a, err := decodeAppointmentBody(body)
		if err != nil {
			return err
		}
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
		return err
	}
	return nil
}

// jsonBody is readBody's rule for a JSON body already read: one that is
// not JSON is 400 BAD_REQUEST (§6.2).
func jsonBody(body []byte) error {
	if !json.Valid(body) {
		return gpc.Errorf(gpc.BadRequest, "Request body is not valid JSON")
	}
	return nil
}
