package conformance

import (
	"math/rand/v2"
	"strconv"
	"testing"
)

// TestTraceWindowLikeAMap: the window's own table answers as the FIFO of
// a map did, through many reuses, forgettings and growths, and holds
// exactly the ring's hashes — each findable — after every step. Ids come
// from a pool a few windows large, so reuses inside and outside the window
// both happen; a 16-slot start and small windows make probe runs wrap and
// collide. The default window's table is 16,384 slots.
func TestTraceWindowLikeAMap(t *testing.T) {
	for _, window := range []int{1, 2, 7, 37, 300} {
		rng := rand.New(rand.NewPCG(uint64(window), 1))
		tw := newTraceWindow(window)
		var fifo []string
		seen := map[string]bool{}
		for step := range 20 * window {
			id := strconv.Itoa(rng.IntN(3 * window))
			want := seen[id]
			if !want {
				if len(fifo) == window {
					delete(seen, fifo[0])
					fifo = fifo[1:]
				}
				fifo = append(fifo, id)
				seen[id] = true
			}
			if got := tw.add(id); got != want {
				t.Fatalf("window %d, step %d: add(%s) reused %v, the map says %v", window, step, id, got, want)
			}
			held := 0
			for _, h := range tw.slots {
				if h != 0 {
					held++
				}
			}
			if held != len(tw.ring) || tw.kept() != len(fifo) || 8*held > 5*len(tw.slots) {
				t.Fatalf("window %d, step %d: %d hashes in %d slots for %d kept, the map keeps %d", window, step, held, len(tw.slots), tw.kept(), len(fifo))
			}
			for _, h := range tw.ring {
				if !tw.has(h) {
					t.Fatalf("window %d, step %d: a kept hash is not found", window, step)
				}
			}
		}
	}
}

// TestTraceWindowDefaultSize: the default window's ids fit a table of
// 16,384 slots (128 KiB) beside its ring, the memory hardening.md counts.
func TestTraceWindowDefaultSize(t *testing.T) {
	tw := newTraceWindow(DefaultTraceWindow)
	for i := range 3 * DefaultTraceWindow {
		tw.add(strconv.Itoa(i))
	}
	if len(tw.slots) != 16384 || tw.kept() != DefaultTraceWindow {
		t.Errorf("%d slots for %d ids kept, want 16384 for %d", len(tw.slots), tw.kept(), DefaultTraceWindow)
	}
}
