package sandbox_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/conformance"
	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/internal/journal"
	"github.com/spine-sandbox/spine-sandbox/internal/jwt"
	"github.com/spine-sandbox/spine-sandbox/internal/sandbox"
)

// strictCase is a request that fails one error check (and also, where no
// request can fail it alone, the checks in also).
type strictCase struct {
	// request builds the request in session ss; before, when set, sends
	// what must come first (the earlier use of a trace ID).
	request func(t *testing.T, e *env, ss *sandbox.Session) *http.Request
	also    []string
	// lenient is the status a lenient session answers: the mocks' own.
	lenient int
}

// booking is a valid booking of the first free slot through the SSP with
// its headers changed by edit.
func booking(edit func(h http.Header)) func(*testing.T, *env, *sandbox.Session) *http.Request {
	return func(t *testing.T, _ *env, ss *sandbox.Session) *http.Request {
		req := gpcRequest(t, ss, true, gpc.CreateAppointment, http.MethodPost, "/Appointment", bookBody(t, ss, freeSlots(ss)[0]))
		edit(req.Header)
		return req
	}
}

func header(name, value string) func(http.Header) {
	return func(h http.Header) { h.Set(name, value) }
}

// bearer replaces the token with raw.
func bearer(raw string) func(http.Header) { return header("Authorization", raw) }

// claims rewrites the booking token's claims with f (the token is
// unsigned, so nothing needs re-signing).
func claims(f func(c map[string]any)) func(http.Header) {
	return func(h http.Header) {
		parts := strings.Split(strings.TrimPrefix(h.Get("Authorization"), "Bearer "), ".")
		raw, _ := base64.RawURLEncoding.DecodeString(parts[1])
		var c map[string]any
		_ = json.Unmarshal(raw, &c)
		f(c)
		b, _ := json.Marshal(c)
		parts[1] = base64.RawURLEncoding.EncodeToString(b)
		h.Set("Authorization", "Bearer "+strings.Join(parts, "."))
	}
}

// claimsHeader rewrites the booking token's JOSE header to hdr.
func claimsHeader(hdr string) func(http.Header) {
	return func(h http.Header) {
		parts := strings.Split(strings.TrimPrefix(h.Get("Authorization"), "Bearer "), ".")
		parts[0] = base64.RawURLEncoding.EncodeToString([]byte(hdr))
		h.Set("Authorization", "Bearer "+strings.Join(parts, "."))
	}
}

func claimResource(c map[string]any, name string) map[string]any { return c[name].(map[string]any) }

// pdsRequest is a PDS retrieve of nhs with X-Request-ID id.
func pdsRequest(nhs, id string) func(*testing.T, *env, *sandbox.Session) *http.Request {
	return func(t *testing.T, _ *env, ss *sandbox.Session) *http.Request {
		req := plain(t, http.MethodGet, ss.URLs().PDS+"/Patient/"+nhs, "")
		req.Header.Set("X-Request-ID", id)
		return req
	}
}

// sdsRequest is an SDS Endpoint search with query q and X-Correlation-Id
// id ("" sends none).
func sdsRequest(q func(ss *sandbox.Session) string, id string) func(*testing.T, *env, *sandbox.Session) *http.Request {
	return func(t *testing.T, _ *env, ss *sandbox.Session) *http.Request {
		req := plain(t, http.MethodGet, ss.URLs().SDS+"/Endpoint?"+q(ss), "")
		if id != "" {
			req.Header.Set("X-Correlation-Id", id)
		}
		return req
	}
}

func endpointQuery(org string) func(ss *sandbox.Session) string {
	return func(ss *sandbox.Session) string {
		p, _ := ss.World.Practice(practiceODS)
		return url.Values{
			"organization": {gpc.SystemODSCode + "|" + org},
			"identifier":   {gpc.SystemInteractionID + "|" + string(gpc.CreateAppointment), gpc.SystemPartyKey + "|" + p.PartyKey},
		}.Encode()
	}
}

const goodID = "60e0b220-8136-4ac5-8a8b-6f5c3b9a2e11"

// viaSSP is a request for interaction in through the SSP.
func viaSSP(in gpc.Interaction, method, path, body string) func(*testing.T, *env, *sandbox.Session) *http.Request {
	return func(t *testing.T, _ *env, ss *sandbox.Session) *http.Request {
		return gpcRequest(t, ss, true, in, method, path, body)
	}
}

