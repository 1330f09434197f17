package provider

import (
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/internal/jwt"
	"github.com/spine-sandbox/spine-sandbox/internal/world"
)

// TestUntypedErrors: anything that is not a *gpc.Error — a returned error
// or a panic — is a logged 500 INTERNAL_SERVER_ERROR whose body does not
// leak the cause (STYLE lesson 3).
func TestUntypedErrors(t *testing.T) {
	log.SetOutput(io.Discard)
	t.Cleanup(func() { log.SetOutput(os.Stderr) })
	now := time.Date(2026, 5, 11, 7, 0, 0, 0, time.UTC)
	w := world.New(world.Data{Practices: []world.Practice{{ODS: "A20047", ProviderASID: "918999198993"}}}, "http://127.0.0.1:4000", func() time.Time { return now })
	tests := []struct {
		name string
		h    handler
	}{
		{"returned error", func(http.ResponseWriter, *request) error { return errors.New("secret database path /var/x") }},
		{"panic", func(http.ResponseWriter, *request) error { panic("secret database path /var/x") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(w).(*server)
			s.routes[gpc.ReadMetadata] = tt.h
			srv := httptest.NewServer(s)
			defer srv.Close()
			tok, err := jwt.Build(jwt.Identity{Issuer: "https://c.example/", DeviceID: "1", DeviceModel: "m", DeviceVersion: "1",
				OrgODS: "A1001", OrgName: "Org", PractitionerID: "1", Family: "F", Given: []string{"G"}},
				"http://127.0.0.1:4000/provider/A20047/STU3/1/gpconnect", gpc.OrganizationRead, now)
			assert.NilError(t, err)
			req, _ := http.NewRequest("GET", srv.URL+"/A20047/STU3/1/gpconnect/metadata", nil)
			req.Header.Set("Ssp-TraceID", "t")
			req.Header.Set("Ssp-From", "200000000115")
			req.Header.Set("Ssp-To", "918999198993")
			req.Header.Set("Ssp-InteractionID", string(gpc.ReadMetadata))
			req.Header.Set("Authorization", "Bearer "+tok)
			res, err := srv.Client().Do(req)
			assert.NilError(t, err)
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			assert.Equal(t, res.StatusCode, 500, "status")
			code, _ := gpc.SpineCode(body)
			assert.Equal(t, code, string(gpc.InternalServerError), "code")
			if strings.Contains(string(body), "secret") {
				t.Errorf("body leaks the cause: %s", body)
			}
		})
	}
}

// TestRoute: route splits a path as strings.SplitN(path, "/", 5) did — the
// practice, then the FHIR path after /STU3/1/gpconnect, "/" when there is
// none — and refuses what is not below a service root.
func TestRoute(t *testing.T) {
	w := world.New(world.Data{Practices: []world.Practice{{ODS: "A20047", ProviderASID: "918999198993"}}}, "http://127.0.0.1:4000", time.Now)
	s := New(w).(*server)
	tests := []struct {
		path, fhir string
		code       gpc.Code // of the refusal
	}{
		{"/A20047/STU3/1/gpconnect", "/", ""},
		{"/A20047/STU3/1/gpconnect/", "/", ""},
		{"/A20047/STU3/1/gpconnect/metadata", "/metadata", ""},
		{"/A20047/STU3/1/gpconnect/Patient/2/Appointment", "/Patient/2/Appointment", ""},
		{"A20047/STU3/1/gpconnect/Slot", "/Slot", ""},
		{"/A20047/STU3/1/gpconnect//Slot", "//Slot", ""},
		{"/B82617/STU3/1/gpconnect/metadata", "", gpc.OrganisationNotFound},
		{"/A20047/STU3/1", "", gpc.NoRecordFound},
		{"/A20047/STU3/1/", "", gpc.NoRecordFound},
		{"/A20047/STU3/2/gpconnect/metadata", "", gpc.NoRecordFound},
		{"/A20047/R4/1/gpconnect/metadata", "", gpc.NoRecordFound},
		{"/A20047/STU3/1/gpconnectx/metadata", "", gpc.NoRecordFound},
		{"/", "", gpc.NoRecordFound},
		{"", "", gpc.NoRecordFound},
	}
	for _, tt := range tests {
		ix, fhir, err := s.route(tt.path)
		if tt.code != "" {
			var e *gpc.Error
			if !errors.As(err, &e) || e.Code != tt.code {
				t.Errorf("route(%q): %v, want %s", tt.path, err, tt.code)
			}
			continue
		}
		if err != nil || ix == nil || ix.practice.ODS != "A20047" || fhir != tt.fhir {
			t.Errorf("route(%q) = %v, %q, %v; want A20047, %q", tt.path, ix, fhir, err, tt.fhir)
		}
	}
}
