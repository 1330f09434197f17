package provider_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/fhirxml"
	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/internal/world"
	"github.com/spine-sandbox/spine-sandbox/mocks/provider"
)

// freeSlotIDs searches 12–13 May (plain or gzip) and returns the Slot ids
// of the answer.
func freeSlotIDs(t testing.TB, f *fixture, gzip bool) []string {
	t.Helper()
	enc := "identity"
	if gzip {
		enc = "gzip"
	}
	r := f.do(call{path: "/Slot?start=ge2026-05-12&end=le2026-05-13" + slotInclude, interaction: gpc.SearchSlots,
		header: map[string]string{"Accept-Encoding": enc}})
	if r.status != http.StatusOK {
		t.Fatalf("search: %d %s", r.status, r.body)
	}
	if got := r.header.Get("Content-Encoding") == "gzip"; got != gzip {
		t.Fatalf("Content-Encoding %q for Accept-Encoding %s", r.header.Get("Content-Encoding"), enc)
	}
	var b struct {
		Entry []struct {
			Resource struct{ ResourceType, ID string }
		}
	}
	if err := json.Unmarshal(r.body, &b); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, e := range b.Entry {
		if e.Resource.ResourceType == "Slot" {
			ids = append(ids, e.Resource.ID)
		}
	}
	return ids
}

// TestSlotAnswerReuse: a repeated search is answered from the kept answer
// (the same bytes), and a booking or cancel made in between is seen by
// the next search, plain and gzip.
func TestSlotAnswerReuse(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, gz := range []bool{false, true, false} {
		assert.DeepEqual(t, freeSlotIDs(t, f, gz), []string{"1", "2", "3"}, "before booking")
	}
	r := f.do(call{method: "POST", path: "/Appointment", interaction: gpc.CreateAppointment, body: bookBody(t, nil)})
	assert.Equal(t, r.status, http.StatusCreated, "book slot 1: "+string(r.body))
	for _, gz := range []bool{true, false} {
		assert.DeepEqual(t, freeSlotIDs(t, f, gz), []string{"2", "3"}, "after booking slot 1")
	}
	var a struct{ ID string }
	assert.NilError(t, json.Unmarshal(r.body, &a))
	appt, _ := f.world.Appointment(ods, a.ID)
	_, err := f.world.Update(ods, a.ID, world.Change{Version: appt.VersionID, Cancel: true, CancelReason: "ill"})
	assert.NilError(t, err)
	for _, gz := range []bool{false, true} {
		assert.DeepEqual(t, freeSlotIDs(t, f, gz), []string{"1", "2", "3"}, "after cancelling")
	}
}

// TestSlotAnswerNeverStale: while searches run, slots are booked one at a
// time; a search that starts after a booking returned never lists that
// slot. Run with -race.
func TestSlotAnswerNeverStale(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	book := func(id string) {
		s := slices.IndexFunc(f.world.Slots(ods), func(s world.Slot) bool { return s.ID == id })
		sl := f.world.Slots(ods)[s]
		_, err := f.world.Book(ods, world.Booking{Patient: "1", Slots: []string{id}, Start: sl.Start, End: sl.End,
			Location: "32", Created: nowTime})
		assert.NilError(t, err)
	}
	var (
		mu     sync.Mutex
		booked []string // slots whose booking has returned
	)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				mu.Lock()
				mustNot := slices.Clone(booked)
				mu.Unlock()
				got := freeSlotIDs(t, f, g%2 == 1)
				for _, id := range mustNot {
					if slices.Contains(got, id) {
						t.Errorf("booked slot %s served as free: %s", id, strings.Join(got, ","))
					}
				}
			}
		}()
	}
	for _, id := range []string{"1", "2", "3"} {
		for range 20 { // let searches fill the store at this version
			freeSlotIDs(t, f, false)
		}
		book(id)
		mu.Lock()
		booked = append(booked, id)
		mu.Unlock()
	}
	close(stop)
	wg.Wait()
	assert.DeepEqual(t, freeSlotIDs(t, f, true), []string(nil), "all booked")
}