// change is an amend or cancel (in) of appointment 999, which does not
// exist: a request whose body breaks a rule is refused for that before the
// provider looks the appointment up. edit changes the booking body first.
func change(in gpc.Interaction, edit func(a map[string]any)) func(*testing.T, *env, *sandbox.Session) *http.Request {
	return func(t *testing.T, _ *env, ss *sandbox.Session) *http.Request {
		var a map[string]any
		_ = json.Unmarshal([]byte(bookBody(t, ss, freeSlots(ss)[0])), &a)
		a["id"] = "999"
		edit(a)
		b, _ := json.Marshal(a)
		req := gpcRequest(t, ss, true, in, http.MethodPut, "/Appointment/999", string(b))
		req.Header.Set("If-Match", `W/"1"`)
		return req
	}
}

// amendWithoutIfMatch books the first free slot, then amends its
// description without If-Match.
func amendWithoutIfMatch(t *testing.T, e *env, ss *sandbox.Session) *http.Request {
	r := e.book(t, ss, true, freeSlots(ss)[0])
	var a map[string]any
	if err := json.Unmarshal(r.body, &a); err != nil {
		t.Fatalf("booking: %v: %s", err, r)
	}
	a["description"] = "Amended without If-Match"
	b, _ := json.Marshal(a)
	return gpcRequest(t, ss, true, gpc.AmendAppointment, http.MethodPut, "/Appointment/"+a["id"].(string), string(b))
}

// bookingWith is a booking of the first free slot with its body edited.
func bookingWith(edit func(a map[string]any)) func(*testing.T, *env, *sandbox.Session) *http.Request {
	return func(t *testing.T, _ *env, ss *sandbox.Session) *http.Request {
		var a map[string]any
		_ = json.Unmarshal([]byte(bookBody(t, ss, freeSlots(ss)[0])), &a)
		edit(a)
		b, _ := json.Marshal(a)
		return gpcRequest(t, ss, true, gpc.CreateAppointment, http.MethodPost, "/Appointment", string(b))
	}
}

