package sds_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/internal/mocktest"
	"github.com/spine-sandbox/spine-sandbox/internal/world"
	"github.com/spine-sandbox/spine-sandbox/mocks/sds"
)

// TestReport: the mock reports every check it ran on a request through its
// hook, passed or failed, whatever it answers (in both modes).
func TestReport(t *testing.T) {
	t.Parallel()
	const traceID = "7c1e0a52-2f4b-4d8e-9a61-3b5c7d9e0f12"
	org := "organization=" + gpc.SystemODSCode + "|A20047"
	in := "identifier=" + gpc.SystemInteractionID + "|" + string(gpc.SearchSlots)
	tests := []struct {
		name    string
		query   string
		corr    []string // X-Correlation-Id values; nil sends none
		checks  []string
		failing []string
		message string // the first failure's
	}{
		{"valid endpoint search", org + "&" + in, []string{traceID}, []string{"SDS_CORRELATION_ID_UUID", "SDS_PARAMETERS"}, []string{}, ""},
		{"no correlation id is fine", org + "&" + in, nil, []string{"SDS_PARAMETERS"}, []string{}, ""},
		{"correlation id not a UUID", org + "&" + in, []string{"nope"}, []string{"SDS_CORRELATION_ID_UUID", "SDS_PARAMETERS"}, []string{"SDS_CORRELATION_ID_UUID"}, "X-Correlation-Id 'nope' is not a UUID"},
		// As the service reads it: an empty header counts as absent, repeated ones are joined.
		{"empty correlation id is absent", org + "&" + in, []string{""}, []string{"SDS_PARAMETERS"}, []string{}, ""},
		{"repeated correlation ids", org + "&" + in, []string{traceID, traceID}, []string{"SDS_CORRELATION_ID_UUID", "SDS_PARAMETERS"}, []string{"SDS_CORRELATION_ID_UUID"}, "X-Correlation-Id '" + traceID + "," + traceID + "' is not a UUID"},
		{"party key identifier", org + "&identifier=" + gpc.SystemPartyKey + "|P83007-822482", nil, []string{"SDS_PARAMETERS"}, []string{}, ""},
		{"organization without system", "organization=A20047&" + in, nil, []string{"SDS_PARAMETERS"}, []string{"SDS_PARAMETERS"}, "parameter without the right system| prefix or value: organization=A20047"},
		{"identifier with wrong system", org + "&identifier=" + gpc.SystemNHSNumber + "|9693632109", nil, []string{"SDS_PARAMETERS"}, []string{"SDS_PARAMETERS"}, "parameter without the right system| prefix or value: identifier=" + gpc.SystemNHSNumber + "|9693632109"},
		{"empty value after prefix", "organization=" + gpc.SystemODSCode + "|&" + in, nil, []string{"SDS_PARAMETERS"}, []string{"SDS_PARAMETERS"}, "parameter without the right system| prefix or value: organization=" + gpc.SystemODSCode + "|"},
		{"no parameters", "", nil, []string{}, []string{}, ""},
	}
	for _, tt := range tests {
		for _, strict := range []bool{false, true} {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				var got mocktest.Verdicts
				opts := []sds.Option{sds.WithReport(got.Report)}
				if strict {
					opts = append(opts, sds.Strict())
				}
				clock := func() time.Time { return time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC) }
				srv := httptest.NewServer(sds.New(world.New(testData(), publicBase, clock), opts...))
				t.Cleanup(srv.Close)
				req, err := http.NewRequest(http.MethodGet, srv.URL+"/Endpoint?"+strings.ReplaceAll(tt.query, "|", "%7C"), nil)
				assert.NilError(t, err)
				if tt.corr != nil {
					req.Header["X-Correlation-Id"] = tt.corr
				}
				res, err := srv.Client().Do(req)
				assert.NilError(t, err)
				res.Body.Close()
				names, failing, message := got.Reported(t)
				assert.DeepEqual(t, names, tt.checks, "checks")
				assert.DeepEqual(t, failing, tt.failing, "failed")
				assert.Equal(t, message, tt.message, "message")
			})
		}
	}
}
