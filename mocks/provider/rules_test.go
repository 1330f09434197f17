package provider_test

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/mocks/provider"
)

// TestCheckRequestAgreesWithTheHandlers: for requests that break a rule
// judged from the request alone, CheckRequest gives the very status and
// code the provider answers; for valid ones it gives nil and the provider
// does not refuse them on those grounds.
func TestCheckRequestAgreesWithTheHandlers(t *testing.T) {
	t.Parallel()
	set := func(k string, v any) func(map[string]any) { return func(a map[string]any) { a[k] = v } }
	del := func(k string) func(map[string]any) { return func(a map[string]any) { delete(a, k) } }
	tests := []struct {
		name        string
		in          gpc.Interaction
		method      string
		path        string
		body        func(t *testing.T) string
		header      map[string]string
		status      int // 0: valid
		code        gpc.Code
		handlerCode int // the handler's status for a valid request
	}{
		{"find patient", gpc.SearchPatient, "GET", "/Patient?identifier=" + url.QueryEscape(gpc.SystemNHSNumber+"|"+nhsActive), nil, nil, 0, "", 200},
		{"find patient, wrong system", gpc.SearchPatient, "GET", "/Patient?identifier=" + url.QueryEscape("https://x.invalid|"+nhsActive), nil, nil, 400, gpc.InvalidIdentifierSystem, 0},
		{"find patient, bad NHS number", gpc.SearchPatient, "GET", "/Patient?identifier=" + url.QueryEscape(gpc.SystemNHSNumber+"|9693632108"), nil, nil, 400, gpc.InvalidNHSNumber, 0},
		{"find patient, no identifier", gpc.SearchPatient, "GET", "/Patient", nil, nil, 400, gpc.BadRequest, 0},
		{"slot search", gpc.SearchSlots, "GET", "/Slot?start=ge2026-05-12&end=le2026-05-13" + slotInclude, nil, nil, 0, "", 200},
		{"slot search, bad date", gpc.SearchSlots, "GET", "/Slot?start=ge2026-13-12&end=le2026-05-13" + slotInclude, nil, nil, 422, gpc.InvalidParameter, 0},
		{"slot search, no status", gpc.SearchSlots, "GET", "/Slot?start=ge2026-05-12&end=le2026-05-13&_include=Slot:schedule", nil, nil, 400, gpc.BadRequest, 0},
		{"slot search, over 14 days", gpc.SearchSlots, "GET", "/Slot?start=ge2026-05-12&end=le2026-05-30" + slotInclude, nil, nil, 422, gpc.InvalidParameter, 0},
		{"appointments", gpc.SearchPatientAppts, "GET", "/Patient/1/Appointment?start=ge2026-05-11&start=le2026-05-25", nil, nil, 0, "", 200},
		{"appointments, one bound", gpc.SearchPatientAppts, "GET", "/Patient/1/Appointment?start=ge2026-05-11", nil, nil, 422, gpc.InvalidParameter, 0},
		{"appointments, end before start", gpc.SearchPatientAppts, "GET", "/Patient/1/Appointment?start=ge2026-05-20&start=le2026-05-12", nil, nil, 422, gpc.InvalidParameter, 0},
		{"register", gpc.RegisterPatient, "POST", "/Patient/$gpc.registerpatient", func(t *testing.T) string { return registerBody(t, nil) }, nil, 0, "", 200},
		{"register, not JSON", gpc.RegisterPatient, "POST", "/Patient/$gpc.registerpatient", func(*testing.T) string { return "{" }, nil, 400, gpc.BadRequest, 0},
		{"register, a Patient not Parameters", gpc.RegisterPatient, "POST", "/Patient/$gpc.registerpatient", func(*testing.T) string { return `{"resourceType":"Patient"}` }, nil, 422, gpc.InvalidResource, 0},
		{"book", gpc.CreateAppointment, "POST", "/Appointment", func(t *testing.T) string { return bookBody(t, nil) }, nil, 0, "", 201},
		{"book, no participants", gpc.CreateAppointment, "POST", "/Appointment", func(t *testing.T) string { return bookBody(t, del("participant")) }, nil, 422, gpc.InvalidResource, 0},
		{"book, status proposed", gpc.CreateAppointment, "POST", "/Appointment", func(t *testing.T) string { return bookBody(t, set("status", "proposed")) }, nil, 422, gpc.InvalidResource, 0},
		{"book, not JSON", gpc.CreateAppointment, "POST", "/Appointment", func(*testing.T) string { return "[" }, nil, 400, gpc.BadRequest, 0},
		{"amend to cancelled, no If-Match", gpc.AmendAppointment, "PUT", "/Appointment/20", func(t *testing.T) string { return bookBody(t, both(set("id", "20"), set("status", "cancelled"))) }, map[string]string{"If-Match": ""}, 422, gpc.InvalidResource, 0},
		{"amend to cancelled", gpc.AmendAppointment, "PUT", "/Appointment/20", func(t *testing.T) string { return bookBody(t, both(set("id", "20"), set("status", "cancelled"))) }, map[string]string{"If-Match": `W/"1"`}, 422, gpc.InvalidResource, 0},
		{"cancel without a reason", gpc.CancelAppointment, "PUT", "/Appointment/20", func(t *testing.T) string { return bookBody(t, both(set("id", "20"), set("status", "cancelled"))) }, map[string]string{"If-Match": `W/"1"`}, 422, gpc.InvalidParameter, 0},
		{"read metadata has no such rules", gpc.ReadMetadata, "GET", "/metadata", nil, nil, 0, "", 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			body := ""
			if tt.body != nil {
				body = tt.body(t)
			}
			h := http.Header{}
			for k, v := range tt.header {
				if v != "" {
					h.Set(k, v)
				}
			}
			q := url.Values{}
			if _, raw, ok := strings.Cut(tt.path, "?"); ok {
				q, _ = url.ParseQuery(raw)
			}
			err := provider.CheckRequest(tt.in, h, q, []byte(body))
			r := f.do(call{method: tt.method, path: tt.path, interaction: tt.in, body: body, header: tt.header})
			if tt.status == 0 {
				assert.NilError(t, err)
				assert.Equal(t, r.status, tt.handlerCode, "the handler's answer to a valid request: "+string(r.body))
				return
			}
			var e *gpc.Error
			if !errors.As(err, &e) {
				t.Fatalf("CheckRequest = %v, want a *gpc.Error %d %s", err, tt.status, tt.code)
			}
			assert.Equal(t, e.HTTPStatus(), tt.status, "CheckRequest status")
			assert.Equal(t, e.Code, tt.code, "CheckRequest code")
			wantError(t, r, tt.status, tt.code)
		})
	}
}

