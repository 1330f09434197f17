package fhirxml_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/spine-sandbox/spine-sandbox/internal/fhirxml"
)

// FuzzXMLToJSON: the XML reader a hostile client reaches (a provider's
// POST or PUT body) never panics; what it accepts is JSON, and converting
// that JSON back to XML and again to JSON gives the same JSON.
func FuzzXMLToJSON(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "fixtures", "gpconnect", "*.json"))
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		x, err := fhirxml.JSONToXML(b)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(x)
	}
	for _, s := range []string{
		`<Patient xmlns="http://hl7.org/fhir"><text><div xmlns="http://www.w3.org/1999/xhtml"><p>x</p></div></text><gender id="g" value="male"><extension url="u"><valueString value="v"/></extension></gender></Patient>`,
		`<!DOCTYPE a [<!ENTITY x "y">]><Patient xmlns="http://hl7.org/fhir"/>`,
		`<Bundle xmlns="http://hl7.org/fhir"><entry><resource><Patient><id value="1"/></Patient></resource></entry><total value="01"/></Bundle>`,
		`<Appointment xmlns="http://hl7.org/fhir"><unknown><Patient/></unknown><x value="1"/><x value="2"/></Appointment>`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		j, err := fhirxml.XMLToJSON(in)
		if err != nil {
			return
		}
		if !json.Valid(j) {
			t.Fatalf("XMLToJSON wrote invalid JSON %q from %q", j, in)
		}
		x, err := fhirxml.JSONToXML(j)
		if err != nil {
			return // e.g. an element name XML allows and FHIR JSON does not
		}
		j2, err := fhirxml.XMLToJSON(x)
		if err != nil {
			t.Fatalf("XMLToJSON refuses JSONToXML's own XML %q: %v (from %q)", x, err, in)
		}
		var a, b any
		if json.Unmarshal(j, &a) != nil || json.Unmarshal(j2, &b) != nil || !jsonEqual(a, b) {
			t.Fatalf("not stable: %s\nthen %s\n(from %q)", j, j2, in)
		}
	})
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}