// strictCases has one row per error check in conformance.Checks;
// TestStrictAnswers fails when a check has no row.
var strictCases = map[string]strictCase{
	conformance.PDSXRequestID:        {request: pdsRequest(nhsBooked, "abc"), lenient: 400},
	conformance.PDSNHSNumberMod11:    {request: pdsRequest("9693632108", goodID), lenient: 400},
	conformance.SDSCorrelationIDUUID: {request: sdsRequest(endpointQuery(practiceODS), "nope"), lenient: 400},
	// A blank organization beside interaction and party key: SDS itself
	// ignores it and answers 200.
	conformance.SDSParameters:       {request: sdsRequest(endpointQuery(""), goodID), lenient: 200},
	conformance.SSPTraceIDUUID:      {request: booking(header("Ssp-TraceID", "abc")), lenient: 201},
	conformance.SSPFromASIDFormat:   {request: booking(header("Ssp-From", "12345")), lenient: 201},
	conformance.SSPToASIDFormat:     {request: booking(header("Ssp-To", "12345")), also: []string{conformance.JourneySSPToNotFromSDS}, lenient: 400},
	conformance.SSPInteractionKnown: {request: booking(header("Ssp-InteractionID", "urn:nhs:names:services:gpconnect:fhir:rest:create:nothing-1")), lenient: 400},
	jwt.RuleMissing:                 {request: booking(func(h http.Header) { h.Del("Authorization") }), lenient: 400},
	jwt.RuleNotBearer:               {request: booking(bearer("Basic dXNlcjpwYXNz")), lenient: 400},
	jwt.RuleMalformed:               {request: booking(bearer("Bearer abc")), lenient: 400},
	jwt.RuleNotBase64URL:            {request: booking(bearer("Bearer a+b.c.")), lenient: 400},
	jwt.RuleSignaturePresent:        {request: booking(func(h http.Header) { h.Set("Authorization", h.Get("Authorization")+"c2ln") }), lenient: 400},
	jwt.RuleHeaderInvalid:           {request: booking(claimsHeader(`{"alg":"HS256","typ":"JWT"}`)), lenient: 400},
	jwt.RulePayloadNotJSON: {request: booking(func(h http.Header) {
		h.Set("Authorization", "Bearer "+base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))+"."+base64.RawURLEncoding.EncodeToString([]byte(`[1]`))+".")
	}), lenient: 400},
	jwt.RuleClaimMissing:           {request: booking(claims(func(c map[string]any) { delete(c, "iss") })), lenient: 400},
	jwt.RuleClaimWrongType:         {request: booking(claims(func(c map[string]any) { c["iss"] = 7 })), lenient: 400},
	jwt.RuleRequestedRecordPresent: {request: booking(claims(func(c map[string]any) { c["requested_record"] = map[string]any{} })), lenient: 400},
	jwt.RuleExpNotIatPlus300:       {request: booking(claims(func(c map[string]any) { c["exp"] = c["iat"].(float64) + 301 })), lenient: 400},
	jwt.RuleExpired: {request: booking(claims(func(c map[string]any) {
		c["iat"] = c["iat"].(float64) - 600
		c["exp"] = c["iat"].(float64) + 300
	})), lenient: 400},
	jwt.RuleReasonNotDirectCare:      {request: booking(claims(func(c map[string]any) { c["reason_for_request"] = "migration" })), lenient: 400},
	jwt.RuleScopeInvalid:             {request: booking(claims(func(c map[string]any) { c["requested_scope"] = "patient/*.delete" })), lenient: 400},
	jwt.RuleScopeWrongForInteraction: {request: booking(claims(func(c map[string]any) { c["requested_scope"] = string(gpc.PatientRead) })), lenient: 400},
	jwt.RuleAudNotServiceRoot:        {request: booking(claims(func(c map[string]any) { c["aud"] = "https://elsewhere.test/A20047/STU3/1/gpconnect" })), lenient: 400},
	jwt.RuleDeviceInvalid: {request: booking(claims(func(c map[string]any) {
		claimResource(c, "requesting_device")["resourceType"] = "Patient"
	})), lenient: 422},
	jwt.RuleDeviceIncomplete: {request: booking(claims(func(c map[string]any) { delete(claimResource(c, "requesting_device"), "model") })), lenient: 400},
	jwt.RuleOrganizationInvalid: {request: booking(claims(func(c map[string]any) {
		claimResource(c, "requesting_organization")["resourceType"] = "Patient"
	})), lenient: 422},
	jwt.RuleOrganizationIncomplete: {request: booking(claims(func(c map[string]any) { delete(claimResource(c, "requesting_organization"), "name") })), lenient: 400},
	jwt.RulePractitionerInvalid: {request: booking(claims(func(c map[string]any) {
		claimResource(c, "requesting_practitioner")["resourceType"] = "Patient"
	})), lenient: 422},
	jwt.RulePractitionerIncomplete: {request: booking(claims(func(c map[string]any) { delete(claimResource(c, "requesting_practitioner"), "name") })), lenient: 400},
	jwt.RuleSubNotPractitionerID:   {request: booking(claims(func(c map[string]any) { c["sub"] = "someone-else" })), lenient: 400},
	// A booking sent with the read metadata interaction (and its scope).
	conformance.InteractionMatchesRequest: {request: func(t *testing.T, _ *env, ss *sandbox.Session) *http.Request {
		req := gpcRequest(t, ss, true, gpc.ReadMetadata, http.MethodPost, "/Appointment", bookBody(t, ss, freeSlots(ss)[0]))
		return req
	}, lenient: 400},
	// A slot search, then a booking under the same Ssp-TraceID.
	conformance.JourneyTraceIDReused: {request: func(t *testing.T, e *env, ss *sandbox.Session) *http.Request {
		first := gpcRequest(t, ss, true, gpc.SearchSlots, http.MethodGet, slotQuery(ss), "")
		wantStatus(t, e.do(t, first), 200, "")
		return booking(header("Ssp-TraceID", first.Header.Get("Ssp-TraceID")))(t, e, ss)
	}, lenient: 201},
	// The parameter and body rules of each interaction: the provider
	// refuses them itself, strict or lenient.
	conformance.FHIRFindPatient: {request: viaSSP(gpc.SearchPatient, http.MethodGet,
		"/Patient?identifier="+url.QueryEscape(gpc.SystemNHSNumber+"|9693632108"), ""), lenient: 400},
	conformance.FHIRRegisterPatient: {request: viaSSP(gpc.RegisterPatient, http.MethodPost, "/Patient/$gpc.registerpatient",
		`{"resourceType":"Patient"}`), lenient: 422},
	conformance.FHIRSlotSearch: {request: viaSSP(gpc.SearchSlots, http.MethodGet,
		"/Slot?status=free&start=ge2026-13-40&end=le2026-12-02&_include=Slot:schedule", ""), lenient: 422},
	conformance.FHIRBookAppointment:   {request: bookingWith(func(a map[string]any) { delete(a, "participant") }), lenient: 422},
	conformance.FHIRAmendAppointment:  {request: change(gpc.AmendAppointment, func(a map[string]any) { a["status"] = "cancelled" }), lenient: 422},
	conformance.FHIRCancelAppointment: {request: change(gpc.CancelAppointment, func(map[string]any) {}), lenient: 422},
	// Recorded, never refused: the provider amends without a version
	// check, in strict mode as in lenient.
	conformance.FHIRIfMatchSent: {request: amendWithoutIfMatch, lenient: 200},
	conformance.FHIRPatientAppointments: {request: viaSSP(gpc.SearchPatientAppts, http.MethodGet,
		"/Patient/1/Appointment?start=ge2026-12-01", ""), lenient: 422},
	// Ssp-To is Y12345's ASID, the target A20047's service root.
	conformance.JourneySSPToNotFromSDS: {request: booking(header("Ssp-To", "200000000116")), lenient: 400},
}