// FuzzCheckRequest: whatever the body and query, CheckRequest answers
// with nil or a *gpc.Error — never a panic, never another error type.
func FuzzCheckRequest(f *testing.F) {
	f.Add([]byte(bookJSON), "start=ge2026-05-12&end=le2026-05-13&status=free&_include=Slot:schedule")
	f.Add([]byte(`{"resourceType":"Parameters","parameter":[{"name":"registerPatient","resource":{"resourceType":"Patient"}}]}`), "identifier=x|y")
	f.Add([]byte(`{"resourceType":"Appointment","contained":[{"resourceType":"Organization"}],"extension":[{"url":"`+gpc.ExtBookingOrganisation+`","valueReference":{"reference":"#"}}]}`), "start=ge&start=le")
	f.Fuzz(func(t *testing.T, body []byte, rawQuery string) {
		q, _ := url.ParseQuery(rawQuery)
		h := http.Header{"If-Match": {`W/"1"`}}
		for _, in := range []gpc.Interaction{gpc.SearchPatient, gpc.RegisterPatient, gpc.SearchSlots, gpc.CreateAppointment,
			gpc.AmendAppointment, gpc.CancelAppointment, gpc.SearchPatientAppts} {
			err := provider.CheckRequest(in, h, q, body)
			var e *gpc.Error
			if err != nil && !errors.As(err, &e) {
				t.Fatalf("%s: %T %v, want a *gpc.Error", in, err, err)
			}
		}
	})
}
