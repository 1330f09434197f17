// Package conformance holds the one table of named checks the sandbox
// applies to the consumer's requests (Checks, from which
// docs/conformance-checks.md is generated), says how strict mode answers
// each failed one (Answer), and judges what no single mock judges itself.
//
// Who judges what: mocks/pds and mocks/sds run their own checks
// (internal/spinerules PDSRules, SDSRules) and report the verdicts through
// the hook the sandbox hands them; mocks/ssp reports its own
// (spinerules.SSPChecks) the same way. This package judges the consumer's
// request to the SSP (SSPJudge: every JWT rule, the interaction against
// method and path, each interaction's FHIR parameters and body with the
// provider's rules handed in, Accept, and the Ssp-* header syntax the SSP
// also reports, whose verdicts the SSP's replace, Merge), and what no single
// mock can see: the journey's order, a reused trace id, the cross-hop
// Ssp-To rule, the SDS LDAP searches (ldap.go). What no mock sees is
// answered by the sandbox before any mock runs, in the SSP's shape
// (internal/sandbox strict.go); most failures are refused by the mocks
// themselves. Lenient mode records every verdict and answers none.
//
// It imports no mock: rules it shares with one live in internal/jwt,
// internal/spinerules and internal/gpc, and the provider's FHIR rules are
// handed in (RequestRules).
package conformance

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/internal/journal"
	"github.com/spine-sandbox/spine-sandbox/internal/jwt"
	"github.com/spine-sandbox/spine-sandbox/internal/scenario"
	"github.com/spine-sandbox/spine-sandbox/internal/spinerules"
	"github.com/spine-sandbox/spine-sandbox/internal/world"
)

// Check describes one named conformance check.
type Check struct {
	Name     string // stable UPPER_SNAKE name, as in journal.Verdict.Check
	What     string // what must hold
	Section  string // where the spec says so
	Severity string // "error" or "warning"
	Answer   Answer // how strict mode answers a failure; zero for warnings
}

// Severities.
const (
	Error   = "error"
	Warning = "warning"
)

// Who answers a failed check in strict mode (Answer.By).
const (
	BySandbox  = "sandbox"        // the sandbox, before any mock runs (no mock enforces the check)
	ByPDS      = "mocks/pds"      // mocks/pds refuses such a request itself
	BySDS      = "mocks/sds"      // mocks/sds refuses such a request itself
	BySSP      = "mocks/ssp"      // mocks/ssp refuses such a request itself (strict SSP)
	ByProvider = "mocks/provider" // the provider refuses such a request itself
)

// Answer is how strict mode answers a request that fails a check: who
// refuses it, and what the consumer gets back. Shape is the party whose
// OperationOutcome the body is: PDS (R4 Spine-ErrorOrWarningCode), SDS
// (STU3-era ValueSet, id = correlation id), SSP (gpc.SSPOutcome) or
// Provider (GPConnect-OperationOutcome-1).
type Answer struct {
	By     string        // BySandbox or the mock that refuses (ByPDS, ...); "" for warnings
	Shape  journal.Party // whose error body it is
	Status int           // HTTP status
	Issue  string        // FHIR issue type
	// Code is what the journal records as the hop's code (gpc.SpineCode):
	// the Spine code, or for the SSP's own shape its message, which is
	// also the display. "<...>" marks a part that names the request's
	// values.
	Code    string
	Display string // the coding's display
	Note    string // other answers the check can get, and why this one
}

// Answered reports whether strict mode answers a failure of c at all
// (warnings never are, nor the few error checks whose Answer has no By: a
// consumer fault the real provider does not refuse, recorded only).
func (c Check) Answered() bool { return c.Severity == Error && c.Answer.By != "" }