// placeholder matches the "<...>" parts of an Answer's code or display.
var placeholder = regexp.MustCompile(`<[^>]*>`)

// matches reports whether s is pattern with each "<...>" part standing for
// any text.
func matches(pattern, s string) bool {
	lits := placeholder.Split(pattern, -1)
	for i := range lits {
		lits[i] = regexp.QuoteMeta(lits[i])
	}
	return regexp.MustCompile("^" + strings.Join(lits, ".+") + "$").MatchString(s)
}

// display is the first coding's display of an OperationOutcome body.
func display(body []byte) string {
	var oo gpc.OperationOutcome
	if json.Unmarshal(body, &oo) != nil || len(oo.Issue) == 0 || oo.Issue[0].Details == nil || len(oo.Issue[0].Details.Coding) == 0 {
		return ""
	}
	return oo.Issue[0].Details.Coding[0].Display
}

// consumerHop is the last hop the consumer sent.
func consumerHop(t *testing.T, ss *sandbox.Session) journal.Hop {
	t.Helper()
	hops := ss.Journal.Hops()
	for i := len(hops) - 1; i >= 0; i-- {
		if hops[i].From == journal.Consumer {
			return hops[i]
		}
	}
	t.Fatalf("no consumer hop in %v", hopSummary(hops))
	return journal.Hop{}
}

// failedErrors are the names of the failed error checks of conformance's
// table on h (the SSP's own extra checks left out).
func failedErrors(h journal.Hop) []string {
	out := []string{}
	for _, v := range h.Checks {
		if c, ok := conformance.Lookup(v.Check); ok && !v.Passed && c.Severity == conformance.Error && !slices.Contains(out, v.Check) {
			out = append(out, v.Check)
		}
	}
	slices.Sort(out)
	return out
}

// TestStrictAnswers sends, for every error check in conformance.Checks, a
// request that fails it: a strict session answers exactly as the check's
// Answer promises (status, journal code, display) and changes no world
// state; a lenient session passes it on to the mocks, whose own status
// comes back, and records the verdict failed.
func TestStrictAnswers(t *testing.T) {
	t.Parallel()
	strict := start(t, sandbox.Config{})
	lenient := start(t, sandbox.Config{Lenient: true})
	for name := range strictCases {
		if _, ok := conformance.Lookup(name); !ok {
			t.Errorf("row %s names no check", name)
		}
	}
	for _, c := range conformance.Checks {
		if c.Severity != conformance.Error {
			continue
		}
		tc, ok := strictCases[c.Name]
		if !ok {
			t.Errorf("no row for error check %s: add one to strictCases", c.Name)
			continue
		}
		want := append([]string{c.Name}, tc.also...)
		slices.Sort(want)
		t.Run(c.Name+"/strict", func(t *testing.T) {
			t.Parallel()
			ss := strict.session(t, "")
			req := tc.request(t, strict, ss)
			before := len(ss.World.Appointments(practiceODS))
			r := strict.do(t, req)
			a := c.Answer
			if !c.Answered() {
				// An error no one refuses: strict answers as lenient does.
				assert.Equal(t, r.status, tc.lenient, "strict status of a check no one refuses: "+r.String())
				assert.DeepEqual(t, failedErrors(consumerHop(t, ss)), want, "failed error verdicts")
				return
			}
			if r.status != a.Status || !matches(a.Code, r.code()) || !matches(a.Display, display(r.body)) {
				t.Fatalf("got %d %q display %q, want %d %q display %q (%s): %s", r.status, r.code(), display(r.body), a.Status, a.Code, a.Display, a.By, r)
			}
			h := consumerHop(t, ss)
			assert.Equal(t, h.Status, a.Status, "journalled status")
			assert.Equal(t, h.Code, r.code(), "journalled code")
			assert.DeepEqual(t, failedErrors(h), want, "failed error verdicts")
			assert.Equal(t, len(ss.World.Appointments(practiceODS)), before, "appointments after a refused request")
			if a.By == conformance.BySandbox && h.To == journal.SSP {
				for _, hop := range ss.Journal.Hops() {
					if hop.From == journal.SSP && hop.Interaction == h.Interaction {
						t.Errorf("the refused request reached the provider: %s %d", hop.Name, hop.Status)
					}
				}
			}
		})
		t.Run(c.Name+"/lenient", func(t *testing.T) {
			t.Parallel()
			ss := lenient.session(t, "")
			req := tc.request(t, lenient, ss)
			before := len(ss.World.Appointments(practiceODS))
			r := lenient.do(t, req)
			assert.Equal(t, r.status, tc.lenient, "lenient status: "+r.String())
			h := consumerHop(t, ss)
			assert.Equal(t, h.Status, tc.lenient, "journalled status")
			assert.DeepEqual(t, failedErrors(h), want, "failed error verdicts")
			booked := 0
			if r.status == http.StatusCreated {
				booked = 1
			}
			assert.Equal(t, len(ss.World.Appointments(practiceODS)), before+booked, "appointments")
		})
	}
}

