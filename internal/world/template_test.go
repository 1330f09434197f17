package world

import (
	"sync"
	"testing"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
)

// TestTemplateWorldsApart: worlds made from one template change apart —
// a booking, a registration and a cancellation in one are seen neither in
// the other nor in the template — and each stops being pristine on its
// own first change. Red when a world writes to a practice it still shares.
func TestTemplateWorldsApart(t *testing.T) {
	t.Parallel()
	tmpl := testWorld().Template()
	a, b := tmpl.World("http://a", clock0), tmpl.World("http://b", clock0)
	assert.Equal(t, a.Pristine(), true, "a pristine before any change")
	booked, err := a.Book("A20047", Booking{Patient: "1", Slots: []string{"a"}, Start: at(9, 0), End: at(9, 15), Location: "10"})
	assert.NilError(t, err)
	_, err = a.Register("A20047", Registration{NHSNumber: "9733162043", Name: Name{Given: []string{"Dean"}, Family: "Killen"}, BirthDate: "1955-05-27"})
	assert.NilError(t, err)
	assert.Equal(t, a.Pristine(), false, "a pristine after a booking")
	assert.Equal(t, b.Pristine(), true, "b pristine after a's booking")
	for name, w := range map[string]*World{"b": b, "template": tmpl.Pristine("http://t")} {
		assert.Equal(t, len(w.FreeSlots("A20047", SlotQuery{From: at(9, 0), To: at(9, 15)})), 2, name+": slot a still free")
		assert.Equal(t, len(w.Appointments("A20047")), 0, name+": appointments")
		assert.Equal(t, len(w.Records("A20047")), 2, name+": records")
	}
	assert.Equal(t, len(a.FreeSlots("A20047", SlotQuery{From: at(9, 0), To: at(9, 15)})), 1, "a: slot a busy")
	// b books the same slot: it is free there, and taken in b only.
	mine, err := b.Book("A20047", Booking{Patient: "1", Slots: []string{"a"}, Start: at(9, 0), End: at(9, 15), Location: "10"})
	assert.NilError(t, err)
	assert.Equal(t, mine.ID, booked.ID, "b numbers its appointments from the template, as a did")
	_, err = a.Update("A20047", booked.ID, Change{Version: booked.VersionID, Cancel: true, CancelReason: "ill"})
	assert.NilError(t, err)
	got, _ := b.Appointment("A20047", mine.ID)
	assert.Equal(t, got.Status, Booked, "b's appointment after a's cancel")
	assert.Equal(t, len(b.FreeSlots("A20047", SlotQuery{From: at(9, 0), To: at(9, 15)})), 1, "b: slot a busy after a's cancel")
	assert.Equal(t, len(a.FreeSlots("A20047", SlotQuery{From: at(9, 0), To: at(9, 15)})), 2, "a: slot a freed by its cancel")
	// Every index of a copied practice points at its own slots.
	assert.Equal(t, len(a.Slots("A20047")), 6, "a: slots")
}

// TestTemplateWorldsConcurrently books one slot in many worlds of one
// template at once (go test -race): each world books it exactly once.
func TestTemplateWorldsConcurrently(t *testing.T) {
	t.Parallel()
	tmpl := testWorld().Template()
	var wg sync.WaitGroup
	var mu sync.Mutex
	booked := map[*World]int{}
	for range 8 {
		w := tmpl.World("http://x", clock0)
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := w.Book("A20047", Booking{Patient: "1", Slots: []string{"b"}, Start: at(9, 15), End: at(9, 30), Location: "10"})
				_ = w.FreeSlots("A20047", SlotQuery{From: at(9, 0), To: at(10, 0)})
				if err == nil {
					mu.Lock()
					booked[w]++
					mu.Unlock()
				}
			}()
		}
	}
	wg.Wait()
	assert.Equal(t, len(booked), 8, "worlds that booked")
	for _, n := range booked {
		assert.Equal(t, n, 1, "bookings per world")
	}
	assert.Equal(t, len(tmpl.Pristine("http://t").FreeSlots("A20047", SlotQuery{From: at(9, 0), To: at(10, 0)})), 4, "template's free slots")
}

// TestTemplateShared: one value per key per template, made once.
func TestTemplateShared(t *testing.T) {
	t.Parallel()
	tmpl := testWorld().Template()
	made := 0
	mk := func() any { made++; return &made }
	assert.Equal(t, tmpl.Shared("k", mk), tmpl.Shared("k", mk), "same value")
	assert.Equal(t, made, 1, "made once")
	other := testWorld().Template()
	assert.Equal(t, other.Shared("k", func() any { return 2 }), any(2), "another template's own value")
}

func clock0() time.Time { return t0 }