// Check names.
const (
	PDSXRequestID             = spinerules.PDSXRequestID        // mocks/pds judges it
	PDSNHSNumberMod11         = spinerules.PDSNHSNumberMod11    // mocks/pds judges it
	SDSCorrelationIDUUID      = spinerules.SDSCorrelationIDUUID // mocks/sds judges it
	SDSParameters             = spinerules.SDSParameters        // mocks/sds judges it
	SSPTraceIDUUID            = "SSP_TRACEID_UUID"
	SSPFromASIDFormat         = "SSP_FROM_ASID_FORMAT"
	SSPToASIDFormat           = "SSP_TO_ASID_FORMAT"
	SSPInteractionKnown       = "SSP_INTERACTION_KNOWN"
	InteractionMatchesRequest = "INTERACTION_MATCHES_REQUEST"
	AcceptFHIRJSON            = "ACCEPT_FHIR_JSON"
	JourneyTraceIDReused      = "JOURNEY_TRACEID_REUSED"
	JourneyBookWithoutFind    = "JOURNEY_BOOK_WITHOUT_FIND_PATIENT"
	JourneySSPToNotFromSDS    = "JOURNEY_SSP_TO_NOT_FROM_SDS"

	FHIRFindPatient         = "FHIR_FIND_PATIENT_PARAMETERS"
	FHIRRegisterPatient     = "FHIR_REGISTER_PATIENT_BODY"
	FHIRSlotSearch          = "FHIR_SLOT_SEARCH_PARAMETERS"
	FHIRBookAppointment     = "FHIR_BOOK_APPOINTMENT_BODY"
	FHIRAmendAppointment    = "FHIR_AMEND_APPOINTMENT_BODY"
	FHIRCancelAppointment   = "FHIR_CANCEL_APPOINTMENT_BODY"
	FHIRPatientAppointments = "FHIR_PATIENT_APPOINTMENTS_PARAMETERS"
	FHIRIfMatchSent         = "FHIR_IF_MATCH_SENT"
)

// fhirRules names the check of each interaction whose parameters or body
// gpconnect-1.6.md sets rules for (RequestRules).
var fhirRules = map[gpc.Interaction]string{
	gpc.SearchPatient:      FHIRFindPatient,
	gpc.RegisterPatient:    FHIRRegisterPatient,
	gpc.SearchSlots:        FHIRSlotSearch,
	gpc.CreateAppointment:  FHIRBookAppointment,
	gpc.AmendAppointment:   FHIRAmendAppointment,
	gpc.CancelAppointment:  FHIRCancelAppointment,
	gpc.SearchPatientAppts: FHIRPatientAppointments,
}

// Checks is the one table of every check, the JWT rules included (from
// jwt.Rules) and the SDS LDAP checks (ldap.go).
// docs/conformance-checks.md is generated from it.
var Checks = append(buildChecks(), ldapChecks()...)

// sspHeader is the mock SSP's answer to a malformed Ssp-* header (its
// checks.go: problem + "_HEADER_" + name, 400 invalid).
func sspHeader(name, note string) Answer {
	msg := "INVALID_HEADER_" + strings.ToUpper(name)
	return Answer{BySSP, journal.SSP, http.StatusBadRequest, "invalid", msg, msg,
		"400 MISSING_HEADER_" + strings.ToUpper(name) + " (SSP_HEADERS_PRESENT) when the header is absent" + note}
}

// byProvider is the provider's GPConnect-OperationOutcome-1 answer.
func byProvider(status int, code gpc.Code, note string) Answer {
	e := gpc.StatusErrorf(status, code, "")
	return Answer{ByProvider, journal.Provider, status, e.IssueType(), string(code), code.Display(), note}
}

// mockRule is the table's entry for a check a mock runs and reports
// (spinerules.PDSRules, SDSRules): its name, what and section are the
// mock's, its severity an error.
func mockRule(name string, a Answer) Check {
	r, ok := spinerules.RuleNamed(name)
	if !ok {
		panic("conformance: no rule " + name)
	}
	return Check{r.Name, r.What, r.Section, Error, a}
}

