package gpc

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"testing"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
)

func TestForRequest(t *testing.T) {
	t.Parallel()
	tests := []struct {
		method, path string
		want         []Interaction
	}{
		{"GET", "/metadata", []Interaction{ReadMetadata}},
		{"GET", "/Patient", []Interaction{SearchPatient}},
		{"GET", "/Patient/2", []Interaction{ReadPatient}},
		{"POST", "/Patient/$gpc.registerpatient", []Interaction{RegisterPatient}},
		{"GET", "/Patient/$gpc.registerpatient", nil},
		{"GET", "/Patient/2/Appointment", []Interaction{SearchPatientAppts}},
		{"GET", "/Slot", []Interaction{SearchSlots}},
		{"POST", "/Appointment", []Interaction{CreateAppointment}},
		{"PUT", "/Appointment/7", []Interaction{AmendAppointment, CancelAppointment}},
		{"PUT", "/Appointment/", nil},
		{"GET", "/Appointment/7/", nil},
		{"DELETE", "/Appointment/7", nil},
		{"GET", "/Location/1", []Interaction{ReadLocation}},
		{"GET", "/Unknown", nil},
	}
	for _, tt := range tests {
		assert.DeepEqual(t, ForRequest(tt.method, tt.path), tt.want, tt.method+" "+tt.path)
	}
}

func TestLookupAndScope(t *testing.T) {
	t.Parallel()
	in, ok := Lookup(CreateAppointment)
	assert.Equal(t, ok, true, "known")
	assert.Equal(t, in.Scope, PatientWrite, "book scope")
	assert.Equal(t, ReadMetadata.Name(), "read metadata", "name")
	assert.Equal(t, Interaction("urn:x").Name(), "urn:x", "unknown name")
	assert.Equal(t, IsKnown("urn:x"), false, "unknown")
}

func TestCodes(t *testing.T) {
	t.Parallel()
	assert.Equal(t, DuplicateRejected.Status(), 409, "DUPLICATE_REJECTED status")
	assert.Equal(t, InvalidParameter.Status(), 422, "INVALID_PARAMETER status")
	assert.Equal(t, Code("NOPE").Status(), 500, "unknown status")
	e := Errorf(InvalidResource, "bad %s", "slot")
	assert.Equal(t, e.HTTPStatus(), 422, "status")
	assert.Equal(t, e.IssueType(), "invalid", "issue")
	assert.Equal(t, StatusErrorf(400, InvalidResource, "x").HTTPStatus(), 400, "explicit status")
	assert.Equal(t, AsError(e), e, "AsError keeps typed errors")
	assert.Equal(t, AsError(json.Unmarshal([]byte("{"), &struct{}{})).Code, InternalServerError, "untyped → 500")
}

func TestOutcomesRoundTripThroughSpineCode(t *testing.T) {
	t.Parallel()
	b, _ := json.Marshal(ProviderOutcome(Errorf(DuplicateRejected, "slot taken")))
	code, diag := SpineCode(b)
	assert.Equal(t, code, "DUPLICATE_REJECTED", "provider code")
	assert.Equal(t, diag, "slot taken", "provider diagnostics")
	b, _ = json.Marshal(SSPOutcome("id", 403, "forbidden", "ASID_CHECK_FAILED_MESSAGESENDER_200000000115"))
	code, _ = SpineCode(b)
	assert.Equal(t, code, "ASID_CHECK_FAILED_MESSAGESENDER_200000000115", "SSP message")
	code, _ = SpineCode([]byte("not json"))
	assert.Equal(t, code, "", "not an outcome")
}

func TestNewUUID(t *testing.T) {
	t.Parallel()
	re := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	seen := map[string]bool{}
	for range 100 {
		u := NewUUID()
		if !re.MatchString(u) {
			t.Fatalf("NewUUID() = %q, not a lower-case version 4 UUID", u)
		}
		if seen[u] {
			t.Fatalf("NewUUID() repeated %q", u)
		}
		seen[u] = true
	}
}

func TestHeaderAnyCase(t *testing.T) {
	t.Parallel()
	h := http.Header{"Ssp-TraceID": {"a"}, "ssp-traceid": {"b"}, "Ssp-From": {"200000000115"}}
	assert.DeepEqual(t, HeaderValues(h, "Ssp-From"), []string{"200000000115"}, "canonical key")
	got := HeaderValues(h, "SSP-TRACEID")
	slices.Sort(got)
	assert.DeepEqual(t, got, []string{"a", "b"}, "every spelling")
	v, ok := Header(h, "ssp-from")
	assert.Equal(t, v+" "+fmt.Sprint(ok), "200000000115 true", "first value")
	assert.Equal(t, HeaderValue(h, "ssp-from"), "200000000115", "HeaderValue")
	v, ok = Header(h, "Ssp-To")
	assert.Equal(t, v+" "+fmt.Sprint(ok), " false", "absent")
}
