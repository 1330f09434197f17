package provider

import (
	"errors"
	"net/url"
	"testing"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/internal/world"
)

// TestNegotiateFastPaths: formatOf, quality and mayName skip the parse for
// the common spellings; each must give what the parse gives (parsedFormat,
// parsedQuality, url.ParseQuery), for those and for the spellings that
// still need it.
func TestNegotiateFastPaths(t *testing.T) {
	for _, v := range []string{
		"application/fhir+json", "application/fhir+xml", "application/json+fhir", "application/xml+fhir",
		"application/json", "application/xml", "text/xml", "json", "xml", "*/*", "application/*",
		" application/fhir+json ", "\tapplication/fhir+xml", "Application/FHIR+JSON", "TEXT/XML", "JSON",
		"application/fhir+json;charset=utf-8", "application/fhir+xml; q=0.5", "application/fhir+json;q=0",
		"application/fhir+json;q=x", "text/html", "", " ", "application/fhir+json;", ";q=1", "a/b;q=0.3",
	} {
		if got, want := formatOf(v), parsedFormat(v); got != want {
			t.Errorf("formatOf(%q) = %v, the parse gives %v", v, got, want)
		}
		if got, want := quality(v), parsedQuality(v); got != want {
			t.Errorf("quality(%q) = %v, the parse gives %v", v, got, want)
		}
	}
	for _, q := range []string{
		"", "status=free", "_format=xml", "%5Fformat=xml", "%5fformat=json", "_%66ormat=xml",
		"a=1&_format=json", "x_format=1", "format=xml", "a=%20",
	} {
		v, _ := url.ParseQuery(q)
		if _, named := v["_format"]; named && !mayName(q, "_format") {
			t.Errorf("mayName(%q) is false, but the query names _format", q)
		}
	}
	if mayName("status=free&start=ge2026-01-01", "_format") {
		t.Error("mayName is true for a query without the name or an escape")
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
