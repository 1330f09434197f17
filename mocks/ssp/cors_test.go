package ssp_test

import (
	"net/http"
	"testing"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
)

// TestPreflight: an OPTIONS below a registered service root is a CORS
// preflight the SSP answers itself (NHS's SSP.feature "SSP - CORS"), with
// or without the GP Connect headers, and never forwards; one at any other
// target is refused as any request there is.
func TestPreflight(t *testing.T) {
	t.Parallel()
	rg := newRig(t, true)
	browser := http.Header{
		"Origin":                         {"https://consumer.example"},
		"Access-Control-Request-Method":  {"PUT"},
		"Access-Control-Request-Headers": {"ssp-traceid, ssp-from, ssp-to, ssp-interactionid, authorization, content-type"},
	}
	tests := []struct {
		name    string
		path    string
		header  http.Header
		origin  string
		methods string
	}{
		{"browser preflight, appointment", "/Appointment/7", browser, "https://consumer.example", "GET, PUT"},
		{"suite's preflight with the GP Connect headers, slot search", "/Slot", sspHeaders("urn:nhs:names:services:gpconnect:fhir:rest:search:slot-1"), "*", "GET"},
		{"register patient", "/Patient/$gpc.registerpatient", browser, "https://consumer.example", "POST"},
		{"book", "/Appointment", browser, "https://consumer.example", "POST"},
		{"metadata", "/metadata", browser, "https://consumer.example", "GET"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := send(t, "OPTIONS", rg.ssp.URL+"/ssp/"+rg.rootA+tt.path, tt.header, "")
			assert.Equal(t, got.status, 200, "status: "+string(got.body))
			assert.Equal(t, got.header.Get("Access-Control-Allow-Origin"), tt.origin, "Access-Control-Allow-Origin")
			assert.Equal(t, got.header.Get("Access-Control-Allow-Methods"), tt.methods, "Access-Control-Allow-Methods")
			assert.Equal(t, got.header.Get("Access-Control-Request-Method"), tt.methods, "Access-Control-Request-Method (Spine's)")
			assert.Equal(t, got.header.Get("Access-Control-Allow-Headers"),
				"Ssp-TraceID, Ssp-From, Ssp-To, Ssp-InteractionID, Authorization, Accept, Accept-Encoding, Content-Type, If-Match, Prefer", "Access-Control-Allow-Headers")
			assert.Equal(t, len(got.body), 0, "body")
		})
	}
	t.Run("unregistered target", func(t *testing.T) {
		got := send(t, "OPTIONS", rg.ssp.URL+"/ssp/http://"+rg.evilHost+"/A20047/STU3/1/gpconnect/metadata", browser, "")
		assertOutcome(t, got, 400, "invalid", "ENDPOINT__CPAID__VARIES_FROM_TARGETURL_http://"+rg.evilHost+"/A20047/STU3/1/gpconnect/metadata")
		assert.Equal(t, got.header.Get("Access-Control-Allow-Origin"), "", "no CORS grant for a refused target")
	})
	t.Run("dot segments below a registered root", func(t *testing.T) {
		got := sendRaw(t, rg.ssp.Listener.Addr().String(), "OPTIONS", "/ssp/"+rg.rootA+"/../../B82617/STU3/1/gpconnect/metadata", browser)
		assert.Equal(t, got.status, 400, "status")
	})
	if n := rg.hitsA.Load() + rg.hitsB.Load(); n != 0 {
		t.Errorf("a preflight was forwarded %d times", n)
	}
}