func buildChecks() []Check {
	sdsBadRequest := Answer{BySDS, journal.SDS, http.StatusBadRequest, "required", string(gpc.BadRequest), "Bad request", ""}
	sdsParams := sdsBadRequest
	sdsParams.Note = "the service's own diagnostics for the parameter (Missing or invalid '<name>' query parameter. Should be ...); " +
		"mocks/sds in a strict session also refuses a blank value after system|, which the service ignores in an optional parameter " +
		"(the sandbox's choice: §3.1 wants system|value)"
	cs := []Check{
		mockRule(PDSXRequestID, Answer{ByPDS, journal.PDS, http.StatusBadRequest, "value", "INVALID_VALUE", "Provided value is invalid",
			"400 MISSING_VALUE (issue required) when the header is absent"}),
		mockRule(PDSNHSNumberMod11, Answer{ByPDS, journal.PDS, http.StatusBadRequest, "value", "INVALID_RESOURCE_ID", "Resource Id is invalid",
			"400 UNSUPPORTED_SERVICE when the number is missing (/Patient/)"}),
		mockRule(SDSCorrelationIDUUID, sdsBadRequest),
		mockRule(SDSParameters, sdsParams),
		{SSPTraceIDUUID, "Ssp-TraceID is a UUID", "gpconnect-1.6.md §1.3", Error, sspHeader("Ssp-TraceID", "")},
		{SSPFromASIDFormat, "Ssp-From is an ASID: 12 digits", "gpconnect-1.6.md §1.3", Error, sspHeader("Ssp-From", "")},
		{SSPToASIDFormat, "Ssp-To is an ASID: 12 digits", "gpconnect-1.6.md §1.3", Error, sspHeader("Ssp-To", "")},
		{SSPInteractionKnown, "Ssp-InteractionID is a Foundations or Appointment Management interaction", "gpconnect-1.6.md §1.6", Error, sspHeader("Ssp-InteractionID", "")},
	}
	for _, r := range jwt.Rules {
		// The SSP forwards the token without reading it (§1.4: it SHOULD
		// validate, SHALL log); the provider answers the first broken rule
		// (§2.4).
		a := byProvider(r.Status, r.Code, "the SSP forwards the token unread; the provider answers the first broken rule")
		if r.Name == jwt.RuleMissing {
			a = Answer{BySSP, journal.SSP, http.StatusBadRequest, "invalid", "MISSING_HEADER_AUTHORIZATION", "MISSING_HEADER_AUTHORIZATION",
				"an empty Bearer token passes the SSP and mocks/provider answers 400 BAD_REQUEST"}
		}
		cs = append(cs, Check{r.Name, r.What, "gpconnect-1.6.md " + r.Section, Error, a})
	}
	return append(cs,
		Check{InteractionMatchesRequest, "the method and path below the service root are those of Ssp-InteractionID", "gpconnect-1.6.md §1.6", Error,
			byProvider(http.StatusBadRequest, gpc.BadRequest, "a target below no registered service root is refused by mocks/ssp first (400 ENDPOINT_<registered endpoint>_CPAID_<cpaid>_VARIES_FROM_TARGETURL_<target url>); a read with an empty id (GET /Appointment/) is 404 NO_RECORD_FOUND")},
		Check{AcceptFHIRJSON, "Accept asks for application/fhir+json or application/fhir+xml", "gpconnect-1.6.md §1.3", Warning, Answer{}},
		Check{FHIRFindPatient, "find patient's identifier parameter is https://fhir.nhs.uk/Id/nhs-number|{a valid NHS number}, sent once", "gpconnect-1.6.md §3.2, §6.2", Error,
			byProvider(http.StatusBadRequest, gpc.InvalidNHSNumber, "400 INVALID_IDENTIFIER_SYSTEM for another system, 400 BAD_REQUEST without the parameter, 422 INVALID_PARAMETER without system|value")},
		Check{FHIRRegisterPatient, "the register patient body is a Parameters with one registerPatient Patient that meets §3.3's content rules", "gpconnect-1.6.md §3.3, §6.2", Error,
			byProvider(http.StatusUnprocessableEntity, gpc.InvalidResource, "400 BAD_REQUEST when the body is not JSON; §3.3's table gives other content faults their own codes")},
		Check{FHIRSlotSearch, "the slot search has start=ge and end=le dates or dateTimes at most 14 days apart, status=free and _include=Slot:schedule", "gpconnect-1.6.md §4.1, §6.2", Error,
			byProvider(http.StatusUnprocessableEntity, gpc.InvalidParameter, "400 BAD_REQUEST without status or _include=Slot:schedule")},
		Check{FHIRBookAppointment, "the booking is a GPConnect-Appointment-1: status booked, no id, start/end/created, Slot references, one Patient and one Location participant, a contained booking Organization, description ≤ 100 and comment ≤ 500 characters", "gpconnect-1.6.md §4.2, §6.2", Error,
			byProvider(http.StatusUnprocessableEntity, gpc.InvalidResource, "400 BAD_REQUEST when the body is not JSON")},
		Check{FHIRAmendAppointment, "an amend sends the whole GPConnect-Appointment-1, still booked, with no cancellation reason", "gpconnect-1.6.md §4.4, §6.2", Error,
			byProvider(http.StatusUnprocessableEntity, gpc.InvalidResource, "400 BAD_REQUEST when the body is not JSON")},
		Check{FHIRCancelAppointment, "a cancel sends the whole GPConnect-Appointment-1 with status cancelled and a cancellation reason", "gpconnect-1.6.md §4.5, §6.2", Error,
			byProvider(http.StatusUnprocessableEntity, gpc.InvalidParameter, "422 INVALID_RESOURCE for the other content rules, 400 BAD_REQUEST when the body is not JSON")},
		// An error the consumer made that no one refuses: a provider
		// applies the version check only when If-Match is sent (NHS's own
		// suite amends and cancels without it), so strict mode must not
		// refuse what the provider would process. The verdict still fails.
		Check{FHIRIfMatchSent, "an amend or cancel sends If-Match with the appointment's ETag", "gpconnect-1.6.md §1.3, §4.4, §4.5", Error,
			Answer{Note: "a provider processes the request without a version check (a stale If-Match is 409 FHIR_CONSTRAINT_VIOLATION)"}},
		Check{FHIRPatientAppointments, "the appointment search has start=ge{date} and start=le{date}, dates only, end not before start", "gpconnect-1.6.md §4.6, §6.2", Error,
			byProvider(http.StatusUnprocessableEntity, gpc.InvalidParameter, "")},
		Check{JourneyTraceIDReused, "every request has a fresh Ssp-TraceID", "gpconnect-1.6.md §1.3", Error,
			Answer{BySandbox, journal.SSP, http.StatusBadRequest, "invalid", "REUSED_HEADER_SSP-TRACEID", "REUSED_HEADER_SSP-TRACEID",
				"the spec only says a new UUID for each request (§1.3) and gives no error: refusing a reuse as the SSP refuses an invalid Ssp-TraceID is the sandbox's choice"}},
		Check{JourneyBookWithoutFind, "a booking at a practice follows a find patient or register patient there", "gpconnect-1.6.md §4.2", Warning, Answer{}},
		Check{JourneySSPToNotFromSDS, "Ssp-To is the ASID SDS holds for the practice", "gpconnect-1.6.md §1.1, §1.2", Error,
			Answer{BySSP, journal.SSP, http.StatusBadRequest, "invalid",
				"ENDPOINT_<registered endpoint>_CPAID_<cpaid>_VARIES_FROM_TARGETURL_<target url>",
				"ENDPOINT_<registered endpoint>_CPAID_<cpaid>_VARIES_FROM_TARGETURL_<target url>",
				"the target is not the endpoint registered for Ssp-To (§1.4, §1.5); 403 PARTYKEY_INTERACTION_CHECK_FAILED_MESSAGERECEIVER_<Ssp-To> " +
					"when Ssp-To has no MHS record for the interaction; past a lenient SSP the provider answers 400 BAD_REQUEST (Ssp-To is not its ASID, §1.4)"}},
	)
}

