package provider_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/internal/world"
	"github.com/spine-sandbox/spine-sandbox/mocks/provider"
)

// benchRequest builds a request straight for the handler (no network).
func benchRequest(b *testing.B, method, path string, in gpc.Interaction, body string) *http.Request {
	b.Helper()
	r := httptest.NewRequest(method, "/"+ods+"/STU3/1/gpconnect"+path, strings.NewReader(body))
	r.Header.Set("Ssp-TraceID", "0b5e6a4e-9c3b-4fd2-8a39-1f0a3c2c9e11")
	r.Header.Set("Ssp-From", consumerASID)
	r.Header.Set("Ssp-To", practiceASID)
	r.Header.Set("Ssp-InteractionID", string(in))
	r.Header.Set("Authorization", "Bearer "+token(b, in))
	r.Header.Set("Accept", "application/fhir+json")
	if body != "" {
		r.Header.Set("Content-Type", "application/fhir+json;charset=utf-8")
	}
	return r
}

// BenchmarkSlotSearch: a two-week search over the test practice's slots
// with every include.
func BenchmarkSlotSearch(b *testing.B) {
	h := provider.New(newWorld())
	path := "/Slot?status=free&start=ge2026-05-12&end=le2026-05-26&_include=Slot:schedule" +
		"&_include:recurse=Schedule:actor:Practitioner&_include:recurse=Schedule:actor:Location"
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, benchRequest(b, "GET", path, gpc.SearchSlots, ""))
		if rec.Code != 200 {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
}

// BenchmarkBook books a different free slot each iteration.
func BenchmarkBook(b *testing.B) {
	const n = 100000
	data := testData()
	p := &data.Practices[0]
	start := time.Date(2026, 5, 12, 8, 0, 0, 0, bst)
	for i := range n {
		s := start.Add(time.Duration(i) * time.Minute)
		p.Slots = append(p.Slots, world.Slot{ID: fmt.Sprint(1000 + i), Schedule: "14", Start: s, End: s.Add(time.Minute),
			Status: world.Free, DeliveryChannel: gpc.ChannelInPerson, ServiceType: "General GP Appointment"})
	}
	h := provider.New(world.New(data, publicBase, func() time.Time { return nowTime }))
	i := 0
	for b.Loop() {
		if i == n {
			b.Fatal("out of slots")
		}
		s := start.Add(time.Duration(i) * time.Minute)
		body := bookBody(b, func(a map[string]any) {
			a["slot"] = []any{map[string]any{"reference": fmt.Sprintf("Slot/%d", 1000+i)}}
			a["start"], a["end"] = s.Format(time.RFC3339), s.Add(time.Minute).Format(time.RFC3339)
		})
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, benchRequest(b, "POST", "/Appointment", gpc.CreateAppointment, body))
		if rec.Code != 201 {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		i++
	}
}
