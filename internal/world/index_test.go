package world

import (
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
)

// TestFreeSlotsIndex: the binary-searched index gives exactly what a walk
// over every slot gives — same slots, same order (start, then id), ties
// and boundaries included — for many random windows.
func TestFreeSlotsIndex(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var slots []Slot
	for i := range 2000 {
		start := at(0, 0).Add(time.Duration(rng.IntN(48*4)) * 15 * time.Minute) // many equal starts
		s := Slot{ID: strconv.Itoa(2000 - i), Schedule: "s1", Start: start, End: start.Add(time.Duration(1+rng.IntN(3)) * 15 * time.Minute)}
		if rng.IntN(5) == 0 {
			s.Status = Busy
		}
		if rng.IntN(7) == 0 {
			s.ODSCodes = []string{"B99999"}
		}
		slots = append(slots, s)
	}
	w := New(Data{Practices: []Practice{{ODS: "A20047", Slots: slots}}}, "", func() time.Time { return t0 })
	all := w.Slots("A20047")
	for range 500 {
		from := at(0, 0).Add(time.Duration(rng.IntN(50*4)-4) * 15 * time.Minute)
		to := from.Add(time.Duration(rng.IntN(12*4)) * 15 * time.Minute)
		q := SlotQuery{From: from, To: to, ConsumerODS: []string{"", "B99999"}[rng.IntN(2)]}
		var want []string
		for _, s := range all {
			if s.Status == Free && !s.Start.Before(from) && !s.End.After(to) && s.offeredTo(q.ConsumerODS, q.OrgType) {
				want = append(want, s.ID)
			}
		}
		var got []string
		for _, s := range w.FreeSlots("A20047", q) {
			got = append(got, s.ID)
		}
		assert.DeepEqual(t, got, want, "free slots in "+from.String()+" .. "+to.String())
	}
	for i := 1; i < len(all); i++ {
		if slotLess(&all[i], &all[i-1]) {
			t.Fatalf("Slots not ordered at %d: %s %s after %s %s", i, all[i].Start, all[i].ID, all[i-1].Start, all[i-1].ID)
		}
	}
}

// TestSlotsVersion: booking and cancelling change the version a cached
// slot search is keyed by; reads do not.
func TestSlotsVersion(t *testing.T) {
	w := testWorld()
	v0 := w.SlotsVersion()
	w.FreeSlots("A20047", SlotQuery{From: at(0, 0), To: at(23, 0)})
	w.FindPatient("A20047", "9693632109")
	assert.Equal(t, w.SlotsVersion(), v0, "after reads")
	a, err := w.Book("A20047", Booking{Patient: "1", Slots: []string{"a"}, Start: at(9, 0), End: at(9, 15), Location: "10", Created: t0})
	assert.NilError(t, err)
	v1 := w.SlotsVersion()
	assert.Equal(t, v1 > v0, true, "booking changes the version")
	_, err = w.Update("A20047", a.ID, Change{Version: a.VersionID, Cancel: true, CancelReason: "ill"})
	assert.NilError(t, err)
	assert.Equal(t, w.SlotsVersion() > v1, true, "cancelling changes the version")
}
