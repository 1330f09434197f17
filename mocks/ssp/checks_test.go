package ssp_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/mocks/ssp"
)

func TestChecksOrderAndNames(t *testing.T) {
	t.Parallel()
	var names []string
	for _, c := range ssp.Checks {
		names = append(names, c.Name)
		if c.What == "" || c.Section == "" || c.Status == 0 {
			t.Errorf("check %s is not fully described: %+v", c.Name, c)
		}
	}
	assert.DeepEqual(t, names, []string{
		ssp.CheckURILength, ssp.CheckHeadersPresent, ssp.CheckTraceIDUUID, ssp.CheckFromASIDFormat,
		ssp.CheckToASIDFormat, ssp.CheckInteractionKnown, ssp.CheckSenderAuthorised, ssp.CheckClientCertMatchesFrom, ssp.CheckReceiverAuthorised,
		ssp.CheckSharingAgreement, ssp.CheckTargetMatchesEndpoint, ssp.CheckMethodAllowed, ssp.CheckContentType, ssp.CheckAuthorizationPresent,
	}, "check order")
}

// TestChecks sends one request per case through the strict SSP. Failing
// cases must not reach the provider; passing ones reach it exactly once.
func TestChecks(t *testing.T) {
	t.Parallel()
	const slotQuery = "/Slot?start=ge2026-03-02&end=le2026-03-09&status=free&_include=Slot:schedule"
	type edit func(h http.Header)
	without := func(name string) edit { return func(h http.Header) { delete(h, name) } }
	set := func(name string, vs ...string) edit { return func(h http.Header) { h[name] = vs } }
	tests := []struct {
		name    string
		method  string
		in      gpc.Interaction
		path    string // after the service root (A's unless target is set)
		target  func(rg *rig) string
		edits   []edit
		ctype   string
		status  int
		issue   string
		message func(rg *rig) string // nil for a forwarded request
	}{
		{name: "all checks pass", in: gpc.SearchSlots, path: slotQuery, status: 200},
		{name: "metadata passes", in: gpc.ReadMetadata, path: "/metadata", status: 200},
		{name: "register patient POST passes", method: "POST", in: gpc.RegisterPatient, path: "/Patient/$gpc.registerpatient", ctype: "application/fhir+json;charset=utf-8", status: 200},
		{name: "amend PUT with fhir+xml passes", method: "PUT", in: gpc.AmendAppointment, path: "/Appointment/7", ctype: "application/fhir+xml", status: 200},
		{name: "media type in any case passes", method: "POST", in: gpc.CreateAppointment, path: "/Appointment", ctype: "Application/FHIR+JSON; charset=UTF-8", status: 200},
		{name: "upper-case trace id passes", in: gpc.SearchSlots, path: slotQuery, edits: []edit{set("Ssp-TraceID", strings.ToUpper(traceID))}, status: 200},
		{name: "service root alone passes", in: gpc.SearchSlots, path: "", status: 200},

		{name: "missing Ssp-TraceID", in: gpc.SearchSlots, path: slotQuery, edits: []edit{without("Ssp-TraceID")}, status: 400, issue: "invalid", message: msg("MISSING_HEADER_SSP-TRACEID")},
		{name: "missing Ssp-From", in: gpc.SearchSlots, path: slotQuery, edits: []edit{without("Ssp-From")}, status: 400, issue: "invalid", message: msg("MISSING_HEADER_SSP-FROM")},
		{name: "missing Ssp-To", in: gpc.SearchSlots, path: slotQuery, edits: []edit{without("Ssp-To")}, status: 400, issue: "invalid", message: msg("MISSING_HEADER_SSP-TO")},
		{name: "missing Ssp-InteractionID", in: gpc.SearchSlots, path: slotQuery, edits: []edit{without("Ssp-InteractionID")}, status: 400, issue: "invalid", message: msg("MISSING_HEADER_SSP-INTERACTIONID")},
		{name: "blank Ssp-From", in: gpc.SearchSlots, path: slotQuery, edits: []edit{set("Ssp-From", "  ")}, status: 400, issue: "invalid", message: msg("MISSING_HEADER_SSP-FROM")},
		{name: "two Ssp-From values", in: gpc.SearchSlots, path: slotQuery, edits: []edit{set("Ssp-From", consumerASID, otherASID)}, status: 400, issue: "invalid", message: msg("DUPLICATE_HEADER_SSP-FROM")},
		{name: "every header missing reports the first", in: gpc.SearchSlots, path: slotQuery, edits: []edit{without("Ssp-TraceID"), without("Ssp-From"), without("Ssp-To"), without("Ssp-InteractionID")}, status: 400, issue: "invalid", message: msg("MISSING_HEADER_SSP-TRACEID")},

		{name: "trace id not a UUID", in: gpc.SearchSlots, path: slotQuery, edits: []edit{set("Ssp-TraceID", "trace-1")}, status: 400, issue: "invalid", message: msg("INVALID_HEADER_SSP-TRACEID")},
		{name: "trace id UUID without dashes", in: gpc.SearchSlots, path: slotQuery, edits: []edit{set("Ssp-TraceID", strings.ReplaceAll(traceID, "-", ""))}, status: 400, issue: "invalid", message: msg("INVALID_HEADER_SSP-TRACEID")},
		{name: "trace id UUID in braces", in: gpc.SearchSlots, path: slotQuery, edits: []edit{set("Ssp-TraceID", "{"+traceID+"}")}, status: 400, issue: "invalid", message: msg("INVALID_HEADER_SSP-TRACEID")},
		{name: "from ASID of 11 digits", in: gpc.SearchSlots, path: slotQuery, edits: []edit{set("Ssp-From", "20000000011")}, status: 400, issue: "invalid", message: msg("INVALID_HEADER_SSP-FROM")},
		{name: "from ASID with a letter", in: gpc.SearchSlots, path: slotQuery, edits: []edit{set("Ssp-From", "20000000011X")}, status: 400, issue: "invalid", message: msg("INVALID_HEADER_SSP-FROM")},
		{name: "to ASID of 13 digits", in: gpc.SearchSlots, path: slotQuery, edits: []edit{set("Ssp-To", providerASID+"0")}, status: 400, issue: "invalid", message: msg("INVALID_HEADER_SSP-TO")},
		{name: "unknown interaction", in: "urn:nhs:names:services:gpconnect:fhir:operation:gpc.getstructuredrecord-1", path: slotQuery, status: 400, issue: "invalid", message: msg("INVALID_HEADER_SSP-INTERACTIONID")},
		{name: "interaction in another case", in: gpc.Interaction(strings.ToUpper(string(gpc.SearchSlots))), path: slotQuery, status: 400, issue: "invalid", message: msg("INVALID_HEADER_SSP-INTERACTIONID")},

		{name: "sender ASID unknown", in: gpc.SearchSlots, path: slotQuery, edits: []edit{set("Ssp-From", unknownASID)}, status: 403, issue: "forbidden", message: msg("ASID_CHECK_FAILED_MESSAGESENDER_" + unknownASID)},
		{name: "sender AS record lacks the interaction", in: gpc.SearchSlots, path: slotQuery, edits: []edit{set("Ssp-From", otherASID)}, status: 403, issue: "forbidden", message: msg("ASID_CHECK_FAILED_MESSAGESENDER_" + otherASID)},
		{name: "receiver ASID unknown", in: gpc.SearchSlots, path: slotQuery, edits: []edit{set("Ssp-To", unknownASID)}, status: 403, issue: "forbidden", message: msg("PARTYKEY_INTERACTION_CHECK_FAILED_MESSAGERECEIVER_" + unknownASID)},
		{name: "receiver MHS record lacks the interaction", in: gpc.SearchSlots, path: slotQuery, edits: []edit{set("Ssp-To", otherASID)}, status: 403, issue: "forbidden", message: msg("PARTYKEY_INTERACTION_CHECK_FAILED_MESSAGERECEIVER_" + otherASID)},
		{name: "receiver refuses the sender (FOT)", in: gpc.ReadMetadata, path: "/metadata", edits: []edit{set("Ssp-From", otherASID)}, status: 403, issue: "forbidden", message: msg("FOT_CHECK_FAILED_MESSAGESENDER_" + otherASID + "_MESSAGERECEIVER_" + providerASID)},
		{name: "receiver checked before sharing", in: gpc.ReadMetadata, path: "/metadata", edits: []edit{set("Ssp-From", otherASID), set("Ssp-To", unknownASID)}, status: 403, issue: "forbidden", message: msg("PARTYKEY_INTERACTION_CHECK_FAILED_MESSAGERECEIVER_" + unknownASID)},
		{name: "sender checked before receiver", in: gpc.SearchSlots, path: slotQuery, edits: []edit{set("Ssp-From", unknownASID), set("Ssp-To", unknownASID)}, status: 403, issue: "forbidden", message: msg("ASID_CHECK_FAILED_MESSAGESENDER_" + unknownASID)},

		{name: "target is another practice's root", in: gpc.SearchSlots, target: func(rg *rig) string { return rg.rootB + slotQuery }, status: 400, issue: "invalid",
			message: func(rg *rig) string { return varies(rg, rg.rootB+slotQuery) }},
		{name: "target under the root's parent", in: gpc.SearchSlots, target: func(rg *rig) string { return strings.TrimSuffix(rg.rootA, "/gpconnect") + slotQuery }, status: 400, issue: "invalid",
			message: func(rg *rig) string { return varies(rg, strings.TrimSuffix(rg.rootA, "/gpconnect")+slotQuery) }},

		{name: "DELETE not allowed", method: "DELETE", in: gpc.CancelAppointment, path: "/Appointment/7", status: 405, issue: "forbidden", message: msg("METHOD_NOT_ALLOWED_DELETE")},
		{name: "PATCH not allowed", method: "PATCH", in: gpc.AmendAppointment, path: "/Appointment/7", ctype: "application/fhir+json", status: 405, issue: "forbidden", message: msg("METHOD_NOT_ALLOWED_PATCH")},
		{name: "headers checked before method", method: "DELETE", in: gpc.CancelAppointment, path: "/Appointment/7", edits: []edit{without("Ssp-To")}, status: 400, issue: "invalid", message: msg("MISSING_HEADER_SSP-TO")},
		{name: "target checked before method", method: "DELETE", in: gpc.SearchSlots, target: func(rg *rig) string { return rg.rootB + "/Slot" }, status: 400, issue: "invalid",
			message: func(rg *rig) string { return varies(rg, rg.rootB+"/Slot") }},

		{name: "POST without Content-Type", method: "POST", in: gpc.CreateAppointment, path: "/Appointment", status: 415, issue: "not-supported", message: msg("Unsupported_Media_Type")},
		{name: "POST with application/json", method: "POST", in: gpc.CreateAppointment, path: "/Appointment", ctype: "application/json", status: 415, issue: "not-supported", message: msg("Unsupported_Media_Type")},
		{name: "PUT with text/plain", method: "PUT", in: gpc.CancelAppointment, path: "/Appointment/7", ctype: "text/plain", status: 415, issue: "not-supported", message: msg("Unsupported_Media_Type")},
		{name: "PUT with a malformed media type", method: "PUT", in: gpc.CancelAppointment, path: "/Appointment/7", ctype: "application/fhir+json;;", status: 415, issue: "not-supported", message: msg("Unsupported_Media_Type")},
		{name: "method checked before media type", method: "PATCH", in: gpc.AmendAppointment, path: "/Appointment/7", status: 405, issue: "forbidden", message: msg("METHOD_NOT_ALLOWED_PATCH")},

		{name: "no Authorization", in: gpc.SearchSlots, path: slotQuery, edits: []edit{without("Authorization")}, status: 400, issue: "invalid", message: msg("MISSING_HEADER_AUTHORIZATION")},
		{name: "blank Authorization", in: gpc.SearchSlots, path: slotQuery, edits: []edit{set("Authorization", " ")}, status: 400, issue: "invalid", message: msg("MISSING_HEADER_AUTHORIZATION")},
		{name: "media type checked before Authorization", method: "POST", in: gpc.CreateAppointment, path: "/Appointment", edits: []edit{without("Authorization")}, status: 415, issue: "not-supported", message: msg("Unsupported_Media_Type")},

		{name: "request URI over 8 KiB", in: gpc.SearchSlots, path: "/Slot?x=" + strings.Repeat("a", ssp.MaxRequestURI), status: 414, issue: "too-long", message: msg("REQUEST_URI_TOO_LONG")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rg := newRig(t, tc.message != nil)
			target := rg.rootA + tc.path
			if tc.target != nil {
				target = tc.target(rg)
			}
			h := sspHeaders(tc.in)
			for _, e := range tc.edits {
				e(h)
			}
			method, body := tc.method, ""
			if method == "" {
				method = http.MethodGet
			}
			if method == http.MethodPost || method == http.MethodPut || method == http.MethodPatch {
				body = `{"resourceType":"Appointment"}`
			}
			if tc.ctype != "" {
				h["Content-Type"] = []string{tc.ctype}
			}
			got := send(t, method, rg.ssp.URL+"/ssp/"+target, h, body)
			if tc.message == nil {
				assert.Equal(t, got.status, tc.status, "status")
				assert.Equal(t, string(got.body), "ok", "body from the provider")
				assert.Equal(t, rg.hitsA.Load(), int64(1), "provider hits")
				return
			}
			assertOutcome(t, got, tc.status, tc.issue, tc.message(rg))
			assert.Equal(t, rg.hitsA.Load()+rg.hitsB.Load(), int64(0), "provider hits")
			if tc.status == http.StatusMethodNotAllowed {
				assert.Equal(t, got.header.Get("Allow"), "GET, POST, PUT", "Allow")
			}
			reports := rg.allReports()
			if len(reports) != 1 || len(reports[0]) != 1 {
				t.Fatalf("reports = %+v, want one report with one failure", reports)
			}
			f := reports[0][0]
			assert.Equal(t, f.Status, tc.status, "reported status")
			assert.Equal(t, f.IssueCode, tc.issue, "reported issue code")
			assert.Equal(t, f.Message, tc.message(rg), "reported message")
		})
	}
}