// Refusal returns the first failed error verdict in vs whose check the
// sandbox answers itself in strict mode (Answer.By == BySandbox), and that
// check. Verdicts of checks a mock enforces are left to the mock.
func Refusal(vs []journal.Verdict) (Check, journal.Verdict, bool) {
	for _, v := range vs {
		if v.Passed {
			continue
		}
		if c, ok := Lookup(v.Check); ok && c.Answered() && c.Answer.By == BySandbox {
			return c, v, true
		}
	}
	return Check{}, journal.Verdict{}, false
}

// byName indexes Checks: every verdict looks its check up.
var byName = func() map[string]int {
	m := make(map[string]int, len(Checks))
	for i, c := range Checks {
		if _, dup := m[c.Name]; !dup {
			m[c.Name] = i
		}
	}
	return m
}()

// Lookup returns the check called name.
func Lookup(name string) (Check, bool) {
	if i, ok := byName[name]; ok {
		return Checks[i], true
	}
	return Check{}, false
}

// RequestRules applies the rules the spec sets for request r of an
// interaction that can be judged from the request alone (its headers,
// query q and body), and returns the error the provider answers it with,
// or nil. The provider's own (mocks/provider Parse) is handed in by the
// sandbox, so the judge and the provider cannot disagree and this package
// imports no mock; the sandbox's also keeps what the provider made of r
// for the provider it forwards r to in process.
type RequestRules func(r *http.Request, in gpc.Interaction, q url.Values, body []byte) error

