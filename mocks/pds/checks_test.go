package pds_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/mocktest"
	"github.com/spine-sandbox/spine-sandbox/internal/world"
	"github.com/spine-sandbox/spine-sandbox/mocks/pds"
)

// TestReport: the mock reports every check it ran on a request through its
// hook, passed or failed, whatever it answers.
func TestReport(t *testing.T) {
	t.Parallel()
	const traceID = "7c1e0a52-2f4b-4d8e-9a61-3b5c7d9e0f12"
	tests := []struct {
		name    string
		path    string
		header  map[string]string
		checks  []string
		failing []string
		message string // the first failure's
	}{
		{"valid retrieve", "/Patient/9693632109", map[string]string{"X-Request-ID": traceID}, []string{"PDS_X_REQUEST_ID", "PDS_NHS_NUMBER_MOD11"}, []string{}, ""},
		{"search has no NHS number check", "/Patient?family=Smith", map[string]string{"X-Request-ID": traceID}, []string{"PDS_X_REQUEST_ID"}, []string{}, ""},
		{"missing X-Request-ID", "/Patient/9693632109", map[string]string{"X-Request-ID": "-"}, []string{"PDS_X_REQUEST_ID", "PDS_NHS_NUMBER_MOD11"}, []string{"PDS_X_REQUEST_ID"}, "X-Request-ID header missing"},
		{"X-Request-ID not a UUID", "/Patient/9693632109", map[string]string{"X-Request-ID": "abc"}, []string{"PDS_X_REQUEST_ID", "PDS_NHS_NUMBER_MOD11"}, []string{"PDS_X_REQUEST_ID"}, "X-Request-ID 'abc' is not a UUID"},
		{"NHS number fails Modulus 11", "/Patient/9693632108", map[string]string{"X-Request-ID": traceID}, []string{"PDS_X_REQUEST_ID", "PDS_NHS_NUMBER_MOD11"}, []string{"PDS_NHS_NUMBER_MOD11"}, "NHS number '9693632108' fails Modulus 11"},
		{"NHS number not digits", "/Patient/abc", map[string]string{"X-Request-ID": traceID}, []string{"PDS_X_REQUEST_ID", "PDS_NHS_NUMBER_MOD11"}, []string{"PDS_NHS_NUMBER_MOD11"}, "NHS number 'abc' fails Modulus 11"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got mocktest.Verdicts
			w := world.New(world.Data{Patients: sandboxPatients()}, baseURL, func() time.Time { return fixedNow })
			srv := httptest.NewServer(pds.New(w, pds.WithReport(got.Report)))
			t.Cleanup(srv.Close)
			send(t, srv, http.MethodGet, tt.path, tt.header)
			names, failing, message := got.Reported(t)
			assert.DeepEqual(t, names, tt.checks, "checks")
			assert.DeepEqual(t, failing, tt.failing, "failed")
			assert.Equal(t, message, tt.message, "message")
		})
	}
}