func msg(s string) func(*rig) string { return func(*rig) string { return s } }

// varies is the SSP's target-mismatch message for a slot search to A20047
// (gpconnect-1.6.md §1.5).
func varies(rg *rig, target string) string {
	return "ENDPOINT_" + rg.rootA + "_CPAID_" + cpaSlotA20047 + "_VARIES_FROM_TARGETURL_" + target
}

// TestHeaderNameCase sends the Ssp-* headers in the spellings seen in the
// wild (§1.3 GOTCHA, §9.8): all must be accepted.
func TestHeaderNameCase(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                        string
		traceID, from, to, interact string
		authorization               string
	}{
		{"spec spelling", "Ssp-TraceID", "Ssp-From", "Ssp-To", "Ssp-InteractionID", "Authorization"},
		{"Go canonical", "Ssp-Traceid", "Ssp-From", "Ssp-To", "Ssp-Interactionid", "Authorization"},
		{"provider test suite", "Ssp-TraceId", "Ssp-From", "Ssp-To", "Ssp-InteractionId", "Authorization"},
		{"lower case", "ssp-traceid", "ssp-from", "ssp-to", "ssp-interactionid", "authorization"},
		{"upper case", "SSP-TRACEID", "SSP-FROM", "SSP-TO", "SSP-INTERACTIONID", "AUTHORIZATION"},
		{"mixed", "sSp-tRaCeId", "SSP-from", "ssp-TO", "Ssp-interactionID", "AuThOrIzAtIoN"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rg := newRig(t, false)
			h := http.Header{
				tc.traceID:       {traceID},
				tc.from:          {consumerASID},
				tc.to:            {providerASID},
				tc.interact:      {string(gpc.ReadMetadata)},
				tc.authorization: {bearer},
			}
			// Over the wire: the names go out exactly as written.
			got := sendRaw(t, strings.TrimPrefix(rg.ssp.URL, "http://"), "GET", "/ssp/"+rg.rootA+"/metadata", h)
			assert.Equal(t, got.status, 200, "status over the wire")
			// In process: the handler sees the map keys as written.
			req := httptest.NewRequest("GET", "/ssp/"+rg.rootA+"/metadata", nil)
			req.Header = h
			rec := httptest.NewRecorder()
			rg.handler.ServeHTTP(rec, req)
			assert.Equal(t, rec.Code, 200, "status in process")
			assert.Equal(t, rg.hitsA.Load(), int64(2), "provider hits")
		})
	}
}