// FHIRRequest judges the parameters and body of a request for the
// interaction it names (Ssp-InteractionID) against rules. A request for an
// interaction without such rules, or with no rules handed in, gets no
// verdict.
func FHIRRequest(r *http.Request, body []byte, rules RequestRules) []journal.Verdict {
	var vs verdicts
	vs.fhirRequest(r, body, rules)
	return vs.out
}

func (vs *verdicts) fhirRequest(r *http.Request, body []byte, rules RequestRules) {
	in := gpc.Interaction(gpc.HeaderValue(r.Header, "Ssp-InteractionID"))
	name, ok := fhirRules[in]
	if !ok || rules == nil {
		return
	}
	if in == gpc.AmendAppointment || in == gpc.CancelAppointment {
		// As the provider reads it: a blank If-Match is none.
		if strings.TrimSpace(gpc.HeaderValue(r.Header, "If-Match")) != "" {
			vs.add(FHIRIfMatchSent, true, "")
		} else {
			vs.add(FHIRIfMatchSent, false, "If-Match header missing: the provider applied no version check")
		}
	}
	if err := rules(r, in, r.URL.Query(), body); err != nil {
		msg := err.Error()
		var e *gpc.Error
		if errors.As(err, &e) {
			msg = strconv.Itoa(e.HTTPStatus()) + " " + string(e.Code) + ": " + e.Diagnostics
		}
		vs.add(name, false, msg)
		return
	}
	vs.add(name, true, "")
}

// Known reports whether name is a check a scenario can expect to pass or
// fire: one of this table or one of the SSP's own (spinerules.SSPChecks).
func Known(name string) bool {
	if _, ok := Lookup(name); ok {
		return true
	}
	return slices.ContainsFunc(spinerules.SSPChecks, func(c spinerules.SSPCheck) bool { return c.Name == name }) || isTLSCheck(name)
}

// ScenarioChecks are the names a scenario's expect.checks may use: the
// table's, the SSP's own (spinerules.SSPChecks) and the TLS checks. The scenario
// loader takes them as scenario.Options.CheckNames (this package imports
// internal/scenario, so the names are handed in, not looked up).
func ScenarioChecks() []string {
	out := checkNames()
	for _, c := range TLSChecks {
		out = append(out, c.Name)
	}
	return out
}

// ScenarioProblems lists the names in a scenario's expect.checks that are
// not known checks (Known), at their line and column.
func ScenarioProblems(sc *scenario.Scenario) []scenario.Problem {
	return sc.UnknownChecks(ScenarioChecks())
}

// verdict builds the verdict of check name from the table (without
// copying its entry, as Lookup would: every verdict of a request looks one
// up).
func verdict(name string, passed bool, message string) journal.Verdict {
	v := journal.Verdict{Check: name, Passed: passed, Message: message}
	if i, ok := byName[name]; ok {
		v.Severity, v.Section = Checks[i].Severity, Checks[i].Section
	}
	return v
}

// verdicts collects a judgement's verdicts, or with failedOnly its failed
// ones alone: what the sandbox keeps (Merge) and strict mode answers
// (Refusal), without building the twenty-odd that pass on every request.
type verdicts struct {
	out        []journal.Verdict
	failedOnly bool
}

func (vs *verdicts) add(name string, passed bool, message string) {
	if passed && vs.failedOnly {
		return
	}
	vs.out = append(vs.out, verdict(name, passed, message))
}

func quote(s string) string { return "'" + s + "'" }

// rawURI is the request target as the client sent it.
func rawURI(r *http.Request) string {
	if r.RequestURI != "" {
		return r.RequestURI
	}
	return r.URL.RequestURI()
}

