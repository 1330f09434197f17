package fhirxml

import (
	"sync"
	"testing"
)

// TestSchemaConcurrent: schemas are built lazily under a lock while other
// goroutines convert with the ones already built (go test -race).
func TestSchemaConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	for _, rt := range []string{"Appointment", "Patient", "Bundle", "Parameters", "CapabilityStatement", "Slot", "Organization"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				x, err := JSONToXML([]byte(`{"resourceType":"` + rt + `","extension":[{"url":"u","valueString":"v"}]}`))
				if err != nil {
					t.Error(err)
					return
				}
				if _, err := XMLToJSON(x); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}
