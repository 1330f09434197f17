package fhirxml_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/spine-sandbox/spine-sandbox/internal/fhirxml"
)

// The slot-search fixture (a searchset with Slots, Schedules, a
// Practitioner, Locations and the Organization), both ways.
func benchFixture(b *testing.B) (jsonBody, xmlBody []byte) {
	b.Helper()
	j, err := os.ReadFile(filepath.Join("..", "..", "fixtures", "gpconnect", "search_for_free_slots_response.json"))
	if err != nil {
		b.Fatal(err)
	}
	x, err := fhirxml.JSONToXML(j)
	if err != nil {
		b.Fatal(err)
	}
	return j, x
}

func BenchmarkJSONToXML(b *testing.B) {
	j, _ := benchFixture(b)
	b.SetBytes(int64(len(j)))
	for b.Loop() {
		if _, err := fhirxml.JSONToXML(j); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkXMLToJSON(b *testing.B) {
	_, x := benchFixture(b)
	b.SetBytes(int64(len(x)))
	for b.Loop() {
		if _, err := fhirxml.XMLToJSON(x); err != nil {
			b.Fatal(err)
		}
	}
}
