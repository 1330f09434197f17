package sandbox_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/conformance"
	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/internal/journal"
	"github.com/spine-sandbox/spine-sandbox/internal/sandbox"
	"github.com/spine-sandbox/spine-sandbox/mocks/provider"
)

// TestFHIRRequestWithProviderRules: the judge with the rules the sandbox
// hands it (the provider's own) gives one verdict per interaction that has
// such rules, failed with the provider's status, code and diagnostics.
func TestFHIRRequestWithProviderRules(t *testing.T) {
	t.Parallel()
	req := func(in gpc.Interaction, target string) *http.Request {
		r := httptest.NewRequest("GET", target, nil)
		r.Header["Ssp-InteractionID"] = []string{string(in)}
		return r
	}
	failed := func(vs []journal.Verdict) []string {
		out := []string{}
		for _, v := range vs {
			if !v.Passed {
				out = append(out, v.Check)
			}
		}
		return out
	}
	rules := func(r *http.Request, in gpc.Interaction, q url.Values, body []byte) error {
		return provider.CheckRequest(in, r.Header, q, body)
	}
	vs := conformance.FHIRRequest(req(gpc.SearchSlots, "/ssp/x/Slot?status=free&start=ge2026-03-02&end=le2026-03-09&_include=Slot:schedule"), nil, rules)
	assert.Equal(t, len(vs), 1, "verdicts")
	assert.DeepEqual(t, failed(vs), []string{}, "a valid search")

	vs = conformance.FHIRRequest(req(gpc.SearchSlots, "/ssp/x/Slot?status=free&start=ge2026-03-02&end=le2026-03-30&_include=Slot:schedule"), nil, rules)
	assert.DeepEqual(t, failed(vs), []string{"FHIR_SLOT_SEARCH_PARAMETERS"}, "a 28-day search")
	assert.Contains(t, vs[0].Message, "422 INVALID_PARAMETER: ", "message")

	vs = conformance.FHIRRequest(req(gpc.CreateAppointment, "/ssp/x/Appointment"), []byte(`{"resourceType":"Appointment","status":"booked"}`), rules)
	assert.DeepEqual(t, failed(vs), []string{"FHIR_BOOK_APPOINTMENT_BODY"}, "an empty booking")
	assert.Contains(t, vs[0].Message, "422 INVALID_RESOURCE: ", "message")
}

// TestSSPVerdictSection: a verdict the SSP reports through its hook names
// the check's own section (internal/spinerules), not one for every check.
func TestSSPVerdictSection(t *testing.T) {
	t.Parallel()
	e := start(t, sandbox.Config{})
	ss := e.session(t, "")
	req := gpcRequest(t, ss, true, gpc.ReadMetadata, http.MethodGet, "/metadata", "")
	req.Header.Set("Ssp-TraceID", "not-a-uuid")
	r := e.do(t, req)
	assert.Equal(t, r.status, http.StatusBadRequest, "status: "+r.String())
	h := consumerHop(t, ss)
	for _, v := range h.Checks {
		if v.Check == "SSP_TRACEID_UUID" {
			assert.Equal(t, v.Section, "gpconnect-1.6.md §1.3", "section")
			return
		}
	}
	t.Fatalf("no SSP_TRACEID_UUID verdict in %+v", h.Checks)
}

// TestOwnVerdictsWhenAFaultAnswers: PDS and SDS judge their own requests;
// when a fault answers in the mock's place the hop still carries the
// mock's verdicts (its Checks, run once in its place), as when it answers.
func TestOwnVerdictsWhenAFaultAnswers(t *testing.T) {
	t.Parallel()
	for _, faults := range []string{"", "  - {hop: pds, status: 503}\n  - {hop: sds, status: 503}\n", "  - {hop: pds, delay: 1ms}\n  - {hop: sds, delay: 1ms}\n"} {
		e := start(t, sandbox.Config{Lenient: true})
		ss := e.session(t, withFaults(faults))
		e.do(t, pdsRequest("9693632108", "not-a-uuid")(t, e, ss))
		h := consumerHop(t, ss)
		assert.DeepEqual(t, h.Checks, []journal.Verdict{
			{Check: "PDS_X_REQUEST_ID", Severity: "error", Section: "pds-sds-fhir.md §2.2", Message: "X-Request-ID 'not-a-uuid' is not a UUID"},
			{Check: "PDS_NHS_NUMBER_MOD11", Severity: "error", Section: "pds-sds-fhir.md §2.6", Message: "NHS number '9693632108' fails Modulus 11"},
		}, "PDS verdicts, faults "+faults)
		e.do(t, sdsRequest(endpointQuery(practiceODS), "not-a-uuid")(t, e, ss))
		h = consumerHop(t, ss)
		assert.DeepEqual(t, h.Checks, []journal.Verdict{
			{Check: "SDS_CORRELATION_ID_UUID", Severity: "error", Section: "pds-sds-fhir.md §3.3", Message: "X-Correlation-Id 'not-a-uuid' is not a UUID"},
		}, "SDS verdicts, faults "+faults)
	}
}

// TestOwnVerdictsWhenTLSRefuses: a PDS request the TLS layer refuses
// carries the certificate's verdict, then PDS's own checks, run in its
// place.
func TestOwnVerdictsWhenTLSRefuses(t *testing.T) {
	t.Parallel()
	e := startTLS(t, sandbox.Config{}, false)
	ss := e.session(t, "")
	req := pdsGet(t, ss.URLs().PDS+"/Patient/9693632108")
	req.Header.Set("X-Request-ID", "not-a-uuid")
	r := e.doWith(t, "", req)
	assert.Equal(t, r.status, 496, "status")
	h := consumerHop(t, ss)
	got := []string{}
	for _, v := range h.Checks {
		got = append(got, v.Check)
	}
	assert.DeepEqual(t, got, []string{sandbox.CheckClientCertificate, "PDS_X_REQUEST_ID", "PDS_NHS_NUMBER_MOD11"}, "checks")
}