// TestSlotAnswerXML: a kept slot-search answer is served in XML too,
// plain and gzipped, each the JSON answer converted; a booking in between
// changes the XML answer as it changes the JSON one.
func TestSlotAnswerXML(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	search := func(accept, enc string) response {
		t.Helper()
		r := f.do(call{path: "/Slot?start=ge2026-05-12&end=le2026-05-13" + slotInclude, interaction: gpc.SearchSlots,
			header: map[string]string{"Accept": accept, "Accept-Encoding": enc}})
		assert.Equal(t, r.status, http.StatusOK, "status")
		assert.Equal(t, r.header.Get("Content-Encoding") == "gzip", enc == "gzip", "Content-Encoding")
		return r
	}
	check := func(when string) {
		t.Helper()
		plain := search("application/fhir+json", "identity")
		want, err := fhirxml.JSONToXML(plain.body)
		assert.NilError(t, err)
		for _, enc := range []string{"identity", "gzip", "identity", "gzip"} {
			r := search("application/fhir+xml", enc)
			assert.Equal(t, r.header.Get("Content-Type"), "application/fhir+xml;charset=utf-8", "Content-Type")
			if string(r.body) != string(want) {
				t.Fatalf("%s, %s: the XML answer is not the JSON answer converted:\n%s\nwant\n%s", when, enc, r.body, want)
			}
		}
	}
	check("before booking")
	before := strings.Count(string(search("application/fhir+xml", "gzip").body), "<Slot>")
	r := f.do(call{method: "POST", path: "/Appointment", interaction: gpc.CreateAppointment, body: bookBody(t, nil)})
	assert.Equal(t, r.status, http.StatusCreated, "book slot 1: "+string(r.body))
	check("after booking")
	after := strings.Count(string(search("application/fhir+xml", "gzip").body), "<Slot>")
	assert.Equal(t, after, before-1, "Slots in the XML answer after booking one")
}

// TestSharedSlotAnswerNeverStale: providers over worlds made from one
// template share their slot-search answers while their worlds are
// pristine. While one world books its slots one at a time, searches on it
// never list a slot whose booking returned, and searches on the other
// worlds always list every slot. Red when a changed world still reads the
// shared answers, or when a shared answer is computed from a world that
// has changed. Run with -race.
func TestSharedSlotAnswerNeverStale(t *testing.T) {
	t.Parallel()
	tmpl := world.Build(testData())
	fixtures := make([]*fixture, 4)
	for i := range fixtures {
		w := tmpl.World(publicBase, func() time.Time { return nowTime })
		srv := httptest.NewServer(provider.New(w))
		t.Cleanup(srv.Close)
		fixtures[i] = &fixture{t: t, world: w, srv: srv}
	}
	f := fixtures[0]
	var (
		mu     sync.Mutex
		booked []string // slots whose booking in f has returned
	)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g, other := range fixtures {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				mu.Lock()
				mustNot := slices.Clone(booked)
				mu.Unlock()
				got := freeSlotIDs(t, other, g%2 == 1)
				if other != f {
					if !slices.Equal(got, []string{"1", "2", "3"}) {
						t.Errorf("another world's bookings seen: %s", strings.Join(got, ","))
					}
					continue
				}
				for _, id := range mustNot {
					if slices.Contains(got, id) {
						t.Errorf("booked slot %s served as free: %s", id, strings.Join(got, ","))
					}
				}
			}
		}()
	}
	for _, id := range []string{"1", "2", "3"} {
		for range 20 { // let searches fill the stores
			freeSlotIDs(t, f, false)
		}
		sl := f.world.Slots(ods)[slices.IndexFunc(f.world.Slots(ods), func(s world.Slot) bool { return s.ID == id })]
		_, err := f.world.Book(ods, world.Booking{Patient: "1", Slots: []string{id}, Start: sl.Start, End: sl.End,
			Location: "32", Created: nowTime})
		assert.NilError(t, err)
		mu.Lock()
		booked = append(booked, id)
		mu.Unlock()
	}
	close(stop)
	wg.Wait()
	assert.DeepEqual(t, freeSlotIDs(t, f, true), []string(nil), "all booked in f")
	assert.DeepEqual(t, freeSlotIDs(t, fixtures[1], true), []string{"1", "2", "3"}, "all free in another world")
}

// TestMetadataEncodedOnce: the CapabilityStatement, encoded once, reads
// the same plain and gzipped, request after request.
func TestMetadataEncodedOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	var first []byte
	for _, enc := range []string{"identity", "gzip", "identity", "gzip"} {
		r := f.do(call{path: "/metadata", interaction: gpc.ReadMetadata, header: map[string]string{"Accept-Encoding": enc}})
		assert.Equal(t, r.status, http.StatusOK, "status")
		assert.Equal(t, r.header.Get("Content-Type"), "application/fhir+json;charset=utf-8", "Content-Type")
		if first == nil {
			first = r.body
		}
		assert.JSONEqual(t, r.body, first, enc)
	}
}
