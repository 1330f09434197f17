package sandbox_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/conformance"
	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/internal/sandbox"
)

// The service's own diagnostics for a missing or invalid parameter
// (/work/shared/spec/examples/sds/endpoint_bad_system.json and
// nhs-answers.json; the identifier text lacks its closing "]" there too).
const (
	sdsBadOrganization = "HTTP 400: Bad Request (Missing or invalid 'organization' query parameter. " +
		"Should be 'organization=https://fhir.nhs.uk/Id/ods-organization-code|value')"
	sdsBadManufacturer = "HTTP 400: Bad Request (Missing or invalid 'manufacturing-organization' query parameter. " +
		"Should be 'manufacturing-organization=https://fhir.nhs.uk/Id/ods-organization-code|value')"
	sdsBadIdentifier = "HTTP 400: Bad Request (Missing or invalid 'identifier' query parameter. Should be one or both of: " +
		"['identifier=https://fhir.nhs.uk/Id/nhsServiceInteractionId|value', 'identifier=https://fhir.nhs.uk/Id/nhsMhsPartyKey|value')"
)

// TestStrictSDSParametersNHSWords (issue 10): a strict session answers an
// SDS search whose parameter has the wrong system or a blank value with
// NHS's own 400 BAD_REQUEST diagnostics, never the sandbox's wording; a
// lenient one answers a blank optional parameter as the service does
// (ignored, 200) and records SDS_PARAMETERS either way.
func TestStrictSDSParametersNHSWords(t *testing.T) {
	t.Parallel()
	strict := start(t, sandbox.Config{})
	lenient := start(t, sandbox.Config{Lenient: true})
	const (
		org     = "organization=" + gpc.SystemODSCode + "|" + practiceODS
		book    = "identifier=" + gpc.SystemInteractionID + "|" + string(gpc.CreateAppointment)
		partyOf = "identifier=" + gpc.SystemPartyKey + "|"
	)
	tests := []struct {
		name, path  string
		party       bool // append the practice's party key identifier
		diagnostics string
		lenient     int
	}{
		{"blank organization", "/Endpoint?organization=" + gpc.SystemODSCode + "|&" + book, true, sdsBadOrganization, http.StatusOK},
		{"organization's system wrong", "/Endpoint?organization=" + gpc.SystemNHSNumber + "|" + practiceODS + "&" + book, true, sdsBadOrganization, http.StatusBadRequest},
		{"identifier's system wrong", "/Endpoint?" + org + "&identifier=" + gpc.SystemNHSNumber + "|9693632109", false, sdsBadIdentifier, http.StatusBadRequest},
		{"blank party key", "/Endpoint?" + org + "&" + book + "&" + partyOf, false, sdsBadIdentifier, http.StatusOK},
		{"blank manufacturer", "/Device?" + org + "&" + book + "&manufacturing-organization=" + gpc.SystemODSCode + "|", false, sdsBadManufacturer, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for _, e := range []*env{strict, lenient} {
				ss := e.session(t, "")
				path := tt.path
				if tt.party {
					p, _ := ss.World.Practice(practiceODS)
					path += "&" + partyOf + p.PartyKey
				}
				r := e.do(t, plain(t, http.MethodGet, ss.URLs().SDS+path, ""))
				h := consumerHop(t, ss)
				assert.DeepEqual(t, failedErrors(h), []string{conformance.SDSParameters}, "failed error verdicts")
				if e == lenient {
					assert.Equal(t, r.status, tt.lenient, "lenient status: "+r.String())
					continue
				}
				if r.status != http.StatusBadRequest {
					t.Fatalf("strict status %d, want 400: %s", r.status, r)
				}
				assert.Equal(t, r.code(), string(gpc.BadRequest), "Spine code")
				assert.Equal(t, h.Code, string(gpc.BadRequest), "journalled code")
				var oo gpc.OperationOutcome
				assert.NilError(t, json.Unmarshal(r.body, &oo))
				if len(oo.Issue) != 1 {
					t.Fatalf("issues: %s", r)
				}
				assert.Equal(t, oo.Issue[0].Diagnostics, tt.diagnostics, "diagnostics")
				assert.Equal(t, oo.Issue[0].Code, "required", "issue code")
			}
		})
	}
}
