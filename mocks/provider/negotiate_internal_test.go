package provider

import (
	"net/url"
	"testing"
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