// TestStrictReusedTraceIDOnBook: a booking under an Ssp-TraceID already
// used in the session is refused in strict mode with the SSP's 400 before
// the provider sees it, books nothing, and the same booking under a fresh
// trace ID then succeeds (nothing was half applied).
func TestStrictReusedTraceIDOnBook(t *testing.T) {
	t.Parallel()
	e := start(t, sandbox.Config{})
	ss := e.session(t, "")
	search := gpcRequest(t, ss, true, gpc.SearchSlots, http.MethodGet, slotQuery(ss), "")
	wantStatus(t, e.do(t, search), 200, "")
	slot := freeSlots(ss)[0]
	book := gpcRequest(t, ss, true, gpc.CreateAppointment, http.MethodPost, "/Appointment", bookBody(t, ss, slot))
	book.Header.Set("Ssp-TraceID", search.Header.Get("Ssp-TraceID"))
	r := e.do(t, book)
	wantStatus(t, r, 400, "REUSED_HEADER_SSP-TRACEID")
	assert.Equal(t, slotBooked(ss, slot.ID), false, "slot booked by a refused request")
	assert.Equal(t, len(ss.World.Appointments(practiceODS)), 0, "appointments")

	wantStatus(t, e.book(t, ss, true, slot), 201, "")
	assert.Equal(t, slotBooked(ss, slot.ID), true, "slot booked under a fresh trace ID")
	assert.DeepEqual(t, hopSummary(ss.Journal.Hops()), []string{
		"ssp→provider 4b provider.search free slots 200",
		"consumer→ssp 4a ssp.search free slots 200",
		"consumer→ssp 6a ssp.book appointment 400",
		"ssp→provider 6b provider.book appointment 201",
		"consumer→ssp 6a ssp.book appointment 201",
	}, "journal")
	refused := ss.Journal.Hops()[2]
	assert.Equal(t, refused.Code, "REUSED_HEADER_SSP-TRACEID", "journalled code")
	assert.DeepEqual(t, failedErrors(refused), []string{conformance.JourneyTraceIDReused}, "failed error verdicts")
}

// TestStrictRefusalUsesNoFault: a request the sandbox refuses does not
// use up a scenario fault meant for the next matching request.
func TestStrictRefusalUsesNoFault(t *testing.T) {
	t.Parallel()
	e := start(t, sandbox.Config{})
	ss := e.session(t, withFaults("  - {hop: provider, interaction: book appointment, status: 500, spine_code: INTERNAL_SERVER_ERROR, times: 1}\n"))
	search := gpcRequest(t, ss, true, gpc.SearchSlots, http.MethodGet, slotQuery(ss), "")
	wantStatus(t, e.do(t, search), 200, "")
	slot := freeSlots(ss)[0]
	book := gpcRequest(t, ss, true, gpc.CreateAppointment, http.MethodPost, "/Appointment", bookBody(t, ss, slot))
	book.Header.Set("Ssp-TraceID", search.Header.Get("Ssp-TraceID"))
	wantStatus(t, e.do(t, book), 400, "REUSED_HEADER_SSP-TRACEID")
	wantStatus(t, e.book(t, ss, true, slot), 500, string(gpc.InternalServerError))
	wantStatus(t, e.book(t, ss, true, slot), 201, "")
}