// below returns the path of the SSP request below root ("" when root does
// not occur in the request URI).
func below(r *http.Request, root string) (string, bool) {
	raw := rawURI(r)
	if root == "" {
		return "", false
	}
	i := strings.Index(raw, root)
	if i < 0 {
		return "", false
	}
	rest := raw[i+len(root):]
	rest, _, _ = strings.Cut(rest, "?")
	if p, err := url.PathUnescape(rest); err == nil {
		rest = p
	}
	return rest, true
}

// SSP judges a consumer request to the SSP whose target is below the
// service root root: the Ssp-* headers, every JWT rule, the interaction
// against method and path, and the Accept header.
func SSP(r *http.Request, root string, w *world.World) []journal.Verdict {
	vs := verdicts{out: make([]journal.Verdict, 0, 8+len(jwt.Rules))}
	vs.ssp(r, root, w)
	return vs.out
}

func (vs *verdicts) ssp(r *http.Request, root string, w *world.World) {
	format := func(name, hdr string, valid func(string) bool, what string) {
		v, ok := gpc.Header(r.Header, hdr)
		switch {
		case !ok:
			vs.add(name, false, hdr+" header missing")
		case !valid(v):
			vs.add(name, false, hdr+" "+quote(v)+" is not "+what)
		default:
			vs.add(name, true, "")
		}
	}
	format(SSPTraceIDUUID, "Ssp-TraceID", spinerules.IsUUID, "a UUID")
	format(SSPFromASIDFormat, "Ssp-From", spinerules.IsASID, "an ASID (12 digits)")
	format(SSPToASIDFormat, "Ssp-To", spinerules.IsASID, "an ASID (12 digits)")

	idv, _ := gpc.Header(r.Header, "Ssp-InteractionID")
	in := gpc.Interaction(idv)
	info, known := gpc.Lookup(in)
	if known {
		vs.add(SSPInteractionKnown, true, "")
	} else {
		vs.add(SSPInteractionKnown, false, "Ssp-InteractionID "+quote(idv)+" is not a known interaction")
	}

	authz, _ := gpc.Header(r.Header, "Authorization")
	// aud can only be judged against a known service root: when the target
	// is none, SSP_TARGET_MATCHES_ENDPOINT already says so.
	violations := jwt.Validate(authz, jwt.Expect{Audience: root, Scope: info.Scope, Now: w.Now(), CheckAudience: root != ""})
	for _, v := range violations {
		vs.add(v.Rule, false, v.Message)
	}
	if !vs.failedOnly {
		for _, rule := range jwt.Rules {
			if !slices.ContainsFunc(violations, func(v jwt.Violation) bool { return v.Rule == rule.Name }) {
				vs.add(rule.Name, true, "")
			}
		}
	}

	if path, ok := below(r, root); ok && known {
		if info.Matches(r.Method, path) { // in's own entry: ForRequest would try them all
			vs.add(InteractionMatchesRequest, true, "")
		} else {
			vs.add(InteractionMatchesRequest, false, r.Method+" "+path+" is not "+info.Name)
		}
	} else if known {
		vs.add(InteractionMatchesRequest, false, "the target is not below a known service root")
	}

	accept, _ := gpc.Header(r.Header, "Accept")
	if acceptsFHIR(accept) {
		vs.add(AcceptFHIRJSON, true, "")
	} else {
		vs.add(AcceptFHIRJSON, false, "Accept "+quote(accept)+" asks for neither application/fhir+json nor application/fhir+xml")
	}
}

// acceptsFHIR reports whether Accept names one of the two FHIR types
// §1.3 lists for the consumer's Accept: application/fhir+json, or
// application/fhir+xml (which the provider SHOULD support, §7).
func acceptsFHIR(accept string) bool {
	for part := range strings.SplitSeq(accept, ",") {
		mt, _, _ := strings.Cut(part, ";")
		mt = strings.TrimSpace(mt)
		if strings.EqualFold(mt, "application/fhir+json") || strings.EqualFold(mt, "application/fhir+xml") {
			return true
		}
	}
	return false
}

// checkNames are every check's name, for "did you mean".
func checkNames() []string {
	var out []string
	for _, c := range Checks {
		out = append(out, c.Name)
	}
	for _, c := range spinerules.SSPChecks {
		out = append(out, c.Name)
	}
	return out
}
